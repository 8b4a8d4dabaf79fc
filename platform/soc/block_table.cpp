// The block kinds the SoC can build. Adding a kind: one entry here (see
// docs/architecture.md, "Adding a block").
#include "cimvp/regs.h"
#include "platform/irq/irq_ctrl.hpp"
#include "models/crossbar/tile.hpp"
#include "models/dma/dma.hpp"
#include "models/dpu/dpu.hpp"
#include "models/pmu/pmu.hpp"
#include "models/progctl/progctl.hpp"
#include "platform/memory/memory.hpp"
#include "platform/soc/block_factory.hpp"
#include "platform/soc/soc.hpp"
#include "platform/power/power_monitor.hpp"
#include "platform/sysctl/sysctl.hpp"
#include "platform/tracing/tracer.hpp"

namespace cimvp {

namespace {

BuiltBlock make_memory(BlockSite& s, const config::TechSram& tech) {
  BuiltBlock b;
  std::unique_ptr<Memory> m;
  try {
    m = std::make_unique<Memory>(s.entry.name.c_str(), s.ctx, s.entry.size, tech);
  } catch (const std::runtime_error& e) {  // the host cannot hold it: an input error
    throw config::ConfigError(s.entry.where + ": memory_map: " + s.entry.block + " '" + s.entry.name + "' size " +
                              std::to_string(s.entry.size) + ": " + e.what() + "; give it a smaller size");
  }
  b.target = &m->tsock;
  b.memory = m.get();
  b.module = std::move(m);
  return b;
}

}  // namespace

const std::vector<BlockKind>& block_kinds() {
  static const std::vector<BlockKind> kinds = {
      {"sysctl", CIMVP_BLOCK_SYSCTL, false,
       [](BlockSite& s) {
         BuiltBlock b;
         auto m = std::make_unique<Sysctl>(s.entry.name.c_str(), s.ctx, s.soc.discovery_table(), s.soc.echo_console());
         // Every SoC has exactly one sysctl: the power counter tracks of trace.json are hooked
         // here so they exist with or without a PMU block (docs/outputs.md).
         // The end time is the firmware's exit time when it exited, as for power.csv.
         PowerSc* power = &s.ctx.power;
         Sysctl* sys = m.get();
         const bool by_kind = s.ctx.scenario.trace.power_series == "kind";  // series per kind, not per component
         s.ctx.tracer.set_close_hook("power", [power, sys, by_kind](trace::ChromeTrace& t, uint64_t end_ps) {
           const uint64_t end = sys->exited() ? to_ps(sys->exit_time()) : end_ps;
           if (by_kind)
             power->core().grouped_by_kind().write_power_counters(t, end);
           else
             power->core().write_power_counters(t, end);
         });
         b.target = &m->tsock;
         b.regs = &m->regs();
         b.module = std::move(m);
         return b;
       }},
      {"irq", CIMVP_BLOCK_IRQ, false,
       [](BlockSite& s) {
         BuiltBlock b;
         auto m = std::make_unique<IrqCtrl>(s.entry.name.c_str(), s.ctx);
         for (unsigned l = 0; l < IrqCtrl::kLines; ++l) m->lines[l](s.soc.irq_line(l));
         m->cpu_irq(s.soc.cpu_irq());
         b.target = &m->tsock;
         b.regs = &m->regs();
         b.module = std::move(m);
         return b;
       }},
      {"sram", CIMVP_BLOCK_SRAM, false, [](BlockSite& s) { return make_memory(s, s.ctx.scenario.tech.sram); }},
      {"hostmem", CIMVP_BLOCK_HOSTMEM, false,
       [](BlockSite& s) { return make_memory(s, s.ctx.scenario.tech.hostmem); }},
      {"progctl", CIMVP_BLOCK_PROGCTL, true,
       [](BlockSite& s) {
         BuiltBlock b;
         Soc* soc = &s.soc;
         auto m = std::make_unique<ProgCtl>(s.entry.name.c_str(), s.ctx, [soc](unsigned i) -> Tile* {
           unsigned seen = 0;
           for (const auto& e : soc->context().scenario.memory_map)
             if (e.block == "tile" && seen++ == i) return dynamic_cast<Tile*>(soc->module(e.name));
           return nullptr;
         });
         b.target = &m->tsock;
         b.regs = &m->regs();
         b.irq = &m->irq;
         b.masters.push_back(&m->isock);
         b.module = std::move(m);
         return b;
       }},
      {"pmu", CIMVP_BLOCK_PMU, false,
       [](BlockSite& s) {
         BuiltBlock b;
         auto m = std::make_unique<Pmu>(s.entry.name.c_str(), s.ctx);
         b.target = &m->tsock;
         b.regs = &m->regs();
         b.module = std::move(m);
         return b;
       }},
      {"dma", CIMVP_BLOCK_DMA, true,
       [](BlockSite& s) {
         BuiltBlock b;
         auto m = std::make_unique<Dma>(s.entry.name.c_str(), s.ctx);
         b.target = &m->tsock;
         b.regs = &m->regs();
         b.irq = &m->irq;
         b.masters.push_back(&m->isock);
         b.module = std::move(m);
         return b;
       }},
      {"dpu", CIMVP_BLOCK_DPU, true,
       [](BlockSite& s) {
         BuiltBlock b;
         auto m = std::make_unique<Dpu>(s.entry.name.c_str(), s.ctx);
         b.target = &m->tsock;
         b.regs = &m->regs();
         b.irq = &m->irq;
         b.masters.push_back(&m->isock);
         b.module = std::move(m);
         return b;
       }},
      {"tile", CIMVP_BLOCK_TILE, true,
       [](BlockSite& s) {
         BuiltBlock b;
         if (s.entry.size < TILE_SIZE)
           throw config::ConfigError(s.entry.where + ": memory_map: tile '" + s.entry.name + "' needs size >= 0x4000");
         auto m = std::make_unique<Tile>(s.entry.name.c_str(), s.ctx, s.instance);
         b.target = &m->tsock;
         b.regs = &m->regs();
         b.irq = &m->irq;
         b.masters.push_back(&m->isock);
         b.module = std::move(m);
         return b;
       }},
  };
  return kinds;
}

const BlockKind* find_block_kind(const std::string& kind) {
  for (const auto& k : block_kinds())
    if (k.kind == kind) return &k;
  return nullptr;
}

namespace config {
const std::vector<std::string>& block_kind_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& k : cimvp::block_kinds()) n.push_back(k.kind);
    return n;
  }();
  return names;
}
}  // namespace config

}  // namespace cimvp
