/* The parts of the HAL that are plain register accesses, identical on every target. */
#include "hal/hal.h"
#include "cimvp/regs.h"

void hal_putc(char c) { hal_write32(CIMVP_SYSCTL_BASE + SYSCTL_CONSOLE, (uint8_t)c); }

HAL_NORETURN void hal_exit(int code)
{
    hal_write32(CIMVP_SYSCTL_BASE + SYSCTL_EXIT, (uint32_t)code);
    /* The exit register halts the chip; nothing runs past it. */
    for (;;) hal_wait_irq();
}
