#include "models/crossbar/tile.hpp"

#include <cmath>
#include <cstring>
#include <sstream>

#include "cimvp/regs.h"
#include "platform/tracing/tracer.hpp"

namespace cimvp {

namespace {
sc_core::sc_time ns(double v) { return sc_core::sc_time(v, sc_core::SC_NS); }
}  // namespace

Tile::Tile(const sc_core::sc_module_name& name, Context& ctx, unsigned index)
    : RegBlock(name, ctx, CIMVP_BLOCK_TILE, TILE_VERSION_VALUE, ctx.scenario.tech.registers.area_um2,
               ctx.scenario.tech.registers.leakage_uw),
      isock("isock"),
      irq("irq"),
      index_(index),
      chip_(ctx.scenario.chip) {
  const auto& map = chip_.mapping;
  array_ = std::make_unique<crossbar::CrossbarArray>(chip_.device, map, ctx.seed_for(std::string(basename()) + ".array"));
  adc_ = std::make_unique<AdcBank>((std::string(basename()) + "_adc").c_str(), ctx, *this);

  using A = RegAccess;
  regs_.add("CTRL", TILE_CTRL, 0, A::WO, {}, [this](uint32_t v) { on_ctrl(v); });
  regs_.add("STATUS", TILE_STATUS, 0, A::RO);
  regs_.add("ROWS", TILE_ROWS, static_cast<uint32_t>(map.rows), A::RO);
  regs_.add("COLS", TILE_COLS, static_cast<uint32_t>(map.cols), A::RO);
  regs_.add("K", TILE_K, 0, A::RW);
  regs_.add("N", TILE_N, 0, A::RW);
  regs_.add("IN_ADDR", TILE_IN_ADDR, 0, A::RW);
  regs_.add("IN_STRIDE", TILE_IN_STRIDE, 0, A::RW);
  regs_.add("OUT_ADDR", TILE_OUT_ADDR, 0, A::RW);
  regs_.add("OUT_STRIDE", TILE_OUT_STRIDE, 0, A::RW);
  regs_.add("NVEC", TILE_NVEC, 0, A::RW);
  regs_.add("FLAGS", TILE_FLAGS, 0, A::RW);
  regs_.add("INPUT_BITS", TILE_INPUT_BITS, static_cast<uint32_t>(map.input_bits), A::RO);
  regs_.add("MAPPED_N", TILE_MAPPED_N, 0, A::RO, [this] { return static_cast<uint32_t>(array_->block().n); });
  regs_.add("CYCLES_LO", TILE_CYCLES_LO, 0, A::RO, [this] { return static_cast<uint32_t>(busy_ns_); });
  regs_.add("CYCLES_HI", TILE_CYCLES_HI, 0, A::RO, [this] { return static_cast<uint32_t>(busy_ns_ >> 32); });
  regs_.add("CONV_LO", TILE_CONV_LO, 0, A::RO, [this] { return static_cast<uint32_t>(conversions_); });
  regs_.add("CONV_HI", TILE_CONV_HI, 0, A::RO, [this] { return static_cast<uint32_t>(conversions_ >> 32); });
  regs_.add("VECTORS", TILE_VECTORS, 0, A::RO);
  regs_.add("BATCHES", TILE_BATCHES, 0, A::RO);

  const auto& t = ctx.scenario.tech.crossbar;
  array_component_ = ctx.power.component(std::string(basename()) + ".array",
                                         t.cell_area_um2 * map.rows * map.cols, t.array_leakage_uw);
  int periph = ctx.power.component(std::string(basename()) + ".periphery", t.periphery_area_um2, t.periphery_leakage_uw);
  ev_dac_ = ctx.power.event(periph, "dac_row_cycle", t.dac_pj_per_row_cycle);
  ev_mux_ = ctx.power.event(periph, "column_mux", t.mux_pj_per_conversion);
  ev_shift_add_ = ctx.power.event(periph, "shift_add", t.shift_add_pj_per_op);
  ev_buffer_ = ctx.power.event(periph, "buffer_byte", t.buffer_pj_per_byte);
  busy_wire_ = ctx.tracer.wire(basename(), "busy", 1);
  track_ = ctx.tracer.track("tiles", basename());

  SC_THREAD(run);
}

void Tile::load_block(const crossbar::MappedBlock& block) {
  array_->load(block);
  programmed_ = false;
}

void Tile::program_ideal() {
  array_->program_ideal();
  programmed_ = true;
}

void Tile::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  if (gp.get_address() >= TILE_ADC_BASE) {
    adc_->access(gp, delay);
    return;
  }
  RegBlock::b_transport(gp, delay);
}

