#include "models/crossbar/tile.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "cimvp/regs.h"
#include "platform/tracing/tracer.hpp"

namespace cimvp {

namespace {
sc_core::sc_time ns(double v) { return sc_core::sc_time(v, sc_core::SC_NS); }
// Largest batch (TILE_MAX_NVEC): 2^20 vectors, far above what the 16 MiB SRAM of the example
// chip holds, so it only stops runaway NVEC values (e.g. 0xFFFFFFFF) before any work.
constexpr uint32_t kTileMaxNvec = 1u << 20;

// What a batch that stopped early did, for its error message (TILE_ERR_VECTOR = written).
std::string done_text(uint32_t written, uint32_t nvec) {
  std::ostringstream o;
  if (written == 0)
    o << "none of the " << nvec << " vectors was written";
  else
    o << "vectors 0.." << written - 1 << " of " << nvec << " were computed and written, from vector " << written
      << " on nothing was written";
  return o.str();
}
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
  regs_.add("MAX_NVEC", TILE_MAX_NVEC, kTileMaxNvec, A::RO);
  regs_.add("ERR_VECTOR", TILE_ERR_VECTOR, 0, A::RO);

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
  mark_programmed();
}

void Tile::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  if (gp.get_address() >= TILE_ADC_BASE) {
    adc_->access(gp, delay);
    return;
  }
  RegBlock::b_transport(gp, delay);
}

void Tile::finish(uint32_t err) {
  // ERROR/OVERRUN and the code latched by a START while busy survive the completion (sticky
  // until CLEAR_STATUS); the batch's own error code replaces a latched one.
  uint32_t st = regs_.value(TILE_STATUS) & (TILE_STATUS_ERROR | TILE_STATUS_OVERRUN | 0xFF00u);
  st |= TILE_STATUS_DONE;
  if (err) st = (st & ~0xFF00u) | TILE_STATUS_ERROR | (err << 8);
  regs_.value(TILE_STATUS) = st;
  irq_src_.set(true);
}

void Tile::fail(uint32_t err, const std::string& message) {
  last_error_ = message;
  SC_REPORT_INFO(name(), message.c_str());  // the firmware sees the code in STATUS
  finish(err);
}

void Tile::mark_programmed() {
  programmed_ = true;
  programmed_at_ = sc_core::sc_time_stamp();
}

