// Chrome trace-event JSON writer ({"traceEvents":[...],"displayTimeUnit":"ns"}), loadable by
// Perfetto (ui.perfetto.dev) and chrome://tracing.
//
// Times are picoseconds in the API; the file holds microseconds as exact decimals
// (12345678 ps -> 12.345678). Tracks are (process, thread) pairs: each distinct process name
// gets a pid (1, 2, ... in declaration order), each thread a tid within it; their names are
// written as "M" metadata events. Counters live in a process named "counters" (pid created on
// first use).
//
// Events are buffered and written in timestamp order (stable: equal times keep call order):
// flush_before(t) writes everything with ts < t, close() the rest. An event that arrives with
// ts earlier than an already flushed time (typically a slice recorded at its end, after a
// flush inside it) is still written, at the next flush; both viewers sort on load, so this
// only breaks the file's own ordering, and late_events() counts how often it happened.
// Output is deterministic: same calls -> same bytes.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "platform/trace/json.hpp"

namespace cimvp::trace {

class ChromeTrace {
 public:
  ChromeTrace() = default;
  explicit ChromeTrace(const std::string& path) { open(path); }
  ~ChromeTrace();  // closes if close() was not called; never throws
  ChromeTrace(const ChromeTrace&) = delete;
  ChromeTrace& operator=(const ChromeTrace&) = delete;

  void open(const std::string& path);  // throws std::runtime_error if the file cannot be created
  bool is_open() const { return out_.is_open(); }

  // A (process, thread) track; the same pair returns the same id.
  int track(const std::string& process, const std::string& thread);

  // Complete slice (ph "X"). args_json: empty, or a JSON object text such as {"bytes":64}
  // (validated: a malformed text throws std::invalid_argument).
  void slice(int track, const std::string& name, const std::string& category, uint64_t start_ps, uint64_t dur_ps,
             const std::string& args_json = "");
  void slice(int track, const std::string& name, const std::string& category, uint64_t start_ps, uint64_t dur_ps,
             const Json& args);
  void slice(int track, const std::string& name, const std::string& category, uint64_t start_ps, uint64_t dur_ps,
             const char* args_json) {
    slice(track, name, category, start_ps, dur_ps, std::string(args_json ? args_json : ""));
  }
  // Instant event (ph "i", thread scope).
  void instant(int track, const std::string& name, uint64_t t_ps, const Json& args = Json());
  // Counter sample (ph "C"): the counter `name` has series `series` = value from t_ps on.
  // Each written C event carries every series of that counter seen so far (latest values), so
  // viewers that expect all series in each sample draw them correctly.
  void counter(const std::string& name, const std::string& series, double value, uint64_t t_ps);
  // Several series of one counter in a single sample (one event instead of one per series).
  void counter(const std::string& name, const std::vector<std::pair<std::string, double>>& values, uint64_t t_ps);

  void flush_before(uint64_t t_ps);
  void close();  // writes all buffered events and the closing brackets; idempotent

  std::size_t buffered() const { return buf_.size(); }
  std::size_t late_events() const { return late_; }

  // ps -> microseconds text with ps resolution, trailing zeros trimmed ("12.345678", "3", "0.5").
  static std::string us_text(uint64_t ps);

 private:
  struct Ev {
    uint64_t ts;
    char ph;
    int track;  // -1 for counters
    std::string name, cat, args;  // args: compact JSON object text or empty
    uint64_t dur = 0;
    std::vector<std::pair<std::string, double>> values;  // counters: series -> value
  };
  struct Track {
    int pid, tid;
  };

  void push(Ev e);
  void write_event(const Ev& e);
  void write_raw(const std::string& s);
  const Track& trk(int id) const;

  std::ofstream out_;
  std::string path_;
  bool started_ = false, closed_ = false, first_ = true;
  std::vector<std::string> processes_;                 // pid - 1 -> name
  std::vector<std::vector<std::string>> threads_;      // per process, tid - 1 -> name
  std::vector<Track> tracks_;
  int counter_pid_ = 0;
  std::map<std::string, std::map<std::string, double>> counter_state_;  // name -> series -> value
  std::vector<Ev> buf_;
  bool any_flushed_ = false;
  uint64_t flushed_before_ = 0;
  std::size_t late_ = 0;
};

}  // namespace cimvp::trace
