// PMU counter core (pure C++17, no SystemC): turns the power monitor's per-component energy
// totals into the integer counters the firmware reads (docs/energy.md, "PMU").
//
// Units: energy in fJ (uint64: 1.8e4 J before wrapping), time in ps. A SNAPSHOT latches every
// component at once, so a firmware that reads component after component sees one consistent
// instant; RESET moves the baseline so the counters restart at zero (energy and time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cimvp::pmu {

// FNV-1a, 32 bit, of the component name: lets firmware match a component without strings.
uint32_t name_hash(const std::string& name);
// Word w (0..3) of the name's first 16 bytes, little-endian, NUL-padded (for printing).
uint32_t name_word(const std::string& name, unsigned w);
// pJ -> fJ rounded to nearest; throws std::invalid_argument for negative or non-finite values
// and std::range_error beyond 2^64 fJ.
uint64_t pj_to_fj(double pj);

struct ComponentEnergy {
  double dynamic_pj = 0;  // energy of the events reported so far
  double static_pj = 0;   // leakage x time up to the snapshot instant
  uint64_t busy_ps = 0;   // busy time inside [0, snapshot instant) (0 for blocks that report none)
};

class Counters {
 public:
  // Latches `now` (one entry per component) at time t_ps, relative to the last reset.
  // Components added since the last reset (vector longer than the baseline) start from 0.
  void snapshot(const std::vector<ComponentEnergy>& now, uint64_t t_ps);
  // Makes `now` / t_ps the new zero; the latched values become zero too.
  void reset(const std::vector<ComponentEnergy>& now, uint64_t t_ps);

  std::size_t size() const { return latched_.size(); }
  uint64_t energy_fj(std::size_t i) const;   // dynamic + static since reset
  uint64_t static_fj(std::size_t i) const;   // the static part of energy_fj
  uint64_t busy_ps(std::size_t i) const;     // busy time since reset
  uint64_t total_fj() const { return total_fj_; }  // sum of energy_fj over all components
  uint64_t elapsed_ps() const { return t_latched_ - t_reset_; }
  uint64_t snapshot_ps() const { return t_latched_; }
  uint64_t reset_ps() const { return t_reset_; }
  uint64_t snapshots() const { return snapshots_; }
  // Host-CPU cycles in elapsed_ps() at clock_mhz (floor).
  uint64_t cycles(double clock_mhz) const;

 private:
  struct Latched {
    uint64_t energy_fj = 0, static_fj = 0, busy_ps = 0;
  };
  std::vector<ComponentEnergy> base_;
  std::vector<Latched> latched_;
  uint64_t total_fj_ = 0;
  uint64_t t_reset_ = 0, t_latched_ = 0;
  uint64_t snapshots_ = 0;
};

}  // namespace cimvp::pmu
