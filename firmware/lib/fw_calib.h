/* ADC calibration flow (docs/calibration.md): the firmware side of issue 7.
 *
 * Before inference, for every layer of the compiled network (or every tile, with
 * CIMNET_CAL_F_GROUP_ARRAY): capture the raw pre-ADC column signals of the layer's tiles
 * while calibration images (training split) run through the network, design a quantiser
 * from them with Lloyd-Max (lib/lloyd_max.h), write thresholds / levels / range into the
 * ADC banks, set the mode, APPLY, optionally program the Q-cell memristors by write-verify
 * (drivers/progctl.h), read the achieved edges back and report per-group MSE (uniform vs
 * Lloyd-Max vs achieved) on the console and in the job's result area.
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

/* Returns 0, or CIMNET_EXIT_CALIB (console says why), or the run callback's error. */
int fw_calib_run(const fw_calib_args_t *a);

/* Decoder of a Q-cell ADC as built (models/adc QCellAdc, docs/adc.md): cell k's window is
 * [edges[2k], edges[2k+1]); the lowest matching window wins; no match -> nearest window
 * (tie -> lower). Returns the MSE of levels[code(x)] against x over n samples. */
double fw_calib_qcell_mse(const float *x, uint32_t n, const float *edges, const float *levels, uint32_t n_levels);

#endif
