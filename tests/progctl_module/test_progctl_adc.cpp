// Module test of the programming controller with the ADC bank's Q-cell memristors as the
// destination: the nominal window-edge conductances are written by write-verify through a
// target table in SRAM, and the ADC's achieved edges follow the achieved conductances.
#include "tests/support/sc_test_main.hpp"

#include <cmath>

#include "tests/progctl_module/progctl_bench.hpp"

CIMVP_SC_TEST_MAIN

using namespace progctl_test;

namespace {

Bench& bench() {
  static Bench b({"chip.crossbar.rows=64", "chip.crossbar.cols=64", "chip.adc.mode=qcell", "chip.adc.bits=4"});
  return b;
}

}  // namespace

TEST_CASE("Q-cell devices are programmed by write-verify and the ADC's edges follow") {
  auto& b = bench();
  auto& adc = b.tile.adc();
  const std::size_t devices = adc.qcell_devices();
  REQUIRE(devices == 2u * (1u << 4));  // lower and upper edge per Q-cell
  REQUIRE(adc.qcell_copy_count() == 1);
  const double gmin = b.scenario.chip.device.g_min_us, gmax = b.scenario.chip.device.g_max_us;
  std::vector<double> target(devices), nominal_edge(devices);
  for (std::size_t d = 0; d < devices; ++d) {
    target[d] = std::min(gmax, std::max(gmin, adc.qcell_target_us(d, 0)));
    nominal_edge[d] = bits_f(b.init.r32(kTile + ADC_EDGE(d)));
    b.put_entry(static_cast<uint32_t>(d), static_cast<uint32_t>(d), static_cast<float>(target[d]));
  }
  // The edge <-> conductance map is linear (docs/adc.md): fit it on the nominal design.
  std::size_t lo = 0, hi = 0;
  for (std::size_t d = 0; d < devices; ++d) {
    if (target[d] < target[lo]) lo = d;
    if (target[d] > target[hi]) hi = d;
  }
  REQUIRE(target[hi] - target[lo] > 100);
  const double slope = (nominal_edge[hi] - nominal_edge[lo]) / (target[hi] - target[lo]);

  const uint32_t st = b.program(static_cast<uint32_t>(devices), PROG_DEST_VALUE(0, PROG_DEST_ADC));
  CHECK(st == PROG_STATUS_DONE);
  CHECK(b.init.r32(kProg + PROG_DONE_ENTRIES) == devices);
  CHECK(b.prog.last_totals().pulses() > devices);  // fresh devices start below the window
  const double tol = b.scenario.chip.program.tolerance_us;
  int moved = 0;
  for (std::size_t d = 0; d < devices; ++d) {
    const double g = b.result(static_cast<uint32_t>(d));
    CHECK(std::abs(g - target[d]) <= tol + 0.5);
    const double edge = bits_f(b.init.r32(kTile + ADC_EDGE(d)));
    const double predicted = nominal_edge[lo] + slope * (g - target[lo]);
    CHECK(edge == Approx(predicted).margin(1e-4 * std::abs(nominal_edge[hi] - nominal_edge[lo])));
    moved += edge != nominal_edge[d];
  }
  CHECK(moved > 0);  // the achieved (not the nominal) edges are in use

  // A Q-cell index outside the bank and the SR copy of a plain Q-cell bank are refused.
  b.put_entry(0, static_cast<uint32_t>(devices), 200.f);
  CHECK(PROG_STATUS_ERRCODE(b.program(1, PROG_DEST_VALUE(0, PROG_DEST_ADC))) == PROG_ERR_ENTRY);
  CHECK_THAT(b.prog.last_error(), Catch::Contains("Q-cell device 32 is outside"));
  CHECK(PROG_STATUS_ERRCODE(b.program(1, PROG_DEST_VALUE(0, PROG_DEST_ADC_SR))) == PROG_ERR_DEST);
  CHECK_THAT(b.prog.last_error(), Catch::Contains("no second super-resolution copy"));
}
