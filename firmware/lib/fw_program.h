/* program_weights: writes a compiled network's conductance targets into its tiles through
 * the programming controller (write-verify), tile by tile, in target tables that fit a
 * scratch area of bus memory. Cells that do not converge (or are stuck) are collected from
 * the controller's failure list and the first ones printed with their achieved conductance. */
#ifndef CIMVP_FW_PROGRAM_H
#define CIMVP_FW_PROGRAM_H

#include <stdint.h>

#define FW_PROGRAM_MAX_REPORTED 8u /* failures kept (and printed) per run */
#define FW_PROGRAM_FAIL_LIST 256u  /* failure-list capacity per target table */

typedef struct {
    uint32_t tile;       /* tile index */
    uint32_t row, col;   /* cell */
    float target_us;     /* what was asked */
    float achieved_us;   /* what the cell holds */
} fw_program_failure_t;

typedef struct {
    uint32_t tiles;        /* tiles programmed */
    uint32_t cells;        /* cells programmed */
    uint32_t failures;     /* cells that did not converge or were stuck */
    uint32_t error;        /* first controller error (PROG_ERR_*), 0 if none */
    uint64_t pulses;       /* controller totals */
    uint64_t busy_ns;
    uint32_t reported;     /* entries of first_failures[] filled */
    fw_program_failure_t first_failures[FW_PROGRAM_MAX_REPORTED];
} fw_program_result_t;

/* image_base: bus address of the network image (cimnet_header_t first).
 * scratch/scratch_bytes: bus memory for the target tables, the achieved conductances and the
 * failure list (>= 8 KiB). Returns 0 on success (failed cells are counted, listed and
 * printed, not fatal), -1 without a programming controller, -2 on a controller error. */
int fw_program_weights(uint32_t image_base, uint32_t scratch, uint32_t scratch_bytes, fw_program_result_t *res);

#endif
