#include "drivers/dpu.h"

#include "hal/hal.h"
#include "lib/fw_soc.h"

int dpu_open(uint32_t index, dpu_t *d)
{
    fw_block_t b;
    if (fw_find_block(CIMVP_BLOCK_DPU, index, &b) != 0) return -1;
    d->base = b.base;
    d->irq = b.irq;
    return 0;
}

void dpu_op_init(dpu_op_t *op, uint32_t n, uint32_t c, uint32_t h, uint32_t w)
{
    uint32_t *p = (uint32_t *)op;
    for (uint32_t i = 0; i < DPU_OP_BYTES / 4u; i++) p[i] = 0;
    op->n = n;
    op->c = c;
    op->h = h;
    op->w = w;
    op->out_h = h;
    op->out_w = w;
    op->in_gain = 1.0f;
    op->res_gain = 1.0f;
    op->out_scale = 1.0f;
}

/* Strides of a tensor of the op's n x c x rows x cols, CHW or HWC. s = {n, c, y, x}. */
static void strides(const dpu_op_t *op, uint32_t rows, uint32_t cols, uint32_t esize, uint32_t hwc,
                    uint32_t pos_stride, uint32_t *s)
{
    if (hwc) {
        uint32_t ps = pos_stride ? pos_stride : op->c * esize;
        s[0] = ps * rows * cols;
        s[1] = esize;
        s[2] = ps * cols;
        s[3] = ps;
    } else {
        s[0] = esize * op->c * rows * cols;
        s[1] = esize * rows * cols;
        s[2] = esize * cols;
        s[3] = esize;
    }
}

void dpu_in_chw(dpu_op_t *op, uint32_t addr, uint32_t esize)
{
    op->in_addr = addr;
    if (esize == 1u) op->flags |= DPU_OP_IN_U8;
    strides(op, op->h, op->w, esize, 0u, 0u, &op->in_stride_n);
}

void dpu_in_hwc(dpu_op_t *op, uint32_t addr, uint32_t esize, uint32_t pos_stride)
{
    op->in_addr = addr;
    if (esize == 1u) op->flags |= DPU_OP_IN_U8;
    strides(op, op->h, op->w, esize, 1u, pos_stride, &op->in_stride_n);
}

void dpu_res_chw(dpu_op_t *op, uint32_t addr, uint32_t esize, float gain)
{
    op->res_addr = addr;
    op->res_gain = gain;
    op->flags |= esize == 1u ? DPU_OP_RES_U8 : DPU_OP_RES_F32;
    strides(op, op->h, op->w, esize, 0u, 0u, &op->res_stride_n);
}

void dpu_res_hwc(dpu_op_t *op, uint32_t addr, uint32_t esize, uint32_t pos_stride, float gain)
{
    op->res_addr = addr;
    op->res_gain = gain;
    op->flags |= esize == 1u ? DPU_OP_RES_U8 : DPU_OP_RES_F32;
    strides(op, op->h, op->w, esize, 1u, pos_stride, &op->res_stride_n);
}

void dpu_pool(dpu_op_t *op, int is_max, uint32_t kh, uint32_t kw, uint32_t sh, uint32_t sw, uint32_t pt,
              uint32_t pl, uint32_t pb, uint32_t pr, int count_include_pad, uint32_t out_h, uint32_t out_w)
{
    op->flags |= is_max ? DPU_OP_POOL_MAX : DPU_OP_POOL_AVG;
    if (count_include_pad) op->flags |= DPU_OP_COUNT_PAD;
    op->pool_kh = kh;
    op->pool_kw = kw;
    op->pool_sh = sh;
    op->pool_sw = sw;
    op->pool_pt = pt;
    op->pool_pl = pl;
    op->pool_pb = pb;
    op->pool_pr = pr;
    op->out_h = out_h;
    op->out_w = out_w;
}

static void out_common(dpu_op_t *op, uint32_t addr, uint32_t bits, float scale)
{
    op->out_addr = addr;
    if (bits) {
        op->flags |= DPU_OP_OUT_U8;
        op->out_bits = bits;
        op->out_scale = scale;
    }
}

void dpu_out_chw(dpu_op_t *op, uint32_t addr, uint32_t bits, float scale)
{
    out_common(op, addr, bits, scale);
    strides(op, op->out_h, op->out_w, bits ? 1u : 4u, 0u, 0u, &op->out_stride_n);
}

void dpu_out_hwc(dpu_op_t *op, uint32_t addr, uint32_t bits, float scale, uint32_t pos_stride)
{
    out_common(op, addr, bits, scale);
    strides(op, op->out_h, op->out_w, bits ? 1u : 4u, 1u, pos_stride, &op->out_stride_n);
}

uint32_t dpu_write_chain(uint32_t at, dpu_op_t *ops, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) ops[i].next = (i + 1u < count) ? at + (i + 1u) * DPU_OP_BYTES : 0u;
    hal_write_block(at, ops, count * DPU_OP_BYTES);
    return at;
}

void dpu_start(const dpu_t *d, uint32_t first)
{
    hal_write32(d->base + DPU_OP_ADDR, first);
    hal_write32(d->base + DPU_CTRL, DPU_CTRL_START);
}

uint32_t dpu_wait(const dpu_t *d)
{
    uint32_t st;
    while (!((st = hal_read32(d->base + DPU_STATUS)) & DPU_STATUS_DONE)) {
        if (st & DPU_STATUS_OP_IRQ) hal_write32(d->base + DPU_CTRL, DPU_CTRL_CLEAR_STATUS);
        fw_irq_wait(d->irq);
    }
    hal_write32(d->base + DPU_CTRL, DPU_CTRL_CLEAR_STATUS);
    return (st & DPU_STATUS_ERROR) ? DPU_STATUS_ERRCODE(st) : DPU_ERR_NONE;
}

uint32_t dpu_run(const dpu_t *d, uint32_t at, dpu_op_t *ops, uint32_t count)
{
    dpu_start(d, dpu_write_chain(at, ops, count));
    return dpu_wait(d);
}

uint32_t dpu_argmax(const dpu_t *d) { return hal_read32(d->base + DPU_ARGMAX); }

uint64_t dpu_elements(const dpu_t *d)
{
    uint32_t lo = hal_read32(d->base + DPU_ELEMS_LO);
    return ((uint64_t)hal_read32(d->base + DPU_ELEMS_HI) << 32) | lo;
}

uint64_t dpu_busy_ns(const dpu_t *d)
{
    uint32_t lo = hal_read32(d->base + DPU_BUSY_NS_LO);
    return ((uint64_t)hal_read32(d->base + DPU_BUSY_NS_HI) << 32) | lo;
}
