// docs/scenarios.md documents exactly the chip.* keys the scenario loader reads: the keys of
// its tables are compared with the keys the loader asks for at each place (which it lists in
// its unknown-key error). Also: the tile's new key is range-checked with its path named.
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

std::string load_error(std::vector<std::string> overrides) {
  cimvp::config::LoadOptions lo;
  lo.overrides = std::move(overrides);
  try {
    cimvp::config::load_scenario(cimvp::config::kSelftestScenario, lo);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::set<std::string> documented_chip_keys() {
  std::ifstream in(std::string(CIMVP_SOURCE_DIR) + "/docs/scenarios.md");
  REQUIRE(in);
  std::set<std::string> keys;
  std::string line;
  const std::regex row(R"(^\| `(chip\.[a-z0-9_.]+)` \|)");
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, row)) keys.insert(m[1]);
  return keys;
}

}  // namespace

TEST_CASE("docs/scenarios.md lists exactly the chip keys the loader reads") {
  // Every sub-section present, so the loader reads every key below it.
  const std::vector<std::string> all = {"chip.crossbar.device.programming_error.enabled=false",
                                        "chip.crossbar.device.read_noise.enabled=false",
                                        "chip.crossbar.device.drift.enabled=false", "chip.adc.mode=ideal",
                                        "chip.program.mode=ideal"};
  const std::vector<std::string> maps = {"chip.crossbar",
                                         "chip.crossbar.device",
                                         "chip.crossbar.device.programming_error",
                                         "chip.crossbar.device.read_noise",
                                         "chip.crossbar.device.drift",
                                         "chip.adc",
                                         "chip.program"};
  REQUIRE(load_error(all).empty());
  std::set<std::string> parsed;
  for (const auto& m : maps) {
    auto o = all;
    o.push_back(m + ".zz_not_a_key=1");
    const std::string e = load_error(o);
    INFO(e);
    CHECK_THAT(e, Catch::Contains("unknown key '" + m + ".zz_not_a_key'") && Catch::Contains("docs/scenarios.md"));
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
  const std::set<std::string> documented = documented_chip_keys();
  for (const auto& k : parsed) {
    INFO("read by the loader, missing in docs/scenarios.md: " << k);
    CHECK(documented.count(k) == 1);
  }
  for (const auto& k : documented) {
    INFO("documented in docs/scenarios.md, not read by the loader: " << k);
    CHECK(parsed.count(k) == 1);
  }
  CHECK(parsed.size() > 30);
}

TEST_CASE("chip.crossbar.device.drift.read_delay_s is parsed and range-checked") {
  cimvp::config::LoadOptions lo;
  lo.overrides = {"chip.crossbar.device.drift.read_delay_s=86400"};
  const auto s = cimvp::config::load_scenario(cimvp::config::kSelftestScenario, lo);
  CHECK(s.chip.drift_read_delay_s == 86400);
  CHECK(s.chip.device.drift);  // the section's presence enables drift
  CHECK_THAT(load_error({"chip.crossbar.device.drift.read_delay_s=-1"}),
             Catch::Contains("chip.crossbar.device.drift.read_delay_s"));
}
