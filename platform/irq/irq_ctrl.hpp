// Interrupt controller: 32 input lines. A line is pending while its level is high, and a
// rising edge is also latched until acknowledged (so a short pulse is not missed). Blocks
// of one kind may share a line (wired-OR): the firmware then asks each block's status.
// The CPU's interrupt = OR(PENDING & ENABLE). Software can set PENDING bits (IRQ_SWSET).
#pragma once

#include <systemc>

#include <vector>

#include "platform/irq/irq_source.hpp"
#include "platform/regs/reg_block.hpp"

namespace cimvp {

class IrqCtrl : public RegBlock {
 public:
  static constexpr unsigned kLines = 32;

  sc_core::sc_vector<sc_core::sc_in<bool>> lines;
  sc_core::sc_out<bool> cpu_irq;

  SC_HAS_PROCESS(IrqCtrl);
  IrqCtrl(const sc_core::sc_module_name& name, Context& ctx);

 private:
  void on_lines();
  void update_output();
  uint32_t pending() const;

  uint32_t last_levels_ = 0;
  IrqSource cpu_src_{cpu_irq};
  int cpu_wire_ = -1;
  int pending_wire_ = -1;
};

// Wired-OR of the interrupt outputs of blocks that share one controller line.
class IrqOr : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(IrqOr);
  IrqOr(const sc_core::sc_module_name& name, const std::vector<sc_core::sc_signal<bool>*>& inputs,
        sc_core::sc_signal<bool>& output);

 private:
  void update(std::size_t input);
  void drive();
  sc_core::sc_event changed_;
  std::vector<sc_core::sc_signal<bool>*> inputs_;
  sc_core::sc_signal<bool>& output_;
  std::vector<bool> high_;  // last value seen per input
  long count_ = 0;          // inputs high
};

}  // namespace cimvp
