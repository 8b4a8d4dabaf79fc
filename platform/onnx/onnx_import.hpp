// ONNX import (ONNX library protobuf classes -> cimvp::nn::Graph), shape inference and the
// operator geometry shared by shape inference, the reference evaluator and the compiler.
#pragma once

#include "platform/onnx/graph.hpp"

#include <map>
#include <string>
#include <vector>

namespace cimvp::nn {

// Supported default-domain opsets (inclusive).
constexpr int64_t kMinOpset = 6;
constexpr int64_t kMaxOpset = 17;

// Reads and validates a model: supported operators and attributes, opset, every input
// produced or initialised, no cycles; nodes come back topologically sorted, Constant nodes
// become initialisers. Throws ModelError naming the file, node, operator and attribute.
Graph load_onnx(const std::string& path);
// Same from serialized ModelProto bytes; `source` names it in messages.
Graph load_onnx_bytes(const std::string& bytes, const std::string& source);

// Output shapes of every value for concrete input shapes (batch may be any size). Missing
// entries in `input_shapes` use the declared shape (error if it has dynamic dims). Throws
// ModelError naming file, node and tensor on mismatches.
std::map<std::string, Shape> infer_shapes(const Graph& g,
                                          const std::map<std::string, Shape>& input_shapes = {});
// Output shapes of one node from its input shapes ("" inputs -> empty Shape, ignored).
std::vector<Shape> node_output_shapes(const Graph& g, const Node& n, const std::vector<Shape>& in);

// Sliding-window geometry of Conv/MaxPool/AveragePool after auto_pad/ceil_mode resolution.
struct WindowGeometry {
  std::vector<int64_t> in, kernel, stride, dilation, pad_begin, pad_end, out;  // per spatial dim
};
// x: input shape [N, C, spatial...]; kernel: spatial kernel extents.
WindowGeometry window_geometry(const Graph& g, const Node& n, const Shape& x,
                               const std::vector<int64_t>& kernel);

// numpy-style multidirectional broadcast of two shapes; throws ModelError naming `where`.
Shape broadcast_shapes(const Shape& a, const Shape& b, const std::string& where);

}  // namespace cimvp::nn
