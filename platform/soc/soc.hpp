// SoC assembly from the scenario: creates every block of the memory map, the router, the
// interrupt wiring and the host CPU; runs the simulation; writes the run's outputs.
#pragma once

#include <systemc>
#include <tlm>

#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "platform/config/scenario.hpp"
#include "platform/core/context.hpp"
#include "platform/sysctl/sysctl.hpp"
#include "platform/trace/json.hpp"

namespace cimvp {

class Router;
class IrqOr;
class IrqCtrl;
class Sysctl;
class HostCpu;
class Memory;
class RegisterBank;
class Tracer;
class PowerSc;

class Soc;
struct RunResult;

struct RunOptions {
  std::string out_dir;     // empty: no output files (memory-map, dry elaboration)
  bool echo_console = true;
  // Network flow (platform/netrun): fills memories and tiles after elaboration, before
  // sc_start; reads results after the run, before the outputs are written (it may add
  // metrics and write its own files into out_dir).
  std::function<void(Soc&)> before_start;
  std::function<void(Soc&, RunResult&)> after_run;
};

struct RunResult {
  int exit_status = 1;          // process exit code: 0 ok, 1 simulation/firmware fault
  int firmware_exit_code = -1;  // what the firmware wrote to SYSCTL_EXIT (-1 if it did not)
  std::string error;            // why the run failed, for the user
  double sim_time_ns = 0;
  double wall_seconds = 0;
  // Extra summary.json fields (images, accuracy, latency_ns_per_inference, tops, ...).
  std::map<std::string, double> metrics;
  // Extra summary.json sections (e.g. the network flow's `adc` object), merged in as they
  // are, before report.md and the plots are made.
  trace::Json summary_extra = trace::Json::object();
};

class Soc {
 public:
  Soc(const config::Scenario& scenario, const RunOptions& options);
  ~Soc();

  RunResult run();
  void print_memory_map(std::ostream& os, bool with_registers) const;

  // For block factories (platform/soc/block_table.cpp) and module tests.
  Context& context() { return *ctx_; }
  const std::vector<DiscoveryEntry>& discovery_table() const { return table_; }
  sc_core::sc_signal<bool>& irq_line(unsigned i) { return *irq_lines_.at(i); }
  sc_core::sc_signal<bool>& cpu_irq() { return *cpu_irq_; }
  bool echo_console() const { return options_.echo_console; }
  Router& router() { return *router_; }
  Memory* memory(const std::string& name) const;
  const Sysctl* sysctl() const { return sysctl_; }
  // The module built for a memory-map entry (nullptr if none), e.g. a Tile for the loader.
  sc_core::sc_module* module(const std::string& name) const;

 private:
  struct Block {
    const config::MemoryMapEntry* entry;
    sc_core::sc_module* module;
    RegisterBank* regs;  // null for memories
  };

  void write_outputs(const RunResult& r);

  const config::Scenario& scenario_;
  RunOptions options_;
  std::unique_ptr<Tracer> tracer_;
  std::unique_ptr<PowerSc> power_;
  std::unique_ptr<Context> ctx_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<HostCpu> cpu_;
  std::vector<std::unique_ptr<sc_core::sc_module>> modules_;
  std::vector<Block> blocks_;
  std::vector<DiscoveryEntry> table_;
  std::vector<std::unique_ptr<sc_core::sc_signal<bool>>> irq_lines_;
  std::vector<std::unique_ptr<sc_core::sc_signal<bool>>> block_irqs_;
  std::map<int, std::vector<sc_core::sc_signal<bool>*>> line_sources_;
  std::vector<std::unique_ptr<IrqOr>> irq_or_;
  std::unique_ptr<sc_core::sc_signal<bool>> cpu_irq_;
  Sysctl* sysctl_ = nullptr;
  IrqCtrl* irq_ = nullptr;
};

}  // namespace cimvp
