#include "drivers/progctl.h"

#include "cimvp/regs.h"
#include "hal/hal.h"
#include "lib/fw_soc.h"

int progctl_open(progctl_t *p)
{
    fw_block_t b;
    if (fw_find_block(CIMVP_BLOCK_PROGCTL, 0, &b) != 0) return -1;
    p->base = b.base;
    p->irq = b.irq;
    return 0;
}

static uint64_t read64(uint32_t lo_addr)
{
    uint32_t lo = hal_read32(lo_addr);
    return ((uint64_t)hal_read32(lo_addr + 4u) << 32) | lo;
}

progctl_result_t progctl_program(const progctl_t *p, uint32_t dest, uint32_t table, uint32_t count,
                                 uint32_t result_addr, uint32_t fail_addr, uint32_t fail_max)
{
    progctl_result_t r;
    hal_write32(p->base + PROG_TABLE_ADDR, table);
    hal_write32(p->base + PROG_COUNT, count);
    hal_write32(p->base + PROG_DEST, dest);
    hal_write32(p->base + PROG_RESULT_ADDR, result_addr);
    hal_write32(p->base + PROG_FAIL_ADDR, fail_addr);
    hal_write32(p->base + PROG_FAIL_MAX, fail_max);
    hal_write32(p->base + PROG_CTRL, PROG_CTRL_START);
    do {
        fw_irq_wait(p->irq);
        r.status = hal_read32(p->base + PROG_STATUS);
    } while (!(r.status & PROG_STATUS_DONE));
    r.error = PROG_STATUS_ERRCODE(r.status);
    r.done = hal_read32(p->base + PROG_DONE_ENTRIES);
    r.failures = hal_read32(p->base + PROG_FAILURES);
    r.bad_index = hal_read32(p->base + PROG_BAD_INDEX);
    r.pulses = read64(p->base + PROG_PULSES_LO);
    r.verify_reads = read64(p->base + PROG_VERIFY_LO);
    r.busy_ns = read64(p->base + PROG_BUSY_NS_LO);
    hal_write32(p->base + PROG_CTRL, PROG_CTRL_CLEAR_STATUS);
    return r;
}
