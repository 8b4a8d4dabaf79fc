// The firmware's zero-pinned Lloyd-Max (fw_calib_zero_pinned, docs/calibration.md "Design
// choices") against closed-form results: exact levels for few distinct values, and the
// uniform-density optimum (cell width D, MSE D^2/12) for dense uniform data on each side.
#include "tests/support/sc_test_main.hpp"

#include <algorithm>
#include <vector>

extern "C" {
#include "lib/fw_calib.h"
}

CIMVP_SC_TEST_MAIN

namespace {
std::vector<double> g_work;  // 16 (n + 1) bytes, 8-aligned
double design(const std::vector<float>& xs, unsigned L, float w, std::vector<float>& thr, std::vector<float>& lev) {
  g_work.assign(2 * (xs.size() + 1), 0.0);
  thr.assign(L - 1, 0.f);
  lev.assign(L, 0.f);
  uint32_t it = 0;
  return fw_calib_zero_pinned(xs.data(), static_cast<uint32_t>(xs.size()), L, w, g_work.data(), thr.data(), lev.data(),
                              &it);
}
}  // namespace

TEST_CASE("zero-pinned design: spike at 0 gets level 0 exactly, few distinct values are exact", "[calib][design]") {
  std::vector<float> xs;
  auto add = [&](float v, int n) { xs.insert(xs.end(), n, v); };
  add(0.f, 500);
  for (int v = 1; v <= 3; ++v) {
    add(static_cast<float>(v), 200 / v);
    add(static_cast<float>(-v), 150 / v);
  }
  std::sort(xs.begin(), xs.end());
  std::vector<float> thr, lev;
  const double mse = design(xs, 8, 0.5f, thr, lev);
  CHECK(mse == Approx(0.0).margin(1e-12));  // 7 distinct values, 8 levels
  CHECK(std::count(lev.begin(), lev.end(), 0.f) == 1);
  CHECK(std::is_sorted(lev.begin(), lev.end()));
  for (std::size_t k = 1; k < thr.size(); ++k) CHECK(thr[k] > thr[k - 1]);
  const auto z = std::find(lev.begin(), lev.end(), 0.f) - lev.begin();
  REQUIRE(z >= 1);
  CHECK(thr[z - 1] == -0.5f);  // the pinned window is [-w, w)
  CHECK(thr[z] == 0.5f);
  for (float v : {-3.f, -2.f, -1.f, 1.f, 2.f, 3.f}) CHECK(std::find(lev.begin(), lev.end(), v) != lev.end());
}

TEST_CASE("zero-pinned design: uniform density on each side reaches the D^2/12 optimum", "[calib][design]") {
  // 2,000 zeros, 8,000 samples uniform on [1, 9) and on (-9, -1]; L = 16: 15 levels for the
  // sides (7 + 8 or 8 + 7, equal MSE), each side's optimum = evenly spaced cells of width 8/k.
  std::vector<float> xs(2000, 0.f);
  const int m = 8000;
  for (int i = 0; i < m; ++i) {
    const float u = 8.f * (static_cast<float>(i) + 0.5f) / m;
    xs.push_back(1.f + u);
    xs.push_back(-1.f - u);
  }
  std::sort(xs.begin(), xs.end());
  std::vector<float> thr, lev;
  const double mse = design(xs, 16, 1.0f, thr, lev);
  const double d7 = 8.0 / 7, d8 = 8.0 / 8;
  const double want = m * (d7 * d7 / 12 + d8 * d8 / 12) / static_cast<double>(xs.size());
  CHECK(mse == Approx(want).epsilon(0.01));
  const auto z = std::find(lev.begin(), lev.end(), 0.f) - lev.begin();
  REQUIRE((z == 7 || z == 8));
  CHECK(thr[z - 1] == -1.0f);
  CHECK(thr[z] == 1.0f);
  // Positive side levels at 1 + (j + 1/2) D.
  const int kp = 15 - static_cast<int>(z);
  for (int j = 0; j < kp; ++j) CHECK(lev[z + 1 + j] == Approx(1.0 + (j + 0.5) * 8.0 / kp).margin(0.02));
}

TEST_CASE("zero-pinned design declines when one side has no samples", "[calib][design]") {
  std::vector<float> xs = {0.f, 0.f, 0.f, 1.f, 2.f, 3.f, 4.f, 5.f};
  std::vector<float> thr, lev;
  CHECK(design(xs, 4, 0.5f, thr, lev) < 0.0);
  xs = {-1.f, 0.f, 1.f};
  CHECK(design(xs, 2, 0.5f, thr, lev) < 0.0);  // L < 3: no room for two sides and 0
}

