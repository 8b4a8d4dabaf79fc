// Per-column-group calibration (calibration.group: column_group): the ADC banks split into
// threshold sets of 16 physical columns (2 ADCs of 8 columns each), the capture split by set,
// one design per (tile, set), each set's thresholds and edges read back; on the captured data
// the column-group designs together are no worse than one design per array. One SoC per process.
#include "tests/support/sc_test_main.hpp"

#include <cmath>
#include <filesystem>
#include <set>

extern "C" {
#include "lib/fw_calib.h"
}
#include "tests/calib/calib_fixture.hpp"

TEST_CASE("calibration per column group: distinct designs per threshold set, MSE no worse than per array",
          "[calib][e2e][columns]") {
  const std::string dir = (std::filesystem::temp_directory_path() / "cimvp_test_calib_columns").string();
  std::filesystem::create_directories(dir);
  calib_test::Options o;
  o.samples = 2048;
  o.write_verify = false;  // direct path, no variation: achieved = nominal, designs compared exactly
  o.group_flags = CIMNET_CAL_F_GROUP_COLUMNS;
  o.group_cols = 16;
  auto r = calib_test::run_tiny(o, dir);
  INFO(r.log);
  REQUIRE(r.result.exit_status == 0);
  REQUIRE(r.result.firmware_exit_code == 0);
  REQUIRE(r.cal.done);
  REQUIRE(r.banks.size() == 5);
  // Conv: 4 logical columns x 4 slices x 2 (differential) = 32 physical columns = 2 sets;
  // FC tiles: 10 x 8 = 80 columns = 5 sets each. 128 / 16 = 8 sets per bank.
  const unsigned used[5] = {2, 5, 5, 5, 5};
  REQUIRE(r.cal.groups.size() == 22u);
  std::size_t gi = 0;
  for (unsigned t = 0; t < 5; ++t) {
    INFO("tile " << t);
    CHECK(r.banks[t].set_cols == 16u);
    REQUIRE(r.banks[t].sets.size() == 8u);
    for (unsigned k = 0; k < used[t]; ++k, ++gi) {
      const auto& g = r.cal.groups[gi];
      INFO("set " << k);
      CHECK(g.tile == t);
      CHECK(g.tiles == 1u);
      CHECK(g.set == k);
      CHECK(g.col0 == 16u * k);
      CHECK(g.cols == 16u);
      CHECK(g.layer == (t == 0 ? 0u : 1u));
      CHECK(g.flags == 0u);
      // The group's samples are its set's own capture slot.
      const auto& x = r.banks[t].captured.at(k);
      REQUIRE(x.size() == g.samples);
      REQUIRE(x.size() >= 64u);
      CHECK(g.range_lo == *std::min_element(x.begin(), x.end()));
      CHECK(g.range_hi == *std::max_element(x.begin(), x.end()));
      const auto& s = r.banks[t].sets[k];
      CHECK(g.mse_lloyd_max == Approx(calib_test::ref_threshold_mse(x, s.thresholds, s.levels)).epsilon(1e-4));
      CHECK(g.mse_lloyd_max <= g.mse_uniform);
      if (t < 4) CHECK(g.mse_lloyd_max < g.mse_uniform);
      // Direct path without variation: the set's achieved edges are its nominal design.
      const unsigned L = 16;
      CHECK(s.edges[0][0] == Approx(s.range_lo));
      for (unsigned j = 0; j + 1 < L; ++j) {
        CHECK(s.edges[0][2 * j + 1] == Approx(s.thresholds[j]));
        CHECK(s.edges[0][2 * j + 2] == Approx(s.thresholds[j]));
      }
      CHECK(g.mse_achieved == Approx(calib_test::ref_adc_mse(calib_test::ref_qcell(s, s.edges[0], 4), x)).epsilon(1e-4));
    }
  }
  // Distinct designs: within every full tile, the column groups' threshold tables differ.
  // (Tile 4 holds the last 16 of the 400 FC rows: its partial sums take few distinct values,
  // which some of its groups represent exactly, MSE 0, with the same table.)
  for (unsigned t = 0; t < 4; ++t) {
    std::set<std::vector<float>> designs;
    for (unsigned k = 0; k < used[t]; ++k) designs.insert(r.banks[t].sets[k].thresholds);
    CHECK(designs.size() == used[t]);
  }
  // On the captured data: one design per array (the firmware's own design routine on the
  // pooled samples of the tile's sets) against the column groups' designs, in total squared error.
  for (unsigned t = 0; t < 5; ++t) {
    INFO("tile " << t);
    std::vector<float> pooled;
    double se_groups = 0;
    for (unsigned k = 0; k < used[t]; ++k) {
      const auto& x = r.banks[t].captured[k];
      pooled.insert(pooled.end(), x.begin(), x.end());
      se_groups += calib_test::ref_threshold_mse(x, r.banks[t].sets[k].thresholds, r.banks[t].sets[k].levels) *
                   double(x.size());
    }
    std::sort(pooled.begin(), pooled.end());
    std::vector<float> thr(15), lev(16);
    fw_calib_design_t d;
    REQUIRE(fw_calib_design(pooled.data(), static_cast<uint32_t>(pooled.size()), 4, fw_calib_strategy(), 0.f, 0x5EEDu,
                            thr.data(), lev.data(), &d) == 0);
    const double se_array = calib_test::ref_threshold_mse(pooled, thr, lev) * double(pooled.size());
    CHECK(d.mse * double(pooled.size()) == Approx(se_array).epsilon(1e-4));
    CHECK(se_groups <= se_array);
    WARN("tile " << t << ": MSE per column group " << se_groups / pooled.size() << " vs per array "
                 << se_array / pooled.size());
  }
  CHECK(r.log.find("per column group") != std::string::npos);
  CHECK(r.log.find("column groups of 16 physical columns") != std::string::npos);
}

CIMVP_SC_TEST_MAIN
