#include "platform/sysctl/sysctl.hpp"

#include "cimvp/regs.h"
#include "platform/power/power_monitor.hpp"
#include "platform/tracing/tracer.hpp"

namespace cimvp {

const char* Sysctl::phase_name(uint32_t id) {
  switch (id) {
    case FW_PHASE_BOOT: return "boot";
    case FW_PHASE_SELFTEST: return "selftest";
    case FW_PHASE_PROGRAM: return "program";
    case FW_PHASE_CALIBRATE: return "calibrate";
    case FW_PHASE_INFER: return "infer";
    case FW_PHASE_LAYER: return "layer";
    case FW_PHASE_IMAGE: return "image";
    default: return "phase";
  }
}

Sysctl::PhaseStats Sysctl::phase_stats(uint32_t id) const {
  auto it = phase_totals_.find(id);
  return it == phase_totals_.end() ? PhaseStats{} : it->second;
}

Sysctl::Sysctl(const sc_core::sc_module_name& name, Context& ctx, std::vector<DiscoveryEntry> table, bool echo_console)
    : RegBlock(name, ctx, CIMVP_BLOCK_SYSCTL, SYSCTL_VERSION_VALUE, ctx.scenario.tech.registers.area_um2,
               ctx.scenario.tech.registers.leakage_uw),
      table_(std::move(table)),
      echo_console_(echo_console) {
  using A = RegAccess;
  regs_.add("PLATFORM", SYSCTL_PLATFORM, SYSCTL_PLATFORM_RESET, A::RO);
  regs_.add("CONSOLE", SYSCTL_CONSOLE, 0, A::WO, {}, [this](uint32_t v) { on_console(v); });
  regs_.add("EXIT", SYSCTL_EXIT, 0, A::WO, {}, [this](uint32_t v) { on_exit(v); });
  regs_.add("SCRATCH", SYSCTL_SCRATCH, SYSCTL_SCRATCH_RESET, A::RW);
  regs_.add("SEED", SYSCTL_SEED, static_cast<uint32_t>(ctx.scenario.seed), A::RO);
  regs_.add("NBLOCKS", SYSCTL_NBLOCKS, static_cast<uint32_t>(table_.size()), A::RO);
  regs_.add("BLOCK_SEL", SYSCTL_BLOCK_SEL, SYSCTL_BLOCK_SEL_RESET, A::RW);
  auto sel = [this]() -> const DiscoveryEntry* {
    uint32_t i = regs_.value(SYSCTL_BLOCK_SEL);
    return i < table_.size() ? &table_[i] : nullptr;
  };
  regs_.add("BLOCK_TYPE", SYSCTL_BLOCK_TYPE, 0, A::RO, [sel] {
    auto e = sel();
    return e ? (e->type << 16) | (e->instance & 0xFFFFu) : 0u;
  });
  regs_.add("BLOCK_BASE", SYSCTL_BLOCK_BASE, 0, A::RO, [sel] { return sel() ? sel()->base : 0u; });
  regs_.add("BLOCK_SIZE", SYSCTL_BLOCK_SIZE, 0, A::RO, [sel] { return sel() ? sel()->size : 0u; });
  regs_.add("BLOCK_IRQ", SYSCTL_BLOCK_IRQ, 0, A::RO, [sel] { return sel() ? sel()->irq : SYSCTL_NO_IRQ; });
  regs_.add("PHASE_ARG", SYSCTL_PHASE_ARG, SYSCTL_PHASE_ARG_RESET, A::RW);
  regs_.add("PHASE_BEGIN", SYSCTL_PHASE_BEGIN, 0, A::WO, {}, [this](uint32_t v) { on_phase_begin(v); });
  regs_.add("PHASE_END", SYSCTL_PHASE_END, 0, A::WO, {}, [this](uint32_t v) { on_phase_end(v); });
  regs_.add("TIME_LO", SYSCTL_TIME_LO, 0, A::RO, [this] {
    latched_time_ns_ = static_cast<uint64_t>(access_time().to_seconds() * 1e9 + 0.5);
    return static_cast<uint32_t>(latched_time_ns_);
  });
  regs_.add("TIME_HI", SYSCTL_TIME_HI, 0, A::RO, [this] { return static_cast<uint32_t>(latched_time_ns_ >> 32); });
  regs_.add("APP_ARG0", SYSCTL_APP_ARG0, ctx.scenario.firmware.arg0, A::RO);
  regs_.add("APP_ARG1", SYSCTL_APP_ARG1, ctx.scenario.firmware.arg1, A::RO);

  phase_wire_ = ctx.tracer.wire("firmware", "phase", 8);
  phase_track_ = ctx.tracer.track("firmware", "phases");
  console_track_ = ctx.tracer.track("firmware", "console");
}

void Sysctl::on_console(uint32_t v) {
  char c = static_cast<char>(v & 0xFF);
  console_log_ += c;
  if (c == '\n') {
    if (echo_console_) SC_REPORT_INFO(kConsoleMsgType, line_.c_str());
    ctx_.tracer.instant(console_track_, line_, access_time());
    line_.clear();
  } else {
    line_ += c;
  }
}

void Sysctl::on_exit(uint32_t v) {
  if (exited_) return;
  if (!line_.empty()) on_console('\n');
  exited_ = true;
  exit_code_ = static_cast<int>(v);
  exit_time_ = access_time();
  // Phases the firmware left open end at exit, so the trace stays well formed.
  while (!open_.empty()) on_phase_end(open_.back().id);
  sc_core::sc_stop();
}

void Sysctl::on_phase_begin(uint32_t id) {
  open_.push_back({id, regs_.value(SYSCTL_PHASE_ARG), access_time(), ctx_.power.dynamic_total_pj(), {}});
  if (id == FW_PHASE_INFER) {
    const auto& pm = ctx_.power.core();
    auto& v = open_.back().component_pj_at_start;
    v.resize(pm.component_count());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = pm.dynamic_pj(i);
  }
  ctx_.tracer.set(phase_wire_, id, access_time());
}

void Sysctl::on_phase_end(uint32_t id) {
  for (auto it = open_.rbegin(); it != open_.rend(); ++it) {
    if (it->id != id) continue;
    OpenPhase p = *it;
    open_.erase(std::next(it).base());
    auto& tot = phase_totals_[p.id];
    tot.count++;
    tot.time_ns += (access_time() - p.start).to_seconds() * 1e9;
    tot.dynamic_pj += ctx_.power.dynamic_total_pj() - p.dynamic_pj_at_start;
    if (p.id == FW_PHASE_INFER) {
      const auto& pm = ctx_.power.core();
      tot.component_dynamic_pj.resize(pm.component_count(), 0.0);
      for (std::size_t i = 0; i < pm.component_count(); ++i)
        tot.component_dynamic_pj[i] +=
            pm.dynamic_pj(i) - (i < p.component_pj_at_start.size() ? p.component_pj_at_start[i] : 0.0);
    }
    std::string args = "{\"arg\":" + std::to_string(p.arg) + "}";
    ctx_.tracer.slice(phase_track_, phase_name(p.id), "firmware", p.start, access_time() - p.start, args);
    ctx_.tracer.set(phase_wire_, open_.empty() ? 0 : open_.back().id, access_time());
    return;
  }
  SC_REPORT_WARNING(name(), ("firmware ended phase " + std::to_string(id) + " that was not open").c_str());
}

}  // namespace cimvp
