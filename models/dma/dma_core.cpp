#include "models/dma/dma_core.hpp"

#include <algorithm>
#include <cstring>

namespace cimvp::dma {

static_assert(sizeof(dma_desc_t) == DMA_DESC_BYTES, "dma_desc_t must match DMA_DESC_BYTES");

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw DescriptorError("DMA descriptor field '" + field + "' " + why);
}

void need_nonzero(uint32_t v, const char* field) {
  if (v == 0) bad(field, "is 0; it must be at least 1");
}

// Byte offset of the last byte of a 3-D shape relative to its base, plus one.
uint64_t extent_3d(uint64_t row_bytes, uint32_t rows, uint32_t planes, uint64_t stride1, uint64_t stride2) {
  return (planes - 1) * stride2 + (rows - 1) * stride1 + row_bytes;
}

void check_bus_range(uint64_t addr, uint64_t extent, const char* field) {
  if (extent > kMaxDescriptorBytes)
    bad(field, "describes " + std::to_string(extent) + " bytes; one descriptor moves at most " +
                   std::to_string(kMaxDescriptorBytes) + " (split it into a chain)");
  if (addr + extent > (1ull << 32)) bad(field, "range runs past the 32-bit bus address space");
}

}  // namespace

dma_desc_t decode(const uint8_t* bytes) {
  // The bus is little-endian and so is every host this builds on (x86-64, AArch64, RV32).
  dma_desc_t d;
  std::memcpy(&d, bytes, sizeof d);
  return d;
}

void encode(const dma_desc_t& d, uint8_t* bytes) { std::memcpy(bytes, &d, sizeof d); }

uint32_t Im2colGeom::out_h() const {
  const uint64_t span = static_cast<uint64_t>(dil_h) * (kh - 1) + 1, padded = uint64_t{h} + pad_t + pad_b;
  return padded < span ? 0u : static_cast<uint32_t>((padded - span) / stride_h + 1);
}

uint32_t Im2colGeom::out_w() const {
  const uint64_t span = static_cast<uint64_t>(dil_w) * (kw - 1) + 1, padded = uint64_t{w} + pad_l + pad_r;
  return padded < span ? 0u : static_cast<uint32_t>((padded - span) / stride_w + 1);
}

void Im2colGeom::check() const {
  need_nonzero(c, "c");
  need_nonzero(h, "h");
  need_nonzero(w, "w");
  need_nonzero(kh, "kh");
  need_nonzero(kw, "kw");
  need_nonzero(stride_h, "stride_h");
  need_nonzero(stride_w, "stride_w");
  need_nonzero(dil_h, "dil_h");
  need_nonzero(dil_w, "dil_w");
  if (static_cast<uint64_t>(c) * kh * kw > 0xFFFFFFFFull) bad("c", "* kh * kw overflows 32 bits");
  if (out_h() == 0) bad("kh", "with dil_h spans more rows than h + pad_t + pad_b");
  if (out_w() == 0) bad("kw", "with dil_w spans more columns than w + pad_l + pad_r");
  if (k_first >= k_total()) bad("k_first", "is not below K = c*kh*kw = " + std::to_string(k_total()));
  if (static_cast<uint64_t>(k_first) + k_count > k_total())
    bad("k_count", "runs past K = c*kh*kw = " + std::to_string(k_total()));
}

void im2col(const Im2colGeom& g, const uint8_t* img, std::size_t row_stride, std::size_t plane_stride, uint8_t* out,
            std::size_t out_row_stride) {
  const uint32_t oh = g.out_h(), ow = g.out_w(), nk = g.columns();
  // Per column: its channel plane and kernel offsets (computed once, not per element).
  std::vector<std::size_t> plane(nk);
  std::vector<int64_t> ky(nk), kx(nk);
  for (uint32_t j = 0; j < nk; ++j) {
    const uint32_t k = g.k_first + j, khw = g.kh * g.kw;
    plane[j] = static_cast<std::size_t>(k / khw) * plane_stride;
    ky[j] = static_cast<int64_t>((k % khw) / g.kw) * g.dil_h - g.pad_t;
    kx[j] = static_cast<int64_t>(k % g.kw) * g.dil_w - g.pad_l;
  }
  for (uint32_t oy = 0; oy < oh; ++oy)
    for (uint32_t ox = 0; ox < ow; ++ox) {
      uint8_t* row = out + (static_cast<std::size_t>(oy) * ow + ox) * out_row_stride;
      const int64_t y0 = static_cast<int64_t>(oy) * g.stride_h, x0 = static_cast<int64_t>(ox) * g.stride_w;
      for (uint32_t j = 0; j < nk; ++j) {
        const int64_t iy = y0 + ky[j], ix = x0 + kx[j];
        row[j] = (iy < 0 || ix < 0 || iy >= g.h || ix >= g.w)
                     ? g.pad_value
                     : img[plane[j] + static_cast<std::size_t>(iy) * row_stride + static_cast<std::size_t>(ix)];
      }
    }
}

std::vector<Run> runs_3d(uint64_t base, uint64_t row_bytes, uint32_t rows, uint32_t planes, uint64_t stride1,
                         uint64_t stride2) {
  std::vector<Run> runs;
  for (uint32_t z = 0; z < planes; ++z)
    for (uint32_t y = 0; y < rows; ++y) {
      const uint64_t a = base + z * stride2 + y * stride1;
      if (!runs.empty() && runs.back().addr + runs.back().len == a)
        runs.back().len += row_bytes;
      else
        runs.push_back({a, row_bytes});
    }
  return runs;
}

