#include "models/dma/dma.hpp"

#include <algorithm>
#include <sstream>

#include "cimvp/regs.h"
#include "platform/tracing/tracer.hpp"

namespace cimvp {

Dma::Dma(const sc_core::sc_module_name& name, Context& ctx)
    : RegBlock(name, ctx, CIMVP_BLOCK_DMA, DMA_VERSION_VALUE, ctx.scenario.tech.dma.area_um2,
               ctx.scenario.tech.dma.leakage_uw),
      isock("isock"),
      irq("irq") {
  using A = RegAccess;
  regs_.add("CTRL", DMA_CTRL, 0, A::WO, {}, [this](uint32_t v) { on_ctrl(v); });
  regs_.add("STATUS", DMA_STATUS, 0, A::RO);
  regs_.add("DESC_ADDR", DMA_DESC_ADDR, 0, A::RW);
  regs_.add("CUR_DESC", DMA_CUR_DESC, 0, A::RO);
  regs_.add("DESC_DONE", DMA_DESC_DONE, 0, A::RO, [this] { return desc_done_; });
  regs_.add("BYTES_LO", DMA_BYTES_LO, 0, A::RO, [this] { return static_cast<uint32_t>(bytes_); });
  regs_.add("BYTES_HI", DMA_BYTES_HI, 0, A::RO, [this] { return static_cast<uint32_t>(bytes_ >> 32); });
  regs_.add("BUSY_NS_LO", DMA_BUSY_NS_LO, 0, A::RO, [this] { return static_cast<uint32_t>(busy_ns_); });
  regs_.add("BUSY_NS_HI", DMA_BUSY_NS_HI, 0, A::RO, [this] { return static_cast<uint32_t>(busy_ns_ >> 32); });
  regs_.add("BURSTS", DMA_BURSTS, 0, A::RO, [this] { return static_cast<uint32_t>(bursts_); });
  const auto& t = ctx.scenario.tech.dma;
  ev_byte_ = ctx.power.event(power_component_, "byte_moved", t.pj_per_byte);
  ev_desc_ = ctx.power.event(power_component_, "descriptor", t.pj_per_descriptor);
  busy_wire_ = ctx.tracer.wire(basename(), "busy", 1);
  track_ = ctx.tracer.track("dma", basename());
  SC_THREAD(run);
}

void Dma::update_irq() {
  irq_src_.set((regs_.value(DMA_STATUS) & (DMA_STATUS_DONE | DMA_STATUS_DESC_IRQ)) != 0);
}

void Dma::on_ctrl(uint32_t v) {
  if (v & DMA_CTRL_CLEAR_COUNTERS) bytes_ = busy_ns_ = bursts_ = desc_done_ = 0;
  if (v & DMA_CTRL_CLEAR_STATUS) {
    regs_.value(DMA_STATUS) &= DMA_STATUS_BUSY;
    update_irq();
  }
  if ((v & DMA_CTRL_ABORT) && (regs_.value(DMA_STATUS) & DMA_STATUS_BUSY)) abort_ = true;
  if (v & DMA_CTRL_START) {
    if (regs_.value(DMA_STATUS) & DMA_STATUS_BUSY) {
      // The running chain continues; the refused start is reported in the status.
      regs_.value(DMA_STATUS) |= DMA_STATUS_ERROR | (DMA_ERR_BUSY << 8);
      return;
    }
    abort_ = false;
    regs_.value(DMA_STATUS) = DMA_STATUS_BUSY;
    update_irq();
    start_.notify(access_time() - sc_core::sc_time_stamp());
  }
}

void Dma::finish(uint32_t err) {
  uint32_t& st = regs_.value(DMA_STATUS);
  // DESC_IRQ of the last descriptor stays visible; a BUSY-refusal error code is replaced.
  st = (st & DMA_STATUS_DESC_IRQ) | DMA_STATUS_DONE | (err ? DMA_STATUS_ERROR | (err << 8) : 0u);
  update_irq();
}

bool Dma::bus(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, uint64_t len, sc_core::sc_time& delay) {
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

void Dma::run() {
  const auto& tech = ctx_.scenario.tech.dma;
  for (;;) {
    sc_core::wait(start_);
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    ctx_.tracer.set(busy_wire_, 1, t0);
    uint32_t addr = regs_.value(DMA_DESC_ADDR);
    uint32_t err = DMA_ERR_NONE;
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;  // bus + engine time of the descriptor in flight
    while (addr != 0) {
      if (abort_) {
        err = DMA_ERR_ABORTED;
        break;
      }
      regs_.value(DMA_CUR_DESC) = addr;
      const sc_core::sc_time ds = sc_core::sc_time_stamp();
      uint8_t raw[DMA_DESC_BYTES];
      if (!bus(tlm::TLM_READ_COMMAND, addr, raw, sizeof raw, delay)) {
        err = DMA_ERR_DESC_BUS;
        break;
      }
      const dma_desc_t d = dma::decode(raw);
      dma::Plan plan;
      try {
        plan = dma::plan(d);
      } catch (const dma::DescriptorError& e) {
        std::ostringstream m;
        m << "descriptor at 0x" << std::hex << addr << ": " << e.what();
        SC_REPORT_INFO(name(), m.str().c_str());  // the firmware sees ERR_BAD_DESC in STATUS
        err = DMA_ERR_BAD_DESC;
        break;
      }
      src_.resize(plan.src_bytes);
      dst_.resize(plan.dst_bytes);
      uint64_t off = 0;
      bool ok = true;
      for (const auto& r : plan.src) {
        if (!(ok = bus(tlm::TLM_READ_COMMAND, r.addr, src_.data() + off, r.len, delay))) break;
        off += r.len;
      }
      if (!ok) {
        err = DMA_ERR_SRC_BUS;
        break;
      }
      dma::execute(d, plan, src_.data(), dst_.data());
      off = 0;
      for (const auto& r : plan.dst) {
        if (!(ok = bus(tlm::TLM_WRITE_COMMAND, r.addr, dst_.data() + off, r.len, delay))) break;
        off += r.len;
      }
      // Engine time on top of what the memories reported for the bursts.
      delay += sc_core::sc_time(tech.setup_ns_per_descriptor + static_cast<double>(off) / tech.bytes_per_ns,
                                sc_core::SC_NS);
      ctx_.power.report(ev_desc_, 1, ds);
      ctx_.power.report(ev_byte_, off, ds);
      ctx_.power.busy(power_component(), ds, delay);  // PMU busy counter: the descriptor's interval
      bytes_ += off;
      std::ostringstream args;
      args << "{\"mode\":" << DMA_DESC_MODE(d.ctrl) << ",\"bytes\":" << off << ",\"runs\":" << plan.dst.size() << "}";
      ctx_.tracer.slice(track_, DMA_DESC_MODE(d.ctrl) == DMA_MODE_IM2COL ? "im2col"
                                : DMA_DESC_MODE(d.ctrl) == DMA_MODE_FILL ? "fill"
                                                                         : "copy",
                        "dma", ds, delay, args.str());
      sc_core::wait(delay);
      delay = sc_core::SC_ZERO_TIME;
      if (!ok) {
        err = DMA_ERR_DST_BUS;
        break;
      }
      ++desc_done_;
      if (d.ctrl & DMA_DESC_IRQ) {
        regs_.value(DMA_STATUS) |= DMA_STATUS_DESC_IRQ;
        update_irq();
      }
      addr = d.next;
    }
    sc_core::wait(delay);  // a failed descriptor still took the time of its bus accesses
    busy_ns_ += static_cast<uint64_t>((sc_core::sc_time_stamp() - t0).to_seconds() * 1e9 + 0.5);
    ctx_.tracer.set(busy_wire_, 0, sc_core::sc_time_stamp());
    finish(err);
  }
}

}  // namespace cimvp
