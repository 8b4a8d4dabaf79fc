#include "platform/memory/memory.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace cimvp {

Memory::Memory(const sc_core::sc_module_name& name, Context& ctx, uint64_t size, const config::TechSram& tech)
    : sc_core::sc_module(name), tsock("tsock"), ctx_(ctx), tech_(tech), size_(size) {
  if (size == 0) throw std::invalid_argument(std::string(basename()) + ": memory of size 0");
  // MAP_NORESERVE: no swap is set aside for pages that are never touched.
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    throw std::runtime_error("cannot reserve " + std::to_string(size) + " bytes of host address space (" +
                             std::strerror(err) + ")");
  }
  mem_ = static_cast<uint8_t*>(p);
  tsock.register_b_transport(this, &Memory::b_transport);
  tsock.register_get_direct_mem_ptr(this, &Memory::get_direct_mem_ptr);
  tsock.register_transport_dbg(this, &Memory::transport_dbg);
  double kib = static_cast<double>(size) / 1024.0;
  component_ = ctx.power.component(basename(), tech.area_um2_per_kib * kib, tech.leakage_uw_per_kib * kib);
  read_event_ = ctx.power.event(component_, "read_byte", tech.read_pj_per_byte);
  write_event_ = ctx.power.event(component_, "write_byte", tech.write_pj_per_byte);
}

Memory::~Memory() {
  if (mem_) munmap(mem_, size_);
}

sc_core::sc_time Memory::access_time(uint64_t bytes) const {
  return sc_core::sc_time(tech_.latency_ns + static_cast<double>(bytes) / tech_.bytes_per_ns, sc_core::SC_NS);
}

void Memory::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const uint64_t addr = gp.get_address();
  const unsigned len = gp.get_data_length();
  const unsigned sw = gp.get_streaming_width();
  if (len == 0 || addr >= size_ || len > size_ - addr) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (sw != 0 && sw < len) {
    gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return;
  }
  const unsigned char* be = gp.get_byte_enable_ptr();
  const unsigned be_len = gp.get_byte_enable_length();
  if (be && be_len == 0) {
    gp.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return;
  }
  uint8_t* mem = mem_ + addr;
  uint8_t* buf = gp.get_data_ptr();
  if (gp.is_read()) {
    if (!be) {
      std::memcpy(buf, mem, len);
    } else {
      for (unsigned i = 0; i < len; ++i)
        if (be[i % be_len] == TLM_BYTE_ENABLED) buf[i] = mem[i];
    }
    ctx_.power.report(read_event_, len, sc_core::sc_time_stamp() + delay);
  } else if (gp.is_write()) {
    if (!be) {
      std::memcpy(mem, buf, len);
    } else {
      for (unsigned i = 0; i < len; ++i)
        if (be[i % be_len] == TLM_BYTE_ENABLED) mem[i] = buf[i];
    }
    ctx_.power.report(write_event_, len, sc_core::sc_time_stamp() + delay);
  } else {
    gp.set_response_status(tlm::TLM_OK_RESPONSE);  // TLM_IGNORE_COMMAND
    return;
  }
  delay += access_time(len);
  gp.set_dmi_allowed(true);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

bool Memory::get_direct_mem_ptr(tlm::tlm_generic_payload&, tlm::tlm_dmi& dmi) {
  dmi.set_dmi_ptr(mem_);
  dmi.set_start_address(0);
  dmi.set_end_address(size_ - 1);
  dmi.allow_read_write();
  // Per-word latency for an initiator that reads/writes one word at a time through DMI.
  dmi.set_read_latency(access_time(4));
  dmi.set_write_latency(access_time(4));
  return true;
}

unsigned int Memory::transport_dbg(tlm::tlm_generic_payload& gp) {
  const uint64_t addr = gp.get_address();
  if (addr >= size_) return 0;
  unsigned n = static_cast<unsigned>(std::min<uint64_t>(gp.get_data_length(), size_ - addr));
  if (gp.is_read())
    std::memcpy(gp.get_data_ptr(), mem_ + addr, n);
  else if (gp.is_write())
    std::memcpy(mem_ + addr, gp.get_data_ptr(), n);
  return n;
}

void Memory::account_dmi(uint64_t bytes, bool is_write, const sc_core::sc_time& at) {
  ctx_.power.report(is_write ? write_event_ : read_event_, bytes, at);
}

}  // namespace cimvp
