// A network run with tiles and Q-cell ADCs (the embedded default scenario, cut to a few images):
// energy conservation of power.csv, the PMU's counters against the monitor, the firmware's
// per-layer / per-phase table (run.log `perf:` lines, summary.json `layers` / `phases`) against
// the power monitor's totals and against closed forms, the ADC calibration files, the ADC
// conversion slices of trace.json, and the tile periphery energy spread over each batch.
// Skips without the Fashion-MNIST package (dataset-fashion-mnist).
#include "tests/support/sc_test_main.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cimvp/regs.h"
#include "models/crossbar/tile.hpp"
#include "models/pmu/pmu.hpp"
#include "platform/config/scenario.hpp"
#include "platform/dataset/idx.hpp"
#include "platform/netrun/netrun.hpp"
#include "platform/power/power_monitor.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/soc/soc.hpp"
#include "platform/trace/json.hpp"
#include "tests/support/temp_dir.hpp"

CIMVP_SC_TEST_MAIN

using cimvp::trace::Json;

namespace {

// Per process: ctest -j runs this executable's test cases as parallel processes, and a shared
// folder let one run truncate plots.log while another read it.
const std::string kOut = cimvp_test::temp_dir().file("power_e2e_net_out");
constexpr int kImages = 8;
constexpr int kMaxAdcSlices = 40;

struct Run {
  bool skipped = false;
  cimvp::config::Scenario scenario;
  cimvp::RunResult result;
  // Read inside after_run, while the SoC exists.
  std::vector<std::string> comp_names;
  std::vector<double> comp_total_pj, comp_leak_uw;
  std::vector<uint64_t> pmu_fj, pmu_busy_ps, monitor_busy_ps;
  std::map<std::string, std::vector<double>> dyn_bins;  // component -> dynamic pJ per bin
  uint64_t end_ps = 0, bin_ps = 0;
  uint64_t tile_conversions = 0;
  unsigned tiles = 0;
  std::vector<float> thresh0;  // ADC_THRESH of tile 0 (layer 0's first tile)
};

bool have_dataset() {
  return std::filesystem::exists(std::string(cimvp::dataset::kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz");
}

Run& run_once() {
  static Run r = [] {
    Run x;
    if (!have_dataset()) {
      x.skipped = true;
      return x;
    }
    cimvp::config::LoadOptions lo;
    lo.overrides = {"dataset.images=" + std::to_string(kImages), "calibration.images=8", "calibration.samples=8192",
                    "sim.power_bin_ns=20000", "chip.program.mode=ideal", "trace.max_adc_slices=" + std::to_string(kMaxAdcSlices)};
    x.scenario = cimvp::config::load_scenario("", lo);  // the embedded default
    cimvp::RunOptions ro;
    ro.out_dir = kOut;
    ro.echo_console = false;
    std::filesystem::create_directories(kOut);
    Run* px = &x;
    ro.after_run = [px](cimvp::Soc& soc, cimvp::RunResult& res) {
      auto& pm = soc.context().power.core();
      px->end_ps = static_cast<uint64_t>(res.sim_time_ns * 1000.0 + 0.5);
      cimvp::Pmu* pmu = nullptr;
      for (const auto& e : soc.context().scenario.memory_map) {
        if (e.block == "pmu") pmu = dynamic_cast<cimvp::Pmu*>(soc.module(e.name));
        if (e.block == "tile") {
          auto* t = dynamic_cast<cimvp::Tile*>(soc.module(e.name));
          REQUIRE(t);
          auto& regs = t->regs();
          px->tile_conversions += regs.find(TILE_CONV_LO)->on_read() | (uint64_t(regs.find(TILE_CONV_HI)->on_read()) << 32);
          if (px->tiles++ == 0) {
            for (unsigned k = 0; k + 1 < 16; ++k) {
              uint32_t u = t->adc().regs().read_value(ADC_THRESH(k));
              float f;
              std::memcpy(&f, &u, 4);
              px->thresh0.push_back(f);
            }
          }
        }
      }
      REQUIRE(pmu);
      pmu->snapshot(px->end_ps);
      pm.rows_for(px->end_ps);
      px->bin_ps = pm.bin_ps();
      for (std::size_t i = 0; i < pm.component_count(); ++i) {
        px->comp_names.push_back(pm.component_name(i));
        px->comp_total_pj.push_back(pm.dynamic_pj(i) + pm.static_pj(i, px->end_ps));
        px->comp_leak_uw.push_back(pm.leakage_uw(i));
        px->pmu_fj.push_back(pmu->counters().energy_fj(i));
        px->pmu_busy_ps.push_back(pmu->counters().busy_ps(i));
        px->monitor_busy_ps.push_back(pm.busy_ps_before(i, px->end_ps));
        auto& b = px->dyn_bins[pm.component_name(i)];
        for (std::size_t k = 0; k < pm.bin_count(); ++k) b.push_back(pm.bin_dynamic_pj(i, k));
      }
    };
    x.result = cimvp::netrun::run_scenario(x.scenario, ro, false);
    return x;
  }();
  return r;
}

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream f(path);
  REQUIRE(f.good());
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(f, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, ',')) cells.push_back(c);
    rows.push_back(cells);
  }
  return rows;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The firmware's table as it printed it (run.log), parsed here independently of outputs.cpp.
struct PerfRow {
  std::string kind, name;
  std::map<std::string, double> v;
};
std::vector<PerfRow> perf_rows(const std::string& log, double& end_ns, double& end_pj) {
  std::vector<PerfRow> rows;
  std::vector<std::string> cols;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("perf: ", 0) != 0) continue;
    std::istringstream ls(line.substr(6));
    std::vector<std::string> w;
    for (std::string t; ls >> t;) w.push_back(t);
    if (w[0] == "kind") {
      cols = w;
    } else if (w[0] == "end") {
      end_ns = std::stod(w[1]);
      end_pj = std::stod(w[2]);
    } else if (w[0] == "phase" || w[0] == "layer") {
      REQUIRE(w.size() == cols.size());
      PerfRow r{w[0], w[1], {}};
      for (std::size_t i = 2; i < w.size(); ++i) r.v[cols[i]] = std::stod(w[i]);
      rows.push_back(r);
    }
  }
  return rows;
}

