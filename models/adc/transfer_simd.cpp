#include "models/adc/transfer_simd.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CIMVP_ADC_AVX2 1
#endif

namespace cimvp::adc::simd {

namespace {
// Offsets (in floats) of the tables inside Tables::t.
constexpr std::size_t W = kMaxGroups;
constexpr std::size_t kSplit = 0;              // W splitters
constexpr std::size_t kSplit2 = kSplit + W;    // 3 x W: splitter b of super-block a (a < W / 4)
constexpr std::size_t kFine = kSplit2 + 3 * W;  // 7 x W inner breakpoints
constexpr std::size_t kValue = kFine + 7 * W;  // 8 x W values
constexpr std::size_t kFlags = kValue + 8 * W;  // 8 x W packed counters
constexpr std::size_t kCode = kFlags + 8 * W;   // 8 x W codes
// The same entries in plain order (entry e at e), for the AVX-512 lookups by interval index.
constexpr std::size_t kLinValue = kCode + 8 * W;
constexpr std::size_t kLinFlags = kLinValue + 8 * W;
constexpr std::size_t kLinCode = kLinFlags + 8 * W;
constexpr std::size_t kSize = kLinCode + 8 * W;

float bits_as_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
}  // namespace

Tables build(const float* bp, std::size_t m, const float* value, const std::int32_t* code,
             const std::uint8_t (*counters)[4]) {
  Tables tb;
  // Groups of 8 intervals: 1, 2, 4 or 8 groups, past that a multiple of 4 (whole super-blocks)
  // so the lookups cover just the table (e.g. 20 groups for 150 intervals, not 32).
  unsigned g = 1;
  while (8 * g < m + 1 && g < 8) g <<= 1;
  if (8 * g < m + 1) g = unsigned((m + 1 + 31) / 32) * 4;
  if (g > kMaxGroups) return tb;  // more than 256 intervals: the grid handles it
  tb.groups = g;
  tb.t.assign(kSize, 0.f);
  const float inf = std::numeric_limits<float>::infinity();
  auto brk = [&](std::size_t k) { return k < m ? bp[k] : inf; };
  unsigned maxfield = 0;
  for (unsigned a = 0; 4 * a < g; ++a)
    for (unsigned b = 0; b < 3; ++b) tb.t[kSplit2 + b * W + a] = brk(32 * a + 8 * b + 7);
  for (unsigned q = 0; q < g; ++q) {
    tb.t[kSplit + q] = brk(8 * q + 7);
    for (unsigned i = 0; i < 7; ++i) tb.t[kFine + i * W + q] = brk(8 * q + i);
    for (unsigned f = 0; f < 8; ++f) {
      const std::size_t e = std::min<std::size_t>(8 * q + f, m);
      const std::uint8_t* c = counters[e];
      const std::uint32_t packed = std::uint32_t(c[0]) | std::uint32_t(c[1]) << 8 | std::uint32_t(c[2]) << 16 |
                                   std::uint32_t(c[3]) << 24;
      for (int j = 0; j < 4; ++j) maxfield = std::max<unsigned>(maxfield, c[j]);
      tb.t[kValue + f * W + q] = value[e];
      tb.t[kFlags + f * W + q] = bits_as_float(packed);
      tb.t[kCode + f * W + q] = bits_as_float(std::uint32_t(code[e]));
      tb.t[kLinValue + 8 * q + f] = value[e];
      tb.t[kLinFlags + 8 * q + f] = bits_as_float(packed);
      tb.t[kLinCode + 8 * q + f] = bits_as_float(std::uint32_t(code[e]));
    }
  }
  tb.flags = maxfield > 0;
  tb.flush = tb.flags ? 255u / maxfield : 0u;
  return tb;
}


#ifdef CIMVP_ADC_AVX2
namespace {

// Entry of a G-wide register table for the group index k (0..G-1) of each lane. hi_mask has
// k's bit 3 in the sign bit (G = 16 only).
template <unsigned G>
__attribute__((target("avx2"), always_inline)) inline __m256 by_group(const __m256& lo, const __m256& hi, __m256i k,
                                                                      __m256 hi_mask) {
  const __m256 a = _mm256_permutevar8x32_ps(lo, k);
  if constexpr (G > 8) return _mm256_blendv_ps(a, _mm256_permutevar8x32_ps(hi, k), hi_mask);
  else {
    (void)hi;
    (void)hi_mask;
    return a;
  }
}

// Entry 8k + f: the 8 candidates by group, then a 3-level select on f's bits.
template <unsigned G>
__attribute__((target("avx2"), always_inline)) inline __m256 by_entry(const __m256* lo, const __m256* hi, __m256i k,
                                                                      __m256 hi_mask, const __m256 fm[3]) {
  __m256 w[8];
  for (int j = 0; j < 8; ++j) w[j] = by_group<G>(lo[j], hi[j], k, hi_mask);
  const __m256 a0 = _mm256_blendv_ps(w[0], w[1], fm[0]), a1 = _mm256_blendv_ps(w[2], w[3], fm[0]);
  const __m256 a2 = _mm256_blendv_ps(w[4], w[5], fm[0]), a3 = _mm256_blendv_ps(w[6], w[7], fm[0]);
  const __m256 b0 = _mm256_blendv_ps(a0, a1, fm[1]), b1 = _mm256_blendv_ps(a2, a3, fm[1]);
  return _mm256_blendv_ps(b0, b1, fm[2]);
}

__attribute__((target("avx2"))) void flush_flags(__m256i& acc, std::uint64_t tot[4]) {
  alignas(32) std::uint32_t lane[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lane), acc);
  for (std::uint32_t v : lane) {
    tot[0] += v & 0xFFu;
    tot[1] += (v >> 8) & 0xFFu;
    tot[2] += (v >> 16) & 0xFFu;
    tot[3] += v >> 24;
  }
  acc = _mm256_setzero_si256();
}

template <unsigned G, bool WithCodes, bool Flags>
__attribute__((target("avx2"))) void run(const float* t, unsigned flush, const float* in, float* out,
                                         std::int32_t* codes, std::size_t n, std::uint64_t tot[4]) {
  constexpr unsigned H = G > 8 ? 8 : 0;  // offset of the upper half of a 16-wide table
  __m256 split[G > 1 ? G - 1 : 1];
  for (unsigned q = 0; q + 1 < G; ++q) split[q] = _mm256_set1_ps(t[kSplit + q]);
  __m256 fine_lo[7], fine_hi[7], val_lo[8], val_hi[8], flg_lo[8], flg_hi[8], code_lo[8], code_hi[8];
  for (int i = 0; i < 7; ++i) {
    fine_lo[i] = _mm256_loadu_ps(t + kFine + i * W);
    fine_hi[i] = _mm256_loadu_ps(t + kFine + i * W + H);
  }
  for (int f = 0; f < 8; ++f) {
    val_lo[f] = _mm256_loadu_ps(t + kValue + f * W);
    val_hi[f] = _mm256_loadu_ps(t + kValue + f * W + H);
    flg_lo[f] = _mm256_loadu_ps(t + kFlags + f * W);
    flg_hi[f] = _mm256_loadu_ps(t + kFlags + f * W + H);
    code_lo[f] = _mm256_loadu_ps(t + kCode + f * W);
    code_hi[f] = _mm256_loadu_ps(t + kCode + f * W + H);
  }
  __m256i acc = _mm256_setzero_si256();
  unsigned it = 0;
  for (std::size_t i = 0; i < n; i += 8) {
    const __m256 x = _mm256_loadu_ps(in + i);
    // Group: splitters <= x (a true compare is -1).
    __m256i k = _mm256_setzero_si256();
    for (unsigned q = 0; q + 1 < G; ++q)
      k = _mm256_sub_epi32(k, _mm256_castps_si256(_mm256_cmp_ps(x, split[q], _CMP_GE_OQ)));
    const __m256 hi_mask = _mm256_castsi256_ps(_mm256_slli_epi32(k, 28));
    // Interval within the group: inner breakpoints <= x.
    __m256i f = _mm256_setzero_si256();
    for (int j = 0; j < 7; ++j) {
      const __m256 b = by_group<G>(fine_lo[j], fine_hi[j], k, hi_mask);
      f = _mm256_sub_epi32(f, _mm256_castps_si256(_mm256_cmp_ps(x, b, _CMP_GE_OQ)));
    }
    const __m256 fm[3] = {_mm256_castsi256_ps(_mm256_slli_epi32(f, 31)),
                          _mm256_castsi256_ps(_mm256_slli_epi32(f, 30)),
                          _mm256_castsi256_ps(_mm256_slli_epi32(f, 29))};
    _mm256_storeu_ps(out + i, by_entry<G>(val_lo, val_hi, k, hi_mask, fm));
    if constexpr (WithCodes)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes + i),
                          _mm256_castps_si256(by_entry<G>(code_lo, code_hi, k, hi_mask, fm)));
    if constexpr (Flags) {
      acc = _mm256_add_epi32(acc, _mm256_castps_si256(by_entry<G>(flg_lo, flg_hi, k, hi_mask, fm)));
      if (++it == flush) {
        flush_flags(acc, tot);
        it = 0;
      }
    }
  }
  if constexpr (Flags) flush_flags(acc, tot);
}

