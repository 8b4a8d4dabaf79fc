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

#define CAL_MAX_TILES 1024u
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
        hal_write32(b + ADC_CAP_CTRL, 1u);
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
        if (n < CIMNET_CAL_MIN_PER_LEVEL * L) {
            /* Too few samples to place 2^bits levels: uniform thresholds over [min, max]. */
            r.flags |= CIMNET_CAL_R_FEW_SAMPLES;
            fw_printf("calib: layer %u tile %u: only %u samples for %u bits (need >= %u): uniform thresholds over "
                      "[min, max] instead of Lloyd-Max (fallback)\n",
                      layer, t0, n, bits, CIMNET_CAL_MIN_PER_LEVEL * L);
            const float step = (hi - lo) / (float)L;
            for (uint32_t k = 0; k < L; k++) g_lev[k] = lo + step * ((float)k + 0.5f);
            for (uint32_t k = 0; k + 1 < L; k++) g_thr[k] = lo + step * (float)(k + 1);
            r.mse_lloyd_max = (float)lm_eval_mse(g_x, NULL, n, g_thr, g_lev, L);
        } else {
            lm_options opt;
            lm_default_options(&opt);
            opt.seed = 0x5EEDull + g; /* k-means++ starts; deterministic per group */
            lm_result lr;
            const int e = lm_design(g_x, NULL, n, bits, &opt, g_work, sizeof g_work, g_thr, g_lev, &lr);
            if (e != LM_OK) {
                fw_printf("calib: layer %u: Lloyd-Max failed (code %d)\n", layer, e);
                return CIMNET_EXIT_CALIB;
            }
            r.mse_lloyd_max = (float)lr.mse;
            r.lm_iterations = lr.iterations;
            hal_cpu_cycles(CYC_PER_SAMPLE_SORT * n + CYC_PER_LEVEL_ITER * L * (lr.iterations + 1u) * 3u);
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
            if (!is_qcell) {
                ach += mse_u;
                continue;
            }
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
        fw_printf("calib: %5u %5u %5u %7u %5u %12.4f %14.4f %13.4f%s\n", g, layer, nt, n, r.decim, mse_u,
                  (double)r.mse_lloyd_max, (double)r.mse_achieved,
                  (r.flags & CIMNET_CAL_R_FEW_SAMPLES) ? "  (uniform fallback)" : "");
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
