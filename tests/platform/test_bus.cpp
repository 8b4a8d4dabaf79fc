// Module test of the host bus through a TLM test initiator: decode, address restore,
// unmapped accesses, DMI translation, overlap rejection, memory byte enables and bursts.
#include "tests/support/sc_test_main.hpp"

#include <tlm_utils/simple_initiator_socket.h>

#include <cstring>
#include <fstream>
#include <unistd.h>

#include "platform/bus/router.hpp"
#include "platform/config/scenario.hpp"
#include "platform/cpu/host_cpu.hpp"
#include "platform/memory/memory.hpp"
#include "platform/power_sc/power_sc.hpp"
#include "platform/tracing/tracer.hpp"

CIMVP_SC_TEST_MAIN

namespace {

struct TestInitiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<TestInitiator> isock{"isock"};
  explicit TestInitiator(const sc_core::sc_module_name& n) : sc_core::sc_module(n) {}

  tlm::tlm_response_status access(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len,
                                  unsigned stream = 0, unsigned char* be = nullptr, unsigned be_len = 0,
                                  uint64_t* addr_after = nullptr) {
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(addr);
    gp.set_data_ptr(static_cast<unsigned char*>(data));
    gp.set_data_length(len);
    gp.set_streaming_width(stream ? stream : len);
    gp.set_byte_enable_ptr(be);
    gp.set_byte_enable_length(be_len);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    isock->b_transport(gp, delay);
    if (addr_after) *addr_after = gp.get_address();
    return gp.get_response_status();
  }
};

// One elaboration per process: the bench is built once and shared by the test cases.
struct Bench {
  cimvp::config::Scenario scenario = cimvp::config::load_scenario(cimvp::config::kSelftestScenario);
  cimvp::Tracer tracer;
  cimvp::PowerSc power{1000};
  cimvp::Context ctx{scenario, tracer, power};
  cimvp::Router router{"bus", ctx};
  cimvp::Memory mem_a{"mem_a", ctx, 0x1000, scenario.tech.sram};
  cimvp::Memory mem_b{"mem_b", ctx, 0x2000, scenario.tech.sram};
  // 2 GiB up to the top of the 32-bit bus: reserved, only touched pages cost host RAM.
  cimvp::Memory mem_top{"mem_top", ctx, 0x80000000ull, scenario.tech.hostmem};
  TestInitiator init{"init"};
  Bench() {
    init.isock.bind(router.tsock);
    router.name_initiator(0, "init");
    router.map("mem_a", 0x1000, 0x1000);
    router.isock.bind(mem_a.tsock);
    router.map("mem_b", 0x40000000, 0x2000);
    router.isock.bind(mem_b.tsock);
    router.map("mem_top", 0x80000000ull, 0x80000000ull);
    router.isock.bind(mem_top.tsock);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);  // completes elaboration and binding
  }
};

Bench& bench() {
  static Bench b;
  return b;
}

}  // namespace

TEST_CASE("decode forwards block-relative and restores the bus address") {
  auto& b = bench();
  uint32_t v = 0xCAFEF00D;
  uint64_t after = 0;
  CHECK(b.init.access(tlm::TLM_WRITE_COMMAND, 0x40000010, &v, 4, 0, nullptr, 0, &after) == tlm::TLM_OK_RESPONSE);
  CHECK(after == 0x40000010u);
  uint32_t stored;
  std::memcpy(&stored, b.mem_b.data() + 0x10, 4);
  CHECK(stored == 0xCAFEF00Du);
  CHECK(b.mem_a.data()[0x10] == 0);
  uint32_t r = 0;
  CHECK(b.init.access(tlm::TLM_READ_COMMAND, 0x40000010, &r, 4) == tlm::TLM_OK_RESPONSE);
  CHECK(r == 0xCAFEF00Du);
  CHECK(b.router.decode(0x1FFF)->name == "mem_a");
  CHECK(b.router.decode(0x2000) == nullptr);
}