TEST_CASE("SR decoder emulation: unanimous, boundary, zero window wins, majority", "[calib][design][sr]") {
  // 3-bit design: thresholds t0..t6, levels l0..l7; code 3 is the zero window (level 0).
  const std::vector<float> thr = {-3.f, -2.f, -0.5f, 0.5f, 1.5f, 2.5f, 3.5f};
  const std::vector<float> lev = {-3.5f, -2.5f, -1.25f, 0.f, 1.f, 2.f, 3.f, 3.75f};
  int dis = -1;
  auto sr = [&](std::vector<uint32_t> c, uint32_t zero) {
    return fw_calib_sr_value(c.data(), static_cast<uint32_t>(c.size()), thr.data(), lev.data(), 8, zero, &dis);
  };
  CHECK(sr({5, 5}, 0xFFFFFFFFu) == 2.f);
  CHECK(dis == 0);
  // Pair disagreeing: the nominal threshold at the top of the lower code (paper's rule).
  CHECK(sr({4, 5}, 0xFFFFFFFFu) == 1.5f);
  CHECK(dis == 1);
  CHECK(sr({3, 2}, 0xFFFFFFFFu) == -0.5f);  // a zero input next to the zero window -> -w
  CHECK(sr({3, 4}, 0xFFFFFFFFu) == 0.5f);
  // Zero window wins a disagreement it takes part in; others keep the boundary rule.
  CHECK(sr({3, 2}, 3) == 0.f);
  CHECK(dis == 1);
  CHECK(sr({4, 3}, 3) == 0.f);
  CHECK(sr({4, 5}, 3) == 1.5f);
  // Three copies: strict majority's level; no majority -> boundary above the median code.
  CHECK(sr({6, 2, 6}, 0xFFFFFFFFu) == 3.f);
  CHECK(sr({1, 4, 6}, 0xFFFFFFFFu) == 1.5f);
  CHECK(sr({7, 7}, 0xFFFFFFFFu) == 3.75f);
}

TEST_CASE("design labels: zero-pinned counts its iterations, too few samples is the labelled fallback",
          "[calib][design]") {
  std::vector<float> xs;
  for (int i = 0; i < 4000; ++i) xs.push_back(static_cast<float>((i * 7919) % 41 - 20) * (i % 3 == 0 ? 0.f : 1.f));
  std::sort(xs.begin(), xs.end());
  std::vector<float> thr(15), lev(16);
  fw_calib_design_t d;
  REQUIRE(fw_calib_design(xs.data(), static_cast<uint32_t>(xs.size()), 4, FW_CALIB_STRATEGY_DEFAULT, 0.f, 1u,
                          thr.data(), lev.data(), &d) == 0);
  CHECK(d.design == CIMNET_CAL_D_ZERO_PINNED);  // a third of the samples are 0
  CHECK(d.iterations > 0u);
  REQUIRE(d.zero_code < 16u);
  CHECK(lev[d.zero_code] == 0.f);
  CHECK(d.zeros >= 4000u / 3u);
  // Without pinning: classic Lloyd-Max, its iterations counted too.
  REQUIRE(fw_calib_design(xs.data(), static_cast<uint32_t>(xs.size()), 4, FW_CALIB_S_CLIP, 0.f, 1u, thr.data(),
                          lev.data(), &d) == 0);
  CHECK(d.design == CIMNET_CAL_D_LLOYD_MAX);
  CHECK(d.iterations > 0u);
  CHECK(d.zero_code == 0xFFFFFFFFu);
  // 40 samples for 16 levels (< 4 x 16): uniform thresholds over [min, max], labelled so; its
  // MSE (reported as mse_lloyd_max) is that fallback's, not a Lloyd-Max result.
  std::vector<float> few(xs.begin(), xs.begin() + 40);
  for (std::size_t i = 0; i < few.size(); ++i) few[i] = static_cast<float>(i) - 3.f;
  REQUIRE(fw_calib_design(few.data(), 40, 4, FW_CALIB_STRATEGY_DEFAULT, 0.f, 1u, thr.data(), lev.data(), &d) == 0);
  CHECK(d.design == CIMNET_CAL_D_FALLBACK);
  const float step = 39.f / 16.f;
  for (unsigned k = 0; k + 1 < 16; ++k) CHECK(thr[k] == Approx(-3.f + step * (k + 1)));
}
