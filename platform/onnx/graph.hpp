// Small graph IR for imported ONNX models: what the compiler and the reference evaluator need,
// nothing of protobuf. Tensors are float32 (integer initialisers such as Reshape shapes are
// converted exactly; values above 2^24 would lose precision and are rejected on import).
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace cimvp::nn {

using Shape = std::vector<int64_t>;  // -1 marks a dynamic dimension (only in declared shapes)

int64_t numel(const Shape& s);
std::string shape_str(const Shape& s);  // "[1,1,28,28]"

// Bad model or tensor file (user input): the CLI maps it to exit code 2.
struct ModelError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct Tensor {
  Shape shape;
  std::vector<float> data;  // C order

  Tensor() = default;
  explicit Tensor(Shape s, float fill = 0.0f);
  Tensor(Shape s, std::vector<float> d);  // throws std::invalid_argument if sizes differ
  int64_t size() const { return static_cast<int64_t>(data.size()); }
};

struct Attribute {
  enum class Kind { Int, Float, String, Ints, Floats, Tensor };
  Kind kind = Kind::Int;
  int64_t i = 0;
  float f = 0.0f;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  nn::Tensor t;
};

struct Node {
  std::string name;     // never empty: unnamed nodes get "<op>_<index>" on import
  std::string op_type;  // ONNX operator, default domain
  std::vector<std::string> inputs;   // "" = optional input left out
  std::vector<std::string> outputs;  // "" = optional output not requested
  std::map<std::string, Attribute> attrs;

  bool has(const std::string& a) const { return attrs.count(a) != 0; }
  int64_t get_int(const std::string& a, int64_t def) const;
  float get_float(const std::string& a, float def) const;
  std::string get_string(const std::string& a, const std::string& def) const;
  std::vector<int64_t> get_ints(const std::string& a, const std::vector<int64_t>& def) const;
  std::string label() const;  // "node 'conv1' (Conv)" for error messages
};

struct ValueInfo {
  std::string name;
  Shape shape;  // empty when the model declares no shape; -1 for dynamic dims
  bool has_shape = false;
};

struct Graph {
  std::string source;    // file name (or caller's label) used in every error message
  int64_t opset = 0;     // default-domain opset the model imports
  std::string producer;  // e.g. "pytorch 1.13.0"
  std::vector<Node> nodes;                     // topologically sorted
  std::map<std::string, Tensor> initializers;  // weights and Constant outputs
  std::vector<ValueInfo> inputs;               // real inputs only (not initialisers)
  std::vector<ValueInfo> outputs;

  const Node* producer_of(const std::string& value) const;  // nullptr for inputs/initialisers
  const Tensor* initializer(const std::string& name) const;  // nullptr if not constant
};

}  // namespace cimvp::nn
