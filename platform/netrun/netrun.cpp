#include "platform/netrun/netrun.hpp"

#include <systemc>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

#include "cimvp/regs.h"
#include "models/crossbar/tile.hpp"
#include "platform/config/embedded_files.hpp"
#include "platform/dataset/idx.hpp"
#include "platform/memory/memory.hpp"
#include "platform/netrun/adc_files.hpp"
#include "platform/onnx/onnx_import.hpp"
#include "platform/power/power_monitor.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/trace/json.hpp"

namespace cimvp::netrun {

namespace {

uint64_t align4k(uint64_t v) { return (v + 4095) & ~uint64_t(4095); }

const config::MemoryMapEntry* find_kind(const config::Scenario& sc, const std::string& kind) {
  for (const auto& e : sc.memory_map)
    if (e.block == kind) return &e;
  return nullptr;
}

std::string hex(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

// Progress on stderr while the firmware runs: polls the job block's `done` word every
// `period` of simulated time. Created only when stderr is a terminal (it keeps the kernel
// busy until the job is done, so starvation is then reported as the time limit instead).
class Progress : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Progress);
  Progress(const sc_core::sc_module_name& n, Memory& hm, uint32_t count)
      : sc_module(n), hm_(hm), count_(count), t0_(std::chrono::steady_clock::now()) {
    SC_THREAD(run);
  }
  ~Progress() override {
    if (printed_) std::fprintf(stderr, "\n");
  }

 private:
  void run() {
    for (;;) {
      sc_core::wait(sc_core::sc_time(100, sc_core::SC_US));
      uint32_t done = 0;
      std::memcpy(&done, hm_.data() + offsetof(cimnet_job_t, done), 4);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
      if (s - last_ >= 0.5 || done >= count_) {
        last_ = s;
        const double rate = s > 0 ? done / s : 0;
        std::fprintf(stderr, "\rcimvp: infer %u/%u images, %.0f img/s, ETA %.0f s   ", done, count_, rate,
                     rate > 0 ? (count_ - done) / rate : 0.0);
        printed_ = true;
      }
      if (done >= count_) return;
    }
  }
  Memory& hm_;
  uint32_t count_;
  std::chrono::steady_clock::time_point t0_;
  double last_ = -1;
  bool printed_ = false;
};

std::unique_ptr<Progress> g_progress;


}  // namespace

// ---------------------------------------------------------------------------------------
// Loader
// ---------------------------------------------------------------------------------------

Loader::Loader(std::shared_ptr<const compiler::Image> image, Inputs inputs, bool want_outputs, uint32_t batch)
    : img_(std::move(image)), in_(std::move(inputs)), want_outputs_(want_outputs), batch_(batch) {
  const auto& h = img_->header();
  const uint64_t in_sz = uint64_t(h.in_c) * h.in_h * h.in_w;
  if (in_.count == 0) throw std::invalid_argument("netrun: no inputs to run");
  const uint64_t elem = in_.u8.empty() ? 4 : 1;
  if ((elem == 1 && in_.u8.size() != in_.count * in_sz) || (elem == 4 && in_.f32.size() != in_.count * in_sz))
    throw std::invalid_argument("netrun: inputs hold " + std::to_string(elem == 1 ? in_.u8.size() : in_.f32.size()) +
                                " values, expected " + std::to_string(in_.count) + " x " + std::to_string(in_sz));
  image_off_ = 4096;
  input_off_ = align4k(image_off_ + img_->bytes().size());
  class_off_ = align4k(input_off_ + in_.count * in_sz * elem);
  output_off_ = want_outputs_ ? align4k(class_off_ + 4 * in_.count) : 0;
  end_ = want_outputs_ ? output_off_ + 4ull * in_.count * h.out_count : class_off_ + 4 * in_.count;
}

