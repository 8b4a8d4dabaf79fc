// Byte-addressed memory (SRAM global buffer, host memory) with DMI, byte enables and
// bursts. Streaming (streaming width < length) is not supported and answers
// TLM_BURST_ERROR_RESPONSE, as IEEE 1666 prescribes for a target that cannot do it.
//
// Storage is reserved, not filled: one anonymous private mapping of the whole size whose
// pages the host kernel allocates (zeroed) on first touch. A 4 GiB memory of which the
// firmware uses a few pages costs a few pages of host RAM, elaboration stays instant, and
// DMI still hands out one contiguous pointer for the whole block.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>

#include "platform/config/scenario.hpp"
#include "platform/core/context.hpp"
#include "platform/power_sc/power_sc.hpp"

namespace cimvp {

class Memory : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Memory> tsock;

  // Throws std::runtime_error when the host cannot reserve `size` bytes of address space.
  Memory(const sc_core::sc_module_name& name, Context& ctx, uint64_t size, const config::TechSram& tech);

  ~Memory() override;
  Memory(const Memory&) = delete;
  Memory& operator=(const Memory&) = delete;

  uint8_t* data() { return mem_; }
  uint64_t size() const { return size_; }

  // An initiator that read or wrote through a DMI pointer reports the bytes here so the
  // energy still reaches the power monitor (DMI bypasses b_transport by design).
  void account_dmi(uint64_t bytes, bool is_write, const sc_core::sc_time& at);

  // Time a burst of `bytes` takes at this memory (latency + bytes / bandwidth).
  sc_core::sc_time access_time(uint64_t bytes) const;

 private:
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);
  unsigned int transport_dbg(tlm::tlm_generic_payload& gp);

  Context& ctx_;
  config::TechSram tech_;
  uint8_t* mem_ = nullptr;
  uint64_t size_ = 0;
  int component_ = -1;
  PowerSc::Event read_event_, write_event_;
};

}  // namespace cimvp
