#include "models/dpu/dpu_core.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace cimvp::dpu {

static_assert(sizeof(dpu_op_t) == DPU_OP_BYTES, "dpu_op_t must match DPU_OP_BYTES");

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw OpError("DPU op field '" + field + "' " + why);
}

void need_nonzero(uint32_t v, const char* field) {
  if (v == 0) bad(field, "is 0; it must be at least 1");
}

float load(Elem t, const uint8_t* p) {
  if (t == Elem::U8) return static_cast<float>(*p);
  float f;
  std::memcpy(&f, p, 4);
  return f;
}

}  // namespace

Tensor chw(Elem type, uint32_t c, uint32_t h, uint32_t w) {
  const uint64_t e = elem_bytes(type);
  return {type, e * c * h * w, e * h * w, e * w, e};
}

Tensor hwc(Elem type, uint32_t c, uint32_t h, uint32_t w, uint64_t pos_stride) {
  const uint64_t e = elem_bytes(type), ps = pos_stride ? pos_stride : e * c;
  return {type, ps * h * w, e, ps * w, ps};
}

dpu_op_t decode(const uint8_t* bytes) {
  dpu_op_t d;  // little-endian bus, little-endian hosts
  std::memcpy(&d, bytes, sizeof d);
  return d;
}

void encode(const dpu_op_t& d, uint8_t* bytes) { std::memcpy(bytes, &d, sizeof d); }

Op from_desc(const dpu_op_t& d) {
  Op op;
  op.n = d.n, op.c = d.c, op.h = d.h, op.w = d.w;
  op.in = {(d.flags & DPU_OP_IN_U8) ? Elem::U8 : Elem::F32, d.in_stride_n, d.in_stride_c, d.in_stride_y,
           d.in_stride_x};
  op.in_gain = d.in_gain;
  op.has_scale = d.scale_addr != 0;
  op.has_bias = d.bias_addr != 0;
  if (d.flags & DPU_OP_RES_F32) op.residual = Residual::F32;
  if (d.flags & DPU_OP_RES_U8) op.residual = Residual::U8;
  op.res = {op.residual == Residual::U8 ? Elem::U8 : Elem::F32, d.res_stride_n, d.res_stride_c, d.res_stride_y,
            d.res_stride_x};
  op.res_gain = d.res_gain;
  op.relu = (d.flags & DPU_OP_RELU) != 0;
  if (d.flags & DPU_OP_POOL_MAX) op.pool = Pool::Max;
  if (d.flags & DPU_OP_POOL_AVG) op.pool = Pool::Avg;
  op.pool_kh = d.pool_kh, op.pool_kw = d.pool_kw, op.pool_sh = d.pool_sh, op.pool_sw = d.pool_sw;
  op.pool_pt = d.pool_pt, op.pool_pl = d.pool_pl, op.pool_pb = d.pool_pb, op.pool_pr = d.pool_pr;
  op.count_include_pad = (d.flags & DPU_OP_COUNT_PAD) != 0;
  op.out_h = d.out_h, op.out_w = d.out_w;
  op.out = {(d.flags & DPU_OP_OUT_U8) ? Elem::U8 : Elem::F32, d.out_stride_n, d.out_stride_c, d.out_stride_y,
            d.out_stride_x};
  op.out_scale = d.out_scale;
  op.out_bits = d.out_bits;
  op.round_even = (d.flags & DPU_OP_ROUND_EVEN) != 0;
  op.argmax = (d.flags & DPU_OP_ARGMAX) != 0;
  // Both residual kinds or both pool kinds at once is rejected by validate() through these:
  if ((d.flags & DPU_OP_RES_F32) && (d.flags & DPU_OP_RES_U8)) op.res.type = static_cast<Elem>(-1);
  if ((d.flags & DPU_OP_POOL_MAX) && (d.flags & DPU_OP_POOL_AVG)) op.pool = static_cast<Pool>(-1);
  return op;
}

