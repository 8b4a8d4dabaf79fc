#include "models/adc/adc_core.hpp"

#include <array>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace cimvp::adc {

const char* kind_name(AdcKind k) {
  switch (k) {
    case AdcKind::Ideal: return "ideal";
    case AdcKind::Sar: return "sar";
    case AdcKind::Flash: return "flash";
    case AdcKind::QCell: return "qcell";
    case AdcKind::QCellSR: return "qcell_sr";
  }
  return "?";
}

void ConversionStats::add(const ConversionStats& o) {
  conversions += o.conversions;
  gaps += o.gaps;
  overlaps += o.overlaps;
  disagreements += o.disagreements;
  out_of_range += o.out_of_range;
}

// ---------------------------------------------------------------------------- Rng
Rng::Rng(uint64_t seed) {
  uint64_t z = seed;
  for (auto& s : s_) {
    z += 0x9E3779B97F4A7C15ull;
    uint64_t x = z;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    s = x ^ (x >> 31);
  }
}
static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
uint64_t Rng::next() {
  const uint64_t r = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return r;
}
double Rng::uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1 = uniform(), u2 = uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  const double r = std::sqrt(-2.0 * std::log(u1)), a = 6.283185307179586 * u2;
  spare_ = r * std::sin(a);
  has_spare_ = true;
  return r * std::cos(a);
}

// ---------------------------------------------------------------------------- TransferTable
bool TransferTable::Entry::operator==(const Entry& o) const {
  return value == o.value && code == o.code && gaps == o.gaps && overlaps == o.overlaps && disagree == o.disagree &&
         out_of_range == o.out_of_range;
}

namespace {
// Smallest float >= d: float x >= result  <=>  x >= d.
float float_at_or_above(double d) {
  float f = static_cast<float>(d);
  if (static_cast<double>(f) < d) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  return f;
}
}  // namespace

TransferTable::TransferTable(std::vector<double> b, std::vector<Entry> e) : e_(std::move(e)) {
  if (e_.size() != b.size() + 1)
    throw std::invalid_argument("TransferTable: entries must be one more than breakpoints");
  for (std::size_t k = 0; k < b.size(); ++k) {
    if (!std::isfinite(b[k]) || (k > 0 && !(b[k] > b[k - 1])))
      throw std::invalid_argument("TransferTable: breakpoints must be finite and strictly ascending");
    bp_.push_back(float_at_or_above(b[k]));
  }
  m_ = static_cast<uint32_t>(bp_.size());
  for (const auto& x : e_) {
    value_.push_back(x.value);
    code_.push_back(x.code);
    flags_.push_back(uint64_t(x.gaps) | uint64_t(x.overlaps) << 16 | uint64_t(x.disagree) << 32 |
                     uint64_t(x.out_of_range) << 48);
  }
  build_grid();
}

namespace {
constexpr uint32_t kMaxCells = 32768;  // 256 KiB of cells at most

// Grid coordinate of x, clamped to [0, gmax] (NaN -> 0). build_grid() and apply() both use
// exactly this arithmetic, which is what makes the cell assignment exact (see build_grid).
inline float grid_coord(float x, float base, float inv, float gmax) {
  float g = (x - base) * inv;
  g = g > 0.f ? g : 0.f;
  return g < gmax ? g : gmax;
}
inline uint32_t grid_cell(float x, float base, float inv, float gmax) {
  return static_cast<uint32_t>(static_cast<int32_t>(grid_coord(x, base, inv, gmax)));
}
}  // namespace

