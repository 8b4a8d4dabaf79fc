// SystemC shell of a tile's ADC bank: a register window of the tile (TILE_ADC_BASE..), the
// crossbar core's AdcStage (every column current of every input cycle and slice passes
// through here), capture of raw pre-ADC samples for calibration, conversion statistics,
// timing and energy per conversion by ADC type and bits. The converters themselves are
// the pure core (models/adc/adc_core.hpp). Registers: firmware/include/cimvp/regs.h ADC_*.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "models/crossbar/crossbar.hpp"
#include "platform/config/scenario.hpp"
#include "platform/core/context.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/regs/register_bank.hpp"

namespace cimvp {

class Tile;
class AdcConverters;  // the pure-core converters for the present settings (adc_bank.cpp)
namespace adc {
class QCellAdc;
}

class AdcBank : public crossbar::AdcStage {
 public:
  AdcBank(const std::string& name, Context& ctx, Tile& tile);
  ~AdcBank() override;

  // Register window access (addresses relative to the tile base).
  void access(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  RegisterBank& regs() { return regs_; }

  crossbar::AdcStage* stage() { return this; }
  void convert(Eigen::Ref<Eigen::MatrixXf> analog, const crossbar::AdcContext& ctx) override;

  // Around each tile batch: capture bookkeeping, then the captured samples go to memory
  // through the tile's initiator port (returns the time that took).
  void begin_batch();
  sc_core::sc_time end_batch(tlm_utils::simple_initiator_socket<Tile>& port, sc_core::sc_time& delay);
  // Energy of `conversions` over the batch's compute interval.
  void account(uint64_t conversions, const sc_core::sc_time& start, const sc_core::sc_time& duration);

  unsigned n_adcs() const { return n_adcs_; }
  double conversion_ns() const;

  // Q-cell memristors of the bank, for the programming controller: 2 per Q-cell (lower,
  // upper edge), 2^bits Q-cells per ADC copy; `copy` 1 is the SR partner.
  std::size_t qcell_devices() const;  // per copy
  unsigned qcell_copy_count() const;
  double qcell_target_us(std::size_t device, unsigned copy) const;
  bool set_qcell_conductance(std::size_t device, unsigned copy, double g_us);
  void finish_qcell_programming();

 private:
  void apply();  // ADC_APPLY: rebuild the converters from the register windows
  double design_full_scale() const;
  std::vector<adc::QCellAdc*> qcell_copies();
  const config::TechAdcType& tech_type() const;

  Context& ctx_;
  Tile& tile_;
  std::string name_;
  RegisterBank regs_;
  unsigned n_adcs_ = 1;
  std::vector<float> levels_;      // ADC_LEVEL window
  std::vector<float> thresholds_;  // ADC_THRESH window
  std::unique_ptr<AdcConverters> conv_;
  uint64_t conversions_ = 0;
  uint64_t applies_ = 0;

  // Capture of raw pre-ADC samples (in digits, before conversion).
  std::vector<float> captured_;
  uint64_t seen_ = 0;

  int component_ = -1;
  PowerSc::Event ev_capture_;
  int track_ = -1;  // trace.json track "adc"/<bank>, created at the first conversion phase
};

}  // namespace cimvp
