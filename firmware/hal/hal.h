/*
 * Hardware abstraction layer: the only way firmware reaches the chip.
 *
 * The declarations are the seam between firmware and whatever runs it. The host build's
 * definitions live in platform/cpu/ (each access becomes a TLM transaction from the
 * host-CPU module, timed with a quantum keeper); a bare-metal build defines them in its
 * own target folder as volatile loads/stores, WFI and a trap vector.
 *
 * Addresses are 32-bit bus addresses, never host pointers.
 */
#ifndef CIMVP_HAL_H
#define CIMVP_HAL_H

#include <stdint.h>

#ifdef __cplusplus
#define HAL_NORETURN [[noreturn]]
extern "C" {
#else
#define HAL_NORETURN _Noreturn
#endif

/* Memory-mapped I/O. A bus error traps (see hal_set_trap_handler). */
uint32_t hal_read32(uint32_t addr);
uint16_t hal_read16(uint32_t addr);
uint8_t hal_read8(uint32_t addr);
void hal_write32(uint32_t addr, uint32_t value);
void hal_write16(uint32_t addr, uint16_t value);
void hal_write8(uint32_t addr, uint8_t value);

/* Block copies between firmware-local memory and bus memory (SRAM, host memory).
 * Real cores do this with a load/store loop; the host build uses DMI where granted. */
void hal_read_block(uint32_t addr, void *dst, uint32_t bytes);
void hal_write_block(uint32_t addr, const void *src, uint32_t bytes);

/* Interrupts: sleep until the CPU's interrupt input is asserted (WFI). The firmware then
 * reads the IRQ controller's PENDING register and acknowledges. */
void hal_wait_irq(void);

/* Account for firmware computation that issues no bus access (host-compiled code runs in
 * zero simulated time otherwise). */
void hal_cpu_cycles(uint32_t cycles);

/* Bus-error trap. cause: HAL_TRAP_LOAD or HAL_TRAP_STORE; addr: the faulting bus address;
 * status: the bus response (HAL_BUS_*). With no handler a bus error ends the run (exit 1).
 * A handler that returns makes the faulting load return 0 (stores are dropped). */
#define HAL_TRAP_LOAD 1u
#define HAL_TRAP_STORE 2u
#define HAL_BUS_ADDRESS_ERROR 1u
#define HAL_BUS_COMMAND_ERROR 2u
#define HAL_BUS_BURST_ERROR 3u
#define HAL_BUS_BYTE_ENABLE_ERROR 4u
#define HAL_BUS_GENERIC_ERROR 5u
typedef void (*hal_trap_handler_t)(uint32_t cause, uint32_t addr, uint32_t status);
void hal_set_trap_handler(hal_trap_handler_t handler);

/* Console and exit go through the system-control block's registers. */
void hal_putc(char c);
HAL_NORETURN void hal_exit(int code);

#ifdef __cplusplus
}
#endif

#endif /* CIMVP_HAL_H */
