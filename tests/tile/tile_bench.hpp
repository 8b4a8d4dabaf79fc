// A crossbar tile on a bus with SRAM and a TLM test initiator, for the tile module tests.
// Each test executable elaborates one Bench (SystemC elaborates once per process) with its
// own scenario overrides.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cimvp/regs.h"
#include "models/crossbar/tile.hpp"
#include "platform/bus/router.hpp"
#include "platform/config/scenario.hpp"
#include "platform/memory/memory.hpp"
#include "platform/power/power_monitor.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/tracing/tracer.hpp"
#include "tests/support/test_initiator.hpp"

namespace tile_test {

constexpr uint64_t kSram = 0x10000000, kTile = 0x20000000, kSramSize = 0x100000;

using Initiator = cimvp_test::TestInitiator;

inline cimvp::config::Scenario make_scenario(std::vector<std::string> overrides) {
  cimvp::config::LoadOptions lo;
  lo.overrides = {"chip.crossbar.rows=64", "chip.crossbar.cols=64", "chip.adc.mode=ideal"};
  lo.overrides.insert(lo.overrides.end(), overrides.begin(), overrides.end());
  return cimvp::config::load_scenario(cimvp::config::kSelftestScenario, lo);
}

struct Bench {
  cimvp::config::Scenario scenario;
  cimvp::Tracer tracer;
  cimvp::PowerSc power{1000};
  cimvp::Context ctx{scenario, tracer, power};
  cimvp::Router router{"bus", ctx};
  cimvp::Memory sram{"sram", ctx, kSramSize, scenario.tech.sram};
  cimvp::Tile tile{"tile0", ctx, 0};
  Initiator init{"init"};
  sc_core::sc_signal<bool> irq{"irq"};
  explicit Bench(std::vector<std::string> overrides) : scenario(make_scenario(std::move(overrides))) {
    init.isock.bind(router.tsock);
    tile.isock.bind(router.tsock);
    router.name_initiator(0, "init");
    router.name_initiator(1, "tile0");
    router.map("sram", kSram, kSramSize);
    router.isock.bind(sram.tsock);
    router.map("tile0", kTile, TILE_SIZE);
    router.isock.bind(tile.tsock);
    tile.irq(irq);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
  }

  // Batch registers (FLAGS 0 unless accumulate) and START.
  void start(uint32_t k, uint32_t n, uint32_t in_addr, uint32_t in_stride, uint32_t out_addr, uint32_t out_stride,
             uint32_t nvec, uint32_t flags = 0) {
    init.w32(kTile + TILE_K, k);
    init.w32(kTile + TILE_N, n);
    init.w32(kTile + TILE_IN_ADDR, in_addr);
    init.w32(kTile + TILE_IN_STRIDE, in_stride);
    init.w32(kTile + TILE_OUT_ADDR, out_addr);
    init.w32(kTile + TILE_OUT_STRIDE, out_stride);
    init.w32(kTile + TILE_NVEC, nvec);
    init.w32(kTile + TILE_FLAGS, flags);
    init.w32(kTile + TILE_CTRL, TILE_CTRL_START);
  }
  void clear_status() {
    init.w32(kTile + TILE_CTRL, TILE_CTRL_CLEAR_STATUS);
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_NS));  // lets the IRQ driver run
  }
  uint64_t busy_ns() {
    const uint64_t lo = init.r32(kTile + TILE_CYCLES_LO);
    return (static_cast<uint64_t>(init.r32(kTile + TILE_CYCLES_HI)) << 32) | lo;
  }
  uint64_t event_count(const std::string& name) const {
    uint64_t n = 0;
    for (const auto& e : power.events())
      if (e.component.rfind("tile0", 0) == 0 && e.name == name) n += e.count;
    return n;
  }
  double component_pj(const std::string& name) {
    return power.core().dynamic_pj(static_cast<std::size_t>(power.core().component_id(name)));
  }
};

}  // namespace tile_test
