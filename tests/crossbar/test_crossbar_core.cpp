// Tests of the crossbar core against closed-form references (see docs/crossbar.md).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "models/crossbar/crossbar.hpp"

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

using namespace cimvp::crossbar;
using Catch::Matchers::Contains;

namespace {

Eigen::MatrixXi random_codes(int rows, int cols, int lo, int hi, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> d(lo, hi);
  Eigen::MatrixXi m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = d(rng);
  return m;
}

Eigen::MatrixXf random_weights(int rows, int cols, std::mt19937_64& rng) {
  std::normal_distribution<float> d(0.f, 1.f);
  Eigen::MatrixXf m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = d(rng);
  return m;
}

// Records the analog values (uA) of one (cycle, slice), then converts like PassThroughAdc.
struct RecordingAdc : AdcStage {
  int cycle = 0, slice = 0;
  Eigen::MatrixXf recorded;
  void convert(Eigen::Ref<Eigen::MatrixXf> a, const AdcContext& ctx) override {
    if (ctx.input_cycle == cycle && ctx.slice == slice) recorded = a;
    a /= float(ctx.unit_current_ua);
  }
};

}  // namespace

TEST_CASE("ideal mode equals the exact integer dot product", "[crossbar][ideal]") {
  std::mt19937_64 rng(42);
  struct Shape { int k, n, b; };
  const Shape shapes[] = {{17, 5, 3}, {128, 16, 7}, {300, 45, 5}, {1, 1, 1}, {257, 33, 64}};
  for (SignScheme sign : {SignScheme::Differential, SignScheme::OffsetColumn})
    for (int dac : {1, 3, 8})
      for (int cell_bits : {1, 2, 4})
        for (const Shape& sh : shapes) {
          MappingParams mp;
          mp.sign = sign;
          mp.dac_bits = dac;
          mp.cell_bits = cell_bits;
          DeviceParams dp;
          const Eigen::MatrixXf w = random_weights(sh.k, sh.n, rng);
          TiledLayer layer(w, mp, dp, 7);
          layer.program_ideal();
          const Eigen::MatrixXi x = random_codes(sh.b, sh.k, 0, mp.max_input_code(), rng);
          const Eigen::MatrixXd exact = exact_dot(x, layer.weights().codes);
          IdealAdc adc;
          const MvmResult r = layer.mvm(x, &adc);
          INFO("sign " << int(sign) << " dac " << dac << " cell_bits " << cell_bits << " shape "
                       << sh.k << "x" << sh.n << " batch " << sh.b);
          REQUIRE(r.y == exact);  // bit-exact
          // Pass-through converter: no rounding, float error only.
          const MvmResult rp = layer.mvm(x);
          REQUIRE((rp.y - exact).cwiseAbs().maxCoeff() <= 1e-4 * (1.0 + exact.cwiseAbs().maxCoeff()));
          // Statistics: one conversion per (vector, cycle, slice, logical column, row block).
          REQUIRE(r.stats.adc_conversions == std::int64_t(sh.b) * mp.input_cycles() *
                                                 mp.slices() * sh.n * layer.row_blocks());
        }
}

TEST_CASE("dequantised output approximates the float product", "[crossbar][ideal]") {
  std::mt19937_64 rng(3);
  for (bool per_col : {false, true}) {
    MappingParams mp;
    mp.per_column_scale = per_col;
    const Eigen::MatrixXf w = random_weights(200, 30, rng);
    Eigen::MatrixXf xf = Eigen::MatrixXf::Random(10, 200).cwiseAbs();
    const double xs = 1.0 / mp.max_input_code();
    TiledLayer layer(w, mp, DeviceParams{}, 1);
    layer.program_ideal();
    const Eigen::MatrixXi x = quantize_inputs(xf, mp.input_bits, xs);
    IdealAdc adc;
    const Eigen::MatrixXf y = layer.dequantize(layer.mvm(x, &adc).y, xs);
    // Exact reference from the dequantised operands.
    Eigen::MatrixXd wq = layer.weights().codes.cast<double>() * layer.weights().scales.asDiagonal();
    const Eigen::MatrixXd ref = (x.cast<double>() * xs) * wq;
    REQUIRE((y.cast<double>() - ref).cwiseAbs().maxCoeff() <= 1e-5 * ref.cwiseAbs().maxCoeff());
    // And the quantised product is close to the float one (8-bit weights and inputs).
    const Eigen::MatrixXd fl = (xf * w).cast<double>();
    REQUIRE((ref - fl).norm() / fl.norm() < 0.02);
  }
}

