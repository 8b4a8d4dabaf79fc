// A full platform run (the default SoC plus a PMU, firmware `selftest`): the power outputs
// conserve energy, the PMU's counters equal the per-component totals, power.vcd and
// signals.vcd parse, trace.json holds slices and power counter tracks.
#include "tests/support/sc_test_main.hpp"

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "cimvp/regs.h"
#include "models/pmu/pmu.hpp"
#include "platform/power/power_monitor.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/config/scenario.hpp"
#include "platform/soc/soc.hpp"
#include "platform/trace/json.hpp"
#include "platform/trace/vcd_reader.hpp"
#include "tests/support/temp_dir.hpp"

CIMVP_SC_TEST_MAIN

using cimvp::trace::Json;

namespace {

// Per process: ctest -j runs this executable's test cases as parallel processes, and a shared
// folder let one run truncate plots.log while another read it.
const std::string kOut = cimvp_test::temp_dir().file("power_e2e_out");

struct Run {
  cimvp::config::Scenario scenario;
  std::unique_ptr<cimvp::Soc> soc;
  cimvp::RunResult result;
};

// One elaboration per process: the run happens once, the test cases read its files.
Run& run_once() {
  static Run r = [] {
    Run x;
    x.scenario = cimvp::config::load_scenario(cimvp::config::kSelftestScenario);
    x.scenario.sim.power_bin_ns = 250;  // several bins over the selftest's few microseconds
    cimvp::config::MemoryMapEntry pmu;
    pmu.name = "pmu";
    pmu.block = "pmu";
    pmu.base = 0x00002000;
    pmu.size = 0x1000;
    pmu.where = "test";
    x.scenario.memory_map.push_back(pmu);
    cimvp::RunOptions ro;
    ro.out_dir = kOut;
    ro.echo_console = false;
    x.soc = std::make_unique<cimvp::Soc>(x.scenario, ro);
    x.result = x.soc->run();
    return x;
  }();
  return r;
}

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream f(path);
  REQUIRE(f.good());
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(f, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, ',')) cells.push_back(c);
    rows.push_back(cells);
  }
  return rows;
}

// component -> total pJ from energy_breakdown.csv
std::map<std::string, double> breakdown() {
  auto rows = read_csv(kOut + "/energy_breakdown.csv");
  REQUIRE(rows.size() > 1);
  CHECK(rows[0][0] == "component");
  CHECK(rows[0][3] == "total_pJ");
  std::map<std::string, double> m;
  for (std::size_t i = 1; i < rows.size(); ++i) m[rows[i][0]] = std::stod(rows[i][3]);
  return m;
}

}  // namespace

TEST_CASE("the run passes") {
  auto& r = run_once();
  INFO(r.result.error);
  REQUIRE(r.result.exit_status == 0);
  CHECK(r.result.firmware_exit_code == 0);
}

TEST_CASE("energy conservation: sum over power.csv bins x bin width == total energy (1e-9 relative)") {
  auto& r = run_once();
  REQUIRE(r.result.exit_status == 0);
  auto rows = read_csv(kOut + "/power.csv");
  REQUIRE(rows.size() > 3);
  const auto& head = rows[0];
  REQUIRE(head.front() == "time_ns");
  REQUIRE(head.back() == "total_mW");
  const double w_ns = std::stod(rows[2][0]) - std::stod(rows[1][0]);
  REQUIRE(w_ns > 0);
  long double sum_total = 0;
  std::vector<long double> per(head.size(), 0);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    REQUIRE(rows[i].size() == head.size());
    for (std::size_t c = 1; c < head.size(); ++c) per[c] += std::stold(rows[i][c]);
    sum_total += std::stold(rows[i].back());
  }
  // mW x ns = pJ.
  const double trace_pj = static_cast<double>(sum_total * w_ns);
  Json s = Json::parse_file(kOut + "/summary.json");
  const double total = s.at("energy_pj").as_double();
  REQUIRE(total > 0);
  CHECK(std::fabs(trace_pj - total) <= 1e-9 * total);
  // And per component, against energy_breakdown.csv.
  auto bd = breakdown();
  for (std::size_t c = 1; c + 1 < head.size(); ++c) {
    std::string name = head[c].substr(0, head[c].size() - 3);  // strip "_mW"
    INFO(name);
    REQUIRE(bd.count(name));
    const double comp = static_cast<double>(per[c] * w_ns);
    CHECK(std::fabs(comp - bd[name]) <= 1e-9 * std::max(bd[name], total * 1e-3));
  }
}

TEST_CASE("per-component totals equal the PMU counters at the end of the run") {
  auto& r = run_once();
  REQUIRE(r.result.exit_status == 0);
  auto* pmu = dynamic_cast<cimvp::Pmu*>(r.soc->module("pmu"));
  REQUIRE(pmu);
  const uint64_t end_ps = static_cast<uint64_t>(r.result.sim_time_ns * 1000.0 + 0.5);
  pmu->snapshot(end_ps);  // what a PMU_CTRL_SNAPSHOT at the end time latches
  auto bd = breakdown();
  const auto& pm = r.soc->context().power.core();
  REQUIRE(pmu->counters().size() == pm.component_count());
  REQUIRE(pm.component_count() == bd.size());
  uint64_t sum = 0;
  for (std::size_t i = 0; i < pm.component_count(); ++i) {
    INFO(pm.component_name(i));
    const double want_fj = bd.at(pm.component_name(i)) * 1000.0;
    // The CSV has 6+ significant digits; the counter rounds to 1 fJ.
    CHECK(std::fabs(static_cast<double>(pmu->counters().energy_fj(i)) - want_fj) <= 0.5 + 1e-6 * want_fj);
    CHECK(pmu->counters().energy_fj(i) ==
          cimvp::pmu::pj_to_fj(pm.dynamic_pj(i) + pm.static_pj(i, end_ps)));
    sum += pmu->counters().energy_fj(i);
  }
  CHECK(pmu->counters().total_fj() == sum);
  Json s = Json::parse_file(kOut + "/summary.json");
  CHECK(std::fabs(sum / 1000.0 - s.at("energy_pj").as_double()) <= 0.5e-3 * pm.component_count() + 1e-9 * sum);
  // The registers the firmware reads hold the same values (debug reads: no side effects).
  auto& regs = pmu->regs();
  regs.value(PMU_SEL) = 0;
  CHECK((uint64_t(regs.value(PMU_TOTAL_HI)) << 32 | regs.value(PMU_TOTAL_LO)) == sum);
  CHECK((uint64_t(regs.value(PMU_NOW_HI)) << 32 | regs.value(PMU_NOW_LO)) == end_ps);
}

