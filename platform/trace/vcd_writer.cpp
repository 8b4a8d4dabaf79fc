#include "platform/trace/vcd_writer.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <cstring>
#include <stdexcept>

#include "platform/trace/json.hpp"  // format_double

namespace cimvp::trace {

namespace {

bool valid_token(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (c <= 32 || c >= 127) return false;  // VCD tokens are printable, whitespace-separated
  return true;
}

std::vector<std::string> split_scope(const std::string& scope) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : scope.empty() ? std::string("top") : scope) {
    if (c == '.') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

void append_u64(std::string& out, uint64_t v) { out += std::to_string(v); }

}  // namespace

VcdWriter::~VcdWriter() {
  try {
    if (!closed_ && out_.is_open()) close(last_time_);
  } catch (...) {
    // Destructors must not throw; an explicit close() reports errors.
  }
}

void VcdWriter::open(const std::string& path) {
  if (out_.is_open()) throw std::runtime_error("VcdWriter::open(" + path + "): already open on " + path_);
  out_.open(path, std::ios::binary | std::ios::trunc);
  if (!out_) throw std::runtime_error(path + ": cannot create VCD file (check the output folder exists)");
  path_ = path;
}

std::string VcdWriter::id_code(std::size_t n) {
  // Bijective base 94 over '!'..'~': the first 94 signals get one character.
  std::string s;
  ++n;
  while (n > 0) {
    --n;
    s.insert(s.begin(), static_cast<char>('!' + n % 94));
    n /= 94;
  }
  return s;
}

void VcdWriter::check_declarable(const std::string& scope, const std::string& name) const {
  if (header_done_)
    throw std::invalid_argument("VcdWriter: signal '" + scope + "." + name +
                                "' declared after the first change; declare every signal before recording");
  if (!valid_token(name))
    throw std::invalid_argument("VcdWriter: signal name '" + name + "' must be non-empty printable ASCII without spaces");
  for (const auto& part : split_scope(scope))
    if (!valid_token(part))
      throw std::invalid_argument("VcdWriter: scope '" + scope +
                                  "' must be '.'-separated non-empty names without spaces");
  for (const auto& s : sigs_)
    if (s.name == name && s.scope == (scope.empty() ? "top" : scope))
      throw std::invalid_argument("VcdWriter: signal '" + name + "' declared twice in scope '" + s.scope + "'");
}

int VcdWriter::add_wire(const std::string& scope, const std::string& name, int width, uint64_t initial) {
  check_declarable(scope, name);
  if (width < 1 || width > 64)
    throw std::invalid_argument("VcdWriter: width of '" + name + "' is " + std::to_string(width) +
                                "; use 1..64 bits");
  if (width < 64 && (initial >> width) != 0)
    throw std::invalid_argument("VcdWriter: initial value of '" + name + "' does not fit in " +
                                std::to_string(width) + " bits");
  Sig s;
  s.scope = scope.empty() ? "top" : scope;
  s.name = name;
  s.code = id_code(sigs_.size());
  s.width = width;
  s.cur = initial;
  sigs_.push_back(s);
  return static_cast<int>(sigs_.size() - 1);
}

int VcdWriter::add_real(const std::string& scope, const std::string& name, double initial) {
  check_declarable(scope, name);
  Sig s;
  s.scope = scope.empty() ? "top" : scope;
  s.name = name;
  s.code = id_code(sigs_.size());
  s.width = 64;
  s.is_real = true;
  s.cur_r = initial;
  sigs_.push_back(s);
  return static_cast<int>(sigs_.size() - 1);
}

const VcdWriter::Sig& VcdWriter::sig(int id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= sigs_.size())
    throw std::invalid_argument("VcdWriter: unknown signal id " + std::to_string(id) +
                                " (use the id returned by add_wire/add_real)");
  return sigs_[static_cast<std::size_t>(id)];
}

