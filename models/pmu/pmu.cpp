#include "models/pmu/pmu.hpp"

#include "cimvp/regs.h"
#include "platform/power/power_monitor.hpp"
#include "platform/tracing/tracer.hpp"

namespace cimvp {

// Area and leakage: a register block (tech.registers); the counters themselves are derived
// from the monitor, so no per-component counter flops are modelled (assumption, docs/energy.md).
Pmu::Pmu(const sc_core::sc_module_name& name, Context& ctx)
    : RegBlock(name, ctx, CIMVP_BLOCK_PMU, PMU_VERSION_VALUE, ctx.scenario.tech.registers.area_um2,
               ctx.scenario.tech.registers.leakage_uw) {
  using A = RegAccess;
  regs_.add("NCOMP", PMU_NCOMP, 0, A::RO,
            [this] { return static_cast<uint32_t>(ctx_.power.core().component_count()); });
  regs_.add("CTRL", PMU_CTRL, 0, A::WO, {}, [this](uint32_t v) { on_ctrl(v); });
  regs_.add("SEL", PMU_SEL, 0, A::RW, {}, [this](uint32_t) { refresh(); });
  const uint32_t ro[] = {PMU_C_HASH,      PMU_C_NAME0,  PMU_C_NAME1,  PMU_C_NAME2,     PMU_C_NAME3,
                         PMU_C_ENERGY_LO, PMU_C_ENERGY_HI, PMU_C_STATIC_LO, PMU_C_STATIC_HI, PMU_TOTAL_LO,
                         PMU_TOTAL_HI,    PMU_TIME_LO,  PMU_TIME_HI,  PMU_CYCLES_LO,   PMU_CYCLES_HI,
                         PMU_NOW_LO,      PMU_NOW_HI,   PMU_SNAPSHOTS, PMU_C_BUSY_LO, PMU_C_BUSY_HI};
  const char* names[] = {"C_HASH",   "C_NAME0", "C_NAME1",   "C_NAME2",   "C_NAME3",   "C_ENERGY_LO",
                         "C_ENERGY_HI", "C_STATIC_LO", "C_STATIC_HI", "TOTAL_LO", "TOTAL_HI", "TIME_LO",
                         "TIME_HI",  "CYCLES_LO", "CYCLES_HI", "NOW_LO",    "NOW_HI",    "SNAPSHOTS", "C_BUSY_LO", "C_BUSY_HI"};
  // Stored values (no on_read): refresh() keeps them current, so debug reads see them too.
  for (std::size_t i = 0; i < sizeof ro / sizeof ro[0]; ++i) regs_.add(names[i], ro[i], 0, A::RO);
}

std::vector<pmu::ComponentEnergy> Pmu::energies_at(uint64_t t_ps) const {
  const auto& pm = ctx_.power.core();
  std::vector<pmu::ComponentEnergy> e(pm.component_count());
  for (std::size_t i = 0; i < e.size(); ++i) {
    e[i].dynamic_pj = pm.dynamic_pj(i);
    e[i].static_pj = pm.static_pj(i, t_ps);
    e[i].busy_ps = pm.busy_ps_before(i, t_ps);
  }
  return e;
}

void Pmu::snapshot(uint64_t t_ps) {
  counters_.snapshot(energies_at(t_ps), t_ps);
  refresh();
}

void Pmu::reset_counters(uint64_t t_ps) {
  counters_.reset(energies_at(t_ps), t_ps);
  refresh();
}

void Pmu::on_ctrl(uint32_t v) {
  const uint64_t t = to_ps(access_time());
  if (v & PMU_CTRL_RESET) reset_counters(t);
  if (v & PMU_CTRL_SNAPSHOT) snapshot(t);
}

void Pmu::refresh() {
  auto lo = [](uint64_t x) { return static_cast<uint32_t>(x); };
  auto hi = [](uint64_t x) { return static_cast<uint32_t>(x >> 32); };
  const auto& pm = ctx_.power.core();
  const uint32_t sel = regs_.value(PMU_SEL);
  const std::string name = sel < pm.component_count() ? pm.component_name(sel) : std::string();
  regs_.value(PMU_C_HASH) = name.empty() ? 0u : pmu::name_hash(name);
  regs_.value(PMU_C_NAME0) = pmu::name_word(name, 0);
  regs_.value(PMU_C_NAME1) = pmu::name_word(name, 1);
  regs_.value(PMU_C_NAME2) = pmu::name_word(name, 2);
  regs_.value(PMU_C_NAME3) = pmu::name_word(name, 3);
  const uint64_t e = counters_.energy_fj(sel), s = counters_.static_fj(sel);
  regs_.value(PMU_C_ENERGY_LO) = lo(e);
  regs_.value(PMU_C_ENERGY_HI) = hi(e);
  regs_.value(PMU_C_STATIC_LO) = lo(s);
  regs_.value(PMU_C_STATIC_HI) = hi(s);
  const uint64_t busy = counters_.busy_ps(sel);
  regs_.value(PMU_C_BUSY_LO) = lo(busy);
  regs_.value(PMU_C_BUSY_HI) = hi(busy);
  regs_.value(PMU_TOTAL_LO) = lo(counters_.total_fj());
  regs_.value(PMU_TOTAL_HI) = hi(counters_.total_fj());
  regs_.value(PMU_TIME_LO) = lo(counters_.elapsed_ps());
  regs_.value(PMU_TIME_HI) = hi(counters_.elapsed_ps());
  const uint64_t c = counters_.cycles(ctx_.scenario.tech.host_cpu.clock_mhz);
  regs_.value(PMU_CYCLES_LO) = lo(c);
  regs_.value(PMU_CYCLES_HI) = hi(c);
  regs_.value(PMU_NOW_LO) = lo(counters_.snapshot_ps());
  regs_.value(PMU_NOW_HI) = hi(counters_.snapshot_ps());
  regs_.value(PMU_SNAPSHOTS) = static_cast<uint32_t>(counters_.snapshots());
}

}  // namespace cimvp
