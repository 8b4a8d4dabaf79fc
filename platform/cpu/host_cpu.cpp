#include "platform/cpu/host_cpu.hpp"

#include <cstring>
#include <iomanip>
#include <sstream>

#include "hal/hal.h"
#include "platform/memory/memory.hpp"
#include "platform/tracing/tracer.hpp"

namespace cimvp {

namespace {
HostCpu* g_current = nullptr;

uint32_t hal_status(tlm::tlm_response_status s) {
  switch (s) {
    case tlm::TLM_ADDRESS_ERROR_RESPONSE: return HAL_BUS_ADDRESS_ERROR;
    case tlm::TLM_COMMAND_ERROR_RESPONSE: return HAL_BUS_COMMAND_ERROR;
    case tlm::TLM_BURST_ERROR_RESPONSE: return HAL_BUS_BURST_ERROR;
    case tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE: return HAL_BUS_BYTE_ENABLE_ERROR;
    default: return HAL_BUS_GENERIC_ERROR;
  }
}
}  // namespace

HostCpu* HostCpu::current() { return g_current; }

HostCpu::HostCpu(const sc_core::sc_module_name& name, Context& ctx, AppEntry app)
    : sc_core::sc_module(name), isock("isock"), irq("irq"), ctx_(ctx), app_(app) {
  isock.register_invalidate_direct_mem_ptr(this, &HostCpu::invalidate_direct_mem_ptr);
  const auto& t = ctx.scenario.tech.host_cpu;
  cycle_ = sc_core::sc_time(1000.0 / t.clock_mhz, sc_core::SC_NS);
  per_access_ = cycle_ * t.cycles_per_access;
  tlm_utils::tlm_quantumkeeper::set_global_quantum(sc_core::sc_time(ctx.scenario.sim.quantum_ns, sc_core::SC_NS));
  qk_.reset();
  component_ = ctx.power.component(basename(), t.area_um2, t.leakage_uw);
  cycle_event_ = ctx.power.event(component_, "cycle", t.energy_pj_per_cycle);
  SC_THREAD(run);
  // Host-compiled firmware keeps its locals on this thread's stack (Lloyd-Max work arrays).
  set_stack_size(64 * 1024 * 1024);
}

void HostCpu::add_dmi_memory(uint64_t base, uint64_t size, Memory* mem) { dmi_mems_.push_back({base, size, mem}); }

void HostCpu::run() {
  g_current = this;
  int code = app_();
  // Like a crt0: the application's return value goes to the exit register.
  hal_exit(code);
}

void HostCpu::sync_if_needed() {
  if (qk_.need_sync()) {
    qk_.sync();
    ctx_.tracer.flush();
  }
}

void HostCpu::cycles(uint32_t n) {
  qk_.inc(cycle_ * static_cast<double>(n));
  ctx_.power.report(cycle_event_, n, qk_.get_current_time());
  sync_if_needed();
}

bool HostCpu::try_dmi(tlm::tlm_command cmd, uint32_t addr, uint8_t* data, unsigned bytes) {
  for (const auto& d : dmi_) {
    if (!dmi_covers(d, addr, bytes)) continue;
    bool rd = cmd == tlm::TLM_READ_COMMAND;
    if (rd ? !d.is_read_allowed() : !d.is_write_allowed()) continue;
    uint8_t* p = d.get_dmi_ptr() + (addr - d.get_start_address());
    if (rd)
      std::memcpy(data, p, bytes);
    else
      std::memcpy(p, data, bytes);
    sc_core::sc_time at = qk_.get_current_time();
    for (const auto& m : dmi_mems_)
      if (addr >= m.base && addr - m.base < m.size) m.mem->account_dmi(bytes, !rd, at);
    qk_.inc(rd ? d.get_read_latency() : d.get_write_latency());
    return true;
  }
  return false;
}

bool HostCpu::transport(tlm::tlm_command cmd, uint32_t addr, uint8_t* data, unsigned bytes) {
  ++accesses_;
  qk_.inc(per_access_);
  ctx_.power.report(cycle_event_, static_cast<uint64_t>(ctx_.scenario.tech.host_cpu.cycles_per_access),
                    qk_.get_current_time());
  if (try_dmi(cmd, addr, data, bytes)) {
    sync_if_needed();
    return true;
  }
  gp_.set_command(cmd);
  gp_.set_address(addr);
  gp_.set_data_ptr(data);
  gp_.set_data_length(bytes);
  gp_.set_streaming_width(bytes);
  gp_.set_byte_enable_ptr(nullptr);
  gp_.set_byte_enable_length(0);
  gp_.set_dmi_allowed(false);
  gp_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = qk_.get_local_time();
  isock->b_transport(gp_, delay);
  qk_.set(delay);
  if (gp_.is_response_ok() && gp_.is_dmi_allowed()) {
    tlm::tlm_dmi dmi;
    tlm::tlm_generic_payload probe;
    probe.set_address(addr);
    probe.set_command(cmd);
    if (isock->get_direct_mem_ptr(probe, dmi)) dmi_.push_back(dmi);
  }
  bool ok = gp_.is_response_ok();
  if (!ok) fault(cmd == tlm::TLM_WRITE_COMMAND, addr, gp_.get_response_status());
  sync_if_needed();
  return ok;
}

void HostCpu::fault(bool is_write, uint32_t addr, tlm::tlm_response_status status) {
  if (trap_) {
    trap_(is_write ? HAL_TRAP_STORE : HAL_TRAP_LOAD, addr, hal_status(status));
    return;
  }
  // No handler: a precise, fatal bus error. Stop the simulation cleanly; the run reports
  // the address and block and exits 1.
  fatal_.happened = true;
  fatal_.is_write = is_write;
  fatal_.addr = addr;
  fatal_.status = status;
  fatal_.at = qk_.get_current_time();
  qk_.sync();
  sc_core::sc_stop();
  sc_core::wait();  // never resumes: the kernel has stopped
}

uint32_t HostCpu::read(uint32_t addr, unsigned bytes) {
  uint8_t buf[4] = {0, 0, 0, 0};
  if (!transport(tlm::TLM_READ_COMMAND, addr, buf, bytes)) return 0;
  uint32_t v = 0;
  std::memcpy(&v, buf, bytes);  // little-endian host, little-endian bus
  return v;
}

void HostCpu::write(uint32_t addr, uint32_t value, unsigned bytes) {
  uint8_t buf[4];
  std::memcpy(buf, &value, 4);
  transport(tlm::TLM_WRITE_COMMAND, addr, buf, bytes);
}

void HostCpu::read_block(uint32_t addr, void* dst, uint32_t bytes) {
  // Bursts of up to 4 KiB: one transaction each, as a core's load-multiple or a cache
  // line fill would be, instead of one per word.
  auto* p = static_cast<uint8_t*>(dst);
  while (bytes) {
    uint32_t n = bytes > 4096 ? 4096 : bytes;
    if (!transport(tlm::TLM_READ_COMMAND, addr, p, n)) std::memset(p, 0, n);
    addr += n;
    p += n;
    bytes -= n;
  }
}

void HostCpu::write_block(uint32_t addr, const void* src, uint32_t bytes) {
  auto* p = static_cast<uint8_t*>(const_cast<void*>(src));
  while (bytes) {
    uint32_t n = bytes > 4096 ? 4096 : bytes;
    transport(tlm::TLM_WRITE_COMMAND, addr, p, n);
    addr += n;
    p += n;
    bytes -= n;
  }
}

void HostCpu::wait_irq() {
  // WFI: local time is given back to the kernel before sleeping.
  qk_.sync();
  ctx_.tracer.flush();
  while (!irq.read()) sc_core::wait(irq.value_changed_event());
  qk_.reset();
}

void HostCpu::invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end) {
  std::vector<tlm::tlm_dmi> keep;
  for (const auto& d : dmi_)
    if (d.get_end_address() < start || d.get_start_address() > end) keep.push_back(d);
  dmi_.swap(keep);
}

}  // namespace cimvp
