// Firmware end to end on a tiny network built in the test: the `infer` firmware walks the
// compiled image on the platform (tiles, IRQs, SRAM, host memory) in ideal mode; its outputs
// must equal the reference evaluator's to 1e-4 relative and its classes the reference argmax.
// One SoC per process (SystemC elaborates once).
#include "tests/support/sc_test_main.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
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

  // The firmware's CPU path in a forked child (SystemC elaborates once per process), for the
  // comparison below; its outputs go to a file.
  const std::string cpu_file = "netrun_tiny_cpu.bin";
  std::remove(cpu_file.c_str());
  std::fflush(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int rc = 3;
    try {
      netrun::InferOptions io;
      io.ideal = true;
      io.cpu_datapath = true;
      netrun::InferReport rep;
      nn::Tensor yc = netrun::infer_tensor(g, x, sc, io, &rep);
      std::ofstream f(cpu_file, std::ios::binary);
      f.write(reinterpret_cast<const char*>(yc.data.data()), static_cast<std::streamsize>(4 * yc.data.size()));
      rc = f && rep.run.metrics.at("dma_descriptors") == 0 && rep.run.metrics.at("dpu_ops") == 0 ? 0 : 4;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cpu path run threw: %s\n", e.what());
    }
    std::fflush(nullptr);
    _exit(rc);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

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

  // Every layer ran on the chip's PASSES path (float32 inputs, signed conv1/fc2 inputs, three
  // 8-bit digits): DMA and DPU work in closed form from the layer descriptors of the same
  // compilation. Per batch and layer: passes = signs x digits DMA chains of row_blocks
  // descriptors, each moving images x positions x K codes; DPU ops: the digit split (signs x
  // (2 x digits - 2)), row_blocks accumulations per pass, the second weight digit's op, the
  // final op.
  auto isc = sc;
  netrun::make_ideal(isc);
  auto opt = netrun::compile_options(isc);
  opt.ideal = true;
  opt.float_inputs = true;
  opt.calibration = x;
  opt.tiles_available = -1;
  auto net = compiler::compile(g, opt);
  const double batches = std::ceil(double(n) / net.header.batch);
  double descs = 0, ops = 0, bytes = 0;
  for (const auto& l : net.layers) {
    const auto& d = l.desc;
    const double signs = (d.flags & CIMNET_F_SIGNED_INPUT) ? 2 : 1, passes = signs * d.digits;
    REQUIRE(d.digits == 3);
    REQUIRE(d.wdigits == 2);
    descs += batches * passes * d.row_blocks;
    bytes += passes * n * d.mm_h * d.mm_w * d.k;
    ops += batches * (signs * (2 * d.digits - 2) + passes * d.row_blocks + 1 + 1);
  }
  REQUIRE((net.layers[0].desc.flags & CIMNET_F_SIGNED_INPUT) != 0);
  REQUIRE((net.layers[1].desc.flags & CIMNET_F_SIGNED_INPUT) == 0);  // after ReLU + pooling
  REQUIRE((net.layers[2].desc.flags & CIMNET_F_SIGNED_INPUT) != 0);
  CHECK(r.metrics.at("dma_descriptors") == descs);
  CHECK(r.metrics.at("dma_bytes") == bytes);
  CHECK(r.metrics.at("dpu_ops") == ops);

  // The chip path and the firmware's CPU path agree (the digit split in float32 on the DPU
  // vs double on the CPU may move a 24-bit code by one).
  std::ifstream f(cpu_file, std::ios::binary);
  std::vector<float> yc(y.data.size());
  f.read(reinterpret_cast<char*>(yc.data()), static_cast<std::streamsize>(4 * yc.size()));
  REQUIRE(f);
  double max_d = 0;
  for (std::size_t i = 0; i < yc.size(); ++i) max_d = std::max(max_d, std::fabs(double(yc[i]) - y.data[i]));
  INFO("chip vs CPU path: max diff " << max_d << " of max |ref| " << max_ref);
  CHECK(max_d <= 1e-5 * max_ref);
}

CIMVP_SC_TEST_MAIN
