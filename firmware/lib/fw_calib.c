/* ADC calibration flow: see fw_calib.h and docs/calibration.md. C11, freestanding. */
#include "lib/fw_calib.h"

#include <stddef.h>
#include <stdint.h>

#include "cimvp/regs.h"
#include "drivers/progctl.h"
#include "hal/hal.h"
#include "lib/fw_console.h"
#include "lib/fw_soc.h"
#include "lib/lloyd_max.h"

#define CAL_MAX_TILES 65536u /* the platform's tile limit */
#define CAL_SCRATCH_BYTES 8192u /* progctl target table (512 x 8 B) at the top of SRAM */

/* CPU cycles charged for the firmware's own computation (assumption: simple in-order core,
 * a few instructions per element; same spirit as infer.c's CYC_* constants). */
#define CYC_PER_SAMPLE_COPY 2u
#define CYC_PER_SAMPLE_SORT 16u   /* 4 radix passes, histogram + scatter */
#define CYC_PER_LEVEL_ITER 40u    /* one Lloyd step per level: two binary searches + sums */
#define CYC_PER_DECODE_CELL 3u    /* Q-cell decoder emulation, per sample per window */

/* Local working memory: one group's samples and the Lloyd-Max work buffer. */
static float g_x[FW_CALIB_MAX_SAMPLES];
static uint8_t g_work[48u * FW_CALIB_MAX_SAMPLES + (1u << 16)] __attribute__((aligned(64)));
static float g_thr[LM_MAX_LEVELS], g_lev[LM_MAX_LEVELS], g_edges[2 * LM_MAX_LEVELS];
static uint32_t g_slot_addr[CAL_MAX_TILES], g_slot_cap[CAL_MAX_TILES], g_decim[CAL_MAX_TILES];
static uint32_t g_seen0[CAL_MAX_TILES];
static progctl_entry_t g_table[2 * LM_MAX_LEVELS];

static float g_xc[FW_CALIB_MAX_SAMPLES]; /* range-clipped copy the quantiser is designed on */
static float g_tl[LM_MAX_LEVELS], g_tt[LM_MAX_LEVELS]; /* zero-pinned: trial levels / thresholds */
static uint32_t g_strategy = FW_CALIB_STRATEGY_DEFAULT;

void fw_calib_set_strategy(uint32_t flags) { g_strategy = flags; }
uint32_t fw_calib_strategy(void) { return g_strategy; }

/* First index i in [a, b) with xs[i] >= v (xs ascending), b if none. */
static uint32_t lower_bound_f(const float *xs, uint32_t a, uint32_t b, float v)
{
    while (a < b) {
        const uint32_t m = a + (b - a) / 2u;
        if (xs[m] < v) a = m + 1u;
        else b = m;
    }
    return a;
}

/* Plain Lloyd-Max of k levels on sorted xs[a, b) with prefix sums ps/pq (of x, x^2); writes
 * lev[k] (ascending) and thr[k-1]; returns the sum of squared errors. */
static double lloyd_run(const float *xs, const double *ps, const double *pq, uint32_t a, uint32_t b, uint32_t k,
                        float *lev, float *thr, uint32_t *iters, uint32_t max_iter)
{
    double sse = 0.0;
    for (uint32_t it = 0; it < max_iter; it++) {
        for (uint32_t j = 1; j < k; j++) /* strictly ascending (quantile starts repeat on integer data) */
            if (!(lev[j] > lev[j - 1])) lev[j] = lev[j - 1] + 1e-3f * (1.0f + (lev[j - 1] < 0 ? -lev[j - 1] : lev[j - 1]));
        for (uint32_t j = 0; j + 1 < k; j++) thr[j] = 0.5f * (lev[j] + lev[j + 1]);
        int changed = 0;
        double e = 0.0;
        uint32_t lo = a;
        for (uint32_t j = 0; j < k; j++) {
            const uint32_t hi = j + 1 < k ? lower_bound_f(xs, lo, b, thr[j]) : b;
            const double c = (double)(hi - lo), s1 = ps[hi] - ps[lo], s2 = pq[hi] - pq[lo];
            if (c > 0) {
                const float nl = (float)(s1 / c);
                if (nl != lev[j]) changed = 1;
                lev[j] = nl;
                e += s2 - s1 * s1 / c;
            }
            lo = hi;
        }
        sse = e;
        if (iters) (*iters)++;
        if (!changed) break;
    }
    for (uint32_t j = 1; j < k; j++)
        if (!(lev[j] > lev[j - 1])) lev[j] = lev[j - 1] + 1e-3f * (1.0f + (lev[j - 1] < 0 ? -lev[j - 1] : lev[j - 1]));
    for (uint32_t j = 0; j + 1 < k; j++) thr[j] = 0.5f * (lev[j] + lev[j + 1]);
    return sse;
}

