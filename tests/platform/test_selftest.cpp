// Firmware end to end: the default scenario boots `selftest` on the full platform; the run
// passes and its outputs (signals.vcd, trace.json, summary.json, power files) hold what a
// user opens them for.
#include "tests/support/sc_test_main.hpp"

#include <fstream>
#include <sstream>

#include "platform/config/scenario.hpp"
#include "platform/soc/soc.hpp"
#include "platform/trace/json.hpp"
#include "platform/trace/vcd_reader.hpp"

CIMVP_SC_TEST_MAIN

using cimvp::trace::Json;

namespace {
// One elaboration per process: the run happens once, the sections only read its files.
const cimvp::RunResult& run_once(const std::string& out) {
  static cimvp::config::Scenario scenario = cimvp::config::load_scenario(cimvp::config::kSelftestScenario);
  static cimvp::RunResult result = [&] {
    cimvp::RunOptions ro;
    ro.out_dir = out;
    ro.echo_console = false;
    static cimvp::Soc soc(scenario, ro);
    return soc.run();
  }();
  return result;
}
}  // namespace

TEST_CASE("selftest passes on the default platform and the outputs are well formed") {
  const std::string out = "e2e_selftest_out";
  const auto& r = run_once(out);
  INFO(r.error);
  REQUIRE(r.exit_status == 0);
  CHECK(r.firmware_exit_code == 0);
  CHECK(r.sim_time_ns > 0);

  std::ifstream log(out + "/run.log");
  std::stringstream ls;
  ls << log.rdbuf();
  CHECK_THAT(ls.str(), Catch::Contains("selftest: PASS"));

  SECTION("signals.vcd: header, bus activity, the interrupt the firmware took, phases") {
    auto vcd = cimvp::trace::read_vcd(out + "/signals.vcd");
    const auto& addr = vcd.signal("bus.addr");
    CHECK(addr.values.size() > 20);  // register accesses; memory words go through DMI
    const auto& irq = vcd.signal("irq.cpu_irq");
    bool rose = false;
    for (const auto& v : irq.values) rose = rose || (v.is_known() && v.as_uint() == 1);
    CHECK(rose);  // the selftest's software interrupt reached the CPU
    const auto& phase = vcd.signal("firmware.phase");
    bool selftest_phase = false;
    for (const auto& v : phase.values) selftest_phase = selftest_phase || v.as_uint() == 2;
    CHECK(selftest_phase);
    CHECK(vcd.end_time > 0);
  }

  SECTION("trace.json: Chrome trace events with bus slices and the firmware phase") {
    Json t = Json::parse_file(out + "/trace.json");
    REQUIRE(t.is_object());
    const Json& ev = t.at("traceEvents");
    REQUIRE(ev.is_array());
    int bus = 0, phases = 0, meta = 0;
    for (const auto& e : ev.items()) {
      const std::string ph = e.at("ph").as_string();
      if (ph == "M") ++meta;
      if (ph == "X" && e.at("cat").as_string() == "bus") ++bus;
      if (ph == "X" && e.at("name").as_string() == "selftest") ++phases;
    }
    CHECK(bus > 20);
    CHECK(phases == 1);
    CHECK(meta > 0);
  }

  SECTION("summary.json: the contract keys") {
    Json s = Json::parse_file(out + "/summary.json");
    for (const char* k : {"scenario", "seed", "sim_time_ns", "wall_seconds", "firmware_exit_code", "energy_pj",
                          "energy_breakdown_pj", "area_breakdown_um2"})
      CHECK(s.contains(k));
    CHECK(s.at("scenario").as_string() == "selftest");
    CHECK(s.at("firmware_exit_code").as_double() == 0);
    // Total energy is the sum of the breakdown.
    double sum = 0;
    for (const auto& v : s.at("energy_breakdown_pj").items()) sum += v.as_double();
    CHECK(sum == Approx(s.at("energy_pj").as_double()).epsilon(1e-9));
    CHECK(s.at("energy_pj").as_double() > 0);
  }
}
