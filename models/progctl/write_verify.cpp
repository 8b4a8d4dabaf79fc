#include "models/progctl/write_verify.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace cimvp::progctl {
namespace {

[[noreturn]] void bad(const std::string& key, double value, const std::string& what) {
  std::ostringstream os;
  os << key << " = " << value << ": " << what;
  throw std::invalid_argument(os.str());
}

void check_schedule(const std::string& pre, const PulseSchedule& s, PulseScheme scheme) {
  if (!(std::isfinite(s.v_start) && s.v_start > 0))
    bad(pre + ".v_start", s.v_start, "must be a finite amplitude > 0 V");
  if (!(std::isfinite(s.width_s) && s.width_s > 0))
    bad(pre + ".width_s", s.width_s, "must be a finite pulse width > 0 s");
  if (scheme == PulseScheme::Ispp) {
    if (!(std::isfinite(s.v_step) && s.v_step >= 0))
      bad(pre + ".v_step", s.v_step, "must be a finite ISPP increment >= 0 V");
    if (!(std::isfinite(s.v_max) && s.v_max >= s.v_start))
      bad(pre + ".v_max", s.v_max, "must be finite and >= " + pre + ".v_start");
  }
}

// Per-entry stream: independent of batch split, different on every reprogramming.
inline std::uint64_t entry_seed(std::uint64_t seed, std::uint32_t cell, std::uint64_t life) {
  return mix64(seed ^ mix64((static_cast<std::uint64_t>(cell) << 1) ^ mix64(life + 0x5851F42D4C957F2DULL)));
}

}  // namespace

const char* to_string(Failure f) {
  switch (f) {
    case Failure::None: return "none";
    case Failure::NotConverged: return "not_converged";
    case Failure::Stuck: return "stuck";
    case Failure::Unreachable: return "unreachable";
    case Failure::InvalidIndex: return "invalid_index";
  }
  return "unknown";
}

void WriteVerifyParams::validate() const {
  if (!(std::isfinite(tolerance_us) && tolerance_us > 0))
    bad("write_verify.tolerance_us", tolerance_us, "must be a finite band half-width > 0 uS");
  if (max_pulses == 0)
    bad("write_verify.max_pulses", 0, "must be >= 1 pulse per cell");
  if (scheme != PulseScheme::Fixed && scheme != PulseScheme::Ispp)
    bad("write_verify.scheme", static_cast<double>(scheme), "must be fixed or ispp");
  check_schedule("write_verify.set", set, scheme);
  check_schedule("write_verify.reset", reset, scheme);
}

void CellArray::set_stuck(std::size_t i, double g_stuck_us) {
  if (i >= size()) {
    std::ostringstream os;
    os << "CellArray::set_stuck: cell " << i << " is outside the array of " << size()
       << " cells";
    throw std::out_of_range(os.str());
  }
  g_us[i] = g_stuck_us;
  stuck[i] = 1;
}

BatchTotals& BatchTotals::operator+=(const BatchTotals& o) {
  entries += o.entries;
  converged += o.converged;
  failures += o.failures;
  failed_not_converged += o.failed_not_converged;
  failed_stuck += o.failed_stuck;
  failed_unreachable += o.failed_unreachable;
  failed_invalid_index += o.failed_invalid_index;
  set_pulses += o.set_pulses;
  reset_pulses += o.reset_pulses;
  verify_reads += o.verify_reads;
  max_pulses_per_cell = std::max(max_pulses_per_cell, o.max_pulses_per_cell);
  sum_width_set_s += o.sum_width_set_s;
  sum_width_reset_s += o.sum_width_reset_s;
  sum_v2w_set += o.sum_v2w_set;
  sum_v2w_reset += o.sum_v2w_reset;
  cell_energy_j += o.cell_energy_j;
  sum_read_g_us += o.sum_read_g_us;
  return *this;
}

Programmer::Programmer(const DeviceParams& device, const WriteVerifyParams& wv)
    : dev_(device), wv_(wv) {
  wv_.validate();
}

long Programmer::first_invalid_entry(const CellArray& cells, const ProgramEntry* entries,
                                     std::size_t n) const {
  const DeviceParams& dp = dev_.params();
  for (std::size_t k = 0; k < n; ++k) {
    const ProgramEntry& e = entries[k];
    if (e.cell >= cells.size()) return static_cast<long>(k);
    if (!(e.target_us >= dp.g_min_us && e.target_us <= dp.g_max_us)) return static_cast<long>(k);
  }
  return -1;
}

