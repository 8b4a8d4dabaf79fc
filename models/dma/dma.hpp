// SystemC shell of the DMA engine: walks a descriptor chain in bus memory, moves each
// descriptor's data through its own initiator socket in bursts of up to 4 KiB (one
// b_transport per contiguous run or 4 KiB of it, never one per element), raises its IRQ.
// The data work (planning runs, im2col, fill) is the pure core, dma_core.hpp.
// Registers: firmware/include/cimvp/regs.h DMA_*; docs/dma.md.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <vector>

#include "models/dma/dma_core.hpp"
#include "platform/irq/irq_source.hpp"
#include "platform/regs/reg_block.hpp"

namespace cimvp {

class Dma : public RegBlock {
 public:
  tlm_utils::simple_initiator_socket<Dma> isock;
  sc_core::sc_out<bool> irq;

  SC_HAS_PROCESS(Dma);
  Dma(const sc_core::sc_module_name& name, Context& ctx);

  static constexpr unsigned kBurstBytes = 4096;

  uint64_t bytes_moved() const { return bytes_; }
  uint64_t bursts() const { return bursts_; }

 private:
  IrqSource irq_src_{irq};  // one driver process for the IRQ line
  void on_ctrl(uint32_t v);
  void run();
  void finish(uint32_t err);
  bool bus(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, uint64_t len, sc_core::sc_time& delay);
  void update_irq();

  sc_core::sc_event start_;
  bool abort_ = false;
  uint64_t bytes_ = 0, busy_ns_ = 0, bursts_ = 0;
  uint32_t desc_done_ = 0;
  std::vector<uint8_t> src_, dst_;  // staging buffers, reused between descriptors
  PowerSc::Event ev_byte_, ev_desc_;
  int busy_wire_ = -1, track_ = -1;
};

}  // namespace cimvp
