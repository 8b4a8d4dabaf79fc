#include "platform/power_sc/power_sc.hpp"

#include "platform/power/power_monitor.hpp"
#include "platform/tracing/tracer.hpp"

namespace cimvp {

PowerSc::PowerSc(double bin_ns, bool bins_per_kind)
    : core_(std::make_unique<power::PowerMonitor>(static_cast<uint64_t>(bin_ns * 1000.0 + 0.5))) {
  if (bins_per_kind) core_->bin_per_kind();
}
PowerSc::~PowerSc() = default;

int PowerSc::component(const std::string& name, double area_um2, double leakage_uw) {
  component_names_.push_back(name);
  return core_->add_component(name, area_um2, leakage_uw);
}

PowerSc::Event PowerSc::event(int component, const std::string& name, double pj_each) {
  events_.push_back({component_names_.at(component), name, pj_each, 0});
  return Event{component, static_cast<int>(events_.size() - 1)};
}

double PowerSc::dynamic_total_pj() const {
  double e = 0;
  for (std::size_t i = 0; i < core_->component_count(); ++i) e += core_->dynamic_pj(i);
  return e;
}

double PowerSc::leakage_total_uw() const {
  double p = 0;
  for (std::size_t i = 0; i < core_->component_count(); ++i) p += core_->leakage_uw(i);
  return p;
}

void PowerSc::report(Event e, uint64_t count, const sc_core::sc_time& at) {
  if (count == 0) return;
  auto& ev = events_[e.index];
  ev.count += count;
  core_->add(e.component, ev.pj_each * static_cast<double>(count), to_ps(at));
}

void PowerSc::report_spread(Event e, uint64_t count, const sc_core::sc_time& start, const sc_core::sc_time& duration) {
  if (count == 0) return;
  auto& ev = events_[e.index];
  ev.count += count;
  energy(e.component, ev.pj_each * static_cast<double>(count), start, duration);
}

void PowerSc::energy(int component, double pj, const sc_core::sc_time& start, const sc_core::sc_time& duration) {
  if (duration == sc_core::SC_ZERO_TIME) {
    core_->add(component, pj, to_ps(start));
  } else {
    core_->add_spread(component, pj, to_ps(start), to_ps(duration));
    core_->add_busy(component, to_ps(start), to_ps(duration));
  }
}

void PowerSc::busy(int component, const sc_core::sc_time& start, const sc_core::sc_time& duration) {
  core_->add_busy(component, to_ps(start), to_ps(duration));
}

}  // namespace cimvp
