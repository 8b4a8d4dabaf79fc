// The command-line contract (DESIGN.md section 5), run as a user would: exit codes and
// messages of the real `cimvp` binary.
#include "tests/support/catch_main_no_sc.hpp"

#include <sys/resource.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace {

struct Result {
  int code;
  std::string out;  // stdout + stderr
};

// These runs check exit codes, messages and summary.json, not report.md's PNG plots
// (tools/plot_report.py, several seconds of Python per run): skip them here.
const int kNoPlots = setenv("CIMVP_PLOTS", "0", 1);

Result shell(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

Result cimvp(const std::string& args) { return shell(std::string(CIMVP_BIN) + " " + args + " 2>&1"); }
// stdout only (stderr dropped): what the user's terminal shows as program output.
Result cimvp_stdout(const std::string& args) { return shell(std::string(CIMVP_BIN) + " " + args + " 2>/dev/null"); }

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

const std::string kTech = std::string(CIMVP_SOURCE_DIR) + "/scenarios/tech/rram22-sar.yaml";

// The selftest platform as a file of our own (line numbers below count in this text), with
// `extra` inserted after line 3 and `entry` appended to the memory map (line 10 and on).
std::string write_scenario(const std::string& file, const std::string& extra = "", const std::string& entry = "") {
  std::string text = "name: cli\n"                                                        // 1
                     "seed: 1\n"                                                          // 2
                     "tech: " + kTech + "\n" +                                             // 3
                     extra +                                                              // 4..
                     "firmware: {app: selftest}\n"
                     "memory_map:\n"
                     "  - {name: sysctl, block: sysctl, base: 0x00000000, size: 0x1000}\n"
                     "  - {name: irq,    block: irq,    base: 0x00001000, size: 0x1000}\n"
                     "  - {name: sram,   block: sram,   base: 0x10000000, size: 0x00400000}\n"
                     "  - {name: hostmem, block: hostmem, base: 0x80000000, size: 0x01000000}\n" +
                     entry;
  std::string path = cimvp_test::temp_dir().file(file);
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("help and version options and unknown commands") {
  auto h = cimvp("--help");
  CHECK(h.code == 0);
  CHECK_THAT(h.out, Catch::Contains("run [SCENARIO.yaml]"));
  CHECK(cimvp("--version").code == 0);
  // The version is CMake's project(VERSION), not a second copy in the source.
  CHECK_THAT(cimvp("--version").out, Catch::StartsWith(std::string("cimvp ") + CIMVP_PROJECT_VERSION + " (SystemC "));
  auto u = cimvp("frobnicate");
  CHECK(u.code == 2);
  CHECK_THAT(u.out, Catch::Contains("unknown command 'frobnicate'"));
  CHECK(cimvp("run --help").code == 0);
  CHECK(cimvp("run --no-such-option").code == 2);
}

TEST_CASE("run --set with an unknown key exits 2 naming the key") {
  auto r = cimvp("run --quiet --out " + cimvp_test::temp_dir().file("unknown") + " --set no.such.key=1");
  CHECK(r.code == 2);
  // The override is the place of the error; the first unknown part is named.
  CHECK_THAT(r.out, Catch::StartsWith("cimvp: error: --set no.such.key=1: unknown key 'no'"));
}

TEST_CASE("a scenario with a YAML syntax error exits 2 with its line") {
  // Two cases: a flow map never closed (found at the end of the text, line 5 column 1), and
  // a flow list still open when line 3 starts a mapping key.
  const std::string eof = cimvp_test::temp_dir().file("cli_bad.yaml");
  std::ofstream(eof) << "name: bad\nseed: 1\nmemory_map: [\n  {name: a\n";
  auto r = cimvp("run --quiet " + eof);
  INFO(r.out);
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::StartsWith("cimvp: error: " + eof + ":5:1: YAML syntax error"));
  const std::string mid = cimvp_test::temp_dir().file("cli_bad2.yaml");
  std::ofstream(mid) << "name: bad\nseed: [1, 2\nsim: {}\n";
  r = cimvp("run --quiet " + mid);
  INFO(r.out);
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::StartsWith("cimvp: error: " + mid + ":3:"));
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
  // Each register line shows that register's own reset value (the selftest platform has
  // 4 blocks; irq has 32 lines; platform version 0.1.0).
  CHECK_THAT(r.out, Catch::Contains("    0x00000020  +0x020  RO   32-bit  reset 0x00000004  NBLOCKS\n"));
  CHECK_THAT(r.out, Catch::Contains("    0x00001004  +0x004  RO   32-bit  reset 0x00000020  NLINES\n"));
  CHECK_THAT(r.out, Catch::Contains("    0x00000004  +0x004  RO   32-bit  reset 0x00000100  PLATFORM\n"));
  CHECK_THAT(r.out, Catch::Contains("    0x00000024  +0x024  RW   32-bit  reset 0x00000000  BLOCK_SEL\n"));
}

