// Tests of the crossbar core's chunked, multi-threaded MVM and its block read-noise generator:
// bytes independent of the worker thread count, chunked conversion equal to whole-batch
// conversion, the block normals against N(0,1), and read noise against its closed form on the
// bit-serial (single product) path for both sign schemes (docs/crossbar.md, "Performance").
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "models/crossbar/crossbar.hpp"
#include "models/crossbar/parallel.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using namespace cimvp::crossbar;

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

bool same_bytes(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * std::size_t(a.size())) == 0;
}

// The ideal integer ADC, but asking for whole-batch calls (like a capturing ADC bank).
struct WholeBatchIdealAdc : AdcStage {
  IdealAdc inner;
  int calls = 0;
  void convert(Eigen::Ref<Eigen::MatrixXf> a, const AdcContext& ctx) override {
    ++calls;
    inner.convert(a, ctx);
  }
};

// Records the analog values (uA) of one (cycle, slice); whole-batch calls.
struct RecordingAdc : AdcStage {
  int cycle = 0, slice = 0;
  Eigen::MatrixXf recorded;
  void convert(Eigen::Ref<Eigen::MatrixXf> a, const AdcContext& ctx) override {
    if (ctx.input_cycle == cycle && ctx.slice == slice) recorded = a;
    a /= float(ctx.unit_current_ua);
  }
};

struct ThreadsGuard {
  unsigned saved = worker_threads();
  ~ThreadsGuard() { set_worker_threads(saved); }
};

}  // namespace

TEST_CASE("MVM bytes do not depend on the worker thread count", "[crossbar][parallel][determinism]") {
  ThreadsGuard guard;
  for (SignScheme sign : {SignScheme::Differential, SignScheme::OffsetColumn}) {
    DeviceParams dp;
    dp.prog_error = true;
    dp.read_noise = true;
    dp.read_sigma_rel = 2e-3;
    dp.stuck_at_gmin_rate = 0.01;
    MappingParams mp;
    mp.sign = sign;
    std::mt19937_64 rng(31);
    const Eigen::MatrixXf w = random_weights(300, 70, rng);
    const Eigen::MatrixXi x = random_codes(777, 300, 0, 255, rng);  // several chunks per array
    std::vector<Eigen::MatrixXd> ys;
    std::vector<double> energy;
    for (unsigned threads : {1u, 2u, 3u}) {
      set_worker_threads(threads);
      REQUIRE(worker_threads() == threads);
      TiledLayer l(w, mp, dp, 5);
      l.program_ideal();
      REQUIRE(l.array(0, 0).mvm_chunk_vectors() < 777);
      IdealAdc adc;
      MvmResult r1 = l.mvm(x, &adc);
      MvmResult r2 = l.mvm(x, &adc);  // the next call draws fresh noise
      REQUIRE(!same_bytes(r1.y, r2.y));
      ys.push_back(r1.y);
      ys.push_back(r2.y);
      energy.push_back(r1.stats.array_energy_pj);
    }
    INFO("sign " << int(sign));
    for (std::size_t i = 2; i < ys.size(); ++i) REQUIRE(same_bytes(ys[i], ys[i % 2]));
    REQUIRE(energy[1] == energy[0]);
    REQUIRE(energy[2] == energy[0]);
  }
}

TEST_CASE("chunked conversion equals whole-batch conversion", "[crossbar][parallel]") {
  ThreadsGuard guard;
  set_worker_threads(2);
  for (bool noise : {false, true}) {
    DeviceParams dp;
    dp.prog_error = true;
    dp.read_noise = noise;
    MappingParams mp;
    std::mt19937_64 rng(8);
    const Eigen::MatrixXf w = random_weights(128, 16, rng);
    const Eigen::MatrixXi x = random_codes(500, 128, 0, 255, rng);
    CrossbarArray a(dp, mp, 99), b(dp, mp, 99);
    const QuantizedWeights q = quantize_weights(w, mp);
    a.load_codes(q.codes);
    b.load_codes(q.codes);
    a.program_ideal();
    b.program_ideal();
    IdealAdc chunked;
    WholeBatchIdealAdc whole;
    REQUIRE(chunked.chunkable());
    REQUIRE_FALSE(whole.chunkable());
    const MvmResult ra = a.mvm(x, &chunked);
    const MvmResult rb = b.mvm(x, &whole);
    REQUIRE(whole.calls == mp.input_cycles() * mp.slices());  // one call per (cycle, slice)
    INFO("noise " << noise);
    REQUIRE(same_bytes(ra.y, rb.y));
    REQUIRE(ra.stats.array_energy_pj == rb.stats.array_energy_pj);
  }
}