uint32_t pool_out_floor(uint32_t in, uint32_t k, uint32_t s, uint32_t pad_lo, uint32_t pad_hi) {
  const uint64_t padded = uint64_t{in} + pad_lo + pad_hi;
  if (s == 0 || padded < k) return 0;
  return static_cast<uint32_t>((padded - k) / s + 1);
}

uint32_t pool_out_ceil(uint32_t in, uint32_t k, uint32_t s, uint32_t pad_lo, uint32_t pad_hi) {
  const uint64_t padded = uint64_t{in} + pad_lo + pad_hi;
  if (s == 0 || padded < k) return 0;
  uint64_t out = (padded - k + s - 1) / s + 1;
  if ((out - 1) * s >= uint64_t{in} + pad_lo) --out;
  return static_cast<uint32_t>(out);
}

uint64_t elem_bytes(Elem t) { return t == Elem::U8 ? 1 : 4; }

uint64_t extent(const Tensor& t, uint32_t n, uint32_t c, uint32_t h, uint32_t w) {
  return (n - 1) * t.stride_n + (c - 1) * t.stride_c + (h - 1) * t.stride_y + (w - 1) * t.stride_x + elem_bytes(t.type);
}

bool is_dense(const Tensor& t, uint32_t n, uint32_t c, uint32_t h, uint32_t w) {
  std::pair<uint64_t, uint32_t> dims[4] = {{t.stride_n, n}, {t.stride_c, c}, {t.stride_y, h}, {t.stride_x, w}};
  std::sort(std::begin(dims), std::end(dims));
  uint64_t expect = elem_bytes(t.type);
  for (const auto& d : dims) {
    if (d.second == 1) continue;  // a size-1 dimension's stride is never used
    if (d.first != expect) return false;
    expect *= d.second;
  }
  return true;
}

void validate(const Op& op) {
  need_nonzero(op.n, "n");
  need_nonzero(op.c, "c");
  need_nonzero(op.h, "h");
  need_nonzero(op.w, "w");
  if (op.res.type != Elem::F32 && op.res.type != Elem::U8)
    bad("flags", "sets both DPU_OP_RES_F32 and DPU_OP_RES_U8; pick one residual format");
  if (op.pool != Pool::None && op.pool != Pool::Max && op.pool != Pool::Avg)
    bad("flags", "sets both DPU_OP_POOL_MAX and DPU_OP_POOL_AVG; pick one");
  if (!std::isfinite(op.in_gain)) bad("in_gain", "is not a finite float");
  if (op.residual != Residual::None && !std::isfinite(op.res_gain)) bad("res_gain", "is not a finite float");
  if (op.pool == Pool::None) {
    if (op.out_h != op.h) bad("out_h", "must equal h without pooling");
    if (op.out_w != op.w) bad("out_w", "must equal w without pooling");
  } else {
    need_nonzero(op.pool_kh, "pool_kh");
    need_nonzero(op.pool_kw, "pool_kw");
    need_nonzero(op.pool_sh, "pool_sh");
    need_nonzero(op.pool_sw, "pool_sw");
    // Padding narrower than the window keeps every window on at least one real element.
    if (op.pool_pt >= op.pool_kh || op.pool_pb >= op.pool_kh) bad("pool_pt", "/pool_pb must be smaller than pool_kh");
    if (op.pool_pl >= op.pool_kw || op.pool_pr >= op.pool_kw) bad("pool_pl", "/pool_pr must be smaller than pool_kw");
    const uint32_t fh = pool_out_floor(op.h, op.pool_kh, op.pool_sh, op.pool_pt, op.pool_pb);
    const uint32_t fw = pool_out_floor(op.w, op.pool_kw, op.pool_sw, op.pool_pl, op.pool_pr);
    if (fh == 0) bad("pool_kh", "is larger than h + pool_pt + pool_pb");
    if (fw == 0) bad("pool_kw", "is larger than w + pool_pl + pool_pr");
    const uint32_t ch = pool_out_ceil(op.h, op.pool_kh, op.pool_sh, op.pool_pt, op.pool_pb);
    const uint32_t cw = pool_out_ceil(op.w, op.pool_kw, op.pool_sw, op.pool_pl, op.pool_pr);
    if (op.out_h != fh && op.out_h != ch)
      bad("out_h", "is " + std::to_string(op.out_h) + "; the pooled height is " + std::to_string(fh) +
                       " (floor) or " + std::to_string(ch) + " (ceil_mode)");
    if (op.out_w != fw && op.out_w != cw)
      bad("out_w", "is " + std::to_string(op.out_w) + "; the pooled width is " + std::to_string(fw) +
                       " (floor) or " + std::to_string(cw) + " (ceil_mode)");
  }
  if (op.out.type == Elem::U8) {
    if (op.out_bits < 1 || op.out_bits > 8) bad("out_bits", "must be 1..8 for uint8 codes");
    if (!(op.out_scale > 0.0f) || !std::isfinite(op.out_scale)) bad("out_scale", "must be a finite float > 0");
  }
  const uint64_t limit = 256ull << 20;  // what the shell stages per tensor
  if (extent(op.in, op.n, op.c, op.h, op.w) > limit) bad("in_stride_n", "makes the input larger than 256 MiB");
  if (extent(op.out, op.n, op.c, op.out_h, op.out_w) > limit) bad("out_stride_n", "makes the output larger than 256 MiB");
  if (op.residual != Residual::None && extent(op.res, op.n, op.c, op.h, op.w) > limit)
    bad("res_stride_n", "makes the residual larger than 256 MiB");
}

