#include "platform/bus/router.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <stdexcept>

#include "platform/tracing/tracer.hpp"

namespace cimvp {

namespace {
std::string hex(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << std::setw(8) << std::setfill('0') << v;
  return s.str();
}
}  // namespace

Router::Router(const sc_core::sc_module_name& name, Context& ctx)
    : sc_core::sc_module(name), tsock("tsock"), isock("isock"), ctx_(ctx) {
  tsock.register_b_transport(this, &Router::b_transport);
  tsock.register_get_direct_mem_ptr(this, &Router::get_direct_mem_ptr);
  tsock.register_transport_dbg(this, &Router::transport_dbg);
  isock.register_invalidate_direct_mem_ptr(this, &Router::invalidate_direct_mem_ptr);
  const auto& t = ctx.scenario.tech.bus;
  component_ = ctx.power.component(basename(), t.area_um2, t.leakage_uw);
  txn_event_ = ctx.power.event(component_, "transaction", t.energy_pj_per_transaction);
  byte_event_ = ctx.power.event(component_, "byte", t.energy_pj_per_byte);
  addr_wire_ = ctx.tracer.wire("bus", "addr", 32);
  cmd_wire_ = ctx.tracer.wire("bus", "cmd", 2);
  resp_wire_ = ctx.tracer.wire("bus", "resp_ok", 1);
}

void Router::map(const std::string& name, uint64_t base, uint64_t size) {
  if (size == 0) throw std::invalid_argument("bus map: '" + name + "' has size 0");
  for (const auto& r : ranges_) {
    if (base < r.base + r.size && r.base < base + size)
      throw std::invalid_argument("bus map: '" + name + "' (" + hex(base) + ".." + hex(base + size - 1) +
                                  ") overlaps '" + r.name + "' (" + hex(r.base) + ".." + hex(r.base + r.size - 1) + ")");
  }
  unsigned target = static_cast<unsigned>(ranges_.size());
  // Sorted insert (a chip maps thousands of tiles; sorting after each one would be quadratic).
  auto at = std::upper_bound(ranges_.begin(), ranges_.end(), base, [](uint64_t b, const Range& r) { return b < r.base; });
  ranges_.insert(at, {name, base, size, target});
}

void Router::name_initiator(unsigned index, const std::string& name) {
  if (initiator_names_.size() <= index) {
    initiator_names_.resize(index + 1);
    initiator_tracks_.resize(index + 1, -1);
  }
  initiator_names_[index] = name;
  initiator_tracks_[index] = ctx_.tracer.track("bus", name);
}

const Router::Range* Router::decode(uint64_t addr) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), addr,
                             [](uint64_t a, const Range& r) { return a < r.base; });
  if (it == ranges_.begin()) return nullptr;
  --it;
  return addr - it->base < it->size ? &*it : nullptr;
}

void Router::print_map(std::ostream& os) const {
  os << "  base        end         size        block\n";
  for (const auto& r : ranges_)
    os << "  " << hex(r.base) << "  " << hex(r.base + r.size - 1) << "  " << hex(r.size) << "  " << r.name << "\n";
}

void Router::b_transport(int id, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const uint64_t addr = gp.get_address();
  const sc_core::sc_time start = sc_core::sc_time_stamp() + delay;
  ++transactions_;
  const Range* r = decode(addr);
  // A burst must stay inside one block.
  if (r && gp.get_data_length() > r->size - (addr - r->base)) r = nullptr;
  if (!r) {
    ++errors_;
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
  } else {
    gp.set_address(addr - r->base);
    isock[r->target]->b_transport(gp, delay);
    gp.set_address(addr);  // initiators may reuse the payload: restore the bus address
    if (!gp.is_response_ok()) ++errors_;
  }
  delay += sc_core::sc_time(ctx_.scenario.tech.bus.latency_ns, sc_core::SC_NS);
  ctx_.power.report(txn_event_, 1, start);
  ctx_.power.report(byte_event_, gp.get_data_length(), start);

  Tracer& tr = ctx_.tracer;
  tr.set(addr_wire_, addr, start);
  tr.set(cmd_wire_, gp.is_read() ? 1 : gp.is_write() ? 2 : 0, start);
  tr.set(resp_wire_, gp.is_response_ok() ? 1 : 0, start);
  tr.set(cmd_wire_, 0, sc_core::sc_time_stamp() + delay);
  if (transactions_ <= ctx_.scenario.trace.max_bus_slices && static_cast<std::size_t>(id) < initiator_tracks_.size()) {
    std::ostringstream args;
    args << "{\"addr\":\"" << hex(addr) << "\",\"bytes\":" << gp.get_data_length() << ",\"target\":\""
         << (r ? r->name : std::string("(unmapped)")) << "\",\"status\":\"" << gp.get_response_string() << "\"}";
    tr.slice(initiator_tracks_[id], gp.is_read() ? "read" : "write", "bus", start,
             sc_core::sc_time_stamp() + delay - start, args.str());
  }
}

bool Router::get_direct_mem_ptr(int, tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi) {
  const uint64_t addr = gp.get_address();
  const Range* r = decode(addr);
  if (!r) return false;
  gp.set_address(addr - r->base);
  bool ok = isock[r->target]->get_direct_mem_ptr(gp, dmi);
  gp.set_address(addr);
  // Translate the granted range back to bus addresses, clipped to this block's range.
  uint64_t start = dmi.get_start_address() + r->base;
  uint64_t end = std::min<uint64_t>(dmi.get_end_address(), r->size - 1) + r->base;
  dmi.set_start_address(start);
  dmi.set_end_address(end);
  return ok;
}

unsigned int Router::transport_dbg(int, tlm::tlm_generic_payload& gp) {
  const uint64_t addr = gp.get_address();
  const Range* r = decode(addr);
  if (!r) return 0;
  gp.set_address(addr - r->base);
  unsigned n = isock[r->target]->transport_dbg(gp);
  gp.set_address(addr);
  return n;
}

void Router::invalidate_direct_mem_ptr(int target, sc_dt::uint64 start, sc_dt::uint64 end) {
  for (const auto& r : ranges_) {
    if (static_cast<int>(r.target) != target) continue;
    uint64_t s = r.base + start;
    uint64_t e = end >= r.size - 1 ? r.base + r.size - 1 : r.base + end;
    for (unsigned i = 0; i < tsock.size(); ++i) tsock[i]->invalidate_direct_mem_ptr(s, e);
  }
}

}  // namespace cimvp
