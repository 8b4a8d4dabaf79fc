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

#include "platform/compiler/compiler.hpp"
#include "platform/dataset/idx.hpp"
#include "platform/netrun/netrun.hpp"
#include "platform/onnx/evaluator.hpp"
#include "platform/onnx/onnx_import.hpp"
#include "platform/onnx/tensor_io.hpp"

using namespace cimvp;

// libsystemc (linked through the platform) wants an sc_main; this test builds no SoC.
int sc_main(int, char**) { return 0; }

namespace {
int run(const std::string& args) {
  int rc = std::system((std::string(CIMVP_BIN) + " " + args + " > cli_out.txt 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}
std::string output() {
  std::ifstream f("cli_out.txt");
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
