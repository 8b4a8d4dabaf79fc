// Module test of the crossbar tile through a TLM test initiator: weights programmed, input
// codes in SRAM, registers written over the bus, the batch runs in simulated time, results
// read back from SRAM and checked bit-exactly against the integer dot product; IRQ,
// counters (against the closed-form timing), energy events and error statuses checked too.
#include "tests/support/sc_test_main.hpp"

#include <cmath>
#include <cstring>
#include <random>

#include "tests/tile/tile_bench.hpp"

CIMVP_SC_TEST_MAIN

using namespace tile_test;

namespace {

// The ideal converter is given a cost here, so conversions show up in time and energy.
constexpr double kConvNs = 1.5, kConvPj = 0.001;

Bench& bench() {
  static Bench b({"tech.adc.ideal.time_ns=" + std::to_string(kConvNs),
                  "tech.adc.ideal.energy_pj=" + std::to_string(kConvPj)});
  return b;
}

Eigen::MatrixXi program_random(Bench& b, int k, int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> wdist(-127, 127);
  Eigen::MatrixXi codes(k, n);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < n; ++j) codes(i, j) = wdist(rng);
  b.tile.load_block(cimvp::crossbar::map_codes(codes, b.scenario.chip.mapping, b.scenario.chip.device));
  b.tile.program_ideal();
  return codes;
}

Eigen::MatrixXi put_inputs(Bench& b, int nvec, int k, uint32_t offset, uint32_t stride, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> xdist(0, b.scenario.chip.mapping.max_input_code());
  Eigen::MatrixXi x(nvec, k);
  for (int v = 0; v < nvec; ++v)
    for (int i = 0; i < k; ++i) {
      x(v, i) = xdist(rng);
      b.sram.data()[offset + v * stride + i] = static_cast<uint8_t>(x(v, i));
    }
  return x;
}

// One bus transaction of `bytes` to SRAM: router latency + SRAM latency + bytes / bandwidth.
double txn_ns(const cimvp::config::Scenario& s, double bytes) {
  return s.tech.bus.latency_ns + s.tech.sram.latency_ns + bytes / s.tech.sram.bytes_per_ns;
}

// docs/tile.md timing: per vector and input cycle one read pulse, then ceil(N*S / n_adcs)
// conversion rounds; shift_add_ns_per_vector per vector; plus the bus transactions.
double compute_ns(const cimvp::config::Scenario& s, int nvec, int n) {
  const auto& m = s.chip.mapping;
  const int n_adcs = m.cols / s.chip.adc.share;
  const double rounds = std::ceil(double(n) * m.slices() / n_adcs);
  return nvec * (m.input_cycles() * (s.tech.crossbar.t_read_ns + rounds * kConvNs) + s.tech.crossbar.shift_add_ns_per_vector);
}

// Array read energy from first principles: per vector, input cycle and row, (bit * v_read)^2
// times the conductances of the sensed columns times t_read (uS V^2 ns = fJ).
double array_energy_pj(Bench& b, const Eigen::MatrixXi& x, const std::vector<int>& cols) {
  const auto& m = b.scenario.chip.mapping;
  double e = 0;
  for (int v = 0; v < x.rows(); ++v)
    for (int c = 0; c < m.input_cycles(); ++c)
      for (int i = 0; i < x.cols(); ++i) {
        const double volt = ((x(v, i) >> c) & 1) * m.v_read;
        if (volt == 0) continue;
        for (int col : cols) e += volt * volt * b.tile.array().conductance(i, col) * b.scenario.tech.crossbar.t_read_ns;
      }
  return e * 1e-3;
}

}  // namespace

