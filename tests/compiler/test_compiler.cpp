// Compiler unit tests: folding and lowering against the reference evaluator, tile
// assignment, activation scales, the binary image round trip, errors naming the node.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include "platform/compiler/compiler.hpp"
#include "platform/dataset/idx.hpp"
#include "platform/onnx/evaluator.hpp"
#include "tests/onnx/model_builder.hpp"

using namespace cimvp;
using nn::test::ModelBuilder;

namespace {

std::vector<float> randv(std::size_t n, std::mt19937_64& rng, float lo = -1.f, float hi = 1.f) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// Independent im2col straight from the ONNX Conv definition: output (n, j, oy, ox) =
// sum_{c,ky,kx} x[n, c, oy*s - pad + ky*d, ...] * W[j, c, ky, kx].
Eigen::MatrixXf im2col(const nn::Tensor& x, int kh, int kw, int s, int pad, int d, int oh, int ow) {
  const int C = static_cast<int>(x.shape[1]), H = static_cast<int>(x.shape[2]), W = static_cast<int>(x.shape[3]);
  Eigen::MatrixXf m(oh * ow, C * kh * kw);
  for (int oy = 0; oy < oh; ++oy)
    for (int ox = 0; ox < ow; ++ox)
      for (int c = 0; c < C; ++c)
        for (int ky = 0; ky < kh; ++ky)
          for (int kx = 0; kx < kw; ++kx) {
            int iy = oy * s - pad + ky * d, ix = ox * s - pad + kx * d;
            float v = (iy < 0 || ix < 0 || iy >= H || ix >= W) ? 0.f : x.data[(c * H + iy) * W + ix];
            m(oy * ow + ox, (c * kh + ky) * kw + kx) = v;
          }
  return m;
}

compiler::CompileOptions opts(const nn::Tensor& cal) {
  compiler::CompileOptions o;
  o.calibration = cal;
  return o;
}

}  // namespace

TEST_CASE("BatchNormalization folds into the conv and im2col lowering equals the reference Conv", "[compiler]") {
  std::mt19937_64 rng(7);
  const int C = 3, N = 5, H = 9, W = 8;
  ModelBuilder b(13);
  b.input("x", {-1, C, H, W});
  b.init("w", {N, C, 3, 3}, randv(N * C * 9, rng));
  b.init("b", {N}, randv(N, rng));
  b.init("g", {N}, randv(N, rng, 0.5f, 2.f));
  b.init("beta", {N}, randv(N, rng));
  b.init("mean", {N}, randv(N, rng));
  b.init("var", {N}, randv(N, rng, 0.1f, 3.f));
  auto* conv = b.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
  ModelBuilder::attr(conv, "strides", std::vector<int64_t>{2, 2});
  ModelBuilder::attr(conv, "pads", std::vector<int64_t>{1, 1, 1, 1});
  ModelBuilder::attr(conv, "dilations", std::vector<int64_t>{2, 2});
  auto* bn = b.node("BatchNormalization", {"c", "g", "beta", "mean", "var"}, {"y"}, "bn");
  ModelBuilder::attr_f(bn, "epsilon", 1e-3f);
  b.output("y");
  auto g = b.load();

  nn::Tensor x({1, C, H, W}, randv(C * H * W, rng));
  auto net = compiler::compile(g, opts(x));
  REQUIRE(net.layers.size() == 1);
  const auto& L = net.layers[0];
  // Output size: (9 + 2 - 5) / 2 + 1 = 4, (8 + 2 - 5) / 2 + 1 = 3.
  REQUIRE(L.desc.mm_h == 4);
  REQUIRE(L.desc.mm_w == 3);
  REQUIRE(L.desc.k == C * 9);
  Eigen::MatrixXf cols = im2col(x, 3, 3, 2, 1, 2, 4, 3);
  Eigen::MatrixXf y = cols * L.w;
  y.rowwise() += L.bias.transpose();
  nn::Tensor ref = nn::evaluate(g, x);  // Conv then BN, unfolded
  REQUIRE(ref.shape == nn::Shape{1, N, 4, 3});
  for (int j = 0; j < N; ++j)
    for (int p = 0; p < 12; ++p) REQUIRE(y(p, j) == Approx(ref.data[j * 12 + p]).margin(1e-5));
}

