// Tests of the power monitor core: closed-form bins, conservation, outputs, determinism.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "platform/power/power_monitor.hpp"
#include "platform/trace/chrome_trace.hpp"
#include "platform/trace/json.hpp"
#include "platform/trace/vcd_reader.hpp"

using cimvp::power::PowerMonitor;
using Catch::Detail::Approx;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream ls(line);
    while (std::getline(ls, cell, ',')) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

}  // namespace

TEST_CASE("power: closed-form bins with static power and a spread event", "[power]") {
  // 1 mW leakage, 10 ns bins, run ends at 25 ns (last bin half covered).
  PowerMonitor pm(10000);
  int a = pm.add_component("adc", 100.0, 1000.0);
  int x = pm.add_component("xbar", 300.0, 0.0);
  pm.add(x, 5.0, 12000);                 // 5 pJ in bin 1 -> 0.5 mW
  pm.add_spread(x, 10.0, 5000, 20000);   // 10 pJ over [5, 25) ns: 2.5 / 5 / 2.5 pJ
  const uint64_t end = 25000;
  REQUIRE(pm.rows_for(end) == 3);
  CHECK(pm.bin_power_mw(a, 0, end) == Approx(1.0));
  CHECK(pm.bin_power_mw(a, 1, end) == Approx(1.0));
  CHECK(pm.bin_power_mw(a, 2, end) == Approx(0.5));  // half a bin of leakage, averaged over the bin
  CHECK(pm.bin_power_mw(x, 0, end) == Approx(0.25));
  CHECK(pm.bin_power_mw(x, 1, end) == Approx(1.0));
  CHECK(pm.bin_power_mw(x, 2, end) == Approx(0.25));
  CHECK(pm.dynamic_pj(1) == 15.0);
  CHECK(pm.static_pj(0, end) == Approx(25.0));  // 1 mW x 25 ns = 25 pJ
  CHECK(pm.total_pj(end) == Approx(40.0));

  const auto csv = parse_csv(pm.power_csv(end));
  REQUIRE(csv.size() == 4);
  CHECK(csv[0] == std::vector<std::string>{"time_ns", "adc_mW", "xbar_mW", "total_mW"});
  CHECK(csv[1][0] == "0");
  CHECK(csv[2][0] == "10");
  CHECK(csv[3][0] == "20");
  CHECK(std::stod(csv[2][3]) == Approx(2.0));
  CHECK(std::stod(csv[3][3]) == Approx(0.75));

  const auto eb = parse_csv(pm.energy_breakdown_csv(end));
  REQUIRE(eb.size() == 3);
  CHECK(eb[0] == std::vector<std::string>{"component", "dynamic_pJ", "static_pJ", "total_pJ", "share"});
  CHECK(eb[1][0] == "adc");
  CHECK(std::stod(eb[1][2]) == Approx(25.0));
  CHECK(std::stod(eb[1][4]) == Approx(25.0 / 40.0));
  CHECK(eb[2] == std::vector<std::string>{"xbar", "15", "0", "15", "0.375"});

  const auto ab = parse_csv(pm.area_breakdown_csv());
  CHECK(ab[0] == std::vector<std::string>{"component", "area_um2", "share"});
  CHECK(ab[1] == std::vector<std::string>{"adc", "100", "0.25"});
  CHECK(ab[2] == std::vector<std::string>{"xbar", "300", "0.75"});
}

