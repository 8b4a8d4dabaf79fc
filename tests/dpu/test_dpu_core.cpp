// DPU core against hand-computed cases: scale/bias/ReLU, residual add, layouts, max and
// average pooling (padding, count_include_pad, ceil_mode), requantisation rounding and
// clamping, argmax ties, op checks.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "models/dpu/dpu_core.hpp"

using namespace cimvp::dpu;

namespace {

uint8_t* bytes(std::vector<float>& v) { return reinterpret_cast<uint8_t*>(v.data()); }

Op plain(uint32_t n, uint32_t c, uint32_t h, uint32_t w) {
  Op op;
  op.n = n, op.c = c, op.h = h, op.w = w, op.out_h = h, op.out_w = w;
  op.in = chw(Elem::F32, c, h, w);
  op.out = chw(Elem::F32, c, h, w);
  return op;
}

}  // namespace

TEST_CASE("per-channel scale and bias, then ReLU") {
  Op op = plain(1, 2, 1, 3);
  op.relu = true;
  std::vector<float> in = {1, -2, 3, 4, 5, -6}, out(6);
  std::vector<float> scale = {2.0f, -1.0f}, bias = {0.5f, 1.0f};
  op.has_scale = op.has_bias = true;
  Engine e;
  Stats st = e.run(op, bytes(in), scale.data(), bias.data(), nullptr, bytes(out));
  // c0: 1*2+.5=2.5, -2*2+.5=-3.5->0, 6.5; c1: -4+1=-3->0, -5+1=-4->0, 6+1=7
  CHECK(out == std::vector<float>{2.5f, 0.0f, 6.5f, 0.0f, 0.0f, 7.0f});
  CHECK(st.elements == 6);
  CHECK(st.outputs == 6);
}

TEST_CASE("HWC partial sums with a digit weight plus a float residual, written CHW") {
  // Tile output: 2 positions x 3 channels, vectors 16 bytes apart (one padding float each).
  Op op;
  op.n = 1, op.c = 3, op.h = 1, op.w = 2, op.out_h = 1, op.out_w = 2;
  op.in = hwc(Elem::F32, 3, 1, 2, 16);
  op.in_gain = 16.0f;  // second base-16 digit
  op.residual = Residual::F32;
  op.res = chw(Elem::F32, 3, 1, 2);
  op.res_gain = 1.0f;
  op.out = chw(Elem::F32, 3, 1, 2);
  std::vector<float> in = {1, 2, 3, -99, 4, 5, 6, -99};
  std::vector<float> res = {10, 20, 30, 40, 50, 60}, out(6);
  Engine e;
  e.run(op, bytes(in), nullptr, nullptr, bytes(res), bytes(out));
  CHECK(out == std::vector<float>{26, 84, 62, 120, 98, 156});
}

TEST_CASE("uint8 residual with its own scale, uint8 input, in-place style HWC output") {
  Op op = plain(1, 2, 1, 2);
  op.in = chw(Elem::U8, 2, 1, 2);
  op.in_gain = 0.5f;
  op.residual = Residual::U8;
  op.res = chw(Elem::U8, 2, 1, 2);
  op.res_gain = 0.25f;
  op.out = hwc(Elem::F32, 2, 1, 2);
  std::vector<uint8_t> in = {2, 4, 6, 8}, res = {4, 8, 12, 16};
  std::vector<float> out(4);
  Engine e;
  e.run(op, in.data(), nullptr, nullptr, res.data(), bytes(out));
  // ch0: 1+1=2, 2+2=4; ch1: 3+3=6, 4+4=8; HWC order: (x0: 2, 6), (x1: 4, 8)
  CHECK(out == std::vector<float>{2, 6, 4, 8});
}

TEST_CASE("max pooling 2x2 stride 2, hand-computed") {
  Op op = plain(1, 1, 4, 4);
  op.pool = Pool::Max;
  op.pool_kh = op.pool_kw = op.pool_sh = op.pool_sw = 2;
  op.out_h = op.out_w = 2;
  op.out = chw(Elem::F32, 1, 2, 2);
  std::vector<float> in = {1, 5, 2, 0, -1, 3, 7, 8, 0, 0, -3, -4, 9, 1, -2, -1}, out(4);
  Engine e;
  Stats st = e.run(op, bytes(in), nullptr, nullptr, nullptr, bytes(out));
  CHECK(out == std::vector<float>{5, 8, 9, -1});
  CHECK(st.pool_taps == 16);
}

TEST_CASE("max pooling with padding ignores the padding (negative inputs stay negative)") {
  Op op = plain(1, 1, 2, 2);
  op.pool = Pool::Max;
  op.pool_kh = op.pool_kw = 2, op.pool_sh = op.pool_sw = 1;
  op.pool_pt = op.pool_pl = op.pool_pb = op.pool_pr = 1;
  op.out_h = op.out_w = 3;
  op.out = chw(Elem::F32, 1, 3, 3);
  std::vector<float> in = {-1, -2, -3, -4}, out(9);
  Engine e;
  e.run(op, bytes(in), nullptr, nullptr, nullptr, bytes(out));
  CHECK(out == std::vector<float>{-1, -1, -2, -1, -1, -2, -3, -3, -4});
}

