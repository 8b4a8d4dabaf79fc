// Network compiler: ONNX graph (cimvp::nn) -> crossbar tiles + layer descriptors -> network
// image (firmware/include/cimvp/netimage.h, docs/network-image.md). Pure C++ (no SystemC).
//
// What it does (docs/network.md): folds BatchNormalization and constant Add into the
// preceding Conv/Gemm/MatMul, lowers Conv to im2col products (K = C*kh*kw in ONNX weight
// order), fuses ReLU / pooling / Flatten / Softmax into the layer before them, quantises every
// weight matrix with the crossbar core (weight slicing and sign scheme of chip.crossbar),
// splits it into row blocks x column blocks (one array per tile, weight-stationary), chooses
// per-layer input scales from calibration inputs, sizes SRAM buffers for a batch of images.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <string>
#include <vector>

#include "models/crossbar/crossbar.hpp"
#include "platform/onnx/graph.hpp"

extern "C" {
#include "cimvp/netimage.h"
}

namespace cimvp::compiler {

struct CompileOptions {
  crossbar::MappingParams mapping;  // chip.crossbar
  crossbar::DeviceParams device;    // chip.crossbar.device (conductance window, levels)
  int tiles_available = -1;         // tiles on the chip; -1 = auto (the chip is sized to fit)
  // Calibration inputs [n, C, H, W] (training split, never test) for the activation scales.
  nn::Tensor calibration;
  // Where they came from, for messages (a file name, "Fashion-MNIST training split", ...).
  std::string calibration_source = "calibration inputs";
  // Input scale = this percentile of each layer's input activations / max code. Assumption:
  // 99.99 keeps rare outliers from stretching the step of every other activation.
  double percentile = 99.99;
  // Ideal (float) data path for `cimvp infer --ideal`: scales from the maximum (no clipping),
  // `ideal_digits` input digits of input_bits each (24-bit inputs with 8-bit digits).
  bool ideal = false;
  int ideal_digits = 3;
  // Ideal mode maps each weight as two weight_bits digits in separate columns (w = s*(q_hi +
  // 2^-16 q_lo), q_lo the code of the rounding remainder); the DPU adds the low columns x 2^-16
  // (docs/network.md). 1: one digit, as the non-ideal chip.
  int ideal_weight_digits = 2;
  // The job's inputs are float32 tensors (`cimvp infer`), not layer 0's uint8 codes: SRAM
  // for layer 0's digit planes is reserved so the DPU can make its codes.
  bool float_inputs = false;
  uint64_t sram_bytes = 4u << 20;  // SRAM available for the batch buffers
  uint32_t max_batch = 64;          // images per batch at most
};

// One layer as compiled (also what the image encodes).
struct Layer {
  std::string name;         // the Conv/Gemm/MatMul node
  std::string input_value;  // ONNX value feeding the product (after Flatten)
  std::string output_value; // ONNX value the layer's fused output equals
  cimnet_layer_t desc{};
  Eigen::MatrixXf w;        // K x N float weights after folding
  Eigen::VectorXf bias;     // N
  crossbar::QuantizedWeights q;
  std::vector<float> dpu_scale;  // desc.n (matrix columns): w_scale[j] * x_scale
};

struct TileBlock {
  cimnet_tile_t rec{};
  crossbar::MappedBlock block;
};

struct Network {
  cimnet_header_t header{};
  std::vector<Layer> layers;
  std::vector<TileBlock> tiles;
  std::string input_name, output_name;
  double ops_per_inference = 0;  // 2 x multiply-accumulates of every product (for TOPS)
  std::vector<std::string> notes;  // human-readable summary lines
};

// Compiles a graph. Throws nn::ModelError naming the node for unsupported operators or
// attributes, std::invalid_argument for bad options, std::runtime_error when the network
// does not fit the tiles or SRAM (saying how many tiles / bytes it needs).
Network compile(const nn::Graph& g, const CompileOptions& opt);

// Tiles a graph needs with this mapping (no calibration needed); weight_digits as
// CompileOptions (2 for the ideal data path).
int tiles_needed(const nn::Graph& g, const crossbar::MappingParams& mapping, int weight_digits = 1);

// The binary image (docs/network-image.md).
std::vector<uint8_t> serialize(const Network& net);

// A parsed, validated image (views into the bytes it owns).
class Image {
 public:
  explicit Image(std::vector<uint8_t> bytes, const std::string& source = "network image");
  const cimnet_header_t& header() const { return hdr_; }
  const std::vector<cimnet_layer_t>& layers() const { return layers_; }
  const std::vector<cimnet_tile_t>& tiles() const { return tiles_; }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  // The tile's block as the crossbar core wants it (codes, targets, layout).
  crossbar::MappedBlock block(std::size_t tile) const;
  const float* dpu_scale(std::size_t layer) const;
  const float* dpu_bias(std::size_t layer) const;

 private:
  std::vector<uint8_t> bytes_;
  cimnet_header_t hdr_{};
  std::vector<cimnet_layer_t> layers_;
  std::vector<cimnet_tile_t> tiles_;
};

// Fashion-MNIST calibration batch: the first n images of the TRAINING split as [n,1,28,28],
// pixel / 255 (the example network's normalisation).
nn::Tensor fashion_mnist_calibration(std::size_t n, const std::string& dir);

// Percentile p (0..100) of v by nearest rank (v is reordered).
float percentile(std::vector<float>& v, double p);

}  // namespace cimvp::compiler
