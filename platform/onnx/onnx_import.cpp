// ONNX import and shape inference. Semantics follow the ONNX operator specification
// (https://onnx.ai/onnx/operators/) for default-domain opsets 6..17.
#include "platform/onnx/onnx_import.hpp"
#include "platform/onnx/detail_proto.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace cimvp::nn {

namespace detail {

const char* dtype_name(int32_t t) {
  switch (t) {
    case onnx::TensorProto::FLOAT: return "float32";
    case onnx::TensorProto::UINT8: return "uint8";
    case onnx::TensorProto::INT8: return "int8";
    case onnx::TensorProto::UINT16: return "uint16";
    case onnx::TensorProto::INT16: return "int16";
    case onnx::TensorProto::INT32: return "int32";
    case onnx::TensorProto::INT64: return "int64";
    case onnx::TensorProto::STRING: return "string";
    case onnx::TensorProto::BOOL: return "bool";
    case onnx::TensorProto::FLOAT16: return "float16";
    case onnx::TensorProto::DOUBLE: return "float64";
    case onnx::TensorProto::UINT32: return "uint32";
    case onnx::TensorProto::UINT64: return "uint64";
    case onnx::TensorProto::BFLOAT16: return "bfloat16";
    default: return "unknown/undefined";
  }
}

namespace {

float half_to_float(uint16_t h) {
  const int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  float v;
  if (exp == 0) v = std::ldexp(static_cast<float>(man), -24);
  else if (exp == 31) v = man ? NAN : INFINITY;
  else v = std::ldexp(static_cast<float>(man | 0x400), exp - 25);
  return sign ? -v : v;
}

float bf16_to_float(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Raw little-endian element -> float (x86 hosts are little-endian).
template <typename T>
float raw_at(const std::string& raw, int64_t i) {
  T v;
  std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
  return static_cast<float>(v);
}

}  // namespace

Tensor tensor_from_proto(const onnx::TensorProto& tp, const std::string& where, bool require_float) {
  if (tp.data_location() == onnx::TensorProto::EXTERNAL)
    throw ModelError(where + ": external tensor data is not supported; re-export with the weights "
                             "embedded (onnx.save(..., save_as_external_data=False))");
  if (tp.has_segment()) throw ModelError(where + ": segmented tensors are not supported");
  const int32_t dt = tp.data_type();
  if (require_float && dt != onnx::TensorProto::FLOAT)
    throw ModelError(where + ": dtype " + dtype_name(dt) + " where float32 is required; convert "
                             "the tensor to float32");
  Shape shape;
  for (int64_t d : tp.dims()) {
    if (d < 0) throw ModelError(where + ": negative dimension " + std::to_string(d));
    shape.push_back(d);
  }
  const int64_t n = numel(shape);
  std::vector<float> out(static_cast<size_t>(n));
  const std::string& raw = tp.raw_data();
  const bool use_raw = tp.has_raw_data();
  auto need = [&](int64_t have, const char* field) {
    if (have != n)
      throw ModelError(where + ": shape " + shape_str(shape) + " needs " + std::to_string(n) +
                       " elements but " + field + " holds " + std::to_string(have) +
                       " (truncated or inconsistent tensor)");
  };
  auto need_raw = [&](size_t elem) { need(static_cast<int64_t>(raw.size() / elem), "raw_data");
    if (raw.size() % elem) need(-1, "raw_data"); };
  switch (dt) {
    case onnx::TensorProto::FLOAT:
      if (use_raw) { need_raw(4); for (int64_t i = 0; i < n; ++i) out[i] = raw_at<float>(raw, i); }
      else { need(tp.float_data_size(), "float_data"); for (int64_t i = 0; i < n; ++i) out[i] = tp.float_data(i); }
      break;
    case onnx::TensorProto::DOUBLE:
      if (use_raw) { need_raw(8); for (int64_t i = 0; i < n; ++i) out[i] = raw_at<double>(raw, i); }
      else { need(tp.double_data_size(), "double_data"); for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(tp.double_data(i)); }
      break;
    case onnx::TensorProto::INT64: {
      std::vector<int64_t> v(static_cast<size_t>(n));
      if (use_raw) { need_raw(8); std::memcpy(v.data(), raw.data(), static_cast<size_t>(n) * 8); }
      else { need(tp.int64_data_size(), "int64_data"); for (int64_t i = 0; i < n; ++i) v[i] = tp.int64_data(i); }
      for (int64_t i = 0; i < n; ++i) {
        // float32 holds integers exactly only up to 2^24.
        if (v[i] > (1 << 24) || v[i] < -(1 << 24))
          throw ModelError(where + ": int64 value " + std::to_string(v[i]) +
                           " cannot be represented exactly as float32");
        out[i] = static_cast<float>(v[i]);
      }
      break;
    }
    case onnx::TensorProto::INT32: case onnx::TensorProto::INT16: case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT16: case onnx::TensorProto::UINT8: case onnx::TensorProto::BOOL:
      if (use_raw) {
        switch (dt) {
          case onnx::TensorProto::INT32: need_raw(4); for (int64_t i = 0; i < n; ++i) out[i] = raw_at<int32_t>(raw, i); break;
          case onnx::TensorProto::INT16: need_raw(2); for (int64_t i = 0; i < n; ++i) out[i] = raw_at<int16_t>(raw, i); break;
          case onnx::TensorProto::UINT16: need_raw(2); for (int64_t i = 0; i < n; ++i) out[i] = raw_at<uint16_t>(raw, i); break;
          case onnx::TensorProto::INT8: need_raw(1); for (int64_t i = 0; i < n; ++i) out[i] = raw_at<int8_t>(raw, i); break;
          default: need_raw(1); for (int64_t i = 0; i < n; ++i) out[i] = raw_at<uint8_t>(raw, i); break;
        }
      } else {
        need(tp.int32_data_size(), "int32_data");
        for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(tp.int32_data(i));
      }
      break;
    case onnx::TensorProto::UINT32: case onnx::TensorProto::UINT64:
      if (use_raw) {
        if (dt == onnx::TensorProto::UINT32) { need_raw(4); for (int64_t i = 0; i < n; ++i) out[i] = raw_at<uint32_t>(raw, i); }
        else { need_raw(8); for (int64_t i = 0; i < n; ++i) out[i] = raw_at<uint64_t>(raw, i); }
      } else {
        need(tp.uint64_data_size(), "uint64_data");
        for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(tp.uint64_data(i));
      }
      break;
    case onnx::TensorProto::FLOAT16: case onnx::TensorProto::BFLOAT16: {
      auto conv = dt == onnx::TensorProto::FLOAT16 ? half_to_float : bf16_to_float;
      if (use_raw) { need_raw(2); for (int64_t i = 0; i < n; ++i) { uint16_t h; std::memcpy(&h, raw.data() + 2 * i, 2); out[i] = conv(h); } }
      else { need(tp.int32_data_size(), "int32_data"); for (int64_t i = 0; i < n; ++i) out[i] = conv(static_cast<uint16_t>(tp.int32_data(i))); }
      break;
    }
    default:
      throw ModelError(where + ": unsupported tensor dtype " + dtype_name(dt));
  }
  return Tensor(std::move(shape), std::move(out));
}

onnx::TensorProto tensor_to_proto(const Tensor& t, const std::string& name) {
  onnx::TensorProto tp;
  tp.set_name(name);
  tp.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : t.shape) tp.add_dims(d);
  tp.set_raw_data(std::string(reinterpret_cast<const char*>(t.data.data()), t.data.size() * sizeof(float)));
  return tp;
}

}  // namespace detail

