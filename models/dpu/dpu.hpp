// SystemC shell of the digital post-processing unit: walks an op-descriptor chain in bus
// memory; per op it fetches the input, residual and scale/bias tables in bursts of up to
// 4 KiB, runs the pure core (dpu_core.hpp), writes the output (and argmax results) back,
// and raises its IRQ at the end of the chain or after an op flagged DPU_OP_IRQ.
// Registers: firmware/include/cimvp/regs.h DPU_*; docs/dpu.md.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <vector>

#include "models/dpu/dpu_core.hpp"
#include "platform/irq/irq_source.hpp"
#include "platform/regs/reg_block.hpp"

namespace cimvp {

class Dpu : public RegBlock {
 public:
  tlm_utils::simple_initiator_socket<Dpu> isock;
  sc_core::sc_out<bool> irq;

  SC_HAS_PROCESS(Dpu);
  Dpu(const sc_core::sc_module_name& name, Context& ctx);

  static constexpr unsigned kBurstBytes = 4096;

  uint64_t elements() const { return elements_; }
  uint64_t bursts() const { return bursts_; }

 private:
  IrqSource irq_src_{irq};  // one driver process for the IRQ line
  void on_ctrl(uint32_t v);
  void run();
  void finish(uint32_t err);
  void update_irq();
  bool bus(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, uint64_t len, sc_core::sc_time& delay);
  // Runs one op; returns a DPU_ERR_* code.
  uint32_t run_op(const dpu_op_t& d, sc_core::sc_time& delay, dpu::Stats& st);

  sc_core::sc_event start_;
  bool abort_ = false;
  uint64_t elements_ = 0, busy_ns_ = 0, bursts_ = 0;
  uint32_t ops_done_ = 0;
  dpu::Engine engine_;
  std::vector<uint8_t> in_, res_, out_;
  std::vector<float> scale_, bias_, argmax_val_;
  std::vector<uint32_t> argmax_;
  PowerSc::Event ev_elem_, ev_tap_, ev_op_;
  int busy_wire_ = -1, track_ = -1;
};

}  // namespace cimvp
