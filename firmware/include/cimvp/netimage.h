/*
 * cimvp network image ("cimnet"): the compiled network the `infer` firmware walks, and the
 * job block that tells it what to run. Shared by the C++ compiler (platform/compiler), the
 * loader (platform/netrun) and the C firmware (firmware/apps/infer). Layout: docs/network-image.md.
 *
 * All structures are packed little-endian, 4-byte fields only (uint32_t / float32), so the
 * same bytes are valid on the host and on a 32-bit bare-metal core. Offsets are bytes from
 * the start of the image (or of the SRAM block for sram_* fields). Any layout change bumps
 * CIMNET_VERSION; the firmware refuses an image of another version.
 *
 * C11, freestanding.
 */
#ifndef CIMVP_NETIMAGE_H
#define CIMVP_NETIMAGE_H

#include <stdint.h>

#define CIMNET_MAGIC 0x54454E43u /* "CNET" read as little-endian uint32 */
#define CIMNET_VERSION 3u

/* Layer operations. Every layer is one matrix product on crossbar tiles followed by DPU
 * post-operations; non-matrix ONNX operators are fused into the layer before them. */
#define CIMNET_OP_CONV 1u /* im2col of a CHW input, then K x N product per output position */
#define CIMNET_OP_FC   2u /* flattened input vector times K x N */

/* Layer flags. */
#define CIMNET_F_RELU          (1u << 0) /* ReLU after bias */
#define CIMNET_F_POOL_MAX      (1u << 1) /* max pooling after ReLU */
#define CIMNET_F_POOL_AVG      (1u << 2) /* average pooling after ReLU */
#define CIMNET_F_POOL_PAD_INCL (1u << 3) /* average pool counts padding (count_include_pad) */
#define CIMNET_F_SIGNED_INPUT  (1u << 4) /* inputs may be negative: positive and negative parts run as two passes */
#define CIMNET_F_SOFTMAX       (1u << 5) /* softmax over the outputs (last layer only) */
#define CIMNET_F_LAST          (1u << 6) /* last layer: outputs are the network outputs */
#define CIMNET_F_RESIDUAL      (1u << 7) /* adds layer res_layer-1's output after bias, before ReLU/pooling */
#define CIMNET_F_RES_SOURCE    (1u << 8) /* a later layer adds this output: sram_out is its own buffer */

/* Header flags. */
#define CIMNET_HF_IDEAL (1u << 0) /* compiled for the ideal (float) data path: multi-digit inputs */

typedef struct {
    uint32_t magic;        /* CIMNET_MAGIC */
    uint32_t version;      /* CIMNET_VERSION */
    uint32_t header_bytes; /* sizeof(cimnet_header_t) */
    uint32_t total_bytes;  /* whole image */
    uint32_t flags;        /* CIMNET_HF_* */
    uint32_t n_layers;
    uint32_t layer_bytes;  /* sizeof(cimnet_layer_t) */
    uint32_t layers_off;   /* n_layers descriptors */
    uint32_t n_tiles;      /* tiles the network occupies (tile indices 0..n_tiles-1) */
    uint32_t tile_bytes;   /* sizeof(cimnet_tile_t) */
    uint32_t tiles_off;    /* n_tiles records */
    uint32_t batch;        /* images per batch the SRAM buffers are sized for */
    uint32_t sram_bytes;   /* SRAM the buffers of one batch need (from the SRAM base) */
    uint32_t in_c, in_h, in_w; /* network input of one image (float32 CHW) */
    uint32_t out_count;    /* network outputs of one image (float32) */
    uint32_t rows, cols;   /* array geometry compiled for */
    uint32_t input_bits;   /* input code width per digit */
    uint32_t weight_bits;
    uint32_t cell_bits;
    /* Descriptor scratch in SRAM (offset from the SRAM base, inside sram_bytes): the DMA
     * descriptor chain and DPU op chain of one layer and the DPU's argmax results. */
    uint32_t sram_desc, sram_desc_bytes;
    /* Multi-pass layers (several input digits, or signed inputs; docs/network.md): the DPU
     * splits a layer's input into uint8 digit planes (sign-major, `batch x in_c*in_h*in_w`
     * bytes each) at sram_planes, the DMA im2col reads one plane per pass, the DPU adds each
     * pass x digit weight into the float32 accumulator at sram_sum (batch x positions x n,
     * position-major); sram_tmp holds the float32 remainders of the digit split. 0 bytes when
     * no layer needs them. Offsets from the SRAM base, inside sram_bytes. */
    uint32_t sram_planes, sram_planes_bytes;
    uint32_t sram_sum, sram_sum_bytes;
    uint32_t sram_tmp, sram_tmp_bytes;
    uint32_t reserved[2];
} cimnet_header_t; /* 128 bytes */

