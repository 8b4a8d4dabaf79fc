#include "models/crossbar/bitplane_product.hpp"

#include <algorithm>
#include <stdexcept>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CIMVP_HAVE_AVX2_PATH 1
#endif

namespace cimvp::crossbar {

namespace {

// One row at a time: acc = +0, then acc += R[k] for the set k in ascending order.
void product_generic(const std::uint16_t* idx, std::size_t stride, const std::uint32_t* count, int rows,
                     const float* r, int utp, int ut, float* p, std::size_t ldp, float* acc) {
  for (int row = 0; row < rows; ++row) {
    std::fill(acc, acc + utp, 0.0f);
    const std::uint16_t* ks = idx + std::size_t(row) * stride;
    for (std::uint32_t t = 0; t < count[row]; ++t) {
      const float* src = r + std::size_t(ks[t]) * utp;
      for (int j = 0; j < utp; ++j) acc[j] += src[j];
    }
    for (int j = 0; j < ut; ++j) p[std::size_t(j) * ldp + row] = acc[j];
  }
}

#ifdef CIMVP_HAVE_AVX2_PATH
// NV accumulators (8 floats each) stay in registers while the set rows stream past.
template <int NV>
__attribute__((target("avx2"))) void row_pass(const float* r, int utp, const std::uint16_t* ks, std::uint32_t n,
                                               float* out) {
  __m256 a[NV];
#pragma GCC unroll 16
  for (int v = 0; v < NV; ++v) a[v] = _mm256_setzero_ps();
  for (std::uint32_t t = 0; t < n; ++t) {
    const float* src = r + std::size_t(ks[t]) * utp;
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) a[v] = _mm256_add_ps(a[v], _mm256_loadu_ps(src + 8 * v));
  }
#pragma GCC unroll 16
  for (int v = 0; v < NV; ++v) _mm256_storeu_ps(out + 8 * v, a[v]);
}

using PassFn = void (*)(const float*, int, const std::uint16_t*, std::uint32_t, float*);
constexpr int kMaxPass = 12;  // accumulators per pass: 12 + a load fit AVX2's 16 registers
constexpr PassFn kPass[kMaxPass + 1] = {nullptr,      row_pass<1>,  row_pass<2>,  row_pass<3>, row_pass<4>,
                                        row_pass<5>,  row_pass<6>,  row_pass<7>,  row_pass<8>, row_pass<9>,
                                        row_pass<10>, row_pass<11>, row_pass<12>};

// Row of sums into out[0, utp): the columns split into near-equal passes of <= kMaxPass vectors.
__attribute__((target("avx2"))) void row_sum_avx2(const float* r, int utp, const std::uint16_t* ks, std::uint32_t n,
                                                  float* out) {
  const int nv = utp / 8, passes = (nv + kMaxPass - 1) / kMaxPass;
  for (int q = 0, v0 = 0; q < passes; ++q) {
    const int w = (nv - v0) / (passes - q);
    kPass[w](r + 8 * v0, utp, ks, n, out + 8 * v0);
    v0 += w;
  }
}

// 8 rows x 8 columns of T (row stride utp, from column j0) into P's columns j0.. (row r0..r0+7).
__attribute__((target("avx2"))) void transpose8_store(const float* t, int utp, int j0, int ncols, float* p,
                                                      std::size_t ldp) {
  __m256 x[8], y[8], z[8];
  for (int i = 0; i < 8; ++i) x[i] = _mm256_loadu_ps(t + std::size_t(i) * utp + j0);
  for (int i = 0; i < 8; i += 2) {
    y[i] = _mm256_unpacklo_ps(x[i], x[i + 1]);
    y[i + 1] = _mm256_unpackhi_ps(x[i], x[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    z[i] = _mm256_shuffle_ps(y[i], y[i + 2], 0x44);
    z[i + 1] = _mm256_shuffle_ps(y[i], y[i + 2], 0xEE);
    z[i + 2] = _mm256_shuffle_ps(y[i + 1], y[i + 3], 0x44);
    z[i + 3] = _mm256_shuffle_ps(y[i + 1], y[i + 3], 0xEE);
  }
  // Column c holds rows 0-3 in z[c % 4] of the first half and rows 4-7 in z[4 + c % 4].
  for (int c = 0; c < ncols; ++c) {
    const int h = c < 4 ? 0x20 : 0x31;
    const __m256 col = h == 0x20 ? _mm256_permute2f128_ps(z[c & 3], z[4 + (c & 3)], 0x20)
                                 : _mm256_permute2f128_ps(z[c & 3], z[4 + (c & 3)], 0x31);
    _mm256_storeu_ps(p + std::size_t(j0 + c) * ldp, col);
  }
}

__attribute__((target("avx2"))) void product_avx2(const std::uint16_t* idx, std::size_t stride,
                                                  const std::uint32_t* count, int rows, const float* r, int utp,
                                                  int ut, float* p, std::size_t ldp, float* t) {
  int r0 = 0;
  for (; r0 + 8 <= rows; r0 += 8) {
    for (int i = 0; i < 8; ++i)
      row_sum_avx2(r, utp, idx + std::size_t(r0 + i) * stride, count[r0 + i], t + std::size_t(i) * utp);
    for (int j0 = 0; j0 < ut; j0 += 8) transpose8_store(t, utp, j0, std::min(8, ut - j0), p + r0, ldp);
  }
  for (; r0 < rows; ++r0) {
    row_sum_avx2(r, utp, idx + std::size_t(r0) * stride, count[r0], t);
    for (int j = 0; j < ut; ++j) p[std::size_t(j) * ldp + r0] = t[j];
  }
}
#endif

}  // namespace

void bitplane_product(const std::uint16_t* idx, std::size_t stride, const std::uint32_t* count, int rows,
                      const float* r, int utp, int ut, float* p, std::size_t ldp, float* scratch,
                      ProductPath path) {
  if (utp % 8 != 0 || ut > utp || ldp < std::size_t(rows))
    throw std::invalid_argument("bitplane_product: utp must be a multiple of 8, ut <= utp, ld_p >= rows");
  if (path == ProductPath::Auto) path = cpu_has_avx2() ? ProductPath::Avx2 : ProductPath::Generic;
#ifdef CIMVP_HAVE_AVX2_PATH
  if (path == ProductPath::Avx2) {
    if (!cpu_has_avx2()) throw std::invalid_argument("bitplane_product: this CPU has no AVX2");
    product_avx2(idx, stride, count, rows, r, utp, ut, p, ldp, scratch);
    return;
  }
#else
  if (path == ProductPath::Avx2) throw std::invalid_argument("bitplane_product: built without the AVX2 path");
#endif
  product_generic(idx, stride, count, rows, r, utp, ut, p, ldp, scratch);
}

}  // namespace cimvp::crossbar
