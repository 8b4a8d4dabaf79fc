// Base of every register-mapped block: a target socket decoded by a RegisterBank, access
// timing and energy from the tech table, and the block's ID register.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <string>

#include "platform/core/context.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/regs/register_bank.hpp"

namespace cimvp {

class RegBlock : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<RegBlock> tsock;

  RegBlock(const sc_core::sc_module_name& name, Context& ctx, uint32_t block_type, uint32_t version,
           double area_um2, double leakage_uw);

  RegisterBank& regs() { return regs_; }
  int power_component() const { return power_component_; }

 protected:
  virtual void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& gp);

  // Absolute simulated time of the access being decoded (kernel time + initiator offset);
  // valid inside register callbacks.
  sc_core::sc_time access_time() const { return sc_core::sc_time_stamp() + access_delay_; }

  Context& ctx_;
  RegisterBank regs_;
  int power_component_ = -1;
  PowerSc::Event access_event_;

 private:
  sc_core::sc_time access_delay_;
};

}  // namespace cimvp
