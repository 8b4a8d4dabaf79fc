#include "models/crossbar/crossbar.hpp"

#include "models/crossbar/bitplane_product.hpp"
#include "models/crossbar/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace cimvp::crossbar {

namespace {

[[noreturn]] void bad(const std::string& msg) { throw std::invalid_argument(msg); }

template <class T>
std::string str(T v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

void require_finite(double v, const std::string& key) {
  if (!std::isfinite(v)) bad(key + " must be a finite number (got " + str(v) + ")");
}

void require_range(double v, double lo, double hi, const std::string& key,
                   const std::string& what) {
  require_finite(v, key);
  if (v < lo || v > hi) bad(key + " (" + str(v) + ") " + what);
}

void require_int(int v, int lo, int hi, const std::string& key) {
  if (v < lo || v > hi)
    bad(key + " (" + str(v) + ") must be in [" + str(lo) + ", " + str(hi) + "]");
}

inline std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

void DeviceParams::validate(const std::string& p) const {
  require_range(g_min_us, 0.0, 1e6, p + "g_min_us", "must be in [0, 1e6] uS");
  require_range(g_max_us, 0.0, 1e6, p + "g_max_us", "must be in [0, 1e6] uS");
  if (g_min_us >= g_max_us)
    bad(p + "g_min_us (" + str(g_min_us) + ") must be < " + p + "g_max_us (" + str(g_max_us) +
        ")");
  if (cell_levels != 0) require_int(cell_levels, 2, 65536, p + "cell_levels (0 = continuous)");
  require_range(prog_sigma_us, 0.0, 1e6, p + "prog_sigma_us", "must be >= 0");
  require_range(read_sigma_rel, 0.0, 1.0, p + "read_sigma_rel", "must be in [0, 1]");
  require_range(drift_nu, 0.0, 1.0, p + "drift_nu", "must be in [0, 1]");
  require_finite(drift_t0_s, p + "drift_t0_s");
  if (drift_t0_s <= 0) bad(p + "drift_t0_s (" + str(drift_t0_s) + ") must be > 0");
  require_range(stuck_at_gmin_rate, 0.0, 1.0, p + "stuck_at_gmin_rate", "must be in [0, 1]");
  require_range(stuck_at_gmax_rate, 0.0, 1.0, p + "stuck_at_gmax_rate", "must be in [0, 1]");
  if (stuck_at_gmin_rate + stuck_at_gmax_rate > 1.0)
    bad(p + "stuck_at_gmin_rate + " + p + "stuck_at_gmax_rate (" +
        str(stuck_at_gmin_rate + stuck_at_gmax_rate) + ") must be <= 1");
  require_finite(t_read_ns, p + "t_read_ns");
  if (t_read_ns <= 0) bad(p + "t_read_ns (" + str(t_read_ns) + ") must be > 0");
}

int MappingParams::slices() const {
  const int mag_bits = sign == SignScheme::Differential ? weight_bits - 1 : weight_bits;
  return (mag_bits + cell_bits - 1) / cell_bits;
}

int MappingParams::input_cycles() const { return (input_bits + dac_bits - 1) / dac_bits; }

int MappingParams::physical_columns(int n) const {
  const int s = slices();
  return sign == SignScheme::Differential ? 2 * s * n : s * n + s;
}

int MappingParams::max_logical_columns() const {
  const int s = slices();
  return sign == SignScheme::Differential ? cols / (2 * s) : std::max(0, (cols - s) / s);
}

int MappingParams::column_of(int j, int s, int polarity) const {
  const int S = slices();
  return sign == SignScheme::Differential ? j * 2 * S + 2 * s + polarity : j * S + s;
}

int MappingParams::offset_column(int n, int s) const { return n * slices() + s; }

int MappingParams::offset_digit(int s) const {
  return ((1 << (weight_bits - 1)) >> (s * cell_bits)) & ((1 << cell_bits) - 1);
}

void MappingParams::validate(const std::string& p) const {
  require_int(rows, 1, 1 << 16, p + "rows");
  require_int(cols, 1, 1 << 16, p + "cols");
  require_int(weight_bits, 2, 16, p + "weight_bits");
  require_int(cell_bits, 1, 8, p + "cell_bits");
  if (cell_bits > weight_bits)
    bad(p + "cell_bits (" + str(cell_bits) + ") > " + p + "weight_bits (" + str(weight_bits) +
        "): a weight cannot use less than one cell");
  require_int(input_bits, 1, 16, p + "input_bits");
  require_int(dac_bits, 1, 8, p + "dac_bits");
  if (dac_bits > input_bits)
    bad(p + "dac_bits (" + str(dac_bits) + ") > " + p + "input_bits (" + str(input_bits) + ")");
  require_range(v_read, 1e-6, 5.0, p + "v_read", "must be in (0, 5] V");
  if (max_logical_columns() < 1)
    bad(p + "cols (" + str(cols) + ") too small: one logical column needs " +
        str(physical_columns(1)) + " physical columns with weight_bits " + str(weight_bits) +
        ", cell_bits " + str(cell_bits) + "; raise cols or cell_bits");
}

void validate(const DeviceParams& dev, const MappingParams& map, const std::string& dp,
              const std::string& mp) {
  dev.validate(dp);
  map.validate(mp);
  if (dev.cell_levels != 0) {
    const int need = 1 << map.cell_bits;
    if (dev.cell_levels < need)
      bad(dp + "cell_levels (" + str(dev.cell_levels) + ") < 2^" + mp + "cell_bits (" +
          str(need) + ")");
    if ((dev.cell_levels - 1) % (need - 1) != 0)
      bad(dp + "cell_levels (" + str(dev.cell_levels) + "): cell_levels-1 must be a multiple of " +
          str(need - 1) + " (2^" + mp + "cell_bits - 1) so digit levels are device levels");
  }
}

// ---------------------------------------------------------------------------------------------
// Quantisation and mapping
// ---------------------------------------------------------------------------------------------

QuantizedWeights quantize_weights(const Eigen::MatrixXf& w, const MappingParams& map) {
  map.validate();
  if (w.size() == 0) bad("quantize_weights: weight matrix is empty");
  if (!w.allFinite()) bad("quantize_weights: weight matrix has non-finite values");
  const int qmax = map.max_weight_code();
  QuantizedWeights q;
  q.scales.resize(w.cols());
  const double layer_max = w.cwiseAbs().maxCoeff();
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    const double m = map.per_column_scale ? double(w.col(j).cwiseAbs().maxCoeff()) : layer_max;
    q.scales[j] = m > 0 ? m / qmax : 1.0;
  }
  q.codes.resize(w.rows(), w.cols());
  for (Eigen::Index j = 0; j < w.cols(); ++j)
    for (Eigen::Index i = 0; i < w.rows(); ++i) {
      const long c = std::lround(double(w(i, j)) / q.scales[j]);
      q.codes(i, j) = int(std::clamp<long>(c, -qmax, qmax));
    }
  return q;
}

MappedBlock map_codes(const Eigen::MatrixXi& codes, const MappingParams& map,
                      const DeviceParams& dev) {
  validate(dev, map);
  const int K = int(codes.rows()), N = int(codes.cols());
  if (K < 1 || N < 1) bad("map_codes: empty code block");
  if (K > map.rows)
    bad("map_codes: block has " + str(K) + " rows > crossbar.rows (" + str(map.rows) +
        "); split the layer (TiledLayer)");
  if (N > map.max_logical_columns())
    bad("map_codes: block has " + str(N) + " logical columns needing " +
        str(map.physical_columns(N)) + " physical columns > crossbar.cols (" + str(map.cols) +
        "); at most " + str(map.max_logical_columns()) + " fit, split the layer (TiledLayer)");
  const int qmax = map.max_weight_code();
  if (codes.maxCoeff() > qmax || codes.minCoeff() < -qmax)
    bad("map_codes: weight codes must be in [" + str(-qmax) + ", " + str(qmax) +
        "] for crossbar.weight_bits " + str(map.weight_bits));

  const int S = map.slices(), cb = map.cell_bits, mask = (1 << cb) - 1;
  const double dg = (dev.g_max_us - dev.g_min_us) / mask;
  MappedBlock b;
  b.k = K;
  b.n = N;
  b.used_cols = map.physical_columns(N);
  b.codes = codes;
  b.targets_us = Eigen::MatrixXf::Constant(map.rows, map.cols, float(dev.g_min_us));
  auto level = [&](int d) { return float(dev.g_min_us + d * dg); };
  for (int j = 0; j < N; ++j)
    for (int i = 0; i < K; ++i) {
      const int q = codes(i, j);
      if (map.sign == SignScheme::Differential) {
        const int mag = std::abs(q);
        for (int s = 0; s < S; ++s) {
          const int d = (mag >> (s * cb)) & mask;
          b.targets_us(i, map.column_of(j, s, q < 0 ? 1 : 0)) = level(d);
        }
      } else {
        const int u = q + (1 << (map.weight_bits - 1));  // offset binary, in [1, 2^wb - 1]
        for (int s = 0; s < S; ++s) b.targets_us(i, map.column_of(j, s)) = level((u >> (s * cb)) & mask);
      }
    }
  if (map.sign == SignScheme::OffsetColumn)
    for (int s = 0; s < S; ++s)
      b.targets_us.col(map.offset_column(N, s)).head(K).setConstant(level(map.offset_digit(s)));
  return b;
}

// ---------------------------------------------------------------------------------------------
// ADC stages
// ---------------------------------------------------------------------------------------------

void PassThroughAdc::convert(Eigen::Ref<Eigen::MatrixXf> a, const AdcContext& ctx) {
  a *= float(1.0 / ctx.unit_current_ua);
}

void IdealAdc::convert(Eigen::Ref<Eigen::MatrixXf> a, const AdcContext& ctx) {
  const float inv = float(1.0 / ctx.unit_current_ua);
  for (Eigen::Index j = 0; j < a.cols(); ++j) {
    float* col = a.col(j).data();
    for (Eigen::Index i = 0; i < a.rows(); ++i) col[i] = round_half_away(col[i] * inv);
  }
}

MvmStats& MvmStats::operator+=(const MvmStats& o) {
  vectors = std::max(vectors, o.vectors);
  input_cycles = std::max(input_cycles, o.input_cycles);
  slices = std::max(slices, o.slices);
  active_rows += o.active_rows;
  active_cols += o.active_cols;
  adc_conversions += o.adc_conversions;
  cell_reads += o.cell_reads;
  array_energy_pj += o.array_energy_pj;
  return *this;
}

// ---------------------------------------------------------------------------------------------
// CrossbarArray
// ---------------------------------------------------------------------------------------------

CrossbarArray::CrossbarArray(const DeviceParams& dev, const MappingParams& map,
                             std::uint64_t seed)
    : dev_(dev), map_(map) {
  validate(dev_, map_);
  std::uint64_t sm = seed;
  for (auto& s : rng_state_) s = splitmix64(sm);
  // A fresh array: every cell at g_min (assumption), then manufacturing defects.
  g0_ = Eigen::MatrixXf::Constant(map_.rows, map_.cols, float(dev_.g_min_us));
  // The defect map is kept only when there can be defects (empty = none stuck).
  if (dev_.stuck_at_gmin_rate > 0 || dev_.stuck_at_gmax_rate > 0) {
    stuck_.assign(std::size_t(map_.rows) * map_.cols, 0);
    for (std::size_t idx = 0; idx < stuck_.size(); ++idx) {
      const double u = next_uniform();
      if (u < dev_.stuck_at_gmin_rate) {
        stuck_[idx] = std::uint8_t(StuckState::AtGmin);
        g0_.data()[idx] = float(dev_.g_min_us);
      } else if (u < dev_.stuck_at_gmin_rate + dev_.stuck_at_gmax_rate) {
        stuck_[idx] = std::uint8_t(StuckState::AtGmax);
        g0_.data()[idx] = float(dev_.g_max_us);
      }
    }
  }
}

std::uint64_t CrossbarArray::next_u64() {  // xoshiro256**
  std::uint64_t* s = rng_state_;
  const std::uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return r;
}

double CrossbarArray::next_uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }

