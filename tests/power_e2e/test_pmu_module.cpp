// PMU block through a temporally decoupled TLM initiator (a tlm_quantumkeeper, as the host
// CPU uses): register accesses at local time t are stamped t (not the quantum boundary),
// snapshots latch PowerSc's per-component energy (dynamic + leakage x t) at that instant,
// RESET restarts energy and time, and the power trace bins events by their local time.
#include "tests/support/sc_test_main.hpp"

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include <functional>

#include "cimvp/regs.h"
#include "models/pmu/pmu.hpp"
#include "platform/config/scenario.hpp"
#include "platform/power/power_monitor.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/tracing/tracer.hpp"

CIMVP_SC_TEST_MAIN

namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

struct Cpu : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Cpu> isock{"isock"};
  tlm_utils::tlm_quantumkeeper qk;
  std::function<void(Cpu&)> body;
  SC_HAS_PROCESS(Cpu);
  explicit Cpu(const sc_core::sc_module_name& n) : sc_core::sc_module(n) { SC_THREAD(run); }
  void run() {
    qk.reset();
    if (body) body(*this);
  }
  tlm::tlm_response_status access(tlm::tlm_command cmd, uint32_t addr, uint32_t& v) {
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(addr);
    gp.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
    gp.set_data_length(4);
    gp.set_streaming_width(4);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_time delay = qk.get_local_time();
    isock->b_transport(gp, delay);
    qk.set(delay);
    if (qk.need_sync()) qk.sync();
    return gp.get_response_status();
  }
  void wr(uint32_t addr, uint32_t v) { REQUIRE(access(tlm::TLM_WRITE_COMMAND, addr, v) == tlm::TLM_OK_RESPONSE); }
  uint32_t rd(uint32_t addr) {
    uint32_t v = 0;
    REQUIRE(access(tlm::TLM_READ_COMMAND, addr, v) == tlm::TLM_OK_RESPONSE);
    return v;
  }
  uint64_t rd64(uint32_t lo, uint32_t hi) { return rd(lo) | (uint64_t(rd(hi)) << 32); }
};

constexpr double kLoadLeakUw = 10;  // 10 uW: 10e-6 W x 1 ns = 0.01 pJ per ns
constexpr double kOpPj = 2.5;

struct Observed {
  uint64_t kernel_ps_at_first = 1, first_event_ps = 0, now1 = 0, time1 = 0, load1_fj = 0, pmu1_fj = 0, total1 = 0;
  uint64_t expect_t1 = 0, ncomp = 0, hash1 = 0, name0 = 0;
  uint64_t expect_t2 = 0, expect_t3 = 0, now3 = 0, time3 = 0, cycles3 = 0, load3_fj = 0, static3_fj = 0;
  double load_dyn_at_1 = 0, pmu_dyn_at_1 = 0, pmu_dyn_at_3 = 0, pmu_dyn_at_2 = 0;
  tlm::tlm_response_status ro_write = tlm::TLM_OK_RESPONSE, wo_read = tlm::TLM_OK_RESPONSE,
                           hole = tlm::TLM_OK_RESPONSE;
  bool done = false;
};

struct Bench {
  cimvp::config::Scenario scenario = cimvp::config::load_scenario(cimvp::config::kSelftestScenario);
  cimvp::Tracer tracer;
  cimvp::PowerSc power{1000};  // 1000 ns bins
  cimvp::Context ctx{scenario, tracer, power};
  cimvp::Pmu pmu{"pmu", ctx};
  int load = power.component("load", 0, kLoadLeakUw);
  cimvp::PowerSc::Event op = power.event(load, "op", kOpPj);
  Cpu cpu{"cpu"};
  Observed o;
  Bench() {
    cpu.isock.bind(pmu.tsock);
    tlm_utils::tlm_quantumkeeper::set_global_quantum(sc_time(2000, SC_NS));
    cpu.body = [this](Cpu& c) { body(c); };
  }
  void body(Cpu& c) {
    auto now = [&] { return cimvp::to_ps(c.qk.get_current_time()); };
    // 4 ops at local 100 ns, one at local 1500 ns (kernel still at 0).
    c.qk.inc(sc_time(100, SC_NS));
    power.report(op, 4, c.qk.get_current_time());
    c.qk.inc(sc_time(1400, SC_NS));
    power.report(op, 1, c.qk.get_current_time());
    // Snapshot at local 1500 ns, inside the first quantum.
    o.expect_t1 = now();
    o.kernel_ps_at_first = cimvp::to_ps(sc_core::sc_time_stamp());
    o.load_dyn_at_1 = power.core().dynamic_pj(1);
    o.pmu_dyn_at_1 = power.core().dynamic_pj(0);
    c.wr(PMU_CTRL, PMU_CTRL_SNAPSHOT);
    o.first_event_ps = power.core().last_event_ps();
    o.now1 = c.rd64(PMU_NOW_LO, PMU_NOW_HI);
    o.time1 = c.rd64(PMU_TIME_LO, PMU_TIME_HI);
    o.total1 = c.rd64(PMU_TOTAL_LO, PMU_TOTAL_HI);
    o.ncomp = c.rd(PMU_NCOMP);
    c.wr(PMU_SEL, 1);
    o.load1_fj = c.rd64(PMU_C_ENERGY_LO, PMU_C_ENERGY_HI);
    o.hash1 = c.rd(PMU_C_HASH);
    o.name0 = c.rd(PMU_C_NAME0);
    c.wr(PMU_SEL, 0);
    o.pmu1_fj = c.rd64(PMU_C_ENERGY_LO, PMU_C_ENERGY_HI);
    uint32_t v = 1;
    o.ro_write = c.access(tlm::TLM_WRITE_COMMAND, PMU_NCOMP, v);
    o.wo_read = c.access(tlm::TLM_READ_COMMAND, PMU_CTRL, v);
    o.hole = c.access(tlm::TLM_READ_COMMAND, 0x0FCu, v);
    // Cross the quantum, then RESET at t2 and SNAPSHOT at t3.
    c.qk.inc(sc_time(3000, SC_NS));
    c.qk.sync();
    c.qk.inc(sc_time(250, SC_NS));
    o.expect_t2 = now();
    o.pmu_dyn_at_2 = power.core().dynamic_pj(0);
    c.wr(PMU_CTRL, PMU_CTRL_RESET);
    power.report(op, 2, c.qk.get_current_time());
    c.qk.inc(sc_time(777, SC_NS));
    o.expect_t3 = now();
    o.pmu_dyn_at_3 = power.core().dynamic_pj(0);
    c.wr(PMU_CTRL, PMU_CTRL_SNAPSHOT);
    o.now3 = c.rd64(PMU_NOW_LO, PMU_NOW_HI);
    o.time3 = c.rd64(PMU_TIME_LO, PMU_TIME_HI);
    o.cycles3 = c.rd64(PMU_CYCLES_LO, PMU_CYCLES_HI);
    c.wr(PMU_SEL, 1);
    o.load3_fj = c.rd64(PMU_C_ENERGY_LO, PMU_C_ENERGY_HI);
    o.static3_fj = c.rd64(PMU_C_STATIC_LO, PMU_C_STATIC_HI);
    o.done = true;
  }
};

