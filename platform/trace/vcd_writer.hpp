// IEEE 1364-2005 §18 four-state VCD writer with explicit timestamps (timescale 1 ps).
//
// Under temporal decoupling value changes arrive slightly out of order across initiators, so
// changes are buffered and written in time order by flush_before(t): every buffered change
// with time < t is written (stable for equal times, i.e. in call order). The caller promises
// that no later change will be earlier than t (t = kernel time is safe); a change earlier than
// what was already written throws std::invalid_argument.
//
// Output is deterministic: no $date, a fixed $version, identifier codes assigned in
// declaration order. A change to the value a signal already has is dropped.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace cimvp::trace {

class VcdWriter {
 public:
  VcdWriter() = default;
  explicit VcdWriter(const std::string& path) { open(path); }
  ~VcdWriter();  // closes at the last written time if close() was not called; never throws
  VcdWriter(const VcdWriter&) = delete;
  VcdWriter& operator=(const VcdWriter&) = delete;

  void open(const std::string& path);  // throws std::runtime_error if the file cannot be created
  bool is_open() const { return out_.is_open(); }

  // Declarations, all before the first change/flush. `scope` is a '.'-separated module path
  // ("soc.tile0"; empty means "top"); names must be non-empty without whitespace.
  // Width 1..64. Returns the signal id used by change()/change_real().
  int add_wire(const std::string& scope, const std::string& name, int width, uint64_t initial = 0);
  int add_real(const std::string& scope, const std::string& name, double initial = 0.0);

  // Records a value at absolute time t_ps. A wire value must fit in its width.
  void change(int id, uint64_t t_ps, uint64_t value);
  void change_real(int id, uint64_t t_ps, double value);

  // Writes buffered changes with time < t_ps in time order.
  void flush_before(uint64_t t_ps);
  // Writes everything, then a final timestamp end_ps (if later than the last change) so
  // viewers show the whole run, and closes the file. Idempotent.
  void close(uint64_t end_ps);

  // Identifier code of the n-th declared signal ("!", "\"", ..., "~", "!!", ...).
  static std::string id_code(std::size_t n);

  // Caps the value-change section at about `bytes` (0: no cap). When the next timestamp would
  // pass it, the writer marks that time with a $comment and a $dumpoff (IEEE 1364 §18.2.3.3:
  // every wire becomes x, so a viewer shows "not recorded", not a held value) and drops every
  // later change; close() still ends the file at the run's end time.
  void set_max_bytes(uint64_t bytes) { max_bytes_ = bytes; }
  bool truncated() const { return truncated_; }
  uint64_t truncated_at_ps() const { return truncated_at_; }
  uint64_t bytes_written() const { return bytes_; }

  std::size_t signal_count() const { return sigs_.size(); }
  std::size_t buffered() const { return buf_.size(); }
  uint64_t written_until() const { return last_time_; }  // last timestamp written

 private:
  struct Sig {
    std::string scope, name, code;
    int width = 1;
    bool is_real = false;
    uint64_t cur = 0;     // last written value (wires)
    double cur_r = 0.0;   // last written value (reals)
  };
  struct Change {
    uint64_t t;
    int id;
    uint64_t v;
    double r;
  };

  void check_declarable(const std::string& scope, const std::string& name) const;
  const Sig& sig(int id) const;
  void write_header();
  void write_value(const Sig& s, std::string& out) const;
  void emit(std::size_t n);  // writes the first n buffered changes (already sorted)
  void truncate(uint64_t t, std::string& out);  // the size cap's $comment + $dumpoff at time t

  std::ofstream out_;
  std::string path_;
  std::vector<Sig> sigs_;
  std::vector<Change> buf_;
  bool header_done_ = false;
  bool closed_ = false;
  bool any_flushed_ = false;  // a time boundary has been committed
  uint64_t flushed_before_ = 0;  // changes earlier than this would be out of order
  uint64_t last_time_ = 0;
  uint64_t max_bytes_ = 0, bytes_ = 0, truncated_at_ = 0;
  bool truncated_ = false;
};

}  // namespace cimvp::trace
