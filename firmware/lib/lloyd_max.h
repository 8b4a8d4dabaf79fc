/* Lloyd-Max scalar quantiser design for the Q-cell ADC thresholds (firmware and host).
 *
 * Freestanding C11: no malloc, no libc, no libm. The caller passes one work buffer of
 * lm_work_bytes(n, bits) bytes. Samples are sorted once (radix sort on the float bits),
 * then each Lloyd iteration costs O(2^bits log n) through prefix sums over the sorted data.
 *
 * Convention: cell k is [t[k-1], t[k]) with t[-1] = -inf, t[L-1] = +inf, L = 2^bits; a
 * sample equal to a threshold belongs to the upper cell. Levels ascend strictly.
 */
#ifndef CIMVP_LLOYD_MAX_H
#define CIMVP_LLOYD_MAX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LM_MAX_BITS 8
#define LM_MAX_LEVELS 256

/* Starts (bit mask); every selected start is run and the lowest final MSE kept. */
#define LM_START_UNIFORM 1u  /* levels evenly spaced min..max (the paper's reference code) */
#define LM_START_QUANTILE 2u /* levels at the (k+0.5)/L weight quantiles */
#define LM_START_KMEANSPP 4u /* seeded k-means++ (D^2 sampling) on a quantile subsample */
#define LM_START_ALL 7u

/* Return codes. */
#define LM_OK 0
#define LM_ERR_ARG -1      /* null pointer, n == 0, bits outside 1..8, bad option */
#define LM_ERR_NONFINITE -2 /* a sample or weight is NaN/Inf (index in result->bad_index) */
#define LM_ERR_WORK -3     /* work buffer smaller than lm_work_bytes() */
#define LM_ERR_WEIGHT -4   /* negative weight or all weights zero */

typedef struct {
  uint32_t max_iter;     /* per start; 0 -> 1000 */
  double tol;            /* stop when (mse_prev - mse) / mse_prev < tol; <= 0 -> 1e-9 */
  uint32_t starts;       /* LM_START_* mask; 0 -> LM_START_ALL */
  uint32_t kmeanspp_runs;/* number of k-means++ seeds when selected; 0 -> 2 */
  uint64_t seed;         /* for the k-means++ starts */
  double edge_sigma;     /* > 0: variation-aware design for thresholds perturbed by
                            N(0, edge_sigma^2) (data units); 0: classic Lloyd-Max */
} lm_options;

typedef struct {
  double mse;            /* weighted MSE of the returned quantiser on the data (nominal thresholds) */
  double expected_mse;   /* with edge_sigma > 0: expected MSE under threshold noise; else == mse */
  double start_mse[3];   /* final MSE reached from each start kind (uniform, quantile, best k-means++); -1 if not run */
  uint32_t iterations;   /* iterations of the winning start */
  uint32_t start_used;   /* LM_START_* bit of the winning start */
  uint32_t distinct;     /* distinct sample values (levels > distinct -> padded, MSE 0) */
  size_t bad_index;      /* with LM_ERR_NONFINITE: index of the offending sample/weight */
} lm_result;

/* Default options (all starts, tol 1e-9, 1000 iterations, seed 1, classic). */
void lm_default_options(lm_options* opt);

/* Bytes of work buffer lm_design needs (8-byte aligned buffer). */
size_t lm_work_bytes(size_t n, unsigned bits);

/* Design a 2^bits-level quantiser for samples x[0..n) with optional weights w (NULL = 1).
 * Writes thresholds[2^bits - 1] (ascending) and levels[2^bits] (strictly ascending). */
int lm_design(const float* x, const float* w, size_t n, unsigned bits, const lm_options* opt, void* work,
              size_t work_bytes, float* thresholds, float* levels, lm_result* result);

/* MSE of 2^bits evenly spaced levels from min(x) to max(x), nearest level. Returns < 0 on bad
 * input (-1 argument, -2 non-finite). */
double lm_uniform_mse(const float* x, const float* w, size_t n, unsigned bits);

/* MSE of given thresholds (n_levels - 1, ascending) and levels on data (cell convention above).
 * Returns < 0 on bad input. */
double lm_eval_mse(const float* x, const float* w, size_t n, const float* thresholds, const float* levels,
                   unsigned n_levels);

/* Sort n floats ascending in place (LSD radix sort on the float bits; tmp holds n floats;
 * an optional payload array pw (e.g. weights) is permuted alongside, tmpw holds n floats). */
void lm_sort_f32(float* v, float* pw, size_t n, float* tmp, float* tmpw);

#ifdef __cplusplus
}
#endif

#endif /* CIMVP_LLOYD_MAX_H */