TEST_CASE("power: sum of power x bin width equals total energy (random events)", "[power]") {
  std::mt19937_64 rng(0xC1A0C1A0ull);
  PowerMonitor pm(7000);  // 7 ns bins: not a divisor of typical times
  std::vector<int> ids;
  const char* names[] = {"xbar", "adc", "dac", "shift_add", "sram", "bus"};
  std::uniform_real_distribution<double> leak(0.0, 500.0), e(0.0, 50.0);
  for (const char* n : names) ids.push_back(pm.add_component(n, 10.0, leak(rng)));
  long double expected_dyn = 0;
  const uint64_t horizon = 50'000'000;  // 50 us
  for (int i = 0; i < 200000; ++i) {
    int id = ids[rng() % ids.size()];
    double pj = e(rng) * (rng() % 4 == 0 ? 1e-3 : 1.0);  // mix of magnitudes
    uint64_t t = rng() % horizon;  // arbitrary order, as under temporal decoupling
    if (rng() % 3 == 0)
      pm.add_spread(id, pj, t, rng() % 100000);
    else
      pm.add(id, pj, t);
    expected_dyn += pj;
  }
  const uint64_t end = horizon + 123;
  long double expected = expected_dyn;
  for (std::size_t i = 0; i < pm.component_count(); ++i)
    expected += static_cast<long double>(pm.leakage_uw(i)) * end * 1e-6L;
  CHECK(std::fabs(static_cast<double>(pm.total_pj(end) - expected)) <= 1e-9 * static_cast<double>(expected));

  // From the in-memory bins ...
  const std::size_t rows = pm.rows_for(end);
  long double sum = 0;
  for (std::size_t b = 0; b < rows; ++b)
    for (std::size_t c = 0; c < pm.component_count(); ++c)
      sum += static_cast<long double>(pm.bin_power_mw(c, b, end)) * pm.bin_ps() * 1e-3L;  // mW x ps -> pJ
  CHECK(std::fabs(static_cast<double>(sum - expected)) <= 1e-9 * static_cast<double>(expected));

  // ... and from the CSV text (total column x bin width; ns x mW = pJ).
  const auto csv = parse_csv(pm.power_csv(end));
  REQUIRE(csv.size() == rows + 1);
  long double csv_sum = 0;
  const double bin_ns = static_cast<double>(pm.bin_ps()) / 1000.0;
  for (std::size_t r = 1; r < csv.size(); ++r) {
    REQUIRE(csv[r].size() == 8);
    CHECK(std::stod(csv[r][0]) == Approx(static_cast<double>(r - 1) * bin_ns));
    csv_sum += static_cast<long double>(std::stod(csv[r][7])) * bin_ns;
  }
  CHECK(std::fabs(static_cast<double>(csv_sum - expected)) <= 1e-9 * static_cast<double>(expected));
}

TEST_CASE("power: bins are capped by merging pairs, exactly", "[power]") {
  PowerMonitor pm(1000, 4);  // 1 ns bins, at most 4
  int c = pm.add_component("c", 1.0, 0.0);
  pm.add(c, 1.0, 500);
  pm.add(c, 2.0, 1500);
  pm.add(c, 4.0, 3500);
  CHECK(pm.bin_ps() == 1000);
  pm.add(c, 8.0, 10000);  // needs bin 10 -> width 4 ns (bins 0..2)
  CHECK(pm.bin_ps() == 4000);
  CHECK(pm.bin_count() == 3);
  CHECK(pm.bin_dynamic_pj(0, 0) == 7.0);
  CHECK(pm.bin_dynamic_pj(0, 1) == 0.0);
  CHECK(pm.bin_dynamic_pj(0, 2) == 8.0);
  CHECK(pm.rows_for(100000) == 4);  // end 100 ns -> width 32 ns, 4 rows
  CHECK(pm.bin_ps() == 32000);
  CHECK(pm.bin_dynamic_pj(0, 0) == 15.0);
  CHECK(pm.dynamic_pj(0) == 15.0);
}

TEST_CASE("power: power.vcd holds one real per component plus total, matching the CSV", "[power]") {
  PowerMonitor pm(5000);
  int a = pm.add_component("tile0.adc", 1.0, 200.0);
  int b = pm.add_component("dpu", 1.0, 0.0);
  pm.add(a, 3.0, 100);
  pm.add(b, 1.0, 7000);
  pm.add_spread(b, 2.0, 9000, 4000);
  const uint64_t end = 15000;
  pm.write_power_vcd("p.vcd", end);
  pm.write_power_csv("p.csv", end);
  const auto f = cimvp::trace::read_vcd("p.vcd");
  REQUIRE(f.signals.size() == 3);
  CHECK(f.signal("power.tile0.adc_mW").is_real());
  CHECK(f.signal("power.total_mW").is_real());
  CHECK(f.end_time == 15000);
  const auto csv = parse_csv(slurp("p.csv"));
  REQUIRE(csv.size() == 4);
  for (std::size_t r = 1; r < csv.size(); ++r) {
    uint64_t t = (r - 1) * 5000;
    CHECK(f.signal("power.tile0.adc_mW").at(t).as_real() == std::stod(csv[r][1]));
    CHECK(f.signal("power.dpu_mW").at(t).as_real() == std::stod(csv[r][2]));
    CHECK(f.signal("power.total_mW").at(t).as_real() == std::stod(csv[r][3]));
  }
  // bin 0: adc 3 pJ / 5 ns = 0.6 mW + 0.2 mW leakage
  CHECK(f.signal("power.tile0.adc_mW").at(0).as_real() == Approx(0.8));
  // bin 1: dpu 1 pJ + 2 pJ x 1/4 -> 1.5 pJ / 5 ns = 0.3 mW
  CHECK(f.signal("power.dpu_mW").at(5000).as_real() == Approx(0.3));
}

