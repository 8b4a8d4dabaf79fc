#include "platform/trace/vcd_reader.hpp"

#include <cctype>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace cimvp::trace {

bool VcdValue::is_known() const {
  for (char c : text)
    if (c == 'x' || c == 'X' || c == 'z' || c == 'Z') return false;
  return true;
}

uint64_t VcdValue::as_uint() const {
  if (text.size() > 64) {
    for (std::size_t i = 0; i + 64 < text.size(); ++i)
      if (text[i] != '0') throw std::runtime_error("VCD value '" + text + "' does not fit in 64 bits");
  }
  uint64_t v = 0;
  for (char c : text) {
    if (c != '0' && c != '1') throw std::runtime_error("VCD value '" + text + "' is not a known binary value");
    v = (v << 1) | static_cast<uint64_t>(c - '0');
  }
  return v;
}

double VcdValue::as_real() const {
  bool binary = !text.empty();
  for (char c : text)
    if (c != '0' && c != '1') binary = false;
  if (binary) return static_cast<double>(as_uint());
  double d = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), d);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size())
    throw std::runtime_error("VCD value '" + text + "' is not a number");
  return d;
}

const VcdValue& VcdSignal::at(uint64_t t) const {
  const VcdValue* best = nullptr;
  for (const auto& v : values) {
    if (v.time > t) break;
    best = &v;
  }
  if (!best) throw std::runtime_error("VCD signal '" + full_name() + "' has no value at time " + std::to_string(t));
  return *best;
}

const VcdSignal* VcdFile::find(const std::string& name) const {
  for (const auto& s : signals)
    if (s.full_name() == name) return &s;
  const VcdSignal* hit = nullptr;
  for (const auto& s : signals) {
    if (s.name == name) {
      if (hit) return nullptr;  // ambiguous bare name
      hit = &s;
    }
  }
  return hit;
}

const VcdSignal& VcdFile::signal(const std::string& name) const {
  if (const VcdSignal* s = find(name)) return *s;
  std::string list;
  for (const auto& s : signals) list += (list.empty() ? "" : ", ") + s.full_name();
  throw std::runtime_error("VCD has no (unique) signal '" + name + "'; signals: " + list);
}

namespace {

class Lexer {
 public:
  Lexer(const std::string& text, const std::string& source) : s_(text), src_(source) {}

  // Next whitespace-separated token; empty at end of input.
  std::string next() {
    while (p_ < s_.size() && is_space(s_[p_])) {
      if (s_[p_] == '\n') ++line_;
      ++p_;
    }
    tok_line_ = line_;
    std::size_t b = p_;
    while (p_ < s_.size() && !is_space(s_[p_])) ++p_;
    return s_.substr(b, p_ - b);
  }
  [[noreturn]] void fail(const std::string& msg) const {
    throw std::runtime_error(src_ + ":" + std::to_string(tok_line_) + ": malformed VCD: " + msg);
  }
  // Tokens up to (not including) $end; fails at end of input.
  std::vector<std::string> until_end(const std::string& what) {
    std::vector<std::string> v;
    for (;;) {
      std::string t = next();
      if (t.empty()) fail(what + " is missing its $end");
      if (t == "$end") return v;
      v.push_back(t);
    }
  }

 private:
  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
  const std::string& s_;
  std::string src_;
  std::size_t p_ = 0;
  int line_ = 1;
  int tok_line_ = 1;
};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& t : v) s += (s.empty() ? "" : " ") + t;
  return s;
}

bool parse_u64(const std::string& s, uint64_t& out) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

double parse_timescale(const std::vector<std::string>& toks, Lexer& lx) {
  std::string all;
  for (const auto& t : toks) all += t;  // "1 ps" or "1ps"
  std::size_t i = 0;
  while (i < all.size() && isdigit(static_cast<unsigned char>(all[i]))) ++i;
  std::string num = all.substr(0, i), unit = all.substr(i);
  if (num != "1" && num != "10" && num != "100") lx.fail("timescale '" + join(toks) + "' must be 1, 10 or 100 <unit>");
  static const std::map<std::string, double> units = {{"s", 1.0},     {"ms", 1e-3},  {"us", 1e-6},
                                                      {"ns", 1e-9},   {"ps", 1e-12}, {"fs", 1e-15}};
  auto it = units.find(unit);
  if (it == units.end()) lx.fail("timescale unit '" + unit + "' is not one of s, ms, us, ns, ps, fs");
  return std::stod(num) * it->second;
}

}  // namespace

