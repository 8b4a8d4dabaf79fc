// Network flow on the platform: compile the scenario's model, load the network image and a
// dataset slice into host memory, the tiles' weight blocks through Tile::load_block (the
// documented platform backdoor that stands for the mapping configuration), run the `infer`
// firmware, read back the classes it wrote, score them. Also `cimvp infer` on a tensor.
// docs/network.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cimvp/netimage.h"
#include "platform/compiler/compiler.hpp"
#include "platform/config/scenario.hpp"
#include "platform/onnx/graph.hpp"
#include "platform/netrun/synthetic_model.hpp"
#include "platform/soc/soc.hpp"

namespace cimvp::netrun {

// What the firmware runs: count inputs of the image's input size.
struct Inputs {
  std::size_t count = 0;
  std::vector<uint8_t> u8;  // CIMNET_IN_U8 pixels (x = pixel * in_scale), or empty
  std::vector<float> f32;   // CIMNET_IN_F32 values, or empty
  float in_scale = 1.0f / 255.0f;
};

// ADC calibration the firmware runs before inference (docs/calibration.md): what the loader
// puts in the job block, and what the firmware leaves in the result area.
struct Calibration {
  std::size_t count = 0;       // training images (uint8 pixels, the inputs' size each)
  std::vector<uint8_t> u8;
  uint32_t mode = 0;           // ADC_MODE_* after calibration
  uint32_t flags = 0;          // CIMNET_CAL_F_*
  uint32_t samples = 65536;    // capture capacity per group
  uint32_t group_cols = 0;     // CIMNET_CAL_F_GROUP_COLUMNS: physical columns per group
  uint32_t sr_policy = 0;      // CIMNET_CAL_SR_*
};
struct CalibrationResult {
  bool done = false;
  cimnet_calib_header_t header{};
  std::vector<cimnet_calib_result_t> groups;
  // Bank counters summed over the network's tiles after the run (inference + calibration).
  uint64_t conversions = 0, sr_disagreements = 0, gaps = 0, overlaps = 0;
  double time_ns() const { return double((uint64_t(header.time_ns_hi) << 32) | header.time_ns_lo); }
  uint64_t prog_pulses() const { return (uint64_t(header.prog_pulses_hi) << 32) | header.prog_pulses; }
  uint64_t calib_conversions() const { return (uint64_t(header.conv_hi) << 32) | header.conv_lo; }
};

struct Results {
  uint32_t done = 0;               // inputs the firmware completed
  std::vector<uint32_t> classes;   // argmax per input
  std::vector<float> outputs;      // count x out_count when requested
};

// Host-memory layout of one job (docs/network-image.md): job block at 0, then the image,
// the inputs, the classes and the outputs, each 4 KiB aligned.
class Loader {
 public:
  Loader(std::shared_ptr<const compiler::Image> image, Inputs inputs, bool want_outputs, uint32_t batch = 0);

  // Throws std::invalid_argument naming the memory-map entry when the scenario lacks what
  // the job needs (tiles, SRAM or host-memory size).
  void check(const config::Scenario& sc) const;
  // Before sc_start: job block, image and inputs into hostmem; weight blocks into the tiles
  // (chip.program.mode ideal: Tile::program_ideal). Optional progress on stderr. Releases
  // the loader's reference to the image (call once).
  void load(Soc& soc, bool progress);
  // After the run.
  Results collect(Soc& soc) const;
  // Calibration images and settings (before check/load); the result area after the run.
  void set_calibration(Calibration c);
  // Comparison runs: im2col and post-processing on the CPU even where the DMA/DPU could
  // run them (job flag CIMNET_JOB_F_CPU_DATAPATH).
  void set_cpu_datapath(bool on) { cpu_datapath_ = on; }
  CalibrationResult collect_calibration(Soc& soc) const;
  uint64_t hostmem_bytes() const { return end_; }