TEST_CASE("tile assignment: row blocks x column blocks, one array per tile", "[compiler]") {
  std::mt19937_64 rng(3);
  const int K = 300, N = 40;
  ModelBuilder b(13);
  b.input("x", {-1, K});
  b.init("w", {N, K}, randv(N * K, rng));
  b.init("c", {N}, randv(N, rng));
  auto* gemm = b.node("Gemm", {"x", "w", "c"}, {"y"}, "fc");
  ModelBuilder::attr(gemm, "transB", int64_t(1));
  b.output("y");
  auto g = b.load();
  nn::Tensor x({4, K}, randv(4 * K, rng, 0.f, 1.f));
  auto o = opts(x);
  // 8-bit weights in 2-bit cells, differential: 4 slices x 2 columns = 8 physical columns
  // per weight, so 16 logical columns per 128-column array.
  REQUIRE(o.mapping.max_logical_columns() == 16);
  auto net = compiler::compile(g, o);
  REQUIRE(compiler::tiles_needed(g, o.mapping) == 9);  // ceil(300/128) x ceil(40/16)
  REQUIRE(net.tiles.size() == 9);
  REQUIRE(net.layers[0].desc.row_blocks == 3);
  REQUIRE(net.layers[0].desc.col_blocks == 3);
  const auto& last = net.tiles.back().rec;
  REQUIRE(last.rb == 2);
  REQUIRE(last.cb == 2);
  REQUIRE(last.k == 300 - 256);
  REQUIRE(last.n == 40 - 32);
  // The blocks hold exactly the quantised matrix.
  Eigen::MatrixXi whole = Eigen::MatrixXi::Zero(K, N);
  for (const auto& t : net.tiles)
    whole.block(t.rec.row0, t.rec.col0, t.rec.k, t.rec.n) = t.block.codes;
  REQUIRE(whole == net.layers[0].q.codes);
  // Codes x scales reproduce the float weights to half a step.
  const double step = net.layers[0].q.scales(0);
  REQUIRE((net.layers[0].q.codes.cast<float>() * static_cast<float>(step) - net.layers[0].w).cwiseAbs().maxCoeff() <=
          0.5 * step + 1e-6);

  o.tiles_available = 5;
  REQUIRE_THROWS_WITH(compiler::compile(g, o), Catch::Contains("needs 9 tiles") && Catch::Contains("tiles: auto"));
}

TEST_CASE("activation scales come from a percentile of the calibration activations", "[compiler]") {
  std::mt19937_64 rng(11);
  const int K = 20, H = 16, N = 6;
  ModelBuilder b(13);
  b.input("x", {-1, K});
  b.init("w1", {K, H}, randv(K * H, rng));
  b.init("w2", {H, N}, randv(H * N, rng));
  b.node("MatMul", {"x", "w1"}, {"h"}, "mm1");
  b.node("Relu", {"h"}, {"r"}, "relu1");
  b.node("MatMul", {"r", "w2"}, {"y"}, "mm2");
  b.output("y");
  auto g = b.load();
  nn::Tensor cal({200, K}, randv(200 * K, rng, 0.f, 3.f));
  auto o = opts(cal);
  o.percentile = 99.0;
  auto net = compiler::compile(g, o);
  // Independent nearest-rank percentile: sorted |x|, index ceil(p/100 * n) - 1.
  auto pct = [](std::vector<float> v, double p) {
    for (auto& e : v) e = std::fabs(e);
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(std::ceil(p / 100.0 * v.size())) - 1];
  };
  REQUIRE(net.layers[0].desc.x_scale == Approx(pct(cal.data, 99.0) / 255.0).epsilon(1e-6));
  auto all = nn::evaluate(g, {{"x", cal}}, true);
  REQUIRE(net.layers[1].desc.x_scale == Approx(pct(all.at("r").data, 99.0) / 255.0).epsilon(1e-6));
  REQUIRE((net.layers[0].desc.flags & CIMNET_F_SIGNED_INPUT) == 0);
  REQUIRE((net.layers[0].desc.flags & CIMNET_F_RELU) != 0);
  REQUIRE((net.layers[1].desc.flags & CIMNET_F_LAST) != 0);
  // DPU scale = w_scale[j] * x_scale.
  REQUIRE(net.layers[1].dpu_scale[2] == Approx(net.layers[1].q.scales(2) * net.layers[1].desc.x_scale));

  // Signed inputs are flagged (two passes).
  nn::Tensor cal2({50, K}, randv(50 * K, rng, -1.f, 1.f));
  auto net2 = compiler::compile(g, opts(cal2));
  REQUIRE((net2.layers[0].desc.flags & CIMNET_F_SIGNED_INPUT) != 0);
}

