// Compiled with -fno-math-errno (CMakeLists.txt), so std::sqrt vectorises; nothing here reads
// errno.
#include "models/crossbar/normal_fill.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "models/common/cpu_features.hpp"

namespace cimvp::crossbar {

namespace {

// Eight interleaved xoshiro128** streams (32-bit words) in GCC/Clang vector registers: one
// update advances all eight (two SSE2 or one AVX2 register per state word).
typedef std::uint32_t u32x8 __attribute__((vector_size(32)));
struct Xoshiro128x8 {
  u32x8 s0, s1, s2, s3;
  explicit Xoshiro128x8(std::uint64_t seed) {
    for (int l = 0; l < 8; ++l) {
      const std::uint64_t a = splitmix64(seed), b = splitmix64(seed);
      s0[l] = std::uint32_t(a);
      s1[l] = std::uint32_t(a >> 32);
      s2[l] = std::uint32_t(b);
      s3[l] = std::uint32_t(b >> 32) | 1u;  // never the all-zero state
    }
  }
  void next(u32x8& out) {
    const u32x8 x = (s1 << 2) + s1;         // s1 * 5
    const u32x8 rr = (x << 7) | (x >> 25);  // rotl 7
    out = (rr << 3) + rr;                   // * 9
    const u32x8 t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >> 21);
  }
};

// Natural log of a positive normal float: the Cephes logf polynomial (Moshier), operation for
// operation as Eigen 3.4's plog_float without fused multiply-add, so it vectorises as a loop.
inline float cephes_log(float x) {
  std::uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  float e = float(std::int32_t(b >> 23)) - 126.0f;
  const std::uint32_t mb = (b & 0x807fffffu) | 0x3f000000u;  // mantissa in [0.5, 1)
  float m;
  std::memcpy(&m, &mb, sizeof m);
  // [0.5, 1) -> [sqrt(1/2), sqrt(2)) - 1, centred on 0.
  const bool lt = m < 0.707106781186547524f;
  const float tmp = lt ? m : 0.0f;
  m = m - 1.0f;
  e = e - (lt ? 1.0f : 0.0f);
  m = m + tmp;
  const float x2 = m * m, x3 = x2 * m;
  float y = 7.0376836292E-2f * m + -1.1514610310E-1f;
  float y1 = -1.2420140846E-1f * m + 1.4249322787E-1f;
  float y2 = 2.0000714765E-1f * m + -2.4999993993E-1f;
  y = y * m + 1.1676998740E-1f;
  y1 = y1 * m + -1.6668057665E-1f;
  y2 = y2 * m + 3.3333331174E-1f;
  y = y * x3 + y1;
  y = y * x3 + y2;
  y = y * x3;
  y = -0.5f * x2 + y;
  m = m + y;
  return e * 0.693147180559945309f + m;
}

// The generator. Inlined into each entry point below, so the loops are vectorised for that
// entry point's instruction set.
__attribute__((always_inline)) inline void normal_body(std::uint64_t seed, float* out, std::size_t n, float* u,
                                                       float* cx, float* sy, std::size_t h, std::size_t hp) {
  Xoshiro128x8 g(seed);
  constexpr float kQuarterPi = 0.785398163397448f;
  for (std::size_t i = 0; i < hp; i += 8) {
    std::uint32_t r1[8], r2[8];
    u32x8 v1, v2;
    g.next(v1);
    g.next(v2);
    std::memcpy(r1, &v1, sizeof r1);
    std::memcpy(r2, &v2, sizeof r2);
    for (int l = 0; l < 8; ++l) {
      // Radius uniform in (0, 1] from 31 bits (never 0, so the log stays finite).
      u[i + l] = (float(std::int32_t(r1[l] >> 1)) + 0.5f) * 0x1p-31f;
      // Angle: t uniform in [0, pi/4) from 21 bits, bit 0 reflects it to pi/2 - t, bits 1
      // and 2 pick the quadrant's signs; cos/sin of t by their Taylor series (remainder
      // < 2e-9 on [0, pi/4], below float rounding), no range reduction.
      const std::uint32_t b = r2[l];
      const float t = float(std::int32_t(b >> 11)) * (kQuarterPi * 0x1p-21f);
      const float t2 = t * t;
      const float sn =
          t * (1.0f + t2 * (-1.0f / 6 + t2 * (1.0f / 120 + t2 * (-1.0f / 5040 + t2 * (1.0f / 362880)))));
      const float cs =
          1.0f + t2 * (-0.5f + t2 * (1.0f / 24 + t2 * (-1.0f / 720 + t2 * (1.0f / 40320 + t2 * (-1.0f / 3628800)))));
      const float x = (b & 1u) ? sn : cs, y = (b & 1u) ? cs : sn;
      cx[i + l] = x * float(std::int32_t(b & 2u) - 1);
      sy[i + l] = y * float(std::int32_t((b >> 1) & 2u) - 1);
    }
  }
  for (std::size_t i = 0; i < h; ++i) {
    const float r2 = cephes_log(u[i]) * -2.0f;
    u[i] = std::sqrt(r2 > 0.0f ? r2 : 0.0f);
  }
  const std::size_t rest = n - h;
  for (std::size_t i = 0; i < h; ++i) out[i] = u[i] * cx[i];
  for (std::size_t i = 0; i < rest; ++i) out[h + i] = u[i] * sy[i];
}

void normal_generic(std::uint64_t seed, float* out, std::size_t n, float* u, float* cx, float* sy, std::size_t h,
                    std::size_t hp) {
  normal_body(seed, out, n, u, cx, sy, h, hp);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) void normal_avx2(std::uint64_t seed, float* out, std::size_t n, float* u,
                                                 float* cx, float* sy, std::size_t h, std::size_t hp) {
  normal_body(seed, out, n, u, cx, sy, h, hp);
}
#endif

}  // namespace

void normal_fill(std::uint64_t seed, float* out, std::size_t n, NormalPath path) {
  if (n == 0) return;
  thread_local std::vector<float> buf;
  const std::size_t h = (n + 1) / 2, hp = (h + 7) / 8 * 8;
  if (buf.size() < 3 * hp) buf.resize(3 * hp);
  float* u = buf.data();
  float* cx = u + hp;
  float* sy = cx + hp;
  if (path == NormalPath::Auto) path = cpu::cpu_has_avx2() ? NormalPath::Avx2 : NormalPath::Generic;
  if (path == NormalPath::Avx2) {
#if defined(__x86_64__) || defined(__i386__)
    if (!cpu::cpu_has_avx2()) throw std::invalid_argument("normal_fill: this CPU has no AVX2");
    normal_avx2(seed, out, n, u, cx, sy, h, hp);
    return;
#else
    throw std::invalid_argument("normal_fill: built without the AVX2 path");
#endif
  }
  normal_generic(seed, out, n, u, cx, sy, h, hp);
}

}  // namespace cimvp::crossbar
