// Fast deterministic random numbers for the programming controller's hot loop.
// std::mt19937_64 + std::normal_distribution cost ~20-40 ns per Gaussian; the write-verify
// loop draws ~3 Gaussians per pulse at >= 10M pulses/s, so we use xoshiro256** (Blackman &
// Vigna 2018) seeded through splitmix64, and a 128-layer Ziggurat normal (Marsaglia & Tsang
// 2000, table construction after Doornik 2005). <random> has no fast normal, hence our own.
#pragma once

#include <cstdint>

namespace cimvp::progctl {

// splitmix64 finaliser: a bijective 64-bit mixer, also used to derive per-cell seeds.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

inline std::uint64_t mix64(std::uint64_t x) {
  std::uint64_t s = x;
  return splitmix64(s);
}

class Xoshiro256ss {
 public:
  explicit Xoshiro256ss(std::uint64_t seed = 0) { reseed(seed); }

  void reseed(std::uint64_t seed) {
    std::uint64_t sm = seed;
    for (auto& w : s_) w = splitmix64(sm);  // never all-zero: splitmix64 is a bijection
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1): safe for log().
  double uniform_open() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }

  // Standard normal N(0, 1) by the Ziggurat method.
  double normal();

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  double normal_slow(std::uint64_t u, double x, int layer);
  std::uint64_t s_[4];
};

}  // namespace cimvp::progctl
