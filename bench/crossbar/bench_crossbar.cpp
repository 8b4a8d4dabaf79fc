// MVM throughput of the crossbar core vs a plain float Eigen GEMM of the same logical shape.
// Counters: logical_MACps = K*N*batch per call; cell_MACps = every cell read in every input
// cycle and slice (MvmStats::cell_reads). Bit-serial 8-bit inputs, 8-bit weights, 2-bit cells,
// differential pairs.
#include <benchmark/benchmark.h>

#include "models/crossbar/crossbar.hpp"
#include "models/crossbar/parallel.hpp"

#include <cstdlib>
#include <random>

using namespace cimvp::crossbar;

namespace {

Eigen::MatrixXi random_inputs(int b, int k) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<int> d(0, 255);
  Eigen::MatrixXi x(b, k);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = d(rng);
  return x;
}

// args: layer size (K = N), batch, noise (0/1), array rows (0 = one array holding the layer)
void BM_CrossbarMvm(benchmark::State& st) {
  const int n = int(st.range(0)), b = int(st.range(1));
  const bool noise = st.range(2) != 0;
  MappingParams mp;  // 8-bit weights, 2-bit cells, bit-serial 8-bit inputs, differential
  mp.rows = st.range(3) ? int(st.range(3)) : n;
  mp.cols = st.range(3) ? int(st.range(3)) : mp.physical_columns(n);
  DeviceParams dp;
  dp.prog_error = noise;
  dp.read_noise = noise;
  std::mt19937_64 rng(2);
  std::normal_distribution<float> g;
  Eigen::MatrixXf w(n, n);
  for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = g(rng);
  TiledLayer layer(w, mp, dp, 3);
  layer.program_ideal();
  const Eigen::MatrixXi x = random_inputs(b, n);
  IdealAdc adc;
  std::int64_t cell_reads = 0;
  for (auto _ : st) {
    MvmResult r = layer.mvm(x, &adc);
    benchmark::DoNotOptimize(r.y.data());
    cell_reads = r.stats.cell_reads;
  }
  st.counters["logical_MACps"] =
      benchmark::Counter(double(n) * n * b, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["cell_MACps"] =
      benchmark::Counter(double(cell_reads), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["arrays"] = double(layer.row_blocks() * layer.col_blocks());
}

void BM_PlainGemm(benchmark::State& st) {
  const int n = int(st.range(0)), b = int(st.range(1));
  const Eigen::MatrixXf x = Eigen::MatrixXf::Random(b, n), w = Eigen::MatrixXf::Random(n, n);
  Eigen::MatrixXf y(b, n);
  for (auto _ : st) {
    y.noalias() = x * w;
    benchmark::DoNotOptimize(y.data());
  }
  st.counters["logical_MACps"] =
      benchmark::Counter(double(n) * n * b, benchmark::Counter::kIsIterationInvariantRate);
}

void Args(benchmark::internal::Benchmark* bm) {
  for (int n : {128, 512})
    for (int b : {1, 256})
      for (int noise : {0, 1})
        for (int rows : {128, 0}) bm->Args({n, b, noise, rows});
}

}  // namespace

BENCHMARK(BM_CrossbarMvm)->Apply(Args)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PlainGemm)
    ->Args({128, 1})
    ->Args({128, 256})
    ->Args({512, 1})
    ->Args({512, 256})
    ->Unit(benchmark::kMicrosecond);

// One MVM worker thread by default: Google Benchmark's CPU time is the main thread's, so the
// rates compare single-thread work with the single-thread GEMM. CIMVP_BENCH_WORKERS=N runs the
// chunks on N threads (then read the wall-time column).
int main(int argc, char** argv) {
  const char* w = std::getenv("CIMVP_BENCH_WORKERS");
  cimvp::crossbar::set_worker_threads(w ? unsigned(std::strtoul(w, nullptr, 10)) : 1u);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