TEST_CASE("slicing and sign schemes agree in ideal mode", "[crossbar][ideal]") {
  std::mt19937_64 rng(9);
  const Eigen::MatrixXf w = random_weights(150, 20, rng);
  const Eigen::MatrixXi x = random_codes(12, 150, 0, 255, rng);
  Eigen::MatrixXd first;
  for (SignScheme sign : {SignScheme::Differential, SignScheme::OffsetColumn})
    for (int cb : {1, 2, 3, 4, 8})
      for (int dac : {1, 2, 4}) {
        MappingParams mp;
        mp.sign = sign;
        mp.cell_bits = cb;
        mp.dac_bits = dac;
        mp.cols = 256;
        TiledLayer layer(w, mp, DeviceParams{}, 5);
        layer.program_ideal();
        IdealAdc adc;
        const Eigen::MatrixXd y = layer.mvm(x, &adc).y;
        if (first.size() == 0) first = y;
        INFO("sign " << int(sign) << " cell_bits " << cb << " dac " << dac);
        REQUIRE(y == first);
      }
}

TEST_CASE("column budget and layout", "[crossbar][mapping]") {
  MappingParams mp;  // 8-bit weights, 2-bit cells, 128 columns
  REQUIRE(mp.slices() == 4);  // 7 magnitude bits over 2-bit cells
  REQUIRE(mp.physical_columns(16) == 128);
  REQUIRE(mp.max_logical_columns() == 16);
  mp.sign = SignScheme::OffsetColumn;
  REQUIRE(mp.slices() == 4);  // 8 offset-binary bits
  REQUIRE(mp.physical_columns(31) == 128);
  REQUIRE(mp.max_logical_columns() == 31);
  REQUIRE(mp.offset_digit(3) == 2);  // 128 = 0b10'00'00'00
  REQUIRE(mp.offset_digit(0) == 0);
  std::mt19937_64 rng(1);
  REQUIRE_THROWS_WITH(map_codes(random_codes(10, 32, -3, 3, rng), mp, DeviceParams{}),
                      Contains("crossbar.cols (128)") && Contains("at most 31"));
  REQUIRE_THROWS_WITH(map_codes(random_codes(129, 2, -3, 3, rng), mp, DeviceParams{}),
                      Contains("crossbar.rows (128)"));
  REQUIRE_THROWS_WITH(map_codes(Eigen::MatrixXi::Constant(2, 2, 128), mp, DeviceParams{}),
                      Contains("[-127, 127]"));
  // Differential targets: +5 = 0b01'01 on G+, G- at g_min; -5 on G-.
  MappingParams d;
  d.rows = 4;
  d.cols = 8;
  d.weight_bits = 5;  // 4 magnitude bits -> 2 slices -> 4 columns per logical column
  Eigen::MatrixXi c(1, 2);
  c << 5, -6;
  const MappedBlock b = map_codes(c, d, DeviceParams{});
  const float step = 100.f;  // (400-100)/3
  REQUIRE(b.targets_us(0, d.column_of(0, 0, 0)) == 100.f + step);
  REQUIRE(b.targets_us(0, d.column_of(0, 1, 0)) == 100.f + step);
  REQUIRE(b.targets_us(0, d.column_of(0, 0, 1)) == 100.f);
  REQUIRE(b.targets_us(0, d.column_of(1, 0, 1)) == 100.f + 2 * step);  // 6 = 0b01'10
  REQUIRE(b.targets_us(0, d.column_of(1, 1, 1)) == 100.f + step);
  REQUIRE(b.targets_us(0, d.column_of(1, 0, 0)) == 100.f);
}