TEST_CASE("unmapped addresses and bursts past a block answer TLM_ADDRESS_ERROR_RESPONSE") {
  auto& b = bench();
  uint32_t v = 0;
  uint64_t before = b.router.errors();
  CHECK(b.init.access(tlm::TLM_READ_COMMAND, 0x00000000, &v, 4) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
  CHECK(b.init.access(tlm::TLM_WRITE_COMMAND, 0x7FFFFFFC, &v, 4) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
  uint8_t buf[16] = {};
  CHECK(b.init.access(tlm::TLM_READ_COMMAND, 0x1FF8, buf, 16) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
  CHECK(b.router.errors() == before + 3);
}

TEST_CASE("DMI ranges are translated to bus addresses") {
  auto& b = bench();
  tlm::tlm_generic_payload gp;
  gp.set_address(0x40000100);
  gp.set_command(tlm::TLM_READ_COMMAND);
  tlm::tlm_dmi dmi;
  REQUIRE(b.init.isock->get_direct_mem_ptr(gp, dmi));
  CHECK(dmi.get_start_address() == 0x40000000u);
  CHECK(dmi.get_end_address() == 0x40001FFFu);
  CHECK(gp.get_address() == 0x40000100u);
  // A write through the pointer is what a bus read then sees.
  uint32_t v = 0x11223344;
  std::memcpy(dmi.get_dmi_ptr() + (0x40000100 - dmi.get_start_address()), &v, 4);
  uint32_t r = 0;
  CHECK(b.init.access(tlm::TLM_READ_COMMAND, 0x40000100, &r, 4) == tlm::TLM_OK_RESPONSE);
  CHECK(r == 0x11223344u);
}

TEST_CASE("overlapping ranges are rejected naming both") {
  auto& b = bench();
  try {
    b.router.map("late", 0x1800, 0x100);
    FAIL("expected an overlap error");
  } catch (const std::invalid_argument& e) {
    CHECK_THAT(e.what(), Catch::Contains("'late'"));
    CHECK_THAT(e.what(), Catch::Contains("'mem_a'"));
  }
}

TEST_CASE("memory: byte enables, streaming width and size checks") {
  auto& b = bench();
  uint32_t init = 0xAAAAAAAA;
  REQUIRE(b.init.access(tlm::TLM_WRITE_COMMAND, 0x1100, &init, 4) == tlm::TLM_OK_RESPONSE);
  uint32_t v = 0x11223344;
  unsigned char be[2] = {TLM_BYTE_ENABLED, TLM_BYTE_DISABLED};  // pattern repeats over the 4 bytes
  CHECK(b.init.access(tlm::TLM_WRITE_COMMAND, 0x1100, &v, 4, 0, be, 2) == tlm::TLM_OK_RESPONSE);
  uint32_t r = 0;
  CHECK(b.init.access(tlm::TLM_READ_COMMAND, 0x1100, &r, 4) == tlm::TLM_OK_RESPONSE);
  CHECK(r == 0xAA22AA44u);
  uint8_t buf[8] = {};
  CHECK(b.init.access(tlm::TLM_READ_COMMAND, 0x1100, buf, 8, 4) == tlm::TLM_BURST_ERROR_RESPONSE);
  unsigned char be0[1] = {0};
  CHECK(b.init.access(tlm::TLM_READ_COMMAND, 0x1100, buf, 4, 0, be0, 0) == tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
}

TEST_CASE("a 2 GiB memory at the top of the bus: zero-filled, lazily backed, DMI to 0xFFFFFFFF") {
  auto& b = bench();
  // Host RAM of the whole process stays far below the memory's size: pages come on first touch.
  auto resident_bytes = [] {
    std::ifstream statm("/proc/self/statm");
    uint64_t pages_total = 0, pages_resident = 0;
    statm >> pages_total >> pages_resident;
    return pages_resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  };
  CHECK(resident_bytes() < 512ull << 20);
  uint32_t r = 0xFFFFFFFF;
  CHECK(b.init.access(tlm::TLM_READ_COMMAND, 0xFFFFFFFC, &r, 4) == tlm::TLM_OK_RESPONSE);
  CHECK(r == 0u);
  uint32_t v = 0x5EED1234;
  CHECK(b.init.access(tlm::TLM_WRITE_COMMAND, 0xFFFFFFFC, &v, 4) == tlm::TLM_OK_RESPONSE);
  CHECK(b.init.access(tlm::TLM_READ_COMMAND, 0xFFFFFFFC, &r, 4) == tlm::TLM_OK_RESPONSE);
  CHECK(r == 0x5EED1234u);
  CHECK(b.init.access(tlm::TLM_WRITE_COMMAND, 0x80000000ull, &v, 4) == tlm::TLM_OK_RESPONSE);
  CHECK(b.mem_top.data()[0] == 0x34);
  // A 4-byte access at 0xFFFFFFFE runs past the bus: an error, never a wrap to 0.
  CHECK(b.init.access(tlm::TLM_READ_COMMAND, 0xFFFFFFFEull, &r, 4) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
  CHECK(resident_bytes() < 512ull << 20);

  tlm::tlm_generic_payload gp;
  gp.set_address(0xFFFFFFF0ull);
  gp.set_command(tlm::TLM_READ_COMMAND);
  tlm::tlm_dmi dmi;
  REQUIRE(b.init.isock->get_direct_mem_ptr(gp, dmi));
  CHECK(dmi.get_start_address() == 0x80000000u);
  CHECK(dmi.get_end_address() == 0xFFFFFFFFu);
  uint32_t top;
  std::memcpy(&top, dmi.get_dmi_ptr() + (0xFFFFFFFCull - dmi.get_start_address()), 4);
  CHECK(top == 0x5EED1234u);

  // The host CPU's DMI check: 64-bit, so the last word is covered and anything crossing
  // 0xFFFFFFFF is not (a 32-bit addr + bytes - 1 would wrap to 1 and pass).
  CHECK(cimvp::dmi_covers(dmi, 0xFFFFFFFCull, 4));
  CHECK(cimvp::dmi_covers(dmi, 0xFFFFFFFFull, 1));
  CHECK_FALSE(cimvp::dmi_covers(dmi, 0xFFFFFFFEull, 4));
  CHECK_FALSE(cimvp::dmi_covers(dmi, 0xFFFFFFFFull, 4096));
  CHECK(cimvp::dmi_covers(dmi, 0x80000000ull, 4));
  CHECK_FALSE(cimvp::dmi_covers(dmi, 0x7FFFFFFEull, 4));
  CHECK_FALSE(cimvp::dmi_covers(dmi, 0x80000000ull, 0));
}