// Grid over [first, last breakpoint]: cell(x) = trunc(clamp((x - base) * inv, 0, G-1)) in float.
// cell() is monotone in x, so a breakpoint b with cell(b) < cell(x) is below x and one with
// cell(b) > cell(x) is above it: only the breakpoints of x's own cell (computed with the same
// float arithmetic) are undecided. Each cell stores k0 = #breakpoints in lower cells and its
// first own breakpoint; G doubles until no cell holds two (then one compare finishes the
// search) or the grid reaches kMaxCells (then apply() steps through up to kmax_ of them).
void TransferTable::build_grid() {
  const float inf = std::numeric_limits<float>::infinity();
  cells_.clear();
  base_ = 0.f;
  inv_ = 0.f;
  gmax_ = 0;
  kmax_ = 0;
  if (m_ == 0) {
    cells_.push_back({inf, 0});
  } else {
    const double lo = bp_.front(), hi = bp_.back();
    const double span = hi > lo ? hi - lo : 1.0;
    std::vector<uint32_t> gb(m_);
    uint32_t G = 64;
    for (;; G <<= 1) {
      base_ = static_cast<float>(lo);
      inv_ = static_cast<float>(G / span);
      gmax_ = G - 1;
      const float gm = static_cast<float>(gmax_);
      uint32_t run = 0, longest = 0;
      for (uint32_t k = 0; k < m_; ++k) {
        gb[k] = grid_cell(bp_[k], base_, inv_, gm);
        run = (k > 0 && gb[k] == gb[k - 1]) ? run + 1 : 1;
        longest = std::max(longest, run);
      }
      kmax_ = longest;
      if (kmax_ <= 1 || G >= kMaxCells) break;
    }
    cells_.assign(G, {inf, 0});
    uint32_t k = 0;
    for (uint32_t g = 0; g < G; ++g) {
      while (k < m_ && gb[k] < g) ++k;
      cells_[g].k0 = k;
      if (k < m_ && gb[k] == g) cells_[g].bp = bp_[k];
    }
  }
  // Pad so the general path's steps never read past the end.
  bp_.resize(m_ + kmax_ + 1, inf);
  std::vector<std::array<uint8_t, 4>> counters;
  unsigned maxfield = 1;
  for (const auto& x : e_) {
    counters.push_back({x.gaps, x.overlaps, x.disagree, x.out_of_range});
    maxfield = std::max<unsigned>({maxfield, x.gaps, x.overlaps, x.disagree, x.out_of_range});
  }
  flush_block_ = std::min<std::size_t>(4096, 65535 / maxfield);  // no 16-bit field overflows
  simd_ = simd::build(bp_.data(), m_, value_.data(), code_.data(),
                      reinterpret_cast<const uint8_t(*)[4]>(counters.data()));
}

TransferTable::Path TransferTable::auto_path() const {
  if (has_avx512_path()) return Path::Avx512;
  // AVX2 at 16 groups (> 64 intervals) measured no faster than the grid (docs/adc.md).
  if (has_avx2_path() && simd_.groups <= 8) return Path::Avx2;
  return Path::Grid;
}

const TransferTable::Entry& TransferTable::lookup(float x) const {
  uint32_t k = static_cast<uint32_t>(std::upper_bound(bp_.begin(), bp_.begin() + m_, x) - bp_.begin());
  return e_[k];
}

namespace {
// The batch loop: branch-free, one grid cell load, one compare (fast path), then the entry's
// value, code and packed flag counters. Flags are flushed every `block` samples, before a
// 16-bit packed field could overflow.
template <bool OneStep, bool WithCodes>
void apply_loop(const float* in, float* out, int32_t* codes, std::size_t n, const TransferTable::Cell* cells,
                const float* bp, const float* val, const int32_t* code, const uint64_t* fl, float base, float inv,
                float gmax, uint32_t kmax, uint32_t m, std::size_t block, uint64_t tot[4]) {
  for (std::size_t start = 0; start < n; start += block) {
    const std::size_t end = std::min(n, start + block);
    uint64_t acc = 0;
    for (std::size_t i = start; i < end; ++i) {
      const float x = in[i];
      const TransferTable::Cell c = cells[grid_cell(x, base, inv, gmax)];
      uint32_t k = c.k0;
      if (OneStep) {
        k += (x >= c.bp) ? 1u : 0u;
      } else {
        for (uint32_t j = 0; j < kmax; ++j) k += (x >= bp[k]) ? 1u : 0u;
      }
      k = k < m ? k : m;  // +inf input
      out[i] = val[k];
      if (WithCodes) codes[i] = code[k];
      acc += fl[k];
    }
    tot[0] += acc & 0xFFFF;
    tot[1] += (acc >> 16) & 0xFFFF;
    tot[2] += (acc >> 32) & 0xFFFF;
    tot[3] += acc >> 48;
  }
}
}  // namespace

