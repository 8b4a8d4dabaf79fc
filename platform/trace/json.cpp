#include "platform/trace/json.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cimvp::trace {

namespace {

const char* type_name(Json::Type t) {
  switch (t) {
    case Json::Type::Null: return "null";
    case Json::Type::Bool: return "bool";
    case Json::Type::Number: return "number";
    case Json::Type::String: return "string";
    case Json::Type::Array: return "array";
    case Json::Type::Object: return "object";
  }
  return "?";
}

[[noreturn]] void type_error(const char* wanted, Json::Type got) {
  throw std::runtime_error(std::string("JSON value is ") + type_name(got) + ", expected " + wanted);
}

void append_u64(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

std::string format_double(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  // Shortest round-trip representation; std::to_chars ignores the C locale.
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void json_quote_to(std::string& out, std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);  // UTF-8 passes through unchanged
        }
    }
  }
  out += '"';
}

std::string json_quote(std::string_view s) {
  std::string out;
  json_quote_to(out, s);
  return out;
}

bool Json::as_bool() const {
  if (type_ != Type::Bool) type_error("bool", type_);
  return bool_;
}
double Json::as_double() const {
  if (type_ != Type::Number) type_error("number", type_);
  return num_;
}
int64_t Json::as_int64() const {
  if (type_ != Type::Number || !is_int_) type_error("integer", type_);
  if (!neg_ && mag_ > static_cast<uint64_t>(INT64_MAX))
    throw std::runtime_error("JSON integer " + std::to_string(mag_) + " does not fit in int64");
  if (neg_ && mag_ > static_cast<uint64_t>(INT64_MAX) + 1)
    throw std::runtime_error("JSON integer does not fit in int64");
  return neg_ ? static_cast<int64_t>(0 - mag_) : static_cast<int64_t>(mag_);
}
uint64_t Json::as_uint64() const {
  if (type_ != Type::Number || !is_int_) type_error("integer", type_);
  if (neg_ && mag_ != 0) throw std::runtime_error("JSON integer is negative, expected unsigned");
  return mag_;
}
const std::string& Json::as_string() const {
  if (type_ != Type::String) type_error("string", type_);
  return str_;
}

std::size_t Json::size() const {
  return (type_ == Type::Array || type_ == Type::Object) ? items_.size() : 0;
}

std::size_t Json::key_position(const std::string& key) const {
  constexpr std::size_t kLinear = 32;  // small objects: a scan is cheaper than a hash index
  if (keys_.size() < kLinear) {
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i] == key) return i;
    return keys_.size();
  }
  auto& m = index_.map;
  if (!m || m->size() != keys_.size()) {
    m = std::make_unique<std::unordered_map<std::string, std::size_t>>();
    m->reserve(keys_.size() * 2);
    for (std::size_t i = 0; i < keys_.size(); ++i) m->emplace(keys_[i], i);
  }
  auto it = m->find(key);
  return it == m->end() ? keys_.size() : it->second;
}

Json& Json::operator[](const std::string& key) {
  if (type_ == Type::Null) type_ = Type::Object;
  if (type_ != Type::Object) type_error("object", type_);
  const std::size_t i = key_position(key);
  if (i < keys_.size()) return items_[i];
  keys_.push_back(key);
  items_.emplace_back();
  if (index_.map) index_.map->emplace(key, keys_.size() - 1);
  return items_.back();
}

const Json* Json::find(const std::string& key) const {
  if (type_ != Type::Object) return nullptr;
  const std::size_t i = key_position(key);
  return i < keys_.size() ? &items_[i] : nullptr;
}

const Json& Json::at(const std::string& key) const {
  if (type_ != Type::Object) type_error("object", type_);
  const Json* j = find(key);
  if (!j) throw std::runtime_error("JSON object has no key \"" + key + "\"");
  return *j;
}

Json& Json::push_back(Json v) {
  if (type_ == Type::Null) type_ = Type::Array;
  if (type_ != Type::Array) type_error("array", type_);
  items_.push_back(std::move(v));
  return items_.back();
}

