// PMU block (SystemC shell): firmware-readable energy and time counters per power component.
// The counters come from the power monitor's per-component totals (PowerSc): a SNAPSHOT write
// latches, at the access time (kernel time + the initiator's local offset), every
// component's dynamic energy reported so far plus its leakage up to that instant.
// Registers: firmware/include/cimvp/regs.h (PMU_*); docs/energy.md.
#pragma once

#include <cstdint>
#include <vector>

#include "models/pmu/pmu_core.hpp"
#include "platform/regs/reg_block.hpp"

namespace cimvp {

class Pmu : public RegBlock {
 public:
  Pmu(const sc_core::sc_module_name& name, Context& ctx);

  // The energies a snapshot at absolute time t_ps would latch (one per component).
  std::vector<pmu::ComponentEnergy> energies_at(uint64_t t_ps) const;
  // Latches at t_ps as a PMU_CTRL_SNAPSHOT write would (tests, end-of-run checks).
  void snapshot(uint64_t t_ps);
  void reset_counters(uint64_t t_ps);
  const pmu::Counters& counters() const { return counters_; }

 private:
  void on_ctrl(uint32_t v);
  void refresh();  // copies the latched values into the registers (so debug reads see them)

  pmu::Counters counters_;
};

}  // namespace cimvp
