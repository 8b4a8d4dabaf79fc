#include "platform/soc/outputs.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

#include "platform/power/power_monitor.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/soc/soc.hpp"
#include "platform/trace/json.hpp"

namespace cimvp {

namespace {

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  if (!f) throw std::runtime_error(path + ": cannot write (check the --out folder)");
}

std::string fmt(double v, int prec = 3) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(prec) << v;
  return s.str();
}

// PNG plots from the run's files (tools/plot_report.py), when Debian's python3 has matplotlib.
// The platform never needs Python: without it (or with CIMVP_PLOTS=0) this does nothing.
std::vector<std::string> make_plots(const std::string& dir) {
  std::vector<std::string> pngs;
  const char* env = std::getenv("CIMVP_PLOTS");
  if (env && std::string(env) == "0") return pngs;
#ifdef CIMVP_TOOLS_DIR
  const std::string script = std::string(CIMVP_TOOLS_DIR) + "/plot_report.py";
  const std::string py = "/usr/bin/python3";
  namespace fs = std::filesystem;
  if (!fs::exists(script) || !fs::exists(py)) return pngs;
  auto quote = [](const std::string& x) {
    std::string q = "'";
    for (char c : x) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  const std::string cmd = py + " " + quote(script) + " " + quote(dir) + " > " + quote(dir + "/plots.log") + " 2>&1";
  if (std::system(cmd.c_str()) != 0) return pngs;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".png") names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  pngs = names;
#else
  (void)dir;
#endif
  return pngs;
}

// Time values at a fixed resolution (ns values to the ps, the kernel's resolution; host
// seconds to the us), so summary.json holds 78883.125, not 78883.12500000001.
// Dividing the rounded integer by the (exact) per-unit count gives the double nearest to the
// decimal, which the JSON writer prints in its shortest form.
double round_to(double v, double per_unit) { return std::isfinite(v) ? std::round(v * per_unit) / per_unit : v; }
double ns_at_ps(double ns) { return round_to(ns, 1e3); }

// The firmware's region table (drivers/pmu.h pmu_acc_print; docs/energy.md "Per-layer
// figures"): "perf: kind name count time_ns energy_pJ ..." then rows "perf: phase boot ...",
// "perf: layer 0 ...", and "perf: end <now_ns> <total_pJ>". Values are exact decimals of
// integer ps / fJ. Lines that do not follow the header are ignored (a firmware without a PMU
// prints none).
struct PerfTable {
  std::vector<std::string> columns;  // after kind and name
  struct Row {
    std::string kind, name;
    std::vector<double> values;
  };
  std::vector<Row> rows;
  bool has_end = false;
  double end_ns = 0, end_pj = 0;
};

PerfTable parse_perf(const std::string& console) {
  PerfTable t;
  std::istringstream in(console);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("perf: ", 0) != 0) continue;
    std::istringstream ls(line.substr(6));
    std::vector<std::string> w;
    for (std::string x; ls >> x;) w.push_back(x);
    if (w.size() >= 3 && w[0] == "kind" && w[1] == "name") {
      t.columns.assign(w.begin() + 2, w.end());
      t.rows.clear();
      t.has_end = false;
      continue;
    }
    auto num = [](const std::string& x, double& v) {
      char* end = nullptr;
      v = std::strtod(x.c_str(), &end);
      return end && *end == '\0' && !x.empty();
    };
    if (w.size() == 3 && w[0] == "end") {
      t.has_end = num(w[1], t.end_ns) && num(w[2], t.end_pj);
      continue;
    }
    if (t.columns.empty() || w.size() != t.columns.size() + 2 || (w[0] != "phase" && w[0] != "layer")) continue;
    PerfTable::Row r{w[0], w[1], {}};
    bool ok = true;
    for (std::size_t i = 2; i < w.size() && ok; ++i) {
      double v = 0;
      ok = num(w[i], v);
      r.values.push_back(v);
    }
    if (ok) t.rows.push_back(std::move(r));
  }
  return t;
}

// Column name -> summary.json key ("energy_pJ" -> "energy_pj").
std::string perf_key(const std::string& c) {
  std::string k;
  for (char ch : c) k += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return k;
}

}  // namespace