Json& Json::operator[](std::size_t i) {
  if (type_ != Type::Array) type_error("array", type_);
  if (i >= items_.size())
    throw std::runtime_error("JSON array index " + std::to_string(i) + " out of range (size " +
                             std::to_string(items_.size()) + ")");
  return items_[i];
}
const Json& Json::at(std::size_t i) const {
  if (type_ != Type::Array) type_error("array", type_);
  if (i >= items_.size())
    throw std::runtime_error("JSON array index " + std::to_string(i) + " out of range (size " +
                             std::to_string(items_.size()) + ")");
  return items_[i];
}

bool Json::operator==(const Json& o) const {
  if (type_ != o.type_) return false;
  switch (type_) {
    case Type::Null: return true;
    case Type::Bool: return bool_ == o.bool_;
    case Type::Number:
      if (is_int_ && o.is_int_) return neg_ == o.neg_ ? mag_ == o.mag_ : (mag_ == 0 && o.mag_ == 0);
      return num_ == o.num_;
    case Type::String: return str_ == o.str_;
    case Type::Array: return items_ == o.items_;
    case Type::Object: return keys_ == o.keys_ && items_ == o.items_;
  }
  return false;
}

std::string Json::dump(int indent) const {
  std::string out;
  dump_to(out, indent, 0);
  return out;
}

