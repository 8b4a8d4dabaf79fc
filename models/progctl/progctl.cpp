#include "models/progctl/progctl.hpp"

#include <cmath>
#include <cstring>
#include <sstream>

#include "cimvp/regs.h"
#include "models/crossbar/tile.hpp"
#include "platform/tracing/tracer.hpp"

namespace cimvp {

namespace {

progctl::WriteVerifyParams wv_params(const config::ProgramParams& p) {
  progctl::WriteVerifyParams wv;
  wv.tolerance_us = p.tolerance_us;
  wv.max_pulses = p.max_pulses;
  wv.scheme = p.scheme == "fixed" ? progctl::PulseScheme::Fixed : progctl::PulseScheme::Ispp;
  return wv;
}

float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

constexpr std::size_t kBatch = 4096;           // entries per SystemC wait
constexpr std::size_t kMaxTracedPulses = 20000;  // pulses drawn in the VCD / trace.json

}  // namespace

ProgCtl::ProgCtl(const sc_core::sc_module_name& name, Context& ctx, TileLookup tiles)
    : RegBlock(name, ctx, CIMVP_BLOCK_PROGCTL, PROG_VERSION_VALUE, ctx.scenario.tech.program.area_um2,
               ctx.scenario.tech.program.leakage_uw),
      isock("isock"),
      irq("irq"),
      tiles_(std::move(tiles)),
      programmer_(progctl::DeviceParams{}, wv_params(ctx.scenario.chip.program)) {
  using A = RegAccess;
  const auto& p = ctx.scenario.chip.program;
  regs_.add("CTRL", PROG_CTRL, 0, A::WO, {}, [this](uint32_t v) { on_ctrl(v); });
  regs_.add("STATUS", PROG_STATUS, 0, A::RO);
  regs_.add("TABLE_ADDR", PROG_TABLE_ADDR, 0, A::RW);
  regs_.add("COUNT", PROG_COUNT, 0, A::RW);
  regs_.add("DEST", PROG_DEST, 0, A::RW);
  regs_.add("TOL", PROG_TOL, float_bits(static_cast<float>(p.tolerance_us)), A::RW);
  regs_.add("MAX_PULSES", PROG_MAX_PULSES, p.max_pulses, A::RW);
  regs_.add("SCHEME", PROG_SCHEME, p.scheme == "fixed" ? PROG_SCHEME_FIXED : PROG_SCHEME_ISPP, A::RW);
  regs_.add("RESULT_ADDR", PROG_RESULT_ADDR, 0, A::RW);
  regs_.add("FAIL_ADDR", PROG_FAIL_ADDR, 0, A::RW);
  regs_.add("FAIL_MAX", PROG_FAIL_MAX, 0, A::RW);
  regs_.add("DONE_ENTRIES", PROG_DONE_ENTRIES, 0, A::RO);
  regs_.add("FAILURES", PROG_FAILURES, 0, A::RO);
  regs_.add("BAD_INDEX", PROG_BAD_INDEX, 0, A::RO);
  regs_.add("PULSES_LO", PROG_PULSES_LO, 0, A::RO, [this] { return static_cast<uint32_t>(pulses_); });
  regs_.add("PULSES_HI", PROG_PULSES_HI, 0, A::RO, [this] { return static_cast<uint32_t>(pulses_ >> 32); });
  regs_.add("VERIFY_LO", PROG_VERIFY_LO, 0, A::RO, [this] { return static_cast<uint32_t>(verifies_); });
  regs_.add("VERIFY_HI", PROG_VERIFY_HI, 0, A::RO, [this] { return static_cast<uint32_t>(verifies_ >> 32); });
  regs_.add("BUSY_NS_LO", PROG_BUSY_NS_LO, 0, A::RO, [this] { return static_cast<uint32_t>(busy_ns_); });
  regs_.add("BUSY_NS_HI", PROG_BUSY_NS_HI, 0, A::RO, [this] { return static_cast<uint32_t>(busy_ns_ >> 32); });

  const auto& t = ctx.scenario.tech.program;
  ev_set_ = ctx.power.event(power_component_, "set_pulse_driver", t.set_driver_pj);
  ev_reset_ = ctx.power.event(power_component_, "reset_pulse_driver", t.reset_driver_pj);
  ev_verify_ = ctx.power.event(power_component_, "verify_read", t.verify_read_pj);
  cell_component_ = ctx.power.component(std::string(basename()) + ".cells", 0, 0);
  pulse_wire_ = ctx.tracer.wire(basename(), "pulse", 2);  // 1 SET, 2 RESET
  target_wire_ = ctx.tracer.wire(basename(), "cell", 32);
  busy_wire_ = ctx.tracer.wire(basename(), "busy", 1);
  track_ = ctx.tracer.track("programming", basename());
  SC_THREAD(run);
}

Tile* ProgCtl::tile(unsigned index) { return tiles_(index); }

progctl::CellArray& ProgCtl::cells_for(unsigned t, unsigned kind) {
  const uint32_t key = (t << 8) | kind;
  auto it = cells_.find(key);
  if (it != cells_.end()) return it->second;
  Tile* tl = tile(t);
  const double g0 = ctx_.scenario.chip.device.g_min_us;  // assumption: fresh devices sit at g_min
  progctl::CellArray cells;
  if (kind == PROG_DEST_ARRAY) {
    auto& a = tl->array();
    cells = progctl::CellArray(static_cast<std::size_t>(a.rows()) * a.cols(), g0);
    // The array's manufacturing defects are the controller's stuck cells too.
    for (int r = 0; r < a.rows(); ++r)
      for (int c = 0; c < a.cols(); ++c)
        if (a.stuck(r, c) != crossbar::StuckState::None)
          cells.set_stuck(static_cast<std::size_t>(r) * a.cols() + c, a.conductance(r, c));
  } else {
    cells = progctl::CellArray(tl->adc().qcell_devices(), g0);
  }
  return cells_.emplace(key, std::move(cells)).first->second;
}

void ProgCtl::on_ctrl(uint32_t v) {
  if (v & PROG_CTRL_CLEAR_COUNTERS) pulses_ = verifies_ = busy_ns_ = 0;
  if (v & PROG_CTRL_CLEAR_STATUS) {
    regs_.value(PROG_STATUS) &= PROG_STATUS_BUSY;
    irq_src_.set(false);
  }
  if (v & PROG_CTRL_START) {
    if (regs_.value(PROG_STATUS) & PROG_STATUS_BUSY) {
      finish(PROG_STATUS_ERROR, PROG_ERR_BUSY);
      return;
    }
    irq_src_.set(false);
    regs_.value(PROG_STATUS) = PROG_STATUS_BUSY;
    regs_.value(PROG_DONE_ENTRIES) = 0;
    regs_.value(PROG_FAILURES) = 0;
    start_.notify(access_time() - sc_core::sc_time_stamp());
  }
}

void ProgCtl::finish(uint32_t status_bits, uint32_t err) {
  regs_.value(PROG_STATUS) = PROG_STATUS_DONE | status_bits | (err << 8);
  irq_src_.set(true);
}

bool ProgCtl::bus(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, std::size_t len, sc_core::sc_time& delay) {
  for (std::size_t off = 0; off < len; off += 4096) {
    tlm::tlm_generic_payload gp;
    unsigned n = static_cast<unsigned>(std::min<std::size_t>(4096, len - off));
    gp.set_command(cmd);
    gp.set_address(addr + off);
    gp.set_data_ptr(data + off);
    gp.set_data_length(n);
    gp.set_streaming_width(n);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    isock->b_transport(gp, delay);
    if (!gp.is_response_ok()) return false;
  }
  return true;
}

void ProgCtl::run() {
  for (;;) {
    sc_core::wait(start_);
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    ctx_.tracer.set(busy_wire_, 1, t0);
    const uint32_t count = regs_.value(PROG_COUNT);
    const uint32_t dest = regs_.value(PROG_DEST);
    const unsigned tile_index = dest & 0xFFFFu, kind = (dest >> 16) & 0xFu;
    auto fail = [&](uint32_t err) {
      finish(PROG_STATUS_ERROR, err);
      ctx_.tracer.set(busy_wire_, 0, t0);
    };
    if (count == 0) {
      fail(PROG_ERR_COUNT_ZERO);
      continue;
    }
    Tile* tl = tile(tile_index);
    const unsigned copies = tl ? tl->adc().qcell_copy_count() : 0;
    if (!tl || kind > PROG_DEST_ADC_SR || (kind != PROG_DEST_ARRAY && copies == 0) ||
        (kind == PROG_DEST_ADC_SR && copies < 2)) {
      fail(PROG_ERR_DEST);
      continue;
    }

    // The whole table first: a bad entry programs nothing.
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    std::vector<uint8_t> raw(static_cast<std::size_t>(count) * 8);
    if (!bus(tlm::TLM_READ_COMMAND, regs_.value(PROG_TABLE_ADDR), raw.data(), raw.size(), delay)) {
      fail(PROG_ERR_TABLE_BUS);
      continue;
    }
    progctl::CellArray& cells = cells_for(tile_index, kind);
    const int cols = tl->array().cols(), rows = tl->array().rows();
    const double gmin = ctx_.scenario.chip.device.g_min_us, gmax = ctx_.scenario.chip.device.g_max_us;
    std::vector<progctl::ProgramEntry> entries(count);
    long bad = -1;
    for (uint32_t i = 0; i < count && bad < 0; ++i) {
      uint32_t cell;
      uint32_t tbits;
      std::memcpy(&cell, raw.data() + 8 * i, 4);
      std::memcpy(&tbits, raw.data() + 8 * i + 4, 4);
      const double target = bits_float(tbits);
      std::size_t index;
      if (kind == PROG_DEST_ARRAY) {
        const uint32_t r = cell >> 16, c = cell & 0xFFFFu;
        if (r >= static_cast<uint32_t>(rows) || c >= static_cast<uint32_t>(cols)) bad = i;
        index = static_cast<std::size_t>(r) * cols + c;
      } else {
        index = cell;
        if (cell >= cells.size()) bad = i;
      }
      if (!(target >= gmin && target <= gmax)) bad = i;
      entries[i] = {static_cast<uint32_t>(index), target};
    }
    if (bad >= 0) {
      regs_.value(PROG_BAD_INDEX) = static_cast<uint32_t>(bad);
      std::ostringstream m;
      m << "target table entry " << bad << " addresses no cell of the destination or asks for a conductance outside ["
        << gmin << ", " << gmax << "] uS; nothing programmed";
      SC_REPORT_INFO(name(), m.str().c_str());
      fail(PROG_ERR_ENTRY);
      continue;
    }

    // Program in batches: one SystemC wait per batch, the time being the sum of the
    // per-pulse and per-verify times of that batch.
    const auto& t = ctx_.scenario.tech.program;
    progctl::WriteVerifyParams wv = programmer_.params();
    wv.tolerance_us = bits_float(regs_.value(PROG_TOL));
    wv.max_pulses = regs_.value(PROG_MAX_PULSES);
    wv.scheme = regs_.value(PROG_SCHEME) == PROG_SCHEME_FIXED ? progctl::PulseScheme::Fixed : progctl::PulseScheme::Ispp;
    std::unique_ptr<progctl::Programmer> custom;
    const progctl::Programmer* prog = &programmer_;
    try {
      if (wv.tolerance_us != programmer_.params().tolerance_us || wv.max_pulses != programmer_.params().max_pulses ||
          wv.scheme != programmer_.params().scheme) {
        custom = std::make_unique<progctl::Programmer>(programmer_.device_params(), wv);
        prog = custom.get();
      }
    } catch (const std::invalid_argument&) {
      fail(PROG_ERR_ENTRY);
      continue;
    }
    std::vector<progctl::CellResult> results(count);
    std::vector<float> achieved(count);
    std::vector<uint32_t> failed;
    std::vector<progctl::PulseEvent> log;
    const uint64_t seed = ctx_.seed_for(basename()) ^ splitmix64(++runs_);
    sc_core::sc_time elapsed = delay;
    for (std::size_t b = 0; b < count; b += kBatch) {
      const std::size_t n = std::min<std::size_t>(kBatch, count - b);
      const bool trace_pulses = traced_pulses_ < kMaxTracedPulses;
      log.clear();
      progctl::BatchTotals tot =
          prog->program_batch(cells, entries.data() + b, n, results.data() + b, splitmix64(seed + b), trace_pulses ? &log : nullptr);
      const double pulse_ns = (tot.sum_width_set_s + tot.sum_width_reset_s) * 1e9 + t.pulse_overhead_ns * tot.pulses();
      const double batch_ns = pulse_ns + t.verify_read_ns * tot.verify_reads;
      const sc_core::sc_time bstart = t0 + elapsed;
      // Pulse line and target cell in the VCD for the first pulses (at their own times).
      if (trace_pulses) {
        double at_ns = 0;
        std::size_t last_entry = SIZE_MAX;
        for (const auto& e : log) {
          if (traced_pulses_++ >= kMaxTracedPulses) break;
          if (e.entry != last_entry) {
            ctx_.tracer.set(target_wire_, e.cell, bstart + sc_core::sc_time(at_ns, sc_core::SC_NS));
            last_entry = e.entry;
          }
          at_ns += t.verify_read_ns;
          const sc_core::sc_time ps = bstart + sc_core::sc_time(at_ns, sc_core::SC_NS);
          ctx_.tracer.set(pulse_wire_, e.kind == progctl::PulseKind::Set ? 1 : 2, ps);
          at_ns += e.width_s * 1e9 + t.pulse_overhead_ns;
          ctx_.tracer.set(pulse_wire_, 0, bstart + sc_core::sc_time(at_ns, sc_core::SC_NS));
        }
      }
      ctx_.power.report(ev_set_, tot.set_pulses, bstart);
      ctx_.power.report(ev_reset_, tot.reset_pulses, bstart);
      ctx_.power.report(ev_verify_, tot.verify_reads, bstart);
      ctx_.power.energy(cell_component_, tot.cell_energy_j * 1e12, bstart, sc_core::sc_time(batch_ns, sc_core::SC_NS));
      pulses_ += tot.pulses();
      verifies_ += tot.verify_reads;
      // Achieved conductances reach the destination devices.
      for (std::size_t i = b; i < b + n; ++i) {
        const auto& r = results[i];
        achieved[i] = static_cast<float>(r.final_g_us);
        if (kind == PROG_DEST_ARRAY)
          tl->array().set_conductance(static_cast<int>(r.cell / cols), static_cast<int>(r.cell % cols), r.final_g_us);
        else
          tl->adc().set_qcell_conductance(r.cell, kind == PROG_DEST_ADC_SR ? 1u : 0u, r.final_g_us);
        if (r.failure != progctl::Failure::None) failed.push_back(static_cast<uint32_t>(i));
      }
      std::ostringstream args;
      args << "{\"entries\":" << n << ",\"pulses\":" << tot.pulses() << ",\"failures\":" << tot.failures << "}";
      ctx_.tracer.slice(track_, "write-verify", "programming", bstart, sc_core::sc_time(batch_ns, sc_core::SC_NS),
                        args.str());
      elapsed += sc_core::sc_time(batch_ns, sc_core::SC_NS);
      sc_core::wait(t0 + elapsed - sc_core::sc_time_stamp());
      regs_.value(PROG_DONE_ENTRIES) = static_cast<uint32_t>(b + n);
      regs_.value(PROG_FAILURES) = static_cast<uint32_t>(failed.size());
    }
    if (kind == PROG_DEST_ARRAY)
      tl->mark_programmed();
    else
      tl->adc().finish_qcell_programming();

    // Results and failures back to memory.
    sc_core::sc_time wdelay = sc_core::SC_ZERO_TIME;
    bool ok = true;
    if (regs_.value(PROG_RESULT_ADDR))
      ok = bus(tlm::TLM_WRITE_COMMAND, regs_.value(PROG_RESULT_ADDR), reinterpret_cast<uint8_t*>(achieved.data()),
               achieved.size() * 4, wdelay);
    if (ok && regs_.value(PROG_FAIL_ADDR) && !failed.empty()) {
      const std::size_t n = std::min<std::size_t>(failed.size(), regs_.value(PROG_FAIL_MAX));
      if (n) ok = bus(tlm::TLM_WRITE_COMMAND, regs_.value(PROG_FAIL_ADDR), reinterpret_cast<uint8_t*>(failed.data()), n * 4, wdelay);
    }
    sc_core::wait(wdelay);
    busy_ns_ += static_cast<uint64_t>((sc_core::sc_time_stamp() - t0).to_seconds() * 1e9 + 0.5);
    ctx_.tracer.set(busy_wire_, 0, sc_core::sc_time_stamp());
    if (!ok)
      finish(PROG_STATUS_ERROR, PROG_ERR_TABLE_BUS);
    else
      finish(failed.empty() ? 0u : PROG_STATUS_FAILURES, PROG_ERR_NONE);
  }
}

}  // namespace cimvp
