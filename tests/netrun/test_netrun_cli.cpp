// `cimvp infer` and `cimvp compile` as a user runs them (the binary in a child process), and
// the accuracy bookkeeping.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <unistd.h>

#include "platform/compiler/compiler.hpp"
#include "platform/dataset/idx.hpp"
#include "platform/netrun/netrun.hpp"
#include "platform/onnx/evaluator.hpp"
#include "platform/onnx/onnx_import.hpp"
#include "platform/onnx/tensor_io.hpp"
#include "tests/onnx/model_builder.hpp"

using namespace cimvp;

// libsystemc (linked through the platform) wants an sc_main; this test builds no SoC.
int sc_main(int, char**) { return 0; }

namespace {
// ctest runs test cases as parallel processes in one folder: one log per process.
std::string log_name() { return "cli_out_" + std::to_string(getpid()) + ".txt"; }
int run(const std::string& args) {
  int rc = std::system((std::string(CIMVP_BIN) + " " + args + " > " + log_name() + " 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}
std::string output() {
  std::ifstream f(log_name());
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}
bool have_dataset() {
  return std::filesystem::exists(std::string(dataset::kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz");
}
}  // namespace

TEST_CASE("cimvp infer --ideal matches the reference evaluator to 1e-4", "[netrun][cli]") {
  const int n = 4;
  nn::Tensor x({n, 1, 28, 28});
  if (have_dataset()) {
    auto t = dataset::load_fashion_mnist(dataset::Split::Test);
    x.data = t.to_float(100, n);
  } else {
    std::mt19937_64 rng(9);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    for (auto& v : x.data) v = u(rng);
  }
  nn::write_npy("x.npy", x);
  REQUIRE(run(std::string("infer --model ") + CIMVP_EXAMPLE_MODEL + " --input x.npy --output y.pb --ideal") == 0);
  nn::Tensor y = nn::read_tensor("y.pb");
  auto g = nn::load_onnx(CIMVP_EXAMPLE_MODEL);
  nn::Tensor ref = nn::evaluate(g, x);
  REQUIRE(y.shape == ref.shape);
  for (int i = 0; i < n; ++i) {
    double mref = 0, merr = 0;
    for (int j = 0; j < 10; ++j) {
      mref = std::max(mref, std::fabs(double(ref.data[i * 10 + j])));
      merr = std::max(merr, std::fabs(double(y.data[i * 10 + j]) - ref.data[i * 10 + j]));
    }
    INFO("image " << i << ": max err " << merr << " of max |ref| " << mref);
    REQUIRE(merr <= 1e-4 * mref);
  }
}

TEST_CASE("cimvp infer rejects an input of the wrong shape with exit 2", "[netrun][cli]") {
  nn::write_npy("bad.npy", nn::Tensor({2, 3, 5}));
  REQUIRE(run(std::string("infer --model ") + CIMVP_EXAMPLE_MODEL + " --input bad.npy --output y.npy --ideal") == 2);
  REQUIRE_THAT(output(), Catch::Contains("input"));
  REQUIRE(run("infer --model nonexistent.onnx --input bad.npy --output y.npy") == 2);
}

TEST_CASE("cimvp infer without --ideal: scales from --calibration, or a leakage warning", "[netrun][cli]") {
  // A model whose input is not 1x28x28 images: no Fashion-MNIST calibration applies.
  std::mt19937_64 rng(3);
  std::normal_distribution<float> nd(0.f, 0.5f);
  std::vector<float> w(8 * 3);
  for (auto& v : w) v = nd(rng);
  nn::test::ModelBuilder b(13);
  b.input("x", {-1, 8});
  b.init("w", {8, 3}, w);
  b.node("MatMul", {"x", "w"}, {"y"}, "fc");
  b.output("y");
  {
    std::ofstream f("mlp8.onnx", std::ios::binary);
    f << b.bytes();
  }
  nn::Tensor x({4, 8}), cal({16, 8});
  for (auto& v : x.data) v = nd(rng);
  for (auto& v : cal.data) v = nd(rng);
  nn::write_npy("mlp8_x.npy", x);
  nn::write_npy("mlp8_cal.npy", cal);
  // Without --calibration the scales come from the input itself: a warning says so.
  REQUIRE(run("infer --model mlp8.onnx --input mlp8_x.npy --output mlp8_y.npy --compare") == 0);
  std::string out = output();
  REQUIRE_THAT(out, Catch::Contains("warning") && Catch::Contains("mlp8_x.npy") && Catch::Contains("leakage") &&
                        Catch::Contains("--calibration"));
  REQUIRE_THAT(out, Catch::Contains("max relative error against the reference evaluator"));
  // With training inputs: no warning, and it says where the scales came from.
  REQUIRE(run("infer --model mlp8.onnx --input mlp8_x.npy --output mlp8_y.npy --calibration mlp8_cal.npy") == 0);
  out = output();
  REQUIRE_THAT(out, !Catch::Contains("leakage") && Catch::Contains("scales from calibration file mlp8_cal.npy"));
  // Calibration data of the wrong shape: exit 2 naming the model and the file.
  nn::write_npy("mlp8_bad.npy", nn::Tensor({5, 7}));
  REQUIRE(run("infer --model mlp8.onnx --input mlp8_x.npy --output mlp8_y.npy --calibration mlp8_bad.npy") == 2);
  REQUIRE_THAT(output(), Catch::Contains("mlp8.onnx") && Catch::Contains("mlp8_bad.npy") && Catch::Contains("[5,7]"));
  // --ideal takes its scales from the input by design; --calibration is a usage error there.
  REQUIRE(run("infer --model mlp8.onnx --input mlp8_x.npy --output mlp8_y.npy --ideal --calibration mlp8_cal.npy") == 2);
}

TEST_CASE("cimvp compile writes a network image of the example network", "[netrun][cli]") {
  if (!have_dataset()) {
    WARN("Fashion-MNIST not installed: compile needs training images for calibration; skipped");
    return;
  }
  REQUIRE(run(std::string("compile ") + CIMVP_EXAMPLE_MODEL + " --out net.cimnet") == 0);
  std::ifstream f("net.cimnet", std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), {});
  compiler::Image img(bytes, "net.cimnet");
  // 128x128 arrays, 16 logical columns each: conv1 9x16 -> 1, conv2 144x32 -> 2x2,
  // fc1 800x64 -> 7x4, fc2 64x10 -> 1: 34 tiles.
  REQUIRE(img.header().n_tiles == 34);
  REQUIRE(img.header().n_layers == 4);
  REQUIRE(img.layers()[0].x_scale == Approx(1.0 / 255));
  // A chip with too few tiles says how many it needs.
  REQUIRE(run(std::string("compile ") + CIMVP_EXAMPLE_MODEL +
              " --out net2.cimnet --set network.tiles=memory_map --set 'memory_map=[{name: sysctl, block: sysctl, base: 0, size: 0x1000},"
              "{name: irq, block: irq, base: 0x1000, size: 0x1000},"
              "{name: sram, block: sram, base: 0x10000000, size: 0x400000},"
              "{name: t, block: tile, base: 0x40000000, size: 0x4000, count: 4, irq: 2}]'") == 2);
  REQUIRE_THAT(output(), Catch::Contains("needs 34 tiles"));
}

TEST_CASE("accuracy, per-class accuracy and confusion matrix", "[netrun]") {
  std::vector<uint32_t> pred{0, 1, 1, 2, 2, 2};
  std::vector<uint8_t> lab{0, 1, 2, 2, 2, 0};
  auto a = netrun::score(pred, lab, 3);
  REQUIRE(a.correct == 4);
  REQUIRE(a.accuracy() == Approx(4.0 / 6));
  REQUIRE(a.confusion[2][1] == 1);
  REQUIRE(a.confusion[0][2] == 1);
  REQUIRE(a.class_accuracy(2) == Approx(2.0 / 3));
  REQUIRE(a.class_accuracy(0) == Approx(0.5));
  a.write_csv("acc.csv");
  std::ifstream f("acc.csv");
  std::string header, row0;
  std::getline(f, header);
  std::getline(f, row0);
  REQUIRE(header == "class,name,images,correct,accuracy,pred_0,pred_1,pred_2");
  REQUIRE(row0 == "0,\"0\",2,1,0.5,1,0,1");
}