/* Two starts, best kept: levels evenly spaced over the side's span (robust on spiky,
 * integer-valued data where quantiles repeat) and at the (j + 1/2)/k quantiles. */
static double lloyd_side(const float *xs, const double *ps, const double *pq, uint32_t a, uint32_t b, uint32_t k,
                         float *lev, float *thr, uint32_t *iters)
{
    float l2[LM_MAX_LEVELS], t2[LM_MAX_LEVELS];
    const uint32_t m = b - a;
    const float x0 = xs[a], x1 = xs[b - 1u];
    for (uint32_t j = 0; j < k; j++) lev[j] = x0 + (x1 - x0) * ((float)j + 0.5f) / (float)k;
    double e1 = lloyd_run(xs, ps, pq, a, b, k, lev, thr, iters, 300u);
    for (uint32_t j = 0; j < k; j++) l2[j] = xs[a + (uint32_t)(((uint64_t)(2u * j + 1u) * m) / (2u * k))];
    double e2 = lloyd_run(xs, ps, pq, a, b, k, l2, t2, iters, 300u);
    if (e2 < e1) {
        for (uint32_t j = 0; j < k; j++) lev[j] = l2[j];
        for (uint32_t j = 0; j + 1 < k; j++) thr[j] = t2[j];
        e1 = e2;
    }
    /* Splitting start (LBG): grow from one level, splitting the cell with the largest SSE at
     * its centroid; finds the few heavy integer values of spiky data that Lloyd from evenly
     * spaced or quantile starts straddles. */
    uint32_t c = 1;
    l2[0] = (float)((ps[b] - ps[a]) / (double)m);
    while (c < k) {
        uint32_t worst = 0, lo = a, wlo = a, whi = b;
        double wsse = -1.0;
        for (uint32_t j = 0; j < c; j++) {
            const uint32_t hi = j + 1 < c ? lower_bound_f(xs, lo, b, 0.5f * (l2[j] + l2[j + 1])) : b;
            const double cn = (double)(hi - lo), s1 = ps[hi] - ps[lo];
            const double e = cn > 0 ? (pq[hi] - pq[lo]) - s1 * s1 / cn : 0.0;
            if (e > wsse) { wsse = e; worst = j; wlo = lo; whi = hi; }
            lo = hi;
        }
        const uint32_t mid = lower_bound_f(xs, wlo, whi, l2[worst]);
        float la = l2[worst], lb = l2[worst];
        if (mid > wlo) la = (float)((ps[mid] - ps[wlo]) / (double)(mid - wlo));
        if (whi > mid) lb = (float)((ps[whi] - ps[mid]) / (double)(whi - mid));
        for (uint32_t j = c; j > worst + 1u; j--) l2[j] = l2[j - 1u];
        l2[worst] = la;
        l2[worst + 1u] = lb;
        c++;
        lloyd_run(xs, ps, pq, a, b, c, l2, t2, iters, c == k ? 300u : 10u);
    }
    e2 = lloyd_run(xs, ps, pq, a, b, k, l2, t2, iters, 1u);
    if (e2 < e1) {
        for (uint32_t j = 0; j < k; j++) lev[j] = l2[j];
        for (uint32_t j = 0; j + 1 < k; j++) thr[j] = t2[j];
        e1 = e2;
    }
    return e1;
}

