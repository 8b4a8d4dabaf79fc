#include "models/progctl/rng.hpp"

#include <cmath>

namespace cimvp::progctl {
namespace {

// 128-layer Ziggurat for the standard normal: R = start of the tail, V = area of each layer
// (Marsaglia & Tsang 2000, J. Stat. Software 5(8), constants for N = 128).
constexpr double kR = 3.442619855899;
constexpr double kV = 9.91256303526217e-3;

struct ZigTables {
  double x[129];   // layer edges, x[0] = V / f(R) (pseudo-width of the base), x[128] = 0
  double ratio[128];  // x[i+1] / x[i]: fast-accept bound
  ZigTables() {
    double f = std::exp(-0.5 * kR * kR);
    x[0] = kV / f;
    x[1] = kR;
    x[128] = 0.0;
    for (int i = 2; i < 128; ++i) {
      x[i] = std::sqrt(-2.0 * std::log(kV / x[i - 1] + f));
      f = std::exp(-0.5 * x[i] * x[i]);
    }
    for (int i = 0; i < 128; ++i) ratio[i] = x[i + 1] / x[i];
  }
};

const ZigTables kZig;

}  // namespace

double Xoshiro256ss::normal() {
  const std::uint64_t u = next();
  const int layer = static_cast<int>(u & 127);
  // 53 high bits -> signed uniform in (-1, 1).
  const double v = (static_cast<double>(u >> 11) + 0.5) * 0x1.0p-52 - 1.0;
  if (std::fabs(v) < kZig.ratio[layer]) return v * kZig.x[layer];  // ~98.8% of draws
  return normal_slow(u, v, layer);
}

double Xoshiro256ss::normal_slow(std::uint64_t, double v, int layer) {
  for (;;) {
    if (layer == 0) {
      // Tail beyond R (Marsaglia 1964).
      double xt, yt;
      do {
        xt = std::log(uniform_open()) / kR;
        yt = std::log(uniform_open());
      } while (-2.0 * yt < xt * xt);
      return v < 0 ? xt - kR : kR - xt;
    }
    const double xv = v * kZig.x[layer];
    const double f0 = std::exp(-0.5 * (kZig.x[layer] * kZig.x[layer] - xv * xv));
    const double f1 = std::exp(-0.5 * (kZig.x[layer + 1] * kZig.x[layer + 1] - xv * xv));
    if (f1 + uniform() * (f0 - f1) < 1.0) return xv;
    // Rejected: draw a fresh (layer, v) pair.
    const std::uint64_t u = next();
    layer = static_cast<int>(u & 127);
    v = (static_cast<double>(u >> 11) + 0.5) * 0x1.0p-52 - 1.0;
    if (std::fabs(v) < kZig.ratio[layer]) return v * kZig.x[layer];
  }
}

}  // namespace cimvp::progctl
