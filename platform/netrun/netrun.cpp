#include "platform/netrun/netrun.hpp"

#include <systemc>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
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
#include "platform/dataset/synthetic.hpp"
#include "platform/memory/memory.hpp"
#include "platform/netrun/adc_files.hpp"
#include "platform/onnx/onnx_import.hpp"
#include "platform/power/power_monitor.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/trace/json.hpp"

static_assert(sizeof(cimnet_calib_header_t) == 64, "cimnet_calib_header_t layout");
static_assert(sizeof(cimnet_calib_result_t) == 128, "cimnet_calib_result_t layout");

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
    : img_(std::move(image)), hdr_(img_->header()), in_(std::move(inputs)), want_outputs_(want_outputs), batch_(batch) {
  const auto& h = hdr_;
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
  const auto& h = hdr_;
  const uint64_t in_sz = uint64_t(h.in_c) * h.in_h * h.in_w;
  if (c.count == 0 || c.u8.size() != c.count * in_sz)
    throw std::invalid_argument("netrun: calibration inputs hold " + std::to_string(c.u8.size()) + " values, expected " +
                                std::to_string(c.count) + " x " + std::to_string(in_sz));
  if (in_.u8.empty())
    throw std::invalid_argument("netrun: calibration needs uint8 inputs (the dataset flow)");
  cal_ = std::move(c);
  cal_input_off_ = align4k(end_);
  cal_result_off_ = align4k(cal_input_off_ + cal_.u8.size());
  end_ = cal_result_off_ + sizeof(cimnet_calib_header_t) + sizeof(cimnet_calib_result_t) * max_groups();
}

uint64_t Loader::max_groups() const {
  // Result area: header + one record per group: at most one per tile and layer, or one per
  // threshold set of every tile for column groups.
  const auto& h = hdr_;  // img_ is released after load()
  const uint64_t sets = (cal_.flags & CIMNET_CAL_F_GROUP_COLUMNS) && cal_.group_cols
                            ? (uint64_t(h.cols) + cal_.group_cols - 1) / cal_.group_cols
                            : 1;
  return uint64_t(h.n_tiles) * sets + h.n_layers;
}

CalibrationResult Loader::collect_calibration(Soc& soc) const {
  CalibrationResult cr;
  if (!cal_.count) return cr;
  const auto& sc = soc.context().scenario;
  const uint8_t* base = soc.memory(find_kind(sc, "hostmem")->name)->data() + cal_result_off_;
  std::memcpy(&cr.header, base, sizeof cr.header);
  if (cr.header.magic != CIMNET_CAL_MAGIC) return cr;
  const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(cr.header.n_results, max_groups()));
  cr.groups.resize(n);
  std::memcpy(cr.groups.data(), base + sizeof cr.header, n * sizeof(cimnet_calib_result_t));
  cr.done = true;
  // The banks' own counters after the run (the SR disagreements of inference, docs/calibration.md).
  std::size_t k = 0;
  for (const auto& e : sc.memory_map) {
    if (e.block != "tile" || k >= hdr_.n_tiles) continue;
    ++k;
    auto* t = dynamic_cast<Tile*>(soc.module(e.name));
    if (!t) continue;
    auto& regs = t->adc().regs();
    auto rd = [&](uint32_t off) { return uint64_t(regs.read_value(off)); };
    cr.conversions += rd(ADC_CONV_LO) | (rd(ADC_CONV_HI) << 32);
    cr.sr_disagreements += rd(ADC_SR_DISAGREE);
    cr.gaps += rd(ADC_GAPS);
    cr.overlaps += rd(ADC_OVERLAPS);
  }
  return cr;
}

int tile_count(const config::Scenario& sc) {
  int n = 0;
  for (const auto& e : sc.memory_map) n += e.block == "tile";
  return n;
}

