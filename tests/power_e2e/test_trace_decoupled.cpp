// Chrome-trace records from a temporally decoupled initiator (a tlm_quantumkeeper, as the host
// CPU uses): a firmware phase begun at local time t inside a quantum (the kernel still at 0) is
// a slice starting at t in trace.json, not at the quantum boundary; the bus slice of that
// write starts at t too, and a console line's instant sits at its newline's local time. After a
// sync the same holds relative to the new kernel time.
#include "tests/support/sc_test_main.hpp"

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include <functional>

#include "cimvp/regs.h"
#include "platform/bus/router.hpp"
#include "platform/config/scenario.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/sysctl/sysctl.hpp"
#include "platform/trace/json.hpp"
#include "platform/tracing/tracer.hpp"

CIMVP_SC_TEST_MAIN

namespace {

using sc_core::SC_NS;
using sc_core::sc_time;
using cimvp::trace::Json;

const std::string kJson = "trace_decoupled.json";

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
  void wr(uint32_t addr, uint32_t v) {
    tlm::tlm_generic_payload gp;
    gp.set_command(tlm::TLM_WRITE_COMMAND);
    gp.set_address(addr);
    gp.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
    gp.set_data_length(4);
    gp.set_streaming_width(4);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_time delay = qk.get_local_time();
    isock->b_transport(gp, delay);
    REQUIRE(gp.is_response_ok());
    qk.set(delay);
    if (qk.need_sync()) qk.sync();
  }
};

struct Observed {
  uint64_t kernel_at_begin = 1, t_begin = 0, t_end = 0, t_newline = 0;
  uint64_t kernel_after_sync = 0, t_begin2 = 0, t_end2 = 0;
  bool done = false;
};

struct Bench {
  cimvp::config::Scenario scenario = cimvp::config::load_scenario(cimvp::config::kSelftestScenario);
  cimvp::Tracer tracer;
  cimvp::PowerSc power{1000};
  cimvp::Context ctx{scenario, tracer, power};
  std::unique_ptr<cimvp::Router> bus;
  std::unique_ptr<cimvp::Sysctl> sys;
  Cpu cpu{"cpu"};
  Observed o;
  Bench() {
    tracer.open("", kJson);
    bus = std::make_unique<cimvp::Router>("bus", ctx);
    sys = std::make_unique<cimvp::Sysctl>("sysctl", ctx, std::vector<cimvp::DiscoveryEntry>{}, false);
    cpu.isock.bind(bus->tsock);
    bus->isock.bind(sys->tsock);
    bus->map("sysctl", 0x0, 0x1000);
    bus->name_initiator(0, "cpu");
    tlm_utils::tlm_quantumkeeper::set_global_quantum(sc_time(10000, SC_NS));
    cpu.body = [this](Cpu& c) { body(c); };
  }
  void body(Cpu& c) {
    auto now = [&] { return cimvp::to_ps(c.qk.get_current_time()); };
    c.qk.inc(sc_time(1234, SC_NS));
    o.kernel_at_begin = cimvp::to_ps(sc_core::sc_time_stamp());
    o.t_begin = now();
    c.wr(SYSCTL_PHASE_ARG, 7);
    o.t_begin = now();
    c.wr(SYSCTL_PHASE_BEGIN, FW_PHASE_LAYER);
    c.qk.inc(sc_time(3000, SC_NS));
    for (char ch : std::string("hi")) c.wr(SYSCTL_CONSOLE, static_cast<uint8_t>(ch));
    o.t_newline = now();
    c.wr(SYSCTL_CONSOLE, '\n');
    o.t_end = now();
    c.wr(SYSCTL_PHASE_END, FW_PHASE_LAYER);
    // Cross the quantum: the kernel catches up, then the same inside the next one.
    c.qk.inc(sc_time(20000, SC_NS));
    c.qk.sync();
    o.kernel_after_sync = cimvp::to_ps(sc_core::sc_time_stamp());
    c.qk.inc(sc_time(500, SC_NS));
    o.t_begin2 = now();
    c.wr(SYSCTL_PHASE_BEGIN, FW_PHASE_IMAGE);
    c.qk.inc(sc_time(250, SC_NS));
    o.t_end2 = now();
    c.wr(SYSCTL_PHASE_END, FW_PHASE_IMAGE);
    c.qk.sync();
    o.done = true;
  }
};

Bench& bench() {
  static Bench b;
  static bool ran = [] {
    sc_core::sc_start();
    b.tracer.close(sc_core::sc_time_stamp());
    return true;
  }();
  (void)ran;
  return b;
}

// ps -> the file's microsecond number.
double us(uint64_t ps) { return static_cast<double>(ps) / 1e6; }

const Json* find_event(const Json& ev, const std::string& ph, const std::string& name, const std::string& cat) {
  for (const auto& e : ev.items())
    if (e.at("ph").as_string() == ph && e.at("name").as_string() == name &&
        (cat.empty() || (e.contains("cat") && e.at("cat").as_string() == cat)))
      return &e;
  return nullptr;
}

}  // namespace

TEST_CASE("a phase slice begun at local time t inside a quantum starts at t in trace.json") {
  auto& b = bench();
  const auto& o = b.o;
  REQUIRE(o.done);
  CHECK(o.kernel_at_begin == 0u);       // decoupled: the kernel had not moved
  CHECK(o.t_begin > 1'234'000u);        // 1234 ns + the PHASE_ARG write
  Json t = Json::parse_file(kJson);
  const Json& ev = t.at("traceEvents");
  const Json* layer = find_event(ev, "X", "layer", "firmware");
  REQUIRE(layer);
  CHECK(layer->at("ts").as_double() == Approx(us(o.t_begin)).epsilon(1e-12));
  CHECK(layer->at("dur").as_double() == Approx(us(o.t_end - o.t_begin)).epsilon(1e-12));
  CHECK(layer->at("args").at("arg").as_double() == 7);
  // The bus slice of the PHASE_BEGIN write starts at the same local time.
  bool bus_at_t = false;
  for (const auto& e : ev.items())
    if (e.at("ph").as_string() == "X" && e.at("cat").as_string() == "bus" &&
        e.at("args").at("addr").as_string() == "0x00000044")
      bus_at_t = bus_at_t || e.at("ts").as_double() == Approx(us(o.t_begin)).epsilon(1e-12);
  CHECK(bus_at_t);
}

TEST_CASE("a console line's instant and slices after a sync sit at their local times") {
  auto& b = bench();
  const auto& o = b.o;
  REQUIRE(o.done);
  Json t = Json::parse_file(kJson);
  const Json& ev = t.at("traceEvents");
  const Json* line = find_event(ev, "i", "hi", "");
  REQUIRE(line);
  CHECK(line->at("ts").as_double() == Approx(us(o.t_newline)).epsilon(1e-12));
  CHECK(o.kernel_after_sync >= o.t_end);
  const Json* image = find_event(ev, "X", "image", "firmware");
  REQUIRE(image);
  CHECK(image->at("ts").as_double() == Approx(us(o.t_begin2)).epsilon(1e-12));
  CHECK(image->at("dur").as_double() == Approx(us(o.t_end2 - o.t_begin2)).epsilon(1e-12));
  CHECK(o.t_begin2 > o.kernel_after_sync);  // inside the new quantum, not at its start
}
