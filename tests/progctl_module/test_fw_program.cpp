// End to end: the infer firmware's program_weights (firmware/lib/fw_program.c) writes a tiny
// network's conductance targets through the programming controller with MAX_PULSES too small
// for most cells; it must collect the failure lists, print the first failed cells with what
// they hold, count them all, and still run the inference. One SoC per executable.
#include "tests/support/sc_test_main.hpp"

#include <cmath>
#include <cstdio>
#include <random>
#include <regex>
#include <string>

#include "models/crossbar/tile.hpp"
#include "platform/netrun/netrun.hpp"
#include "platform/sysctl/sysctl.hpp"
#include "tests/onnx/model_builder.hpp"

CIMVP_SC_TEST_MAIN

using namespace cimvp;

TEST_CASE("program_weights lists and prints the cells that failed write-verify", "[progctl][e2e]") {
  std::mt19937_64 rng(5);
  std::normal_distribution<float> nd(0.f, 0.4f);
  auto rv = [&](std::size_t n) {
    std::vector<float> v(n);
    for (auto& x : v) x = nd(rng);
    return v;
  };
  nn::test::ModelBuilder b(13);
  b.input("x", {-1, 1, 12, 12});
  b.init("w1", {4, 1, 3, 3}, rv(36));
  b.init("b1", {4}, rv(4));
  b.init("w2", {10, 400}, rv(4000));
  b.init("b2", {10}, rv(10));
  b.node("Conv", {"x", "w1", "b1"}, {"c"}, "conv1");
  b.node("Relu", {"c"}, {"r"}, "relu1");
  b.node("Flatten", {"r"}, {"f"}, "flat");
  auto* g2 = b.node("Gemm", {"f", "w2", "b2"}, {"y"}, "fc1");
  nn::test::ModelBuilder::attr(g2, "transB", int64_t(1));
  b.output("y");
  auto g = b.load("tiny_fw_program.onnx");

  auto sc = config::load_scenario(config::kSelftestScenario);
  sc.firmware.app = "infer";
  sc.chip.program.mode = "write_verify";
  sc.chip.program.max_pulses = 3;  // fresh cells (10 uS) need ~8..17 pulses: most fail
  config::MemoryMapEntry pc;
  pc.name = "progctl";
  pc.block = "progctl";
  pc.base = 0x3000;
  pc.size = 0x1000;
  pc.irq = 3;
  pc.where = "test";
  sc.memory_map.push_back(pc);

  const int n_in = 2, px = 144;
  std::uniform_int_distribution<int> u(0, 255);
  auto opt = netrun::compile_options(sc);
  opt.tiles_available = -1;
  netrun::Inputs in;
  in.count = n_in;
  in.u8.resize(static_cast<std::size_t>(n_in) * px);
  for (auto& p : in.u8) p = static_cast<uint8_t>(u(rng));
  nn::Tensor calx({8, 1, 12, 12}, std::vector<float>(8u * px));
  for (auto& v : calx.data) v = static_cast<float>(u(rng)) / 255.f;
  opt.calibration = calx;  // activation scales from these images
  netrun::size_tiles(sc, compiler::tiles_needed(g, sc.chip.mapping));
  auto net = compiler::compile(g, opt);
  auto img = std::make_shared<const compiler::Image>(compiler::serialize(net), g.source);
  auto loader = std::make_shared<netrun::Loader>(img, std::move(in), false);
  loader->check(sc);

  const std::string out_dir = "fw_program_out";
  RunOptions ro;
  ro.out_dir = out_dir;
  ro.echo_console = false;
  ro.before_start = [loader](Soc& soc) { loader->load(soc, false); };
  struct Cell {
    unsigned tile, row, col;
    double target, holds, array_g;
  };
  std::vector<Cell> printed;
  std::string log;
  ro.after_run = [&](Soc& soc, RunResult&) {
    // The console so far (run.log is written from it only after this hook).
    REQUIRE(soc.sysctl());
    log = soc.sysctl()->console_log();
    const std::regex line(R"(program_weights: failed: tile (\d+) cell \((\d+), (\d+)\): target ([0-9.]+) uS, holds ([0-9.]+) uS)");
    for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator(); ++it) {
      Cell c{unsigned(std::stoul((*it)[1])), unsigned(std::stoul((*it)[2])), unsigned(std::stoul((*it)[3])),
             std::stod((*it)[4]), std::stod((*it)[5]), 0};
      auto* t = dynamic_cast<Tile*>(soc.module("tile" + std::to_string(c.tile)));
      if (t) c.array_g = t->array().conductance(static_cast<int>(c.row), static_cast<int>(c.col));
      printed.push_back(c);
    }
  };
  Soc soc(sc, ro);
  RunResult r = soc.run();
  INFO(log);
  CHECK(r.exit_status == 0);  // failed cells are reported, not fatal: the images were inferred
  std::smatch m;
  REQUIRE(std::regex_search(log, m, std::regex(R"(program_weights: (\d+) tiles, (\d+) cells, (\d+) failed)")));
  const unsigned cells = std::stoul(m[2]), failed = std::stoul(m[3]);
  CHECK(failed > cells / 2);
  CHECK(failed <= cells);
  // The first FW_PROGRAM_MAX_REPORTED (8) failures are printed with what the cell holds.
  REQUIRE(printed.size() == 8);
  for (const auto& c : printed) {
    CHECK(std::abs(c.holds - c.target) > sc.chip.program.tolerance_us);  // a real failure
    CHECK(c.array_g == Approx(c.holds).margin(0.006));                   // what the array holds (%.2f)
  }
  CHECK(log.find("program_weights: ... and " + std::to_string(failed - 8) + " more failed cells") != std::string::npos);
}