void Loader::set_calibration(Calibration c) {
  const auto& h = img_->header();
  const uint64_t in_sz = uint64_t(h.in_c) * h.in_h * h.in_w;
  if (c.count == 0 || c.u8.size() != c.count * in_sz)
    throw std::invalid_argument("netrun: calibration inputs hold " + std::to_string(c.u8.size()) + " values, expected " +
                                std::to_string(c.count) + " x " + std::to_string(in_sz));
  if (in_.u8.empty())
    throw std::invalid_argument("netrun: calibration needs uint8 inputs (the dataset flow)");
  cal_ = std::move(c);
  cal_input_off_ = align4k(end_);
  cal_result_off_ = align4k(cal_input_off_ + cal_.u8.size());
  // Result area: header + one record per group (at most one per tile).
  end_ = cal_result_off_ + sizeof(cimnet_calib_header_t) + sizeof(cimnet_calib_result_t) * (h.n_tiles + h.n_layers);
}

CalibrationResult Loader::collect_calibration(Soc& soc) const {
  CalibrationResult cr;
  if (!cal_.count) return cr;
  const auto& sc = soc.context().scenario;
  const uint8_t* base = soc.memory(find_kind(sc, "hostmem")->name)->data() + cal_result_off_;
  std::memcpy(&cr.header, base, sizeof cr.header);
  if (cr.header.magic != CIMNET_CAL_MAGIC) return cr;
  const uint32_t n = std::min<uint32_t>(cr.header.n_results, img_->header().n_tiles + img_->header().n_layers);
  cr.groups.resize(n);
  std::memcpy(cr.groups.data(), base + sizeof cr.header, n * sizeof(cimnet_calib_result_t));
  cr.done = true;
  return cr;
}

int tile_count(const config::Scenario& sc) {
  int n = 0;
  for (const auto& e : sc.memory_map) n += e.block == "tile";
  return n;
}

void Loader::check(const config::Scenario& sc) const {
  const auto& h = img_->header();
  const int tiles = tile_count(sc);
  if (tiles < static_cast<int>(h.n_tiles))
    throw std::invalid_argument("the network needs " + std::to_string(h.n_tiles) + " tiles but memory_map has " +
                                std::to_string(tiles) + ": give the tile entry `count: " + std::to_string(h.n_tiles) +
                                "` or set network.tiles: auto");
  const auto* hm = find_kind(sc, "hostmem");
  if (!hm) throw std::invalid_argument("memory_map: the network flow needs a hostmem entry (dataset and network image)");
  if (hm->size < end_)
    throw std::invalid_argument(hm->where + ": memory_map: hostmem '" + hm->name + "' has " + hex(hm->size) +
                                " bytes but the job needs " + hex(end_) + " (image + inputs + results): enlarge its size");
  const auto* sr = find_kind(sc, "sram");
  if (!sr) throw std::invalid_argument("memory_map: the network flow needs an sram entry");
  if (sr->size < h.sram_bytes)
    throw std::invalid_argument(sr->where + ": memory_map: sram '" + sr->name + "' has " + hex(sr->size) +
                                " bytes but the network's batch buffers need " + hex(h.sram_bytes));
  if (sc.chip.mapping.rows != static_cast<int>(h.rows) || sc.chip.mapping.cols != static_cast<int>(h.cols))
    throw std::invalid_argument("the network image was compiled for " + std::to_string(h.rows) + "x" +
                                std::to_string(h.cols) + " arrays but chip.crossbar is " +
                                std::to_string(sc.chip.mapping.rows) + "x" + std::to_string(sc.chip.mapping.cols));
  if (sc.chip.mapping.input_bits != static_cast<int>(h.input_bits))
    throw std::invalid_argument("the network image was compiled for input_bits " + std::to_string(h.input_bits) +
                                " but chip.crossbar.input_bits is " + std::to_string(sc.chip.mapping.input_bits));
  if (sc.firmware.app != "infer") throw std::invalid_argument("firmware.app must be infer for the network flow");
}

