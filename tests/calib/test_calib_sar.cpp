// The uniform baseline's calibration (chip.adc.mode: sar): the firmware designs the mid-tread
// SAR converter from the captured data (full scale = the |x| percentile with the least MSE)
// and writes RANGE = [-A, A]; the bank then converts as that mid-tread converter. Checked
// against a reference computed here from the captured samples. One SoC per process.
#include "tests/support/sc_test_main.hpp"

#include <cmath>
#include <filesystem>

#include "tests/calib/calib_fixture.hpp"

TEST_CASE("SAR baseline calibration: mid-tread full scale chosen from the captured data", "[calib][e2e][sar]") {
  const std::string dir = (std::filesystem::temp_directory_path() / "cimvp_test_calib_sar").string();
  std::filesystem::create_directories(dir);
  calib_test::Options o;
  o.samples = 4096;
  o.write_verify = true;  // ignored for SAR: nothing to program (no pulses)
  o.mode = ADC_MODE_SAR;
  o.bits = 4;
  auto r = calib_test::run_tiny(o, dir);
  INFO(r.log);
  REQUIRE(r.result.exit_status == 0);
  REQUIRE(r.result.firmware_exit_code == 0);
  REQUIRE(r.cal.done);
  REQUIRE(r.cal.groups.size() == 2);
  CHECK(r.cal.prog_pulses() == 0u);
  CHECK(r.progctl_pulses == 0u);
  for (const auto& g : r.cal.groups) {
    INFO("layer " << g.layer);
    CHECK(g.mode == ADC_MODE_SAR);
    const auto x = calib_test::group_samples(r, g);
    REQUIRE(x.size() == g.samples);
    double a = 0;
    const double ref = calib_test::ref_sar(x, 4, &a);
    CHECK(g.sar_full_scale == Approx(a));
    CHECK(g.mse_sar == Approx(ref).epsilon(1e-4));
    CHECK(g.mse_achieved == Approx(ref).epsilon(1e-4));  // what the SAR bank converts with
    // Its signed error on the samples, from the platform's own mid-tread converter.
    cimvp::adc::UniformAdc sar(cimvp::adc::AdcKind::Sar, 4, -a, a, 0.0, 1, cimvp::adc::UniformShape::MidTread);
    CHECK(calib_test::ref_adc_mse(sar, x) == Approx(ref).epsilon(1e-4));
    CHECK(g.bias == Approx(calib_test::ref_adc_bias(sar, x, false)).margin(1e-5));
    CHECK(g.zero_bias == Approx(calib_test::ref_adc_bias(sar, x, true)).margin(1e-5));
    // The least-MSE full scale is never worse than A = max |x| (the first candidate).
    const double amax = std::max(std::fabs(g.range_lo), std::fabs(g.range_hi));
    CHECK(ref <= calib_test::ref_midtread_mse(x, 4, amax) * (1 + 1e-9));
    // The min..max uniform quantiser (mse_uniform) is the weaker baseline here: 0 is not a
    // level, and the spike at 0 pays for it.
    CHECK(g.mse_uniform == Approx(calib_test::ref_minmax_mse(x, 4)).epsilon(1e-4));
    for (uint32_t t = g.tile; t < g.tile + g.tiles; ++t) {
      const auto& s = r.banks[t].sets[0];
      CHECK(r.banks[t].mode == ADC_MODE_SAR);
      CHECK(s.range_lo == Approx(-a));
      CHECK(s.range_hi == Approx(a));
    }
  }
  CHECK(r.log.find("mid-tread, full scale") != std::string::npos);
}

TEST_CASE("SAR baseline calibration follows chip.adc.uniform_shape: min-max over the captured range",
          "[calib][e2e][sar]") {
  const std::string dir = (std::filesystem::temp_directory_path() / "cimvp_test_calib_sar_minmax").string();
  std::filesystem::create_directories(dir);
  calib_test::Options o;
  o.samples = 4096;
  o.write_verify = false;
  o.mode = ADC_MODE_SAR;
  o.bits = 4;
  o.uniform_shape = "min_max";
  auto r = calib_test::run_tiny(o, dir);
  INFO(r.log);
  REQUIRE(r.result.exit_status == 0);
  REQUIRE(r.result.firmware_exit_code == 0);
  REQUIRE(r.cal.done);
  REQUIRE(r.cal.groups.size() == 2);
  for (const auto& g : r.cal.groups) {
    INFO("layer " << g.layer);
    const auto x = calib_test::group_samples(r, g);
    REQUIRE(x.size() == g.samples);
    const double ref = calib_test::ref_minmax_mse(x, 4);
    // The firmware read ADC_UNIFORM_SHAPE: its SAR baseline is the min..max quantiser.
    CHECK(g.mse_uniform == Approx(ref).epsilon(1e-4));
    CHECK(g.mse_sar == Approx(ref).epsilon(1e-4));
    CHECK(g.sar_full_scale == 0.f);
    // The bank converts with 16 levels from the captured min to max (the platform's converter).
    cimvp::adc::UniformAdc sar(cimvp::adc::AdcKind::Sar, 4, g.range_lo, g.range_hi, 0.0, 1,
                               cimvp::adc::UniformShape::MinMax);
    CHECK(calib_test::ref_adc_mse(sar, x) == Approx(ref).epsilon(1e-4));
    CHECK(g.mse_achieved == Approx(ref).epsilon(1e-4));
    CHECK(g.bias == Approx(calib_test::ref_adc_bias(sar, x, false)).margin(1e-5));
    for (uint32_t t = g.tile; t < g.tile + g.tiles; ++t) {
      const auto& s = r.banks[t].sets[0];
      CHECK(s.range_lo == Approx(g.range_lo));
      CHECK(s.range_hi == Approx(g.range_hi));
    }
  }
  CHECK(r.log.find("min-max, range") != std::string::npos);
}

CIMVP_SC_TEST_MAIN
