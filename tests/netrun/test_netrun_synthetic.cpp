// The VGG8 study's path on a reduced VGG-shaped network: a generated ONNX model
// (netrun::make_vgg_onnx, written to a file and imported like any model), seeded synthetic
// CIFAR-like images (dataset: synthetic), the `infer` firmware on the chip's tiles, DMA and
// DPU, SAR ADCs, the sysctl metering the infer phase. The energy bookkeeping is checked against
// closed forms from the layer shapes and the tech table: ADC conversions, DAC row-cycles,
// buffer bytes, DMA bytes/descriptors, DPU elements/ops, tiles, ops; per-component energy =
// counts x the tech table's pJ; the infer phase's breakdown (summary `inference`) = the monitor's totals.
// One SoC per process.
#include "tests/support/sc_test_main.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "platform/dataset/synthetic.hpp"
#include "platform/netrun/netrun.hpp"
#include "platform/netrun/synthetic_model.hpp"
#include "platform/onnx/onnx_import.hpp"
#include "platform/trace/json.hpp"

using namespace cimvp;
using trace::Json;

namespace {

// Reduced VGG: 3x8x8 input, conv 16, conv 24 + pool, conv 20 + pool, FC 40, FC 10.
netrun::VggSpec mini_spec() {
  using K = netrun::VggLayer::Kind;
  netrun::VggSpec s;
  s.name = "vgg_mini";
  s.in_c = 3;
  s.in_h = s.in_w = 8;
  s.layers = {{K::Conv, 16, false}, {K::Conv, 24, true}, {K::Conv, 20, true}, {K::Fc, 40, false}, {K::Fc, 10, false}};
  return s;
}

// The layers as the chip sees them: positions P (before pooling), K, N, pooled outputs.
struct Shape {
  uint64_t P, K, N, pool_out;  // pool_out: pooled output positions (0: no pooling)
};
std::vector<Shape> shapes_of(const netrun::VggSpec& s) {
  std::vector<Shape> v;
  uint64_t c = s.in_c, h = s.in_h, w = s.in_w, flat = 0;
  for (const auto& l : s.layers) {
    if (l.kind == netrun::VggLayer::Kind::Conv) {
      const uint64_t po = l.pool ? (h / 2) * (w / 2) : 0;
      v.push_back({h * w, c * 9, uint64_t(l.out), po});
      c = l.out;
      if (l.pool) h /= 2, w /= 2;
    } else {
      const uint64_t k = flat ? flat : c * h * w;
      v.push_back({1, k, uint64_t(l.out), 0});
      flat = l.out;
    }
  }
  return v;
}

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

const std::string kDir = "synthetic_run";

std::string scenario_yaml(const std::string& model) {
  return "name: vgg-mini\n"
         "seed: 5\n"
         "sim: {quantum_ns: 10000, max_time_ms: 1000, power_bin_ns: 10000}\n"
         "firmware: {app: infer}\n"
         "trace: {vcd: false, trace_json: false}\n"
         "tech: " CIMVP_SOURCE_DIR "/scenarios/tech/rram22-sar.yaml\n"
         "chip:\n"
         "  crossbar: {rows: 128, cols: 128, weight_bits: 8, cell_bits: 2, input_bits: 8, dac_bits: 1,\n"
         "             sign: differential, device: {g_min_us: 100, g_max_us: 400}}\n"
         "  adc: {mode: sar, bits: 5, share: 8}\n"
         "  program: {mode: ideal}\n"
         "network: {model: " + model + ", tiles: auto}\n"
         "dataset: {name: synthetic, shape: [3, 8, 8], pixels: smooth, mean: [0.5, 0.5, 0.5],\n"
         "          std: 0.35, correlation_px: 1.5, images: 2, calibration_images: 2}\n"
         "memory_map:\n"
         "  - {name: sysctl,  block: sysctl,  base: 0x00000000, size: 0x1000}\n"
         "  - {name: irq,     block: irq,     base: 0x00001000, size: 0x1000}\n"
         "  - {name: pmu,     block: pmu,     base: 0x00002000, size: 0x1000}\n"
         "  - {name: sram,    block: sram,    base: 0x10000000, size: 0x00100000}\n"
         "  - {name: tile,    block: tile,    base: 0x40000000, size: 0x4000, count: 1, irq: 2}\n"
         "  - {name: hostmem, block: hostmem, base: 0x80000000, size: 0x01000000}\n";
}

// Sum of an energy event's counts over every component whose name ends with `suffix`
// (e.g. ".periphery" + "dac_row_cycle").
uint64_t event_count(const Json& s, const std::string& comp_suffix, const std::string& event) {
  uint64_t n = 0;
  const Json& ev = s.at("energy_events");
  const std::string tail = comp_suffix + "." + event;
  for (std::size_t i = 0; i < ev.keys().size(); ++i) {
    const auto& k = ev.keys()[i];
    if (k.size() >= tail.size() && k.compare(k.size() - tail.size(), tail.size(), tail) == 0)
      n += ev.items()[i].at("count").as_uint64();
  }
  return n;
}

}  // namespace