TEST_CASE("a batch computes the exact integer dot product and raises the IRQ and counts") {
  auto& b = bench();
  const int k = 40, n = 5, nvec = 17;
  const uint32_t in_stride = 48;  // not contiguous: one fetch per vector
  Eigen::MatrixXi codes = program_random(b, k, n, 7);
  Eigen::MatrixXi x = put_inputs(b, nvec, k, 0x100, in_stride, 8);
  b.start(k, n, kSram + 0x100, in_stride, kSram + 0x4000, n * 4, nvec);
  CHECK((b.init.r32(kTile + TILE_STATUS) & TILE_STATUS_BUSY) != 0);
  CHECK_FALSE(b.irq.read());
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
  CHECK(b.irq.read());
  uint32_t st = b.init.r32(kTile + TILE_STATUS);
  CHECK(st == TILE_STATUS_DONE);

  Eigen::MatrixXd ref = cimvp::crossbar::exact_dot(x, codes);
  for (int v = 0; v < nvec; ++v)
    for (int j = 0; j < n; ++j) {
      float y;
      std::memcpy(&y, b.sram.data() + 0x4000 + (v * n + j) * 4, 4);
      CHECK(y == static_cast<float>(ref(v, j)));
    }
  CHECK(b.init.r32(kTile + TILE_VECTORS) == nvec);
  CHECK(b.init.r32(kTile + TILE_BATCHES) == 1);
  const auto& m = b.scenario.chip.mapping;
  const uint64_t conv = uint64_t(nvec) * m.input_cycles() * m.slices() * n;
  CHECK(b.init.r32(kTile + TILE_CONV_LO) == conv);
  // Busy time: one input fetch per vector, one output write per vector, the compute.
  const double expected_ns = nvec * txn_ns(b.scenario, k) + nvec * txn_ns(b.scenario, 4.0 * n) + compute_ns(b.scenario, nvec, n);
  INFO("CYCLES " << b.busy_ns() << " ns, closed form " << expected_ns << " ns");
  CHECK(std::abs(double(b.busy_ns()) - expected_ns) <= 1.0);
  // Energy events: DAC per active row and cycle, mux and shift-add per conversion, buffer bytes.
  CHECK(b.event_count("dac_row_cycle") == uint64_t(nvec) * m.input_cycles() * k);
  CHECK(b.event_count("column_mux") == conv);
  CHECK(b.event_count("shift_add") == conv);
  CHECK(b.event_count("buffer_byte") == uint64_t(nvec) * k + uint64_t(nvec) * n * 4);
  CHECK(b.component_pj("tile0_adc") == Approx(conv * kConvPj).epsilon(1e-9));
  std::vector<int> used;
  for (int c = 0; c < b.tile.array().block().used_cols; ++c) used.push_back(c);
  CHECK(b.component_pj("tile0.array") == Approx(array_energy_pj(b, x, used)).epsilon(1e-5));

  // Clearing the status drops the interrupt.
  b.clear_status();
  CHECK_FALSE(b.irq.read());

  SECTION("accumulate adds a second pass onto the first") {
    b.init.w32(kTile + TILE_FLAGS, TILE_FLAG_ACCUMULATE);
    b.init.w32(kTile + TILE_CTRL, TILE_CTRL_START);
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
    b.init.w32(kTile + TILE_FLAGS, 0);
    for (int j = 0; j < n; ++j) {
      float y;
      std::memcpy(&y, b.sram.data() + 0x4000 + j * 4, 4);
      CHECK(y == static_cast<float>(2 * ref(0, j)));
    }
    b.clear_status();
  }
}