// Error of y_j = sum_i x_i * (sum_s 2^(s*cb) (e+_is - e-_is)) / dG  ->  var = sum_i x_i^2 sw^2
// with sw^2 = 2 (sigma/dG)^2 sum_s 4^(s*cb) (offset scheme: weight cell + offset cell).
TEST_CASE("programming error variance matches the closed form", "[crossbar][noise]") {
  for (SignScheme sign : {SignScheme::Differential, SignScheme::OffsetColumn}) {
    MappingParams mp;
    mp.rows = 64;
    mp.cols = 40;
    mp.sign = sign;
    DeviceParams dp;
    dp.prog_error = true;
    dp.clip = false;  // clipping would truncate the Gaussian at g_min
    std::mt19937_64 rng(11);
    const int K = 64;
    const int N = sign == SignScheme::Differential ? 5 : 9;
    const Eigen::MatrixXi codes = random_codes(K, N, -127, 127, rng);
    const Eigen::MatrixXi x = random_codes(1, K, 0, 255, rng);
    const Eigen::MatrixXd exact = exact_dot(x, codes);
    CrossbarArray arr(dp, mp, 2024);
    arr.load_codes(codes);
    const double dg = arr.conductance_step_us();
    double sum4 = 0;
    for (int s = 0; s < mp.slices(); ++s) sum4 += std::ldexp(1.0, 2 * s * mp.cell_bits);
    const double sw2 = 2.0 * (dp.prog_sigma_us / dg) * (dp.prog_sigma_us / dg) * sum4;
    const double closed = x.cast<double>().squaredNorm() * sw2;
    const int trials = 3000;
    double acc = 0;
    long n = 0;
    for (int t = 0; t < trials; ++t) {
      arr.program_ideal();
      const Eigen::MatrixXd e = arr.mvm(x).y - exact;  // mean zero by construction
      acc += e.squaredNorm();
      n += e.size();
    }
    const double emp = acc / n;
    INFO("sign " << int(sign) << " empirical " << emp << " closed " << closed);
    REQUIRE(std::abs(emp / closed - 1.0) < 0.05);
  }
}

// clip: false lets programming error carry a cell outside [g_min, g_max] (real devices
// overshoot their window), but a conductance is never negative: it stops at 0 (physics).
TEST_CASE("without clipping a conductance leaves the window but never goes below 0", "[crossbar][noise]") {
  MappingParams mp;
  mp.rows = 64;
  mp.cols = 64;
  DeviceParams dp;
  dp.g_min_us = 1.0;  // a window starting near 0 ...
  dp.g_max_us = 100.0;
  dp.prog_error = true;
  dp.prog_sigma_us = 20.0;  // ... and an error large enough to cross 0 often
  dp.clip = false;
  std::mt19937_64 rng(5);
  CrossbarArray arr(dp, mp, 99);
  arr.load_codes(random_codes(64, 8, -127, 127, rng));
  arr.program_ideal();
  int zero = 0, below_window = 0, above_window = 0;
  double lowest = 1e9;
  for (int r = 0; r < mp.rows; ++r)
    for (int c = 0; c < mp.cols; ++c) {
      const double g = arr.conductance(r, c);
      lowest = std::min(lowest, g);
      zero += g == 0.0;
      below_window += g > 0.0 && g < dp.g_min_us;
      above_window += g > dp.g_max_us;
    }
  // Cells at g_min (most unused/zero digits) with sigma 20 uS: P(G < 0) = P(z < -0.05) ~ 48 %.
  CHECK(lowest == 0.0);
  CHECK(zero > 1000);
  CHECK(below_window > 0);   // not clipped to the window ...
  CHECK(above_window > 0);
}

