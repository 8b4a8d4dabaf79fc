/* SoC discovery and firmware phase markers, through the system-control registers. */
#ifndef CIMVP_FW_SOC_H
#define CIMVP_FW_SOC_H

#include <stdint.h>

typedef struct {
    uint32_t type;     /* CIMVP_BLOCK_* */
    uint32_t instance; /* 0.. among blocks of the same type */
    uint32_t base;     /* bus address */
    uint32_t size;     /* bytes */
    uint32_t irq;      /* IRQ line or SYSCTL_NO_IRQ */
} fw_block_t;

/* Number of discovery-table entries. */
uint32_t fw_block_count(void);
/* Entry i of the discovery table. */
fw_block_t fw_block_at(uint32_t index);
/* Finds instance `instance` of block type `type`; returns 0 if found, -1 if not. */
int fw_find_block(uint32_t type, uint32_t instance, fw_block_t *out);

/* Sleeps until interrupt line `line` is pending, then acknowledges it. Only that line is
 * enabled while waiting, so other blocks' pending interrupts stay latched for their own
 * waits instead of waking this one. Returns 0, or -1 without an interrupt controller. */
int fw_irq_wait(uint32_t line);

void fw_phase_begin(uint32_t phase, uint32_t arg);
void fw_phase_end(uint32_t phase);
/* Simulated time in ns, read from the system-control block. */
uint64_t fw_time_ns(void);

#endif