namespace {

using AK = Attribute::Kind;

// Attributes each operator accepts, by the opset range in which the spec defines them.
struct AttrSpec { const char* name; AK kind; int64_t since; int64_t until; };  // until inclusive

const std::map<std::string, std::vector<AttrSpec>>& op_table() {
  static const std::map<std::string, std::vector<AttrSpec>> t = {
    {"Conv", {{"auto_pad", AK::String, 1, 99}, {"dilations", AK::Ints, 1, 99}, {"group", AK::Int, 1, 99},
              {"kernel_shape", AK::Ints, 1, 99}, {"pads", AK::Ints, 1, 99}, {"strides", AK::Ints, 1, 99}}},
    {"Gemm", {{"alpha", AK::Float, 1, 99}, {"beta", AK::Float, 1, 99}, {"transA", AK::Int, 1, 99},
              {"transB", AK::Int, 1, 99}, {"broadcast", AK::Int, 1, 6}}},
    {"MatMul", {}},
    {"Relu", {}},
    {"MaxPool", {{"auto_pad", AK::String, 1, 99}, {"kernel_shape", AK::Ints, 1, 99}, {"pads", AK::Ints, 1, 99},
                 {"strides", AK::Ints, 1, 99}, {"storage_order", AK::Int, 8, 99}, {"ceil_mode", AK::Int, 10, 99},
                 {"dilations", AK::Ints, 10, 99}}},
    {"AveragePool", {{"auto_pad", AK::String, 1, 99}, {"kernel_shape", AK::Ints, 1, 99}, {"pads", AK::Ints, 1, 99},
                     {"strides", AK::Ints, 1, 99}, {"count_include_pad", AK::Int, 7, 99},
                     {"ceil_mode", AK::Int, 10, 99}, {"dilations", AK::Ints, 19, 99}}},
    {"GlobalAveragePool", {}},
    {"Flatten", {{"axis", AK::Int, 1, 99}}},
    {"Reshape", {{"allowzero", AK::Int, 14, 99}}},
    {"Add", {{"broadcast", AK::Int, 1, 6}, {"axis", AK::Int, 1, 6}}},
    {"BatchNormalization", {{"epsilon", AK::Float, 1, 99}, {"momentum", AK::Float, 1, 99},
                            {"is_test", AK::Int, 1, 6}, {"spatial", AK::Int, 1, 8},
                            {"training_mode", AK::Int, 14, 99}}},
    {"Softmax", {{"axis", AK::Int, 1, 99}}},
    {"Identity", {}},
    {"Dropout", {{"ratio", AK::Float, 1, 11}, {"is_test", AK::Int, 1, 6}, {"seed", AK::Int, 12, 99}}},
    {"Constant", {{"value", AK::Tensor, 1, 99}, {"value_float", AK::Float, 12, 99}, {"value_floats", AK::Floats, 12, 99},
                  {"value_int", AK::Int, 12, 99}, {"value_ints", AK::Ints, 12, 99}}},
  };
  return t;
}

// Input arity [min, max] per operator (opset 6..17).
std::pair<int, int> arity(const std::string& op, int64_t opset) {
  if (op == "Conv") return {2, 3};
  if (op == "Gemm") return {opset >= 11 ? 2 : 3, 3};
  if (op == "MatMul" || op == "Add") return {2, 2};
  if (op == "Reshape") return {2, 2};
  if (op == "BatchNormalization") return {5, 5};
  if (op == "Dropout") return {1, opset >= 12 ? 3 : 1};
  if (op == "Constant") return {0, 0};
  return {1, 1};
}

const char* kind_name(AK k) {
  switch (k) {
    case AK::Int: return "int"; case AK::Float: return "float"; case AK::String: return "string";
    case AK::Ints: return "ints"; case AK::Floats: return "floats"; case AK::Tensor: return "tensor";
  }
  return "?";
}

ValueInfo value_info(const onnx::ValueInfoProto& vi, const std::string& src, const char* what) {
  ValueInfo v;
  v.name = vi.name();
  if (vi.has_type()) {
    if (!vi.type().has_tensor_type())
      throw ModelError(src + ": graph " + what + " '" + vi.name() + "' is not a tensor");
    const auto& tt = vi.type().tensor_type();
    if (tt.elem_type() != onnx::TensorProto::FLOAT && tt.elem_type() != onnx::TensorProto::UNDEFINED)
      throw ModelError(src + ": graph " + what + " '" + vi.name() + "' has dtype " +
                       detail::dtype_name(tt.elem_type()) + "; only float32 is supported");
    if (tt.has_shape()) {
      v.has_shape = true;
      for (const auto& d : tt.shape().dim()) v.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
    }
  }
  return v;
}

}  // namespace

