/*
 * `infer`: runs a compiled network (cimvp/netimage.h) on the chip's tiles.
 *
 * The loader leaves a job block at the start of host memory (cimnet_job_t): where the
 * network image, the inputs and the result buffers are. For each batch of inputs the
 * firmware walks the layer descriptors:
 *   1. im2col + input quantisation: the layer's float32 input (SRAM) becomes uint8 code
 *      vectors, one pass per input digit and sign, laid out per row block so each tile
 *      reads one contiguous burst;
 *   2. every tile of the layer is started (weight-stationary: a tile holds one row block x
 *      column block of the weights), each writing its partial sums to its row block's slice
 *      of the accumulator buffer; tile_wait_all() collects them (shared IRQ line);
 *   3. post-processing: partial sums of row blocks, digits and signs are added, then
 *      y = acc * scale[j] + bias[j], ReLU, pooling, softmax; the result (float32 CHW) goes
 *      to SRAM as the next layer's input.
 * After the last layer, argmax gives the class of each input (written to the job's class
 * buffer), and the outputs are copied out when the job asks for them.
 *
 * Two data paths, chosen per layer (choose_paths, docs/network.md):
 *   - chip path (8-bit single-digit unsigned inputs, DMA and DPU present): activations live
 *     in SRAM as uint8 codes; one DMA im2col (or copy) descriptor per row block builds the
 *     code vectors, the tiles run, the DPU adds the row blocks' partial sums and applies
 *     scale/bias/ReLU/pooling and requantises to the next layer's codes (or writes float32
 *     logits + argmax for the last layer). Softmax, when the outputs are asked for, on the CPU;
 *   - CPU path (ideal mode's multi-digit inputs, signed inputs, no DMA/DPU, or the job flag
 *     CIMNET_JOB_F_CPU_DATAPATH): steps 1 and 3 above on the CPU with their cost charged
 *     through hal_cpu_cycles(). C11, freestanding.
 */
#include <stddef.h>
#include <stdint.h>

#include "apps/apps.h"
#include "cimvp/netimage.h"
#include "cimvp/regs.h"
#include "drivers/dma.h"
#include "drivers/dpu.h"
#include "drivers/pmu.h"
#include "drivers/tile.h"
#include "hal/hal.h"
#include "lib/fw_calib.h"
#include "lib/fw_console.h"
#include "lib/fw_program.h"
#include "lib/fw_soc.h"

#define INFER_MAX_LAYERS 64u
#define INFER_MAX_TILES 1024u
#define INFER_MAX_LAYER_TILES 256u /* tile_wait_all handles up to 256 tiles per call */
/* Firmware working memory (the CPU's local data memory). 48 MiB holds the example network's
 * batch with room to spare; a network that needs more stops with CIMNET_EXIT_SCRATCH. */
#define INFER_POOL_BYTES (48u << 20)

/* CPU cycles charged per element for the steps the DMA/DPU will take over. Assumption:
 * a simple in-order core, a few instructions per element. */
#define CYC_IM2COL_PER_ELEM 3u
#define CYC_DPU_PER_ELEM 6u
#define CYC_POOL_PER_TAP 2u
/* CPU cycles to build one DMA descriptor / DPU op in local memory (assumption: ~32 stores
 * plus a few address computations). */
#define CYC_PER_DESCRIPTOR 40u

static cimnet_header_t g_hdr;
static cimnet_layer_t g_layers[INFER_MAX_LAYERS];
static tile_t g_tiles[INFER_MAX_TILES];
static uint8_t g_pool[INFER_POOL_BYTES] __attribute__((aligned(64)));
static uint32_t g_pool_used;
/* Chip data path (docs/network.md): layer l runs with DMA im2col + DPU post-processing when
 * g_chip[l]; its input is then uint8 codes CHW (layer 0: the job's pixels in host memory). */
static dma_t g_dma;
static dpu_t g_dpu;
static uint8_t g_chip[INFER_MAX_LAYERS];
/* Per-layer and per-phase time/energy from the PMU (drivers/pmu.h meter, docs/energy.md
 * "Per-layer figures"): layers accumulate over every inference batch; phases telescope. */
static pmu_meter_t g_meter;
static pmu_acc_t g_layer_acc[INFER_MAX_LAYERS];

static void *pool_alloc(uint32_t bytes)
{
    uint32_t at = (g_pool_used + 63u) & ~63u;
    if (bytes > INFER_POOL_BYTES || at > INFER_POOL_BYTES - bytes) return NULL;
    g_pool_used = at + bytes;
    return g_pool + at;
}