BatchTotals Programmer::program_batch(CellArray& cells, const ProgramEntry* entries,
                                      std::size_t n, CellResult* results, std::uint64_t seed,
                                      std::vector<PulseEvent>* log) const {
  if (cells.pulses.size() != cells.size() || cells.stuck.size() != cells.size())
    throw std::invalid_argument(
        "CellArray: g_us, pulses and stuck must have the same length; build it with "
        "CellArray(n, g0)");
  const DeviceParams& dp = dev_.params();
  const double tol = wv_.tolerance_us;
  const bool ispp = wv_.scheme == PulseScheme::Ispp;
  const std::uint32_t max_pulses = wv_.max_pulses;
  BatchTotals t;
  t.entries = n;
  Xoshiro256ss rng;

  for (std::size_t k = 0; k < n; ++k) {
    const ProgramEntry& e = entries[k];
    CellResult r;
    r.cell = e.cell;
    r.target_us = e.target_us;

    if (e.cell >= cells.size()) {
      r.failure = Failure::InvalidIndex;
      r.final_g_us = r.final_error_us = r.last_read_us = std::nan("");
      ++t.failures;
      ++t.failed_invalid_index;
      if (results) results[k] = r;
      continue;
    }
    double g = cells.g_us[e.cell];
    if (!(e.target_us >= dp.g_min_us && e.target_us <= dp.g_max_us)) {
      // Outside the device's range (or NaN): no pulse could get there; leave the cell alone.
      r.failure = Failure::Unreachable;
      r.final_g_us = g;
      r.final_error_us = g - e.target_us;
      r.last_read_us = std::nan("");
      ++t.failures;
      ++t.failed_unreachable;
      if (results) results[k] = r;
      continue;
    }

    std::uint64_t life = cells.pulses[e.cell];
    bool stuck = cells.stuck[e.cell] != 0;
    rng.reseed(entry_seed(seed, e.cell, life));

    double v_set = wv_.set.v_start, v_reset = wv_.reset.v_start;
    int last = -1;  // last polarity: -1 none, 0 SET, 1 RESET
    std::uint32_t n_set = 0, n_reset = 0, reads = 0;
    double read;
    bool ok;
    for (;;) {
      read = dev_.read(g, rng);
      ++reads;
      t.sum_read_g_us += g;
      ok = std::fabs(read - e.target_us) <= tol;
      if (ok || n_set + n_reset >= max_pulses) break;
      const PulseKind kind = read < e.target_us ? PulseKind::Set : PulseKind::Reset;
      double amp, width;
      if (kind == PulseKind::Set) {
        if (ispp && last == 0) v_set = std::min(v_set + wv_.set.v_step, wv_.set.v_max);
        else v_set = wv_.set.v_start;
        amp = v_set;
        width = wv_.set.width_s;
        ++n_set;
        t.sum_width_set_s += width;
        t.sum_v2w_set += amp * amp * width;
        last = 0;
      } else {
        if (ispp && last == 1) v_reset = std::min(v_reset + wv_.reset.v_step, wv_.reset.v_max);
        else v_reset = wv_.reset.v_start;
        amp = v_reset;
        width = wv_.reset.width_s;
        ++n_reset;
        t.sum_width_reset_s += width;
        t.sum_v2w_reset += amp * amp * width;
        last = 1;
      }
      t.cell_energy_j += amp * amp * (g * 1e-6) * width;
      const double g_before = g;
      if (!stuck) {
        g = dev_.apply_pulse(kind, g, amp, width, rng);
        if (life + 1 >= dp.endurance_pulses) {
          // This pulse used up the cell's endurance: it is the last one that moves it.
          g = dev_.wear_out_value(g);
          stuck = true;
        }
      }
      ++life;
      if (log) {
        log->push_back(PulseEvent{static_cast<std::uint32_t>(k), e.cell, kind, amp, width,
                                  g_before, g});
      }
    }

    cells.g_us[e.cell] = g;
    cells.pulses[e.cell] = life;
    cells.stuck[e.cell] = stuck ? 1 : 0;

    r.set_pulses = n_set;
    r.reset_pulses = n_reset;
    r.verify_reads = reads;
    r.final_g_us = g;
    r.final_error_us = g - e.target_us;
    r.last_read_us = read;
    // A stuck cell is a failure even if it happens to read inside the band: it cannot be
    // reprogrammed later and the shell must know (never hidden).
    if (stuck) {
      r.failure = Failure::Stuck;
      ++t.failures;
      ++t.failed_stuck;
    } else if (!ok) {
      r.failure = Failure::NotConverged;
      ++t.failures;
      ++t.failed_not_converged;
    } else {
      r.converged = true;
      ++t.converged;
    }
    t.set_pulses += n_set;
    t.reset_pulses += n_reset;
    t.verify_reads += reads;
    t.max_pulses_per_cell = std::max(t.max_pulses_per_cell, n_set + n_reset);
    if (results) results[k] = r;
  }
  return t;
}

BatchTotals Programmer::program_batch(CellArray& cells, const std::vector<ProgramEntry>& entries,
                                      std::vector<CellResult>& results, std::uint64_t seed,
                                      std::vector<PulseEvent>* log) const {
  results.resize(entries.size());
  return program_batch(cells, entries.data(), entries.size(), results.data(), seed, log);
}

CellResult Programmer::program_cell(CellArray& cells, std::uint32_t cell, double target_us,
                                    std::uint64_t seed) const {
  const ProgramEntry e{cell, target_us};
  CellResult r;
  program_batch(cells, &e, 1, &r, seed);
  return r;
}

std::size_t inject_stuck(CellArray& cells, const DeviceParams& device, double rate_at_gmin,
                         double rate_at_gmax, std::uint64_t seed) {
  device.validate();
  if (!(rate_at_gmin >= 0 && rate_at_gmin <= 1))
    bad("stuck_at_gmin_rate", rate_at_gmin, "must be a probability in [0, 1]");
  if (!(rate_at_gmax >= 0 && rate_at_gmax <= 1))
    bad("stuck_at_gmax_rate", rate_at_gmax, "must be a probability in [0, 1]");
  if (rate_at_gmin + rate_at_gmax > 1)
    bad("stuck_at_gmin_rate + stuck_at_gmax_rate", rate_at_gmin + rate_at_gmax,
        "must not exceed 1");
  Xoshiro256ss rng(seed);
  std::size_t made = 0;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const double u = rng.uniform();
    if (cells.stuck[i]) continue;
    if (u < rate_at_gmin) {
      cells.set_stuck(i, device.g_min_us);
      ++made;
    } else if (u < rate_at_gmin + rate_at_gmax) {
      cells.set_stuck(i, device.g_max_us);
      ++made;
    }
  }
  return made;
}

}  // namespace cimvp::progctl