// Why protobuf refused the bytes, with a byte offset: walks the wire format of ModelProto
// (and every nested message, through the descriptors) the way the parser does and reports
// the first field that runs past its enclosing message or has an invalid tag. Empty when
// the walk finds nothing (the caller then reports the file size only).
static std::string wire_error(const google::protobuf::Descriptor* d, const uint8_t* p, int len, uint64_t base,
                       const std::string& path, int depth) {
  using google::protobuf::internal::WireFormatLite;
  namespace io = google::protobuf::io;
  if (depth > 64) return "";
  io::CodedInputStream in(p, len);
  in.SetRecursionLimit(1000);
  for (;;) {
    const uint64_t at = base + static_cast<uint64_t>(in.CurrentPosition());
    if (in.CurrentPosition() >= len) return "";
    const uint32_t tag = in.ReadTag();
    const uint32_t field = tag >> 3, wt = tag & 7;
    if (tag == 0 || field == 0 || wt > 5 || wt == 3 || wt == 4) {
      std::ostringstream s;
      s << "invalid protobuf tag at byte offset " << at << " inside " << path << " (not ONNX data, or corrupt)";
      return s.str();
    }
    const google::protobuf::FieldDescriptor* fd = d ? d->FindFieldByNumber(static_cast<int>(field)) : nullptr;
    const std::string fname = path + "." + (fd ? fd->name() : "field " + std::to_string(field));
    if (wt == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t n = 0;
      if (!in.ReadVarint32(&n)) return "length of " + fname + " at byte offset " + std::to_string(at) + " is cut off (file truncated)";
      const int here = in.CurrentPosition();
      if (static_cast<int64_t>(n) > len - here) {
        std::ostringstream s;
        s << fname << " at byte offset " << at << " declares " << n << " bytes but only " << (len - here)
          << " remain" << (depth == 0 ? " in the file (file truncated)" : " in its enclosing message (corrupt)");
        return s.str();
      }
      if (fd && fd->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE) {
        std::string e = wire_error(fd->message_type(), p + here, static_cast<int>(n), base + here, fname, depth + 1);
        if (!e.empty()) return e;
      }
      if (!in.Skip(static_cast<int>(n))) return fname + " at byte offset " + std::to_string(at) + " is cut off (file truncated)";
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return fname + " at byte offset " + std::to_string(at) + " is cut off (file truncated)";
    }
  }
}

Graph load_onnx(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ModelError(path + ": cannot open ONNX model file (check the path)");
  std::ostringstream ss;
  ss << f.rdbuf();
  return load_onnx_bytes(ss.str(), path);
}