void Loader::check(const config::Scenario& sc) const {
  const auto& h = hdr_;
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
    job.calib_group_cols = cal_.group_cols;
    job.calib_sr_policy = cal_.sr_policy;
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
    auto* t = dynamic_cast<Tile*>(sc_core::sc_find_object(e.name.c_str()));  // O(log n); Soc::module scans
    if (!t) throw std::runtime_error("netrun: tile '" + e.name + "' was not built");
    // The block layout stands for the mapping configuration; the conductances come from
    // the fast path (ideal) or from the firmware's program_weights through the programming
    // controller (write_verify, job flag CIMNET_JOB_F_PROGRAM).
    t->load_block(img_->block(k));
    if (sc.chip.program.mode == "ideal") t->program_ideal();
    ++k;
  }
  // The image now lives in host memory and the tiles: the loader's copy goes (for a network
  // of thousands of tiles it is hundreds of MB).
  img_.reset();
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
    r.outputs.resize(in_.count * hdr_.out_count);
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

nn::Graph load_model(const config::Scenario& sc, const std::string& save_generated) {
  if (sc.network.model.empty()) throw std::invalid_argument("the scenario has no network.model");
  const std::string gp = config::kGeneratedPrefix;
  if (sc.network.model.compare(0, gp.size(), gp) == 0) {
    // A synthetic model (synthetic_model.hpp), serialized and then imported like a file.
    const std::string bytes = make_vgg_onnx(generated_spec(sc.network.model.substr(gp.size())), sc.seed);
    if (!save_generated.empty()) {
      std::ofstream f(save_generated, std::ios::binary);
      f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      if (!f) throw std::runtime_error(save_generated + ": cannot write the generated model");
    }
    return nn::load_onnx_bytes(bytes, sc.network.model + " (seed " + std::to_string(sc.seed) + ")");
  }
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
// Datasets
// ---------------------------------------------------------------------------------------

dataset::SyntheticSpec synthetic_spec(const config::DatasetParams& ds) {
  dataset::SyntheticSpec sp;
  if (ds.shape.size() != 3) throw std::invalid_argument("dataset.shape: expected [C, H, W]");
  sp.c = ds.shape[0];
  sp.h = ds.shape[1];
  sp.w = ds.shape[2];
  sp.pixels = ds.pixels;
  sp.mean = ds.mean;
  sp.std = ds.std;
  sp.correlation_px = ds.correlation_px;
  sp.validate("dataset.");
  return sp;
}

DatasetSlice load_dataset(const config::Scenario& sc, const nn::Graph& g) {
  const auto& ds = sc.dataset;
  const auto split = ds.split == "train" ? dataset::Split::Train : dataset::Split::Test;
  DatasetSlice d;
  if (ds.name == "synthetic") {
    const auto sp = synthetic_spec(ds);
    if (g.inputs.size() == 1 && g.inputs[0].has_shape) {
      const nn::Shape want{-1, int64_t(sp.c), int64_t(sp.h), int64_t(sp.w)};
      const auto& in = g.inputs[0].shape;
      if (in.size() != 4 || in[1] != want[1] || in[2] != want[2] || in[3] != want[3])
        throw std::invalid_argument("dataset.shape [" + std::to_string(sp.c) + ", " + std::to_string(sp.h) + ", " +
                                    std::to_string(sp.w) + "] does not match the model input " + nn::shape_str(in) +
                                    " of " + g.source + ": set dataset.shape to the model's [C, H, W]");
    }
    d.pixels_per_image = sp.pixels_per_image();
    d.images = dataset::synthetic_images(sp, sc.seed, split, ds.first, ds.images);
    const auto scal = dataset::synthetic_images(sp, sc.seed, dataset::Split::Train, 0, ds.calibration_images);
    std::vector<float> x(scal.size());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(scal[i]) / 255.0f;  // code = round(255 x pixel)
    d.scales = nn::Tensor({int64_t(ds.calibration_images), int64_t(sp.c), int64_t(sp.h), int64_t(sp.w)}, std::move(x));
    if (sc.calibration.enabled)
      d.adc_calibration =
          dataset::synthetic_images(sp, sc.seed, dataset::Split::Train, sc.calibration.first, sc.calibration.images);
    return d;
  }
  auto set = dataset::load_fashion_mnist(split, ds.dir);
  if (ds.first + ds.images > set.count)
    throw std::invalid_argument("dataset: images [" + std::to_string(ds.first) + ", " + std::to_string(ds.first + ds.images) +
                                ") run past the " + std::to_string(set.count) + " images of the " + ds.split +
                                " split (lower dataset.first or --images)");
  const std::size_t px = set.rows * set.cols;
  d.pixels_per_image = px;
  d.images.assign(set.pixels.begin() + static_cast<std::ptrdiff_t>(ds.first * px),
                  set.pixels.begin() + static_cast<std::ptrdiff_t>((ds.first + ds.images) * px));
  d.labels.assign(set.labels.begin() + static_cast<std::ptrdiff_t>(ds.first),
                  set.labels.begin() + static_cast<std::ptrdiff_t>(ds.first + ds.images));
  d.scales = compiler::fashion_mnist_calibration(ds.calibration_images, ds.dir);
  if (sc.calibration.enabled) {
    auto train = split == dataset::Split::Train ? set : dataset::load_fashion_mnist(dataset::Split::Train, ds.dir);
    const auto& cs = sc.calibration;
    d.adc_calibration.assign(train.pixels.begin() + static_cast<std::ptrdiff_t>(cs.first * px),
                             train.pixels.begin() + static_cast<std::ptrdiff_t>((cs.first + cs.images) * px));
  }
  return d;
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

}  // namespace

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
  if (sc.calibration.group == "column_group") c["group_cols"] = static_cast<double>(sc.calibration.group_cols);
  c["program"] = sc.calibration.program;
  if (sc.chip.adc.mode == "qcell_sr") c["sr_policy"] = sc.calibration.sr_policy;
  c["samples_per_group"] = static_cast<double>(cr.header.capacity);
  c["time_ns"] = cr.time_ns();
  if (cr.header.has_energy)
    c["energy_pj"] = static_cast<double>((uint64_t(cr.header.energy_fj_hi) << 32) | cr.header.energy_fj_lo) * 1e-3;
  c["prog_pulses"] = static_cast<double>(cr.prog_pulses());
  c["prog_failures"] = static_cast<double>(cr.header.prog_failures);
  a["calibration"] = c;
  const bool sr = sc.chip.adc.mode == "qcell_sr";
  Json layers = Json::array();
  for (const auto& g : cr.groups) {
    Json l = Json::object();
    l["layer"] = g.layer;
    l["tile"] = g.tile;
    l["tiles"] = g.tiles;
    l["set"] = g.set;
    l["col0"] = g.col0;
    l["cols"] = g.cols;
    l["samples"] = g.samples;
    l["decimation"] = g.decim;
    l["range_lo"] = g.range_lo;
    l["range_hi"] = g.range_hi;
    l["design"] = g.design == CIMNET_CAL_D_LLOYD_MAX     ? "lloyd_max"
                  : g.design == CIMNET_CAL_D_ZERO_PINNED ? "zero_pinned"
                  : g.design == CIMNET_CAL_D_FALLBACK    ? "fallback_uniform"
                                                         : "none";
    l["mse_uniform"] = g.mse_uniform;
    l["mse_sar"] = g.mse_sar;
    l["sar_full_scale"] = g.sar_full_scale;
    l["mse_lloyd_max"] = g.mse_lloyd_max;
    l["mse_achieved"] = g.mse_achieved;
    l["bias"] = g.bias;
    l["zero_bias"] = g.zero_bias;
    l["max_edge_error"] = g.max_edge_err;
    l["decoded"] = g.decoded;          // sample decodes behind mse_achieved (docs/calibration.md "Achieved MSE")
    l["decode_step"] = g.decode_step;  // 0: identical edges, decoded once; k: every k-th sample per tile
    l["lloyd_max_iterations"] = g.lm_iterations;
    l["fallback"] = (g.flags & CIMNET_CAL_R_FEW_SAMPLES) ? "uniform (too few samples)"
                    : (g.flags & CIMNET_CAL_R_NO_SAMPLES) ? "design range (no samples)"
                                                           : "none";
    l["programming_failures"] = (g.flags & CIMNET_CAL_R_PROG_FAIL) != 0;
    if (g.zero_code != 0xFFFFFFFFu) l["zero_code"] = g.zero_code;
    if (sr) {
      // The SR decoder emulated by the firmware on the captured samples (both copies' edges).
      const double decoded = g.decoded;  // sample decodes behind the counts (docs/calibration.md "Achieved MSE")
      Json srj = Json::object();
      srj["mse_single"] = g.mse_single;
      srj["bias_single"] = g.bias_single;
      srj["zero_bias_single"] = g.zero_bias_single;
      srj["disagreements"] = g.sr_disagree;
      srj["disagree_share"] = decoded > 0 ? g.sr_disagree / decoded : 0.0;
      srj["disagree_zero_share"] = g.sr_disagree ? double(g.sr_disagree_zero) / g.sr_disagree : 0.0;
      l["sr"] = srj;
    }
    // Histogram data for tools/plot_report.py (adc_files.hpp).
    l["files"] = "adc_capture_" + adc_group_name(g, sc.calibration.group) + ".csv";
    layers.push_back(l);
  }
  a["layers"] = layers;
  // The banks' counters over the inference that followed (calibration conversions removed).
  Json cv = Json::object();
  const uint64_t conv = cr.conversions > cr.calib_conversions() ? cr.conversions - cr.calib_conversions() : 0;
  const uint64_t dis = cr.sr_disagreements > cr.header.sr_disagree ? cr.sr_disagreements - cr.header.sr_disagree : 0;
  cv["conversions"] = static_cast<double>(conv);
  cv["gaps"] = static_cast<double>(cr.gaps);
  cv["overlaps"] = static_cast<double>(cr.overlaps);
  if (sr) {
    cv["sr_disagreements"] = static_cast<double>(dis);
    cv["sr_disagree_rate"] = conv ? static_cast<double>(dis) / static_cast<double>(conv) : 0.0;
  }
  a["inference"] = cv;
  return a;
}