// Read noise: var(I+ - I-) = sigma^2 sum_i v_i^2 (G+_i^2 + G-_i^2), in uA^2.
TEST_CASE("read noise variance matches the closed form", "[crossbar][noise]") {
  MappingParams mp;
  mp.rows = 64;
  mp.cols = 32;
  mp.dac_bits = 2;
  DeviceParams dp;
  dp.read_noise = true;
  dp.read_sigma_rel = 5e-4;
  std::mt19937_64 rng(5);
  const int K = 64, N = 4, B = 6000;
  const Eigen::MatrixXi codes = random_codes(K, N, -127, 127, rng);
  Eigen::MatrixXi x1 = random_codes(1, K, 0, 255, rng);
  const Eigen::MatrixXi x = x1.replicate(B, 1);
  CrossbarArray arr(dp, mp, 77);
  arr.load_codes(codes);
  arr.program_ideal();
  const double vstep = mp.v_read / 3.0;
  double pooled_emp = 0, pooled_closed = 0;
  for (int cyc : {0, 3})
    for (int sl : {0, 2}) {
      RecordingAdc rec;
      rec.cycle = cyc;
      rec.slice = sl;
      arr.mvm(x, &rec);
      for (int j = 0; j < N; ++j) {
        double closed = 0;
        for (int i = 0; i < K; ++i) {
          const double v = vstep * ((x1(0, i) >> (2 * cyc)) & 3);
          const double gp = arr.conductance(i, mp.column_of(j, sl, 0));
          const double gn = arr.conductance(i, mp.column_of(j, sl, 1));
          closed += v * v * (gp * gp + gn * gn);
        }
        closed *= dp.read_sigma_rel * dp.read_sigma_rel;
        const Eigen::VectorXd col = rec.recorded.col(j).cast<double>();
        const double mean = col.mean();
        const double var = (col.array() - mean).square().sum() / (B - 1);
        INFO("cycle " << cyc << " slice " << sl << " col " << j << " emp " << var << " closed "
                      << closed);
        // B = 6000 samples: relative std of the variance estimate ~1.8%.
        REQUIRE(std::abs(var / closed - 1.0) < 0.08);
        pooled_emp += var;
        pooled_closed += closed;
      }
    }
  // Pooled over 16 (cycle, slice, column) series: relative std of the estimate ~0.5%.
  REQUIRE(std::abs(pooled_emp / pooled_closed - 1.0) < 0.03);
}

TEST_CASE("stuck-at cells come out at the configured rates", "[crossbar][defects]") {
  MappingParams mp;
  mp.rows = 512;
  mp.cols = 512;
  DeviceParams dp;
  dp.stuck_at_gmin_rate = 0.01;
  dp.stuck_at_gmax_rate = 0.03;
  CrossbarArray arr(dp, mp, 99);
  const double n = 512.0 * 512.0;
  for (auto [state, p] : {std::pair{StuckState::AtGmin, 0.01}, std::pair{StuckState::AtGmax, 0.03}}) {
    const double cnt = double(arr.stuck_count(state));
    REQUIRE(std::abs(cnt - n * p) < 5.0 * std::sqrt(n * p * (1 - p)));  // 5-sigma binomial
  }
  Eigen::MatrixXi codes = Eigen::MatrixXi::Constant(512, 64, 42);
  arr.load_codes(codes);
  arr.program_ideal();
  for (int r = 0; r < 512; ++r)
    for (int c = 0; c < 512; ++c) {
      const StuckState s = arr.stuck(r, c);
      if (s == StuckState::AtGmin) REQUIRE(arr.conductance(r, c) == Approx(dp.g_min_us));
      if (s == StuckState::AtGmax) REQUIRE(arr.conductance(r, c) == Approx(dp.g_max_us));
      if (s == StuckState::None) REQUIRE(arr.conductance(r, c) == Approx(arr.target(r, c)));
      if (s != StuckState::None) REQUIRE_FALSE(arr.set_conductance(r, c, 250.0));
    }
}

