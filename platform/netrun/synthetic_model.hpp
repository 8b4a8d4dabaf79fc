// Synthetic VGG-style networks written as real ONNX models (the ONNX library's protobuf
// classes), for energy/area studies where trained weights do not matter (docs/network.md,
// "Generated models"). A scenario names one as `network.model: generated:<name>`; the run
// writes the model it generated to <out>/model.onnx and then imports and compiles it like any
// other file, so the generated model goes through the normal ONNX import and compile path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cimvp::netrun {

// One layer of a VGG-style chain: a 3x3 convolution (stride 1, padding 1) followed by ReLU
// and optionally a 2x2/2 max-pool, or a fully connected layer (Flatten before the first)
// followed by ReLU except for the last layer.
struct VggLayer {
  enum class Kind { Conv, Fc };
  Kind kind = Kind::Conv;
  int out = 0;        // output channels (conv) or features (fc)
  bool pool = false;  // conv only
};

struct VggSpec {
  std::string name;  // graph name
  int in_c = 3, in_h = 32, in_w = 32;
  std::vector<VggLayer> layers;
};

// NeuroSim's NetWork_VGG8 (DNN_NeuroSim V1.x, NetWork_VGG8.csv) for CIFAR-10: conv 128, 128,
// pool, 256, 256, pool, 512, 512, pool, FC 1024, FC 10 on a 3x32x32 input (12.97 M weights).
VggSpec vgg8_cifar10();

// The spec of a `generated:<name>` model; throws std::invalid_argument for unknown names
// (config::generated_model_names() lists the valid ones).
VggSpec generated_spec(const std::string& name);

// The serialized ONNX ModelProto (opset 13): input "input" [N, C, H, W] (N dynamic), output
// "logits" [N, classes]; Conv/Relu/MaxPool/Flatten/Gemm(transB=1) nodes. Weights He-normal,
// std sqrt(2 / fan_in) (He et al., ICCV 2015), biases zero; layer l's weights come from its own
// generator seeded by (seed, l), so the model depends only on spec and seed.
std::string make_vgg_onnx(const VggSpec& spec, uint64_t seed);

// Weights of the model (fan-in x fan-out products summed), for reports.
uint64_t vgg_weight_count(const VggSpec& spec);

}  // namespace cimvp::netrun
