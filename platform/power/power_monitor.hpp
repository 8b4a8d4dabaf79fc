// Power monitor core: per-component energy totals, static (leakage) energy and a time-binned
// power trace, plus the CSV/VCD/trace outputs (DESIGN.md §5). Pure C++17; times in ps.
//
// Units: energy pJ, time ps, leakage uW, power mW (1 pJ/ps = 1 W; 1 uW for 1 ps = 1e-6 pJ).
//
// Binning. Bin b covers [b*w, (b+1)*w) with w = bin_ps(). An instantaneous event add(c, E, t)
// puts all of E into the bin containing t (the energy of one operation is not split: its
// duration is unknown to the monitor). add_spread(c, E, t0, d) spreads E uniformly over
// [t0, t0 + d), each bin receiving E x overlap/d; the last piece takes the remainder so the
// pieces sum to E. Events may arrive in any time order.
//
// Static power. Leakage runs from 0 to the end time given to the outputs (end_ps). A bin's
// power is its energy divided by the full bin width w, also for the last, partial bin (whose
// static energy covers only up to end_ps): so sum over rows of power x w == total energy
// (dynamic + leakage x end_ps) exactly up to rounding. Bins past end_ps (events after the end
// time) have no static energy.
//
// Busy time. add_busy(c, t0, d) marks [t0, t0 + d) busy for component c (a tile batch, an
// ADC bank's conversion phase, a DMA descriptor). Overlapping or touching intervals of one
// component merge, so busy time never exceeds elapsed time; busy_ps_before(c, t) is the busy
// time inside [0, t), what a PMU snapshot at t latches. Intervals usually arrive in start
// order (appended in O(1)); an earlier one is inserted in order. Memory: one entry per merged
// interval (16 bytes), i.e. per batch or descriptor of the block.
//
// Memory is O(components x bins). To keep long runs bounded, the number of bins is capped
// (max_bins, default 2^18): when an event or end time needs a bin beyond the cap, adjacent bin
// pairs are merged and the bin width doubles (as often as needed). Merging is exact, so
// totals and conservation are unaffected; bin_ps() reports the width actually used.
//
// Binning per kind. A chip with thousands of tiles has tens of thousands of components; bins
// per component would need components x bins doubles (25,000 x 20,000 = 4 GB for VGG8 with its
// calibration). bin_per_kind(), called before the first component, keeps one bin vector per
// component_kind() instead: totals, busy time and breakdowns stay per component, the trace is
// only available grouped (grouped_by_kind(); the per-component trace calls throw).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <unordered_map>
#include <vector>

namespace cimvp::trace {
class ChromeTrace;
}

namespace cimvp::power {

class PowerMonitor {
 public:
  // bin_ps > 0; max_bins >= 2.
  explicit PowerMonitor(uint64_t bin_ps, std::size_t max_bins = std::size_t{1} << 18);

  // Bins per component_kind() rather than per component (see above). Only before add_component.
  void bin_per_kind();
  bool bins_per_kind() const { return per_kind_; }

  // Name: non-empty, no whitespace, commas or quotes (it becomes a CSV column and a VCD
  // signal). Area in um^2 and leakage in uW must be finite and >= 0. Returns the id.
  int add_component(const std::string& name, double area_um2, double leakage_uw);

  // Dynamic energy (finite, >= 0 pJ) of component `id` at time t_ps.
  void add(int id, double energy_pj, uint64_t t_ps);
  // Dynamic energy spread uniformly over [t_start_ps, t_start_ps + dur_ps); dur 0 = add().
  void add_spread(int id, double energy_pj, uint64_t t_start_ps, uint64_t dur_ps);

  // Busy interval [t_start_ps, t_start_ps + dur_ps) of component `id` (dur 0: nothing).
  void add_busy(int id, uint64_t t_start_ps, uint64_t dur_ps);
  uint64_t busy_ps(std::size_t i) const;                         // whole run
  uint64_t busy_ps_before(std::size_t i, uint64_t t_ps) const;   // inside [0, t_ps)

  std::size_t component_count() const { return comps_.size(); }
  const std::string& component_name(std::size_t i) const { return comp(i).name; }
  int component_id(const std::string& name) const;  // throws if unknown
  double area_um2(std::size_t i) const { return comp(i).area_um2; }
  double leakage_uw(std::size_t i) const { return comp(i).leakage_uw; }
  double dynamic_pj(std::size_t i) const { return static_cast<double>(comp(i).dynamic_pj); }
  double static_pj(std::size_t i, uint64_t end_ps) const;
  double total_pj(uint64_t end_ps) const;  // all components, dynamic + static
  double total_area_um2() const;
  uint64_t event_count() const { return events_; }
  uint64_t last_event_ps() const { return last_t_; }  // latest time any energy was placed at