TEST_CASE("synthetic images are seeded per image and follow the configured statistics", "[netrun][synthetic]") {
  dataset::SyntheticSpec sp;
  sp.c = 3;
  sp.h = sp.w = 64;
  sp.mean = {0.49, 0.48, 0.45};
  sp.std = {0.20, 0.20, 0.20};
  sp.correlation_px = 2;
  const auto a = dataset::synthetic_images(sp, 8, dataset::Split::Test, 0, 3);
  const auto b = dataset::synthetic_images(sp, 8, dataset::Split::Test, 0, 3);
  const auto c = dataset::synthetic_images(sp, 8, dataset::Split::Test, 2, 1);   // image 2 alone
  const auto t = dataset::synthetic_images(sp, 8, dataset::Split::Train, 0, 1);  // other split
  const auto o = dataset::synthetic_images(sp, 9, dataset::Split::Test, 0, 1);   // other seed
  const std::size_t px = 3 * 64 * 64;
  REQUIRE(a == b);
  REQUIRE(std::equal(c.begin(), c.end(), a.begin() + 2 * px));
  REQUIRE(!std::equal(t.begin(), t.end(), a.begin()));
  REQUIRE(!std::equal(o.begin(), o.end(), a.begin()));
  // Each channel: mean and std of the clipped field within 0.01 of the target (clipping at
  // 0/1 happens beyond 2.2 sigma here and removes little), neighbours correlated.
  for (int ch = 0; ch < 3; ++ch) {
    double m = 0, q = 0, cov = 0;
    const uint8_t* p = a.data() + ch * 64 * 64;
    for (int i = 0; i < 64 * 64; ++i) m += p[i] / 255.0;
    m /= 64 * 64;
    for (int i = 0; i < 64 * 64; ++i) q += (p[i] / 255.0 - m) * (p[i] / 255.0 - m);
    q /= 64 * 64;
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 63; ++x) cov += (p[y * 64 + x] / 255.0 - m) * (p[y * 64 + x + 1] / 255.0 - m);
    cov /= 64 * 63;
    CHECK(std::fabs(m - sp.mean[ch]) < 0.01);
    CHECK(std::fabs(std::sqrt(q) - 0.20) < 0.01);
    // A Gaussian low-pass of std s gives neighbour correlation exp(-1 / (4 s^2)) = 0.94 at s = 2.
    CHECK(std::fabs(cov / q - std::exp(-1.0 / 16.0)) < 0.03);
  }
  sp.std = {0.2, 0.2};
  REQUIRE_THROWS_WITH(sp.validate("dataset."), Catch::Contains("dataset.std"));
}

