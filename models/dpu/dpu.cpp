#include "models/dpu/dpu.hpp"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "cimvp/regs.h"
#include "platform/tracing/tracer.hpp"

namespace cimvp {

Dpu::Dpu(const sc_core::sc_module_name& name, Context& ctx)
    : RegBlock(name, ctx, CIMVP_BLOCK_DPU, DPU_VERSION_VALUE, ctx.scenario.tech.dpu.area_um2,
               ctx.scenario.tech.dpu.leakage_uw),
      isock("isock"),
      irq("irq") {
  using A = RegAccess;
  regs_.add("CTRL", DPU_CTRL, 0, A::WO, {}, [this](uint32_t v) { on_ctrl(v); });
  regs_.add("STATUS", DPU_STATUS, 0, A::RO);
  regs_.add("OP_ADDR", DPU_OP_ADDR, 0, A::RW);
  regs_.add("CUR_OP", DPU_CUR_OP, 0, A::RO);
  regs_.add("OPS_DONE", DPU_OPS_DONE, 0, A::RO, [this] { return ops_done_; });
  regs_.add("ELEMS_LO", DPU_ELEMS_LO, 0, A::RO, [this] { return static_cast<uint32_t>(elements_); });
  regs_.add("ELEMS_HI", DPU_ELEMS_HI, 0, A::RO, [this] { return static_cast<uint32_t>(elements_ >> 32); });
  regs_.add("BUSY_NS_LO", DPU_BUSY_NS_LO, 0, A::RO, [this] { return static_cast<uint32_t>(busy_ns_); });
  regs_.add("BUSY_NS_HI", DPU_BUSY_NS_HI, 0, A::RO, [this] { return static_cast<uint32_t>(busy_ns_ >> 32); });
  regs_.add("ARGMAX", DPU_ARGMAX, 0, A::RO);
  regs_.add("ARGMAX_VAL", DPU_ARGMAX_VAL, 0, A::RO);
  regs_.add("BURSTS", DPU_BURSTS, 0, A::RO, [this] { return static_cast<uint32_t>(bursts_); });
  const auto& t = ctx.scenario.tech.dpu;
  ev_elem_ = ctx.power.event(power_component_, "element", t.pj_per_element);
  ev_tap_ = ctx.power.event(power_component_, "pool_tap", t.pj_per_pool_tap);
  ev_op_ = ctx.power.event(power_component_, "op", t.pj_per_op);
  busy_wire_ = ctx.tracer.wire(basename(), "busy", 1);
  track_ = ctx.tracer.track("dpu", basename());
  SC_THREAD(run);
}

void Dpu::update_irq() {
  irq_src_.set((regs_.value(DPU_STATUS) & (DPU_STATUS_DONE | DPU_STATUS_OP_IRQ)) != 0);
}

void Dpu::on_ctrl(uint32_t v) {
  if (v & DPU_CTRL_CLEAR_COUNTERS) elements_ = busy_ns_ = bursts_ = ops_done_ = 0;
  if (v & DPU_CTRL_CLEAR_STATUS) {
    regs_.value(DPU_STATUS) &= DPU_STATUS_BUSY;
    update_irq();
  }
  if ((v & DPU_CTRL_ABORT) && (regs_.value(DPU_STATUS) & DPU_STATUS_BUSY)) abort_ = true;
  if (v & DPU_CTRL_START) {
    if (regs_.value(DPU_STATUS) & DPU_STATUS_BUSY) {
      regs_.value(DPU_STATUS) |= DPU_STATUS_ERROR | (DPU_ERR_BUSY << 8);
      return;
    }
    abort_ = false;
    regs_.value(DPU_STATUS) = DPU_STATUS_BUSY;
    update_irq();
    start_.notify(access_time() - sc_core::sc_time_stamp());
  }
}

void Dpu::finish(uint32_t err) {
  uint32_t& st = regs_.value(DPU_STATUS);
  st = (st & DPU_STATUS_OP_IRQ) | DPU_STATUS_DONE | (err ? DPU_STATUS_ERROR | (err << 8) : 0u);
  update_irq();
}

bool Dpu::bus(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, uint64_t len, sc_core::sc_time& delay) {
  for (uint64_t off = 0; off < len; off += kBurstBytes) {
    tlm::tlm_generic_payload gp;
    const unsigned n = static_cast<unsigned>(std::min<uint64_t>(kBurstBytes, len - off));
    gp.set_command(cmd);
    gp.set_address(addr + off);
    gp.set_data_ptr(data + off);
    gp.set_data_length(n);
    gp.set_streaming_width(n);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    isock->b_transport(gp, delay);
    ++bursts_;
    if (!gp.is_response_ok()) return false;
  }
  return true;
}

uint32_t Dpu::run_op(const dpu_op_t& d, sc_core::sc_time& delay, dpu::Stats& st) {
  const dpu::Op op = dpu::from_desc(d);
  try {
    dpu::validate(op);
  } catch (const dpu::OpError& e) {
    SC_REPORT_INFO(name(), e.what());  // the firmware sees ERR_BAD_OP in STATUS
    return DPU_ERR_BAD_OP;
  }
  auto past_bus = [](uint64_t a, uint64_t len) { return a + len > (1ull << 32); };
  // Inputs: each tensor's bounding box is one contiguous range (bursts of 4 KiB).
  in_.resize(dpu::extent(op.in, op.n, op.c, op.h, op.w));
  if (past_bus(d.in_addr, in_.size()) || !bus(tlm::TLM_READ_COMMAND, d.in_addr, in_.data(), in_.size(), delay))
    return DPU_ERR_IN_BUS;
  if (op.residual != dpu::Residual::None) {
    res_.resize(dpu::extent(op.res, op.n, op.c, op.h, op.w));
    if (past_bus(d.res_addr, res_.size()) || !bus(tlm::TLM_READ_COMMAND, d.res_addr, res_.data(), res_.size(), delay))
      return DPU_ERR_IN_BUS;
  }
  scale_.resize(op.c);
  bias_.resize(op.c);
  if (op.has_scale && !bus(tlm::TLM_READ_COMMAND, d.scale_addr, reinterpret_cast<uint8_t*>(scale_.data()), 4ull * op.c, delay))
    return DPU_ERR_IN_BUS;
  if (op.has_bias && !bus(tlm::TLM_READ_COMMAND, d.bias_addr, reinterpret_cast<uint8_t*>(bias_.data()), 4ull * op.c, delay))
    return DPU_ERR_IN_BUS;
  // Output: a dense tensor is written whole; one with gaps is read first so the gaps keep
  // their contents (read-modify-write of its bounding box).
  out_.assign(dpu::extent(op.out, op.n, op.c, op.out_h, op.out_w), 0);
  if (past_bus(d.out_addr, out_.size())) return DPU_ERR_OUT_BUS;
  if (!dpu::is_dense(op.out, op.n, op.c, op.out_h, op.out_w) &&
      !bus(tlm::TLM_READ_COMMAND, d.out_addr, out_.data(), out_.size(), delay))
    return DPU_ERR_OUT_BUS;
  argmax_.assign(op.n, 0);
  argmax_val_.assign(op.n, 0.0f);
  st = engine_.run(op, in_.data(), scale_.data(), bias_.data(), res_.data(), out_.data(), argmax_.data(),
                   argmax_val_.data());
  if (!bus(tlm::TLM_WRITE_COMMAND, d.out_addr, out_.data(), out_.size(), delay)) return DPU_ERR_OUT_BUS;
  if (op.argmax) {
    if (d.argmax_addr &&
        !bus(tlm::TLM_WRITE_COMMAND, d.argmax_addr, reinterpret_cast<uint8_t*>(argmax_.data()), 4ull * op.n, delay))
      return DPU_ERR_OUT_BUS;
    uint32_t bits;
    std::memcpy(&bits, &argmax_val_.back(), 4);
    regs_.value(DPU_ARGMAX) = argmax_.back();
    regs_.value(DPU_ARGMAX_VAL) = bits;
  }
  return DPU_ERR_NONE;
}

void Dpu::run() {
  const auto& tech = ctx_.scenario.tech.dpu;
  for (;;) {
    sc_core::wait(start_);
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    ctx_.tracer.set(busy_wire_, 1, t0);
    uint32_t addr = regs_.value(DPU_OP_ADDR);
    uint32_t err = DPU_ERR_NONE;
    while (addr != 0) {
      if (abort_) {
        err = DPU_ERR_ABORTED;
        break;
      }
      regs_.value(DPU_CUR_OP) = addr;
      const sc_core::sc_time os = sc_core::sc_time_stamp();
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      uint8_t raw[DPU_OP_BYTES];
      if (!bus(tlm::TLM_READ_COMMAND, addr, raw, sizeof raw, delay)) {
        sc_core::wait(delay);
        err = DPU_ERR_DESC_BUS;
        break;
      }
      const dpu_op_t d = dpu::decode(raw);
      dpu::Stats st;
      err = run_op(d, delay, st);
      // Datapath time on top of the memories' burst delays.
      delay += sc_core::sc_time(tech.setup_ns_per_op + tech.ns_per_element * static_cast<double>(st.elements) +
                                    tech.ns_per_pool_tap * static_cast<double>(st.pool_taps),
                                sc_core::SC_NS);
      ctx_.power.report(ev_op_, 1, os);
      ctx_.power.report(ev_elem_, st.elements, os);
      ctx_.power.report(ev_tap_, st.pool_taps, os);
      ctx_.power.busy(power_component(), os, delay);  // PMU busy counter: the op's interval
      elements_ += st.elements;
      std::ostringstream args;
      args << "{\"n\":" << d.n << ",\"c\":" << d.c << ",\"h\":" << d.h << ",\"w\":" << d.w
           << ",\"elements\":" << st.elements << ",\"pool_taps\":" << st.pool_taps << "}";
      ctx_.tracer.slice(track_, "op", "dpu", os, delay, args.str());
      sc_core::wait(delay);
      if (err) break;
      ++ops_done_;
      if (d.flags & DPU_OP_IRQ) {
        regs_.value(DPU_STATUS) |= DPU_STATUS_OP_IRQ;
        update_irq();
      }
      addr = d.next;
    }
    busy_ns_ += static_cast<uint64_t>((sc_core::sc_time_stamp() - t0).to_seconds() * 1e9 + 0.5);
    ctx_.tracer.set(busy_wire_, 0, sc_core::sc_time_stamp());
    finish(err);
  }
}

}  // namespace cimvp
