// Random numbers of the crossbar model: the splitmix64 seeder and the block normal generator
// behind read noise.
#pragma once

#include <cstddef>
#include <cstdint>

#include "models/progctl/rng.hpp"

namespace cimvp::crossbar {

// splitmix64 seeds the xoshiro generators from one 64-bit seed (the programming controller's,
// models/progctl/rng.hpp: one definition for the whole model).
using progctl::splitmix64;

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
