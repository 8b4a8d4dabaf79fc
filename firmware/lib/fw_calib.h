/* ADC calibration flow (docs/calibration.md): the firmware side of issue 7.
 *
 * Before inference, for every layer of the compiled network (or every tile, with
 * CIMNET_CAL_F_GROUP_ARRAY, or every column group of every tile, with
 * CIMNET_CAL_F_GROUP_COLUMNS: the ADC banks' threshold sets): capture the raw pre-ADC column
 * signals of the group
 * while calibration images (training split) run through the network, design a quantiser
 * from them with Lloyd-Max (lib/lloyd_max.h), write thresholds / levels / range into the
 * ADC banks, set the mode, APPLY, optionally program the Q-cell memristors by write-verify
 * (drivers/progctl.h), read every ADC copy's achieved edges back and report per-group MSE
 * (uniform min..max, mid-tread SAR, the design, achieved; for SR also copy 0 alone and the
 * copies' disagreements) on the console and in the job's result area.
 *
 * The network itself is run by the caller (the `infer` app) through a callback, so this
 * library knows layers and tiles but not how a layer is computed. C11, freestanding.
 */
#ifndef CIMVP_FW_CALIB_H
#define CIMVP_FW_CALIB_H

#include <stdint.h>

#include "cimvp/netimage.h"
#include "drivers/tile.h"

/* Runs `count` inputs, starting at input index `first`, of the input array at host-memory
 * offset `input_off` (the job's input_format) through the whole network; results are not
 * needed. Returns 0 or a CIMNET_EXIT_* code. */
typedef int (*fw_calib_run_fn)(void *ctx, uint32_t input_off, uint32_t first, uint32_t count);

typedef struct {
    const cimnet_job_t *job;       /* calib_* fields say what to do */
    const cimnet_header_t *hdr;
    const cimnet_layer_t *layers;  /* hdr->n_layers descriptors */
    const tile_t *tiles;           /* hdr->n_tiles opened tiles */
    uint32_t hostmem_base;
    uint32_t sram_base, sram_size; /* capture buffers go above hdr->sram_bytes */
    fw_calib_run_fn run;
    void *run_ctx;
} fw_calib_args_t;

/* Largest group the firmware designs from (local memory bound; decimation keeps a group
 * at or below it). */
#define FW_CALIB_MAX_SAMPLES (1u << 19)

/* Quantiser design strategy (bit mask, docs/calibration.md "Design choices"). The default is
 * FW_CALIB_STRATEGY_DEFAULT; tests and studies may change it with fw_calib_set_strategy(). */
#define FW_CALIB_S_ZERO_PIN   (1u << 0) /* pin a level at exactly 0 with its own window when the
                                            zero spike holds >= 1/2^bits of the samples */
#define FW_CALIB_S_VAR_AWARE  (1u << 1) /* widen the zero window by 2 expected edge sigmas and pass
                                            edge_sigma to Lloyd-Max (lm_options.edge_sigma) */
#define FW_CALIB_S_CLIP       (1u << 2) /* range = [0.05 %, 99.95 %] sample percentiles, not [min, max] */
#define FW_CALIB_S_SAR_RANGE  (1u << 3) /* SAR/flash: mid-tread full scale A chosen from |x| percentiles by
                                            least MSE (else A = max |x|) */
#ifndef FW_CALIB_STRATEGY_DEFAULT
#define FW_CALIB_STRATEGY_DEFAULT (FW_CALIB_S_ZERO_PIN | FW_CALIB_S_VAR_AWARE | FW_CALIB_S_CLIP | FW_CALIB_S_SAR_RANGE)
#endif
void fw_calib_set_strategy(uint32_t flags);
uint32_t fw_calib_strategy(void);

/* Sample decodes per group for the achieved MSE before the group's tiles subsample
 * (docs/calibration.md "Achieved MSE"); 0 restores the default FW_CALIB_DECODE_SAMPLES. For tests. */