TEST_CASE("drift follows the power law", "[crossbar][drift]") {
  MappingParams mp;
  DeviceParams dp;
  dp.drift = true;
  dp.drift_nu = 0.05;
  dp.drift_t0_s = 1.0;
  std::mt19937_64 rng(8);
  const Eigen::MatrixXi codes = random_codes(100, 10, -127, 127, rng);
  const Eigen::MatrixXi x = random_codes(4, 100, 0, 255, rng);
  CrossbarArray arr(dp, mp, 1);
  arr.load_codes(codes);
  arr.program_ideal();
  const Eigen::MatrixXd y0 = arr.mvm(x).y;
  for (double t : {0.5, 10.0, 1e3, 1e6}) {
    arr.set_time_since_program(t);
    const double f = t > 1.0 ? std::pow(t, -0.05) : 1.0;
    REQUIRE(arr.effective_conductance(3, 7) == Approx(arr.conductance(3, 7) * f).epsilon(1e-6));
    // Differential pairs: G+ - G- scales by f, so the output does too.
    const Eigen::MatrixXd y = arr.mvm(x).y;
    REQUIRE((y - f * y0).cwiseAbs().maxCoeff() <= 1e-4 * y0.cwiseAbs().maxCoeff());
  }
}

TEST_CASE("level quantisation and external programming", "[crossbar][program]") {
  MappingParams mp;
  mp.rows = 8;
  mp.cols = 16;
  DeviceParams dp;
  dp.cell_levels = 16;  // 15 steps, digit step = 5 level steps
  dp.prog_error = true;
  dp.prog_sigma_us = 0.0;
  std::mt19937_64 rng(2);
  const Eigen::MatrixXi codes = random_codes(8, 2, -127, 127, rng);
  CrossbarArray a(dp, mp, 3), b(dp, mp, 3);
  a.load_codes(codes);
  b.load_codes(codes);
  a.program_ideal();
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 16; ++c) REQUIRE(b.set_conductance(r, c, b.target(r, c)));
  const Eigen::MatrixXi x = random_codes(3, 8, 0, 255, rng);
  REQUIRE(a.mvm(x).y == b.mvm(x).y);
  // A cell written off-grid is used as written (the write-verify loop owns accuracy).
  b.set_conductance(0, 0, b.conductance(0, 0) + 20.0);
  REQUIRE(b.mvm(x).y != a.mvm(x).y);
}

TEST_CASE("array read energy is sum of V^2 G t_read", "[crossbar][stats]") {
  MappingParams mp;
  mp.rows = 32;
  mp.cols = 32;
  mp.dac_bits = 2;
  DeviceParams dp;
  dp.prog_error = true;
  std::mt19937_64 rng(4);
  const Eigen::MatrixXi codes = random_codes(20, 3, -127, 127, rng);
  const Eigen::MatrixXi x = random_codes(2, 20, 0, 255, rng);
  CrossbarArray arr(dp, mp, 6);
  arr.load_codes(codes);
  arr.program_ideal();
  const MvmResult r = arr.mvm(x);
  double e = 0;
  const int used = mp.physical_columns(3);
  for (int b = 0; b < 2; ++b)
    for (int c = 0; c < mp.input_cycles(); ++c)
      for (int i = 0; i < 20; ++i) {
        const double v = mp.v_read / 3.0 * ((x(b, i) >> (2 * c)) & 3);
        for (int j = 0; j < used; ++j) e += v * v * arr.conductance(i, j) * dp.t_read_ns * 1e-3;
      }
  REQUIRE(r.stats.array_energy_pj == Approx(e).epsilon(1e-5));
  REQUIRE(r.stats.cell_reads == 2LL * 4 * 20 * used);
  REQUIRE(r.stats.active_cols == used);
}