void VcdWriter::change(int id, uint64_t t_ps, uint64_t value) {
  const Sig& s = sig(id);
  if (s.is_real) throw std::invalid_argument("VcdWriter: '" + s.name + "' is a real signal; use change_real");
  if (s.width < 64 && (value >> s.width) != 0)
    throw std::invalid_argument("VcdWriter: value " + std::to_string(value) + " of '" + s.scope + "." + s.name +
                                "' does not fit in " + std::to_string(s.width) + " bits");
  if (any_flushed_ && t_ps < flushed_before_)
    throw std::invalid_argument("VcdWriter: change of '" + s.scope + "." + s.name + "' at " + std::to_string(t_ps) +
                                " ps is earlier than the already flushed time " + std::to_string(flushed_before_) +
                                " ps; flush only up to the kernel time");
  if (!header_done_) write_header();
  if (truncated_) return;  // over the size cap: not recorded
  buf_.push_back({t_ps, id, value, 0.0});
}

void VcdWriter::change_real(int id, uint64_t t_ps, double value) {
  const Sig& s = sig(id);
  if (!s.is_real) throw std::invalid_argument("VcdWriter: '" + s.name + "' is a wire; use change");
  if (any_flushed_ && t_ps < flushed_before_)
    throw std::invalid_argument("VcdWriter: change of '" + s.scope + "." + s.name + "' at " + std::to_string(t_ps) +
                                " ps is earlier than the already flushed time " + std::to_string(flushed_before_) +
                                " ps; flush only up to the kernel time");
  if (!header_done_) write_header();
  if (truncated_) return;
  buf_.push_back({t_ps, id, 0, value});
}

void VcdWriter::write_value(const Sig& s, std::string& out) const {
  if (s.is_real) {
    out += 'r';
    out += format_double(s.cur_r);  // shortest round-trip text
    out += ' ';
  } else if (s.width == 1) {
    out += (s.cur & 1) ? '1' : '0';
  } else {
    out += 'b';
    int top = 63;
    while (top > 0 && !((s.cur >> top) & 1)) --top;  // leading zeros are implied (§18.2.1)
    for (int b = top; b >= 0; --b) out += ((s.cur >> b) & 1) ? '1' : '0';
    out += ' ';
  }
  out += s.code;
  out += '\n';
}

void VcdWriter::write_header() {
  if (!out_.is_open()) throw std::runtime_error("VcdWriter: not open; call open(path) first");
  header_done_ = true;
  std::string h;
  h += "$version\n  cimvp VcdWriter 1.0\n$end\n";
  h += "$timescale\n  1 ps\n$end\n";
  // Scopes in first-declaration order, each with its variables in declaration order.
  std::vector<std::string> open_path;
  std::vector<std::string> scope_order;
  std::set<std::string> seen;  // thousands of tiles: a scan per signal would be quadratic
  for (const auto& s : sigs_)
    if (seen.insert(s.scope).second) scope_order.push_back(s.scope);
  // Sort scopes so that children follow their parent contiguously (a scope is entered once),
  // keeping first-declaration order among siblings.
  std::vector<std::vector<std::string>> paths;
  for (const auto& sc : scope_order) paths.push_back(split_scope(sc));
  std::vector<std::size_t> order(paths.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  // First scope (in declaration order) under each prefix.
  std::map<std::vector<std::string>, std::size_t> first;
  for (std::size_t i = 0; i < paths.size(); ++i)
    for (std::size_t k = 1; k <= paths[i].size(); ++k)
      first.emplace(std::vector<std::string>(paths[i].begin(), paths[i].begin() + static_cast<long>(k)), i);
  auto first_pos = [&](const std::vector<std::string>& prefix) {
    auto it = first.find(prefix);
    return it == first.end() ? paths.size() : it->second;
  };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto& pa = paths[a];
    const auto& pb = paths[b];
    std::size_t n = std::min(pa.size(), pb.size());
    for (std::size_t k = 0; k < n; ++k) {
      if (pa[k] != pb[k]) {
        std::vector<std::string> xa(pa.begin(), pa.begin() + static_cast<long>(k) + 1);
        std::vector<std::string> xb(pb.begin(), pb.begin() + static_cast<long>(k) + 1);
        return first_pos(xa) < first_pos(xb);
      }
    }
    return pa.size() < pb.size();
  });
  for (std::size_t oi : order) {
    const auto& p = paths[oi];
    std::size_t common = 0;
    while (common < open_path.size() && common < p.size() && open_path[common] == p[common]) ++common;
    while (open_path.size() > common) {
      h += "$upscope $end\n";
      open_path.pop_back();
    }
    for (std::size_t k = common; k < p.size(); ++k) {
      h += "$scope module " + p[k] + " $end\n";
      open_path.push_back(p[k]);
    }
    for (const auto& s : sigs_) {
      if (s.scope != scope_order[oi]) continue;
      if (s.is_real)
        h += "$var real 64 " + s.code + " " + s.name + " $end\n";
      else
        h += "$var wire " + std::to_string(s.width) + " " + s.code + " " + s.name + " $end\n";
    }
  }
  while (!open_path.empty()) {
    h += "$upscope $end\n";
    open_path.pop_back();
  }
  h += "$enddefinitions $end\n";
  h += "#0\n$dumpvars\n";
  for (const auto& s : sigs_) write_value(s, h);
  h += "$end\n";
  out_ << h;
  last_time_ = 0;
}