namespace {
// Ziggurat tables for the standard normal (Marsaglia & Tsang 2000, 128 layers). Exact
// rejection sampler, ~4x faster than Box-Muller here, which matters because read noise draws
// one normal per column read.
struct ZigguratTables {
  std::uint32_t kn[128];
  double wn[128], fn[128];
  ZigguratTables() {
    const double m1 = 2147483648.0;
    double dn = 3.442619855899, tn = dn;
    const double vn = 9.91256303526217e-3;
    const double q = vn / std::exp(-0.5 * dn * dn);
    kn[0] = std::uint32_t((dn / q) * m1);
    kn[1] = 0;
    wn[0] = q / m1;
    wn[127] = dn / m1;
    fn[0] = 1.0;
    fn[127] = std::exp(-0.5 * dn * dn);
    for (int i = 126; i >= 1; --i) {
      dn = std::sqrt(-2.0 * std::log(vn / dn + std::exp(-0.5 * dn * dn)));
      kn[i + 1] = std::uint32_t((dn / tn) * m1);
      tn = dn;
      fn[i] = std::exp(-0.5 * dn * dn);
      wn[i] = dn / m1;
    }
  }
};
const ZigguratTables& zig() {
  static const ZigguratTables t;
  return t;
}
}  // namespace

double CrossbarArray::next_gauss() {
  const ZigguratTables& z = zig();
  constexpr double r = 3.442619855899;
  for (;;) {
    // Layer index and value from disjoint bits (avoids the original's index/sign correlation).
    const std::uint64_t u = next_u64();
    const std::int32_t hz = std::int32_t(std::uint32_t(u));
    const int iz = int((u >> 32) & 127);
    const std::uint32_t ahz = hz < 0 ? std::uint32_t(-std::int64_t(hz)) : std::uint32_t(hz);
    const double x = hz * z.wn[iz];
    if (ahz < z.kn[iz]) return x;
    if (iz == 0) {  // tail beyond r
      double xt, yt;
      do {
        xt = -std::log(1.0 - next_uniform()) / r;
        yt = -std::log(1.0 - next_uniform());
      } while (yt + yt < xt * xt);
      return hz > 0 ? r + xt : -r - xt;
    }
    if (z.fn[iz] + next_uniform() * (z.fn[iz - 1] - z.fn[iz]) < std::exp(-0.5 * x * x)) return x;
  }
}

