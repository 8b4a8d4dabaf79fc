#include "platform/onnx/tensor_io.hpp"
#include "platform/onnx/detail_proto.hpp"

#include <cstring>
#include <fstream>
#include <sstream>

namespace cimvp::nn {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ModelError(path + ": cannot open tensor file (check the path)");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw std::runtime_error(path + ": cannot open for writing (check the directory exists)");
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error(path + ": write failed");
}

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

// Value of key `key` in the .npy header dict (a Python literal), as raw text.
std::string npy_field(const std::string& hdr, const std::string& key, const std::string& path) {
  const size_t k = hdr.find("'" + key + "'");
  if (k == std::string::npos) throw ModelError(path + ": .npy header lacks '" + key + "'");
  size_t p = hdr.find(':', k);
  if (p == std::string::npos) throw ModelError(path + ": malformed .npy header");
  ++p;
  while (p < hdr.size() && hdr[p] == ' ') ++p;
  size_t e = p;
  if (p < hdr.size() && hdr[p] == '(') e = hdr.find(')', p) + 1;
  else if (p < hdr.size() && (hdr[p] == '\'' || hdr[p] == '"')) e = hdr.find(hdr[p], p + 1) + 1;
  else while (e < hdr.size() && hdr[e] != ',' && hdr[e] != '}') ++e;
  if (e == 0 || e > hdr.size()) throw ModelError(path + ": malformed .npy header");
  return hdr.substr(p, e - p);
}

}  // namespace

Tensor read_tensor_pb(const std::string& path) {
  const std::string bytes = slurp(path);
  onnx::TensorProto tp;
  if (bytes.empty() || !tp.ParseFromString(bytes))
    throw ModelError(path + ": not an ONNX TensorProto file (truncated or wrong format)");
  return detail::tensor_from_proto(tp, path, true);
}

void write_tensor_pb(const std::string& path, const Tensor& t, const std::string& name) {
  spit(path, detail::tensor_to_proto(t, name).SerializeAsString());
}

Tensor read_npy(const std::string& path) {
  const std::string b = slurp(path);
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0)
    throw ModelError(path + ": not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(b[6]);
  size_t hlen, start;
  if (major == 1) {
    hlen = static_cast<unsigned char>(b[8]) | (static_cast<size_t>(static_cast<unsigned char>(b[9])) << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) throw ModelError(path + ": truncated .npy header");
    hlen = 0;
    for (int i = 3; i >= 0; --i) hlen = (hlen << 8) | static_cast<unsigned char>(b[8 + i]);
    start = 12;
  } else {
    throw ModelError(path + ": unsupported .npy version " + std::to_string(major));
  }
  if (b.size() < start + hlen) throw ModelError(path + ": truncated .npy header");
  const std::string hdr = b.substr(start, hlen);
  std::string descr = npy_field(hdr, "descr", path);
  if (descr.size() >= 2) descr = descr.substr(1, descr.size() - 2);
  if (descr != "<f4" && descr != "=f4")
    throw ModelError(path + ": dtype '" + descr + "' where float32 ('<f4') is required; save with "
                     "x.astype(numpy.float32)");
  if (npy_field(hdr, "fortran_order", path) != "False")
    throw ModelError(path + ": Fortran-order array; save a C-order array (numpy.ascontiguousarray)");
  const std::string sh = npy_field(hdr, "shape", path);
  Shape shape;
  std::string num;
  for (char c : sh) {
    if (c >= '0' && c <= '9') num += c;
    else if (!num.empty()) { shape.push_back(std::stoll(num)); num.clear(); }
  }
  const size_t need = static_cast<size_t>(numel(shape)) * 4;
  const size_t have = b.size() - start - hlen;
  if (have != need)
    throw ModelError(path + ": shape " + shape_str(shape) + " needs " + std::to_string(need) +
                     " data bytes, file holds " + std::to_string(have) + " (truncated or corrupt)");
  std::vector<float> d(static_cast<size_t>(numel(shape)));
  if (need) std::memcpy(d.data(), b.data() + start + hlen, need);
  return Tensor(std::move(shape), std::move(d));
}

void write_npy(const std::string& path, const Tensor& t) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < t.shape.size(); ++i) dict += std::to_string(t.shape[i]) + (t.shape.size() == 1 ? "," : (i + 1 < t.shape.size() ? ", " : ""));
  dict += "), }";
  // Version 1.0: header padded with spaces and a newline so data starts 64-byte aligned.
  size_t total = 10 + dict.size() + 1;
  dict += std::string((64 - total % 64) % 64, ' ') + "\n";
  std::string b = "\x93NUMPY";
  b += '\x01';
  b += '\x00';
  b += static_cast<char>(dict.size() & 0xff);
  b += static_cast<char>((dict.size() >> 8) & 0xff);
  b += dict;
  b.append(reinterpret_cast<const char*>(t.data.data()), t.data.size() * sizeof(float));
  spit(path, b);
}

Tensor read_tensor(const std::string& path) {
  if (ends_with(path, ".npy")) return read_npy(path);
  if (ends_with(path, ".pb")) return read_tensor_pb(path);
  throw ModelError(path + ": unknown tensor file type; use .pb (ONNX TensorProto) or .npy");
}

void write_tensor(const std::string& path, const Tensor& t) {
  if (ends_with(path, ".npy")) return write_npy(path, t);
  if (ends_with(path, ".pb")) return write_tensor_pb(path, t);
  throw ModelError(path + ": unknown tensor file type; use .pb (ONNX TensorProto) or .npy");
}

}  // namespace cimvp::nn
