// Module test of a tile's ADC bank through its register window: the firmware's view
// (mode, bits, thresholds, level table, capture) over TLM, then a known ramp converted by
// the bank and the codes read back through an identity level table.
#include "tests/support/sc_test_main.hpp"

#include <tlm_utils/simple_initiator_socket.h>

#include <cstring>

#include "cimvp/regs.h"
#include "models/crossbar/tile.hpp"
#include "platform/bus/router.hpp"
#include "platform/config/scenario.hpp"
#include "platform/memory/memory.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/tracing/tracer.hpp"

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

struct Initiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Initiator> isock{"isock"};
  explicit Initiator(const sc_core::sc_module_name& n) : sc_core::sc_module(n) {}
  tlm::tlm_response_status rw(tlm::tlm_command cmd, uint64_t a, uint32_t& v) {
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(a);
    gp.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
    gp.set_data_length(4);
    gp.set_streaming_width(4);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time d;
    isock->b_transport(gp, d);
    return gp.get_response_status();
  }
  void w32(uint64_t a, uint32_t v) { REQUIRE(rw(tlm::TLM_WRITE_COMMAND, a, v) == tlm::TLM_OK_RESPONSE); }
  uint32_t r32(uint64_t a) {
    uint32_t v = 0;
    REQUIRE(rw(tlm::TLM_READ_COMMAND, a, v) == tlm::TLM_OK_RESPONSE);
    return v;
  }
};

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
