/*
 * bus_fault: touches an address no block answers, to show how a bus error reaches the
 * firmware. APP_ARG0 = 0: no trap handler (the run ends with exit 1 and names the address);
 * APP_ARG0 = 1: a handler reports what it saw and the firmware exits with code 3.
 * APP_ARG1: the address to load from (0 means 0xDEAD0000).
 */
#include "apps/apps.h"
#include "cimvp/regs.h"
#include "hal/hal.h"
#include "lib/fw_console.h"

static volatile uint32_t seen_addr, seen_cause, seen_status;

static void on_trap(uint32_t cause, uint32_t addr, uint32_t status)
{
    seen_cause = cause;
    seen_addr = addr;
    seen_status = status;
}

int fw_app_bus_fault(void)
{
    uint32_t mode = hal_read32(CIMVP_SYSCTL_BASE + SYSCTL_APP_ARG0);
    uint32_t addr = hal_read32(CIMVP_SYSCTL_BASE + SYSCTL_APP_ARG1);
    if (addr == 0) addr = 0xDEAD0000u;
    if (mode == 1) hal_set_trap_handler(on_trap);
    fw_printf("bus_fault: loading from 0x%08x\n", addr);
    uint32_t v = hal_read32(addr);
    if (seen_cause != 0) {
        fw_printf("bus_fault: trap cause %u at 0x%08x, bus status %u (load returned 0x%x)\n", seen_cause,
                  seen_addr, seen_status, v);
        return 3;
    }
    fw_printf("bus_fault: no bus error seen (read 0x%08x)\n", v);
    return 0;
}