Graph load_onnx_bytes(const std::string& bytes, const std::string& src) {
  onnx::ModelProto m;
  if (bytes.empty()) throw ModelError(src + ": empty file, not an ONNX model");
  if (!m.ParseFromString(bytes)) {
    const std::string why = wire_error(onnx::ModelProto::descriptor(), reinterpret_cast<const uint8_t*>(bytes.data()),
                                       static_cast<int>(std::min<std::size_t>(bytes.size(), INT32_MAX)), 0, "ModelProto", 0);
    throw ModelError(src + ": not a valid ONNX model (" + std::to_string(bytes.size()) + " bytes; protobuf parse failed: " +
                     (why.empty() ? std::string("file truncated or not ONNX") : why) + ")");
  }
  if (m.ir_version() <= 0 || !m.has_graph())
    throw ModelError(src + ": not a valid ONNX model (no ir_version or no graph; file truncated or not ONNX)");
  Graph g;
  g.source = src;
  g.producer = m.producer_name() + (m.producer_version().empty() ? "" : " " + m.producer_version());
  for (const auto& os : m.opset_import())
    if (os.domain().empty() || os.domain() == "ai.onnx") g.opset = os.version();
  if (g.opset == 0 && m.opset_import_size() == 0) g.opset = 1;  // IR v1/2 without opset_import
  if (g.opset < kMinOpset || g.opset > kMaxOpset)
    throw ModelError(src + ": default-domain opset " + std::to_string(g.opset) + " is not supported (" +
                     std::to_string(kMinOpset) + ".." + std::to_string(kMaxOpset) +
                     "); re-export the model, e.g. torch.onnx.export(..., opset_version=13)");
  const onnx::GraphProto& gp = m.graph();
  if (gp.sparse_initializer_size() > 0)
    throw ModelError(src + ": sparse initializer '" + gp.sparse_initializer(0).values().name() +
                     "' is not supported");

  for (const auto& tp : gp.initializer()) {
    if (tp.name().empty()) throw ModelError(src + ": initializer without a name");
    g.initializers[tp.name()] = detail::tensor_from_proto(tp, src + ": initializer '" + tp.name() + "'", false);
  }
  for (const auto& vi : gp.input())
    if (!g.initializers.count(vi.name())) g.inputs.push_back(value_info(vi, src, "input"));
  for (const auto& vi : gp.output()) g.outputs.push_back(value_info(vi, src, "output"));

  // Nodes: validate operator and attributes, turn Constants into initialisers.
  std::vector<Node> nodes;
  std::set<std::string> produced;
  auto claim = [&](const std::string& out, const std::string& who) {
    if (out.empty()) return;
    if (produced.count(out) || g.initializers.count(out) ||
        std::any_of(g.inputs.begin(), g.inputs.end(), [&](const ValueInfo& v) { return v.name == out; }))
      throw ModelError(src + ": " + who + ": output '" + out + "' is already defined by another node, "
                       "initializer or input");
    produced.insert(out);
  };
  for (int idx = 0; idx < gp.node_size(); ++idx) {
    const onnx::NodeProto& np = gp.node(idx);
    Node n;
    n.op_type = np.op_type();
    n.name = np.name().empty() ? np.op_type() + "_" + std::to_string(idx) : np.name();
    const std::string where = src + ": " + n.label();
    if (!np.domain().empty() && np.domain() != "ai.onnx")
      throw ModelError(where + ": unsupported operator domain '" + np.domain() + "' (only the default ONNX domain)");
    auto op_it = op_table().find(n.op_type);
    if (op_it == op_table().end())
      throw ModelError(where + ": unsupported operator '" + n.op_type + "' (supported: Conv, Gemm, MatMul, "
                       "Relu, MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape, Add, "
                       "BatchNormalization, Softmax, Identity, Dropout, Constant)");
    for (const auto& ap : np.attribute()) {
      const AttrSpec* spec = nullptr;
      for (const auto& s : op_it->second)
        if (ap.name() == s.name && g.opset >= s.since && g.opset <= s.until) spec = &s;
      if (!spec)
        throw ModelError(where + ": unsupported attribute '" + ap.name() + "' for operator " + n.op_type +
                         " at opset " + std::to_string(g.opset));
      Attribute a;
      a.kind = spec->kind;
      bool ok = true;
      switch (spec->kind) {
        case AK::Int: ok = ap.type() == onnx::AttributeProto::INT || (ap.type() == 0 && ap.has_i()); a.i = ap.i(); break;
        case AK::Float: ok = ap.type() == onnx::AttributeProto::FLOAT || (ap.type() == 0 && ap.has_f()); a.f = ap.f(); break;
        case AK::String: ok = ap.type() == onnx::AttributeProto::STRING || (ap.type() == 0 && ap.has_s()); a.s = ap.s(); break;
        case AK::Ints: ok = ap.type() == onnx::AttributeProto::INTS || (ap.type() == 0 && ap.ints_size() > 0);
          a.ints.assign(ap.ints().begin(), ap.ints().end()); break;
        case AK::Floats: ok = ap.type() == onnx::AttributeProto::FLOATS || (ap.type() == 0 && ap.floats_size() > 0);
          a.floats.assign(ap.floats().begin(), ap.floats().end()); break;
        case AK::Tensor: ok = ap.type() == onnx::AttributeProto::TENSOR || (ap.type() == 0 && ap.has_t());
          if (ok) a.t = detail::tensor_from_proto(ap.t(), where + ": attribute '" + ap.name() + "'", false);
          break;
      }
      if (!ok)
        throw ModelError(where + ": attribute '" + ap.name() + "' must be of type " + kind_name(spec->kind));
      n.attrs[ap.name()] = std::move(a);
    }
    n.inputs.assign(np.input().begin(), np.input().end());
    n.outputs.assign(np.output().begin(), np.output().end());
    while (!n.inputs.empty() && n.inputs.back().empty()) n.inputs.pop_back();
    auto [amin, amax] = arity(n.op_type, g.opset);
    if (static_cast<int>(n.inputs.size()) < amin || static_cast<int>(n.inputs.size()) > amax)
      throw ModelError(where + ": expects " + std::to_string(amin) + (amin == amax ? "" : ".." + std::to_string(amax)) +
                       " inputs, has " + std::to_string(n.inputs.size()));
    for (int i = 0; i < amin; ++i)
      if (n.inputs[i].empty()) throw ModelError(where + ": required input " + std::to_string(i) + " is empty");
    if (n.outputs.empty() || n.outputs[0].empty()) throw ModelError(where + ": has no output");

    // Attribute values the platform does not model.
    auto bad_value = [&](const std::string& attr, const std::string& why) {
      throw ModelError(where + ": unsupported attribute '" + attr + "' value: " + why);
    };
    if (n.has("auto_pad")) {
      const std::string ap = n.get_string("auto_pad", "NOTSET");
      if (ap != "NOTSET" && ap != "SAME_UPPER" && ap != "SAME_LOWER" && ap != "VALID")
        bad_value("auto_pad", "'" + ap + "' (expected NOTSET, SAME_UPPER, SAME_LOWER or VALID)");
    }
    if (n.op_type == "Conv" && n.get_int("group", 1) != 1)
      bad_value("group", std::to_string(n.get_int("group", 1)) + " (grouped/depthwise convolution; only group=1)");
    for (const char* b : {"ceil_mode", "count_include_pad", "storage_order", "allowzero"})
      if (n.has(b) && n.get_int(b, 0) != 0 && n.get_int(b, 0) != 1) bad_value(b, "must be 0 or 1");
    if (n.op_type == "BatchNormalization") {
      if (n.get_int("training_mode", 0) != 0) bad_value("training_mode", "1 (training); export the model in eval mode");
      for (size_t o = 1; o < n.outputs.size(); ++o)
        if (!n.outputs[o].empty())
          bad_value(g.opset < 7 ? "is_test" : "training_mode",
                    "training outputs (mean/var) requested; export the model in eval mode");
    }
    if (n.op_type == "Dropout" && n.inputs.size() >= 3) {
      const Tensor* tm = g.initializer(n.inputs[2]);
      if (!tm || tm->data.empty() || tm->data[0] != 0.0f)
        bad_value("training_mode", "input is not a constant false; export the model in eval mode");
    }
    if (n.op_type == "Constant") {
      Tensor t;
      if (n.attrs.size() != 1) throw ModelError(where + ": needs exactly one of value, value_float(s), value_int(s)");
      const auto& [an, a] = *n.attrs.begin();
      if (an == "value") t = a.t;
      else if (an == "value_float") t = Tensor({}, a.f);
      else if (an == "value_int") t = Tensor({}, static_cast<float>(a.i));
      else if (an == "value_floats") t = Tensor({static_cast<int64_t>(a.floats.size())}, a.floats);
      else { std::vector<float> v(a.ints.begin(), a.ints.end());
             t = Tensor({static_cast<int64_t>(v.size())}, std::move(v)); }
      claim(n.outputs[0], n.label());
      g.initializers[n.outputs[0]] = std::move(t);
      produced.erase(n.outputs[0]);
      continue;
    }
    for (const std::string& o : n.outputs) claim(o, n.label());
    nodes.push_back(std::move(n));
  }

  // Every input must be an initializer, a graph input or some node's output.
  std::set<std::string> available;
  for (const auto& [k, v] : g.initializers) available.insert(k);
  for (const auto& v : g.inputs) available.insert(v.name);
  for (const Node& n : nodes)
    for (const std::string& in : n.inputs)
      if (!in.empty() && !available.count(in) && !produced.count(in))
        throw ModelError(src + ": " + n.label() + ": input '" + in +
                         "' is missing (no initializer, graph input or node produces it)");

  // Kahn's topological sort, keeping file order among ready nodes; leftovers form a cycle.
  std::vector<bool> done(nodes.size(), false);
  for (size_t placed = 0; placed < nodes.size();) {
    bool progress = false;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (done[i]) continue;
      bool ready = std::all_of(nodes[i].inputs.begin(), nodes[i].inputs.end(),
                               [&](const std::string& in) { return in.empty() || available.count(in); });
      if (!ready) continue;
      done[i] = true;
      ++placed;
      progress = true;
      for (const std::string& o : nodes[i].outputs) if (!o.empty()) available.insert(o);
      g.nodes.push_back(nodes[i]);
    }
    if (!progress) {
      std::string cyc;
      for (size_t i = 0; i < nodes.size(); ++i)
        if (!done[i]) cyc += (cyc.empty() ? "" : ", ") + nodes[i].label();
      throw ModelError(src + ": graph has a cycle through " + cyc);
    }
  }
  for (const ValueInfo& o : g.outputs)
    if (!available.count(o.name))
      throw ModelError(src + ": graph output '" + o.name + "' is not produced by any node");
  if (g.outputs.empty()) throw ModelError(src + ": graph declares no outputs");
  return g;
}