void Loader::load(Soc& soc, bool progress) {
  const auto& sc = soc.context().scenario;
  const auto* hme = find_kind(sc, "hostmem");
  Memory* hm = soc.memory(hme->name);
  if (!hm) throw std::runtime_error("netrun: host memory '" + hme->name + "' was not built");
  uint8_t* base = hm->data();
  cimnet_job_t job{};
  job.magic = CIMNET_JOB_MAGIC;
  job.image_off = static_cast<uint32_t>(image_off_);
  job.input_off = static_cast<uint32_t>(input_off_);
  job.input_format = in_.u8.empty() ? CIMNET_IN_F32 : CIMNET_IN_U8;
  job.in_scale = in_.in_scale;
  job.count = static_cast<uint32_t>(in_.count);
  if (sc.chip.program.mode == "write_verify") {
    bool has_progctl = false;
    for (const auto& e : sc.memory_map) has_progctl = has_progctl || e.block == "progctl";
    if (!has_progctl)
      throw std::invalid_argument("chip.program.mode: write_verify needs a 'progctl' block in the memory_map "
                                  "(e.g. {name: progctl, block: progctl, base: 0x00002000, size: 0x1000, irq: 3})");
    job.job_flags |= CIMNET_JOB_F_PROGRAM;
  }
  if (cpu_datapath_) job.job_flags |= CIMNET_JOB_F_CPU_DATAPATH;
  job.class_off = static_cast<uint32_t>(class_off_);
  job.output_off = static_cast<uint32_t>(output_off_);
  job.batch = batch_;
  if (cal_.count) {
    job.calib_count = static_cast<uint32_t>(cal_.count);
    job.calib_input_off = static_cast<uint32_t>(cal_input_off_);
    job.calib_mode = cal_.mode;
    job.calib_flags = cal_.flags;
    job.calib_samples = cal_.samples;
    job.calib_result_off = static_cast<uint32_t>(cal_result_off_);
    std::memcpy(base + cal_input_off_, cal_.u8.data(), cal_.u8.size());
    std::memset(base + cal_result_off_, 0, sizeof(cimnet_calib_header_t));
  }
  std::memcpy(base, &job, sizeof job);
  std::memcpy(base + image_off_, img_->bytes().data(), img_->bytes().size());
  if (in_.u8.empty())
    std::memcpy(base + input_off_, in_.f32.data(), 4 * in_.f32.size());
  else
    std::memcpy(base + input_off_, in_.u8.data(), in_.u8.size());

  // Weight blocks: tile k of the image goes to the k-th tile of the memory map.
  std::size_t k = 0;
  for (const auto& e : sc.memory_map) {
    if (e.block != "tile" || k >= img_->tiles().size()) continue;
    auto* t = dynamic_cast<Tile*>(soc.module(e.name));
    if (!t) throw std::runtime_error("netrun: tile '" + e.name + "' was not built");
    // The block layout stands for the mapping configuration; the conductances come from
    // the fast path (ideal) or from the firmware's program_weights through the programming
    // controller (write_verify, job flag CIMNET_JOB_F_PROGRAM).
    t->load_block(img_->block(k));
    if (sc.chip.program.mode == "ideal") t->program_ideal();
    ++k;
  }
  if (progress) {
    g_progress.reset();
    g_progress = std::make_unique<Progress>("netrun_progress", *hm, job.count);
  }
}

Results Loader::collect(Soc& soc) const {
  g_progress.reset();
  const auto& sc = soc.context().scenario;
  Memory* hm = soc.memory(find_kind(sc, "hostmem")->name);
  const uint8_t* base = hm->data();
  Results r;
  cimnet_job_t job;
  std::memcpy(&job, base, sizeof job);
  r.done = job.done;
  r.classes.resize(in_.count);
  std::memcpy(r.classes.data(), base + class_off_, 4 * in_.count);
  if (want_outputs_) {
    r.outputs.resize(in_.count * img_->header().out_count);
    std::memcpy(r.outputs.data(), base + output_off_, 4 * r.outputs.size());
  }
  return r;
}

// ---------------------------------------------------------------------------------------
// Scenario helpers
// ---------------------------------------------------------------------------------------