#define SKIP_WITHOUT_DATASET()                                          \
  auto& r = run_once();                                                 \
  if (r.skipped) {                                                      \
    WARN("Fashion-MNIST not installed (dataset-fashion-mnist); skipped"); \
    return;                                                             \
  }                                                                     \
  INFO(r.result.error);                                                 \
  REQUIRE(r.result.exit_status == 0)

}  // namespace

TEST_CASE("network run: the run passes with tiles, ADCs and a PMU") {
  SKIP_WITHOUT_DATASET();
  CHECK(r.result.firmware_exit_code == 0);
  CHECK(r.tiles > 4);
  Json s = Json::parse_file(kOut + "/summary.json");
  CHECK(s.at("images").as_double() == kImages);
  CHECK(s.at("adc_share").at("energy").as_double() > 0);
}

TEST_CASE("network run: sum over power.csv bins x bin width == total energy, per component too (1e-9)") {
  SKIP_WITHOUT_DATASET();
  auto rows = read_csv(kOut + "/power.csv");
  REQUIRE(rows.size() > 10);
  const auto& head = rows[0];
  const double w_ns = std::stod(rows[2][0]) - std::stod(rows[1][0]);
  CHECK(w_ns * 1000 == Approx(static_cast<double>(r.bin_ps)));
  std::vector<long double> per(head.size(), 0);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    REQUIRE(rows[i].size() == head.size());
    for (std::size_t c = 1; c < head.size(); ++c) per[c] += std::stold(rows[i][c]);
  }
  const double total = Json::parse_file(kOut + "/summary.json").at("energy_pj").as_double();
  REQUIRE(total > 0);
  CHECK(std::fabs(static_cast<double>(per.back() * w_ns) - total) <= 1e-9 * total);
  for (std::size_t c = 1; c + 1 < head.size(); ++c) {
    const std::string name = head[c].substr(0, head[c].size() - 3);
    INFO(name);
    std::size_t i = std::find(r.comp_names.begin(), r.comp_names.end(), name) - r.comp_names.begin();
    REQUIRE(i < r.comp_names.size());
    CHECK(std::fabs(static_cast<double>(per[c] * w_ns) - r.comp_total_pj[i]) <= 1e-9 * std::max(r.comp_total_pj[i], 1e-3 * total));
  }
}

