// How the SoC creates a block of each kind named in the memory map. A block kind registers
// one factory in platform/soc/block_table.cpp; the SoC binds what the factory reports.
#pragma once

#include <systemc>
#include <tlm>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "platform/config/scenario.hpp"
#include "platform/core/context.hpp"

namespace cimvp {

class RegisterBank;
class Memory;
class Soc;

struct BuiltBlock {
  std::unique_ptr<sc_core::sc_module> module;
  tlm::tlm_target_socket<32>* target = nullptr;        // bound to the router's initiator side
  RegisterBank* regs = nullptr;                        // for memory-map --registers (null: memory)
  sc_core::sc_out<bool>* irq = nullptr;                // bound to the entry's IRQ line
  std::vector<tlm::tlm_initiator_socket<32>*> masters; // bound to the router's target side
  Memory* memory = nullptr;                            // memories: DMI energy accounting, loaders
};

struct BlockSite {
  Soc& soc;
  Context& ctx;
  const config::MemoryMapEntry& entry;
  unsigned instance;  // among blocks of the same kind, in memory-map order
};

using BlockFactory = std::function<BuiltBlock(BlockSite&)>;

struct BlockKind {
  std::string kind;
  uint32_t type;  // CIMVP_BLOCK_*
  bool needs_irq;
  BlockFactory make;
};

// Every block kind the SoC can build (platform/soc/block_table.cpp).
const std::vector<BlockKind>& block_kinds();
const BlockKind* find_block_kind(const std::string& kind);

}  // namespace cimvp
