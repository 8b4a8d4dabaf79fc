// The `cimvp` command line (DESIGN.md section 5). Exit codes: 0 success, 1 simulation or
// firmware fault, 2 usage or input error.
#include <systemc>

#include <boost/program_options.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

#if __has_include("models/adc/lloyd_max_cli.hpp")
#include "models/adc/lloyd_max_cli.hpp"
#define CIMVP_HAVE_LLOYD_MAX 1
#endif
#include "platform/config/scenario.hpp"
#include "platform/cpu/host_cpu.hpp"
#include "platform/soc/soc.hpp"

namespace po = boost::program_options;

namespace {

// Before SystemC's first use: its banner would otherwise open every run's output.
const int kNoBanner = setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);

constexpr const char* kVersion = "0.1.0";

const char* kUsage =
    "usage: cimvp COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  run [SCENARIO.yaml]   simulate the chip running its firmware (default: the embedded\n"
    "                        default scenario) and write outputs to out/<scenario>/\n"
    "  lloyd-max             Lloyd-Max quantiser of a sample file (thresholds, levels, MSE)\n"
    "  memory-map [SCENARIO] print the bus address map (and registers with --registers)\n"
    "\n"
    "  cimvp COMMAND --help  help for one command\n"
    "  cimvp --version       version\n"
    "\n"
    "exit codes: 0 success, 1 simulation or firmware fault, 2 usage or input error\n";

int usage_error(const std::string& msg) {
  std::cerr << "cimvp: " << msg << "\n(see cimvp --help)\n";
  return 2;
}

struct Quiet {
  bool on = false;
};

void configure_reports(bool quiet) {
  using namespace sc_core;
  // Firmware console and block messages are SC_INFO; --quiet keeps only errors.
  sc_report_handler::set_actions(SC_INFO, quiet ? SC_DO_NOTHING : SC_DISPLAY);
  sc_report_handler::set_actions(SC_WARNING, quiet ? SC_LOG : SC_DISPLAY | SC_LOG);
  // An SC_ERROR stops the run through an exception the command turns into exit 1.
  sc_report_handler::set_actions(SC_ERROR, SC_DISPLAY | SC_THROW);
  // Deprecation chatter from the SystemC library itself is not the user's concern.
  sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", SC_DO_NOTHING);
}

int cmd_run(const std::vector<std::string>& args) {
  po::options_description opts("cimvp run [SCENARIO.yaml] [options]");
  std::vector<std::string> sets;
  std::string out_dir;
  uint64_t seed = 0;
  uint64_t images = 0;
  opts.add_options()("help,h", "this help")("out", po::value(&out_dir), "output folder (default out/<scenario-name>)")(
      "set", po::value(&sets)->composing(), "override a scenario key: --set a.b.c=VALUE (repeatable)")(
      "seed", po::value(&seed), "override the scenario seed")("images", po::value(&images),
                                                              "number of test images to infer")(
      "quiet", "print errors only");
  po::options_description hidden;
  std::vector<std::string> positional;
  hidden.add_options()("scenario", po::value(&positional));
  po::positional_options_description pos;
  pos.add("scenario", -1);
  po::options_description all;
  all.add(opts).add(hidden);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts << "\nWithout SCENARIO the embedded default scenario runs.\n";
    return 0;
  }
  if (positional.size() > 1) return usage_error("run takes at most one scenario file");
  bool quiet = vm.count("quiet") != 0;
  configure_reports(quiet);

  cimvp::config::LoadOptions lo;
  lo.overrides = sets;
  if (vm.count("seed")) {
    lo.has_seed = true;
    lo.seed = seed;
  }
  if (vm.count("images"))
    return usage_error("--images: this build's scenarios run no dataset yet (the network flow is not built)");
  auto scenario = cimvp::config::load_scenario(positional.empty() ? "" : positional[0], lo);
  if (out_dir.empty()) out_dir = "out/" + scenario.name;

  cimvp::RunOptions ro;
  ro.out_dir = out_dir;
  ro.echo_console = !quiet;
  cimvp::Soc soc(scenario, ro);
  auto r = soc.run();
  if (!r.error.empty()) std::cerr << "cimvp: " << r.error << "\n";
  if (!quiet)
    std::cerr << "cimvp: scenario '" << scenario.name << "' " << (r.exit_status == 0 ? "passed" : "FAILED")
              << ": firmware exit " << r.firmware_exit_code << ", " << r.sim_time_ns << " ns simulated in "
              << r.wall_seconds << " s; outputs in " << out_dir << "/\n";
  return r.exit_status;
}

int cmd_memory_map(const std::vector<std::string>& args) {
  po::options_description opts("cimvp memory-map [SCENARIO.yaml] [options]");
  std::vector<std::string> sets;
  opts.add_options()("help,h", "this help")("registers", "also list every block's registers")(
      "set", po::value(&sets)->composing(), "override a scenario key");
  po::options_description hidden;
  std::vector<std::string> positional;
  hidden.add_options()("scenario", po::value(&positional));
  po::positional_options_description pos;
  pos.add("scenario", -1);
  po::options_description all;
  all.add(opts).add(hidden);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (positional.size() > 1) return usage_error("memory-map takes at most one scenario file");
  configure_reports(true);
  cimvp::config::LoadOptions lo;
  lo.overrides = sets;
  auto scenario = cimvp::config::load_scenario(positional.empty() ? "" : positional[0], lo);
  cimvp::RunOptions ro;
  cimvp::Soc soc(scenario, ro);
  soc.print_memory_map(std::cout, vm.count("registers") != 0);
  return 0;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty()) {
      std::cerr << kUsage;
      return 2;
    }
    const std::string cmd = args[0];
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      std::cout << kUsage;
      return 0;
    }
    if (cmd == "--version") {
      std::cout << "cimvp " << kVersion << " (SystemC " << sc_core::sc_release() << ")\n";
      return 0;
    }
    if (cmd == "run") return cmd_run(rest);
    if (cmd == "memory-map") return cmd_memory_map(rest);
#ifdef CIMVP_HAVE_LLOYD_MAX
    if (cmd == "lloyd-max") return cimvp::adc::run_lloyd_max_cli(rest, std::cin, std::cout, std::cerr);
#endif
    return usage_error("unknown command '" + cmd + "'");
  } catch (const cimvp::config::ConfigError& e) {
    std::cerr << "cimvp: error: " << e.what() << "\n";
    return 2;
  } catch (const po::error& e) {
    return usage_error(e.what());
  } catch (const sc_core::sc_report& e) {
    std::cerr << "cimvp: simulation error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "cimvp: error: " << e.what() << "\n";
    return 1;
  }
}