template <unsigned G>
void run_g(const Tables& tb, const float* in, float* out, std::int32_t* codes, std::size_t n, std::uint64_t tot[4]) {
  const float* t = tb.t.data();
  if (codes) {
    if (tb.flags) run<G, true, true>(t, tb.flush, in, out, codes, n, tot);
    else run<G, true, false>(t, tb.flush, in, out, codes, n, tot);
  } else {
    if (tb.flags) run<G, false, true>(t, tb.flush, in, out, codes, n, tot);
    else run<G, false, false>(t, tb.flush, in, out, codes, n, tot);
  }
}

// ---- AVX-512: 16 samples per step, compares into mask registers, the group's inner
// breakpoints by one 16-entry permute, and the entry by 32-entry two-register permutes
// (vpermt2ps) indexed by the interval itself.
#define CIMVP_T512 __attribute__((target("avx512f")))

// Entry k (0..8G-1) of a table held in 8G / 16 registers: 32-entry two-register permutes,
// then a select tree on k's bits 5, 6, 7.
template <unsigned G>
CIMVP_T512 __attribute__((always_inline)) inline __m512i by_index512(const __m512i* tab, __m512i k,
                                                                   const __mmask16 bit[3]) {
  constexpr unsigned E = 8 * G;
  if constexpr (E <= 16) {
    (void)bit;
    return _mm512_permutexvar_epi32(k, tab[0]);
  } else {
    static_assert(E % 32 == 0, "past 16 entries the tables are whole register pairs (G = 4, 8, 12, ...)");
    constexpr unsigned P = E / 32;  // register pairs
    __m512i r[P];
    for (unsigned p = 0; p < P; ++p) r[p] = _mm512_permutex2var_epi32(tab[2 * p], k, tab[2 * p + 1]);
    // Select tree on k's bits 5, 6, 7: pair p = k >> 5. An odd last pair passes up unchanged
    // (its lanes have the level's bit clear).
    unsigned level = 0;
    for (unsigned w = P; w > 1; w = (w + 1) / 2, ++level) {
      for (unsigned p = 0; p < w / 2; ++p) r[p] = _mm512_mask_blend_epi32(bit[level], r[2 * p], r[2 * p + 1]);
      if (w % 2) r[w / 2] = r[w - 1];
    }
    return r[0];
  }
}