uint32_t Tile::fail(uint32_t code) {
  regs_.value(TILE_STATUS) = TILE_STATUS_DONE | TILE_STATUS_ERROR | (code << 8);
  irq_src_.set(true);
  return code;
}

void Tile::on_ctrl(uint32_t v) {
  if (v & TILE_CTRL_CLEAR_COUNTERS) {
    busy_ns_ = conversions_ = 0;
    regs_.value(TILE_VECTORS) = 0;
    regs_.value(TILE_BATCHES) = 0;
  }
  if (v & TILE_CTRL_CLEAR_STATUS) {
    regs_.value(TILE_STATUS) &= TILE_STATUS_BUSY;
    irq_src_.set(false);
  }
  if (v & TILE_CTRL_START) {
    if (regs_.value(TILE_STATUS) & TILE_STATUS_BUSY) {
      fail(TILE_ERR_BUSY);
      return;
    }
    irq_src_.set(false);
    regs_.value(TILE_STATUS) = TILE_STATUS_BUSY;
    // The batch starts when the register write lands: kernel time + the CPU's offset.
    start_.notify(access_time() - sc_core::sc_time_stamp());
  }
}

bool Tile::bus(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, unsigned len, sc_core::sc_time& delay) {
  tlm::tlm_generic_payload gp;
  gp.set_command(cmd);
  gp.set_address(addr);
  gp.set_data_ptr(data);
  gp.set_data_length(len);
  gp.set_streaming_width(len);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  isock->b_transport(gp, delay);
  return gp.is_response_ok();
}