TEST_CASE("N < MAPPED_N converts and times and charges only the N columns") {
  auto& b = bench();
  const int k = 33, mapped_n = 7, n = 2, nvec = 300;  // 300 x 33 bytes: contiguous, 3 bursts
  Eigen::MatrixXi codes = program_random(b, k, mapped_n, 21);
  Eigen::MatrixXi x = put_inputs(b, nvec, k, 0x1000, k, 22);
  REQUIRE(b.init.r32(kTile + TILE_MAPPED_N) == mapped_n);
  b.init.w32(kTile + TILE_CTRL, TILE_CTRL_CLEAR_COUNTERS);
  b.start(k, n, kSram + 0x1000, k, kSram + 0x40000, n * 4, nvec);
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
  REQUIRE(b.init.r32(kTile + TILE_STATUS) == TILE_STATUS_DONE);
  Eigen::MatrixXd ref = cimvp::crossbar::exact_dot(x, codes);
  for (int v = 0; v < nvec; ++v)
    for (int j = 0; j < n; ++j) {
      float y;
      std::memcpy(&y, b.sram.data() + 0x40000 + (v * n + j) * 4, 4);
      CHECK(y == static_cast<float>(ref(v, j)));
    }
  const auto& m = b.scenario.chip.mapping;
  const uint64_t conv = uint64_t(nvec) * m.input_cycles() * m.slices() * n;  // not x mapped_n
  CHECK(b.init.r32(kTile + TILE_CONV_LO) == conv);
  CHECK(b.event_count("column_mux") == conv);
  CHECK(b.event_count("shift_add") == conv);
  CHECK(b.component_pj("tile0_adc") == Approx(conv * kConvPj).epsilon(1e-9));
  // 9900 contiguous input bytes: bursts of 4096, 4096, 1708; then one write per vector.
  const double fetch = txn_ns(b.scenario, 4096) * 2 + txn_ns(b.scenario, nvec * k - 8192);
  const double expected_ns = fetch + nvec * txn_ns(b.scenario, 4.0 * n) + compute_ns(b.scenario, nvec, n);
  INFO("CYCLES " << b.busy_ns() << " ns, closed form " << expected_ns << " ns");
  CHECK(std::abs(double(b.busy_ns()) - expected_ns) <= 1.0);
  // Read energy of the sensed columns only: differential pairs of logical columns 0..n-1.
  std::vector<int> sensed;
  for (int j = 0; j < n; ++j)
    for (int s = 0; s < m.slices(); ++s)
      for (int p = 0; p < 2; ++p) sensed.push_back(m.column_of(j, s, p));
  CHECK(b.component_pj("tile0.array") == Approx(array_energy_pj(b, x, sensed)).epsilon(1e-5));
  b.clear_status();
}

TEST_CASE("START while busy keeps the running batch and latches an error until CLEAR") {
  auto& b = bench();
  const int k = 64, n = 8, nvec = 2000;
  Eigen::MatrixXi codes = program_random(b, k, n, 31);
  Eigen::MatrixXi x = put_inputs(b, nvec, k, 0x1000, k, 32);
  b.start(k, n, kSram + 0x1000, k, kSram + 0x80000, n * 4, nvec);
  b.init.w32(kTile + TILE_CTRL, TILE_CTRL_START);  // again, while busy
  uint32_t st = b.init.r32(kTile + TILE_STATUS);
  CHECK(st == (TILE_STATUS_BUSY | TILE_STATUS_ERROR | TILE_STATUS_OVERRUN | (TILE_ERR_BUSY << 8)));
  CHECK_THAT(b.tile.last_error(), Catch::Contains("START while a batch is running"));
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_NS));
  CHECK(b.irq.read());  // the misconfiguration raises the IRQ at once
  sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_MS));
  // The batch completed; the completion did not erase the latched error.
  st = b.init.r32(kTile + TILE_STATUS);
  CHECK(st == (TILE_STATUS_DONE | TILE_STATUS_ERROR | TILE_STATUS_OVERRUN | (TILE_ERR_BUSY << 8)));
  CHECK(b.init.r32(kTile + TILE_BATCHES) == 1);
  Eigen::MatrixXd ref = cimvp::crossbar::exact_dot(x, codes);
  int wrong = 0;
  for (int v = 0; v < nvec; ++v)
    for (int j = 0; j < n; ++j) {
      float y;
      std::memcpy(&y, b.sram.data() + 0x80000 + (v * n + j) * 4, 4);
      wrong += y != static_cast<float>(ref(v, j));
    }
  CHECK(wrong == 0);
  b.clear_status();
  CHECK(b.init.r32(kTile + TILE_STATUS) == 0);
  CHECK_FALSE(b.irq.read());

  // CLEAR while busy keeps BUSY and drops the IRQ; the next START is not lost.
  b.init.w32(kTile + TILE_CTRL, TILE_CTRL_START);
  b.init.w32(kTile + TILE_CTRL, TILE_CTRL_START);
  b.clear_status();
  CHECK(b.init.r32(kTile + TILE_STATUS) == TILE_STATUS_BUSY);
  CHECK_FALSE(b.irq.read());
  sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_MS));
  CHECK(b.init.r32(kTile + TILE_STATUS) == TILE_STATUS_DONE);
  CHECK(b.irq.read());
  CHECK(b.init.r32(kTile + TILE_BATCHES) == 2);
  b.clear_status();
}

