#include "platform/irq/irq_ctrl.hpp"

#include "cimvp/regs.h"
#include "platform/tracing/tracer.hpp"

namespace cimvp {

IrqCtrl::IrqCtrl(const sc_core::sc_module_name& name, Context& ctx)
    : RegBlock(name, ctx, CIMVP_BLOCK_IRQ, IRQ_VERSION_VALUE, ctx.scenario.tech.registers.area_um2,
               ctx.scenario.tech.registers.leakage_uw),
      lines("line", kLines),
      cpu_irq("cpu_irq") {
  using A = RegAccess;
  static_assert(kLines == IRQ_NLINES_RESET, "IRQ_NLINES_RESET in regs.h is the line count");
  regs_.add("NLINES", IRQ_NLINES, IRQ_NLINES_RESET, A::RO);
  // PENDING = latched edges and software bits | present levels: a block holds its line
  // high until the firmware clears the cause at the block (level-sensitive, shareable).
  regs_.add("PENDING", IRQ_PENDING, IRQ_PENDING_RESET, A::RO, [this] { return pending(); });
  regs_.add("ENABLE", IRQ_ENABLE, IRQ_ENABLE_RESET, A::RW, {}, [this](uint32_t) { update_output(); });
  regs_.add("ACK", IRQ_ACK, 0, A::WO, {}, [this](uint32_t v) {
    regs_.value(IRQ_PENDING) &= ~v;
    update_output();
  });
  regs_.add("RAW", IRQ_RAW, IRQ_RAW_RESET, A::RO, [this] { return last_levels_; });
  regs_.add("SWSET", IRQ_SWSET, 0, A::WO, {}, [this](uint32_t v) {
    regs_.value(IRQ_PENDING) |= v;
    update_output();
  });
  SC_METHOD(on_lines);
  for (auto& l : lines) sensitive << l;
  dont_initialize();
  cpu_wire_ = ctx.tracer.wire("irq", "cpu_irq", 1);
  pending_wire_ = ctx.tracer.wire("irq", "pending", 32);
}

void IrqCtrl::on_lines() {
  uint32_t levels = 0;
  for (unsigned i = 0; i < kLines; ++i)
    if (lines[i].read()) levels |= 1u << i;
  uint32_t rising = levels & ~last_levels_;
  last_levels_ = levels;
  regs_.value(IRQ_PENDING) |= rising;
  update_output();
}

uint32_t IrqCtrl::pending() const {
  return const_cast<IrqCtrl*>(this)->regs_.value(IRQ_PENDING) | last_levels_;
}

void IrqCtrl::update_output() {
  uint32_t pending = this->pending();
  bool out = (pending & regs_.value(IRQ_ENABLE)) != 0;
  cpu_src_.set(out);
  // Register writes arrive with the initiator's offset; line changes at kernel time.
  sc_core::sc_time at = sc_core::sc_get_current_process_handle().proc_kind() == sc_core::SC_METHOD_PROC_
                            ? sc_core::sc_time_stamp()
                            : access_time();
  ctx_.tracer.set(cpu_wire_, out ? 1 : 0, at);
  ctx_.tracer.set(pending_wire_, pending, at);
}

IrqOr::IrqOr(const sc_core::sc_module_name& name, const std::vector<sc_core::sc_signal<bool>*>& inputs,
             sc_core::sc_signal<bool>& output)
    : sc_core::sc_module(name), inputs_(inputs), output_(output), high_(inputs.size(), false) {
  // One method per input keeps a count of the high ones (a chip with thousands of tiles on
  // one line would otherwise rescan every input on each change); one method drives the line.
  SC_METHOD(drive);
  sensitive << changed_;
  dont_initialize();
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    sc_core::sc_spawn_options o;
    o.spawn_method();
    o.dont_initialize();
    o.set_sensitivity(&inputs_[i]->value_changed_event());
    sc_core::sc_spawn([this, i] { update(i); }, sc_core::sc_gen_unique_name("in"), &o);
  }
}

void IrqOr::update(std::size_t i) {
  const bool v = inputs_[i]->read();
  if (v != high_[i]) {
    high_[i] = v;
    count_ += v ? 1 : -1;
    changed_.notify();
  }
}

void IrqOr::drive() { output_.write(count_ > 0); }

}  // namespace cimvp
