// Tests of the programming-controller core against closed-form references and the paper's
// Fig. 3c data (see docs/progctl.md).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "models/progctl/write_verify.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace cimvp::progctl;
using Catch::Matchers::Contains;

namespace {

struct Stats {
  double mean = 0, sd = 0;
};
Stats stats(const std::vector<double>& v) {
  Stats s;
  for (double x : v) s.mean += x;
  s.mean /= v.size();
  for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
  s.sd = std::sqrt(s.sd / (v.size() - 1));  // ddof = 1, as the paper
  return s;
}

std::vector<ProgramEntry> window_entries(int per_target, double lo = 100, double hi = 400,
                                         double step = 50) {
  std::vector<ProgramEntry> e;
  for (double t = lo; t <= hi + 1e-9; t += step)
    for (int d = 0; d < per_target; ++d) e.push_back({static_cast<std::uint32_t>(e.size()), t});
  return e;
}

}  // namespace

TEST_CASE("Ziggurat normal matches standard normal moments and tail probabilities", "[rng]") {
  Xoshiro256ss rng(12345);
  const int n = 4'000'000;
  double s = 0, s2 = 0, s4 = 0;
  int gt1 = 0, gt2 = 0, gt35 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = rng.normal();
    s += x;
    s2 += x * x;
    s4 += x * x * x * x;
    const double a = std::fabs(x);
    gt1 += a > 1.0;
    gt2 += a > 2.0;
    gt35 += a > 3.5;  // beyond the Ziggurat base R = 3.44: exercises the tail sampler
  }
  const double mean = s / n, var = s2 / n - mean * mean;
  // Standard errors: mean 1/sqrt(n) = 5e-4, var sqrt(2/n) = 7e-4, E[x^4]=3 sqrt(96/n)=4.9e-3.
  CHECK(std::fabs(mean) < 5 * 5e-4);
  CHECK(var == Approx(1.0).margin(5 * 7.1e-4));
  CHECK(s4 / n == Approx(3.0).margin(5 * 4.9e-3));
  // Two-sided normal tails: 0.317311, 0.0455003, 4.6525e-4 (erfc(k/sqrt 2)).
  auto p_check = [n](int count, double p) {
    const double se = std::sqrt(p * (1 - p) / n);
    CHECK(double(count) / n == Approx(p).margin(5 * se));
  };
  p_check(gt1, std::erfc(1.0 / std::sqrt(2.0)));
  p_check(gt2, std::erfc(2.0 / std::sqrt(2.0)));
  p_check(gt35, std::erfc(3.5 / std::sqrt(2.0)));
}

TEST_CASE("xoshiro256ss is reproducible and uniform() lies in the unit interval", "[rng]") {
  Xoshiro256ss a(99), b(99), c(100);
  for (int i = 0; i < 100; ++i) REQUIRE(a.next() == b.next());
  CHECK(a.next() != c.next());
  double lo = 1, hi = 0, s = 0;
  const int n = 1'000'000;
  for (int i = 0; i < n; ++i) {
    const double u = a.uniform();
    lo = std::min(lo, u);
    hi = std::max(hi, u);
    s += u;
  }
  CHECK(lo >= 0.0);
  CHECK(hi < 1.0);
  CHECK(s / n == Approx(0.5).margin(5 * std::sqrt(1.0 / 12 / n)));
}