TEST_CASE("network run: per-component totals equal the PMU counters, busy counters equal the monitor's") {
  SKIP_WITHOUT_DATASET();
  REQUIRE(!r.comp_names.empty());
  int busy_components = 0;
  for (std::size_t i = 0; i < r.comp_names.size(); ++i) {
    INFO(r.comp_names[i]);
    CHECK(r.pmu_fj[i] == cimvp::pmu::pj_to_fj(r.comp_total_pj[i]));
    CHECK(r.pmu_busy_ps[i] == r.monitor_busy_ps[i]);
    CHECK(r.pmu_busy_ps[i] <= r.end_ps);
    busy_components += r.pmu_busy_ps[i] > 0;
  }
  // Every tile's array, periphery and ADC bank, the DMA, the DPU and the programmed cells.
  CHECK(busy_components >= static_cast<int>(3 * r.tiles + 2));
  Json s = Json::parse_file(kOut + "/summary.json");
  CHECK(s.at("busy_ns").at("tile0.array").as_double() * 1000 ==
        Approx(static_cast<double>(r.pmu_busy_ps[std::find(r.comp_names.begin(), r.comp_names.end(), "tile0.array") -
                                                 r.comp_names.begin()])));
}

TEST_CASE("network run: the firmware's per-layer and per-phase figures add up to the power monitor's totals") {
  SKIP_WITHOUT_DATASET();
  double end_ns = -1, end_pj = -1;
  const auto rows = perf_rows(slurp(kOut + "/run.log"), end_ns, end_pj);
  Json s = Json::parse_file(kOut + "/summary.json");
  const double total = s.at("energy_pj").as_double(), sim_ns = s.at("sim_time_ns").as_double();
  REQUIRE(end_ns > 0);
  // Phases, back to back from time 0 to the firmware's last mark.
  std::map<std::string, PerfRow> phase;
  std::vector<PerfRow> layers;
  for (const auto& p : rows) (p.kind == "phase" ? phase[p.name] : (layers.push_back(p), layers.back())) = p;
  for (const char* n : {"boot", "program", "calibrate", "infer"}) REQUIRE(phase.count(n));
  long double ph_pj = 0, ph_ns = 0, ph_conv = 0;
  for (const auto& [n, p] : phase) {
    ph_pj += p.v.at("energy_pJ");
    ph_ns += p.v.at("time_ns");
    ph_conv += p.v.at("conversions");
  }
  // Integer fJ / ps printed exactly: the sums are exact up to double rounding.
  CHECK(std::fabs(static_cast<double>(ph_pj) - end_pj) <= 1e-12 * end_pj);
  CHECK(std::fabs(static_cast<double>(ph_ns) - end_ns) <= 1e-12 * end_ns);
  // The rest of the run (printing the table, the exit) is what the platform adds.
  const auto& sp = s.at("phases");
  REQUIRE(sp.size() == 5);
  const Json& tail = sp.at(4);
  CHECK(tail.at("name").as_string() == "after_last_mark");
  long double sum_pj = 0, sum_ns = 0;
  for (const auto& p : sp.items()) {
    sum_pj += p.at("energy_pj").as_double();
    sum_ns += p.at("time_ns").as_double();
  }
  CHECK(std::fabs(static_cast<double>(sum_pj) - total) <= 1e-9 * total);
  CHECK(std::fabs(static_cast<double>(sum_ns) - sim_ns) <= 1e-9 * sim_ns);
  CHECK(tail.at("energy_pj").as_double() >= 0);
  CHECK(tail.at("energy_pj").as_double() < 1e-3 * total);  // a few console lines
  // The firmware's last mark against the monitor: its PMU total, taken at end_ns, can only
  // fall short of the run's total by the tail.
  CHECK(end_pj <= total);
  // Every ADC conversion of the run happened in a metered phase.
  CHECK(static_cast<double>(ph_conv) == static_cast<double>(r.tile_conversions));

  // Layers: summary.json carries what run.log says; they lie inside the infer phase.
  const auto& sl = s.at("layers");
  REQUIRE(sl.size() == layers.size());
  REQUIRE(layers.size() >= 3);
  long double l_pj = 0, l_ns = 0, l_conv = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    INFO("layer " << i);
    const auto& L = layers[i];
    const Json& j = sl.at(i);
    CHECK(j.at("index").as_double() == static_cast<double>(i));
    CHECK(j.at("time_ns").as_double() == L.v.at("time_ns"));
    CHECK(j.at("energy_pj").as_double() == L.v.at("energy_pJ"));
    CHECK(j.at("adc_pj").as_double() == L.v.at("adc_pJ"));
    CHECK(j.at("conversions").as_double() == L.v.at("conversions"));
    CHECK(j.at("batches").as_double() == 1);  // 8 images: one batch
    CHECK(L.v.at("conversions") > 0);
    CHECK(L.v.at("adc_pJ") > 0);
    CHECK(L.v.at("adc_pJ") + L.v.at("array_pJ") + L.v.at("periphery_pJ") < L.v.at("energy_pJ"));
    CHECK(L.v.at("array_busy_ns") > 0);
    l_pj += L.v.at("energy_pJ");
    l_ns += L.v.at("time_ns");
    l_conv += L.v.at("conversions");
  }
  CHECK(static_cast<double>(l_pj) < phase.at("infer").v.at("energy_pJ"));
  CHECK(static_cast<double>(l_ns) < phase.at("infer").v.at("time_ns"));
  CHECK(static_cast<double>(l_conv) == phase.at("infer").v.at("conversions"));
  CHECK(phase.at("program").v.at("conversions") == 0);  // weights set directly (program.mode: ideal)
  CHECK(phase.at("calibrate").v.at("conversions") > 0);
}

