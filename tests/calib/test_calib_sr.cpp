// Super-resolution calibration (chip.adc.mode: qcell_sr) with write-verify, one design per
// array (calibration.group: array): both ADCs of every SR pair programmed through the
// programming controller (PROG_DEST_ADC and PROG_DEST_ADC_SR), both copies' achieved edges
// read back (ADC_EDGE_COPY), and the firmware's SR numbers (decoded from both copies on the
// captured samples) equal to the SR model (models/adc QCellSrAdc) on the same data and edges.
// One SoC per process.
#include "tests/support/sc_test_main.hpp"

#include <cmath>
#include <filesystem>

#include "platform/trace/json.hpp"
#include "tests/calib/calib_fixture.hpp"

TEST_CASE("SR calibration: write-verify of both copies, per array, SR decoder on the captured data",
          "[calib][e2e][sr]") {
  const std::string dir = (std::filesystem::temp_directory_path() / "cimvp_test_calib_sr").string();
  std::filesystem::create_directories(dir);
  calib_test::Options o;
  o.samples = 4096;
  o.write_verify = true;
  o.mode = ADC_MODE_QCELL_SR;
  o.group_flags = CIMNET_CAL_F_GROUP_ARRAY;
  auto r = calib_test::run_tiny(o, dir);
  INFO(r.log);
  REQUIRE(r.result.exit_status == 0);
  REQUIRE(r.result.firmware_exit_code == 0);
  REQUIRE(r.cal.done);
  REQUIRE(r.banks.size() == 5);
  REQUIRE(r.cal.groups.size() == 5);  // one group per array
  REQUIRE(r.cal.header.prog_failures == 0);
  const unsigned L = 16;
  uint64_t dis_all = 0;
  for (unsigned t = 0; t < 5; ++t) {
    INFO("tile " << t);
    const auto& g = r.cal.groups[t];
    CHECK(g.tile == t);
    CHECK(g.tiles == 1u);
    CHECK(g.mode == ADC_MODE_QCELL_SR);
    const auto& s = r.banks[t].sets.at(0);
    REQUIRE(s.edges.size() == 2);  // both copies read back through ADC_EDGE_COPY
    const double tol = 1.10 * r.tolerance_us / (r.g_max - r.g_min) * (s.range_hi - s.range_lo);
    double differ = 0, max_err = 0;
    for (unsigned c = 0; c < 2; ++c) {
      const auto& e = s.edges[c];
      REQUIRE(e.size() == 2 * L);
      std::vector<double> nominal(2 * L);
      nominal[0] = s.range_lo;
      nominal[2 * L - 1] = s.range_hi;
      for (unsigned k = 0; k + 1 < L; ++k) nominal[2 * k + 1] = nominal[2 * k + 2] = s.thresholds[k];
      double copy_err = 0;
      for (unsigned d = 0; d < 2 * L; ++d) {
        CHECK(std::fabs(e[d] - nominal[d]) <= tol);  // programmed by write-verify, within its band
        copy_err = std::max(copy_err, std::fabs(e[d] - nominal[d]));
      }
      CHECK(copy_err > 0);  // each copy carries its own programming error
      max_err = std::max(max_err, copy_err);
    }
    for (unsigned d = 0; d < 2 * L; ++d) differ = std::max(differ, double(std::fabs(s.edges[0][d] - s.edges[1][d])));
    CHECK(differ > 0);  // independent device errors: the partner is not a copy of copy 0
    CHECK(g.max_edge_err == Approx(max_err).epsilon(1e-5));  // over both copies

    // The SR model on the captured samples with both copies' edges read back.
    const auto x = calib_test::group_samples(r, g);
    REQUIRE(x.size() == g.samples);
    std::vector<cimvp::adc::QCellAdc> qs;
    qs.push_back(calib_test::ref_qcell(s, s.edges[0], 4));
    qs.push_back(calib_test::ref_qcell(s, s.edges[1], 4));
    const double single = calib_test::ref_adc_mse(qs[0], x);
    cimvp::adc::QCellSrAdc sr(qs);
    cimvp::adc::ConversionStats st;
    const double mse_sr = calib_test::ref_adc_mse(sr, x, &st);
    CHECK(g.mse_single == Approx(single).epsilon(1e-4));
    CHECK(g.mse_achieved == Approx(mse_sr).epsilon(1e-4));
    CHECK(g.bias == Approx(calib_test::ref_adc_bias(sr, x, false)).margin(1e-5));
    CHECK(g.zero_bias == Approx(calib_test::ref_adc_bias(sr, x, true)).margin(1e-5));
    CHECK(g.bias_single == Approx(calib_test::ref_adc_bias(qs[0], x, false)).margin(1e-5));
    CHECK(g.zero_bias_single == Approx(calib_test::ref_adc_bias(qs[0], x, true)).margin(1e-5));
    CHECK(g.sr_disagree == st.disagreements);
    CHECK(g.sr_disagree_zero <= g.sr_disagree);
    // Copy 0's code at the zero window among the disagreements, from the model's copy 0.
    if (g.zero_code != 0xFFFFFFFFu) {
      std::vector<int32_t> c0(x.size()), c1(x.size());
      std::vector<float> y(x.size());
      qs[0].quantize(x.data(), y.data(), c0.data(), x.size(), nullptr);
      qs[1].quantize(x.data(), y.data(), c1.data(), x.size(), nullptr);
      uint32_t dz = 0;
      for (std::size_t i = 0; i < x.size(); ++i) dz += c0[i] != c1[i] && c0[i] == int32_t(g.zero_code);
      CHECK(g.sr_disagree_zero == dz);
      CHECK(s.sr_zero_code == ADC_SR_ZERO_NONE);  // the default policy: the paper's boundary rule
    }
    dis_all += g.sr_disagree;
  }
  CHECK(dis_all > 0);  // write-verify error makes the copies disagree near the thresholds
  // The pulses reported are all the controller counted (both copies of every tile).
  CHECK(r.cal.prog_pulses() == r.progctl_pulses);
  CHECK(r.log.find("SR: single ADC") != std::string::npos);

  // summary.json: the SR fields and the banks' inference counters.
  const auto adc = cimvp::netrun::adc_summary(r.scenario, r.cal);
  CHECK(adc.at("mode").as_string() == "qcell_sr");
  CHECK(adc.at("calibration").at("sr_policy").as_string() == "boundary");
  REQUIRE(adc.at("layers").size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    const auto& l = adc.at("layers").at(i);
    const auto& g = r.cal.groups[i];
    for (const char* k : {"mse_uniform", "mse_sar", "mse_lloyd_max", "mse_achieved", "design"}) CHECK(l.contains(k));
    CHECK(l.at("mse_achieved").as_double() == Approx(g.mse_achieved));
    CHECK(l.at("sr").at("mse_single").as_double() == Approx(g.mse_single));
    CHECK(l.at("sr").at("disagreements").as_double() == double(g.sr_disagree));
    CHECK(l.at("sr").at("disagree_share").as_double() == Approx(double(g.sr_disagree) / g.samples));
  }
  const auto& inf = adc.at("inference");
  uint64_t bank_dis = 0;
  for (const auto& b : r.banks) bank_dis += b.sr_disagree;
  CHECK(inf.at("sr_disagreements").as_double() == double(bank_dis - r.cal.header.sr_disagree));
  CHECK(inf.at("sr_disagreements").as_double() > 0);
  CHECK(inf.at("sr_disagree_rate").as_double() > 0);
  CHECK(inf.at("sr_disagree_rate").as_double() < 0.5);
}

CIMVP_SC_TEST_MAIN