void CrossbarArray::load(const MappedBlock& b) {
  if (b.targets_us.rows() != map_.rows || b.targets_us.cols() != map_.cols)
    bad("CrossbarArray::load: block targets are " + str(b.targets_us.rows()) + "x" +
        str(b.targets_us.cols()) + ", array is " + str(map_.rows) + "x" + str(map_.cols));
  if (b.k < 1 || b.k > map_.rows || b.n < 1 || b.used_cols > map_.cols)
    bad("CrossbarArray::load: block shape does not fit the array");
  block_ = b;
  dirty_ = true;
}

void CrossbarArray::load_codes(const Eigen::MatrixXi& codes) { load(map_codes(codes, map_, dev_)); }

void CrossbarArray::program_ideal() {
  if (block_.k == 0) throw std::runtime_error("CrossbarArray::program_ideal: call load() first");
  const double gmin = dev_.g_min_us, gmax = dev_.g_max_us;
  const double lstep = dev_.cell_levels > 0 ? (gmax - gmin) / (dev_.cell_levels - 1) : 0.0;
  for (Eigen::Index idx = 0; idx < g0_.size(); ++idx) {
    double g = block_.targets_us.data()[idx];
    if (lstep > 0) g = gmin + std::round((g - gmin) / lstep) * lstep;
    // Draw for every cell (stuck or not) so the stream does not depend on the defect map.
    if (dev_.prog_error) g += dev_.prog_sigma_us * next_gauss();
    if (dev_.clip) g = std::clamp(g, gmin, gmax);
    // Physics, not clipping: a conductance cannot be negative. With clip off a cell may
    // overshoot its window (as real devices do, fig3_3c: 95..404 uS) but not go below 0.
    g = std::max(g, 0.0);
    switch (stuck_.empty() ? StuckState::None : StuckState(stuck_[std::size_t(idx)])) {
      case StuckState::AtGmin: g = gmin; break;
      case StuckState::AtGmax: g = gmax; break;
      default: break;
    }
    g0_.data()[idx] = float(g);
  }
  t_s_ = 0.0;
  dirty_ = true;
}