TEST_CASE("calibration images come from the training split", "[compiler][dataset]") {
  const std::string dir = dataset::kFashionMnistDir;
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz")) {
    WARN("Fashion-MNIST not installed (dataset-fashion-mnist); skipped");
    return;
  }
  auto cal = compiler::fashion_mnist_calibration(8, dir);
  REQUIRE(cal.shape == nn::Shape{8, 1, 28, 28});
  auto train = dataset::load_fashion_mnist(dataset::Split::Train, dir);
  auto test = dataset::load_fashion_mnist(dataset::Split::Test, dir);
  bool same_as_train = true, same_as_test = true;
  for (std::size_t i = 0; i < 8 * 784; ++i) {
    same_as_train &= cal.data[i] == train.pixels[i] / 255.0f;
    same_as_test &= cal.data[i] == test.pixels[i] / 255.0f;
  }
  REQUIRE(same_as_train);
  REQUIRE_FALSE(same_as_test);
}

TEST_CASE("network image round trip", "[compiler][image]") {
  std::mt19937_64 rng(5);
  ModelBuilder b(11);
  b.input("x", {-1, 1, 6, 6});
  b.init("w", {4, 1, 3, 3}, randv(36, rng));
  b.init("w2", {4 * 2 * 2, 3}, randv(48, rng));
  b.node("Conv", {"x", "w"}, {"c"}, "conv");
  b.node("Relu", {"c"}, {"r"}, "relu");
  auto* mp = b.node("MaxPool", {"r"}, {"p"}, "pool");
  ModelBuilder::attr(mp, "kernel_shape", std::vector<int64_t>{2, 2});
  ModelBuilder::attr(mp, "strides", std::vector<int64_t>{2, 2});
  b.node("Flatten", {"p"}, {"f"}, "flat");
  b.node("MatMul", {"f", "w2"}, {"y"}, "fc");
  b.output("y");
  auto g = b.load();
  nn::Tensor x({3, 1, 6, 6}, randv(108, rng, 0.f, 1.f));
  auto net = compiler::compile(g, opts(x));
  auto bytes = compiler::serialize(net);
  compiler::Image img(bytes);
  REQUIRE(img.header().n_layers == 2);
  REQUIRE(img.header().n_tiles == 2);
  REQUIRE(img.header().out_count == 3);
  REQUIRE(img.layers()[0].out_h == 2);
  REQUIRE((img.layers()[0].flags & CIMNET_F_POOL_MAX) != 0);
  for (std::size_t t = 0; t < 2; ++t) {
    auto blk = img.block(t);
    REQUIRE(blk.codes == net.tiles[t].block.codes);
    REQUIRE(blk.targets_us == net.tiles[t].block.targets_us);
  }
  REQUIRE(img.dpu_scale(1)[1] == net.layers[1].dpu_scale[1]);
  // Corruption is caught.
  auto bad = bytes;
  bad[4] = 99;
  REQUIRE_THROWS_WITH(compiler::Image(bad, "x.cimnet"), Catch::Contains("version"));
  bad = bytes;
  bad.resize(bytes.size() - 10);
  REQUIRE_THROWS_WITH(compiler::Image(bad, "x.cimnet"), Catch::Contains("truncated"));
}

