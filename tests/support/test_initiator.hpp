// A TLM test initiator for module tests: one blocking transaction per call, with the response
// status returned (rw) or required to be OK (w32 / r32). Shared by the tile, ADC bank, DMA, DPU
// and programming-controller module benches.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <catch2/catch.hpp>

#include <cstdint>

namespace cimvp_test {

struct TestInitiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<TestInitiator> isock{"isock"};
  explicit TestInitiator(const sc_core::sc_module_name& n) : sc_core::sc_module(n) {}
  tlm::tlm_response_status rw(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len) {
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(addr);
    gp.set_data_ptr(static_cast<unsigned char*>(data));
    gp.set_data_length(len);
    gp.set_streaming_width(len);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    isock->b_transport(gp, d);
    return gp.get_response_status();
  }
  tlm::tlm_response_status rw(tlm::tlm_command cmd, uint64_t addr, uint32_t& v) { return rw(cmd, addr, &v, 4); }
  void w32(uint64_t a, uint32_t v) { REQUIRE(rw(tlm::TLM_WRITE_COMMAND, a, &v, 4) == tlm::TLM_OK_RESPONSE); }
  uint32_t r32(uint64_t a) {
    uint32_t v = 0;
    REQUIRE(rw(tlm::TLM_READ_COMMAND, a, &v, 4) == tlm::TLM_OK_RESPONSE);
    return v;
  }
};

}  // namespace cimvp_test
