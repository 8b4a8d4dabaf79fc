// The programming controller's technology figures come from the tech table (program.device,
// program.write_verify): parsed, validated with the key named, and documented in
// docs/progctl.md exactly as parsed. No SystemC elaboration here.
#include "tests/support/catch_main_no_sc.hpp"

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "platform/config/scenario.hpp"

using cimvp::config::ConfigError;

namespace {

std::string load_error(std::vector<std::string> overrides, const std::string& scenario = "") {
  cimvp::config::LoadOptions lo;
  lo.overrides = std::move(overrides);
  try {
    cimvp::config::load_scenario(scenario, lo);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// Keys of the docs/progctl.md tables written `program.x.y` (one {a,b} group is expanded).
std::set<std::string> documented_keys() {
  std::ifstream in(std::string(CIMVP_SOURCE_DIR) + "/docs/progctl.md");
  REQUIRE(in);
  std::set<std::string> keys;
  std::string line;
  const std::regex row(R"(^\| `(program\.[a-z0-9_.{},]+)` \|)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (!std::regex_search(line, m, row)) continue;
    const std::string k = m[1];
    const auto a = k.find('{'), b = k.find('}');
    if (a == std::string::npos) {
      keys.insert(k);
      continue;
    }
    std::stringstream alts(k.substr(a + 1, b - a - 1));
    std::string alt;
    while (std::getline(alts, alt, ',')) keys.insert(k.substr(0, a) + alt + k.substr(b + 1));
  }
  return keys;
}

}  // namespace

TEST_CASE("the tech tables' write model and pulse schedule reach the scenario") {
  for (const std::string& file : std::vector<std::string>{"", std::string(CIMVP_SOURCE_DIR) + "/scenarios/fashion-mnist.yaml"}) {
    const auto s = cimvp::config::load_scenario(file);  // rram22-qcell / rram22-sar
    INFO(s.tech.name);
    const auto& p = s.tech.program;
    CHECK(p.device.g_min_us == 10);
    CHECK(p.device.g_max_us == 500);
    CHECK(p.fresh_g_us == 10);
    CHECK(p.device.set.alpha_us == 10);
    CHECK(p.device.set.v_th == 0.8);
    CHECK(p.device.reset.v_ref == 1.2);
    CHECK(p.device.set.t_ref_s == Approx(100e-9));
    CHECK(p.device.sigma_mult == 0.5);
    CHECK(p.device.read_sigma_rel == 5e-4);
    CHECK(p.device.endurance_pulses == 60000000ull);
    CHECK(p.device.wear_out == cimvp::progctl::WearOut::Present);
    CHECK(p.write_verify.tolerance_us == 5);
    CHECK(p.write_verify.max_pulses == 100);
    CHECK(p.write_verify.scheme == cimvp::progctl::PulseScheme::Ispp);
    CHECK(p.write_verify.set.v_max == 2.0);
    CHECK(p.write_verify.reset.v_start == 1.2);
    CHECK(p.write_verify.reset.width_s == Approx(100e-9));
    // chip.program defaults to the tech table's write_verify values.
    CHECK(s.chip.program.tolerance_us == p.write_verify.tolerance_us);
    CHECK(s.chip.program.max_pulses == p.write_verify.max_pulses);
    CHECK(s.chip.program.scheme == "ispp");
  }
  cimvp::config::LoadOptions lo;
  lo.overrides = {"tech.program.write_verify.tolerance_us=3", "tech.program.write_verify.scheme=fixed",
                  "tech.program.device.g_fresh_us=50", "tech.program.write_verify.set.width_ns=250"};
  auto s = cimvp::config::load_scenario("", lo);
  CHECK(s.chip.program.tolerance_us == 3);
  CHECK(s.chip.program.scheme == "fixed");
  CHECK(s.tech.program.fresh_g_us == 50);
  CHECK(s.tech.program.write_verify.set.width_s == Approx(250e-9));
  lo.overrides.push_back("chip.program.tolerance_us=4");  // the scenario overrides the tech default
  s = cimvp::config::load_scenario("", lo);
  CHECK(s.chip.program.tolerance_us == 4);
}

TEST_CASE("bad write-model figures are refused with the key named") {
  struct Bad {
    std::string set, says;
  };
  const std::vector<Bad> bad = {
      {"tech.program.device.set.v_ref=0.5", "program.device.set.v_ref: must be above program.device.set.v_th"},
      {"tech.program.device.g_fresh_us=600", "program.device.g_fresh_us: must lie in"},
      {"tech.program.device.g_max_us=5", "program.device.g_max_us: must be greater"},
      {"tech.program.device.reset.alpha_us=-1", "program.device.reset.alpha_us"},
      {"tech.program.device.endurance_pulses=0", "program.device.endurance_pulses"},
      {"tech.program.device.wear_out=sideways", "program.device.wear_out: 'sideways' is not one of"},
      {"tech.program.write_verify.reset.v_max=1.0", "program.write_verify.reset.v_max: must be >="},
      {"tech.program.write_verify.max_pulses=0", "program.write_verify.max_pulses"},
      {"tech.program.write_verify.scheme=random", "program.write_verify.scheme"},
      {"tech.program.write_verify.set.width_ns=0", "program.write_verify.set.width_ns"},
      // The write model must cover the chip's window.
      {"tech.program.device.g_max_us=300", "does not cover chip.crossbar.device [g_min_us, g_max_us]"},
  };
  for (const auto& b : bad) {
    INFO(b.set);
    CHECK_THAT(load_error({b.set}), Catch::Contains(b.says));
  }
}

TEST_CASE("docs/progctl.md lists exactly the tech program keys the loader reads") {
  const std::vector<std::string> maps = {"program",          "program.device",       "program.device.set",
                                         "program.device.reset", "program.write_verify", "program.write_verify.set",
                                         "program.write_verify.reset"};
  std::set<std::string> parsed;
  for (const auto& m : maps) {
    const std::string e = load_error({"tech." + m + ".zz_not_a_key=1"});
    INFO(e);
    const auto a = e.find("(keys used here: "), b = e.find(')', a);
    REQUIRE(a != std::string::npos);
    std::stringstream list(e.substr(a + 17, b - a - 17));
    std::string k;
    while (std::getline(list, k, ',')) {
      while (!k.empty() && k.front() == ' ') k.erase(0, 1);
      const std::string path = m + "." + k;
      if (std::find(maps.begin(), maps.end(), path) == maps.end()) parsed.insert(path);
    }
  }
  const auto documented = documented_keys();
  for (const auto& k : parsed) {
    INFO("read by the loader, missing in docs/progctl.md: " << k);
    CHECK(documented.count(k) == 1);
  }
  for (const auto& k : documented) {
    INFO("documented in docs/progctl.md, not read by the loader: " << k);
    CHECK(parsed.count(k) == 1);
  }
  CHECK(parsed.size() > 30);
}
