// The block kinds the SoC can build. Adding a kind: one entry here (see
// docs/architecture.md, "Adding a block").
#include "cimvp/regs.h"
#include "platform/irq/irq_ctrl.hpp"
#include "models/crossbar/tile.hpp"
#include "platform/memory/memory.hpp"
#include "platform/soc/block_factory.hpp"
#include "platform/soc/soc.hpp"
#include "platform/sysctl/sysctl.hpp"

namespace cimvp {

namespace {

BuiltBlock make_memory(BlockSite& s, const config::TechSram& tech) {
  BuiltBlock b;
  auto m = std::make_unique<Memory>(s.entry.name.c_str(), s.ctx, s.entry.size, tech);
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