void size_tiles(config::Scenario& sc, int needed) {
  std::vector<config::MemoryMapEntry> tiles, others;
  for (const auto& e : sc.memory_map) (e.block == "tile" ? tiles : others).push_back(e);
  config::MemoryMapEntry proto;
  if (!tiles.empty()) {
    proto = tiles.front();
  } else {
    std::set<int> used;
    for (const auto& e : sc.memory_map) used.insert(e.irq);
    proto.block = "tile";
    proto.base = 0x40000000;
    proto.size = TILE_SIZE;
    proto.irq = 2;
    while (used.count(proto.irq)) ++proto.irq;
    proto.where = "network.tiles: auto";
  }
  // Name stem: "tile3" -> "tile".
  std::string stem = proto.name.empty() ? "tile" : proto.name;
  while (!stem.empty() && std::isdigit(static_cast<unsigned char>(stem.back()))) stem.pop_back();
  if (stem.empty()) stem = "tile";
  const uint64_t base = tiles.empty() ? proto.base : tiles.front().base;
  const uint64_t stride = proto.size;
  if (base + stride * static_cast<uint64_t>(needed) > 0x100000000ull)
    throw std::invalid_argument("network.tiles: auto: " + std::to_string(needed) + " tiles from " + hex(base) +
                                " run past the 32-bit bus");
  for (const auto& o : others)
    if (o.base < base + stride * needed && base < o.base + o.size)
      throw std::invalid_argument("network.tiles: auto: " + std::to_string(needed) + " tiles at " + hex(base) + ".." +
                                  hex(base + stride * needed - 1) + " overlap '" + o.name +
                                  "': move the tile entry of memory_map");
  sc.memory_map = others;
  for (int i = 0; i < needed; ++i) {
    config::MemoryMapEntry t = proto;
    t.name = stem + std::to_string(i);
    t.base = base + stride * static_cast<uint64_t>(i);
    sc.memory_map.push_back(t);
  }
}

void add_dma_dpu(config::Scenario& sc) {
  for (const char* kind : {"dma", "dpu"}) {
    if (find_kind(sc, kind)) continue;
    config::MemoryMapEntry e;
    e.name = kind;
    e.block = kind;
    e.size = 0x1000;
    e.where = "network flow (memory_map has no " + std::string(kind) + " entry)";
    // First free 4 KiB slot in the low register region (below the SRAM in the shipped maps).
    uint64_t base = 0x1000;
    for (; base < 0x10000000; base += 0x1000) {
      bool clash = false;
      for (const auto& o : sc.memory_map) clash = clash || (base < o.base + o.size && o.base < base + e.size);
      if (!clash) break;
    }
    if (base >= 0x10000000)
      throw std::invalid_argument(std::string("memory_map: no free 4 KiB slot below 0x10000000 for the ") + kind +
                                  " the network flow needs: add a {block: " + kind + "} entry");
    e.base = base;
    std::set<int> used;
    for (const auto& o : sc.memory_map) used.insert(o.irq);
    int irq = 1;
    while (irq <= 30 && used.count(irq)) ++irq;
    if (irq > 30)
      throw std::invalid_argument(std::string("memory_map: no free interrupt line for the ") + kind +
                                  " the network flow needs: add a {block: " + kind + "} entry with an irq");
    e.irq = irq;
    sc.memory_map.push_back(e);
  }
}

compiler::CompileOptions compile_options(const config::Scenario& sc) {
  compiler::CompileOptions o;
  o.mapping = sc.chip.mapping;
  o.device = sc.chip.device;
  o.tiles_available = sc.network.tiles == "auto" ? -1 : tile_count(sc);
  o.percentile = sc.network.calibration_percentile;
  if (const auto* sr = find_kind(sc, "sram")) o.sram_bytes = sr->size;
  if (sc.network.batch) o.max_batch = sc.network.batch;
  return o;
}

