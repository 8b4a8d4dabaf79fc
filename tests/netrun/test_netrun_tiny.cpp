// Firmware end to end on a tiny network built in the test: the `infer` firmware walks the
// compiled image on the platform (tiles, IRQs, SRAM, host memory) in ideal mode; its outputs
// must equal the reference evaluator's to 1e-4 relative and its classes the reference argmax.
// One SoC per process (SystemC elaborates once).
#include "tests/support/sc_test_main.hpp"

#include <cmath>
#include <random>

#include "platform/netrun/netrun.hpp"
#include "platform/onnx/evaluator.hpp"
#include "tests/onnx/model_builder.hpp"

using namespace cimvp;
using nn::test::ModelBuilder;

TEST_CASE("tiny conv network runs on the chip in ideal mode and matches the reference", "[netrun][e2e]") {
  std::mt19937_64 rng(42);
  std::normal_distribution<float> nd(0.f, 0.5f);
  auto rv = [&](std::size_t n, float scale = 1.f) {
    std::vector<float> v(n);
    for (auto& x : v) x = scale * nd(rng);
    return v;
  };
  // x[N,2,8,8] -> Conv 3x3 pad 1 (6 ch) -> BN -> Relu -> MaxPool 2x2 -> Flatten (96)
  //   -> Gemm 96x20 (signed outputs, no ReLU) -> Gemm 20x5 (signed inputs: two passes) -> Softmax
  ModelBuilder b(13);
  b.input("x", {-1, 2, 8, 8});
  b.init("w1", {6, 2, 3, 3}, rv(108));
  b.init("b1", {6}, rv(6));
  b.init("g", {6}, std::vector<float>(6, 1.3f));
  b.init("be", {6}, rv(6));
  b.init("mu", {6}, rv(6));
  b.init("var", {6}, std::vector<float>(6, 0.7f));
  b.init("w2", {20, 96}, rv(1920, 0.2f));  // logits of a few units, like a trained net
  b.init("b2", {20}, rv(20));
  b.init("w3", {20, 5}, rv(100, 0.5f));
  auto* c = b.node("Conv", {"x", "w1", "b1"}, {"c"}, "conv1");
  ModelBuilder::attr(c, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("BatchNormalization", {"c", "g", "be", "mu", "var"}, {"bn"}, "bn1");
  b.node("Relu", {"bn"}, {"r"}, "relu1");
  auto* mp = b.node("MaxPool", {"r"}, {"p"}, "pool1");
  ModelBuilder::attr(mp, "kernel_shape", std::vector<int64_t>{2, 2});
  ModelBuilder::attr(mp, "strides", std::vector<int64_t>{2, 2});
  b.node("Flatten", {"p"}, {"f"}, "flat");
  auto* g2 = b.node("Gemm", {"f", "w2", "b2"}, {"h"}, "fc1");
  ModelBuilder::attr(g2, "transB", int64_t(1));
  b.node("MatMul", {"h", "w3"}, {"z"}, "fc2");
  b.node("Softmax", {"z"}, {"y"}, "softmax");
  b.output("y");
  auto g = b.load("tiny.onnx");

  const int n = 7;  // batch > 1
  nn::Tensor x({n, 2, 8, 8}, rv(n * 128));
  nn::Tensor ref = nn::evaluate(g, x);
  auto sc = config::load_scenario(cimvp::config::kSelftestScenario);
  RunResult r;
  nn::Tensor y = netrun::infer_tensor(g, x, sc, /*ideal=*/true, &r);
  REQUIRE(r.exit_status == 0);
  REQUIRE(r.firmware_exit_code == 0);
  REQUIRE(y.shape == ref.shape);
  double max_ref = 0, max_err = 0;
  for (std::size_t i = 0; i < y.data.size(); ++i) {
    max_ref = std::max(max_ref, std::fabs(double(ref.data[i])));
    max_err = std::max(max_err, std::fabs(double(y.data[i]) - ref.data[i]));
  }
  INFO("max |y - ref| = " << max_err << ", max |ref| = " << max_ref);
  REQUIRE(max_err <= 1e-4 * max_ref);
  for (int i = 0; i < n; ++i) {
    auto argmax = [&](const std::vector<float>& v) {
      return std::max_element(v.begin() + i * 5, v.begin() + i * 5 + 5) - (v.begin() + i * 5);
    };
    REQUIRE(argmax(y.data) == argmax(ref.data));
  }
  REQUIRE(r.metrics.at("images") == n);
  REQUIRE(r.sim_time_ns > 0);
}

CIMVP_SC_TEST_MAIN
