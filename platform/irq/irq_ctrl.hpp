// Interrupt controller: one input line per block, rising edges latched into PENDING, the
// CPU's interrupt = OR(PENDING & ENABLE). Software can set PENDING bits (IRQ_SWSET).
#pragma once

#include <systemc>

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

  uint32_t last_levels_ = 0;
  int cpu_wire_ = -1;
  int pending_wire_ = -1;
};

}  // namespace cimvp
