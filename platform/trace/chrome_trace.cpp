#include "platform/trace/chrome_trace.hpp"

#include <algorithm>
#include <stdexcept>

namespace cimvp::trace {

ChromeTrace::~ChromeTrace() {
  try {
    close();
  } catch (...) {
    // Destructors must not throw; an explicit close() reports errors.
  }
}

void ChromeTrace::open(const std::string& path) {
  if (out_.is_open()) throw std::runtime_error("ChromeTrace::open(" + path + "): already open on " + path_);
  out_.open(path, std::ios::binary | std::ios::trunc);
  if (!out_) throw std::runtime_error(path + ": cannot create trace file (check the output folder exists)");
  path_ = path;
}

std::string ChromeTrace::us_text(uint64_t ps) {
  std::string s = std::to_string(ps / 1000000);
  uint64_t frac = ps % 1000000;
  if (frac) {
    std::string f = std::to_string(frac);
    f.insert(0, 6 - f.size(), '0');
    while (f.back() == '0') f.pop_back();
    s += '.';
    s += f;
  }
  return s;
}

void ChromeTrace::write_raw(const std::string& s) {
  if (!out_.is_open()) throw std::runtime_error("ChromeTrace: not open; call open(path) first");
  if (!started_) {
    out_ << "{\"traceEvents\":[";
    started_ = true;
  }
  out_ << (first_ ? "\n" : ",\n") << s;
  first_ = false;
}

int ChromeTrace::track(const std::string& process, const std::string& thread) {
  if (closed_) throw std::runtime_error("ChromeTrace: track('" + process + "', '" + thread + "') after close()");
  auto pit = std::find(processes_.begin(), processes_.end(), process);
  int pid;
  if (pit == processes_.end()) {
    processes_.push_back(process);
    threads_.emplace_back();
    pid = static_cast<int>(processes_.size());
    std::string m = "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" + std::to_string(pid) +
                    ",\"tid\":0,\"args\":{\"name\":" + json_quote(process) + "}}";
    write_raw(m);
    // Keep the processes in declaration order in the viewers.
    write_raw("{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":" + std::to_string(pid) +
              ",\"tid\":0,\"args\":{\"sort_index\":" + std::to_string(pid) + "}}");
  } else {
    pid = static_cast<int>(pit - processes_.begin()) + 1;
  }
  auto& th = threads_[static_cast<std::size_t>(pid - 1)];
  auto tit = std::find(th.begin(), th.end(), thread);
  int tid;
  if (tit == th.end()) {
    th.push_back(thread);
    tid = static_cast<int>(th.size());
    write_raw("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" + std::to_string(pid) + ",\"tid\":" +
              std::to_string(tid) + ",\"args\":{\"name\":" + json_quote(thread) + "}}");
    write_raw("{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":" + std::to_string(pid) + ",\"tid\":" +
              std::to_string(tid) + ",\"args\":{\"sort_index\":" + std::to_string(tid) + "}}");
  } else {
    tid = static_cast<int>(tit - th.begin()) + 1;
  }
  for (std::size_t i = 0; i < tracks_.size(); ++i)
    if (tracks_[i].pid == pid && tracks_[i].tid == tid) return static_cast<int>(i);
  tracks_.push_back({pid, tid});
  return static_cast<int>(tracks_.size() - 1);
}

const ChromeTrace::Track& ChromeTrace::trk(int id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= tracks_.size())
    throw std::invalid_argument("ChromeTrace: unknown track id " + std::to_string(id) +
                                " (use the id returned by track())");
  return tracks_[static_cast<std::size_t>(id)];
}

void ChromeTrace::push(Ev e) {
  if (closed_) throw std::runtime_error("ChromeTrace: event '" + e.name + "' recorded after close()");
  if (any_flushed_ && e.ts < flushed_before_) ++late_;
  buf_.push_back(std::move(e));
}

void ChromeTrace::slice(int track, const std::string& name, const std::string& category, uint64_t start_ps,
                        uint64_t dur_ps, const std::string& args_json) {
  trk(track);
  Ev e{start_ps, 'X', track, name, category, "", dur_ps, {}};
  if (!args_json.empty()) {
    Json a;
    try {
      a = Json::parse(args_json);
    } catch (const JsonError& err) {
      throw std::invalid_argument("ChromeTrace: args of slice '" + name + "' are not valid JSON: " + err.what());
    }
    if (!a.is_object()) throw std::invalid_argument("ChromeTrace: args of slice '" + name + "' must be a JSON object");
    e.args = a.dump();
  }
  push(std::move(e));
}

