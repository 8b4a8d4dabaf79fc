// SystemC shell of a crossbar tile: registers, an initiator port that fetches input codes
// from bus memory and writes results back, timing and energy per batch, an IRQ on batch
// completion. The math is the pure core (crossbar.hpp); the ADC bank is a register window
// of the tile (models/adc/adc_bank.hpp). Registers: firmware/include/cimvp/regs.h TILE_*.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/adc/adc_bank.hpp"
#include "models/crossbar/crossbar.hpp"
#include "platform/config/scenario.hpp"
#include "platform/irq/irq_source.hpp"
#include "platform/regs/reg_block.hpp"

namespace cimvp {

class Tile : public RegBlock {
 public:
  tlm_utils::simple_initiator_socket<Tile> isock;
  sc_core::sc_out<bool> irq;

  SC_HAS_PROCESS(Tile);
  Tile(const sc_core::sc_module_name& name, Context& ctx, unsigned index);

  unsigned index() const { return index_; }
  crossbar::CrossbarArray& array() { return *array_; }
  AdcBank& adc() { return *adc_; }
  bool programmed() const { return programmed_; }
  // Loads a weight block's layout and targets (conductances untouched until programmed).
  void load_block(const crossbar::MappedBlock& block);
  // Fast path (program.mode: ideal): every cell set to its target in one shot, with the
  // device model's programming error. The write-verify path goes through progctl instead.
  // Either way the drift clock starts at the present simulated time.
  void program_ideal();
  // The programming controller marks the tile programmed after writing its cells.
  void mark_programmed();
  // Simulated time the array was last programmed (drift is measured from here).
  sc_core::sc_time programmed_at() const { return programmed_at_; }
  // Seconds since programming the drift model sees at simulated time `at`:
  // chip.crossbar.device.drift.read_delay_s + (at - programmed_at()).
  double drift_age_s(const sc_core::sc_time& at) const;
  // The message of the last error the tile reported (also an SC_REPORT_INFO), "" if none.
  const std::string& last_error() const { return last_error_; }

 protected:
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) override;

 private:
  void on_ctrl(uint32_t v);
  void run();
  // Ends the batch: DONE (sticky ERROR/OVERRUN kept), code `err` if non-zero, IRQ.
  void finish(uint32_t err);
  // Reports an error of the batch (message) and finishes it with code `err`.
  void fail(uint32_t err, const std::string& message);
  bool bus(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, unsigned len, sc_core::sc_time& delay);
  // Array read energy (V^2 G t) of the columns sensed for the first n logical outputs only,
  // for batches with N < MAPPED_N (the core's figure covers every mapped column).
  double sensed_array_energy_pj(const Eigen::MatrixXi& x, int n) const;

  unsigned index_;
  const config::ChipParams& chip_;
  std::unique_ptr<crossbar::CrossbarArray> array_;
  std::unique_ptr<AdcBank> adc_;
  bool programmed_ = false;
  sc_core::sc_time programmed_at_ = sc_core::SC_ZERO_TIME;
  std::string last_error_;
  IrqSource irq_src_{irq};
  sc_core::sc_event start_;
  uint64_t busy_ns_ = 0, conversions_ = 0;

  // Batch buffers (released after each batch).
  std::vector<uint8_t> in_bytes_;
  std::vector<float> out_vals_;
  Eigen::MatrixXi x_;

  // Power events, registered at elaboration.
  PowerSc::Event ev_dac_, ev_mux_, ev_shift_add_, ev_buffer_;
  int array_component_ = -1;
  int busy_wire_ = -1;
  int track_ = -1;
};

}  // namespace cimvp
