// DMA core: im2col against a naive reference built on an explicitly padded image, hand-computed
// patch matrices, run planning and merging, copy / fill semantics, descriptor checks.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <vector>

#include "models/dma/dma_core.hpp"

using namespace cimvp::dma;

namespace {

// Reference: materialise the padded image, then read patches with no bounds logic.
std::vector<uint8_t> naive_im2col(const Im2colGeom& g, const std::vector<uint8_t>& chw) {
  const uint32_t ph = g.h + g.pad_t + g.pad_b, pw = g.w + g.pad_l + g.pad_r;
  std::vector<uint8_t> pad(static_cast<std::size_t>(g.c) * ph * pw, g.pad_value);
  for (uint32_t c = 0; c < g.c; ++c)
    for (uint32_t y = 0; y < g.h; ++y)
      for (uint32_t x = 0; x < g.w; ++x)
        pad[(c * ph + y + g.pad_t) * pw + x + g.pad_l] = chw[(c * g.h + y) * g.w + x];
  const uint32_t oh = (ph - (g.kh - 1) * g.dil_h - 1) / g.stride_h + 1;
  const uint32_t ow = (pw - (g.kw - 1) * g.dil_w - 1) / g.stride_w + 1;
  std::vector<uint8_t> rows;
  for (uint32_t oy = 0; oy < oh; ++oy)
    for (uint32_t ox = 0; ox < ow; ++ox) {
      std::vector<uint8_t> full;
      for (uint32_t c = 0; c < g.c; ++c)
        for (uint32_t ky = 0; ky < g.kh; ++ky)
          for (uint32_t kx = 0; kx < g.kw; ++kx)
            full.push_back(pad[(c * ph + oy * g.stride_h + ky * g.dil_h) * pw + ox * g.stride_w + kx * g.dil_w]);
      const uint32_t n = g.k_count ? g.k_count : g.k_total() - g.k_first;
      rows.insert(rows.end(), full.begin() + g.k_first, full.begin() + g.k_first + n);
    }
  return rows;
}

dma_desc_t copy_desc(uint32_t src, uint32_t dst, uint32_t s0, uint32_t s1, uint32_t s2, uint32_t ss1, uint32_t ss2,
                     uint32_t ds1, uint32_t ds2, uint32_t esize_log2 = 0) {
  dma_desc_t d{};
  d.ctrl = DMA_MODE_COPY | DMA_DESC_ESIZE(esize_log2);
  d.src = src, d.dst = dst, d.size0 = s0, d.size1 = s1, d.size2 = s2;
  d.src_stride1 = ss1, d.src_stride2 = ss2, d.dst_stride1 = ds1, d.dst_stride2 = ds2;
  return d;
}

}  // namespace

TEST_CASE("im2col: 2x2 kernel over a 3x3 image, hand-computed") {
  Im2colGeom g;
  g.c = 1, g.h = 3, g.w = 3, g.kh = 2, g.kw = 2;
  std::vector<uint8_t> img = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  REQUIRE(g.out_h() == 2);
  REQUIRE(g.out_w() == 2);
  std::vector<uint8_t> out(16);
  im2col(g, img.data(), 3, 9, out.data(), 4);
  CHECK(out == std::vector<uint8_t>{1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9});
}

TEST_CASE("im2col: padding reads as the pad value, stride 2, two channels, hand-computed") {
  Im2colGeom g;
  g.c = 2, g.h = 3, g.w = 3, g.kh = 3, g.kw = 3, g.stride_h = 2, g.stride_w = 2;
  g.pad_t = g.pad_l = g.pad_b = g.pad_r = 1;
  g.pad_value = 7;
  std::vector<uint8_t> img(18);
  for (int i = 0; i < 18; ++i) img[i] = static_cast<uint8_t>(10 + i);
  REQUIRE(g.out_h() == 2);
  std::vector<uint8_t> out(4 * 18);
  im2col(g, img.data(), 3, 9, out.data(), 18);
  // Position (0,0): channel 0 window rows -1..1, cols -1..1; channel 1 likewise.
  const std::vector<uint8_t> p0 = {7, 7, 7, 7, 10, 11, 7, 13, 14, 7, 7, 7, 7, 19, 20, 7, 22, 23};
  CHECK(std::vector<uint8_t>(out.begin(), out.begin() + 18) == p0);
  // Position (1,1): rows 1..3, cols 1..3 (row/col 3 is padding).
  const std::vector<uint8_t> p3 = {14, 15, 7, 17, 18, 7, 7, 7, 7, 23, 24, 7, 26, 27, 7, 7, 7, 7};
  CHECK(std::vector<uint8_t>(out.begin() + 54, out.end()) == p3);
}

