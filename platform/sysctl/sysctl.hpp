// System control: ID/version, discovery table, console, exit, firmware phase markers,
// simulated time. The exit register ends the simulation with sc_stop(), never exit().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "platform/regs/reg_block.hpp"

namespace cimvp {

struct DiscoveryEntry {
  uint32_t type = 0;
  uint32_t instance = 0;
  uint32_t base = 0;
  uint32_t size = 0;
  uint32_t irq = 0xFFFFFFFFu;
};

class Sysctl : public RegBlock {
 public:
  // Message type of the firmware console lines (SC_INFO reports): fixed, whatever the
  // block's name in the memory map, so a report handler can route them.
  static constexpr const char* kConsoleMsgType = "cimvp/console";

  Sysctl(const sc_core::sc_module_name& name, Context& ctx, std::vector<DiscoveryEntry> table, bool echo_console);

  bool exited() const { return exited_; }
  int exit_code() const { return exit_code_; }
  sc_core::sc_time exit_time() const { return exit_time_; }
  const std::string& console_log() const { return console_log_; }

  // Phase names for traces (FW_PHASE_* ids).
  static const char* phase_name(uint32_t id);

  // Totals per firmware phase id over the run: simulated time and the dynamic energy the
  // whole chip reported between begin and end (static energy = leakage x time).
  struct PhaseStats {
    uint64_t count = 0;
    double time_ns = 0;
    double dynamic_pj = 0;
    // Per power component (index as in the power monitor), FW_PHASE_INFER only: what the
    // VGG8 study's per-kind inference breakdown needs (summary.json `inference`).
    std::vector<double> component_dynamic_pj;
  };
  PhaseStats phase_stats(uint32_t id) const;

 private:
  void on_console(uint32_t v);
  void on_exit(uint32_t v);
  void on_phase_begin(uint32_t id);
  void on_phase_end(uint32_t id);

  std::vector<DiscoveryEntry> table_;
  bool echo_console_;
  std::string line_;
  std::string console_log_;
  bool exited_ = false;
  int exit_code_ = 0;
  sc_core::sc_time exit_time_;
  uint64_t latched_time_ns_ = 0;

  struct OpenPhase {
    uint32_t id;
    uint32_t arg;
    sc_core::sc_time start;
    double dynamic_pj_at_start;
    std::vector<double> component_pj_at_start;  // FW_PHASE_INFER only
  };
  std::map<uint32_t, PhaseStats> phase_totals_;
  std::vector<OpenPhase> open_;
  int phase_wire_ = -1;
  int phase_track_ = -1;
  int console_track_ = -1;
};

}  // namespace cimvp
