#include "lib/fw_soc.h"

#include "cimvp/regs.h"
#include "hal/hal.h"

#define SYSCTL(off) (CIMVP_SYSCTL_BASE + (off))

uint32_t fw_block_count(void) { return hal_read32(SYSCTL(SYSCTL_NBLOCKS)); }

fw_block_t fw_block_at(uint32_t index)
{
    fw_block_t b;
    hal_write32(SYSCTL(SYSCTL_BLOCK_SEL), index);
    uint32_t t = hal_read32(SYSCTL(SYSCTL_BLOCK_TYPE));
    b.type = t >> 16;
    b.instance = t & 0xFFFFu;
    b.base = hal_read32(SYSCTL(SYSCTL_BLOCK_BASE));
    b.size = hal_read32(SYSCTL(SYSCTL_BLOCK_SIZE));
    b.irq = hal_read32(SYSCTL(SYSCTL_BLOCK_IRQ));
    return b;
}

int fw_find_block(uint32_t type, uint32_t instance, fw_block_t *out)
{
    uint32_t n = fw_block_count();
    for (uint32_t i = 0; i < n; i++) {
        fw_block_t b = fw_block_at(i);
        if (b.type == type && b.instance == instance) {
            *out = b;
            return 0;
        }
    }
    return -1;
}

void fw_phase_begin(uint32_t phase, uint32_t arg)
{
    hal_write32(SYSCTL(SYSCTL_PHASE_ARG), arg);
    hal_write32(SYSCTL(SYSCTL_PHASE_BEGIN), phase);
}

void fw_phase_end(uint32_t phase) { hal_write32(SYSCTL(SYSCTL_PHASE_END), phase); }

uint64_t fw_time_ns(void)
{
    uint32_t lo = hal_read32(SYSCTL(SYSCTL_TIME_LO));
    uint32_t hi = hal_read32(SYSCTL(SYSCTL_TIME_HI));
    return ((uint64_t)hi << 32) | lo;
}

static uint32_t irq_base = 0xFFFFFFFFu;

int fw_irq_wait(uint32_t line)
{
    if (irq_base == 0xFFFFFFFFu) {
        fw_block_t b;
        if (fw_find_block(CIMVP_BLOCK_IRQ, 0, &b) != 0) return -1;
        irq_base = b.base;
    }
    uint32_t bit = 1u << line;
    hal_write32(irq_base + IRQ_ENABLE, bit);
    while (!(hal_read32(irq_base + IRQ_PENDING) & bit)) hal_wait_irq();
    hal_write32(irq_base + IRQ_ACK, bit);
    hal_write32(irq_base + IRQ_ENABLE, 0u);
    return 0;
}
