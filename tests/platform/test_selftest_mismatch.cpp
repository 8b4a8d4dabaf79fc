// The selftest finds wrong reset values and says what and where: the platform is built
// from the selftest scenario, three static-reset registers are corrupted before the
// firmware starts, and the firmware must name each of them with its bus address, the value
// read and the value regs.h promises, then exit with the mismatch count.
#include "tests/support/sc_test_main.hpp"

#include <fstream>
#include <sstream>

#include "cimvp/regs.h"
#include "platform/config/scenario.hpp"
#include "platform/regs/reg_block.hpp"
#include "platform/soc/soc.hpp"
#include "tests/support/temp_dir.hpp"

CIMVP_SC_TEST_MAIN

TEST_CASE("selftest reports every corrupted static reset value with its address") {
  auto scenario = cimvp::config::load_scenario(cimvp::config::kSelftestScenario);
  const std::string out = cimvp_test::temp_dir().file("out");
  cimvp::RunOptions ro;
  ro.out_dir = out;
  ro.echo_console = false;
  ro.before_start = [](cimvp::Soc& soc) {
    auto* sys = dynamic_cast<cimvp::RegBlock*>(soc.module("sysctl"));
    auto* irq = dynamic_cast<cimvp::RegBlock*>(soc.module("irq"));
    REQUIRE(sys);
    REQUIRE(irq);
    sys->regs().value(SYSCTL_BLOCK_SEL) = 2;     // checked before discovery writes it
    sys->regs().value(SYSCTL_PLATFORM) = 0x0200;
    irq->regs().value(IRQ_NLINES) = 16;          // RO: no firmware write could restore it
  };
  cimvp::Soc soc(scenario, ro);
  auto r = soc.run();
  CHECK(r.exit_status == 1);
  CHECK(r.firmware_exit_code == 3);
  std::ifstream log(out + "/run.log");
  std::stringstream ls;
  ls << log.rdbuf();
  const std::string text = ls.str();
  INFO(text);
  CHECK_THAT(text, Catch::Contains("selftest: FAIL SYSCTL_BLOCK_SEL at 0x00000024: read 0x00000002, expected 0x00000000"));
  CHECK_THAT(text, Catch::Contains("selftest: FAIL SYSCTL_PLATFORM at 0x00000004: read 0x00000200, expected 0x00000100"));
  // irq sits at 0x1000 in scenarios/selftest.yaml: NLINES is its offset 0x004.
  CHECK_THAT(text, Catch::Contains("selftest: FAIL IRQ_NLINES at 0x00001004: read 0x00000010, expected 0x00000020"));
  CHECK_THAT(text, Catch::Contains("selftest: 3 failure(s)"));
  CHECK_THAT(text, !Catch::Contains("selftest: PASS"));
}