uint8_t quantise(float y, float s, uint32_t bits, bool round_even) {
  const float q = y / s;
  if (!(q > 0.0f)) return 0;  // negatives, zero and NaN
  const float top = static_cast<float>((1u << bits) - 1u);
  if (q >= top) return static_cast<uint8_t>(top);
  const float r = round_even ? std::nearbyint(q) : std::round(q);
  return static_cast<uint8_t>(r > top ? top : r);
}

std::pair<uint32_t, float> argmax(const float* v, std::size_t n) {
  uint32_t best = 0;
  float m = -std::numeric_limits<float>::infinity();
  bool found = false;
  for (std::size_t i = 0; i < n; ++i)
    if (v[i] > m || (!found && v[i] == m)) {  // strict >: ties keep the first
      m = v[i];
      best = static_cast<uint32_t>(i);
      found = true;
    }
  return {best, found ? m : std::numeric_limits<float>::quiet_NaN()};
}

Stats Engine::run(const Op& op, const uint8_t* in, const float* scale, const float* bias, const uint8_t* res,
                  uint8_t* out, uint32_t* argmax_out, float* argmax_val) {
  validate(op);
  const uint32_t n = op.n, c = op.c, h = op.h, w = op.w;
  const std::size_t plane = static_cast<std::size_t>(h) * w;
  work_.resize(static_cast<std::size_t>(n) * c * plane);

  // Stage 1: gather, gain, scale + bias, residual, ReLU into a dense N x C x H x W buffer.
  for (uint32_t b = 0; b < n; ++b)
    for (uint32_t ch = 0; ch < c; ++ch) {
      const float s = (op.has_scale ? scale[ch] : 1.0f) * op.in_gain, o = op.has_bias ? bias[ch] : 0.0f;
      float* dst = work_.data() + (static_cast<std::size_t>(b) * c + ch) * plane;
      for (uint32_t y = 0; y < h; ++y) {
        const uint8_t* src = in + b * op.in.stride_n + ch * op.in.stride_c + y * op.in.stride_y;
        float* d = dst + static_cast<std::size_t>(y) * w;
        if (op.in.type == Elem::F32 && op.in.stride_x == 4) {
          const float* f = reinterpret_cast<const float*>(src);  // contiguous row: vectorisable
          for (uint32_t x = 0; x < w; ++x) d[x] = f[x] * s + o;
        } else {
          for (uint32_t x = 0; x < w; ++x) d[x] = load(op.in.type, src + x * op.in.stride_x) * s + o;
        }
        if (op.residual != Residual::None) {
          const uint8_t* r = res + b * op.res.stride_n + ch * op.res.stride_c + y * op.res.stride_y;
          for (uint32_t x = 0; x < w; ++x) d[x] += load(op.res.type, r + x * op.res.stride_x) * op.res_gain;
        }
        if (op.relu)
          for (uint32_t x = 0; x < w; ++x) d[x] = d[x] < 0.0f ? 0.0f : d[x];
      }
    }
  Stats st;
  st.elements = static_cast<uint64_t>(n) * c * plane;

  // Stage 2: pooling per channel plane.
  const uint32_t oh = op.out_h, ow = op.out_w;
  const std::size_t oplane = static_cast<std::size_t>(oh) * ow;
  const float* result = work_.data();
  if (op.pool != Pool::None) {
    pooled_.resize(static_cast<std::size_t>(n) * c * oplane);
    const bool is_max = op.pool == Pool::Max;
    for (std::size_t p = 0; p < static_cast<std::size_t>(n) * c; ++p) {
      const float* src = work_.data() + p * plane;
      float* dst = pooled_.data() + p * oplane;
      for (uint32_t oy = 0; oy < oh; ++oy) {
        const int64_t y0 = static_cast<int64_t>(oy) * op.pool_sh - op.pool_pt;
        const int64_t y1 = y0 + op.pool_kh;  // exclusive
        const int64_t ya = std::max<int64_t>(y0, 0), yb = std::min<int64_t>(y1, h);
        const int64_t pad_rows = std::min<int64_t>(y1, int64_t{h} + op.pool_pb) - y0;  // taps inside explicit padding
        for (uint32_t ox = 0; ox < ow; ++ox) {
          const int64_t x0 = static_cast<int64_t>(ox) * op.pool_sw - op.pool_pl;
          const int64_t x1 = x0 + op.pool_kw;
          const int64_t xa = std::max<int64_t>(x0, 0), xb = std::min<int64_t>(x1, w);
          float m = -std::numeric_limits<float>::infinity(), sum = 0.0f;
          for (int64_t y = ya; y < yb; ++y)
            for (int64_t x = xa; x < xb; ++x) {
              const float v = src[y * w + x];
              m = v > m ? v : m;
              sum += v;
            }
          st.pool_taps += static_cast<uint64_t>((yb - ya) * (xb - xa));
          if (is_max) {
            dst[static_cast<std::size_t>(oy) * ow + ox] = m;
          } else {
            const int64_t pad_cols = std::min<int64_t>(x1, int64_t{w} + op.pool_pr) - x0;
            const int64_t cnt = op.count_include_pad ? pad_rows * pad_cols : (yb - ya) * (xb - xa);
            dst[static_cast<std::size_t>(oy) * ow + ox] = sum / static_cast<float>(cnt);
          }
        }
      }
    }
    result = pooled_.data();
  }

  // Stage 3: write out (float32 or requantised codes) through the output strides; argmax.
  for (uint32_t b = 0; b < n; ++b) {
    const float* img = result + static_cast<std::size_t>(b) * c * oplane;
    for (uint32_t ch = 0; ch < c; ++ch)
      for (uint32_t y = 0; y < oh; ++y) {
        const float* v = img + ch * oplane + static_cast<std::size_t>(y) * ow;
        uint8_t* o = out + b * op.out.stride_n + ch * op.out.stride_c + y * op.out.stride_y;
        if (op.out.type == Elem::U8) {
          for (uint32_t x = 0; x < ow; ++x) o[x * op.out.stride_x] = quantise(v[x], op.out_scale, op.out_bits, op.round_even);
        } else {
          for (uint32_t x = 0; x < ow; ++x) std::memcpy(o + x * op.out.stride_x, v + x, 4);
        }
      }
    if (op.argmax) {
      const auto am = argmax(img, static_cast<std::size_t>(c) * oplane);
      if (argmax_out) argmax_out[b] = am.first;
      if (argmax_val) argmax_val[b] = am.second;
    }
  }
  st.outputs = static_cast<uint64_t>(n) * c * oplane;
  return st;
}

}  // namespace cimvp::dpu
