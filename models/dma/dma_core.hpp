// DMA engine core (no SystemC): decodes and checks descriptors (firmware/include/cimvp/regs.h
// dma_desc_t), plans the contiguous byte runs a descriptor reads and writes, and produces the
// destination bytes from the source bytes (copy, fill, im2col). The SystemC shell
// (models/dma/dma.hpp) moves the runs over the bus in bursts. docs/dma.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "cimvp/regs.h"

namespace cimvp::dma {

enum class Mode { Copy, Fill, Im2col };

// A descriptor that cannot run (zero size, bad mode, im2col geometry that does not fit).
// The message names the descriptor field.
struct DescriptorError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Decodes the little-endian bytes of one descriptor (DMA_DESC_BYTES of them).
dma_desc_t decode(const uint8_t* bytes);
void encode(const dma_desc_t& d, uint8_t* bytes);

// im2col geometry: a uint8 C x H x W image -> one row per output position (oy * out_w + ox)
// holding patch columns k_first .. k_first + k_count - 1, k = c*kh*kw + ky*kw + kx.
struct Im2colGeom {
  uint32_t c = 1, h = 1, w = 1;
  uint32_t kh = 1, kw = 1, stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  uint32_t pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;
  uint8_t pad_value = 0;
  uint32_t k_first = 0, k_count = 0;  // k_count 0: all columns from k_first

  uint32_t k_total() const { return c * kh * kw; }
  uint32_t columns() const { return k_count ? k_count : k_total() - k_first; }
  uint32_t out_h() const;
  uint32_t out_w() const;
  // Throws DescriptorError naming the field when the geometry is not usable.
  void check() const;
};

// Writes out_h*out_w rows of columns() codes; row p at out + p * out_row_stride. The image's
// row (y) stride and channel-plane stride are in bytes. Padding reads as pad_value.
void im2col(const Im2colGeom& g, const uint8_t* img, std::size_t row_stride, std::size_t plane_stride, uint8_t* out,
            std::size_t out_row_stride);

// A contiguous byte range on the bus.
struct Run {
  uint64_t addr = 0;
  uint64_t len = 0;
};

// The runs of a 3-D shape: `rows` x `planes` rows of `row_bytes`, merged where consecutive
// rows (or planes) are adjacent, in row-major (plane, row) order.
std::vector<Run> runs_3d(uint64_t base, uint64_t row_bytes, uint32_t rows, uint32_t planes, uint64_t stride1,
                         uint64_t stride2);

// What one descriptor does on the bus. The source runs are read in order into one staging
// buffer; execute() turns it into the bytes of the destination runs, in order.
struct Plan {
  Mode mode = Mode::Copy;
  std::vector<Run> src;
  std::vector<Run> dst;
  uint64_t src_bytes = 0;
  uint64_t dst_bytes = 0;
  Im2colGeom geom;          // Im2col
  uint64_t image_box = 0;   // Im2col: staged bytes per image
};

// Largest number of bytes one descriptor may read or write (the shell stages them).
constexpr uint64_t kMaxDescriptorBytes = 256ull << 20;

// Checks the descriptor and plans its runs; throws DescriptorError naming the field.
Plan plan(const dma_desc_t& d);

// Produces the destination bytes (plan.dst_bytes of them) from the staged source bytes.
void execute(const dma_desc_t& d, const Plan& plan, const uint8_t* src, uint8_t* dst);

}  // namespace cimvp::dma