TEST_CASE("ideal mode stays exact through chunks and threads", "[crossbar][parallel][ideal]") {
  ThreadsGuard guard;
  set_worker_threads(2);
  std::mt19937_64 rng(4);
  for (SignScheme sign : {SignScheme::Differential, SignScheme::OffsetColumn}) {
    MappingParams mp;
    mp.sign = sign;
    const Eigen::MatrixXi codes = random_codes(200, 37, -127, 127, rng);
    const Eigen::MatrixXi x = random_codes(1000, 200, 0, 255, rng);
    QuantizedWeights q;
    q.codes = codes;
    q.scales = Eigen::VectorXd::Ones(37);
    TiledLayer l(q, mp, DeviceParams{}, 1);
    l.program_ideal();
    IdealAdc adc;
    REQUIRE(l.mvm(x, &adc).y == exact_dot(x, codes));
    REQUIRE(l.mvm(x).y == exact_dot(x, codes));  // pass-through (no rounding) is exact too
  }
}

TEST_CASE("round_half_away equals std::round", "[crossbar][adc]") {
  std::vector<float> v = {0.f, -0.f, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 0.49999997f, -0.49999997f,
                          1.f, -1.f, 4194303.5f, -4194303.5f, 8388607.f, 8388607.5f, 8388608.f,
                          -8388608.f, 1e9f, -1e9f, 1e-30f, -1e-30f,
                          std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::denorm_min()};
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> d(-3000.f, 3000.f);
  for (int i = 0; i < 100000; ++i) v.push_back(d(rng));
  for (int i = -2000; i <= 2000; ++i) v.push_back(float(i) * 0.25f);
  for (float x : v) {
    INFO("x = " << x);
    const float a = round_half_away(x), b = std::round(x);
    REQUIRE(a == b);
    REQUIRE(std::signbit(a) == std::signbit(b));
  }
  REQUIRE(std::isnan(round_half_away(std::numeric_limits<float>::quiet_NaN())));
}

// Block normals: moments, tail masses (erfc), the Box-Muller pair structure (radius^2 of a
// pair is Exp(1/2)), no correlation between pair halves or neighbouring samples, distinct
// streams for distinct seeds.
TEST_CASE("block normals match N(0,1)", "[crossbar][rng]") {
  const std::size_t n = 4000001;  // odd: the last pair is half used
  std::vector<float> z(n);
  normal_fill(2024, z.data(), n);
  double s1 = 0, s2 = 0, s4 = 0;
  long b1 = 0, b2 = 0, b3 = 0, b4 = 0, below = 0;
  for (float f : z) {
    const double v = f;
    REQUIRE(std::isfinite(v));
    s1 += v;
    s2 += v * v;
    s4 += v * v * v * v;
    const double a = std::abs(v);
    b1 += a > 1.0;
    b2 += a > 2.0;
    b3 += a > 3.0;
    b4 += a > 4.0;
    below += v < -0.5;
  }
  const double N = double(n);
  REQUIRE(std::abs(s1 / N) < 5.0 / std::sqrt(N));
  REQUIRE(s2 / N == Approx(1.0).epsilon(0.004));
  REQUIRE(s4 / N == Approx(3.0).epsilon(0.015));
  auto tail = [](double t) { return std::erfc(t / std::sqrt(2.0)); };
  REQUIRE(b1 / N == Approx(tail(1.0)).epsilon(0.005));
  REQUIRE(b2 / N == Approx(tail(2.0)).epsilon(0.02));
  REQUIRE(b3 / N == Approx(tail(3.0)).epsilon(0.06));
  REQUIRE(b4 / N == Approx(tail(4.0)).epsilon(0.3));  // ~253 expected
  REQUIRE(below / N == Approx(0.5 * tail(0.5)).epsilon(0.005));
  // Pairs (z[i], z[i+h]) share a radius: r^2 ~ Exp(1/2), P(r^2 > 4) = e^-2.
  const std::size_t h = (n + 1) / 2;
  long r4 = 0;
  double c_pair = 0, c_next = 0;
  for (std::size_t i = 0; i + h < n; ++i) {
    const double a = z[i], b = z[i + h];
    r4 += a * a + b * b > 4.0;
    c_pair += a * b;
    c_next += double(z[i]) * z[i + 1];
  }
  const double m = double(n - h);
  REQUIRE(r4 / m == Approx(std::exp(-2.0)).epsilon(0.01));
  REQUIRE(std::abs(c_pair / m) < 5.0 / std::sqrt(m));
  REQUIRE(std::abs(c_next / m) < 5.0 / std::sqrt(m));
  std::vector<float> z2(1000), z2b(1000), z3(1000);
  normal_fill(2024, z2.data(), 1000);
  normal_fill(2024, z2b.data(), 1000);
  normal_fill(2025, z3.data(), 1000);
  REQUIRE(z2 == z2b);
  REQUIRE(z2 != z3);
}

