// The `cimvp` command line (DESIGN.md section 5). Exit codes: 0 success, 1 simulation or
// firmware fault, 2 usage or input error.
#include <systemc>

#include <boost/program_options.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

#include "models/adc/lloyd_max_cli.hpp"
#include "platform/compiler/compiler.hpp"
#include "platform/config/scenario.hpp"
#include "platform/cpu/host_cpu.hpp"
#include "platform/netrun/netrun.hpp"
#include "platform/onnx/evaluator.hpp"
#include "platform/onnx/onnx_import.hpp"
#include "platform/onnx/tensor_io.hpp"
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
    "  compile MODEL.onnx    compile a network for the chip into a network image (--out NET.cimnet)\n"
    "  infer                 run a model on the chip's data path for one tensor (--model, --input, --output)\n"
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

// One line per report: firmware console lines (the system-control block's INFO reports)
// go to stdout as "fw| ...", everything else to stderr with its severity and source.
void report_handler(const sc_core::sc_report& rep, const sc_core::sc_actions& actions) {
  using namespace sc_core;
  if (actions & SC_DISPLAY) {
    const std::string type = rep.get_msg_type();
    if (rep.get_severity() == SC_INFO && type == "sysctl") {
      std::cout << "fw| " << rep.get_msg() << "\n";
    } else if (type.rfind("/OSCI/SystemC", 0) != 0 || rep.get_severity() > SC_INFO) {
      static const char* sev[] = {"info", "warning", "error", "fatal"};
      std::cerr << "cimvp: " << sev[rep.get_severity()] << ": " << type << ": " << rep.get_msg() << "\n";
    }
  }
  sc_report_handler::default_handler(rep, actions & ~SC_DISPLAY);
}