/* exp(x) for softmax: range reduction by ln 2 and a degree-6 polynomial (rel. error ~1e-7). */
static float fw_expf(float x)
{
    if (x < -87.0f) return 0.0f;
    if (x > 88.0f) x = 88.0f;
    const float ln2 = 0.69314718056f;
    float fn = x / ln2;
    int32_t n = (int32_t)(fn < 0 ? fn - 0.5f : fn + 0.5f);
    float r = x - (float)n * ln2;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
    union { float f; uint32_t u; } s;
    s.u = (uint32_t)(n + 127) << 23;
    return p * s.f;
}

/* Softmax over each of nb rows of n outputs, in place. */
static void softmax_rows(float *o, uint32_t nb, uint32_t n)
{
    for (uint32_t b = 0; b < nb; b++, o += n) {
        float mx = o[0], sum = 0.0f;
        for (uint32_t i = 1; i < n; i++)
            if (o[i] > mx) mx = o[i];
        for (uint32_t i = 0; i < n; i++) {
            o[i] = fw_expf(o[i] - mx);
            sum += o[i];
        }
        for (uint32_t i = 0; i < n; i++) o[i] /= sum;
    }
    hal_cpu_cycles(40u * nb * n);
}

/* Quantised im2col of one batch: q[v*K + k] = round(x / x_scale) clamped to +-q_max. */
static void im2col_quantise(const cimnet_layer_t *L, const float *x, uint32_t nb, int32_t *q)
{
    const uint32_t K = L->k, P = L->mm_h * L->mm_w, in_sz = L->in_c * L->in_h * L->in_w;
    const double inv = 1.0 / (double)L->x_scale;
    const double qmax = (double)L->q_max;
    for (uint32_t b = 0; b < nb; b++) {
        const float *xi = x + (size_t)b * in_sz;
        for (uint32_t p = 0; p < P; p++) {
            int32_t *row = q + ((size_t)b * P + p) * K;
            const uint32_t oy = p / L->mm_w, ox = p % L->mm_w;
            for (uint32_t k = 0; k < K; k++) {
                float v;
                if (L->op == CIMNET_OP_CONV) {
                    const uint32_t c = k / (L->kh * L->kw), r = k % (L->kh * L->kw);
                    const uint32_t ky = r / L->kw, kx = r % L->kw;
                    const int32_t iy = (int32_t)(oy * L->stride_h + ky * L->dil_h) - (int32_t)L->pad_t;
                    const int32_t ix = (int32_t)(ox * L->stride_w + kx * L->dil_w) - (int32_t)L->pad_l;
                    v = (iy < 0 || ix < 0 || iy >= (int32_t)L->in_h || ix >= (int32_t)L->in_w)
                            ? 0.0f
                            : xi[((size_t)c * L->in_h + (uint32_t)iy) * L->in_w + (uint32_t)ix];
                } else {
                    v = xi[k];
                }
                /* Double: a float cannot round values near 2^24 (ideal mode's 24-bit codes). */
                double sd = (double)v * inv;
                if (sd > qmax) sd = qmax;
                if (sd < -qmax) sd = -qmax;
                row[k] = (int32_t)(sd < 0 ? sd - 0.5 : sd + 0.5);
            }
        }
    }
    hal_cpu_cycles(CYC_IM2COL_PER_ELEM * nb * P * K);
}