TEST_CASE("same seed gives the same results", "[crossbar][determinism]") {
  DeviceParams dp;
  dp.prog_error = true;
  dp.read_noise = true;
  dp.stuck_at_gmin_rate = 0.01;
  MappingParams mp;
  std::mt19937_64 rng(12);
  const Eigen::MatrixXf w = random_weights(200, 40, rng);
  const Eigen::MatrixXi x = random_codes(5, 200, 0, 255, rng);
  auto run = [&](std::uint64_t seed) {
    TiledLayer l(w, mp, dp, seed);
    l.program_ideal();
    return l.mvm(x).y;
  };
  REQUIRE(run(1) == run(1));
  REQUIRE(run(1) != run(2));
}

TEST_CASE("signed inputs by two passes", "[crossbar][ideal]") {
  std::mt19937_64 rng(13);
  MappingParams mp;
  TiledLayer l(random_weights(40, 6, rng), mp, DeviceParams{}, 1);
  l.program_ideal();
  const Eigen::MatrixXi x = random_codes(3, 40, -255, 255, rng);
  IdealAdc adc;
  REQUIRE(l.mvm_signed(x, &adc).y == exact_dot(x, l.weights().codes));
  REQUIRE_THROWS_WITH(l.mvm(x), Contains("mvm_signed"));
}

TEST_CASE("validate rejects bad parameters naming the key", "[crossbar][validate]") {
  auto dev_throws = [](auto mutate, const char* key) {
    DeviceParams d;
    mutate(d);
    REQUIRE_THROWS_WITH(d.validate(), Contains(key));
  };
  dev_throws([](DeviceParams& d) { d.g_min_us = 400; }, "crossbar.device.g_min_us (400) must be < crossbar.device.g_max_us");
  dev_throws([](DeviceParams& d) { d.g_max_us = -1; }, "crossbar.device.g_max_us");
  dev_throws([](DeviceParams& d) { d.prog_sigma_us = -0.1; }, "crossbar.device.prog_sigma_us");
  dev_throws([](DeviceParams& d) { d.read_sigma_rel = -1e-4; }, "crossbar.device.read_sigma_rel");
  dev_throws([](DeviceParams& d) { d.stuck_at_gmin_rate = 1.5; }, "crossbar.device.stuck_at_gmin_rate");
  dev_throws([](DeviceParams& d) { d.stuck_at_gmax_rate = -0.1; }, "crossbar.device.stuck_at_gmax_rate");
  dev_throws([](DeviceParams& d) { d.stuck_at_gmin_rate = d.stuck_at_gmax_rate = 0.6; }, "must be <= 1");
  dev_throws([](DeviceParams& d) { d.cell_levels = 1; }, "crossbar.device.cell_levels");
  dev_throws([](DeviceParams& d) { d.drift_nu = -0.1; }, "crossbar.device.drift_nu");
  dev_throws([](DeviceParams& d) { d.drift_t0_s = 0; }, "crossbar.device.drift_t0_s");
  dev_throws([](DeviceParams& d) { d.t_read_ns = 0; }, "crossbar.device.t_read_ns");
  dev_throws([](DeviceParams& d) { d.g_min_us = NAN; }, "crossbar.device.g_min_us");

  auto map_throws = [](auto mutate, const char* key) {
    MappingParams m;
    mutate(m);
    REQUIRE_THROWS_WITH(m.validate(), Contains(key));
  };
  map_throws([](MappingParams& m) { m.weight_bits = 2; m.cell_bits = 4; }, "crossbar.cell_bits (4) > crossbar.weight_bits (2)");
  map_throws([](MappingParams& m) { m.rows = 0; }, "crossbar.rows");
  map_throws([](MappingParams& m) { m.cols = 4; }, "crossbar.cols (4) too small");
  map_throws([](MappingParams& m) { m.weight_bits = 1; }, "crossbar.weight_bits");
  map_throws([](MappingParams& m) { m.cell_bits = 0; }, "crossbar.cell_bits");
  map_throws([](MappingParams& m) { m.input_bits = 0; }, "crossbar.input_bits");
  map_throws([](MappingParams& m) { m.input_bits = 4; m.dac_bits = 5; }, "crossbar.dac_bits (5) > crossbar.input_bits (4)");
  map_throws([](MappingParams& m) { m.v_read = 0; }, "crossbar.v_read");

  DeviceParams d;
  MappingParams m;
  d.cell_levels = 3;
  REQUIRE_THROWS_WITH(validate(d, m), Contains("crossbar.device.cell_levels (3) < 2^crossbar.cell_bits"));
  d.cell_levels = 5;  // 4 steps, not a multiple of 3
  REQUIRE_THROWS_WITH(validate(d, m), Contains("multiple of 3"));
  // Custom prefixes follow the scenario's key path.
  MappingParams bad;
  bad.rows = -1;
  REQUIRE_THROWS_WITH(bad.validate("tiles[0].crossbar."), Contains("tiles[0].crossbar.rows"));
  // The array constructor validates too.
  REQUIRE_THROWS_AS(CrossbarArray(d, m, 1), std::invalid_argument);
}

