// Module test of the crossbar tile through a TLM test initiator: weights programmed, input
// codes in SRAM, registers written over the bus, the batch runs in simulated time, results
// read back from SRAM and checked bit-exactly against the integer dot product; IRQ,
// counters and error statuses checked too.
#include "tests/support/sc_test_main.hpp"

#include <tlm_utils/simple_initiator_socket.h>

#include <cstring>
#include <random>

#include "cimvp/regs.h"
#include "models/crossbar/tile.hpp"
#include "platform/bus/router.hpp"
#include "platform/config/scenario.hpp"
#include "platform/memory/memory.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/tracing/tracer.hpp"

CIMVP_SC_TEST_MAIN

namespace {

constexpr uint64_t kSram = 0x10000000, kTile = 0x20000000;

struct Initiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Initiator> isock{"isock"};
  explicit Initiator(const sc_core::sc_module_name& n) : sc_core::sc_module(n) {}
  tlm::tlm_response_status rw(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len) {
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(addr);
    gp.set_data_ptr(static_cast<unsigned char*>(data));
    gp.set_data_length(len);
    gp.set_streaming_width(len);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    isock->b_transport(gp, d);
    return gp.get_response_status();
  }
  void w32(uint64_t a, uint32_t v) { REQUIRE(rw(tlm::TLM_WRITE_COMMAND, a, &v, 4) == tlm::TLM_OK_RESPONSE); }
  uint32_t r32(uint64_t a) {
    uint32_t v = 0;
    REQUIRE(rw(tlm::TLM_READ_COMMAND, a, &v, 4) == tlm::TLM_OK_RESPONSE);
    return v;
  }
};

cimvp::config::Scenario make_scenario() {
  cimvp::config::LoadOptions lo;
  lo.overrides = {"chip.crossbar.rows=64", "chip.crossbar.cols=64", "chip.adc.mode=ideal"};
  return cimvp::config::load_scenario(cimvp::config::kSelftestScenario, lo);
}

struct Bench {
  cimvp::config::Scenario scenario = make_scenario();
  cimvp::Tracer tracer;
  cimvp::PowerSc power{1000};
  cimvp::Context ctx{scenario, tracer, power};
  cimvp::Router router{"bus", ctx};
  cimvp::Memory sram{"sram", ctx, 0x100000, scenario.tech.sram};
  cimvp::Tile tile{"tile0", ctx, 0};
  Initiator init{"init"};
  sc_core::sc_signal<bool> irq{"irq"};
  Bench() {
    init.isock.bind(router.tsock);
    tile.isock.bind(router.tsock);
    router.name_initiator(0, "init");
    router.name_initiator(1, "tile0");
    router.map("sram", kSram, 0x100000);
    router.isock.bind(sram.tsock);
    router.map("tile0", kTile, TILE_SIZE);
    router.isock.bind(tile.tsock);
    tile.irq(irq);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
  }
};

Bench& bench() {
  static Bench b;
  return b;
}

}  // namespace

