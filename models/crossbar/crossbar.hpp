// Pure C++ core of the crossbar tile: weight mapping, memristor array state with device
// non-idealities, and batched bit-serial MVM through Eigen matrix products. No SystemC here;
// the Tile shell (registers, sockets, timing, energy events) is built on top of this API.
// Math, units and parameter sources: docs/crossbar.md.
#pragma once

#include <Eigen/Dense>

#include "models/crossbar/normal_fill.hpp"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace cimvp::crossbar {

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

// Memristor device model. Conductances in microsiemens (uS), times in seconds unless named.
// Every non-ideality defaults to OFF (an ideal device); the sigma/rate values below are the
// figures used when it is switched on.
struct DeviceParams {
  // Conductance window. Source: Hong et al., Nat. Commun. 2025, Fig. 3c programs 64 devices to
  // targets 100..400 uS; we use that window.
  double g_min_us = 100.0;
  double g_max_us = 400.0;
  // Programmable states per cell, evenly spaced over [g_min, g_max]; 0 = continuous.
  // Must be 0 or >= 2^cell_bits with (cell_levels-1) divisible by (2^cell_bits-1), so that the
  // mapping's digit levels are device levels.
  int cell_levels = 0;

  // Programming error: G = target + N(0, sigma^2) once per programming.
  // Source: paper Fig. 3c, mean per-target std 2.73 uS (fig3_3c_variation.csv).
  bool prog_error = false;
  double prog_sigma_us = 2.73;

  // Read noise: multiplicative per read, G * (1 + eps), eps ~ N(0, sigma_rel^2), fresh per
  // read (per input vector and input cycle). Source: paper text, read fluctuation < 0.05% over
  // 1000 reads (fig3_3d.csv measures 0.009%..0.23% std/mean per state; see docs).
  bool read_noise = false;
  double read_sigma_rel = 5e-4;

  // Drift: G(t) = G0 * (t / t0)^-nu for t > t0 (t = time since programming). nu = 0.01 and
  // t0 = 1 s are assumptions (RRAM drift is weak; PCM is ~0.05), not from the paper.
  bool drift = false;
  double drift_nu = 0.01;
  double drift_t0_s = 1.0;

  // Stuck cells, drawn once per array (manufacturing defects) from the array's seed.
  // Assumption: 0 by default; the paper does not report a rate.
  double stuck_at_gmin_rate = 0.0;
  double stuck_at_gmax_rate = 0.0;

  // Clip programmed conductances into [g_min, g_max] (a device cannot leave its window).
  bool clip = true;

  // Read pulse width per input cycle, for the array read energy V^2*G*t. Assumption: 10 ns.
  double t_read_ns = 10.0;

  // Throws std::invalid_argument naming "<prefix><key>" for any bad value.
  void validate(const std::string& prefix = "crossbar.device.") const;
};

enum class SignScheme {
  Differential,  // each weight slice uses a G+/G- column pair; analog value = I+ - I-
  OffsetColumn,  // weights stored offset-binary; one shared offset column per slice per array
};

// How weights and inputs map onto one array.
struct MappingParams {
  int rows = 128;  // array rows (word lines). Default 128x128: assumption (DESIGN/issue 3).
  int cols = 128;  // array columns (bit lines)
  int weight_bits = 8;  // signed weight code width: codes in [-(2^(wb-1)-1), 2^(wb-1)-1]
  int cell_bits = 2;    // bits stored per memristor (digit per slice)
  SignScheme sign = SignScheme::Differential;
  bool per_column_scale = false;  // one weight scale per output column instead of per layer
  int input_bits = 8;  // unsigned input codes in [0, 2^input_bits - 1]
  int dac_bits = 1;    // bits applied per input cycle (1 = bit-serial)
  double v_read = 0.2;  // full-scale read voltage in V. Assumption until the tech table sets it.

  void validate(const std::string& prefix = "crossbar.") const;

  int slices() const;                 // weight slices S
  int input_cycles() const;           // ceil(input_bits / dac_bits)
  int physical_columns(int n_logical) const;  // columns needed for n logical output columns
  int max_logical_columns() const;    // most logical columns one array holds
  int max_weight_code() const { return (1 << (weight_bits - 1)) - 1; }
  int max_input_code() const { return (1 << input_bits) - 1; }
  // Physical column of logical column j, slice s. polarity 0 = G+ (or the offset-binary column),
  // 1 = G- (differential only).
  int column_of(int j, int s, int polarity = 0) const;
  // Offset column of slice s (offset scheme only), placed after the n logical columns.
  int offset_column(int n_logical, int s) const;
  // Digit that the offset column of slice s holds (offset scheme): slice s of 2^(wb-1).
  int offset_digit(int s) const;
};

