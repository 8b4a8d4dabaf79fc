// Register helper: reset values, access kinds, undefined offsets, TLM error statuses.
#include "tests/support/catch_main_no_sc.hpp"

#include <cstring>
#include <sstream>
#include <string>

#include "platform/regs/register_bank.hpp"

using cimvp::RegAccess;
using cimvp::RegisterBank;
using cimvp::RegWidth;

namespace {
template <class T>
tlm::tlm_response_status access(RegisterBank& b, tlm::tlm_command cmd, uint64_t off, T& v, unsigned len = sizeof(T),
                                unsigned char* be = nullptr) {
  tlm::tlm_generic_payload gp;
  gp.set_command(cmd);
  gp.set_address(off);
  gp.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
  gp.set_data_length(len);
  gp.set_streaming_width(len);
  gp.set_byte_enable_ptr(be);
  gp.set_byte_enable_length(be ? 4 : 0);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  b.access(gp);
  return gp.get_response_status();
}
}  // namespace

TEST_CASE("reset values, RW/RO/WO/W1C and callbacks") {
  RegisterBank b("blk");
  uint32_t written = 0;
  int reads = 0;
  b.add("CTRL", 0x0, 0x5, RegAccess::RW);
  b.add("STATUS", 0x4, 0xAB, RegAccess::RO);
  b.add("GO", 0x8, 0, RegAccess::WO, {}, [&](uint32_t v) { written = v; });
  b.add("FLAGS", 0xC, 0xF, RegAccess::W1C);
  b.add("COUNT", 0x10, 0, RegAccess::RO, [&] { return static_cast<uint32_t>(++reads); });

  uint32_t v = 0;
  CHECK(access(b, tlm::TLM_READ_COMMAND, 0x0, v) == tlm::TLM_OK_RESPONSE);
  CHECK(v == 0x5);
  v = 0x1234;
  CHECK(access(b, tlm::TLM_WRITE_COMMAND, 0x0, v) == tlm::TLM_OK_RESPONSE);
  CHECK(b.value(0x0) == 0x1234);

  CHECK(access(b, tlm::TLM_READ_COMMAND, 0x4, v) == tlm::TLM_OK_RESPONSE);
  CHECK(v == 0xAB);
  CHECK(access(b, tlm::TLM_WRITE_COMMAND, 0x4, v) == tlm::TLM_COMMAND_ERROR_RESPONSE);
  CHECK(b.value(0x4) == 0xAB);

  v = 7;
  CHECK(access(b, tlm::TLM_WRITE_COMMAND, 0x8, v) == tlm::TLM_OK_RESPONSE);
  CHECK(written == 7);
  CHECK(access(b, tlm::TLM_READ_COMMAND, 0x8, v) == tlm::TLM_COMMAND_ERROR_RESPONSE);

  v = 0x3;
  CHECK(access(b, tlm::TLM_WRITE_COMMAND, 0xC, v) == tlm::TLM_OK_RESPONSE);
  CHECK(b.value(0xC) == 0xC);

  CHECK(access(b, tlm::TLM_READ_COMMAND, 0x10, v) == tlm::TLM_OK_RESPONSE);
  CHECK(access(b, tlm::TLM_READ_COMMAND, 0x10, v) == tlm::TLM_OK_RESPONSE);
  CHECK(v == 2);

  b.reset();
  CHECK(b.value(0x0) == 0x5);
  CHECK(b.value(0xC) == 0xF);
}

