// Module test of the programming controller through a TLM test initiator: a target table in
// SRAM is programmed into a tile's array by write-verify, read back through the tile, and
// the time and energy the controller reports are the sums over its pulses and verify reads.
#include "tests/support/sc_test_main.hpp"

#include <tlm_utils/simple_initiator_socket.h>

#include <cmath>
#include <cstring>
#include <random>

#include "cimvp/regs.h"
#include "models/crossbar/tile.hpp"
#include "models/progctl/progctl.hpp"
#include "platform/bus/router.hpp"
#include "platform/config/scenario.hpp"
#include "platform/memory/memory.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/tracing/tracer.hpp"

CIMVP_SC_TEST_MAIN

namespace {

constexpr uint64_t kSram = 0x10000000, kTile = 0x20000000, kProg = 0x30000000;

struct Initiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Initiator> isock{"isock"};
  explicit Initiator(const sc_core::sc_module_name& n) : sc_core::sc_module(n) {}
  void w32(uint64_t a, uint32_t v) {
    tlm::tlm_generic_payload gp;
    gp.set_command(tlm::TLM_WRITE_COMMAND);
    gp.set_address(a);
    gp.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
    gp.set_data_length(4);
    gp.set_streaming_width(4);
    sc_core::sc_time d;
    isock->b_transport(gp, d);
    REQUIRE(gp.is_response_ok());
  }
  uint32_t r32(uint64_t a) {
    uint32_t v = 0;
    tlm::tlm_generic_payload gp;
    gp.set_command(tlm::TLM_READ_COMMAND);
    gp.set_address(a);
    gp.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
    gp.set_data_length(4);
    gp.set_streaming_width(4);
    sc_core::sc_time d;
    isock->b_transport(gp, d);
    REQUIRE(gp.is_response_ok());
    return v;
  }
};

cimvp::config::Scenario make_scenario() {
  cimvp::config::LoadOptions lo;
  lo.overrides = {"chip.crossbar.rows=32", "chip.crossbar.cols=32", "chip.program.mode=write_verify"};
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
  cimvp::ProgCtl prog{"progctl", ctx, [this](unsigned i) { return i == 0 ? &tile : nullptr; }};
  Initiator init{"init"};
  sc_core::sc_signal<bool> tile_irq{"tile_irq"}, prog_irq{"prog_irq"};
  Bench() {
    init.isock.bind(router.tsock);
    tile.isock.bind(router.tsock);
    prog.isock.bind(router.tsock);
    for (unsigned i = 0; i < 3; ++i) router.name_initiator(i, i == 0 ? "init" : i == 1 ? "tile0" : "progctl");
    router.map("sram", kSram, 0x100000);
    router.isock.bind(sram.tsock);
    router.map("tile0", kTile, TILE_SIZE);
    router.isock.bind(tile.tsock);
    router.map("progctl", kProg, 0x1000);
    router.isock.bind(prog.tsock);
    tile.irq(tile_irq);
    prog.irq(prog_irq);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
  }
  void put_entry(uint32_t i, uint32_t cell, float target) {
    std::memcpy(sram.data() + 0x1000 + 8 * i, &cell, 4);
    std::memcpy(sram.data() + 0x1000 + 8 * i + 4, &target, 4);
  }
  uint32_t program(uint32_t count, uint32_t dest = PROG_DEST_VALUE(0, PROG_DEST_ARRAY), uint64_t table = kSram + 0x1000) {
    init.w32(kProg + PROG_TABLE_ADDR, static_cast<uint32_t>(table));
    init.w32(kProg + PROG_COUNT, count);
    init.w32(kProg + PROG_DEST, dest);
    init.w32(kProg + PROG_RESULT_ADDR, kSram + 0x20000);
    init.w32(kProg + PROG_FAIL_ADDR, kSram + 0x30000);
    init.w32(kProg + PROG_FAIL_MAX, 1024);
    init.w32(kProg + PROG_CTRL, PROG_CTRL_START);
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_SEC));
    CHECK(prog_irq.read());
    uint32_t st = init.r32(kProg + PROG_STATUS);
    init.w32(kProg + PROG_CTRL, PROG_CTRL_CLEAR_STATUS);
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_NS));  // lets the IRQ driver run
    return st;
  }
};

Bench& bench() {
  static Bench b;
  return b;
}

}  // namespace

