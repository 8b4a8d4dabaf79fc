// Gather-free AVX2 / AVX-512 batch search of a TransferTable (adc_core.hpp), for tables of up
// to 128 (AVX2) or 256 (AVX-512) intervals. Two levels of compare-and-count replace the grid walk: x is first compared with
// every 8th breakpoint (broadcast), which picks a group of 8 intervals, then with that group's
// 7 inner breakpoints, fetched per lane by a register permute (vpermps) instead of a gather;
// the interval's value, code and packed flag counters come from permuted register tables too.
// The count of breakpoints <= x is the grid walk's interval index exactly (NaN compares false
// and gives 0, like the grid), so both paths give the same bits (test_adc_core checks it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "models/common/cpu_features.hpp"

namespace cimvp::adc::simd {

constexpr unsigned kMaxGroups = 32;  // 8 intervals each: tables of up to 256 intervals (AVX2: 128)

struct Tables {
  unsigned groups = 0;  // G = 1, 2, 4, 8, then multiples of 4 up to 32; 0 = too large, use the grid
  unsigned flush = 0;   // iterations before the 8-bit flag fields could overflow
  bool flags = false;   // any entry has a non-zero counter
  // Per group g: splitters (breakpoint 8g+7), per super-block a of 4 groups its 3 inner
  // splitters (breakpoints 32a+8b+7, b < 3), inner breakpoints 8g+i (i < 7), and per entry
  // 8g+f the value, the code and the flags (gaps | overlaps << 8 | disagree << 16 | oor << 24)
  // as float bit patterns, each table kMaxGroups wide. Padding: breakpoints +inf, entries
  // past the last repeat the last (so x = +inf lands on it, as in the grid's clamp).
  std::vector<float> t;
};

// bp: the m ascending breakpoints (float); entries m + 1 (value, code, four counters).
Tables build(const float* bp, std::size_t m, const float* value, const std::int32_t* code,
             const std::uint8_t (*counters)[4]);

using cpu::cpu_has_avx2;
using cpu::cpu_has_avx512;  // AVX-512F

// The first n (a multiple of 8) samples; flag counters are added to tot (gaps, overlaps,
// disagreements, out of range). Requires cpu_has_avx2() and 0 < tables.groups <= 16.
void apply_avx2(const Tables& tables, const float* in, float* out, std::int32_t* codes, std::size_t n,
                std::uint64_t tot[4]);
// The same with AVX-512F, 16 samples per step, for any tables.groups > 0 (past 8 groups the
// group comes from two levels: super-blocks of 4 groups, then 3 compares): n a multiple of 16, needs cpu_has_avx512().
void apply_avx512(const Tables& tables, const float* in, float* out, std::int32_t* codes, std::size_t n,
                  std::uint64_t tot[4]);

}  // namespace cimvp::adc::simd
