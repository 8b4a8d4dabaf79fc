#include "lib/fw_program.h"

#include "cimvp/netimage.h"
#include "cimvp/regs.h"
#include "drivers/progctl.h"
#include "hal/hal.h"
#include "lib/fw_console.h"
#include "lib/fw_soc.h"

/* Entries built in firmware memory before each burst to the table in bus memory. */
#define FW_PROGRAM_CHUNK 512u

typedef struct {
    const progctl_t *pc;
    uint32_t table, results, fails; /* bus addresses inside the scratch area */
    fw_program_result_t *res;
} fw_program_ctx_t;

/* Programs the `count` entries at ctx->table into tile t and collects its failures. */
static void program_table(const fw_program_ctx_t *ctx, uint32_t t, uint32_t count)
{
    fw_program_result_t *res = ctx->res;
    progctl_result_t pr = progctl_program(ctx->pc, PROG_DEST_VALUE(t, PROG_DEST_ARRAY), ctx->table, count,
                                          ctx->results, ctx->fails, FW_PROGRAM_FAIL_LIST);
    res->cells += pr.done;
    res->failures += pr.failures;
    res->pulses = pr.pulses;
    res->busy_ns = pr.busy_ns;
    if (pr.error) {
        if (!res->error) res->error = pr.error;
        fw_printf("program_weights: tile %u: controller error %u after %u of %u entries (bad entry %u)\n", t,
                  pr.error, pr.done, count, pr.bad_index);
        return;
    }
    /* The failure list holds entry indices of this table; the table and the results tell
     * which cell it was and what it holds. */
    uint32_t listed = pr.failures < FW_PROGRAM_FAIL_LIST ? pr.failures : FW_PROGRAM_FAIL_LIST;
    for (uint32_t i = 0; i < listed && res->reported < FW_PROGRAM_MAX_REPORTED; i++) {
        uint32_t entry = hal_read32(ctx->fails + 4u * i);
        if (entry >= count) continue;
        progctl_entry_t e;
        hal_read_block(ctx->table + 8u * entry, &e, sizeof e);
        uint32_t got = hal_read32(ctx->results + 4u * entry);
        fw_program_failure_t *f = &res->first_failures[res->reported++];
        f->tile = t;
        f->row = e.cell >> 16;
        f->col = e.cell & 0xFFFFu;
        __builtin_memcpy(&f->target_us, &e.target_f, 4);
        __builtin_memcpy(&f->achieved_us, &got, 4);
    }
}

int fw_program_weights(uint32_t image_base, uint32_t scratch, uint32_t scratch_bytes, fw_program_result_t *res)
{
    progctl_t pc;
    res->tiles = res->cells = res->failures = res->error = res->reported = 0;
    res->pulses = res->busy_ns = 0;
    if (progctl_open(&pc) != 0) return -1;

    cimnet_header_t hdr;
    hal_read_block(image_base, &hdr, sizeof hdr);
    /* Scratch layout: target table (8 B per entry), achieved conductances (4 B per entry),
     * failure list (FW_PROGRAM_FAIL_LIST x 4 B). */
    const uint32_t fail_bytes = 4u * FW_PROGRAM_FAIL_LIST;
    const uint32_t max_entries = scratch_bytes > fail_bytes ? (scratch_bytes - fail_bytes) / 12u : 0u;
    fw_program_ctx_t ctx = {&pc, scratch, scratch + 8u * max_entries, scratch + 12u * max_entries, res};
    static progctl_entry_t chunk[FW_PROGRAM_CHUNK];
    static float row[4096];
    if (hdr.cols > 4096u) {
        fw_printf("program_weights: the image's arrays have %u columns, more than the 4096 this step buffers\n",
                  hdr.cols);
        return -2;
    }
    if (max_entries < FW_PROGRAM_CHUNK) {
        fw_printf("program_weights: scratch area of %u bytes at 0x%x is too small: it needs at least %u bytes "
                  "(%u table entries of 12 bytes + the %u-byte failure list)\n",
                  scratch_bytes, scratch, FW_PROGRAM_CHUNK * 12u + fail_bytes, FW_PROGRAM_CHUNK, fail_bytes);
        return -2;
    }

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
                if (fill == FW_PROGRAM_CHUNK || count + fill == max_entries) {
                    hal_write_block(scratch + count * 8u, chunk, fill * 8u);
                    count += fill;
                    fill = 0;
                }
                if (count == max_entries) { /* table full: program what we have */
                    program_table(&ctx, t, count);
                    count = 0;
                }
            }
        }
        if (fill) {
            hal_write_block(scratch + count * 8u, chunk, fill * 8u);
            count += fill;
        }
        if (count) program_table(&ctx, t, count);
        res->tiles++;
    }
    fw_phase_end(FW_PHASE_PROGRAM);
    fw_printf("program_weights: %u tiles, %u cells, %u failed, %llu pulses, %llu ns\n", res->tiles, res->cells,
              res->failures, (unsigned long long)res->pulses, (unsigned long long)res->busy_ns);
    for (uint32_t i = 0; i < res->reported; i++) {
        const fw_program_failure_t *f = &res->first_failures[i];
        fw_printf("program_weights: failed: tile %u cell (%u, %u): target %.2f uS, holds %.2f uS\n", f->tile, f->row,
                  f->col, (double)f->target_us, (double)f->achieved_us);
    }
    if (res->failures > res->reported)
        fw_printf("program_weights: ... and %u more failed cells\n", res->failures - res->reported);
    return res->error ? -2 : 0;
}