void Tile::run() {
  for (;;) {
    sc_core::wait(start_);
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    ctx_.tracer.set(busy_wire_, 1, t0);
    const uint32_t nvec = regs_.value(TILE_NVEC), k = regs_.value(TILE_K), n = regs_.value(TILE_N);
    const uint32_t in_addr = regs_.value(TILE_IN_ADDR), in_stride = regs_.value(TILE_IN_STRIDE);
    const uint32_t out_addr = regs_.value(TILE_OUT_ADDR), out_stride = regs_.value(TILE_OUT_STRIDE);
    const bool accumulate = regs_.value(TILE_FLAGS) & TILE_FLAG_ACCUMULATE;
    const auto& blk = array_->block();
    uint32_t err = TILE_ERR_NONE;
    if (nvec == 0)
      err = TILE_ERR_NVEC_ZERO;
    else if (!programmed_)
      err = TILE_ERR_NOT_PROGRAMMED;
    else if (k == 0 || n == 0 || static_cast<int>(k) != blk.k || static_cast<int>(n) > blk.n)
      err = TILE_ERR_SHAPE;
    if (err) {
      fail(err);
      ctx_.tracer.set(busy_wire_, 0, t0);
      continue;
    }

    // Fetch the input vectors: one burst when they are contiguous, one per vector otherwise.
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    in_bytes_.resize(static_cast<std::size_t>(nvec) * k);
    bool ok = true;
    if (in_stride == k) {
      for (uint64_t off = 0; ok && off < in_bytes_.size(); off += 4096)
        ok = bus(tlm::TLM_READ_COMMAND, in_addr + off, in_bytes_.data() + off,
                 static_cast<unsigned>(std::min<uint64_t>(4096, in_bytes_.size() - off)), delay);
    } else {
      for (uint32_t v = 0; ok && v < nvec; ++v)
        ok = bus(tlm::TLM_READ_COMMAND, in_addr + static_cast<uint64_t>(v) * in_stride, in_bytes_.data() + v * k, k,
                 delay);
    }
    if (!ok) {
      fail(TILE_ERR_INPUT_BUS);
      ctx_.tracer.set(busy_wire_, 0, t0);
      continue;
    }
    x_.resize(nvec, k);
    for (uint32_t v = 0; v < nvec; ++v)
      for (uint32_t i = 0; i < k; ++i) x_(v, i) = in_bytes_[static_cast<std::size_t>(v) * k + i];

    // The analog work, in the core.
    adc_->begin_batch();
    crossbar::MvmResult r = array_->mvm(x_, adc_->stage());

    // Outputs: float32, N per vector; accumulate reads what is there first.
    out_vals_.assign(static_cast<std::size_t>(nvec) * n, 0.f);
    const uint32_t row_bytes = n * 4;
    for (uint32_t v = 0; ok && v < nvec; ++v) {
      float* row = out_vals_.data() + static_cast<std::size_t>(v) * n;
      uint64_t a = out_addr + static_cast<uint64_t>(v) * out_stride;
      if (accumulate) ok = bus(tlm::TLM_READ_COMMAND, a, reinterpret_cast<uint8_t*>(row), row_bytes, delay);
      for (uint32_t j = 0; ok && j < n; ++j) row[j] += static_cast<float>(r.y(v, j));
      if (ok) ok = bus(tlm::TLM_WRITE_COMMAND, a, reinterpret_cast<uint8_t*>(row), row_bytes, delay);
    }
    if (!ok) {
      fail(TILE_ERR_OUTPUT_BUS);
      ctx_.tracer.set(busy_wire_, 0, t0);
      continue;
    }
    sc_core::sc_time capture_delay = adc_->end_batch(isock, delay);
    (void)capture_delay;

    // Timing: per vector and input cycle, one read pulse, then the conversions of every
    // (column, slice) pair serialised over the ADCs (adc_share columns per ADC).
    const auto& t = ctx_.scenario.tech.crossbar;
    const double conv_per_cycle = static_cast<double>(n) * r.stats.slices;
    const double rounds = std::ceil(conv_per_cycle / adc_->n_adcs());
    const double per_cycle_ns = t.t_read_ns + rounds * adc_->conversion_ns();
    const double compute_ns = static_cast<double>(nvec) * r.stats.input_cycles * per_cycle_ns +
                              static_cast<double>(nvec) * t.shift_add_ns_per_vector;
    const sc_core::sc_time total = delay + ns(compute_ns);

    // Energy, reported over the busy interval so the power trace shows it where it is spent.
    const sc_core::sc_time compute_start = t0 + delay;
    ctx_.power.energy(array_component_, r.stats.array_energy_pj, compute_start, ns(compute_ns));
    ctx_.power.report_spread(ev_dac_, static_cast<uint64_t>(nvec) * r.stats.input_cycles * k, compute_start, ns(compute_ns));
    ctx_.power.report_spread(ev_mux_, static_cast<uint64_t>(r.stats.adc_conversions), compute_start, ns(compute_ns));
    ctx_.power.report_spread(ev_shift_add_, static_cast<uint64_t>(r.stats.adc_conversions), compute_start, ns(compute_ns));
    ctx_.power.report_spread(ev_buffer_, in_bytes_.size() + out_vals_.size() * 4, compute_start, ns(compute_ns));
    adc_->account(static_cast<uint64_t>(r.stats.adc_conversions), compute_start, ns(compute_ns));

    sc_core::wait(total);
    const uint64_t batch_ns = static_cast<uint64_t>(total.to_seconds() * 1e9 + 0.5);
    busy_ns_ += batch_ns;
    conversions_ += static_cast<uint64_t>(r.stats.adc_conversions);
    regs_.value(TILE_VECTORS) += nvec;
    regs_.value(TILE_BATCHES) += 1;
    std::ostringstream args;
    args << "{\"vectors\":" << nvec << ",\"k\":" << k << ",\"n\":" << n
         << ",\"conversions\":" << r.stats.adc_conversions << "}";
    ctx_.tracer.slice(track_, "batch", "tile", t0, total, args.str());
    ctx_.tracer.set(busy_wire_, 0, sc_core::sc_time_stamp());
    regs_.value(TILE_STATUS) = TILE_STATUS_DONE;
    irq_src_.set(true);
  }
}

}  // namespace cimvp
