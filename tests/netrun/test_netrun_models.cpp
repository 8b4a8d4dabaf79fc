// `cimvp infer --ideal` on many small models, as a user runs it (the binary in a child
// process, one SoC per run): models written by the ONNX library's Python helper API
// (tools/make_test_onnx.py, committed under tests/onnx/models/) and models written here with
// the ONNX protobuf classes, at opsets 6..17, covering AveragePool (count_include_pad 0/1),
// GlobalAveragePool, residual Add, Reshape/Flatten, MaxPool ceil_mode, Conv auto_pad SAME_*
// with stride 2, Gemm transB/alpha/beta, Softmax over axes other than -1. Each must agree
// with the reference evaluator to 1e-4 (max |y - ref| / max |ref|), run on the chip's DMA and
// DPU (the counts it prints), and print the same relative error the test computes.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "platform/onnx/evaluator.hpp"
#include "platform/onnx/onnx_import.hpp"
#include "platform/onnx/tensor_io.hpp"
#include "tests/onnx/model_builder.hpp"

using namespace cimvp;
using nn::test::ModelBuilder;

namespace {

// ctest may run test cases in parallel in one folder: every file name carries a tag.
int run(const std::string& args, std::string* out, const std::string& tag) {
  const std::string log = tag + ".log";
  int rc = std::system((std::string(CIMVP_BIN) + " " + args + " > " + log + " 2>&1").c_str());
  std::ifstream f(log);
  std::stringstream s;
  s << f.rdbuf();
  *out = s.str();
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::vector<float> randv(std::size_t n, std::mt19937_64& rng, float scale = 1.f) {
  std::normal_distribution<float> nd(0.f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

struct Outcome {
  double rel_err = -1, printed = -1, dma = -1, dpu = -1;
};

// Runs `cimvp infer --ideal` on the model file with a random batch of `batch` signed inputs
// and compares with the reference evaluator.
Outcome check_ideal(const std::string& model, int batch = 3, uint64_t seed = 1) {
  auto g = nn::load_onnx(model);
  nn::Shape xs = g.inputs.at(0).shape;
  if (xs[0] < 1) xs[0] = batch;
  std::mt19937_64 rng(seed);
  nn::Tensor x(xs, randv(static_cast<std::size_t>(nn::numel(xs)), rng));
  const std::string tag = model.substr(model.find_last_of('/') + 1);
  nn::write_npy(tag + "_x.npy", x);
  std::string out;
  const int rc = run("infer --model " + model + " --input " + tag + "_x.npy --output " + tag + "_y.npy --ideal", &out, tag);
  INFO(model << ":\n" << out);
  REQUIRE(rc == 0);
  nn::Tensor y = nn::read_tensor(tag + "_y.npy");
  nn::Tensor ref = nn::evaluate(g, x);
  REQUIRE(y.shape == ref.shape);
  double m = 0, e = 0;
  for (std::size_t i = 0; i < y.data.size(); ++i) {
    m = std::max(m, std::fabs(double(ref.data[i])));
    e = std::max(e, std::fabs(double(y.data[i]) - ref.data[i]));
  }
  Outcome o;
  o.rel_err = e / m;
  std::smatch mt;
  if (std::regex_search(out, mt, std::regex("max relative error against the reference evaluator: ([0-9.eE+-]+)")))
    o.printed = std::stod(mt[1]);
  if (std::regex_search(out, mt, std::regex("DMA ([0-9]+) descriptors, DPU ([0-9]+) ops"))) {
    o.dma = std::stod(mt[1]);
    o.dpu = std::stod(mt[2]);
  }
  INFO("relative error " << o.rel_err << ", printed " << o.printed);
  CHECK(o.rel_err <= 1e-4);
  CHECK(o.printed == Approx(o.rel_err).epsilon(1e-3).margin(1e-12));
  // The chip's own data path ran: DMA im2col / copies and DPU ops, not the CPU path.
  CHECK(o.dma > 0);
  CHECK(o.dpu > 0);
  return o;
}

std::string save(ModelBuilder& b, const std::string& name) {
  const std::string path = "models_" + name + ".onnx";
  std::ofstream f(path, std::ios::binary);
  f << b.bytes();
  return path;
}

using V = std::vector<int64_t>;

}  // namespace

TEST_CASE("models written by onnx.helper (tools/make_test_onnx.py) run on the chip within 1e-4", "[netrun][models]") {
  for (const char* m : {"o6_mlp_legacy", "o7_conv_bn_avgpool_pad", "o10_dilated_avgpool_ceil",
                        "o11_same_stride2_gap_softmax", "o13_residual_maxpool_ceil", "o17_gemm_dropout_softmax"}) {
    const std::string path = std::string(CIMVP_TEST_MODELS) + "/" + m + ".onnx";
    auto g = nn::load_onnx(path);
    REQUIRE_THAT(g.producer, Catch::Contains("onnx.helper"));
    check_ideal(path);
  }
}

TEST_CASE("AveragePool with and without count_include_pad, opsets 7, 11, 17", "[netrun][models]") {
  std::mt19937_64 rng(2);
  for (int64_t opset : {7, 11, 17})
    for (int64_t incl : {0, 1}) {
      ModelBuilder b(opset);
      b.input("x", {-1, 2, 6, 6});
      b.init("w", {3, 2, 3, 3}, randv(54, rng, 0.4f));
      b.init("w2", {27, 4}, randv(108, rng, 0.3f));
      ModelBuilder::attr(b.node("Conv", {"x", "w"}, {"c"}, "conv"), "pads", V{1, 1, 1, 1});
      auto* ap = b.node("AveragePool", {"c"}, {"p"}, "avgpool");
      ModelBuilder::attr(ap, "kernel_shape", V{3, 3});
      ModelBuilder::attr(ap, "strides", V{2, 2});
      ModelBuilder::attr(ap, "pads", V{1, 1, 1, 1});
      ModelBuilder::attr(ap, "count_include_pad", incl);
      b.node("Flatten", {"p"}, {"f"}, "flatten");
      b.node("MatMul", {"f", "w2"}, {"y"}, "fc");
      b.output("y");
      INFO("opset " << opset << " count_include_pad " << incl);
      check_ideal(save(b, "avgpool"));
    }
}

TEST_CASE("GlobalAveragePool and Softmax over axis 1, opsets 9 and 13", "[netrun][models]") {
  std::mt19937_64 rng(3);
  for (int64_t opset : {9, 13}) {
    ModelBuilder b(opset);
    b.input("x", {-1, 3, 5, 5});
    b.init("w", {6, 3, 3, 3}, randv(162, rng, 0.4f));
    b.init("b", {6}, randv(6, rng));
    b.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
    b.node("Relu", {"c"}, {"r"}, "relu");
    b.node("GlobalAveragePool", {"r"}, {"g"}, "gap");
    ModelBuilder::attr(b.node("Softmax", {"g"}, {"y"}, "softmax"), "axis", int64_t(1));
    b.output("y");
    INFO("opset " << opset);
    check_ideal(save(b, "gap"));
  }
}

TEST_CASE("residual Add of an earlier layer, conv and fully connected, opsets 8 and 14", "[netrun][models]") {
  std::mt19937_64 rng(4);
  {  // conv block: x -> conv -> relu (a) -> conv -> Add(a) -> relu -> conv -> Add(a)
    ModelBuilder b(14);
    b.input("x", {-1, 2, 5, 5});
    b.init("w1", {4, 2, 3, 3}, randv(72, rng, 0.4f));
    b.init("w2", {4, 4, 3, 3}, randv(144, rng, 0.3f));
    b.init("w3", {4, 4, 1, 1}, randv(16, rng, 0.5f));
    ModelBuilder::attr(b.node("Conv", {"x", "w1"}, {"c1"}, "conv1"), "pads", V{1, 1, 1, 1});
    b.node("Relu", {"c1"}, {"a"}, "relu1");
    ModelBuilder::attr(b.node("Conv", {"a", "w2"}, {"c2"}, "conv2"), "pads", V{1, 1, 1, 1});
    b.node("Add", {"c2", "a"}, {"s"}, "res1");
    b.node("Relu", {"s"}, {"r"}, "relu2");
    b.node("Conv", {"r", "w3"}, {"c3"}, "conv3");
    b.node("Add", {"a", "c3"}, {"y"}, "res2");  // the same source again, chain value second
    b.output("y");
    check_ideal(save(b, "res_conv"));
  }
  {  // fully connected at opset 8
    ModelBuilder b(8);
    b.input("x", {-1, 7});
    b.init("w1", {7, 6}, randv(42, rng, 0.5f));
    b.init("c1", {6}, randv(6, rng));
    b.init("w2", {6, 6}, randv(36, rng, 0.5f));
    b.init("c2", {6}, randv(6, rng));
    b.init("w3", {6, 3}, randv(18, rng, 0.5f));
    b.node("Gemm", {"x", "w1", "c1"}, {"h"}, "fc1");
    b.node("Relu", {"h"}, {"a"}, "relu1");
    b.node("Gemm", {"a", "w2", "c2"}, {"h2"}, "fc2");
    b.node("Add", {"h2", "a"}, {"s"}, "residual");
    b.node("MatMul", {"s", "w3"}, {"y"}, "fc3");  // signed inputs (no ReLU after the Add)
    b.output("y");
    check_ideal(save(b, "res_fc"));
  }
}

TEST_CASE("Reshape and Flatten, opsets 8, 12, 15, 16", "[netrun][models]") {
  std::mt19937_64 rng(5);
  for (int64_t opset : {8, 12, 15}) {
    ModelBuilder b(opset);
    b.input("x", {-1, 2, 4, 4});
    b.init("w", {3, 2, 2, 2}, randv(24, rng, 0.5f));
    b.init("w2", {27, 5}, randv(135, rng, 0.3f));
    b.init_i64("shape", {0, -1});
    ModelBuilder::attr(b.node("Conv", {"x", "w"}, {"c"}, "conv"), "strides", V{1, 1});
    if (opset == 8) {
      ModelBuilder::attr(b.node("Flatten", {"c"}, {"f"}, "flatten"), "axis", int64_t(1));
    } else {
      auto* r = b.node("Reshape", {"c", "shape"}, {"f"}, "reshape");
      if (opset >= 14) ModelBuilder::attr(r, "allowzero", int64_t(0));
    }
    b.node("MatMul", {"f", "w2"}, {"y"}, "fc");
    b.output("y");
    INFO("opset " << opset);
    check_ideal(save(b, "reshape"));
  }
  {  // Flatten before the first layer (an MLP on images), opset 16
    ModelBuilder b(16);
    b.input("x", {-1, 1, 3, 4});
    b.init("w", {5, 12}, randv(60, rng, 0.5f));
    b.node("Flatten", {"x"}, {"f"}, "flatten");
    ModelBuilder::attr(b.node("Gemm", {"f", "w"}, {"y"}, "fc"), "transB", int64_t(1));
    b.output("y");
    check_ideal(save(b, "flatten_first"));
  }
}

TEST_CASE("MaxPool with ceil_mode, strides and pads, opsets 10 and 12", "[netrun][models]") {
  std::mt19937_64 rng(6);
  for (int64_t opset : {10, 12})
    for (int64_t ceil : {0, 1}) {
      ModelBuilder b(opset);
      b.input("x", {-1, 1, 7, 7});
      b.init("w", {3, 1, 2, 2}, randv(12, rng, 0.5f));
      b.node("Conv", {"x", "w"}, {"c"}, "conv");  // 6x6
      auto* mp = b.node("MaxPool", {"c"}, {"p"}, "maxpool");
      ModelBuilder::attr(mp, "kernel_shape", V{3, 3});
      ModelBuilder::attr(mp, "strides", V{2, 2});
      ModelBuilder::attr(mp, "pads", V{1, 0, 0, 1});
      ModelBuilder::attr(mp, "ceil_mode", ceil);
      b.node("Flatten", {"p"}, {"y"}, "flatten");
      b.output("y");
      INFO("opset " << opset << " ceil_mode " << ceil);
      check_ideal(save(b, "maxpool"));
    }
}

TEST_CASE("Conv auto_pad SAME_UPPER / SAME_LOWER with stride 2, opsets 8 and 16", "[netrun][models]") {
  std::mt19937_64 rng(7);
  for (int64_t opset : {8, 16})
    for (const char* ap : {"SAME_UPPER", "SAME_LOWER"}) {
      ModelBuilder b(opset);
      b.input("x", {-1, 2, 7, 6});
      b.init("w", {3, 2, 3, 2}, randv(36, rng, 0.5f));
      b.init("b", {3}, randv(3, rng));
      auto* c = b.node("Conv", {"x", "w", "b"}, {"y"}, "conv");
      ModelBuilder::attr(c, "auto_pad", std::string(ap));
      ModelBuilder::attr(c, "strides", V{2, 2});
      b.output("y");
      INFO("opset " << opset << " " << ap);
      check_ideal(save(b, "same"));
    }
}

TEST_CASE("Gemm transB, alpha, beta, C shapes, opsets 9, 11, 13 and transA refused", "[netrun][models]") {
  std::mt19937_64 rng(8);
  for (int64_t opset : {9, 11, 13})
    for (int transB : {0, 1}) {
      ModelBuilder b(opset);
      b.input("x", {-1, 6});
      b.init("w", transB ? std::vector<int64_t>{4, 6} : std::vector<int64_t>{6, 4}, randv(24, rng, 0.5f));
      b.init("c", opset == 13 ? std::vector<int64_t>{1, 4} : std::vector<int64_t>{4}, randv(4, rng));
      auto* n = b.node("Gemm", {"x", "w", "c"}, {"y"}, "gemm");
      ModelBuilder::attr(n, "transB", int64_t(transB));
      ModelBuilder::attr_f(n, "alpha", 0.75f);
      ModelBuilder::attr_f(n, "beta", -1.5f);
      b.output("y");
      INFO("opset " << opset << " transB " << transB);
      check_ideal(save(b, "gemm"));
    }
  {  // Gemm without C (opset 11+)
    ModelBuilder b(11);
    b.input("x", {-1, 5});
    b.init("w", {5, 3}, randv(15, rng, 0.5f));
    ModelBuilder::attr_f(b.node("Gemm", {"x", "w"}, {"y"}, "gemm_noc"), "alpha", 3.0f);
    b.output("y");
    check_ideal(save(b, "gemm_noc"));
  }
  {  // transA: the reference evaluator runs it, the chip refuses it by name (exit 2)
    ModelBuilder b(13);
    b.input("x", {6, 1});
    b.init("w", {6, 4}, randv(24, rng, 0.5f));
    ModelBuilder::attr(b.node("Gemm", {"x", "w"}, {"y"}, "gemm_ta"), "transA", int64_t(1));
    b.output("y");
    const std::string path = save(b, "gemm_ta");
    nn::write_npy("models_ta.npy", nn::Tensor({6, 1}, 1.f));
    std::string out;
    REQUIRE(run("infer --model " + path + " --input models_ta.npy --output models_ta_y.npy --ideal", &out, "ta") == 2);
    REQUIRE_THAT(out, Catch::Contains("gemm_ta") && Catch::Contains("transA"));
  }
}

TEST_CASE("Softmax over axis 1 (opset 12) and -1 (opset 15) of [N, X], per-position softmax refused", "[netrun][models]") {
  std::mt19937_64 rng(9);
  for (int64_t opset : {12, 15}) {
    ModelBuilder b(opset);
    b.input("x", {-1, 5});
    b.init("w", {5, 4}, randv(20, rng, 0.7f));
    b.node("MatMul", {"x", "w"}, {"z"}, "fc");
    ModelBuilder::attr(b.node("Softmax", {"z"}, {"y"}, "softmax"), "axis", int64_t(opset == 12 ? 1 : -1));
    b.output("y");
    INFO("opset " << opset);
    check_ideal(save(b, "softmax"));
  }
  {  // opset 13, axis 1 of [N, 3, 2, 2]: a softmax per position, not per image
    ModelBuilder b(13);
    b.input("x", {-1, 2, 3, 3});
    b.init("w", {3, 2, 2, 2}, randv(24, rng, 0.5f));
    b.node("Conv", {"x", "w"}, {"c"}, "conv");
    ModelBuilder::attr(b.node("Softmax", {"c"}, {"y"}, "softmax_c"), "axis", int64_t(1));
    b.output("y");
    const std::string path = save(b, "softmax_c");
    nn::write_npy("models_sc.npy", nn::Tensor({1, 2, 3, 3}, 1.f));
    std::string out;
    REQUIRE(run("infer --model " + path + " --input models_sc.npy --output models_sc_y.npy --ideal", &out, "sc") == 2);
    REQUIRE_THAT(out, Catch::Contains("softmax_c") && Catch::Contains("per image"));
  }
}

TEST_CASE("a model that declares a fixed batch of 2 runs with a batch-2 input", "[netrun][models][batch]") {
  std::mt19937_64 rng(10);
  ModelBuilder b(13);
  b.input("x", {2, 1, 4, 4});
  b.init("w", {3, 1, 3, 3}, randv(27, rng, 0.5f));
  b.init("w2", {12, 2}, randv(24, rng, 0.5f));
  b.init_i64("shape", {2, 12});  // a hard-coded batch, as some exporters write
  b.node("Conv", {"x", "w"}, {"c"}, "conv");
  b.node("Relu", {"c"}, {"r"}, "relu");
  b.node("Reshape", {"r", "shape"}, {"f"}, "reshape");
  b.node("MatMul", {"f", "w2"}, {"y"}, "fc");
  std::vector<int64_t> os{2, 2};
  b.output("y", &os);
  const std::string path = save(b, "fixed_batch");
  check_ideal(path);
  // A batch the model does not declare is an input error naming the tensor.
  nn::write_npy("models_b3.npy", nn::Tensor({3, 1, 4, 4}, 0.5f));
  std::string out;
  REQUIRE(run("infer --model " + path + " --input models_b3.npy --output models_b3_y.npy --ideal", &out, "b3") == 2);
  REQUIRE_THAT(out, Catch::Contains("'x'") && Catch::Contains("[2,1,4,4]"));
}