TEST_CASE("the generated VGG8 has NeuroSim's shapes: 12.97 M weights on 6,344 arrays", "[netrun][synthetic]") {
  const auto spec = netrun::vgg8_cifar10();
  // NetWork_VGG8, 6 conv + 2 FC: 9 x (3x128 + 128x128 + 128x256 + 256x256 + 256x512 + 512x512)
  // + 8192x1024 + 1024x10 = 4,574,592 + 8,388,608 + 10,240.
  REQUIRE(netrun::vgg_weight_count(spec) == 12973440u);
  auto g = nn::load_onnx_bytes(netrun::make_vgg_onnx(spec, 8), "vgg8");
  REQUIRE(g.inputs.at(0).shape == nn::Shape({-1, 3, 32, 32}));
  crossbar::MappingParams m;  // 128x128, 8-bit weights, 2-bit cells, differential: 16 outputs per array
  uint64_t tiles = 0;
  for (const auto& s : shapes_of(spec)) tiles += ceil_div(s.K, 128) * ceil_div(s.N, 16);
  REQUIRE(tiles == 6344u);
  REQUIRE(compiler::tiles_needed(g, m) == 6344);
  // Same seed, same bytes; the weights are He-normal: std sqrt(2 / fan_in).
  REQUIRE(netrun::make_vgg_onnx(spec, 8) == netrun::make_vgg_onnx(spec, 8));
  const auto& w = g.initializers.at("conv4.weight");
  double q = 0;
  for (float v : w.data) q += double(v) * v;
  CHECK(std::fabs(std::sqrt(q / double(w.data.size())) / std::sqrt(2.0 / (256 * 9)) - 1.0) < 0.01);
}

