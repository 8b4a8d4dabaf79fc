#include "platform/regs/reg_block.hpp"

#include <cstring>

#include "cimvp/regs.h"

namespace cimvp {

RegBlock::RegBlock(const sc_core::sc_module_name& name, Context& ctx, uint32_t block_type, uint32_t version,
                   double area_um2, double leakage_uw)
    : sc_core::sc_module(name), tsock("tsock"), ctx_(ctx), regs_(basename()) {
  tsock.register_b_transport(this, &RegBlock::b_transport);
  tsock.register_transport_dbg(this, &RegBlock::transport_dbg);
  regs_.add("ID", REG_ID, CIMVP_ID(block_type, version), RegAccess::RO);
  power_component_ = ctx.power.component(basename(), area_um2, leakage_uw);
  access_event_ = ctx.power.event(power_component_, "register_access", ctx.scenario.tech.registers.energy_pj_per_access);
}

void RegBlock::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  access_delay_ = delay;
  regs_.access(gp);
  delay += sc_core::sc_time(ctx_.scenario.tech.registers.access_ns, sc_core::SC_NS);
  ctx_.power.report(access_event_, 1, sc_core::sc_time_stamp() + access_delay_);
}

unsigned int RegBlock::transport_dbg(tlm::tlm_generic_payload& gp) {
  // Debug reads see stored values without side effects; debug writes are refused.
  if (!gp.is_read()) return 0;
  const uint32_t addr = static_cast<uint32_t>(gp.get_address());
  if (const Register* r = regs_.find(addr)) {
    if (gp.get_data_length() != r->bytes()) return 0;
    uint32_t v = r->value & r->mask();
    std::memcpy(gp.get_data_ptr(), &v, r->bytes());
    return r->bytes();
  }
  const uint32_t* w = regs_.stored(addr);  // a register-array word (32-bit)
  if (!w || gp.get_data_length() != 4) return 0;
  std::memcpy(gp.get_data_ptr(), w, 4);
  return 4;
}

}  // namespace cimvp
