#include "platform/soc/outputs.hpp"

#include <fstream>
#include <iomanip>
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

}  // namespace

void write_run_outputs(const std::string& dir, const RunOutputs& out) {
  const auto& sc = *out.scenario;
  const auto& r = *out.result;
  auto& pm = out.power->core();
  const uint64_t end_ps = static_cast<uint64_t>(r.sim_time_ns * 1000.0 + 0.5);

  pm.write_power_csv(dir + "/power.csv", end_ps);
  pm.write_power_vcd(dir + "/power.vcd", end_ps);
  pm.write_energy_breakdown_csv(dir + "/energy_breakdown.csv", end_ps);
  pm.write_area_breakdown_csv(dir + "/area_breakdown.csv");
  write_text(dir + "/run.log", out.console_log);

  using trace::Json;
  Json s = Json::object();
  s["scenario"] = sc.name;
  s["scenario_file"] = sc.file;
  s["tech"] = sc.tech.name;
  s["seed"] = static_cast<double>(sc.seed);
  s["firmware_app"] = sc.firmware.app;
  s["firmware_exit_code"] = static_cast<double>(r.firmware_exit_code);
  s["exit_status"] = static_cast<double>(r.exit_status);
  s["error"] = r.error;
  s["sim_time_ns"] = r.sim_time_ns;
  s["wall_seconds"] = r.wall_seconds;
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
  // Network flow metrics (images, accuracy, latency_ns_per_inference, tops, tops_per_w).
  for (const auto& [k, v] : r.metrics) s[k] = v;
  write_text(dir + "/summary.json", s.dump(2) + "\n");

  std::ostringstream md;
  md << "# Run report: " << sc.name << "\n\n"
     << "| | |\n|---|---|\n"
     << "| scenario file | `" << sc.file << "` |\n"
     << "| tech table | " << sc.tech.name << " |\n"
     << "| seed | " << sc.seed << " |\n"
     << "| firmware | " << sc.firmware.app << ", exit code " << r.firmware_exit_code << " |\n"
     << "| simulated time | " << fmt(r.sim_time_ns, 1) << " ns |\n"
     << "| wall time | " << fmt(r.wall_seconds, 3) << " s |\n"
     << "| energy | " << fmt(total, 1) << " pJ |\n";
  if (!r.error.empty()) md << "| error | " << r.error << " |\n";
  md << "\n## Energy by component\n\n| component | energy (pJ) | share |\n|---|---:|---:|\n";
  for (std::size_t i = 0; i < pm.component_count(); ++i) {
    double e = pm.dynamic_pj(i) + pm.static_pj(i, end_ps);
    md << "| " << pm.component_name(i) << " | " << fmt(e, 1) << " | " << fmt(total > 0 ? 100 * e / total : 0, 1)
       << "% |\n";
  }
  md << "\nFiles: `summary.json`, `signals.vcd`, `power.vcd`, `power.csv`, `trace.json`, "
        "`energy_breakdown.csv`, `area_breakdown.csv`, `run.log` (firmware console).\n";
  write_text(dir + "/report.md", md.str());
}

}  // namespace cimvp
