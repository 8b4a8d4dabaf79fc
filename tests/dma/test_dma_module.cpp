// Module test of the DMA through a TLM test initiator: descriptors in SRAM, started through the
// registers; memory contents, IRQ line, counters, burst counts, closed-form timing and energy,
// and the error status of bad descriptors.
#include "tests/support/sc_test_main.hpp"

#include <tlm_utils/simple_initiator_socket.h>

#include <cstring>
#include <vector>

#include "cimvp/regs.h"
#include "models/dma/dma.hpp"
#include "platform/bus/router.hpp"
#include "platform/config/scenario.hpp"
#include "platform/memory/memory.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/tracing/tracer.hpp"
#include "tests/support/test_initiator.hpp"

CIMVP_SC_TEST_MAIN

namespace {

constexpr uint64_t kSram = 0x10000000, kDma = 0x30000000;
constexpr uint32_t kSramSize = 0x100000;

using Initiator = cimvp_test::TestInitiator;

struct Bench {
  cimvp::config::Scenario scenario = cimvp::config::load_scenario(cimvp::config::kSelftestScenario);
  cimvp::Tracer tracer;
  cimvp::PowerSc power{1000};
  cimvp::Context ctx{scenario, tracer, power};
  cimvp::Router router{"bus", ctx};
  cimvp::Memory sram{"sram", ctx, kSramSize, scenario.tech.sram};
  cimvp::Dma dma{"dma", ctx};
  Initiator init{"init"};
  sc_core::sc_signal<bool> irq{"dma_irq"};
  Bench() {
    init.isock.bind(router.tsock);
    dma.isock.bind(router.tsock);
    router.name_initiator(0, "init");
    router.name_initiator(1, "dma");
    router.map("sram", kSram, kSramSize);
    router.isock.bind(sram.tsock);
    router.map("dma", kDma, 0x1000);
    router.isock.bind(dma.tsock);
    dma.irq(irq);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
  }
  uint8_t* mem(uint64_t bus_addr) { return sram.data() + (bus_addr - kSram); }
  void put(uint64_t at, const dma_desc_t& d) { cimvp::dma::encode(d, mem(at)); }
  // Starts the chain at `first`, runs the simulation, returns STATUS (IRQ checked high).
  uint32_t run(uint64_t first) {
    init.w32(kDma + DMA_DESC_ADDR, static_cast<uint32_t>(first));
    init.w32(kDma + DMA_CTRL, DMA_CTRL_CLEAR_COUNTERS | DMA_CTRL_START);
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
    CHECK(irq.read());
    const uint32_t st = init.r32(kDma + DMA_STATUS);
    CHECK((st & (DMA_STATUS_BUSY | DMA_STATUS_DONE)) == DMA_STATUS_DONE);
    init.w32(kDma + DMA_CTRL, DMA_CTRL_CLEAR_STATUS);
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_NS));  // lets the IRQ driver run
    CHECK_FALSE(irq.read());
    return st;
  }
  uint64_t busy_ns() { return init.r32(kDma + DMA_BUSY_NS_LO) | (uint64_t{init.r32(kDma + DMA_BUSY_NS_HI)} << 32); }
};

Bench& bench() {
  static Bench b;
  return b;
}

dma_desc_t copy(uint64_t src, uint64_t dst, uint32_t s0, uint32_t s1, uint32_t s2, uint32_t ss1, uint32_t ss2,
                uint32_t ds1, uint32_t ds2) {
  dma_desc_t d{};
  d.ctrl = DMA_MODE_COPY;
  d.src = static_cast<uint32_t>(src), d.dst = static_cast<uint32_t>(dst);
  d.size0 = s0, d.size1 = s1, d.size2 = s2;
  d.src_stride1 = ss1, d.src_stride2 = ss2, d.dst_stride1 = ds1, d.dst_stride2 = ds2;
  return d;
}

}  // namespace

TEST_CASE("ID register answers the DMA type") {
  CHECK(bench().init.r32(kDma + DMA_ID) == CIMVP_ID(CIMVP_BLOCK_DMA, DMA_VERSION_VALUE));
}

