// Validated access to YAML configuration: every read names its key path, every error names
// file:line:column (or the --set override it came from), and keys nobody read are errors.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace cimvp::config {

// A user-input error: the message is complete (location, key, what to do). Exit code 2.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One parsed YAML document plus the bookkeeping that makes validation possible.
class Doc {
 public:
  // Parses text; a syntax error throws ConfigError with file:line:column.
  static std::shared_ptr<Doc> parse(const std::string& text, const std::string& file_label);

  // Applies `key.path=value` (value parsed as YAML) before validation; numeric path parts
  // index sequences. Creates missing maps so that unknown keys are reported, not ignored.
  void apply_override(const std::string& assignment);

  const std::string& file() const { return file_; }
  YAML::Node root() const { return root_; }

  void touch(const std::string& path) { touched_.insert(path); }
  bool touched(const std::string& path) const { return touched_.count(path) != 0; }
  const std::set<std::string>& touched_paths() const { return touched_; }
  // The --set assignment that created or replaced this path (or a parent), if any.
  std::optional<std::string> override_for(const std::string& path) const;

 private:
  std::string file_;
  YAML::Node root_;
  std::set<std::string> touched_;
  std::vector<std::pair<std::string, std::string>> overrides_;  // path, full assignment
};

// A node in a Doc at a key path. Reading through Node records which keys were used.
class Node {
 public:
  Node(std::shared_ptr<Doc> doc, YAML::Node node, std::string path);

  const std::string& path() const { return path_; }
  const YAML::Node& yaml() const { return node_; }
  const std::shared_ptr<Doc>& doc() const { return doc_; }
  std::string where() const;  // "file:line:col" or "--set a.b=c"

  [[noreturn]] void fail(const std::string& message) const;

  bool is_map() const { return node_.IsMap(); }
  bool is_sequence() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }

  bool has(const std::string& key) const;
  Node at(const std::string& key) const;                   // required child
  std::optional<Node> get(const std::string& key) const;   // optional child
  std::size_t size() const;                                // sequence length
  Node operator[](std::size_t index) const;                // sequence element

  // Scalar conversions of this node, with range checks (inclusive).
  double as_double(double lo, double hi) const;
  int64_t as_int(int64_t lo, int64_t hi) const;
  uint64_t as_uint(uint64_t lo, uint64_t hi) const;  // accepts 0x... hex
  bool as_bool() const;
  std::string as_string() const;

  // Convenience: child `key` with a default when absent.
  double number(const std::string& key, double def, double lo, double hi) const;
  double number(const std::string& key, double lo, double hi) const;  // required
  int64_t integer(const std::string& key, int64_t def, int64_t lo, int64_t hi) const;
  int64_t integer(const std::string& key, int64_t lo, int64_t hi) const;  // required
  uint64_t address(const std::string& key) const;                         // required
  bool flag(const std::string& key, bool def) const;
  std::string text(const std::string& key, const std::string& def) const;
  std::string text(const std::string& key) const;  // required
  std::string choice(const std::string& key, const std::string& def,
                     const std::vector<std::string>& allowed) const;

  // Marks this node and everything below it as read (for free-form sub-trees).
  void touch_all() const;

 private:
  std::string child_path(const std::string& key) const;
  std::shared_ptr<Doc> doc_;
  YAML::Node node_;
  std::string path_;
};

// A non-negative integer as the scenario's integer keys take it: decimal or 0x hex, no
// sign, nothing after it, within 64 bits. Nothing for anything else ("-1", "7x", "").
std::optional<uint64_t> parse_uint(const std::string& text);

// Throws ConfigError for the first map key under root that no reader touched, naming the
// keys that are valid at that place.
void check_unknown_keys(const Node& root);

}  // namespace cimvp::config
