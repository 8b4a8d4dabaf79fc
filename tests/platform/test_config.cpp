// Scenario loading: every class of bad input names file:line:column and the key path.
#include "tests/support/catch_main_no_sc.hpp"

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/support/temp_dir.hpp"

#include "platform/config/embedded_files.hpp"
#include "platform/config/scenario.hpp"

using cimvp::config::ConfigError;
using cimvp::config::load_scenario;
using cimvp::config::LoadOptions;

namespace {

// A valid scenario with the tech table inline, so each test changes one thing.
std::string base_yaml(const std::string& extra_top = "", const std::string& map_extra = "") {
  std::string tech = cimvp::config::embedded_files().at("scenarios/tech/rram22-sar.yaml");
  std::string indented;
  for (std::size_t i = 0, j; i < tech.size(); i = j + 1) {
    j = tech.find('\n', i);
    if (j == std::string::npos) j = tech.size();
    indented += "  " + tech.substr(i, j - i) + "\n";
  }
  return "name: t\n"
         "seed: 3\n" +
         extra_top +
         "memory_map:\n"
         "  - {name: sysctl, block: sysctl, base: 0x0, size: 0x1000}\n"
         "  - {name: irq, block: irq, base: 0x1000, size: 0x1000}\n"
         "  - {name: sram, block: sram, base: 0x10000000, size: 0x10000}\n" +
         map_extra + "tech:\n" + indented;
}

// Files go to the process's own temporary folder, removed at exit (ctest runs test cases
// in parallel processes).
std::string last_path;
std::string write_tmp(const std::string& text) {
  static int n = 0;
  last_path = cimvp_test::temp_dir().file("scenario_" + std::to_string(n++) + ".yaml");
  std::ofstream(last_path) << text;
  return last_path;
}

std::string error_of(const std::string& yaml, const LoadOptions& lo = {}) {
  std::string path = write_tmp(yaml);
  try {
    load_scenario(path, lo);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// The error must start with exactly this location and key path.
void check_starts(const std::string& error, const std::string& location_and_key) {
  INFO(error);
  CHECK_THAT(error, Catch::StartsWith(last_path + ":" + location_and_key));
}

}  // namespace

TEST_CASE("the embedded default scenario loads") {
  auto s = load_scenario("");
  CHECK(s.name == "default");
  CHECK(s.memory_map.size() >= 3);
  CHECK(s.tech.name == "rram22-qcell");  // the default chip has Q-cell ADCs, calibrated by the firmware
  CHECK(s.calibration.enabled);
  CHECK(s.tech.sram.read_pj_per_byte > 0);
}

TEST_CASE("a valid file loads with values and defaults") {
  auto s = load_scenario(write_tmp(base_yaml("sim: {quantum_ns: 250}\n")));
  CHECK(s.seed == 3);
  CHECK(s.sim.quantum_ns == 250);
  CHECK(s.sim.power_bin_ns == 1000);  // default
  REQUIRE(s.find("sram"));
  CHECK(s.find("sram")->base == 0x10000000u);
}

// Lines and columns below are counted by hand in the YAML text (1-based).
TEST_CASE("unknown key: file, line and the key path") {
  auto e = error_of(base_yaml("sim: {quantum_ns: 250, quantom: 3}\n"));
  check_starts(e, "3:24: unknown key 'sim.quantom'");
  CHECK_THAT(e, Catch::Contains("quantum_ns"));  // the valid keys are listed
}

TEST_CASE("wrong type names the key and the value") {
  auto e = error_of(base_yaml("sim:\n  quantum_ns: fast\n"));
  check_starts(e, "4:15: sim.quantum_ns: expected a number, got 'fast'");
}

TEST_CASE("missing required key") {
  std::string y = base_yaml();
  y.erase(y.find("seed: 3\n"), 8);
  check_starts(error_of(y), "1:1: (top level): missing required key 'seed'");
  // Inside a list entry: the entry's own position and path.
  check_starts(error_of(base_yaml("", "  - {name: x, block: sram, base: 0x20000000}\n")),
               "7:5: memory_map.3: missing required key 'size'");
}

TEST_CASE("out-of-range value") {
  auto e = error_of(base_yaml("sim: {quantum_ns: -5}\n"));
  check_starts(e, "3:19: sim.quantum_ns: value -5 is out of range");
  check_starts(error_of(base_yaml("", "  - {name: x, block: sram, base: 0x20000000, size: 0x100, irq: 31}\n")),
               "7:64: memory_map.3.irq: value 31 is out of range [-1, 30]");
}

TEST_CASE("YAML syntax error gives its line") {
  // The flow list opened on line 2 is still open when line 3 starts a mapping key.
  auto e = error_of("name: t\nseed: [1, 2\nsim: {}\n");
  CHECK_THAT(e, Catch::Contains("YAML syntax error"));
  check_starts(e, "3:");
}

TEST_CASE("a repeated map key is an error at its second occurrence") {
  check_starts(error_of(base_yaml("seed: 7\n")), "3:1: seed: duplicate key (first given at line 2)");
  check_starts(error_of(base_yaml("sim: {quantum_ns: 250, quantum_ns: 500}\n")),
               "3:24: sim.quantum_ns: duplicate key (first given at line 3)");
  check_starts(error_of(base_yaml("", "  - {name: x, block: sram, base: 0x20000000, size: 0x100, size: 0x200}\n")),
               "7:59: memory_map.3.size: duplicate key (first given at line 7)");
}

TEST_CASE("integers as the scenario takes them") {
  using cimvp::config::parse_uint;
  CHECK(parse_uint("0") == 0u);
  CHECK(parse_uint("18446744073709551615") == UINT64_MAX);
  CHECK(parse_uint("9007199254740993") == 9007199254740993ull);
  CHECK(parse_uint("0x10") == 16u);
  CHECK_FALSE(parse_uint("-1"));
  CHECK_FALSE(parse_uint("+1"));
  CHECK_FALSE(parse_uint(" 1"));
  CHECK_FALSE(parse_uint("7x"));
  CHECK_FALSE(parse_uint(""));
  CHECK_FALSE(parse_uint("18446744073709551616"));  // 2^64
  check_starts(error_of(base_yaml().replace(base_yaml().find("seed: 3"), 7, "seed: -1")),
               "2:7: seed: expected a non-negative integer (decimal or 0x hex), got '-1'");
}

TEST_CASE("overlapping memory-map ranges name both entries") {
  auto e = error_of(base_yaml("", "  - {name: buf2, block: sram, base: 0x10008000, size: 0x10000}\n"));
  CHECK_THAT(e, Catch::Contains("'buf2'"));
  CHECK_THAT(e, Catch::Contains("overlaps 'sram'"));
}

TEST_CASE("count replicates an entry at consecutive bases") {
  auto s = load_scenario(write_tmp(base_yaml("", "  - {name: buf, block: sram, base: 0x20000000, size: 0x100, count: 3}\n")));
  REQUIRE(s.find("buf2"));
  CHECK(s.find("buf0")->base == 0x20000000u);
  CHECK(s.find("buf2")->base == 0x20000200u);
  CHECK_FALSE(s.find("buf"));
}

TEST_CASE("IRQ lines shared across kinds and misplaced sysctl are rejected") {
  CHECK_THAT(error_of(base_yaml("", "  - {name: b, block: sram, base: 0x20000000, size: 0x100, irq: 2}\n"
                                    "  - {name: c, block: hostmem, base: 0x30000000, size: 0x100, irq: 2}\n")),
             Catch::Contains("interrupt line 2 is already used by a block of another kind"));
  std::string y = base_yaml();
  y.replace(y.find("block: sysctl, base: 0x0"), 24, "block: sysctl, base: 0x4000");
  CHECK_THAT(error_of(y), Catch::Contains("sysctl block must be at base 0x0"));
}

TEST_CASE("set overrides are applied, validated, unknown keys named") {
  LoadOptions lo;
  lo.overrides = {"sim.quantum_ns=125", "seed=9"};
  auto s = load_scenario(write_tmp(base_yaml()), lo);
  CHECK(s.sim.quantum_ns == 125);
  CHECK(s.seed == 9);

  lo.overrides = {"no.such.key=1"};
  auto e = error_of(base_yaml(), lo);
  CHECK_THAT(e, Catch::Contains("--set no.such.key=1"));
  CHECK_THAT(e, Catch::Contains("unknown key 'no'"));

  lo.overrides = {"sim.quantum_ns=abc"};
  CHECK_THAT(error_of(base_yaml(), lo), Catch::Contains("--set sim.quantum_ns=abc"));

  lo.overrides = {"memory_map.2.size=0x20000"};
  s = load_scenario(write_tmp(base_yaml()), lo);
  CHECK(s.find("sram")->size == 0x20000u);
}

TEST_CASE("set overrides reach a tech table referenced by path") {
  LoadOptions lo;
  lo.overrides = {"tech.sram.latency_ns=7"};
  auto s = load_scenario("", lo);
  CHECK(s.tech.sram.latency_ns == 7);
  lo.overrides = {"tech.sram.latencyy=7"};
  try {
    load_scenario("", lo);
    FAIL("expected an error");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("unknown key 'sram.latencyy'"));
  }
}

TEST_CASE("the seed option overrides the file seed") {
  LoadOptions lo;
  lo.has_seed = true;
  lo.seed = 77;
  CHECK(load_scenario(write_tmp(base_yaml()), lo).seed == 77);
}

TEST_CASE("unknown firmware app lists the valid ones") {
  auto e = error_of(base_yaml("firmware: {app: nosuch}\n"));
  CHECK_THAT(e, Catch::Contains("firmware.app"));
  CHECK_THAT(e, Catch::Contains("selftest"));
}
