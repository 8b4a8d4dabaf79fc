#include "platform/config/scenario.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "platform/config/embedded_files.hpp"

namespace cimvp::config {

// ---------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------

std::string read_resolved_file(const std::string& resolved) {
  const std::string prefix = kEmbeddedPrefix;
  if (resolved.compare(0, prefix.size(), prefix) == 0) {
    auto rel = resolved.substr(prefix.size());
    auto it = embedded_files().find(rel);
    if (it == embedded_files().end()) throw ConfigError(resolved + ": no such embedded file");
    return it->second;
  }
  std::ifstream in(resolved, std::ios::binary);
  if (!in) throw ConfigError(resolved + ": cannot open file (check the path)");
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw ConfigError(resolved + ": read error");
  return s.str();
}

namespace {

std::string dirname_of(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? std::string() : p.substr(0, slash + 1);
}

std::string normalise(const std::string& path) {
  // Collapse "a/b/../c" so embedded keys match ("scenarios/x/../tech/y" -> "scenarios/tech/y").
  std::vector<std::string> parts;
  std::string cur;
  std::stringstream ss(path);
  while (std::getline(ss, cur, '/')) {
    if (cur == "..") {
      if (!parts.empty() && parts.back() != "..") parts.pop_back();
      else parts.push_back(cur);
    } else if (cur != "." && !cur.empty()) {
      parts.push_back(cur);
    }
  }
  std::string out = (!path.empty() && path[0] == '/') ? "/" : "";
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? "/" : "") + parts[i];
  return out;
}

}  // namespace

std::string resolve_relative(const std::string& base, const std::string& ref) {
  if (!ref.empty() && ref[0] == '/') return ref;
  const std::string prefix = kEmbeddedPrefix;
  if (base.compare(0, prefix.size(), prefix) == 0)
    return prefix + normalise(dirname_of(base.substr(prefix.size())) + ref);
  return normalise(dirname_of(base) + ref);
}

const MemoryMapEntry* Scenario::find(const std::string& n) const {
  for (const auto& e : memory_map)
    if (e.name == n) return &e;
  return nullptr;
}

// ---------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------

const std::vector<std::string>& block_kind_names();  // defined with the SoC block table

namespace {


std::vector<MemoryMapEntry> read_memory_map(const Node& n) {
  std::vector<MemoryMapEntry> map;
  if (!n.is_sequence()) n.fail("expected a list of {name, block, base, size[, irq]} entries");
  std::set<std::string> names;
  std::map<int, std::string> irq_kind;  // line -> block kind using it
  for (std::size_t i = 0; i < n.size(); ++i) {
    Node e = n[i];
    MemoryMapEntry m;
    m.where = e.where();
    m.name = e.text("name");
    m.block = e.choice("block", "", block_kind_names());
    if (m.block.empty()) e.fail("missing required key 'block'");
    m.base = e.address("base");
    m.size = e.at("size").as_uint(4, 0x100000000ull);
    m.irq = static_cast<int>(e.integer("irq", -1, -1, 30));
    // count: N replicates the entry at consecutive bases as <name>0..<name>N-1.
    // At most 65536: the discovery table's instance field (SYSCTL_BLOCK_TYPE) has 16 bits.
    const uint64_t count = e.get("count") ? e.at("count").as_uint(1, 65536) : 0;
    if (m.base % 4 != 0) e.at("base").fail("base must be 4-byte aligned");
    if (m.size % 4 != 0) e.at("size").fail("size must be a multiple of 4 bytes");
    if (m.base + m.size * (count ? count : 1) > 0x100000000ull)
      e.at("size").fail("range runs past the 32-bit bus address space");
    if (m.irq >= 0) {
      auto it = irq_kind.find(m.irq);
      if (it != irq_kind.end() && it->second != m.block)
        e.at("irq").fail("interrupt line " + std::to_string(m.irq) + " is already used by a block of another kind (" +
                         it->second + "); only blocks of one kind may share a line");
      irq_kind[m.irq] = m.block;
    }
    for (uint64_t r = 0; r < (count ? count : 1); ++r) {
      MemoryMapEntry c = m;
      if (count) {
        c.name = m.name + std::to_string(r);
        c.base = m.base + r * m.size;
      }
      if (!names.insert(c.name).second) e.at("name").fail("duplicate block name '" + c.name + "'");
      map.push_back(c);
    }
  }
  // Overlaps: name both entries so the user sees which two collide.
  auto sorted = map;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.base < b.base; });
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    const auto& a = sorted[i - 1];
    const auto& b = sorted[i];
    if (a.base + a.size > b.base) {
      std::ostringstream m;
      m << std::hex << "0x" << a.base << "..0x" << (a.base + a.size - 1);
      std::ostringstream mb;
      mb << std::hex << "0x" << b.base << "..0x" << (b.base + b.size - 1);
      throw ConfigError(b.where + ": memory_map: '" + b.name + "' (" + mb.str() + ") overlaps '" + a.name + "' (" +
                        m.str() + ", " + a.where + "); move one of them");
    }
  }
  int nsys = 0, nirq = 0, nsram = 0;
  for (const auto& m : map) {
    if (m.block == "sysctl") {
      ++nsys;
      if (m.base != 0) throw ConfigError(m.where + ": memory_map: the sysctl block must be at base 0x0 (boot convention)");
    }
    if (m.block == "irq") ++nirq;
    if (m.block == "sram") ++nsram;
  }
  if (nsys != 1) n.fail("exactly one block of kind 'sysctl' is required (found " + std::to_string(nsys) + ")");
  if (nirq != 1) n.fail("exactly one block of kind 'irq' is required (found " + std::to_string(nirq) + ")");
  if (nsram < 1) n.fail("at least one block of kind 'sram' is required");
  return map;
}

