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
  std::vector<float> scratch;
  std::vector<std::vector<double>> pending_g;  // Q-cell conductances written by progctl, per copy
};

AdcBank::AdcBank(const std::string& name, Context& ctx, Tile& tile)
    : ctx_(ctx), tile_(tile), name_(name), regs_(name) {
  const auto& p = ctx.scenario.chip.adc;
  const auto& map = ctx.scenario.chip.mapping;
  n_adcs_ = static_cast<unsigned>(std::max(1, map.cols / p.share));
  levels_.assign(256, 0.f);
  thresholds_.assign(255, 0.f);

  using A = RegAccess;
  regs_.add("ADC_MODE", ADC_MODE, mode_code(p.mode), A::RW);
  regs_.add("ADC_BITS", ADC_BITS, static_cast<uint32_t>(p.bits), A::RW);
  regs_.add("ADC_RANGE_LO", ADC_RANGE_LO, float_bits(0.f), A::RW);
  regs_.add("ADC_RANGE_HI", ADC_RANGE_HI, float_bits(0.f), A::RW);
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
      regs_.value(ADC_CAP_COUNT) = 0;
      captured_.clear();
      regs_.value(ADC_CAP_CTRL) &= ~ADC_CAP_CTRL_RESET;
    }
  });
  regs_.add("ADC_CAP_COUNT", ADC_CAP_COUNT, 0, A::RO);
  regs_.add("ADC_CAP_SEEN", ADC_CAP_SEEN, 0, A::RO, [this] { return static_cast<uint32_t>(seen_); });
  regs_.add("ADC_CONV_LO", ADC_CONV_LO, 0, A::RO, [this] { return static_cast<uint32_t>(conversions_); });
  regs_.add("ADC_CONV_HI", ADC_CONV_HI, 0, A::RO, [this] { return static_cast<uint32_t>(conversions_ >> 32); });
  regs_.add("ADC_GAPS", ADC_GAPS, 0, A::RO, [this] { return static_cast<uint32_t>(conv_->stats.gaps); });
  regs_.add("ADC_OVERLAPS", ADC_OVERLAPS, 0, A::RO, [this] { return static_cast<uint32_t>(conv_->stats.overlaps); });
  regs_.add("ADC_SR_DISAGREE", ADC_SR_DISAGREE, 0, A::RO,
            [this] { return static_cast<uint32_t>(conv_->stats.disagreements); });
  regs_.add("ADC_GMIN", ADC_GMIN, float_bits(static_cast<float>(ctx.scenario.chip.device.g_min_us)), A::RO);
  regs_.add("ADC_GMAX", ADC_GMAX, float_bits(static_cast<float>(ctx.scenario.chip.device.g_max_us)), A::RO);
  regs_.add("ADC_SR_COPIES", ADC_SR_COPIES, 0, A::RO, [this] { return qcell_copy_count(); });
  regs_.add("ADC_EDGE_SIGMA", ADC_EDGE_SIGMA, float_bits(static_cast<float>(p.variation_frac)), A::RO);
  for (unsigned i = 0; i < 512; ++i)
    regs_.add("ADC_EDGE" + std::to_string(i), ADC_EDGE(i), 0, A::RO, [this, i] {
      const adc::QCellAdc* q = conv_->qcell ? conv_->qcell : conv_->sr ? &conv_->sr->copies().front() : nullptr;
      if (!q) return float_bits(0.f);
      auto e = q->achieved_edges();
      return float_bits(i < e.size() ? static_cast<float>(e[i]) : 0.f);
    });
  for (unsigned i = 0; i < 256; ++i)
    regs_.add("ADC_LEVEL" + std::to_string(i), ADC_LEVEL(i), 0, A::RW, [this, i] { return float_bits(levels_[i]); },
              [this, i](uint32_t v) { levels_[i] = bits_float(v); });
  for (unsigned i = 0; i < 255; ++i)
    regs_.add("ADC_THRESH" + std::to_string(i), ADC_THRESH(i), 0, A::RW,
              [this, i] { return float_bits(thresholds_[i]); }, [this, i](uint32_t v) { thresholds_[i] = bits_float(v); });

  const auto& ty = tech_type();
  component_ = ctx.power.component(name_, ty.area_um2.at(p.bits) * n_adcs_ * (p.mode == "qcell_sr" ? p.sr_copies : 1),
                                   ty.leakage_uw.at(p.bits) * n_adcs_);
  ev_capture_ = ctx.power.event(component_, "capture_sample", ctx.scenario.tech.adc.capture_pj_per_sample);
  apply();
}

AdcBank::~AdcBank() = default;

const config::TechAdcType& AdcBank::tech_type() const {
  const auto& t = ctx_.scenario.tech.adc;
  const auto& m = ctx_.scenario.chip.adc.mode;
  if (m == "sar") return t.sar;
  if (m == "flash") return t.flash;
  if (m == "qcell" || m == "qcell_sr") return t.qcell;
  return t.ideal;
}

double AdcBank::conversion_ns() const { return tech_type().time_ns.at(ctx_.scenario.chip.adc.bits); }

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

