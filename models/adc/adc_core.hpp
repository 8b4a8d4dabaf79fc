// Pure ADC core (no SystemC): Q-cell ADC with programmable memristor window edges, its
// super-resolution (SR) ensemble, uniform SAR / flash baselines and an ideal pass-through,
// behind one interface (Adc) the SystemC shell holds. See docs/adc.md.
//
// Every converter compiles to a piecewise-constant transfer table (sorted breakpoints, one
// output entry per interval); the hot loop is a grid-accelerated, branch-free lookup shared by
// all kinds, so the decoder policy is evaluated once per (re)programming, not per sample.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/adc/transfer_simd.hpp"

namespace cimvp::adc {

enum class AdcKind { Ideal, Sar, Flash, QCell, QCellSR };
const char* kind_name(AdcKind k);

// Conversion statistics, accumulated by quantize() (caller-owned, so converters stay const).
struct ConversionStats {
  uint64_t conversions = 0;
  uint64_t gaps = 0;           // Q-cell: conversions (per ADC copy) where no window matched
  uint64_t overlaps = 0;       // Q-cell: conversions (per ADC copy) where 2+ windows matched
  uint64_t disagreements = 0;  // SR: copies did not all return the same code
  uint64_t out_of_range = 0;   // input below the lowest / above the highest edge (clipped)
  void add(const ConversionStats& o);
};

// Piecewise-constant transfer function x -> (value, code, flags) with a fast batch apply.
class TransferTable {
 public:
  struct Entry {
    float value = 0.f;
    int32_t code = 0;
    uint8_t gaps = 0, overlaps = 0, disagree = 0, out_of_range = 0;
    bool operator==(const Entry& o) const;
  };
  TransferTable() = default;
  // breakpoints ascending (interval k = [b[k-1], b[k]), b[-1] = -inf), entries.size() == b.size()+1.
  TransferTable(std::vector<double> breakpoints, std::vector<Entry> entries);
  // Build from a decision function evaluated at one point inside every interval between the
  // candidate breakpoints (merging equal neighbours).
  template <class F>
  static TransferTable build(std::vector<double> candidates, F&& eval);

  // in == out_values is allowed (in-place conversion). Auto takes the SIMD search
  // (transfer_simd.hpp): AVX-512 when the CPU has it (tables of <= 256 intervals), else AVX2
  // up to 64 intervals (where it beats the grid), else the grid walk. All give the same bits;
  // the explicit paths exist so tests and benchmarks can compare them.
  enum class Path { Auto, Grid, Avx2, Avx512 };
  void apply(const float* in, float* out_values, int32_t* out_codes, std::size_t n, ConversionStats* st,
             Path path = Path::Auto) const;
  bool has_avx2_path() const { return simd_.groups > 0 && simd_.groups <= 16 && simd::cpu_has_avx2(); }
  bool has_avx512_path() const { return simd_.groups > 0 && simd::cpu_has_avx512(); }
  Path auto_path() const;
  const Entry& lookup(float x) const;
  const std::vector<float>& breakpoints() const { return bp_; }
  const std::vector<Entry>& entries() const { return e_; }

 private:
  void build_grid();
  std::vector<float> bp_;  // padded with +inf
  std::vector<Entry> e_;
  std::vector<float> value_;
  std::vector<int32_t> code_;
  std::vector<uint64_t> flags_;  // 4 x 16-bit packed counters
  float base_ = 0.f, inv_ = 0.f;
  uint32_t gmax_ = 0, kmax_ = 0, m_ = 0;
  std::size_t flush_block_ = 4096;  // samples per flush of the packed 16-bit counters

 public:
  // One grid cell: breakpoints in lower cells (k0) and the cell's first own breakpoint (+inf if
  // none). kmax() <= 1: every cell holds at most one breakpoint, one compare per sample.
  struct Cell {
    float bp;
    uint32_t k0;
  };
  uint32_t kmax() const { return kmax_; }
  std::size_t grid_cells() const { return cells_.size(); }