TEST_CASE("average pooling 3x3 pad 1 over ones: count_include_pad gives 4/9, 6/9, 1") {
  Op op = plain(1, 1, 3, 3);
  op.pool = Pool::Avg;
  op.pool_kh = op.pool_kw = 3, op.pool_sh = op.pool_sw = 1;
  op.pool_pt = op.pool_pl = op.pool_pb = op.pool_pr = 1;
  op.out_h = op.out_w = 3;
  std::vector<float> in(9, 1.0f), out(9);
  Engine e;
  e.run(op, bytes(in), nullptr, nullptr, nullptr, bytes(out));
  for (float v : out) CHECK(v == Approx(1.0f));
  op.count_include_pad = true;
  e.run(op, bytes(in), nullptr, nullptr, nullptr, bytes(out));
  const float c = 4.0f / 9, s = 6.0f / 9;
  const std::vector<float> want = {c, s, c, s, 1, s, c, s, c};
  for (int i = 0; i < 9; ++i) CHECK(out[i] == Approx(want[i]));
}

TEST_CASE("ceil_mode: output counts and a partial last window") {
  CHECK(pool_out_floor(5, 2, 2, 0, 0) == 2);
  CHECK(pool_out_ceil(5, 2, 2, 0, 0) == 3);
  CHECK(pool_out_ceil(5, 2, 2, 1, 1) == 3);  // a 4th window would start in the bottom padding
  CHECK(pool_out_floor(28, 2, 2, 0, 0) == 14);
  CHECK(pool_out_ceil(28, 2, 2, 0, 0) == 14);
  // 1-D average [1..5], k=2, s=2, ceil_mode: 1.5, 3.5, then 5 over one real tap; the part of
  // the window beyond the explicit padding is not counted even with count_include_pad.
  Op op = plain(1, 1, 5, 1);
  op.pool = Pool::Avg;
  op.pool_kh = 2, op.pool_sh = 2, op.count_include_pad = true;
  op.out_h = 3;
  op.out = chw(Elem::F32, 1, 3, 1);
  std::vector<float> in = {1, 2, 3, 4, 5}, out(3);
  Engine e;
  e.run(op, bytes(in), nullptr, nullptr, nullptr, bytes(out));
  CHECK(out == std::vector<float>{1.5f, 3.5f, 5.0f});
  op.out_h = 2;  // floor mode is the other valid count
  e.run(op, bytes(in), nullptr, nullptr, nullptr, bytes(out));
  CHECK(out[1] == 3.5f);
}

TEST_CASE("requantisation: rounding modes and clamping") {
  CHECK(quantise(2.5f, 1.0f, 8, false) == 3);
  CHECK(quantise(2.5f, 1.0f, 8, true) == 2);
  CHECK(quantise(3.5f, 1.0f, 8, true) == 4);
  CHECK(quantise(0.5f, 1.0f, 8, false) == 1);
  CHECK(quantise(0.5f, 1.0f, 8, true) == 0);
  CHECK(quantise(0.49f, 1.0f, 8, false) == 0);
  CHECK(quantise(-0.4f, 1.0f, 8, false) == 0);
  CHECK(quantise(-7.0f, 0.1f, 8, false) == 0);
  CHECK(quantise(300.0f, 1.0f, 8, false) == 255);
  CHECK(quantise(15.6f, 1.0f, 4, false) == 15);
  CHECK(quantise(14.4f, 1.0f, 4, false) == 14);
  CHECK(quantise(1.0f, 0.25f, 2, false) == 3);  // 4 clamps to 2^2 - 1
  CHECK(quantise(std::numeric_limits<float>::quiet_NaN(), 1.0f, 8, false) == 0);
  CHECK(quantise(std::numeric_limits<float>::infinity(), 1.0f, 8, false) == 255);
  CHECK(quantise(0.3f, 0.1f, 8, false) == 3);  // 0.3f / 0.1f = 3.0000002 -> 3
}

TEST_CASE("requantised uint8 output in HWC order with an output stride") {
  Op op = plain(1, 2, 1, 2);
  op.relu = true;
  op.out = hwc(Elem::U8, 2, 1, 2, 3);  // 3 bytes between positions
  op.out_scale = 0.5f, op.out_bits = 4;
  std::vector<float> in = {1.25f, -3.0f, 2.2f, 100.0f};
  std::vector<uint8_t> out(6, 0xAA);
  Engine e;
  e.run(op, bytes(in), nullptr, nullptr, nullptr, out.data());
  // c0: 2.5 -> 3, 0 -> 0; c1: 4.4 -> 4, 200 -> 15.
  CHECK(out == std::vector<uint8_t>{3, 4, 0xAA, 0, 15, 0xAA});
}