TEST_CASE("misconfiguration sets an error code and raises the IRQ and never crashes") {
  auto& b = bench();
  // ctest runs each case in its own process: this one programs its own weights.
  Eigen::MatrixXi codes = Eigen::MatrixXi::Constant(40, 5, 3);
  b.tile.load_block(cimvp::crossbar::map_codes(codes, b.scenario.chip.mapping, b.scenario.chip.device));
  auto run_expect = [&](uint32_t code, const std::string& says) {
    b.init.w32(kTile + TILE_CTRL, TILE_CTRL_START);
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
    uint32_t st = b.init.r32(kTile + TILE_STATUS);
    CHECK((st & TILE_STATUS_ERROR) != 0);
    CHECK((st & TILE_STATUS_BUSY) == 0);
    CHECK(TILE_STATUS_ERRCODE(st) == code);
    CHECK(b.irq.read());
    CHECK_THAT(b.tile.last_error(), Catch::Contains(says));
    b.clear_status();
  };
  b.start(40, 5, kSram + 0x100, 40, kSram + 0x4000, 20, 2);
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
  b.clear_status();
  run_expect(TILE_ERR_NOT_PROGRAMMED, "before any weights");
  b.tile.program_ideal();
  b.init.w32(kTile + TILE_NVEC, 0);
  run_expect(TILE_ERR_NVEC_ZERO, "NVEC = 0");
  b.init.w32(kTile + TILE_NVEC, 2);
  b.init.w32(kTile + TILE_K, 9999);
  run_expect(TILE_ERR_SHAPE, "K must be 40");
  b.init.w32(kTile + TILE_K, 40);
  b.init.w32(kTile + TILE_N, 6);
  run_expect(TILE_ERR_SHAPE, "N in 1..5");
  b.init.w32(kTile + TILE_N, 5);
  // A runaway vector count is refused before anything is allocated or fetched.
  b.init.w32(kTile + TILE_NVEC, 0xFFFFFFFFu);
  run_expect(TILE_ERR_RANGE, "TILE_MAX_NVEC");
  CHECK(b.init.r32(kTile + TILE_MAX_NVEC) == (1u << 20));
  b.init.w32(kTile + TILE_NVEC, 1u << 20);  // allowed count, but the inputs run past the bus
  b.init.w32(kTile + TILE_IN_STRIDE, 0x10000);
  run_expect(TILE_ERR_RANGE, "past the 32-bit bus");
  b.init.w32(kTile + TILE_NVEC, 2);
  b.init.w32(kTile + TILE_IN_STRIDE, 40);
  b.init.w32(kTile + TILE_IN_ADDR, 0x7000000);  // no memory there
  run_expect(TILE_ERR_INPUT_BUS, "0x7000000");
  CHECK(b.init.r32(kTile + TILE_ERR_VECTOR) == 0);
  b.init.w32(kTile + TILE_IN_ADDR, kSram + 0x100);
  b.init.w32(kTile + TILE_OUT_ADDR, kSram + kSramSize - 8);  // runs off the end of SRAM
  run_expect(TILE_ERR_OUTPUT_BUS, "none of the 2 vectors was written");
  // Vectors 0..2 fit before the end of SRAM, vector 3 does not: it says so, and 0..2 are there.
  b.init.w32(kTile + TILE_NVEC, 5);
  b.init.w32(kTile + TILE_OUT_ADDR, kSram + kSramSize - 3 * 20 - 8);
  const uint32_t vectors_before = b.init.r32(kTile + TILE_VECTORS);
  run_expect(TILE_ERR_OUTPUT_BUS, "vectors 0..2 of 5 were computed and written, from vector 3 on nothing was written");
  CHECK(b.init.r32(kTile + TILE_ERR_VECTOR) == 3);
  CHECK(b.init.r32(kTile + TILE_VECTORS) - vectors_before == 3);
}
