#include "platform/config/config_node.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>

namespace cimvp::config {

namespace {

std::string mark_text(const std::string& file, const YAML::Mark& m) {
  std::ostringstream s;
  s << file;
  if (!m.is_null()) s << ":" << (m.line + 1) << ":" << (m.column + 1);
  return s.str();
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : path) {
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

bool is_index(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// yaml-cpp keeps both entries of a repeated map key and lookups see only the first: a
// second `seed:` would be silently ignored. Reject it where it is.
void check_duplicate_keys(const YAML::Node& n, const std::string& path, const std::string& file) {
  if (n.IsMap()) {
    std::map<std::string, YAML::Mark> seen;
    for (auto it = n.begin(); it != n.end(); ++it) {
      const YAML::Node& k = it->first;
      std::string key = k.IsScalar() ? k.Scalar() : std::string();
      std::string child = path.empty() ? key : path + "." + key;
      if (k.IsScalar()) {
        auto [prev, fresh] = seen.emplace(key, k.Mark());
        if (!fresh)
          throw ConfigError(mark_text(file, k.Mark()) + ": " + child + ": duplicate key (first given at line " +
                            std::to_string(prev->second.line + 1) + "); keep one of them");
      }
      check_duplicate_keys(it->second, child, file);
    }
  } else if (n.IsSequence()) {
    for (std::size_t i = 0; i < n.size(); ++i)
      check_duplicate_keys(n[i], path + (path.empty() ? "" : ".") + std::to_string(i), file);
  }
}

}  // namespace

std::shared_ptr<Doc> Doc::parse(const std::string& text, const std::string& file_label) {
  auto doc = std::make_shared<Doc>();
  doc->file_ = file_label;
  try {
    doc->root_ = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(mark_text(file_label, e.mark) + ": YAML syntax error: " + e.msg +
                      " (fix the file's syntax; see docs/scenarios.md)");
  }
  if (!doc->root_.IsDefined() || doc->root_.IsNull()) doc->root_ = YAML::Node(YAML::NodeType::Map);
  if (!doc->root_.IsMap())
    throw ConfigError(mark_text(file_label, doc->root_.Mark()) +
                      ": the top level must be a mapping of keys (e.g. 'name: my-run')");
  check_duplicate_keys(doc->root_, "", file_label);
  return doc;
}

void Doc::apply_override(const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set " + assignment + ": expected KEY=VALUE, e.g. --set seed=7");
  std::string key = assignment.substr(0, eq);
  std::string value_text = assignment.substr(eq + 1);
  YAML::Node value;
  try {
    value = YAML::Load(value_text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError("--set " + assignment + ": the value is not valid YAML: " + e.msg);
  }
  if (!value.IsDefined()) value = YAML::Node(YAML::NodeType::Null);
  auto parts = split_path(key);
  for (const auto& p : parts)
    if (p.empty()) throw ConfigError("--set " + assignment + ": empty part in key path '" + key + "'");

  // Walk with non-const nodes so that missing maps are created; YAML::Node assignment
  // rebinds, so we keep a chain of references through reset().
  YAML::Node cur = root_;
  std::string path;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    path += (path.empty() ? "" : ".") + part;
    bool last = i + 1 == parts.size();
    if (cur.IsSequence()) {
      if (!is_index(part))
        throw ConfigError("--set " + assignment + ": '" + path + "' indexes a list; use a number");
      std::size_t idx = std::strtoul(part.c_str(), nullptr, 10);
      if (idx >= cur.size())
        throw ConfigError("--set " + assignment + ": index " + part + " is past the end of the list (" +
                          std::to_string(cur.size()) + " entries)");
      if (last) {
        cur[idx] = value;
      } else {
        YAML::Node next = cur[idx];
        cur.reset(next);
      }
    } else {
      if (!cur.IsMap() && !cur.IsNull())
        throw ConfigError("--set " + assignment + ": '" + path + "' is inside a scalar value");
      if (last) {
        cur[part] = value;
      } else {
        YAML::Node next = cur[part];
        if (!next.IsDefined() || next.IsNull()) {
          cur[part] = YAML::Node(YAML::NodeType::Map);
          next = cur[part];
        }
        cur.reset(next);
      }
    }
  }
  overrides_.emplace_back(key, assignment);
}

std::optional<std::string> Doc::override_for(const std::string& path) const {
  for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it) {
    const std::string& p = it->first;
    if (path == p || (path.size() > p.size() && path.compare(0, p.size(), p) == 0 && path[p.size()] == '.') ||
        (p.size() > path.size() && p.compare(0, path.size(), path) == 0 && p[path.size()] == '.'))
      return it->second;
  }
  return std::nullopt;
}

Node::Node(std::shared_ptr<Doc> doc, YAML::Node node, std::string path)
    : doc_(std::move(doc)), node_(std::move(node)), path_(std::move(path)) {}

std::string Node::where() const {
  if (auto o = doc_->override_for(path_)) return "--set " + *o;
  return mark_text(doc_->file(), node_.Mark());
}

void Node::fail(const std::string& message) const {
  std::string key = path_.empty() ? std::string("(top level)") : path_;
  throw ConfigError(where() + ": " + key + ": " + message);
}

std::string Node::child_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

bool Node::has(const std::string& key) const {
  if (!node_.IsMap()) return false;
  const YAML::Node& n = node_;
  return n[key].IsDefined();
}

std::optional<Node> Node::get(const std::string& key) const {
  if (!node_.IsMap()) {
    if (node_.IsNull()) return std::nullopt;
    fail("expected a mapping of keys, found " + std::string(node_.IsSequence() ? "a list" : "a scalar"));
  }
  const YAML::Node& n = node_;
  YAML::Node child = n[key];
  doc_->touch(child_path(key));
  if (!child.IsDefined()) return std::nullopt;
  return Node(doc_, child, child_path(key));
}

Node Node::at(const std::string& key) const {
  auto c = get(key);
  if (!c) fail("missing required key '" + key + "'");
  return *c;
}

std::size_t Node::size() const {
  if (!node_.IsSequence()) fail("expected a list");
  return node_.size();
}

Node Node::operator[](std::size_t index) const {
  if (!node_.IsSequence()) fail("expected a list");
  const YAML::Node& n = node_;
  std::string p = path_ + "." + std::to_string(index);
  doc_->touch(p);
  return Node(doc_, n[index], p);
}

std::string Node::as_string() const {
  if (!node_.IsScalar()) fail("expected a single value, found " + std::string(node_.IsMap() ? "a mapping" : node_.IsSequence() ? "a list" : "nothing"));
  return node_.Scalar();
}

double Node::as_double(double lo, double hi) const {
  std::string s = as_string();
  double v;
  try {
    v = node_.as<double>();
  } catch (const YAML::Exception&) {
    fail("expected a number, got '" + s + "'");
  }
  if (!std::isfinite(v)) fail("expected a finite number, got '" + s + "'");
  if (v < lo || v > hi) {
    std::ostringstream m;
    m << "value " << s << " is out of range [" << lo << ", " << hi << "]";
    fail(m.str());
  }
  return v;
}

std::optional<uint64_t> parse_uint(const std::string& s) {
  // strtoull would accept leading blanks and a sign (and wrap "-1"): refuse them first.
  if (s.empty() || !(s[0] >= '0' && s[0] <= '9')) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  uint64_t v = std::strtoull(s.c_str(), &end, 0);  // base 0: accepts 0x.. hex
  if (errno != 0 || !end || *end != '\0') return std::nullopt;
  return v;
}

uint64_t Node::as_uint(uint64_t lo, uint64_t hi) const {
  std::string s = as_string();
  auto parsed = parse_uint(s);
  if (!parsed) fail("expected a non-negative integer (decimal or 0x hex), got '" + s + "'");
  uint64_t v = *parsed;
  if (v < lo || v > hi) {
    std::ostringstream m;
    m << "value " << s << " is out of range [" << lo << ", " << hi << "]";
    fail(m.str());
  }
  return v;
}

int64_t Node::as_int(int64_t lo, int64_t hi) const {
  std::string s = as_string();
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 0);
  if (s.empty() || errno != 0 || !end || *end != '\0') fail("expected an integer, got '" + s + "'");
  if (v < lo || v > hi) {
    std::ostringstream m;
    m << "value " << s << " is out of range [" << lo << ", " << hi << "]";
    fail(m.str());
  }
  return v;
}

bool Node::as_bool() const {
  std::string s = as_string();
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  fail("expected true or false, got '" + s + "'");
}

double Node::number(const std::string& key, double def, double lo, double hi) const {
  auto c = get(key);
  return c ? c->as_double(lo, hi) : def;
}
double Node::number(const std::string& key, double lo, double hi) const { return at(key).as_double(lo, hi); }
int64_t Node::integer(const std::string& key, int64_t def, int64_t lo, int64_t hi) const {
  auto c = get(key);
  return c ? c->as_int(lo, hi) : def;
}
int64_t Node::integer(const std::string& key, int64_t lo, int64_t hi) const { return at(key).as_int(lo, hi); }
uint64_t Node::address(const std::string& key) const { return at(key).as_uint(0, 0xFFFFFFFFull); }
bool Node::flag(const std::string& key, bool def) const {
  auto c = get(key);
  return c ? c->as_bool() : def;
}
std::string Node::text(const std::string& key, const std::string& def) const {
  auto c = get(key);
  return c ? c->as_string() : def;
}
std::string Node::text(const std::string& key) const { return at(key).as_string(); }

std::string Node::choice(const std::string& key, const std::string& def,
                         const std::vector<std::string>& allowed) const {
  auto c = get(key);
  if (!c) return def;
  std::string v = c->as_string();
  for (const auto& a : allowed)
    if (a == v) return v;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  c->fail("'" + v + "' is not one of: " + list);
}

void Node::touch_all() const {
  doc_->touch(path_);
  if (node_.IsMap()) {
    for (auto it = node_.begin(); it != node_.end(); ++it)
      Node(doc_, it->second, child_path(it->first.Scalar())).touch_all();
  } else if (node_.IsSequence()) {
    for (std::size_t i = 0; i < node_.size(); ++i) (*this)[i].touch_all();
  }
}

namespace {

void walk_unknown(const Node& n) {
  const YAML::Node& y = n.yaml();
  if (y.IsMap()) {
    for (auto it = y.begin(); it != y.end(); ++it) {
      std::string key = it->first.Scalar();
      std::string path = n.path().empty() ? key : n.path() + "." + key;
      Node child(n.doc(), it->second, path);
      if (!n.doc()->touched(path)) {
        // The keys a reader asked for at this place (present or not) are the valid ones.
        std::string valid, prefix = n.path().empty() ? "" : n.path() + ".";
        for (const auto& t : n.doc()->touched_paths()) {
          if (t.compare(0, prefix.size(), prefix) != 0) continue;
          std::string rest = t.substr(prefix.size());
          if (rest.empty() || rest.find('.') != std::string::npos) continue;
          valid += (valid.empty() ? "" : ", ") + rest;
        }
        std::string where = n.doc()->override_for(path) ? "--set " + *n.doc()->override_for(path)
                                                         : mark_text(n.doc()->file(), it->first.Mark());
        throw ConfigError(where + ": unknown key '" + path + "'" +
                          (valid.empty() ? std::string(" (nothing is expected here)")
                                         : " (keys used here: " + valid + ")") +
                          "; check the spelling against docs/scenarios.md");
      }
      walk_unknown(child);
    }
  } else if (y.IsSequence()) {
    for (std::size_t i = 0; i < y.size(); ++i) walk_unknown(Node(n.doc(), y[i], n.path() + "." + std::to_string(i)));
  }
}

}  // namespace

void check_unknown_keys(const Node& root) { walk_unknown(root); }

}  // namespace cimvp::config
