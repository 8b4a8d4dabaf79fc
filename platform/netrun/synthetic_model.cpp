#include "platform/netrun/synthetic_model.hpp"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "models/progctl/rng.hpp"

namespace cimvp::netrun {

VggSpec vgg8_cifar10() {
  using K = VggLayer::Kind;
  VggSpec s;
  s.name = "vgg8_cifar10_synthetic";
  s.in_c = 3;
  s.in_h = s.in_w = 32;
  s.layers = {{K::Conv, 128, false}, {K::Conv, 128, true}, {K::Conv, 256, false}, {K::Conv, 256, true},
              {K::Conv, 512, false}, {K::Conv, 512, true}, {K::Fc, 1024, false},  {K::Fc, 10, false}};
  return s;
}

VggSpec generated_spec(const std::string& name) {
  if (name == "vgg8-cifar10") return vgg8_cifar10();
  throw std::invalid_argument("no generated model named '" + name + "' (known: vgg8-cifar10)");
}

namespace {

struct Shapes {
  int c, h, w;
};

void check_spec(const VggSpec& s) {
  if (s.in_c < 1 || s.in_h < 1 || s.in_w < 1) throw std::invalid_argument("VggSpec: input shape must be positive");
  if (s.layers.empty() || s.layers.back().kind != VggLayer::Kind::Fc)
    throw std::invalid_argument("VggSpec: the chain must end with a fully connected layer (the logits)");
  bool fc = false;
  int h = s.in_h, w = s.in_w;
  for (const auto& l : s.layers) {
    if (l.out < 1) throw std::invalid_argument("VggSpec: every layer needs out >= 1");
    if (l.kind == VggLayer::Kind::Fc) {
      fc = true;
      if (l.pool) throw std::invalid_argument("VggSpec: fully connected layers do not pool");
    } else {
      if (fc) throw std::invalid_argument("VggSpec: convolutions must come before the fully connected layers");
      if (l.pool) {
        if (h < 2 || w < 2) throw std::invalid_argument("VggSpec: pooling below 2x2");
        h /= 2;
        w /= 2;
      }
    }
  }
}

void add_int_attr(onnx::NodeProto* n, const char* name, std::initializer_list<int64_t> v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
}

void add_int_attr(onnx::NodeProto* n, const char* name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

onnx::NodeProto* node(onnx::GraphProto* g, const std::string& op, const std::string& name,
                      std::initializer_list<std::string> in, const std::string& out) {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& i : in) n->add_input(i);
  n->add_output(out);
  return n;
}

// He-normal initialiser [dims...] with std sqrt(2 / fan_in); its own generator per layer.
void add_weight(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims, int64_t fan_in,
                uint64_t seed) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  int64_t n = 1;
  for (auto d : dims) {
    t->add_dims(d);
    n *= d;
  }
  progctl::Xoshiro256ss rng(seed);
  const double sd = std::sqrt(2.0 / static_cast<double>(fan_in));
  std::string raw(static_cast<std::size_t>(n) * 4, '\0');
  for (int64_t i = 0; i < n; ++i) {
    const float v = static_cast<float>(sd * rng.normal());
    std::memcpy(&raw[static_cast<std::size_t>(i) * 4], &v, 4);  // raw_data is little-endian float32
  }
  t->set_raw_data(std::move(raw));
}

void add_zeros(onnx::GraphProto* g, const std::string& name, int64_t n) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(n);
  t->set_raw_data(std::string(static_cast<std::size_t>(n) * 4, '\0'));
}

void value_info(onnx::ValueInfoProto* v, const std::string& name, std::initializer_list<int64_t> dims) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  auto* sh = tt->mutable_shape();
  bool first = true;
  for (auto d : dims) {
    auto* dim = sh->add_dim();
    if (first)
      dim->set_dim_param("N");  // batch: dynamic
    else
      dim->set_dim_value(d);
    first = false;
  }
}

}  // namespace

uint64_t vgg_weight_count(const VggSpec& s) {
  check_spec(s);
  uint64_t n = 0;
  int c = s.in_c, h = s.in_h, w = s.in_w;
  int64_t flat = -1;
  for (const auto& l : s.layers) {
    if (l.kind == VggLayer::Kind::Conv) {
      n += uint64_t(c) * 9 * l.out;
      c = l.out;
      if (l.pool) h /= 2, w /= 2;
    } else {
      const int64_t k = flat < 0 ? int64_t(c) * h * w : flat;
      n += uint64_t(k) * l.out;
      flat = l.out;
    }
  }
  return n;
}

std::string make_vgg_onnx(const VggSpec& s, uint64_t seed) {
  check_spec(s);
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.set_producer_name("cimvp generated model");
  m.set_producer_version("1");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name(s.name);
  value_info(g->add_input(), "input", {1, s.in_c, s.in_h, s.in_w});

  std::string x = "input";
  int c = s.in_c, h = s.in_h, w = s.in_w;
  int64_t flat = -1;  // features of the running FC value, -1 before the Flatten
  int conv_i = 0, fc_i = 0;
  for (std::size_t li = 0; li < s.layers.size(); ++li) {
    const auto& l = s.layers[li];
    uint64_t st = seed ^ (0x5647473800000000ull + li);  // "VGG8" tag + layer index
    const uint64_t lseed = progctl::splitmix64(st);
    const bool last = li + 1 == s.layers.size();
    std::string name;
    if (l.kind == VggLayer::Kind::Conv) {
      name = "conv" + std::to_string(++conv_i);
      add_weight(g, name + ".weight", {l.out, c, 3, 3}, int64_t(c) * 9, lseed);
      add_zeros(g, name + ".bias", l.out);
      auto* n = node(g, "Conv", name, {x, name + ".weight", name + ".bias"}, name);
      add_int_attr(n, "kernel_shape", {3, 3});
      add_int_attr(n, "pads", {1, 1, 1, 1});
      add_int_attr(n, "strides", {1, 1});
      c = l.out;
    } else {
      if (flat < 0) {
        node(g, "Flatten", "flatten", {x}, "flat");
        add_int_attr(g->mutable_node(g->node_size() - 1), "axis", 1);
        x = "flat";
        flat = int64_t(c) * h * w;
      }
      name = "fc" + std::to_string(++fc_i);
      add_weight(g, name + ".weight", {l.out, flat}, flat, lseed);
      add_zeros(g, name + ".bias", l.out);
      add_int_attr(node(g, "Gemm", name, {x, name + ".weight", name + ".bias"}, last ? "logits" : name), "transB", 1);
      flat = l.out;
    }
    x = last ? "logits" : name;
    if (!last) {
      node(g, "Relu", name + "_relu", {x}, name + ".relu");
      x = name + ".relu";
    }
    if (l.pool) {
      auto* n = node(g, "MaxPool", name + "_pool", {x}, name + ".pool");
      add_int_attr(n, "kernel_shape", {2, 2});
      add_int_attr(n, "strides", {2, 2});
      x = name + ".pool";
      h /= 2;
      w /= 2;
    }
  }
  value_info(g->add_output(), "logits", {1, s.layers.back().out});
  std::string out;
  if (!m.SerializeToString(&out)) throw std::runtime_error("generated model: protobuf serialisation failed");
  return out;
}

}  // namespace cimvp::netrun
