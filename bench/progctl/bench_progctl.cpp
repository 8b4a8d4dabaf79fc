// Write-verify throughput: cells programmed per second of wall time for a 128x128 array, with
// uniform random targets over the paper's 100..400 uS window. Counters: cells/s (rate),
// pulses per cell and verify reads per cell.
#include "models/progctl/write_verify.hpp"

#include <benchmark/benchmark.h>

#include <vector>

using namespace cimvp::progctl;

namespace {

// start: 0 = fresh array at g_min, 1 = reprogramming a previously written array (random
// states in the window).
void BM_Program128x128(benchmark::State& state) {
  const bool reprogram = state.range(0) == 1;
  const PulseScheme scheme = state.range(1) == 0 ? PulseScheme::Ispp : PulseScheme::Fixed;
  const DeviceParams dp;
  WriteVerifyParams wv;
  wv.scheme = scheme;
  wv.max_pulses = 300;
  const Programmer prog(dp, wv);
  const std::size_t n = 128 * 128;
  Xoshiro256ss rng(1);
  CellArray start(n, dp.g_min_us);
  std::vector<ProgramEntry> entries(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    if (reprogram) start.g_us[i] = 100 + 300 * rng.uniform();
    entries[i] = {i, 100 + 300 * rng.uniform()};
  }
  std::vector<CellResult> results(n);
  CellArray cells = start;
  std::uint64_t pulses = 0, reads = 0, cells_done = 0, failures = 0, seed = 0;
  for (auto _ : state) {
    cells.g_us = start.g_us;  // same starting array each iteration (16k doubles: negligible)
    const BatchTotals t =
        prog.program_batch(cells, entries.data(), n, results.data(), ++seed, nullptr);
    pulses += t.pulses();
    reads += t.verify_reads;
    failures += t.failures;
    cells_done += n;
    benchmark::DoNotOptimize(results.data());
  }
  state.counters["cells_per_s"] = benchmark::Counter(double(cells_done), benchmark::Counter::kIsRate);
  state.counters["pulses_per_cell"] = double(pulses) / double(cells_done);
  state.counters["reads_per_cell"] = double(reads) / double(cells_done);
  state.counters["failures"] = double(failures);
  state.SetItemsProcessed(static_cast<std::int64_t>(cells_done));
}

void BM_Normal(benchmark::State& state) {
  Xoshiro256ss rng(5);
  double s = 0;
  for (auto _ : state) s += rng.normal();
  benchmark::DoNotOptimize(s);
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_Program128x128)
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->ArgNames({"reprogram", "fixed"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();  // rates per second of wall time, as the goal is stated
BENCHMARK(BM_Normal);

BENCHMARK_MAIN();