void AdcBank::apply() {
  const auto& p = ctx_.scenario.chip.adc;
  const uint32_t mode = regs_.value(ADC_MODE);
  const int bits = static_cast<int>(regs_.value(ADC_BITS));
  if (mode > ADC_MODE_QCELL_SR || bits < 2 || bits > 8) {
    SC_REPORT_WARNING(name_.c_str(), "ADC_APPLY with an invalid mode or bit count; converters unchanged");
    return;
  }
  // Range: the firmware's calibrated [lo, hi] when it wrote one (and the scenario asks for
  // calibrated ranges), else the design full scale.
  double lo = bits_float(regs_.value(ADC_RANGE_LO)), hi = bits_float(regs_.value(ADC_RANGE_HI));
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
                                                 adc::UniformShape::MidTread);  // signed converter: 0 is a level
    } else {
      const std::size_t L = std::size_t{1} << bits;
      adc::QCellDesign d;
      d.bits = bits;
      d.thresholds.assign(thresholds_.begin(), thresholds_.begin() + static_cast<long>(L - 1));
      d.levels.assign(levels_.begin(), levels_.begin() + static_cast<long>(L));
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
        c->sr = sr.get();
        c->adc = std::move(sr);
      }
    }
  } catch (const std::invalid_argument& e) {
    SC_REPORT_WARNING(name_.c_str(), (std::string("ADC_APPLY rejected: ") + e.what() + "; converters unchanged").c_str());
    return;
  }
  if (conv_) c->stats = conv_->stats;  // statistics count over the bank's lifetime
  conv_ = std::move(c);
}

void AdcBank::begin_batch() {
  captured_.clear();
}

void AdcBank::convert(Eigen::Ref<Eigen::MatrixXf> analog, const crossbar::AdcContext& c) {
  // Into digits: the units the firmware calibrates and the level table holds.
  const float inv = static_cast<float>(1.0 / c.unit_current_ua);
  analog *= inv;
  if (regs_.value(ADC_CAP_CTRL) & 1u) {
    const uint32_t decim = std::max<uint32_t>(1, regs_.value(ADC_CAP_DECIM));
    const uint64_t cap = regs_.value(ADC_CAP_MAX);
    uint32_t& count = regs_.value(ADC_CAP_COUNT);
    for (Eigen::Index j = 0; j < analog.cols(); ++j)
      for (Eigen::Index i = 0; i < analog.rows(); ++i) {
        if (seen_++ % decim == 0 && count + captured_.size() < cap) captured_.push_back(analog(i, j));
      }
  }
  const std::size_t n = static_cast<std::size_t>(analog.size());
  conv_->scratch.resize(n);
  conv_->adc->quantize(analog.data(), conv_->scratch.data(), nullptr, n, &conv_->stats);
  std::memcpy(analog.data(), conv_->scratch.data(), n * sizeof(float));
  conversions_ += n;
}

sc_core::sc_time AdcBank::end_batch(tlm_utils::simple_initiator_socket<Tile>& port, sc_core::sc_time& delay) {
  if (captured_.empty()) return sc_core::SC_ZERO_TIME;
  uint32_t& count = regs_.value(ADC_CAP_COUNT);
  const uint64_t addr = regs_.value(ADC_CAP_ADDR) + static_cast<uint64_t>(count) * 4;
  const sc_core::sc_time start = delay;
  const auto* bytes = reinterpret_cast<uint8_t*>(captured_.data());
  const std::size_t total = captured_.size() * 4;
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
      return delay - start;
    }
  }
  count += static_cast<uint32_t>(captured_.size());
  delay += sc_core::sc_time(ctx_.scenario.tech.adc.capture_ns_per_sample * static_cast<double>(captured_.size()),
                            sc_core::SC_NS);
  ctx_.power.report(ev_capture_, captured_.size(), sc_core::sc_time_stamp() + start);
  return delay - start;
}

void AdcBank::account(uint64_t conversions, const sc_core::sc_time& start, const sc_core::sc_time& duration) {
  const double pj = tech_type().energy_pj.at(ctx_.scenario.chip.adc.bits) * static_cast<double>(conversions) *
                    (ctx_.scenario.chip.adc.mode == "qcell_sr" ? ctx_.scenario.chip.adc.sr_copies : 1);
  ctx_.power.energy(component_, pj, start, duration);
  // trace.json: the batch's conversion phase on the bank's own track (bounded count).
  if (conversions && ctx_.tracer.admit("adc", ctx_.scenario.trace.max_adc_slices)) {
    if (track_ < 0) track_ = ctx_.tracer.track("adc", name_);
    ctx_.tracer.slice(track_, "conversions", "adc", start, duration,
                      "{\"conversions\":" + std::to_string(conversions) + ",\"mode\":\"" + ctx_.scenario.chip.adc.mode +
                          "\",\"bits\":" + std::to_string(ctx_.scenario.chip.adc.bits) + "}");
  }
}

std::vector<adc::QCellAdc*> AdcBank::qcell_copies() {
  if (conv_->qcell) return {conv_->qcell};
  std::vector<adc::QCellAdc*> v;
  if (conv_->sr)
    for (auto& q : conv_->sr->copies()) v.push_back(&q);
  return v;
}

std::size_t AdcBank::qcell_devices() const {
  auto copies = const_cast<AdcBank*>(this)->qcell_copies();
  return copies.empty() ? 0 : copies.front()->devices();
}

unsigned AdcBank::qcell_copy_count() const { return static_cast<unsigned>(const_cast<AdcBank*>(this)->qcell_copies().size()); }

double AdcBank::qcell_target_us(std::size_t device, unsigned copy) const {
  auto copies = const_cast<AdcBank*>(this)->qcell_copies();
  return copies.at(copy)->target_conductances_us().at(device);
}

bool AdcBank::set_qcell_conductance(std::size_t device, unsigned copy, double g_us) {
  auto copies = qcell_copies();
  if (copy >= copies.size() || device >= copies[copy]->devices()) return false;
  auto& pending = conv_->pending_g;
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
  auto copies = qcell_copies();
  if (conv_->pending_g.size() != copies.size()) return;
  for (std::size_t k = 0; k < copies.size(); ++k) copies[k]->set_achieved_conductances_us(conv_->pending_g[k]);
  if (conv_->sr) conv_->sr->rebuild();
  conv_->pending_g.clear();
}

}  // namespace cimvp
