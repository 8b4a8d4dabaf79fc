// Run-time CPU feature checks for the model cores' SIMD paths (crossbar bit-plane product and
// normals, ADC transfer search). Header-only, so each core library uses it without linking
// another; every path they pick gives the same bits as the generic one.
#pragma once

namespace cimvp::cpu {

inline bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
#else
  return false;
#endif
}

inline bool cpu_has_avx512() {  // AVX-512F
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
#else
  return false;
#endif
}

}  // namespace cimvp::cpu