TEST_CASE("network run: a layer's ADC energy is its conversions x energy per conversion + its banks' leakage") {
  SKIP_WITHOUT_DATASET();
  double end_ns = 0, end_pj = 0;
  const auto rows = perf_rows(slurp(kOut + "/run.log"), end_ns, end_pj);
  // 4-bit Q-cell (tech/rram22-qcell.yaml): c0 + per_level x 16, pJ per conversion.
  const double e_conv = r.scenario.tech.adc.qcell.energy_pj.at(4);
  CHECK(e_conv == Approx(0.00128 + 16 * 0.000353125));
  std::map<unsigned, double> leak;  // tile -> its ADC bank's leakage, uW
  for (std::size_t i = 0; i < r.comp_names.size(); ++i) {
    const auto& n = r.comp_names[i];
    if (n.size() > 8 && n.compare(0, 4, "tile") == 0 && n.compare(n.size() - 4, 4, "_adc") == 0)
      leak[static_cast<unsigned>(std::stoul(n.substr(4)))] = r.comp_leak_uw[i];
  }
  // The layers' tiles, from the calibration groups (group: layer).
  const Json summary = Json::parse_file(kOut + "/summary.json");
  const Json& groups = summary.at("adc").at("layers");
  int checked = 0;
  for (const auto& p : rows) {
    if (p.kind != "layer") continue;
    const Json& g = groups.at(static_cast<std::size_t>(std::stoul(p.name)));
    REQUIRE(g.at("layer").as_double() == std::stod(p.name));
    const unsigned t0 = static_cast<unsigned>(g.at("tile").as_double()), nt = static_cast<unsigned>(g.at("tiles").as_double());
    double leak_uw = 0;
    for (unsigned t = t0; t < t0 + nt; ++t) leak_uw += leak.at(t);
    const double batches = p.v.at("count");
    // uW x ns = 1e-3 pJ; each mark rounds each bank to 1 fJ.
    const double want = p.v.at("conversions") * e_conv + leak_uw * p.v.at("time_ns") * 1e-3;
    INFO("layer " << p.name << ": " << nt << " tiles, " << p.v.at("conversions") << " conversions");
    CHECK(std::fabs(p.v.at("adc_pJ") - want) <= 1e-3 * nt * batches + 1e-9 * want);
    ++checked;
  }
  CHECK(checked >= 3);
}

