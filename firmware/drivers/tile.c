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
    return 0;
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

uint32_t tile_wait(const tile_t *t)
{
    fw_irq_wait(t->irq);
    uint32_t st = hal_read32(t->base + TILE_STATUS);
    hal_write32(t->base + TILE_CTRL, TILE_CTRL_CLEAR_STATUS);
    return (st & TILE_STATUS_ERROR) ? TILE_STATUS_ERRCODE(st) : TILE_ERR_NONE;
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

uint64_t tile_conversions(const tile_t *t)
{
    uint32_t lo = hal_read32(t->base + TILE_CONV_LO);
    return ((uint64_t)hal_read32(t->base + TILE_CONV_HI) << 32) | lo;
}