typedef struct {
    uint32_t op;     /* CIMNET_OP_* */
    uint32_t flags;  /* CIMNET_F_* */
    /* Input of one image: float32 CHW at sram_in (FC: in_c = K, in_h = in_w = 1). */
    uint32_t in_c, in_h, in_w;
    /* im2col geometry (CONV). Row k of a patch vector is c*kh*kw + ky*kw + kx, the ONNX
     * weight order [N, C, kh, kw]; padding reads as 0. */
    uint32_t kh, kw, stride_h, stride_w, dil_h, dil_w;
    uint32_t pad_t, pad_l, pad_b, pad_r;
    uint32_t mm_h, mm_w;     /* output positions of the product (FC: 1, 1) */
    uint32_t k, n;           /* matrix rows (inputs per vector) and columns (out_c x wdigits) */
    /* Input quantisation: q = round(x / x_scale) clamped to [0, q_max] (signed inputs: the
     * positive and negative parts separately); q is split into `digits` base-2^input_bits
     * digits, each run through the tiles as its own pass and recombined by the DPU. */
    float x_scale;
    uint32_t q_max;
    uint32_t digits;
    /* Tiles: row blocks x column blocks, tile index first_tile + rb * col_blocks + cb. */
    uint32_t first_tile, row_blocks, col_blocks;
    uint32_t block_cols; /* logical columns per column block (the last may hold fewer) */
    /* DPU tables at dpu_off: n float32 scales (w_scale[j] * x_scale), then n float32 biases. */
    uint32_t dpu_off;
    /* Pooling after ReLU (when a POOL flag is set), on the mm_h x mm_w x n output. */
    uint32_t pool_kh, pool_kw, pool_sh, pool_sw, pool_pt, pool_pl, pool_pb, pool_pr;
    /* Output of one image: float32 CHW (out_c = n) at sram_out. */
    uint32_t out_c, out_h, out_w;
    /* SRAM buffers for `batch` images, offsets from the SRAM base:
     *   sram_in    batch x in_c*in_h*in_w float32 (the previous layer's sram_out)
     *   sram_codes batch x mm_h*mm_w x k uint8 codes (one digit pass)
     *   sram_acc   row_blocks x batch*mm_h*mm_w x n float32 partial sums
     *   sram_out   batch x out_c*out_h*out_w float32 */
    uint32_t sram_in, sram_codes, sram_acc, sram_out;
    /* Requantisation of this layer's output to the next layer's input codes (the DPU's
     * out_scale / out_bits): the next layer's x_scale and q_max; 0 for the last layer. When
     * the next layer takes codes (one unsigned digit), sram_out holds uint8 codes CHW
     * instead of float32 (docs/network-image.md). */
    float out_scale;
    uint32_t out_q_max;
    /* CIMNET_F_RESIDUAL: 1 + index of the earlier layer whose output (its sram_out, float32
     * or uint8 codes as for its next layer) is added; 0 otherwise. */
    uint32_t res_layer;
    /* Weight digits: 1, or 2 (ideal mode): matrix column out_c + j holds the code of the
     * rounding remainder of column j at lo_gain = 2^-16 of its scale, so n = 2 x out_c and the
     * DPU adds column out_c + j x lo_gain to column j before scale[j]. */
    uint32_t wdigits;
    float lo_gain;
    uint32_t reserved[1];
} cimnet_layer_t; /* 192 bytes */

typedef struct {
    uint32_t layer;      /* layer index */
    uint32_t rb, cb;     /* row block, column block */
    uint32_t row0, col0; /* first matrix row / column the tile holds */
    uint32_t k, n;       /* rows and logical columns held */
    uint32_t used_cols;  /* physical columns used */
    uint32_t codes_off;  /* k x n int32 weight codes, row-major */
    uint32_t targets_off; /* rows x cols float32 conductance targets in uS, row-major */
    uint32_t reserved[2];
} cimnet_tile_t; /* 48 bytes */

/* The job block the loader writes at the start of host memory (the firmware's arguments
 * beyond SYSCTL_APP_ARG0/1). Offsets are bytes from the host-memory base. */
#define CIMNET_JOB_MAGIC 0x424F4A43u /* "CJOB" */
#define CIMNET_IN_U8  1u /* uint8 pixels, x = pixel * in_scale */
#define CIMNET_IN_F32 2u /* float32, x = value */