TEST_CASE("pulse step follows the soft-bound closed form with the configured noise", "[device]") {
  DeviceParams p;
  p.sigma_mult = 0.2;
  p.sigma_add_us = 0.7;
  const Device dev(p);
  const double W = p.g_max_us - p.g_min_us;
  struct Case { PulseKind k; double g, v, w; };
  const Case cases[] = {{PulseKind::Set, 150, 1.0, 100e-9},
                        {PulseKind::Set, 300, 1.3, 100e-9},
                        {PulseKind::Set, 200, 1.0, 50e-9},
                        {PulseKind::Reset, 350, 1.2, 100e-9},
                        {PulseKind::Reset, 150, 1.5, 200e-9}};
  Xoshiro256ss rng(7);
  for (const Case& c : cases) {
    const PulseResponse& r = c.k == PulseKind::Set ? p.set : p.reset;
    const double room = c.k == PulseKind::Set ? p.g_max_us - c.g : c.g - p.g_min_us;
    double expect = r.alpha_us * (c.v - r.v_th) / (r.v_ref - r.v_th) * (c.w / r.t_ref_s) *
                    std::pow(room / W, r.gamma);
    if (c.k == PulseKind::Reset) expect = -expect;
    CHECK(dev.mean_step(c.k, c.g, c.v, c.w) == Approx(expect).epsilon(1e-12));
    const int n = 200'000;
    std::vector<double> d(n);
    for (int i = 0; i < n; ++i) d[i] = dev.apply_pulse(c.k, c.g, c.v, c.w, rng) - c.g;
    const Stats st = stats(d);
    const double sd = std::hypot(p.sigma_mult * expect, p.sigma_add_us);
    CHECK(st.mean == Approx(expect).margin(5 * sd / std::sqrt(double(n))));
    CHECK(st.sd == Approx(sd).epsilon(0.01));
  }
  // Below threshold nothing happens, not even noise.
  CHECK(dev.apply_pulse(PulseKind::Set, 200, p.set.v_th * 0.99, 100e-9, rng) == 200.0);
  CHECK(dev.mean_step(PulseKind::Reset, 200, p.reset.v_th, 100e-9) == 0.0);
  // Saturation: no step at the bound, and the clamp keeps the state inside.
  CHECK(dev.mean_step(PulseKind::Set, p.g_max_us, 2.0, 100e-9) == 0.0);
  CHECK(dev.mean_step(PulseKind::Reset, p.g_min_us, 2.0, 100e-9) == 0.0);
  for (int i = 0; i < 1000; ++i) {
    const double g = dev.apply_pulse(PulseKind::Set, p.g_max_us - 0.1, 2.0, 100e-9, rng);
    REQUIRE(g <= p.g_max_us);
  }
}

TEST_CASE("gamma != 1 shapes the step as (room/window)^gamma", "[device]") {
  DeviceParams p;
  p.set.gamma = 2.5;
  const Device dev(p);
  const double W = p.g_max_us - p.g_min_us;
  const double g = 200;
  CHECK(dev.mean_step(PulseKind::Set, g, 1.0, 100e-9) ==
        Approx(p.set.alpha_us * std::pow((p.g_max_us - g) / W, 2.5)).epsilon(1e-12));
}

