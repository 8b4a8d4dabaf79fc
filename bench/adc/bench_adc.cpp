// ADC core throughput: 5-bit Q-cell and SR quantisation of 16M float32 samples next to a
// memcpy of the same buffer (bytes/s of input), and Lloyd-Max design time for 1M samples.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "models/adc/adc_core.hpp"
extern "C" {
#include "firmware/lib/lloyd_max.h"
}

using namespace cimvp::adc;

namespace {
constexpr std::size_t kN = std::size_t(16) << 20;

const std::vector<float>& input() {
  static std::vector<float> v = [] {
    std::vector<float> x(kN);
    std::mt19937_64 g(1);
    std::normal_distribution<float> nd(0.5f, 0.2f);
    for (auto& e : x) e = nd(g);
    return x;
  }();
  return v;
}

void BM_Memcpy(benchmark::State& s) {
  const auto& in = input();
  std::vector<float> out(kN);
  for (auto _ : s) {
    std::memcpy(out.data(), in.data(), kN * sizeof(float));
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  s.SetBytesProcessed(int64_t(s.iterations()) * kN * sizeof(float));
  s.SetItemsProcessed(int64_t(s.iterations()) * kN);
}

void run_adc(benchmark::State& s, const Adc& adc) {
  const auto& in = input();
  std::vector<float> out(kN);
  ConversionStats st;
  for (auto _ : s) {
    adc.quantize(in.data(), out.data(), nullptr, kN, &st);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  s.SetBytesProcessed(int64_t(s.iterations()) * kN * sizeof(float));
  s.SetItemsProcessed(int64_t(s.iterations()) * kN);
}

void BM_QCell5(benchmark::State& s) {
  QCellAdc adc(QCellDesign::uniform(5, 0.0, 1.0));
  adc.apply_range_fraction_variation(0.01, 1);  // paper's operating point: gaps and overlaps present
  run_adc(s, adc);
}

void BM_QCellSR5(benchmark::State& s) {
  QCellDesign d = QCellDesign::uniform(5, 0.0, 1.0);
  QCellAdc a(d), b(d);
  a.apply_range_fraction_variation(0.01, 1);
  b.apply_range_fraction_variation(0.01, 2);
  QCellSrAdc sr({a, b});
  run_adc(s, sr);
}

// The same tables through each search path: range(0) bits, range(1) 0 = grid walk, 1 = AVX2
// two-level search, 2 = AVX-512, range(2) 0 = plain Q-cell, 1 = SR of two copies.
void BM_TablePath(benchmark::State& s) {
  const int bits = int(s.range(0));
  QCellDesign d = QCellDesign::uniform(bits, 0.0, 1.0);
  QCellAdc a(d), b(d);
  a.apply_range_fraction_variation(0.01, 1);
  b.apply_range_fraction_variation(0.01, 2);
  QCellSrAdc sr({a, b});
  const TransferTable& t = s.range(2) ? sr.table() : a.table();
  const TransferTable::Path paths[] = {TransferTable::Path::Grid, TransferTable::Path::Avx2,
                                       TransferTable::Path::Avx512};
  const auto path = paths[s.range(1)];
  if ((path == TransferTable::Path::Avx2 && !t.has_avx2_path()) ||
      (path == TransferTable::Path::Avx512 && !t.has_avx512_path())) {
    s.SkipWithError("no such path for this table or CPU");
    return;
  }
  const auto& in = input();
  std::vector<float> out(kN);
  ConversionStats st;
  for (auto _ : s) {
    t.apply(in.data(), out.data(), nullptr, kN, &st, path);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  s.SetBytesProcessed(int64_t(s.iterations()) * kN * sizeof(float));
  s.counters["breakpoints"] = double(t.breakpoints().size());
}

void BM_LloydMax1M(benchmark::State& s) {
  const unsigned bits = static_cast<unsigned>(s.range(0));
  const std::size_t n = std::size_t(1) << 20;
  std::vector<float> x(input().begin(), input().begin() + n);
  std::vector<uint64_t> work(lm_work_bytes(n, bits) / 8 + 1);
  std::vector<float> t((1u << bits) - 1), l(1u << bits);
  lm_result r{};
  for (auto _ : s) {
    lm_design(x.data(), nullptr, n, bits, nullptr, work.data(), work.size() * 8, t.data(), l.data(), &r);
    benchmark::DoNotOptimize(t.data());
  }
  s.counters["mse"] = r.mse;
  s.counters["iterations"] = r.iterations;
}
}  // namespace

BENCHMARK(BM_Memcpy)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_QCell5)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_QCellSR5)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_TablePath)
    ->ArgsProduct({{3, 4, 5}, {0, 1, 2}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(0.3);
BENCHMARK(BM_LloydMax1M)->Arg(3)->Arg(5)->Arg(7)->Unit(benchmark::kMillisecond);