TEST_CASE("the selftest scenario passes and exits 0") {
  auto r = cimvp("run " + kSelftest + " --out " + cimvp_test::temp_dir().file("cli_out_selftest"));
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("selftest: PASS"));
}

TEST_CASE("the embedded default runs the example network with write-verify and reports accuracy") {
  auto r = cimvp("run --images 20 --out " + cimvp_test::temp_dir().file("cli_out_default"));
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("program_weights: 34 tiles"));
  CHECK_THAT(r.out, Catch::Contains("accuracy"));
  std::ifstream summary(cimvp_test::temp_dir().file("cli_out_default/summary.json"));
  CHECK(summary.good());
}

TEST_CASE("an unmapped access without a trap handler exits 1 naming the address") {
  auto r = cimvp("run " + kSelftest + " --quiet --out " + cimvp_test::temp_dir().file("cli_out_fault") + " --set firmware.app=bus_fault");
  CHECK(r.code == 1);
  CHECK_THAT(r.out, Catch::Contains("0xdead0000"));
  CHECK_THAT(r.out, Catch::Contains("no block is mapped"));
}

TEST_CASE("a firmware trap handler sees the bus error") {
  auto r = cimvp("run " + kSelftest + " --out " + cimvp_test::temp_dir().file("cli_out_trap") + " --set firmware.app=bus_fault --set firmware.arg0=1");
  CHECK(r.code == 1);  // the firmware exits 3 after reporting the trap
  CHECK_THAT(r.out, Catch::Contains("trap cause 1 at 0xdead0000, bus status 1"));
  CHECK_THAT(r.out, Catch::Contains("firmware exited with code 3"));
}

TEST_CASE("same seed, same bytes") {
  REQUIRE(cimvp("run --quiet --images 10 --out " + cimvp_test::temp_dir().file("cli_det_a") + " --seed 5").code == 0);
  REQUIRE(cimvp("run --quiet --images 10 --out " + cimvp_test::temp_dir().file("cli_det_b") + " --seed 5").code == 0);
  for (const char* f : {"signals.vcd", "trace.json", "power.csv", "power.vcd", "accuracy.csv", "energy_breakdown.csv"}) {
    std::ifstream a(cimvp_test::temp_dir().file(std::string("cli_det_a/") + f)),
        b(cimvp_test::temp_dir().file(std::string("cli_det_b/") + f));
    std::string sa((std::istreambuf_iterator<char>(a)), {}), sb((std::istreambuf_iterator<char>(b)), {});
    INFO(f);
    CHECK(!sa.empty());
    CHECK(sa == sb);
  }
}

TEST_CASE("console lines reach stdout whatever the system-control entry is called") {
  auto r = cimvp_stdout("run " + kSelftest + " --out " + cimvp_test::temp_dir().file("renamed") +
                        " --set memory_map.0.name=sys0");
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("fw| selftest: PASS\n"));
}

