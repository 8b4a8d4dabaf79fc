// The programming controller and one tile on a bus with SRAM and a TLM test initiator, for
// the progctl module tests. Each test executable elaborates one Bench (SystemC elaborates
// once per process) with its own scenario overrides; the VCD is written when asked for.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>

#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "cimvp/regs.h"
#include "models/crossbar/tile.hpp"
#include "models/progctl/progctl.hpp"
#include "platform/bus/router.hpp"
#include "platform/config/scenario.hpp"
#include "platform/memory/memory.hpp"
#include "platform/power/power_monitor.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/tracing/tracer.hpp"
#include "tests/support/test_initiator.hpp"

namespace progctl_test {

constexpr uint64_t kSram = 0x10000000, kTile = 0x20000000, kProg = 0x30000000, kSramSize = 0x100000;
constexpr uint32_t kTable = 0x1000, kResults = 0x20000, kFails = 0x30000;  // SRAM offsets

using Initiator = cimvp_test::TestInitiator;

inline cimvp::config::Scenario make_scenario(const std::vector<std::string>& overrides) {
  cimvp::config::LoadOptions lo;
  lo.overrides = {"chip.program.mode=write_verify"};
  lo.overrides.insert(lo.overrides.end(), overrides.begin(), overrides.end());
  return cimvp::config::load_scenario(cimvp::config::kSelftestScenario, lo);
}

inline float bits_f(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint32_t f_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

struct Bench {
  cimvp::config::Scenario scenario;
  cimvp::Tracer tracer;
  std::string vcd_path;
  bool opened;
  cimvp::PowerSc power{1000};
  cimvp::Context ctx{scenario, tracer, power};
  cimvp::Router router{"bus", ctx};
  cimvp::Memory sram{"sram", ctx, kSramSize, scenario.tech.sram};
  cimvp::Tile tile{"tile0", ctx, 0};
  cimvp::ProgCtl prog{"progctl", ctx, [this](unsigned i) { return i == 0 ? &tile : nullptr; }};
  Initiator init{"init"};
  sc_core::sc_signal<bool> tile_irq{"tile_irq"}, prog_irq{"prog_irq"};

  Bench(const std::vector<std::string>& overrides, std::string vcd = "")
      : scenario(make_scenario(overrides)), vcd_path(std::move(vcd)), opened(open()) {
    init.isock.bind(router.tsock);
    tile.isock.bind(router.tsock);
    prog.isock.bind(router.tsock);
    for (unsigned i = 0; i < 3; ++i) router.name_initiator(i, i == 0 ? "init" : i == 1 ? "tile0" : "progctl");
    router.map("sram", kSram, kSramSize);
    router.isock.bind(sram.tsock);
    router.map("tile0", kTile, TILE_SIZE);
    router.isock.bind(tile.tsock);
    router.map("progctl", kProg, 0x1000);
    router.isock.bind(prog.tsock);
    tile.irq(tile_irq);
    prog.irq(prog_irq);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
  }
  bool open() {
    if (!vcd_path.empty()) tracer.open(vcd_path, "");
    return true;
  }

  void put_entry(uint32_t i, uint32_t cell, float target, uint32_t table = kTable) {
    std::memcpy(sram.data() + table + 8 * i, &cell, 4);
    std::memcpy(sram.data() + table + 8 * i + 4, &target, 4);
  }
  float result(uint32_t i) {
    float g;
    std::memcpy(&g, sram.data() + kResults + 4 * i, 4);
    return g;
  }
  uint32_t fail_entry(uint32_t i) {
    uint32_t e;
    std::memcpy(&e, sram.data() + kFails + 4 * i, 4);
    return e;
  }
  void start(uint32_t count, uint32_t dest = PROG_DEST_VALUE(0, PROG_DEST_ARRAY), uint64_t table = kSram + kTable,
             uint32_t result_addr = kSram + kResults, uint32_t fail_addr = kSram + kFails) {
    init.w32(kProg + PROG_TABLE_ADDR, static_cast<uint32_t>(table));
    init.w32(kProg + PROG_COUNT, count);
    init.w32(kProg + PROG_DEST, dest);
    init.w32(kProg + PROG_RESULT_ADDR, result_addr);
    init.w32(kProg + PROG_FAIL_ADDR, fail_addr);
    init.w32(kProg + PROG_FAIL_MAX, 1024);
    init.w32(kProg + PROG_CTRL, PROG_CTRL_START);
  }
  // Starts a job, runs it to completion, returns STATUS (then clears it).
  uint32_t program(uint32_t count, uint32_t dest = PROG_DEST_VALUE(0, PROG_DEST_ARRAY), uint64_t table = kSram + kTable,
                   uint32_t result_addr = kSram + kResults, uint32_t fail_addr = kSram + kFails) {
    start(count, dest, table, result_addr, fail_addr);
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_SEC));
    CHECK(prog_irq.read());
    uint32_t st = init.r32(kProg + PROG_STATUS);
    clear_status();
    return st;
  }
  void clear_status() {
    init.w32(kProg + PROG_CTRL, PROG_CTRL_CLEAR_STATUS);
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_NS));  // lets the IRQ driver run
  }
  uint64_t r64(uint32_t lo) {
    const uint64_t l = init.r32(kProg + lo);
    return (static_cast<uint64_t>(init.r32(kProg + lo + 4)) << 32) | l;
  }
  uint64_t event_count(const std::string& component, const std::string& name) const {
    for (const auto& e : power.events())
      if (e.component == component && e.name == name) return e.count;
    return 0;
  }
  double event_pj_each(const std::string& component, const std::string& name) const {
    for (const auto& e : power.events())
      if (e.component == component && e.name == name) return e.pj_each;
    return -1;
  }
  double component_pj(const std::string& name) {
    return power.core().dynamic_pj(static_cast<std::size_t>(power.core().component_id(name)));
  }
};

}  // namespace progctl_test
