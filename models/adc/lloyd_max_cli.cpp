#include "models/adc/lloyd_max_cli.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <istream>
#include <ostream>
#include <sstream>
#include <stdexcept>

extern "C" {
#include "firmware/lib/lloyd_max.h"
}

namespace cimvp::adc {

namespace {

const char* kHelp =
    "usage: cimvp lloyd-max --bits B [--uniform] [--json] [--seed N] FILE\n"
    "\n"
    "Design a 2^B-level Lloyd-Max quantiser (B = 1..8) for the samples in FILE and print JSON:\n"
    "  thresholds (2^B - 1, ascending), levels (2^B), mse, iterations, start, n, distinct;\n"
    "  with --uniform also uniform_mse (2^B levels evenly spaced from min to max, nearest level).\n"
    "FILE: one number per line (the first column of a CSV; an optional header line), a .npy\n"
    "file (float32/float64, little-endian, 1-D or (n,1)), or - for standard input.\n"
    "Several deterministic starts (uniform, quantile, seeded k-means++) run; the best is kept.\n"
    "Fewer distinct values than levels is valid: one level per value, the extra levels fill the\n"
    "widest gaps (their cells are empty), mse 0.\n"
    "Output is always JSON (--json is accepted for symmetry with other commands).\n"
    "Exit codes: 0 ok, 2 usage or input error.\n";

std::string trim(const std::string& s) {
  std::size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

}  // namespace

std::vector<float> load_samples_text(std::istream& in, const std::string& name) {
  std::vector<float> v;
  std::string line;
  std::size_t lineno = 0;
  bool any_line = false;
  while (std::getline(in, line)) {
    ++lineno;
    std::string cell = trim(line.substr(0, line.find(',')));
    if (cell.empty()) continue;
    const bool first = !any_line;
    any_line = true;
    const char* s = cell.c_str();
    char* end = nullptr;
    const double d = std::strtod(s, &end);
    if (end == s || *end != '\0') {
      if (first) continue;  // header line
      throw std::invalid_argument(name + ":" + std::to_string(lineno) + ": '" + cell + "' is not a number");
    }
    if (!std::isfinite(d) || !std::isfinite(static_cast<float>(d)))
      throw std::invalid_argument(name + ":" + std::to_string(lineno) + ": '" + cell +
                                  "' is NaN/Inf or beyond float range; remove or fix that sample");
    v.push_back(static_cast<float>(d));
  }
  if (v.empty()) throw std::invalid_argument(name + ": no samples (empty file, or only a header line)");
  return v;
}

std::vector<float> load_samples_npy(std::istream& in, const std::string& name) {
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    throw std::invalid_argument(name + ": not a .npy file (bad magic)");
  uint32_t hlen = 0;
  if (magic[6] == 1) {
    unsigned char b[2];
    if (!in.read(reinterpret_cast<char*>(b), 2)) throw std::invalid_argument(name + ": truncated .npy header");
    hlen = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    if (!in.read(reinterpret_cast<char*>(b), 4)) throw std::invalid_argument(name + ": truncated .npy header");
    hlen = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
  }
  std::string h(hlen, '\0');
  if (!in.read(&h[0], hlen)) throw std::invalid_argument(name + ": truncated .npy header");
  std::size_t width = 0;
  if (h.find("'<f4'") != std::string::npos) width = 4;
  else if (h.find("'<f8'") != std::string::npos) width = 8;
  else throw std::invalid_argument(name + ": .npy dtype must be little-endian float32 ('<f4') or float64 ('<f8')");
  if (h.find("'fortran_order': True") != std::string::npos && h.find("'shape': (") == std::string::npos)
    throw std::invalid_argument(name + ": unsupported .npy layout");
  const std::size_t sp = h.find("'shape': (");
  if (sp == std::string::npos) throw std::invalid_argument(name + ": .npy header has no shape");
  std::size_t count = 1, dims = 0;
  {
    std::string sh = h.substr(sp + 10, h.find(')', sp) - sp - 10);
    std::stringstream ss(sh);
    std::string tok;
    while (std::getline(ss, tok, ',')) {
      tok = trim(tok);
      if (tok.empty()) continue;
      ++dims;
      const std::size_t d = std::stoull(tok);
      if (dims > 1 && d != 1) throw std::invalid_argument(name + ": .npy must be 1-D or shape (n, 1)");
      count *= d;
    }
  }
  std::vector<char> raw(count * width);
  if (!in.read(raw.data(), static_cast<std::streamsize>(raw.size())))
    throw std::invalid_argument(name + ": .npy data shorter than its shape says");
  std::vector<float> v(count);
  for (std::size_t i = 0; i < count; ++i) {
    double d;
    if (width == 4) {
      float f;
      std::memcpy(&f, &raw[i * 4], 4);
      d = f;
    } else {
      std::memcpy(&d, &raw[i * 8], 8);
    }
    if (!std::isfinite(d) || !std::isfinite(static_cast<float>(d)))
      throw std::invalid_argument(name + ": element " + std::to_string(i) + " is NaN/Inf or beyond float range");
    v[i] = static_cast<float>(d);
  }
  if (v.empty()) throw std::invalid_argument(name + ": no samples");
  return v;
}

int run_lloyd_max_cli(const std::vector<std::string>& args, std::istream& stdin_, std::ostream& out,
                      std::ostream& err) {
  int bits = -1;
  bool uniform = false;
  uint64_t seed = 1;
  std::string file;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      out << kHelp;
      return 0;
    } else if (a == "--bits" || a == "--seed") {
      if (i + 1 >= args.size()) {
        err << "cimvp lloyd-max: " << a << " needs a value\n" << kHelp;
        return 2;
      }
      const std::string v = args[++i];
      char* end = nullptr;
      const long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0') {
        err << "cimvp lloyd-max: " << a << " '" << v << "' is not an integer\n";
        return 2;
      }
      if (a == "--bits") {
        if (n < 1 || n > LM_MAX_BITS) {
          err << "cimvp lloyd-max: --bits " << v << " out of range; use 1..8\n";
          return 2;
        }
        bits = static_cast<int>(n);
      } else {
        seed = static_cast<uint64_t>(n);
      }
    } else if (a == "--uniform") {
      uniform = true;
    } else if (a == "--json") {
    } else if (a.size() > 1 && a[0] == '-') {
      err << "cimvp lloyd-max: unknown option '" << a << "'\n" << kHelp;
      return 2;
    } else {
      if (!file.empty()) {
        err << "cimvp lloyd-max: more than one FILE ('" << file << "', '" << a << "')\n";
        return 2;
      }
      file = a;
    }
  }
  if (bits < 0) {
    err << "cimvp lloyd-max: --bits B is required (1..8)\n" << kHelp;
    return 2;
  }
  if (file.empty()) {
    err << "cimvp lloyd-max: FILE is required (use - for standard input)\n" << kHelp;
    return 2;
  }
  std::vector<float> x;
  try {
    if (file == "-") {
      x = load_samples_text(stdin_, "<stdin>");
    } else {
      std::ifstream f(file, std::ios::binary);
      if (!f) {
        err << "cimvp lloyd-max: cannot open '" << file << "'\n";
        return 2;
      }
      x = ends_with(file, ".npy") ? load_samples_npy(f, file) : load_samples_text(f, file);
    }
  } catch (const std::exception& e) {
    err << "cimvp lloyd-max: " << e.what() << "\n";
    return 2;
  }
  const unsigned L = 1u << bits;
  std::vector<uint64_t> work((lm_work_bytes(x.size(), bits) + 7) / 8);
  std::vector<float> t(L - 1), lv(L);
  lm_options opt;
  lm_default_options(&opt);
  opt.seed = seed;
  lm_result r;
  const int rc = lm_design(x.data(), nullptr, x.size(), static_cast<unsigned>(bits), &opt, work.data(),
                           work.size() * 8, t.data(), lv.data(), &r);
  if (rc != LM_OK) {
    err << "cimvp lloyd-max: design failed (code " << rc << ", sample " << r.bad_index << ")\n";
    return 2;
  }
  const char* start = r.start_used == LM_START_UNIFORM    ? "uniform"
                      : r.start_used == LM_START_QUANTILE ? "quantile"
                      : r.start_used == LM_START_KMEANSPP ? "kmeans++"
                                                          : "exact";
  out << "{\n  \"bits\": " << bits << ",\n  \"n\": " << x.size() << ",\n  \"distinct\": " << r.distinct
      << ",\n  \"thresholds\": [";
  for (unsigned k = 0; k + 1 < L; ++k) out << (k ? ", " : "") << num(t[k]);
  out << "],\n  \"levels\": [";
  for (unsigned k = 0; k < L; ++k) out << (k ? ", " : "") << num(lv[k]);
  out << "],\n  \"mse\": " << num(r.mse) << ",\n  \"iterations\": " << r.iterations << ",\n  \"start\": \"" << start
      << "\"";
  if (uniform) out << ",\n  \"uniform_mse\": " << num(lm_uniform_mse(x.data(), nullptr, x.size(), bits));
  out << "\n}\n";
  return 0;
}

}  // namespace cimvp::adc
