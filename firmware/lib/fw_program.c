#include "lib/fw_program.h"

#include "cimvp/netimage.h"
#include "cimvp/regs.h"
#include "drivers/progctl.h"
#include "hal/hal.h"
#include "lib/fw_console.h"
#include "lib/fw_soc.h"

/* Entries built in firmware memory before each burst to the table in bus memory. */
#define FW_PROGRAM_CHUNK 512u

int fw_program_weights(uint32_t image_base, uint32_t scratch, uint32_t scratch_bytes, fw_program_result_t *res)
{
    progctl_t pc;
    res->tiles = res->cells = res->failures = res->error = 0;
    res->pulses = res->busy_ns = 0;
    if (progctl_open(&pc) != 0) return -1;

    cimnet_header_t hdr;
    hal_read_block(image_base, &hdr, sizeof hdr);
    const uint32_t max_entries = scratch_bytes / 8u;
    static progctl_entry_t chunk[FW_PROGRAM_CHUNK];
    static float row[4096];
    if (hdr.cols > 4096u || max_entries < FW_PROGRAM_CHUNK) return -2;

    fw_phase_begin(FW_PHASE_PROGRAM, hdr.n_tiles);
    for (uint32_t t = 0; t < hdr.n_tiles; t++) {
        cimnet_tile_t tr;
        hal_read_block(image_base + hdr.tiles_off + t * hdr.tile_bytes, &tr, sizeof tr);
        uint32_t count = 0, fill = 0;
        /* Rows in use x physical columns in use; one table per tile when it fits. */
        for (uint32_t r = 0; r < tr.k; r++) {
            hal_read_block(image_base + tr.targets_off + r * hdr.cols * 4u, row, tr.used_cols * 4u);
            for (uint32_t c = 0; c < tr.used_cols; c++) {
                uint32_t bits;
                __builtin_memcpy(&bits, &row[c], 4);
                chunk[fill].cell = (r << 16) | c;
                chunk[fill].target_f = bits;
                fill++;
                if (fill == FW_PROGRAM_CHUNK) {
                    hal_write_block(scratch + count * 8u, chunk, fill * 8u);
                    count += fill;
                    fill = 0;
                }
                if (count + fill == max_entries) { /* table full: program what we have */
                    hal_write_block(scratch + count * 8u, chunk, fill * 8u);
                    count += fill;
                    fill = 0;
                    progctl_result_t pr = progctl_program(&pc, PROG_DEST_VALUE(t, PROG_DEST_ARRAY), scratch, count, 0, 0, 0);
                    res->cells += pr.done;
                    res->failures += pr.failures;
                    if (pr.error && !res->error) res->error = pr.error;
                    count = 0;
                }
            }
        }
        if (fill) {
            hal_write_block(scratch + count * 8u, chunk, fill * 8u);
            count += fill;
        }
        if (count) {
            progctl_result_t pr = progctl_program(&pc, PROG_DEST_VALUE(t, PROG_DEST_ARRAY), scratch, count, 0, 0, 0);
            res->cells += pr.done;
            res->failures += pr.failures;
            res->pulses = pr.pulses;
            res->busy_ns = pr.busy_ns;
            if (pr.error && !res->error) res->error = pr.error;
        }
        res->tiles++;
    }
    fw_phase_end(FW_PHASE_PROGRAM);
    fw_printf("program_weights: %u tiles, %u cells, %u failed, %llu pulses, %llu ns\n", res->tiles, res->cells,
              res->failures, (unsigned long long)res->pulses, (unsigned long long)res->busy_ns);
    return res->error ? -2 : 0;
}