void configure_reports(bool quiet) {
  using namespace sc_core;
  sc_report_handler::set_handler(report_handler);
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
  if (vm.count("images")) lo.overrides.push_back("dataset.images=" + std::to_string(images));
  auto scenario = cimvp::config::load_scenario(positional.empty() ? "" : positional[0], lo);
  if (out_dir.empty()) out_dir = "out/" + scenario.name;
  if (vm.count("images") && scenario.network.model.empty())
    return usage_error("--images: scenario '" + scenario.name + "' runs no network (add a network: section)");
  if (!scenario.network.model.empty()) {
    // The network flow: compile, load the dataset slice, run `infer`, score.
    cimvp::RunOptions ro;
    ro.out_dir = out_dir;
    ro.echo_console = !quiet;
    cimvp::RunResult r;
    try {
      r = cimvp::netrun::run_scenario(scenario, ro, !quiet && isatty(2));
    } catch (const std::invalid_argument& e) {
      std::cerr << "cimvp: error: " << e.what() << "\n";
      return 2;
    }
    if (!r.error.empty()) std::cerr << "cimvp: " << r.error << "\n";
    if (!quiet) {
      std::cerr << "cimvp: scenario '" << scenario.name << "' " << (r.exit_status == 0 ? "passed" : "FAILED");
      if (r.metrics.count("accuracy"))
        std::cerr << ": accuracy " << r.metrics["accuracy"] * 100.0 << "% on " << r.metrics["images"] << " "
                  << scenario.dataset.split << " images, " << r.metrics["latency_ns_per_inference"]
                  << " ns simulated per inference";
      std::cerr << "; " << r.sim_time_ns << " ns simulated in " << r.wall_seconds << " s; outputs in " << out_dir
                << "/\n";
    }
    return r.exit_status;
  }

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

int cmd_compile(const std::vector<std::string>& args) {
  po::options_description opts("cimvp compile MODEL.onnx [--scenario S] --out NET.cimnet");
  std::string scenario_path, out;
  std::vector<std::string> sets;
  opts.add_options()("help,h", "this help")("scenario", po::value(&scenario_path),
                                            "chip to compile for (default: the embedded default scenario)")(
      "out", po::value(&out), "network image to write")("set", po::value(&sets)->composing(),
                                                         "override a scenario key: --set a.b.c=VALUE")(
      "calibration", po::value<std::string>(),
      "calibration inputs (.pb/.npy [n,...]); default: Fashion-MNIST training images for 1x28x28 models");
  po::options_description hidden;
  std::vector<std::string> positional;
  hidden.add_options()("model", po::value(&positional));
  po::positional_options_description pos;
  pos.add("model", -1);
  po::options_description all;
  all.add(opts).add(hidden);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts << "\nWrites the network image (docs/network-image.md) and prints the tile mapping.\n";
    return 0;
  }
  if (positional.size() != 1) return usage_error("compile takes exactly one MODEL.onnx");
  if (out.empty()) return usage_error("compile needs --out NET.cimnet");
  configure_reports(true);
  try {
    cimvp::config::LoadOptions lo;
    lo.overrides = sets;
    auto sc = cimvp::config::load_scenario(scenario_path, lo);
    auto g = cimvp::nn::load_onnx(positional[0]);
    auto opt = cimvp::netrun::compile_options(sc);
    if (sc.network.model.empty()) opt.tiles_available = cimvp::netrun::tile_count(sc) ? opt.tiles_available : -1;
    if (vm.count("calibration")) {
      opt.calibration = cimvp::nn::read_tensor(vm["calibration"].as<std::string>());
      opt.calibration_source = "calibration file " + vm["calibration"].as<std::string>();
    } else {
      const auto& in = g.inputs.at(0);
      if (!(in.shape.size() == 4 && in.shape[1] == 1 && in.shape[2] == 28 && in.shape[3] == 28))
        return usage_error("compile: model input is not 1x28x28 images; give --calibration X.npy (training data)");
      opt.calibration = cimvp::compiler::fashion_mnist_calibration(sc.dataset.calibration_images, sc.dataset.dir);
      opt.calibration_source = "Fashion-MNIST training images (" + sc.dataset.dir + ")";
    }
    auto net = cimvp::compiler::compile(g, opt);
    auto bytes = cimvp::compiler::serialize(net);
    std::ofstream f(out, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!f) {
      std::cerr << "cimvp: error: " << out << ": cannot write\n";
      return 2;
    }
    std::cout << "compiled " << positional[0] << ": " << net.layers.size() << " layers on " << net.tiles.size()
              << " tiles, batch " << net.header.batch << ", " << bytes.size() << " bytes -> " << out << "\n";
    for (const auto& n : net.notes) std::cout << "  " << n << "\n";
    return 0;
  } catch (const std::invalid_argument& e) {
    std::cerr << "cimvp: error: " << e.what() << "\n";
    return 2;
  } catch (const std::runtime_error& e) {  // does not fit the chip: a usage problem too
    std::cerr << "cimvp: error: " << e.what() << "\n";
    return 2;
  }
}

