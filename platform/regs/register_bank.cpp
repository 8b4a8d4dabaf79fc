#include "platform/regs/register_bank.hpp"

#include <cstring>
#include <iomanip>
#include <stdexcept>

namespace cimvp {

const char* to_string(RegAccess a) {
  switch (a) {
    case RegAccess::RW: return "RW";
    case RegAccess::RO: return "RO";
    case RegAccess::WO: return "WO";
    case RegAccess::W1C: return "W1C";
  }
  return "?";
}

Register& RegisterBank::add(const std::string& name, uint32_t offset, uint32_t reset, RegAccess access,
                            std::function<uint32_t()> on_read, std::function<void(uint32_t)> on_write) {
  // Declaration errors are programming errors in a model, caught by the first test run.
  if (offset % 4 != 0) throw std::logic_error(block_ + ": register " + name + " offset is not 4-byte aligned");
  if (regs_.count(offset)) throw std::logic_error(block_ + ": register " + name + " reuses offset of " + regs_[offset].name);
  uint32_t idx = 0;
  if (array_at(offset, &idx)) throw std::logic_error(block_ + ": register " + name + " lies in a register array");
  Register r;
  r.name = name;
  r.offset = offset;
  r.reset = reset;
  r.access = access;
  r.on_read = std::move(on_read);
  r.on_write = std::move(on_write);
  r.value = reset;
  return regs_[offset] = std::move(r);
}

void RegisterBank::add_array(const std::string& name, uint32_t offset, uint32_t count, uint32_t reset, RegAccess access,
                             std::function<uint32_t(uint32_t)> on_read, std::function<void(uint32_t, uint32_t)> on_write) {
  if (offset % 4 != 0) throw std::logic_error(block_ + ": register array " + name + " offset is not 4-byte aligned");
  if (count == 0) throw std::logic_error(block_ + ": register array " + name + " has no words");
  const uint64_t end = uint64_t(offset) + 4ull * count;
  for (const auto& [off, r] : regs_)
    if (off >= offset && off < end) throw std::logic_error(block_ + ": register array " + name + " covers " + r.name);
  for (const auto& a : arrays_)
    if (offset < uint64_t(a.offset) + 4ull * a.count && a.offset < end)
      throw std::logic_error(block_ + ": register array " + name + " overlaps " + a.name);
  RegisterArray a;
  a.name = name;
  a.offset = offset;
  a.count = count;
  a.reset = reset;
  a.access = access;
  a.on_read = std::move(on_read);
  a.on_write = std::move(on_write);
  a.values.assign(count, reset);
  arrays_.push_back(std::move(a));
}

RegisterArray* RegisterBank::array_at(uint32_t offset, uint32_t* index) {
  for (auto& a : arrays_)
    if (offset >= a.offset && offset < uint64_t(a.offset) + 4ull * a.count && (offset - a.offset) % 4 == 0) {
      *index = (offset - a.offset) / 4;
      return &a;
    }
  return nullptr;
}

const uint32_t* RegisterBank::stored(uint32_t offset) const {
  if (const Register* r = find(offset)) return &r->value;
  uint32_t i = 0;
  const RegisterArray* a = const_cast<RegisterBank*>(this)->array_at(offset, &i);
  return a ? &a->values[i] : nullptr;
}

void RegisterBank::reset() {
  for (auto& [off, r] : regs_) r.value = r.reset;
  for (auto& a : arrays_) a.values.assign(a.count, a.reset);
}

uint32_t& RegisterBank::value(uint32_t offset) {
  auto it = regs_.find(offset);
  if (it != regs_.end()) return it->second.value;
  uint32_t i = 0;
  if (RegisterArray* a = array_at(offset, &i)) return a->values[i];
  throw std::logic_error(block_ + ": no register at offset " + std::to_string(offset));
}

const Register* RegisterBank::find(uint32_t offset) const {
  auto it = regs_.find(offset);
  return it == regs_.end() ? nullptr : &it->second;
}

void RegisterBank::access(tlm::tlm_generic_payload& gp) {
  const uint64_t addr = gp.get_address();
  const unsigned len = gp.get_data_length();
  if (gp.get_byte_enable_ptr()) {
    gp.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return;
  }
  if (gp.get_streaming_width() != 0 && gp.get_streaming_width() != len) {
    gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return;
  }
  if (len != 4) {  // IEEE 1666 14.17: a data length the target cannot execute
    gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return;
  }
  if (addr % 4 != 0) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  auto it = regs_.find(static_cast<uint32_t>(addr));
  if (it == regs_.end()) {
    uint32_t i = 0;
    RegisterArray* a = array_at(static_cast<uint32_t>(addr), &i);
    if (!a) {
      gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    access_array(gp, *a, i);
    return;
  }
  Register& r = it->second;
  if (gp.is_read()) {
    if (r.access == RegAccess::WO) {
      gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
      return;
    }
    uint32_t v = r.on_read ? r.on_read() : r.value;
    std::memcpy(gp.get_data_ptr(), &v, 4);
  } else if (gp.is_write()) {
    if (r.access == RegAccess::RO) {
      gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
      return;
    }
    uint32_t v;
    std::memcpy(&v, gp.get_data_ptr(), 4);
    if (r.access == RegAccess::W1C)
      r.value &= ~v;
    else
      r.value = v;
    if (r.on_write) r.on_write(v);
  } else {
    gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

void RegisterBank::access_array(tlm::tlm_generic_payload& gp, RegisterArray& a, uint32_t i) {
  if (gp.is_read()) {
    if (a.access == RegAccess::WO) {
      gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
      return;
    }
    uint32_t v = a.on_read ? a.on_read(i) : a.values[i];
    std::memcpy(gp.get_data_ptr(), &v, 4);
  } else if (gp.is_write()) {
    if (a.access == RegAccess::RO) {
      gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
      return;
    }
    uint32_t v;
    std::memcpy(&v, gp.get_data_ptr(), 4);
    if (a.access == RegAccess::W1C)
      a.values[i] &= ~v;
    else
      a.values[i] = v;
    if (a.on_write) a.on_write(i, v);
  } else {
    gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

void RegisterBank::print(std::ostream& os, uint64_t base) const {
  for (const auto& [off, r] : regs_) {
    os << "    0x" << std::hex << std::setw(8) << std::setfill('0') << (base + off) << "  +0x" << std::setw(3) << off
       << std::dec << std::setfill(' ') << "  " << std::left << std::setw(4) << to_string(r.access) << " reset 0x"
       << std::hex << std::setw(8) << std::setfill('0') << r.reset << std::dec << std::setfill(' ') << "  " << r.name
       << std::right << "\n";
  }
  for (const auto& a : arrays_) {
    os << "    0x" << std::hex << std::setw(8) << std::setfill('0') << (base + a.offset) << "  +0x" << std::setw(3)
       << a.offset << std::dec << std::setfill(' ') << "  " << std::left << std::setw(4) << to_string(a.access)
       << " reset 0x" << std::hex << std::setw(8) << std::setfill('0') << a.reset << std::dec << std::setfill(' ')
       << "  " << a.name << "0.." << a.name << (a.count - 1) << " (" << a.count << " words)" << std::right << "\n";
  }
}

}  // namespace cimvp
