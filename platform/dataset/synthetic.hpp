// Synthetic images (dataset `name: synthetic`): seeded CIFAR-shaped (or any C x H x W) uint8
// images for energy studies where the network's weights are synthetic too and accuracy means
// nothing. What sets the activity, and why: docs/network.md "Synthetic inputs".
//
// Image i of a split is a function of (seed, split, i) only (its own generator), so a slice
// does not depend on how many images are drawn or in which order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "platform/dataset/idx.hpp"  // Split

namespace cimvp::dataset {

struct SyntheticSpec {
  uint32_t c = 3, h = 32, w = 32;
  // smooth: per channel, white Gaussian noise low-pass filtered by a circular Gaussian kernel
  //   of std `correlation_px` pixels, normalised to zero mean and unit variance over the image,
  //   then pixel = clamp(mean[c] + std[c] * field, 0, 1);
  // uniform: every pixel independent and uniform over the 256 codes (mean/std unused).
  std::string pixels = "smooth";
  std::vector<double> mean;  // one per channel (or one for all); pixel units in [0, 1]
  std::vector<double> std;
  double correlation_px = 2.0;  // 0 = white noise

  // Throws std::invalid_argument naming `prefix` + key for a bad value.
  void validate(const std::string& prefix = "dataset.") const;
  uint64_t pixels_per_image() const { return uint64_t(c) * h * w; }
};

// Images [first, first + n) of `split` as uint8 codes, C x H x W each, code = round(255 * pixel).
std::vector<uint8_t> synthetic_images(const SyntheticSpec& spec, uint64_t seed, Split split, uint64_t first,
                                      uint64_t n);

}  // namespace cimvp::dataset
