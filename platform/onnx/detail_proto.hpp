// Internal: TensorProto <-> Tensor conversion shared by the importer and tensor_io.
#pragma once

#include "platform/onnx/graph.hpp"

#include <onnx/onnx_pb.h>

#include <string>

namespace cimvp::nn::detail {

// Converts any numeric TensorProto to float. `where` prefixes error messages
// (e.g. "model.onnx: initializer 'w'"). If `require_float`, other dtypes are errors.
Tensor tensor_from_proto(const onnx::TensorProto& tp, const std::string& where, bool require_float);
onnx::TensorProto tensor_to_proto(const Tensor& t, const std::string& name);
const char* dtype_name(int32_t data_type);

}  // namespace cimvp::nn::detail
