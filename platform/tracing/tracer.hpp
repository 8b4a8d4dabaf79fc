// SystemC-side tracing: signals.vcd and trace.json with explicit timestamps.
//
// Under temporal decoupling an initiator runs ahead of the kernel by its local offset, so a
// value change or slice is recorded at sc_time_stamp() + offset, not when the kernel
// catches up. Records are buffered and written in time order; flush() (called at
// synchronisation points) writes everything older than the kernel time, which no later
// record can precede.
#pragma once

#include <systemc>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace cimvp {

namespace trace {
class VcdWriter;
class ChromeTrace;
}  // namespace trace

class Tracer {
 public:
  Tracer();
  ~Tracer();
  // Either path may be empty to disable that output. vcd_max_bytes caps signals.vcd (0: none;
  // trace::VcdWriter::set_max_bytes): past it the run's later changes are not recorded.
  void open(const std::string& vcd_path, const std::string& json_path, uint64_t vcd_max_bytes = 0);
  // Whether the VCD stopped at its size cap, and the simulated time (ps) it stopped at.
  bool vcd_truncated() const;
  uint64_t vcd_truncated_at_ps() const;

  // Declarations (before the simulation starts).
  int wire(const std::string& scope, const std::string& name, int width);
  int real(const std::string& scope, const std::string& name);
  int track(const std::string& process, const std::string& thread);

  // Records; `at` is an absolute simulated time (use now(offset) for decoupled initiators).
  void set(int wire_id, uint64_t value, const sc_core::sc_time& at);
  void set_real(int real_id, double value, const sc_core::sc_time& at);
  void slice(int track_id, const std::string& name, const std::string& category, const sc_core::sc_time& start,
             const sc_core::sc_time& duration, const std::string& args_json = "");
  void instant(int track_id, const std::string& name, const sc_core::sc_time& at);
  void counter(const std::string& name, const std::string& series, double value, const sc_core::sc_time& at);

  // Bounded slice streams (like the bus's trace.max_bus_slices): true while fewer than `max`
  // slices of `stream` were admitted (the caller then records one), false afterwards (the
  // caller only counts). admitted/refused: the counts so far (docs/outputs.md).
  bool admit(const std::string& stream, uint64_t max);
  uint64_t admitted(const std::string& stream) const;
  uint64_t refused(const std::string& stream) const;

  static sc_core::sc_time now(const sc_core::sc_time& local_offset = sc_core::SC_ZERO_TIME) {
    return sc_core::sc_time_stamp() + local_offset;
  }

  void flush();                                  // writes records older than sc_time_stamp()
  void close(const sc_core::sc_time& end_time);  // writes everything and closes the files

  // Called by close() with the open trace.json and the end time (ps) before it is closed, in
  // key order; a second hook with the same key replaces the first. Used for the power counter
  // tracks, which are known only at the end of the run (docs/outputs.md).
  using CloseHook = std::function<void(trace::ChromeTrace&, uint64_t end_ps)>;
  void set_close_hook(const std::string& key, CloseHook hook);

  bool vcd_enabled() const { return static_cast<bool>(vcd_); }
  bool json_enabled() const { return static_cast<bool>(json_); }

 private:
  std::unique_ptr<trace::VcdWriter> vcd_;
  std::unique_ptr<trace::ChromeTrace> json_;
  bool closed_ = false;
  std::map<std::string, CloseHook> close_hooks_;
  std::map<std::string, std::pair<uint64_t, uint64_t>> streams_;  // admitted, refused
};

uint64_t to_ps(const sc_core::sc_time& t);

}  // namespace cimvp
