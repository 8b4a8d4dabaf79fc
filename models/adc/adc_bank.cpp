#include "models/adc/adc_bank.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cimvp/regs.h"
#include "models/adc/adc_core.hpp"
#include "models/crossbar/tile.hpp"
#include "platform/tracing/tracer.hpp"

namespace cimvp {

namespace {

uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

const char* mode_name(uint32_t m) {
  switch (m) {
    case ADC_MODE_SAR: return "sar";
    case ADC_MODE_FLASH: return "flash";
    case ADC_MODE_QCELL: return "qcell";
    case ADC_MODE_QCELL_SR: return "qcell_sr";
    default: return "ideal";
  }
}

uint32_t mode_code(const std::string& m) {
  if (m == "sar") return ADC_MODE_SAR;
  if (m == "flash") return ADC_MODE_FLASH;
  if (m == "qcell") return ADC_MODE_QCELL;
  if (m == "qcell_sr") return ADC_MODE_QCELL_SR;
  return ADC_MODE_IDEAL;
}

}  // namespace

// The converters of one bank for the present register settings, built on the pure core.
class AdcConverters {
 public:
  std::unique_ptr<adc::Adc> adc;
  adc::QCellAdc* qcell = nullptr;   // plain Q-cell mode
  adc::QCellSrAdc* sr = nullptr;    // super-resolution mode
  adc::ConversionStats stats;
  std::vector<std::vector<double>> pending_g;  // Q-cell conductances written by progctl, per copy
};

// One threshold set: its register windows, converters and per-set capture slot.
struct AdcBank::ThresholdSet {
  std::vector<float> levels = std::vector<float>(256, 0.f);      // ADC_LEVEL window
  std::vector<float> thresholds = std::vector<float>(255, 0.f);  // ADC_THRESH window
  float range_lo = 0.f, range_hi = 0.f;                          // ADC_RANGE_LO/HI
  uint32_t sr_zero_code = ADC_SR_ZERO_NONE;                      // ADC_SR_ZERO_CODE
  std::unique_ptr<AdcConverters> conv;
  std::vector<float> captured;  // per-set capture (ADC_CAP_CTRL_PER_SET)
  uint32_t cap_count = 0;
  uint64_t seen = 0;
};

AdcBank::AdcBank(const std::string& name, Context& ctx, Tile& tile)
    : ctx_(ctx), tile_(tile), name_(name), regs_(name) {
  const auto& p = ctx.scenario.chip.adc;
  const auto& map = ctx.scenario.chip.mapping;
  n_adcs_ = static_cast<unsigned>(std::max(1, map.cols / p.share));
  sets_.resize(1);

  using A = RegAccess;
  regs_.add("ADC_MODE", ADC_MODE, mode_code(p.mode), A::RW);
  regs_.add("ADC_BITS", ADC_BITS, static_cast<uint32_t>(p.bits), A::RW);
  regs_.add("ADC_UNIFORM_SHAPE", ADC_UNIFORM_SHAPE, p.uniform_shape == "min_max" ? ADC_SHAPE_MIN_MAX : ADC_SHAPE_MID_TREAD,
            A::RW);
  regs_.add("ADC_RANGE_LO", ADC_RANGE_LO, float_bits(0.f), A::RW, [this] { return float_bits(sel().range_lo); },
            [this](uint32_t v) { sel().range_lo = bits_float(v); });
  regs_.add("ADC_RANGE_HI", ADC_RANGE_HI, float_bits(0.f), A::RW, [this] { return float_bits(sel().range_hi); },
            [this](uint32_t v) { sel().range_hi = bits_float(v); });
  regs_.add("ADC_APPLY", ADC_APPLY, 0, A::WO, {}, [this](uint32_t v) {
    if (v & 1u) apply();
  });
  regs_.add("ADC_NADCS", ADC_NADCS, n_adcs_, A::RO);
  regs_.add("ADC_SHARE", ADC_SHARE, static_cast<uint32_t>(p.share), A::RO);
  regs_.add("ADC_CAP_ADDR", ADC_CAP_ADDR, 0, A::RW);
  regs_.add("ADC_CAP_MAX", ADC_CAP_MAX, 0, A::RW);
  regs_.add("ADC_CAP_DECIM", ADC_CAP_DECIM, 1, A::RW);
  regs_.add("ADC_CAP_CTRL", ADC_CAP_CTRL, 0, A::RW, {}, [this](uint32_t v) {
    // bit1: restart the capture buffer (self-clearing), so firmware can calibrate again.
    if (v & ADC_CAP_CTRL_RESET) {
      cap_count_ = 0;
      captured_.clear();
      for (auto& st : sets_) {
        st.cap_count = 0;
        st.captured.clear();
      }
      regs_.value(ADC_CAP_CTRL) &= ~ADC_CAP_CTRL_RESET;
    }
  });
  regs_.add("ADC_CAP_COUNT", ADC_CAP_COUNT, 0, A::RO, [this] {
    uint32_t n = cap_count_;
    for (const auto& st : sets_) n += st.cap_count;
    return n;
  });
  regs_.add("ADC_CAP_SEEN", ADC_CAP_SEEN, 0, A::RO, [this] { return static_cast<uint32_t>(seen_); });
  regs_.add("ADC_CAP_SET_COUNT", ADC_CAP_SET_COUNT, 0, A::RO, [this] { return sel().cap_count; });
  regs_.add("ADC_CAP_SET_SEEN", ADC_CAP_SET_SEEN, 0, A::RO, [this] { return static_cast<uint32_t>(sel().seen); });
  regs_.add("ADC_CONV_LO", ADC_CONV_LO, 0, A::RO, [this] { return static_cast<uint32_t>(conversions_); });
  regs_.add("ADC_CONV_HI", ADC_CONV_HI, 0, A::RO, [this] { return static_cast<uint32_t>(conversions_ >> 32); });
  regs_.add("ADC_GAPS", ADC_GAPS, 0, A::RO, [this] { return static_cast<uint32_t>(stats().gaps); });
  regs_.add("ADC_OVERLAPS", ADC_OVERLAPS, 0, A::RO, [this] { return static_cast<uint32_t>(stats().overlaps); });
  regs_.add("ADC_SR_DISAGREE", ADC_SR_DISAGREE, 0, A::RO,
            [this] { return static_cast<uint32_t>(stats().disagreements); });
  regs_.add("ADC_GMIN", ADC_GMIN, float_bits(static_cast<float>(ctx.scenario.chip.device.g_min_us)), A::RO);
  regs_.add("ADC_GMAX", ADC_GMAX, float_bits(static_cast<float>(ctx.scenario.chip.device.g_max_us)), A::RO);
  regs_.add("ADC_SR_COPIES", ADC_SR_COPIES, 0, A::RO, [this] { return qcell_copy_count(); });
  regs_.add("ADC_EDGE_SIGMA", ADC_EDGE_SIGMA, float_bits(static_cast<float>(p.variation_frac)), A::RO);
  regs_.add("ADC_SET_COLS", ADC_SET_COLS, 0, A::RW, [this] { return set_cols_; },
            [this](uint32_t v) { set_columns(v); });
  regs_.add("ADC_NSETS", ADC_NSETS, 1, A::RO, [this] { return static_cast<uint32_t>(sets_.size()); });
  regs_.add("ADC_SET_SEL", ADC_SET_SEL, 0, A::RW, [this] { return static_cast<uint32_t>(sel_); }, [this](uint32_t v) {
    if (v < sets_.size())
      sel_ = v;
    else
      SC_REPORT_WARNING(name_.c_str(), ("ADC_SET_SEL " + std::to_string(v) + " >= ADC_NSETS " +
                                        std::to_string(sets_.size()) + "; selection unchanged").c_str());
  });
  regs_.add("ADC_EDGE_COPY", ADC_EDGE_COPY, 0, A::RW, [this] { return static_cast<uint32_t>(edge_copy_); },
            [this](uint32_t v) {
              if (v < std::max(1u, qcell_copy_count()))
                edge_copy_ = v;
              else
                SC_REPORT_WARNING(name_.c_str(), ("ADC_EDGE_COPY " + std::to_string(v) + " >= the " +
                                                  std::to_string(qcell_copy_count()) +
                                                  " Q-cell ADC copies; selection unchanged").c_str());
            });
  regs_.add("ADC_SR_ZERO_CODE", ADC_SR_ZERO_CODE, ADC_SR_ZERO_NONE, A::RW, [this] { return sel().sr_zero_code; },
            [this](uint32_t v) { sel().sr_zero_code = v; });
  // Windows as register arrays (one declaration each: a chip has thousands of banks); they
  // address the set ADC_SET_SEL selects.
  regs_.add_array("ADC_EDGE", ADC_EDGE(0), 512, 0, A::RO, [this](uint32_t i) {
    // Achieved edges of the selected set's ADC copy ADC_EDGE_COPY (0: the single ADC or the
    // first of an SR group).
    const AdcConverters& cv = *sel().conv;
    const adc::QCellAdc* q = cv.qcell ? cv.qcell
                             : cv.sr && edge_copy_ < cv.sr->copies().size() ? &cv.sr->copies()[edge_copy_]
                                                                            : nullptr;
    if (!q) return float_bits(0.f);
    auto e = q->achieved_edges();
    return float_bits(i < e.size() ? static_cast<float>(e[i]) : 0.f);
  });
  regs_.add_array("ADC_LEVEL", ADC_LEVEL(0), 256, 0, A::RW, [this](uint32_t i) { return float_bits(sel().levels[i]); },
                  [this](uint32_t i, uint32_t v) { sel().levels[i] = bits_float(v); });
  regs_.add_array("ADC_THRESH", ADC_THRESH(0), 255, 0, A::RW,
                  [this](uint32_t i) { return float_bits(sel().thresholds[i]); },
                  [this](uint32_t i, uint32_t v) { sel().thresholds[i] = bits_float(v); });

  const auto& ty = tech_type(mode_code(p.mode));
  component_ = ctx.power.component(name_, ty.area_um2.at(p.bits) * n_adcs_ * (p.mode == "qcell_sr" ? p.sr_copies : 1),
                                   ty.leakage_uw.at(p.bits) * n_adcs_);
  ev_capture_ = ctx.power.event(component_, "capture_sample", ctx.scenario.tech.adc.capture_pj_per_sample);
  apply();
}

AdcBank::~AdcBank() = default;

const config::TechAdcType& AdcBank::tech_type(uint32_t mode) const {
  const auto& t = ctx_.scenario.tech.adc;
  if (mode == ADC_MODE_SAR) return t.sar;
  if (mode == ADC_MODE_FLASH) return t.flash;
  if (mode == ADC_MODE_QCELL || mode == ADC_MODE_QCELL_SR) return t.qcell;
  return t.ideal;
}

// Time and energy per conversion follow the converters the firmware last applied
// (ADC_MODE / ADC_BITS at APPLY), not the scenario's reset values.
double AdcBank::conversion_ns() const { return tech_type(applied_mode_).time_ns.at(applied_bits_); }

double AdcBank::conversion_pj() const {
  return tech_type(applied_mode_).energy_pj.at(applied_bits_) * static_cast<double>(applied_copies_);
}

void AdcBank::access(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  regs_.access(gp);
  delay += sc_core::sc_time(ctx_.scenario.tech.registers.access_ns, sc_core::SC_NS);
}

double AdcBank::design_full_scale() const {
  // The converters' design range: every row at its largest digit (the layer-independent
  // full scale a fixed ADC is built for), in digits.
  const auto& m = ctx_.scenario.chip.mapping;
  return static_cast<double>(m.rows) * ((1 << m.cell_bits) - 1) * ((1 << m.dac_bits) - 1);
}

AdcBank::ThresholdSet& AdcBank::sel() { return sets_[sel_]; }

unsigned AdcBank::threshold_sets() const { return static_cast<unsigned>(sets_.size()); }

adc::ConversionStats AdcBank::stats() const {
  adc::ConversionStats st;
  if (retired_) st.add(*retired_);
  for (const auto& t : sets_)
    if (t.conv) st.add(t.conv->stats);
  return st;
}

void AdcBank::set_columns(uint32_t cols) {
  const int share = ctx_.scenario.chip.adc.share, array_cols = ctx_.scenario.chip.mapping.cols;
  if (cols != 0 && (cols % static_cast<uint32_t>(share) != 0 || cols > static_cast<uint32_t>(array_cols))) {
    SC_REPORT_WARNING(name_.c_str(), ("ADC_SET_COLS " + std::to_string(cols) + " is not a multiple of ADC_SHARE " +
                                      std::to_string(share) + " within the " + std::to_string(array_cols) +
                                      " columns; threshold sets unchanged")
                                         .c_str());
    return;
  }
  set_cols_ = cols;
  const std::size_t n = cols ? (static_cast<std::size_t>(array_cols) + cols - 1) / cols : 1;
  // Every set other than 0 restarts as a copy of set 0's windows (statistics kept).
  for (std::size_t k = 1; k < sets_.size(); ++k)
    if (sets_[k].conv) {
      if (!retired_) retired_ = std::make_unique<adc::ConversionStats>();
      retired_->add(sets_[k].conv->stats);
    }
  sets_.resize(1);
  sets_.resize(n);
  for (std::size_t k = 1; k < n; ++k) {
    sets_[k].levels = sets_[0].levels;
    sets_[k].thresholds = sets_[0].thresholds;
    sets_[k].range_lo = sets_[0].range_lo;
    sets_[k].range_hi = sets_[0].range_hi;
    sets_[k].sr_zero_code = sets_[0].sr_zero_code;
    sel_ = static_cast<unsigned>(k);
    apply();
    if (!sets_[k].conv) {  // an invalid set-0 configuration: keep the bank usable
      sets_[k].conv = std::make_unique<AdcConverters>();
      sets_[k].conv->adc = std::make_unique<adc::IdealAdc>();
    }
  }
  sel_ = 0;
}

unsigned AdcBank::set_of(Eigen::Index j, int slice) const {
  if (sets_.size() == 1) return 0;
  const int col = ctx_.scenario.chip.mapping.column_of(static_cast<int>(j), slice, 0);
  return static_cast<unsigned>(std::min<std::size_t>(static_cast<std::size_t>(col) / set_cols_, sets_.size() - 1));
}

void AdcBank::apply() {
  const auto& p = ctx_.scenario.chip.adc;
  const uint32_t mode = regs_.value(ADC_MODE);
  const int bits = static_cast<int>(regs_.value(ADC_BITS));
  const uint32_t shape = regs_.value(ADC_UNIFORM_SHAPE);
  if (mode > ADC_MODE_QCELL_SR || bits < 2 || bits > 8 || shape > ADC_SHAPE_MIN_MAX) {
    SC_REPORT_WARNING(name_.c_str(), "ADC_APPLY with an invalid mode, bit count or uniform shape; converters unchanged");
    return;
  }
  ThresholdSet& ts = sel();
  // Range: the firmware's calibrated [lo, hi] when it wrote one (and the scenario asks for
  // calibrated ranges), else the design full scale.
  double lo = ts.range_lo, hi = ts.range_hi;
  if (p.range == "design" || !(hi > lo)) {
    auto r = adc::full_scale_range(design_full_scale());
    lo = r.lo;
    hi = r.hi;
  }
  const uint64_t seed = ctx_.seed_for(name_) ^ (0x9E3779B97F4A7C15ull * ++applies_);
  auto c = std::make_unique<AdcConverters>();
  try {
    if (mode == ADC_MODE_IDEAL) {
      c->adc = std::make_unique<adc::IdealAdc>();
    } else if (mode == ADC_MODE_SAR || mode == ADC_MODE_FLASH) {
      c->adc = std::make_unique<adc::UniformAdc>(mode == ADC_MODE_SAR ? adc::AdcKind::Sar : adc::AdcKind::Flash, bits,
                                                 lo, hi, p.comparator_offset_frac * (hi - lo), seed,
                                                 shape == ADC_SHAPE_MIN_MAX ? adc::UniformShape::MinMax
                                                                            : adc::UniformShape::MidTread);
    } else {
      const std::size_t L = std::size_t{1} << bits;
      adc::QCellDesign d;
      d.bits = bits;
      d.thresholds.assign(ts.thresholds.begin(), ts.thresholds.begin() + static_cast<long>(L - 1));
      d.levels.assign(ts.levels.begin(), ts.levels.begin() + static_cast<long>(L));
      d.transfer.v_lo = lo;
      d.transfer.v_hi = hi;
      d.transfer.g_min_us = ctx_.scenario.chip.device.g_min_us;
      d.transfer.g_max_us = ctx_.scenario.chip.device.g_max_us;
      try {
        d.validate();
      } catch (const std::invalid_argument&) {
        // No calibration written yet: evenly spaced thresholds over the range.
        d = adc::QCellDesign::uniform(bits, lo, hi);
        d.transfer.g_min_us = ctx_.scenario.chip.device.g_min_us;
        d.transfer.g_max_us = ctx_.scenario.chip.device.g_max_us;
      }
      const unsigned copies = mode == ADC_MODE_QCELL_SR ? static_cast<unsigned>(p.sr_copies) : 1u;
      std::vector<adc::QCellAdc> qs;
      for (unsigned k = 0; k < copies; ++k) {
        adc::QCellAdc q(d);
        // Direct path: device error as a fraction of the range. Write-verify through the
        // programming controller replaces it with the achieved conductances.
        if (p.variation_frac > 0) q.apply_range_fraction_variation(p.variation_frac, splitmix64(seed + k));
        qs.push_back(std::move(q));
      }
      if (mode == ADC_MODE_QCELL) {
        auto q = std::make_unique<adc::QCellAdc>(std::move(qs.front()));
        c->qcell = q.get();
        c->adc = std::move(q);
      } else {
        auto sr = std::make_unique<adc::QCellSrAdc>(std::move(qs));
        if (ts.sr_zero_code != ADC_SR_ZERO_NONE) sr->set_zero_code(static_cast<int>(ts.sr_zero_code));
        c->sr = sr.get();
        c->adc = std::move(sr);
      }
    }
  } catch (const std::invalid_argument& e) {
    SC_REPORT_WARNING(name_.c_str(), (std::string("ADC_APPLY rejected: ") + e.what() + "; converters unchanged").c_str());
    return;
  }
  if (ts.conv) c->stats = ts.conv->stats;  // statistics count over the bank's lifetime
  ts.conv = std::move(c);
  conv_ = sets_[0].conv.get();
  applied_mode_ = mode;
  applied_bits_ = bits;
  applied_copies_ = mode == ADC_MODE_QCELL_SR ? static_cast<unsigned>(p.sr_copies) : 1u;
}

void AdcBank::begin_batch() {
  captured_.clear();
  for (auto& st : sets_) st.captured.clear();
}

void AdcBank::capture(const Eigen::Ref<Eigen::MatrixXf>& analog, const crossbar::AdcContext& c) {
  const uint32_t decim = std::max<uint32_t>(1, regs_.value(ADC_CAP_DECIM));
  const uint64_t cap = regs_.value(ADC_CAP_MAX);
  if (!(regs_.value(ADC_CAP_CTRL) & ADC_CAP_CTRL_PER_SET)) {
    for (Eigen::Index j = 0; j < analog.cols(); ++j)
      for (Eigen::Index i = 0; i < analog.rows(); ++i) {
        if (seen_++ % decim == 0 && cap_count_ + captured_.size() < cap) captured_.push_back(analog(i, j));
      }
    return;
  }
  // Per set: each set decimates its own stream into its own slot.
  for (Eigen::Index j = 0; j < analog.cols(); ++j) {
    ThresholdSet& st = sets_[set_of(j, c.slice)];
    for (Eigen::Index i = 0; i < analog.rows(); ++i) {
      ++seen_;
      if (st.seen++ % decim == 0 && st.cap_count + st.captured.size() < cap) st.captured.push_back(analog(i, j));
    }
  }
}

void AdcBank::convert_sets(Eigen::Ref<Eigen::MatrixXf> analog, const crossbar::AdcContext& c) {
  // Runs of logical columns on the same set (column_of grows with j) go through that set's
  // converters.
  const Eigen::Index rows = analog.rows(), N = analog.cols();
  for (Eigen::Index j0 = 0; j0 < N;) {
    const unsigned k = set_of(j0, c.slice);
    Eigen::Index j1 = j0 + 1;
    while (j1 < N && set_of(j1, c.slice) == k) ++j1;
    AdcConverters& cv = *sets_[k].conv;
    const std::size_t n = static_cast<std::size_t>(rows);
    for (Eigen::Index j = j0; j < j1; ++j) {  // in place (the converters allow it)
      float* col = analog.col(j).data();
      cv.adc->quantize(col, col, nullptr, n, &cv.stats);
    }
    j0 = j1;
  }
  conversions_ += static_cast<uint64_t>(analog.size());
}

bool AdcBank::chunkable() const {
  // Captures and several threshold sets keep per-bank state across columns: whole batch only.
  const Register* cap = regs_.find(ADC_CAP_CTRL);
  return !(cap && (cap->value & 1u)) && sets_.size() <= 1;
}

void AdcBank::convert(Eigen::Ref<Eigen::MatrixXf> analog, const crossbar::AdcContext& c) {
  // Into digits: the units the firmware calibrates and the level table holds.
  const float inv = static_cast<float>(1.0 / c.unit_current_ua);
  analog *= inv;
  // Capture and per-set conversion run on whole-batch calls only (chunkable() is false).
  if (regs_.value(ADC_CAP_CTRL) & 1u) capture(analog, c);
  if (sets_.size() > 1) {
    convert_sets(analog, c);
    return;
  }
  // In place, column by column (a chunk is a block with an outer stride); the converters are
  // const and the statistics are summed locally, so chunks may run concurrently.
  adc::ConversionStats st;
  for (Eigen::Index j = 0; j < analog.cols(); ++j)
    conv_->adc->quantize(analog.col(j).data(), analog.col(j).data(), nullptr,
                         static_cast<std::size_t>(analog.rows()), &st);
  std::lock_guard<std::mutex> lk(stats_m_);
  conv_->stats.add(st);
  conversions_ += static_cast<uint64_t>(analog.size());
}

sc_core::sc_time AdcBank::end_batch(tlm_utils::simple_initiator_socket<Tile>& port, sc_core::sc_time& delay) {
  const sc_core::sc_time start = delay;
  if (!write_capture(port, delay, captured_, cap_count_, 0)) return delay - start;
  for (std::size_t k = 0; k < sets_.size(); ++k)
    if (!write_capture(port, delay, sets_[k].captured, sets_[k].cap_count, k)) break;
  return delay - start;
}

bool AdcBank::write_capture(tlm_utils::simple_initiator_socket<Tile>& port, sc_core::sc_time& delay,
                            std::vector<float>& captured, uint32_t& count, std::size_t slot) {
  if (captured.empty()) return true;
  // Slot k of a per-set capture starts k x CAP_MAX samples after CAP_ADDR.
  const uint64_t addr = regs_.value(ADC_CAP_ADDR) +
                        (static_cast<uint64_t>(slot) * regs_.value(ADC_CAP_MAX) + static_cast<uint64_t>(count)) * 4;
  const sc_core::sc_time start = delay;
  const auto* bytes = reinterpret_cast<uint8_t*>(captured.data());
  const std::size_t total = captured.size() * 4;
  for (std::size_t off = 0; off < total; off += 4096) {
    tlm::tlm_generic_payload gp;
    unsigned len = static_cast<unsigned>(std::min<std::size_t>(4096, total - off));
    gp.set_command(tlm::TLM_WRITE_COMMAND);
    gp.set_address(addr + off);
    gp.set_data_ptr(const_cast<uint8_t*>(bytes + off));
    gp.set_data_length(len);
    gp.set_streaming_width(len);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    port->b_transport(gp, delay);
    if (!gp.is_response_ok()) {
      SC_REPORT_WARNING(name_.c_str(), "capture buffer write got a bus error; capture stopped");
      regs_.value(ADC_CAP_CTRL) &= ~1u;
      return false;
    }
  }
  count += static_cast<uint32_t>(captured.size());
  delay += sc_core::sc_time(ctx_.scenario.tech.adc.capture_ns_per_sample * static_cast<double>(captured.size()),
                            sc_core::SC_NS);
  ctx_.power.report(ev_capture_, captured.size(), sc_core::sc_time_stamp() + start);
  captured.clear();
  return true;
}

void AdcBank::account(uint64_t conversions, const sc_core::sc_time& start, const sc_core::sc_time& duration) {
  ctx_.power.energy(component_, conversion_pj() * static_cast<double>(conversions), start, duration);
  // trace.json: the batch's conversion phase on the bank's own track (bounded count), with the
  // converter type and bits applied (what the timing and energy above used).
  if (conversions && ctx_.tracer.admit("adc", ctx_.scenario.trace.max_adc_slices)) {
    if (track_ < 0) track_ = ctx_.tracer.track("adc", name_);
    ctx_.tracer.slice(track_, "conversions", "adc", start, duration,
                      "{\"conversions\":" + std::to_string(conversions) + ",\"mode\":\"" + mode_name(applied_mode_) +
                          "\",\"bits\":" + std::to_string(applied_bits_) + "}");
  }
}

std::vector<adc::QCellAdc*> AdcBank::qcell_copies(unsigned set) {
  AdcConverters* cv = set < sets_.size() ? sets_[set].conv.get() : nullptr;
  if (!cv) return {};
  if (cv->qcell) return {cv->qcell};
  std::vector<adc::QCellAdc*> v;
  if (cv->sr)
    for (auto& q : cv->sr->copies()) v.push_back(&q);
  return v;
}

std::size_t AdcBank::qcell_devices() const {
  auto copies = const_cast<AdcBank*>(this)->qcell_copies();
  return copies.empty() ? 0 : copies.front()->devices() * sets_.size();
}

unsigned AdcBank::qcell_copy_count() const { return static_cast<unsigned>(const_cast<AdcBank*>(this)->qcell_copies().size()); }

double AdcBank::qcell_target_us(std::size_t device, unsigned copy) const {
  auto* self = const_cast<AdcBank*>(this);
  const std::size_t per = self->qcell_copies().empty() ? 1 : self->qcell_copies().front()->devices();
  auto copies = self->qcell_copies(static_cast<unsigned>(device / per));
  return copies.at(copy)->target_conductances_us().at(device % per);
}

bool AdcBank::set_qcell_conductance(std::size_t device_index, unsigned copy, double g_us) {
  auto first = qcell_copies();
  if (first.empty()) return false;
  const std::size_t per = first.front()->devices(), set = device_index / per, device = device_index % per;
  if (set >= sets_.size()) return false;
  auto copies = qcell_copies(static_cast<unsigned>(set));
  if (copy >= copies.size() || device >= copies[copy]->devices()) return false;
  auto& pending = sets_[set].conv->pending_g;
  if (pending.size() != copies.size()) {
    pending.clear();
    for (auto* q : copies) {
      // Start from what the devices hold now, so a partial table keeps the rest.
      std::vector<double> g;
      for (double e : q->achieved_edges()) g.push_back(q->design().transfer.conductance_for_edge(
          std::min(std::max(e, q->design().transfer.v_lo), q->design().transfer.v_hi)));
      pending.push_back(std::move(g));
    }
  }
  pending[copy][device] = g_us;
  return true;
}

void AdcBank::finish_qcell_programming() {
  for (unsigned s = 0; s < sets_.size(); ++s) {
    AdcConverters& cv = *sets_[s].conv;
    auto copies = qcell_copies(s);
    if (cv.pending_g.size() != copies.size()) continue;
    for (std::size_t k = 0; k < copies.size(); ++k) copies[k]->set_achieved_conductances_us(cv.pending_g[k]);
    if (cv.sr) cv.sr->rebuild();
    cv.pending_g.clear();
  }
}

}  // namespace cimvp
