// The achieved-MSE decode budget (docs/calibration.md "Achieved MSE"): past the budget, tile j
// of a group decodes every step-th captured sample from j mod step, and the firmware's
// mse_achieved is the pooled error over exactly those decodes. The budget is lowered to 64
// decodes so the tiny network's 4-tile layer subsamples. One SoC per process.
#include "tests/support/sc_test_main.hpp"

#include <algorithm>
#include <filesystem>

#include "cimvp/regs.h"
extern "C" {
#include "lib/fw_calib.h"
}
#include "tests/calib/calib_fixture.hpp"

TEST_CASE("calibration: past the decode budget each tile decodes its share of the samples", "[calib][e2e]") {
  const std::string dir = (std::filesystem::temp_directory_path() / "cimvp_test_calib_decode").string();
  std::filesystem::create_directories(dir);
  fw_calib_set_decode_budget(64);
  auto r = calib_test::run_tiny(4096, /*write_verify=*/true, 4, dir);  // write-verify: every tile's edges differ
  fw_calib_set_decode_budget(0);
  INFO(r.log);
  REQUIRE(r.result.exit_status == 0);
  REQUIRE(r.cal.done);
  REQUIRE(r.cal.groups.size() == 2);
  const auto& conv = r.cal.groups[0];
  const auto& fc = r.cal.groups[1];
  REQUIRE(conv.tiles == 1u);
  REQUIRE(fc.tiles == 4u);
  // One tile is trivially "all edges identical": one pass over its samples.
  CHECK(conv.decode_step == 0u);
  CHECK(conv.decoded == conv.samples);
  // step = ceil(nt x n / max(n, 64)) = nt when n >= 64.
  REQUIRE(fc.samples >= 64u);
  CHECK(fc.decode_step == 4u);
  // The firmware decodes its sorted copy of the samples (sorted once for the design), so each
  // tile's share is a stratified sample of the whole distribution.
  auto x = calib_test::group_samples(r, fc);
  REQUIRE(x.size() == fc.samples);
  std::sort(x.begin(), x.end());
  double se = 0;
  std::size_t decoded = 0;
  for (uint32_t j = 0; j < fc.tiles; ++j) {
    std::vector<float> share;
    for (std::size_t i = j % fc.decode_step; i < x.size(); i += fc.decode_step) share.push_back(x[i]);
    const auto& st = r.banks[fc.tile + j].sets[0];
    se += calib_test::ref_adc_mse(calib_test::ref_qcell(st, st.edges[0], 4), share) * double(share.size());
    decoded += share.size();
  }
  CHECK(fc.decoded == decoded);
  CHECK(decoded == x.size());  // 4 tiles x every 4th sample: each sample once
  CHECK(fc.mse_achieved == Approx(se / double(decoded)).epsilon(1e-4));
  // The tiles' edges really differ (else the exact single pass would have been taken).
  CHECK(r.banks[fc.tile].sets[0].edges[0] != r.banks[fc.tile + 1].sets[0].edges[0]);
  // summary.json reports the decode count.
  const auto adc = cimvp::netrun::adc_summary(r.scenario, r.cal);
  CHECK(adc.at("layers").at(1).at("decoded").as_double() == double(decoded));
  CHECK(adc.at("layers").at(1).at("decode_step").as_double() == 4.0);
}

CIMVP_SC_TEST_MAIN