void write_run_outputs(const std::string& dir, const RunOutputs& out) {
  const auto& sc = *out.scenario;
  const auto& r = *out.result;
  auto& pm = out.power->core();
  const uint64_t end_ps = r.sim_time_ps;

  // The power trace per component, or per kind for chips with thousands of components
  // (trace.power_series; the breakdown files and summary.json stay per component).
  const bool by_kind = sc.trace.power_series == "kind";
  power::PowerMonitor kinds_view = by_kind ? pm.grouped_by_kind() : power::PowerMonitor(1);
  power::PowerMonitor& series = by_kind ? kinds_view : pm;
  series.write_power_csv(dir + "/power.csv", end_ps);
  series.write_power_vcd(dir + "/power.vcd", end_ps);
  pm.write_energy_breakdown_csv(dir + "/energy_breakdown.csv", end_ps);
  pm.write_area_breakdown_csv(dir + "/area_breakdown.csv");
  write_text(dir + "/run.log", out.console_log);

  using trace::Json;
  Json s = Json::object();
  s["scenario"] = sc.name;
  s["scenario_file"] = sc.file;
  s["tech"] = sc.tech.name;
  s["seed"] = sc.seed;  // an integer: a double would lose seeds above 2^53
  s["firmware_app"] = sc.firmware.app;
  s["firmware_exit_code"] = static_cast<double>(r.firmware_exit_code);
  s["exit_status"] = static_cast<double>(r.exit_status);
  s["error"] = r.error;
  s["sim_time_ps"] = r.sim_time_ps;  // exact integer
  s["sim_time_ns"] = ns_at_ps(r.sim_time_ns);
  s["wall_seconds"] = round_to(r.wall_seconds, 1e6);
  double total = 0;
  Json eb = Json::object(), ab = Json::object();
  for (std::size_t i = 0; i < pm.component_count(); ++i) {
    double e = pm.dynamic_pj(i) + pm.static_pj(i, end_ps);
    total += e;
    eb[pm.component_name(i)] = e;
    ab[pm.component_name(i)] = pm.area_um2(i);
  }
  s["energy_pj"] = total;
  s["energy_breakdown_pj"] = eb;
  s["area_breakdown_um2"] = ab;
  // Grouped by kind (all tiles' ADC banks together, ...) and the ADC share the paper compares.
  std::map<std::string, std::pair<double, double>> kinds;  // kind -> (pJ, um2), sorted
  double area_total = 0;
  for (std::size_t i = 0; i < pm.component_count(); ++i) {
    auto& k = kinds[power::component_kind(pm.component_name(i))];
    k.first += pm.dynamic_pj(i) + pm.static_pj(i, end_ps);
    k.second += pm.area_um2(i);
    area_total += pm.area_um2(i);
  }
  Json ek = Json::object(), ak = Json::object();
  for (const auto& [k, v] : kinds) {
    ek[k] = v.first;
    ak[k] = v.second;
  }
  s["energy_by_kind_pj"] = ek;
  s["area_by_kind_um2"] = ak;
  s["area_um2"] = area_total;
  const auto adc_it = kinds.find("adc");
  Json share = Json::object();
  share["energy"] = adc_it != kinds.end() && total > 0 ? adc_it->second.first / total : 0.0;
  share["area"] = adc_it != kinds.end() && area_total > 0 ? adc_it->second.second / area_total : 0.0;
  s["adc_share"] = share;
  s["power_bin_ns"] = ns_at_ps(static_cast<double>(series.bin_ps()) / 1000.0);
  // signals.vcd's size cap (trace.vcd_max_mb): where the file stops recording, or null.
  if (out.vcd_truncated_at_ps >= 0)
    s["vcd_truncated_at_ns"] = ns_at_ps(static_cast<double>(out.vcd_truncated_at_ps) / 1000.0);
  else
    s["vcd_truncated_at_ns"] = trace::Json();
  Json events = Json::object();
  for (const auto& ev : out.power->events()) {
    Json e = Json::object();
    e["count"] = static_cast<double>(ev.count);
    e["pj_each"] = ev.pj_each;
    events[ev.component + "." + ev.name] = e;
  }
  s["energy_events"] = events;
  s["bus_transactions"] = static_cast<double>(out.bus_transactions);
  s["cpu_accesses"] = static_cast<double>(out.cpu_accesses);
  // Busy time per component (PMU busy counters; only blocks that report busy intervals).
  Json busy = Json::object();
  for (std::size_t i = 0; i < pm.component_count(); ++i)
    if (pm.busy_ps(i) > 0) busy[pm.component_name(i)] = static_cast<double>(pm.busy_ps_before(i, end_ps)) / 1000.0;
  s["busy_ns"] = busy;
  // Network flow metrics (images, accuracy, latency_ns_per_inference, tops, tops_per_w).
  for (const auto& [k, v] : r.metrics) s[k] = k.find("_ns") != std::string::npos ? ns_at_ps(v) : v;
  // The firmware's per-layer / per-phase figures from the PMU (run.log "perf:" lines).
  const PerfTable perf = parse_perf(out.console_log);
  if (!perf.rows.empty()) {
    Json layers = Json::array(), phases = Json::array();
    double ph_ns = 0, ph_pj = 0;
    for (const auto& row : perf.rows) {
      Json o = Json::object();
      if (row.kind == "layer") {
        o["index"] = static_cast<double>(std::strtoul(row.name.c_str(), nullptr, 10));
      } else {
        o["name"] = row.name;
      }
      for (std::size_t c = 0; c < perf.columns.size(); ++c) {
        const std::string key = perf.columns[c] == "count" ? (row.kind == "layer" ? "batches" : "count")
                                                           : perf_key(perf.columns[c]);
        o[key] = row.values[c];
        if (row.kind == "phase" && key == "time_ns") ph_ns += row.values[c];
        if (row.kind == "phase" && key == "energy_pj") ph_pj += row.values[c];
      }
      (row.kind == "layer" ? layers : phases).push_back(o);
    }
    if (perf.has_end) {
      // What the firmware could not meter: from its last mark to the end of the run (printing
      // the table, the exit). Phases then sum to sim_time_ns and energy_pj.
      Json o = Json::object();
      o["name"] = "after_last_mark";
      o["time_ns"] = r.sim_time_ns - perf.end_ns;
      o["energy_pj"] = total - perf.end_pj;
      o["source"] = "platform";
      phases.push_back(o);
      Json e = Json::object();
      e["time_ns"] = perf.end_ns;
      e["energy_pj"] = perf.end_pj;
      e["phases_time_ns"] = ph_ns;
      e["phases_energy_pj"] = ph_pj;
      s["perf_last_mark"] = e;
    }
    s["layers"] = layers;
    s["phases"] = phases;
  }
  // The ADC settings; the network flow replaces this with its calibration results.
  {
    Json a = Json::object();
    a["mode"] = sc.chip.adc.mode;
    a["bits"] = sc.chip.adc.bits;
    s["adc"] = a;
  }
  for (const auto& k : r.summary_extra.keys()) s[k] = r.summary_extra.at(k);
  write_text(dir + "/summary.json", s.dump(2) + "\n");

  std::ostringstream md;
  md << "# Run report: " << sc.name << "\n\n"
     << "| | |\n|---|---|\n"
     << "| scenario file | `" << sc.file << "` |\n"
     << "| tech table | " << sc.tech.name << " |\n"
     << "| seed | " << sc.seed << " |\n"
     << "| firmware | " << sc.firmware.app << ", exit code " << r.firmware_exit_code << " |\n"
     << "| simulated time | " << format_ns(r.sim_time_ps) << " ns |\n"
     << "| wall time | " << fmt(r.wall_seconds, 3) << " s |\n"
     << "| energy | " << fmt(total, 1) << " pJ |\n";
  if (!r.error.empty()) md << "| error | " << r.error << " |\n";
  md << "\n## Energy by " << (by_kind ? "kind" : "component") << "\n\n| " << (by_kind ? "kind" : "component")
     << " | energy (pJ) | share |\n|---|---:|---:|\n";
  for (std::size_t i = 0; i < series.component_count(); ++i) {
    double e = series.dynamic_pj(i) + series.static_pj(i, end_ps);
    md << "| " << series.component_name(i) << " | " << fmt(e, 1) << " | " << fmt(total > 0 ? 100 * e / total : 0, 1)
       << "% |\n";
  }
  if (by_kind)
    md << "\n" << pm.component_count() << " components (trace.power_series: kind); per component: "
       << "`energy_breakdown.csv`, `area_breakdown.csv`, summary.json.\n";
  if (r.metrics.count("latency_ns_per_inference") || r.metrics.count("tops")) {
    md << "\n## Performance\n\n| metric | value |\n|---|---:|\n";
    for (const auto& [k, v] : r.metrics) md << "| " << k << " | " << fmt(v, 4) << " |\n";
  }
  md << "\n## Energy and area by kind\n\n"
     << "| kind | energy (pJ) | energy share | area (um2) | area share |\n|---|---:|---:|---:|---:|\n";
  for (const auto& [k, v] : kinds)
    md << "| " << k << " | " << fmt(v.first, 1) << " | " << fmt(total > 0 ? 100 * v.first / total : 0, 1) << "% | "
       << fmt(v.second, 1) << " | " << fmt(area_total > 0 ? 100 * v.second / area_total : 0, 1) << "% |\n";
  md << "| **total** | " << fmt(total, 1) << " | 100% | " << fmt(area_total, 1) << " | 100% |\n";
  md << "\nADC share: " << fmt(100 * share.at("energy").as_double(), 2) << "% of energy, "
     << fmt(100 * share.at("area").as_double(), 2) << "% of area (tech `" << sc.tech.name << "`, ADC mode `"
     << sc.chip.adc.mode << "`, " << sc.chip.adc.bits << " bits).\n";
  if (!perf.rows.empty()) {
    md << "\n## Per-layer and per-phase figures (firmware, from the PMU)\n\n"
       << "Measured by the firmware (`perf:` lines of `run.log`; docs/energy.md): layers over every inference "
          "batch, phases back to back; `after_last_mark` is what the run spent after the firmware's last "
          "reading.\n\n| region |";
    for (const auto& c : perf.columns) md << " " << c << " |";
    md << "\n|---|";
    for (std::size_t c = 0; c < perf.columns.size(); ++c) md << "---:|";
    md << "\n";
    for (const auto& row : perf.rows) {
      md << "| " << row.kind << " " << row.name << " |";
      for (double v : row.values) md << " " << fmt(v, 3) << " |";
      md << "\n";
    }
    if (perf.has_end) {
      md << "| after_last_mark |";
      for (const auto& c : perf.columns)
        md << " " << (c == "time_ns" ? fmt(r.sim_time_ns - perf.end_ns, 3) : c == "energy_pJ" ? fmt(total - perf.end_pj, 3) : "")
           << " |";
      md << "\n";
    }
  }
  if (const Json* adc = s.find("adc"); adc && adc->contains("layers")) {
    md << "\n## ADC calibration (per layer)\n\n| layer | samples | MSE uniform | MSE Lloyd-Max | MSE achieved |\n"
          "|---:|---:|---:|---:|---:|\n";
    for (const auto& l : adc->at("layers").items()) {
      auto g = [&](const char* k) { return l.contains(k) && l.at(k).is_number() ? l.at(k).as_double() : 0.0; };
      md << "| " << g("layer") << " | " << g("samples") << " | " << fmt(g("mse_uniform"), 4) << " | "
         << fmt(g("mse_lloyd_max"), 4) << " | " << fmt(g("mse_achieved"), 4) << " |\n";
    }
    md << "\nMSE in digits^2 of the pre-ADC signal (docs/calibration.md); histograms with thresholds: `adc_layer<i>.png`.\n";
  }
  md << "\n## Energy events\n\n| event | count | pJ each | pJ |\n|---|---:|---:|---:|\n";
  if (by_kind) {  // summed over the components of a kind (same event, same energy each)
    std::map<std::string, std::pair<uint64_t, double>> ev_kind;
    std::vector<std::string> order;
    for (const auto& ev : out.power->events()) {
      const std::string key = power::component_kind(ev.component) + "." + ev.name;
      if (!ev_kind.count(key)) order.push_back(key);
      auto& e = ev_kind[key];
      e.first += ev.count;
      e.second = ev.pj_each;
    }
    for (const auto& key : order)
      if (ev_kind[key].first)
        md << "| " << key << " | " << ev_kind[key].first << " | " << fmt(ev_kind[key].second, 4) << " | "
           << fmt(ev_kind[key].second * static_cast<double>(ev_kind[key].first), 1) << " |\n";
  } else {
    for (const auto& ev : out.power->events())
      if (ev.count)
        md << "| " << ev.component << "." << ev.name << " | " << ev.count << " | " << fmt(ev.pj_each, 4) << " | "
           << fmt(ev.pj_each * static_cast<double>(ev.count), 1) << " |\n";
  }
  md << "\nPower trace: " << series.rows_for(end_ps) << " bins of " << power::ns_text(series.bin_ps())
     << " ns in `power.csv` / `power.vcd` / `trace.json` (counter `power_mW`).\n";
  const auto pngs = make_plots(dir);
  if (!pngs.empty()) {
    md << "\n## Plots\n\n";
    for (const auto& p : pngs) md << "![" << p << "](" << p << ")\n\n";
  }
  md << "\nFiles: `summary.json`, `signals.vcd`, `power.vcd`, `power.csv`, `trace.json`, "
        "`energy_breakdown.csv`, `area_breakdown.csv`, `run.log` (firmware console); see docs/outputs.md.\n";
  write_text(dir + "/report.md", md.str());
}

}  // namespace cimvp
