// Tile module tests that need their own scenario: drift on (with a retention time before the
// first read) and 4-bit inputs. Drift must reach the platform's outputs by the closed-form
// factor; input bytes outside the 4-bit code range must be refused with an error status.
#include "tests/support/sc_test_main.hpp"

#include <cmath>
#include <cstring>
#include <random>

#include "tests/tile/tile_bench.hpp"

CIMVP_SC_TEST_MAIN

using namespace tile_test;

namespace {

constexpr double kNu = 0.05, kT0 = 1.0, kReadDelay = 1e4;  // 10^4 s retention before the first read

Bench& bench() {
  static Bench b({"chip.crossbar.input_bits=4", "chip.crossbar.device.drift.enabled=true",
                  "chip.crossbar.device.drift.nu=" + std::to_string(kNu),
                  "chip.crossbar.device.drift.t0_s=" + std::to_string(kT0),
                  "chip.crossbar.device.drift.read_delay_s=" + std::to_string(kReadDelay)});
  return b;
}

}  // namespace

TEST_CASE("drift scales the tile's outputs by (t/t0)^-nu with t = read delay + time since programming") {
  auto& b = bench();
  REQUIRE(b.scenario.chip.drift_read_delay_s == kReadDelay);
  const int k = 50, n = 6, nvec = 9;
  std::mt19937 rng(4);
  std::uniform_int_distribution<int> wd(-127, 127), xd(0, 15);
  Eigen::MatrixXi codes(k, n), x(nvec, k);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < n; ++j) codes(i, j) = wd(rng);
  sc_core::sc_start(sc_core::sc_time(3, sc_core::SC_MS));  // programmed at 3 ms ...
  b.tile.load_block(cimvp::crossbar::map_codes(codes, b.scenario.chip.mapping, b.scenario.chip.device));
  b.tile.program_ideal();
  CHECK(b.tile.programmed_at() == sc_core::sc_time(3, sc_core::SC_MS));
  for (int v = 0; v < nvec; ++v)
    for (int i = 0; i < k; ++i) {
      x(v, i) = xd(rng);
      b.sram.data()[0x100 + v * k + i] = static_cast<uint8_t>(x(v, i));
    }
  sc_core::sc_start(sc_core::sc_time(500, sc_core::SC_MS));  // ... read 500 ms later
  const double age = kReadDelay + 0.5;
  CHECK(b.tile.drift_age_s(sc_core::sc_time_stamp()) == Approx(age).epsilon(1e-12));
  b.start(k, n, kSram + 0x100, k, kSram + 0x4000, n * 4, nvec);
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
  REQUIRE(b.init.r32(kTile + TILE_STATUS) == TILE_STATUS_DONE);

  // Every conductance (pedestal included) scales by f; the pedestal cancels in G+ - G-, so
  // each output is f times the exact dot product (ideal ADC, no other non-ideality).
  const double f = std::pow(age / kT0, -kNu);
  REQUIRE(f < 0.64);  // a 37 % loss: drift is really on
  const Eigen::MatrixXd ref = cimvp::crossbar::exact_dot(x, codes);
  const double scale = ref.cwiseAbs().maxCoeff();
  double worst = 0;
  for (int v = 0; v < nvec; ++v)
    for (int j = 0; j < n; ++j) {
      float y;
      std::memcpy(&y, b.sram.data() + 0x4000 + (v * n + j) * 4, 4);
      worst = std::max(worst, std::abs(y - f * ref(v, j)) / scale);
    }
  INFO("drift factor " << f << ", worst deviation " << worst << " of full scale");
  CHECK(worst < 1e-5);
  CHECK(b.tile.array().effective_conductance(0, 0) == Approx(b.tile.array().conductance(0, 0) * f).epsilon(1e-6));
  b.clear_status();
}

TEST_CASE("an input byte above 2^input_bits - 1 is an error status and not an abort") {
  auto& b = bench();
  REQUIRE(b.init.r32(kTile + TILE_INPUT_BITS) == 4);
  const int k = 20, n = 3, nvec = 6;
  Eigen::MatrixXi codes = Eigen::MatrixXi::Constant(k, n, 5);
  b.tile.load_block(cimvp::crossbar::map_codes(codes, b.scenario.chip.mapping, b.scenario.chip.device));
  b.tile.program_ideal();
  for (int i = 0; i < nvec * k; ++i) b.sram.data()[0x100 + i] = static_cast<uint8_t>(i % 16);
  b.sram.data()[0x100 + 4 * k + 7] = 200;  // vector 4, element 7
  const float sentinel = -12345.f;
  for (int i = 0; i < nvec * n; ++i) std::memcpy(b.sram.data() + 0x4000 + 4 * i, &sentinel, 4);
  b.start(k, n, kSram + 0x100, k, kSram + 0x4000, n * 4, nvec);
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
  const uint32_t st = b.init.r32(kTile + TILE_STATUS);
  CHECK(st == (TILE_STATUS_DONE | TILE_STATUS_ERROR | (TILE_ERR_INPUT_CODE << 8)));
  CHECK(b.irq.read());
  CHECK_THAT(b.tile.last_error(), Catch::Contains("input vector 4 element 7 holds code 200 > 15"));
  CHECK_THAT(b.tile.last_error(), Catch::Contains("none of the 6 vectors was written"));
  CHECK(b.init.r32(kTile + TILE_ERR_VECTOR) == 0);
  CHECK(b.init.r32(kTile + TILE_VECTORS) == 0);
  CHECK(b.init.r32(kTile + TILE_CONV_LO) == 0);
  for (int i = 0; i < nvec * n; ++i) {  // nothing computed, nothing written
    float y;
    std::memcpy(&y, b.sram.data() + 0x4000 + 4 * i, 4);
    CHECK(y == sentinel);
  }
  b.clear_status();
  // Fixed input: the same registers now run.
  b.sram.data()[0x100 + 4 * k + 7] = 15;
  b.init.w32(kTile + TILE_CTRL, TILE_CTRL_START);
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
  CHECK(b.init.r32(kTile + TILE_STATUS) == TILE_STATUS_DONE);
  CHECK(b.init.r32(kTile + TILE_VECTORS) == nvec);
  b.clear_status();
}