double fw_calib_zero_pinned(const float *xs, uint32_t n, uint32_t L, float w, void *work, float *thresholds,
                            float *levels, uint32_t *iterations)
{
    if (L < 3u || L > LM_MAX_LEVELS || n == 0 || !(w > 0)) return -1.0;
    double *ps = (double *)work, *pq = ps + n + 1u;
    ps[0] = pq[0] = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        ps[i + 1] = ps[i] + xs[i];
        pq[i + 1] = pq[i] + (double)xs[i] * xs[i];
    }
    const uint32_t in = lower_bound_f(xs, 0, n, -w), ip = lower_bound_f(xs, in, n, w);
    if (in == 0 || ip == n) return -1.0;
    const double zero_sse = pq[ip] - pq[in]; /* level exactly 0 */
    /* Levels per side: proportional to the samples there, then +-4 searched by least SSE. */
    uint32_t ln0 = (uint32_t)(((uint64_t)(L - 1u) * in + (n - ip + in) / 2u) / (n - ip + in));
    if (ln0 < 1u) ln0 = 1u;
    if (ln0 > L - 2u) ln0 = L - 2u;
    double best = -1.0;
    uint32_t iters = 0;
    for (uint32_t ln = ln0 > 5u ? ln0 - 4u : 1u; ln <= ln0 + 4u && ln <= L - 2u; ln++) {
        const uint32_t lp = L - 1u - ln;
        double e = zero_sse;
        e += lloyd_side(xs, ps, pq, 0, in, ln, g_tl, g_tt, &iters);
        e += lloyd_side(xs, ps, pq, ip, n, lp, g_tl + ln + 1u, g_tt + ln + 1u, &iters);
        if (best >= 0 && e >= best) continue;
        best = e;
        for (uint32_t j = 0; j < ln; j++) levels[j] = g_tl[j];
        levels[ln] = 0.0f;
        for (uint32_t j = 0; j < lp; j++) levels[ln + 1u + j] = g_tl[ln + 1u + j];
        for (uint32_t j = 0; j + 1 < ln; j++) thresholds[j] = g_tt[j];
        thresholds[ln - 1u] = -w;
        thresholds[ln] = w;
        for (uint32_t j = 0; j + 1 < lp; j++) thresholds[ln + 1u + j] = g_tt[ln + 1u + j];
    }
    if (iterations) *iterations = iters;
    return best / (double)n;
}

/* Mid-tread uniform quantiser of full scale a (the bank's SAR/flash, models/adc UniformAdc
 * MidTread): levels k a/2^(b-1), k = -2^(b-1)..2^(b-1)-1. */
static void midtread(float a, uint32_t L, float *thr, float *lev)
{
    const float lsb = a / (float)(L / 2u);
    for (uint32_t k = 0; k < L; k++) lev[k] = ((float)k - (float)(L / 2u)) * lsb;
    for (uint32_t k = 0; k + 1 < L; k++) thr[k] = lev[k] + 0.5f * lsb;
}

static uint32_t f2u(float f)
{
    union { float f; uint32_t u; } v;
    v.f = f;
    return v.u;
}
static float u2f(uint32_t u)
{
    union { float f; uint32_t u; } v;
    v.u = u;
    return v.f;
}

double fw_calib_qcell_mse(const float *x, uint32_t n, const float *edges, const float *levels, uint32_t n_levels)
{
    if (n == 0 || n_levels == 0) return 0.0;
    double se = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        const float v = x[i];
        uint32_t code = n_levels, near = 0;
        float best = 0.0f;
        for (uint32_t k = 0; k < n_levels; k++) {
            const float lo = edges[2 * k], hi = edges[2 * k + 1];
            if (v >= lo && v < hi) {
                code = k; /* lowest matching window wins (overlap policy Lower) */
                break;
            }
            const float d = v < lo ? lo - v : v - hi;
            if (k == 0 || d < best) { /* strict: a tie keeps the lower window */
                best = d;
                near = k;
            }
        }
        if (code == n_levels) code = near;
        const double e = (double)levels[code] - (double)v;
        se += e * e;
    }
    hal_cpu_cycles(CYC_PER_DECODE_CELL * n * n_levels);
    return se / (double)n;
}

static void tiles_of_layer(const cimnet_layer_t *L, uint32_t *first, uint32_t *count)
{
    *first = L->first_tile;
    *count = L->row_blocks * L->col_blocks;
}

/* Reads group tiles [t0, t0+nt) captured samples into g_x (compacted); returns the count. */
static uint32_t gather(const fw_calib_args_t *a, uint32_t t0, uint32_t nt)
{
    uint32_t n = 0;
    for (uint32_t t = t0; t < t0 + nt; t++) {
        uint32_t c = hal_read32(a->tiles[t].base + ADC_CAP_COUNT);
        if (c > g_slot_cap[t]) c = g_slot_cap[t];
        if (c > FW_CALIB_MAX_SAMPLES - n) c = FW_CALIB_MAX_SAMPLES - n;
        if (c) hal_read_block(g_slot_addr[t], g_x + n, 4u * c);
        n += c;
    }
    hal_cpu_cycles(CYC_PER_SAMPLE_COPY * n);
    return n;
}

