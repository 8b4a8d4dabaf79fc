// Digital post-processing unit core (no SystemC): per-channel scale and bias, residual add,
// ReLU, max / average pooling, requantisation to unsigned codes or float32 output, argmax.
// Tensors are addressed by byte strides (image, channel, row, column), so CHW and HWC inputs
// and outputs are one op. The SystemC shell (models/dpu/dpu.hpp) fetches the buffers over the
// bus and calls Engine::run. docs/dpu.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

#include "cimvp/regs.h"

namespace cimvp::dpu {

enum class Elem { F32, U8 };
enum class Residual { None, F32, U8 };
enum class Pool { None, Max, Avg };

struct Tensor {
  Elem type = Elem::F32;
  uint64_t stride_n = 0, stride_c = 0, stride_y = 0, stride_x = 0;  // bytes
};

// A tensor dense in CHW order (the layout of next-layer activations).
Tensor chw(Elem type, uint32_t c, uint32_t h, uint32_t w);
// Channel innermost, `pos_stride` bytes between positions (a tile's output vectors).
Tensor hwc(Elem type, uint32_t c, uint32_t h, uint32_t w, uint64_t pos_stride = 0);

struct Op {
  uint32_t n = 1, c = 1, h = 1, w = 1;
  Tensor in;
  float in_gain = 1.0f;
  bool has_scale = false, has_bias = false;
  Residual residual = Residual::None;
  Tensor res;
  float res_gain = 1.0f;
  bool relu = false;
  Pool pool = Pool::None;
  uint32_t pool_kh = 1, pool_kw = 1, pool_sh = 1, pool_sw = 1;
  uint32_t pool_pt = 0, pool_pl = 0, pool_pb = 0, pool_pr = 0;
  bool count_include_pad = false;
  uint32_t out_h = 1, out_w = 1;
  Tensor out;  // type F32 or U8 (requantised codes)
  float out_scale = 1.0f;
  uint32_t out_bits = 8;
  bool round_even = false;
  bool argmax = false;
};

// An op that cannot run; the message names the descriptor field.
struct OpError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Descriptor <-> Op. from_desc does not validate; validate() does.
dpu_op_t decode(const uint8_t* bytes);
void encode(const dpu_op_t& d, uint8_t* bytes);
Op from_desc(const dpu_op_t& d);

// Pooled output rows for `in` rows: the floor count and the ceil_mode count (PyTorch / ONNX:
// a last window that would start in the bottom padding is dropped).
uint32_t pool_out_floor(uint32_t in, uint32_t k, uint32_t s, uint32_t pad_lo, uint32_t pad_hi);
uint32_t pool_out_ceil(uint32_t in, uint32_t k, uint32_t s, uint32_t pad_lo, uint32_t pad_hi);

// Throws OpError naming the field when the op cannot run.
void validate(const Op& op);

uint64_t elem_bytes(Elem t);
// Bytes from the first element to one past the last (all strides are non-negative).
uint64_t extent(const Tensor& t, uint32_t n, uint32_t c, uint32_t h, uint32_t w);
// True when the tensor's elements tile [0, extent) exactly (no gaps, no overlap).
bool is_dense(const Tensor& t, uint32_t n, uint32_t c, uint32_t h, uint32_t w);

// code = clamp(round(y / s), 0, 2^bits - 1); NaN -> 0. Half-way cases round away from zero,
// or to even with round_even (ONNX QuantizeLinear).
uint8_t quantise(float y, float s, uint32_t bits, bool round_even);

// Index of the first maximum (ties: lowest index; NaN never wins) and its value.
std::pair<uint32_t, float> argmax(const float* v, std::size_t n);

struct Stats {
  uint64_t elements = 0;   // input elements (n*c*h*w)
  uint64_t pool_taps = 0;  // window taps visited by pooling
  uint64_t outputs = 0;    // output elements
};

class Engine {
 public:
  // in / res / out point at the tensors' first element (byte offset 0 of their strides);
  // scale / bias hold c floats or are null (op.has_scale / has_bias false); argmax_out holds
  // n entries (op.argmax), argmax_val likewise or null. Validates first (OpError).
  Stats run(const Op& op, const uint8_t* in, const float* scale, const float* bias, const uint8_t* res, uint8_t* out,
            uint32_t* argmax_out = nullptr, float* argmax_val = nullptr);

 private:
  std::vector<float> work_, pooled_;  // reused between runs: no per-op allocation once warm
};

}  // namespace cimvp::dpu