nn::Graph load_model(const config::Scenario& sc) {
  if (sc.network.model.empty()) throw std::invalid_argument("the scenario has no network.model");
  std::string bytes;
  try {
    bytes = config::read_resolved_file(sc.network.model);
  } catch (const config::ConfigError& e) {
    throw nn::ModelError(std::string("network.model: ") + e.what());
  }
  std::string label = sc.network.model;
  if (label.compare(0, 9, config::kEmbeddedPrefix) == 0) label = label.substr(9) + " (embedded)";
  return nn::load_onnx_bytes(bytes, label);
}

// ---------------------------------------------------------------------------------------
// Accuracy
// ---------------------------------------------------------------------------------------

double Accuracy::class_accuracy(int c) const {
  uint64_t n = 0;
  for (auto v : confusion.at(c)) n += v;
  return n ? double(confusion[c][c]) / double(n) : 0.0;
}

Accuracy score(const std::vector<uint32_t>& pred, const std::vector<uint8_t>& labels, int classes) {
  if (pred.size() != labels.size()) throw std::invalid_argument("score: predictions and labels differ in count");
  Accuracy a;
  a.classes = classes;
  a.images = pred.size();
  a.confusion.assign(classes, std::vector<uint64_t>(classes, 0));
  for (std::size_t i = 0; i < pred.size(); ++i) {
    if (labels[i] >= classes) throw std::invalid_argument("score: label " + std::to_string(labels[i]) + " out of range");
    const uint32_t p = std::min<uint32_t>(pred[i], static_cast<uint32_t>(classes - 1));
    a.confusion[labels[i]][p]++;
    a.correct += pred[i] == labels[i];
  }
  return a;
}

void Accuracy::write_csv(const std::string& path) const {
  std::ofstream f(path);
  f << "class,name,images,correct,accuracy";
  for (int c = 0; c < classes; ++c) f << ",pred_" << c;
  f << "\n" << std::setprecision(6);
  for (int c = 0; c < classes; ++c) {
    uint64_t n = 0;
    for (auto v : confusion[c]) n += v;
    f << c << ",\"" << (classes == 10 ? dataset::fashion_mnist_class_name(c) : std::to_string(c).c_str()) << "\"," << n
      << "," << confusion[c][c] << "," << class_accuracy(c);
    for (auto v : confusion[c]) f << "," << v;
    f << "\n";
  }
  f << "all,\"all\"," << images << "," << correct << "," << accuracy();
  for (int c = 0; c < classes; ++c) f << ",";
  f << "\n";
  if (!f) throw std::runtime_error(path + ": cannot write");
}

// ---------------------------------------------------------------------------------------
// Flows
// ---------------------------------------------------------------------------------------

