// The scenario: everything a run needs, loaded from YAML into typed structs and validated
// once at load. Blocks read only these structs, never YAML.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/crossbar/crossbar.hpp"
#include "models/progctl/write_verify.hpp"
#include "platform/config/config_node.hpp"

namespace cimvp::config {

// One entry of the bus address map.
struct MemoryMapEntry {
  std::string name;   // instance name, unique (e.g. "tile0")
  std::string block;  // block kind (sysctl, irq, sram, hostmem, tile, ...)
  uint64_t base = 0;
  uint64_t size = 0;
  int irq = -1;       // interrupt line, -1 if the block has none
  std::string where;  // file:line:col of the entry, for later errors
};

// Technology figures of the platform infrastructure. Each number's source is written
// beside it in the tech YAML (scenarios/tech/*.yaml). No defaults here: read_tech requires
// every section and every figure, so a value never comes from C++ without a source.
struct TechHostCpu {
  double clock_mhz = 0;
  double cycles_per_access = 0;        // instructions around one load/store
  double energy_pj_per_cycle = 0;
  double area_um2 = 0;
  double leakage_uw = 0;
};
struct TechBus {
  double latency_ns = 0;
  double energy_pj_per_transaction = 0;
  double energy_pj_per_byte = 0;
  double area_um2 = 0;
  double leakage_uw = 0;
};
struct TechSram {
  double latency_ns = 0;
  double bytes_per_ns = 0;  // bandwidth for bursts
  double read_pj_per_byte = 0;
  double write_pj_per_byte = 0;
  double area_um2_per_kib = 0;
  double leakage_uw_per_kib = 0;
};
struct TechRegisters {
  double access_ns = 0;
  double energy_pj_per_access = 0;
  double area_um2 = 0;
  double leakage_uw = 0;
};
// Crossbar tile: array read, drivers, column mux, shift-and-add, buffers.
struct TechCrossbar {
  double v_read = 0;              // read voltage (V)
  double t_read_ns = 0;            // read pulse per input cycle
  double dac_pj_per_row_cycle = 0;  // DAC/driver energy per active row per input cycle
  double mux_pj_per_conversion = 0; // column mux switching per conversion
  double shift_add_pj_per_op = 0;   // one shift-and-add of one conversion result
  double shift_add_ns_per_vector = 0;
  double buffer_pj_per_byte = 0;    // tile input/output buffers
  double cell_area_um2 = 0;         // one 1T1R cell
  double periphery_area_um2 = 0;    // drivers, mux, shift-add, buffers of one tile
  double array_leakage_uw = 0;
  double periphery_leakage_uw = 0;
};

// One ADC type: figures as a function of bits b: x = c0 + c1*b + c2*2^b + c3*b^2 (c3: NeuroSim's
// SAR energy, column power linear in b times (b+1) cycles, is quadratic in b).
struct AdcFormula {
  double c0 = 0, c1 = 0, c2 = 0, c3 = 0;
  double at(int bits) const {
    return c0 + c1 * bits + c2 * static_cast<double>(1u << bits) + c3 * static_cast<double>(bits) * bits;
  }
};
struct TechAdcType {
  AdcFormula energy_pj;  // per conversion
  AdcFormula time_ns;    // per conversion
  AdcFormula area_um2;   // per ADC
  AdcFormula leakage_uw; // per ADC
};
struct TechAdc {
  TechAdcType ideal, sar, flash, qcell;
  double capture_pj_per_sample = 0;  // high-resolution calibration path
  double capture_ns_per_sample = 0;
};

// Programming controller: per-pulse and per-verify costs beyond the cells' own V^2*G*t.
struct TechProgram {
  double pulse_overhead_ns = 0;  // driver settling around each pulse
  double verify_read_ns = 0;     // one verify read (sense + compare)
  double set_driver_pj = 0;       // driver energy per SET pulse
  double reset_driver_pj = 0;
  double verify_read_pj = 0;
  double area_um2 = 0;
  double leakage_uw = 0;
  // Write model of the cells under write-verify (program.device) and the controller's pulse
  // schedule and defaults (program.write_verify); docs/progctl.md lists the keys.
  progctl::DeviceParams device;
  double fresh_g_us = 10;  // program.device.g_fresh_us: a cell never programmed before
  progctl::WriteVerifyParams write_verify;
};

// DMA engine: per-descriptor setup, streaming bandwidth, datapath energy (docs/dma.md).
struct TechDma {
  double setup_ns_per_descriptor = 0;  // descriptor fetch decode + address generator set-up
  double bytes_per_ns = 0;             // engine datapath bandwidth
  double pj_per_byte = 0;             // engine datapath + staging buffer per byte moved
  double pj_per_descriptor = 0;
  double area_um2 = 0;
  double leakage_uw = 0;
};
// DPU: per-op setup, per-element and per-pooling-tap time and energy (docs/dpu.md).
struct TechDpu {
  double setup_ns_per_op = 0;
  double ns_per_element = 0;   // input elements (scale, bias, residual, ReLU, requantise)
  double ns_per_pool_tap = 0;
  double pj_per_element = 0;
  double pj_per_pool_tap = 0;
  double pj_per_op = 0;
  double area_um2 = 0;
  double leakage_uw = 0;
};

struct Tech {
  std::string name;
  std::string file;
  TechHostCpu host_cpu;
  TechBus bus;
  TechSram sram;
  TechSram hostmem;
  TechRegisters registers;
  TechCrossbar crossbar;
  TechAdc adc;
  TechProgram program;
  TechDma dma;
  TechDpu dpu;
};

// The ADC bank of every tile.
struct AdcParams {
  std::string mode = "ideal";     // ideal | sar | flash | qcell | qcell_sr
  int bits = 5;                   // 2..8
  int share = 8;                  // columns multiplexed per ADC (NeuroSim's numColMuxed)
  std::string range = "calibrated";  // sar/flash: design full scale or calibrated [min, max]
  std::string uniform_shape = "mid_tread";  // sar/flash transfer: mid_tread (signed, 0 is a level) | min_max
                                            // (2^b levels from lo to hi); reset value of ADC_UNIFORM_SHAPE
  double variation_frac = 0.0;    // Q-cell edge sigma as a fraction of the input range
  double comparator_offset_frac = 0.0;  // SAR/flash comparator offset sigma, fraction of range
  int sr_copies = 2;              // ADCs per super-resolution group (2 = pair, 3+ = majority)
};

// How weights reach the arrays. tolerance_us, max_pulses and scheme default to the tech
// table's program.write_verify values (the PROG_TOL/MAX_PULSES/SCHEME reset values).
struct ProgramParams {
  std::string mode = "ideal";  // ideal (one-shot with programming error) | write_verify
  double tolerance_us = 5.0;   // write-verify acceptance band (models/progctl, docs/progctl.md)
  uint32_t max_pulses = 100;
  std::string scheme = "ispp";  // ispp | fixed
};

// Chip-level parameters shared by all tiles.
struct ChipParams {
  crossbar::DeviceParams device;
  crossbar::MappingParams mapping;
  AdcParams adc;
  ProgramParams program;
  // chip.crossbar.device.drift.read_delay_s: retention time between programming and the
  // first inference, added to the simulated time since programming (docs/tile.md).
  double drift_read_delay_s = 0;
};

struct SimParams {
  double quantum_ns = 1000;   // tlm_quantumkeeper global quantum
  double max_time_ms = 60000; // a firmware that never exits is stopped here (exit 1)
  double power_bin_ns = 1000; // power-trace bin width
};

struct FirmwareParams {
  std::string app = "selftest";
  uint32_t arg0 = 0;
  uint32_t arg1 = 0;
};

// The network flow (docs/network.md): the model the chip runs and how it is compiled.
struct NetworkParams {
  std::string model;  // resolved path of the ONNX model ("" = no network); relative to the scenario file,
                      // or "generated:<name>" (a synthetic model the run generates, generated_model_names())
  std::string tiles = "memory_map";  // memory_map: the tiles listed there; auto: as many as the network needs
  double calibration_percentile = 99.99;  // activation scale = this percentile / max code (assumption)
  uint32_t batch = 0;  // images per tile batch; 0 = as many as SRAM holds (at most 64)
};

// Images the network runs on: Fashion-MNIST IDX files (Debian package dataset-fashion-mnist)
// or seeded synthetic images (name: synthetic; docs/network.md "Synthetic inputs").
struct DatasetParams {
  std::string name = "fashion-mnist";  // fashion-mnist | synthetic
  std::string dir = "/usr/share/datasets/fashion-mnist";
  // synthetic only: image shape C, H, W; pixel statistics (platform/dataset/synthetic.hpp).
  std::vector<uint32_t> shape;
  std::string pixels = "smooth";     // smooth | uniform
  std::vector<double> mean, std;     // per channel (or one value), pixel units [0, 1]
  double correlation_px = 2.0;       // smooth: std of the Gaussian low-pass, pixels
  std::string split = "test";      // test | train: the split inferred
  uint64_t first = 0;              // first image of the slice
  uint64_t images = 200;           // images inferred (cimvp run --images N)
  uint64_t calibration_images = 500;  // training-split images for the activation scales
};

// ADC calibration by the firmware before inference (docs/calibration.md, firmware/lib/fw_calib.h).
struct CalibrationParams {
  bool enabled = false;              // the section is present and enabled
  uint64_t images = 200;             // TRAINING-split images run through the network
  uint64_t first = 0;                // first training image
  uint32_t samples = 65536;          // capture capacity per ADC group (decimation fits the data to it)
  std::string group = "layer";       // layer: one per layer | array: one per tile | column_group: one per
                                     // group_cols physical columns of each tile (the bank's threshold sets)
  uint32_t group_cols = 0;           // column_group: physical columns per group (multiple of chip.adc.share)
  std::string program = "direct";    // direct: APPLY sets edges (chip.adc.variation_frac error) | write_verify
  std::string sr_policy = "boundary";  // qcell_sr decoder: boundary (paper) | zero_wins (docs/calibration.md)
};

struct TraceParams {
  bool vcd = true;
  bool trace_json = true;
  uint64_t max_bus_slices = 200000;  // beyond this, bus transactions are counted, not sliced
  uint64_t max_adc_slices = 20000;   // beyond this, ADC conversion phases are counted, not sliced
  double vcd_max_mb = 256;           // signals.vcd size cap in MiB (0: none); past it, changes are not recorded
  std::string power_series = "component";  // power.csv/power.vcd/trace.json counters: component | kind
};

struct Scenario {
  std::string name;
  std::string file;  // where it came from ("embedded:scenarios/default.yaml" or a path)
  uint64_t seed = 1;
  SimParams sim;
  FirmwareParams firmware;
  TraceParams trace;
  Tech tech;
  ChipParams chip;
  NetworkParams network;
  DatasetParams dataset;
  CalibrationParams calibration;
  std::vector<MemoryMapEntry> memory_map;

  const MemoryMapEntry* find(const std::string& name) const;
};

struct LoadOptions {
  std::vector<std::string> overrides;  // --set KEY=VALUE, applied in order
  bool has_seed = false;               // --seed N
  uint64_t seed = 0;
};

// The selftest platform (no network), compiled into the binary; module tests build on it.
inline constexpr const char* kSelftestScenario = "embedded:scenarios/selftest.yaml";

// Loads and validates a scenario file (or the embedded default when path is empty).
// Throws ConfigError with file:line:column and key path on any problem.
Scenario load_scenario(const std::string& path, const LoadOptions& options = {});

// Firmware applications the platform can boot (validated in firmware.app).
const std::vector<std::string>& firmware_app_names();

// Models a scenario can name as `network.model: generated:<name>` (platform/netrun/synthetic_model.hpp).
inline constexpr const char* kGeneratedPrefix = "generated:";
const std::vector<std::string>& generated_model_names();

}  // namespace cimvp::config