TEST_CASE("a reduced VGG runs on synthetic images with closed-form energy bookkeeping", "[netrun][synthetic][e2e]") {
  const auto spec = mini_spec();
  std::filesystem::create_directories(kDir);
  const std::string model = kDir + "/mini.onnx";
  {
    std::ofstream f(model, std::ios::binary);
    f << netrun::make_vgg_onnx(spec, 5);
  }
  {
    std::ofstream f(kDir + "/mini.yaml");
    f << scenario_yaml(std::filesystem::absolute(model).string());
  }
  auto sc = config::load_scenario(kDir + "/mini.yaml");
  RunOptions ro;
  ro.out_dir = kDir + "/out";
  ro.echo_console = false;
  RunResult r = netrun::run_scenario(sc, ro, false);
  INFO(r.error);
  REQUIRE(r.exit_status == 0);
  REQUIRE(r.metrics.count("accuracy") == 0);  // synthetic images: no labels, no accuracy
  REQUIRE(!std::filesystem::exists(ro.out_dir + "/accuracy.csv"));

  const uint64_t images = 2, cycles = 8, slices = 4, rows = 128, lcols = 16;
  uint64_t conv = 0, dac = 0, buf = 0, tiles = 0, dma_bytes = 0, dma_desc = 0, dpu_elem = 0, dpu_ops = 0, taps = 0;
  double ops = 0;
  for (const auto& s : shapes_of(spec)) {
    const uint64_t rb = ceil_div(s.K, rows), cb = ceil_div(s.N, lcols);
    tiles += rb * cb;
    conv += images * s.P * cycles * slices * s.N * rb;        // every column of every tile, every cycle and slice
    dac += images * s.P * cycles * s.K * cb;                  // every row of every tile, every cycle
    buf += images * s.P * (s.K * cb + 4 * s.N * rb);          // uint8 codes in, float32 partial sums out
    dma_bytes += images * s.P * s.K;                          // im2col / copy output
    dma_desc += rb;                                           // one descriptor per row block (one batch)
    dpu_elem += rb * images * s.P * s.N;                      // row-block adds + the final op's inputs
    dpu_ops += rb;
    taps += images * s.pool_out * s.N * 4;                    // 2x2 max-pool
    ops += 2.0 * double(s.P * s.K * s.N);
  }
  const Json sum = Json::parse_file(ro.out_dir + "/summary.json");
  CHECK(sum.at("tiles").as_double() == double(tiles));
  // The batch capacity (SRAM-limited, at most 64) holds both images: one batch per layer, which
  // the descriptor and DPU-op counts below assume.
  CHECK(sum.at("batch").as_double() >= double(images));
  CHECK(sum.at("ops_per_inference").as_double() == ops);
  CHECK(event_count(sum, ".periphery", "column_mux") == conv);
  CHECK(event_count(sum, ".periphery", "shift_add") == conv);
  CHECK(event_count(sum, ".periphery", "dac_row_cycle") == dac);
  CHECK(event_count(sum, ".periphery", "buffer_byte") == buf);
  CHECK(event_count(sum, "dma", "byte_moved") == dma_bytes);
  CHECK(event_count(sum, "dma", "descriptor") == dma_desc);
  CHECK(event_count(sum, "dpu", "element") == dpu_elem);
  CHECK(event_count(sum, "dpu", "op") == dpu_ops);
  CHECK(event_count(sum, "dpu", "pool_tap") == taps);

  // Energy = counts x the tech table's figures. SAR, 5 bits (NeuroSim 22 nm): E = 0.7213 b^2
  // + 4.0254 b + 3.3041 fJ, no leakage; the ADC does nothing but convert in this run.
  const double e_sar = (0.7213 * 25 + 4.0254 * 5 + 3.3041) * 1e-3;  // pJ
  const double adc_pj = sum.at("energy_by_kind_pj").at("adc").as_double();
  CHECK(std::fabs(adc_pj - double(conv) * e_sar) <= 1e-9 * adc_pj);
  const double t_ns = sum.at("sim_time_ns").as_double();
  const double periph_pj = sum.at("energy_by_kind_pj").at("tile periphery").as_double();
  const double periph_ref = double(dac) * 0.05 + double(conv) * (0.01 + 0.03) + double(buf) * 0.6 +
                            double(tiles) * 2.0e-3 * t_ns;  // + 2 uW leakage per tile for the run
  CHECK(std::fabs(periph_pj - periph_ref) <= 1e-6 * periph_ref);
  CHECK(sum.at("energy_by_kind_pj").at("crossbar array").as_double() > 0);  // V^2 G t of the reads

  // The infer phase's breakdown (summary `inference`) holds the same conversions: they all
  // happen in the infer phase (no calibration here), so up to float rounding.
  const Json& inf = sum.at("inference");
  const double adc_inf = inf.at("energy_by_kind_pj").at("adc").as_double();
  CHECK(std::fabs(adc_inf - adc_pj) <= 1e-9 * adc_pj);
  CHECK(inf.at("energy_pj").as_double() <= sum.at("energy_pj").as_double());
  // Per-component sum = the phase's total (dynamic total + chip leakage x phase time).
  const double e_inf = sum.at("inference_energy_pj").as_double();
  CHECK(std::fabs(inf.at("energy_pj").as_double() - e_inf) <= 1e-9 * e_inf);
  const double share = inf.at("adc_share").at("energy").as_double();
  CHECK(std::fabs(share - adc_inf / inf.at("energy_pj").as_double()) < 1e-12);
  // ADC area share: 16 SAR ADCs per tile, (500 + 60 x 2^5) um2 each.
  const double adc_area = double(tiles) * 16 * (500 + 60 * 32);
  CHECK(std::fabs(sum.at("area_by_kind_um2").at("adc").as_double() - adc_area) < 1e-6 * adc_area);
  CHECK(std::fabs(inf.at("adc_share").at("area").as_double() - sum.at("adc_share").at("area").as_double()) < 1e-12);
  // The run wrote the model it generated? No: this model came from a file; the run reads it.
  CHECK(!std::filesystem::exists(ro.out_dir + "/model.onnx"));
}

CIMVP_SC_TEST_MAIN