 private:
  std::vector<Cell> cells_;
  simd::Tables simd_;
};

// Common interface: ideal / SAR / flash / Q-cell / Q-cell SR are interchangeable.
class Adc {
 public:
  virtual ~Adc() = default;
  virtual AdcKind kind() const = 0;
  virtual int bits() const = 0;
  // Quantise n samples: out_levels[i] = digital output value; out_codes optional (may be null).
  virtual void quantize(const float* in, float* out_levels, int32_t* out_codes, std::size_t n,
                        ConversionStats* stats) const = 0;
};

class IdealAdc final : public Adc {  // pass-through (infinite resolution reference), code 0
 public:
  AdcKind kind() const override { return AdcKind::Ideal; }
  int bits() const override { return 0; }
  void quantize(const float* in, float* out, int32_t* codes, std::size_t n, ConversionStats* st) const override;
};

// Uniform baselines: 2^b levels evenly spaced over [lo, hi] (design full scale, or a
// calibrated [min, max] from calibrated_range()), thresholds at the midpoints.
// SAR: one comparator decides every bit, so its offset shifts all thresholds equally.
// Flash: 2^b - 1 comparators, independent offsets; a ones-counting decoder (bubble tolerant).
// Transfer shapes:
//  MinMax   : levels lo + k (hi - lo)/(2^b - 1), k = 0..2^b-1 (DESIGN.md's `cimvp lloyd-max
//             --uniform` definition; 0 is generally not a level).
//  MidTread : a real signed SAR/flash (two's complement codes): A = max(|lo|, |hi|),
//             LSB = A / 2^(b-1), levels k LSB for k = -2^(b-1) .. 2^(b-1)-1, thresholds at
//             (k + 1/2) LSB. 0 is a level, so a zero input converts to exactly 0.
//             Codes are offset binary (k + 2^(b-1)) so they stay 0..2^b-1.
enum class UniformShape { MinMax, MidTread };
class UniformAdc final : public Adc {
 public:
  UniformAdc(AdcKind kind, int bits, double lo, double hi, double comparator_offset_sigma, uint64_t seed,
             UniformShape shape = UniformShape::MinMax);
  UniformShape shape() const { return shape_; }
  // Output level of code c (0..2^b-1) for this shape.
  double level(int code) const { return first_ + code * step_; }
  double lsb() const { return step_; }
  AdcKind kind() const override { return kind_; }
  int bits() const override { return bits_; }
  void quantize(const float* in, float* out, int32_t* codes, std::size_t n, ConversionStats* st) const override;
  const std::vector<double>& thresholds() const { return thr_; }  // achieved (with offsets)
  double lo() const { return lo_; }
  double hi() const { return hi_; }
  const TransferTable& table() const { return table_; }

 private:
  AdcKind kind_;
  int bits_;
  double lo_, hi_;
  UniformShape shape_;
  double first_ = 0, step_ = 1;  // level(c) = first_ + c * step_
  std::vector<double> thr_;
  TransferTable table_;
};
struct Range {
  double lo, hi;
};
Range full_scale_range(double full_scale);                  // [-fs, +fs]
Range calibrated_range(const float* data, std::size_t n);   // [min, max]; throws on empty/non-finite

// Edge <-> conductance transfer of a Q-cell memristor (assumption shaped after fig2_2b: the
// window edge moves monotonically with the device conductance; we take it linear over the
// programmable window [g_min, g_max] uS = [100, 400] uS of fig3_3c's targets).
struct EdgeTransfer {
  double v_lo = 0.0, v_hi = 1.0;     // ADC input range mapped onto [g_min, g_max]
  double g_min_us = 100.0, g_max_us = 400.0;
  double conductance_for_edge(double edge) const;  // throws if edge outside [v_lo, v_hi]
  double edge_for_conductance(double g_us) const;
  double edge_sigma_for_conductance_sigma(double sigma_us) const;
};

// Nominal design of a Q-cell ADC: 2^b - 1 ascending thresholds inside [v_lo, v_hi] and 2^b
// exact digital levels. Cell k's window is [lo_k, hi_k) with lo_0 = v_lo, hi_{L-1} = v_hi,
// hi_k = lo_{k+1} = thresholds[k] nominally.
struct QCellDesign {
  int bits = 4;
  std::vector<double> thresholds;
  std::vector<double> levels;
  EdgeTransfer transfer;
  void validate() const;                            // throws std::invalid_argument
  static QCellDesign uniform(int bits, double v_lo, double v_hi);  // evenly spaced thresholds, midpoints as levels
};

// Decoder policy for non-ideal windows (documented in docs/adc.md).
enum class GapPolicy { Nearest };        // no window matches -> nearest window (tie -> lower code)
enum class OverlapPolicy { Lower, Upper };  // 2+ windows match -> lowest (default) / highest code

// One Q-cell ADC: 2^b window detectors (2 memristors each: device 2k = lower edge of cell k,
// device 2k+1 = upper edge) + decoder + level table.
class QCellAdc final : public Adc {
 public:
  explicit QCellAdc(QCellDesign design, OverlapPolicy overlap = OverlapPolicy::Lower);
  AdcKind kind() const override { return AdcKind::QCell; }
  int bits() const override { return design_.bits; }
  void quantize(const float* in, float* out, int32_t* codes, std::size_t n, ConversionStats* st) const override;