TEST_CASE("image v3: requantisation scales and the SRAM plan for the DMA/DPU path", "[compiler][image]") {
  // conv (K = 2*3*3 = 18) -> relu -> flatten -> fc (K = 4*4*4 = 64) -> relu -> fc (K = 20), on
  // 16-row arrays: row blocks 2, 4, 2.
  std::mt19937_64 rng(9);
  ModelBuilder b(11);
  b.input("x", {-1, 2, 6, 6});
  b.init("w", {4, 2, 3, 3}, randv(72, rng));
  b.init("w2", {64, 20}, randv(64 * 20, rng));
  b.init("w3", {20, 5}, randv(100, rng));
  b.node("Conv", {"x", "w"}, {"c"}, "conv");
  b.node("Relu", {"c"}, {"r"}, "relu");
  b.node("Flatten", {"r"}, {"f"}, "flat");
  b.node("MatMul", {"f", "w2"}, {"h"}, "fc1");
  b.node("Relu", {"h"}, {"hr"}, "relu2");
  b.node("MatMul", {"hr", "w3"}, {"y"}, "fc2");
  b.output("y");
  auto g = b.load();
  nn::Tensor x({3, 2, 6, 6}, randv(216, rng, 0.f, 1.f));
  auto o = opts(x);
  o.mapping.rows = 16;
  o.mapping.cols = 128;
  o.sram_bytes = 64 << 10;
  auto net = compiler::compile(g, o);
  compiler::Image img(compiler::serialize(net));
  const auto& h = img.header();
  REQUIRE(h.version == 3);
  // One unsigned digit per layer and pixel-like inputs: no multi-pass buffers.
  REQUIRE(h.sram_sum_bytes == 0);
  REQUIRE(h.sram_tmp_bytes == 0);
  const auto& L = img.layers();
  REQUIRE(L.size() == 3);
  REQUIRE(L[0].row_blocks == 2);
  REQUIRE(L[1].row_blocks == 4);
  REQUIRE(L[2].row_blocks == 2);
  // Each layer requantises to the next layer's input scale; the last has none.
  REQUIRE(L[0].out_scale == L[1].x_scale);
  REQUIRE(L[0].out_q_max == 255);
  REQUIRE(L[1].out_scale == L[2].x_scale);
  REQUIRE(L[2].out_scale == 0.f);
  REQUIRE(L[2].out_q_max == 0);
  // Descriptor scratch: the largest layer's DMA + DPU chains (4 x (128 + 160) bytes) and one
  // argmax word per image, after every buffer and inside sram_bytes.
  REQUIRE(h.sram_desc_bytes >= 4 * (128 + 160) + 4 * h.batch);
  REQUIRE(uint64_t(h.sram_desc) + h.sram_desc_bytes <= h.sram_bytes);
  REQUIRE(h.sram_bytes <= o.sram_bytes);
  for (const auto& d : L) {
    const uint64_t nvec = uint64_t(h.batch) * d.mm_h * d.mm_w;
    REQUIRE(d.sram_acc + 4 * d.row_blocks * nvec * d.n <= h.sram_desc);
    REQUIRE(d.sram_codes + nvec * d.k <= d.sram_acc);
  }
  // A v1 image is refused by version.
  auto bytes = compiler::serialize(net);
  bytes[4] = 1;
  REQUIRE_THROWS_WITH(compiler::Image(bytes, "old.cimnet"), Catch::Contains("version 1"));
}

TEST_CASE("operators the chip cannot run are errors naming the node", "[compiler][errors]") {
  std::mt19937_64 rng(1);
  {
    ModelBuilder b(13);
    b.input("x", {-1, 4});
    b.init("w", {4, 4}, randv(16, rng));
    b.node("MatMul", {"x", "w"}, {"h"}, "mm");
    b.node("Add", {"h", "x"}, {"y"}, "residual_add");
    b.output("y");
    nn::Tensor x({2, 4}, randv(8, rng));
    REQUIRE_THROWS_WITH(compiler::compile(b.load(), opts(x)), Catch::Contains("residual_add") && Catch::Contains("network input"));
  }
  {
    ModelBuilder b(13);
    b.input("x", {-1, 1, 4, 4});
    b.init("w", {2, 1, 1, 1}, randv(2, rng));
    auto* mp = b.node("MaxPool", {"x"}, {"p"}, "early_pool");
    ModelBuilder::attr(mp, "kernel_shape", std::vector<int64_t>{2, 2});
    b.node("Conv", {"p", "w"}, {"y"}, "conv");
    b.output("y");
    nn::Tensor x({1, 1, 4, 4}, randv(16, rng));
    REQUIRE_THROWS_WITH(compiler::compile(b.load(), opts(x)), Catch::Contains("early_pool"));
  }
  {
    ModelBuilder b(13);
    b.input("x", {-1, 4});
    b.input("w", {4, 4});
    b.node("MatMul", {"x", "w"}, {"y"}, "dyn_mm");
    b.output("y");
    nn::Tensor x({2, 4}, randv(8, rng));
    REQUIRE_THROWS_WITH(compiler::compile(b.load(), opts(x)), Catch::Contains("one input"));
  }
}

