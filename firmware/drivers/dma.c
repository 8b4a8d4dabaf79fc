#include "drivers/dma.h"

#include "hal/hal.h"
#include "lib/fw_soc.h"

int dma_open(uint32_t index, dma_t *d)
{
    fw_block_t b;
    if (fw_find_block(CIMVP_BLOCK_DMA, index, &b) != 0) return -1;
    d->base = b.base;
    d->irq = b.irq;
    return 0;
}

static void zero(dma_desc_t *d)
{
    uint32_t *w = (uint32_t *)d;
    for (uint32_t i = 0; i < DMA_DESC_BYTES / 4u; i++) w[i] = 0;
}

static uint32_t esize_code(uint32_t esize) { return esize == 4u ? 2u : esize == 2u ? 1u : 0u; }

void dma_desc_copy3d(dma_desc_t *d, uint32_t src, uint32_t dst, uint32_t esize, uint32_t size0, uint32_t size1,
                     uint32_t size2, uint32_t src_stride1, uint32_t src_stride2, uint32_t dst_stride1,
                     uint32_t dst_stride2)
{
    zero(d);
    d->ctrl = DMA_MODE_COPY | DMA_DESC_ESIZE(esize_code(esize));
    d->src = src;
    d->dst = dst;
    d->size0 = size0;
    d->size1 = size1;
    d->size2 = size2;
    d->src_stride1 = src_stride1;
    d->src_stride2 = src_stride2;
    d->dst_stride1 = dst_stride1;
    d->dst_stride2 = dst_stride2;
}

void dma_desc_copy(dma_desc_t *d, uint32_t src, uint32_t dst, uint32_t bytes)
{
    dma_desc_copy3d(d, src, dst, 1u, bytes, 1u, 1u, 0u, 0u, 0u, 0u);
}

void dma_desc_fill(dma_desc_t *d, uint32_t dst, uint32_t esize, uint32_t count, uint32_t pattern)
{
    zero(d);
    d->ctrl = DMA_MODE_FILL | DMA_DESC_ESIZE(esize_code(esize));
    d->dst = dst;
    d->size0 = count;
    d->size1 = 1u;
    d->size2 = 1u;
    d->fill = pattern;
}

void dma_desc_im2col(dma_desc_t *d, uint32_t src, uint32_t dst, uint32_t n, uint32_t src_stride_n,
                     uint32_t dst_row_stride, const dma_im2col_t *g)
{
    zero(d);
    d->ctrl = DMA_MODE_IM2COL;
    d->src = src;
    d->dst = dst;
    d->size0 = n;
    d->src_stride1 = g->w;
    d->src_stride2 = g->h * g->w;
    d->src_stride_n = src_stride_n;
    d->dst_stride1 = dst_row_stride;
    d->c = g->c;
    d->h = g->h;
    d->w = g->w;
    d->kh = g->kh;
    d->kw = g->kw;
    d->stride_h = g->stride_h;
    d->stride_w = g->stride_w;
    d->dil_h = g->dil_h;
    d->dil_w = g->dil_w;
    d->pad_t = g->pad_t;
    d->pad_l = g->pad_l;
    d->pad_b = g->pad_b;
    d->pad_r = g->pad_r;
    d->pad_value = g->pad_value;
    d->k_first = g->k_first;
    d->k_count = g->k_count;
}

uint32_t dma_write_chain(uint32_t at, dma_desc_t *descs, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) descs[i].next = (i + 1u < count) ? at + (i + 1u) * DMA_DESC_BYTES : 0u;
    hal_write_block(at, descs, count * DMA_DESC_BYTES);
    return at;
}

void dma_start(const dma_t *d, uint32_t first)
{
    hal_write32(d->base + DMA_DESC_ADDR, first);
    hal_write32(d->base + DMA_CTRL, DMA_CTRL_START);
}

uint32_t dma_wait(const dma_t *d)
{
    uint32_t st;
    /* The line stays high until CLEAR_STATUS, so a finish before the wait is not lost. */
    while (!((st = hal_read32(d->base + DMA_STATUS)) & DMA_STATUS_DONE)) {
        /* A flagged descriptor mid-chain raised the line: drop it, wait for the end. */
        if (st & DMA_STATUS_DESC_IRQ) hal_write32(d->base + DMA_CTRL, DMA_CTRL_CLEAR_STATUS);
        fw_irq_wait(d->irq);
    }
    hal_write32(d->base + DMA_CTRL, DMA_CTRL_CLEAR_STATUS);
    return (st & DMA_STATUS_ERROR) ? DMA_STATUS_ERRCODE(st) : DMA_ERR_NONE;
}

uint32_t dma_run(const dma_t *d, uint32_t at, dma_desc_t *descs, uint32_t count)
{
    dma_start(d, dma_write_chain(at, descs, count));
    return dma_wait(d);
}

uint64_t dma_bytes(const dma_t *d)
{
    uint32_t lo = hal_read32(d->base + DMA_BYTES_LO);
    return ((uint64_t)hal_read32(d->base + DMA_BYTES_HI) << 32) | lo;
}

uint64_t dma_busy_ns(const dma_t *d)
{
    uint32_t lo = hal_read32(d->base + DMA_BUSY_NS_LO);
    return ((uint64_t)hal_read32(d->base + DMA_BUSY_NS_HI) << 32) | lo;
}