  uint64_t bin_ps() const { return bin_ps_; }
  std::size_t bin_count() const { return nbins_; }  // bins touched by events so far
  // Rows the outputs will have for this end time: max(bins touched, ceil(end_ps / bin_ps)).
  // May merge bins (see the cap above), so call it before reading bin_ps() for the outputs.
  std::size_t rows_for(uint64_t end_ps);
  double bin_dynamic_pj(std::size_t comp, std::size_t bin) const;
  // Power of component `comp` in bin `bin`, dynamic + static, in mW.
  double bin_power_mw(std::size_t comp, std::size_t bin, uint64_t end_ps) const;

  // Output texts (deterministic) and the files they go to.
  // power.csv: header "time_ns,<comp>_mW,...,total_mW", one row per bin with its START time.
  std::string power_csv(uint64_t end_ps);
  // energy_breakdown.csv: component,dynamic_pJ,static_pJ,total_pJ,share (share: fraction 0..1).
  std::string energy_breakdown_csv(uint64_t end_ps) const;
  // area_breakdown.csv: component,area_um2,share.
  std::string area_breakdown_csv() const;
  void write_power_csv(const std::string& path, uint64_t end_ps);
  void write_energy_breakdown_csv(const std::string& path, uint64_t end_ps) const;
  void write_area_breakdown_csv(const std::string& path) const;
  // power.vcd: scope "power", one real signal "<comp>_mW" per component and "total_mW",
  // changing at bin starts; the file ends at rows x bin_ps.
  void write_power_vcd(const std::string& path, uint64_t end_ps);
  // Counter track "power_mW" in a Chrome trace: one sample per bin with every component and
  // the total as series, plus a final all-zero sample at the end of the last bin.
  void write_power_counters(trace::ChromeTrace& trace, uint64_t end_ps, const std::string& counter = "power_mW");

  // A monitor whose components are groups of this one's: group[i] names component i's group
  // (a valid component name; groups in order of first appearance). Areas, leakage, dynamic
  // energy and every bin are summed, so totals and sum(power x width) carry over exactly (up to
  // the order of the additions). For chips with thousands of components (scenario
  // trace.power_series: kind), where one trace column per component is unreadable.
  PowerMonitor grouped(const std::vector<std::string>& group) const;
  // grouped() by component_kind(), spaces as '_' ("crossbar_array", "adc", "sram", ...).
  PowerMonitor grouped_by_kind() const;

 private:
  struct Comp {
    std::string name;
    double area_um2 = 0;
    double leakage_uw = 0;
    long double dynamic_pj = 0;  // long double: millions of small events must not lose energy
    std::vector<double> bins;    // dynamic pJ per bin (size nbins_)
    // Merged busy intervals [start, end), ascending, and busy time before each one.
    std::vector<std::pair<uint64_t, uint64_t>> busy;
    std::vector<uint64_t> busy_prefix;  // busy_prefix[k] = sum of lengths of busy[0..k)
  };
  const Comp& comp(std::size_t i) const;
  std::vector<double>& bins_of(int id) { return comps_[static_cast<std::size_t>(bin_owner_[static_cast<std::size_t>(id)])].bins; }
  void require_component_bins(const char* what) const;
  Comp& comp_checked(int id, double energy_pj, const char* what);
  void ensure_bin(uint64_t t_ps);  // grows (or coarsens) so that t_ps has a bin
  double static_in_bin_pj(const Comp& c, std::size_t bin, uint64_t end_ps) const;

  uint64_t bin_ps_;
  std::size_t max_bins_;
  std::unordered_map<std::string, int> index_;  // name -> id (thousands of tiles register components)
  std::size_t nbins_ = 0;
  std::vector<Comp> comps_;
  // bin_owner_[i]: the component whose bins hold i's dynamic energy (i itself, or with
  // bin_per_kind() the first component of i's kind); owners_: those components.
  std::vector<int> bin_owner_;
  std::vector<int> owners_;
  bool per_kind_ = false;
  std::unordered_map<std::string, int> kind_owner_;
  uint64_t events_ = 0;
  uint64_t last_t_ = 0;
};

// ps -> ns text with ps resolution, trailing zeros trimmed ("12.345", "7").
std::string ns_text(uint64_t ps);

// Kind of a component for grouped tables, the ADC share and trace.power_series: kind:
// tile<i>_adc -> "adc", tile<i>.array -> "crossbar array", tile<i>.periphery -> "tile
// periphery", tile<i> (its registers) -> "tile registers"; other <stem><digits> -> "<stem>
// registers"; any other name is its own kind.
std::string component_kind(const std::string& name);

}  // namespace cimvp::power