TEST_CASE("power.vcd and signals.vcd parse and power.vcd has a real signal per component and the total") {
  auto& r = run_once();
  REQUIRE(r.result.exit_status == 0);
  auto pv = cimvp::trace::read_vcd(kOut + "/power.vcd");
  auto sv = cimvp::trace::read_vcd(kOut + "/signals.vcd");
  const auto& total = pv.signal("power.total_mW");
  CHECK(total.is_real());
  for (const char* c : {"power.pmu_mW", "power.sram_mW", "power.cpu_mW"}) {
    INFO(c);
    CHECK(pv.find(c) != nullptr);
  }
  // power.vcd's total at each bin start equals power.csv's row.
  auto rows = read_csv(kOut + "/power.csv");
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const uint64_t t_ps = static_cast<uint64_t>(std::stod(rows[i][0]) * 1000.0 + 0.5);
    const uint64_t tick = static_cast<uint64_t>(t_ps * 1e-12 / pv.timescale_s + 0.5);
    CHECK(total.at(tick).as_real() == Approx(std::stod(rows[i].back())).epsilon(1e-6));
  }
  // Both cover the run: the power file ends at its last bin's end, signals.vcd at the end time.
  const double end_s = r.result.sim_time_ns * 1e-9;
  CHECK(pv.end_time * pv.timescale_s >= end_s - 1e-15);
  // signals.vcd closes at the kernel time, which may trail the exit write by its access time.
  CHECK(sv.end_time * sv.timescale_s >= end_s - 1e-15);
  CHECK(sv.end_time * sv.timescale_s <= end_s + r.scenario.sim.quantum_ns * 1e-9);
  CHECK(sv.find("bus.addr") != nullptr);
}

TEST_CASE("trace.json loads as a Chrome trace with slices and power counter tracks") {
  auto& r = run_once();
  REQUIRE(r.result.exit_status == 0);
  Json t = Json::parse_file(kOut + "/trace.json");
  const Json& ev = t.at("traceEvents");
  REQUIRE(ev.is_array());
  int slices = 0, counters = 0;
  long double energy_pj = 0;
  double prev_ts = -1, prev_total = 0;
  for (const auto& e : ev.items()) {
    const std::string ph = e.at("ph").as_string();
    if (ph == "X") ++slices;
    if (ph == "C" && e.at("name").as_string() == "power_mW") {
      ++counters;
      const double ts = e.at("ts").as_double();  // microseconds
      if (prev_ts >= 0) energy_pj += static_cast<long double>(prev_total) * (ts - prev_ts) * 1000.0;  // mW x ns
      prev_ts = ts;
      prev_total = e.at("args").at("total").as_double();
      CHECK(e.at("args").contains("pmu"));
    }
  }
  CHECK(slices > 20);
  auto rows = read_csv(kOut + "/power.csv");
  CHECK(counters == static_cast<int>(rows.size() - 1) + 1);  // one per bin + the closing zero
  CHECK(prev_total == 0.0);
  Json s = Json::parse_file(kOut + "/summary.json");
  // The counter samples integrate to the run's energy (the trace rounds timestamps to 1 ps).
  CHECK(static_cast<double>(energy_pj) == Approx(s.at("energy_pj").as_double()).epsilon(1e-9));
}

TEST_CASE("summary.json and report.md carry the grouped energy/area tables and the ADC share") {
  auto& r = run_once();
  REQUIRE(r.result.exit_status == 0);
  Json s = Json::parse_file(kOut + "/summary.json");
  const double total = s.at("energy_pj").as_double();
  double by_kind = 0;
  for (const auto& v : s.at("energy_by_kind_pj").items()) by_kind += v.as_double();
  CHECK(by_kind == Approx(total).epsilon(1e-12));
  double area = 0;
  for (const auto& v : s.at("area_breakdown_um2").items()) area += v.as_double();
  CHECK(s.at("area_um2").as_double() == Approx(area).epsilon(1e-12));
  CHECK(s.at("adc_share").at("energy").as_double() == 0.0);  // this SoC has no tile, so no ADC
  CHECK(s.at("energy_by_kind_pj").contains("pmu"));
  std::ifstream f(kOut + "/report.md");
  std::stringstream md;
  md << f.rdbuf();
  CHECK_THAT(md.str(), Catch::Contains("## Energy and area by kind"));
  CHECK_THAT(md.str(), Catch::Contains("ADC share: 0.00% of energy"));
  CHECK_THAT(md.str(), Catch::Contains("## Energy events"));
  CHECK_THAT(md.str(), Catch::Contains("| pmu.register_access |"));
}
