// The host build's HAL: each function forwards to the running HostCpu, which turns it into
// TLM transactions. A bare-metal build provides the same functions as loads/stores.
#include "hal/hal.h"
#include "platform/cpu/host_cpu.hpp"

using cimvp::HostCpu;

extern "C" {

uint32_t hal_read32(uint32_t addr) { return HostCpu::current()->read(addr, 4); }
uint16_t hal_read16(uint32_t addr) { return static_cast<uint16_t>(HostCpu::current()->read(addr, 2)); }
uint8_t hal_read8(uint32_t addr) { return static_cast<uint8_t>(HostCpu::current()->read(addr, 1)); }
void hal_write32(uint32_t addr, uint32_t value) { HostCpu::current()->write(addr, value, 4); }
void hal_write16(uint32_t addr, uint16_t value) { HostCpu::current()->write(addr, value, 2); }
void hal_write8(uint32_t addr, uint8_t value) { HostCpu::current()->write(addr, value, 1); }
void hal_read_block(uint32_t addr, void* dst, uint32_t bytes) { HostCpu::current()->read_block(addr, dst, bytes); }
void hal_write_block(uint32_t addr, const void* src, uint32_t bytes) {
  HostCpu::current()->write_block(addr, src, bytes);
}
void hal_wait_irq(void) { HostCpu::current()->wait_irq(); }
void hal_cpu_cycles(uint32_t cycles) { HostCpu::current()->cycles(cycles); }
void hal_set_trap_handler(hal_trap_handler_t handler) { HostCpu::current()->set_trap_handler(handler); }

}  // extern "C"