namespace {

// Conv 1x1 (C -> N) on [1, C, H, W] followed by Add(c, constant of `cshape`): compiled
// layer's output (float weights/bias, im2col) vs the reference evaluator.
struct ConvAdd {
  nn::Graph g;
  nn::Tensor x;
};
ConvAdd conv_add(const std::vector<int64_t>& cshape, int64_t opset = 13, int64_t axis = -99) {
  std::mt19937_64 rng(17);
  const int C = 3, N = 4, H = 5, W = 4;  // W == N: a [W] constant has N elements
  ModelBuilder b(opset);
  b.input("x", {-1, C, H, W});
  b.init("w", {N, C, 1, 1}, randv(N * C, rng));
  b.init("k", cshape, randv(static_cast<std::size_t>(nn::numel(cshape)), rng));
  b.node("Conv", {"x", "w"}, {"c"}, "conv");
  auto* add = b.node("Add", {"c", "k"}, {"y"}, "bias_add");
  if (axis != -99) {
    ModelBuilder::attr(add, "broadcast", int64_t(1));
    ModelBuilder::attr(add, "axis", axis);
  }
  b.output("y");
  return {b.load("convadd.onnx"), nn::Tensor({1, C, H, W}, randv(C * H * W, rng, 0.f, 1.f))};
}

// Max |compiled float layer - reference| for a single-layer network.
double layer_error(const compiler::Network& net, const nn::Tensor& x, const nn::Tensor& ref) {
  const auto& L = net.layers.at(0);
  const auto& d = L.desc;
  Eigen::MatrixXf cols(d.mm_h * d.mm_w, d.k);
  const int H = static_cast<int>(x.shape[2]), W = static_cast<int>(x.shape[3]);
  for (int p = 0; p < static_cast<int>(d.mm_h * d.mm_w); ++p)
    for (int c = 0; c < static_cast<int>(d.k); ++c) cols(p, c) = x.data[c * H * W + p];  // 1x1 conv
  Eigen::MatrixXf y = cols * L.w;
  y.rowwise() += L.bias.transpose();
  double e = 0;
  const int P = static_cast<int>(d.mm_h * d.mm_w);
  for (int j = 0; j < static_cast<int>(d.n); ++j)
    for (int p = 0; p < P; ++p) e = std::max(e, double(std::fabs(y(p, j) - ref.data[j * P + p])));
  return e;
}

}  // namespace

TEST_CASE("constant Add folds into the bias only when it broadcasts per output channel", "[compiler][add]") {
  // Per channel: [N,1,1], [1,N,1,1], a scalar, and opset 6's legacy broadcast from axis 1.
  for (auto c : {conv_add({4, 1, 1}), conv_add({1, 4, 1, 1}), conv_add({1}), conv_add({}), conv_add({4}, 6, 1)}) {
    auto net = compiler::compile(c.g, opts(c.x));
    REQUIRE(layer_error(net, c.x, nn::evaluate(c.g, c.x)) < 1e-5);
  }
  // A [W] constant with W == N broadcasts along the width, not the channels: folding it as
  // a bias gave wrong outputs; it is an error naming the node and the tensor.
  for (auto c : {conv_add({4}), conv_add({5, 4}), conv_add({1, 1, 5, 1})}) {
    INFO(c.g.initializers.at("k").shape.size());
    REQUIRE_THROWS_AS(compiler::compile(c.g, opts(c.x)), nn::ModelError);
    REQUIRE_THROWS_WITH(compiler::compile(c.g, opts(c.x)), Catch::Contains("bias_add") && Catch::Contains("'k'") &&
                                                                Catch::Contains("not per output channel"));
  }
  // Fully connected: [N] and [1,N] are per channel.
  for (auto cs : {nn::Shape{6}, nn::Shape{1, 6}}) {
    std::mt19937_64 rng(3);
    ModelBuilder b(13);
    b.input("x", {-1, 5});
    b.init("w", {5, 6}, randv(30, rng));
    b.init("k", cs, randv(6, rng));
    b.node("MatMul", {"x", "w"}, {"h"}, "mm");
    b.node("Add", {"k", "h"}, {"y"}, "add");  // constant first: Add commutes
    b.output("y");
    auto g = b.load();
    nn::Tensor x({2, 5}, randv(10, rng));
    auto net = compiler::compile(g, opts(x));
    auto ref = nn::evaluate(g, x);
    const auto& L = net.layers[0];
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 6; ++j) {
        double v = L.bias(j);
        for (int k = 0; k < 5; ++k) v += double(x.data[i * 5 + k]) * L.w(k, j);
        REQUIRE(v == Approx(ref.data[i * 6 + j]).margin(1e-5));
      }
  }
}