/* Runs one layer on a batch: x (local copy of the layer input) -> out (local). */
static int run_layer(uint32_t li, uint32_t sram, uint32_t nb, const float *x, float *out, uint32_t image_base)
{
    const cimnet_layer_t *L = &g_layers[li];
    const uint32_t K = L->k, N = L->n, P = L->mm_h * L->mm_w, nvec = nb * P;
    const uint32_t rows = g_hdr.rows;
    const uint32_t ntl = L->row_blocks * L->col_blocks;
    const uint32_t mark = g_pool_used;
    int32_t *q = (int32_t *)pool_alloc(4u * nvec * K);
    uint8_t *codes = (uint8_t *)pool_alloc(nvec * K);
    float *part = (float *)pool_alloc(4u * L->row_blocks * nvec * N);
    float *acc = (float *)pool_alloc(4u * nvec * N);
    float *dpu = (float *)pool_alloc(8u * N);
    float *chw = (float *)pool_alloc(4u * nb * N * P);
    if (!q || !codes || !part || !acc || !dpu || !chw || ntl > INFER_MAX_LAYER_TILES) return CIMNET_EXIT_SCRATCH;
    hal_read_block(image_base + L->dpu_off, dpu, 8u * N);
    for (uint32_t i = 0; i < nvec * N; i++) acc[i] = 0.0f;

    im2col_quantise(L, x, nb, q);

    const tile_t *tl[INFER_MAX_LAYER_TILES];
    uint32_t errs[INFER_MAX_LAYER_TILES];
    for (uint32_t t = 0; t < ntl; t++) tl[t] = &g_tiles[L->first_tile + t];
    const uint32_t nsign = (L->flags & CIMNET_F_SIGNED_INPUT) ? 2u : 1u;
    const uint32_t bits = g_hdr.input_bits, dmask = (1u << bits) - 1u;
    for (uint32_t s = 0; s < nsign; s++) {
        for (uint32_t d = 0; d < L->digits; d++) {
            /* Codes of this pass, row block by row block: vector v of block rb at
             * rb*rows*nvec + v*kb, so every tile reads one contiguous run. */
            uint32_t any = 0;
            for (uint32_t rb = 0; rb < L->row_blocks; rb++) {
                const uint32_t r0 = rb * rows, kb = (K - r0 < rows) ? K - r0 : rows;
                uint8_t *dst = codes + (size_t)r0 * nvec;
                for (uint32_t v = 0; v < nvec; v++) {
                    const int32_t *qr = q + (size_t)v * K + r0;
                    for (uint32_t k = 0; k < kb; k++) {
                        int32_t m = s ? -qr[k] : qr[k];
                        uint32_t c = m > 0 ? (((uint32_t)m >> (bits * d)) & dmask) : 0u;
                        dst[(size_t)v * kb + k] = (uint8_t)c;
                        any |= c;
                    }
                }
            }
            hal_cpu_cycles(nvec * K);
            if (!any) continue; /* an all-zero pass adds nothing */
            hal_write_block(sram + L->sram_codes, codes, nvec * K);
            for (uint32_t t = 0; t < ntl; t++) {
                const uint32_t rb = t / L->col_blocks, cb = t % L->col_blocks;
                const uint32_t r0 = rb * rows, kb = (K - r0 < rows) ? K - r0 : rows;
                const uint32_t c0 = cb * L->block_cols;
                tile_batch_t bt;
                bt.k = kb;
                bt.n = (N - c0 < L->block_cols) ? N - c0 : L->block_cols;
                bt.in_addr = sram + L->sram_codes + r0 * nvec;
                bt.in_stride = kb;
                bt.out_addr = sram + L->sram_acc + 4u * (rb * nvec * N + c0);
                bt.out_stride = 4u * N;
                bt.nvec = nvec;
                bt.accumulate = 0;
                tile_start(tl[t], &bt);
            }
            if (tile_wait_all(tl, ntl, errs) != 0) {
                for (uint32_t t = 0; t < ntl; t++)
                    if (errs[t]) {
                        fw_printf("infer: layer %u tile %u error %u\n", li, L->first_tile + t, errs[t]);
                        break;
                    }
                return CIMNET_EXIT_TILE_ERROR;
            }
            hal_read_block(sram + L->sram_acc, part, 4u * L->row_blocks * nvec * N);
            float w = (float)(1u << (bits * d));
            if (s) w = -w;
            for (uint32_t rb = 0; rb < L->row_blocks; rb++) {
                const float *pr = part + (size_t)rb * nvec * N;
                for (uint32_t i = 0; i < nvec * N; i++) acc[i] += w * pr[i];
            }
            hal_cpu_cycles(CYC_DPU_PER_ELEM * L->row_blocks * nvec * N);
        }
    }

    /* Post-processing: scale, bias, ReLU into CHW; then pooling (or a copy). */
    const float *scale = dpu, *bias = dpu + N;
    for (uint32_t b = 0; b < nb; b++)
        for (uint32_t p = 0; p < P; p++)
            for (uint32_t j = 0; j < N; j++) {
                float v = acc[((size_t)b * P + p) * N + j] * scale[j] + bias[j];
                if ((L->flags & CIMNET_F_RELU) && v < 0.0f) v = 0.0f;
                chw[((size_t)b * N + j) * P + p] = v;
            }
    hal_cpu_cycles(CYC_DPU_PER_ELEM * nvec * N);
    const uint32_t out_sz = L->out_c * L->out_h * L->out_w;
    if (L->flags & (CIMNET_F_POOL_MAX | CIMNET_F_POOL_AVG)) {
        const int is_max = (L->flags & CIMNET_F_POOL_MAX) != 0;
        for (uint32_t b = 0; b < nb; b++)
            for (uint32_t j = 0; j < N; j++) {
                const float *src = chw + ((size_t)b * N + j) * P;
                float *dst = out + (size_t)b * out_sz + (size_t)j * L->out_h * L->out_w;
                for (uint32_t oy = 0; oy < L->out_h; oy++)
                    for (uint32_t ox = 0; ox < L->out_w; ox++) {
                        float m = 0.0f, sum = 0.0f;
                        uint32_t cnt = 0, taps = 0;
                        int first = 1;
                        for (uint32_t ky = 0; ky < L->pool_kh; ky++)
                            for (uint32_t kx = 0; kx < L->pool_kw; kx++) {
                                const int32_t iy = (int32_t)(oy * L->pool_sh + ky) - (int32_t)L->pool_pt;
                                const int32_t ix = (int32_t)(ox * L->pool_sw + kx) - (int32_t)L->pool_pl;
                                /* count_include_pad counts the explicit padding, not the
                                 * part of a ceil_mode window beyond it. */
                                if (iy < (int32_t)(L->mm_h + L->pool_pb) && ix < (int32_t)(L->mm_w + L->pool_pr)) taps++;
                                if (iy < 0 || ix < 0 || iy >= (int32_t)L->mm_h || ix >= (int32_t)L->mm_w) continue;
                                const float v = src[(uint32_t)iy * L->mm_w + (uint32_t)ix];
                                if (first || v > m) m = v;
                                first = 0;
                                sum += v;
                                cnt++;
                            }
                        if (is_max)
                            dst[oy * L->out_w + ox] = m;
                        else
                            dst[oy * L->out_w + ox] =
                                cnt ? sum / (float)((L->flags & CIMNET_F_POOL_PAD_INCL) ? taps : cnt) : 0.0f;
                    }
            }
        hal_cpu_cycles(CYC_POOL_PER_TAP * nb * out_sz * L->pool_kh * L->pool_kw);
    } else {
        for (uint32_t i = 0; i < nb * out_sz; i++) out[i] = chw[i];
    }
    if (L->flags & CIMNET_F_SOFTMAX) softmax_rows(out, nb, out_sz);
    g_pool_used = mark;
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Chip data path: DMA im2col -> tiles -> DPU (accumulate, scale/bias, ReLU, pool, requantise
 * or float32 + argmax). Used per layer where the blocks can do the whole job (choose_paths).
 * ---------------------------------------------------------------------------------------- */

/* Where the DPU leaves the classes of a batch: the last 4 x batch bytes of the descriptor
 * scratch (docs/network-image.md). */
static uint32_t argmax_addr(uint32_t sram) { return sram + g_hdr.sram_desc + g_hdr.sram_desc_bytes - 4u * g_hdr.batch; }

/* Decides per layer which path runs it. The blocks handle one unsigned code digit of at most
 * 8 bits; ideal mode's multi-digit inputs and signed inputs stay on the CPU. Layer 0 reads the
 * job's uint8 pixels directly when they are its codes (x_scale == in_scale). */
static void choose_paths(const cimnet_job_t *job, uint32_t batch)
{
    const int blocks = !(job->job_flags & CIMNET_JOB_F_CPU_DATAPATH) && dma_open(0, &g_dma) == 0 &&
                       dpu_open(0, &g_dpu) == 0;
    const uint32_t bits = g_hdr.input_bits;
    for (uint32_t l = 0; l < g_hdr.n_layers; l++) {
        const cimnet_layer_t *L = &g_layers[l];
        const uint32_t ntl = L->row_blocks * L->col_blocks;
        int ok = blocks && bits >= 1u && bits <= 8u && L->digits == 1u && !(L->flags & CIMNET_F_SIGNED_INPUT) &&
                 L->q_max == (1u << bits) - 1u && ntl <= INFER_MAX_LAYER_TILES && batch <= g_hdr.batch &&
                 L->row_blocks * (DMA_DESC_BYTES + DPU_OP_BYTES) + 4u * g_hdr.batch <= g_hdr.sram_desc_bytes;
        if (l == 0) {
            const float d = L->x_scale - job->in_scale;
            ok = ok && job->input_format == CIMNET_IN_U8 && (d < 0 ? -d : d) <= 1e-6f * L->x_scale;
        }
        g_chip[l] = (uint8_t)ok;
    }
}

/* Starts every tile of the layer on the codes at sram_codes (row block rb at rb*rows*nvec)
 * and waits; partial sums of row block rb go to its slice of sram_acc. */
static int run_tiles(uint32_t li, uint32_t sram, uint32_t nvec)
{
    const cimnet_layer_t *L = &g_layers[li];
    const uint32_t K = L->k, N = L->n, rows = g_hdr.rows, ntl = L->row_blocks * L->col_blocks;
    const tile_t *tl[INFER_MAX_LAYER_TILES];
    uint32_t errs[INFER_MAX_LAYER_TILES];
    for (uint32_t t = 0; t < ntl; t++) {
        const uint32_t rb = t / L->col_blocks, cb = t % L->col_blocks;
        const uint32_t r0 = rb * rows, kb = (K - r0 < rows) ? K - r0 : rows, c0 = cb * L->block_cols;
        tile_batch_t bt;
        tl[t] = &g_tiles[L->first_tile + t];
        bt.k = kb;
        bt.n = (N - c0 < L->block_cols) ? N - c0 : L->block_cols;
        bt.in_addr = sram + L->sram_codes + r0 * nvec;
        bt.in_stride = kb;
        bt.out_addr = sram + L->sram_acc + 4u * (rb * nvec * N + c0);
        bt.out_stride = 4u * N;
        bt.nvec = nvec;
        bt.accumulate = 0;
        tile_start(tl[t], &bt);
    }
    if (tile_wait_all(tl, ntl, errs) != 0) {
        for (uint32_t t = 0; t < ntl; t++)
            if (errs[t]) {
                fw_printf("infer: layer %u tile %u error %u\n", li, L->first_tile + t, errs[t]);
                break;
            }
        return CIMNET_EXIT_TILE_ERROR;
    }
    return 0;
}

/* One layer on the chip path for nb images whose uint8 CHW codes are at in_addr (bus
 * address). Output at sram_out: uint8 codes of the next layer when it runs on the chip path
 * too, else float32 CHW; the last layer also leaves its classes at argmax_addr(). */
static int run_layer_chip(uint32_t li, uint32_t sram, uint32_t nb, uint32_t in_addr, uint32_t image_base)
{
    const cimnet_layer_t *L = &g_layers[li];
    const uint32_t K = L->k, N = L->n, P = L->mm_h * L->mm_w, nvec = nb * P, rows = g_hdr.rows;
    const uint32_t in_sz = L->in_c * L->in_h * L->in_w, R = L->row_blocks;
    const uint32_t desc_at = sram + g_hdr.sram_desc, ops_at = desc_at + R * DMA_DESC_BYTES;
    const uint32_t mark = g_pool_used;
    dma_desc_t *dd = (dma_desc_t *)pool_alloc(R * (uint32_t)sizeof(dma_desc_t));
    dpu_op_t *ops = (dpu_op_t *)pool_alloc(R * (uint32_t)sizeof(dpu_op_t));
    if (!dd || !ops) return CIMNET_EXIT_SCRATCH;

    /* 1. DMA: one descriptor per row block builds its code vectors (vector v at r0*nvec + v*kb). */
    for (uint32_t rb = 0; rb < R; rb++) {
        const uint32_t r0 = rb * rows, kb = (K - r0 < rows) ? K - r0 : rows;
        const uint32_t dst = sram + L->sram_codes + r0 * nvec;
        if (L->op == CIMNET_OP_CONV) {
            dma_im2col_t g = {L->in_c, L->in_h,  L->in_w,  L->kh,    L->kw,    L->stride_h, L->stride_w, L->dil_h,
                              L->dil_w, L->pad_t, L->pad_l, L->pad_b, L->pad_r, 0u,          r0,          kb};
            dma_desc_im2col(&dd[rb], in_addr, dst, nb, in_sz, kb, &g);
        } else { /* FC: columns r0..r0+kb of each image's flattened codes */
            dma_desc_copy3d(&dd[rb], in_addr + r0, dst, 1u, kb, nb, 1u, in_sz, 0u, kb, 0u);
        }
    }
    hal_cpu_cycles(CYC_PER_DESCRIPTOR * R);
    uint32_t err = dma_run(&g_dma, desc_at, dd, R);
    if (err) {
        fw_printf("infer: layer %u DMA error %u\n", li, err);
        g_pool_used = mark;
        return CIMNET_EXIT_TILE_ERROR;
    }

    /* 2. Tiles. */
    int rc = run_tiles(li, sram, nvec);
    if (rc) {
        g_pool_used = mark;
        return rc;
    }

    /* 3. DPU: row blocks 1.. added into block 0 in place (position-major, as the tiles wrote
     * them), then scale/bias/ReLU/pool from block 0 into CHW output, requantised or float. */
    const uint32_t acc0 = sram + L->sram_acc, blk = 4u * nvec * N;
    uint32_t n_ops = 0;
    for (uint32_t rb = 1; rb < R; rb++) {
        dpu_op_t *op = &ops[n_ops++];
        dpu_op_init(op, nb, N, L->mm_h, L->mm_w);
        dpu_in_hwc(op, acc0 + rb * blk, 4u, 4u * N);
        dpu_res_hwc(op, acc0, 4u, 4u * N, 1.0f);
        dpu_out_hwc(op, acc0, 0u, 1.0f, 4u * N);
    }
    dpu_op_t *op = &ops[n_ops++];
    dpu_op_init(op, nb, N, L->mm_h, L->mm_w);
    dpu_in_hwc(op, acc0, 4u, 4u * N);
    op->scale_addr = image_base + L->dpu_off;
    op->bias_addr = image_base + L->dpu_off + 4u * N;
    if (L->flags & CIMNET_F_RELU) op->flags |= DPU_OP_RELU;
    if (L->flags & (CIMNET_F_POOL_MAX | CIMNET_F_POOL_AVG))
        dpu_pool(op, (L->flags & CIMNET_F_POOL_MAX) != 0, L->pool_kh, L->pool_kw, L->pool_sh, L->pool_sw, L->pool_pt,
                 L->pool_pl, L->pool_pb, L->pool_pr, (L->flags & CIMNET_F_POOL_PAD_INCL) != 0, L->out_h, L->out_w);
    const int codes_out = li + 1u < g_hdr.n_layers && g_chip[li + 1u];
    dpu_out_chw(op, sram + L->sram_out, codes_out ? g_hdr.input_bits : 0u, codes_out ? L->out_scale : 1.0f);
    if (L->flags & CIMNET_F_LAST) {
        op->flags |= DPU_OP_ARGMAX;
        op->argmax_addr = argmax_addr(sram);
    }
    hal_cpu_cycles(CYC_PER_DESCRIPTOR * n_ops);
    err = dpu_run(&g_dpu, ops_at, ops, n_ops);
    g_pool_used = mark;
    if (err) {
        fw_printf("infer: layer %u DPU error %u\n", li, err);
        return CIMNET_EXIT_TILE_ERROR;
    }
    return 0;
}

/* CPU-path output -> the next layer's uint8 codes: q = clamp(round(x / scale), 0, q_max),
 * the rounding of the CPU im2col (half away from zero). */
static void quantise_codes(const float *x, uint32_t n, float scale, uint32_t q_max, uint8_t *q)
{
    const double inv = 1.0 / (double)scale;
    for (uint32_t i = 0; i < n; i++) {
        double v = (double)x[i] * inv;
        if (v > (double)q_max) v = (double)q_max;
        q[i] = v > 0.0 ? (uint8_t)(uint32_t)(v + 0.5) : 0u;
    }
    hal_cpu_cycles(CYC_IM2COL_PER_ELEM * n);
}

/* What the per-input routine needs; filled by fw_app_infer (also the calibration's callback). */
typedef struct {
    fw_block_t hm;
    cimnet_job_t job;
    uint32_t batch, in_sz, out_sz, elem, sram, image_base;
    const cimnet_layer_t *L0, *LN;
    float *xa, *xb;
    uint8_t *raw;
    uint32_t *cls;
} infer_ctx_t;

/* Runs inputs [first0, first0 + count) of the input array at host-memory offset input_off
 * through the network; writes classes/outputs/done only for the job's own inputs (the
 * calibration passes its training images at another offset). fw_calib_run_fn. */
static int infer_inputs(void *vctx, uint32_t input_off, uint32_t first0, uint32_t count)
{
    const infer_ctx_t *c = (const infer_ctx_t *)vctx;
    const fw_block_t hm = c->hm;
    const cimnet_job_t job = c->job;
    const uint32_t batch = c->batch, in_sz = c->in_sz, out_sz = c->out_sz, elem = c->elem, sram = c->sram;
    const uint32_t image_base = c->image_base;
    const cimnet_layer_t *L0 = c->L0, *LN = c->LN;
    float *xa = c->xa, *xb = c->xb;
    uint8_t *raw = c->raw;
    uint32_t *cls = c->cls;
    for (uint32_t first = first0; first < first0 + count; first += batch) {
        const uint32_t nb = (first0 + count - first < batch) ? first0 + count - first : batch;
        fw_phase_begin(FW_PHASE_IMAGE, first);
        const uint32_t in_addr = hm.base + input_off + first * in_sz * elem;
        if (!g_chip[0]) {
            /* Inputs: host memory -> float32 CHW -> SRAM (layer 0's input buffer). */
            hal_read_block(in_addr, raw, nb * in_sz * elem);
            for (uint32_t i = 0; i < nb * in_sz; i++)
                xa[i] = elem == 1u ? (float)raw[i] * job.in_scale : ((const float *)raw)[i];
            hal_cpu_cycles(nb * in_sz);
            hal_write_block(sram + L0->sram_in, xa, 4u * nb * in_sz);
        }
        for (uint32_t l = 0; l < g_hdr.n_layers; l++) {
            const cimnet_layer_t *L = &g_layers[l];
            const uint32_t lin = L->in_c * L->in_h * L->in_w, lout = L->out_c * L->out_h * L->out_w;
            fw_phase_begin(FW_PHASE_LAYER, l);
            const int metered = input_off == job.input_off; /* inference, not calibration passes */
            pmu_mark_t m0, m1;
            if (metered) pmu_meter_mark(&g_meter, L->first_tile, L->row_blocks * L->col_blocks, &m0);
            int rc;
            if (g_chip[l]) { /* codes in (layer 0: the pixels in host memory), DMA/tiles/DPU */
                rc = run_layer_chip(l, sram, nb, l == 0 ? in_addr : sram + L->sram_in, image_base);
                if (rc) return rc;
            } else {
                hal_read_block(sram + L->sram_in, xa, 4u * nb * lin);
                rc = run_layer(l, sram, nb, xa, xb, image_base);
                if (rc) return rc;
                if (l + 1u < g_hdr.n_layers && g_chip[l + 1u]) { /* next layer takes codes */
                    uint8_t *q = (uint8_t *)xa; /* input consumed; 4 x batch x max_act bytes hold nb x lout */
                    quantise_codes(xb, nb * lout, L->out_scale, L->out_q_max, q);
                    hal_write_block(sram + L->sram_out, q, nb * lout);
                } else {
                    hal_write_block(sram + L->sram_out, xb, 4u * nb * lout);
                }
            }
            if (metered) {
                pmu_meter_mark(&g_meter, L->first_tile, L->row_blocks * L->col_blocks, &m1);
                pmu_acc_add(&g_layer_acc[l], &m0, &m1);
            }
            fw_phase_end(FW_PHASE_LAYER);
        }
        const int want_out = input_off == job.input_off && job.output_off;
        if (g_chip[g_hdr.n_layers - 1u]) {
            /* Classes from the DPU's argmax (of the logits: softmax keeps the order); the
             * outputs, when asked for, get the softmax on the CPU (the DPU has none). */
            hal_read_block(argmax_addr(sram), cls, 4u * nb);
            if (want_out) {
                hal_read_block(sram + LN->sram_out, xb, 4u * nb * out_sz);
                if (LN->flags & CIMNET_F_SOFTMAX) softmax_rows(xb, nb, out_sz);
            }
        } else {
            /* Argmax (first maximum, as numpy) and results. */
            hal_read_block(sram + LN->sram_out, xb, 4u * nb * out_sz);
            for (uint32_t b = 0; b < nb; b++) {
                const float *o = xb + (size_t)b * out_sz;
                uint32_t best = 0;
                for (uint32_t i = 1; i < out_sz; i++)
                    if (o[i] > o[best]) best = i;
                cls[b] = best;
            }
            hal_cpu_cycles(nb * out_sz);
        }
        if (input_off != job.input_off) { /* calibration pass: no results */
            fw_phase_end(FW_PHASE_IMAGE);
            continue;
        }
        hal_write_block(hm.base + job.class_off + 4u * first, cls, 4u * nb);
        if (job.output_off) hal_write_block(hm.base + job.output_off + 4u * first * out_sz, xb, 4u * nb * out_sz);
        hal_write32(hm.base + (uint32_t)offsetof(cimnet_job_t, done), first + nb);
        fw_phase_end(FW_PHASE_IMAGE);
    }
    return 0;
}

int fw_app_infer(void)
{
    fw_block_t hm, sr;
    fw_phase_begin(FW_PHASE_BOOT, 0);
    if (fw_find_block(CIMVP_BLOCK_HOSTMEM, 0, &hm) != 0 || fw_find_block(CIMVP_BLOCK_SRAM, 0, &sr) != 0) {
        fw_printf("infer: no host memory or SRAM in the memory map\n");
        return CIMNET_EXIT_NO_HOSTMEM;
    }
    cimnet_job_t job;
    hal_read_block(hm.base, &job, sizeof job);
    if (job.magic != CIMNET_JOB_MAGIC || job.count == 0) {
        fw_printf("infer: no job block at host memory 0x%x (the platform loads it for the network flow)\n", hm.base);
        return CIMNET_EXIT_BAD_JOB;
    }
    const uint32_t image_base = hm.base + job.image_off;
    hal_read_block(image_base, &g_hdr, sizeof g_hdr);
    if (g_hdr.magic != CIMNET_MAGIC || g_hdr.version != CIMNET_VERSION || g_hdr.n_layers == 0 ||
        g_hdr.n_layers > INFER_MAX_LAYERS || g_hdr.n_tiles > INFER_MAX_TILES ||
        g_hdr.layer_bytes != sizeof(cimnet_layer_t)) {
        fw_printf("infer: bad network image (magic 0x%x version %u)\n", g_hdr.magic, g_hdr.version);
        return CIMNET_EXIT_BAD_IMAGE;
    }
    if (g_hdr.sram_bytes > sr.size) {
        fw_printf("infer: the image needs %u bytes of SRAM, the chip has %u\n", g_hdr.sram_bytes, sr.size);
        return CIMNET_EXIT_BAD_IMAGE;
    }
    hal_read_block(image_base + g_hdr.layers_off, g_layers, g_hdr.n_layers * sizeof(cimnet_layer_t));
    for (uint32_t t = 0; t < g_hdr.n_tiles; t++)
        if (tile_open(t, &g_tiles[t]) != 0) {
            fw_printf("infer: tile %u is missing (the network needs %u tiles)\n", t, g_hdr.n_tiles);
            return CIMNET_EXIT_NO_TILE;
        }
    fw_phase_end(FW_PHASE_BOOT);
    /* Phase marks: boot = [0, mk[0]], program, calibrate, infer between the next ones. */
    pmu_mark_t mk[4], zero = {0};
    pmu_acc_t ph[4] = {{0}};
    const int have_pmu = pmu_meter_open(&g_meter, g_tiles, g_hdr.n_tiles) == 0;
    pmu_meter_mark(&g_meter, 0, g_hdr.n_tiles, &mk[0]);
    pmu_acc_add(&ph[0], &zero, &mk[0]);

    uint32_t batch = g_hdr.batch;
    if (job.batch && job.batch < batch) batch = job.batch;
    const cimnet_layer_t *L0 = &g_layers[0], *LN = &g_layers[g_hdr.n_layers - 1];
    const uint32_t in_sz = g_hdr.in_c * g_hdr.in_h * g_hdr.in_w, out_sz = g_hdr.out_count;
    uint32_t max_act = 0;
    for (uint32_t l = 0; l < g_hdr.n_layers; l++) {
        uint32_t a = g_layers[l].in_c * g_layers[l].in_h * g_layers[l].in_w;
        uint32_t o = g_layers[l].out_c * g_layers[l].out_h * g_layers[l].out_w;
        if (a > max_act) max_act = a;
        if (o > max_act) max_act = o;
    }
    float *xa = (float *)pool_alloc(4u * batch * max_act);
    float *xb = (float *)pool_alloc(4u * batch * max_act);
    uint8_t *raw = (uint8_t *)pool_alloc(4u * batch * in_sz);
    uint32_t *cls = (uint32_t *)pool_alloc(4u * batch);
    if (!xa || !xb || !raw || !cls) return CIMNET_EXIT_SCRATCH;
    const uint32_t sram = sr.base;
    const uint32_t elem = job.input_format == CIMNET_IN_U8 ? 1u : 4u;
    choose_paths(&job, batch);

    static infer_ctx_t ic;
    ic.hm = hm;
    ic.job = job;
    ic.batch = batch;
    ic.in_sz = in_sz;
    ic.out_sz = out_sz;
    ic.elem = elem;
    ic.sram = sram;
    ic.image_base = image_base;
    ic.L0 = L0;
    ic.LN = LN;
    ic.xa = xa;
    ic.xb = xb;
    ic.raw = raw;
    ic.cls = cls;
    if (job.job_flags & CIMNET_JOB_F_PROGRAM) { /* weights by write-verify (lib/fw_program.h) */
        const uint32_t used = (g_hdr.sram_bytes + 4095u) & ~4095u;
        fw_program_result_t pr = {0};
        if (used + 4096u > sr.size || fw_program_weights(image_base, sr.base + used, sr.size - used, &pr) != 0) {
            fw_printf("infer: programming the weights failed (controller error %u)\n", pr.error);
            return CIMNET_EXIT_PROGRAM;
        }
    }
    pmu_meter_mark(&g_meter, 0, g_hdr.n_tiles, &mk[1]);
    pmu_acc_add(&ph[1], &mk[0], &mk[1]);
    if (job.calib_count) { /* ADC calibration on training images first (lib/fw_calib.h) */
        fw_calib_args_t ca = {&job, &g_hdr, g_layers, g_tiles, hm.base, sr.base, sr.size, infer_inputs, &ic};
        int crc = fw_calib_run(&ca);
        if (crc) return crc;
    }
    pmu_meter_mark(&g_meter, 0, g_hdr.n_tiles, &mk[2]);
    pmu_acc_add(&ph[2], &mk[1], &mk[2]);

    fw_phase_begin(FW_PHASE_INFER, job.count);
    int rc = infer_inputs(&ic, job.input_off, 0, job.count);
    if (rc) return rc;
    fw_phase_end(FW_PHASE_INFER);
    pmu_meter_mark(&g_meter, 0, g_hdr.n_tiles, &mk[3]);
    pmu_acc_add(&ph[3], &mk[2], &mk[3]);
    if (have_pmu) { /* the per-layer table (docs/energy.md "Per-layer figures") */
        static const char *const names[4] = {"boot", "program", "calibrate", "infer"};
        if (g_meter.found < g_hdr.n_tiles)
            fw_printf("perf: %u of %u tiles' power components not found by name (tile<i>_adc, ...): their "
                      "adc/array/periphery columns are 0\n", g_hdr.n_tiles - g_meter.found, g_hdr.n_tiles);
        pmu_acc_print_header();
        for (uint32_t i = 0; i < 4u; i++) pmu_acc_print("phase", names[i], &ph[i]);
        for (uint32_t l = 0; l < g_hdr.n_layers; l++) {
            char nm[4] = {(char)('0' + l / 10u % 10u), (char)('0' + l % 10u), 0, 0};
            pmu_acc_print("layer", l < 10u ? nm + 1 : nm, &g_layer_acc[l]);
        }
        pmu_mark_print_end(&mk[3]);
    }
    return 0;
}