TEST_CASE("a contiguous 8 KiB copy moves in 4 KiB bursts with closed-form time and energy") {
  auto& b = bench();
  const uint64_t src = kSram + 0x10000, dst = kSram + 0x20000;
  for (uint32_t i = 0; i < 8192; ++i) *b.mem(src + i) = static_cast<uint8_t>(i * 7 + 3);
  b.put(kSram + 0x100, copy(src, dst, 8192, 1, 1, 0, 0, 0, 0));
  uint64_t bytes_ev_before = 0;
  for (const auto& e : b.power.events())
    if (e.component == "dma" && e.name == "byte_moved") bytes_ev_before = e.count;
  const uint32_t st = b.run(kSram + 0x100);
  CHECK((st & DMA_STATUS_ERROR) == 0);
  CHECK(std::memcmp(b.mem(src), b.mem(dst), 8192) == 0);
  CHECK(b.init.r32(kDma + DMA_DESC_DONE) == 1);
  CHECK(b.init.r32(kDma + DMA_BYTES_LO) == 8192);
  CHECK(b.init.r32(kDma + DMA_BURSTS) == 5);  // descriptor + 2 reads + 2 writes
  // Per burst: SRAM latency + bytes / SRAM bandwidth + bus latency; then the engine's
  // per-descriptor setup + bytes / engine bandwidth (tech table).
  const auto& t = b.scenario.tech;
  auto burst = [&](double n) { return t.sram.latency_ns + n / t.sram.bytes_per_ns + t.bus.latency_ns; };
  const double expect = burst(DMA_DESC_BYTES) + 4 * burst(4096) + t.dma.setup_ns_per_descriptor + 8192 / t.dma.bytes_per_ns;
  CHECK(static_cast<double>(b.busy_ns()) == Approx(expect).margin(0.5));
  uint64_t bytes_ev = 0, desc_ev = 0;
  for (const auto& e : b.power.events()) {
    if (e.component == "dma" && e.name == "byte_moved") bytes_ev = e.count;
    if (e.component == "dma" && e.name == "descriptor") desc_ev = e.count;
  }
  CHECK(bytes_ev - bytes_ev_before == 8192);
  CHECK(desc_ev >= 1);
}

TEST_CASE("a chain: strided 3-D gather of 4-byte elements, then a fill, IRQ once at the end") {
  auto& b = bench();
  const uint64_t src = kSram + 0x30000, dst = kSram + 0x40000, dst2 = kSram + 0x48000;
  // Source: 2 planes x 3 rows x 4 floats, rows 64 bytes apart, planes 1024 apart.
  for (uint32_t z = 0; z < 2; ++z)
    for (uint32_t y = 0; y < 3; ++y)
      for (uint32_t x = 0; x < 4; ++x) {
        const float v = 100.0f * z + 10.0f * y + x;
        std::memcpy(b.mem(src + z * 1024 + y * 64 + x * 4), &v, 4);
      }
  std::memset(b.mem(dst), 0xEE, 256);
  dma_desc_t d0 = copy(src, dst, 4, 3, 2, 64, 1024, 16, 64);  // into rows of 16 B, planes of 64 B (gap 16)
  d0.ctrl |= DMA_DESC_ESIZE(2);
  d0.next = static_cast<uint32_t>(kSram + 0x200);
  dma_desc_t d1{};
  d1.ctrl = DMA_MODE_FILL | DMA_DESC_ESIZE(2) | DMA_DESC_IRQ;
  d1.dst = static_cast<uint32_t>(dst2), d1.size0 = 5, d1.size1 = 2, d1.size2 = 1, d1.dst_stride1 = 32;
  d1.fill = 0x3F800000u;  // 1.0f
  b.put(kSram + 0x180, d0);
  b.put(kSram + 0x200, d1);
  const uint32_t st = b.run(kSram + 0x180);
  CHECK((st & DMA_STATUS_ERROR) == 0);
  CHECK((st & DMA_STATUS_DESC_IRQ) != 0);
  CHECK(b.init.r32(kDma + DMA_DESC_DONE) == 2);
  CHECK(b.init.r32(kDma + DMA_BYTES_LO) == 96 + 40);
  CHECK(b.init.r32(kDma + DMA_CUR_DESC) == kSram + 0x200);
  for (uint32_t z = 0; z < 2; ++z)
    for (uint32_t y = 0; y < 3; ++y)
      for (uint32_t x = 0; x < 4; ++x) {
        float v;
        std::memcpy(&v, b.mem(dst + z * 64 + y * 16 + x * 4), 4);
        CHECK(v == 100.0f * z + 10.0f * y + x);
      }
  CHECK(*b.mem(dst + 48) == 0xEE);  // the gap after each plane is untouched
  for (uint32_t r = 0; r < 2; ++r)
    for (uint32_t x = 0; x < 5; ++x) {
      float v;
      std::memcpy(&v, b.mem(dst2 + r * 32 + x * 4), 4);
      CHECK(v == 1.0f);
    }
  // 2 descriptors + 6 source rows + 2 destination planes (rows merge) + 2 fill rows.
  CHECK(b.init.r32(kDma + DMA_BURSTS) == 2 + 6 + 2 + 2);
}

