// The files a run leaves in its output folder (docs/outputs.md).
#pragma once

#include <cstdint>
#include <string>

#include "platform/config/scenario.hpp"

namespace cimvp {

struct RunResult;
class PowerSc;

struct RunOutputs {
  const config::Scenario* scenario = nullptr;
  const RunResult* result = nullptr;
  PowerSc* power = nullptr;
  std::string console_log;
  uint64_t bus_transactions = 0;
  uint64_t cpu_accesses = 0;
  double end_time_ns = 0;
  int64_t vcd_truncated_at_ps = -1;  // signals.vcd stopped at its size cap at this time (-1: complete)
};

// Writes summary.json, run.log, power.csv, power.vcd, energy_breakdown.csv,
// area_breakdown.csv and report.md into dir.
void write_run_outputs(const std::string& dir, const RunOutputs& out);

}  // namespace cimvp
