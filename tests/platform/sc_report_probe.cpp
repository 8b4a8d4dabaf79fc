// Not a test of its own: test cases that test_sc_reports.cpp runs one by one to see that
// tests/support/sc_test_main.hpp turns SystemC warnings and errors into failures. Hidden
// ([.]) and not registered with ctest.
#include "tests/support/sc_test_main.hpp"

CIMVP_SC_TEST_MAIN

namespace {
struct Reporter : sc_core::sc_module {
  explicit Reporter(const sc_core::sc_module_name& n) : sc_core::sc_module(n) {}
  void warn(const char* msg) { SC_REPORT_WARNING(name(), msg); }
  void error(const char* msg) { SC_REPORT_ERROR(name(), msg); }
};
Reporter& reporter() {
  static Reporter r("probe");
  return r;
}
}  // namespace

TEST_CASE("probe: clean", "[.]") { CHECK(1 + 1 == 2); }

TEST_CASE("probe: unexpected warning", "[.]") {
  reporter().warn("capture stopped");
  CHECK(true);
}

TEST_CASE("probe: unexpected error", "[.]") { reporter().error("bad state"); }

TEST_CASE("probe: expected warning", "[.]") {
  cimvp_test::ExpectScReport w("capture stopped");
  reporter().warn("capture stopped: bus error");
  CHECK(w.seen() == 1);
}

TEST_CASE("probe: expected warning that never comes", "[.]") { cimvp_test::ExpectScReport w("never said"); }

TEST_CASE("probe: expected one warning but another comes", "[.]") {
  cimvp_test::ExpectScReport w("capture stopped");
  reporter().warn("something else");
  reporter().warn("capture stopped");
}

TEST_CASE("probe: silenced by the test", "[.]") {
  sc_core::sc_report_handler::set_actions("probe", sc_core::SC_WARNING, sc_core::SC_DO_NOTHING);
  reporter().warn("ignored on purpose");
  sc_core::sc_report_handler::set_actions("probe", sc_core::SC_WARNING, sc_core::SC_DISPLAY);
}