Bench& bench() {
  static Bench b;
  static bool ran = [] {
    sc_core::sc_start();
    return true;
  }();
  (void)ran;
  return b;
}

}  // namespace

TEST_CASE("an access at local time t inside a quantum is stamped t") {
  auto& b = bench();
  const auto& o = b.o;
  REQUIRE(o.done);
  CHECK(o.kernel_ps_at_first == 0u);        // the kernel had not advanced: decoupled
  CHECK(o.expect_t1 == 1'500'000u);         // 100 + 1400 ns of local time
  CHECK(o.first_event_ps == o.expect_t1);   // the PMU's register-access energy at t, not at 0
  CHECK(o.now1 == o.expect_t1);             // the latched snapshot instant
  CHECK(o.time1 == o.expect_t1);            // no reset yet: time since 0
  // The op reported at local 1500 ns sits in bin 1 (1000..2000 ns), the four at 100 ns in bin 0.
  const auto& pm = b.power.core();
  CHECK(pm.bin_dynamic_pj(1, 0) == Approx(4 * kOpPj).epsilon(1e-12));
  CHECK(pm.bin_dynamic_pj(1, 1) == Approx(kOpPj).epsilon(1e-12));
}

TEST_CASE("a snapshot latches dynamic energy so far plus leakage up to the instant, in fJ") {
  auto& b = bench();
  const auto& o = b.o;
  REQUIRE(o.done);
  CHECK(o.ncomp == 2u);
  CHECK(o.hash1 == cimvp::pmu::name_hash("load"));
  CHECK(o.name0 == (uint32_t('l') | uint32_t('o') << 8 | uint32_t('a') << 16 | uint32_t('d') << 24));
  // load: 5 ops x 2.5 pJ + 10 uW x 1500 ns (= 15 pJ).
  CHECK(o.load_dyn_at_1 == Approx(5 * kOpPj));
  CHECK(o.load1_fj == 12500u + 15000u);
  // pmu: its own accesses before the snapshot (none) + its leakage (tech.registers) x 1500 ns.
  const double pmu_leak_pj = b.scenario.tech.registers.leakage_uw * 1e-6 * 1500e-9 * 1e12;
  CHECK(o.pmu1_fj == cimvp::pmu::pj_to_fj(o.pmu_dyn_at_1 + pmu_leak_pj));
  CHECK(o.total1 == o.load1_fj + o.pmu1_fj);
  CHECK(o.ro_write == tlm::TLM_COMMAND_ERROR_RESPONSE);
  CHECK(o.wo_read == tlm::TLM_COMMAND_ERROR_RESPONSE);
  CHECK(o.hole == tlm::TLM_ADDRESS_ERROR_RESPONSE);
}

TEST_CASE("RESET restarts energy and time and cycles follow the CPU clock") {
  auto& b = bench();
  const auto& o = b.o;
  REQUIRE(o.done);
  const uint64_t dt = o.expect_t3 - o.expect_t2;
  CHECK(o.now3 == o.expect_t3);
  CHECK(o.time3 == dt);
  CHECK(dt > 777'000u);  // 777 ns plus the reset write's access time
  CHECK(o.cycles3 == static_cast<uint64_t>(static_cast<long double>(dt) * b.scenario.tech.host_cpu.clock_mhz / 1e6L));
  // load since the reset: 2 ops + 10 uW x dt.
  const double leak_pj = kLoadLeakUw * 1e-6 * (dt * 1e-12) * 1e12;
  CHECK(o.static3_fj == cimvp::pmu::pj_to_fj(leak_pj));
  CHECK(o.load3_fj == cimvp::pmu::pj_to_fj(2 * kOpPj + leak_pj));
}