 private:
  std::shared_ptr<const compiler::Image> img_;  // released once load() has copied it
  cimnet_header_t hdr_;
  Inputs in_;
  bool want_outputs_;
  uint32_t batch_;
  uint64_t image_off_ = 0, input_off_ = 0, class_off_ = 0, output_off_ = 0, end_ = 0;
  Calibration cal_;
  bool cpu_datapath_ = false;
  uint64_t cal_input_off_ = 0, cal_result_off_ = 0;
  uint64_t max_groups() const;  // calibration result records the area holds
};

// Tile entries of the memory map (in discovery order).
int tile_count(const config::Scenario& sc);
// network.tiles: auto — sets the count of the scenario's tile entries to `needed` (extends
// the last tile run, or adds one at 0x40000000 on a free IRQ line). Throws on overlaps.
void size_tiles(config::Scenario& sc, int needed);
// The network flow's data movers: adds a `dma` and a `dpu` entry (0x1000 bytes each, at the
// first free 4 KiB slots below the SRAM, on free IRQ lines) when the memory map lacks them.
// Throws std::invalid_argument when no slot or line is free.
void add_dma_dpu(config::Scenario& sc);
// Compile options from the scenario's chip, memory map and network sections.
compiler::CompileOptions compile_options(const config::Scenario& sc);
// The scenario's model (path relative to the scenario file, embedded files included, or a
// `generated:<name>` model from synthetic_model.hpp, then also written to save_generated
// when that is not empty).
nn::Graph load_model(const config::Scenario& sc, const std::string& save_generated = "");

// The images a network run uses (dataset section): the inferred slice, its labels (none for
// synthetic images), the compiler's activation-scale inputs (training split, [n, C, H, W],
// pixel = code / 255) and the ADC calibration images (training split) when calibration runs.
// Throws std::invalid_argument naming the key for a dataset that does not fit the model.
struct DatasetSlice {
  std::size_t pixels_per_image = 0;
  std::vector<uint8_t> images;           // dataset.images x pixels, uint8 CHW
  std::vector<uint8_t> labels;           // empty: no labels, no accuracy
  nn::Tensor scales;                     // dataset.calibration_images, float
  std::vector<uint8_t> adc_calibration;  // calibration.images x pixels
};
DatasetSlice load_dataset(const config::Scenario& sc, const nn::Graph& g);

struct Accuracy {
  std::size_t images = 0, correct = 0;
  int classes = 10;
  std::vector<std::vector<uint64_t>> confusion;  // [true][predicted]
  double accuracy() const { return images ? double(correct) / double(images) : 0.0; }
  double class_accuracy(int c) const;
  // class,name,images,correct,accuracy,pred_0..pred_{C-1}; a final "all" row.
  void write_csv(const std::string& path) const;
};
Accuracy score(const std::vector<uint32_t>& predicted, const std::vector<uint8_t>& labels, int classes = 10);

// summary.json `adc` object (docs/outputs.md, docs/calibration.md): mode, bits, the calibration
// settings and every group's result (the flow hands it to the SoC's outputs, summary_extra).
trace::Json adc_summary(const config::Scenario& sc, const CalibrationResult& cr);

// `cimvp run` for a scenario with a network section: compile, load, run, score, write
// accuracy.csv and the summary metrics. progress: show progress on stderr.
struct FlowOptions {
  bool cpu_datapath = false;                // the firmware's CPU path for every layer (comparison runs)
  std::vector<uint32_t>* classes = nullptr;  // if set: the class the chip gave each image
};
RunResult run_scenario(config::Scenario sc, RunOptions ro, bool progress, Accuracy* acc_out = nullptr,
                       const FlowOptions& fo = FlowOptions());

// `cimvp infer`: the chip's data path on one tensor [N, ...] (batch N >= 1).
struct InferOptions {
  // Float conductances, no programming error/noise, ideal ADC, 16-bit weights, 24-bit inputs
  // (three 8-bit digit passes) with scales from x itself (max, no clipping): the numerical
  // comparison with the reference evaluator, not an accuracy figure.
  bool ideal = false;
  // Non-ideal: training inputs [n, ...] for the activation scales (`--calibration FILE`).
  // Without them: Fashion-MNIST training images when the model takes 1x28x28 and the dataset
  // is installed, else x itself (test-set leakage: InferReport says so, the CLI warns).
  const nn::Tensor* calibration = nullptr;
  std::string calibration_source;  // its file name, for messages
  bool cpu_datapath = false;        // every layer on the firmware's CPU path (comparisons)
};
struct InferReport {
  RunResult run;             // metrics include dma_descriptors, dma_bytes, dpu_ops, dpu_elements
  std::string calibration;   // what the activation scales came from
  bool scales_from_input = false;  // non-ideal and calibrated on x itself
};
// Throws nn::ModelError for bad models/tensors, std::runtime_error on faults.
nn::Tensor infer_tensor(const nn::Graph& g, const nn::Tensor& x, config::Scenario sc, const InferOptions& io,
                        InferReport* report = nullptr);
nn::Tensor infer_tensor(const nn::Graph& g, const nn::Tensor& x, config::Scenario sc, bool ideal,
                        RunResult* result = nullptr);
// The chip changes --ideal makes (exposed for tests and docs).
void make_ideal(config::Scenario& sc);

}  // namespace cimvp::netrun
