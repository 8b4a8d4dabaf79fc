// Module test of the DPU through a TLM test initiator: op descriptors and tables in SRAM,
// started through the registers; output tensors, argmax register and buffer, IRQ line,
// counters, closed-form timing and energy, error status of bad ops.
#include "tests/support/sc_test_main.hpp"

#include <tlm_utils/simple_initiator_socket.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "cimvp/regs.h"
#include "models/dpu/dpu.hpp"
#include "platform/bus/router.hpp"
#include "platform/config/scenario.hpp"
#include "platform/memory/memory.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/tracing/tracer.hpp"
#include "tests/support/test_initiator.hpp"

CIMVP_SC_TEST_MAIN

namespace {

constexpr uint64_t kSram = 0x10000000, kDpu = 0x30000000;
constexpr uint32_t kSramSize = 0x100000;

using Initiator = cimvp_test::TestInitiator;

struct Bench {
  cimvp::config::Scenario scenario = cimvp::config::load_scenario(cimvp::config::kSelftestScenario);
  cimvp::Tracer tracer;
  cimvp::PowerSc power{1000};
  cimvp::Context ctx{scenario, tracer, power};
  cimvp::Router router{"bus", ctx};
  cimvp::Memory sram{"sram", ctx, kSramSize, scenario.tech.sram};
  cimvp::Dpu dpu{"dpu", ctx};
  Initiator init{"init"};
  sc_core::sc_signal<bool> irq{"dpu_irq"};
  Bench() {
    init.isock.bind(router.tsock);
    dpu.isock.bind(router.tsock);
    router.name_initiator(0, "init");
    router.name_initiator(1, "dpu");
    router.map("sram", kSram, kSramSize);
    router.isock.bind(sram.tsock);
    router.map("dpu", kDpu, 0x1000);
    router.isock.bind(dpu.tsock);
    dpu.irq(irq);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
  }
  uint8_t* mem(uint64_t a) { return sram.data() + (a - kSram); }
  void put_f(uint64_t a, const std::vector<float>& v) { std::memcpy(mem(a), v.data(), 4 * v.size()); }
  float get_f(uint64_t a) {
    float f;
    std::memcpy(&f, mem(a), 4);
    return f;
  }
  uint32_t run(uint64_t first) {
    init.w32(kDpu + DPU_OP_ADDR, static_cast<uint32_t>(first));
    init.w32(kDpu + DPU_CTRL, DPU_CTRL_CLEAR_COUNTERS | DPU_CTRL_START);
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
    CHECK(irq.read());
    const uint32_t st = init.r32(kDpu + DPU_STATUS);
    CHECK((st & (DPU_STATUS_BUSY | DPU_STATUS_DONE)) == DPU_STATUS_DONE);
    init.w32(kDpu + DPU_CTRL, DPU_CTRL_CLEAR_STATUS);
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_NS));  // lets the IRQ driver run
    CHECK_FALSE(irq.read());
    return st;
  }
};

Bench& bench() {
  static Bench b;
  return b;
}

// A CHW float32 tensor's strides.
void chw_strides(uint32_t c, uint32_t h, uint32_t w, uint32_t e, uint32_t* s) {
  s[0] = e * c * h * w, s[1] = e * h * w, s[2] = e * w, s[3] = e;
}

}  // namespace

TEST_CASE("ID register answers the DPU type") {
  CHECK(bench().init.r32(kDpu + DPU_ID) == CIMVP_ID(CIMVP_BLOCK_DPU, DPU_VERSION_VALUE));
}