TEST_CASE("verify read noise has the configured relative sigma", "[device]") {
  DeviceParams p;
  p.read_sigma_rel = 5e-4;
  const Device dev(p);
  Xoshiro256ss rng(3);
  for (double g : {100.0, 400.0}) {
    std::vector<double> r(200'000);
    for (double& x : r) x = dev.read(g, rng);
    const Stats st = stats(r);
    CHECK(st.mean == Approx(g).margin(5 * g * 5e-4 / std::sqrt(2e5)));
    CHECK(st.sd / g == Approx(5e-4).epsilon(0.01));
  }
}

TEST_CASE("write-verify converges to tolerance for reachable targets", "[wv]") {
  const DeviceParams dp;
  for (PulseScheme scheme : {PulseScheme::Ispp, PulseScheme::Fixed}) {
    WriteVerifyParams wv;
    wv.scheme = scheme;
    wv.max_pulses = 1000;  // the fixed scheme is slower from far away
    const Programmer prog(dp, wv);
    // Targets over the whole reachable range (not only the 100..400 window), random starts.
    std::vector<ProgramEntry> e;
    Xoshiro256ss rng(11);
    CellArray cells(4000, 0);
    for (std::uint32_t i = 0; i < cells.size(); ++i) {
      cells.g_us[i] = dp.g_min_us + rng.uniform() * (dp.g_max_us - dp.g_min_us);
      e.push_back({i, 30 + rng.uniform() * 440});
    }
    std::vector<CellResult> res;
    const BatchTotals t = prog.program_batch(cells, e, res, 42);
    CHECK(t.failures == 0);
    CHECK(t.converged == e.size());
    const double read_sd = dp.read_sigma_rel * dp.g_max_us;
    for (const CellResult& r : res) {
      REQUIRE(r.converged);
      REQUIRE(r.failure == Failure::None);
      REQUIRE(std::fabs(r.last_read_us - r.target_us) <= wv.tolerance_us);
      // The true conductance is within the band up to the verify read's own noise.
      REQUIRE(std::fabs(r.final_error_us) <= wv.tolerance_us + 6 * read_sd);
      REQUIRE(r.final_g_us == cells.g_us[r.cell]);
      REQUIRE(r.final_error_us == r.final_g_us - r.target_us);
    }
  }
}

TEST_CASE("final error is the true conductance and not the verify read", "[wv]") {
  DeviceParams dp;
  dp.read_sigma_rel = 0.01;  // a noisy read: 1 % = 2.5 uS at 250 uS
  WriteVerifyParams wv;
  const Programmer prog(dp, wv);
  auto e = window_entries(2000, 250, 250);
  CellArray cells(e.size(), dp.g_min_us);
  std::vector<CellResult> res;
  prog.program_batch(cells, e, res, 5);
  int differ = 0, outside = 0;
  for (const CellResult& r : res) {
    differ += r.last_read_us != r.final_g_us;
    outside += std::fabs(r.final_error_us) > wv.tolerance_us;
    REQUIRE(std::fabs(r.last_read_us - r.target_us) <= wv.tolerance_us);
  }
  CHECK(differ == int(res.size()));
  CHECK(outside > 0);  // some reads accepted cells whose true value lies outside the band
}

TEST_CASE("unreachable targets and bad indices are failures and touch nothing", "[wv]") {
  const DeviceParams dp;
  const Programmer prog(dp, WriteVerifyParams{});
  CellArray cells(4, 200);
  const std::vector<ProgramEntry> e = {{0, dp.g_min_us - 1},
                                       {1, dp.g_max_us + 1},
                                       {2, std::nan("")},
                                       {7, 200},
                                       {3, 300}};
  CHECK(prog.first_invalid_entry(cells, e.data(), e.size()) == 0);
  CHECK(prog.first_invalid_entry(cells, e.data() + 4, 1) == -1);
  CHECK(prog.first_invalid_entry(cells, e.data() + 3, 2) == 0);
  std::vector<CellResult> res;
  const BatchTotals t = prog.program_batch(cells, e, res, 1);
  for (int i : {0, 1, 2}) {
    CHECK(res[i].failure == Failure::Unreachable);
    CHECK_FALSE(res[i].converged);
    CHECK(res[i].pulses() == 0);
    CHECK(res[i].verify_reads == 0);
    CHECK(cells.g_us[i] == 200.0);
    CHECK(cells.pulses[i] == 0);
  }
  CHECK(res[3].failure == Failure::InvalidIndex);
  CHECK(res[3].pulses() == 0);
  CHECK(res[4].converged);
  CHECK(t.failures == 4);
  CHECK(t.failed_unreachable == 3);
  CHECK(t.failed_invalid_index == 1);
  CHECK(t.converged == 1);
  CHECK(std::string(to_string(Failure::Unreachable)) == "unreachable");
}

TEST_CASE("stuck cells never move and are reported as failures", "[wv]") {
  const DeviceParams dp;
  WriteVerifyParams wv;
  wv.max_pulses = 20;
  const Programmer prog(dp, wv);
  CellArray cells(3, 200);
  cells.set_stuck(0, dp.g_min_us);
  cells.set_stuck(1, 300);
  const std::vector<ProgramEntry> e = {{0, 250}, {1, 301}, {2, 250}};
  std::vector<CellResult> res;
  const BatchTotals t = prog.program_batch(cells, e, res, 9);
  CHECK(res[0].failure == Failure::Stuck);
  CHECK(res[0].final_g_us == dp.g_min_us);
  CHECK(res[0].pulses() == wv.max_pulses);  // the controller cannot tell; it keeps trying
  CHECK(res[0].final_error_us == dp.g_min_us - 250);
  // Stuck inside the band: still reported (it cannot be reprogrammed later).
  CHECK(res[1].failure == Failure::Stuck);
  CHECK_FALSE(res[1].converged);
  CHECK(res[1].final_g_us == 300.0);
  CHECK(res[2].converged);
  CHECK(t.failed_stuck == 2);
  CHECK(t.failures == 2);
  CHECK_THROWS_AS(cells.set_stuck(3, 1), std::out_of_range);

  // Injection at given rates: binomial counts, values at the bounds.
  CellArray big(200'000, 250);
  const std::size_t made = inject_stuck(big, dp, 0.01, 0.02, 77);
  std::size_t lo = 0, hi = 0;
  for (std::size_t i = 0; i < big.size(); ++i) {
    if (!big.stuck[i]) continue;
    lo += big.g_us[i] == dp.g_min_us;
    hi += big.g_us[i] == dp.g_max_us;
  }
  CHECK(made == lo + hi);
  CHECK(double(lo) == Approx(2000).margin(5 * std::sqrt(2000 * 0.99)));
  CHECK(double(hi) == Approx(4000).margin(5 * std::sqrt(4000 * 0.98)));
  CHECK_THROWS_WITH(inject_stuck(big, dp, -0.1, 0, 1), Contains("stuck_at_gmin_rate"));
}

TEST_CASE("endurance limit makes a cell stuck", "[wv]") {
  for (WearOut wo : {WearOut::Present, WearOut::GMin, WearOut::GMax}) {
    DeviceParams dp;
    dp.endurance_pulses = 5;
    dp.wear_out = wo;
    WriteVerifyParams wv;
    wv.max_pulses = 50;
    const Programmer prog(dp, wv);
    CellArray cells(1, dp.g_min_us);
    std::vector<PulseEvent> log;
    std::vector<CellResult> res;
    prog.program_batch(cells, std::vector<ProgramEntry>{{0, 400}}, res, 3, &log);
    const CellResult& r = res[0];
    // From g_min to 400 uS takes more than 5 pulses, so the cell wears out on the way.
    CHECK(r.failure == Failure::Stuck);
    CHECK(cells.stuck[0] == 1);
    CHECK(cells.pulses[0] == r.pulses());
    REQUIRE(log.size() == r.pulses());
    // Pulses 1..5 moved it; every later pulse left it where the 5th put it.
    const double after5 = log[4].g_after_us;
    if (wo == WearOut::GMin) CHECK(after5 == dp.g_min_us);
    if (wo == WearOut::GMax) CHECK(after5 == dp.g_max_us);
    if (wo == WearOut::Present) CHECK(after5 > log[4].g_before_us);
    for (std::size_t i = 5; i < log.size(); ++i) REQUIRE(log[i].g_after_us == after5);
    CHECK(r.final_g_us == after5);
  }
  // A cell worn out by earlier programming runs fails on the next run.
  DeviceParams dp;
  dp.endurance_pulses = 40;
  const Programmer prog(dp, WriteVerifyParams{});
  CellArray cells(1, 250);
  bool seen_stuck = false;
  for (int run = 0; run < 20 && !seen_stuck; ++run) {
    const CellResult r = prog.program_cell(cells, 0, run % 2 ? 120 : 380, 100 + run);
    seen_stuck = r.failure == Failure::Stuck;
    if (!seen_stuck) CHECK(cells.pulses[0] < dp.endurance_pulses);
  }
  CHECK(seen_stuck);
  CHECK(cells.pulses[0] >= dp.endurance_pulses);
}

TEST_CASE("counts add up and energy sums match the pulse log", "[wv]") {
  const DeviceParams dp;
  for (PulseScheme scheme : {PulseScheme::Ispp, PulseScheme::Fixed}) {
    WriteVerifyParams wv;
    wv.scheme = scheme;
    wv.max_pulses = 300;
    const Programmer prog(dp, wv);
    std::vector<ProgramEntry> e;
    Xoshiro256ss rng(21);
    CellArray cells(500, 0);
    for (std::uint32_t i = 0; i < cells.size(); ++i) {
      cells.g_us[i] = 100 + 300 * rng.uniform();
      e.push_back({i, 100 + 300 * rng.uniform()});
    }
    e.push_back({9999, 200});            // invalid
    e.push_back({3, 1e6});               // unreachable
    cells.set_stuck(4, 300);             // stuck
    std::vector<CellResult> res;
    std::vector<PulseEvent> log;
    const BatchTotals t = prog.program_batch(cells, e, res, 8, &log);

    BatchTotals sum;
    std::uint32_t maxp = 0;
    for (const CellResult& r : res) {
      REQUIRE(r.pulses() == r.set_pulses + r.reset_pulses);
      // One read before each pulse plus the final one, for every cell that was attempted.
      if (r.failure != Failure::InvalidIndex && r.failure != Failure::Unreachable)
        REQUIRE(r.verify_reads == r.pulses() + 1);
      sum.set_pulses += r.set_pulses;
      sum.reset_pulses += r.reset_pulses;
      sum.verify_reads += r.verify_reads;
      sum.converged += r.converged;
      sum.failures += r.failure != Failure::None;
      maxp = std::max(maxp, r.pulses());
    }
    CHECK(t.entries == e.size());
    CHECK(t.set_pulses == sum.set_pulses);
    CHECK(t.reset_pulses == sum.reset_pulses);
    CHECK(t.pulses() == t.set_pulses + t.reset_pulses);
    CHECK(t.verify_reads == sum.verify_reads);
    CHECK(t.converged == sum.converged);
    CHECK(t.failures == sum.failures);
    CHECK(t.failures == t.failed_not_converged + t.failed_stuck + t.failed_unreachable +
                            t.failed_invalid_index);
    CHECK(t.converged + t.failures == t.entries);
    CHECK(t.max_pulses_per_cell == maxp);
    REQUIRE(log.size() == t.pulses());

    double w_set = 0, w_reset = 0, v2w_set = 0, v2w_reset = 0, ecell = 0;
    for (std::size_t i = 0; i < log.size(); ++i) {
      const PulseEvent& p = log[i];
      const PulseSchedule& s = p.kind == PulseKind::Set ? wv.set : wv.reset;
      (p.kind == PulseKind::Set ? w_set : w_reset) += p.width_s;
      (p.kind == PulseKind::Set ? v2w_set : v2w_reset) += p.amplitude_v * p.amplitude_v * p.width_s;
      ecell += p.amplitude_v * p.amplitude_v * p.g_before_us * 1e-6 * p.width_s;
      // Amplitude schedule: fixed, or ISPP (+v_step per same-polarity pulse, restart on change).
      const bool continues = i > 0 && log[i - 1].entry == p.entry && log[i - 1].kind == p.kind;
      double expect = s.v_start;
      if (scheme == PulseScheme::Ispp && continues)
        expect = std::min(log[i - 1].amplitude_v + s.v_step, s.v_max);
      REQUIRE(p.amplitude_v == Approx(expect).epsilon(1e-12));
    }
    CHECK(t.sum_width_set_s == Approx(w_set).epsilon(1e-12));
    CHECK(t.sum_width_reset_s == Approx(w_reset).epsilon(1e-12));
    CHECK(t.sum_width_set_s == Approx(t.set_pulses * wv.set.width_s).epsilon(1e-12));
    CHECK(t.sum_v2w_set == Approx(v2w_set).epsilon(1e-12));
    CHECK(t.sum_v2w_reset == Approx(v2w_reset).epsilon(1e-12));
    CHECK(t.cell_energy_j == Approx(ecell).epsilon(1e-12));
    if (scheme == PulseScheme::Fixed) {
      CHECK(t.sum_v2w_set == Approx(t.set_pulses * 1.0 * 1.0 * 100e-9).epsilon(1e-12));
      CHECK(t.sum_v2w_reset == Approx(t.reset_pulses * 1.2 * 1.2 * 100e-9).epsilon(1e-12));
    } else {
      CHECK(t.sum_v2w_set > t.set_pulses * 1.0 * 1.0 * 100e-9);  // ISPP climbs above v_start
    }
    // Totals of two batches add like the per-entry sums.
    BatchTotals a = t, b = t;
    a += b;
    CHECK(a.pulses() == 2 * t.pulses());
    CHECK(a.cell_energy_j == Approx(2 * t.cell_energy_j));
  }
}

TEST_CASE("same seed gives the same results and the batch split does not matter", "[wv]") {
  const DeviceParams dp;
  const Programmer prog(dp, WriteVerifyParams{});
  auto e = window_entries(50);
  CellArray c1(e.size(), dp.g_min_us), c2 = c1, c3 = c1, c4 = c1;
  std::vector<CellResult> r1, r2, r3, r4a, r4b;
  prog.program_batch(c1, e, r1, 2025);
  prog.program_batch(c2, e, r2, 2025);
  prog.program_batch(c3, e, r3, 2026);
  const std::vector<ProgramEntry> ea(e.begin(), e.begin() + 100), eb(e.begin() + 100, e.end());
  prog.program_batch(c4, ea, r4a, 2025);
  prog.program_batch(c4, eb, r4b, 2025);
  r4a.insert(r4a.end(), r4b.begin(), r4b.end());
  int diff3 = 0;
  for (std::size_t i = 0; i < e.size(); ++i) {
    REQUIRE(r1[i].final_g_us == r2[i].final_g_us);
    REQUIRE(r1[i].pulses() == r2[i].pulses());
    REQUIRE(r1[i].last_read_us == r2[i].last_read_us);
    REQUIRE(r1[i].final_g_us == r4a[i].final_g_us);
    REQUIRE(r1[i].set_pulses == r4a[i].set_pulses);
    diff3 += r1[i].final_g_us != r3[i].final_g_us;
  }
  CHECK(c1.g_us == c2.g_us);
  CHECK(c1.pulses == c4.pulses);
  CHECK(diff3 > int(e.size()) * 9 / 10);
  // Reprogramming the same cell with the same seed draws fresh noise (life count differs).
  CellArray c(1, 100);
  const CellResult x = prog.program_cell(c, 0, 300, 1);
  c.g_us[0] = 100;
  const CellResult y = prog.program_cell(c, 0, 300, 1);
  CHECK(x.final_g_us != y.final_g_us);
}

TEST_CASE("final-error sigma matches the closed form of a noise-dominated device", "[stats]") {
  // With a negligible mean step and additive noise 10x the band, each pulse lands almost
  // uniformly over the +-tol band, so the accepted error is ~U(-tol, tol): sigma = tol/sqrt 3.
  DeviceParams dp;
  dp.set.alpha_us = dp.reset.alpha_us = 1e-6;
  dp.sigma_mult = 0;
  dp.sigma_add_us = 50;
  dp.read_sigma_rel = 0;
  WriteVerifyParams wv;
  wv.tolerance_us = 5;
  wv.max_pulses = 2000;
  const Programmer prog(dp, wv);
  auto e = window_entries(20000, 250, 250);
  CellArray cells(e.size(), 200);
  std::vector<CellResult> res;
  const BatchTotals t = prog.program_batch(cells, e, res, 31);
  REQUIRE(t.failures == 0);
  std::vector<double> err;
  for (const CellResult& r : res) err.push_back(r.final_error_us);
  const Stats st = stats(err);
  const double expect = wv.tolerance_us / std::sqrt(3.0);
  INFO("sigma " << st.sd << " expected " << expect);
  CHECK(st.sd == Approx(expect).epsilon(0.03));  // measured 2.893 vs 2.887
  CHECK(std::fabs(st.mean) < 0.1);
}

TEST_CASE("default device reproduces the paper's Fig. 3c programming sigma", "[stats]") {
  // Configured calibration (docs/progctl.md): per-target sigma 2.62..2.86 uS, mean ~2.75 uS,
  // against 2.73 uS measured. Check each target within 10 % of 2.73 uS with many devices.
  const DeviceParams dp;
  const Programmer prog(dp, WriteVerifyParams{});
  const int per = 4000;
  auto e = window_entries(per);
  CellArray cells(e.size(), dp.g_min_us);
  std::vector<CellResult> res;
  const BatchTotals t = prog.program_batch(cells, e, res, 2025);
  REQUIRE(t.failures == 0);
  std::map<int, double> paper;
  std::ifstream in(std::string(CIMVP_READC_DIR) + "/fig3_3c_variation.csv");
  std::string line;
  if (in && std::getline(in, line))
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string a, b;
      if (std::getline(ls, a, ',') && std::getline(ls, b, ',')) paper[std::stoi(a)] = std::stod(b);
    }
  double mean_sd = 0;
  for (int ti = 0; ti < 7; ++ti) {
    std::vector<double> err;
    for (int d = 0; d < per; ++d) err.push_back(res[ti * per + d].final_error_us);
    const Stats st = stats(err);
    mean_sd += st.sd / 7;
    const int target = 100 + 50 * ti;
    INFO("target " << target << " sigma " << st.sd);
    CHECK(st.sd == Approx(2.73).epsilon(0.10));
    if (paper.count(target)) CHECK(st.sd == Approx(paper[target]).epsilon(0.15));
  }
  CHECK(mean_sd == Approx(2.73).epsilon(0.05));
  if (paper.empty()) WARN("paper data not found at " CIMVP_READC_DIR "; per-target check skipped");
}

TEST_CASE("parameter validation names the key", "[params]") {
  auto dev_throws = [](auto mutate, const char* key) {
    DeviceParams p;
    mutate(p);
    CHECK_THROWS_AS(p.validate(), std::invalid_argument);
    CHECK_THROWS_WITH(Programmer(p, WriteVerifyParams{}), Contains(key));
  };
  dev_throws([](DeviceParams& p) { p.g_min_us = -1; }, "device.g_min_us");
  dev_throws([](DeviceParams& p) { p.g_max_us = p.g_min_us; }, "device.g_max_us");
  dev_throws([](DeviceParams& p) { p.set.alpha_us = 0; }, "device.set.alpha_us");
  dev_throws([](DeviceParams& p) { p.reset.v_ref = p.reset.v_th; }, "device.reset.v_ref");
  dev_throws([](DeviceParams& p) { p.set.gamma = std::nan(""); }, "device.set.gamma");
  dev_throws([](DeviceParams& p) { p.sigma_mult = -0.1; }, "device.sigma_mult");
  dev_throws([](DeviceParams& p) { p.read_sigma_rel = 1.5; }, "device.read_sigma_rel");
  dev_throws([](DeviceParams& p) { p.endurance_pulses = 0; }, "device.endurance_pulses");
  auto wv_throws = [](auto mutate, const char* key) {
    WriteVerifyParams w;
    mutate(w);
    CHECK_THROWS_AS(w.validate(), std::invalid_argument);
    CHECK_THROWS_WITH(Programmer(DeviceParams{}, w), Contains(key));
  };
  wv_throws([](WriteVerifyParams& w) { w.tolerance_us = 0; }, "write_verify.tolerance_us");
  wv_throws([](WriteVerifyParams& w) { w.max_pulses = 0; }, "write_verify.max_pulses");
  wv_throws([](WriteVerifyParams& w) { w.set.v_start = -1; }, "write_verify.set.v_start");
  wv_throws([](WriteVerifyParams& w) { w.reset.v_max = 0.5; }, "write_verify.reset.v_max");
  wv_throws([](WriteVerifyParams& w) { w.set.width_s = 0; }, "write_verify.set.width_s");
  // Defaults are valid.
  CHECK_NOTHROW(Programmer(DeviceParams{}, WriteVerifyParams{}));
  // A cell array with inconsistent columns is refused.
  CellArray bad(3, 100);
  bad.pulses.pop_back();
  const Programmer prog(DeviceParams{}, WriteVerifyParams{});
  std::vector<CellResult> res;
  CHECK_THROWS_WITH(prog.program_batch(bad, std::vector<ProgramEntry>{{0, 200}}, res, 1),
                    Contains("CellArray"));
}