TEST_CASE("im2col of a padded, strided, dilated batch matches a naive reference") {
  auto& b = bench();
  const uint32_t C = 2, H = 6, W = 5, KH = 3, KW = 2, SH = 2, SW = 1, DH = 1, DW = 2, PT = 1, PL = 2, PB = 1, PR = 0;
  const uint64_t src = kSram + 0x50000, dst = kSram + 0x60000;
  const uint32_t img_stride = 64;  // images 64 bytes apart (C*H*W = 60)
  for (uint32_t i = 0; i < 2 * img_stride; ++i) *b.mem(src + i) = static_cast<uint8_t>(1 + (i * 37) % 251);
  dma_desc_t d{};
  d.ctrl = DMA_MODE_IM2COL | DMA_DESC_IRQ;
  d.src = static_cast<uint32_t>(src), d.dst = static_cast<uint32_t>(dst), d.size0 = 2;
  d.c = C, d.h = H, d.w = W, d.kh = KH, d.kw = KW, d.stride_h = SH, d.stride_w = SW, d.dil_h = DH, d.dil_w = DW;
  d.pad_t = PT, d.pad_l = PL, d.pad_b = PB, d.pad_r = PR, d.pad_value = 0;
  d.src_stride1 = W, d.src_stride2 = H * W, d.src_stride_n = img_stride;
  const uint32_t K = C * KH * KW;
  d.dst_stride1 = K;
  b.put(kSram + 0x280, d);
  const uint32_t st = b.run(kSram + 0x280);
  REQUIRE((st & DMA_STATUS_ERROR) == 0);
  const uint32_t OH = (H + PT + PB - (DH * (KH - 1) + 1)) / SH + 1, OW = (W + PL + PR - (DW * (KW - 1) + 1)) / SW + 1;
  REQUIRE(OH == 3);
  REQUIRE(OW == 5);
  int mismatches = 0;
  for (uint32_t n = 0; n < 2; ++n)
    for (uint32_t oy = 0; oy < OH; ++oy)
      for (uint32_t ox = 0; ox < OW; ++ox)
        for (uint32_t c = 0; c < C; ++c)
          for (uint32_t ky = 0; ky < KH; ++ky)
            for (uint32_t kx = 0; kx < KW; ++kx) {
              const int iy = static_cast<int>(oy * SH + ky * DH) - static_cast<int>(PT);
              const int ix = static_cast<int>(ox * SW + kx * DW) - static_cast<int>(PL);
              const uint8_t want = (iy < 0 || ix < 0 || iy >= static_cast<int>(H) || ix >= static_cast<int>(W))
                                       ? 0
                                       : *b.mem(src + n * img_stride + c * H * W + iy * W + ix);
              const uint32_t row = n * OH * OW + oy * OW + ox, k = c * KH * KW + ky * KW + kx;
              if (*b.mem(dst + row * K + k) != want) ++mismatches;
            }
  CHECK(mismatches == 0);
  CHECK(b.init.r32(kDma + DMA_BYTES_LO) == 2 * OH * OW * K);
  // Descriptor + one read per image (not adjacent) + one write of the dense patch matrix.
  CHECK(b.init.r32(kDma + DMA_BURSTS) == 1 + 2 + 1);
}