TEST_CASE("tile partial sums (HWC) -> scale, bias, ReLU, 2x2 max pool -> uint8 CHW codes") {
  auto& b = bench();
  // 2 channels on a 4x4 grid, position-major with 8 floats (32 bytes) between positions.
  const uint32_t C = 2, H = 4, W = 4;
  const uint64_t in = kSram + 0x1000, sc = kSram + 0x2000, bi = kSram + 0x2100, out = kSram + 0x3000;
  std::vector<float> acc(16 * 8, -1000.0f);
  for (uint32_t p = 0; p < 16; ++p)
    for (uint32_t c = 0; c < C; ++c) acc[p * 8 + c] = static_cast<float>(c == 0 ? p : 15 - static_cast<int>(p)) - 4.0f;
  b.put_f(in, acc);
  b.put_f(sc, {0.5f, 2.0f});
  b.put_f(bi, {1.0f, -3.0f});
  dpu_op_t d{};
  d.flags = DPU_OP_RELU | DPU_OP_POOL_MAX | DPU_OP_OUT_U8 | DPU_OP_IRQ;
  d.n = 1, d.c = C, d.h = H, d.w = W;
  d.in_addr = static_cast<uint32_t>(in);
  d.in_stride_n = 32 * 16, d.in_stride_c = 4, d.in_stride_y = 32 * W, d.in_stride_x = 32;
  d.in_gain = 1.0f;
  d.scale_addr = static_cast<uint32_t>(sc), d.bias_addr = static_cast<uint32_t>(bi);
  d.pool_kh = d.pool_kw = d.pool_sh = d.pool_sw = 2;
  d.out_h = d.out_w = 2;
  d.out_addr = static_cast<uint32_t>(out);
  chw_strides(C, 2, 2, 1, &d.out_stride_n);
  d.out_scale = 0.5f, d.out_bits = 4;
  cimvp::dpu::encode(d, b.mem(kSram + 0x100));
  const uint32_t st = b.run(kSram + 0x100);
  CHECK((st & DPU_STATUS_ERROR) == 0);
  CHECK((st & DPU_STATUS_OP_IRQ) != 0);
  // Reference by hand: y0(p) = relu(0.5*(p-4)+1), y1(p) = relu(2*(11-p)-3); max over 2x2 windows
  // of the 4x4 grid; code = min(round(y / 0.5), 15).
  auto y0 = [](int p) { return std::max(0.0f, 0.5f * (p - 4) + 1.0f); };
  auto y1 = [](int p) { return std::max(0.0f, 2.0f * (11 - p) - 3.0f); };
  const int win[4][4] = {{0, 1, 4, 5}, {2, 3, 6, 7}, {8, 9, 12, 13}, {10, 11, 14, 15}};
  for (int o = 0; o < 4; ++o) {
    float m0 = 0, m1 = 0;
    for (int t : win[o]) m0 = std::max(m0, y0(t)), m1 = std::max(m1, y1(t));
    CHECK(*b.mem(out + o) == std::min(15, static_cast<int>(std::round(m0 / 0.5f))));
    CHECK(*b.mem(out + 4 + o) == std::min(15, static_cast<int>(std::round(m1 / 0.5f))));
  }
  CHECK(*b.mem(out + 3) == 13);  // window {10,11,14,15}: y0(15) = 6.5 -> code 13
  CHECK(b.init.r32(kDpu + DPU_ELEMS_LO) == C * H * W);
  CHECK(b.init.r32(kDpu + DPU_OPS_DONE) == 1);
}

TEST_CASE("a chain: digit partial sums accumulated in place, then logits with argmax; closed-form time") {
  auto& b = bench();
  const uint32_t N = 10, NB = 3;  // 3 images, 10 logits each
  const uint64_t p0 = kSram + 0x10000, p1 = kSram + 0x11000, acc = kSram + 0x12000, logits = kSram + 0x13000;
  const uint64_t am = kSram + 0x14000, bias = kSram + 0x14100;
  std::vector<float> d0(N * NB), d1(N * NB), bv(N);
  for (uint32_t i = 0; i < N * NB; ++i) d0[i] = static_cast<float>((i * 7) % 11), d1[i] = static_cast<float>((i * 3) % 5);
  for (uint32_t j = 0; j < N; ++j) bv[j] = 0.01f * j;
  b.put_f(p0, d0);
  b.put_f(p1, d1);
  b.put_f(bias, bv);
  std::memset(b.mem(acc), 0, 4 * N * NB);
  auto vec = [&](dpu_op_t& d, uint32_t flags, uint64_t src, float gain, uint64_t dst) {
    d = dpu_op_t{};
    d.flags = flags;
    d.n = NB, d.c = N, d.h = d.w = d.out_h = d.out_w = 1;
    d.in_addr = static_cast<uint32_t>(src);
    chw_strides(N, 1, 1, 4, &d.in_stride_n);
    d.in_gain = gain;
    d.out_addr = static_cast<uint32_t>(dst);
    chw_strides(N, 1, 1, 4, &d.out_stride_n);
  };
  dpu_op_t ops[3];
  // acc = p0 * 1 + acc;  acc = p1 * 16 + acc;  logits = acc * 0.125 + bias, argmax.
  vec(ops[0], DPU_OP_RES_F32, p0, 1.0f, acc);
  vec(ops[1], DPU_OP_RES_F32, p1, 16.0f, acc);
  for (int i = 0; i < 2; ++i) {
    ops[i].res_addr = static_cast<uint32_t>(acc), ops[i].res_gain = 1.0f;
    chw_strides(N, 1, 1, 4, &ops[i].res_stride_n);
  }
  vec(ops[2], DPU_OP_ARGMAX, acc, 0.125f, logits);
  ops[2].bias_addr = static_cast<uint32_t>(bias);
  ops[2].argmax_addr = static_cast<uint32_t>(am);
  const uint64_t at[3] = {kSram + 0x400, kSram + 0x500, kSram + 0x600};
  for (int i = 0; i < 3; ++i) {
    ops[i].next = i < 2 ? static_cast<uint32_t>(at[i + 1]) : 0u;
    cimvp::dpu::encode(ops[i], b.mem(at[i]));
  }
  const uint32_t st = b.run(at[0]);
  REQUIRE((st & DPU_STATUS_ERROR) == 0);
  CHECK(b.init.r32(kDpu + DPU_OPS_DONE) == 3);
  for (uint32_t img = 0; img < NB; ++img) {
    uint32_t best = 0;
    float bestv = -1e30f;
    for (uint32_t j = 0; j < N; ++j) {
      const uint32_t i = img * N + j;
      const float want = (d0[i] + 16.0f * d1[i]) * 0.125f + bv[j];
      CHECK(b.get_f(logits + 4 * i) == Approx(want).epsilon(1e-6));
      if (want > bestv) bestv = want, best = j;
    }
    uint32_t got;
    std::memcpy(&got, b.mem(am + 4 * img), 4);
    CHECK(got == best);
    if (img == NB - 1) {
      CHECK(b.init.r32(kDpu + DPU_ARGMAX) == best);
      const uint32_t bits = b.init.r32(kDpu + DPU_ARGMAX_VAL);
      float v;
      std::memcpy(&v, &bits, 4);
      CHECK(v == Approx(bestv).epsilon(1e-6));
    }
  }
  // Time: per op, descriptor + input (+ residual / bias) + output bursts at SRAM latency +
  // bytes / bandwidth + bus latency, then setup + elements * ns_per_element (tech table).
  const auto& t = b.scenario.tech;
  auto burst = [&](double n) { return t.sram.latency_ns + n / t.sram.bytes_per_ns + t.bus.latency_ns; };
  const double tensor = 4.0 * N * NB, elems = N * NB;
  const double accum = burst(DPU_OP_BYTES) + 3 * burst(tensor) + t.dpu.setup_ns_per_op + elems * t.dpu.ns_per_element;
  const double last = burst(DPU_OP_BYTES) + 2 * burst(tensor) + burst(4.0 * N) + burst(4.0 * NB) + t.dpu.setup_ns_per_op +
                      elems * t.dpu.ns_per_element;
  const double busy = b.init.r32(kDpu + DPU_BUSY_NS_LO);
  CHECK(busy == Approx(2 * accum + last).margin(1.0));
  CHECK(b.init.r32(kDpu + DPU_BURSTS) == 4 + 4 + 5);  // desc, in, res, out x2; desc, in, bias, out, argmax
  uint64_t elem_ev = 0, op_ev = 0;
  for (const auto& e : b.power.events()) {
    if (e.component == "dpu" && e.name == "element") elem_ev = e.count;
    if (e.component == "dpu" && e.name == "op") op_ev = e.count;
  }
  CHECK(elem_ev >= 3 * elems);
  CHECK(op_ev >= 3);
}

