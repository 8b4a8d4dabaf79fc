// Shared by the calibration tests: a tiny network (1x12x12 -> Conv 3x3 (4 ch) -> ReLU ->
// Flatten -> Gemm 400x10) compiled for the default chip with Q-cell ADCs, a programming
// controller in the memory map, random uint8 inputs, run by the `infer` firmware with the
// ADC calibration (firmware/lib/fw_calib.c) before inference. After the run every tile's ADC
// bank is read back through its registers: every threshold set, every ADC copy.
#pragma once

#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <algorithm>
#include <cmath>

#include "cimvp/regs.h"
#include "models/adc/adc_core.hpp"
#include "models/crossbar/tile.hpp"
#include "platform/memory/memory.hpp"
#include "platform/netrun/netrun.hpp"
#include "platform/regs/reg_block.hpp"
#include "tests/onnx/model_builder.hpp"

namespace calib_test {

using namespace cimvp;

inline float bits_f(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// One threshold set of one bank as the registers show it after the run.
struct SetDump {
  std::vector<std::vector<float>> edges;  // per ADC copy: EDGE(0..2L-1)
  std::vector<float> thresholds, levels;  // THRESH(0..L-2), LEVEL(0..L-1)
  double range_lo = 0, range_hi = 0;
  uint32_t sr_zero_code = ADC_SR_ZERO_NONE;
};
struct BankDump {
  std::vector<SetDump> sets;
  std::vector<std::vector<float>> captured;  // per set: the capture slot's samples in SRAM
  uint32_t mode = 0, set_cols = 0, share = 0;
  uint64_t sr_disagree = 0;
};

// A register as the bus would read it (computed or stored), without a bus transaction.
inline uint32_t reg_read(const RegisterBank& regs, uint32_t off) {
  return regs.read_value(off);
}

struct Options {
  uint32_t samples = 4096;
  bool write_verify = true;
  unsigned bits = 4;
  uint32_t mode = ADC_MODE_QCELL;
  uint32_t group_flags = 0;  // CIMNET_CAL_F_GROUP_ARRAY / _COLUMNS
  uint32_t group_cols = 0;
  uint32_t sr_policy = CIMNET_CAL_SR_BOUNDARY;
  double variation_frac = 0.0;
  int share = 8;
  std::string uniform_shape = "mid_tread";  // chip.adc.uniform_shape (SAR/flash transfer)
};

struct Run {
  config::Scenario scenario;
  RunResult result;
  netrun::CalibrationResult cal;
  std::string log;  // firmware console (run.log)
  std::vector<BankDump> banks;  // one per tile of the network
  // Tile 0, set 0, copy 0 (the common case): EDGE(0..2L-1), THRESH(0..L-2), RANGE.
  std::vector<float> edges, thresholds;
  double range_lo = 0, range_hi = 0, g_min = 0, g_max = 0, tolerance_us = 0;
  unsigned bits = 0;
  uint64_t progctl_pulses = 0;  // the controller's own counter after the run
};

inline Run run_tiny(const Options& o, const std::string& out_dir) {
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
  sc.chip.adc.mode = o.mode == ADC_MODE_QCELL_SR ? "qcell_sr" : o.mode == ADC_MODE_SAR ? "sar" : "qcell";
  sc.chip.adc.bits = static_cast<int>(o.bits);
  sc.chip.adc.variation_frac = o.variation_frac;
  sc.chip.adc.share = o.share;
  sc.chip.adc.uniform_shape = o.uniform_shape;
  config::MemoryMapEntry pc;
  pc.name = "progctl";
  pc.block = "progctl";
  pc.base = 0x3000;
  pc.size = 0x1000;
  pc.irq = 3;
  pc.where = "test";
  sc.memory_map.push_back(pc);
  // The calibration section as a scenario would give it (summary.json reports it).
  sc.calibration.enabled = true;
  sc.calibration.samples = o.samples;
  sc.calibration.program = o.write_verify ? "write_verify" : "direct";
  sc.calibration.group = (o.group_flags & CIMNET_CAL_F_GROUP_COLUMNS) ? "column_group"
                         : (o.group_flags & CIMNET_CAL_F_GROUP_ARRAY) ? "array"
                                                                      : "layer";
  sc.calibration.group_cols = o.group_cols;
  sc.calibration.sr_policy = o.sr_policy == CIMNET_CAL_SR_ZERO_WINS ? "zero_wins" : "boundary";

  // Inputs and calibration images: uint8 "pixels" (uniform noise).
  const int n_in = 6, n_cal = 24, px = 144;
  sc.calibration.images = n_cal;
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
  cal.mode = o.mode;
  cal.flags = (o.write_verify ? CIMNET_CAL_F_WRITE_VERIFY : 0u) | o.group_flags;
  cal.samples = o.samples;
  cal.group_cols = o.group_cols;
  cal.sr_policy = o.sr_policy;
  loader->set_calibration(cal);
  loader->check(sc);
  const unsigned n_tiles = img->header().n_tiles;

  Run out;
  RunOptions ro;
  ro.out_dir = out_dir;
  ro.echo_console = false;
  ro.before_start = [loader](Soc& soc) { loader->load(soc, false); };
  ro.after_run = [&, n_tiles](Soc& soc, RunResult&) {
    out.cal = loader->collect_calibration(soc);
    for (unsigned t = 0; t < n_tiles; ++t) {
      auto* tile = dynamic_cast<Tile*>(soc.module("tile" + std::to_string(t)));
      REQUIRE(tile);
      auto& regs = tile->adc().regs();
      auto rd = [&](uint32_t off) { return reg_read(regs, off); };
      auto wr = [&](uint32_t off, uint32_t v) { regs.registers().at(off).on_write(v); };
      BankDump bd;
      bd.mode = regs.value(ADC_MODE);
      bd.set_cols = rd(ADC_SET_COLS);
      bd.share = regs.value(ADC_SHARE);
      bd.sr_disagree = rd(ADC_SR_DISAGREE);
      const unsigned bits = regs.value(ADC_BITS), L = 1u << bits;
      const unsigned copies = std::max(1u, rd(ADC_SR_COPIES));
      for (uint32_t k = 0; k < rd(ADC_NSETS); ++k) {
        wr(ADC_SET_SEL, k);
        SetDump sd;
        for (unsigned c = 0; c < copies; ++c) {
          wr(ADC_EDGE_COPY, c);
          std::vector<float> e;
          for (unsigned i = 0; i < 2 * L; ++i) e.push_back(bits_f(rd(ADC_EDGE(i))));
          sd.edges.push_back(e);
        }
        wr(ADC_EDGE_COPY, 0);
        for (unsigned i = 0; i + 1 < L; ++i) sd.thresholds.push_back(bits_f(rd(ADC_THRESH(i))));
        for (unsigned i = 0; i < L; ++i) sd.levels.push_back(bits_f(rd(ADC_LEVEL(i))));
        sd.range_lo = bits_f(rd(ADC_RANGE_LO));
        sd.range_hi = bits_f(rd(ADC_RANGE_HI));
        sd.sr_zero_code = rd(ADC_SR_ZERO_CODE);
        bd.sets.push_back(sd);
      }
      // Captured samples: one buffer at CAP_ADDR, or slot k at CAP_ADDR + 4 k CAP_MAX when the
      // capture was split by threshold set (the firmware does that for column groups).
      Memory* sram = soc.memory("sram");
      const uint64_t sram_base = 0x10000000;
      const uint32_t cap_addr = regs.value(ADC_CAP_ADDR), cap_max = regs.value(ADC_CAP_MAX);
      for (uint32_t k = 0; k < (bd.set_cols ? bd.sets.size() : 1u); ++k) {
        wr(ADC_SET_SEL, k);
        uint32_t c = std::min(bd.set_cols ? rd(ADC_CAP_SET_COUNT) : rd(ADC_CAP_COUNT), cap_max);
        std::vector<float> v(c);
        if (c) std::memcpy(v.data(), sram->data() + (cap_addr - sram_base) + 4ull * k * cap_max, 4ull * c);
        bd.captured.push_back(v);
      }
      wr(ADC_SET_SEL, 0);
      if (t == 0) {
        out.bits = bits;
        out.edges = bd.sets[0].edges[0];
        out.thresholds = bd.sets[0].thresholds;
        out.range_lo = bd.sets[0].range_lo;
        out.range_hi = bd.sets[0].range_hi;
        out.g_min = bits_f(regs.value(ADC_GMIN));
        out.g_max = bits_f(regs.value(ADC_GMAX));
      }
      out.banks.push_back(bd);
    }
    if (auto* p = dynamic_cast<RegBlock*>(soc.module("progctl"))) {
      auto& pr = p->regs();
      out.progctl_pulses = uint64_t(reg_read(pr, PROG_PULSES_LO)) | (uint64_t(reg_read(pr, PROG_PULSES_HI)) << 32);
    }
  };
  out.tolerance_us = sc.chip.program.tolerance_us;
  out.scenario = sc;
  Soc soc(sc, ro);
  out.result = soc.run();
  std::ifstream f(out_dir + "/run.log");
  std::stringstream ss;
  ss << f.rdbuf();
  out.log = ss.str();
  return out;
}

// ------------------------------------------------------------------ independent references
// Computed in C++ from the samples the banks captured (SRAM) and the registers read back,
// not by the firmware's code, so the tests check the firmware's numbers.

// The samples a group designed from: its tiles' capture slots in tile order.
inline std::vector<float> group_samples(const Run& r, const cimnet_calib_result_t& g) {
  std::vector<float> x;
  for (uint32_t t = g.tile; t < g.tile + g.tiles; ++t) {
    const auto& c = r.banks.at(t).captured.at(r.banks.at(t).set_cols ? g.set : 0u);
    x.insert(x.end(), c.begin(), c.end());
  }
  return x;
}

// 2^bits levels evenly spaced min..max, nearest level (lm_uniform_mse's definition).
inline double ref_minmax_mse(std::vector<float> x, unsigned bits) {
  const auto [mn, mx] = std::minmax_element(x.begin(), x.end());
  const double lo = *mn, hi = *mx, L = double(1u << bits), step = (hi - lo) / (L - 1);
  double se = 0;
  for (float v : x) {
    const double k = std::min(L - 1, std::max(0.0, std::round((v - lo) / step)));
    se += (lo + k * step - v) * (lo + k * step - v);
  }
  return se / double(x.size());
}

// Mid-tread quantiser of full scale a: levels k a / 2^(b-1), k = -2^(b-1)..2^(b-1)-1.
inline double ref_midtread_mse(const std::vector<float>& x, unsigned bits, double a) {
  const double half = double(1u << (bits - 1)), lsb = a / half;
  double se = 0;
  for (float v : x) {
    const double k = std::min(half - 1, std::max(-half, std::floor(v / lsb + 0.5)));
    se += (k * lsb - v) * (k * lsb - v);
  }
  return se / double(x.size());
}

// The SAR baseline: full scale = the |x| percentile (100, 99.99, 99.95, 99.9, 99.5, 99, 97 %,
// both tails) with the least mid-tread MSE (docs/calibration.md).
inline double ref_sar(std::vector<float> x, unsigned bits, double* a_out) {
  std::sort(x.begin(), x.end());
  const std::size_t n = x.size();
  double best = -1, best_a = 0;
  for (unsigned per : {0u, 1u, 5u, 10u, 50u, 100u, 300u}) {
    const std::size_t k = n * per / 20000;
    const double a = std::max(std::fabs(x[k]), std::fabs(x[n - 1 - k]));
    if (!(a > 0)) continue;
    const double m = ref_midtread_mse(x, bits, a);
    if (best < 0 || m < best) {
      best = m;
      best_a = a;
    }
  }
  *a_out = best_a;
  return best;
}

// Nominal design: cell k = [t_{k-1}, t_k), output levels[k].
inline double ref_threshold_mse(const std::vector<float>& x, const std::vector<float>& thr,
                                const std::vector<float>& lev) {
  double se = 0;
  for (float v : x) {
    const std::size_t k = static_cast<std::size_t>(std::upper_bound(thr.begin(), thr.end(), v) - thr.begin());
    se += (double(lev[k]) - v) * (double(lev[k]) - v);
  }
  return se / double(x.size());
}

// The Q-cell ADC model (models/adc QCellAdc) with the achieved edges read back.
inline adc::QCellAdc ref_qcell(const SetDump& s, const std::vector<float>& edges, unsigned bits) {
  adc::QCellDesign d;
  d.bits = static_cast<int>(bits);
  d.thresholds.assign(s.thresholds.begin(), s.thresholds.end());
  d.levels.assign(s.levels.begin(), s.levels.end());
  d.transfer.v_lo = s.range_lo;
  d.transfer.v_hi = s.range_hi;
  adc::QCellAdc q(d);
  q.set_achieved_edges(std::vector<double>(edges.begin(), edges.end()));
  return q;
}
inline double ref_adc_mse(const adc::Adc& a, const std::vector<float>& x, adc::ConversionStats* st = nullptr) {
  std::vector<float> y(x.size());
  a.quantize(x.data(), y.data(), nullptr, x.size(), st);
  double se = 0;
  for (std::size_t i = 0; i < x.size(); ++i) se += (double(y[i]) - x[i]) * (double(y[i]) - x[i]);
  return se / double(x.size());
}

// Mean signed error (output - input) of a converter over the samples, or over |x| < 0.5 only.
inline double ref_adc_bias(const adc::Adc& a, const std::vector<float>& x, bool zeros_only) {
  std::vector<float> y(x.size());
  a.quantize(x.data(), y.data(), nullptr, x.size(), nullptr);
  double e = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!zeros_only || std::fabs(x[i]) < 0.5f) {
      e += double(y[i]) - x[i];
      ++n;
    }
  return n ? e / double(n) : 0.0;
}

// The pre-options signature the first tests use.
inline Run run_tiny(uint32_t calib_samples, bool write_verify, unsigned bits, const std::string& out_dir) {
  Options o;
  o.samples = calib_samples;
  o.write_verify = write_verify;
  o.bits = bits;
  return run_tiny(o, out_dir);
}

}  // namespace calib_test
