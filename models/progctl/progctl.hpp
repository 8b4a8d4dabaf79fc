// SystemC shell of the programming controller: reads a target table from bus memory,
// programs crossbar cells or Q-cell memristors by write-verify (the pure core,
// write_verify.hpp) in simulated time, writes achieved conductances and a failure list
// back, raises its IRQ. Registers: firmware/include/cimvp/regs.h PROG_*; docs/progctl.md.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/progctl/write_verify.hpp"
#include "platform/irq/irq_source.hpp"
#include "platform/regs/reg_block.hpp"

namespace cimvp {

class Tile;

class ProgCtl : public RegBlock {
 public:
  tlm_utils::simple_initiator_socket<ProgCtl> isock;
  sc_core::sc_out<bool> irq;

  // Finds tile i of the chip (nullptr if none); called lazily, after elaboration.
  using TileLookup = std::function<Tile*(unsigned)>;

  SC_HAS_PROCESS(ProgCtl);
  ProgCtl(const sc_core::sc_module_name& name, Context& ctx, TileLookup tiles);

  uint64_t total_pulses() const { return pulses_; }
  uint64_t total_verify_reads() const { return verifies_; }
  // Core totals of the last completed job (pulse counts per polarity, width and V^2*G*t
  // sums): what the time and energy reports of that job were computed from.
  const progctl::BatchTotals& last_totals() const { return last_totals_; }
  // The message of the last error reported (also an SC_REPORT_INFO), "" if none.
  const std::string& last_error() const { return last_error_; }
  const progctl::Programmer& programmer() const { return programmer_; }

 private:
  void on_ctrl(uint32_t v);
  void run();
  // DONE | status_bits (sticky ERROR/OVERRUN kept), code err if non-zero, IRQ.
  void finish(uint32_t status_bits, uint32_t err);
  // On a bus error returns false with *bad_addr the address of the failing transaction.
  bool bus(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, std::size_t len, sc_core::sc_time& delay,
           uint64_t* bad_addr = nullptr);
  Tile* tile(unsigned index);
  progctl::CellArray& cells_for(unsigned tile, unsigned kind);

  TileLookup tiles_;
  IrqSource irq_src_{irq};
  progctl::Programmer programmer_;
  // Device state (conductance, pulse count, stuck) per destination: key = tile << 8 | kind.
  std::map<uint32_t, progctl::CellArray> cells_;
  sc_core::sc_event start_;
  uint64_t pulses_ = 0, verifies_ = 0, busy_ns_ = 0, runs_ = 0;
  std::size_t traced_pulses_ = 0;
  progctl::BatchTotals last_totals_;
  std::string last_error_;

  PowerSc::Event ev_set_, ev_reset_, ev_verify_;
  int cell_component_ = -1;
  int pulse_wire_ = -1, target_wire_ = -1, busy_wire_ = -1;
  int track_ = -1;
};

}  // namespace cimvp
