#include "platform/dataset/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "models/progctl/rng.hpp"

namespace cimvp::dataset {

namespace {

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// Image i of a split: its own xoshiro256** stream.
uint64_t image_seed(uint64_t seed, Split split, uint64_t i) {
  uint64_t s = seed ^ (split == Split::Train ? 0x5452414E00000000ull : 0x5445535400000000ull);  // "TRAN" / "TEST"
  const uint64_t a = progctl::splitmix64(s);
  return progctl::mix64(a ^ (i * 0x9E3779B97F4A7C15ull));
}

// Circular (wrap-around) Gaussian low-pass of one H x W plane, separable.
void blur(std::vector<double>& p, uint32_t h, uint32_t w, double sigma) {
  if (sigma <= 0) return;
  const int r = static_cast<int>(std::ceil(3.0 * sigma));
  std::vector<double> k(2 * r + 1);
  double sum = 0;
  for (int d = -r; d <= r; ++d) sum += k[d + r] = std::exp(-0.5 * d * d / (sigma * sigma));
  for (auto& v : k) v /= sum;
  std::vector<double> t(p.size());
  for (uint32_t y = 0; y < h; ++y)
    for (uint32_t x = 0; x < w; ++x) {
      double a = 0;
      for (int d = -r; d <= r; ++d) {
        const int64_t xx = ((int64_t(x) + d) % int64_t(w) + w) % w;
        a += k[d + r] * p[y * w + xx];
      }
      t[y * w + x] = a;
    }
  for (uint32_t y = 0; y < h; ++y)
    for (uint32_t x = 0; x < w; ++x) {
      double a = 0;
      for (int d = -r; d <= r; ++d) {
        const int64_t yy = ((int64_t(y) + d) % int64_t(h) + h) % h;
        a += k[d + r] * t[yy * w + x];
      }
      p[y * w + x] = a;
    }
}

}  // namespace

void SyntheticSpec::validate(const std::string& p) const {
  if (c < 1 || h < 1 || w < 1 || c > 4096 || h > 4096 || w > 4096)
    throw std::invalid_argument(p + "shape: every dimension must be in [1, 4096]");
  if (pixels_per_image() > (1u << 24)) throw std::invalid_argument(p + "shape: at most 2^24 pixels per image");
  if (pixels != "smooth" && pixels != "uniform")
    throw std::invalid_argument(p + "pixels: '" + pixels + "' is not one of smooth, uniform");
  if (pixels == "uniform") return;
  auto check = [&](const std::vector<double>& v, const char* key, double lo, double hi, bool open_lo) {
    if (v.size() != 1 && v.size() != c)
      throw std::invalid_argument(p + key + ": give one value or one per channel (" + std::to_string(c) + ")");
    for (double x : v)
      if (!std::isfinite(x) || x > hi || (open_lo ? x <= lo : x < lo))
        throw std::invalid_argument(p + key + ": " + num(x) + " must be in " + (open_lo ? "(" : "[") + num(lo) + ", " +
                                    num(hi) + "]");
  };
  check(mean, "mean", 0.0, 1.0, false);
  check(std, "std", 0.0, 1.0, true);
  if (!std::isfinite(correlation_px) || correlation_px < 0 || correlation_px > 256)
    throw std::invalid_argument(p + "correlation_px: " + num(correlation_px) + " must be in [0, 256]");
}

std::vector<uint8_t> synthetic_images(const SyntheticSpec& s, uint64_t seed, Split split, uint64_t first,
                                      uint64_t n) {
  s.validate();
  const uint64_t px = s.pixels_per_image(), plane = uint64_t(s.h) * s.w;
  std::vector<uint8_t> out(n * px);
  std::vector<double> f(plane);
  for (uint64_t i = 0; i < n; ++i) {
    progctl::Xoshiro256ss rng(image_seed(seed, split, first + i));
    uint8_t* img = out.data() + i * px;
    if (s.pixels == "uniform") {
      for (uint64_t k = 0; k < px; ++k) img[k] = static_cast<uint8_t>(rng.next() >> 56);
      continue;
    }
    for (uint32_t ch = 0; ch < s.c; ++ch) {
      for (auto& v : f) v = rng.normal();
      blur(f, s.h, s.w, s.correlation_px);
      double m = 0, q = 0;
      for (double v : f) m += v;
      m /= double(plane);
      for (double v : f) q += (v - m) * (v - m);
      const double sd = plane > 1 ? std::sqrt(q / double(plane)) : 0.0;
      const double mu = s.mean.size() == 1 ? s.mean[0] : s.mean[ch];
      const double sg = s.std.size() == 1 ? s.std[0] : s.std[ch];
      for (uint64_t k = 0; k < plane; ++k) {
        const double z = sd > 0 ? (f[k] - m) / sd : 0.0;
        const double v = std::clamp(mu + sg * z, 0.0, 1.0);
        img[ch * plane + k] = static_cast<uint8_t>(std::lround(255.0 * v));
      }
    }
  }
  return out;
}

}  // namespace cimvp::dataset
