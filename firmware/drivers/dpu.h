/* DPU driver: build op-descriptor chains in bus memory, start, wait for the interrupt, check
 * the status, read the argmax. Layout and registers: cimvp/regs.h (DPU_*), docs/dpu.md. */
#ifndef CIMVP_DRIVER_DPU_H
#define CIMVP_DRIVER_DPU_H

#include <stdint.h>

#include "cimvp/regs.h"

typedef struct {
    uint32_t base;
    uint32_t irq;
} dpu_t;

/* Finds DPU `index` through the discovery table; 0 on success, -1 if absent. */
int dpu_open(uint32_t index, dpu_t *d);

/* Clears an op and sets its input geometry: n images of c x h x w, output h x w (no pooling),
 * gains 1. Set the tensors with the layout helpers below, then the optional stages. */
void dpu_op_init(dpu_op_t *op, uint32_t n, uint32_t c, uint32_t h, uint32_t w);
/* Tensor layouts (esize 4: float32, 1: uint8). CHW dense, or HWC with pos_stride bytes
 * between positions (0: c * esize) as the tiles write their output vectors. */
void dpu_in_chw(dpu_op_t *op, uint32_t addr, uint32_t esize);
void dpu_in_hwc(dpu_op_t *op, uint32_t addr, uint32_t esize, uint32_t pos_stride);
void dpu_res_chw(dpu_op_t *op, uint32_t addr, uint32_t esize, float gain);
void dpu_res_hwc(dpu_op_t *op, uint32_t addr, uint32_t esize, uint32_t pos_stride, float gain);
/* Pooling: max (is_max) or average; out_h/out_w: floor or ceil_mode count of windows. */
void dpu_pool(dpu_op_t *op, int is_max, uint32_t kh, uint32_t kw, uint32_t sh, uint32_t sw, uint32_t pt,
              uint32_t pl, uint32_t pb, uint32_t pr, int count_include_pad, uint32_t out_h, uint32_t out_w);
/* Output (after dpu_pool if any): uint8 codes (bits, scale) or float32 (bits 0), CHW or HWC. */
void dpu_out_chw(dpu_op_t *op, uint32_t addr, uint32_t bits, float scale);
void dpu_out_hwc(dpu_op_t *op, uint32_t addr, uint32_t bits, float scale, uint32_t pos_stride);

/* Writes `count` ops at `at` (DPU_OP_BYTES apart) linked into a chain; returns `at`. */
uint32_t dpu_write_chain(uint32_t at, dpu_op_t *ops, uint32_t count);
void dpu_start(const dpu_t *d, uint32_t first);
/* Waits for the interrupt, clears the status; returns the error code (DPU_ERR_*). */
uint32_t dpu_wait(const dpu_t *d);
uint32_t dpu_run(const dpu_t *d, uint32_t at, dpu_op_t *ops, uint32_t count);
/* Argmax of the last image of the last op flagged DPU_OP_ARGMAX. */
uint32_t dpu_argmax(const dpu_t *d);
uint64_t dpu_elements(const dpu_t *d);
uint64_t dpu_busy_ns(const dpu_t *d);

#endif
