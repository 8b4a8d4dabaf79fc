// Register helper: reset values, access kinds, undefined offsets, TLM error statuses.
#include "tests/support/catch_main_no_sc.hpp"

#include <cstring>

#include "platform/regs/register_bank.hpp"

using cimvp::RegAccess;
using cimvp::RegisterBank;

namespace {
tlm::tlm_response_status access(RegisterBank& b, tlm::tlm_command cmd, uint64_t off, uint32_t& v, unsigned len = 4,
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
}