TEST_CASE("network run: ADC calibration files, summary adc block and histograms") {
  SKIP_WITHOUT_DATASET();
  Json s = Json::parse_file(kOut + "/summary.json");
  const Json& adc = s.at("adc");
  CHECK(adc.at("mode").as_string() == "qcell");
  CHECK(adc.at("bits").as_double() == 4);
  const auto& layers = adc.at("layers");
  REQUIRE(layers.size() >= 3);
  for (std::size_t g = 0; g < layers.size(); ++g) {
    const Json& l = layers.at(g);
    INFO("group " << g);
    CHECK(l.at("mse_lloyd_max").as_double() > 0);
    CHECK(l.at("mse_achieved").as_double() > 0);
    const std::string name = "layer" + std::to_string(static_cast<int>(l.at("layer").as_double()));
    CHECK(l.at("files").as_string() == "adc_capture_" + name + ".csv");
    auto cap = read_csv(kOut + "/adc_capture_" + name + ".csv");
    CHECK(cap[0][0] == "sample_digits");
    CHECK(cap.size() - 1 == std::min<std::size_t>(16384, static_cast<std::size_t>(l.at("samples").as_double())));
    auto th = read_csv(kOut + "/adc_thresholds_" + name + ".csv");
    CHECK(th[0] == std::vector<std::string>{"kind", "index", "value"});
    std::map<std::string, std::vector<double>> k;
    for (std::size_t i = 1; i < th.size(); ++i) k[th[i][0]].push_back(std::stod(th[i][2]));
    REQUIRE(k["uniform"].size() == 15);
    REQUIRE(k["uniform_level"].size() == 16);
    CHECK(k["lloyd_max"].size() == 15);
    CHECK(k["lloyd_max_level"].size() == 16);
    CHECK(k["achieved_edge"].size() == 32);
    // Mid-tread: level 8 of 16 is exactly 0, levels evenly spaced, thresholds halfway.
    const auto& ul = k["uniform_level"];
    CHECK(ul[8] == 0.0);
    const double lsb = ul[9] - ul[8];
    CHECK(lsb > 0);
    for (int i = 0; i < 16; ++i) CHECK(ul[i] == Approx((i - 8) * lsb));
    for (int i = 0; i < 15; ++i) CHECK(k["uniform"][i] == Approx(ul[i] + lsb / 2));
    if (g == 0)
      for (int i = 0; i < 15; ++i) CHECK(k["lloyd_max"][i] == Approx(r.thresh0[i]).epsilon(1e-6));
  }
  // Plots, when Debian's python3 has matplotlib (plots.log says why not).
  if (std::filesystem::exists(kOut + "/power.png")) {
    CHECK(std::filesystem::exists(kOut + "/adc_layer0.png"));
    const std::string log = slurp(kOut + "/plots.log");
    CHECK_THAT(log, Catch::Contains("adc layer0:"));
    CHECK_THAT(slurp(kOut + "/report.md"), Catch::Contains("adc_layer0.png"));
  }
  CHECK_THAT(slurp(kOut + "/report.md"), Catch::Contains("## Per-layer and per-phase figures"));
  CHECK_THAT(slurp(kOut + "/report.md"), Catch::Contains("## ADC calibration (per layer)"));
}