void CrossbarArray::check_cell(int r, int c) const {
  if (r < 0 || r >= map_.rows || c < 0 || c >= map_.cols)
    throw std::out_of_range("crossbar cell (" + str(r) + ", " + str(c) + ") outside the " +
                            str(map_.rows) + "x" + str(map_.cols) + " array");
}

double CrossbarArray::target(int r, int c) const {
  check_cell(r, c);
  if (block_.k == 0) return dev_.g_min_us;
  return block_.targets_us(r, c);
}

double CrossbarArray::conductance(int r, int c) const {
  check_cell(r, c);
  return g0_(r, c);
}

double CrossbarArray::effective_conductance(int r, int c) const {
  check_cell(r, c);
  if (dirty_) const_cast<CrossbarArray*>(this)->refresh_effective();
  return g_.size() ? g_(r, c) : g0_(r, c);  // g_ is empty while nothing has drifted
}

bool CrossbarArray::set_conductance(int r, int c, double g) {
  check_cell(r, c);
  if (!std::isfinite(g) || g < 0)
    bad("CrossbarArray::set_conductance: g (" + str(g) + " uS) must be finite and >= 0");
  if (!stuck_.empty() && stuck_[std::size_t(c) * map_.rows + r] != 0) return false;
  g0_(r, c) = float(g);
  dirty_ = true;
  return true;
}

StuckState CrossbarArray::stuck(int r, int c) const {
  check_cell(r, c);
  return stuck_.empty() ? StuckState::None : StuckState(stuck_[std::size_t(c) * map_.rows + r]);
}

std::int64_t CrossbarArray::stuck_count(StuckState s) const {
  if (stuck_.empty()) return s == StuckState::None ? std::int64_t(map_.rows) * map_.cols : 0;
  return std::count(stuck_.begin(), stuck_.end(), std::uint8_t(s));
}

void CrossbarArray::set_time_since_program(double t) {
  if (!std::isfinite(t) || t < 0)
    bad("CrossbarArray::set_time_since_program: t (" + str(t) + " s) must be finite and >= 0");
  t_s_ = t;
  dirty_ = true;
}

