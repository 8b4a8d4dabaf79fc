// Module test of a tile's ADC bank through its register window: the firmware's view
// (mode, bits, thresholds, level table, capture) over TLM, then a known ramp converted by
// the bank and the codes read back through an identity level table; a tile batch over TLM
// whose conversion time and ADC energy follow the converters the registers applied.
#include "tests/support/sc_test_main.hpp"

#include <tlm_utils/simple_initiator_socket.h>

#include <cstring>

#include "cimvp/regs.h"
#include "models/crossbar/tile.hpp"
#include "platform/bus/router.hpp"
#include "platform/config/scenario.hpp"
#include "platform/memory/memory.hpp"
#include "platform/power/power_monitor.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/tracing/tracer.hpp"
#include "tests/support/test_initiator.hpp"

CIMVP_SC_TEST_MAIN

namespace {

constexpr uint64_t kTile = 0x20000000;

uint32_t fbits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float bitsf(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

using Initiator = cimvp_test::TestInitiator;

cimvp::config::Scenario make_scenario() {
  cimvp::config::LoadOptions lo;
  lo.overrides = {"chip.crossbar.rows=16", "chip.crossbar.cols=16", "chip.adc.mode=qcell", "chip.adc.bits=3",
                  "chip.adc.share=4"};
  return cimvp::config::load_scenario(cimvp::config::kSelftestScenario, lo);
}

struct Bench {
  cimvp::config::Scenario scenario = make_scenario();
  cimvp::Tracer tracer;
  cimvp::PowerSc power{1000};
  cimvp::Context ctx{scenario, tracer, power};
  cimvp::Router router{"bus", ctx};
  cimvp::Memory sram{"sram", ctx, 0x10000, scenario.tech.sram};
  cimvp::Tile tile{"tile0", ctx, 0};
  Initiator init{"init"};
  sc_core::sc_signal<bool> irq{"irq"};
  Bench() {
    init.isock.bind(router.tsock);
    tile.isock.bind(router.tsock);
    router.name_initiator(0, "init");
    router.name_initiator(1, "tile0");
    router.map("sram", 0x10000000, 0x10000);
    router.isock.bind(sram.tsock);
    router.map("tile0", kTile, TILE_SIZE);
    router.isock.bind(tile.tsock);
    tile.irq(irq);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
  }
};

Bench& bench() {
  static Bench b;
  return b;
}

// Pushes values (in digits) through the bank the way the crossbar core does.
std::vector<float> convert(cimvp::AdcBank& bank, const std::vector<float>& in) {
  Eigen::MatrixXf m(static_cast<Eigen::Index>(in.size()), 1);
  for (std::size_t i = 0; i < in.size(); ++i) m(static_cast<Eigen::Index>(i), 0) = in[i];
  cimvp::crossbar::AdcContext c;
  c.unit_current_ua = 1.0;  // values are already in digits
  c.full_scale_digits = 48;
  bank.begin_batch();
  bank.convert(m, c);
  return std::vector<float>(m.data(), m.data() + m.size());
}

}  // namespace

TEST_CASE("registers: reset values from the scenario, geometry, access kinds") {
  auto& b = bench();
  CHECK(b.init.r32(kTile + ADC_MODE) == ADC_MODE_QCELL);
  CHECK(b.init.r32(kTile + ADC_BITS) == 3);
  CHECK(b.init.r32(kTile + ADC_SHARE) == 4);
  CHECK(b.init.r32(kTile + ADC_NADCS) == 4);  // 16 columns / 4 per ADC
  uint32_t v = 1;
  CHECK(b.init.rw(tlm::TLM_WRITE_COMMAND, kTile + ADC_NADCS, v) == tlm::TLM_COMMAND_ERROR_RESPONSE);
  CHECK(b.init.rw(tlm::TLM_READ_COMMAND, kTile + ADC_APPLY, v) == tlm::TLM_COMMAND_ERROR_RESPONSE);
  CHECK(b.init.rw(tlm::TLM_READ_COMMAND, kTile + 0x3FF0, v) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
}

TEST_CASE("programmed thresholds convert a ramp into the expected codes") {
  auto& b = bench();
  // 3-bit Q-cell over [0, 8): thresholds 1..7, identity level table (output = code).
  b.init.w32(kTile + ADC_RANGE_LO, fbits(0.f));
  b.init.w32(kTile + ADC_RANGE_HI, fbits(8.f));
  for (int i = 0; i < 7; ++i) b.init.w32(kTile + ADC_THRESH(i), fbits(static_cast<float>(i + 1)));
  for (int i = 0; i < 8; ++i) b.init.w32(kTile + ADC_LEVEL(i), fbits(static_cast<float>(i)));
  b.init.w32(kTile + ADC_APPLY, 1);
  CHECK(bitsf(b.init.r32(kTile + ADC_THRESH(3))) == 4.f);

  std::vector<float> ramp;
  for (int i = 0; i < 80; ++i) ramp.push_back(0.05f + 0.1f * i);  // 0.05 .. 7.95
  auto out = convert(b.tile.adc(), ramp);
  for (std::size_t i = 0; i < ramp.size(); ++i) CHECK(out[i] == std::floor(ramp[i]));
  // Without variation the achieved window edges are the nominal ones.
  CHECK(bitsf(b.init.r32(kTile + ADC_EDGE(0))) == Approx(0.f).margin(1e-6));
  CHECK(bitsf(b.init.r32(kTile + ADC_EDGE(1))) == Approx(1.f));
  CHECK(bitsf(b.init.r32(kTile + ADC_EDGE(2))) == Approx(1.f));
  CHECK(bitsf(b.init.r32(kTile + ADC_EDGE(15))) == Approx(8.f));
  CHECK(b.init.r32(kTile + ADC_GAPS) == 0);
  CHECK(b.init.r32(kTile + ADC_OVERLAPS) == 0);
  CHECK(b.init.r32(kTile + ADC_CONV_LO) >= 80);
}

TEST_CASE("SAR mode is a mid-tread converter over the calibrated range; ideal passes through") {
  auto& b = bench();
  b.init.w32(kTile + ADC_MODE, ADC_MODE_SAR);
  b.init.w32(kTile + ADC_RANGE_LO, fbits(-7.f));
  b.init.w32(kTile + ADC_RANGE_HI, fbits(7.f));
  b.init.w32(kTile + ADC_APPLY, 1);
  auto out = convert(b.tile.adc(), {-9.f, -7.f, -0.9f, 0.0f, 0.3f, 0.9f, 2.9f, 7.f, 100.f});
  // Mid-tread, 3 bits: A = 7, LSB = 7/4, levels k*1.75 for k = -4..3 (0 is a level, the top
  // code is A - LSB = 5.25), thresholds half an LSB above each level; clipped at the ends.
  std::vector<float> want = {-7.f, -7.f, -1.75f, 0.f, 0.f, 1.75f, 3.5f, 5.25f, 5.25f};
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(out[i] == Approx(want[i]));
  b.init.w32(kTile + ADC_MODE, ADC_MODE_IDEAL);
  b.init.w32(kTile + ADC_APPLY, 1);
  out = convert(b.tile.adc(), {0.123f, -4.5f});
  CHECK(out[0] == 0.123f);
  CHECK(out[1] == -4.5f);
}

TEST_CASE("capture writes raw samples to memory with decimation") {
  auto& b = bench();
  b.init.w32(kTile + ADC_MODE, ADC_MODE_IDEAL);
  b.init.w32(kTile + ADC_APPLY, 1);
  b.init.w32(kTile + ADC_CAP_ADDR, 0x10000100);
  b.init.w32(kTile + ADC_CAP_MAX, 5);
  b.init.w32(kTile + ADC_CAP_DECIM, 2);
  b.init.w32(kTile + ADC_CAP_CTRL, 1);
  std::vector<float> in;
  for (int i = 0; i < 20; ++i) in.push_back(static_cast<float>(i));
  convert(b.tile.adc(), in);
  sc_core::sc_time d;
  b.tile.adc().end_batch(b.tile.isock, d);
  CHECK(b.init.r32(kTile + ADC_CAP_COUNT) == 5);  // capacity reached
  for (int i = 0; i < 5; ++i) {
    float f;
    std::memcpy(&f, b.sram.data() + 0x100 + 4 * i, 4);
    CHECK(f == Approx(2.0f * i).margin(1e-6));  // every second sample
  }
  b.init.w32(kTile + ADC_CAP_CTRL, 0);
}

TEST_CASE("CAP_CTRL reset bit restarts the capture buffer (second calibration)") {
  auto& b = bench();
  b.init.w32(kTile + ADC_MODE, ADC_MODE_IDEAL);
  b.init.w32(kTile + ADC_APPLY, 1);
  b.init.w32(kTile + ADC_CAP_ADDR, 0x10000200);
  b.init.w32(kTile + ADC_CAP_MAX, 4);
  b.init.w32(kTile + ADC_CAP_DECIM, 1);
  b.init.w32(kTile + ADC_CAP_CTRL, ADC_CAP_CTRL_ENABLE | ADC_CAP_CTRL_RESET);
  CHECK(b.init.r32(kTile + ADC_CAP_COUNT) == 0);
  CHECK(b.init.r32(kTile + ADC_CAP_CTRL) == ADC_CAP_CTRL_ENABLE);  // reset bit self-clears
  sc_core::sc_time d;
  convert(b.tile.adc(), {1.f, 2.f, 3.f});
  b.tile.adc().end_batch(b.tile.isock, d);
  CHECK(b.init.r32(kTile + ADC_CAP_COUNT) == 3);
  // Without a reset the buffer stays (nearly) full: only one more sample fits.
  convert(b.tile.adc(), {4.f, 5.f});
  b.tile.adc().end_batch(b.tile.isock, d);
  CHECK(b.init.r32(kTile + ADC_CAP_COUNT) == 4);
  // Reset: the next capture starts at CAP_ADDR again and overwrites the first samples.
  b.init.w32(kTile + ADC_CAP_CTRL, ADC_CAP_CTRL_ENABLE | ADC_CAP_CTRL_RESET);
  CHECK(b.init.r32(kTile + ADC_CAP_COUNT) == 0);
  convert(b.tile.adc(), {-10.f, -20.f});
  b.tile.adc().end_batch(b.tile.isock, d);
  CHECK(b.init.r32(kTile + ADC_CAP_COUNT) == 2);
  const float want[] = {-10.f, -20.f, 3.f, 4.f};
  for (int i = 0; i < 4; ++i) {
    float f;
    std::memcpy(&f, b.sram.data() + 0x200 + 4 * i, 4);
    CHECK(f == want[i]);
  }
  b.init.w32(kTile + ADC_CAP_CTRL, 0);
}

namespace {
// Bank of the bench: 16 physical columns, 8-bit weights in 2-bit cells (4 slices),
// differential: logical column j, slice s sits at physical column 8 j + 2 s, so 2 logical
// columns fill the array.
std::vector<float> convert2(cimvp::AdcBank& bank, const std::vector<float>& col0, const std::vector<float>& col1,
                            int slice) {
  Eigen::MatrixXf m(static_cast<Eigen::Index>(col0.size()), 2);
  for (std::size_t i = 0; i < col0.size(); ++i) {
    m(static_cast<Eigen::Index>(i), 0) = col0[i];
    m(static_cast<Eigen::Index>(i), 1) = col1[i];
  }
  cimvp::crossbar::AdcContext c;
  c.unit_current_ua = 1.0;
  c.full_scale_digits = 48;
  c.slice = slice;
  bank.begin_batch();
  bank.convert(m, c);
  return std::vector<float>(m.data(), m.data() + m.size());
}
}  // namespace

TEST_CASE("threshold sets: ADC_SET_COLS validation, one design per column group, per-set capture") {
  auto& b = bench();
  b.init.w32(kTile + ADC_MODE, ADC_MODE_QCELL);
  b.init.w32(kTile + ADC_APPLY, 1);
  CHECK(b.init.r32(kTile + ADC_NSETS) == 1);
  // Not a multiple of ADC_SHARE (4), or wider than the array: ignored with a warning.
  {
    cimvp_test::ExpectScReport w("ADC_SET_COLS 6 ");
    b.init.w32(kTile + ADC_SET_COLS, 6);
  }
  {
    cimvp_test::ExpectScReport w("ADC_SET_COLS 20 ");
    b.init.w32(kTile + ADC_SET_COLS, 20);
  }
  CHECK(b.init.r32(kTile + ADC_SET_COLS) == 0);
  CHECK(b.init.r32(kTile + ADC_NSETS) == 1);
  // Two sets of 8 columns: set 0 = logical column 0 (every slice), set 1 = logical column 1.
  b.init.w32(kTile + ADC_SET_COLS, 8);
  CHECK(b.init.r32(kTile + ADC_SET_COLS) == 8);
  REQUIRE(b.init.r32(kTile + ADC_NSETS) == 2);
  for (uint32_t k = 0; k < 2; ++k) {
    b.init.w32(kTile + ADC_SET_SEL, k);
    b.init.w32(kTile + ADC_RANGE_LO, fbits(0.f));
    b.init.w32(kTile + ADC_RANGE_HI, fbits(8.f * (k + 1)));
    // Set 0: cells of width 1 on [0, 8); set 1: width 2 on [0, 16); levels 10 k + code.
    for (int i = 0; i < 7; ++i) b.init.w32(kTile + ADC_THRESH(i), fbits(static_cast<float>((i + 1) * (k + 1))));
    for (int i = 0; i < 8; ++i) b.init.w32(kTile + ADC_LEVEL(i), fbits(static_cast<float>(10 * k + i)));
    b.init.w32(kTile + ADC_APPLY, 1);
  }
  // The windows read back per set.
  b.init.w32(kTile + ADC_SET_SEL, 0);
  CHECK(bitsf(b.init.r32(kTile + ADC_THRESH(2))) == 3.f);
  CHECK(bitsf(b.init.r32(kTile + ADC_EDGE(15))) == Approx(8.f));
  b.init.w32(kTile + ADC_SET_SEL, 1);
  CHECK(bitsf(b.init.r32(kTile + ADC_THRESH(2))) == 6.f);
  CHECK(bitsf(b.init.r32(kTile + ADC_EDGE(15))) == Approx(16.f));
  {
    cimvp_test::ExpectScReport w("ADC_SET_SEL 2 >= ADC_NSETS 2");
    b.init.w32(kTile + ADC_SET_SEL, 2);  // out of range: ignored
  }
  CHECK(b.init.r32(kTile + ADC_SET_SEL) == 1);

  // Column 0 converts through set 0, column 1 through set 1, for every slice.
  for (int slice = 0; slice < 4; ++slice) {
    auto out = convert2(b.tile.adc(), {2.5f, 5.5f}, {2.5f, 5.5f}, slice);
    CHECK(out[0] == 2.f);   // set 0: floor(x)
    CHECK(out[1] == 5.f);
    CHECK(out[2] == 11.f);  // set 1: 10 + floor(x / 2)
    CHECK(out[3] == 12.f);
  }

  // Per-set capture: slot k at CAP_ADDR + 4 k CAP_MAX, CAP_MAX samples each, own counters.
  b.init.w32(kTile + ADC_CAP_ADDR, 0x10000400);
  b.init.w32(kTile + ADC_CAP_MAX, 3);
  b.init.w32(kTile + ADC_CAP_DECIM, 1);
  b.init.w32(kTile + ADC_CAP_CTRL, ADC_CAP_CTRL_ENABLE | ADC_CAP_CTRL_PER_SET | ADC_CAP_CTRL_RESET);
  b.init.w32(kTile + ADC_SET_SEL, 0);
  const uint32_t seen0 = b.init.r32(kTile + ADC_CAP_SET_SEEN);
  convert2(b.tile.adc(), {1.f, 2.f, 3.f, 4.f}, {-1.f, -2.f, -3.f, -4.f}, 0);
  sc_core::sc_time d;
  b.tile.adc().end_batch(b.tile.isock, d);
  CHECK(b.init.r32(kTile + ADC_CAP_COUNT) == 6);
  for (uint32_t k = 0; k < 2; ++k) {
    b.init.w32(kTile + ADC_SET_SEL, k);
    CHECK(b.init.r32(kTile + ADC_CAP_SET_COUNT) == 3);
    for (int i = 0; i < 3; ++i) {
      float f;
      std::memcpy(&f, b.sram.data() + 0x400 + 12 * k + 4 * i, 4);
      CHECK(f == (k == 0 ? 1.f : -1.f) * static_cast<float>(i + 1));
    }
  }
  b.init.w32(kTile + ADC_SET_SEL, 0);
  CHECK(b.init.r32(kTile + ADC_CAP_SET_SEEN) - seen0 == 4);
  b.init.w32(kTile + ADC_CAP_CTRL, 0);

  // The programming controller's device index k * 2^(bits+1) + d reaches set k only.
  auto& bank = b.tile.adc();
  REQUIRE(bank.qcell_devices() == 2u * 16u);
  b.init.w32(kTile + ADC_SET_SEL, 1);
  const float e3 = bitsf(b.init.r32(kTile + ADC_EDGE(3)));  // upper edge of set 1's cell 1: 4
  CHECK(e3 == Approx(4.f));
  // Set 1's range [0, 16] maps linearly onto [GMIN, GMAX]: edge 4.5 <-> G.
  const double gmin = bitsf(b.init.r32(kTile + ADC_GMIN)), gmax = bitsf(b.init.r32(kTile + ADC_GMAX));
  REQUIRE(bank.set_qcell_conductance(16 + 3, 0, gmin + 4.5 / 16.0 * (gmax - gmin)));
  bank.finish_qcell_programming();
  CHECK(bitsf(b.init.r32(kTile + ADC_EDGE(3))) == Approx(4.5f).epsilon(1e-4));
  b.init.w32(kTile + ADC_SET_SEL, 0);
  CHECK(bitsf(b.init.r32(kTile + ADC_EDGE(3))) == Approx(2.f));  // set 0 untouched
  CHECK_FALSE(bank.set_qcell_conductance(32, 0, gmin));          // past the last set

  // Back to one set for the bank.
  b.init.w32(kTile + ADC_SET_COLS, 0);
  CHECK(b.init.r32(kTile + ADC_NSETS) == 1);
  CHECK(bank.qcell_devices() == 16u);
}

TEST_CASE("super-resolution: the partner's edges read back through ADC_EDGE_COPY; zero window wins when set") {
  auto& b = bench();
  auto& bank = b.tile.adc();
  // 3-bit design on [-4, 4] with a zero window [-0.5, 0.5) (code 3, level 0).
  const float thr[7] = {-3.f, -2.f, -0.5f, 0.5f, 1.5f, 2.5f, 3.5f};
  const float lev[8] = {-3.5f, -2.5f, -1.25f, 0.f, 1.f, 2.f, 3.f, 3.75f};
  const double gmin = bitsf(b.init.r32(kTile + ADC_GMIN)), gmax = bitsf(b.init.r32(kTile + ADC_GMAX));
  auto g_of = [&](double edge) { return gmin + (edge + 4.0) / 8.0 * (gmax - gmin); };
  auto setup = [&](uint32_t zero_code) {
    b.init.w32(kTile + ADC_MODE, ADC_MODE_QCELL_SR);
    b.init.w32(kTile + ADC_RANGE_LO, fbits(-4.f));
    b.init.w32(kTile + ADC_RANGE_HI, fbits(4.f));
    for (int i = 0; i < 7; ++i) b.init.w32(kTile + ADC_THRESH(i), fbits(thr[i]));
    for (int i = 0; i < 8; ++i) b.init.w32(kTile + ADC_LEVEL(i), fbits(lev[i]));
    b.init.w32(kTile + ADC_SR_ZERO_CODE, zero_code);
    b.init.w32(kTile + ADC_APPLY, 1);
    REQUIRE(b.init.r32(kTile + ADC_SR_COPIES) == 2);
    // The partner (copy 1): upper edge of cell 2 (device 5) programmed to 0.3, so x = 0
    // matches cells 2 and 3 and the lower one wins: copy 1 says code 2, copy 0 code 3.
    REQUIRE(bank.set_qcell_conductance(5, 1, g_of(0.3)));
    bank.finish_qcell_programming();
  };
  setup(ADC_SR_ZERO_NONE);
  b.init.w32(kTile + ADC_EDGE_COPY, 1);
  CHECK(bitsf(b.init.r32(kTile + ADC_EDGE(5))) == Approx(0.3f).epsilon(1e-4));
  b.init.w32(kTile + ADC_EDGE_COPY, 0);
  CHECK(bitsf(b.init.r32(kTile + ADC_EDGE(5))) == Approx(-0.5f));
  {
    cimvp_test::ExpectScReport w("ADC_EDGE_COPY 2 >= the 2");
    b.init.w32(kTile + ADC_EDGE_COPY, 2);  // only two copies: ignored
  }
  CHECK(b.init.r32(kTile + ADC_EDGE_COPY) == 0);
  const uint32_t dis0 = b.init.r32(kTile + ADC_SR_DISAGREE);
  // Boundary rule: the pair disagrees on 0 and outputs the threshold between codes 2 and 3.
  auto out = convert(bank, {0.f, 0.2f, 1.f});
  CHECK(out[0] == -0.5f);
  CHECK(out[1] == -0.5f);
  CHECK(out[2] == 1.f);  // both copies agree
  CHECK(b.init.r32(kTile + ADC_SR_DISAGREE) - dis0 == 2);
  // Zero window wins: the same disagreement outputs 0 (still counted as a disagreement).
  setup(3);
  CHECK(b.init.r32(kTile + ADC_SR_ZERO_CODE) == 3);
  out = convert(bank, {0.f, 0.2f, 1.f});
  CHECK(out[0] == 0.f);
  CHECK(out[1] == 0.f);
  CHECK(out[2] == 1.f);
  CHECK(b.init.r32(kTile + ADC_SR_DISAGREE) - dis0 == 4);
  b.init.w32(kTile + ADC_SR_ZERO_CODE, ADC_SR_ZERO_NONE);
  b.init.w32(kTile + ADC_MODE, ADC_MODE_QCELL);
  b.init.w32(kTile + ADC_APPLY, 1);
}

TEST_CASE("SAR transfer shape follows ADC_UNIFORM_SHAPE: min-max levels from RANGE_LO to RANGE_HI") {
  auto& b = bench();
  // Reset value from the scenario (chip.adc.uniform_shape, default mid_tread).
  CHECK(b.init.r32(kTile + ADC_UNIFORM_SHAPE) == ADC_SHAPE_MID_TREAD);
  b.init.w32(kTile + ADC_MODE, ADC_MODE_SAR);
  b.init.w32(kTile + ADC_UNIFORM_SHAPE, ADC_SHAPE_MIN_MAX);
  b.init.w32(kTile + ADC_RANGE_LO, fbits(-7.f));
  b.init.w32(kTile + ADC_RANGE_HI, fbits(7.f));
  b.init.w32(kTile + ADC_APPLY, 1);
  // 3 bits min-max over [-7, 7]: step 14/7 = 2, levels -7, -5, ..., 7 (0 is not a level),
  // thresholds at the midpoints -6, -4, ..., 6; clipped at the ends.
  auto out = convert(b.tile.adc(), {-9.f, -6.1f, -5.9f, -0.1f, 0.1f, 2.1f, 6.9f, 100.f});
  std::vector<float> want = {-7.f, -7.f, -5.f, -1.f, 1.f, 3.f, 7.f, 7.f};
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(out[i] == Approx(want[i]));
  // An unknown shape is rejected at APPLY; the converters stay as they were.
  {
    cimvp_test::ExpectScReport w("ADC_APPLY with an invalid mode, bit count or uniform shape");
    b.init.w32(kTile + ADC_UNIFORM_SHAPE, 2);
    b.init.w32(kTile + ADC_APPLY, 1);
  }
  CHECK(convert(b.tile.adc(), {0.1f})[0] == Approx(1.f));
  // Back to mid-tread: 0 is a level again (A = 7, LSB 1.75).
  b.init.w32(kTile + ADC_UNIFORM_SHAPE, ADC_SHAPE_MID_TREAD);
  b.init.w32(kTile + ADC_APPLY, 1);
  CHECK(convert(b.tile.adc(), {0.1f})[0] == 0.f);
  CHECK(convert(b.tile.adc(), {2.9f})[0] == Approx(3.5f));
}

TEST_CASE("a tile batch over TLM: codes, conversion time and ADC energy follow the applied ADC_MODE/ADC_BITS") {
  auto& b = bench();
  const auto& m = b.scenario.chip.mapping;
  // The bench: 16 x 16 array, 8-bit weights in 2-bit cells (4 slices), differential, 8-bit
  // inputs bit-serial (8 input cycles), 4 ADCs of 4 columns.
  REQUIRE(m.slices() == 4);
  REQUIRE(m.input_cycles() == 8);
  REQUIRE(b.init.r32(kTile + ADC_NADCS) == 4);
  const int k = 16, n = 2, nvec = 3;
  Eigen::MatrixXi codes(k, n);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < n; ++j) codes(i, j) = (i % 2 ? 1 : -1) * ((7 * i + 3 * j) % 128);
  b.tile.load_block(cimvp::crossbar::map_codes(codes, m, b.scenario.chip.device));
  b.tile.program_ideal();
  Eigen::MatrixXi x(nvec, k);
  for (int v = 0; v < nvec; ++v)
    for (int i = 0; i < k; ++i) {
      x(v, i) = (31 * v + 17 * i) % 256;
      b.sram.data()[0x100 + v * k + i] = static_cast<uint8_t>(x(v, i));
    }
  constexpr uint64_t kSram = 0x10000000;
  b.init.w32(kTile + TILE_K, k);
  b.init.w32(kTile + TILE_N, n);
  b.init.w32(kTile + TILE_IN_ADDR, kSram + 0x100);
  b.init.w32(kTile + TILE_IN_STRIDE, k);
  b.init.w32(kTile + TILE_OUT_ADDR, kSram + 0x4000);
  b.init.w32(kTile + TILE_OUT_STRIDE, n * 4);
  b.init.w32(kTile + TILE_NVEC, nvec);
  const int adc_id = b.power.core().component_id("tile0_adc");
  struct Batch {
    uint64_t ns, conv;
    double adc_pj;
  };
  auto run = [&] {
    const uint64_t c0 = b.init.r32(kTile + TILE_CYCLES_LO), v0 = b.init.r32(kTile + TILE_CONV_LO);
    const double e0 = b.power.core().dynamic_pj(static_cast<std::size_t>(adc_id));
    b.init.w32(kTile + TILE_CTRL, TILE_CTRL_START);
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
    REQUIRE(b.init.r32(kTile + TILE_STATUS) == TILE_STATUS_DONE);
    b.init.w32(kTile + TILE_CTRL, TILE_CTRL_CLEAR_STATUS);
    return Batch{b.init.r32(kTile + TILE_CYCLES_LO) - c0, b.init.r32(kTile + TILE_CONV_LO) - v0,
                 b.power.core().dynamic_pj(static_cast<std::size_t>(adc_id)) - e0};
  };
  // Conversions per batch: vectors x input cycles x slices x logical columns = 3 x 8 x 4 x 2;
  // per input cycle 8 conversions over 4 ADCs = 2 rounds, so the batches differ in conversion
  // time by 3 x 8 x 2 x (t_conv(A) - t_conv(B)) ns (fetch, read pulses and drain are equal).
  const uint64_t conv = 3 * 8 * 4 * 2, rounds_total = 3 * 8 * 2;

  // 1) The scenario's reset converter: 3-bit Q-cell (selftest tech: 2 ns, 8 x 0.0000858 pJ).
  b.init.w32(kTile + ADC_MODE, ADC_MODE_QCELL);
  b.init.w32(kTile + ADC_BITS, 3);
  b.init.w32(kTile + ADC_RANGE_LO, fbits(0.f));
  b.init.w32(kTile + ADC_RANGE_HI, fbits(0.f));  // design full scale, uniform thresholds
  b.init.w32(kTile + ADC_THRESH(0), fbits(1.f));
  b.init.w32(kTile + ADC_THRESH(1), fbits(0.f));  // not ascending: the bank uses uniform ones
  b.init.w32(kTile + ADC_APPLY, 1);
  const Batch q3 = run();
  CHECK(q3.conv == conv);
  CHECK(q3.adc_pj == Approx(conv * 8 * 0.0000858).epsilon(1e-9));

  // 2) Firmware programs a 5-bit SAR. Written but not applied: nothing changes yet.
  b.init.w32(kTile + ADC_MODE, ADC_MODE_SAR);
  b.init.w32(kTile + ADC_BITS, 5);
  const Batch pending = run();
  CHECK(pending.ns == q3.ns);
  CHECK(pending.adc_pj == Approx(q3.adc_pj).epsilon(1e-9));
  // Applied (mid-tread over the design full scale): NeuroSim SAR, (5 + 1) ns and
  // (0.7213 x 25 + 4.0254 x 5 + 3.3041) fJ = 41.4636 fJ per conversion.
  b.init.w32(kTile + ADC_APPLY, 1);
  const Batch sar5 = run();
  CHECK(sar5.conv == conv);
  CHECK(sar5.ns - q3.ns == rounds_total * (6 - 2));
  CHECK(sar5.adc_pj == Approx(conv * 0.0414636).epsilon(1e-6));

  // 3) 4-bit super-resolution pairs: both ADCs of a pair convert (2 x 16 x 0.0000858 pJ), 2 ns.
  b.init.w32(kTile + ADC_MODE, ADC_MODE_QCELL_SR);
  b.init.w32(kTile + ADC_BITS, 4);
  b.init.w32(kTile + ADC_APPLY, 1);
  const Batch sr4 = run();
  CHECK(sr4.ns == q3.ns);
  CHECK(sr4.adc_pj == Approx(conv * 2 * 16 * 0.0000858).epsilon(1e-9));

  // 4) Ideal converters (the calibration capture pass): no ADC time or energy.
  b.init.w32(kTile + ADC_MODE, ADC_MODE_IDEAL);
  b.init.w32(kTile + ADC_APPLY, 1);
  const Batch id = run();
  CHECK(q3.ns - id.ns == rounds_total * 2);
  CHECK(id.adc_pj == 0.0);
  // ... and the ideal batch computes the exact dot product.
  Eigen::MatrixXd ref = cimvp::crossbar::exact_dot(x, codes);
  for (int v = 0; v < nvec; ++v)
    for (int j = 0; j < n; ++j) {
      float y;
      std::memcpy(&y, b.sram.data() + 0x4000 + (v * n + j) * 4, 4);
      CHECK(y == static_cast<float>(ref(v, j)));
    }
}