namespace {

double total_energy_pj(Soc& soc, double sim_time_ns) {
  auto& pm = soc.context().power.core();
  const uint64_t end_ps = static_cast<uint64_t>(sim_time_ns * 1000.0 + 0.5);
  double e = 0;
  for (std::size_t i = 0; i < pm.component_count(); ++i) e += pm.dynamic_pj(i) + pm.static_pj(i, end_ps);
  return e;
}

// exclude_ns: simulated time that was not inference (the ADC calibration), left out of
// latency/throughput.
void add_metrics(Soc& soc, RunResult& r, std::size_t images, double ops_per_inference, double exclude_ns = 0) {
  r.metrics["images"] = static_cast<double>(images);
  double t_ns = r.sim_time_ns - exclude_ns;
  double e = total_energy_pj(soc, r.sim_time_ns);
  // The firmware's infer phase, when it marked one: time and energy of inference alone,
  // without weight programming and calibration (reported separately).
  if (soc.sysctl()) {
    const auto inf = soc.sysctl()->phase_stats(FW_PHASE_INFER);
    const auto prog = soc.sysctl()->phase_stats(FW_PHASE_PROGRAM);
    const auto cal = soc.sysctl()->phase_stats(FW_PHASE_CALIBRATE);
    const double leak_mw = soc.context().power.leakage_total_uw() * 1e-3;
    auto energy = [&](const Sysctl::PhaseStats& p) { return p.dynamic_pj + leak_mw * p.time_ns; };  // mW x ns = pJ
    if (inf.count) {
      t_ns = inf.time_ns;
      e = energy(inf);
      r.metrics["inference_energy_pj"] = e;
    }
    if (prog.count) {
      r.metrics["program_time_ns"] = prog.time_ns;
      r.metrics["program_energy_pj"] = energy(prog);
    }
    if (cal.count) {
      r.metrics["calibration_time_ns"] = cal.time_ns;
      r.metrics["calibration_energy_pj"] = energy(cal);
    }
  }
  if (images == 0 || t_ns <= 0) return;
  const double ops = ops_per_inference * static_cast<double>(images);
  r.metrics["latency_ns_per_inference"] = t_ns / static_cast<double>(images);
  r.metrics["inferences_per_s"] = static_cast<double>(images) / (t_ns * 1e-9);
  r.metrics["ops_per_inference"] = ops_per_inference;
  r.metrics["tops"] = ops / (t_ns * 1e-9) / 1e12;
  if (e > 0) r.metrics["tops_per_w"] = ops / e;  // ops / pJ = 1e12 ops / J = TOPS/W
  r.metrics["wall_images_per_s"] = r.wall_seconds > 0 ? static_cast<double>(images) / r.wall_seconds : 0;
}

uint32_t adc_mode_code(const std::string& m) {
  if (m == "sar") return ADC_MODE_SAR;
  if (m == "flash") return ADC_MODE_FLASH;
  if (m == "qcell") return ADC_MODE_QCELL;
  if (m == "qcell_sr") return ADC_MODE_QCELL_SR;
  return ADC_MODE_IDEAL;
}

// summary.json `adc` object (docs/outputs.md, docs/calibration.md): mode, bits and the
// per-group MSE the firmware reported, handed to the SoC's outputs (RunResult::summary_extra).
trace::Json adc_summary(const config::Scenario& sc, const CalibrationResult& cr) {
  using trace::Json;
  Json a = Json::object();
  a["mode"] = sc.chip.adc.mode;
  a["bits"] = sc.chip.adc.bits;
  a["variation_frac"] = sc.chip.adc.variation_frac;
  Json c = Json::object();
  c["images"] = static_cast<double>(sc.calibration.images);
  c["split"] = "train";
  c["group"] = sc.calibration.group;
  c["program"] = sc.calibration.program;
  c["samples_per_group"] = static_cast<double>(cr.header.capacity);
  c["time_ns"] = cr.time_ns();
  c["prog_failures"] = static_cast<double>(cr.header.prog_failures);
  a["calibration"] = c;
  Json layers = Json::array();
  for (const auto& g : cr.groups) {
    Json l = Json::object();
    l["layer"] = g.layer;
    l["tile"] = g.tile;
    l["tiles"] = g.tiles;
    l["samples"] = g.samples;
    l["decimation"] = g.decim;
    l["range_lo"] = g.range_lo;
    l["range_hi"] = g.range_hi;
    l["mse_uniform"] = g.mse_uniform;
    l["mse_lloyd_max"] = g.mse_lloyd_max;
    l["mse_achieved"] = g.mse_achieved;
    l["max_edge_error"] = g.max_edge_err;
    l["lloyd_max_iterations"] = g.lm_iterations;
    l["fallback"] = (g.flags & CIMNET_CAL_R_FEW_SAMPLES) ? "uniform (too few samples)"
                    : (g.flags & CIMNET_CAL_R_NO_SAMPLES) ? "design range (no samples)"
                                                           : "none";
    l["programming_failures"] = (g.flags & CIMNET_CAL_R_PROG_FAIL) != 0;
    // Histogram data for tools/plot_report.py (adc_files.hpp).
    l["files"] = "adc_capture_" + adc_group_name(g, sc.calibration.group == "array") + ".csv";
    layers.push_back(l);
  }
  a["layers"] = layers;
  return a;
}

}  // namespace

