// The crossbar's matrix product for bit-serial inputs (dac_bits 1): every input is 0 or 1, so
// a product row is the sum of the right-hand-side rows whose input bit is set. Summing only
// those rows, in ascending row order starting from +0, gives the same floats as a dense
// product that accumulates each element sequentially over k (0 * g adds a signed zero, which
// leaves a sum unchanged), at the cost of the set bits only. See docs/crossbar.md "MVM".
#pragma once

#include <cstddef>
#include <cstdint>

#include "models/common/cpu_features.hpp"

namespace cimvp::crossbar {

// Which implementation bitplane_product uses: Auto picks AVX2 when the CPU has it. Both give
// the same bits (same additions in the same order); Generic exists so tests can check that.
enum class ProductPath { Auto, Generic, Avx2 };
using cpu::cpu_has_avx2;

// P (rows x ut, column-major, leading dimension ld_p >= rows) = B * R, where row r of the
// binary B is given by its set columns idx[r * idx_stride + 0 .. count[r]) (ascending), and R
// is row-major with row stride utp (a multiple of 8, columns ut..utp-1 zero padded).
// scratch: at least 8 * utp floats, 32-byte aligned.
void bitplane_product(const std::uint16_t* idx, std::size_t idx_stride, const std::uint32_t* count, int rows,
                      const float* r, int utp, int ut, float* p, std::size_t ld_p, float* scratch,
                      ProductPath path = ProductPath::Auto);

}  // namespace cimvp::crossbar