TEST_CASE("a model that declares a fixed batch > 1 compiles with its own batch", "[compiler][batch]") {
  std::mt19937_64 rng(21);
  // [2, 6] -> MatMul -> Reshape to [2, 4] (a hard-coded batch, as some exporters write) -> Relu.
  ModelBuilder b(13);
  b.input("x", {2, 6});
  b.init("w", {6, 4}, randv(24, rng));
  b.init_i64("shape", {2, 4});
  b.node("MatMul", {"x", "w"}, {"h"}, "mm");
  b.node("Reshape", {"h", "shape"}, {"r"}, "reshape");
  b.node("Relu", {"r"}, {"y"}, "relu");
  b.output("y");
  auto g = b.load();
  // Calibration with the model's batch, and with more images (evaluated 2 at a time).
  for (int n : {2, 5}) {
    nn::Tensor x({n, 6}, randv(6 * n, rng));
    auto net = compiler::compile(g, opts(x));
    REQUIRE(net.layers.size() == 1);
    REQUIRE(net.layers[0].desc.k == 6);
    REQUIRE(net.layers[0].desc.n == 4);
    REQUIRE((net.layers[0].desc.flags & CIMNET_F_SIGNED_INPUT) != 0);
  }
  nn::Tensor one({1, 6}, randv(6, rng));
  REQUIRE_THROWS_WITH(compiler::compile(g, opts(one)), Catch::Contains("fixed batch of 2"));
}

TEST_CASE("calibration inputs of the wrong shape name the model and the calibration data", "[compiler][errors]") {
  std::mt19937_64 rng(2);
  ModelBuilder b(13);
  b.input("x", {-1, 6});
  b.init("w", {6, 4}, randv(24, rng));
  b.node("MatMul", {"x", "w"}, {"y"}, "mm");
  b.output("y");
  auto o = opts(nn::Tensor({3, 1, 28, 28}, 0.5f));
  o.calibration_source = "Fashion-MNIST training images (/usr/share/datasets/fashion-mnist)";
  REQUIRE_THROWS_WITH(compiler::compile(b.load("mlp.onnx"), o),
                      Catch::Contains("mlp.onnx") && Catch::Contains("Fashion-MNIST training images") &&
                          Catch::Contains("[3,1,28,28]") && Catch::Contains("'x' [?,6]"));
}

