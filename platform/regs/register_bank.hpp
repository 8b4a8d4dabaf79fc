// Declared registers: each block lists its registers (name, offset, width, reset, access,
// callbacks) in one place; decoding, access checks and TLM error statuses live here once.
#pragma once

#include <tlm>

#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace cimvp {

enum class RegAccess { RW, RO, WO, W1C };

// Register width in bits. A register is accessed only with its own width (1, 2 or 4 bytes)
// at its own offset, which must be aligned to that width.
enum class RegWidth : unsigned { W8 = 8, W16 = 16, W32 = 32 };

const char* to_string(RegAccess a);

struct Register {
  std::string name;
  uint32_t offset = 0;
  RegWidth width = RegWidth::W32;
  uint32_t reset = 0;
  RegAccess access = RegAccess::RW;
  // Optional: computes the value on read (status, counters). Without it the stored value
  // is returned. Either way only the register's `width` bits reach the bus.
  std::function<uint32_t()> on_read;
  // Optional: called after a write has been applied to the stored value (with the written
  // value, masked to the width); use it for side effects (start, clear, console output).
  std::function<void(uint32_t)> on_write;
  uint32_t value = 0;

  unsigned bytes() const { return static_cast<unsigned>(width) / 8; }
  uint32_t mask() const { return width == RegWidth::W32 ? 0xFFFFFFFFu : (1u << static_cast<unsigned>(width)) - 1u; }
};

// `count` consecutive 32-bit registers <name>0..<name><count-1> declared once, with
// index-aware callbacks (an ADC bank's level/threshold/edge windows have 1,000+ words, and a
// chip thousands of banks).
struct RegisterArray {
  std::string name;
  uint32_t offset = 0, count = 0, reset = 0;
  RegAccess access = RegAccess::RW;
  std::function<uint32_t(uint32_t index)> on_read;
  std::function<void(uint32_t index, uint32_t value)> on_write;
  std::vector<uint32_t> values;
};

class RegisterBank {
 public:
  explicit RegisterBank(std::string block_name) : block_(std::move(block_name)) {}

  // Declares a 32-bit register; the offset must be 4-byte aligned and not overlap another.
  Register& add(const std::string& name, uint32_t offset, uint32_t reset, RegAccess access,
                std::function<uint32_t()> on_read = {}, std::function<void(uint32_t)> on_write = {});
  // Declares a register of the given width; the offset must be aligned to the width, the
  // register's bytes must not overlap another's, and the reset value must fit the width.
  Register& add(const std::string& name, uint32_t offset, RegWidth width, uint32_t reset, RegAccess access,
                std::function<uint32_t()> on_read = {}, std::function<void(uint32_t)> on_write = {});

  // Declares a register array at offset .. offset + 4 (count - 1); no overlap with others.
  void add_array(const std::string& name, uint32_t offset, uint32_t count, uint32_t reset, RegAccess access,
                 std::function<uint32_t(uint32_t)> on_read = {}, std::function<void(uint32_t, uint32_t)> on_write = {});

  // Restores every register to its reset value.
  void reset();

  // Decodes one TLM access relative to the block base. An access must hit a register's
  // offset with exactly the register's width: another offset (undefined or inside a
  // register) answers TLM_ADDRESS_ERROR_RESPONSE, another length TLM_BURST_ERROR_RESPONSE,
  // byte enables TLM_BYTE_ENABLE_ERROR_RESPONSE, streaming TLM_BURST_ERROR_RESPONSE;
  // writing RO or reading WO answers TLM_COMMAND_ERROR_RESPONSE.
  void access(tlm::tlm_generic_payload& gp);

  // Direct access for the model itself (no side effects). Bits above the register's width
  // never reach the bus.
  uint32_t& value(uint32_t offset);
  const Register* find(uint32_t offset) const;  // single registers only
  // Stored value of the register or array word at offset (debug reads), nullptr if none.
  const uint32_t* stored(uint32_t offset) const;
  // What a bus read of the register or array word at offset returns (on_read if it has one),
  // for models and tests that inspect a bank without a bus; throws std::logic_error if none.
  uint32_t read_value(uint32_t offset) const;
  const std::map<uint32_t, Register>& registers() const { return regs_; }

  // One line per register: bus address, offset, access, width, reset value, name.
  void print(std::ostream& os, uint64_t base) const;

 private:
  std::string block_;
  std::map<uint32_t, Register> regs_;
  std::vector<RegisterArray> arrays_;
  RegisterArray* array_at(uint32_t offset, uint32_t* index);
  void access_array(tlm::tlm_generic_payload& gp, RegisterArray& a, uint32_t index);
};

}  // namespace cimvp