TEST_CASE("argmax: first maximum wins ties, NaN never wins, per image") {
  std::vector<float> v = {1, 3, 3, 2};
  CHECK(argmax(v.data(), v.size()).first == 1);
  v = {std::nanf(""), 1, 0};
  CHECK(argmax(v.data(), v.size()).first == 1);
  v = {-2, -2, -2};
  CHECK(argmax(v.data(), v.size()).first == 0);
  v = {-std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
  CHECK(argmax(v.data(), v.size()).first == 0);

  Op op = plain(2, 4, 1, 1);
  op.argmax = true;
  std::vector<float> in = {0.1f, 0.7f, 0.7f, -1, 5, 4, 6, 6}, out(8);
  uint32_t idx[2];
  float val[2];
  Engine e;
  e.run(op, bytes(in), nullptr, nullptr, nullptr, bytes(out), idx, val);
  CHECK(idx[0] == 1);
  CHECK(val[0] == 0.7f);
  CHECK(idx[1] == 2);
  CHECK(val[1] == 6.0f);
}

TEST_CASE("ops that cannot run name the field") {
  auto msg = [](const Op& op) {
    try {
      validate(op);
    } catch (const OpError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  Op op = plain(1, 1, 4, 4);
  CHECK(msg(op) == "no error");
  op.out_h = 3;
  CHECK_THAT(msg(op), Catch::Contains("'out_h'"));
  op = plain(1, 0, 4, 4);
  CHECK_THAT(msg(op), Catch::Contains("'c'"));
  op = plain(1, 1, 4, 4);
  op.pool = Pool::Max;
  op.pool_kh = op.pool_kw = op.pool_sh = op.pool_sw = 2;
  op.out_h = 2, op.out_w = 3;
  CHECK_THAT(msg(op), Catch::Contains("'out_w'"));
  op.out_w = 2, op.pool_pt = 2;
  CHECK_THAT(msg(op), Catch::Contains("pool_pt"));
  op = plain(1, 1, 4, 4);
  op.out.type = Elem::U8, op.out_bits = 9;
  CHECK_THAT(msg(op), Catch::Contains("'out_bits'"));
  op.out_bits = 8, op.out_scale = 0;
  CHECK_THAT(msg(op), Catch::Contains("'out_scale'"));
  dpu_op_t d{};
  d.n = d.c = d.h = d.w = d.out_h = d.out_w = 1;
  d.flags = DPU_OP_POOL_MAX | DPU_OP_POOL_AVG;
  CHECK_THAT(msg(from_desc(d)), Catch::Contains("DPU_OP_POOL_MAX"));
}

TEST_CASE("dense detection and extents") {
  CHECK(is_dense(chw(Elem::F32, 3, 4, 5), 2, 3, 4, 5));
  CHECK(is_dense(hwc(Elem::U8, 3, 4, 5), 2, 3, 4, 5));
  CHECK_FALSE(is_dense(hwc(Elem::F32, 3, 4, 5, 16), 1, 3, 4, 5));
  CHECK(extent(hwc(Elem::F32, 3, 4, 5, 16), 1, 3, 4, 5) == 16 * 19 + 12);
  CHECK(extent(chw(Elem::U8, 3, 4, 5), 2, 3, 4, 5) == 120);
}

TEST_CASE("descriptor fields map onto the op") {
  dpu_op_t d{};
  d.flags = DPU_OP_IN_U8 | DPU_OP_RES_F32 | DPU_OP_RELU | DPU_OP_POOL_AVG | DPU_OP_COUNT_PAD | DPU_OP_OUT_U8 |
            DPU_OP_ROUND_EVEN | DPU_OP_ARGMAX;
  d.n = 2, d.c = 3, d.h = 4, d.w = 5, d.in_stride_x = 1, d.in_gain = 0.5f, d.scale_addr = 0x100;
  d.out_scale = 0.25f, d.out_bits = 6, d.pool_kh = 2;
  uint8_t b[DPU_OP_BYTES];
  encode(d, b);
  Op op = from_desc(decode(b));
  CHECK(op.in.type == Elem::U8);
  CHECK(op.residual == Residual::F32);
  CHECK(op.relu);
  CHECK(op.pool == Pool::Avg);
  CHECK(op.count_include_pad);
  CHECK(op.out.type == Elem::U8);
  CHECK(op.round_even);
  CHECK(op.argmax);
  CHECK(op.has_scale);
  CHECK_FALSE(op.has_bias);
  CHECK(op.in_gain == 0.5f);
  CHECK(op.out_bits == 6);
  CHECK(op.pool_kh == 2);
  float g;
  std::memcpy(&g, b + 4 * 11, 4);
  CHECK(g == 0.5f);  // in_gain is word 11 of the descriptor
}