TEST_CASE("residual Add of an earlier layer's output: own SRAM buffer, DPU residual", "[compiler][residual]") {
  std::mt19937_64 rng(8);
  // x -> conv1 -> relu -> a ; a -> conv2 -> Add(a) -> relu -> flatten -> fc
  ModelBuilder b(13);
  b.input("x", {-1, 2, 5, 5});
  b.init("w1", {3, 2, 3, 3}, randv(54, rng));
  b.init("w2", {3, 3, 3, 3}, randv(81, rng));
  b.init("w3", {75, 4}, randv(300, rng));
  ModelBuilder::attr(b.node("Conv", {"x", "w1"}, {"c1"}, "conv1"), "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c1"}, {"a"}, "relu1");
  ModelBuilder::attr(b.node("Conv", {"a", "w2"}, {"c2"}, "conv2"), "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Add", {"a", "c2"}, {"s"}, "res_add");  // the chain's value second
  b.node("Relu", {"s"}, {"r"}, "relu2");
  b.node("Flatten", {"r"}, {"f"}, "flat");
  b.node("MatMul", {"f", "w3"}, {"y"}, "fc");
  b.output("y");
  auto g = b.load();
  nn::Tensor x({2, 2, 5, 5}, randv(100, rng));
  auto net = compiler::compile(g, opts(x));
  REQUIRE(net.layers.size() == 3);
  const auto& d0 = net.layers[0].desc;
  const auto& d1 = net.layers[1].desc;
  REQUIRE((d0.flags & CIMNET_F_RES_SOURCE) != 0);
  REQUIRE((d1.flags & CIMNET_F_RESIDUAL) != 0);
  REQUIRE(d1.res_layer == 1);
  REQUIRE((d1.flags & CIMNET_F_RELU) != 0);
  // Layer 0's output lives in its own buffer: layer 1 reads it, layer 2 gets the other
  // buffers, so nothing overwrites it before layer 1 adds it.
  REQUIRE(d1.sram_in == d0.sram_out);
  const auto& d2 = net.layers[2].desc;
  REQUIRE(d2.sram_in == d1.sram_out);
  REQUIRE(d1.sram_out != d0.sram_out);
  REQUIRE(d2.sram_out != d0.sram_out);
  REQUIRE(d0.sram_out != d0.sram_in);
  compiler::Image img(compiler::serialize(net));
  REQUIRE(img.layers()[1].res_layer == 1);
  // Unsupported residual forms name the node.
  {
    ModelBuilder c(13);
    c.input("x", {-1, 4});
    c.init("w", {4, 4}, randv(16, rng));
    c.node("MatMul", {"x", "w"}, {"h"}, "mm");
    c.node("Relu", {"h"}, {"r"}, "relu");
    c.node("Add", {"r", "h"}, {"y"}, "late_add");  // after ReLU, and 'h' is not a finished layer
    c.output("y");
    nn::Tensor xi({2, 4}, randv(8, rng));
    REQUIRE_THROWS_WITH(compiler::compile(c.load(), opts(xi)), Catch::Contains("late_add"));
  }
  {
    ModelBuilder c(13);
    c.input("x", {-1, 4});
    c.init("w", {4, 4}, randv(16, rng));
    c.init("g", {4}, randv(4, rng));
    c.init("be", {4}, randv(4, rng));
    c.init("mu", {4}, randv(4, rng));
    c.init("var", {4}, std::vector<float>(4, 1.f));
    c.init("w2", {4, 4}, randv(16, rng));
    c.node("MatMul", {"x", "w"}, {"h"}, "mm1");
    c.node("MatMul", {"h", "w2"}, {"h2"}, "mm2");
    c.node("Add", {"h2", "h"}, {"s"}, "add");
    c.node("BatchNormalization", {"s", "g", "be", "mu", "var"}, {"y"}, "bn_after_res");
    c.output("y");
    nn::Tensor xi({2, 4}, randv(8, rng));
    REQUIRE_THROWS_WITH(compiler::compile(c.load(), opts(xi)), Catch::Contains("bn_after_res") && Catch::Contains("residual"));
  }
}

TEST_CASE("Softmax runs on the chip when it covers all values of one image", "[compiler][softmax]") {
  std::mt19937_64 rng(4);
  // Conv -> GlobalAveragePool -> Softmax over axis 1 of [N, 3, 1, 1]: per image at any opset;
  // Softmax axis 1 of [N, 3, 2, 2] (no pooling) is per image before opset 13 only.
  for (int64_t opset : {11, 13}) {
    for (bool gap : {true, false}) {
      ModelBuilder b(opset);
      b.input("x", {-1, 2, 3, 3});
      b.init("w", {3, 2, 2, 2}, randv(24, rng));
      b.node("Conv", {"x", "w"}, {"c"}, "conv");
      std::string v = "c";
      if (gap) {
        b.node("GlobalAveragePool", {"c"}, {"p"}, "gap");
        v = "p";
      }
      auto* sm = b.node("Softmax", {v}, {"y"}, "softmax");
      ModelBuilder::attr(sm, "axis", int64_t(1));
      b.output("y");
      nn::Tensor x({1, 2, 3, 3}, randv(18, rng));
      INFO("opset " << opset << " gap " << gap);
      if (gap || opset < 13) {
        auto net = compiler::compile(b.load(), opts(x));
        REQUIRE((net.layers.back().desc.flags & CIMNET_F_SOFTMAX) != 0);
      } else {
        REQUIRE_THROWS_WITH(compiler::compile(b.load(), opts(x)), Catch::Contains("softmax") && Catch::Contains("per image"));
      }
    }
  }
}
