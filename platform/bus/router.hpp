// Host bus: decodes addresses with the scenario's memory map, forwards with the address
// made block-relative and restores it afterwards, translates DMI ranges both ways,
// answers TLM_ADDRESS_ERROR_RESPONSE where no block is mapped. Bus timing and energy per
// transaction come from the tech table.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "platform/core/context.hpp"
#include "platform/power_sc/power_sc.hpp"

namespace cimvp {

class Router : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<Router> tsock;     // initiators bind here
  tlm_utils::multi_passthrough_initiator_socket<Router> isock;  // targets bind here

  struct Range {
    std::string name;
    uint64_t base = 0;
    uint64_t size = 0;
    unsigned target = 0;  // index into isock, in binding order
  };

  Router(const sc_core::sc_module_name& name, Context& ctx);

  // Call once per target, in the order targets are bound to isock. Overlaps are rejected
  // (std::invalid_argument naming both ranges).
  void map(const std::string& name, uint64_t base, uint64_t size);
  // Names initiators (in tsock binding order) for traces and error messages.
  void name_initiator(unsigned index, const std::string& name);

  const Range* decode(uint64_t addr) const;
  const std::vector<Range>& ranges() const { return ranges_; }
  void print_map(std::ostream& os) const;

  uint64_t transactions() const { return transactions_; }
  uint64_t errors() const { return errors_; }

 private:
  void b_transport(int id, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  bool get_direct_mem_ptr(int id, tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);
  unsigned int transport_dbg(int id, tlm::tlm_generic_payload& gp);
  void invalidate_direct_mem_ptr(int target, sc_dt::uint64 start, sc_dt::uint64 end);

  Context& ctx_;
  std::vector<Range> ranges_;  // sorted by base
  std::vector<std::string> initiator_names_;
  std::vector<int> initiator_tracks_;
  uint64_t transactions_ = 0;
  uint64_t errors_ = 0;
  int component_ = -1;
  PowerSc::Event txn_event_, byte_event_;
  int addr_wire_ = -1, cmd_wire_ = -1, resp_wire_ = -1;
};

}  // namespace cimvp