TEST_CASE("a seed above 2^53 is kept exactly in summary.json") {
  const std::string out = cimvp_test::temp_dir().file("bigseed");
  REQUIRE(cimvp("run --quiet " + kSelftest + " --out " + out + " --seed 9007199254740993").code == 0);
  const std::string text = slurp(out + "/summary.json");
  CHECK_THAT(text, Catch::Contains("\"seed\": 9007199254740993,"));
  // The simulated time is an exact integer of ps; sim_time_ns is the same value / 1000.
  const auto t = text.find("\"sim_time_ps\": ");
  REQUIRE(t != std::string::npos);
  const std::string ps = text.substr(t + 15, text.find(',', t) - t - 15);
  INFO(ps);
  REQUIRE(!ps.empty());
  CHECK(ps.find_first_not_of("0123456789") == std::string::npos);
  const auto n = text.find("\"sim_time_ns\": ");
  REQUIRE(n != std::string::npos);
  const std::string ns = text.substr(n + 15, text.find(',', n) - n - 15);
  INFO(ns);
  CHECK(std::stod(ns) == static_cast<double>(std::stoull(ps)) / 1e3);
  // The end-of-run line prints the same time exactly, in ns (no 6-digit float rounding).
  auto line = cimvp("run " + kSelftest + " --out " + out + " --seed 9007199254740993");
  std::string exact = std::to_string(std::stoull(ps) / 1000);
  if (std::stoull(ps) % 1000) {
    char f[8];
    std::snprintf(f, sizeof f, ".%03u", static_cast<unsigned>(std::stoull(ps) % 1000));
    exact += f;
    while (exact.back() == '0') exact.pop_back();
  }
  CHECK_THAT(line.out, Catch::Contains(", " + exact + " ns simulated in "));
}

TEST_CASE("the seed option takes what the scenario seed takes, else exit 2") {
  for (const char* bad : {"-1", "7x", "18446744073709551616", "''"}) {
    auto r = cimvp("run --quiet " + kSelftest + " --out " + cimvp_test::temp_dir().file("badseed") + " --seed " + bad);
    INFO(bad << ": " << r.out);
    CHECK(r.code == 2);
    CHECK_THAT(r.out, Catch::Contains("--seed ") && Catch::Contains("expected a non-negative integer"));
  }
  auto r = cimvp("run --quiet " + kSelftest + " --out " + cimvp_test::temp_dir().file("maxseed") +
                 " --seed 0xFFFFFFFFFFFFFFFF");
  CHECK(r.code == 0);
  CHECK_THAT(slurp(cimvp_test::temp_dir().file("maxseed") + "/summary.json"),
             Catch::Contains("\"seed\": 18446744073709551615,"));
}

// Each YAML error class through the binary: exit 2, the file, line and column, the key path.
TEST_CASE("YAML errors through the binary: exact location and key path") {
  struct Case {
    const char* what;
    std::string extra, entry, expect;
  } cases[] = {
      {"wrong type", "sim:\n  quantum_ns: fast\n", "", ":5:15: sim.quantum_ns: expected a number, got 'fast'"},
      {"missing required key", "", "  - {name: buf, block: sram, base: 0x20000000}\n",
       ":10:5: memory_map.4: missing required key 'size'"},
      {"out-of-range value", "sim: {max_time_ms: 0}\n", "", ":4:20: sim.max_time_ms: value 0 is out of range"},
      {"unknown key", "sim: {quantum: 5}\n", "", ":4:7: unknown key 'sim.quantum'"},
      {"duplicate key", "seed: 7\n", "", ":4:1: seed: duplicate key (first given at line 2)"},
  };
  int n = 0;
  for (const auto& c : cases) {
    const std::string path = write_scenario("err" + std::to_string(n++) + ".yaml", c.extra, c.entry);
    auto r = cimvp("run --quiet " + path + " --out " + cimvp_test::temp_dir().file("err_out"));
    INFO(c.what << ": " << r.out);
    CHECK(r.code == 2);
    CHECK_THAT(r.out, Catch::StartsWith("cimvp: error: " + path + c.expect));
  }
}

TEST_CASE("a sparse 3.75 GiB address space runs without allocating it") {
  // sram 0x10000000..0x7FFFFFFF and hostmem 0x80000000..0xFFFFFFFF: the selftest touches a
  // few KiB of each; the host must not zero-fill 3.75 GiB for that.
  const std::string sets = " --set memory_map.2.size=0x70000000 --set memory_map.3.size=0x80000000";
  auto m = cimvp("memory-map " + kSelftest + sets);
  CHECK(m.code == 0);
  CHECK_THAT(m.out, Catch::Contains("0xffffffff"));
  auto r = cimvp("run " + kSelftest + " --out " + cimvp_test::temp_dir().file("sparse") + sets);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("selftest: PASS"));
  // Peak resident memory of the runs above (this process's waited-for children).
  struct rusage ru {};
  getrusage(RUSAGE_CHILDREN, &ru);
  CHECK(ru.ru_maxrss < 1024L * 1024L);  // KiB: under 1 GiB
}

