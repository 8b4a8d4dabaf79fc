#include "platform/netrun/adc_files.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "cimvp/regs.h"
#include "models/crossbar/tile.hpp"
#include "platform/memory/memory.hpp"
#include "platform/soc/soc.hpp"
#include "platform/trace/json.hpp"

namespace cimvp::netrun {

namespace {

// A register's current value as a read would return it (computed registers included), without
// the access's side effects (no energy, no timing).
uint32_t peek(RegisterBank& regs, uint32_t offset) {
  return regs.read_value(offset);  // registers and register-array words (the ADC windows)
}

// A register write as the bus would do it (for ADC_SET_SEL: which threshold set the per-set
// registers show), without timing or energy.
void poke(RegisterBank& regs, uint32_t offset, uint32_t v) {
  Register* r = const_cast<Register*>(regs.find(offset));
  if (!r) throw std::logic_error("adc files: no register at offset " + std::to_string(offset));
  if (r->on_write)
    r->on_write(v);
  else
    r->value = v;
}

float peek_f(RegisterBank& regs, uint32_t offset) {
  const uint32_t u = peek(regs, offset);
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

std::vector<Tile*> tiles_in_order(Soc& soc) {
  std::vector<Tile*> t;
  for (const auto& e : soc.context().scenario.memory_map)
    if (e.block == "tile") t.push_back(dynamic_cast<Tile*>(soc.module(e.name)));
  return t;
}

// Bytes at bus address addr..addr+len of whichever memory holds them, or nullptr.
const uint8_t* bus_bytes(Soc& soc, uint64_t addr, uint64_t len) {
  for (const auto& e : soc.context().scenario.memory_map) {
    if ((e.block != "sram" && e.block != "hostmem") || addr < e.base || addr + len > e.base + e.size) continue;
    Memory* m = soc.memory(e.name);
    return m ? m->data() + (addr - e.base) : nullptr;
  }
  return nullptr;
}

// MSE of the mid-tread quantiser (nearest level, saturating) on x.
double midtread_mse(const std::vector<float>& x, double a, unsigned bits) {
  const double half = static_cast<double>(1u << (bits - 1)), lsb = a / half;
  long double se = 0;
  for (float v : x) {
    double k = std::floor(static_cast<double>(v) / lsb + 0.5);
    k = std::min(std::max(k, -half), half - 1);
    const double e = k * lsb - static_cast<double>(v);
    se += e * e;
  }
  return x.empty() ? 0.0 : static_cast<double>(se / static_cast<long double>(x.size()));
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f) throw std::runtime_error(path + ": cannot write (check the --out folder)");
}

}  // namespace

std::string adc_group_name(const cimnet_calib_result_t& g, const std::string& group) {
  std::string s = "layer" + std::to_string(g.layer);
  if (group == "array" || group == "column_group") s += "_tile" + std::to_string(g.tile);
  if (group == "column_group") s += "_set" + std::to_string(g.set);
  return s;
}

void midtread(double a, unsigned bits, std::vector<double>& thresholds, std::vector<double>& levels) {
  const unsigned L = 1u << bits;
  const double lsb = a / static_cast<double>(L / 2);
  levels.resize(L);
  thresholds.resize(L - 1);
  for (unsigned k = 0; k < L; ++k) levels[k] = (static_cast<double>(k) - static_cast<double>(L / 2)) * lsb;
  for (unsigned k = 0; k + 1 < L; ++k) thresholds[k] = levels[k] + 0.5 * lsb;
}

double midtread_full_scale(const std::vector<float>& xs, unsigned bits) {
  static const unsigned per_10k[] = {0, 1, 5, 10, 50, 100, 300};
  const std::size_t n = xs.size();
  double best_a = 0, best = -1;
  for (unsigned p : per_10k) {
    const std::size_t k = static_cast<std::size_t>(static_cast<uint64_t>(n) * p / 20000u);  // per side
    const double av = std::max(std::fabs(static_cast<double>(xs[k])), std::fabs(static_cast<double>(xs[n - 1 - k])));
    if (!(av > 0)) continue;
    const double m = midtread_mse(xs, av, bits);
    if (best < 0 || m < best) {
      best = m;
      best_a = av;
    }
  }
  return best_a > 0 ? best_a : 1.0;
}

std::vector<std::string> write_adc_calibration_files(const std::string& dir, Soc& soc, const CalibrationResult& cr,
                                                     std::size_t max_samples) {
  using trace::format_double;
  std::vector<std::string> names;
  if (!cr.done) return names;
  const auto tiles = tiles_in_order(soc);
  const std::string& group = soc.context().scenario.calibration.group;
  const bool per_set = group == "column_group";
  for (const auto& g : cr.groups) {
    if (g.tiles == 0 || g.tile + g.tiles > tiles.size()) continue;
    // The samples, tile by tile, as the firmware gathered them (capture buffer in SRAM; column
    // groups: the set's slot at CAP_ADDR + 4 set CAP_MAX, docs/adc.md "Capture").
    std::vector<float> x;
    for (uint32_t t = g.tile; t < g.tile + g.tiles; ++t) {
      if (!tiles[t]) continue;
      RegisterBank& r = tiles[t]->adc().regs();
      const uint32_t cap_max = peek(r, ADC_CAP_MAX);
      uint64_t addr = peek(r, ADC_CAP_ADDR);
      uint32_t count = std::min(peek(r, ADC_CAP_COUNT), cap_max);
      if (per_set) {
        poke(r, ADC_SET_SEL, g.set);
        addr += 4ull * g.set * cap_max;
        count = std::min(peek(r, ADC_CAP_SET_COUNT), cap_max);
      }
      const uint8_t* p = bus_bytes(soc, addr, 4ull * count);
      if (!p || count == 0) continue;
      const std::size_t at = x.size();
      x.resize(at + count);
      std::memcpy(x.data() + at, p, 4ull * count);
    }
    if (x.empty()) continue;
    RegisterBank& r0 = tiles[g.tile]->adc().regs();
    if (per_set) poke(r0, ADC_SET_SEL, g.set);  // the set's THRESH / LEVEL / EDGE / RANGE windows
    const unsigned bits = peek(r0, ADC_BITS);
    const uint32_t mode = peek(r0, ADC_MODE);
    const unsigned L = 1u << bits;
    const std::string name = adc_group_name(g, group);

    std::string cap = "sample_digits\n";
    const std::size_t m = std::min(max_samples, x.size());
    for (std::size_t i = 0; i < m; ++i) cap += format_double(x[i * x.size() / m]) + '\n';
    write_file(dir + "/adc_capture_" + name + ".csv", cap);

    std::string th = "kind,index,value\n";
    auto rows = [&](const char* kind, const std::vector<double>& v) {
      for (std::size_t i = 0; i < v.size(); ++i) th += std::string(kind) + ',' + std::to_string(i) + ',' + format_double(v[i]) + '\n';
    };
    // The SAR baseline: the full scale the firmware applied (SAR/flash modes), else the one it
    // would pick from the same samples.
    const bool uniform_run = mode == ADC_MODE_SAR || mode == ADC_MODE_FLASH;
    std::vector<double> ut, ul;
    if (peek(r0, ADC_UNIFORM_SHAPE) == ADC_SHAPE_MIN_MAX) {
      // Min-max SAR (chip.adc.uniform_shape): 2^b levels from the range the firmware applied,
      // or from the captured min..max it would apply.
      double lo = uniform_run ? peek_f(r0, ADC_RANGE_LO) : 0, hi = uniform_run ? peek_f(r0, ADC_RANGE_HI) : 0;
      if (!(hi > lo)) {
        const auto mm = std::minmax_element(x.begin(), x.end());
        lo = *mm.first;
        hi = *mm.second;
      }
      ul.resize(L);
      ut.resize(L - 1);
      const double step = (hi - lo) / static_cast<double>(L - 1);
      for (unsigned k = 0; k < L; ++k) ul[k] = lo + k * step;
      for (unsigned k = 0; k + 1 < L; ++k) ut[k] = ul[k] + 0.5 * step;
    } else {
      double a = 0;
      if (uniform_run) a = peek_f(r0, ADC_RANGE_HI);
      if (!(a > 0)) {
        std::vector<float> xs = x;
        std::sort(xs.begin(), xs.end());
        a = midtread_full_scale(xs, bits);
      }
      midtread(a, bits, ut, ul);
    }
    rows("uniform", ut);
    rows("uniform_level", ul);
    if (mode == ADC_MODE_QCELL || mode == ADC_MODE_QCELL_SR) {
      std::vector<double> lt(L - 1), ll(L), ae(2 * L);
      for (unsigned k = 0; k + 1 < L; ++k) lt[k] = peek_f(r0, ADC_THRESH(k));
      for (unsigned k = 0; k < L; ++k) ll[k] = peek_f(r0, ADC_LEVEL(k));
      for (unsigned k = 0; k < 2 * L; ++k) ae[k] = peek_f(r0, ADC_EDGE(k));
      rows("lloyd_max", lt);
      rows("lloyd_max_level", ll);
      rows("achieved_edge", ae);
    }
    write_file(dir + "/adc_thresholds_" + name + ".csv", th);
    names.push_back(name);
  }
  if (per_set)
    for (auto* t : tiles)
      if (t) poke(t->adc().regs(), ADC_SET_SEL, 0);
  return names;
}

}  // namespace cimvp::netrun