void TransferTable::apply(const float* in, float* out, int32_t* codes, std::size_t n, ConversionStats* st,
                          Path path) const {
  uint64_t tot[4] = {0, 0, 0, 0};
  if (path == Path::Avx2 && !has_avx2_path())
    throw std::invalid_argument("TransferTable::apply: no AVX2 path (CPU without AVX2 or > 128 intervals)");
  if (path == Path::Avx512 && !has_avx512_path())
    throw std::invalid_argument("TransferTable::apply: no AVX-512 path (CPU without AVX-512F or > 256 intervals)");
  if (path == Path::Auto) path = auto_path();
  const std::size_t step = path == Path::Avx512 ? 16 : path == Path::Avx2 ? 8 : 0;
  if (step && n >= step) {
    // Whole vectors through the SIMD search, the rest through the grid below.
    const std::size_t nv = n / step * step;
    if (step == 16) simd::apply_avx512(simd_, in, out, codes, nv, tot);
    else simd::apply_avx2(simd_, in, out, codes, nv, tot);
    in += nv;
    out += nv;
    if (codes) codes += nv;
    n -= nv;
    if (st) st->conversions += nv;
  }
  const auto* c = cells_.data();
  const float* bp = bp_.data();
  const float gm = static_cast<float>(gmax_);
  if (kmax_ <= 1) {
    if (codes)
      apply_loop<true, true>(in, out, codes, n, c, bp, value_.data(), code_.data(), flags_.data(), base_, inv_, gm,
                             kmax_, m_, flush_block_, tot);
    else
      apply_loop<true, false>(in, out, codes, n, c, bp, value_.data(), code_.data(), flags_.data(), base_, inv_, gm,
                              kmax_, m_, flush_block_, tot);
  } else {
    if (codes)
      apply_loop<false, true>(in, out, codes, n, c, bp, value_.data(), code_.data(), flags_.data(), base_, inv_, gm,
                              kmax_, m_, flush_block_, tot);
    else
      apply_loop<false, false>(in, out, codes, n, c, bp, value_.data(), code_.data(), flags_.data(), base_, inv_, gm,
                               kmax_, m_, flush_block_, tot);
  }
  if (st) {
    st->conversions += n;
    st->gaps += tot[0];
    st->overlaps += tot[1];
    st->disagreements += tot[2];
    st->out_of_range += tot[3];
  }
}

// ---------------------------------------------------------------------------- Ideal
void IdealAdc::quantize(const float* in, float* out, int32_t* codes, std::size_t n, ConversionStats* st) const {
  if (out != in) std::memmove(out, in, n * sizeof(float));
  if (codes) std::fill(codes, codes + n, 0);
  if (st) st->conversions += n;
}

// ---------------------------------------------------------------------------- Uniform
Range full_scale_range(double fs) {
  if (!(fs > 0) || !std::isfinite(fs))
    throw std::invalid_argument("full_scale_range: full_scale must be a positive finite number");
  return {-fs, fs};
}
Range calibrated_range(const float* d, std::size_t n) {
  if (!d || n == 0) throw std::invalid_argument("calibrated_range: no samples; capture calibration data first");
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(d[i]))
      throw std::invalid_argument("calibrated_range: sample " + std::to_string(i) + " is NaN/Inf");
    lo = std::min(lo, double(d[i]));
    hi = std::max(hi, double(d[i]));
  }
  if (!(hi > lo)) hi = lo + 1.0;  // constant data: any non-empty range keeps levels distinct
  return {lo, hi};
}