// Cross-checks between device and mapping (level grid vs cell_bits).
void validate(const DeviceParams& dev, const MappingParams& map,
              const std::string& dev_prefix = "crossbar.device.",
              const std::string& map_prefix = "crossbar.");

// ---------------------------------------------------------------------------------------------
// Weight quantisation and mapping
// ---------------------------------------------------------------------------------------------

// Signed integer weight codes with their scales: w ~= code * scale[j].
struct QuantizedWeights {
  Eigen::MatrixXi codes;   // K x N
  Eigen::VectorXd scales;  // N entries (all equal for a per-layer scale)
};

// Symmetric quantisation of a float K x N block to weight_bits (per layer or per column as
// map.per_column_scale says): scale = max|w| / (2^(wb-1)-1), code = round(w / scale).
// All-zero columns get scale 1.
QuantizedWeights quantize_weights(const Eigen::MatrixXf& w, const MappingParams& map);

// Conductance targets for a block of codes (K x N, K <= rows, N <= max_logical_columns()).
struct MappedBlock {
  int k = 0, n = 0;            // logical rows/columns mapped
  int used_cols = 0;           // physical columns used (incl. offset columns)
  Eigen::MatrixXi codes;       // K x N signed codes
  Eigen::MatrixXf targets_us;  // rows x cols; unused cells at g_min
};

// Throws std::invalid_argument if the block does not fit or a code is out of range.
MappedBlock map_codes(const Eigen::MatrixXi& codes, const MappingParams& map,
                      const DeviceParams& dev);

// ---------------------------------------------------------------------------------------------
// ADC stage interface (implemented by the ADC bank)
// ---------------------------------------------------------------------------------------------

struct AdcContext {
  int input_cycle = 0;  // 0 = least significant input chunk
  int slice = 0;        // 0 = least significant weight slice
  // Current of one digit step: one DAC step (v_read / (2^dac_bits-1)) across one conductance
  // step (g_max-g_min)/(2^cell_bits-1), in uA. An ideal partial sum is analog / unit_current.
  double unit_current_ua = 0.0;
  // Bound of |ideal partial sum| in digits: k * (2^cell_bits-1) * (2^dac_bits-1).
  double full_scale_digits = 0.0;
};

// Called once per (input cycle, weight slice) of every MVM call, cycles outer, slices inner,
// after the column currents are formed and before shift-and-add.
//   analog: batch x N (rows = input vectors of the call, cols = logical columns of the array),
//           signed analog value in uA (I+ - I- of the pair, or column minus offset column).
//   Replace each value in place by the digital output expressed in digits, i.e. in units of
//   ctx.unit_current_ua (an ideal converter writes analog / unit_current, an ideal integer ADC
//   round(analog / unit_current)). Shift-and-add weights it by 2^(cycle*dac_bits +
//   slice*cell_bits) and adds it into the integer-dot-product output.
//
// Chunked conversion: a stage whose chunkable() returns true instead gets one call per
// (batch chunk, input cycle, weight slice), where `analog` holds a contiguous range of the
// call's input vectors (rows), chunks in any order and concurrently from the MVM worker threads
// (parallel.hpp). Such a stage must convert element by element (each output depends only on
// its own input) and be thread-safe; the result is then the same as with whole-batch calls.
// Stages with order-dependent state (capture, recording) keep the default: whole batch, in
// order, on the calling thread.
struct AdcStage {
  virtual ~AdcStage() = default;
  virtual void convert(Eigen::Ref<Eigen::MatrixXf> analog, const AdcContext& ctx) = 0;
  virtual bool chunkable() const { return false; }
};