// ---------------------------------------------------------------------------------------------
// Shape inference

Shape broadcast_shapes(const Shape& a, const Shape& b, const std::string& where) {
  const size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      throw ModelError(where + ": shapes " + shape_str(a) + " and " + shape_str(b) + " are not broadcastable");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

WindowGeometry window_geometry(const Graph& g, const Node& n, const Shape& x, const std::vector<int64_t>& kernel) {
  const std::string where = g.source + ": " + n.label();
  const size_t ns = x.size() - 2;
  if (kernel.size() != ns)
    throw ModelError(where + ": kernel_shape has " + std::to_string(kernel.size()) + " dims but input " +
                     shape_str(x) + " has " + std::to_string(ns) + " spatial dims");
  WindowGeometry w;
  w.kernel = kernel;
  w.stride = n.get_ints("strides", std::vector<int64_t>(ns, 1));
  w.dilation = n.get_ints("dilations", std::vector<int64_t>(ns, 1));
  std::vector<int64_t> pads = n.get_ints("pads", std::vector<int64_t>(2 * ns, 0));
  if (w.stride.size() != ns) throw ModelError(where + ": attribute 'strides' needs " + std::to_string(ns) + " values");
  if (w.dilation.size() != ns) throw ModelError(where + ": attribute 'dilations' needs " + std::to_string(ns) + " values");
  if (pads.size() != 2 * ns) throw ModelError(where + ": attribute 'pads' needs " + std::to_string(2 * ns) + " values");
  const std::string ap = n.get_string("auto_pad", "NOTSET");
  const bool ceil_mode = n.get_int("ceil_mode", 0) != 0;
  if (ap != "NOTSET" && std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p != 0; }))
    throw ModelError(where + ": attribute 'pads' cannot be combined with auto_pad=" + ap);
  for (size_t i = 0; i < ns; ++i) {
    const int64_t in = x[i + 2], k = kernel[i], s = w.stride[i], d = w.dilation[i];
    if (k < 1 || s < 1 || d < 1) throw ModelError(where + ": kernel, strides and dilations must be >= 1");
    if (pads[i] < 0 || pads[i + ns] < 0) throw ModelError(where + ": attribute 'pads' must be >= 0");
    const int64_t keff = (k - 1) * d + 1;
    int64_t pb = pads[i], pe = pads[i + ns], out;
    if (ap == "VALID") {
      pb = pe = 0;
      if (in < keff) throw ModelError(where + ": input " + shape_str(x) + " is smaller than the kernel");
      out = (in - keff) / s + 1;
    } else if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
      out = (in + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (out - 1) * s + keff - in);
      // SAME_UPPER puts the odd extra pad at the end, SAME_LOWER at the beginning.
      pb = ap == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe = total - pb;
    } else {
      const int64_t span = in + pb + pe - keff;
      if (span < 0) throw ModelError(where + ": padded input " + shape_str(x) + " is smaller than the kernel");
      out = ceil_mode ? (span + s - 1) / s + 1 : span / s + 1;
      // ceil_mode: a window that would start in the end padding is dropped (PyTorch and
      // onnxruntime behaviour; the ONNX reference implementation agrees since onnx 1.16).
      if (ceil_mode && (out - 1) * s >= in + pb) --out;
    }
    w.in.push_back(in);
    w.pad_begin.push_back(pb);
    w.pad_end.push_back(pe);
    w.out.push_back(out);
  }
  return w;
}