int cmd_infer(const std::vector<std::string>& args) {
  po::options_description opts(
      "cimvp infer --model MODEL.onnx --input X.pb|X.npy --output Y.pb|Y.npy [--scenario S] [--ideal]");
  std::string scenario_path, model, input, output, calibration;
  std::vector<std::string> sets;
  opts.add_options()("help,h", "this help")("model", po::value(&model), "ONNX model")(
      "input", po::value(&input), "input tensor (.pb TensorProto or .npy float32), batch dimension first")(
      "output", po::value(&output), "output tensor to write (.pb or .npy)")(
      "scenario", po::value(&scenario_path), "chip (default: the embedded default scenario)")(
      "set", po::value(&sets)->composing(), "override a scenario key")(
      "ideal", "quantisation and noise off: float conductances, ideal ADC, 16-bit weights, 24-bit inputs; "
               "prints the max relative error against the reference evaluator")(
      "compare", "also without --ideal: print the max relative error against the reference evaluator")(
      "calibration", po::value(&calibration),
      "training inputs (.pb/.npy [n,...]) for the activation scales (without --ideal); default: Fashion-MNIST "
      "training images for 1x28x28 models, else the input itself (with a warning)")(
      "cpu-datapath", "every layer on the firmware's CPU path (im2col and post-processing in firmware), for comparisons")(
      "quiet", "print errors only");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts << "\nRuns the firmware, tiles, DMA and DPU of the chip on the input (docs/network.md).\n";
    return 0;
  }
  if (model.empty() || input.empty() || output.empty()) return usage_error("infer needs --model, --input and --output");
  const bool ideal = vm.count("ideal") != 0, quiet = vm.count("quiet") != 0;
  if (ideal && !calibration.empty())
    return usage_error("infer: --calibration applies without --ideal (--ideal takes its scales from the input)");
  configure_reports(true);
  cimvp::nn::Tensor y, x;
  cimvp::netrun::InferReport rep;
  double rel_err = -1;
  try {
    cimvp::config::LoadOptions lo;
    lo.overrides = sets;
    auto sc = cimvp::config::load_scenario(scenario_path, lo);
    auto g = cimvp::nn::load_onnx(model);
    x = cimvp::nn::read_tensor(input);
    cimvp::netrun::InferOptions io;
    io.ideal = ideal;
    io.cpu_datapath = vm.count("cpu-datapath") != 0;
    cimvp::nn::Tensor cal;
    if (!calibration.empty()) {
      cal = cimvp::nn::read_tensor(calibration);
      io.calibration = &cal;
      io.calibration_source = "calibration file " + calibration;
    }
    y = cimvp::netrun::infer_tensor(g, x, sc, io, &rep);
    cimvp::nn::write_tensor(output, y);
    if (ideal || vm.count("compare")) {
      // --ideal's comparison: max |y - ref| over all outputs / max |ref|.
      const cimvp::nn::Tensor ref = cimvp::nn::evaluate(g, x);
      double m = 0, e = 0;
      for (std::size_t i = 0; i < ref.data.size() && i < y.data.size(); ++i) {
        m = std::max(m, std::fabs(double(ref.data[i])));
        e = std::max(e, std::fabs(double(y.data[i]) - double(ref.data[i])));
      }
      rel_err = m > 0 ? e / m : e;
    }
  } catch (const std::invalid_argument& e) {
    std::cerr << "cimvp: error: " << e.what() << "\n";
    return 2;
  }
  if (rep.scales_from_input)
    std::cerr << "cimvp: warning: activation scales calibrated on the input tensor " << input
              << " itself (the model does not take 1x28x28 Fashion-MNIST images, or the dataset is not installed): "
                 "accuracy measured on these inputs is optimistic (test-set leakage); give training inputs with "
                 "--calibration FILE\n";
  if (!quiet) {
    const auto& r = rep.run;
    auto metric = [&](const char* k) { return r.metrics.count(k) ? r.metrics.at(k) : 0.0; };
    std::cerr << "cimvp: infer " << cimvp::nn::shape_str(y.shape) << " -> " << output << " (" << r.sim_time_ns
              << " ns simulated, " << r.wall_seconds << " s; DMA " << metric("dma_descriptors") << " descriptors, DPU "
              << metric("dpu_ops") << " ops; scales from " << rep.calibration << ")\n";
    if (rel_err >= 0)
      std::cerr << "cimvp: max relative error against the reference evaluator: " << rel_err
                << " (max |y - ref| / max |ref| over " << y.data.size() << " outputs"
                << (ideal ? (rel_err <= 1e-4 ? "; within the 1e-4 of --ideal)" : "; ABOVE the 1e-4 of --ideal)") : ")")
                << "\n";
  }
  return 0;
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
    if (cmd == "compile") return cmd_compile(rest);
    if (cmd == "infer") return cmd_infer(rest);
    if (cmd == "lloyd-max") return cimvp::adc::run_lloyd_max_cli(rest, std::cin, std::cout, std::cerr);
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