// program.device / program.write_verify: the write model of the cells and the pulse schedule
// of the programming controller (models/progctl; keys in docs/progctl.md). Both required.
void read_program_model(const Node& pr, TechProgram& x) {
  Node dn = pr.at("device");
  auto& d = x.device;
  d.g_min_us = dn.number("g_min_us", 0, 1e6);
  d.g_max_us = dn.number("g_max_us", 0, 1e6);
  if (!(d.g_max_us > d.g_min_us))
    dn.at("g_max_us").fail("must be greater than program.device.g_min_us (" + std::to_string(d.g_min_us) + ")");
  x.fresh_g_us = dn.number("g_fresh_us", 0, 1e6);
  if (x.fresh_g_us < d.g_min_us || x.fresh_g_us > d.g_max_us)
    dn.at("g_fresh_us").fail("must lie in [program.device.g_min_us, program.device.g_max_us] = [" +
                             std::to_string(d.g_min_us) + ", " + std::to_string(d.g_max_us) + "]");
  auto response = [](const Node& n, progctl::PulseResponse& r) {
    r.alpha_us = n.number("alpha_us", 1e-9, 1e6);
    r.gamma = n.number("gamma", 1e-6, 100);
    r.v_th = n.number("v_th", 0, 100);
    r.v_ref = n.number("v_ref", 0, 100);
    if (!(r.v_ref > r.v_th)) n.at("v_ref").fail("must be above " + n.path() + ".v_th (" + std::to_string(r.v_th) + " V)");
    r.t_ref_s = n.number("t_ref_ns", 1e-6, 1e12) * 1e-9;
    r.width_exp = n.number("width_exp", 0, 100);
  };
  response(dn.at("set"), d.set);
  response(dn.at("reset"), d.reset);
  d.sigma_mult = dn.number("sigma_mult", 0, 100);
  d.sigma_add_us = dn.number("sigma_add_us", 0, 1e6);
  d.read_sigma_rel = dn.number("read_sigma_rel", 0, 0.999);
  d.read_sigma_abs_us = dn.number("read_sigma_abs_us", 0, 1e6);
  d.endurance_pulses = static_cast<uint64_t>(dn.integer("endurance_pulses", 1, INT64_MAX));
  const std::string wo = dn.choice("wear_out", "", {"present", "g_min", "g_max"});
  if (wo.empty()) dn.fail("missing required key 'wear_out' (present, g_min or g_max)");
  d.wear_out = wo == "g_min" ? progctl::WearOut::GMin : wo == "g_max" ? progctl::WearOut::GMax : progctl::WearOut::Present;

  Node wn = pr.at("write_verify");
  auto& w = x.write_verify;
  w.tolerance_us = wn.number("tolerance_us", 1e-6, 1e6);
  w.max_pulses = static_cast<uint32_t>(wn.integer("max_pulses", 1, 1000000));
  const std::string sch = wn.choice("scheme", "", {"ispp", "fixed"});
  if (sch.empty()) wn.fail("missing required key 'scheme' (ispp or fixed)");
  w.scheme = sch == "fixed" ? progctl::PulseScheme::Fixed : progctl::PulseScheme::Ispp;
  auto schedule = [](const Node& n, progctl::PulseSchedule& sc) {
    sc.v_start = n.number("v_start", 1e-6, 100);
    sc.v_step = n.number("v_step", 0, 100);
    sc.v_max = n.number("v_max", 1e-6, 100);
    if (sc.v_max < sc.v_start)
      n.at("v_max").fail("must be >= " + n.path() + ".v_start (" + std::to_string(sc.v_start) + " V)");
    sc.width_s = n.number("width_ns", 1e-6, 1e12) * 1e-9;
  };
  schedule(wn.at("set"), w.set);
  schedule(wn.at("reset"), w.reset);
  try {  // backstop: the cores' own checks (every rule above should have caught it first)
    d.validate();
    w.validate();
  } catch (const std::invalid_argument& e) {
    pr.fail(e.what());
  }
}