void Json::dump_to(std::string& out, int indent, int level) const {
  auto newline = [&](int lvl) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<std::size_t>(indent) * static_cast<std::size_t>(lvl), ' ');
  };
  switch (type_) {
    case Type::Null: out += "null"; return;
    case Type::Bool: out += bool_ ? "true" : "false"; return;
    case Type::Number:
      if (is_int_) {
        if (neg_ && mag_ != 0) out += '-';
        append_u64(out, mag_);
      } else if (!std::isfinite(num_)) {
        out += "null";
      } else {
        out += format_double(num_);
      }
      return;
    case Type::String: json_quote_to(out, str_); return;
    case Type::Array:
      if (items_.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (std::size_t i = 0; i < items_.size(); ++i) {
        if (i) out += ',';
        newline(level + 1);
        items_[i].dump_to(out, indent, level + 1);
      }
      newline(level);
      out += ']';
      return;
    case Type::Object:
      if (items_.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      for (std::size_t i = 0; i < items_.size(); ++i) {
        if (i) out += ',';
        newline(level + 1);
        json_quote_to(out, keys_[i]);
        out += indent < 0 ? ":" : ": ";
        items_[i].dump_to(out, indent, level + 1);
      }
      newline(level);
      out += '}';
      return;
  }
}

// ---------------------------------------------------------------------------------------------
class JsonParser {
 public:
  explicit JsonParser(std::string_view s) : s_(s) {}

  Json parse_document() {
    ws();
    Json v = value(0);
    ws();
    if (p_ != s_.size()) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 512;  // bounds recursion on hostile input

  [[noreturn]] void fail(const std::string& msg) const {
    throw JsonError("JSON parse error at offset " + std::to_string(p_) + ": " + msg, p_);
  }
  void ws() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r')) ++p_;
  }
  bool eof() const { return p_ >= s_.size(); }
  char peek() const { return eof() ? '\0' : s_[p_]; }
  void expect_word(const char* w) {
    std::size_t n = std::strlen(w);
    if (s_.substr(p_, n) != w) fail(std::string("invalid literal, expected '") + w + "'");
    p_ += n;
  }

  Json value(int depth) {
    if (depth > kMaxDepth) fail("nesting deeper than 512 levels");
    if (eof()) fail("unexpected end of input, expected a value");
    char c = peek();
    switch (c) {
      case '{': return object(depth);
      case '[': return array(depth);
      case '"': return Json(string());
      case 't': expect_word("true"); return Json(true);
      case 'f': expect_word("false"); return Json(false);
      case 'n': expect_word("null"); return Json();
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return number();
        fail(std::string("unexpected character '") + c + "'");
    }
  }

  Json object(int depth) {
    Json o = Json::object();
    ++p_;  // '{'
    ws();
    if (peek() == '}') {
      ++p_;
      return o;
    }
    for (;;) {
      ws();
      if (peek() != '"') fail("expected a string key in object");
      std::string key = string();
      ws();
      if (peek() != ':') fail("expected ':' after object key");
      ++p_;
      ws();
      Json v = value(depth + 1);
      o[key] = std::move(v);  // a duplicate key keeps its first position, last value wins
      ws();
      if (peek() == ',') {
        ++p_;
        continue;
      }
      if (peek() == '}') {
        ++p_;
        return o;
      }
      fail("expected ',' or '}' in object");
    }
  }

  Json array(int depth) {
    Json a = Json::array();
    ++p_;  // '['
    ws();
    if (peek() == ']') {
      ++p_;
      return a;
    }
    for (;;) {
      ws();
      a.push_back(value(depth + 1));
      ws();
      if (peek() == ',') {
        ++p_;
        continue;
      }
      if (peek() == ']') {
        ++p_;
        return a;
      }
      fail("expected ',' or ']' in array");
    }
  }

  unsigned hex4() {
    if (p_ + 4 > s_.size()) fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[p_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else fail("invalid hex digit in \\u escape");
    }
    return v;
  }

  static void utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string string() {
    ++p_;  // opening quote
    std::string out;
    for (;;) {
      if (eof()) fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[p_]);
      if (c == '"') {
        ++p_;
        return out;
      }
      if (c < 0x20) fail("unescaped control character in string");
      if (c != '\\') {
        out += static_cast<char>(c);
        ++p_;
        continue;
      }
      ++p_;
      if (eof()) fail("unterminated escape");
      char e = s_[p_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.substr(p_, 2) != "\\u") fail("high surrogate not followed by a low surrogate");
            p_ += 2;
            unsigned lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("invalid low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("lone low surrogate");
          }
          utf8(out, cp);
          break;
        }
        default: p_ -= 2; fail(std::string("invalid escape '\\") + e + "'");
      }
    }
  }

  Json number() {
    const std::size_t start = p_;
    bool neg = false;
    if (peek() == '-') {
      neg = true;
      ++p_;
    }
    if (eof() || !std::isdigit(static_cast<unsigned char>(peek()))) fail("expected a digit");
    if (peek() == '0') {
      ++p_;
      if (!eof() && std::isdigit(static_cast<unsigned char>(peek()))) fail("leading zeros are not allowed");
    } else {
      while (!eof() && std::isdigit(static_cast<unsigned char>(peek()))) ++p_;
    }
    bool integral = true;
    if (peek() == '.') {
      integral = false;
      ++p_;
      if (eof() || !std::isdigit(static_cast<unsigned char>(peek()))) fail("expected a digit after '.'");
      while (!eof() && std::isdigit(static_cast<unsigned char>(peek()))) ++p_;
    }
    if (peek() == 'e' || peek() == 'E') {
      integral = false;
      ++p_;
      if (peek() == '+' || peek() == '-') ++p_;
      if (eof() || !std::isdigit(static_cast<unsigned char>(peek()))) fail("expected a digit in exponent");
      while (!eof() && std::isdigit(static_cast<unsigned char>(peek()))) ++p_;
    }
    const char* b = s_.data() + start;
    const char* e = s_.data() + p_;
    Json j;
    j.type_ = Json::Type::Number;
    if (integral) {
      uint64_t mag = 0;
      auto r = std::from_chars(b + (neg ? 1 : 0), e, mag);
      if (r.ec == std::errc() && r.ptr == e) {
        j.is_int_ = true;
        j.neg_ = neg;
        j.mag_ = mag;
      }
    }
    auto r = std::from_chars(b, e, j.num_);  // locale-independent, correctly rounded
    if (r.ec == std::errc::result_out_of_range) {
      // Overflow to +-inf or underflow to 0, as strtod does; JSON itself has no limit.
      j.num_ = std::strtod(std::string(b, e).c_str(), nullptr);
    } else if (r.ec != std::errc() || r.ptr != e) {
      p_ = start;
      fail("invalid number");
    }
    return j;
  }

  std::string_view s_;
  std::size_t p_ = 0;
};

Json Json::parse(std::string_view text) { return JsonParser(text).parse_document(); }

Json Json::parse_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open JSON file (check the path)");
  std::ostringstream ss;
  ss << f.rdbuf();
  try {
    return parse(ss.str());
  } catch (const JsonError& e) {
    throw JsonError(path + ": " + e.what(), e.offset());
  }
}

}  // namespace cimvp::trace