VcdFile parse_vcd(const std::string& text, const std::string& source) {
  VcdFile f;
  Lexer lx(text, source);
  std::vector<std::string> scope;
  std::map<std::string, std::vector<std::size_t>> by_code;  // one code may alias several vars
  bool defs_done = false;
  bool have_timescale = false;
  bool have_time = false;
  uint64_t now = 0;

  auto record = [&](const std::string& code, std::string value, bool real) {
    auto it = by_code.find(code);
    if (it == by_code.end()) lx.fail("value change for undeclared identifier code '" + code + "'");
    for (std::size_t idx : it->second) {
      VcdSignal& s = f.signals[idx];
      VcdValue v;
      v.time = now;
      if (real) {
        if (!s.is_real()) lx.fail("real value for non-real signal '" + s.full_name() + "'");
        double d;
        auto r = std::from_chars(value.data(), value.data() + value.size(), d);
        bool special = value == "nan" || value == "inf" || value == "-inf";
        if (!special && (r.ec != std::errc() || r.ptr != value.data() + value.size()))
          lx.fail("bad real value '" + value + "' for '" + s.full_name() + "'");
        v.text = value;
      } else {
        if (s.is_real()) lx.fail("binary value for real signal '" + s.full_name() + "'");
        for (char& c : value) {
          c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
          if (c != '0' && c != '1' && c != 'x' && c != 'z') lx.fail("bad value digit in '" + value + "'");
        }
        if (static_cast<int>(value.size()) > s.width)
          lx.fail("value '" + value + "' is wider than " + std::to_string(s.width) + " bits of '" + s.full_name() + "'");
        char pad = (value[0] == 'x' || value[0] == 'z') ? value[0] : '0';
        v.text = std::string(static_cast<std::size_t>(s.width) - value.size(), pad) + value;
      }
      s.values.push_back(std::move(v));
    }
  };

  // One value change token (and its identifier token for vectors/reals).
  auto value_change = [&](const std::string& t) {
    if (!defs_done) lx.fail("value change '" + t + "' before $enddefinitions");
    char c = t[0];
    if (c == 'b' || c == 'B' || c == 'r' || c == 'R') {
      std::string val = t.substr(1);
      if (val.empty()) lx.fail("empty value in '" + t + "'");
      std::string code = lx.next();
      // Any printable token is a legal code here ('#' and '$' included); only a missing one or a
      // keyword is an error.
      if (code.empty() || code == "$end" || code == "$dumpvars" || code == "$dumpall" || code == "$comment")
        lx.fail("value '" + t + "' has no identifier code");
      record(code, val, c == 'r' || c == 'R');
    } else if (c == '0' || c == '1' || c == 'x' || c == 'X' || c == 'z' || c == 'Z') {
      if (t.size() < 2) lx.fail("scalar value '" + t + "' has no identifier code");
      record(t.substr(1), std::string(1, c), false);
    } else {
      lx.fail("unexpected token '" + t + "'");
    }
  };

  for (;;) {
    std::string t = lx.next();
    if (t.empty()) break;
    if (t[0] == '$') {
      if (t == "$date") {
        f.date = join(lx.until_end("$date"));
      } else if (t == "$version") {
        f.version = join(lx.until_end("$version"));
      } else if (t == "$comment") {
        lx.until_end("$comment");
      } else if (t == "$timescale") {
        if (defs_done) lx.fail("$timescale after $enddefinitions");
        auto v = lx.until_end("$timescale");
        f.timescale = join(v);
        f.timescale_s = parse_timescale(v, lx);
      } else if (t == "$scope") {
        if (defs_done) lx.fail("$scope after $enddefinitions");
        auto v = lx.until_end("$scope");
        if (v.size() != 2) lx.fail("$scope needs a type and a name, got '" + join(v) + "'");
        scope.push_back(v[1]);
      } else if (t == "$upscope") {
        if (!lx.until_end("$upscope").empty()) lx.fail("$upscope takes no arguments");
        if (scope.empty()) lx.fail("$upscope without a matching $scope");
        scope.pop_back();
      } else if (t == "$var") {
        if (defs_done) lx.fail("$var after $enddefinitions");
        auto v = lx.until_end("$var");
        if (v.size() != 4 && v.size() != 5) lx.fail("$var needs 'type size code reference', got '" + join(v) + "'");
        static const char* types[] = {"event", "integer", "parameter", "real", "realtime", "reg", "supply0",
                                      "supply1", "time", "tri", "triand", "trior", "trireg", "tri0",
                                      "tri1", "wand", "wire", "wor"};
        bool ok = false;
        for (const char* ty : types) ok = ok || v[0] == ty;
        if (!ok) lx.fail("unknown $var type '" + v[0] + "'");
        uint64_t w = 0;
        if (!parse_u64(v[1], w) || w == 0 || w > 1u << 20) lx.fail("bad $var size '" + v[1] + "'");
        VcdSignal s;
        s.type = v[0];
        s.width = static_cast<int>(w);
        s.code = v[2];
        s.name = v[3];
        if (v.size() == 5 && v[4].front() != '[') lx.fail("unexpected '" + v[4] + "' after $var reference");
        std::string sc;
        for (const auto& p : scope) sc += (sc.empty() ? "" : ".") + p;
        s.scope = sc;
        by_code[s.code].push_back(f.signals.size());
        f.signals.push_back(std::move(s));
      } else if (t == "$enddefinitions") {
        if (defs_done) lx.fail("second $enddefinitions");
        if (!lx.until_end("$enddefinitions").empty()) lx.fail("$enddefinitions takes no arguments");
        if (!scope.empty()) lx.fail("$enddefinitions inside an open $scope " + scope.back());
        defs_done = true;
      } else if (t == "$dumpvars" || t == "$dumpall" || t == "$dumpon" || t == "$dumpoff") {
        if (!defs_done) lx.fail(t + " before $enddefinitions");
        for (;;) {
          std::string v = lx.next();
          if (v.empty()) lx.fail(t + " is missing its $end");
          if (v == "$end") break;
          value_change(v);
        }
      } else {
        lx.fail("unknown keyword '" + t + "'");
      }
    } else if (t[0] == '#') {
      if (!defs_done) lx.fail("timestamp before $enddefinitions");
      uint64_t tt;
      if (!parse_u64(t.substr(1), tt)) lx.fail("bad timestamp '" + t + "'");
      if (have_time && tt < now) lx.fail("timestamp " + t + " goes back in time (after #" + std::to_string(now) + ")");
      now = tt;
      have_time = true;
      f.end_time = tt;
    } else {
      value_change(t);
    }
    have_timescale = have_timescale || !f.timescale.empty();
  }
  if (!defs_done) lx.fail("no $enddefinitions (file truncated or not a VCD)");
  if (!have_timescale) lx.fail("no $timescale in the header");
  return f;
}

VcdFile read_vcd(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open VCD file (check the path)");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_vcd(ss.str(), path);
}

}  // namespace cimvp::trace