void read_tech(const Node& t, Tech& tech) {
  tech.name = t.text("name");
  // Every block's figures are required: a missing section would leave the block without
  // sourced figures (docs/energy.md "Technology tables").
  auto section = [&t](const char* key) {
    if (!t.has(key))
      t.fail(std::string("missing required section '") + key +
             ":' (a technology table gives every block's figures, each with its source; "
             "copy the section from scenarios/tech/rram22-sar.yaml)");
    return std::optional<Node>(t.at(key));
  };
  if (auto c = section("host_cpu")) {
    tech.host_cpu.clock_mhz = c->number("clock_mhz", 1, 10000);
    tech.host_cpu.cycles_per_access = c->number("cycles_per_access", 0, 1000);
    tech.host_cpu.energy_pj_per_cycle = c->number("energy_pj_per_cycle", 0, 1e6);
    tech.host_cpu.area_um2 = c->number("area_um2", 0, 1e12);
    tech.host_cpu.leakage_uw = c->number("leakage_uw", 0, 1e9);
  }
  Node b = t.at("bus");
  tech.bus.latency_ns = b.number("latency_ns", 0, 1e6);
  tech.bus.energy_pj_per_transaction = b.number("energy_pj_per_transaction", 0, 1e6);
  tech.bus.energy_pj_per_byte = b.number("energy_pj_per_byte", 0, 1e6);
  tech.bus.area_um2 = b.number("area_um2", 0, 1e12);
  tech.bus.leakage_uw = b.number("leakage_uw", 0, 1e9);
  auto read_mem = [](const Node& m, TechSram& s) {
    s.latency_ns = m.number("latency_ns", 0, 1e6);
    s.bytes_per_ns = m.number("bytes_per_ns", 1e-6, 1e6);
    s.read_pj_per_byte = m.number("read_pj_per_byte", 0, 1e6);
    s.write_pj_per_byte = m.number("write_pj_per_byte", 0, 1e6);
    s.area_um2_per_kib = m.number("area_um2_per_kib", 0, 1e9);
    s.leakage_uw_per_kib = m.number("leakage_uw_per_kib", 0, 1e9);
  };
  read_mem(t.at("sram"), tech.sram);
  read_mem(t.at("hostmem"), tech.hostmem);
  if (auto c = section("crossbar")) {
    auto& x = tech.crossbar;
    x.v_read = c->number("v_read", 0.001, 10);
    x.t_read_ns = c->number("t_read_ns", 0.001, 1e6);
    x.dac_pj_per_row_cycle = c->number("dac_pj_per_row_cycle", 0, 1e6);
    x.mux_pj_per_conversion = c->number("mux_pj_per_conversion", 0, 1e6);
    x.shift_add_pj_per_op = c->number("shift_add_pj_per_op", 0, 1e6);
    x.shift_add_ns_per_vector = c->number("shift_add_ns_per_vector", 0, 1e6);
    x.buffer_pj_per_byte = c->number("buffer_pj_per_byte", 0, 1e6);
    x.cell_area_um2 = c->number("cell_area_um2", 0, 1e6);
    x.periphery_area_um2 = c->number("periphery_area_um2", 0, 1e12);
    x.array_leakage_uw = c->number("array_leakage_uw", 0, 1e9);
    x.periphery_leakage_uw = c->number("periphery_leakage_uw", 0, 1e9);
  }
  if (auto a = section("adc")) {
    auto formula = [](const Node& n, AdcFormula& f) {
      if (n.is_scalar()) {  // a constant
        f.c0 = n.as_double(0, 1e12);
        return;
      }
      f.c0 = n.number("c0", 0, -1e12, 1e12);
      f.c1 = n.number("per_bit", 0, -1e12, 1e12);
      f.c2 = n.number("per_level", 0, -1e12, 1e12);
      f.c3 = n.number("per_bit_sq", 0, -1e12, 1e12);
    };
    auto type = [&](const std::string& key, TechAdcType& ty) {
      Node n = a->at(key);
      formula(n.at("energy_pj"), ty.energy_pj);
      formula(n.at("time_ns"), ty.time_ns);
      formula(n.at("area_um2"), ty.area_um2);
      formula(n.at("leakage_uw"), ty.leakage_uw);
    };
    type("ideal", tech.adc.ideal);
    type("sar", tech.adc.sar);
    type("flash", tech.adc.flash);
    type("qcell", tech.adc.qcell);
    tech.adc.capture_pj_per_sample = a->number("capture_pj_per_sample", 0, 1e6);
    tech.adc.capture_ns_per_sample = a->number("capture_ns_per_sample", 0, 1e6);
  }
  if (auto pr = section("program")) {
    auto& x = tech.program;
    x.pulse_overhead_ns = pr->number("pulse_overhead_ns", 0, 1e9);
    x.verify_read_ns = pr->number("verify_read_ns", 0, 1e9);
    x.set_driver_pj = pr->number("set_driver_pj", 0, 1e9);
    x.reset_driver_pj = pr->number("reset_driver_pj", 0, 1e9);
    x.verify_read_pj = pr->number("verify_read_pj", 0, 1e9);
    x.area_um2 = pr->number("area_um2", 0, 1e12);
    x.leakage_uw = pr->number("leakage_uw", 0, 1e9);
    read_program_model(*pr, x);
  }
  if (auto d = section("dma")) {
    auto& x = tech.dma;
    x.setup_ns_per_descriptor = d->number("setup_ns_per_descriptor", 0, 1e9);
    x.bytes_per_ns = d->number("bytes_per_ns", 1e-6, 1e6);
    x.pj_per_byte = d->number("pj_per_byte", 0, 1e6);
    x.pj_per_descriptor = d->number("pj_per_descriptor", 0, 1e9);
    x.area_um2 = d->number("area_um2", 0, 1e12);
    x.leakage_uw = d->number("leakage_uw", 0, 1e9);
  }
  if (auto d = section("dpu")) {
    auto& x = tech.dpu;
    x.setup_ns_per_op = d->number("setup_ns_per_op", 0, 1e9);
    x.ns_per_element = d->number("ns_per_element", 0, 1e6);
    x.ns_per_pool_tap = d->number("ns_per_pool_tap", 0, 1e6);
    x.pj_per_element = d->number("pj_per_element", 0, 1e6);
    x.pj_per_pool_tap = d->number("pj_per_pool_tap", 0, 1e6);
    x.pj_per_op = d->number("pj_per_op", 0, 1e9);
    x.area_um2 = d->number("area_um2", 0, 1e12);
    x.leakage_uw = d->number("leakage_uw", 0, 1e9);
  }
  Node r = t.at("registers");
  tech.registers.access_ns = r.number("access_ns", 0, 1e6);
  tech.registers.energy_pj_per_access = r.number("energy_pj_per_access", 0, 1e6);
  tech.registers.area_um2 = r.number("area_um2", 0, 1e12);
  tech.registers.leakage_uw = r.number("leakage_uw", 0, 1e9);
}