/* Nominal edges of a design: lo_0 = range lo, hi_{L-1} = range hi, hi_k = lo_{k+1} = t_k. */
static void nominal_edges(const float *thr, uint32_t L, float lo, float hi, float *edges)
{
    for (uint32_t k = 0; k < L; k++) {
        edges[2 * k] = k == 0 ? lo : thr[k - 1];
        edges[2 * k + 1] = k == L - 1 ? hi : thr[k];
    }
}

/* Write-verify of one ADC copy's 2L Q-cell devices to the nominal edges' conductances
 * (linear edge <-> conductance map of [lo, hi] onto [GMIN, GMAX], docs/adc.md). */
static int program_copy(const progctl_t *pc, const tile_t *t, uint32_t kind, const float *edges, uint32_t L,
                        float lo, float hi, uint32_t scratch, progctl_result_t *res)
{
    const float gmin = u2f(hal_read32(t->base + ADC_GMIN)), gmax = u2f(hal_read32(t->base + ADC_GMAX));
    for (uint32_t d = 0; d < 2 * L; d++) {
        float g = gmin + (edges[d] - lo) / (hi - lo) * (gmax - gmin);
        if (g < gmin) g = gmin;
        if (g > gmax) g = gmax;
        g_table[d].cell = d;
        g_table[d].target_f = f2u(g);
    }
    hal_write_block(scratch, g_table, 8u * 2u * L);
    *res = progctl_program(pc, PROG_DEST_VALUE(t->index, kind), scratch, 2u * L, 0, 0, 0);
    return res->error ? -1 : 0;
}