RunResult run_scenario(config::Scenario sc, RunOptions ro, bool progress, Accuracy* acc_out, const FlowOptions& fo) {
  nn::Graph g = load_model(sc);
  const auto& ds = sc.dataset;
  auto split = ds.split == "train" ? dataset::Split::Train : dataset::Split::Test;
  auto set = dataset::load_fashion_mnist(split, ds.dir);
  if (ds.first + ds.images > set.count)
    throw std::invalid_argument("dataset: images [" + std::to_string(ds.first) + ", " + std::to_string(ds.first + ds.images) +
                                ") run past the " + std::to_string(set.count) + " images of the " + ds.split +
                                " split (lower dataset.first or --images)");
  auto opt = compile_options(sc);
  // Activation scales from the TRAINING split, whatever split is inferred.
  opt.calibration = compiler::fashion_mnist_calibration(ds.calibration_images, ds.dir);
  if (sc.network.tiles == "auto") size_tiles(sc, compiler::tiles_needed(g, sc.chip.mapping));
  add_dma_dpu(sc);
  auto net = compiler::compile(g, opt);
  auto img = std::make_shared<const compiler::Image>(compiler::serialize(net), g.source);

  Inputs in;
  in.count = ds.images;
  const std::size_t px = set.rows * set.cols;
  in.u8.assign(set.pixels.begin() + static_cast<std::ptrdiff_t>(ds.first * px),
               set.pixels.begin() + static_cast<std::ptrdiff_t>((ds.first + ds.images) * px));
  std::vector<uint8_t> labels(set.labels.begin() + static_cast<std::ptrdiff_t>(ds.first),
                              set.labels.begin() + static_cast<std::ptrdiff_t>(ds.first + ds.images));
  auto loader = std::make_shared<Loader>(img, std::move(in), false, sc.network.batch);
  loader->set_cpu_datapath(fo.cpu_datapath);
  if (sc.calibration.enabled) {
    // ADC calibration images: always the TRAINING split, never the images scored.
    auto train = split == dataset::Split::Train ? set : dataset::load_fashion_mnist(dataset::Split::Train, ds.dir);
    const auto& cs = sc.calibration;
    Calibration cal;
    cal.count = cs.images;
    cal.u8.assign(train.pixels.begin() + static_cast<std::ptrdiff_t>(cs.first * px),
                  train.pixels.begin() + static_cast<std::ptrdiff_t>((cs.first + cs.images) * px));
    cal.mode = adc_mode_code(sc.chip.adc.mode);
    cal.flags = (cs.program == "write_verify" ? CIMNET_CAL_F_WRITE_VERIFY : 0u) |
                (cs.group == "array" ? CIMNET_CAL_F_GROUP_ARRAY : 0u);
    cal.samples = cs.samples;
    loader->set_calibration(std::move(cal));
  }
  loader->check(sc);

  Accuracy acc;
  CalibrationResult calres;
  const double ops = net.ops_per_inference;
  const std::string out_dir = ro.out_dir;
  ro.before_start = [loader, progress](Soc& soc) { loader->load(soc, progress); };
  // The caller's own after_run (tests reading the SoC) runs first, then the flow's.
  const auto caller_after_run = ro.after_run;
  ro.after_run = [&, caller_after_run](Soc& soc, RunResult& r) {
    if (caller_after_run) caller_after_run(soc, r);
    if (r.exit_status != 0) return;
    Results res = loader->collect(soc);
    if (res.done != labels.size()) {
      r.exit_status = 1;
      r.error = "firmware finished " + std::to_string(res.done) + " of " + std::to_string(labels.size()) + " images";
      return;
    }
    acc = score(res.classes, labels);
    if (fo.classes) *fo.classes = res.classes;
    calres = loader->collect_calibration(soc);
    if (sc.calibration.enabled && !calres.done) {
      r.exit_status = 1;
      r.error = "the firmware did not finish the ADC calibration (see run.log)";
      return;
    }
    add_metrics(soc, r, labels.size(), ops, calres.done ? calres.time_ns() : 0.0);
    if (calres.done) {
      r.metrics["calibration_time_ns"] = calres.time_ns();
      r.metrics["calibration_images"] = static_cast<double>(sc.calibration.images);
      r.summary_extra["adc"] = adc_summary(sc, calres);
      if (!out_dir.empty()) write_adc_calibration_files(out_dir, soc, calres);
    }
    r.metrics["accuracy"] = acc.accuracy();
    r.metrics["tiles"] = img->header().n_tiles;
    r.metrics["batch"] = img->header().batch;
    if (!out_dir.empty()) acc.write_csv(out_dir + "/accuracy.csv");
  };
  Soc soc(sc, ro);
  RunResult r = soc.run();
  if (acc_out) *acc_out = acc;
  return r;
}