TEST_CASE("network run: trace.json has bounded ADC conversion slices inside the tile batches") {
  SKIP_WITHOUT_DATASET();
  Json t = Json::parse_file(kOut + "/trace.json");
  std::map<int, std::string> proc;  // pid -> process name
  std::map<std::pair<int, int>, std::string> thread;
  for (const auto& e : t.at("traceEvents").items()) {
    if (e.at("ph").as_string() != "M") continue;
    const int pid = static_cast<int>(e.at("pid").as_double()), tid = static_cast<int>(e.at("tid").as_double());
    if (e.at("name").as_string() == "process_name") proc[pid] = e.at("args").at("name").as_string();
    if (e.at("name").as_string() == "thread_name") thread[{pid, tid}] = e.at("args").at("name").as_string();
  }
  std::map<std::string, std::vector<std::pair<double, double>>> batches;  // tile -> [ts, ts+dur]
  std::vector<std::pair<std::string, std::pair<double, double>>> adc;
  uint64_t adc_conversions = 0;
  for (const auto& e : t.at("traceEvents").items()) {
    if (e.at("ph").as_string() != "X") continue;
    const int pid = static_cast<int>(e.at("pid").as_double()), tid = static_cast<int>(e.at("tid").as_double());
    const double ts = e.at("ts").as_double(), dur = e.at("dur").as_double();
    if (e.at("cat").as_string() == "tile") batches[thread[{pid, tid}]].push_back({ts, ts + dur});
    if (e.at("cat").as_string() == "adc") {
      CHECK(proc[pid] == "adc");
      CHECK(e.at("name").as_string() == "conversions");
      adc.push_back({thread[{pid, tid}], {ts, ts + dur}});
      adc_conversions += e.at("args").at("conversions").as_uint64();
      CHECK(e.at("args").at("bits").as_double() == 4);
    }
  }
  std::size_t n_batches = 0;
  for (const auto& [k, v] : batches) n_batches += v.size();
  REQUIRE(n_batches > kMaxAdcSlices);            // so the cap is what limits the ADC slices
  CHECK(adc.size() == kMaxAdcSlices);             // trace.max_adc_slices
  CHECK(adc_conversions > 0);
  for (const auto& [bank, iv] : adc) {
    INFO(bank << " " << iv.first);
    REQUIRE(bank.size() > 4);
    const std::string tile = bank.substr(0, bank.size() - 4);  // tile3_adc -> tile3
    bool inside = false;
    for (const auto& b : batches[tile]) inside = inside || (iv.first >= b.first - 1e-6 && iv.second <= b.second + 1e-6);
    CHECK(inside);
  }
}

TEST_CASE("network run: tile periphery energy is spread over each batch like the array's") {
  SKIP_WITHOUT_DATASET();
  int tiles_checked = 0;
  for (unsigned t = 0; t < r.tiles; ++t) {
    const auto& a = r.dyn_bins.at("tile" + std::to_string(t) + ".array");
    const auto& p = r.dyn_bins.at("tile" + std::to_string(t) + ".periphery");
    REQUIRE(a.size() == p.size());
    std::size_t bins_a = 0, mismatched = 0;
    for (std::size_t k = 0; k < a.size(); ++k) {
      bins_a += a[k] > 0;
      mismatched += (a[k] > 0) != (p[k] > 0);
    }
    INFO("tile" << t << ": " << bins_a << " bins with array energy");
    CHECK(mismatched == 0);
    tiles_checked += bins_a > 1;  // a batch spans several 20 us bins
  }
  CHECK(tiles_checked > 0);
}