// Cross-check the defaults against the paper's source data when ../shared is present.
TEST_CASE("defaults match the paper's device data", "[crossbar][reference]") {
  std::ifstream f(std::string(CIMVP_READC_DIR) + "/fig3_3c_variation.csv");
  if (!f) {
    WARN("reference data not present; skipped");
    return;
  }
  std::string line;
  std::getline(f, line);  // header
  double sum = 0, gmin = 1e9, gmax = 0;
  int n = 0;
  while (std::getline(f, line)) {
    std::stringstream ss(line);
    std::string a, b;
    std::getline(ss, a, ',');
    std::getline(ss, b, ',');
    gmin = std::min(gmin, std::stod(a));
    gmax = std::max(gmax, std::stod(a));
    sum += std::stod(b);
    ++n;
  }
  DeviceParams dp;
  REQUIRE(n == 7);
  REQUIRE(sum / n == Approx(dp.prog_sigma_us).margin(0.005));
  REQUIRE(gmin == dp.g_min_us);
  REQUIRE(gmax == dp.g_max_us);
}

// The ziggurat normal behind programming error and read noise: moments and tail mass.
TEST_CASE("normal generator matches N(0,1)", "[crossbar][rng]") {
  CrossbarArray arr(DeviceParams{}, MappingParams{}, 123);
  const int n = 2000000;
  double s1 = 0, s2 = 0, s4 = 0;
  long beyond2 = 0, beyond_r = 0;
  for (int i = 0; i < n; ++i) {
    const double z = arr.next_gauss();
    s1 += z;
    s2 += z * z;
    s4 += z * z * z * z;
    beyond2 += std::abs(z) > 2.0;
    beyond_r += std::abs(z) > 3.442619855899;  // the ziggurat's tail region
  }
  REQUIRE(std::abs(s1 / n) < 5.0 / std::sqrt(n));
  REQUIRE(s2 / n == Approx(1.0).epsilon(0.005));
  REQUIRE(s4 / n == Approx(3.0).epsilon(0.02));
  // P(|z| > 2) = 0.0455003, P(|z| > 3.4426) = 5.761e-4 (erfc).
  REQUIRE(double(beyond2) / n == Approx(std::erfc(2.0 / std::sqrt(2.0))).epsilon(0.02));
  REQUIRE(double(beyond_r) / n == Approx(std::erfc(3.442619855899 / std::sqrt(2.0))).epsilon(0.1));
}
