// DPU core and DMA im2col throughput on Fashion-MNIST-sized layers (example CNN shapes:
// 28x28 input, 5x5 conv with 16 channels, 2x2 max pool). Items = input elements.
#include <benchmark/benchmark.h>

#include <vector>

#include "models/dma/dma_core.hpp"
#include "models/dpu/dpu_core.hpp"

using namespace cimvp;

static void BM_DpuConvPost(benchmark::State& s) {
  // Tile output 16 channels x 28x28 positions (HWC) -> scale/bias/ReLU/maxpool -> uint8 CHW.
  const uint32_t C = 16, H = 28, W = 28;
  dpu::Op op;
  op.n = 1, op.c = C, op.h = H, op.w = W;
  op.in = dpu::hwc(dpu::Elem::F32, C, H, W);
  op.has_scale = op.has_bias = true;
  op.relu = true;
  op.pool = dpu::Pool::Max;
  op.pool_kh = op.pool_kw = op.pool_sh = op.pool_sw = 2;
  op.out_h = H / 2, op.out_w = W / 2;
  op.out = dpu::chw(dpu::Elem::U8, C, H / 2, W / 2);
  op.out_scale = 0.05f, op.out_bits = 8;
  std::vector<float> in(C * H * W), scale(C, 0.01f), bias(C, 0.1f);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(static_cast<int>(i % 97) - 40);
  std::vector<uint8_t> out(C * H * W / 4);
  dpu::Engine e;
  for (auto _ : s) {
    e.run(op, reinterpret_cast<const uint8_t*>(in.data()), scale.data(), bias.data(), nullptr, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  s.SetItemsProcessed(s.iterations() * C * H * W);
}
BENCHMARK(BM_DpuConvPost);

static void BM_DmaIm2col(benchmark::State& s) {
  dma::Im2colGeom g;
  g.c = 1, g.h = 28, g.w = 28, g.kh = g.kw = 5, g.pad_t = g.pad_l = g.pad_b = g.pad_r = 2;
  std::vector<uint8_t> img(28 * 28, 7), out(28 * 28 * 25);
  for (auto _ : s) {
    dma::im2col(g, img.data(), 28, 28 * 28, out.data(), 25);
    benchmark::DoNotOptimize(out.data());
  }
  s.SetItemsProcessed(s.iterations() * out.size());
}
BENCHMARK(BM_DmaIm2col);
