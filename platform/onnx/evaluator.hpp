// Reference (golden) evaluator: plain nested loops over float tensors, double accumulators,
// clarity over speed. Used by tests and by `cimvp infer --ideal` as the comparison.
#pragma once

#include "platform/onnx/graph.hpp"

#include <map>
#include <string>

namespace cimvp::nn {

// Runs the graph. `inputs` must hold every graph input; shapes are checked against the
// declared ones (dynamic dims accept any size). Returns the graph outputs, or with
// keep_all every value computed (initialisers excluded).
std::map<std::string, Tensor> evaluate(const Graph& g, const std::map<std::string, Tensor>& inputs,
                                       bool keep_all = false);
// Convenience for single-input, single-output graphs.
Tensor evaluate(const Graph& g, const Tensor& input);

// One node on explicit input tensors (nullptr for an omitted optional input).
std::vector<Tensor> evaluate_node(const Graph& g, const Node& n, const std::vector<const Tensor*>& in);

}  // namespace cimvp::nn