TEST_CASE("im2col matches the naive reference over padding, stride, dilation and column windows") {
  std::mt19937_64 rng(12345);
  auto pick = [&](uint32_t lo, uint32_t hi) { return std::uniform_int_distribution<uint32_t>(lo, hi)(rng); };
  int cases = 0;
  for (int t = 0; t < 300; ++t) {
    Im2colGeom g;
    g.c = pick(1, 4), g.h = pick(1, 9), g.w = pick(1, 9);
    g.kh = pick(1, 4), g.kw = pick(1, 4), g.stride_h = pick(1, 3), g.stride_w = pick(1, 3);
    g.dil_h = pick(1, 3), g.dil_w = pick(1, 3);
    g.pad_t = pick(0, 3), g.pad_l = pick(0, 3), g.pad_b = pick(0, 3), g.pad_r = pick(0, 3);
    g.pad_value = static_cast<uint8_t>(pick(0, 255));
    if (g.out_h() == 0 || g.out_w() == 0) continue;
    g.k_first = pick(0, g.k_total() - 1);
    g.k_count = pick(0, g.k_total() - g.k_first);
    std::vector<uint8_t> img(static_cast<std::size_t>(g.c) * g.h * g.w);
    for (auto& v : img) v = static_cast<uint8_t>(pick(0, 255));
    const auto ref = naive_im2col(g, img);
    std::vector<uint8_t> out(static_cast<std::size_t>(g.out_h()) * g.out_w() * g.columns());
    im2col(g, img.data(), g.w, static_cast<std::size_t>(g.h) * g.w, out.data(), g.columns());
    REQUIRE(out == ref);
    ++cases;
  }
  CHECK(cases > 150);
}

TEST_CASE("output size follows the ONNX Conv formula") {
  Im2colGeom g;
  g.h = 28, g.w = 28, g.kh = 5, g.kw = 5, g.pad_t = g.pad_b = 2, g.pad_l = g.pad_r = 2;
  CHECK(g.out_h() == 28);  // (28 + 4 - 5) / 1 + 1
  g.stride_h = 2, g.dil_w = 2;
  CHECK(g.out_h() == 14);  // (32 - 5) / 2 + 1
  CHECK(g.out_w() == 24);  // (32 - 9) / 1 + 1
}

TEST_CASE("runs merge adjacent rows and planes, one run per gap") {
  auto r = runs_3d(0x100, 16, 4, 2, 16, 64);  // fully contiguous 2 x 4 x 16
  REQUIRE(r.size() == 1);
  CHECK(r[0].addr == 0x100);
  CHECK(r[0].len == 128);
  r = runs_3d(0x100, 16, 4, 2, 32, 256);  // row gaps
  REQUIRE(r.size() == 8);
  CHECK(r[5].addr == 0x100 + 256 + 32);
  r = runs_3d(0, 8, 3, 2, 8, 100);  // rows contiguous, planes apart
  REQUIRE(r.size() == 2);
  CHECK(r[1].addr == 100);
  CHECK(r[1].len == 24);
}

TEST_CASE("copy plan: a strided 3-D block of 2-byte elements into a dense buffer") {
  auto d = copy_desc(0x1000, 0x8000, 3, 2, 2, 64, 1024, 6, 12, 1);
  Plan p = plan(d);
  CHECK(p.src_bytes == 24);
  CHECK(p.dst_bytes == 24);
  REQUIRE(p.src.size() == 4);
  CHECK(p.src[3].addr == 0x1000 + 1024 + 64);
  CHECK(p.src[3].len == 6);
  REQUIRE(p.dst.size() == 1);
  std::vector<uint8_t> staged(24), out(24);
  for (int i = 0; i < 24; ++i) staged[i] = static_cast<uint8_t>(i);
  execute(d, p, staged.data(), out.data());
  CHECK(out == staged);
}

