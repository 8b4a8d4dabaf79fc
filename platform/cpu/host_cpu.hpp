// Host CPU: runs a firmware application's entry point in an SC_THREAD. Every HAL access is
// a TLM b_transport from this module's initiator socket, with the CPU's own cost and the
// targets' delays accumulated in a tlm_quantumkeeper (temporal decoupling; quantum from
// the scenario). Memory words go through DMI where granted. Interrupts wake hal_wait_irq().
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "platform/core/context.hpp"
#include "platform/power_sc/power_sc.hpp"

namespace cimvp {

class Memory;

struct BusFault {
  bool happened = false;
  bool is_write = false;
  uint32_t addr = 0;
  tlm::tlm_response_status status = tlm::TLM_OK_RESPONSE;
  sc_core::sc_time at;
};

// True when the DMI region covers all of [addr, addr + bytes): 64-bit arithmetic, so an
// access that runs past the top of the 32-bit bus never wraps into a region.
inline bool dmi_covers(const tlm::tlm_dmi& d, uint64_t addr, uint64_t bytes) {
  return bytes > 0 && addr >= d.get_start_address() && addr + bytes - 1 <= d.get_end_address();
}

class HostCpu : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<HostCpu> isock;
  sc_core::sc_in<bool> irq;

  using AppEntry = int (*)(void);
  SC_HAS_PROCESS(HostCpu);
  HostCpu(const sc_core::sc_module_name& name, Context& ctx, AppEntry app);

  // Memories that may hand out DMI, so DMI accesses still report their energy.
  void add_dmi_memory(uint64_t base, uint64_t size, Memory* mem);

  // HAL entry points (called from firmware through platform/cpu/hal_host.cpp).
  uint32_t read(uint32_t addr, unsigned bytes);
  void write(uint32_t addr, uint32_t value, unsigned bytes);
  void read_block(uint32_t addr, void* dst, uint32_t bytes);
  void write_block(uint32_t addr, const void* src, uint32_t bytes);
  void wait_irq();
  void cycles(uint32_t n);
  void set_trap_handler(void (*handler)(uint32_t, uint32_t, uint32_t)) { trap_ = handler; }

  const BusFault& fatal_fault() const { return fatal_; }
  bool finished() const { return finished_; }
  uint64_t accesses() const { return accesses_; }

  static HostCpu* current();  // the CPU whose firmware thread is running

 private:
  void run();
  bool transport(tlm::tlm_command cmd, uint32_t addr, uint8_t* data, unsigned bytes);
  bool try_dmi(tlm::tlm_command cmd, uint32_t addr, uint8_t* data, unsigned bytes);
  void fault(bool is_write, uint32_t addr, tlm::tlm_response_status status);
  void sync_if_needed();

  Context& ctx_;
  AppEntry app_;
  tlm_utils::tlm_quantumkeeper qk_;
  sc_core::sc_time cycle_;
  sc_core::sc_time per_access_;
  std::vector<tlm::tlm_dmi> dmi_;
  struct DmiMem {
    uint64_t base, size;
    Memory* mem;
  };
  std::vector<DmiMem> dmi_mems_;
  void (*trap_)(uint32_t, uint32_t, uint32_t) = nullptr;
  BusFault fatal_;
  bool finished_ = false;
  uint64_t accesses_ = 0;
  int component_ = -1;
  PowerSc::Event cycle_event_;
  tlm::tlm_generic_payload gp_;

  void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end);
};

// The firmware applications linked into the platform, by name.
struct FirmwareApp {
  const char* name;
  HostCpu::AppEntry entry;
  const char* description;
};
const std::vector<FirmwareApp>& firmware_apps();
HostCpu::AppEntry find_firmware_app(const std::string& name);

}  // namespace cimvp