double Tile::drift_age_s(const sc_core::sc_time& at) const {
  return chip_.drift_read_delay_s + (at - programmed_at_).to_seconds();
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
      // The running batch goes on (BUSY stays); the ignored START is latched as an error.
      regs_.value(TILE_STATUS) = (regs_.value(TILE_STATUS) & ~0xFF00u) | TILE_STATUS_ERROR | TILE_STATUS_OVERRUN |
                                 (TILE_ERR_BUSY << 8);
      last_error_ = "START while a batch is running (STATUS.BUSY): the START is ignored, the running batch goes "
                    "on; wait for DONE before starting the next batch (TILE_ERR_BUSY, STATUS.OVERRUN)";
      SC_REPORT_INFO(name(), last_error_.c_str());
      irq_src_.set(true);
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

double Tile::sensed_array_energy_pj(const Eigen::MatrixXi& x, int n) const {
  const auto& map = array_->mapping();
  const auto& blk = array_->block();
  const int K = blk.k, S = map.slices(), D = map.dac_bits, dmask = (1 << D) - 1, C = map.input_cycles();
  std::vector<int> cols;
  for (int j = 0; j < n; ++j)
    for (int s = 0; s < S; ++s) {
      cols.push_back(map.column_of(j, s, 0));
      if (map.sign == crossbar::SignScheme::Differential) cols.push_back(map.column_of(j, s, 1));
    }
  if (map.sign == crossbar::SignScheme::OffsetColumn)
    for (int s = 0; s < S; ++s) cols.push_back(map.offset_column(blk.n, s));
  double e = 0;
  for (int i = 0; i < K; ++i) {
    double g = 0;  // uS over the sensed columns of row i
    for (int c : cols) g += array_->effective_conductance(i, c);
    double d2 = 0;  // sum over vectors and cycles of (DAC steps)^2
    for (Eigen::Index v = 0; v < x.rows(); ++v)
      for (int c = 0; c < C; ++c) {
        const int d = (x(v, i) >> (c * D)) & dmask;
        d2 += static_cast<double>(d) * d;
      }
    e += d2 * g;
  }
  const double vstep = map.v_read / dmask;
  return e * vstep * vstep * array_->device().t_read_ns * 1e-3;  // uS * V^2 * ns = fJ
}

void Tile::run() {
  // Vectors fetched, computed and written per step: bounds the scratch memory whatever NVEC
  // says (TILE_MAX_NVEC bounds the work).
  constexpr uint32_t kChunk = 4096;
  for (;;) {
    sc_core::wait(start_);
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    ctx_.tracer.set(busy_wire_, 1, t0);
    regs_.value(TILE_ERR_VECTOR) = 0;
    const uint32_t nvec = regs_.value(TILE_NVEC), k = regs_.value(TILE_K), n = regs_.value(TILE_N);
    const uint32_t in_addr = regs_.value(TILE_IN_ADDR), in_stride = regs_.value(TILE_IN_STRIDE);
    const uint32_t out_addr = regs_.value(TILE_OUT_ADDR), out_stride = regs_.value(TILE_OUT_STRIDE);
    const bool accumulate = regs_.value(TILE_FLAGS) & TILE_FLAG_ACCUMULATE;
    const auto& blk = array_->block();
    const auto& map = chip_.mapping;
    std::ostringstream why;
    uint32_t err = TILE_ERR_NONE;
    const uint64_t in_end = static_cast<uint64_t>(in_addr) + static_cast<uint64_t>(nvec ? nvec - 1 : 0) * in_stride + k;
    const uint64_t out_end =
        static_cast<uint64_t>(out_addr) + static_cast<uint64_t>(nvec ? nvec - 1 : 0) * out_stride + 4ull * n;
    if (nvec == 0) {
      err = TILE_ERR_NVEC_ZERO;
      why << "START with NVEC = 0: nothing to compute; set NVEC to the number of input vectors (TILE_ERR_NVEC_ZERO)";
    } else if (!programmed_) {
      err = TILE_ERR_NOT_PROGRAMMED;
      why << "START before any weights were programmed into the array: program them first (programming "
             "controller, or chip.program.mode: ideal) (TILE_ERR_NOT_PROGRAMMED)";
    } else if (k == 0 || n == 0 || static_cast<int>(k) != blk.k || static_cast<int>(n) > blk.n) {
      err = TILE_ERR_SHAPE;
      why << "K = " << k << ", N = " << n << " do not match the programmed block (K must be " << blk.k
          << ", N in 1.." << blk.n << " = MAPPED_N) (TILE_ERR_SHAPE)";
    } else if (nvec > kTileMaxNvec) {
      err = TILE_ERR_RANGE;
      why << "NVEC = " << nvec << " exceeds TILE_MAX_NVEC = " << kTileMaxNvec << ": split the batch (TILE_ERR_RANGE)";
    } else if (in_end > 0x100000000ull || out_end > 0x100000000ull) {
      err = TILE_ERR_RANGE;
      const bool in = in_end > 0x100000000ull;
      why << std::hex << "the " << (in ? "input" : "output") << " buffer at 0x" << (in ? in_addr : out_addr)
          << " with NVEC = " << std::dec << nvec << " vectors " << (in ? "IN_STRIDE = " : "OUT_STRIDE = ")
          << (in ? in_stride : out_stride) << " bytes apart ends at 0x" << std::hex << (in ? in_end : out_end)
          << ", past the 32-bit bus: check " << (in ? "IN_ADDR, IN_STRIDE" : "OUT_ADDR, OUT_STRIDE")
          << " and NVEC (TILE_ERR_RANGE)";
    }
    if (err) {
      fail(err, why.str());
      ctx_.tracer.set(busy_wire_, 0, t0);
      continue;
    }
    // Drift: the array's conductances as they are this long after programming.
    if (array_->device().drift) array_->set_time_since_program(drift_age_s(t0));

    // Chunks of vectors: fetch (one burst per 4 KiB when contiguous, one per vector
    // otherwise, never one per element), check the codes, compute, write back.
    const int max_code = map.max_input_code();
    const uint32_t row_bytes = n * 4;
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    uint32_t computed = 0, written = 0;
    uint64_t bytes_in = 0, bytes_out = 0;
    double array_pj = 0;
    adc_->begin_batch();
    while (written < nvec && !err) {
      const uint32_t v0 = written, nb = std::min(kChunk, nvec - v0);
      in_bytes_.resize(static_cast<std::size_t>(nb) * k);
      const uint64_t base = static_cast<uint64_t>(in_addr) + static_cast<uint64_t>(v0) * in_stride;
      bool ok = true;
      uint64_t bad_addr = base;
      if (in_stride == k) {
        for (uint64_t off = 0; ok && off < in_bytes_.size(); off += 4096) {
          bad_addr = base + off;
          ok = bus(tlm::TLM_READ_COMMAND, base + off, in_bytes_.data() + off,
                   static_cast<unsigned>(std::min<uint64_t>(4096, in_bytes_.size() - off)), delay);
        }
      } else {
        for (uint32_t v = 0; ok && v < nb; ++v) {
          bad_addr = base + static_cast<uint64_t>(v) * in_stride;
          ok = bus(tlm::TLM_READ_COMMAND, bad_addr, in_bytes_.data() + static_cast<std::size_t>(v) * k, k, delay);
        }
      }
      if (!ok) {
        err = TILE_ERR_INPUT_BUS;
        why << std::hex << "input fetch at bus address 0x" << bad_addr << " got a bus error (no memory there)"
            << std::dec << "; " << done_text(written, nvec) << ": check IN_ADDR/IN_STRIDE/NVEC (TILE_ERR_INPUT_BUS)";
        break;
      }
      bytes_in += in_bytes_.size();
      if (max_code < 255) {
        const auto it = std::find_if(in_bytes_.begin(), in_bytes_.end(), [&](uint8_t c) { return c > max_code; });
        if (it != in_bytes_.end()) {
          const std::size_t at = static_cast<std::size_t>(it - in_bytes_.begin());
          err = TILE_ERR_INPUT_CODE;
          why << "input vector " << v0 + at / k << " element " << at % k << " holds code " << unsigned(*it)
              << " > " << max_code << " (INPUT_BITS = " << map.input_bits << "); " << done_text(written, nvec)
              << ": quantise the inputs to INPUT_BITS bits (TILE_ERR_INPUT_CODE)";
          break;
        }
      }
      x_.resize(nb, k);
      for (uint32_t v = 0; v < nb; ++v)
        for (uint32_t i = 0; i < k; ++i) x_(v, i) = in_bytes_[static_cast<std::size_t>(v) * k + i];

      // The analog work, in the core.
      crossbar::MvmResult r = array_->mvm(x_, adc_->stage());
      computed += nb;
      // Read energy of the columns actually sensed (all mapped ones unless N < MAPPED_N).
      array_pj += static_cast<int>(n) == blk.n ? r.stats.array_energy_pj : sensed_array_energy_pj(x_, static_cast<int>(n));

      // Outputs: float32, N per vector; accumulate reads what is there first.
      out_vals_.assign(static_cast<std::size_t>(nb) * n, 0.f);
      for (uint32_t v = 0; v < nb; ++v) {
        float* row = out_vals_.data() + static_cast<std::size_t>(v) * n;
        const uint64_t a = static_cast<uint64_t>(out_addr) + static_cast<uint64_t>(v0 + v) * out_stride;
        ok = !accumulate || bus(tlm::TLM_READ_COMMAND, a, reinterpret_cast<uint8_t*>(row), row_bytes, delay);
        if (ok) {
          for (uint32_t j = 0; j < n; ++j) row[j] += static_cast<float>(r.y(v, j));
          ok = bus(tlm::TLM_WRITE_COMMAND, a, reinterpret_cast<uint8_t*>(row), row_bytes, delay);
        }
        if (!ok) {
          err = TILE_ERR_OUTPUT_BUS;
          why << std::hex << "output " << (accumulate ? "read/write" : "write") << " at bus address 0x" << a
              << " got a bus error (no memory there)" << std::dec << "; " << done_text(written, nvec)
              << ": check OUT_ADDR/OUT_STRIDE/NVEC (TILE_ERR_OUTPUT_BUS)";
          break;
        }
        bytes_out += row_bytes;
        ++written;
      }
    }
    // Captured ADC samples (if capture is on) to their buffer; end_batch advances `delay`.
    if (!err) (void)adc_->end_batch(isock, delay);
    // A chip has thousands of tiles: their batch buffers are not kept between batches.
    std::vector<uint8_t>().swap(in_bytes_);
    std::vector<float>().swap(out_vals_);
    x_.resize(0, 0);

    // Timing: per vector and input cycle, one read pulse, then the conversions of the N
    // converted logical columns x slices serialised over the ADCs (adc_share columns per ADC).
    const auto& t = ctx_.scenario.tech.crossbar;
    const int cycles = map.input_cycles(), slices = map.slices();
    const uint64_t conversions = static_cast<uint64_t>(computed) * cycles * slices * n;
    const double rounds = std::ceil(static_cast<double>(n) * slices / adc_->n_adcs());
    const double per_cycle_ns = t.t_read_ns + rounds * adc_->conversion_ns();
    const double compute_ns =
        static_cast<double>(computed) * cycles * per_cycle_ns + static_cast<double>(computed) * t.shift_add_ns_per_vector;
    const sc_core::sc_time total = delay + ns(compute_ns);

    // Energy, reported over the busy interval so the power trace shows it where it is spent.
    const sc_core::sc_time compute_start = t0 + delay;
    if (computed) {
      ctx_.power.energy(array_component_, array_pj, compute_start, ns(compute_ns));
      ctx_.power.report_spread(ev_dac_, static_cast<uint64_t>(computed) * cycles * k, compute_start, ns(compute_ns));
      ctx_.power.report_spread(ev_mux_, conversions, compute_start, ns(compute_ns));
      ctx_.power.report_spread(ev_shift_add_, conversions, compute_start, ns(compute_ns));
      adc_->account(conversions, compute_start, ns(compute_ns));
    }
    ctx_.power.report_spread(ev_buffer_, bytes_in + bytes_out, compute_start, ns(compute_ns));

    sc_core::wait(total);
    const uint64_t batch_ns = static_cast<uint64_t>(total.to_seconds() * 1e9 + 0.5);
    busy_ns_ += batch_ns;
    conversions_ += conversions;
    regs_.value(TILE_VECTORS) += written;
    std::ostringstream args;
    args << "{\"vectors\":" << nvec << ",\"k\":" << k << ",\"n\":" << n << ",\"conversions\":" << conversions;
    if (err) args << ",\"error\":" << err << ",\"written\":" << written;
    args << "}";
    ctx_.tracer.slice(track_, "batch", "tile", t0, total, args.str());
    ctx_.tracer.set(busy_wire_, 0, sc_core::sc_time_stamp());
    if (err) {
      regs_.value(TILE_ERR_VECTOR) = written;
      fail(err, why.str());
    } else {
      regs_.value(TILE_BATCHES) += 1;
      finish(TILE_ERR_NONE);
    }
  }
}

}  // namespace cimvp