void make_ideal(config::Scenario& sc) {
  auto& d = sc.chip.device;
  d.cell_levels = 0;
  d.prog_error = false;
  d.read_noise = false;
  d.drift = false;
  d.stuck_at_gmin_rate = d.stuck_at_gmax_rate = 0;
  auto& m = sc.chip.mapping;
  m.weight_bits = 16;
  m.cell_bits = 8;
  m.per_column_scale = true;
  m.dac_bits = 1;
  m.input_bits = 8;
  sc.chip.adc.mode = "ideal";
  sc.chip.program.mode = "ideal";
}

nn::Tensor infer_tensor(const nn::Graph& g, const nn::Tensor& x, config::Scenario sc, bool ideal, RunResult* result) {
  if (g.inputs.size() != 1 || g.outputs.size() != 1)
    throw nn::ModelError(g.source + ": cimvp infer runs graphs with one input and one output");
  // Shape/dtype check against the declared input (batch may differ).
  auto shapes = nn::infer_shapes(g, {{g.inputs[0].name, x.shape}});
  const nn::Shape out_shape = shapes.at(g.outputs[0].name);
  sc.firmware.app = "infer";
  if (ideal) make_ideal(sc);
  auto opt = compile_options(sc);
  opt.tiles_available = -1;
  opt.ideal = ideal;
  bool fashion = x.shape.size() == 4 && x.shape[1] == 1 && x.shape[2] == 28 && x.shape[3] == 28;
  if (!ideal && fashion) {
    try {
      opt.calibration = compiler::fashion_mnist_calibration(sc.dataset.calibration_images, sc.dataset.dir);
    } catch (const std::exception&) {
      opt.calibration = x;  // dataset not installed: scales from the input itself
    }
  } else {
    opt.calibration = x;
  }
  size_tiles(sc, compiler::tiles_needed(g, sc.chip.mapping));
  add_dma_dpu(sc);
  auto net = compiler::compile(g, opt);
  auto img = std::make_shared<const compiler::Image>(compiler::serialize(net), g.source);
  Inputs in;
  in.count = static_cast<std::size_t>(x.shape[0]);
  in.f32 = x.data;
  auto loader = std::make_shared<Loader>(img, std::move(in), true, sc.network.batch);
  // Host memory grows to fit the job when the scenario's is too small.
  for (auto& e : sc.memory_map)
    if (e.block == "hostmem" && e.size < loader->hostmem_bytes()) e.size = align4k(loader->hostmem_bytes());
  loader->check(sc);
  Results res;
  RunOptions ro;
  ro.echo_console = false;
  ro.before_start = [loader](Soc& soc) { loader->load(soc, false); };
  ro.after_run = [&](Soc& soc, RunResult& r) {
    if (r.exit_status == 0) res = loader->collect(soc);
    add_metrics(soc, r, static_cast<std::size_t>(x.shape[0]), net.ops_per_inference);
  };
  Soc soc(sc, ro);
  RunResult r = soc.run();
  if (result) *result = r;
  if (r.exit_status != 0) throw std::runtime_error("infer: " + r.error);
  if (res.done != static_cast<uint32_t>(x.shape[0]))
    throw std::runtime_error("infer: firmware finished " + std::to_string(res.done) + " of " +
                             std::to_string(x.shape[0]) + " inputs");
  return nn::Tensor(out_shape, res.outputs);
}

}  // namespace cimvp::netrun
