/* ADC calibration flow: see fw_calib.h and docs/calibration.md. C11, freestanding. */
#include "lib/fw_calib.h"

#include <stddef.h>
#include <stdint.h>

#include "cimvp/regs.h"
#include "drivers/pmu.h"
#include "drivers/progctl.h"
#include "hal/hal.h"
#include "lib/fw_console.h"
#include "lib/fw_soc.h"
#include "lib/lloyd_max.h"

#define CAL_MAX_TILES 65536u /* the platform's tile limit */
#define CAL_MAX_SLOTS 65536u  /* capture slots: tiles x threshold sets */
#define CAL_MAX_COPIES 8u     /* ADCs per super-resolution group (models/adc QCellSrAdc: 2..8) */
#define CAL_SCRATCH_BYTES 8192u /* progctl target table (512 x 8 B) at the top of SRAM */

/* CPU cycles charged for the firmware's own computation (assumption: simple in-order core,
 * a few instructions per element; same spirit as infer.c's CYC_* constants). */
#define CYC_PER_SAMPLE_COPY 2u
#define CYC_PER_SAMPLE_SORT 16u   /* 4 radix passes, histogram + scatter */
#define CYC_PER_LEVEL_ITER 40u    /* one Lloyd step per level: two binary searches + sums */
#define CYC_PER_DECODE_CELL 3u    /* Q-cell decoder emulation, per sample per window */

/* Local working memory of the host CPU (docs/calibration.md "Memory"): one group's samples,
 * its clipped copy and the Lloyd-Max work buffer, ~28 MiB at FW_CALIB_MAX_SAMPLES = 2^19
 * (56 bytes per sample); not on the bus, not modelled as chip SRAM. */
static float g_x[FW_CALIB_MAX_SAMPLES];
static uint8_t g_work[48u * FW_CALIB_MAX_SAMPLES + (1u << 16)] __attribute__((aligned(64)));
static float g_thr[LM_MAX_LEVELS], g_lev[LM_MAX_LEVELS], g_edges[2 * LM_MAX_LEVELS];
static float g_ach[CAL_MAX_COPIES][2 * LM_MAX_LEVELS]; /* achieved edges read back, per ADC copy */
static float g_ach0[CAL_MAX_COPIES][2 * LM_MAX_LEVELS]; /* the same, of a group's first tile */
/* Per tile: capture slot (address, samples per set), decimation, sets captured, first slot. */
static uint32_t g_slot_addr[CAL_MAX_TILES], g_slot_cap[CAL_MAX_TILES], g_decim[CAL_MAX_TILES];
static uint32_t g_tile_sets[CAL_MAX_TILES], g_tile_slot0[CAL_MAX_TILES];
static uint32_t g_seen0[CAL_MAX_SLOTS], g_per_img[CAL_MAX_SLOTS];
/* Groups: layer, first tile, tiles, threshold set. */
static uint32_t g_grp_layer[CAL_MAX_SLOTS], g_grp_t0[CAL_MAX_SLOTS], g_grp_nt[CAL_MAX_SLOTS], g_grp_set[CAL_MAX_SLOTS];
static progctl_entry_t g_table[2 * LM_MAX_LEVELS];

static float g_xc[FW_CALIB_MAX_SAMPLES]; /* range-clipped copy the quantiser is designed on */
static float g_tl[LM_MAX_LEVELS], g_tt[LM_MAX_LEVELS]; /* zero-pinned: trial levels / thresholds */
static uint32_t g_strategy = FW_CALIB_STRATEGY_DEFAULT;

void fw_calib_set_strategy(uint32_t flags) { g_strategy = flags; }
static uint32_t g_decode_budget = FW_CALIB_DECODE_SAMPLES;
void fw_calib_set_decode_budget(uint32_t samples) { g_decode_budget = samples ? samples : FW_CALIB_DECODE_SAMPLES; }
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

/* Min-max uniform quantiser (models/adc UniformAdc MinMax, ADC_SHAPE_MIN_MAX): levels
 * lo + k (hi - lo)/(L - 1), thresholds at the midpoints (= lm_uniform_mse's nearest level). */