CIMVP_T512 void flush_flags512(__m512i& acc, std::uint64_t tot[4]) {
  alignas(64) std::uint32_t lane[16];
  _mm512_store_si512(lane, acc);
  for (std::uint32_t v : lane) {
    tot[0] += v & 0xFFu;
    tot[1] += (v >> 8) & 0xFFu;
    tot[2] += (v >> 16) & 0xFFu;
    tot[3] += v >> 24;
  }
  acc = _mm512_setzero_si512();
}

template <unsigned G, bool WithCodes, bool Flags>
CIMVP_T512 void run512(const float* t, unsigned flush, const float* in, float* out, std::int32_t* codes,
                       std::size_t n, std::uint64_t tot[4]) {
  // G >= 8: the group comes from two levels (super-blocks of 4 groups, then 3 splitters of
  // the super-block), 6 compares instead of G - 1.
  constexpr bool kThree = G >= 8;
  constexpr unsigned S = kThree ? G / 4 : 1;          // super-blocks
  constexpr unsigned L1 = kThree ? S - 1 : G - 1;      // broadcast splitters
  constexpr unsigned R = G >= 2 ? G / 2 : 1;           // registers per entry table (8G / 16)
  __m512 split[L1 > 0 ? L1 : 1];
  for (unsigned q = 0; q < L1; ++q) split[q] = _mm512_set1_ps(t[kSplit + (kThree ? 4 * q + 3 : q)]);
  __m512 split2[3];
  for (int b = 0; b < 3; ++b) split2[b] = _mm512_loadu_ps(t + kSplit2 + b * W);
  __m512 fine_lo[7], fine_hi[7];
  for (int i = 0; i < 7; ++i) {
    fine_lo[i] = _mm512_loadu_ps(t + kFine + i * W);
    fine_hi[i] = _mm512_loadu_ps(t + kFine + i * W + 16);
  }
  __m512i val[R], flg[R], cod[R];
  for (unsigned r = 0; r < R; ++r) {
    val[r] = _mm512_castps_si512(_mm512_loadu_ps(t + kLinValue + 16 * r));
    flg[r] = _mm512_castps_si512(_mm512_loadu_ps(t + kLinFlags + 16 * r));
    cod[r] = _mm512_castps_si512(_mm512_loadu_ps(t + kLinCode + 16 * r));
  }
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i bitv[3] = {_mm512_set1_epi32(32), _mm512_set1_epi32(64), _mm512_set1_epi32(128)};
  __m512i acc = _mm512_setzero_si512();
  unsigned it = 0;
  for (std::size_t i = 0; i < n; i += 16) {
    const __m512 x = _mm512_loadu_ps(in + i);
    __m512i g = _mm512_setzero_si512();
    for (unsigned q = 0; q < L1; ++q) g = _mm512_mask_add_epi32(g, _mm512_cmp_ps_mask(x, split[q], _CMP_GE_OQ), g, one);
    if constexpr (kThree) {
      __m512i b = _mm512_slli_epi32(g, 2);
      for (int j = 0; j < 3; ++j)
        b = _mm512_mask_add_epi32(b, _mm512_cmp_ps_mask(x, _mm512_permutexvar_ps(g, split2[j]), _CMP_GE_OQ), b, one);
      g = b;
    }
    __m512i k = _mm512_slli_epi32(g, 3);
    for (int j = 0; j < 7; ++j) {
      __m512 bj;
      if constexpr (G > 16) bj = _mm512_permutex2var_ps(fine_lo[j], g, fine_hi[j]);
      else bj = _mm512_permutexvar_ps(g, fine_lo[j]);
      k = _mm512_mask_add_epi32(k, _mm512_cmp_ps_mask(x, bj, _CMP_GE_OQ), k, one);
    }
    const __mmask16 bit[3] = {_mm512_test_epi32_mask(k, bitv[0]), _mm512_test_epi32_mask(k, bitv[1]),
                              _mm512_test_epi32_mask(k, bitv[2])};
    _mm512_storeu_si512(out + i, by_index512<G>(val, k, bit));
    if constexpr (WithCodes) _mm512_storeu_si512(codes + i, by_index512<G>(cod, k, bit));
    if constexpr (Flags) {
      acc = _mm512_add_epi32(acc, by_index512<G>(flg, k, bit));
      if (++it == flush) {
        flush_flags512(acc, tot);
        it = 0;
      }
    }
  }
  if constexpr (Flags) flush_flags512(acc, tot);
}

