// The example network on the chip in ideal chip mode (8-bit weights and inputs, ideal ADC,
// no programming error or noise; the scenario's write-verify programming is replaced by the
// one-shot fast path, since write-verify leaves every cell within its +-5 uS band with the
// paper's ~2.7 uS sigma, which is not ideal): accuracy on the first 300 test images within 0.5 percentage
// points of the float model (reference evaluator) on the same images. Skips without the
// dataset (Debian package dataset-fashion-mnist).
#include "tests/support/sc_test_main.hpp"

#include <filesystem>

#include "platform/dataset/idx.hpp"
#include "platform/netrun/netrun.hpp"
#include "platform/onnx/evaluator.hpp"

using namespace cimvp;

TEST_CASE("example network, ideal chip mode, 300 test images", "[netrun][fashion]") {
  if (!std::filesystem::exists(std::string(dataset::kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz")) {
    WARN("Fashion-MNIST not installed (dataset-fashion-mnist); skipped");
    return;
  }
  config::LoadOptions lo;
  lo.overrides = {"dataset.images=300", "chip.adc.mode=ideal", "chip.program.mode=ideal", "trace.vcd=false", "trace.trace_json=false"};
  auto sc = config::load_scenario(CIMVP_FASHION_SCENARIO, lo);
  REQUIRE_FALSE(sc.chip.device.prog_error);
  REQUIRE_FALSE(sc.chip.device.read_noise);
  const std::string out = "out_netrun_fashion";
  RunOptions ro;
  ro.out_dir = out;
  ro.echo_console = false;
  netrun::Accuracy acc;
  RunResult r = netrun::run_scenario(sc, ro, false, &acc);
  INFO(r.error);
  REQUIRE(r.exit_status == 0);
  REQUIRE(acc.images == 300);

  // Float reference on the same images.
  auto g = netrun::load_model(sc);
  auto test = dataset::load_fashion_mnist(dataset::Split::Test);
  nn::Tensor x({300, 1, 28, 28}, test.to_float(0, 300));
  nn::Tensor y = nn::evaluate(g, x);
  std::size_t correct = 0;
  for (int i = 0; i < 300; ++i) {
    auto* row = y.data.data() + i * 10;
    correct += static_cast<std::size_t>(std::max_element(row, row + 10) - row) == test.labels[i];
  }
  const double ref_acc = correct / 300.0;
  INFO("chip " << acc.accuracy() << " float " << ref_acc);
  REQUIRE(std::fabs(acc.accuracy() - ref_acc) <= 0.005 + 1e-12);
  REQUIRE(ref_acc > 0.85);
  REQUIRE(std::filesystem::exists(out + "/accuracy.csv"));
  REQUIRE(r.metrics.at("accuracy") == Approx(acc.accuracy()));
  REQUIRE(r.metrics.count("tops") == 1);
}

CIMVP_SC_TEST_MAIN