namespace {

int64_t norm_axis(int64_t axis, int64_t rank, bool allow_rank, const std::string& where) {
  const int64_t hi = allow_rank ? rank : rank - 1;
  if (axis < -rank || axis > hi)
    throw ModelError(where + ": attribute 'axis' = " + std::to_string(axis) + " out of range [" +
                     std::to_string(-rank) + ", " + std::to_string(hi) + "] for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

}  // namespace

std::vector<Shape> node_output_shapes(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const std::string where = g.source + ": " + n.label();
  const std::string& op = n.op_type;
  auto in_name = [&](size_t i) { return "'" + n.inputs[i] + "' " + shape_str(in[i]); };
  auto need_rank = [&](size_t i, size_t lo, size_t hi) {
    if (in[i].size() < lo || in[i].size() > hi)
      throw ModelError(where + ": input " + in_name(i) + " must have rank " + std::to_string(lo) +
                       (lo == hi ? "" : ".." + std::to_string(hi)));
  };
  auto present = [&](size_t i) { return i < n.inputs.size() && !n.inputs[i].empty(); };
  std::vector<Shape> out;

  if (op == "Relu" || op == "Identity") {
    out = {in[0]};
  } else if (op == "Dropout") {
    out = {in[0], in[0]};
  } else if (op == "Conv") {
    need_rank(0, 3, 5);
    const Shape& x = in[0];
    const Shape& w = in[1];
    if (w.size() != x.size())
      throw ModelError(where + ": weight " + in_name(1) + " must have the rank of input " + in_name(0));
    if (w[1] != x[1])
      throw ModelError(where + ": weight " + in_name(1) + " expects " + std::to_string(w[1]) +
                       " input channels but input " + in_name(0) + " has " + std::to_string(x[1]));
    std::vector<int64_t> k(w.begin() + 2, w.end());
    if (n.has("kernel_shape") && n.get_ints("kernel_shape", {}) != k)
      throw ModelError(where + ": attribute 'kernel_shape' does not match weight " + in_name(1));
    if (present(2) && in[2] != Shape{w[0]})
      throw ModelError(where + ": bias " + in_name(2) + " must have shape [" + std::to_string(w[0]) + "]");
    WindowGeometry geo = window_geometry(g, n, x, k);
    Shape o{x[0], w[0]};
    o.insert(o.end(), geo.out.begin(), geo.out.end());
    out = {o};
  } else if (op == "MaxPool" || op == "AveragePool") {
    need_rank(0, 3, 5);
    if (!n.has("kernel_shape")) throw ModelError(where + ": required attribute 'kernel_shape' is missing");
    WindowGeometry geo = window_geometry(g, n, in[0], n.get_ints("kernel_shape", {}));
    Shape o{in[0][0], in[0][1]};
    o.insert(o.end(), geo.out.begin(), geo.out.end());
    out = {o, o};
  } else if (op == "GlobalAveragePool") {
    need_rank(0, 3, 5);
    Shape o = in[0];
    for (size_t i = 2; i < o.size(); ++i) o[i] = 1;
    out = {o};
  } else if (op == "Gemm") {
    need_rank(0, 2, 2);
    need_rank(1, 2, 2);
    const bool ta = n.get_int("transA", 0) != 0, tb = n.get_int("transB", 0) != 0;
    const int64_t M = ta ? in[0][1] : in[0][0], K = ta ? in[0][0] : in[0][1];
    const int64_t Kb = tb ? in[1][1] : in[1][0], N = tb ? in[1][0] : in[1][1];
    if (K != Kb)
      throw ModelError(where + ": inner dimensions differ: A " + in_name(0) + (ta ? " (transposed)" : "") +
                       " vs B " + in_name(1) + (tb ? " (transposed)" : ""));
    if (present(2)) {
      const bool legacy_exact = g.opset < 7 && n.get_int("broadcast", 0) == 0;
      if (legacy_exact ? in[2] != Shape{M, N}
                       : broadcast_shapes(in[2], {M, N}, where + ": C " + in_name(2)) != Shape{M, N})
        throw ModelError(where + ": C " + in_name(2) + " is not unidirectionally broadcastable to [" +
                         std::to_string(M) + "," + std::to_string(N) + "]");
    }
    out = {{M, N}};
  } else if (op == "MatMul") {
    Shape a = in[0], b = in[1];
    if (a.empty() || b.empty()) throw ModelError(where + ": MatMul inputs must have rank >= 1");
    const bool a1 = a.size() == 1, b1 = b.size() == 1;
    if (a1) a.insert(a.begin(), 1);
    if (b1) b.push_back(1);
    if (a.back() != b[b.size() - 2])
      throw ModelError(where + ": inner dimensions differ: " + in_name(0) + " x " + in_name(1));
    Shape ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
    Shape o = broadcast_shapes(ba, bb, where + ": batch dims of " + in_name(0) + " and " + in_name(1));
    if (!a1) o.push_back(a[a.size() - 2]);
    if (!b1) o.push_back(b.back());
    out = {o};
  } else if (op == "Add") {
    if (g.opset < 7) {
      if (n.get_int("broadcast", 0) == 0) {
        if (in[0] != in[1])
          throw ModelError(where + ": shapes " + in_name(0) + " and " + in_name(1) +
                           " differ and attribute 'broadcast' is 0 (opset < 7)");
      } else {
        const int64_t ra = static_cast<int64_t>(in[0].size()), rb = static_cast<int64_t>(in[1].size());
        int64_t axis = n.has("axis") ? n.get_int("axis", 0) : ra - rb;
        if (axis < 0) axis += ra;
        if (axis < 0 || axis + rb > ra) throw ModelError(where + ": attribute 'axis' out of range");
        for (int64_t i = 0; i < rb; ++i)
          if (in[1][i] != in[0][axis + i] && in[1][i] != 1)
            throw ModelError(where + ": " + in_name(1) + " does not broadcast to " + in_name(0) + " at axis " +
                             std::to_string(axis));
      }
      out = {in[0]};
    } else {
      out = {broadcast_shapes(in[0], in[1], where)};
    }
  } else if (op == "BatchNormalization") {
    need_rank(0, 2, 5);
    Shape p{in[0][1]};
    if (g.opset < 9 && n.get_int("spatial", 1) == 0) p.assign(in[0].begin() + 1, in[0].end());
    for (size_t i = 1; i < 5; ++i)
      if (in[i] != p)
        throw ModelError(where + ": parameter " + in_name(i) + " must have shape " + shape_str(p));
    out = {in[0]};
  } else if (op == "Softmax") {
    const int64_t r = static_cast<int64_t>(in[0].size());
    norm_axis(n.get_int("axis", g.opset >= 13 ? -1 : 1), r, false, where);
    out = {in[0]};
  } else if (op == "Flatten") {
    const int64_t r = static_cast<int64_t>(in[0].size());
    const int64_t axis = norm_axis(n.get_int("axis", 1), r, true, where);
    int64_t a = 1, b = 1;
    for (int64_t i = 0; i < r; ++i) (i < axis ? a : b) *= in[0][i];
    out = {{a, b}};
  } else if (op == "Reshape") {
    const Tensor* st = g.initializer(n.inputs[1]);
    if (!st)
      throw ModelError(where + ": shape input '" + n.inputs[1] + "' must be a constant (initializer or Constant)");
    if (st->shape.size() != 1) throw ModelError(where + ": shape input '" + n.inputs[1] + "' must be 1-D");
    const bool allowzero = n.get_int("allowzero", 0) != 0;
    Shape o;
    int64_t infer = -1, known = 1;
    for (size_t i = 0; i < st->data.size(); ++i) {
      int64_t d = static_cast<int64_t>(st->data[i]);
      if (d == 0 && !allowzero) {
        if (i >= in[0].size())
          throw ModelError(where + ": shape value 0 at index " + std::to_string(i) + " has no input dim to copy");
        d = in[0][i];
      }
      if (d == -1) {
        if (infer >= 0) throw ModelError(where + ": shape input '" + n.inputs[1] + "' has more than one -1");
        infer = static_cast<int64_t>(i);
      } else if (d < 0) {
        throw ModelError(where + ": shape input '" + n.inputs[1] + "' has invalid value " + std::to_string(d));
      } else {
        known *= d;
      }
      o.push_back(d);
    }
    const int64_t total = numel(in[0]);
    if (infer >= 0) {
      if (known == 0 || total % known)
        throw ModelError(where + ": cannot reshape " + in_name(0) + " to " + shape_str(o));
      o[infer] = total / known;
    }
    if (numel(o) != total)
      throw ModelError(where + ": cannot reshape " + in_name(0) + " (" + std::to_string(total) +
                       " elements) to " + shape_str(o));
    out = {o};
  } else {
    throw ModelError(where + ": no shape inference for operator " + op);
  }
  return out;
}

std::map<std::string, Shape> infer_shapes(const Graph& g, const std::map<std::string, Shape>& input_shapes) {
  std::map<std::string, Shape> s;
  for (const auto& [k, t] : g.initializers) s[k] = t.shape;
  for (const ValueInfo& v : g.inputs) {
    auto it = input_shapes.find(v.name);
    if (it == input_shapes.end()) {
      if (!v.has_shape || std::any_of(v.shape.begin(), v.shape.end(), [](int64_t d) { return d < 0; }))
        throw ModelError(g.source + ": input '" + v.name + "' has no concrete shape; pass one (shape " +
                         shape_str(v.shape) + ")");
      s[v.name] = v.shape;
      continue;
    }
    const Shape& given = it->second;
    bool ok = !v.has_shape || given.size() == v.shape.size();
    for (size_t i = 0; ok && v.has_shape && i < given.size(); ++i)
      ok = v.shape[i] < 0 || v.shape[i] == given[i];
    if (!ok)
      throw ModelError(g.source + ": input '" + v.name + "' given shape " + shape_str(given) +
                       " but the model declares " + shape_str(v.shape));
    s[v.name] = given;
  }
  for (const Node& n : g.nodes) {
    std::vector<Shape> in;
    for (const std::string& i : n.inputs) in.push_back(i.empty() ? Shape{} : s.at(i));
    std::vector<Shape> out = node_output_shapes(g, n, in);
    for (size_t o = 0; o < n.outputs.size() && o < out.size(); ++o)
      if (!n.outputs[o].empty()) s[n.outputs[o]] = out[o];
  }
  // Declared static output dims must agree with what the graph computes.
  for (const ValueInfo& v : g.outputs) {
    if (!v.has_shape) continue;
    const Shape& got = s.at(v.name);
    bool ok = got.size() == v.shape.size();
    for (size_t i = 0; ok && i < got.size(); ++i) ok = v.shape[i] < 0 || v.shape[i] == got[i];
    if (!ok)
      throw ModelError(g.source + ": graph output '" + v.name + "' is declared " + shape_str(v.shape) +
                       " but the graph computes " + shape_str(got));
  }
  return s;
}

}  // namespace cimvp::nn
