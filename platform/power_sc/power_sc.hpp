// SystemC-side power accounting: blocks register components and named energy events at
// elaboration and report occurrences at run time with absolute timestamps; the pure
// power::PowerMonitor core keeps totals, static power and the time-binned trace.
#pragma once

#include <systemc>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cimvp {

namespace power {
class PowerMonitor;
}

class PowerSc {
 public:
  // bins_per_kind: the power trace is kept per component kind only (trace.power_series: kind).
  explicit PowerSc(double bin_ns, bool bins_per_kind = false);
  ~PowerSc();

  // A hardware component (its leakage runs for the whole simulation).
  int component(const std::string& name, double area_um2, double leakage_uw);

  // A named energy event of a component with a fixed energy per occurrence.
  struct Event {
    int component = -1;
    int index = -1;
  };
  Event event(int component, const std::string& name, double pj_each);
  void report(Event e, uint64_t count, const sc_core::sc_time& at);
  // The same, with the occurrences' energy spread evenly over [start, start + duration) (a
  // batch's DAC row-cycles, mux switching, ...); also marks the component busy then.
  void report_spread(Event e, uint64_t count, const sc_core::sc_time& start, const sc_core::sc_time& duration);
  // Energy whose size is computed at run time (e.g. V^2*G*t array reads), spread evenly over
  // [start, start + duration) so the power trace shows it where it was spent. A non-zero
  // duration also marks the component busy over that interval (PMU busy counters).
  void energy(int component, double pj, const sc_core::sc_time& start,
              const sc_core::sc_time& duration = sc_core::SC_ZERO_TIME);
  // A busy interval of a component without energy of its own (e.g. a DMA descriptor whose
  // energy is reported per byte at its start).
  void busy(int component, const sc_core::sc_time& start, const sc_core::sc_time& duration);

  power::PowerMonitor& core() { return *core_; }
  // Dynamic energy reported so far (all components), and the chip's total leakage.
  double dynamic_total_pj() const;
  double leakage_total_uw() const;

  struct EventInfo {
    std::string component;
    std::string name;
    double pj_each = 0;
    uint64_t count = 0;
  };
  const std::vector<EventInfo>& events() const { return events_; }

 private:
  std::unique_ptr<power::PowerMonitor> core_;
  std::vector<EventInfo> events_;
  std::vector<std::string> component_names_;
};

}  // namespace cimvp
