// A calibration with too few samples for the bit width (16 samples per layer for 4 bits,
// fewer than CIMNET_CAL_MIN_PER_LEVEL x 2^bits = 64) falls back to uniform thresholds over
// the captured [min, max] and says so (docs/calibration.md). One SoC per process.
#include "tests/support/sc_test_main.hpp"

#include <filesystem>

#include "cimvp/regs.h"
#include "models/crossbar/tile.hpp"
#include "tests/calib/calib_fixture.hpp"

TEST_CASE("calibration with too few samples falls back to uniform thresholds and says so", "[calib][e2e]") {
  const std::string dir = (std::filesystem::temp_directory_path() / "cimvp_test_calib_fallback").string();
  std::filesystem::create_directories(dir);
  auto r = calib_test::run_tiny(16, /*write_verify=*/false, 4, dir);
  INFO(r.log);
  REQUIRE(r.result.exit_status == 0);
  REQUIRE(r.result.firmware_exit_code == 0);  // a fallback is not a failure
  REQUIRE(r.cal.done);
  REQUIRE(r.cal.groups.size() == 2);
  for (const auto& g : r.cal.groups) {
    CHECK(g.samples <= 16u);
    CHECK((g.flags & CIMNET_CAL_R_FEW_SAMPLES) != 0u);
    CHECK(g.design == CIMNET_CAL_D_FALLBACK);  // mse_lloyd_max is this fallback's MSE, labelled so
  }
  CHECK(r.log.find("fallback_uniform") != std::string::npos);
  CHECK(r.log.find("fallback") != std::string::npos);
  CHECK(r.log.find("only ") != std::string::npos);
  // Thresholds written: evenly spaced over [min, max] (k+1)/L.
  const unsigned L = 1u << r.bits;
  REQUIRE(r.thresholds.size() == L - 1);
  const double lo = r.cal.groups[0].range_lo, hi = r.cal.groups[0].range_hi;
  REQUIRE(hi > lo);
  CHECK(r.range_lo == Approx(lo));
  for (unsigned k = 0; k + 1 < L; ++k)
    CHECK(r.thresholds[k] == Approx(lo + (hi - lo) * (k + 1) / L).margin(1e-5 * (hi - lo)));
  // Without variation and write-verify the achieved edges are the nominal ones.
  CHECK(r.cal.groups[0].max_edge_err == Approx(0.0).margin(1e-4 * (hi - lo)));
  // ... the same on every tile of a group, so the achieved MSE is one decode pass over the
  // samples, exact for all of them (docs/calibration.md "Achieved MSE"); the fc layer has 4 tiles.
  REQUIRE(r.cal.groups[1].tiles == 4u);
  for (const auto& g : r.cal.groups) {
    CHECK(g.decode_step == 0u);
    CHECK(g.decoded == g.samples);
  }
}

CIMVP_SC_TEST_MAIN
