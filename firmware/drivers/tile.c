#include "drivers/tile.h"

#include "cimvp/regs.h"
#include "hal/hal.h"
#include "lib/fw_soc.h"

int tile_open(uint32_t index, tile_t *t)
{
    fw_block_t b;
    if (fw_find_block(CIMVP_BLOCK_TILE, index, &b) != 0) return -1;
    t->base = b.base;
    t->irq = b.irq;
    t->index = index;
    t->rows = hal_read32(b.base + TILE_ROWS);
    t->cols = hal_read32(b.base + TILE_COLS);
    t->input_bits = hal_read32(b.base + TILE_INPUT_BITS);
    t->max_nvec = hal_read32(b.base + TILE_MAX_NVEC);
    return 0;
}

int tile_open_all(tile_t *tiles, uint32_t n)
{
    /* One walk over the discovery table (fw_find_block per tile would walk it n times). */
    uint32_t found = 0;
    for (uint32_t i = 0; i < n; i++) tiles[i].base = 0;
    const uint32_t nb = fw_block_count();
    for (uint32_t i = 0; i < nb && found < n; i++) {
        fw_block_t b = fw_block_at(i);
        if (b.type != CIMVP_BLOCK_TILE || b.instance >= n || tiles[b.instance].base) continue;
        tile_t *t = &tiles[b.instance];
        t->base = b.base;
        t->irq = b.irq;
        t->index = b.instance;
        t->rows = hal_read32(b.base + TILE_ROWS);
        t->cols = hal_read32(b.base + TILE_COLS);
        t->input_bits = hal_read32(b.base + TILE_INPUT_BITS);
        found++;
    }
    for (uint32_t i = 0; i < n; i++)
        if (!tiles[i].base) return (int)i;
    return -1;
}

void tile_start(const tile_t *t, const tile_batch_t *b)
{
    hal_write32(t->base + TILE_K, b->k);
    hal_write32(t->base + TILE_N, b->n);
    hal_write32(t->base + TILE_IN_ADDR, b->in_addr);
    hal_write32(t->base + TILE_IN_STRIDE, b->in_stride);
    hal_write32(t->base + TILE_OUT_ADDR, b->out_addr);
    hal_write32(t->base + TILE_OUT_STRIDE, b->out_stride);
    hal_write32(t->base + TILE_NVEC, b->nvec);
    hal_write32(t->base + TILE_FLAGS, b->accumulate ? TILE_FLAG_ACCUMULATE : 0u);
    hal_write32(t->base + TILE_CTRL, TILE_CTRL_START);
}

uint32_t tile_wait_all(const tile_t *const *tiles, uint32_t n, uint32_t *errors)
{
    /* errors[i] doubles as the "still running" mark, so any number of tiles can be waited
     * for without local state; tiles[0..lo) are known to be done. */
    uint32_t remaining = n, failed = 0, lo = 0;
    for (uint32_t i = 0; i < n; i++) errors[i] = TILE_WAIT_PENDING;
    for (;;) {
        for (uint32_t i = lo; i < n; i++) {
            if (errors[i] != TILE_WAIT_PENDING) continue;
            uint32_t st = hal_read32(tiles[i]->base + TILE_STATUS);
            if (!(st & TILE_STATUS_DONE)) continue;
            hal_write32(tiles[i]->base + TILE_CTRL, TILE_CTRL_CLEAR_STATUS);
            errors[i] = (st & TILE_STATUS_ERROR) ? TILE_STATUS_ERRCODE(st) : TILE_ERR_NONE;
            if (errors[i]) failed++;
            remaining--;
        }
        if (remaining == 0) return failed;
        while (errors[lo] != TILE_WAIT_PENDING) lo++;
        /* Every finished tile has been cleared, so the line is high only for new work. */
        fw_irq_wait(tiles[0]->irq);
    }
}

uint32_t tile_wait(const tile_t *t)
{
    uint32_t err = 0;
    tile_wait_all(&t, 1, &err);
    return err;
}

uint32_t tile_run(const tile_t *t, const tile_batch_t *b)
{
    tile_start(t, b);
    return tile_wait(t);
}

uint64_t tile_busy_ns(const tile_t *t)
{
    uint32_t lo = hal_read32(t->base + TILE_CYCLES_LO);
    return ((uint64_t)hal_read32(t->base + TILE_CYCLES_HI) << 32) | lo;
}

uint32_t tile_error_vector(const tile_t *t)
{
    return hal_read32(t->base + TILE_ERR_VECTOR);
}

uint64_t tile_conversions(const tile_t *t)
{
    uint32_t lo = hal_read32(t->base + TILE_CONV_LO);
    return ((uint64_t)hal_read32(t->base + TILE_CONV_HI) << 32) | lo;
}