TEST_CASE("a memory the host cannot reserve is an input error naming the entry") {
  // Address space capped below the 2 GiB hostmem: the reservation fails cleanly.
  auto r = shell("ulimit -v 1500000 && " + std::string(CIMVP_BIN) + " run --quiet " + kSelftest + " --out " +
                 cimvp_test::temp_dir().file("capped") + " --set memory_map.3.size=0x80000000 2>&1");
  INFO(r.out);
  CHECK(r.code == 2);
    // The size came from --set, so the error names that override as its place.
  CHECK_THAT(r.out, Catch::Contains("cimvp: error: --set memory_map.3.size=0x80000000: memory_map: hostmem 'hostmem' "
                                    "size 2147483648: cannot reserve 2147483648 bytes of host address space"));
}

TEST_CASE("an --out that cannot be created or written exits 2 naming it") {
  const std::string file = cimvp_test::temp_dir().file("plain_file");
  std::ofstream(file) << "not a folder\n";
  auto r = cimvp("run --quiet " + kSelftest + " --out " + file + "/sub");
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains("--out " + file + "/sub: cannot create the folder"));
  r = cimvp("run --quiet " + kSelftest + " --out " + file);
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains("--out " + file + ": exists and is not a folder"));
}

TEST_CASE("run: a network that does not fit the chip is an input error (exit 2) saying how many tiles") {
  auto r = cimvp("run --quiet --images 1 --out " + cimvp_test::temp_dir().file("nofit") +
                 " --set network.tiles=memory_map");
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains("the network needs 34 tiles") && Catch::Contains("but the chip has 1"));
}

TEST_CASE("run: hitting sim.max_time_ms is reported as the time limit, not as a hang") {
  // The firmware is mid-calibration at 0.5 ms with work pending past the limit; the kernel
  // stops before that event (time < limit), which must still read as the limit.
  auto r = cimvp("run --images 2 --quiet --set sim.max_time_ms=0.5 --out " +
                 cimvp_test::temp_dir().file("cli_out_time_limit"));
  CHECK(r.code == 1);
  CHECK_THAT(r.out, Catch::Contains("did not exit within sim.max_time_ms"));
  CHECK_THAT(r.out, !Catch::Contains("nothing will raise"));
}

TEST_CASE("run: signals.vcd stops at trace.vcd_max_mb and says where") {
  const std::string out = cimvp_test::temp_dir().file("cli_out_vcd_cap");
  auto r = cimvp("run " + kSelftest + " --set trace.vcd_max_mb=0.002 --out " + out);
  CHECK(r.code == 0);  // a capped trace is not a failed run
  CHECK_THAT(r.out, Catch::Contains("signals.vcd stops at"));
  CHECK_THAT(r.out, Catch::Contains("trace.vcd_max_mb = 0.002 MiB"));
  const std::string vcd = slurp(out + "/signals.vcd");
  CHECK(vcd.find("$dumpoff") != std::string::npos);
  CHECK(vcd.size() < 2 * 2048 + 4096);  // header + the cap + one timestamp's changes
  CHECK_THAT(slurp(out + "/summary.json"), !Catch::Contains("\"vcd_truncated_at_ns\": null"));
  // Uncapped (the default 256 MiB): complete, and summary.json says so.
  const std::string out2 = cimvp_test::temp_dir().file("cli_out_vcd_nocap");
  auto r2 = cimvp("run " + kSelftest + " --quiet --out " + out2);
  CHECK(r2.code == 0);
  CHECK_THAT(r2.out, !Catch::Contains("signals.vcd stops at"));
  CHECK(slurp(out2 + "/signals.vcd").find("$dumpoff") == std::string::npos);
  CHECK_THAT(slurp(out2 + "/summary.json"), Catch::Contains("\"vcd_truncated_at_ns\": null"));
}