TEST_CASE("power: counters go to a Chrome trace", "[power]") {
  PowerMonitor pm(1000);
  int a = pm.add_component("a", 1.0, 0.0);
  pm.add(a, 2.0, 1500);
  {
    cimvp::trace::ChromeTrace tr("p_trace.json");
    pm.write_power_counters(tr, pm.rows_for(3000) * 1000);
    tr.close();
  }
  auto j = cimvp::trace::Json::parse_file("p_trace.json");
  std::vector<double> ts, total;
  for (const auto& e : j.at("traceEvents").items())
    if (e.at("ph").as_string() == "C") {
      ts.push_back(e.at("ts").as_double());
      total.push_back(e.at("args").at("total").as_double());
    }
  CHECK(ts == std::vector<double>{0.0, 0.001, 0.002, 0.003});
  CHECK(total == std::vector<double>{0.0, 2.0, 0.0, 0.0});
}

TEST_CASE("power: invalid input is rejected with the parameter named", "[power]") {
  CHECK_THROWS_AS(PowerMonitor(0), std::invalid_argument);
  PowerMonitor pm(1000);
  int a = pm.add_component("a", 1.0, 1.0);
  CHECK_THROWS_AS(pm.add_component("a", 1.0, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(pm.add_component("has space", 1.0, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(pm.add_component("comma,name", 1.0, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(pm.add_component("neg", -1.0, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(pm.add_component("nan", 1.0, std::nan("")), std::invalid_argument);
  CHECK_THROWS_AS(pm.add(a, -1.0, 0), std::invalid_argument);
  CHECK_THROWS_AS(pm.add(a, std::nan(""), 0), std::invalid_argument);
  CHECK_THROWS_AS(pm.add(5, 1.0, 0), std::invalid_argument);
  CHECK_THROWS_AS(pm.component_id("nope"), std::invalid_argument);
  try {
    pm.add(a, -1.0, 0);
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("'a'") != std::string::npos);
  }
  CHECK_THROWS_AS(pm.write_power_csv("no/such/dir/power.csv", 1000), std::runtime_error);
}

TEST_CASE("power: same events give the same bytes", "[power]") {
  auto make = [](const std::string& tag) {
    PowerMonitor pm(3000);
    int a = pm.add_component("a", 2.0, 12.5), b = pm.add_component("b", 1.0, 0.0);
    std::mt19937_64 rng(42);
    for (int i = 0; i < 5000; ++i) {
      pm.add(rng() % 2 ? a : b, static_cast<double>(rng() % 1000) / 7.0, rng() % 1000000);
      pm.add_spread(a, 0.1, rng() % 1000000, rng() % 20000);
    }
    pm.write_power_csv("d_" + tag + ".csv", 1000000);
    pm.write_power_vcd("d_" + tag + ".vcd", 1000000);
    pm.write_energy_breakdown_csv("d_e_" + tag + ".csv", 1000000);
  };
  make("1");
  make("2");
  CHECK(slurp("d_1.csv") == slurp("d_2.csv"));
  CHECK(slurp("d_1.vcd") == slurp("d_2.vcd"));
  CHECK(slurp("d_e_1.csv") == slurp("d_e_2.csv"));
  CHECK(slurp("d_1.csv").size() > 1000);
}

TEST_CASE("busy intervals merge, and busy time before t counts only the part before t") {
  PowerMonitor pm(1000);
  const int a = pm.add_component("a", 0, 0), b = pm.add_component("b", 0, 0);
  pm.add_busy(a, 100, 50);   // [100, 150)
  pm.add_busy(a, 150, 50);   // touches: [100, 200)
  pm.add_busy(a, 300, 100);  // [300, 400)
  pm.add_busy(a, 350, 100);  // overlaps the last: [300, 450)
  pm.add_busy(a, 0, 0);      // empty: nothing
  CHECK(pm.busy_ps(0) == 100 + 150);
  CHECK(pm.busy_ps_before(0, 0) == 0);
  CHECK(pm.busy_ps_before(0, 100) == 0);
  CHECK(pm.busy_ps_before(0, 120) == 20);
  CHECK(pm.busy_ps_before(0, 250) == 100);
  CHECK(pm.busy_ps_before(0, 301) == 101);
  CHECK(pm.busy_ps_before(0, 10000) == 250);
  // An earlier interval arriving late is merged in order: [20, 60) and one bridging
  // [180, 320) joins [100, 200) and [300, 450) into [100, 450).
  pm.add_busy(a, 20, 40);
  pm.add_busy(a, 180, 140);
  CHECK(pm.busy_ps(0) == 40 + 350);
  CHECK(pm.busy_ps_before(0, 50) == 30);
  CHECK(pm.busy_ps_before(0, 200) == 40 + 100);
  CHECK(pm.busy_ps_before(0, 10000) == 390);
  CHECK(pm.busy_ps(1) == 0);
  CHECK(pm.busy_ps_before(1, 10000) == 0);
  (void)b;
  CHECK_THROWS_AS(pm.add_busy(7, 0, 1), std::invalid_argument);
}

TEST_CASE("power: binning per kind keeps per-component totals and gives the per-kind trace exactly", "[power]") {
  // The same random events into a per-component monitor and a per-kind one (small max_bins
  // so merging happens too): totals per component and the grouped trace must agree.
  PowerMonitor full(1000, 64), kind(1000, 64);
  kind.bin_per_kind();
  CHECK(kind.bins_per_kind());
  CHECK_FALSE(full.bins_per_kind());
  const std::vector<std::string> names = {"cpu", "tile0", "tile0_adc", "tile0.array", "tile1", "tile1_adc",
                                          "tile1.array", "tile2_adc", "sram"};
  for (const auto& n : names) {
    const double area = 1.0 + n.size(), leak = 0.5 * n.size();
    REQUIRE(full.add_component(n, area, leak) == kind.add_component(n, area, leak));
  }
  std::mt19937_64 rng(3);
  for (int i = 0; i < 20000; ++i) {
    const int c = static_cast<int>(rng() % names.size());
    const double e = static_cast<double>(rng() % 997) / 13.0;
    const uint64_t t = rng() % 150000, d = rng() % 5000;
    if (i % 3) {
      full.add(c, e, t);
      kind.add(c, e, t);
    } else {
      full.add_spread(c, e, t, d);
      kind.add_spread(c, e, t, d);
    }
  }
  const uint64_t end = 160000;
  for (std::size_t i = 0; i < names.size(); ++i) {
    CHECK(kind.dynamic_pj(i) == full.dynamic_pj(i));
    CHECK(kind.static_pj(i, end) == full.static_pj(i, end));
  }
  CHECK(kind.energy_breakdown_csv(end) == full.energy_breakdown_csv(end));
  CHECK(kind.bin_ps() == full.bin_ps());  // merged the same number of times
  auto gk = kind.grouped_by_kind(), gf = full.grouped_by_kind();
  REQUIRE(gk.component_count() == gf.component_count());
  REQUIRE(gk.component_count() == 5u);  // cpu, tile registers, adc, crossbar array, sram
  CHECK(gk.rows_for(end) == gf.rows_for(end));
  for (std::size_t c = 0; c < gk.component_count(); ++c) {
    CHECK(gk.component_name(c) == gf.component_name(c));
    for (std::size_t b = 0; b < gk.bin_count(); ++b)
      CHECK(gk.bin_dynamic_pj(c, b) == Approx(gf.bin_dynamic_pj(c, b)).epsilon(1e-12));
  }
  // Conservation through the per-kind trace: sum(power x width) = total energy.
  long double sum = 0;
  const std::size_t rows = gk.rows_for(end);
  for (std::size_t c = 0; c < gk.component_count(); ++c)
    for (std::size_t b = 0; b < rows; ++b) sum += gk.bin_power_mw(c, b, end) * 1e-3L * gk.bin_ps();
  CHECK(static_cast<double>(sum) == Approx(kind.total_pj(end)).epsilon(1e-9));
  // The per-component trace does not exist: asking for it is an error, not a wrong answer.
  CHECK_THROWS_AS(kind.bin_dynamic_pj(0, 0), std::logic_error);
  CHECK_THROWS_AS(kind.power_csv(end), std::logic_error);
  CHECK_THROWS_AS(kind.write_power_vcd("never.vcd", end), std::logic_error);
  // A grouping that splits a kind cannot be served from per-kind bins.
  std::vector<std::string> split(names.size(), "all");
  split[2] = "one_adc";  // tile0_adc apart from the other ADCs
  CHECK_THROWS_AS(kind.grouped(split), std::logic_error);
  CHECK_NOTHROW(kind.grouped(std::vector<std::string>(names.size(), "all")));
  // Only before the first component.
  CHECK_THROWS_AS(full.bin_per_kind(), std::logic_error);
}