TEST_CASE("bad descriptors set error status and the IRQ, naming the failing descriptor") {
  auto& b = bench();
  auto err = [](uint32_t st) { return DMA_STATUS_ERRCODE(st); };
  // Zero size.
  b.put(kSram + 0x300, copy(kSram, kSram + 0x1000, 0, 1, 1, 0, 0, 0, 0));
  uint32_t st = b.run(kSram + 0x300);
  CHECK((st & DMA_STATUS_ERROR) != 0);
  CHECK(err(st) == DMA_ERR_BAD_DESC);
  CHECK(b.init.r32(kDma + DMA_CUR_DESC) == kSram + 0x300);
  // Source past the end of SRAM: the read burst gets a bus error.
  b.put(kSram + 0x380, copy(kSram + kSramSize - 16, kSram + 0x1000, 64, 1, 1, 0, 0, 0, 0));
  st = b.run(kSram + 0x380);
  CHECK(err(st) == DMA_ERR_SRC_BUS);
  // Destination in unmapped space; the second descriptor of a chain.
  dma_desc_t ok = copy(kSram, kSram + 0x1000, 16, 1, 1, 0, 0, 0, 0);
  ok.next = static_cast<uint32_t>(kSram + 0x480);
  b.put(kSram + 0x400, ok);
  b.put(kSram + 0x480, copy(kSram, 0x50000000, 16, 1, 1, 0, 0, 0, 0));
  st = b.run(kSram + 0x400);
  CHECK(err(st) == DMA_ERR_DST_BUS);
  CHECK(b.init.r32(kDma + DMA_DESC_DONE) == 1);
  CHECK(b.init.r32(kDma + DMA_CUR_DESC) == kSram + 0x480);
  // Descriptor address outside memory.
  st = b.run(0x60000000);
  CHECK(err(st) == DMA_ERR_DESC_BUS);
  // The engine still works afterwards.
  b.put(kSram + 0x500, copy(kSram + 0x10000, kSram + 0x70000, 32, 1, 1, 0, 0, 0, 0));
  st = b.run(kSram + 0x500);
  CHECK((st & DMA_STATUS_ERROR) == 0);
  CHECK(std::memcmp(b.mem(kSram + 0x10000), b.mem(kSram + 0x70000), 32) == 0);
}

TEST_CASE("registers: RO status rejects writes, START while busy is refused, ABORT stops the chain") {
  auto& b = bench();
  // A self-linked descriptor loops until aborted.
  dma_desc_t loop = copy(kSram + 0x10000, kSram + 0x78000, 1024, 1, 1, 0, 0, 0, 0);
  loop.next = static_cast<uint32_t>(kSram + 0x580);
  b.put(kSram + 0x580, loop);
  b.init.w32(kDma + DMA_DESC_ADDR, static_cast<uint32_t>(kSram + 0x580));
  b.init.w32(kDma + DMA_CTRL, DMA_CTRL_CLEAR_COUNTERS | DMA_CTRL_START);
  sc_core::sc_start(sc_core::sc_time(5, sc_core::SC_US));
  CHECK((b.init.r32(kDma + DMA_STATUS) & DMA_STATUS_BUSY) != 0);
  CHECK_FALSE(b.irq.read());
  b.init.w32(kDma + DMA_CTRL, DMA_CTRL_START);
  CHECK(DMA_STATUS_ERRCODE(b.init.r32(kDma + DMA_STATUS)) == DMA_ERR_BUSY);
  b.init.w32(kDma + DMA_CTRL, DMA_CTRL_ABORT);
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
  CHECK(b.irq.read());
  const uint32_t st = b.init.r32(kDma + DMA_STATUS);
  CHECK((st & DMA_STATUS_BUSY) == 0);
  CHECK(DMA_STATUS_ERRCODE(st) == DMA_ERR_ABORTED);
  CHECK(b.init.r32(kDma + DMA_DESC_DONE) > 2);
  b.init.w32(kDma + DMA_CTRL, DMA_CTRL_CLEAR_STATUS);
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_NS));  // lets the IRQ driver run
  CHECK_FALSE(b.irq.read());
  // Writing a read-only register is a command error on the bus.
  uint32_t v = 1;
  tlm::tlm_generic_payload gp;
  gp.set_command(tlm::TLM_WRITE_COMMAND);
  gp.set_address(kDma + DMA_STATUS);
  gp.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
  gp.set_data_length(4);
  gp.set_streaming_width(4);
  sc_core::sc_time d;
  b.init.isock->b_transport(gp, d);
  CHECK(gp.get_response_status() == tlm::TLM_COMMAND_ERROR_RESPONSE);
}