namespace {

// summary.json `inference` object (docs/outputs.md): the energy of the firmware's infer phase
// per kind of component (the sysctl's per-component dynamic energy between FW_PHASE_INFER begin
// and end, plus each component's leakage over the phase: the same bookkeeping as the
// `inference_energy_pj` metric), the chip area per kind, and the ADC shares of both.
// Empty (no key) when the firmware marked no infer phase.
trace::Json inference_summary(Soc& soc, std::size_t images, double ops) {
  using trace::Json;
  if (!soc.sysctl()) return Json();
  const auto ph = soc.sysctl()->phase_stats(FW_PHASE_INFER);
  if (ph.count == 0) return Json();
  const auto& pm = soc.context().power.core();
  std::map<std::string, std::pair<double, double>> kinds;  // kind -> pJ, um2
  double e = 0, st = 0, area = 0;
  for (std::size_t i = 0; i < pm.component_count(); ++i) {
    const double dyn = i < ph.component_dynamic_pj.size() ? ph.component_dynamic_pj[i] : 0.0;
    const double leak = pm.leakage_uw(i) * 1e-3 * ph.time_ns;  // uW x ns = 1e-3 pJ
    auto& k = kinds[power::component_kind(pm.component_name(i))];
    k.first += dyn + leak;
    k.second += pm.area_um2(i);
    e += dyn + leak;
    st += leak;
    area += pm.area_um2(i);
  }
  Json a = Json::object();
  a["source"] = "sysctl: per-component energy between the firmware's infer phase begin and end, plus leakage";
  a["images"] = static_cast<double>(images);
  a["time_ns"] = ph.time_ns;
  a["energy_pj"] = e;
  a["static_pj"] = st;
  a["energy_pj_per_image"] = images ? e / double(images) : 0.0;
  if (e > 0) a["tops_per_w"] = ops * double(images) / e;
  Json ek = Json::object(), ak = Json::object();
  for (const auto& [k, v] : kinds) {
    ek[k] = v.first;
    ak[k] = v.second;
  }
  a["energy_by_kind_pj"] = ek;
  a["area_by_kind_um2"] = ak;
  Json share = Json::object();
  const auto adc = kinds.find("adc");
  share["energy"] = adc != kinds.end() && e > 0 ? adc->second.first / e : 0.0;
  share["area"] = adc != kinds.end() && area > 0 ? adc->second.second / area : 0.0;
  a["adc_share"] = share;
  return a;
}

}  // namespace

