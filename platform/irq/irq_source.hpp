// A block's interrupt output, driven by one process whichever process decides the level.
//
// A block's IRQ level changes in its own thread (work done) and in the CPU's thread
// (register write: status cleared, new start). sc_signal allows one writer process, so
// set() only records the level and wakes a small method that does the write.
#pragma once

#include <systemc>

namespace cimvp {

class IrqSource {
 public:
  explicit IrqSource(sc_core::sc_out<bool>& port) : port_(port) {
    sc_core::sc_spawn_options opt;
    opt.spawn_method();
    opt.set_sensitivity(&changed_);
    opt.dont_initialize();
    sc_core::sc_spawn([this] { port_.write(level_); }, sc_core::sc_gen_unique_name("irq_driver"), &opt);
  }
  IrqSource(const IrqSource&) = delete;
  IrqSource& operator=(const IrqSource&) = delete;

  // Takes effect in the next delta cycle of the current kernel time.
  void set(bool level) {
    level_ = level;
    changed_.notify(sc_core::SC_ZERO_TIME);
  }
  bool level() const { return level_; }

 private:
  sc_core::sc_out<bool>& port_;
  sc_core::sc_event changed_;
  bool level_ = false;
};

}  // namespace cimvp
