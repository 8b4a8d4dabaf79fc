// SystemC shell of a tile's ADC bank: a register window of the tile (TILE_ADC_BASE..), the
// crossbar core's AdcStage (every column current of every input cycle and slice passes
// through here), capture of raw pre-ADC samples for calibration, conversion statistics,
// timing and energy per conversion by ADC type and bits. The converters themselves are
// the pure core (models/adc/adc_core.hpp). Registers: firmware/include/cimvp/regs.h ADC_*.
// Threshold sets (ADC_SET_COLS): the bank's ADCs split by physical column into groups, each
// with its own windows and converters (per-column-group calibration, docs/adc.md).
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <memory>
#include <mutex>
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
struct ConversionStats;
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
  // Chunked, concurrent conversion (crossbar.hpp) except while capturing: the capture takes
  // samples in whole-batch order.
  bool chunkable() const override;

  // Around each tile batch: capture bookkeeping, then the captured samples go to memory
  // through the tile's initiator port (returns the time that took).
  void begin_batch();
  sc_core::sc_time end_batch(tlm_utils::simple_initiator_socket<Tile>& port, sc_core::sc_time& delay);
  // Energy of `conversions` over the batch's compute interval.
  void account(uint64_t conversions, const sc_core::sc_time& start, const sc_core::sc_time& duration);

  unsigned n_adcs() const { return n_adcs_; }
  // Per conversion, for the converters last applied (ADC_MODE / ADC_BITS at APPLY): time from
  // the tech table, energy of all ADCs of an SR group.
  double conversion_ns() const;
  double conversion_pj() const;

  // Q-cell memristors of the bank, for the programming controller: 2 per Q-cell (lower,
  // upper edge), 2^bits Q-cells per ADC copy and threshold set (device k * 2^(bits+1) + d is
  // device d of set k); `copy` 1 is the SR partner.
  std::size_t qcell_devices() const;  // per copy, all sets
  unsigned qcell_copy_count() const;
  double qcell_target_us(std::size_t device, unsigned copy) const;
  bool set_qcell_conductance(std::size_t device, unsigned copy, double g_us);
  void finish_qcell_programming();

  unsigned threshold_sets() const;  // ADC_NSETS

 private:
  struct ThresholdSet;  // one set's windows, converters and capture slot (adc_bank.cpp)
  void apply();  // ADC_APPLY: rebuild the selected set's converters from its register windows
  void set_columns(uint32_t cols);  // ADC_SET_COLS write: re-partition the bank
  ThresholdSet& sel();
  unsigned set_of(Eigen::Index j, int slice) const;  // threshold set of logical column j, slice s
  void capture(const Eigen::Ref<Eigen::MatrixXf>& analog, const crossbar::AdcContext& ctx);
  void convert_sets(Eigen::Ref<Eigen::MatrixXf> analog, const crossbar::AdcContext& ctx);
  // One capture buffer to memory (slot k of a per-set capture at CAP_ADDR + 4 k CAP_MAX);
  // false after a bus error (capture stopped).
  bool write_capture(tlm_utils::simple_initiator_socket<Tile>& port, sc_core::sc_time& delay,
                     std::vector<float>& captured, uint32_t& count, std::size_t slot);
  adc::ConversionStats stats() const;  // all sets, over the bank's lifetime
  double design_full_scale() const;
  std::vector<adc::QCellAdc*> qcell_copies(unsigned set = 0);
  const config::TechAdcType& tech_type(uint32_t mode) const;  // ADC_MODE_* -> tech table entry

  Context& ctx_;
  Tile& tile_;
  std::string name_;
  RegisterBank regs_;
  unsigned n_adcs_ = 1;
  std::vector<ThresholdSet> sets_;  // >= 1; ADC_SET_SEL picks the one the windows address
  AdcConverters* conv_ = nullptr;   // set 0's converters (the whole bank when there is one set)
  unsigned sel_ = 0;                // ADC_SET_SEL
  uint32_t set_cols_ = 0;           // ADC_SET_COLS (0: one set)
  unsigned edge_copy_ = 0;          // ADC_EDGE_COPY
  std::mutex stats_m_;  // convert() runs on the MVM worker threads: guards the counters below
  uint64_t conversions_ = 0;
  uint32_t applied_mode_ = 0;  // ADC_MODE_* the last successful APPLY built (timing, energy follow it)
  int applied_bits_ = 2;
  unsigned applied_copies_ = 1;
  uint64_t applies_ = 0;
  std::unique_ptr<adc::ConversionStats> retired_;  // statistics of sets dropped by a re-partition

  // Capture of raw pre-ADC samples (in digits, before conversion); one buffer, or one per set
  // with ADC_CAP_CTRL_PER_SET.
  std::vector<float> captured_;
  uint32_t cap_count_ = 0;
  uint64_t seen_ = 0;

  int component_ = -1;
  PowerSc::Event ev_capture_;
  int track_ = -1;  // trace.json track "adc"/<bank>, created at the first conversion phase
};

}  // namespace cimvp