template <unsigned G>
void run512_g(const Tables& tb, const float* in, float* out, std::int32_t* codes, std::size_t n,
              std::uint64_t tot[4]) {
  const float* t = tb.t.data();
  if (codes) {
    if (tb.flags) run512<G, true, true>(t, tb.flush, in, out, codes, n, tot);
    else run512<G, true, false>(t, tb.flush, in, out, codes, n, tot);
  } else {
    if (tb.flags) run512<G, false, true>(t, tb.flush, in, out, codes, n, tot);
    else run512<G, false, false>(t, tb.flush, in, out, codes, n, tot);
  }
}

}  // namespace
#endif

void apply_avx2(const Tables& tb, const float* in, float* out, std::int32_t* codes, std::size_t n,
                std::uint64_t tot[4]) {
#ifdef CIMVP_ADC_AVX2
  if (n % 8 != 0 || tb.groups == 0 || !cpu_has_avx2())
    throw std::invalid_argument("simd::apply_avx2: needs n a multiple of 8, a table of <= 128 intervals and AVX2");
  if (tb.groups > 16) throw std::invalid_argument("simd::apply_avx2: tables of > 128 intervals take the AVX-512 path");
  switch (tb.groups) {
    case 1: run_g<1>(tb, in, out, codes, n, tot); return;
    case 2: run_g<2>(tb, in, out, codes, n, tot); return;
    case 4: run_g<4>(tb, in, out, codes, n, tot); return;
    case 8: run_g<8>(tb, in, out, codes, n, tot); return;
    case 12: run_g<12>(tb, in, out, codes, n, tot); return;
    case 16: run_g<16>(tb, in, out, codes, n, tot); return;
    default: break;
  }
#else
  (void)tb, (void)in, (void)out, (void)codes, (void)n, (void)tot;
#endif
  throw std::invalid_argument("simd::apply_avx2: not available in this build or for this table");
}

