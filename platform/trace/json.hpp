// A small JSON value tree with ordered object keys, a deterministic writer and a strict parser.
//
// Why not a library: Debian 12 has nlohmann-json, but it is not among the project's
// dependencies and the platform needs only this much: summary.json, trace.json and tests that
// read them back. The writer is locale-independent (std::to_chars) and prints numbers in the
// shortest form that round-trips; integers given as integers are kept exact up to 64 bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace cimvp::trace {

// Parse error; offset() is the byte offset in the input where the problem was found.
class JsonError : public std::runtime_error {
 public:
  JsonError(const std::string& what, std::size_t offset) : std::runtime_error(what), offset_(offset) {}
  std::size_t offset() const { return offset_; }

 private:
  std::size_t offset_;
};

class Json {
 public:
  enum class Type { Null, Bool, Number, String, Array, Object };

  Json() = default;
  Json(std::nullptr_t) {}
  Json(bool b) : type_(Type::Bool), bool_(b) {}
  Json(double d) : type_(Type::Number), num_(d) {}
  Json(float f) : Json(static_cast<double>(f)) {}
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Json(T v) : type_(Type::Number), num_(static_cast<double>(v)), is_int_(true) {
    if constexpr (std::is_signed_v<T>) {
      neg_ = v < 0;
      mag_ = neg_ ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    } else {
      mag_ = static_cast<uint64_t>(v);
    }
  }
  Json(const char* s) : type_(Type::String), str_(s) {}
  Json(std::string s) : type_(Type::String), str_(std::move(s)) {}
  Json(std::string_view s) : type_(Type::String), str_(s) {}

  static Json object() {
    Json j;
    j.type_ = Type::Object;
    return j;
  }
  static Json array() {
    Json j;
    j.type_ = Type::Array;
    return j;
  }
  // Strict RFC 8259 parser: one value, optional surrounding whitespace, nothing else.
  static Json parse(std::string_view text);
  static Json parse_file(const std::string& path);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }
  // True for numbers that were given or parsed as integers (exact to 64 bits).
  bool is_integer() const { return type_ == Type::Number && is_int_; }

  // Typed access; throws std::runtime_error naming the expected and actual type on mismatch.
  bool as_bool() const;
  double as_double() const;
  int64_t as_int64() const;    // integers only, range-checked
  uint64_t as_uint64() const;  // non-negative integers only
  const std::string& as_string() const;

  // Arrays and objects: element count (0 for scalars).
  std::size_t size() const;

  // Object access. The non-const operator[] turns null into an object and inserts a missing
  // key (at the end: keys keep insertion order); at() throws if the key is missing.
  Json& operator[](const std::string& key);
  const Json& at(const std::string& key) const;
  bool contains(const std::string& key) const { return find(key) != nullptr; }
  const Json* find(const std::string& key) const;
  const std::vector<std::string>& keys() const { return keys_; }  // object keys in order

  // Array access. push_back turns null into an array.
  Json& push_back(Json v);
  Json& operator[](std::size_t i);
  const Json& at(std::size_t i) const;
  const std::vector<Json>& items() const { return items_; }  // array elements / object values

  // indent < 0: compact one line; indent >= 0: pretty with that many spaces per level.
  // Non-finite numbers are written as null (JSON has no NaN/Infinity).
  std::string dump(int indent = -1) const;

  bool operator==(const Json& o) const;
  bool operator!=(const Json& o) const { return !(*this == o); }

 private:
  void dump_to(std::string& out, int indent, int level) const;

  Type type_ = Type::Null;
  bool bool_ = false;
  double num_ = 0;
  bool is_int_ = false;  // integer representation: neg_ ? -mag_ : mag_
  bool neg_ = false;
  uint64_t mag_ = 0;
  std::string str_;
  std::vector<std::string> keys_;  // objects: keys_[i] names items_[i]
  std::vector<Json> items_;
  // Objects with many keys (a summary of a chip with thousands of components): key -> index,
  // built on the first lookup and kept in step by operator[]. A copy starts without one.
  struct KeyIndex {
    std::unique_ptr<std::unordered_map<std::string, std::size_t>> map;
    KeyIndex() = default;
    KeyIndex(const KeyIndex&) {}
    KeyIndex& operator=(const KeyIndex&) {
      map.reset();
      return *this;
    }
    KeyIndex(KeyIndex&&) noexcept = default;
    KeyIndex& operator=(KeyIndex&&) noexcept = default;
  };
  mutable KeyIndex index_;
  std::size_t key_position(const std::string& key) const;  // keys_.size() if absent

  friend class JsonParser;
};

// Helpers shared by the writers.
// Shortest decimal text that parses back to exactly `v` (locale-independent). Non-finite
// values give "nan", "inf", "-inf".
std::string format_double(double v);
// `s` as a JSON string literal including the quotes.
std::string json_quote(std::string_view s);
void json_quote_to(std::string& out, std::string_view s);

}  // namespace cimvp::trace