void CrossbarArray::refresh_effective() {
  // Effective = as programmed unless drift applies; then g_ holds the drifted copy (a chip has
  // thousands of arrays, so the copy is kept only when it differs).
  if (dev_.drift && dev_.drift_nu > 0 && t_s_ > dev_.drift_t0_s) {
    g_ = g0_;
    const float f = float(std::pow(t_s_ / dev_.drift_t0_s, -dev_.drift_nu));
    for (Eigen::Index idx = 0; idx < g_.size(); ++idx)
      if (stuck_.empty() || stuck_[std::size_t(idx)] == 0) g_.data()[idx] *= f;  // stuck cells do not drift
  } else {
    g_.resize(0, 0);
  }
  const Eigen::MatrixXf& ge = g_.size() ? g_ : g0_;  // g_ is empty while nothing has drifted
  const int K = std::max(block_.k, 0), U = std::max(block_.used_cols, 0), N = block_.n;
  const int S = map_.slices();
  const bool diff = map_.sign == SignScheme::Differential;
  const bool noise = dev_.read_noise && dev_.read_sigma_rel > 0;
  rhs_cur_cols_ = diff ? N * S : U;
  rhs_noise_cols_ = noise ? (diff ? N * S : U) : 0;
  const int Uc = rhs_cur_cols_, Un = rhs_noise_cols_;
  rhs_.resize(K, Uc + Un + 1);
  if (K > 0) {
    const float gmin = float(dev_.g_min_us);
    if (diff) {
      // The converter sees I+ - I- only: by linearity one column of (G+ - g_min) - (G- - g_min)
      // per pair gives it directly (half the product of separate G+ and G- columns).
      for (int j = 0; j < N; ++j)
        for (int s = 0; s < S; ++s) {
          const auto gp = ge.col(map_.column_of(j, s, 0)).head(K).array();
          const auto gn = ge.col(map_.column_of(j, s, 1)).head(K).array();
          rhs_.col(j * S + s) = (gp - gmin) - (gn - gmin);
          if (noise) rhs_.col(Uc + j * S + s) = gp.square() + gn.square();
        }
    } else {
      rhs_.leftCols(U) = ge.topLeftCorner(K, U).array() - gmin;
      if (noise) rhs_.middleCols(U, U) = ge.topLeftCorner(K, U).array().square();
    }
    rhs_.col(Uc + Un) = ge.topLeftCorner(K, U).rowwise().sum();
  }
  const int ut = Uc + Un + 1;
  rhs_stride_ = (ut + 7) / 8 * 8;
  rhs_rows_.assign(std::size_t(K) * rhs_stride_, 0.0f);
  for (int k = 0; k < K; ++k)
    for (int j = 0; j < ut; ++j) rhs_rows_[std::size_t(k) * rhs_stride_ + j] = rhs_(k, j);
  dirty_ = false;
}

double CrossbarArray::conductance_step_us() const {
  return (dev_.g_max_us - dev_.g_min_us) / ((1 << map_.cell_bits) - 1);
}

double CrossbarArray::unit_current_ua() const {
  // V in volts times G in uS gives uA.
  return map_.v_read / ((1 << map_.dac_bits) - 1) * conductance_step_us();
}

// ---------------------------------------------------------------------------------------------
// Scratch buffers
// ---------------------------------------------------------------------------------------------

