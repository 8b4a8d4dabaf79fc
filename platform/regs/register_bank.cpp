#include "platform/regs/register_bank.hpp"

#include <cstdio>
#include <cstring>
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
  return add(name, offset, RegWidth::W32, reset, access, std::move(on_read), std::move(on_write));
}

Register& RegisterBank::add(const std::string& name, uint32_t offset, RegWidth width, uint32_t reset,
                            RegAccess access, std::function<uint32_t()> on_read,
                            std::function<void(uint32_t)> on_write) {
  // Declaration errors are programming errors in a model, caught by the first test run.
  uint32_t idx = 0;
  if (array_at(offset, &idx)) throw std::logic_error(block_ + ": register " + name + " lies in a register array");
  Register r;
  r.name = name;
  r.offset = offset;
  r.width = width;
  if (width != RegWidth::W8 && width != RegWidth::W16 && width != RegWidth::W32)
    throw std::logic_error(block_ + ": register " + name + " has width " +
                           std::to_string(static_cast<unsigned>(width)) + " (8, 16 or 32)");
  if (offset % r.bytes() != 0)
    throw std::logic_error(block_ + ": register " + name + " offset is not aligned to its " +
                           std::to_string(static_cast<unsigned>(width)) + "-bit width");
  if (reset & ~r.mask())
    throw std::logic_error(block_ + ": register " + name + " reset value does not fit its " +
                           std::to_string(static_cast<unsigned>(width)) + " bits");
  // Overlap: the nearest register at or below the new one's last byte must end before it.
  auto next = regs_.lower_bound(offset);
  if (next != regs_.end() && next->first < offset + r.bytes())
    throw std::logic_error(block_ + ": register " + name + " overlaps " + next->second.name);
  if (next != regs_.begin()) {
    const Register& prev = std::prev(next)->second;
    if (prev.offset + prev.bytes() > offset) throw std::logic_error(block_ + ": register " + name + " overlaps " + prev.name);
  }
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

uint32_t RegisterBank::read_value(uint32_t offset) const {
  if (const Register* r = find(offset)) return (r->on_read ? r->on_read() : r->value) & r->mask();
  uint32_t i = 0;
  if (const RegisterArray* a = const_cast<RegisterBank*>(this)->array_at(offset, &i))
    return a->on_read ? a->on_read(i) : a->values[i];
  throw std::logic_error(block_ + ": no register at offset " + std::to_string(offset));
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
  auto it = addr <= 0xFFFFFFFFu ? regs_.find(static_cast<uint32_t>(addr)) : regs_.end();
  if (it == regs_.end()) {
    uint32_t i = 0;
    RegisterArray* a = addr <= 0xFFFFFFFFu ? array_at(static_cast<uint32_t>(addr), &i) : nullptr;
    if (!a) {
      gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    if (len != 4) {  // array words are 32-bit registers
      gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
      return;
    }
    access_array(gp, *a, i);
    return;
  }
  Register& r = it->second;
  if (len != r.bytes()) {  // IEEE 1666 14.17: a data length the target cannot execute
    gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return;
  }
  // Little-endian bus and host: the register's low `len` bytes are its value.
  if (gp.is_read()) {
    if (r.access == RegAccess::WO) {
      gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
      return;
    }
    uint32_t v = (r.on_read ? r.on_read() : r.value) & r.mask();
    std::memcpy(gp.get_data_ptr(), &v, len);
  } else if (gp.is_write()) {
    if (r.access == RegAccess::RO) {
      gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
      return;
    }
    uint32_t v = 0;
    std::memcpy(&v, gp.get_data_ptr(), len);
    if (r.access == RegAccess::W1C)
      r.value &= ~v & r.mask();
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
  // printf-style fields: no stream flags (fill, adjustment) leak from one field to the next.
  char line[160];
  for (const auto& [off, r] : regs_) {
    const int digits = static_cast<int>(r.bytes()) * 2;
    std::snprintf(line, sizeof line, "    0x%08llx  +0x%03x  %-3s  %2u-bit  reset 0x%0*x  ",
                  static_cast<unsigned long long>(base + off), off, to_string(r.access),
                  static_cast<unsigned>(r.width), digits, r.reset);
    os << line << r.name << "\n";
  }
  for (const auto& a : arrays_) {
    std::snprintf(line, sizeof line, "    0x%08llx  +0x%03x  %-3s  32-bit  reset 0x%08x  ",
                  static_cast<unsigned long long>(base + a.offset), a.offset, to_string(a.access), a.reset);
    os << line << a.name << "0.." << a.name << (a.count - 1) << " (" << a.count << " words)\n";
  }
}

}  // namespace cimvp