TEST_CASE("fill writes the element pattern over the strided destination") {
  dma_desc_t d{};
  d.ctrl = DMA_MODE_FILL | DMA_DESC_ESIZE(1);
  d.dst = 0x2000, d.size0 = 3, d.size1 = 2, d.size2 = 1, d.dst_stride1 = 100;
  d.fill = 0xBEEF;
  Plan p = plan(d);
  CHECK(p.src.empty());
  REQUIRE(p.dst.size() == 2);
  std::vector<uint8_t> out(p.dst_bytes);
  execute(d, p, nullptr, out.data());
  CHECK(out == std::vector<uint8_t>{0xEF, 0xBE, 0xEF, 0xBE, 0xEF, 0xBE, 0xEF, 0xBE, 0xEF, 0xBE, 0xEF, 0xBE});
}

TEST_CASE("im2col plan: batch of images, a column window, rows at dst_stride1") {
  dma_desc_t d{};
  d.ctrl = DMA_MODE_IM2COL;
  d.src = 0x1000, d.dst = 0x9000, d.size0 = 2;
  d.c = 1, d.h = 3, d.w = 3, d.kh = 2, d.kw = 2, d.stride_h = d.stride_w = 1, d.dil_h = d.dil_w = 1;
  d.src_stride1 = 3, d.src_stride2 = 9, d.src_stride_n = 16;
  d.k_first = 1, d.k_count = 2, d.dst_stride1 = 8;
  Plan p = plan(d);
  CHECK(p.image_box == 9);
  REQUIRE(p.src.size() == 2);  // images 16 bytes apart, 9 used: not adjacent
  CHECK(p.dst.size() == 8);    // 8 rows of 2 bytes at stride 8
  CHECK(p.dst_bytes == 16);
  std::vector<uint8_t> staged = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19};
  std::vector<uint8_t> out(16);
  execute(d, p, staged.data(), out.data());
  CHECK(out == std::vector<uint8_t>{2, 4, 3, 5, 5, 7, 6, 8, 12, 14, 13, 15, 15, 17, 16, 18});
}

TEST_CASE("bad descriptors name the field") {
  auto msg = [](const dma_desc_t& d) {
    try {
      plan(d);
    } catch (const DescriptorError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  auto d = copy_desc(0, 0x100, 0, 1, 1, 0, 0, 0, 0);
  CHECK_THAT(msg(d), Catch::Contains("'size0'"));
  d.size0 = 4, d.size2 = 0;
  CHECK_THAT(msg(d), Catch::Contains("'size2'"));
  d.size2 = 1;
  d.ctrl = 3;
  CHECK_THAT(msg(d), Catch::Contains("mode 3"));
  d.ctrl = DMA_DESC_ESIZE(3);
  CHECK_THAT(msg(d), Catch::Contains("element size"));
  d = copy_desc(0xFFFFFFF0u, 0, 32, 1, 1, 0, 0, 0, 0);
  CHECK_THAT(msg(d), Catch::Contains("32-bit bus"));
  dma_desc_t im{};
  im.ctrl = DMA_MODE_IM2COL;
  im.size0 = 1, im.c = 1, im.h = 2, im.w = 2, im.kh = 3, im.kw = 1, im.stride_h = im.stride_w = 1;
  im.dil_h = im.dil_w = 1, im.src_stride1 = 2, im.dst_stride1 = 3;
  CHECK_THAT(msg(im), Catch::Contains("'kh'"));
  im.kh = 1, im.k_first = 1, im.k_count = 1;
  CHECK_THAT(msg(im), Catch::Contains("'k_first'"));
  im.k_first = 0, im.k_count = 1, im.stride_w = 0;
  CHECK_THAT(msg(im), Catch::Contains("'stride_w'"));
}

TEST_CASE("descriptor bytes round-trip in the regs.h layout") {
  dma_desc_t d{};
  d.next = 0x10000080, d.ctrl = DMA_MODE_IM2COL | DMA_DESC_IRQ, d.src_stride_n = 784;
  uint8_t b[DMA_DESC_BYTES];
  encode(d, b);
  uint32_t w0, w1, w28;
  std::memcpy(&w0, b, 4);
  std::memcpy(&w1, b + 4, 4);
  std::memcpy(&w28, b + 4 * 28, 4);
  CHECK(w0 == 0x10000080u);
  CHECK(w1 == (DMA_MODE_IM2COL | DMA_DESC_IRQ));
  CHECK(w28 == 784u);
  CHECK(decode(b).src_stride_n == 784u);
}