void read_chip(const Node& c, ChipParams& chip, const Tech& tech) {
  auto& m = chip.mapping;
  auto& d = chip.device;
  if (auto x = c.get("crossbar")) {
    m.rows = static_cast<int>(x->integer("rows", m.rows, 1, 4096));
    m.cols = static_cast<int>(x->integer("cols", m.cols, 1, 4096));
    m.weight_bits = static_cast<int>(x->integer("weight_bits", m.weight_bits, 2, 16));
    m.cell_bits = static_cast<int>(x->integer("cell_bits", m.cell_bits, 1, 8));
    m.input_bits = static_cast<int>(x->integer("input_bits", m.input_bits, 1, 8));
    m.dac_bits = static_cast<int>(x->integer("dac_bits", m.dac_bits, 1, 8));
    m.sign = x->choice("sign", "differential", {"differential", "offset"}) == "offset"
                 ? crossbar::SignScheme::OffsetColumn
                 : crossbar::SignScheme::Differential;
    m.per_column_scale = x->flag("per_column_scale", m.per_column_scale);
    if (auto dv = x->get("device")) {
      d.g_min_us = dv->number("g_min_us", d.g_min_us, 0, 1e6);
      d.g_max_us = dv->number("g_max_us", d.g_max_us, 0, 1e6);
      d.cell_levels = static_cast<int>(dv->integer("cell_levels", d.cell_levels, 0, 1 << 16));
      if (auto p = dv->get("programming_error")) {
        d.prog_error = p->flag("enabled", true);
        d.prog_sigma_us = p->number("sigma_us", d.prog_sigma_us, 0, 1e6);
      }
      if (auto p = dv->get("read_noise")) {
        d.read_noise = p->flag("enabled", true);
        d.read_sigma_rel = p->number("sigma_rel", d.read_sigma_rel, 0, 1);
      }
      if (auto p = dv->get("drift")) {
        d.drift = p->flag("enabled", true);
        d.drift_nu = p->number("nu", d.drift_nu, 0, 1);
        d.drift_t0_s = p->number("t0_s", d.drift_t0_s, 1e-12, 1e12);
        chip.drift_read_delay_s = p->number("read_delay_s", chip.drift_read_delay_s, 0, 1e12);
      }
      d.stuck_at_gmin_rate = dv->number("stuck_at_gmin_rate", d.stuck_at_gmin_rate, 0, 1);
      d.stuck_at_gmax_rate = dv->number("stuck_at_gmax_rate", d.stuck_at_gmax_rate, 0, 1);
      d.clip = dv->flag("clip", d.clip);
    }
  }
  m.v_read = tech.crossbar.v_read;
  d.t_read_ns = tech.crossbar.t_read_ns;
  try {
    crossbar::validate(d, m, "chip.crossbar.device.", "chip.crossbar.");
  } catch (const std::invalid_argument& e) {
    (c.get("crossbar") ? *c.get("crossbar") : c).fail(e.what());
  }
  if (auto a = c.get("adc")) {
    auto& p = chip.adc;
    p.mode = a->choice("mode", p.mode, {"ideal", "sar", "flash", "qcell", "qcell_sr"});
    p.bits = static_cast<int>(a->integer("bits", p.bits, 2, 8));
    p.share = static_cast<int>(a->integer("share", p.share, 1, 4096));
    p.range = a->choice("range", p.range, {"design", "calibrated"});
    p.uniform_shape = a->choice("uniform_shape", p.uniform_shape, {"mid_tread", "min_max"});
    p.variation_frac = a->number("variation_frac", p.variation_frac, 0, 0.5);
    p.comparator_offset_frac = a->number("comparator_offset_frac", p.comparator_offset_frac, 0, 0.5);
    p.sr_copies = static_cast<int>(a->integer("sr_copies", p.sr_copies, 2, 7));
    if (p.share > m.cols) a->at("share").fail("more columns per ADC than the array has (" + std::to_string(m.cols) + ")");
  }
  // Programming defaults from the tech table's program.write_verify; its write model must
  // cover the chip's conductance window or targets at the window's edges are unreachable.
  {
    const auto& tp = tech.program;
    chip.program.tolerance_us = tp.write_verify.tolerance_us;
    chip.program.max_pulses = tp.write_verify.max_pulses;
    chip.program.scheme = tp.write_verify.scheme == progctl::PulseScheme::Fixed ? "fixed" : "ispp";
    if (tp.device.g_min_us > d.g_min_us || tp.device.g_max_us < d.g_max_us) {
      std::ostringstream m;
      m << "the tech table's program.device window [" << tp.device.g_min_us << ", " << tp.device.g_max_us
        << "] uS does not cover chip.crossbar.device [g_min_us, g_max_us] = [" << d.g_min_us << ", " << d.g_max_us
        << "] uS: write-verify could not reach the window's edges; widen program.device.g_min_us/g_max_us in "
        << tech.file << " or narrow the chip's window";
      (c.get("crossbar") ? *c.get("crossbar") : c).fail(m.str());
    }
  }
  if (auto p = c.get("program")) {
    auto& g = chip.program;
    g.mode = p->choice("mode", g.mode, {"ideal", "write_verify"});
    g.tolerance_us = p->number("tolerance_us", g.tolerance_us, 1e-6, 1e6);
    g.max_pulses = static_cast<uint32_t>(p->integer("max_pulses", g.max_pulses, 1, 1000000));
    g.scheme = p->choice("scheme", g.scheme, {"ispp", "fixed"});
  }
}

}  // namespace

