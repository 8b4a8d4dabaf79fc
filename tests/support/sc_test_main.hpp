// Test entry point for executables that elaborate SystemC modules: Catch2 runs inside
// sc_main (SystemC elaborates once per process, so each such executable holds one platform
// or bench).
//
// Every SC_REPORT warning or error fails the test case it happens in (FAIL_CHECK: the test
// goes on, so one run shows all of them), and one outside any test case (elaboration of a
// bench built before the first test, the end of the run) fails the executable. A test that
// provokes a report on purpose declares it by message text:
//
//   cimvp_test::ExpectScReport w("capture buffer write got a bus error");
//   ... code that reports it ...
//   // at the end of the scope the test fails if no matching report came
//
// A declared report is consumed by the first warning or error whose message type or text
// contains the given text; the declaration ends with its scope.
#pragma once

#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <systemc>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace cimvp_test {

// libsystemc prints its banner before sc_main runs: switch it off at static-init time.
inline const int kNoBanner = setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);

struct Expected {
  std::string text;
  int seen = 0;
};

struct ReportState {
  bool in_test = false;                   // a test case is running
  std::vector<Expected*> expected;        // innermost last
  std::vector<std::string> outside;       // unexpected reports outside any test case
};

inline ReportState& state() {
  static ReportState s;
  return s;
}

// Declares that one SystemC warning or error containing `text` is expected in this scope.
class ExpectScReport {
 public:
  explicit ExpectScReport(std::string text) { e_.text = std::move(text); state().expected.push_back(&e_); }
  ~ExpectScReport() {
    auto& v = state().expected;
    for (auto it = v.begin(); it != v.end(); ++it)
      if (*it == &e_) {
        v.erase(it);
        break;
      }
    if (e_.seen == 0) FAIL_CHECK("expected a SystemC warning or error containing '" << e_.text << "'; none came");
  }
  int seen() const { return e_.seen; }
  ExpectScReport(const ExpectScReport&) = delete;
  ExpectScReport& operator=(const ExpectScReport&) = delete;

 private:
  Expected e_;
};

inline void report_handler(const sc_core::sc_report& rep, const sc_core::sc_actions& actions) {
  // Reports a test or the bench silenced on purpose (set_actions(..., SC_DO_NOTHING)) are
  // not problems; SystemC calls the handler for them too.
  if (rep.get_severity() >= sc_core::SC_WARNING && actions != sc_core::SC_DO_NOTHING) {
    const std::string type = rep.get_msg_type(), msg = rep.get_msg();
    bool expected = false;
    auto& st = state();
    for (auto it = st.expected.rbegin(); it != st.expected.rend() && !expected; ++it)
      if (type.find((*it)->text) != std::string::npos || msg.find((*it)->text) != std::string::npos) {
        ++(*it)->seen;
        expected = true;
      }
    if (!expected) {
      static const char* sev[] = {"info", "warning", "error", "fatal"};
      std::string what = std::string("SystemC ") + sev[rep.get_severity()] + " " + type + ": " + msg;
      if (st.in_test)
        FAIL_CHECK(what);
      else
        st.outside.push_back(what);
    }
  }
  // Tests see reports as failures, never as exceptions or process exits.
  sc_core::sc_report_handler::default_handler(rep, actions & ~sc_core::SC_THROW & ~sc_core::SC_ABORT &
                                                       ~sc_core::SC_STOP);
}

// Tells the report handler when a test case runs, so reports are charged to it.
struct ScReportListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    TestEventListenerBase::testCaseStarting(info);
    state().in_test = true;
  }
  void testCaseEnded(const Catch::TestCaseStats& stats) override {
    state().in_test = false;
    TestEventListenerBase::testCaseEnded(stats);
  }
};
CATCH_REGISTER_LISTENER(ScReportListener)

inline int run(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  sc_core::sc_report_handler::set_handler(report_handler);
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", sc_core::SC_DO_NOTHING);
  int rc = Catch::Session().run(argc, argv);
  if (!state().outside.empty()) {
    for (const auto& p : state().outside) std::fprintf(stderr, "unexpected %s (outside any test case)\n", p.c_str());
    return rc ? rc : 1;
  }
  return rc;
}

}  // namespace cimvp_test

#define CIMVP_SC_TEST_MAIN \
  int sc_main(int argc, char* argv[]) { return cimvp_test::run(argc, argv); }