// Infinite-resolution converter: analog / unit_current (no rounding).
struct PassThroughAdc final : AdcStage {
  void convert(Eigen::Ref<Eigen::MatrixXf> analog, const AdcContext& ctx) override;
  bool chunkable() const override { return true; }
};
// std::round (half away from zero, -0.0 kept) in plain float arithmetic, so loops over it
// vectorise (no libm call): round to nearest-even through the 2^23 magic number, then move
// ties away from zero. |v| >= 2^23, Inf and NaN come back unchanged.
inline float round_half_away(float v) {
  const float m = std::copysign(0x1p23f, v);
  const float r0 = (v + m) - m;  // nearest, ties to even
  const float d = v - r0;        // exact
  // A tie rounded toward zero (d = +-1/2 with the sign of v) steps one further out.
  const float r1 = r0 + float(d == std::copysign(0.5f, v)) * (d + d);
  const float r = std::copysign(r1, v);
  return std::fabs(v) < 0x1p23f ? r : v;
}

// Ideal integer ADC with LSB = one digit and unlimited range: round(analog / unit_current).
// With noise off the whole MVM is then bit-exact.
struct IdealAdc final : AdcStage {
  void convert(Eigen::Ref<Eigen::MatrixXf> analog, const AdcContext& ctx) override;
  bool chunkable() const override { return true; }
};

// ---------------------------------------------------------------------------------------------
// The array
// ---------------------------------------------------------------------------------------------

// Event counts of one MVM call, for the shell's timing and energy reports.
struct MvmStats {
  std::int64_t vectors = 0;          // batch size
  int input_cycles = 0;              // per vector
  int slices = 0;
  int active_rows = 0;               // K
  int active_cols = 0;               // physical columns sensed (incl. offset columns)
  std::int64_t adc_conversions = 0;  // batch * cycles * slices * N (one per logical column)
  std::int64_t cell_reads = 0;       // batch * cycles * K * active_cols
  double array_energy_pj = 0.0;      // sum over reads of V^2 * G * t_read (nominal G)
  MvmStats& operator+=(const MvmStats& o);
};

struct MvmResult {
  Eigen::MatrixXd y;  // batch x N, in units of the integer dot product sum_i x_i * code_ij
  MvmStats stats;
};

enum class StuckState : std::uint8_t { None = 0, AtGmin = 1, AtGmax = 2 };

// One R x C memristor array with its own random generator. Randomness is consumed in call
// order: stuck mask (constructor), programming error (program_ideal), read noise (each mvm).
class CrossbarArray {
 public:
  CrossbarArray(const DeviceParams& dev, const MappingParams& map, std::uint64_t seed);

  const DeviceParams& device() const { return dev_; }
  const MappingParams& mapping() const { return map_; }
  int rows() const { return map_.rows; }
  int cols() const { return map_.cols; }

  // Load a block's targets and layout. Conductances are not touched: call program_ideal(), or
  // write each cell with set_conductance() (programming controller path).
  void load(const MappedBlock& block);
  // Convenience: map_codes + load.
  void load_codes(const Eigen::MatrixXi& codes);
  const MappedBlock& block() const { return block_; }

  // Program every cell to its target in one shot: snap to the level grid, add programming
  // error, clip, then force stuck cells. Resets the drift clock.
  void program_ideal();

  double target(int r, int c) const;       // uS
  double conductance(int r, int c) const;  // uS as programmed (before drift)
  double effective_conductance(int r, int c) const;  // uS after drift at the current time
  // Write one cell (as programmed, t = 0 for drift). A stuck cell keeps its stuck value and the
  // call returns false; otherwise true. Throws on out-of-range indices or non-finite g.
  bool set_conductance(int r, int c, double g_us);
  StuckState stuck(int r, int c) const;
  std::int64_t stuck_count(StuckState s) const;

  // Time since programming in seconds, for drift (ignored when drift is off).
  void set_time_since_program(double t_s);
  double time_since_program() const { return t_s_; }

  // x: batch x K unsigned input codes (K = loaded block's k). adc = nullptr means
  // PassThroughAdc. Returns the shift-and-added output in integer dot-product units.
  // The batch runs in chunks of mvm_chunk_vectors() input vectors on the worker pool
  // (parallel.hpp); results do not depend on the number of worker threads.
  MvmResult mvm(const Eigen::MatrixXi& x, AdcStage* adc = nullptr);
  // Input vectors per MVM chunk for the loaded block (a function of the mapping and the
  // block's shape only). Read noise is drawn per chunk, so this is part of the noise stream.
  int mvm_chunk_vectors() const;

  double unit_current_ua() const;
  double conductance_step_us() const;  // (g_max-g_min)/(2^cell_bits-1)