// Bit-serial read noise goes through the single fused product (currents, variances, energy)
// and one normal per differential pair; the offset scheme keeps per-column noise, so two
// logical columns of a slice share their offset column's noise:
//   differential: var(a_j) = sigma^2 sum_i v_i (G+_ij^2 + G-_ij^2)
//   offset:       var(a_j) = sigma^2 sum_i v_i (G_ij^2 + G_io^2),  cov(a_j, a_k) = sigma^2 sum_i v_i G_io^2
TEST_CASE("bit-serial read noise matches the closed form, both sign schemes", "[crossbar][noise]") {
  ThreadsGuard guard;
  set_worker_threads(2);
  for (SignScheme sign : {SignScheme::Differential, SignScheme::OffsetColumn}) {
    MappingParams mp;
    mp.rows = 64;
    mp.cols = 40;
    mp.sign = sign;
    DeviceParams dp;
    dp.read_noise = true;
    dp.read_sigma_rel = 5e-4;
    std::mt19937_64 rng(sign == SignScheme::Differential ? 6 : 7);
    const int K = 64, N = 4, B = 8000;
    const Eigen::MatrixXi codes = random_codes(K, N, -127, 127, rng);
    const Eigen::MatrixXi x1 = random_codes(1, K, 0, 255, rng);
    const Eigen::MatrixXi x = x1.replicate(B, 1);
    CrossbarArray arr(dp, mp, 21);
    arr.load_codes(codes);
    arr.program_ideal();
    REQUIRE(arr.mvm_chunk_vectors() < B / 4);
    double pooled_emp = 0, pooled_closed = 0;
    for (int cyc : {0, 5})
      for (int sl : {0, 3}) {
        RecordingAdc rec;
        rec.cycle = cyc;
        rec.slice = sl;
        arr.mvm(x, &rec);
        REQUIRE(rec.recorded.rows() == B);
        Eigen::MatrixXd col = rec.recorded.cast<double>();
        col.rowwise() -= col.colwise().mean();
        const Eigen::MatrixXd cov = (col.transpose() * col) / (B - 1);
        const double v = mp.v_read;  // bit-serial: one DAC step is the full read voltage
        auto g = [&](int i, int c) { return double(arr.conductance(i, c)); };
        for (int j = 0; j < N; ++j) {
          double closed = 0;
          for (int i = 0; i < K; ++i) {
            if (!((x1(0, i) >> cyc) & 1)) continue;
            const double a = sign == SignScheme::Differential ? g(i, mp.column_of(j, sl, 1))
                                                              : g(i, mp.offset_column(N, sl));
            closed += v * v * (g(i, mp.column_of(j, sl, 0)) * g(i, mp.column_of(j, sl, 0)) + a * a);
          }
          closed *= dp.read_sigma_rel * dp.read_sigma_rel;
          INFO("sign " << int(sign) << " cycle " << cyc << " slice " << sl << " col " << j << " emp "
                       << cov(j, j) << " closed " << closed);
          REQUIRE(std::abs(cov(j, j) / closed - 1.0) < 0.08);  // B = 8000: ~1.6 % std
          pooled_emp += cov(j, j);
          pooled_closed += closed;
        }
        // Cross-covariance of columns 0 and 1: the shared offset column, or nothing.
        double shared = 0;
        if (sign == SignScheme::OffsetColumn)
          for (int i = 0; i < K; ++i)
            if ((x1(0, i) >> cyc) & 1) shared += v * v * g(i, mp.offset_column(N, sl)) * g(i, mp.offset_column(N, sl));
        shared *= dp.read_sigma_rel * dp.read_sigma_rel;
        const double scale = std::sqrt(cov(0, 0) * cov(1, 1));
        INFO("cov01 " << cov(0, 1) << " closed " << shared << " scale " << scale);
        REQUIRE(std::abs(cov(0, 1) - shared) < 0.06 * scale);  // correlation error < 0.06 (~5 sigma)
      }
    REQUIRE(std::abs(pooled_emp / pooled_closed - 1.0) < 0.03);
  }
}
