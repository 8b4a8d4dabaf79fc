// A strict reader for IEEE 1364 four-state VCD files (ours and SystemC's sc_trace output),
// used by tests to check what a waveform holds. It parses the header, scopes and variables and
// the value changes into one (time, value) list per signal, and rejects malformed files with
// std::runtime_error("<source>:<line>: <what>").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cimvp::trace {

struct VcdValue {
  uint64_t time = 0;  // in timescale units (ticks)
  // Scalars: "0", "1", "x", "z". Vectors: binary digits extended to the declared width
  // (IEEE 1364 §18.2.1 left-extension). Reals: the text after 'r'.
  std::string text;

  bool is_known() const;      // no x/z digits
  uint64_t as_uint() const;   // binary value; throws if it has x/z digits or is a real
  double as_real() const;     // reals, or a known binary value converted
};

struct VcdSignal {
  std::string scope;  // '.'-joined scope path, e.g. "soc.tile0"
  std::string name;   // reference name without any [msb:lsb] suffix
  std::string type;   // wire, reg, real, integer, ...
  int width = 1;
  std::string code;   // identifier code
  std::vector<VcdValue> values;  // in file order (time non-decreasing); initial values at time 0

  std::string full_name() const { return scope.empty() ? name : scope + "." + name; }
  bool is_real() const { return type == "real" || type == "realtime"; }
  // Value at time t (last change at or before t); throws if the signal has none yet.
  const VcdValue& at(uint64_t t) const;
};

struct VcdFile {
  std::string version;
  std::string date;
  std::string timescale;         // as written, e.g. "1 ps"
  double timescale_s = 1e-12;    // one tick in seconds
  uint64_t end_time = 0;         // the last timestamp in the file
  std::vector<VcdSignal> signals;

  // Lookup by full name ("soc.tile0.busy") or, if unique, by bare name; nullptr if absent.
  const VcdSignal* find(const std::string& name) const;
  // As find(), but throws std::runtime_error listing what exists.
  const VcdSignal& signal(const std::string& name) const;
};

VcdFile parse_vcd(const std::string& text, const std::string& source = "<vcd>");
VcdFile read_vcd(const std::string& path);

}  // namespace cimvp::trace
