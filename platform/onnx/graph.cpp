#include "platform/onnx/graph.hpp"

#include <sstream>

namespace cimvp::nn {

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) os << ',';
    if (s[i] < 0) os << '?'; else os << s[i];
  }
  os << ']';
  return os.str();
}

Tensor::Tensor(Shape s, float fill) : shape(std::move(s)), data(static_cast<size_t>(numel(shape)), fill) {}

Tensor::Tensor(Shape s, std::vector<float> d) : shape(std::move(s)), data(std::move(d)) {
  if (static_cast<int64_t>(data.size()) != numel(shape))
    throw std::invalid_argument("Tensor: shape " + shape_str(shape) + " needs " +
                                std::to_string(numel(shape)) + " values, got " +
                                std::to_string(data.size()));
}

int64_t Node::get_int(const std::string& a, int64_t def) const {
  auto it = attrs.find(a);
  return it == attrs.end() ? def : it->second.i;
}
float Node::get_float(const std::string& a, float def) const {
  auto it = attrs.find(a);
  return it == attrs.end() ? def : it->second.f;
}
std::string Node::get_string(const std::string& a, const std::string& def) const {
  auto it = attrs.find(a);
  return it == attrs.end() ? def : it->second.s;
}
std::vector<int64_t> Node::get_ints(const std::string& a, const std::vector<int64_t>& def) const {
  auto it = attrs.find(a);
  return it == attrs.end() ? def : it->second.ints;
}
std::string Node::label() const { return "node '" + name + "' (" + op_type + ")"; }

const Node* Graph::producer_of(const std::string& value) const {
  for (const Node& n : nodes)
    for (const std::string& o : n.outputs)
      if (o == value) return &n;
  return nullptr;
}

const Tensor* Graph::initializer(const std::string& name) const {
  auto it = initializers.find(name);
  return it == initializers.end() ? nullptr : &it->second;
}

}  // namespace cimvp::nn
