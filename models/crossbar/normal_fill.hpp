// Random numbers of the crossbar model: the splitmix64 seeder and the block normal generator
// behind read noise.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cimvp::crossbar {

// splitmix64 (Steele, Lea & Flood 2014): advances x, returns the next 64-bit output. Seeds the
// xoshiro generators from one 64-bit seed.
inline std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Block normal generator behind read noise: n independent N(0,1) samples (float) from eight
// interleaved xoshiro128** streams seeded (through splitmix64) with `seed`. Box-Muller with a
// 31-bit radius uniform and a 24-bit angle (21 bits in [0, pi/4) plus octant bits), cos/sin
// by short series, the log by the Cephes polynomial, the square root exact (IEEE): plain
// float loops that vectorise. Samples are Box-Muller transforms up to float rounding,
// |z| <= 6.66 (normal tail mass beyond: 3e-11).
// The AVX2 build of the same loops (picked at run time) gives the same bits as the generic
// one: the same IEEE operations in the same order, no fused multiply-add.
enum class NormalPath { Auto, Generic, Avx2 };
void normal_fill(std::uint64_t seed, float* out, std::size_t n, NormalPath path = NormalPath::Auto);

}  // namespace cimvp::crossbar
