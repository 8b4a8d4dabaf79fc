// tests/support/sc_test_main.hpp: a SystemC warning or error fails the test case it happens
// in, a declared one does not, a declared one that never comes does. Runs the probe
// executable (sc_report_probe.cpp) one test case at a time and reads its verdict.
#include "tests/support/catch_main_no_sc.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace {
struct Result {
  int code;
  std::string out;
};
Result probe(const std::string& test) {
  std::string cmd = std::string(CIMVP_SC_PROBE) + " '" + test + "' 2>&1";
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

TEST_CASE("SystemC reports inside a test case decide its verdict") {
  auto clean = probe("probe: clean");
  CHECK(clean.code == 0);

  auto w = probe("probe: unexpected warning");
  INFO(w.out);
  CHECK(w.code != 0);
  CHECK_THAT(w.out, Catch::Contains("SystemC warning probe: capture stopped"));
  CHECK_THAT(w.out, Catch::Contains("1 failed"));

  auto e = probe("probe: unexpected error");
  INFO(e.out);
  CHECK(e.code != 0);
  CHECK_THAT(e.out, Catch::Contains("SystemC error probe: bad state"));

  auto ok = probe("probe: expected warning");
  INFO(ok.out);
  CHECK(ok.code == 0);

  auto missing = probe("probe: expected warning that never comes");
  INFO(missing.out);
  CHECK(missing.code != 0);
  CHECK_THAT(missing.out, Catch::Contains("expected a SystemC warning or error containing 'never said'; none came"));

  auto other = probe("probe: expected one warning but another comes");
  INFO(other.out);
  CHECK(other.code != 0);
  CHECK_THAT(other.out, Catch::Contains("SystemC warning probe: something else"));
  CHECK_THAT(other.out, !Catch::Contains("SystemC warning probe: capture stopped"));

  auto silenced = probe("probe: silenced by the test");
  INFO(silenced.out);
  CHECK(silenced.code == 0);
}