void apply_avx512(const Tables& tb, const float* in, float* out, std::int32_t* codes, std::size_t n,
                  std::uint64_t tot[4]) {
#ifdef CIMVP_ADC_AVX2
  if (n % 16 != 0 || tb.groups == 0 || !cpu_has_avx512())
    throw std::invalid_argument(
        "simd::apply_avx512: needs n a multiple of 16, a table of <= 256 intervals and AVX-512");
  switch (tb.groups) {
    case 1: run512_g<1>(tb, in, out, codes, n, tot); return;
    case 2: run512_g<2>(tb, in, out, codes, n, tot); return;
    case 4: run512_g<4>(tb, in, out, codes, n, tot); return;
    case 8: run512_g<8>(tb, in, out, codes, n, tot); return;
    case 12: run512_g<12>(tb, in, out, codes, n, tot); return;
    case 16: run512_g<16>(tb, in, out, codes, n, tot); return;
    case 20: run512_g<20>(tb, in, out, codes, n, tot); return;
    case 24: run512_g<24>(tb, in, out, codes, n, tot); return;
    case 28: run512_g<28>(tb, in, out, codes, n, tot); return;
    case 32: run512_g<32>(tb, in, out, codes, n, tot); return;
    default: break;
  }
#else
  (void)tb, (void)in, (void)out, (void)codes, (void)n, (void)tot;
#endif
  throw std::invalid_argument("simd::apply_avx512: not available in this build or for this table");
}

}  // namespace cimvp::adc::simd