#define FW_CALIB_DECODE_SAMPLES (1u << 17)
void fw_calib_set_decode_budget(uint32_t samples);

/* Write-verify's achieved conductance error (sigma, uS) the variation-aware design assumes:
 * ~2.7 uS measured for the programming controller's +-5 uS verify band (docs/progctl.md). */
#define FW_CALIB_WV_SIGMA_US 2.7f

/* Zero-pinned Lloyd-Max on ascending-sorted samples xs[0..n): level 0 exactly with window
 * [-w, w), the other L - 1 levels designed by Lloyd-Max separately on x < -w and x >= w (the
 * split of levels between the sides chosen by least MSE). work: >= 16 (n + 1) bytes, 8-aligned.
 * Writes thresholds[L-1], levels[L] (ascending); returns the MSE, or < 0 if it cannot apply
 * (L < 3, or no sample on one side). Pure (no chip access): the caller charges the cycles,
 * *iterations (may be NULL) counts Lloyd iterations over all trials. */
double fw_calib_zero_pinned(const float *xs, uint32_t n, uint32_t L, float w, void *work, float *thresholds,
                            float *levels, uint32_t *iterations);

/* The quantiser design of one group (docs/calibration.md "Design choices"), pure (no chip access;
 * the caller charges `cycles`): xs[0..n) ascending-sorted captured samples (n >= 1), the
 * strategy bits, the expected edge error as a fraction of the design range (0: none), the
 * Lloyd-Max k-means++ seed. Writes thr[2^bits - 1], lev[2^bits]; returns 0 or an LM_* error. */
typedef struct {
    uint32_t design;     /* CIMNET_CAL_D_LLOYD_MAX, _ZERO_PINNED or _FALLBACK (n < CIMNET_CAL_MIN_PER_LEVEL 2^bits) */
    uint32_t iterations; /* Lloyd iterations over all starts and trials */
    uint32_t zero_code;  /* the zero-pinned window's code, or 0xFFFFFFFF */
    uint32_t zeros;      /* samples with |x| < 0.5 */
    float lo, hi;        /* Q-cell range: the (clipped) design range widened to hold every threshold */
    float w;             /* zero window [-w, w) when pinned */
    float sigma_e;       /* expected edge error planned for (digits) */
    double mse;          /* the nominal design on xs (unclipped) */
    uint64_t cycles;     /* CPU cycles the design costs on the host CPU (assumption, fw_calib.c CYC_*) */
} fw_calib_design_t;
int fw_calib_design(const float *xs, uint32_t n, uint32_t bits, uint32_t strategy, float sigma_frac, uint32_t seed,
                    float *thr, float *lev, fw_calib_design_t *out);

/* Returns 0, or CIMNET_EXIT_CALIB (console says why), or the run callback's error. */
int fw_calib_run(const fw_calib_args_t *a);

/* Decoder of a Q-cell ADC as built (models/adc QCellAdc, docs/adc.md): cell k's window is
 * [edges[2k], edges[2k+1]); the lowest matching window wins; no match -> nearest window
 * (tie -> lower). Returns the MSE of levels[code(x)] against x over n samples. */
double fw_calib_qcell_mse(const float *x, uint32_t n, const float *edges, const float *levels, uint32_t n_levels);

/* Super-resolution decoder as built (models/adc QCellSrAdc, docs/adc.md) on the codes of
 * `copies` (2..8) ADCs of one sample (sorted in place): unanimous -> that level; else, when
 * zero_code < n_levels and some copy returned it, levels[zero_code]; else a strict majority's
 * level; else the nominal threshold at the top of the lower median code. *disagree = 1 unless
 * unanimous. */
float fw_calib_sr_value(uint32_t *codes, uint32_t copies, const float *thresholds, const float *levels,
                        uint32_t n_levels, uint32_t zero_code, int *disagree);

#endif