typedef struct {
    uint32_t magic;       /* CIMNET_JOB_MAGIC */
    uint32_t image_off;   /* network image */
    uint32_t input_off;   /* count inputs, each in_c*in_h*in_w elements */
    uint32_t input_format; /* CIMNET_IN_* */
    float in_scale;       /* CIMNET_IN_U8: value of one pixel step (1/255) */
    uint32_t count;       /* inputs to run */
    uint32_t class_off;   /* count uint32 classes (argmax of the outputs) written here */
    uint32_t output_off;  /* if non-zero: count x out_count float32 outputs written here */
    uint32_t batch;       /* 0: the image's batch; else min(this, image batch) */
    uint32_t done;        /* the firmware writes the number of inputs completed */
    /* ADC calibration before inference (firmware/lib/fw_calib.h, docs/calibration.md);
     * calib_count == 0: no calibration. Inputs in the job's input_format, TRAINING split. */
    uint32_t calib_count;      /* calibration inputs */
    uint32_t calib_input_off;  /* their offset (host memory) */
    uint32_t calib_mode;       /* ADC_MODE_* the banks run after calibration (SAR/FLASH: uniform, range from the data) */
    uint32_t calib_flags;      /* CIMNET_CAL_F_* */
    uint32_t calib_samples;    /* capture capacity per ADC group, samples (decimation chosen to fit) */
    uint32_t calib_result_off; /* cimnet_calib_header_t + one cimnet_calib_result_t per group written here */
    uint32_t job_flags;        /* CIMNET_JOB_F_* */
    uint32_t calib_group_cols; /* CIMNET_CAL_F_GROUP_COLUMNS: physical columns per ADC column group (a multiple
                                * of ADC_SHARE, <= the array's columns) */
    uint32_t calib_sr_policy;  /* CIMNET_CAL_SR_* (super-resolution decoder next to the zero window) */
    uint32_t reserved[5];
} cimnet_job_t; /* 96 bytes */

/* Job flags. */
#define CIMNET_JOB_F_PROGRAM (1u << 0) /* program the weights through the programming controller first (write-verify) */
#define CIMNET_JOB_F_CPU_DATAPATH (1u << 1) /* im2col and post-processing on the CPU even where the DMA/DPU could run them (comparison runs) */

#define CIMNET_CAL_F_WRITE_VERIFY (1u << 0) /* program Q-cell edges through the programming controller */
#define CIMNET_CAL_F_GROUP_ARRAY  (1u << 1) /* one ADC design per tile (array); else one per layer */
#define CIMNET_CAL_F_GROUP_COLUMNS (1u << 2) /* one ADC design per column group of each tile (calib_group_cols
                                              * columns: the bank's threshold sets, ADC_SET_COLS) */

/* Super-resolution decoder policy (calib_sr_policy; docs/calibration.md "Super-resolution"). */
#define CIMNET_CAL_SR_BOUNDARY  0u /* disagreement -> nominal threshold between the codes (the paper's rule) */
#define CIMNET_CAL_SR_ZERO_WINS 1u /* as BOUNDARY, but a disagreement involving the zero-pinned window outputs 0
                                    * (ADC_SR_ZERO_CODE) */

/* Calibration result area (written by the firmware, read by the platform). */
#define CIMNET_CAL_MAGIC 0x4C414343u /* "CCAL" */
typedef struct {
    uint32_t magic;        /* CIMNET_CAL_MAGIC once the calibration finished */
    uint32_t n_results;    /* groups calibrated */
    uint32_t result_bytes; /* sizeof(cimnet_calib_result_t) */
    uint32_t capacity;     /* samples per group actually used (SRAM left by the network bounds it) */
    uint32_t time_ns_lo, time_ns_hi; /* simulated time of the whole calibration */
    uint32_t prog_pulses;  /* write-verify pulses of the calibration (controller counter difference), low word */
    uint32_t prog_failures;
    uint32_t prog_pulses_hi;
    uint32_t conv_lo, conv_hi; /* ADC conversions of all tiles when the calibration ended (the platform subtracts
                                * them from the run's totals to count inference conversions) */
    uint32_t sr_disagree;  /* ADC_SR_DISAGREE summed over the tiles when the calibration ended */
    uint32_t energy_fj_lo, energy_fj_hi; /* PMU energy of the calibration (fJ), when the chip has a PMU */
    uint32_t has_energy;   /* 1: energy_fj_* valid */
    uint32_t reserved[1];
} cimnet_calib_header_t; /* 64 bytes */

