// Shared by the calibration tests: a tiny network (1x12x12 -> Conv 3x3 (4 ch) -> ReLU ->
// Flatten -> Gemm 400x10) compiled for the default chip with Q-cell ADCs, a programming
// controller in the memory map, random uint8 inputs, run by the `infer` firmware with the
// ADC calibration (firmware/lib/fw_calib.c) before inference.
#pragma once

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "platform/netrun/netrun.hpp"
#include "tests/onnx/model_builder.hpp"

namespace calib_test {

using namespace cimvp;

struct Run {
  RunResult result;
  netrun::CalibrationResult cal;
  std::string log;  // firmware console (run.log)
  std::vector<float> edges, thresholds;  // tile 0 after the run: EDGE(0..2L-1), THRESH(0..L-2)
  double range_lo = 0, range_hi = 0, g_min = 0, g_max = 0, tolerance_us = 0;
  unsigned bits = 0;
  uint32_t prog_failures = 0;
};

inline float bits_f(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline Run run_tiny(uint32_t calib_samples, bool write_verify, unsigned bits, const std::string& out_dir) {
  std::mt19937_64 rng(7);
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
  auto g = b.load("tiny_calib.onnx");

  auto sc = config::load_scenario(cimvp::config::kSelftestScenario);
  sc.firmware.app = "infer";
  sc.chip.adc.mode = "qcell";
  sc.chip.adc.bits = static_cast<int>(bits);
  sc.chip.adc.variation_frac = 0.0;
  config::MemoryMapEntry pc;
  pc.name = "progctl";
  pc.block = "progctl";
  pc.base = 0x3000;
  pc.size = 0x1000;
  pc.irq = 3;
  pc.where = "test";
  sc.memory_map.push_back(pc);

  // Inputs and calibration images: uint8 "pixels" (a smooth blob plus noise).
  const int n_in = 6, n_cal = 24, px = 144;
  std::uniform_int_distribution<int> u(0, 255);
  auto images = [&](int n) {
    std::vector<uint8_t> v(static_cast<std::size_t>(n) * px);
    for (auto& p : v) p = static_cast<uint8_t>(u(rng));
    return v;
  };
  auto opt = netrun::compile_options(sc);
  opt.tiles_available = -1;
  netrun::Inputs in;
  in.count = n_in;
  in.u8 = images(n_in);
  nn::Tensor calx({n_cal, 1, 12, 12}, std::vector<float>(static_cast<std::size_t>(n_cal) * px));
  auto cal_u8 = images(n_cal);
  for (std::size_t i = 0; i < cal_u8.size(); ++i) calx.data[i] = cal_u8[i] / 255.f;
  opt.calibration = calx;  // activation scales from the calibration images
  netrun::size_tiles(sc, compiler::tiles_needed(g, sc.chip.mapping));
  auto net = compiler::compile(g, opt);
  auto img = std::make_shared<const compiler::Image>(compiler::serialize(net), g.source);
  auto loader = std::make_shared<netrun::Loader>(img, std::move(in), false);
  netrun::Calibration cal;
  cal.count = n_cal;
  cal.u8 = cal_u8;
  cal.mode = ADC_MODE_QCELL;
  cal.flags = write_verify ? CIMNET_CAL_F_WRITE_VERIFY : 0u;
  cal.samples = calib_samples;
  loader->set_calibration(cal);
  loader->check(sc);

  Run out;
  RunOptions ro;
  ro.out_dir = out_dir;
  ro.echo_console = false;
  ro.before_start = [loader](Soc& soc) { loader->load(soc, false); };
  ro.after_run = [&](Soc& soc, RunResult&) {
    out.cal = loader->collect_calibration(soc);
    auto* t = dynamic_cast<Tile*>(soc.module("tile0"));
    auto& regs = t->adc().regs();
    out.bits = regs.value(ADC_BITS);
    const unsigned L = 1u << out.bits;
    for (unsigned i = 0; i < 2 * L; ++i) out.edges.push_back(bits_f(regs.registers().at(ADC_EDGE(i)).on_read()));
    for (unsigned i = 0; i + 1 < L; ++i) out.thresholds.push_back(bits_f(regs.value(ADC_THRESH(i))));
    out.range_lo = bits_f(regs.value(ADC_RANGE_LO));
    out.range_hi = bits_f(regs.value(ADC_RANGE_HI));
    out.g_min = bits_f(regs.value(ADC_GMIN));
    out.g_max = bits_f(regs.value(ADC_GMAX));
  };
  out.tolerance_us = sc.chip.program.tolerance_us;
  Soc soc(sc, ro);
  out.result = soc.run();
  std::ifstream f(out_dir + "/run.log");
  std::stringstream ss;
  ss << f.rdbuf();
  out.log = ss.str();
  return out;
}

}  // namespace calib_test