int fw_calib_run(const fw_calib_args_t *a)
{
    const cimnet_job_t *job = a->job;
    const cimnet_header_t *h = a->hdr;
    const uint32_t result_addr = a->hostmem_base + job->calib_result_off;
    const int per_array = (job->calib_flags & CIMNET_CAL_F_GROUP_ARRAY) != 0;
    const int write_verify = (job->calib_flags & CIMNET_CAL_F_WRITE_VERIFY) != 0;
    const uint32_t mode = job->calib_mode;
    if (h->n_tiles > CAL_MAX_TILES || mode > ADC_MODE_QCELL_SR || mode == ADC_MODE_IDEAL) {
        fw_printf("calib: bad request (mode %u, %u tiles; mode must be sar, flash, qcell or qcell_sr)\n", mode,
                  h->n_tiles);
        return CIMNET_EXIT_CALIB;
    }
    progctl_t pc;
    const int is_qcell = mode == ADC_MODE_QCELL || mode == ADC_MODE_QCELL_SR;
    if (write_verify && is_qcell && progctl_open(&pc) != 0) {
        fw_printf("calib: write-verify asked for but the chip has no programming controller "
                  "(add a progctl entry to memory_map or set calibration.program: direct)\n");
        return CIMNET_EXIT_CALIB;
    }
    fw_phase_begin(FW_PHASE_CALIBRATE, job->calib_count);
    const uint64_t t_start = fw_time_ns();

    /* Capture buffers: SRAM above the network's batch buffers, below a scratch page. */
    const uint32_t n_groups = per_array ? h->n_tiles : h->n_layers;
    const uint32_t free_lo = (h->sram_bytes + 63u) & ~63u;
    if (a->sram_size < free_lo + CAL_SCRATCH_BYTES + 4096u) {
        fw_printf("calib: no SRAM left for capture buffers (network uses %u of %u bytes)\n", h->sram_bytes,
                  a->sram_size);
        return CIMNET_EXIT_CALIB;
    }
    const uint32_t scratch = a->sram_base + a->sram_size - CAL_SCRATCH_BYTES;
    uint32_t cap = job->calib_samples ? job->calib_samples : 65536u;
    if (cap > FW_CALIB_MAX_SAMPLES) cap = FW_CALIB_MAX_SAMPLES;
    const uint32_t fit = (a->sram_size - free_lo - CAL_SCRATCH_BYTES) / 4u / n_groups;
    if (cap > fit) {
        fw_printf("calib: %u samples per group do not fit the free SRAM; using %u\n", cap, fit);
        cap = fit;
    }
    uint32_t at = a->sram_base + free_lo;
    for (uint32_t l = 0; l < h->n_layers; l++) {
        uint32_t t0, nt;
        tiles_of_layer(&a->layers[l], &t0, &nt);
        for (uint32_t t = t0; t < t0 + nt; t++) {
            g_slot_cap[t] = per_array ? cap : cap / nt;
            g_slot_addr[t] = at;
            at += 4u * g_slot_cap[t];
        }
    }

    /* Capture runs with ideal converters, so every layer sees the unquantised signals of
     * the layers before it and one pass serves all layers (docs/calibration.md). */
    for (uint32_t t = 0; t < h->n_tiles; t++) {
        const uint32_t b = a->tiles[t].base;
        hal_write32(b + ADC_MODE, ADC_MODE_IDEAL);
        hal_write32(b + ADC_APPLY, 1u);
        hal_write32(b + ADC_CAP_ADDR, g_slot_addr[t]);
        hal_write32(b + ADC_CAP_MAX, 0u); /* probe: count signals, keep none */
        hal_write32(b + ADC_CAP_DECIM, 1u);
        /* Restart the buffer: a second calibration in the same run overwrites the first. */
        hal_write32(b + ADC_CAP_CTRL, ADC_CAP_CTRL_ENABLE | ADC_CAP_CTRL_RESET);
        g_seen0[t] = hal_read32(b + ADC_CAP_SEEN);
    }
    /* Probe with the first image: samples per image per tile give the decimation. */
    int rc = a->run(a->run_ctx, job->calib_input_off, 0, 1);
    if (rc) return rc;
    for (uint32_t t = 0; t < h->n_tiles; t++) {
        const uint32_t b = a->tiles[t].base;
        const uint64_t per_img = (uint64_t)(hal_read32(b + ADC_CAP_SEEN) - g_seen0[t]);
        /* 25 % margin: images differ in how many digit passes are all zero (skipped). */
        const uint64_t want = per_img * job->calib_count + per_img * job->calib_count / 4u;
        uint64_t d = g_slot_cap[t] ? (want + g_slot_cap[t] - 1u) / g_slot_cap[t] : 1u;
        if (d < 1u) d = 1u;
        if (d > 0xFFFFFFFFu) d = 0xFFFFFFFFu;
        g_decim[t] = (uint32_t)d;
        hal_write32(b + ADC_CAP_DECIM, g_decim[t]);
        hal_write32(b + ADC_CAP_MAX, g_slot_cap[t]);
    }
    rc = a->run(a->run_ctx, job->calib_input_off, 0, job->calib_count);
    if (rc) return rc;
    for (uint32_t t = 0; t < h->n_tiles; t++) hal_write32(a->tiles[t].base + ADC_CAP_CTRL, 0u);

    cimnet_calib_header_t ch;
    for (uint32_t i = 0; i < sizeof ch / 4u; i++) ((uint32_t *)&ch)[i] = 0;
    ch.n_results = n_groups;
    ch.result_bytes = sizeof(cimnet_calib_result_t);
    ch.capacity = cap;
    int failed = 0;

    fw_printf("calib: %u images, %u groups (%s), mode %u, %s\n", job->calib_count, n_groups,
              per_array ? "per array" : "per layer", mode, write_verify ? "write-verify" : "direct");
    fw_printf("calib: group layer tiles samples decim  mse_uniform  mse_lloyd_max  mse_achieved\n");
    for (uint32_t g = 0; g < n_groups; g++) {
        uint32_t layer, t0, nt;
        if (per_array) {
            t0 = g;
            nt = 1;
            layer = 0;
            for (uint32_t l = 0; l < h->n_layers; l++)
                if (g >= a->layers[l].first_tile && g < a->layers[l].first_tile + a->layers[l].row_blocks * a->layers[l].col_blocks)
                    layer = l;
        } else {
            layer = g;
            tiles_of_layer(&a->layers[g], &t0, &nt);
        }
        cimnet_calib_result_t r;
        for (uint32_t i = 0; i < sizeof r / 4u; i++) ((uint32_t *)&r)[i] = 0;
        r.layer = layer;
        r.tile = t0;
        r.tiles = nt;
        r.mode = mode;
        r.decim = g_decim[t0];
        const uint32_t bits = hal_read32(a->tiles[t0].base + ADC_BITS);
        const uint32_t L = 1u << bits;
        r.bits = bits;
        const uint32_t n = gather(a, t0, nt);
        r.samples = n;
        float lo = 0.0f, hi = 0.0f;
        for (uint32_t i = 0; i < n; i++) {
            if (i == 0 || g_x[i] < lo) lo = g_x[i];
            if (i == 0 || g_x[i] > hi) hi = g_x[i];
        }
        hal_cpu_cycles(2u * n);
        r.range_lo = lo;
        r.range_hi = hi;
        if (n == 0 || !(hi > lo)) {
            /* Nothing to design from: design range, evenly spaced (the bank's default). */
            r.flags |= CIMNET_CAL_R_NO_SAMPLES;
            fw_printf("calib: layer %u tile %u: %s; converters keep the design range\n", layer, t0,
                      n == 0 ? "no samples captured" : "all samples equal");
            for (uint32_t t = t0; t < t0 + nt; t++) {
                hal_write32(a->tiles[t].base + ADC_RANGE_LO, f2u(0.0f));
                hal_write32(a->tiles[t].base + ADC_RANGE_HI, f2u(0.0f));
                hal_write32(a->tiles[t].base + ADC_THRESH(0), f2u(1.0f)); /* invalid design -> uniform */
                hal_write32(a->tiles[t].base + ADC_THRESH(1), f2u(0.0f));
                hal_write32(a->tiles[t].base + ADC_MODE, mode);
                hal_write32(a->tiles[t].base + ADC_APPLY, 1u);
            }
            hal_write_block(result_addr + sizeof ch + g * sizeof r, &r, sizeof r);
            continue;
        }
        const double mse_u = lm_uniform_mse(g_x, NULL, n, bits);
        r.mse_uniform = (float)mse_u;
        const uint32_t strat = g_strategy;
        /* Sorted once: percentiles, the zero spike and the zero-pinned design read it. */
        lm_sort_f32(g_x, NULL, n, (float *)(void *)g_work, NULL);
        hal_cpu_cycles(CYC_PER_SAMPLE_SORT * n);
        float dlo = lo, dhi = hi; /* design range */
        if (strat & FW_CALIB_S_CLIP) {
            /* Long tails: 0.05 % per side clipped (the ADC saturates there) shrinks the range
             * the levels span and, on the direct path, the edge error (a fraction of it). */
            const uint32_t c = n / 2000u;
            if (g_x[n - 1u - c] > g_x[c]) {
                dlo = g_x[c];
                dhi = g_x[n - 1u - c];
            }
        }
        for (uint32_t i = 0; i < n; i++) g_xc[i] = g_x[i] < dlo ? dlo : g_x[i] > dhi ? dhi : g_x[i];
        /* Expected edge error (digits) the variation-aware design plans for. */
        float sigma_e = 0.0f;
        if (is_qcell && (strat & FW_CALIB_S_VAR_AWARE)) {
            const uint32_t b0 = a->tiles[t0].base;
            if (write_verify) {
                const float gmin = u2f(hal_read32(b0 + ADC_GMIN)), gmax = u2f(hal_read32(b0 + ADC_GMAX));
                if (gmax > gmin) sigma_e = FW_CALIB_WV_SIGMA_US / (gmax - gmin) * (dhi - dlo);
            } else {
                sigma_e = u2f(hal_read32(b0 + ADC_EDGE_SIGMA)) * (dhi - dlo);
            }
            if (!(sigma_e >= 0.0f)) sigma_e = 0.0f;
        }
        const uint32_t zeros = lower_bound_f(g_x, 0, n, 0.5f) - lower_bound_f(g_x, 0, n, -0.5f);
        int pinned = 0;
        float w = 0.0f;
        if (n < CIMNET_CAL_MIN_PER_LEVEL * L) {
            /* Too few samples to place 2^bits levels: uniform thresholds over [min, max]. */
            r.flags |= CIMNET_CAL_R_FEW_SAMPLES;
            fw_printf("calib: layer %u tile %u: only %u samples for %u bits (need >= %u): uniform thresholds over "
                      "[min, max] instead of Lloyd-Max (fallback)\n",
                      layer, t0, n, bits, CIMNET_CAL_MIN_PER_LEVEL * L);
            dlo = lo;
            dhi = hi;
            const float step = (hi - lo) / (float)L;
            for (uint32_t k = 0; k < L; k++) g_lev[k] = lo + step * ((float)k + 0.5f);
            for (uint32_t k = 0; k + 1 < L; k++) g_thr[k] = lo + step * (float)(k + 1);
        } else {
            if ((strat & FW_CALIB_S_ZERO_PIN) && (uint64_t)zeros * L >= n && L >= 4u) {
                /* The zero spike gets its own level, exactly 0, in a window wide enough that
                 * its edges' expected error (2 sigma) rarely moves a zero off it. */
                w = 0.5f + 2.0f * sigma_e;
                uint32_t it = 0;
                if (w < 0.5f * (dhi - dlo) && fw_calib_zero_pinned(g_xc, n, L, w, g_work, g_thr, g_lev, &it) >= 0.0)
                    pinned = 1;
                hal_cpu_cycles(4u * n + CYC_PER_LEVEL_ITER * L * it);
            }
            if (!pinned) {
                lm_options opt;
                lm_default_options(&opt);
                opt.seed = 0x5EEDull + g; /* k-means++ starts; deterministic per group */
                opt.edge_sigma = sigma_e;
                lm_result lr;
                const int e = lm_design(g_xc, NULL, n, bits, &opt, g_work, sizeof g_work, g_thr, g_lev, &lr);
                if (e != LM_OK) {
                    fw_printf("calib: layer %u: Lloyd-Max failed (code %d)\n", layer, e);
                    return CIMNET_EXIT_CALIB;
                }
                r.lm_iterations = lr.iterations;
                hal_cpu_cycles(CYC_PER_LEVEL_ITER * L * (lr.iterations + 1u) * 3u);
            }
        }
        r.mse_lloyd_max = (float)lm_eval_mse(g_x, NULL, n, g_thr, g_lev, L);
        /* The Q-cell range (outer edges) must hold every threshold. */
        if (g_thr[0] < dlo) dlo = g_thr[0];
        if (g_thr[L - 2u] > dhi) dhi = g_thr[L - 2u];
        lo = dlo;
        hi = dhi;
        if (!is_qcell) {
            /* The SAR/flash baseline (mid-tread, 0 is a level): full scale A from the same data,
             * the |x| percentile with the least MSE (A = max |x| without FW_CALIB_S_SAR_RANGE). */
            const float amax = (r.range_lo < 0 ? -r.range_lo : r.range_lo) > r.range_hi
                                   ? (r.range_lo < 0 ? -r.range_lo : r.range_lo) : r.range_hi;
            static const uint32_t per_10k[] = {0u, 1u, 5u, 10u, 50u, 100u, 300u};
            float best_a = amax;
            double best = -1.0;
            for (uint32_t c = 0; c < sizeof per_10k / sizeof per_10k[0]; c++) {
                if (c > 0 && !(strat & FW_CALIB_S_SAR_RANGE)) break;
                const uint32_t k = (uint32_t)((uint64_t)n * per_10k[c] / 20000u); /* per side */
                const float xl = g_x[k] < 0 ? -g_x[k] : g_x[k], xh = g_x[n - 1u - k] < 0 ? -g_x[n - 1u - k] : g_x[n - 1u - k];
                const float av = xl > xh ? xl : xh;
                if (!(av > 0.0f)) continue;
                midtread(av, L, g_tt, g_tl);
                const double m = lm_eval_mse(g_x, NULL, n, g_tt, g_tl, L);
                if (best < 0 || m < best) {
                    best = m;
                    best_a = av;
                }
            }
            if (!(best_a > 0.0f)) best_a = 1.0f;
            midtread(best_a, L, g_tt, g_tl);
            const double m = lm_eval_mse(g_x, NULL, n, g_tt, g_tl, L);
            for (uint32_t t = t0; t < t0 + nt; t++) {
                const uint32_t b = a->tiles[t].base;
                hal_write32(b + ADC_RANGE_LO, f2u(-best_a));
                hal_write32(b + ADC_RANGE_HI, f2u(best_a));
                hal_write32(b + ADC_MODE, mode);
                hal_write32(b + ADC_APPLY, 1u);
            }
            r.mse_achieved = (float)m;
            fw_printf("calib: %5u %5u %5u %7u %5u %12.4f %14.4f %13.4f  (mid-tread, full scale %.1f)\n", g, layer, nt,
                      n, r.decim, mse_u, (double)r.mse_lloyd_max, m, (double)best_a);
            hal_write_block(result_addr + sizeof ch + g * sizeof r, &r, sizeof r);
            continue;
        }
        /* The SAR/flash baseline: range from the same data; its "Lloyd-Max" column is what
         * a Q-cell design would reach, its achieved MSE the uniform one. */
        nominal_edges(g_thr, L, lo, hi, g_edges);
        double ach = 0.0, max_err = 0.0;
        for (uint32_t t = t0; t < t0 + nt; t++) {
            const uint32_t b = a->tiles[t].base;
            hal_write32(b + ADC_RANGE_LO, f2u(lo));
            hal_write32(b + ADC_RANGE_HI, f2u(hi));
            for (uint32_t k = 0; k + 1 < L; k++) hal_write32(b + ADC_THRESH(k), f2u(g_thr[k]));
            for (uint32_t k = 0; k < L; k++) hal_write32(b + ADC_LEVEL(k), f2u(g_lev[k]));
            hal_write32(b + ADC_MODE, mode);
            hal_write32(b + ADC_APPLY, 1u);
            if (write_verify) {
                const uint32_t copies = mode == ADC_MODE_QCELL_SR ? hal_read32(b + ADC_SR_COPIES) : 1u;
                for (uint32_t c = 0; c < copies && c < 2u; c++) {
                    progctl_result_t pr;
                    if (program_copy(&pc, &a->tiles[t], c ? PROG_DEST_ADC_SR : PROG_DEST_ADC, g_edges, L, lo, hi,
                                     scratch, &pr) != 0) {
                        fw_printf("calib: layer %u tile %u: programming controller error %u\n", layer, t, pr.error);
                        r.flags |= CIMNET_CAL_R_PROG_FAIL;
                        failed = 1;
                    }
                    if (pr.failures) r.flags |= CIMNET_CAL_R_PROG_FAIL;
                    ch.prog_failures += pr.failures;
                    ch.prog_pulses = (uint32_t)pr.pulses;
                }
            }
            /* Achieved edges read back (first copy of an SR group). */
            float e[2 * LM_MAX_LEVELS];
            for (uint32_t d = 0; d < 2 * L; d++) {
                e[d] = u2f(hal_read32(b + ADC_EDGE(d)));
                const double err = e[d] > g_edges[d] ? e[d] - g_edges[d] : g_edges[d] - e[d];
                if (err > max_err) max_err = err;
            }
            ach += fw_calib_qcell_mse(g_x, n, e, g_lev, L);
        }
        r.mse_achieved = (float)(ach / (double)nt);
        r.max_edge_err = (float)max_err;
        fw_printf("calib: %5u %5u %5u %7u %5u %12.4f %14.4f %13.4f%s", g, layer, nt, n, r.decim, mse_u,
                  (double)r.mse_lloyd_max, (double)r.mse_achieved,
                  (r.flags & CIMNET_CAL_R_FEW_SAMPLES) ? "  (uniform fallback)" : "");
        fw_printf("  (zeros %u.%u %%)", (uint32_t)((uint64_t)zeros * 100u / n), (uint32_t)((uint64_t)zeros * 1000u / n % 10u));
        if (pinned) fw_printf("  (zero pinned, window +-%.2f)", (double)w);
        if (sigma_e > 0.0f) fw_printf("  (edge sigma %.2f)", (double)sigma_e);
        fw_printf("\n");
        hal_write_block(result_addr + sizeof ch + g * sizeof r, &r, sizeof r);
    }
    const uint64_t dt = fw_time_ns() - t_start;
    ch.time_ns_lo = (uint32_t)dt;
    ch.time_ns_hi = (uint32_t)(dt >> 32);
    ch.magic = CIMNET_CAL_MAGIC;
    hal_write_block(result_addr, &ch, sizeof ch);
    fw_printf("calib: done in %u us of simulated time\n", (uint32_t)(dt / 1000u));
    fw_phase_end(FW_PHASE_CALIBRATE);
    return failed ? CIMNET_EXIT_CALIB : 0;
}
