// Tensor files for `cimvp infer`: ONNX TensorProto (.pb) and NumPy .npy (float32, C order).
#pragma once

#include "platform/onnx/graph.hpp"

#include <string>

namespace cimvp::nn {

// TensorProto; dtype must be FLOAT (float_data or raw_data). Throws ModelError naming the file.
Tensor read_tensor_pb(const std::string& path);
void write_tensor_pb(const std::string& path, const Tensor& t, const std::string& name = "");

// .npy versions 1.0-3.0, dtype '<f4', fortran_order False. Throws ModelError naming the file.
Tensor read_npy(const std::string& path);
void write_npy(const std::string& path, const Tensor& t);

// Dispatch on the extension (.pb or .npy); anything else is a ModelError.
Tensor read_tensor(const std::string& path);
void write_tensor(const std::string& path, const Tensor& t);

}  // namespace cimvp::nn