RunResult run_scenario(config::Scenario sc, RunOptions ro, bool progress, Accuracy* acc_out, const FlowOptions& fo) {
  // Host time per stage of the flow (summary.json wall_stages_s; not deterministic).
  auto stage_t0 = std::chrono::steady_clock::now();
  auto stages = std::make_shared<trace::Json>(trace::Json::object());
  auto stage = [&stage_t0, stages](const char* name) {
    const auto now = std::chrono::steady_clock::now();
    (*stages)[name] = std::round(std::chrono::duration<double>(now - stage_t0).count() * 1e3) / 1e3;
    stage_t0 = now;
  };
  if (!ro.out_dir.empty()) std::filesystem::create_directories(ro.out_dir);
  nn::Graph g = load_model(sc, ro.out_dir.empty() ? std::string() : ro.out_dir + "/model.onnx");
  stage("model");
  const auto& ds = sc.dataset;
  DatasetSlice data = load_dataset(sc, g);
  stage("dataset");
  const bool scored = !data.labels.empty();  // synthetic images have no labels: no accuracy
  auto opt = compile_options(sc);
  // Activation scales from the TRAINING split, whatever split is inferred.
  opt.calibration = std::move(data.scales);
  if (sc.network.tiles == "auto") size_tiles(sc, compiler::tiles_needed(g, sc.chip.mapping));
  add_dma_dpu(sc);
  std::shared_ptr<const compiler::Image> img;
  double ops = 0;
  {
    auto net = compiler::compile(g, opt);
    ops = net.ops_per_inference;
    img = std::make_shared<const compiler::Image>(compiler::serialize(net), g.source);
  }  // the compiled network's copies of the weights are not needed any more
  g = nn::Graph();
  stage("compile");  // includes the activation scales (reference evaluator on the calibration images)

  Inputs in;
  in.count = ds.images;
  in.u8 = std::move(data.images);
  std::vector<uint8_t> labels = std::move(data.labels);
  const cimnet_header_t hdr = img->header();
  auto loader = std::make_shared<Loader>(std::move(img), std::move(in), false, sc.network.batch);
  loader->set_cpu_datapath(fo.cpu_datapath);
  if (sc.calibration.enabled) {
    // ADC calibration images: always the TRAINING split, never the images scored.
    const auto& cs = sc.calibration;
    Calibration cal;
    cal.count = cs.images;
    cal.u8 = std::move(data.adc_calibration);
    cal.mode = adc_mode_code(sc.chip.adc.mode);
    cal.flags = (cs.program == "write_verify" ? CIMNET_CAL_F_WRITE_VERIFY : 0u) |
                (cs.group == "array" ? CIMNET_CAL_F_GROUP_ARRAY : 0u) |
                (cs.group == "column_group" ? CIMNET_CAL_F_GROUP_COLUMNS : 0u);
    cal.samples = cs.samples;
    cal.group_cols = cs.group == "column_group" ? cs.group_cols : 0u;
    cal.sr_policy = cs.sr_policy == "zero_wins" ? CIMNET_CAL_SR_ZERO_WINS : CIMNET_CAL_SR_BOUNDARY;
    loader->set_calibration(std::move(cal));
  }
  loader->check(sc);

  Accuracy acc;
  CalibrationResult calres;
  const std::string out_dir = ro.out_dir;
  const std::size_t count = ds.images;
  ro.before_start = [loader, progress](Soc& soc) { loader->load(soc, progress); };
  // The caller's own after_run (tests reading the SoC) runs first, then the flow's.
  const auto caller_after_run = ro.after_run;
  ro.after_run = [&, caller_after_run](Soc& soc, RunResult& r) {
    (*stages)["simulate"] = std::round(r.wall_seconds * 1e3) / 1e3;
    r.summary_extra["wall_stages_s"] = *stages;
    if (caller_after_run) caller_after_run(soc, r);
    if (r.exit_status != 0) return;
    Results res = loader->collect(soc);
    if (res.done != count) {
      r.exit_status = 1;
      r.error = "firmware finished " + std::to_string(res.done) + " of " + std::to_string(count) + " images";
      return;
    }
    if (scored) acc = score(res.classes, labels);
    if (fo.classes) *fo.classes = res.classes;
    calres = loader->collect_calibration(soc);
    if (sc.calibration.enabled && !calres.done) {
      r.exit_status = 1;
      r.error = "the firmware did not finish the ADC calibration (see run.log)";
      return;
    }
    add_metrics(soc, r, count, ops, calres.done ? calres.time_ns() : 0.0);
    if (calres.done) {
      r.metrics["calibration_time_ns"] = calres.time_ns();
      r.metrics["calibration_images"] = static_cast<double>(sc.calibration.images);
      r.summary_extra["adc"] = adc_summary(sc, calres);
      if (!out_dir.empty()) write_adc_calibration_files(out_dir, soc, calres);
    }
    if (scored) r.metrics["accuracy"] = acc.accuracy();
    r.metrics["tiles"] = hdr.n_tiles;
    r.metrics["batch"] = hdr.batch;
    if (auto inf = inference_summary(soc, count, ops); inf.is_object()) r.summary_extra["inference"] = inf;
    if (scored && !out_dir.empty()) acc.write_csv(out_dir + "/accuracy.csv");
  };
  Soc soc(sc, ro);
  stage("elaborate");
  RunResult r = soc.run();
  if (acc_out) *acc_out = acc;
  if (calres.done && ro.echo_console) {
    // The one-off cost of the calibration, separate from inference (docs/calibration.md).
    std::ostringstream os;
    os << "cimvp: calibration " << calres.time_ns() * 1e-3 << " us simulated";
    if (r.metrics.count("calibration_energy_pj")) os << ", " << r.metrics["calibration_energy_pj"] * 1e-3 << " nJ";
    if (calres.prog_pulses()) os << ", " << calres.prog_pulses() << " write-verify pulses";
    if (r.metrics.count("inference_energy_pj"))
      os << "; inference " << r.metrics["inference_energy_pj"] * 1e-3 << " nJ";
    std::cout << os.str() << " (summary.json calibration_energy_pj / inference_energy_pj)\n";
  }
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

nn::Tensor infer_tensor(const nn::Graph& g, const nn::Tensor& x, config::Scenario sc, const InferOptions& io,
                        InferReport* report) {
  if (g.inputs.size() != 1 || g.outputs.size() != 1)
    throw nn::ModelError(g.source + ": cimvp infer runs graphs with one input and one output");
  // Shape/dtype check against the declared input (a dynamic batch may be any size).
  auto shapes = nn::infer_shapes(g, {{g.inputs[0].name, x.shape}});
  const nn::Shape out_shape = shapes.at(g.outputs[0].name);
  sc.firmware.app = "infer";
  if (io.ideal) make_ideal(sc);
  auto opt = compile_options(sc);
  opt.tiles_available = -1;
  opt.ideal = io.ideal;
  opt.float_inputs = true;  // the job carries float32 tensors: the DPU makes layer 0's codes
  InferReport rep;
  const bool fashion = x.shape.size() == 4 && x.shape[1] == 1 && x.shape[2] == 28 && x.shape[3] == 28;
  if (io.ideal) {
    opt.calibration = x;
    rep.calibration = "the input itself (--ideal: maximum, no clipping)";
  } else if (io.calibration) {
    opt.calibration = *io.calibration;
    rep.calibration = io.calibration_source.empty() ? std::string("the given calibration inputs") : io.calibration_source;
  } else {
    bool done = false;
    if (fashion) {
      try {
        opt.calibration = compiler::fashion_mnist_calibration(sc.dataset.calibration_images, sc.dataset.dir);
        rep.calibration = "the first " + std::to_string(opt.calibration.shape[0]) +
                          " Fashion-MNIST training images (" + sc.dataset.dir + ")";
        done = true;
      } catch (const std::exception&) {
      }
    }
    if (!done) {
      opt.calibration = x;
      rep.scales_from_input = true;
      rep.calibration = "the input tensor itself";
    }
  }
  opt.calibration_source = io.ideal ? "the input" : rep.calibration;
  size_tiles(sc, compiler::tiles_needed(g, sc.chip.mapping, io.ideal ? opt.ideal_weight_digits : 1));
  add_dma_dpu(sc);
  auto net = compiler::compile(g, opt);
  auto img = std::make_shared<const compiler::Image>(compiler::serialize(net), g.source);
  Inputs in;
  in.count = static_cast<std::size_t>(x.shape[0]);
  in.f32 = x.data;
  auto loader = std::make_shared<Loader>(img, std::move(in), true, sc.network.batch);
  loader->set_cpu_datapath(io.cpu_datapath);
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
    // What the DMA and DPU did (0 when every layer ran on the CPU path).
    for (const char* k : {"dma_descriptors", "dma_bytes", "dpu_ops", "dpu_elements"}) r.metrics[k] = 0;
    for (const auto& ev : soc.context().power.events()) {
      const std::string key = ev.component + "." + ev.name;
      if (key == "dma.descriptor") r.metrics["dma_descriptors"] += static_cast<double>(ev.count);
      if (key == "dma.byte_moved") r.metrics["dma_bytes"] += static_cast<double>(ev.count);
      if (key == "dpu.op") r.metrics["dpu_ops"] += static_cast<double>(ev.count);
      if (key == "dpu.element") r.metrics["dpu_elements"] += static_cast<double>(ev.count);
    }
  };
  Soc soc(sc, ro);
  RunResult r = soc.run();
  rep.run = r;
  if (report) *report = rep;
  if (r.exit_status != 0) throw std::runtime_error("infer: " + r.error);
  if (res.done != static_cast<uint32_t>(x.shape[0]))
    throw std::runtime_error("infer: firmware finished " + std::to_string(res.done) + " of " +
                             std::to_string(x.shape[0]) + " inputs");
  return nn::Tensor(out_shape, res.outputs);
}

nn::Tensor infer_tensor(const nn::Graph& g, const nn::Tensor& x, config::Scenario sc, bool ideal, RunResult* result) {
  InferOptions io;
  io.ideal = ideal;
  InferReport rep;
  try {
    nn::Tensor y = infer_tensor(g, x, std::move(sc), io, &rep);
    if (result) *result = rep.run;
    return y;
  } catch (...) {
    if (result) *result = rep.run;
    throw;
  }
}

}  // namespace cimvp::netrun