static void minmax(float lo, float hi, uint32_t L, float *thr, float *lev)
{
    const float step = (hi - lo) / (float)(L - 1u);
    for (uint32_t k = 0; k < L; k++) lev[k] = lo + (float)k * step;
    for (uint32_t k = 0; k + 1 < L; k++) thr[k] = lev[k] + 0.5f * step;
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

/* Q-cell decoder as built (models/adc QCellAdc, docs/adc.md): cell k's window is
 * [edges[2k], edges[2k+1]); the lowest matching window wins; no match -> nearest window (tie ->
 * lower). */
static uint32_t qcell_code(float v, const float *edges, uint32_t n_levels)
{
    uint32_t near = 0;
    float best = 0.0f;
    for (uint32_t k = 0; k < n_levels; k++) {
        const float lo = edges[2 * k], hi = edges[2 * k + 1];
        if (v >= lo && v < hi) return k; /* lowest matching window wins (overlap policy Lower) */
        const float d = v < lo ? lo - v : v - hi;
        if (k == 0 || d < best) { /* strict: a tie keeps the lower window */
            best = d;
            near = k;
        }
    }
    return near;
}

/* Error statistics of a converter on samples: mean squared, mean signed, mean signed over |x| < 0.5. */
typedef struct {
    double se, e, ez;
    uint32_t n, nz;
} err_acc_t;
static void err_add(err_acc_t *a, double out, float x)
{
    const double e = out - (double)x;
    a->se += e * e;
    a->e += e;
    a->n++;
    if (x > -0.5f && x < 0.5f) {
        a->ez += e;
        a->nz++;
    }
}
static double err_mse(const err_acc_t *a) { return a->n ? a->se / (double)a->n : 0.0; }
static double err_bias(const err_acc_t *a) { return a->n ? a->e / (double)a->n : 0.0; }
static double err_zero_bias(const err_acc_t *a) { return a->nz ? a->ez / (double)a->nz : 0.0; }

static void qcell_err(const float *x, uint32_t n, const float *edges, const float *levels, uint32_t n_levels,
                      err_acc_t *a)
{
    for (uint32_t i = 0; i < n; i++) err_add(a, (double)levels[qcell_code(x[i], edges, n_levels)], x[i]);
    hal_cpu_cycles(CYC_PER_DECODE_CELL * n * n_levels);
}

double fw_calib_qcell_mse(const float *x, uint32_t n, const float *edges, const float *levels, uint32_t n_levels)
{
    if (n == 0 || n_levels == 0) return 0.0;
    err_acc_t a = {0, 0, 0, 0, 0};
    qcell_err(x, n, edges, levels, n_levels, &a);
    return err_mse(&a);
}

float fw_calib_sr_value(uint32_t *codes, uint32_t copies, const float *thresholds, const float *levels,
                        uint32_t n_levels, uint32_t zero_code, int *disagree)
{
    for (uint32_t i = 1; i < copies; i++) /* insertion sort, copies <= 8 */
        for (uint32_t j = i; j > 0 && codes[j - 1] > codes[j]; j--) {
            const uint32_t c = codes[j];
            codes[j] = codes[j - 1];
            codes[j - 1] = c;
        }
    if (codes[0] == codes[copies - 1]) {
        *disagree = 0;
        return levels[codes[0]];
    }
    *disagree = 1;
    if (zero_code < n_levels)
        for (uint32_t i = 0; i < copies; i++)
            if (codes[i] == zero_code) return levels[zero_code];
    for (uint32_t i = 0; i < copies;) { /* strict majority (3+ copies) */
        uint32_t j = i;
        while (j < copies && codes[j] == codes[i]) j++;
        if (2u * (j - i) > copies) return levels[codes[i]];
        i = j;
    }
    const uint32_t c = codes[(copies - 1u) / 2u]; /* lower median; below the top code (not unanimous) */
    return thresholds[c < n_levels - 1u ? c : n_levels - 2u];
}

static void tiles_of_layer(const cimnet_layer_t *L, uint32_t *first, uint32_t *count)
{
    *first = L->first_tile;
    *count = L->row_blocks * L->col_blocks;
}

static uint32_t layer_of_tile(const fw_calib_args_t *a, uint32_t t)
{
    for (uint32_t l = 0; l < a->hdr->n_layers; l++)
        if (t >= a->layers[l].first_tile && t < a->layers[l].first_tile + a->layers[l].row_blocks * a->layers[l].col_blocks)
            return l;
    return 0;
}

/* Reads the captured samples of tiles [t0, t0+nt) (threshold set `set` when the capture was split
 * by set) into g_x, compacted; returns the count. */
static uint32_t gather(const fw_calib_args_t *a, uint32_t t0, uint32_t nt, int per_set, uint32_t set)
{
    uint32_t n = 0;
    for (uint32_t t = t0; t < t0 + nt; t++) {
        const uint32_t b = a->tiles[t].base;
        uint32_t c;
        if (per_set) {
            hal_write32(b + ADC_SET_SEL, set);
            c = hal_read32(b + ADC_CAP_SET_COUNT);
        } else {
            c = hal_read32(b + ADC_CAP_COUNT);
        }
        if (c > g_slot_cap[t]) c = g_slot_cap[t];
        if (c > FW_CALIB_MAX_SAMPLES - n) c = FW_CALIB_MAX_SAMPLES - n;
        if (c) hal_read_block(g_slot_addr[t] + 4u * (per_set ? set : 0u) * g_slot_cap[t], g_x + n, 4u * c);
        n += c;
    }
    hal_cpu_cycles(CYC_PER_SAMPLE_COPY * n);
    return n;
}

/* Achieved edges of every ADC copy of tile bank `b` (selected set), ADC_EDGE_COPY selecting the copy. */
static void read_edges(uint32_t b, uint32_t copies, uint32_t L, float ach[][2 * LM_MAX_LEVELS])
{
    for (uint32_t c = 0; c < copies; c++) {
        hal_write32(b + ADC_EDGE_COPY, c);
        for (uint32_t d = 0; d < 2 * L; d++) ach[c][d] = u2f(hal_read32(b + ADC_EDGE(d)));
    }
    hal_write32(b + ADC_EDGE_COPY, 0u);
}

/* Nominal edges of a design: lo_0 = range lo, hi_{L-1} = range hi, hi_k = lo_{k+1} = t_k. */
static void nominal_edges(const float *thr, uint32_t L, float lo, float hi, float *edges)
{
    for (uint32_t k = 0; k < L; k++) {
        edges[2 * k] = k == 0 ? lo : thr[k - 1];
        edges[2 * k + 1] = k == L - 1 ? hi : thr[k];
    }
}

/* Write-verify of one ADC copy's 2L Q-cell devices of threshold set `set` (controller cells
 * set x 2L + d) to the nominal edges' conductances (linear edge <-> conductance map of
 * [lo, hi] onto [GMIN, GMAX], docs/adc.md). */
static int program_copy(const progctl_t *pc, const tile_t *t, uint32_t kind, uint32_t set, const float *edges,
                        uint32_t L, float lo, float hi, uint32_t scratch, progctl_result_t *res)
{
    const float gmin = u2f(hal_read32(t->base + ADC_GMIN)), gmax = u2f(hal_read32(t->base + ADC_GMAX));
    for (uint32_t d = 0; d < 2 * L; d++) {
        float g = gmin + (edges[d] - lo) / (hi - lo) * (gmax - gmin);
        if (g < gmin) g = gmin;
        if (g > gmax) g = gmax;
        g_table[d].cell = set * 2u * L + d;
        g_table[d].target_f = f2u(g);
    }
    hal_write_block(scratch, g_table, 8u * 2u * L);
    *res = progctl_program(pc, PROG_DEST_VALUE(t->index, kind), scratch, 2u * L, 0, 0, 0);
    return res->error ? -1 : 0;
}

static uint64_t read64(uint32_t lo_addr)
{
    const uint32_t lo = hal_read32(lo_addr);
    return ((uint64_t)hal_read32(lo_addr + 4u) << 32) | lo;
}

/* The SAR/flash baseline on sorted samples xs[0..n): mid-tread, full scale A = the |x| percentile
 * (100, 99.99, 99.95, 99.9, 99.5, 99, 97 %) with the least MSE (A = max |x| without
 * FW_CALIB_S_SAR_RANGE). Returns the MSE, *a_out = A. */
static double sar_design(const float *xs, uint32_t n, uint32_t L, uint32_t strat, float *a_out)
{
    static const uint32_t per_10k[] = {0u, 1u, 5u, 10u, 50u, 100u, 300u};
    float best_a = 0.0f;
    double best = -1.0;
    for (uint32_t c = 0; c < sizeof per_10k / sizeof per_10k[0]; c++) {
        if (c > 0 && !(strat & FW_CALIB_S_SAR_RANGE)) break;
        const uint32_t k = (uint32_t)((uint64_t)n * per_10k[c] / 20000u); /* per side */
        const float xl = xs[k] < 0 ? -xs[k] : xs[k], xh = xs[n - 1u - k] < 0 ? -xs[n - 1u - k] : xs[n - 1u - k];
        const float av = xl > xh ? xl : xh;
        if (!(av > 0.0f)) continue;
        midtread(av, L, g_tt, g_tl);
        const double m = lm_eval_mse(xs, NULL, n, g_tt, g_tl, L);
        if (best < 0 || m < best) {
            best = m;
            best_a = av;
        }
    }
    if (!(best_a > 0.0f)) best_a = 1.0f;
    midtread(best_a, L, g_tt, g_tl);
    *a_out = best_a;
    return lm_eval_mse(xs, NULL, n, g_tt, g_tl, L);
}

static const char *design_name(uint32_t d)
{
    switch (d) {
    case CIMNET_CAL_D_LLOYD_MAX: return "lloyd_max";
    case CIMNET_CAL_D_ZERO_PINNED: return "zero_pinned";
    case CIMNET_CAL_D_FALLBACK: return "fallback_uniform";
    default: return "none";
    }
}

static int cal_fail(void)
{
    fw_phase_end(FW_PHASE_CALIBRATE);
    return CIMNET_EXIT_CALIB;
}

/* One tenth of a percent of `part` in `whole`, for "%u.%u %%" printing. */
static uint32_t permille(uint64_t part, uint64_t whole) { return whole ? (uint32_t)(part * 1000u / whole) : 0u; }

int fw_calib_design(const float *xs, uint32_t n, uint32_t bits, uint32_t strat, float sigma_frac, uint32_t seed,
                    float *thr, float *lev, fw_calib_design_t *out)
{
    const uint32_t L = 1u << bits;
    const float lo = xs[0], hi = xs[n - 1u];
    out->design = CIMNET_CAL_D_NONE;
    out->iterations = 0;
    out->zero_code = 0xFFFFFFFFu;
    out->w = 0.0f;
    out->sigma_e = 0.0f;
    out->cycles = 0;
    out->zeros = lower_bound_f(xs, 0, n, 0.5f) - lower_bound_f(xs, 0, n, -0.5f);
    float dlo = lo, dhi = hi; /* design range */
    if (strat & FW_CALIB_S_CLIP) {
        /* Long tails: 0.05 % per side clipped (the ADC saturates there) shrinks the range
         * the levels span and, on the direct path, the edge error (a fraction of it). */
        const uint32_t c = n / 2000u;
        if (xs[n - 1u - c] > xs[c]) {
            dlo = xs[c];
            dhi = xs[n - 1u - c];
        }
    }
    for (uint32_t i = 0; i < n; i++) g_xc[i] = xs[i] < dlo ? dlo : xs[i] > dhi ? dhi : xs[i];
    out->cycles += 2u * n;
    /* Expected edge error (digits) the variation-aware design plans for. */
    float sigma_e = sigma_frac * (dhi - dlo);
    if (!(sigma_e >= 0.0f)) sigma_e = 0.0f;
    out->sigma_e = sigma_e;
    if (n < CIMNET_CAL_MIN_PER_LEVEL * L) {
        /* Too few samples to place 2^bits levels: uniform thresholds over [min, max]. */
        out->design = CIMNET_CAL_D_FALLBACK;
        dlo = lo;
        dhi = hi;
        const float step = (hi - lo) / (float)L;
        for (uint32_t k = 0; k < L; k++) lev[k] = lo + step * ((float)k + 0.5f);
        for (uint32_t k = 0; k + 1 < L; k++) thr[k] = lo + step * (float)(k + 1);
    } else {
        if ((strat & FW_CALIB_S_ZERO_PIN) && (uint64_t)out->zeros * L >= n && L >= 4u) {
            /* The zero spike gets its own level, exactly 0, in a window wide enough that
             * its edges' expected error (2 sigma) rarely moves a zero off it. */
            const float w = 0.5f + 2.0f * sigma_e;
            uint32_t it = 0;
            if (w < 0.5f * (dhi - dlo) && fw_calib_zero_pinned(g_xc, n, L, w, g_work, thr, lev, &it) >= 0.0) {
                out->design = CIMNET_CAL_D_ZERO_PINNED;
                out->w = w;
                for (uint32_t k = 0; k < L; k++)
                    if (lev[k] == 0.0f) out->zero_code = k;
            }
            out->iterations = it;
            out->cycles += 4u * (uint64_t)n + (uint64_t)CYC_PER_LEVEL_ITER * L * it;
        }
        if (out->design != CIMNET_CAL_D_ZERO_PINNED) {
            lm_options opt;
            lm_default_options(&opt);
            opt.seed = seed; /* k-means++ starts; deterministic per group */
            opt.edge_sigma = sigma_e;
            lm_result lr;
            const int e = lm_design(g_xc, NULL, n, bits, &opt, g_work, sizeof g_work, thr, lev, &lr);
            if (e != LM_OK) return e;
            out->design = CIMNET_CAL_D_LLOYD_MAX;
            out->iterations += lr.iterations;
            out->cycles += (uint64_t)CYC_PER_LEVEL_ITER * L * (lr.iterations + 1u) * 3u;
        }
    }
    out->mse = lm_eval_mse(xs, NULL, n, thr, lev, L);
    out->cycles += (uint64_t)CYC_PER_DECODE_CELL * n;
    /* The Q-cell range (outer edges) must hold every threshold. */
    if (thr[0] < dlo) dlo = thr[0];
    if (thr[L - 2u] > dhi) dhi = thr[L - 2u];
    out->lo = dlo;
    out->hi = dhi;
    return 0;
}

int fw_calib_run(const fw_calib_args_t *a)
{
    const cimnet_job_t *job = a->job;
    const cimnet_header_t *h = a->hdr;
    const uint32_t result_addr = a->hostmem_base + job->calib_result_off;
    const int per_cols = (job->calib_flags & CIMNET_CAL_F_GROUP_COLUMNS) != 0;
    const int per_array = !per_cols && (job->calib_flags & CIMNET_CAL_F_GROUP_ARRAY) != 0;
    const int write_verify = (job->calib_flags & CIMNET_CAL_F_WRITE_VERIFY) != 0;
    const uint32_t mode = job->calib_mode;
    const uint32_t gcols = per_cols ? job->calib_group_cols : 0u;
    const uint32_t sr_policy = job->calib_sr_policy;
    if (h->n_tiles > CAL_MAX_TILES || mode > ADC_MODE_QCELL_SR || mode == ADC_MODE_IDEAL ||
        (per_cols && (gcols == 0 || gcols > h->cols)) || sr_policy > CIMNET_CAL_SR_ZERO_WINS) {
        fw_printf("calib: bad request (mode %u, %u tiles, group columns %u of %u, SR policy %u; mode must be sar, "
                  "flash, qcell or qcell_sr)\n",
                  mode, h->n_tiles, gcols, h->cols, sr_policy);
        return CIMNET_EXIT_CALIB;
    }
    progctl_t pc;
    const int is_qcell = mode == ADC_MODE_QCELL || mode == ADC_MODE_QCELL_SR;
    const int have_pc = write_verify && is_qcell;
    if (have_pc && progctl_open(&pc) != 0) {
        fw_printf("calib: write-verify asked for but the chip has no programming controller "
                  "(add a progctl entry to memory_map or set calibration.program: direct)\n");
        return CIMNET_EXIT_CALIB;
    }
    fw_phase_begin(FW_PHASE_CALIBRATE, job->calib_count);
    const uint64_t t_start = fw_time_ns();
    pmu_t pmu;
    pmu_snapshot_t e0, e1;
    const int have_pmu = pmu_open(&pmu) == 0;
    if (have_pmu) pmu_snapshot(&pmu, &e0);
    /* The controller's pulse counter counts since it was last cleared (weights included). */
    const uint64_t pulses0 = have_pc ? read64(pc.base + PROG_PULSES_LO) : 0u;

    const uint32_t free_lo = (h->sram_bytes + 63u) & ~63u;
    if (a->sram_size < free_lo + CAL_SCRATCH_BYTES + 4096u) {
        fw_printf("calib: no SRAM left for capture buffers (network uses %u of %u bytes)\n", h->sram_bytes,
                  a->sram_size);
        return cal_fail();
    }
    const uint32_t scratch = a->sram_base + a->sram_size - CAL_SCRATCH_BYTES;

    /* Capture runs with ideal converters, so every layer sees the unquantised signals of
     * the layers before it and one pass serves all layers (docs/calibration.md). Column
     * groups: the banks are split into threshold sets of gcols columns, the capture by set. */
    const uint32_t cap_ctrl = ADC_CAP_CTRL_ENABLE | (per_cols ? ADC_CAP_CTRL_PER_SET : 0u);
    uint32_t slots = 0;
    for (uint32_t t = 0; t < h->n_tiles; t++) {
        const uint32_t b = a->tiles[t].base;
        hal_write32(b + ADC_MODE, ADC_MODE_IDEAL);
        hal_write32(b + ADC_SET_SEL, 0u);
        hal_write32(b + ADC_APPLY, 1u);
        hal_write32(b + ADC_SET_COLS, gcols);
        const uint32_t got = hal_read32(b + ADC_SET_COLS), nsets = hal_read32(b + ADC_NSETS);
        if (got != gcols || nsets == 0 || slots + nsets > CAL_MAX_SLOTS) {
            fw_printf("calib: tile %u: the ADC bank did not take %u columns per threshold set (ADC_SHARE %u, %u "
                      "sets); calibration.group_cols must be a multiple of chip.adc.share within the array\n",
                      t, gcols, hal_read32(b + ADC_SHARE), nsets);
            return cal_fail();
        }
        g_tile_slot0[t] = slots;
        g_tile_sets[t] = nsets;
        slots += nsets;
        hal_write32(b + ADC_CAP_ADDR, a->sram_base + free_lo);
        hal_write32(b + ADC_CAP_MAX, 0u); /* probe: count signals, keep none */
        hal_write32(b + ADC_CAP_DECIM, 1u);
        /* Restart the buffer: a second calibration in the same run overwrites the first. */
        hal_write32(b + ADC_CAP_CTRL, cap_ctrl | ADC_CAP_CTRL_RESET);
        for (uint32_t k = 0; k < nsets; k++) {
            if (per_cols) hal_write32(b + ADC_SET_SEL, k);
            g_seen0[g_tile_slot0[t] + k] = hal_read32(b + (per_cols ? ADC_CAP_SET_SEEN : ADC_CAP_SEEN));
        }
    }
    /* Probe with the first image: samples per image per tile (and set) give the decimation. */
    int rc = a->run(a->run_ctx, job->calib_input_off, 0, 1);
    if (rc) {
        fw_phase_end(FW_PHASE_CALIBRATE);
        return rc;
    }
    for (uint32_t t = 0; t < h->n_tiles; t++) {
        const uint32_t b = a->tiles[t].base;
        for (uint32_t k = 0; k < g_tile_sets[t]; k++) {
            if (per_cols) hal_write32(b + ADC_SET_SEL, k);
            const uint32_t now = hal_read32(b + (per_cols ? ADC_CAP_SET_SEEN : ADC_CAP_SEEN));
            g_per_img[g_tile_slot0[t] + k] = now - g_seen0[g_tile_slot0[t] + k];
        }
    }

    /* Groups, and the capture slots they need. */
    uint32_t n_groups = 0, n_slots = 0;
    if (per_cols) {
        for (uint32_t t = 0; t < h->n_tiles; t++) {
            uint32_t used = 0;
            for (uint32_t k = 0; k < g_tile_sets[t]; k++)
                if (g_per_img[g_tile_slot0[t] + k]) {
                    g_grp_layer[n_groups] = layer_of_tile(a, t);
                    g_grp_t0[n_groups] = t;
                    g_grp_nt[n_groups] = 1;
                    g_grp_set[n_groups] = k;
                    n_groups++;
                    used = k + 1u;
                }
            if (!used) { /* nothing converted on this tile: one group that reports it */
                g_grp_layer[n_groups] = layer_of_tile(a, t);
                g_grp_t0[n_groups] = t;
                g_grp_nt[n_groups] = 1;
                g_grp_set[n_groups] = 0;
                n_groups++;
                used = 1;
            }
            g_tile_sets[t] = used; /* slots allocated: sets 0..used-1 */
            n_slots += used;
        }
    } else if (per_array) {
        for (uint32_t t = 0; t < h->n_tiles; t++) {
            g_grp_layer[n_groups] = layer_of_tile(a, t);
            g_grp_t0[n_groups] = t;
            g_grp_nt[n_groups] = 1;
            g_grp_set[n_groups] = 0;
            n_groups++;
        }
        n_slots = n_groups;
    } else {
        for (uint32_t l = 0; l < h->n_layers; l++) {
            g_grp_layer[n_groups] = l;
            tiles_of_layer(&a->layers[l], &g_grp_t0[n_groups], &g_grp_nt[n_groups]);
            g_grp_set[n_groups] = 0;
            n_groups++;
        }
        n_slots = n_groups;
    }
    uint32_t cap = job->calib_samples ? job->calib_samples : 65536u;
    if (cap > FW_CALIB_MAX_SAMPLES) cap = FW_CALIB_MAX_SAMPLES;
    const uint32_t fit = (a->sram_size - free_lo - CAL_SCRATCH_BYTES) / 4u / n_slots;
    if (cap > fit) {
        fw_printf("calib: %u samples per group do not fit the free SRAM; using %u\n", cap, fit);
        cap = fit;
    }
    uint32_t at = a->sram_base + free_lo;
    for (uint32_t l = 0; l < h->n_layers; l++) {
        uint32_t t0, nt;
        tiles_of_layer(&a->layers[l], &t0, &nt);
        for (uint32_t t = t0; t < t0 + nt; t++) {
            g_slot_cap[t] = (per_array || per_cols) ? cap : cap / nt;
            g_slot_addr[t] = at;
            at += 4u * g_slot_cap[t] * (per_cols ? g_tile_sets[t] : 1u);
        }
    }
    for (uint32_t t = 0; t < h->n_tiles; t++) {
        const uint32_t b = a->tiles[t].base;
        uint64_t per_img = 0;
        for (uint32_t k = 0; k < g_tile_sets[t]; k++)
            if (g_per_img[g_tile_slot0[t] + k] > per_img) per_img = g_per_img[g_tile_slot0[t] + k];
        /* 25 % margin: images differ in how many digit passes are all zero (skipped). */
        const uint64_t want = per_img * job->calib_count + per_img * job->calib_count / 4u;
        uint64_t d = g_slot_cap[t] ? (want + g_slot_cap[t] - 1u) / g_slot_cap[t] : 1u;
        if (d < 1u) d = 1u;
        if (d > 0xFFFFFFFFu) d = 0xFFFFFFFFu;
        g_decim[t] = (uint32_t)d;
        hal_write32(b + ADC_CAP_ADDR, g_slot_addr[t]);
        hal_write32(b + ADC_CAP_DECIM, g_decim[t]);
        hal_write32(b + ADC_CAP_MAX, g_slot_cap[t]);
        hal_write32(b + ADC_CAP_CTRL, cap_ctrl | ADC_CAP_CTRL_RESET);
    }
    rc = a->run(a->run_ctx, job->calib_input_off, 0, job->calib_count);
    if (rc) {
        fw_phase_end(FW_PHASE_CALIBRATE);
        return rc;
    }
    for (uint32_t t = 0; t < h->n_tiles; t++) hal_write32(a->tiles[t].base + ADC_CAP_CTRL, 0u);

    cimnet_calib_header_t ch;
    for (uint32_t i = 0; i < sizeof ch / 4u; i++) ((uint32_t *)&ch)[i] = 0;
    ch.n_results = n_groups;
    ch.result_bytes = sizeof(cimnet_calib_result_t);
    ch.capacity = cap;
    int failed = 0;

    fw_printf("calib: %u images, %u groups (%s), mode %u, %s%s\n", job->calib_count, n_groups,
              per_cols ? "per column group" : per_array ? "per array" : "per layer", mode,
              write_verify ? "write-verify" : "direct",
              mode == ADC_MODE_QCELL_SR && sr_policy == CIMNET_CAL_SR_ZERO_WINS ? ", SR zero window wins" : "");
    if (per_cols) fw_printf("calib: column groups of %u physical columns\n", gcols);
    fw_printf("calib: group layer  tile set tiles samples decim  mse_uniform      mse_sar  mse_lloyd_max  mse_achieved"
              "  design\n");
    for (uint32_t g = 0; g < n_groups; g++) {
        const uint32_t layer = g_grp_layer[g], t0 = g_grp_t0[g], nt = g_grp_nt[g], set = g_grp_set[g];
        cimnet_calib_result_t r;
        for (uint32_t i = 0; i < sizeof r / 4u; i++) ((uint32_t *)&r)[i] = 0;
        r.layer = layer;
        r.tile = t0;
        r.tiles = nt;
        r.mode = mode;
        r.decim = g_decim[t0];
        r.set = set;
        r.col0 = per_cols ? set * gcols : 0u;
        r.cols = per_cols ? (h->cols - r.col0 < gcols ? h->cols - r.col0 : gcols) : h->cols;
        r.zero_code = 0xFFFFFFFFu;
        const uint32_t bits = hal_read32(a->tiles[t0].base + ADC_BITS);
        const uint32_t L = 1u << bits;
        r.bits = bits;
        const uint32_t n = gather(a, t0, nt, per_cols, set);
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
            r.design = CIMNET_CAL_D_NONE;
            fw_printf("calib: layer %u tile %u set %u: %s; converters keep the design range\n", layer, t0, set,
                      n == 0 ? "no samples captured" : "all samples equal");
            for (uint32_t t = t0; t < t0 + nt; t++) {
                const uint32_t b = a->tiles[t].base;
                hal_write32(b + ADC_SET_SEL, set);
                hal_write32(b + ADC_RANGE_LO, f2u(0.0f));
                hal_write32(b + ADC_RANGE_HI, f2u(0.0f));
                hal_write32(b + ADC_THRESH(0), f2u(1.0f)); /* invalid design -> uniform */
                hal_write32(b + ADC_THRESH(1), f2u(0.0f));
                hal_write32(b + ADC_SR_ZERO_CODE, ADC_SR_ZERO_NONE);
                hal_write32(b + ADC_MODE, mode);
                hal_write32(b + ADC_APPLY, 1u);
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
        /* The SAR baseline a chip with SAR ADCs would get from the same data (mse_sar), in the
         * transfer shape the bank is configured for (ADC_UNIFORM_SHAPE): mid-tread with the
         * least-MSE full scale, or min-max over the captured range (then mse_sar = mse_uniform). */
        const uint32_t shape = hal_read32(a->tiles[t0].base + ADC_UNIFORM_SHAPE);
        float sar_a = 0.0f;
        double mse_sar;
        if (shape == ADC_SHAPE_MIN_MAX) {
            mse_sar = mse_u;
        } else {
            mse_sar = sar_design(g_x, n, L, strat, &sar_a);
            hal_cpu_cycles(7u * CYC_PER_DECODE_CELL * n);
        }
        r.mse_sar = (float)mse_sar;
        r.sar_full_scale = sar_a;
        /* Expected edge error (fraction of the design range) the variation-aware design plans for. */
        float sigma_frac = 0.0f;
        if (is_qcell && (strat & FW_CALIB_S_VAR_AWARE)) {
            const uint32_t b0 = a->tiles[t0].base;
            if (write_verify) {
                const float gmin = u2f(hal_read32(b0 + ADC_GMIN)), gmax = u2f(hal_read32(b0 + ADC_GMAX));
                if (gmax > gmin) sigma_frac = FW_CALIB_WV_SIGMA_US / (gmax - gmin);
            } else {
                sigma_frac = u2f(hal_read32(b0 + ADC_EDGE_SIGMA));
            }
            if (!(sigma_frac >= 0.0f)) sigma_frac = 0.0f;
        }
        fw_calib_design_t dz;
        const int de = fw_calib_design(g_x, n, bits, strat, sigma_frac, 0x5EEDu + g, g_thr, g_lev, &dz);
        hal_cpu_cycles(dz.cycles > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)dz.cycles);
        if (de != 0) {
            fw_printf("calib: layer %u: Lloyd-Max failed (code %d)\n", layer, de);
            return cal_fail();
        }
        const uint32_t zeros = dz.zeros;
        const int pinned = dz.design == CIMNET_CAL_D_ZERO_PINNED;
        const float w = dz.w, sigma_e = dz.sigma_e;
        r.design = dz.design;
        r.lm_iterations = dz.iterations;
        r.zero_code = dz.zero_code;
        r.mse_lloyd_max = (float)dz.mse;
        lo = dz.lo;
        hi = dz.hi;
        if (dz.design == CIMNET_CAL_D_FALLBACK) {
            r.flags |= CIMNET_CAL_R_FEW_SAMPLES;
            fw_printf("calib: layer %u tile %u set %u: only %u samples for %u bits (need >= %u): uniform thresholds "
                      "over [min, max] instead of Lloyd-Max (fallback)\n",
                      layer, t0, set, n, bits, CIMNET_CAL_MIN_PER_LEVEL * L);
        }
        if (!is_qcell) {
            /* The SAR/flash baseline (mid-tread: 0 is a level, full scale chosen above; min-max:
             * the captured range); its mse_lloyd_max column is what the Q-cell design would reach
             * on the same data. */
            const int mm = shape == ADC_SHAPE_MIN_MAX;
            for (uint32_t t = t0; t < t0 + nt; t++) {
                const uint32_t b = a->tiles[t].base;
                hal_write32(b + ADC_SET_SEL, set);
                hal_write32(b + ADC_RANGE_LO, f2u(mm ? r.range_lo : -sar_a));
                hal_write32(b + ADC_RANGE_HI, f2u(mm ? r.range_hi : sar_a));
                hal_write32(b + ADC_MODE, mode);
                hal_write32(b + ADC_APPLY, 1u);
            }
            r.mse_achieved = (float)mse_sar;
            r.mse_single = r.mse_achieved;
            {
                err_acc_t e = {0, 0, 0, 0, 0};
                if (mm) minmax(r.range_lo, r.range_hi, L, g_tt, g_tl);
                else midtread(sar_a, L, g_tt, g_tl);
                for (uint32_t i = 0; i < n; i++) { /* cell k = [t_{k-1}, t_k): k = thresholds <= x */
                    uint32_t lo_i = 0, hi_i = L - 1u;
                    while (lo_i < hi_i) {
                        const uint32_t m = lo_i + (hi_i - lo_i) / 2u;
                        if (g_tt[m] <= g_x[i]) lo_i = m + 1u;
                        else hi_i = m;
                    }
                    err_add(&e, (double)g_tl[lo_i], g_x[i]);
                }
                hal_cpu_cycles(CYC_PER_DECODE_CELL * n);
                r.bias = r.bias_single = (float)err_bias(&e);
                r.zero_bias = r.zero_bias_single = (float)err_zero_bias(&e);
            }
            fw_printf("calib: %5u %5u %5u %3u %5u %7u %5u %12.4f %12.4f %14.4f %13.4f  %s", g, layer, t0, set, nt,
                      n, r.decim, mse_u, mse_sar, (double)r.mse_lloyd_max, mse_sar, design_name(r.design));
            if (mm) fw_printf("  (min-max, range %.1f .. %.1f)\n", (double)r.range_lo, (double)r.range_hi);
            else fw_printf("  (mid-tread, full scale %.1f)\n", (double)sar_a);
            hal_write_block(result_addr + sizeof ch + g * sizeof r, &r, sizeof r);
            continue;
        }
        nominal_edges(g_thr, L, lo, hi, g_edges);
        /* The SR decoder's zero rule (CIMNET_CAL_SR_ZERO_WINS): the zero-pinned window wins. */
        const uint32_t zsel = mode == ADC_MODE_QCELL_SR && sr_policy == CIMNET_CAL_SR_ZERO_WINS && pinned
                                  ? r.zero_code : ADC_SR_ZERO_NONE;
        double max_err = 0.0;
        err_acc_t acc_ach = {0, 0, 0, 0, 0}, acc_single = {0, 0, 0, 0, 0}; /* over the decoded samples */
        uint32_t copies = 1;
        int same = 1; /* every tile's achieved edges equal tile t0's, bit for bit */
        for (uint32_t t = t0; t < t0 + nt; t++) {
            const uint32_t b = a->tiles[t].base;
            hal_write32(b + ADC_SET_SEL, set);
            hal_write32(b + ADC_RANGE_LO, f2u(lo));
            hal_write32(b + ADC_RANGE_HI, f2u(hi));
            for (uint32_t k = 0; k + 1 < L; k++) hal_write32(b + ADC_THRESH(k), f2u(g_thr[k]));
            for (uint32_t k = 0; k < L; k++) hal_write32(b + ADC_LEVEL(k), f2u(g_lev[k]));
            hal_write32(b + ADC_SR_ZERO_CODE, zsel);
            hal_write32(b + ADC_MODE, mode);
            hal_write32(b + ADC_APPLY, 1u);
            copies = mode == ADC_MODE_QCELL_SR ? hal_read32(b + ADC_SR_COPIES) : 1u;
            if (copies < 1u) copies = 1u;
            if (copies > CAL_MAX_COPIES) copies = CAL_MAX_COPIES;
            if (write_verify) {
                /* The controller reaches copy 0 (PROG_DEST_ADC) and the SR partner, copy 1
                 * (PROG_DEST_ADC_SR); further copies keep the direct path's edges. */
                for (uint32_t c = 0; c < copies && c < 2u; c++) {
                    progctl_result_t pr;
                    if (program_copy(&pc, &a->tiles[t], c ? PROG_DEST_ADC_SR : PROG_DEST_ADC, set, g_edges, L, lo,
                                     hi, scratch, &pr) != 0) {
                        fw_printf("calib: layer %u tile %u set %u copy %u: programming controller error %u\n", layer,
                                  t, set, c, pr.error);
                        r.flags |= CIMNET_CAL_R_PROG_FAIL;
                        failed = 1;
                    }
                    if (pr.failures) r.flags |= CIMNET_CAL_R_PROG_FAIL;
                    ch.prog_failures += pr.failures;
                }
            }
            /* Achieved edges of every copy read back: the largest error, and whether they differ
             * from tile t0's (g_ach0). */
            read_edges(b, copies, L, t == t0 ? g_ach0 : g_ach);
            for (uint32_t c = 0; c < copies; c++)
                for (uint32_t d = 0; d < 2 * L; d++) {
                    const float e = t == t0 ? g_ach0[c][d] : g_ach[c][d];
                    const double err = e > g_edges[d] ? e - g_edges[d] : g_edges[d] - e;
                    if (err > max_err) max_err = err;
                    if (t != t0 && f2u(e) != f2u(g_ach0[c][d])) same = 0;
                }
        }
        /* The achieved converter on the captured samples (docs/calibration.md "Achieved MSE").
         * Every tile decoding all n samples costs nt x n x L window tests: seconds of simulated
         * firmware on a 144-tile layer. Tiles with identical edges (direct programming without
         * variation) decode identically, so one pass over the n samples is exact for all of them;
         * otherwise, past FW_CALIB_DECODE_SAMPLES decodes per group, tile j decodes every step-th
         * sample from j mod step (g_x is sorted: a stratified share; each sample about nt / step
         * times, the tiles equally weighted). */
        uint32_t step = 1;
        if (!same) {
            const uint64_t budget = n > g_decode_budget ? n : g_decode_budget;
            step = (uint32_t)(((uint64_t)nt * n + budget - 1u) / budget);
        }
        uint64_t decoded = 0;
        for (uint32_t t = t0; t < (same ? t0 + 1u : t0 + nt); t++) {
            if (t != t0) read_edges(a->tiles[t].base, copies, L, g_ach);
            float(*ach)[2 * LM_MAX_LEVELS] = t == t0 ? g_ach0 : g_ach;
            const uint32_t off = (t - t0) % step;
            const uint32_t cnt = n > off ? (n - off + step - 1u) / step : 0u;
            decoded += cnt;
            for (uint32_t i = off; i < n; i += step)
                err_add(&acc_single, (double)g_lev[qcell_code(g_x[i], ach[0], L)], g_x[i]);
            hal_cpu_cycles(CYC_PER_DECODE_CELL * cnt * L);
            if (copies < 2u) continue;
            /* The SR decoder on the captured samples, from all copies' achieved edges. */
            for (uint32_t i = off; i < n; i += step) {
                uint32_t codes[CAL_MAX_COPIES];
                for (uint32_t c = 0; c < copies; c++) codes[c] = qcell_code(g_x[i], ach[c], L);
                const uint32_t c0 = codes[0];
                int dis = 0;
                err_add(&acc_ach, (double)fw_calib_sr_value(codes, copies, g_thr, g_lev, L, zsel, &dis), g_x[i]);
                if (dis) {
                    r.sr_disagree++;
                    if (c0 == r.zero_code) r.sr_disagree_zero++;
                }
            }
            hal_cpu_cycles(CYC_PER_DECODE_CELL * cnt * L * copies);
        }
        r.decoded = decoded > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)decoded;
        r.decode_step = same ? 0u : step;
        if (copies < 2u) acc_ach = acc_single;
        /* Equal sample counts per tile: the pooled means are the means over the tiles. */
        r.mse_achieved = (float)err_mse(&acc_ach);
        r.mse_single = (float)err_mse(&acc_single);
        r.bias = (float)err_bias(&acc_ach);
        r.zero_bias = (float)err_zero_bias(&acc_ach);
        r.bias_single = (float)err_bias(&acc_single);
        r.zero_bias_single = (float)err_zero_bias(&acc_single);
        r.max_edge_err = (float)max_err;
        fw_printf("calib: %5u %5u %5u %3u %5u %7u %5u %12.4f %12.4f %14.4f %13.4f  %s", g, layer, t0, set, nt, n,
                  r.decim, mse_u, mse_sar, (double)r.mse_lloyd_max, (double)r.mse_achieved, design_name(r.design));
        fw_printf("  (zeros %u.%u %%)", permille(zeros, n) / 10u, permille(zeros, n) % 10u);
        if (pinned) fw_printf("  (zero pinned, window +-%.2f)", (double)w);
        if (sigma_e > 0.0f) fw_printf("  (edge sigma %.2f)", (double)sigma_e);
        if (copies >= 2u) {
            const uint64_t tot = decoded;
            fw_printf("  (SR: single ADC %.4f; copies disagree on %u.%u %% of samples, %u.%u %% of those at the zero "
                      "window)",
                      (double)r.mse_single, permille(r.sr_disagree, tot) / 10u, permille(r.sr_disagree, tot) % 10u,
                      permille(r.sr_disagree_zero, r.sr_disagree) / 10u, permille(r.sr_disagree_zero, r.sr_disagree) % 10u);
        }
        fw_printf("\n");
        hal_write_block(result_addr + sizeof ch + g * sizeof r, &r, sizeof r);
    }
    if (have_pc) {
        const uint64_t dp = read64(pc.base + PROG_PULSES_LO) - pulses0;
        ch.prog_pulses = (uint32_t)dp;
        ch.prog_pulses_hi = (uint32_t)(dp >> 32);
    }
    uint64_t conv = 0;
    for (uint32_t t = 0; t < h->n_tiles; t++) {
        const uint32_t b = a->tiles[t].base;
        conv += read64(b + ADC_CONV_LO);
        ch.sr_disagree += hal_read32(b + ADC_SR_DISAGREE);
    }
    ch.conv_lo = (uint32_t)conv;
    ch.conv_hi = (uint32_t)(conv >> 32);
    const uint64_t dt = fw_time_ns() - t_start;
    ch.time_ns_lo = (uint32_t)dt;
    ch.time_ns_hi = (uint32_t)(dt >> 32);
    if (have_pmu) {
        pmu_snapshot(&pmu, &e1);
        const uint64_t efj = e1.total_fj - e0.total_fj;
        ch.energy_fj_lo = (uint32_t)efj;
        ch.energy_fj_hi = (uint32_t)(efj >> 32);
        ch.has_energy = 1u;
    }
    ch.magic = CIMNET_CAL_MAGIC;
    hal_write_block(result_addr, &ch, sizeof ch);
    fw_printf("calib: done in %u us of simulated time", (uint32_t)(dt / 1000u));
    if (have_pc) fw_printf(", %u write-verify pulses", ch.prog_pulses);
    if (have_pmu) {
        const uint64_t pj = ((uint64_t)ch.energy_fj_hi << 32 | ch.energy_fj_lo) / 1000u;
        fw_printf(", %u.%03u nJ (PMU)", (uint32_t)(pj / 1000u), (uint32_t)(pj % 1000u));
    }
    fw_printf("\n");
    fw_phase_end(FW_PHASE_CALIBRATE);
    return failed ? CIMNET_EXIT_CALIB : 0;
}
