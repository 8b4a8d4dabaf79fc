/* program_weights: writes a compiled network's conductance targets into its tiles through
 * the programming controller (write-verify), tile by tile, in target tables that fit a
 * scratch area of bus memory. */
#ifndef CIMVP_FW_PROGRAM_H
#define CIMVP_FW_PROGRAM_H

#include <stdint.h>

typedef struct {
    uint32_t tiles;        /* tiles programmed */
    uint32_t cells;        /* cells programmed */
    uint32_t failures;     /* cells that did not converge or were stuck */
    uint32_t error;        /* first controller error (PROG_ERR_*), 0 if none */
    uint64_t pulses;       /* controller totals */
    uint64_t busy_ns;
} fw_program_result_t;

/* image_base: bus address of the network image (cimnet_header_t first).
 * scratch/scratch_bytes: bus memory the target tables may use (>= 4 KiB).
 * Returns 0 on success (failed cells are counted, not fatal), -1 without a programming
 * controller, -2 on a controller error. */
int fw_program_weights(uint32_t image_base, uint32_t scratch, uint32_t scratch_bytes, fw_program_result_t *res);

#endif