UniformAdc::UniformAdc(AdcKind kind, int bits, double lo, double hi, double sigma, uint64_t seed,
                       UniformShape shape)
    : kind_(kind), bits_(bits), lo_(lo), hi_(hi), shape_(shape) {
  if (kind != AdcKind::Sar && kind != AdcKind::Flash)
    throw std::invalid_argument("UniformAdc: kind must be Sar or Flash");
  if (bits < 1 || bits > 12) throw std::invalid_argument("UniformAdc: bits must be 1..12");
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi))
    throw std::invalid_argument("UniformAdc: range needs finite lo < hi (use full_scale_range or calibrated_range)");
  if (!(sigma >= 0) || !std::isfinite(sigma))
    throw std::invalid_argument("UniformAdc: comparator_offset_sigma must be >= 0");
  const int L = 1 << bits;
  if (shape == UniformShape::MidTread) {
    // Symmetric full scale around 0; the top code is A - LSB (two's complement range).
    const double a = std::max(std::abs(lo), std::abs(hi));
    step_ = a / (L / 2);
    first_ = -a;
  } else {
    step_ = (hi - lo) / (L - 1);
    first_ = lo;
  }
  const double step = step_, first = first_;
  Rng rng(seed);
  const double common = kind == AdcKind::Sar ? sigma * rng.normal() : 0.0;
  for (int k = 0; k + 1 < L; ++k)
    thr_.push_back(first + (k + 0.5) * step + (kind == AdcKind::Flash ? sigma * rng.normal() : common));
  std::vector<double> cand = thr_;
  const double ulo = first - 0.5 * step, uhi = first + (L - 0.5) * step;
  cand.push_back(ulo);
  cand.push_back(uhi);
  const auto& thr = thr_;
  table_ = TransferTable::build(cand, [&](double x) {
    TransferTable::Entry e;
    int c = 0;
    for (double t : thr) c += x >= t;  // ones counter: bubble tolerant for the flash
    e.code = c;
    e.value = static_cast<float>(first + c * step);
    e.out_of_range = (x < ulo || x >= uhi) ? 1 : 0;
    return e;
  });
}

void UniformAdc::quantize(const float* in, float* out, int32_t* codes, std::size_t n, ConversionStats* st) const {
  table_.apply(in, out, codes, n, st);
}

// ---------------------------------------------------------------------------- Edge transfer
double EdgeTransfer::conductance_for_edge(double edge) const {
  if (!(edge >= v_lo && edge <= v_hi))
    throw std::invalid_argument("conductance_for_edge: edge " + std::to_string(edge) + " outside the input range [" +
                                std::to_string(v_lo) + ", " + std::to_string(v_hi) + "]; widen transfer.v_lo/v_hi");
  return g_min_us + (edge - v_lo) / (v_hi - v_lo) * (g_max_us - g_min_us);
}
double EdgeTransfer::edge_for_conductance(double g) const {
  return v_lo + (g - g_min_us) / (g_max_us - g_min_us) * (v_hi - v_lo);
}
double EdgeTransfer::edge_sigma_for_conductance_sigma(double s) const {
  return s / (g_max_us - g_min_us) * (v_hi - v_lo);
}

// ---------------------------------------------------------------------------- QCellDesign
void QCellDesign::validate() const {
  if (bits < 2 || bits > 8) throw std::invalid_argument("QCellDesign: bits must be 2..8, got " + std::to_string(bits));
  const std::size_t L = std::size_t(1) << bits;
  if (thresholds.size() != L - 1)
    throw std::invalid_argument("QCellDesign: thresholds must hold 2^bits - 1 = " + std::to_string(L - 1) + " values");
  if (levels.size() != L)
    throw std::invalid_argument("QCellDesign: levels must hold 2^bits = " + std::to_string(L) + " values");
  const auto& t = transfer;
  if (!(t.v_hi > t.v_lo) || !std::isfinite(t.v_lo) || !std::isfinite(t.v_hi))
    throw std::invalid_argument("QCellDesign: transfer.v_lo < transfer.v_hi required");
  if (!(t.g_max_us > t.g_min_us)) throw std::invalid_argument("QCellDesign: transfer.g_min_us < g_max_us required");
  for (std::size_t k = 0; k < thresholds.size(); ++k) {
    if (!std::isfinite(thresholds[k]) || thresholds[k] < t.v_lo || thresholds[k] > t.v_hi)
      throw std::invalid_argument("QCellDesign: threshold " + std::to_string(k) + " outside [v_lo, v_hi]");
    if (k > 0 && !(thresholds[k] > thresholds[k - 1]))
      throw std::invalid_argument("QCellDesign: thresholds must be strictly ascending (index " + std::to_string(k) + ")");
  }
  for (double l : levels)
    if (!std::isfinite(l)) throw std::invalid_argument("QCellDesign: levels must be finite");
}

