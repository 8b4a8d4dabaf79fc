#include "models/progctl/progctl.hpp"

#include <cmath>
#include <cstring>
#include <sstream>

#include "cimvp/regs.h"
#include "models/crossbar/tile.hpp"
#include "platform/tracing/tracer.hpp"

namespace cimvp {

namespace {

// The controller's reset values: the tech table's write_verify section with the scenario's
// chip.program tolerance / max pulses / scheme (which default to the tech table's).
progctl::WriteVerifyParams wv_params(const config::Scenario& s) {
  progctl::WriteVerifyParams wv = s.tech.program.write_verify;
  wv.tolerance_us = s.chip.program.tolerance_us;
  wv.max_pulses = s.chip.program.max_pulses;
  wv.scheme = s.chip.program.scheme == "fixed" ? progctl::PulseScheme::Fixed : progctl::PulseScheme::Ispp;
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

std::string hex(uint64_t v) {
  std::ostringstream o;
  o << "0x" << std::hex << v;
  return o.str();
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
      programmer_(ctx.scenario.tech.program.device, wv_params(ctx.scenario)) {
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
  target_wire_ = ctx.tracer.wire(basename(), "cell", 32);  // the entry's cell field: (row << 16) | column
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
  // A cell never written before is in its formed, high-resistance state (tech table
  // program.device.g_fresh_us), the same start state the Fig. 3c calibration uses.
  const double g0 = ctx_.scenario.tech.program.fresh_g_us;
  progctl::CellArray cells;
  if (kind == PROG_DEST_ARRAY) {
    auto& a = tl->array();
    cells = progctl::CellArray(static_cast<std::size_t>(a.rows()) * a.cols(), g0);
    for (int r = 0; r < a.rows(); ++r)
      for (int c = 0; c < a.cols(); ++c) {
        const std::size_t i = static_cast<std::size_t>(r) * a.cols() + c;
        // The array's manufacturing defects are the controller's stuck cells too.
        if (a.stuck(r, c) != crossbar::StuckState::None)
          cells.set_stuck(i, a.conductance(r, c));
        else if (tl->programmed())  // written before by the fast path: start from there
          cells.g_us[i] = a.conductance(r, c);
      }
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
      // The running job goes on (BUSY stays); the ignored START is latched as an error.
      regs_.value(PROG_STATUS) = (regs_.value(PROG_STATUS) & ~0xFF00u) | PROG_STATUS_ERROR | PROG_STATUS_OVERRUN |
                                 (PROG_ERR_BUSY << 8);
      std::ostringstream m;
      m << "START while a job is running (STATUS.BUSY, " << regs_.value(PROG_DONE_ENTRIES)
        << " entries done so far): the START is ignored and the running job goes on; wait for DONE before the "
           "next START (PROG_ERR_BUSY, STATUS.OVERRUN)";
      last_error_ = m.str();
      SC_REPORT_INFO(name(), last_error_.c_str());
      irq_src_.set(true);
      return;
    }
    irq_src_.set(false);
    regs_.value(PROG_STATUS) = PROG_STATUS_BUSY;
    regs_.value(PROG_DONE_ENTRIES) = 0;
    regs_.value(PROG_FAILURES) = 0;
    regs_.value(PROG_BAD_INDEX) = 0;
    start_.notify(access_time() - sc_core::sc_time_stamp());
  }
}

void ProgCtl::finish(uint32_t status_bits, uint32_t err) {
  // ERROR/OVERRUN and the code latched by a START while busy survive the completion (sticky
  // until CLEAR_STATUS); the job's own error code replaces a latched one.
  uint32_t st = regs_.value(PROG_STATUS) & (PROG_STATUS_ERROR | PROG_STATUS_OVERRUN | 0xFF00u);
  st |= PROG_STATUS_DONE | status_bits;
  if (err) st = (st & ~0xFF00u) | PROG_STATUS_ERROR | (err << 8);
  regs_.value(PROG_STATUS) = st;
  irq_src_.set(true);
}

bool ProgCtl::bus(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, std::size_t len, sc_core::sc_time& delay,
                  uint64_t* bad_addr) {
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
    if (!gp.is_response_ok()) {
      if (bad_addr) *bad_addr = addr + off;
      return false;
    }
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
    const uint32_t table = regs_.value(PROG_TABLE_ADDR);
    const unsigned tile_index = dest & 0xFFFFu, kind = (dest >> 16) & 0xFu;
    // Every refusal names the check that failed and says what was done: nothing, here.
    auto fail = [&](uint32_t err, const std::string& msg) {
      last_error_ = msg + "; nothing programmed (DONE_ENTRIES 0)";
      SC_REPORT_INFO(name(), last_error_.c_str());  // the firmware sees the code in STATUS
      finish(PROG_STATUS_ERROR, err);
      ctx_.tracer.set(busy_wire_, 0, t0);
    };
    if (count == 0) {
      fail(PROG_ERR_COUNT_ZERO, "START with COUNT = 0: set COUNT to the number of table entries (PROG_ERR_COUNT_ZERO)");
      continue;
    }
    Tile* tl = tile(tile_index);
    const unsigned copies = tl ? tl->adc().qcell_copy_count() : 0;
    if (!tl || kind > PROG_DEST_ADC_SR || (kind != PROG_DEST_ARRAY && copies == 0) ||
        (kind == PROG_DEST_ADC_SR && copies < 2)) {
      std::ostringstream m;
      m << "DEST = " << hex(dest) << " (tile " << tile_index << ", kind " << kind << "): ";
      if (!tl)
        m << "there is no tile " << tile_index;
      else if (kind > PROG_DEST_ADC_SR)
        m << "kind must be PROG_DEST_ARRAY (0), PROG_DEST_ADC (1) or PROG_DEST_ADC_SR (2)";
      else if (copies == 0)
        m << "tile " << tile_index << "'s ADC bank has no Q-cells (chip.adc.mode is not qcell or qcell_sr)";
      else
        m << "tile " << tile_index << "'s ADC bank has no second super-resolution copy (chip.adc.mode is not qcell_sr)";
      m << " (PROG_ERR_DEST)";
      fail(PROG_ERR_DEST, m.str());
      continue;
    }
    // Per-job parameters: TOL / MAX_PULSES / SCHEME as the firmware left them.
    progctl::WriteVerifyParams wv = programmer_.params();
    {
      const float tol = bits_float(regs_.value(PROG_TOL));
      const uint32_t maxp = regs_.value(PROG_MAX_PULSES), scheme = regs_.value(PROG_SCHEME);
      std::ostringstream m;
      if (!(std::isfinite(tol) && tol > 0))
        m << "TOL = " << tol << " (bits " << hex(regs_.value(PROG_TOL)) << ") is not a finite float32 > 0 uS";
      else if (maxp == 0 || maxp > PROG_MAX_PULSES_LIMIT)
        m << "MAX_PULSES = " << maxp << " must be in 1.." << PROG_MAX_PULSES_LIMIT;
      else if (scheme != PROG_SCHEME_FIXED && scheme != PROG_SCHEME_ISPP)
        m << "SCHEME = " << scheme << " must be PROG_SCHEME_FIXED (0) or PROG_SCHEME_ISPP (1)";
      if (!m.str().empty()) {
        m << " (PROG_ERR_PARAM)";
        fail(PROG_ERR_PARAM, m.str());
        continue;
      }
      wv.tolerance_us = tol;
      wv.max_pulses = maxp;
      wv.scheme = scheme == PROG_SCHEME_FIXED ? progctl::PulseScheme::Fixed : progctl::PulseScheme::Ispp;
    }
    // COUNT is bounded by the destination before the table is allocated and read.
    progctl::CellArray& cells = cells_for(tile_index, kind);
    if (count > cells.size()) {
      std::ostringstream m;
      m << "COUNT = " << count << " exceeds the " << cells.size() << " cells of the destination (tile " << tile_index
        << (kind == PROG_DEST_ARRAY ? " array" : " Q-cells") << "): one entry per cell at most (PROG_ERR_COUNT_RANGE)";
      fail(PROG_ERR_COUNT_RANGE, m.str());
      continue;
    }

    // The whole table first: a bad entry programs nothing.
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    std::vector<uint8_t> raw(static_cast<std::size_t>(count) * 8);
    uint64_t bad_addr = 0;
    if (!bus(tlm::TLM_READ_COMMAND, table, raw.data(), raw.size(), delay, &bad_addr)) {
      std::ostringstream m;
      m << "reading the target table (TABLE_ADDR " << hex(table) << ", COUNT " << count << " x 8 bytes) got a bus "
        << "error at " << hex(bad_addr) << " (entry " << (bad_addr - table) / 8
        << "): the table must lie in bus memory (PROG_ERR_TABLE_BUS)";
      fail(PROG_ERR_TABLE_BUS, m.str());
      continue;
    }
    const int cols = tl->array().cols(), rows = tl->array().rows();
    const double gmin = ctx_.scenario.chip.device.g_min_us, gmax = ctx_.scenario.chip.device.g_max_us;
    std::vector<progctl::ProgramEntry> entries(count);
    std::vector<uint32_t> cell_field(count);
    std::string bad;
    uint32_t bad_index = 0;
    for (uint32_t i = 0; i < count && bad.empty(); ++i) {
      uint32_t cell;
      uint32_t tbits;
      std::memcpy(&cell, raw.data() + 8 * static_cast<std::size_t>(i), 4);
      std::memcpy(&tbits, raw.data() + 8 * static_cast<std::size_t>(i) + 4, 4);
      const double target = bits_float(tbits);
      std::size_t index;
      std::ostringstream m;
      if (kind == PROG_DEST_ARRAY) {
        const uint32_t r = cell >> 16, c = cell & 0xFFFFu;
        index = static_cast<std::size_t>(r) * cols + c;
        if (r >= static_cast<uint32_t>(rows) || c >= static_cast<uint32_t>(cols))
          m << "address check: cell " << hex(cell) << " = row " << r << ", column " << c << " is outside tile "
            << tile_index << "'s " << rows << "x" << cols << " array";
      } else {
        index = cell;
        if (cell >= cells.size())
          m << "address check: Q-cell device " << cell << " is outside tile " << tile_index << "'s " << cells.size()
            << " Q-cell devices";
      }
      if (m.str().empty() && !(target >= gmin && target <= gmax))
        m << "target check: " << target << " uS is outside the chip's window [" << gmin << ", " << gmax
          << "] uS (chip.crossbar.device.g_min_us/g_max_us)";
      if (!m.str().empty()) {
        bad_index = i;
        bad = "target table entry " + std::to_string(i) + " (bus address " + hex(table + 8ull * i) + "): " + m.str();
      }
      entries[i] = {static_cast<uint32_t>(index), target};
      cell_field[i] = cell;
    }
    if (!bad.empty()) {
      regs_.value(PROG_BAD_INDEX) = bad_index;
      fail(PROG_ERR_ENTRY, bad + "; BAD_INDEX = " + std::to_string(bad_index) + " (PROG_ERR_ENTRY)");
      continue;
    }

    // Program in batches: one SystemC wait per batch, the time being the sum of the
    // per-pulse and per-verify times of that batch.
    const auto& t = ctx_.scenario.tech.program;
    std::unique_ptr<progctl::Programmer> custom;
    const progctl::Programmer* prog = &programmer_;
    if (wv.tolerance_us != programmer_.params().tolerance_us || wv.max_pulses != programmer_.params().max_pulses ||
        wv.scheme != programmer_.params().scheme) {
      custom = std::make_unique<progctl::Programmer>(programmer_.device_params(), wv);  // validated above
      prog = custom.get();
    }
    std::vector<progctl::CellResult> results(count);
    std::vector<float> achieved(count);
    std::vector<uint32_t> failed;
    std::vector<progctl::PulseEvent> log;
    last_totals_ = progctl::BatchTotals{};
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
      // Pulse line and target cell in the VCD at their true times: per entry a verify read,
      // then per pulse the pulse (high for its width), the driver overhead and the next
      // verify read. The entries' times add up to batch_ns exactly.
      if (trace_pulses) {
        auto at = [&](double t_ns) { return bstart + sc_core::sc_time(t_ns, sc_core::SC_NS); };
        double t_ns = 0;
        std::size_t li = 0;
        for (std::size_t k = 0; k < n && traced_pulses_ < kMaxTracedPulses; ++k) {
          const auto& r = results[b + k];
          ctx_.tracer.set(target_wire_, cell_field[b + k], at(t_ns));
          if (r.verify_reads == 0) continue;
          t_ns += t.verify_read_ns;  // the first read
          for (; li < log.size() && log[li].entry == k; ++li) {
            const auto& e = log[li];
            if (traced_pulses_++ < kMaxTracedPulses) {
              ctx_.tracer.set(pulse_wire_, e.kind == progctl::PulseKind::Set ? 1 : 2, at(t_ns));
              ctx_.tracer.set(pulse_wire_, 0, at(t_ns + e.width_s * 1e9));
            }
            t_ns += e.width_s * 1e9 + t.pulse_overhead_ns + t.verify_read_ns;
          }
        }
      }
      ctx_.power.report(ev_set_, tot.set_pulses, bstart);
      ctx_.power.report(ev_reset_, tot.reset_pulses, bstart);
      ctx_.power.report(ev_verify_, tot.verify_reads, bstart);
      ctx_.power.energy(cell_component_, tot.cell_energy_j * 1e12, bstart, sc_core::sc_time(batch_ns, sc_core::SC_NS));
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
      // Counters when the batch's time has passed, all together.
      pulses_ += tot.pulses();
      verifies_ += tot.verify_reads;
      last_totals_ += tot;
      regs_.value(PROG_DONE_ENTRIES) = static_cast<uint32_t>(b + n);
      regs_.value(PROG_FAILURES) = static_cast<uint32_t>(failed.size());
    }
    if (kind == PROG_DEST_ARRAY)
      tl->mark_programmed();
    else
      tl->adc().finish_qcell_programming();

    // Results and failures back to memory.
    sc_core::sc_time wdelay = sc_core::SC_ZERO_TIME;
    std::string werr;
    const uint32_t result_addr = regs_.value(PROG_RESULT_ADDR), fail_addr = regs_.value(PROG_FAIL_ADDR);
    if (result_addr && !bus(tlm::TLM_WRITE_COMMAND, result_addr, reinterpret_cast<uint8_t*>(achieved.data()),
                            achieved.size() * 4, wdelay, &bad_addr))
      werr = "writing the achieved conductances (RESULT_ADDR " + hex(result_addr) + ", " +
             std::to_string(count) + " x 4 bytes) got a bus error at " + hex(bad_addr);
    if (werr.empty() && fail_addr && !failed.empty()) {
      const std::size_t n = std::min<std::size_t>(failed.size(), regs_.value(PROG_FAIL_MAX));
      if (n && !bus(tlm::TLM_WRITE_COMMAND, fail_addr, reinterpret_cast<uint8_t*>(failed.data()), n * 4, wdelay,
                    &bad_addr))
        werr = "writing the failure list (FAIL_ADDR " + hex(fail_addr) + ", " + std::to_string(n) +
               " x 4 bytes) got a bus error at " + hex(bad_addr);
    }
    sc_core::wait(wdelay);
    busy_ns_ += static_cast<uint64_t>((sc_core::sc_time_stamp() - t0).to_seconds() * 1e9 + 0.5);
    ctx_.tracer.set(busy_wire_, 0, sc_core::sc_time_stamp());
    if (!werr.empty()) {
      last_error_ = werr + "; all " + std::to_string(count) + " entries were programmed (DONE_ENTRIES " +
                    std::to_string(count) + ", FAILURES " + std::to_string(failed.size()) +
                    "): point the buffer at bus memory (PROG_ERR_TABLE_BUS)";
      SC_REPORT_INFO(name(), last_error_.c_str());
      finish(PROG_STATUS_ERROR | (failed.empty() ? 0u : PROG_STATUS_FAILURES), PROG_ERR_TABLE_BUS);
    } else {
      finish(failed.empty() ? 0u : PROG_STATUS_FAILURES, PROG_ERR_NONE);
    }
  }
}

}  // namespace cimvp