namespace {

// Grow-only float buffer (capacity kept between calls, so no allocation in steady state).
float* scratch(std::vector<float>& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// MVM
// ---------------------------------------------------------------------------------------------

int CrossbarArray::mvm_chunk_vectors() const {
  // ~64K floats of matrix-product operands per chunk (V rows x (K + RHS columns)), so a chunk's
  // working set stays in L2, but at least 128 product rows so the GEMM stays efficient and its
  // right-hand-side packing is amortised. Depends on the mapping and block shape only.
  const int C = map_.input_cycles();
  const int U = std::max(block_.used_cols, 1), K = std::max(block_.k, 1);
  const bool diff = map_.sign == SignScheme::Differential;
  const bool noise = dev_.read_noise && dev_.read_sigma_rel > 0;
  const int uc = diff ? block_.n * map_.slices() : U;
  const int cols = uc + (noise ? uc : 0) + 1;
  const int rows = std::clamp(131072 / (K + cols), 128, 1024);
  const int v = std::max(1, rows / C);
  return v >= 16 ? v / 8 * 8 : v;  // whole SIMD vectors per cycle block
}

namespace {
// Per-thread scratch of one chunk (grow-only, reused across calls and arrays).
struct ChunkScratch {
  std::vector<float> v, vsq, p, z, a, off, rows;
  std::vector<std::uint16_t> idx;
  std::vector<std::uint32_t> count;
};
thread_local ChunkScratch tls_chunk;
// The calling thread's store for whole-batch (non-chunkable) conversions.
thread_local std::vector<float> tls_full;
}  // namespace

MvmResult CrossbarArray::mvm(const Eigen::MatrixXi& x, AdcStage* adc) {
  if (block_.k == 0) throw std::runtime_error("CrossbarArray::mvm: call load() first");
  const int B = int(x.rows()), K = block_.k, N = block_.n, U = block_.used_cols;
  if (x.cols() != K)
    bad("CrossbarArray::mvm: input has " + str(x.cols()) + " columns, the loaded block has " +
        str(K) + " rows");
  if (B > 0 && (x.minCoeff() < 0 || x.maxCoeff() > map_.max_input_code()))
    bad("CrossbarArray::mvm: input codes must be in [0, " + str(map_.max_input_code()) +
        "] (crossbar.input_bits " + str(map_.input_bits) +
        "); use TiledLayer::mvm_signed for signed inputs");
  if (dirty_) refresh_effective();

  const int C = map_.input_cycles(), S = map_.slices(), D = map_.dac_bits;
  const int dmask = (1 << D) - 1;
  const double vstep = map_.v_read / dmask;
  MvmResult res;
  res.y = Eigen::MatrixXd::Zero(B, N);
  MvmStats& st = res.stats;
  st.vectors = B;
  st.input_cycles = C;
  st.slices = S;
  st.active_rows = K;
  st.active_cols = U;
  st.adc_conversions = std::int64_t(B) * C * S * N;
  st.cell_reads = std::int64_t(B) * C * K * U;
  if (B == 0) return res;

  PassThroughAdc pass;
  AdcStage& stage = adc ? *adc : static_cast<AdcStage&>(pass);
  const bool chunked = stage.chunkable();
  const bool bit_serial = (D == 1);  // v in {0,1}: v^2 == v, one product does everything
  const bool diff = map_.sign == SignScheme::Differential;
  const int Uc = rhs_cur_cols_, Un = rhs_noise_cols_;
  const int Ut = Uc + Un + 1;  // product columns: currents, noise variances, energy
  const float sigma = float(dev_.read_sigma_rel);
  const float fv = float(vstep);
  // One draw from the array's stream per noisy call keys the chunks' generators.
  const std::uint64_t call_key = Un > 0 ? next_u64() : 0;

  AdcContext ctx0;
  ctx0.unit_current_ua = unit_current_ua();
  ctx0.full_scale_digits = double(K) * ((1 << map_.cell_bits) - 1) * dmask;

  const int bc_max = mvm_chunk_vectors();
  const int nchunks = (B + bc_max - 1) / bc_max;
  std::vector<double> energy(std::size_t(nchunks), 0.0);
  float* full = chunked ? nullptr : scratch(tls_full, std::size_t(B) * N * C * S);
  Eigen::MatrixXd& Y = res.y;
  const Eigen::MatrixXf& R = rhs_;

  auto run_chunk = [&](std::size_t q) {
    ChunkScratch& t = tls_chunk;
    const int b0 = int(q) * bc_max, bc = std::min(bc_max, B - b0);
    const int ld = C * bc;  // product rows: cycle c, vector b at row c*bc + b
    Eigen::Map<Eigen::MatrixXf> P(scratch(t.p, std::size_t(ld) * Ut), ld, Ut);
    // Kirchhoff: column current / vstep = sum_i steps_i * G_i, for all cycles and columns in
    // one product; the variance and energy columns ride along (v^2 == v when bit-serial).
    if (bit_serial) {
      // Product row c*bc + b sums the rows k whose input bit c is set (ascending k).
      if (t.idx.size() < std::size_t(ld) * K) t.idx.resize(std::size_t(ld) * K);
      t.count.assign(std::size_t(ld), 0);
      std::uint16_t* idx = t.idx.data();
      std::uint32_t* cnt = t.count.data();
      for (int k = 0; k < K; ++k) {
        const int* src = x.data() + std::size_t(k) * B + b0;
        for (int b = 0; b < bc; ++b)
          for (unsigned bits = unsigned(src[b]); bits != 0; bits &= bits - 1) {
            const int row = __builtin_ctz(bits) * bc + b;
            idx[std::size_t(row) * K + cnt[row]++] = std::uint16_t(k);
          }
      }
      bitplane_product(idx, std::size_t(K), cnt, ld, rhs_rows_.data(), rhs_stride_, Ut, P.data(),
                       std::size_t(ld), scratch(t.rows, std::size_t(8) * rhs_stride_));
    } else {
      // Input chunks in DAC steps (0..2^D-1), all cycles stacked.
      float* v = scratch(t.v, std::size_t(ld) * K);
      for (int k = 0; k < K; ++k) {
        const int* src = x.data() + std::size_t(k) * B + b0;
        for (int c = 0; c < C; ++c) {
          float* dst = v + std::size_t(k) * ld + std::size_t(c) * bc;
          const int sh = c * D;
          for (int b = 0; b < bc; ++b) dst[b] = float((src[b] >> sh) & dmask);
        }
      }
      Eigen::Map<const Eigen::MatrixXf> V(v, ld, K);
      Eigen::Map<Eigen::MatrixXf> VSQ(scratch(t.vsq, std::size_t(ld) * K), ld, K);
      VSQ = V.array().square();
      P.leftCols(Uc).noalias() = V * R.leftCols(Uc);
      P.rightCols(Un + 1).noalias() = VSQ * R.rightCols(Un + 1);
    }
    energy[q] = double(P.col(Uc + Un).sum());

    // Read noise: per-cell G(1+eps) per read sums to a column noise N(0, sigma^2 sum_i v_i^2
    // G_i^2). The converter sees only I+ - I- of a differential pair, whose noise is
    // N(0, sigma^2 sum_i v_i^2 (G+_i^2 + G-_i^2)): one normal per pair and read is exact in
    // distribution. The offset scheme's shared offset column keeps its own noise (its
    // correlation across the slice's columns is real), so there every column gets one.
    float* z = nullptr;
    if (Un > 0) {
      z = scratch(t.z, std::size_t(ld) * Un);
      normal_fill(call_key ^ (0xD1B54A32D192ED03ull * (q + 1)), z, std::size_t(ld) * Un);
    }
    // Analog values of every slice for all cycles of the chunk at once (long contiguous
    // segments): A_s is ld x N, row c*bc + b.
    const float* p = P.data();
    float* a = scratch(t.a, std::size_t(ld) * N * S);
    float* off = diff ? nullptr : scratch(t.off, std::size_t(ld));
    using CMap = Eigen::Map<const Eigen::ArrayXf>;
    for (int s = 0; s < S; ++s) {
      float* as = a + std::size_t(s) * ld * N;
      if (!diff) {
        const std::size_t oc = std::size_t(map_.offset_column(N, s));
        Eigen::Map<Eigen::ArrayXf> o(off, ld);
        o = CMap(p + oc * ld, ld);
        if (Un > 0) o += sigma * CMap(p + (Uc + oc) * ld, ld).max(0.f).sqrt() * CMap(z + oc * ld, ld);
      }
      for (int j = 0; j < N; ++j) {
        Eigen::Map<Eigen::ArrayXf> aj(as + std::size_t(j) * ld, ld);
        if (diff) {
          const std::size_t nc = std::size_t(j) * S + s;  // the pair's difference column
          CMap d(p + nc * ld, ld);
          if (Un > 0)
            aj = fv * (d + sigma * CMap(p + (Uc + nc) * ld, ld).max(0.f).sqrt() * CMap(z + nc * ld, ld));
          else
            aj = fv * d;
        } else {
          const std::size_t pc = std::size_t(map_.column_of(j, s, 0));
          CMap pos(p + pc * ld, ld), o(off, ld);
          if (Un > 0)
            aj = fv * ((pos + sigma * CMap(p + (Uc + pc) * ld, ld).max(0.f).sqrt() * CMap(z + pc * ld, ld)) - o);
          else
            aj = fv * (pos - o);
        }
      }
    }
    // Conversion and shift-and-add, cycles outer, slices inner.
    using Blk = Eigen::Map<Eigen::MatrixXf, 0, Eigen::OuterStride<>>;
    for (int c = 0; c < C; ++c)
      for (int s = 0; s < S; ++s) {
        Blk blk(a + std::size_t(s) * ld * N + std::size_t(c) * bc, bc, N, Eigen::OuterStride<>(ld));
        if (chunked) {
          AdcContext ctx = ctx0;
          ctx.input_cycle = c;
          ctx.slice = s;
          stage.convert(blk, ctx);
          const double w = std::ldexp(1.0, c * D + s * map_.cell_bits);
          Y.middleRows(b0, bc) += w * blk.cast<double>();
        } else {
          Eigen::Map<Eigen::MatrixXf, 0, Eigen::OuterStride<>> dst(
              full + std::size_t(c * S + s) * B * N + b0, bc, N, Eigen::OuterStride<>(B));
          dst = blk;
        }
      }
  };
  parallel_for(std::size_t(nchunks), run_chunk);

  if (!chunked) {
    // Whole-batch conversions, cycles outer, slices inner, on the calling thread.
    for (int c = 0; c < C; ++c)
      for (int s = 0; s < S; ++s) {
        AdcContext ctx = ctx0;
        ctx.input_cycle = c;
        ctx.slice = s;
        Eigen::Map<Eigen::MatrixXf> am(full + std::size_t(c * S + s) * B * N, B, N);
        stage.convert(am, ctx);
        const double w = std::ldexp(1.0, c * D + s * map_.cell_bits);
        Y += w * am.cast<double>();
      }
  }

  // Array read energy: sum over reads of V^2 * G * t_read; uS * V^2 * ns = fJ -> 1e-3 pJ.
  double sum_v2g = 0;
  for (double e : energy) sum_v2g += e;  // chunk order: independent of the thread count
  st.array_energy_pj = sum_v2g * vstep * vstep * dev_.t_read_ns * 1e-3;
  return res;
}

// ---------------------------------------------------------------------------------------------
// TiledLayer
// ---------------------------------------------------------------------------------------------

TiledLayer::TiledLayer(const Eigen::MatrixXf& w, const MappingParams& map,
                       const DeviceParams& dev, std::uint64_t seed)
    : q_(quantize_weights(w, map)) {
  build(map, dev, seed);
}

TiledLayer::TiledLayer(const QuantizedWeights& q, const MappingParams& map,
                       const DeviceParams& dev, std::uint64_t seed)
    : q_(q) {
  if (q_.scales.size() != q_.codes.cols())
    bad("TiledLayer: scales has " + str(q_.scales.size()) + " entries for " +
        str(q_.codes.cols()) + " columns");
  build(map, dev, seed);
}

void TiledLayer::build(const MappingParams& map, const DeviceParams& dev, std::uint64_t seed) {
  validate(dev, map);
  k_ = int(q_.codes.rows());
  n_ = int(q_.codes.cols());
  if (k_ < 1 || n_ < 1) bad("TiledLayer: empty weight matrix");
  rows_ = map.rows;
  ncol_ = map.max_logical_columns();
  rb_ = (k_ + rows_ - 1) / rows_;
  cb_ = (n_ + ncol_ - 1) / ncol_;
  arrays_.reserve(std::size_t(rb_) * cb_);
  for (int r = 0; r < rb_; ++r)
    for (int c = 0; c < cb_; ++c) {
      std::uint64_t sm = seed ^ (0xC1A0000000000000ull + (std::uint64_t(r) << 32) + c);
      arrays_.emplace_back(dev, map, splitmix64(sm));
      const int k0 = row_begin(r), n0 = col_begin(c);
      const int kk = std::min(rows_, k_ - k0), nn = std::min(ncol_, n_ - n0);
      arrays_.back().load_codes(q_.codes.block(k0, n0, kk, nn));
    }
}

int TiledLayer::row_begin(int rb) const { return rb * rows_; }
int TiledLayer::col_begin(int cb) const { return cb * ncol_; }

void TiledLayer::program_ideal() {
  for (auto& a : arrays_) a.program_ideal();
}

void TiledLayer::set_time_since_program(double t) {
  for (auto& a : arrays_) a.set_time_since_program(t);
}

MvmResult TiledLayer::mvm(const Eigen::MatrixXi& x, AdcStage* adc) {
  if (x.cols() != k_)
    bad("TiledLayer::mvm: input has " + str(x.cols()) + " columns, layer has K = " + str(k_));
  MvmResult res;
  res.y = Eigen::MatrixXd::Zero(x.rows(), n_);
  Eigen::MatrixXi xb;
  for (int r = 0; r < rb_; ++r) {
    const int k0 = row_begin(r), kk = std::min(rows_, k_ - k0);
    xb = x.middleCols(k0, kk);
    for (int c = 0; c < cb_; ++c) {
      CrossbarArray& a = array(r, c);
      MvmResult part = a.mvm(xb, adc);
      res.y.middleCols(col_begin(c), part.y.cols()) += part.y;  // digital partial-sum add
      res.stats += part.stats;
    }
  }
  return res;
}

MvmResult TiledLayer::mvm_signed(const Eigen::MatrixXi& x, AdcStage* adc) {
  const Eigen::MatrixXi xp = x.cwiseMax(0), xn = (-x).cwiseMax(0);
  MvmResult p = mvm(xp, adc);
  MvmResult n = mvm(xn, adc);
  p.y -= n.y;
  const std::int64_t vec = p.stats.vectors;
  p.stats += n.stats;
  p.stats.input_cycles *= 2;  // two passes per vector
  p.stats.vectors = vec;
  return p;
}

Eigen::MatrixXf TiledLayer::dequantize(const Eigen::MatrixXd& y, double x_scale) const {
  if (y.cols() != n_) bad("TiledLayer::dequantize: y has " + str(y.cols()) + " columns, N = " + str(n_));
  return ((y * x_scale) * q_.scales.asDiagonal()).cast<float>();
}

Eigen::MatrixXi quantize_inputs(const Eigen::MatrixXf& x, int input_bits, double x_scale) {
  require_int(input_bits, 1, 16, "crossbar.input_bits");
  if (!(x_scale > 0) || !std::isfinite(x_scale))
    bad("quantize_inputs: x_scale (" + str(x_scale) + ") must be > 0");
  const long hi = (1L << input_bits) - 1;
  Eigen::MatrixXi q(x.rows(), x.cols());
  for (Eigen::Index i = 0; i < x.size(); ++i)
    q.data()[i] = int(std::clamp<long>(std::lround(x.data()[i] / x_scale), 0, hi));
  return q;
}

Eigen::MatrixXd exact_dot(const Eigen::MatrixXi& x, const Eigen::MatrixXi& codes) {
  if (x.cols() != codes.rows()) bad("exact_dot: inner dimensions differ");
  const Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic> r =
      x.cast<std::int64_t>() * codes.cast<std::int64_t>();
  return r.cast<double>();
}

}  // namespace cimvp::crossbar