void ChromeTrace::slice(int track, const std::string& name, const std::string& category, uint64_t start_ps,
                        uint64_t dur_ps, const Json& args) {
  trk(track);
  if (!args.is_null() && !args.is_object())
    throw std::invalid_argument("ChromeTrace: args of slice '" + name + "' must be a JSON object");
  push(Ev{start_ps, 'X', track, name, category, args.is_null() ? "" : args.dump(), dur_ps, {}});
}

void ChromeTrace::instant(int track, const std::string& name, uint64_t t_ps, const Json& args) {
  trk(track);
  if (!args.is_null() && !args.is_object())
    throw std::invalid_argument("ChromeTrace: args of instant '" + name + "' must be a JSON object");
  push(Ev{t_ps, 'i', track, name, "", args.is_null() ? "" : args.dump(), 0, {}});
}

void ChromeTrace::counter(const std::string& name, const std::string& series, double value, uint64_t t_ps) {
  counter(name, {{series, value}}, t_ps);
}

void ChromeTrace::counter(const std::string& name, const std::vector<std::pair<std::string, double>>& values,
                          uint64_t t_ps) {
  if (counter_pid_ == 0) {
    // A process of its own keeps counter tracks together in the viewers.
    processes_.push_back("counters");
    threads_.emplace_back();
    counter_pid_ = static_cast<int>(processes_.size());
    write_raw("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" + std::to_string(counter_pid_) +
              ",\"tid\":0,\"args\":{\"name\":\"counters\"}}");
  }
  push(Ev{t_ps, 'C', -1, name, "", "", 0, values});
}

void ChromeTrace::write_event(const Ev& e) {
  std::string s = "{\"ph\":\"";
  s += e.ph;
  s += "\",\"name\":";
  json_quote_to(s, e.name);
  if (e.ph == 'C') {
    auto& st = counter_state_[e.name];
    for (const auto& [k, v] : e.values) st[k] = v;
    s += ",\"pid\":" + std::to_string(counter_pid_) + ",\"tid\":0,\"ts\":" + us_text(e.ts) + ",\"args\":{";
    bool first = true;
    for (const auto& [k, v] : st) {  // std::map: series in sorted order, deterministic
      if (!first) s += ',';
      first = false;
      json_quote_to(s, k);
      s += ':';
      s += Json(v).dump();
    }
    s += "}}";
    write_raw(s);
    return;
  }
  const Track& t = tracks_[static_cast<std::size_t>(e.track)];
  if (!e.cat.empty()) {
    s += ",\"cat\":";
    json_quote_to(s, e.cat);
  }
  s += ",\"pid\":" + std::to_string(t.pid) + ",\"tid\":" + std::to_string(t.tid) + ",\"ts\":" + us_text(e.ts);
  if (e.ph == 'X') s += ",\"dur\":" + us_text(e.dur);
  if (e.ph == 'i') s += ",\"s\":\"t\"";
  if (!e.args.empty()) s += ",\"args\":" + e.args;
  s += '}';
  write_raw(s);
}

void ChromeTrace::flush_before(uint64_t t_ps) {
  if (closed_) return;
  std::stable_sort(buf_.begin(), buf_.end(), [](const Ev& a, const Ev& b) { return a.ts < b.ts; });
  std::size_t n = 0;
  while (n < buf_.size() && buf_[n].ts < t_ps) ++n;
  for (std::size_t i = 0; i < n; ++i) write_event(buf_[i]);
  buf_.erase(buf_.begin(), buf_.begin() + static_cast<long>(n));
  if (!any_flushed_ || t_ps > flushed_before_) flushed_before_ = t_ps;
  any_flushed_ = true;
  if (out_.is_open()) {
    out_.flush();
    if (!out_) throw std::runtime_error(path_ + ": write error while writing the trace (disk full?)");
  }
}

void ChromeTrace::close() {
  if (closed_ || !out_.is_open()) return;
  std::stable_sort(buf_.begin(), buf_.end(), [](const Ev& a, const Ev& b) { return a.ts < b.ts; });
  for (const auto& e : buf_) write_event(e);
  buf_.clear();
  if (!started_) out_ << "{\"traceEvents\":[";
  out_ << "\n],\"displayTimeUnit\":\"ns\"}\n";
  closed_ = true;
  out_.close();
  if (!out_) throw std::runtime_error(path_ + ": write error while closing the trace (disk full?)");
}

}  // namespace cimvp::trace
