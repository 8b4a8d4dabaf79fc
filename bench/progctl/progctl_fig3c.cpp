// Reproduces the paper's Fig. 3c experiment with the platform's write model: 7 targets
// (100..400 uS, 50 uS steps), 64 devices each, write-verify from the platform's fresh-cell
// state, and prints the per-target final-error standard deviation (ddof = 1) next to
// fig3_3c_variation.csv when the paper's source data is present (../shared/reference/readc).
// The device model, pulse schedule, tolerance and start state are the ones the platform uses:
// the tech table's program.device / program.write_verify of the scenario (default: the
// embedded default scenario). Usage:
//   progctl_fig3c [seed] [devices_per_target] [scenario=FILE] [readc=DIR] [key=value ...]
// keys (for exploring the calibration): g_min g_max alpha_set alpha_reset sigma_mult sigma_add
// tol v_step start (initial conductance of the fresh devices, default program.device.g_fresh_us)
#include "models/progctl/write_verify.hpp"
#include "platform/config/scenario.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#ifndef CIMVP_READC_DIR
#define CIMVP_READC_DIR ""
#endif

using namespace cimvp::progctl;

// The scenario loader lives in the platform library, which links SystemC; this tool
// elaborates no module, but libsystemc still needs an sc_main symbol.
extern "C" int sc_main(int, char*[]) { return 0; }

int main(int argc, char** argv) {
  const std::uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : 2025;
  const int devices = argc > 2 ? std::atoi(argv[2]) : 64;
  if (devices < 2) {
    std::fprintf(stderr, "devices_per_target must be >= 2\n");
    return 2;
  }
  std::string scenario, readc = CIMVP_READC_DIR;
  for (int a = 3; a < argc; ++a) {
    if (std::string(argv[a]).rfind("scenario=", 0) == 0) scenario = argv[a] + 9;
    if (std::string(argv[a]).rfind("readc=", 0) == 0) readc = argv[a] + 6;
  }
  cimvp::config::Scenario sc;
  try {
    sc = cimvp::config::load_scenario(scenario);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  DeviceParams dp = sc.tech.program.device;
  WriteVerifyParams wv = sc.tech.program.write_verify;
  wv.tolerance_us = sc.chip.program.tolerance_us;
  wv.max_pulses = sc.chip.program.max_pulses;
  wv.scheme = sc.chip.program.scheme == "fixed" ? PulseScheme::Fixed : PulseScheme::Ispp;
  double start = sc.tech.program.fresh_g_us;
  for (int a = 3; a < argc; ++a) {
    std::string kv = argv[a];
    const auto eq = kv.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "argument '%s' is not key=value\n", argv[a]);
      return 2;
    }
    const std::string k = kv.substr(0, eq);
    const double v = std::atof(kv.c_str() + eq + 1);
    if (k == "scenario" || k == "readc") continue;
    if (k == "g_min") dp.g_min_us = v;
    else if (k == "g_max") dp.g_max_us = v;
    else if (k == "alpha_set") dp.set.alpha_us = v;
    else if (k == "alpha_reset") dp.reset.alpha_us = v;
    else if (k == "sigma_mult") dp.sigma_mult = v;
    else if (k == "sigma_add") dp.sigma_add_us = v;
    else if (k == "tol") wv.tolerance_us = v;
    else if (k == "v_step") wv.set.v_step = wv.reset.v_step = v;
    else if (k == "start") start = v;
    else {
      std::fprintf(stderr, "unknown key '%s'\n", k.c_str());
      return 2;
    }
  }
  Programmer prog(dp, wv);

  std::map<int, double> paper;
  std::ifstream in(readc + "/fig3_3c_variation.csv");
  std::string line;
  if (in && std::getline(in, line)) {
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string a, b;
      if (std::getline(ls, a, ',') && std::getline(ls, b, ','))
        paper[std::stoi(a)] = std::stod(b);
    }
  }

  // Fresh devices start in the tech table's formed, high-resistance state (g_fresh_us).
  std::vector<ProgramEntry> entries;
  for (int t = 100; t <= 400; t += 50)
    for (int d = 0; d < devices; ++d)
      entries.push_back({static_cast<std::uint32_t>(entries.size()), double(t)});
  CellArray cells(entries.size(), start);
  std::vector<CellResult> res;
  const BatchTotals tot = prog.program_batch(cells, entries, res, seed);

  std::printf("| target (uS) | model sigma (uS) | paper sigma (uS) | model mean err (uS) | "
              "max abs err (uS) | mean pulses |\n|---|---|---|---|---|---|\n");
  double sum_sd = 0, sum_paper = 0;
  for (int ti = 0; ti < 7; ++ti) {
    const int t = 100 + 50 * ti;
    double s = 0, s2 = 0, mx = 0, p = 0;
    for (int d = 0; d < devices; ++d) {
      const CellResult& r = res[ti * devices + d];
      s += r.final_error_us;
      mx = std::max(mx, std::fabs(r.final_error_us));
      p += r.pulses();
    }
    const double mean = s / devices;
    for (int d = 0; d < devices; ++d) {
      const double e = res[ti * devices + d].final_error_us - mean;
      s2 += e * e;
    }
    const double sd = std::sqrt(s2 / (devices - 1));
    sum_sd += sd;
    const auto it = paper.find(t);
    if (it != paper.end()) sum_paper += it->second;
    char pbuf[32] = "n/a";
    if (it != paper.end()) std::snprintf(pbuf, sizeof pbuf, "%.2f", it->second);
    std::printf("| %d | %.2f | %s | %+.2f | %.2f | %.1f |\n", t, sd, pbuf, mean, mx,
                p / devices);
  }
  std::printf("| mean | %.2f | %s | | | %.1f |\n", sum_sd / 7,
              paper.size() == 7 ? std::to_string(sum_paper / 7).substr(0, 4).c_str() : "n/a",
              double(tot.pulses()) / tot.entries);
  std::printf("\nseed %llu, %d devices/target: %llu pulses (%llu SET, %llu RESET), %llu verify "
              "reads, %llu failures\n",
              (unsigned long long)seed, devices, (unsigned long long)tot.pulses(),
              (unsigned long long)tot.set_pulses, (unsigned long long)tot.reset_pulses,
              (unsigned long long)tot.verify_reads, (unsigned long long)tot.failures);
  std::printf("tech table %s, start %.1f uS (program.device.g_fresh_us), tolerance %.2f uS\n", sc.tech.file.c_str(),
              start, wv.tolerance_us);
  return 0;
}
