/* DMA driver: build descriptor chains in bus memory, start, wait for the interrupt, check
 * the status. Descriptor layout and registers: cimvp/regs.h (DMA_*), docs/dma.md. */
#ifndef CIMVP_DRIVER_DMA_H
#define CIMVP_DRIVER_DMA_H

#include <stdint.h>

#include "cimvp/regs.h"

typedef struct {
    uint32_t base;
    uint32_t irq;
} dma_t;

/* Finds DMA `index` through the discovery table; 0 on success, -1 if absent. */
int dma_open(uint32_t index, dma_t *d);

/* Descriptor builders (fill a local dma_desc_t; next = 0, no IRQ flag). esize: 1, 2 or 4. */
void dma_desc_copy(dma_desc_t *d, uint32_t src, uint32_t dst, uint32_t bytes);
void dma_desc_copy3d(dma_desc_t *d, uint32_t src, uint32_t dst, uint32_t esize, uint32_t size0, uint32_t size1,
                     uint32_t size2, uint32_t src_stride1, uint32_t src_stride2, uint32_t dst_stride1,
                     uint32_t dst_stride2);
void dma_desc_fill(dma_desc_t *d, uint32_t dst, uint32_t esize, uint32_t count, uint32_t pattern);
/* im2col of n dense uint8 CHW images (src_stride_n bytes apart) into rows of k_count codes
 * (k_count 0: all K) at dst + row * dst_row_stride; geometry fields as in dma_desc_t. */
typedef struct {
    uint32_t c, h, w, kh, kw, stride_h, stride_w, dil_h, dil_w, pad_t, pad_l, pad_b, pad_r;
    uint32_t pad_value, k_first, k_count;
} dma_im2col_t;
void dma_desc_im2col(dma_desc_t *d, uint32_t src, uint32_t dst, uint32_t n, uint32_t src_stride_n,
                     uint32_t dst_row_stride, const dma_im2col_t *g);

/* Writes `count` descriptors to bus memory at `at` (DMA_DESC_BYTES apart), linking each to
 * the next (the last one ends the chain); returns `at`, the chain's first descriptor. */
uint32_t dma_write_chain(uint32_t at, dma_desc_t *descs, uint32_t count);

/* Starts the chain at bus address `first` (returns at once). */
void dma_start(const dma_t *d, uint32_t first);
/* Waits for the DMA's interrupt, clears its status; returns the error code (DMA_ERR_*). */
uint32_t dma_wait(const dma_t *d);
/* dma_write_chain + dma_start + dma_wait. */
uint32_t dma_run(const dma_t *d, uint32_t at, dma_desc_t *descs, uint32_t count);

uint64_t dma_bytes(const dma_t *d);
uint64_t dma_busy_ns(const dma_t *d);

#endif