/* Result flags. */
#define CIMNET_CAL_R_FEW_SAMPLES (1u << 0) /* fewer than CIMNET_CAL_MIN_PER_LEVEL x 2^bits samples: uniform fallback */
#define CIMNET_CAL_R_NO_SAMPLES  (1u << 1) /* nothing captured: converters left on the design range */
#define CIMNET_CAL_R_PROG_FAIL   (1u << 2) /* write-verify reported failures or an error */
#define CIMNET_CAL_MIN_PER_LEVEL 4u

/* Quantiser design of a group (cimnet_calib_result_t.design). */
#define CIMNET_CAL_D_NONE        0u /* no samples: the bank keeps its design range */
#define CIMNET_CAL_D_LLOYD_MAX   1u /* Lloyd-Max over the (clipped) range */
#define CIMNET_CAL_D_ZERO_PINNED 2u /* zero-pinned Lloyd-Max (docs/calibration.md "Design choices") */
#define CIMNET_CAL_D_FALLBACK    3u /* too few samples: uniform thresholds over [min, max] */
/* (A SAR/flash run applies the mid-tread baseline, mse_sar; `design` then names the Q-cell design
 * its mse_lloyd_max column reports for comparison.) */

typedef struct {
    uint32_t layer;
    uint32_t tile;         /* first tile of the group */
    uint32_t tiles;        /* tiles in the group */
    uint32_t flags;        /* CIMNET_CAL_R_* */
    uint32_t samples;      /* samples the design used */
    uint32_t decim;        /* capture decimation */
    uint32_t bits;
    uint32_t mode;         /* ADC_MODE_* applied */
    float range_lo, range_hi; /* captured [min, max] in digits */
    float mse_uniform;     /* 2^bits uniform levels over [min, max] (digits^2) */
    float mse_lloyd_max;   /* the designed quantiser (`design`), nominal thresholds */
    float mse_achieved;    /* after APPLY / programming, from the edges read back (mean over the group's tiles;
                            * super-resolution: the SR decoder on both copies' edges) */
    float max_edge_err;    /* max |achieved - nominal| edge, digits (every copy) */
    uint32_t lm_iterations;
    uint32_t design;       /* CIMNET_CAL_D_* */
    /* Column group (CIMNET_CAL_F_GROUP_COLUMNS): the bank's threshold set and its physical columns;
     * otherwise set 0 and the whole array. */
    uint32_t set, col0, cols;
    float mse_sar;         /* the mid-tread SAR baseline (least-MSE full scale) on the same samples */
    float sar_full_scale;  /* its full scale A (RANGE = [-A, A]) */
    float mse_single;      /* super-resolution: copy 0 alone as a single Q-cell ADC (else = mse_achieved) */
    /* Super-resolution on the captured samples (decoded in firmware from both copies' edges): samples where the
     * copies disagree, and of those the ones where copy 0's code is the zero-pinned window. */
    uint32_t sr_disagree, sr_disagree_zero;
    uint32_t zero_code;    /* code of the zero-pinned window, or 0xFFFFFFFF */
    /* Signed error (output - input, digits) of the achieved converter on the captured samples, mean over all
     * samples and over the zero spike (|x| < 0.5): the systematic part the shift-and-add accumulates; for SR
     * also of copy 0 alone. */
    float bias, zero_bias, bias_single, zero_bias_single;
    /* Sample decodes behind mse_achieved, mse_single, the biases and sr_disagree: samples x tiles, or samples
     * once when every tile's edges are identical (decode_step 0), or a subsample of every decode_step-th sample
     * per tile past the decode budget (docs/calibration.md "Achieved MSE"). */
    uint32_t decoded, decode_step;
    uint32_t reserved[1];
} cimnet_calib_result_t; /* 128 bytes */

/* Firmware exit codes of `infer` beyond 0. */
#define CIMNET_EXIT_NO_HOSTMEM 10
#define CIMNET_EXIT_BAD_JOB    11
#define CIMNET_EXIT_BAD_IMAGE  12
#define CIMNET_EXIT_NO_TILE    13
#define CIMNET_EXIT_TILE_ERROR 14
#define CIMNET_EXIT_PROGRAM    16 /* program_weights failed (no controller, controller error) */
#define CIMNET_EXIT_SCRATCH    15 /* image needs more firmware scratch than built in */
#define CIMNET_EXIT_CALIB      16 /* ADC calibration failed (console says why) */

#endif /* CIMVP_NETIMAGE_H */
