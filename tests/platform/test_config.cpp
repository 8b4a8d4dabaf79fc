// Scenario loading: every class of bad input names file:line:column and the key path.
#include "tests/support/catch_main_no_sc.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

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

std::string write_tmp(const std::string& text) {
  static int n = 0;
  // ctest runs test cases in parallel processes in one folder: the pid keeps files apart.
  std::string path = "test_config_" + std::to_string(getpid()) + "_" + std::to_string(n++) + ".yaml";
  std::ofstream(path) << text;
  return path;
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

TEST_CASE("unknown key: file, line and the key path") {
  auto e = error_of(base_yaml("sim: {quantum_ns: 250, quantom: 3}\n"));
  CHECK_THAT(e, Catch::Contains("unknown key 'sim.quantom'"));
  CHECK_THAT(e, Catch::Contains(":3:"));  // line 3 of the file
  CHECK_THAT(e, Catch::Contains("quantum_ns"));  // the valid keys are listed
}

TEST_CASE("wrong type names the key and the value") {
  auto e = error_of(base_yaml("sim:\n  quantum_ns: fast\n"));
  CHECK_THAT(e, Catch::Contains("sim.quantum_ns"));
  CHECK_THAT(e, Catch::Contains("expected a number, got 'fast'"));
  CHECK_THAT(e, Catch::Contains(":4:"));
}

TEST_CASE("missing required key") {
  std::string y = base_yaml();
  y.erase(y.find("seed: 3\n"), 8);
  CHECK_THAT(error_of(y), Catch::Contains("missing required key 'seed'"));
}

TEST_CASE("out-of-range value") {
  auto e = error_of(base_yaml("sim: {quantum_ns: -5}\n"));
  CHECK_THAT(e, Catch::Contains("sim.quantum_ns"));
  CHECK_THAT(e, Catch::Contains("out of range"));
}

TEST_CASE("YAML syntax error gives its line") {
  auto e = error_of("name: t\nseed: [1, 2\nsim: {}\n");
  CHECK_THAT(e, Catch::Contains("YAML syntax error"));
  CHECK_THAT(e, Catch::Matches(".*test_config_\\d+_\\d+\\.yaml:[34]:.*"));
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
