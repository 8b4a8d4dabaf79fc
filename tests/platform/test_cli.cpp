// The command-line contract (DESIGN.md section 5), run as a user would: exit codes and
// messages of the real `cimvp` binary.
#include "tests/support/catch_main_no_sc.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

namespace {

struct Result {
  int code;
  std::string out;  // stdout + stderr
};

Result cimvp(const std::string& args) {
  std::string cmd = std::string(CIMVP_BIN) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

}  // namespace

TEST_CASE("help and version options and unknown commands") {
  auto h = cimvp("--help");
  CHECK(h.code == 0);
  CHECK_THAT(h.out, Catch::Contains("run [SCENARIO.yaml]"));
  CHECK(cimvp("--version").code == 0);
  CHECK_THAT(cimvp("--version").out, Catch::Contains("cimvp "));
  auto u = cimvp("frobnicate");
  CHECK(u.code == 2);
  CHECK_THAT(u.out, Catch::Contains("unknown command 'frobnicate'"));
  CHECK(cimvp("run --help").code == 0);
  CHECK(cimvp("run --no-such-option").code == 2);
}

TEST_CASE("run --set with an unknown key exits 2 naming the key") {
  auto r = cimvp("run --quiet --out cli_out_unknown --set no.such.key=1");
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains("no.such.key"));
}

TEST_CASE("a scenario with a YAML syntax error exits 2 with its line") {
  std::ofstream("cli_bad.yaml") << "name: bad\nseed: 1\nmemory_map: [\n  {name: a\n";
  auto r = cimvp("run --quiet cli_bad.yaml");
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains("cli_bad.yaml:"));
  CHECK_THAT(r.out, Catch::Contains("YAML syntax error"));
}

TEST_CASE("a missing scenario file exits 2 naming it") {
  auto r = cimvp("run --quiet does-not-exist.yaml");
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains("does-not-exist.yaml"));
}

const std::string kSelftest = std::string(CIMVP_SOURCE_DIR) + "/scenarios/selftest.yaml";

TEST_CASE("memory-map prints every block with base and size") {
  auto r = cimvp("memory-map --registers " + kSelftest);
  CHECK(r.code == 0);
  for (const char* s : {"sysctl", "irq", "sram", "0x10000000", "0x00400000", "CONSOLE", "PENDING"})
    CHECK_THAT(r.out, Catch::Contains(s));
}

TEST_CASE("the selftest scenario passes and exits 0") {
  auto r = cimvp("run " + kSelftest + " --out cli_out_selftest");
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("selftest: PASS"));
}

TEST_CASE("the embedded default runs the example network with write-verify and reports accuracy") {
  auto r = cimvp("run --images 20 --out cli_out_default");
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("program_weights: 34 tiles"));
  CHECK_THAT(r.out, Catch::Contains("accuracy"));
  std::ifstream summary("cli_out_default/summary.json");
  CHECK(summary.good());
}

TEST_CASE("an unmapped access without a trap handler exits 1 naming the address") {
  auto r = cimvp("run " + kSelftest + " --quiet --out cli_out_fault --set firmware.app=bus_fault");
  CHECK(r.code == 1);
  CHECK_THAT(r.out, Catch::Contains("0xdead0000"));
  CHECK_THAT(r.out, Catch::Contains("no block is mapped"));
}

TEST_CASE("a firmware trap handler sees the bus error") {
  auto r = cimvp("run " + kSelftest + " --out cli_out_trap --set firmware.app=bus_fault --set firmware.arg0=1");
  CHECK(r.code == 1);  // the firmware exits 3 after reporting the trap
  CHECK_THAT(r.out, Catch::Contains("trap cause 1 at 0xdead0000, bus status 1"));
  CHECK_THAT(r.out, Catch::Contains("firmware exited with code 3"));
}

TEST_CASE("same seed, same bytes") {
  REQUIRE(cimvp("run --quiet --images 10 --out cli_det_a --seed 5").code == 0);
  REQUIRE(cimvp("run --quiet --images 10 --out cli_det_b --seed 5").code == 0);
  for (const char* f : {"signals.vcd", "trace.json", "power.csv", "power.vcd", "accuracy.csv", "energy_breakdown.csv"}) {
    std::ifstream a(std::string("cli_det_a/") + f), b(std::string("cli_det_b/") + f);
    std::string sa((std::istreambuf_iterator<char>(a)), {}), sb((std::istreambuf_iterator<char>(b)), {});
    INFO(f);
    CHECK(!sa.empty());
    CHECK(sa == sb);
  }
}