QCellDesign QCellDesign::uniform(int bits, double v_lo, double v_hi) {
  QCellDesign d;
  d.bits = bits;
  d.transfer.v_lo = v_lo;
  d.transfer.v_hi = v_hi;
  const int L = 1 << bits;
  const double w = (v_hi - v_lo) / L;
  for (int k = 1; k < L; ++k) d.thresholds.push_back(v_lo + k * w);
  for (int k = 0; k < L; ++k) d.levels.push_back(v_lo + (k + 0.5) * w);
  return d;
}

// ---------------------------------------------------------------------------- QCellAdc
QCellAdc::QCellAdc(QCellDesign d, OverlapPolicy ov) : design_(std::move(d)), overlap_(ov) {
  design_.validate();
  const std::size_t L = design_.levels.size();
  lo_.resize(L);
  hi_.resize(L);
  for (std::size_t k = 0; k < L; ++k) {
    lo_[k] = k == 0 ? design_.transfer.v_lo : design_.thresholds[k - 1];
    hi_[k] = k + 1 == L ? design_.transfer.v_hi : design_.thresholds[k];
  }
  rebuild();
}

std::vector<double> QCellAdc::nominal_edges() const {
  std::vector<double> e;
  const std::size_t L = lo_.size();
  for (std::size_t k = 0; k < L; ++k) {
    e.push_back(k == 0 ? design_.transfer.v_lo : design_.thresholds[k - 1]);
    e.push_back(k + 1 == L ? design_.transfer.v_hi : design_.thresholds[k]);
  }
  return e;
}
std::vector<double> QCellAdc::achieved_edges() const {
  std::vector<double> e;
  for (std::size_t k = 0; k < lo_.size(); ++k) {
    e.push_back(lo_[k]);
    e.push_back(hi_[k]);
  }
  return e;
}
std::vector<double> QCellAdc::target_conductances_us() const {
  std::vector<double> g;
  for (double e : nominal_edges()) g.push_back(design_.transfer.conductance_for_edge(e));
  return g;
}
void QCellAdc::set_achieved_edges(const std::vector<double>& e) {
  if (e.size() != devices())
    throw std::invalid_argument("set_achieved_edges: need 2 * 2^bits = " + std::to_string(devices()) + " edges");
  for (double v : e)
    if (!std::isfinite(v)) throw std::invalid_argument("set_achieved_edges: edges must be finite");
  for (std::size_t k = 0; k < lo_.size(); ++k) {
    lo_[k] = e[2 * k];
    hi_[k] = e[2 * k + 1];
  }
  rebuild();
}
void QCellAdc::set_achieved_conductances_us(const std::vector<double>& g) {
  if (g.size() != devices())
    throw std::invalid_argument("set_achieved_conductances_us: need 2 * 2^bits = " + std::to_string(devices()) +
                                " conductances");
  std::vector<double> e;
  for (double v : g) e.push_back(design_.transfer.edge_for_conductance(v));
  set_achieved_edges(e);
}
void QCellAdc::apply_edge_variation(double sigma, uint64_t seed) {
  if (!(sigma >= 0) || !std::isfinite(sigma)) throw std::invalid_argument("apply_edge_variation: sigma must be >= 0");
  Rng rng(seed);
  std::vector<double> e = nominal_edges();
  for (double& v : e) v += sigma * rng.normal();  // each edge is its own memristor
  set_achieved_edges(e);
}
void QCellAdc::apply_conductance_variation(double sigma_us, uint64_t seed) {
  apply_edge_variation(design_.transfer.edge_sigma_for_conductance_sigma(sigma_us), seed);
}
void QCellAdc::apply_range_fraction_variation(double f, uint64_t seed) {
  apply_edge_variation(f * (design_.transfer.v_hi - design_.transfer.v_lo), seed);
}