TEST_CASE("a target table is programmed by write-verify and read back through the tile") {
  auto& b = bench();
  const auto& map = b.scenario.chip.mapping;
  const int k = 24, n = 2;
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> wd(-127, 127);
  Eigen::MatrixXi codes(k, n);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < n; ++j) codes(i, j) = wd(rng);
  auto block = cimvp::crossbar::map_codes(codes, map, b.scenario.chip.device);
  b.tile.load_block(block);
  uint32_t count = 0;
  for (int r = 0; r < k; ++r)
    for (int c = 0; c < block.used_cols; ++c) b.put_entry(count++, (r << 16) | c, block.targets_us(r, c));

  b.init.w32(kProg + PROG_CTRL, PROG_CTRL_CLEAR_COUNTERS);
  const uint64_t t_before = static_cast<uint64_t>(sc_core::sc_time_stamp().to_seconds() * 1e9);
  uint32_t st = b.program(count);
  CHECK((st & PROG_STATUS_ERROR) == 0);
  CHECK(b.init.r32(kProg + PROG_DONE_ENTRIES) == count);
  const uint32_t failures = b.init.r32(kProg + PROG_FAILURES);
  CHECK(failures == 0);  // every target is inside the window and no cell is stuck

  // Every cell landed within the verify band (plus the verify read's own noise).
  const double tol = b.scenario.chip.program.tolerance_us;
  int outside = 0;
  for (int r = 0; r < k; ++r)
    for (int c = 0; c < block.used_cols; ++c)
      if (std::abs(b.tile.array().conductance(r, c) - block.targets_us(r, c)) > tol + 1.0) ++outside;
  CHECK(outside == 0);
  // Achieved conductances were written back per entry.
  float g0;
  std::memcpy(&g0, b.sram.data() + 0x20000, 4);
  CHECK(g0 == Approx(b.tile.array().conductance(0, 0)).epsilon(1e-6));

  // Time: the sum of per-pulse and per-verify times (ISPP pulses are 100 ns wide).
  const uint64_t pulses = b.init.r32(kProg + PROG_PULSES_LO), verifies = b.init.r32(kProg + PROG_VERIFY_LO);
  const uint64_t busy = b.init.r32(kProg + PROG_BUSY_NS_LO);
  const auto& t = b.scenario.tech.program;
  const double expected = pulses * (100.0 + t.pulse_overhead_ns) + verifies * t.verify_read_ns;
  CHECK(pulses > count);  // cells start at g_min: most need several pulses
  CHECK(static_cast<double>(busy) >= expected - 1.0);
  CHECK(static_cast<double>(busy) <= expected + 1000.0);  // + the result write-back bursts
  (void)t_before;
  // Energy: the power events count exactly the pulses and verify reads.
  uint64_t ev_pulses = 0, ev_verify = 0;
  for (const auto& e : b.power.events()) {
    if (e.name == "set_pulse_driver" || e.name == "reset_pulse_driver") ev_pulses += e.count;
    if (e.name == "verify_read") ev_verify += e.count;
  }
  CHECK(ev_pulses == pulses);
  CHECK(ev_verify == verifies);

  // The programmed tile computes close to the exact dot product (error ~ tolerance).
  const int nvec = 4;
  Eigen::MatrixXi x(nvec, k);
  for (int v = 0; v < nvec; ++v)
    for (int i = 0; i < k; ++i) {
      x(v, i) = (v * 37 + i * 11) % 256;
      b.sram.data()[0x100 + v * k + i] = static_cast<uint8_t>(x(v, i));
    }
  b.init.w32(kTile + TILE_K, k);
  b.init.w32(kTile + TILE_N, n);
  b.init.w32(kTile + TILE_IN_ADDR, kSram + 0x100);
  b.init.w32(kTile + TILE_IN_STRIDE, k);
  b.init.w32(kTile + TILE_OUT_ADDR, kSram + 0x8000);
  b.init.w32(kTile + TILE_OUT_STRIDE, n * 4);
  b.init.w32(kTile + TILE_NVEC, nvec);
  b.init.w32(kTile + TILE_CTRL, TILE_CTRL_START);
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
  REQUIRE(b.init.r32(kTile + TILE_STATUS) == TILE_STATUS_DONE);
  Eigen::MatrixXd ref = cimvp::crossbar::exact_dot(x, codes);
  double max_rel = 0, scale = ref.cwiseAbs().maxCoeff();
  for (int v = 0; v < nvec; ++v)
    for (int j = 0; j < n; ++j) {
      float y;
      std::memcpy(&y, b.sram.data() + 0x8000 + (v * n + j) * 4, 4);
      max_rel = std::max(max_rel, std::abs(y - ref(v, j)) / scale);
    }
  CHECK(max_rel < 0.05);
  CHECK(max_rel > 0);  // write-verify leaves real device error
  b.init.w32(kTile + TILE_CTRL, TILE_CTRL_CLEAR_STATUS);
}

TEST_CASE("bad tables are refused whole, with the entry named") {
  auto& b = bench();
  const double before = b.tile.array().conductance(0, 0);
  b.put_entry(0, 0, 250.f);
  b.put_entry(1, 1, 9999.f);  // outside [g_min, g_max]
  uint32_t st = b.program(2);
  CHECK((st & PROG_STATUS_ERROR) != 0);
  CHECK(PROG_STATUS_ERRCODE(st) == PROG_ERR_ENTRY);
  CHECK(b.init.r32(kProg + PROG_BAD_INDEX) == 1);
  CHECK(b.init.r32(kProg + PROG_DONE_ENTRIES) == 0);
  CHECK(b.tile.array().conductance(0, 0) == before);  // entry 0 was not programmed either

  b.put_entry(1, (99u << 16) | 1u, 200.f);  // row outside the array
  st = b.program(2);
  CHECK(PROG_STATUS_ERRCODE(st) == PROG_ERR_ENTRY);
  CHECK(PROG_STATUS_ERRCODE(b.program(0)) == PROG_ERR_COUNT_ZERO);
  CHECK(PROG_STATUS_ERRCODE(b.program(1, PROG_DEST_VALUE(5, PROG_DEST_ARRAY))) == PROG_ERR_DEST);
  CHECK(PROG_STATUS_ERRCODE(b.program(4, PROG_DEST_VALUE(0, PROG_DEST_ARRAY), 0x7000000)) == PROG_ERR_TABLE_BUS);
}