 private:
  void check_cell(int r, int c) const;
  void refresh_effective();

  DeviceParams dev_;
  MappingParams map_;
  std::uint64_t rng_state_[4];
  MappedBlock block_;
  Eigen::MatrixXf g0_;   // as programmed, rows x cols, uS
  Eigen::MatrixXf g_;    // effective (drifted); empty when it equals g0_ (no drift)
  // Right-hand side of the MVM's one matrix product, K x (Uc + Un + 1) for the loaded block:
  //  [0, Uc)       currents, conductances minus g_min (the pedestal cancels in every analog
  //                difference, and removing it keeps the float GEMM exact for integer steps).
  //                Differential: one column (G+ - g_min) - (G- - g_min) per logical column and
  //                slice (j*S + s), since the converter only sees I+ - I-; offset scheme: the
  //                Uc = U used columns themselves (their offset column is shared).
  //  [Uc, Uc+Un)   read-noise variance terms: differential G+^2 + G-^2 per pair (j*S + s),
  //                offset scheme G^2 per used column; Un = 0 without read noise.
  //  Uc+Un         row sums of g_ over the used columns, for the read energy.
  Eigen::MatrixXf rhs_;
  // rhs_ again, row-major with rows padded to rhs_stride_ (a multiple of 8), for the
  // bit-serial product that sums the rows of set input bits (bitplane_product.hpp).
  std::vector<float> rhs_rows_;
  int rhs_stride_ = 0;
  int rhs_cur_cols_ = 0, rhs_noise_cols_ = 0;
  bool dirty_ = true;
  std::vector<std::uint8_t> stuck_;  // empty when the stuck rates are 0
  double t_s_ = 0.0;

 public:
  // Random helpers (exposed for tests of determinism).
  std::uint64_t next_u64();
  double next_gauss();    // standard normal (ziggurat), for programming error
  double next_uniform();  // [0,1)
};


// ---------------------------------------------------------------------------------------------
// Layers larger than one array
// ---------------------------------------------------------------------------------------------

// A K x N layer split over ceil(K/rows) x ceil(N/max_logical_columns) arrays with one global
// quantisation (so partial sums share units); outputs of arrays in the same column band are
// added digitally. Array (rb, cb) gets seed derived from (seed, rb, cb).
class TiledLayer {
 public:
  TiledLayer(const Eigen::MatrixXf& w, const MappingParams& map, const DeviceParams& dev,
             std::uint64_t seed);
  TiledLayer(const QuantizedWeights& q, const MappingParams& map, const DeviceParams& dev,
             std::uint64_t seed);

  int k() const { return k_; }
  int n() const { return n_; }
  int row_blocks() const { return rb_; }
  int col_blocks() const { return cb_; }
  CrossbarArray& array(int rb, int cb) { return arrays_[rb * cb_ + cb]; }
  const QuantizedWeights& weights() const { return q_; }
  int row_begin(int rb) const;
  int col_begin(int cb) const;

  void program_ideal();
  void set_time_since_program(double t_s);

  // x: batch x K unsigned codes. Same ADC stage for every array (contexts per call).
  MvmResult mvm(const Eigen::MatrixXi& x, AdcStage* adc = nullptr);
  // Signed inputs: run the positive and negative parts (two passes) and subtract.
  MvmResult mvm_signed(const Eigen::MatrixXi& x, AdcStage* adc = nullptr);

  // Float result: y * x_scale * w_scale[j].
  Eigen::MatrixXf dequantize(const Eigen::MatrixXd& y, double x_scale) const;

 private:
  void build(const MappingParams& map, const DeviceParams& dev, std::uint64_t seed);
  QuantizedWeights q_;
  int k_ = 0, n_ = 0, rb_ = 0, cb_ = 0, rows_ = 0, ncol_ = 0;
  std::vector<CrossbarArray> arrays_;
};

// Unsigned input quantisation helper: code = clamp(round(x / x_scale), 0, 2^input_bits-1).
Eigen::MatrixXi quantize_inputs(const Eigen::MatrixXf& x, int input_bits, double x_scale);

// Exact integer reference: x * codes in int64 arithmetic (for tests and checks).
Eigen::MatrixXd exact_dot(const Eigen::MatrixXi& x, const Eigen::MatrixXi& codes);

}  // namespace cimvp::crossbar
