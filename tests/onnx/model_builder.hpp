// Builds small ONNX models with the ONNX protobuf classes for tests.
#pragma once

#include "platform/onnx/onnx_import.hpp"

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

namespace cimvp::nn::test {

class ModelBuilder {
 public:
  explicit ModelBuilder(int64_t opset) {
    m_.set_ir_version(opset >= 15 ? 8 : 7);
    m_.set_producer_name("cimvp-test");
    auto* os = m_.add_opset_import();
    os->set_domain("");
    os->set_version(opset);
    g_ = m_.mutable_graph();
    g_->set_name("test");
  }
  // dims < 0 become a symbolic dimension "N".
  ModelBuilder& input(const std::string& name, const std::vector<int64_t>& dims) {
    add_vi(g_->add_input(), name, dims);
    return *this;
  }
  ModelBuilder& output(const std::string& name, const std::vector<int64_t>* dims = nullptr) {
    auto* vi = g_->add_output();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    if (dims) set_dims(tt, *dims);
    return *this;
  }
  ModelBuilder& init(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& v) {
    auto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    for (float x : v) t->add_float_data(x);
    return *this;
  }
  ModelBuilder& init_i64(const std::string& name, const std::vector<int64_t>& v) {
    auto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(v.size()));
    for (auto x : v) t->add_int64_data(x);
    return *this;
  }
  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& in,
                        const std::vector<std::string>& out, const std::string& name = "") {
    auto* n = g_->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? op + "_node" : name);
    for (const auto& i : in) n->add_input(i);
    for (const auto& o : out) n->add_output(o);
    return n;
  }
  static void attr(onnx::NodeProto* n, const std::string& k, int64_t v) {
    auto* a = n->add_attribute(); a->set_name(k); a->set_type(onnx::AttributeProto::INT); a->set_i(v);
  }
  static void attr_f(onnx::NodeProto* n, const std::string& k, float v) {
    auto* a = n->add_attribute(); a->set_name(k); a->set_type(onnx::AttributeProto::FLOAT); a->set_f(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& k, const std::string& v) {
    auto* a = n->add_attribute(); a->set_name(k); a->set_type(onnx::AttributeProto::STRING); a->set_s(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& k, const std::vector<int64_t>& v) {
    auto* a = n->add_attribute(); a->set_name(k); a->set_type(onnx::AttributeProto::INTS);
    for (auto x : v) a->add_ints(x);
  }
  onnx::ModelProto& proto() { return m_; }
  std::string bytes() const { return m_.SerializeAsString(); }
  Graph load(const std::string& src = "test.onnx") const { return load_onnx_bytes(bytes(), src); }

 private:
  static void set_dims(onnx::TypeProto_Tensor* tt, const std::vector<int64_t>& dims) {
    auto* sh = tt->mutable_shape();
    for (auto d : dims) {
      auto* dim = sh->add_dim();
      if (d < 0) dim->set_dim_param("N"); else dim->set_dim_value(d);
    }
  }
  static void add_vi(onnx::ValueInfoProto* vi, const std::string& name, const std::vector<int64_t>& dims) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    set_dims(tt, dims);
  }
  onnx::ModelProto m_;
  onnx::GraphProto* g_;
};

}  // namespace cimvp::nn::test
