#include "platform/soc/soc.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cimvp/regs.h"
#include "platform/bus/router.hpp"
#include "platform/cpu/host_cpu.hpp"
#include "platform/irq/irq_ctrl.hpp"
#include "platform/memory/memory.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/soc/block_factory.hpp"
#include "platform/soc/outputs.hpp"
#include "platform/sysctl/sysctl.hpp"
#include "platform/tracing/tracer.hpp"

namespace cimvp {

std::string format_ns(uint64_t ps) {
  std::string s = std::to_string(ps / 1000);
  if (const uint64_t frac = ps % 1000) {
    char f[8];
    std::snprintf(f, sizeof f, ".%03u", static_cast<unsigned>(frac));
    std::string d(f);
    while (d.back() == '0') d.pop_back();
    s += d;
  }
  return s;
}

namespace {

const char* response_name(tlm::tlm_response_status s) {
  switch (s) {
    case tlm::TLM_ADDRESS_ERROR_RESPONSE: return "TLM_ADDRESS_ERROR_RESPONSE (no register there)";
    case tlm::TLM_COMMAND_ERROR_RESPONSE: return "TLM_COMMAND_ERROR_RESPONSE (read-only or write-only register)";
    case tlm::TLM_BURST_ERROR_RESPONSE: return "TLM_BURST_ERROR_RESPONSE (unsupported access size)";
    case tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE: return "TLM_BYTE_ENABLE_ERROR_RESPONSE";
    default: return "TLM_GENERIC_ERROR_RESPONSE";
  }
}

std::string hex32(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << std::setw(8) << std::setfill('0') << v;
  return s.str();
}

}  // namespace

Soc::Soc(const config::Scenario& scenario, const RunOptions& options) : scenario_(scenario), options_(options) {
  tracer_ = std::make_unique<Tracer>();
  if (!options_.out_dir.empty()) {
    std::filesystem::create_directories(options_.out_dir);
    tracer_->open(scenario.trace.vcd ? options_.out_dir + "/signals.vcd" : "",
                  scenario.trace.trace_json ? options_.out_dir + "/trace.json" : "",
                  static_cast<uint64_t>(scenario.trace.vcd_max_mb * 1024.0 * 1024.0));
  }
  // With trace.power_series: kind only the per-kind trace is written, so only it is binned
  // (a 6,344-tile chip would otherwise keep 25,000 bin vectors).
  power_ = std::make_unique<PowerSc>(scenario.sim.power_bin_ns, scenario.trace.power_series == "kind");
  ctx_ = std::make_unique<Context>(Context{scenario_, *tracer_, *power_});

  router_ = std::make_unique<Router>("bus", *ctx_);
  auto app = find_firmware_app(scenario.firmware.app);
  cpu_ = std::make_unique<HostCpu>("cpu", *ctx_, app);
  cpu_->isock.bind(router_->tsock);
  router_->name_initiator(0, "cpu");

  // Interrupt lines: one signal per controller input; unused inputs stay low.
  for (unsigned i = 0; i < IrqCtrl::kLines; ++i)
    irq_lines_.push_back(std::make_unique<sc_core::sc_signal<bool>>(("irq_line" + std::to_string(i)).c_str()));
  cpu_irq_ = std::make_unique<sc_core::sc_signal<bool>>("cpu_irq");
  cpu_->irq(*cpu_irq_);

  // Discovery table, in memory-map order (sysctl serves it to the firmware).
  std::map<std::string, unsigned> instances;
  for (const auto& e : scenario.memory_map) {
    DiscoveryEntry d;
    d.type = find_block_kind(e.block)->type;
    d.instance = instances[e.block]++;
    d.base = static_cast<uint32_t>(e.base);
    d.size = static_cast<uint32_t>(e.size);
    d.irq = e.irq < 0 ? SYSCTL_NO_IRQ : static_cast<uint32_t>(e.irq);
    table_.push_back(d);
  }

  unsigned next_master = 1;  // router target-side index 0 is the CPU
  for (std::size_t i = 0; i < scenario.memory_map.size(); ++i) {
    const auto& e = scenario.memory_map[i];
    const BlockKind* kind = find_block_kind(e.block);
    if (kind->needs_irq && e.irq < 0)
      throw config::ConfigError(e.where + ": memory_map: block '" + e.name + "' (" + e.block +
                                ") raises interrupts: give it an 'irq' line");
    BlockSite site{*this, *ctx_, e, table_[i].instance};
    BuiltBlock built = kind->make(site);
    router_->map(e.name, e.base, e.size);
    router_->isock.bind(*built.target);
    if (built.irq) {
      // Each block drives its own signal; blocks sharing a line are OR-ed into it.
      block_irqs_.push_back(std::make_unique<sc_core::sc_signal<bool>>((e.name + "_irq").c_str()));
      built.irq->bind(*block_irqs_.back());
      if (e.irq >= 0) line_sources_[e.irq].push_back(block_irqs_.back().get());
    }
    for (auto* m : built.masters) {
      m->bind(router_->tsock);
      router_->name_initiator(next_master++, e.name);
    }
    if (built.memory) cpu_->add_dmi_memory(e.base, e.size, built.memory);
    if (auto* s = dynamic_cast<Sysctl*>(built.module.get())) sysctl_ = s;
    if (auto* q = dynamic_cast<IrqCtrl*>(built.module.get())) irq_ = q;
    blocks_.push_back({&e, built.module.get(), built.regs});
    modules_.push_back(std::move(built.module));
  }
  for (auto& [line, sources] : line_sources_)
    irq_or_.push_back(std::make_unique<IrqOr>(("irq_or" + std::to_string(line)).c_str(), sources, *irq_lines_[line]));
}

Soc::~Soc() = default;

Memory* Soc::memory(const std::string& name) const {
  for (const auto& b : blocks_)
    if (b.entry->name == name) return dynamic_cast<Memory*>(b.module);
  return nullptr;
}

sc_core::sc_module* Soc::module(const std::string& name) const {
  for (const auto& b : blocks_)
    if (b.entry->name == name) return b.module;
  return nullptr;
}

void Soc::print_memory_map(std::ostream& os, bool with_registers) const {
  os << "memory map of scenario '" << scenario_.name << "' (" << scenario_.file << ")\n";
  os << "  name          block     base        end         size        irq\n";
  for (const auto& b : blocks_) {
    const auto& e = *b.entry;
    os << "  " << std::left << std::setw(14) << e.name << std::setw(10) << e.block << hex32(e.base) << "  "
       << hex32(e.base + e.size - 1) << "  " << hex32(e.size) << "  " << (e.irq < 0 ? "-" : std::to_string(e.irq))
       << std::right << "\n";
    if (with_registers && b.regs) b.regs->print(os, e.base);
  }
}

RunResult Soc::run() {
  RunResult r;
  auto t0 = std::chrono::steady_clock::now();
  const sc_core::sc_time limit(scenario_.sim.max_time_ms, sc_core::SC_MS);
  try {
    if (options_.before_start) options_.before_start(*this);
    sc_core::sc_start(limit, sc_core::SC_EXIT_ON_STARVATION);
  } catch (const std::exception& e) {
    r.error = std::string("simulation error: ") + e.what();
  }
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.sim_time_ps = to_ps(sc_core::sc_time_stamp());
  r.sim_time_ns = static_cast<double>(r.sim_time_ps) / 1e3;

  const BusFault& f = cpu_->fatal_fault();
  if (!r.error.empty()) {
    r.exit_status = 1;
  } else if (f.happened) {
    const Router::Range* where = router_->decode(f.addr);
    std::ostringstream m;
    m << "firmware bus error: " << (f.is_write ? "store to " : "load from ") << hex32(f.addr) << " at "
      << format_ns(to_ps(f.at)) << " ns: ";
    if (!where)
      m << "no block is mapped at this address (see `cimvp memory-map`)";
    else
      m << "block '" << where->name << "' (offset " << hex32(f.addr - where->base) << ") answered "
        << response_name(f.status);
    r.error = m.str();
    r.exit_status = 1;
  } else if (sysctl_->exited()) {
    r.firmware_exit_code = sysctl_->exit_code();
    r.sim_time_ps = to_ps(sysctl_->exit_time());
    r.sim_time_ns = static_cast<double>(r.sim_time_ps) / 1e3;
    r.exit_status = r.firmware_exit_code == 0 ? 0 : 1;
    if (r.exit_status) r.error = "firmware exited with code " + std::to_string(r.firmware_exit_code);
  } else if (sc_core::sc_time_stamp() >= limit || sc_core::sc_pending_activity()) {
    // sc_start(limit) stops before an event past the limit without advancing time to it, so
    // events still pending mean the limit was reached (not starvation).
    r.error = "firmware did not exit within sim.max_time_ms = " + std::to_string(scenario_.sim.max_time_ms) +
              " ms of simulated time (raise it with --set sim.max_time_ms=...)";
  } else {
    r.error = "firmware is waiting for an interrupt that nothing will raise (no pending events at " +
              format_ns(r.sim_time_ps) + " ns)";
  }
  if (options_.after_run) options_.after_run(*this, r);
  write_outputs(r);
  return r;
}

void Soc::write_outputs(const RunResult& r) {
  const sc_core::sc_time end = sc_core::sc_time(static_cast<double>(r.sim_time_ps), sc_core::SC_PS);
  tracer_->close(std::max(end, sc_core::sc_time_stamp()));
  if (options_.out_dir.empty()) return;
  RunOutputs out;
  if (tracer_->vcd_truncated()) {
    out.vcd_truncated_at_ps = static_cast<int64_t>(tracer_->vcd_truncated_at_ps());
    if (options_.echo_console)
      std::cout << "cimvp: signals.vcd stops at " << format_ns(tracer_->vcd_truncated_at_ps())
                << " ns: it reached trace.vcd_max_mb = " << scenario_.trace.vcd_max_mb
                << " MiB (later changes are not recorded; raise it, or 0 for no cap)\n";
  }
  out.scenario = &scenario_;
  out.result = &r;
  out.power = power_.get();
  out.console_log = sysctl_ ? sysctl_->console_log() : std::string();
  out.bus_transactions = router_->transactions();
  out.cpu_accesses = cpu_->accesses();
  write_run_outputs(options_.out_dir, out);
}

}  // namespace cimvp