Plan plan(const dma_desc_t& d) {
  Plan p;
  const uint32_t mode = DMA_DESC_MODE(d.ctrl);
  const uint32_t esize_log2 = (d.ctrl >> DMA_DESC_ESIZE_SHIFT) & 0x3u;
  if (esize_log2 > 2) bad("ctrl", "element size code 3 is not 1, 2 or 4 bytes (bits 5:4 must be 0, 1 or 2)");
  const uint64_t esize = 1ull << esize_log2;
  if (mode == DMA_MODE_COPY || mode == DMA_MODE_FILL) {
    p.mode = mode == DMA_MODE_COPY ? Mode::Copy : Mode::Fill;
    need_nonzero(d.size0, "size0");
    need_nonzero(d.size1, "size1");
    need_nonzero(d.size2, "size2");
    const uint64_t row = d.size0 * esize;
    const uint64_t total = row * d.size1 * d.size2;
    if (total > kMaxDescriptorBytes) check_bus_range(d.dst, total, "size0");
    check_bus_range(d.dst, extent_3d(row, d.size1, d.size2, d.dst_stride1, d.dst_stride2), "dst_stride1");
    p.dst = runs_3d(d.dst, row, d.size1, d.size2, d.dst_stride1, d.dst_stride2);
    p.dst_bytes = total;
    if (p.mode == Mode::Copy) {
      check_bus_range(d.src, extent_3d(row, d.size1, d.size2, d.src_stride1, d.src_stride2), "src_stride1");
      p.src = runs_3d(d.src, row, d.size1, d.size2, d.src_stride1, d.src_stride2);
      p.src_bytes = total;
    }
    return p;
  }
  if (mode != DMA_MODE_IM2COL) bad("ctrl", "mode 3 is not COPY (0), FILL (1) or IM2COL (2)");
  p.mode = Mode::Im2col;
  if (esize != 1) bad("ctrl", "IM2COL works on uint8 codes: element size must be 1 byte");
  need_nonzero(d.size0, "size0");
  Im2colGeom g;
  g.c = d.c, g.h = d.h, g.w = d.w, g.kh = d.kh, g.kw = d.kw;
  g.stride_h = d.stride_h, g.stride_w = d.stride_w, g.dil_h = d.dil_h, g.dil_w = d.dil_w;
  g.pad_t = d.pad_t, g.pad_l = d.pad_l, g.pad_b = d.pad_b, g.pad_r = d.pad_r;
  g.pad_value = static_cast<uint8_t>(d.pad_value);
  g.k_first = d.k_first, g.k_count = d.k_count;
  g.check();
  if (d.src_stride1 < d.w) bad("src_stride1", "is smaller than w (rows of one channel would overlap)");
  if (d.c > 1 && d.src_stride2 < static_cast<uint64_t>(d.src_stride1) * (d.h - 1) + d.w)
    bad("src_stride2", "is smaller than one channel plane ((h-1)*src_stride1 + w)");
  const uint64_t cols = g.columns();
  if (d.dst_stride1 < cols) bad("dst_stride1", "is smaller than the row length k_count");
  p.geom = g;
  p.image_box = extent_3d(d.w, d.h, d.c, d.src_stride1, d.src_stride2);
  const uint64_t positions = static_cast<uint64_t>(g.out_h()) * g.out_w() * d.size0;
  if (positions > 0xFFFFFFFFull) bad("size0", "times the output positions overflows 32 bits");
  check_bus_range(d.src, extent_3d(p.image_box, d.size0, 1, d.src_stride_n, 0), "src_stride_n");
  check_bus_range(d.dst, extent_3d(cols, static_cast<uint32_t>(positions), 1, d.dst_stride1, 0), "dst_stride1");
  p.src = runs_3d(d.src, p.image_box, d.size0, 1, d.src_stride_n, 0);
  p.src_bytes = p.image_box * d.size0;
  p.dst = runs_3d(d.dst, cols, static_cast<uint32_t>(positions), 1, d.dst_stride1, 0);
  p.dst_bytes = cols * positions;
  return p;
}

void execute(const dma_desc_t& d, const Plan& p, const uint8_t* src, uint8_t* dst) {
  switch (p.mode) {
    case Mode::Copy:
      // Source and destination enumerate the same elements in the same order.
      std::memcpy(dst, src, p.dst_bytes);
      return;
    case Mode::Fill: {
      const uint64_t esize = 1ull << ((d.ctrl >> DMA_DESC_ESIZE_SHIFT) & 0x3u);
      uint8_t pat[4];
      std::memcpy(pat, &d.fill, 4);
      for (uint64_t i = 0; i < p.dst_bytes; ++i) dst[i] = pat[i % esize];
      return;
    }
    case Mode::Im2col: {
      // Rows are staged densely (k_count bytes each); the runs place them at dst_stride1.
      const uint64_t cols = p.geom.columns();
      const uint64_t per_image = static_cast<uint64_t>(p.geom.out_h()) * p.geom.out_w() * cols;
      for (uint32_t b = 0; b < d.size0; ++b)
        im2col(p.geom, src + b * p.image_box, d.src_stride1, d.src_stride2, dst + b * per_image, cols);
      return;
    }
  }
}

}  // namespace cimvp::dma
