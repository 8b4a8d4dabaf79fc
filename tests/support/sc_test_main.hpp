// Test entry point for executables that elaborate SystemC modules: Catch2 runs inside
// sc_main, and every SC_REPORT warning or error fails the run (SystemC elaborates once per
// process, so each such executable holds one platform or bench).
#pragma once

#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <systemc>

#include <cstdlib>
#include <string>
#include <vector>

namespace cimvp_test {

// libsystemc prints its banner before sc_main runs: switch it off at static-init time.
inline const int kNoBanner = setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);

inline std::vector<std::string>& sc_problems() {
  static std::vector<std::string> p;
  return p;
}

// Tests that provoke a warning on purpose say so; anything else fails the executable.
inline int& expected_sc_problems() {
  static int n = 0;
  return n;
}

inline void report_handler(const sc_core::sc_report& rep, const sc_core::sc_actions& actions) {
  if (rep.get_severity() >= sc_core::SC_WARNING) {
    std::string what = std::string(rep.get_msg_type()) + ": " + rep.get_msg();
    sc_problems().push_back(what);
    if (--expected_sc_problems() < 0) {
      // Inside a running test this marks it failed; outside, sc_main's check catches it.
      UNSCOPED_INFO("SystemC report: " << what);
    }
  }
  sc_core::sc_report_handler::default_handler(rep, actions & ~sc_core::SC_THROW & ~sc_core::SC_ABORT &
                                                       ~sc_core::SC_STOP);
}

inline int run(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  sc_core::sc_report_handler::set_handler(report_handler);
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", sc_core::SC_DO_NOTHING);
  int rc = Catch::Session().run(argc, argv);
  if (expected_sc_problems() < 0) {
    for (const auto& p : sc_problems()) fprintf(stderr, "unexpected SystemC warning/error: %s\n", p.c_str());
    return rc ? rc : 1;
  }
  return rc;
}

}  // namespace cimvp_test

#define CIMVP_SC_TEST_MAIN \
  int sc_main(int argc, char* argv[]) { return cimvp_test::run(argc, argv); }