  const QCellDesign& design() const { return design_; }
  std::size_t devices() const { return 2 * lo_.size(); }
  std::vector<double> nominal_edges() const;   // [lo_0, hi_0, lo_1, hi_1, ...]
  std::vector<double> achieved_edges() const;  // same layout
  std::vector<double> target_conductances_us() const;
  // Set achieved values (e.g. from write-verify); rebuilds the decoder table.
  void set_achieved_edges(const std::vector<double>& edges);
  void set_achieved_conductances_us(const std::vector<double>& g_us);
  // Independent Gaussian edge error (sigma in input units), or from a conductance sigma in uS,
  // or as a fraction of the input range (paper Fig. 4/5: 0..5 %).
  void apply_edge_variation(double sigma_edge, uint64_t seed);
  void apply_conductance_variation(double sigma_us, uint64_t seed);
  void apply_range_fraction_variation(double fraction, uint64_t seed);

  // Decoder at one input: code and whether it was a gap / overlap / out of range.
  struct Decision {
    int32_t code;
    bool gap, overlap, out_of_range;
  };
  Decision decide(double x) const;
  // Breakpoints where decide() can change (edges and gap midpoints).
  std::vector<double> decision_points() const;
  const TransferTable& table() const { return table_; }

 private:
  void rebuild();
  QCellDesign design_;
  OverlapPolicy overlap_;
  std::vector<double> lo_, hi_;  // achieved edges
  TransferTable table_;
};

// Super-resolution: N >= 2 Q-cell ADCs with the same nominal design read the same input.
// All agree -> that code's level. Otherwise: N == 2, or no strict majority -> the nominal
// threshold at the top of the lower (median) code; N >= 3 with a strict majority -> the
// majority code's level. Every non-unanimous conversion counts as a disagreement.
// Optional zero code (set_zero_code, docs/adc.md "SR decoder"): a disagreement in which some
// copy returns that code outputs that code's level (the firmware names the zero-pinned
// window, so a zero input is not turned into the +-w boundary when one copy's edge moved).
class QCellSrAdc final : public Adc {
 public:
  explicit QCellSrAdc(std::vector<QCellAdc> copies);
  AdcKind kind() const override { return AdcKind::QCellSR; }
  int bits() const override { return copies_.front().bits(); }
  void quantize(const float* in, float* out, int32_t* codes, std::size_t n, ConversionStats* st) const override;
  std::vector<QCellAdc>& copies() { return copies_; }
  const std::vector<QCellAdc>& copies() const { return copies_; }
  void rebuild();  // after changing a copy's achieved edges
  const TransferTable& table() const { return table_; }
  // -1: none (the plain rule above). Rebuilds the table. Throws on a code outside 0..2^b-1.
  void set_zero_code(int code);
  int zero_code() const { return zero_code_; }

 private:
  std::vector<QCellAdc> copies_;
  TransferTable table_;
  int zero_code_ = -1;
};

// INL/DNL of a Q-cell ADC with uniform nominal thresholds on [0, 1], edges perturbed by
// N(0, (fraction * range)^2), measured by the code-transition method: T_k = lowest input
// giving a code >= k. DNL_k = (T_{k+1} - T_k)/LSB - 1, INL_k = (T_k - k LSB)/LSB (k = 1..L-1).
struct InlDnl {
  double max_inl_mean = 0, max_dnl_mean = 0;  // mean over trials of max |INL|, max |DNL| (LSB)
  double max_inl_sd = 0, max_dnl_sd = 0;
};
InlDnl inl_dnl_monte_carlo(int bits, double variation_fraction, int trials, uint64_t seed);

// splitmix64-seeded xoshiro256** (deterministic, portable).
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  double uniform();  // [0, 1)
  double normal();   // N(0, 1), Box-Muller
 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

// ---------------------------------------------------------------------------- template impl
template <class F>
TransferTable TransferTable::build(std::vector<double> c, F&& eval) {
  std::sort(c.begin(), c.end());
  c.erase(std::unique(c.begin(), c.end()), c.end());
  std::vector<double> bps;
  std::vector<Entry> es;
  auto rep = [&](std::size_t k) {  // a point inside interval k of the candidate set
    if (c.empty()) return 0.0;
    if (k == 0) return c.front() - 1.0 - std::abs(c.front());
    if (k == c.size()) return c.back() + 1.0 + std::abs(c.back());
    return 0.5 * (c[k - 1] + c[k]);
  };
  es.push_back(eval(rep(0)));
  for (std::size_t k = 1; k <= c.size(); ++k) {
    Entry e = eval(rep(k));
    if (e == es.back()) continue;
    bps.push_back(c[k - 1]);
    es.push_back(e);
  }
  return TransferTable(std::move(bps), std::move(es));
}

}  // namespace cimvp::adc