const std::vector<std::string>& firmware_app_names();  // defined with the app table

const std::vector<std::string>& generated_model_names() {
  static const std::vector<std::string> names{"vgg8-cifar10"};  // platform/netrun/synthetic_model.cpp
  return names;
}

Scenario load_scenario(const std::string& path, const LoadOptions& options) {
  Scenario s;
  s.file = path.empty() ? std::string(kEmbeddedPrefix) + "scenarios/default.yaml" : path;
  std::string label = path.empty() ? "scenarios/default.yaml (embedded)" : path;
  auto doc = Doc::parse(read_resolved_file(s.file), label);

  // --set tech.x=... goes to the tech file when the scenario refers to one.
  std::vector<std::string> tech_overrides;
  const YAML::Node top = doc->root();  // const: operator[] must not insert keys
  for (const auto& o : options.overrides) {
    if (o.compare(0, 5, "tech.") == 0 && top["tech"].IsScalar())
      tech_overrides.push_back(o.substr(5));
    else
      doc->apply_override(o);
  }
  Node root(doc, doc->root(), "");

  s.name = root.text("name");
  if (s.name.empty() || s.name.find('/') != std::string::npos || s.name == "." || s.name == "..")
    root.at("name").fail("must be a non-empty name without '/' (it names the output folder)");
  s.seed = root.at("seed").as_uint(0, UINT64_MAX);
  if (options.has_seed) s.seed = options.seed;

  if (auto n = root.get("sim")) {
    s.sim.quantum_ns = n->number("quantum_ns", s.sim.quantum_ns, 0.001, 1e9);
    s.sim.max_time_ms = n->number("max_time_ms", s.sim.max_time_ms, 0.001, 1e9);
    s.sim.power_bin_ns = n->number("power_bin_ns", s.sim.power_bin_ns, 0.001, 1e12);
  }
  if (auto n = root.get("firmware")) {
    s.firmware.app = n->choice("app", s.firmware.app, firmware_app_names());
    s.firmware.arg0 = static_cast<uint32_t>(n->get("arg0") ? n->at("arg0").as_uint(0, 0xFFFFFFFFull) : 0);
    s.firmware.arg1 = static_cast<uint32_t>(n->get("arg1") ? n->at("arg1").as_uint(0, 0xFFFFFFFFull) : 0);
  }
  if (auto n = root.get("trace")) {
    s.trace.vcd = n->flag("vcd", s.trace.vcd);
    s.trace.trace_json = n->flag("trace_json", s.trace.trace_json);
    s.trace.max_bus_slices =
        n->get("max_bus_slices") ? n->at("max_bus_slices").as_uint(0, UINT64_MAX) : s.trace.max_bus_slices;
    s.trace.max_adc_slices =
        n->get("max_adc_slices") ? n->at("max_adc_slices").as_uint(0, UINT64_MAX) : s.trace.max_adc_slices;
    s.trace.power_series = n->choice("power_series", s.trace.power_series, {"component", "kind"});
    s.trace.vcd_max_mb = n->number("vcd_max_mb", s.trace.vcd_max_mb, 0, 1e9);
  }
  s.memory_map = read_memory_map(root.at("memory_map"));

  Node tech_ref = root.at("tech");
  if (tech_ref.is_scalar()) {
    std::string tpath = resolve_relative(s.file, tech_ref.as_string());
    std::string ttext;
    try {
      ttext = read_resolved_file(tpath);
    } catch (const ConfigError& e) {
      tech_ref.fail(std::string("cannot read the tech table: ") + e.what());
    }
    std::string tlabel = tpath.compare(0, 9, kEmbeddedPrefix) == 0 ? tpath.substr(9) + " (embedded)" : tpath;
    auto tdoc = Doc::parse(ttext, tlabel);
    for (const auto& o : tech_overrides) tdoc->apply_override(o);
    Node troot(tdoc, tdoc->root(), "");
    s.tech.file = tpath;
    read_tech(troot, s.tech);
    check_unknown_keys(troot);
  } else {
    s.tech.file = s.file;
    read_tech(tech_ref, s.tech);
  }
  // After the tech table: the chip's read voltage and pulse come from it.
  if (auto c = root.get("chip"))
    read_chip(*c, s.chip, s.tech);
  else
    read_chip(Node(doc, YAML::Node(YAML::NodeType::Map), "chip"), s.chip, s.tech);
  if (auto n = root.get("network")) {
    const std::string model = n->text("model");
    const std::string gp = kGeneratedPrefix;
    if (model.compare(0, gp.size(), gp) == 0) {
      const auto& names = generated_model_names();
      if (std::find(names.begin(), names.end(), model.substr(gp.size())) == names.end())
        n->at("model").fail("no generated model '" + model.substr(gp.size()) + "' (known: generated:" + names.front() + ")");
      s.network.model = model;
    } else {
      s.network.model = resolve_relative(s.file, model);
    }
    s.network.tiles = n->choice("tiles", s.network.tiles, {"memory_map", "auto"});
    s.network.calibration_percentile = n->number("calibration_percentile", s.network.calibration_percentile, 50, 100);
    s.network.batch = static_cast<uint32_t>(n->integer("batch", 0, 0, 4096));
    if (s.firmware.app != "infer") n->fail("a network runs with the infer firmware: set firmware.app: infer");
  }
  if (auto n = root.get("dataset")) {
    auto& d = s.dataset;
    d.name = n->choice("name", d.name, {"fashion-mnist", "synthetic"});
    if (d.name == "synthetic") {  // seeded images (platform/dataset/synthetic.hpp); no labels
      Node sh = n->at("shape");
      if (!sh.is_sequence() || sh.size() != 3) sh.fail("expected [C, H, W]");
      for (std::size_t i = 0; i < 3; ++i) d.shape.push_back(static_cast<uint32_t>(sh[i].as_uint(1, 4096)));
      if (uint64_t(d.shape[0]) * d.shape[1] * d.shape[2] > (1u << 24)) sh.fail("at most 2^24 pixels per image");
      d.pixels = n->choice("pixels", d.pixels, {"smooth", "uniform"});
      if (d.pixels == "smooth") {
        auto list = [&](const char* key, double lo, std::vector<double>& v) {
          Node x = n->at(key);
          if (x.is_scalar()) {
            v.push_back(x.as_double(lo, 1.0));
          } else {
            if (!x.is_sequence() || (x.size() != 1 && x.size() != d.shape[0]))
              x.fail("give one value or one per channel (" + std::to_string(d.shape[0]) + ")");
            for (std::size_t i = 0; i < x.size(); ++i) v.push_back(x[i].as_double(lo, 1.0));
          }
        };
        list("mean", 0.0, d.mean);
        list("std", 1e-6, d.std);
        d.correlation_px = n->number("correlation_px", d.correlation_px, 0, 256);
      }
    } else {
      d.dir = n->text("dir", d.dir);
    }
    d.split = n->choice("split", d.split, {"test", "train"});
    d.first = static_cast<uint64_t>(n->integer("first", 0, 0, 60000));
    d.images = static_cast<uint64_t>(n->integer("images", static_cast<int64_t>(d.images), 1, 60000));
    d.calibration_images =
        static_cast<uint64_t>(n->integer("calibration_images", static_cast<int64_t>(d.calibration_images), 1, 60000));
    if (s.network.model.empty()) n->fail("a dataset needs a network section (network.model) to run on");
  }
  if (auto n = root.get("calibration")) {
    auto& c = s.calibration;
    c.enabled = n->flag("enabled", true);
    c.images = static_cast<uint64_t>(n->integer("images", static_cast<int64_t>(c.images), 1, 60000));
    c.first = static_cast<uint64_t>(n->integer("first", 0, 0, 59999));
    c.samples = static_cast<uint32_t>(n->integer("samples", c.samples, 16, 1 << 19));
    c.group = n->choice("group", c.group, {"layer", "array", "column_group"});
    if (n->has("group_cols") || c.group == "column_group") {
      const int share = s.chip.adc.share, cols = s.chip.mapping.cols;
      if (!n->has("group_cols"))
        n->fail("calibration.group: column_group needs calibration.group_cols (physical columns per group, a "
                "multiple of chip.adc.share = " + std::to_string(share) + ", at most chip.crossbar.cols = " +
                std::to_string(cols) + ")");
      const auto gc = n->at("group_cols");
      c.group_cols = static_cast<uint32_t>(gc.as_int(1, 1 << 16));
      if (c.group != "column_group")
        gc.fail("calibration.group_cols is only used with calibration.group: column_group (group is " + c.group + ")");
      if (c.group_cols % static_cast<uint32_t>(share) != 0)
        gc.fail("calibration.group_cols " + std::to_string(c.group_cols) + " is not a multiple of chip.adc.share " +
                std::to_string(share) + " (every ADC must belong to one column group): use " +
                std::to_string((c.group_cols + share - 1) / share * share));
      if (c.group_cols > static_cast<uint32_t>(cols))
        gc.fail("calibration.group_cols " + std::to_string(c.group_cols) + " exceeds the array's " +
                std::to_string(cols) + " columns (chip.crossbar.cols)");
    }
    c.program = n->choice("program", c.program, {"direct", "write_verify"});
    c.sr_policy = n->choice("sr_policy", c.sr_policy, {"boundary", "zero_wins"});
    if (c.first + c.images > 60000)
      n->fail("calibration.first + calibration.images run past the 60000 training images: lower one of them");
    if (c.enabled && s.network.model.empty())
      n->fail("calibration needs a network section (network.model) to calibrate");
    if (c.enabled && (s.chip.adc.mode == "ideal"))
      n->fail("calibration with chip.adc.mode: ideal has nothing to calibrate: set chip.adc.mode to sar, flash, "
              "qcell or qcell_sr, or calibration.enabled: false");
  }
  check_unknown_keys(root);
  return s;
}

}  // namespace cimvp::config