QCellAdc::Decision QCellAdc::decide(double x) const {
  const int L = static_cast<int>(lo_.size());
  int n = 0, first = -1, last = -1;
  double minlo = lo_[0], maxhi = hi_[0];
  for (int k = 0; k < L; ++k) {
    if (lo_[k] <= x && x < hi_[k]) {
      ++n;
      if (first < 0) first = k;
      last = k;
    }
    minlo = std::min(minlo, lo_[k]);
    maxhi = std::max(maxhi, hi_[k]);
  }
  if (n == 1) return {first, false, false, false};
  if (n >= 2) return {overlap_ == OverlapPolicy::Lower ? first : last, false, true, false};
  int best = 0;
  double bd = std::numeric_limits<double>::infinity();
  for (int k = 0; k < L; ++k) {
    const double d = x < lo_[k] ? lo_[k] - x : (x >= hi_[k] ? x - hi_[k] : 0.0);
    if (d < bd) {  // strict: ties go to the lower code
      bd = d;
      best = k;
    }
  }
  const bool oor = x < minlo || x >= maxhi;
  return {best, !oor, false, oor};
}

std::vector<double> QCellAdc::decision_points() const {
  std::vector<double> e = achieved_edges();
  std::sort(e.begin(), e.end());
  std::vector<double> c = e;
  // In a gap the nearest window switches halfway between the closest upper edge below and
  // the closest lower edge above.
  for (std::size_t i = 0; i + 1 < e.size(); ++i) {
    double below = -std::numeric_limits<double>::infinity(), above = std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < lo_.size(); ++k) {
      // left of x the distance is x - hi only when both edges are below x (inverted windows too)
      if (hi_[k] <= e[i] && lo_[k] <= e[i]) below = std::max(below, hi_[k]);
      if (lo_[k] >= e[i + 1]) above = std::min(above, lo_[k]);
    }
    if (std::isfinite(below) && std::isfinite(above)) c.push_back(0.5 * (below + above));
  }
  return c;
}

void QCellAdc::rebuild() {
  table_ = TransferTable::build(decision_points(), [&](double x) {
    const Decision d = decide(x);
    TransferTable::Entry e;
    e.code = d.code;
    e.value = static_cast<float>(design_.levels[d.code]);
    e.gaps = d.gap;
    e.overlaps = d.overlap;
    e.out_of_range = d.out_of_range;
    return e;
  });
}

void QCellAdc::quantize(const float* in, float* out, int32_t* codes, std::size_t n, ConversionStats* st) const {
  table_.apply(in, out, codes, n, st);
}

// ---------------------------------------------------------------------------- SR
QCellSrAdc::QCellSrAdc(std::vector<QCellAdc> c) : copies_(std::move(c)) {
  if (copies_.size() < 2 || copies_.size() > 8)
    throw std::invalid_argument("QCellSrAdc: needs 2..8 Q-cell ADC copies (adc.sr_copies)");
  const auto& d0 = copies_[0].design();
  for (const auto& q : copies_)
    if (q.design().thresholds != d0.thresholds || q.design().levels != d0.levels)
      throw std::invalid_argument("QCellSrAdc: all copies must share the same nominal thresholds and levels");
  rebuild();
}

