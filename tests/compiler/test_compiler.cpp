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

TEST_CASE("image v2: requantisation scales and the SRAM plan for the DMA/DPU path", "[compiler][image]") {
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
  REQUIRE(h.version == 2);
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
    REQUIRE_THROWS_WITH(compiler::compile(b.load(), opts(x)), Catch::Contains("residual_add"));
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