void VcdWriter::emit(std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    const Change& c = buf_[i];
    Sig& s = sigs_[static_cast<std::size_t>(c.id)];
    if (s.is_real) {
      if (std::memcmp(&s.cur_r, &c.r, sizeof(double)) == 0) continue;  // unchanged (bitwise, so NaN works)
      s.cur_r = c.r;
    } else {
      if (s.cur == c.v) continue;
      s.cur = c.v;
    }
    if (c.t != last_time_) {
      if (max_bytes_ && bytes_ + out.size() >= max_bytes_) {
        truncate(c.t, out);
        break;
      }
      out += '#';
      append_u64(out, c.t);
      out += '\n';
      last_time_ = c.t;
    }
    write_value(s, out);
  }
  if (truncated_) buf_.clear();
  else buf_.erase(buf_.begin(), buf_.begin() + static_cast<long>(n));
  bytes_ += out.size();
  out_ << out;
}

void VcdWriter::truncate(uint64_t t, std::string& out) {
  truncated_ = true;
  truncated_at_ = t;
  out += '#';
  append_u64(out, t);
  out += "\n$comment value changes from here on are not recorded: the file reached its size cap (trace.vcd_max_mb) "
         "$end\n$dumpoff\n";
  for (const auto& s : sigs_) {
    if (s.is_real) continue;  // a real has no x value
    out += s.width == 1 ? "x" : "bx ";
    out += s.code;
    out += '\n';
  }
  out += "$end\n";
  last_time_ = t;
}

void VcdWriter::flush_before(uint64_t t_ps) {
  if (closed_) return;
  if (!header_done_) write_header();
  if (any_flushed_ && t_ps < flushed_before_) return;  // nothing new can be committed
  std::stable_sort(buf_.begin(), buf_.end(), [](const Change& a, const Change& b) { return a.t < b.t; });
  std::size_t n = 0;
  while (n < buf_.size() && buf_[n].t < t_ps) ++n;
  emit(n);
  any_flushed_ = true;
  flushed_before_ = t_ps;
  out_.flush();
  if (!out_) throw std::runtime_error(path_ + ": write error while writing the VCD (disk full?)");
}

void VcdWriter::close(uint64_t end_ps) {
  if (closed_) return;
  if (!out_.is_open()) {
    closed_ = true;
    return;
  }
  if (!header_done_) write_header();
  std::stable_sort(buf_.begin(), buf_.end(), [](const Change& a, const Change& b) { return a.t < b.t; });
  emit(buf_.size());
  if (end_ps > last_time_) {
    out_ << '#' << end_ps << '\n';
    last_time_ = end_ps;
  }
  closed_ = true;
  out_.close();
  if (!out_) throw std::runtime_error(path_ + ": write error while closing the VCD (disk full?)");
}

}  // namespace cimvp::trace