void QCellSrAdc::rebuild() {
  std::vector<double> cand;
  for (const auto& q : copies_) {
    auto p = q.decision_points();
    cand.insert(cand.end(), p.begin(), p.end());
  }
  const auto& d = copies_[0].design();
  const std::size_t N = copies_.size();
  table_ = TransferTable::build(cand, [&](double x) {
    TransferTable::Entry e;
    int codes[8];
    bool oor = false;
    for (std::size_t i = 0; i < N; ++i) {
      const auto dd = copies_[i].decide(x);
      codes[i] = dd.code;
      e.gaps += dd.gap;
      e.overlaps += dd.overlap;
      oor = oor || dd.out_of_range;
    }
    e.out_of_range = oor;
    std::sort(codes, codes + N);
    if (codes[0] == codes[N - 1]) {
      e.code = codes[0];
      e.value = static_cast<float>(d.levels[codes[0]]);
      return e;
    }
    e.disagree = 1;
    if (zero_code_ >= 0 && std::find(codes, codes + N, zero_code_) != codes + N) {
      e.code = zero_code_;
      e.value = static_cast<float>(d.levels[static_cast<std::size_t>(zero_code_)]);
      return e;
    }
    // strict majority (N >= 3)?
    for (std::size_t i = 0; i < N;) {
      std::size_t j = i;
      while (j < N && codes[j] == codes[i]) ++j;
      if (2 * (j - i) > N) {
        e.code = codes[i];
        e.value = static_cast<float>(d.levels[codes[i]]);
        return e;
      }
      i = j;
    }
    const int c = codes[(N - 1) / 2];  // lower median; < top code since not unanimous
    const int cl = std::min<int>(c, static_cast<int>(d.thresholds.size()) - 1);
    e.code = cl;
    e.value = static_cast<float>(d.thresholds[cl]);  // boundary between code cl and cl+1
    return e;
  });
}

void QCellSrAdc::set_zero_code(int code) {
  if (code < -1 || code >= (1 << bits()))
    throw std::invalid_argument("QCellSrAdc: zero code " + std::to_string(code) + " outside -1.." +
                                std::to_string((1 << bits()) - 1));
  zero_code_ = code;
  rebuild();
}

void QCellSrAdc::quantize(const float* in, float* out, int32_t* codes, std::size_t n, ConversionStats* st) const {
  table_.apply(in, out, codes, n, st);
}

// ---------------------------------------------------------------------------- INL/DNL
InlDnl inl_dnl_monte_carlo(int bits, double frac, int trials, uint64_t seed) {
  if (bits < 2 || bits > 8) throw std::invalid_argument("inl_dnl_monte_carlo: bits must be 2..8");
  if (trials < 1) throw std::invalid_argument("inl_dnl_monte_carlo: trials must be >= 1");
  if (!(frac >= 0)) throw std::invalid_argument("inl_dnl_monte_carlo: variation_fraction must be >= 0");
  const int L = 1 << bits;
  const double lsb = 1.0 / L;
  QCellAdc adc(QCellDesign::uniform(bits, 0.0, 1.0));
  Rng seeds(seed);
  double si = 0, si2 = 0, sd = 0, sd2 = 0;
  for (int t = 0; t < trials; ++t) {
    adc.apply_range_fraction_variation(frac, seeds.next());
    const auto& tab = adc.table();
    // T_k = lowest input in [0, 1] whose code is >= k (1 if none): the ramp of a static test
    // covers the input range only.
    const auto& ent = tab.entries();
    const auto& bp = tab.breakpoints();
    std::vector<double> T(L, 0.0);
    for (int k = 1; k < L; ++k) {
      T[k] = 1.0;
      for (std::size_t i = 0; i < ent.size(); ++i) {
        const double right = i < ent.size() - 1 ? double(bp[i]) : std::numeric_limits<double>::infinity();
        if (right <= 0.0 || ent[i].code < k) continue;
        const double left = i == 0 ? 0.0 : std::max(0.0, double(bp[i - 1]));
        T[k] = std::min(left, 1.0);
        break;
      }
    }
    double mi = 0, md = 0;
    for (int k = 1; k < L; ++k) mi = std::max(mi, std::abs((T[k] - k * lsb) / lsb));
    for (int k = 1; k + 1 < L; ++k) md = std::max(md, std::abs((T[k + 1] - T[k]) / lsb - 1.0));
    si += mi; si2 += mi * mi; sd += md; sd2 += md * md;
  }
  InlDnl r;
  r.max_inl_mean = si / trials;
  r.max_dnl_mean = sd / trials;
  r.max_inl_sd = std::sqrt(std::max(0.0, si2 / trials - r.max_inl_mean * r.max_inl_mean));
  r.max_dnl_sd = std::sqrt(std::max(0.0, sd2 / trials - r.max_dnl_mean * r.max_dnl_mean));
  return r;
}

}  // namespace cimvp::adc