TEST_CASE("undefined offsets, sizes, alignment and byte enables answer TLM errors") {
  RegisterBank b("blk");
  b.add("A", 0x0, 1, RegAccess::RW);
  uint32_t v = 0;
  CHECK(access(b, tlm::TLM_READ_COMMAND, 0x40, v) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
  CHECK(access(b, tlm::TLM_READ_COMMAND, 0x2, v) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
  CHECK(access(b, tlm::TLM_READ_COMMAND, 0x0, v, 2) == tlm::TLM_BURST_ERROR_RESPONSE);
  unsigned char be[4] = {0xFF, 0, 0, 0};
  CHECK(access(b, tlm::TLM_WRITE_COMMAND, 0x0, v, 4, be) == tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
  CHECK(b.value(0x0) == 1);
}

TEST_CASE("declaration mistakes are caught") {
  RegisterBank b("blk");
  b.add("A", 0x0, 0, RegAccess::RW);
  CHECK_THROWS(b.add("B", 0x0, 0, RegAccess::RW));
  CHECK_THROWS(b.add("C", 0x2, 0, RegAccess::RW));
  CHECK_THROWS(b.add("D", 0x5, RegWidth::W16, 0, RegAccess::RW));     // 16-bit at an odd offset
  CHECK_THROWS(b.add("E", 0x2, RegWidth::W8, 0, RegAccess::RW));      // inside A's four bytes
  CHECK_THROWS(b.add("F", 0x8, RegWidth::W8, 0x100, RegAccess::RW));  // reset does not fit 8 bits
  b.add("G", 0x7, RegWidth::W8, 0, RegAccess::RW);
  CHECK_THROWS(b.add("H", 0x4, 0, RegAccess::RW));  // a 32-bit register over G's byte
}

TEST_CASE("8- and 16-bit registers: own width only, values masked, neighbours untouched") {
  RegisterBank b("blk");
  uint32_t seen = 0;
  b.add("B0", 0x0, RegWidth::W8, 0x5A, RegAccess::RW, {}, [&](uint32_t v) { seen = v; });
  b.add("B1", 0x1, RegWidth::W8, 0xFF, RegAccess::W1C);
  b.add("H", 0x2, RegWidth::W16, 0xBEEF, RegAccess::RO, [] { return 0x12345678u; });  // callback wider than 16 bits
  b.add("W", 0x4, 0xCAFEF00D, RegAccess::RW);
  CHECK(b.find(0x4)->width == RegWidth::W32);  // the default

  uint8_t v8 = 0;
  CHECK(access(b, tlm::TLM_READ_COMMAND, 0x0, v8) == tlm::TLM_OK_RESPONSE);
  CHECK(v8 == 0x5A);
  // Exactly one byte travels: the bytes after the 1-byte buffer are not written.
  uint8_t buf[4] = {0x11, 0x22, 0x33, 0x44};
  CHECK(access(b, tlm::TLM_READ_COMMAND, 0x1, buf[0], 1) == tlm::TLM_OK_RESPONSE);
  CHECK(buf[0] == 0xFF);
  CHECK(buf[1] == 0x22);
  CHECK(buf[3] == 0x44);
  v8 = 0x0F;
  CHECK(access(b, tlm::TLM_WRITE_COMMAND, 0x1, v8) == tlm::TLM_OK_RESPONSE);
  CHECK(b.value(0x1) == 0xF0);
  v8 = 0xA7;
  CHECK(access(b, tlm::TLM_WRITE_COMMAND, 0x0, v8) == tlm::TLM_OK_RESPONSE);
  CHECK(b.value(0x0) == 0xA7);
  CHECK(seen == 0xA7);

  uint16_t v16 = 0;
  CHECK(access(b, tlm::TLM_READ_COMMAND, 0x2, v16) == tlm::TLM_OK_RESPONSE);
  CHECK(v16 == 0x5678);  // masked to 16 bits
  CHECK(access(b, tlm::TLM_WRITE_COMMAND, 0x2, v16) == tlm::TLM_COMMAND_ERROR_RESPONSE);

  // A model that stores stray high bits does not leak them onto the bus.
  b.value(0x0) = 0x1C3;
  CHECK(access(b, tlm::TLM_READ_COMMAND, 0x0, v8) == tlm::TLM_OK_RESPONSE);
  CHECK(v8 == 0xC3);

  // Other widths at a register answer burst errors, and nothing changes.
  uint32_t v32 = 0xFFFFFFFF;
  CHECK(access(b, tlm::TLM_WRITE_COMMAND, 0x0, v32) == tlm::TLM_BURST_ERROR_RESPONSE);
  CHECK(access(b, tlm::TLM_READ_COMMAND, 0x2, v32) == tlm::TLM_BURST_ERROR_RESPONSE);
  CHECK(access(b, tlm::TLM_WRITE_COMMAND, 0x4, v16) == tlm::TLM_BURST_ERROR_RESPONSE);
  CHECK(b.value(0x4) == 0xCAFEF00D);
  // Inside a register is not a register.
  CHECK(access(b, tlm::TLM_READ_COMMAND, 0x3, v8) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
  CHECK(access(b, tlm::TLM_READ_COMMAND, 0x5, v8) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
  CHECK(access(b, tlm::TLM_READ_COMMAND, 0x4, v32) == tlm::TLM_OK_RESPONSE);
  CHECK(v32 == 0xCAFEF00D);

  b.reset();
  CHECK(b.value(0x1) == 0xFF);
  CHECK(b.value(0x0) == 0x5A);
}

TEST_CASE("print shows every register's own reset value and width") {
  RegisterBank b("blk");
  b.add("NBLOCKS", 0x20, 4, RegAccess::RO);  // a small value after a left-aligned column
  b.add("BIG", 0x24, 0x80000001u, RegAccess::W1C);
  b.add("ZERO", 0x28, 0, RegAccess::WO);
  b.add("BYTE", 0x2C, RegWidth::W8, 0x7, RegAccess::RW);
  b.add("HALF", 0x2E, RegWidth::W16, 0xA5, RegAccess::RW);
  std::ostringstream os;
  b.print(os, 0x1000);
  std::istringstream lines(os.str());
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    INFO(line);
    auto name = line.substr(line.find_last_of(' ') + 1);
    const cimvp::Register* r = nullptr;
    for (const auto& [off, reg] : b.registers())
      if (reg.name == name) r = &reg;
    REQUIRE(r);
    auto at = line.find("reset 0x");
    REQUIRE(at != std::string::npos);
    CHECK(std::stoul(line.substr(at + 8), nullptr, 16) == r->reset);
    CHECK_THAT(line, Catch::Contains(std::to_string(static_cast<unsigned>(r->width)) + "-bit"));
    char addr[16];
    std::snprintf(addr, sizeof addr, "0x%08x", 0x1000u + r->offset);
    CHECK_THAT(line, Catch::StartsWith(std::string("    ") + addr));
    CHECK_THAT(line, Catch::Contains(std::string(" ") + cimvp::to_string(r->access) + " "));
    ++n;
  }
  CHECK(n == 5);
  CHECK_THAT(os.str(), Catch::Contains("reset 0x00000004  NBLOCKS"));
}