TEST_CASE("a batch computes the exact integer dot product, raises the IRQ and counts") {
  auto& b = bench();
  const int k = 40, n = 5, nvec = 17;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> wdist(-127, 127), xdist(0, 255);
  Eigen::MatrixXi codes(k, n);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < n; ++j) codes(i, j) = wdist(rng);
  b.tile.load_block(cimvp::crossbar::map_codes(codes, b.scenario.chip.mapping, b.scenario.chip.device));
  b.tile.program_ideal();

  Eigen::MatrixXi x(nvec, k);
  const uint32_t in_stride = 48;  // not contiguous: one fetch per vector
  for (int v = 0; v < nvec; ++v)
    for (int i = 0; i < k; ++i) {
      x(v, i) = xdist(rng);
      b.sram.data()[0x100 + v * in_stride + i] = static_cast<uint8_t>(x(v, i));
    }
  b.init.w32(kTile + TILE_K, k);
  b.init.w32(kTile + TILE_N, n);
  b.init.w32(kTile + TILE_IN_ADDR, kSram + 0x100);
  b.init.w32(kTile + TILE_IN_STRIDE, in_stride);
  b.init.w32(kTile + TILE_OUT_ADDR, kSram + 0x4000);
  b.init.w32(kTile + TILE_OUT_STRIDE, n * 4);
  b.init.w32(kTile + TILE_NVEC, nvec);
  b.init.w32(kTile + TILE_CTRL, TILE_CTRL_START);
  CHECK((b.init.r32(kTile + TILE_STATUS) & TILE_STATUS_BUSY) != 0);
  CHECK_FALSE(b.irq.read());
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
  CHECK(b.irq.read());
  uint32_t st = b.init.r32(kTile + TILE_STATUS);
  CHECK(st == TILE_STATUS_DONE);

  Eigen::MatrixXd ref = cimvp::crossbar::exact_dot(x, codes);
  for (int v = 0; v < nvec; ++v)
    for (int j = 0; j < n; ++j) {
      float y;
      std::memcpy(&y, b.sram.data() + 0x4000 + (v * n + j) * 4, 4);
      CHECK(y == static_cast<float>(ref(v, j)));
    }
  CHECK(b.init.r32(kTile + TILE_VECTORS) == nvec);
  CHECK(b.init.r32(kTile + TILE_BATCHES) == 1);
  const auto& m = b.scenario.chip.mapping;
  CHECK(b.init.r32(kTile + TILE_CONV_LO) == static_cast<uint32_t>(nvec * m.input_cycles() * m.slices() * n));
  CHECK(b.init.r32(kTile + TILE_CYCLES_LO) > 0);

  // Clearing the status drops the interrupt.
  b.init.w32(kTile + TILE_CTRL, TILE_CTRL_CLEAR_STATUS);
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_NS));  // lets the IRQ driver run
  CHECK_FALSE(b.irq.read());

  SECTION("accumulate adds a second pass onto the first") {
    b.init.w32(kTile + TILE_FLAGS, TILE_FLAG_ACCUMULATE);
    b.init.w32(kTile + TILE_CTRL, TILE_CTRL_START);
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
    b.init.w32(kTile + TILE_FLAGS, 0);
    for (int j = 0; j < n; ++j) {
      float y;
      std::memcpy(&y, b.sram.data() + 0x4000 + j * 4, 4);
      CHECK(y == static_cast<float>(2 * ref(0, j)));
    }
    b.init.w32(kTile + TILE_CTRL, TILE_CTRL_CLEAR_STATUS);
  }
}

TEST_CASE("misconfiguration sets an error code and raises the IRQ, never crashes") {
  auto& b = bench();
  // ctest runs each case in its own process: this one programs its own weights.
  Eigen::MatrixXi codes = Eigen::MatrixXi::Constant(40, 5, 3);
  b.tile.load_block(cimvp::crossbar::map_codes(codes, b.scenario.chip.mapping, b.scenario.chip.device));
  b.init.w32(kTile + TILE_K, 40);
  b.init.w32(kTile + TILE_N, 5);
  auto run_expect = [&](uint32_t code) {
    b.init.w32(kTile + TILE_CTRL, TILE_CTRL_START);
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
    uint32_t st = b.init.r32(kTile + TILE_STATUS);
    CHECK((st & TILE_STATUS_ERROR) != 0);
    CHECK(TILE_STATUS_ERRCODE(st) == code);
    CHECK(b.irq.read());
    b.init.w32(kTile + TILE_CTRL, TILE_CTRL_CLEAR_STATUS);
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_NS));  // lets the IRQ driver run
  };
  b.init.w32(kTile + TILE_NVEC, 2);
  b.init.w32(kTile + TILE_IN_ADDR, kSram + 0x100);
  b.init.w32(kTile + TILE_IN_STRIDE, 40);
  b.init.w32(kTile + TILE_OUT_ADDR, kSram + 0x4000);
  b.init.w32(kTile + TILE_OUT_STRIDE, 20);
  run_expect(TILE_ERR_NOT_PROGRAMMED);
  b.tile.program_ideal();
  b.init.w32(kTile + TILE_NVEC, 0);
  run_expect(TILE_ERR_NVEC_ZERO);
  b.init.w32(kTile + TILE_NVEC, 2);
  b.init.w32(kTile + TILE_K, 9999);
  run_expect(TILE_ERR_SHAPE);
  b.init.w32(kTile + TILE_K, 40);
  b.init.w32(kTile + TILE_IN_ADDR, 0x7000000);  // no memory there
  run_expect(TILE_ERR_INPUT_BUS);
  b.init.w32(kTile + TILE_IN_ADDR, kSram + 0x100);
  b.init.w32(kTile + TILE_OUT_ADDR, kSram + 0x100000 - 8);  // runs off the end of SRAM
  run_expect(TILE_ERR_OUTPUT_BUS);
}
