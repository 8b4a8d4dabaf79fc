/* Programming-controller driver: program a table of conductance targets by write-verify. */
#ifndef CIMVP_DRIVER_PROGCTL_H
#define CIMVP_DRIVER_PROGCTL_H

#include <stdint.h>

typedef struct {
    uint32_t base;
    uint32_t irq;
} progctl_t;

/* One target-table entry as the controller reads it from bus memory (8 bytes). */
typedef struct {
    uint32_t cell;      /* array: (row << 16) | column; ADC: Q-cell device index */
    uint32_t target_f;  /* float32 bits of the target conductance in uS */
} progctl_entry_t;

typedef struct {
    uint32_t status;      /* PROG_STATUS at completion */
    uint32_t error;       /* PROG_ERR_* */
    uint32_t done;        /* entries programmed */
    uint32_t failures;    /* entries that did not converge or hit stuck cells */
    uint32_t bad_index;   /* first invalid entry when error == PROG_ERR_ENTRY */
    uint64_t pulses;      /* controller totals since counters were cleared */
    uint64_t verify_reads;
    uint64_t busy_ns;
} progctl_result_t;

int progctl_open(progctl_t *p);

/* Programs `count` entries of the table at bus address `table` into destination `dest`
 * (PROG_DEST_VALUE(tile, PROG_DEST_*)). result_addr/fail_addr may be 0; the failure list
 * receives up to fail_max failed entry indices (uint32). Waits for DONE (the IRQ may also
 * fire early for a START the controller ignored because it was busy: that START is
 * latched as PROG_ERR_BUSY + PROG_STATUS_OVERRUN). count must not exceed the destination's
 * cells (PROG_ERR_COUNT_RANGE). */
progctl_result_t progctl_program(const progctl_t *p, uint32_t dest, uint32_t table, uint32_t count,
                                 uint32_t result_addr, uint32_t fail_addr, uint32_t fail_max);

#endif