TEST_CASE("bad ops and bus errors set error status and the IRQ") {
  auto& b = bench();
  dpu_op_t d{};
  d.n = 1, d.c = 4, d.h = 4, d.w = 4, d.out_h = 4, d.out_w = 4;
  d.in_addr = static_cast<uint32_t>(kSram + 0x20000);
  chw_strides(4, 4, 4, 4, &d.in_stride_n);
  d.in_gain = 1.0f;
  d.out_addr = static_cast<uint32_t>(kSram + 0x21000);
  chw_strides(4, 4, 4, 1, &d.out_stride_n);
  d.flags = DPU_OP_OUT_U8;
  d.out_bits = 12, d.out_scale = 1.0f;  // bad: more than 8 bits
  cimvp::dpu::encode(d, b.mem(kSram + 0x700));
  uint32_t st = b.run(kSram + 0x700);
  CHECK((st & DPU_STATUS_ERROR) != 0);
  CHECK(DPU_STATUS_ERRCODE(st) == DPU_ERR_BAD_OP);
  CHECK(b.init.r32(kDpu + DPU_CUR_OP) == kSram + 0x700);
  d.out_bits = 8;
  d.in_addr = static_cast<uint32_t>(kSram + kSramSize - 32);  // input runs past the SRAM
  cimvp::dpu::encode(d, b.mem(kSram + 0x700));
  st = b.run(kSram + 0x700);
  CHECK(DPU_STATUS_ERRCODE(st) == DPU_ERR_IN_BUS);
  d.in_addr = static_cast<uint32_t>(kSram + 0x20000);
  d.out_addr = 0x70000000;  // unmapped
  cimvp::dpu::encode(d, b.mem(kSram + 0x700));
  st = b.run(kSram + 0x700);
  CHECK(DPU_STATUS_ERRCODE(st) == DPU_ERR_OUT_BUS);
  st = b.run(0x70000000);  // the op descriptor itself is unmapped
  CHECK(DPU_STATUS_ERRCODE(st) == DPU_ERR_DESC_BUS);
  d.out_addr = static_cast<uint32_t>(kSram + 0x21000);
  cimvp::dpu::encode(d, b.mem(kSram + 0x700));
  st = b.run(kSram + 0x700);
  CHECK((st & DPU_STATUS_ERROR) == 0);
}

