// Images/s of the whole platform (firmware + TLM bus + tiles + DMA + DPU, SystemC) on the
// example network with bit-serial 8-bit inputs, and of the float reference evaluator
// (platform/onnx/evaluator.hpp) on the same images, in one run.
//
//   bench_netrun [google-benchmark flags]
//   environment: CIMVP_BENCH_IMAGES (default 1000) test images for the platform run;
//                CIMVP_BENCH_SCENARIO (default scenarios/fashion-mnist.yaml);
//                CIMVP_BENCH_SET  "key=value;key=value" scenario overrides (--set);
//                CIMVP_BENCH_CPU_DATAPATH=1: the firmware's CPU path instead of DMA/DPU.
//
// SystemC elaborates once per process, so the platform benchmark runs exactly one iteration
// (its counters: images_per_s = images / wall time of the simulation, total_images_per_s
// including compile and load). Needs the Fashion-MNIST dataset (dataset-fashion-mnist).
#include <benchmark/benchmark.h>
#include <systemc>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <string>

#include "platform/dataset/idx.hpp"
#include "platform/netrun/netrun.hpp"
#include "platform/onnx/evaluator.hpp"

using namespace cimvp;

namespace {

std::size_t bench_images() {
  const char* e = std::getenv("CIMVP_BENCH_IMAGES");
  return e ? std::strtoul(e, nullptr, 10) : 1000;
}

config::Scenario bench_scenario() {
  const char* s = std::getenv("CIMVP_BENCH_SCENARIO");
  config::LoadOptions lo;
  lo.overrides = {"dataset.images=" + std::to_string(bench_images()), "trace.vcd=false", "trace.trace_json=false"};
  if (const char* set = std::getenv("CIMVP_BENCH_SET")) {
    std::stringstream ss(set);
    std::string kv;
    while (std::getline(ss, kv, ';'))
      if (!kv.empty()) lo.overrides.push_back(kv);
  }
  return config::load_scenario(s ? s : CIMVP_SCENARIO_DIR "/fashion-mnist.yaml", lo);
}

void BM_platform(benchmark::State& state) {
  static bool ran = false;
  for (auto _ : state) {
    if (ran) {
      state.SkipWithError("SystemC elaborates once per process: the platform runs one iteration");
      break;
    }
    ran = true;
    auto sc = bench_scenario();
    RunOptions ro;
    ro.echo_console = false;
    ro.out_dir = "out_bench_netrun";
    netrun::FlowOptions fo;
    const char* cpu = std::getenv("CIMVP_BENCH_CPU_DATAPATH");
    fo.cpu_datapath = cpu && std::string(cpu) == "1";
    netrun::Accuracy acc;
    const auto t0 = std::chrono::steady_clock::now();
    RunResult r = netrun::run_scenario(sc, ro, false, &acc, fo);
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r.exit_status != 0) {
      state.SkipWithError(("platform run failed: " + r.error).c_str());
      break;
    }
    const double n = static_cast<double>(acc.images);
    state.counters["images"] = n;
    state.counters["accuracy"] = acc.accuracy();
    state.counters["sim_wall_s"] = r.wall_seconds;
    state.counters["images_per_s"] = n / r.wall_seconds;
    state.counters["total_images_per_s"] = n / total;
    state.counters["sim_latency_us"] = r.metrics.count("latency_ns_per_inference")
                                           ? r.metrics.at("latency_ns_per_inference") * 1e-3
                                           : 0.0;
    state.SetLabel(sc.name + (fo.cpu_datapath ? " (CPU datapath)" : " (DMA/DPU datapath)"));
  }
}
BENCHMARK(BM_platform)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

// The reference evaluator on batches of 50 test images (the chip's batch).
void BM_reference(benchmark::State& state) {
  auto sc = bench_scenario();
  auto g = netrun::load_model(sc);
  auto test = dataset::load_fashion_mnist(dataset::Split::Test, sc.dataset.dir);
  const int64_t n = state.range(0);
  nn::Tensor x({n, 1, 28, 28}, test.to_float(0, static_cast<std::size_t>(n)));
  for (auto _ : state) {
    nn::Tensor y = nn::evaluate(g, x);
    benchmark::DoNotOptimize(y.data.data());
  }
  state.counters["images_per_s"] =
      benchmark::Counter(static_cast<double>(n * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_reference)->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int sc_main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
