/* Lloyd-Max quantiser design, freestanding C11 (see lloyd_max.h). */
#include "lloyd_max.h"

#include <float.h>
#include <stdbool.h>

typedef union {
  float f;
  uint32_t u;
} lm_fu; /* union punning is defined in C11; keeps the radix sort free of aliasing UB */

/* ---------------------------------------------------------------- small helpers */

static uint64_t lm_splitmix(uint64_t* s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static double lm_uniform01(uint64_t* s) { return (double)(lm_splitmix(s) >> 11) * (1.0 / 9007199254740992.0); }

static bool lm_finite(float v) {
  lm_fu b;
  b.f = v;
  return (b.u & 0x7F800000u) != 0x7F800000u;
}

static size_t lm_align8(size_t b) { return (b + 7u) & ~(size_t)7u; }

/* ---------------------------------------------------------------- radix sort */

static uint32_t lm_key(uint32_t u) { return (u & 0x80000000u) ? ~u : (u | 0x80000000u); }
static uint32_t lm_unkey(uint32_t k) { return (k & 0x80000000u) ? (k & 0x7FFFFFFFu) : ~k; }

/* LSD radix sort, 3 passes of 11 bits; stable, so the payload follows its key. */
void lm_sort_f32(float* v, float* pw, size_t n, float* tmp, float* tmpw) {
  lm_fu* a = (lm_fu*)v;
  lm_fu* b = (lm_fu*)tmp;
  lm_fu* wa = (lm_fu*)pw;
  lm_fu* wb = (lm_fu*)tmpw;
  size_t count[2048];
  size_t i;
  unsigned pass;
  for (i = 0; i < n; ++i) a[i].u = lm_key(a[i].u);
  for (pass = 0; pass < 3; ++pass) {
    const unsigned shift = pass * 11u;
    size_t sum = 0;
    lm_fu* t;
    for (i = 0; i < 2048; ++i) count[i] = 0;
    for (i = 0; i < n; ++i) count[(a[i].u >> shift) & 2047u]++;
    for (i = 0; i < 2048; ++i) {
      size_t c = count[i];
      count[i] = sum;
      sum += c;
    }
    for (i = 0; i < n; ++i) {
      size_t d = count[(a[i].u >> shift) & 2047u]++;
      b[d] = a[i];
      if (wa) wb[d] = wa[i];
    }
    t = a; a = b; b = t;
    if (wa) { t = wa; wa = wb; wb = t; }
  }
  /* after an odd number of passes the data sits in tmp: copy back */
  for (i = 0; i < n; ++i) ((lm_fu*)v)[i].u = lm_unkey(a[i].u);
  if (pw)
    for (i = 0; i < n; ++i) ((lm_fu*)pw)[i] = wa[i];
}

/* ---------------------------------------------------------------- design state */

typedef struct {
  const float* xs;  /* sorted samples (weights > 0 only) */
  const double* P0; /* prefix sums of w, w*u, w*u^2, u = x - shift; length n+1 */
  const double* P1;
  const double* P2;
  size_t n;
  double shift;
  double W;
  unsigned L;
  double sigma; /* edge sigma, shifted units are the same as data units */
  double* y;    /* L levels (shifted) */
  double* t;    /* L-1 thresholds (shifted) */
  double* sse;  /* per-cell */
  size_t* idx;  /* L+1 cell bounds */
  double* tmp;  /* L scratch */
  size_t* hint; /* LM_HINTS_PER_T per threshold: where its last prefix search ended */
} lm_state;

/* Each threshold's prefix-sum searches start from where its previous search ended (one slot per
 * Gauss-Hermite node). Between Lloyd iterations a threshold moves little, and lm_sse_of and the
 * next lm_centroids search the very same value, so most searches take a few probes instead of
 * log2(n) cache-missing ones. The answer is the same as a plain binary search. */
#define LM_HINTS_PER_T 5u

/* Number of samples strictly below value u (shifted units). */
static size_t lm_below(const lm_state* s, double u) {
  const double v = u + s->shift;
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = lo + ((hi - lo) >> 1);
    if ((double)s->xs[mid] < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* lm_below, galloping out from *hint (any value; clamped) and leaving the answer there. */
static size_t lm_below_from(const lm_state* s, double u, size_t* hint) {
  const double v = u + s->shift;
  const float* xs = s->xs;
  const size_t n = s->n;
  size_t h = *hint > n ? n : *hint, lo, hi, step = 1;
  if (h < n && (double)xs[h] < v) { /* answer in (h, n] */
    lo = h + 1;
    hi = n;
    while (step <= n - h - 1) {
      const size_t probe = h + step;
      if ((double)xs[probe] < v) { lo = probe + 1; step <<= 1; }
      else { hi = probe; break; }
    }
  } else { /* answer in [0, h] */
    lo = 0;
    hi = h;
    while (step <= h) {
      const size_t probe = h - step;
      if ((double)xs[probe] < v) { lo = probe + 1; break; }
      hi = probe;
      step <<= 1;
    }
  }
  while (lo < hi) {
    size_t mid = lo + ((hi - lo) >> 1);
    if ((double)xs[mid] < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  *hint = lo;
  return lo;
}

/* 5-point Gauss-Hermite (probabilists') nodes and weights: E[f(Z)], Z ~ N(0,1). */
static const double lm_gh_z[5] = {-2.8569700138728056, -1.3556261799742657, 0.0, 1.3556261799742657,
                                  2.8569700138728056};
static const double lm_gh_w[5] = {0.011257411327720691, 0.22207592200561266, 0.53333333333333333,
                                  0.22207592200561266, 0.011257411327720691};

/* Expected prefix sums below threshold k at u when it carries N(0, sigma^2) error. */
static void lm_eprefix(const lm_state* s, unsigned k, double u, double out[3]) {
  size_t* h = s->hint + (size_t)k * LM_HINTS_PER_T;
  if (s->sigma <= 0.0) {
    size_t i = lm_below_from(s, u, h);
    out[0] = s->P0[i]; out[1] = s->P1[i]; out[2] = s->P2[i];
    return;
  }
  out[0] = out[1] = out[2] = 0.0;
  for (int q = 0; q < 5; ++q) {
    size_t i = lm_below_from(s, u + s->sigma * lm_gh_z[q], h + q);
    out[0] += lm_gh_w[q] * s->P0[i];
    out[1] += lm_gh_w[q] * s->P1[i];
    out[2] += lm_gh_w[q] * s->P2[i];
  }
}

/* Sum of squared error of (t, y) on the data (expected, with sigma > 0). */
static double lm_sse_of(const lm_state* s) {
  double lo[3] = {0.0, 0.0, 0.0}, hi[3], total = 0.0;
  for (unsigned k = 0; k < s->L; ++k) {
    if (k + 1 < s->L) {
      lm_eprefix(s, k, s->t[k], hi);
    } else {
      hi[0] = s->P0[s->n]; hi[1] = s->P1[s->n]; hi[2] = s->P2[s->n];
    }
    const double s0 = hi[0] - lo[0], s1 = hi[1] - lo[1], s2 = hi[2] - lo[2];
    const double y = s->y[k];
    double e = s2 - 2.0 * y * s1 + y * y * s0;
    if (e < 0.0) e = 0.0; /* rounding */
    total += e;
    lo[0] = hi[0]; lo[1] = hi[1]; lo[2] = hi[2];
  }
  return total;
}

/* Boundary cost g(u) between levels a < b (see docs/adc.md): expected over threshold noise. */
static double lm_boundary_cost(const lm_state* s, unsigned k, double u, double a, double b) {
  double p[3];
  lm_eprefix(s, k, u, p);
  return (b - a) * (2.0 * p[1] - (a + b) * p[0]);
}

/* Thresholds for the present levels: midpoints (classic), or the minimiser of the expected
 * boundary cost (variation-aware: coarse grid, then golden-section refinement). */
static void lm_update_thresholds(lm_state* s) {
  for (unsigned k = 0; k + 1 < s->L; ++k) {
    const double a = s->y[k], b = s->y[k + 1];
    if (s->sigma <= 0.0 || !(b > a)) {
      s->t[k] = 0.5 * (a + b);
      continue;
    }
    const int G = 32;
    int best = 0;
    double bestv = DBL_MAX;
    for (int g = 0; g <= G; ++g) {
      const double u = a + (b - a) * (double)g / G;
      const double v = lm_boundary_cost(s, k, u, a, b);
      if (v < bestv) { bestv = v; best = g; }
    }
    double lo = a + (b - a) * (double)(best > 0 ? best - 1 : 0) / G;
    double hi = a + (b - a) * (double)(best < G ? best + 1 : G) / G;
    const double r = 0.6180339887498949;
    double c = hi - r * (hi - lo), d = lo + r * (hi - lo);
    double fc = lm_boundary_cost(s, k, c, a, b), fd = lm_boundary_cost(s, k, d, a, b);
    for (int it = 0; it < 30; ++it) {
      if (fc <= fd) { hi = d; d = c; fd = fc; c = hi - r * (hi - lo); fc = lm_boundary_cost(s, k, c, a, b); }
      else { lo = c; c = d; fc = fd; d = lo + r * (hi - lo); fd = lm_boundary_cost(s, k, d, a, b); }
    }
    const double u = 0.5 * (lo + hi);
    s->t[k] = (lm_boundary_cost(s, k, u, a, b) <= bestv) ? u : a + (b - a) * (double)best / G;
  }
}

static void lm_sort_doubles(double* v, unsigned m) {
  for (unsigned i = 1; i < m; ++i) {
    double x = v[i];
    unsigned j = i;
    while (j > 0 && v[j - 1] > x) { v[j] = v[j - 1]; --j; }
    v[j] = x;
  }
}

/* Cell sums with the present thresholds (expected under noise). Returns number of empty cells. */
static unsigned lm_centroids(lm_state* s) {
  double lo[3] = {0.0, 0.0, 0.0}, hi[3];
  unsigned empty = 0;
  for (unsigned k = 0; k < s->L; ++k) {
    if (k + 1 < s->L) {
      lm_eprefix(s, k, s->t[k], hi);
    } else {
      hi[0] = s->P0[s->n]; hi[1] = s->P1[s->n]; hi[2] = s->P2[s->n];
    }
    const double s0 = hi[0] - lo[0], s1 = hi[1] - lo[1], s2 = hi[2] - lo[2];
    if (s0 > s->W * 1e-15) {
      s->y[k] = s1 / s0;
      double e = s2 - s1 * s1 / s0;
      s->sse[k] = e > 0.0 ? e : 0.0;
    } else {
      s->sse[k] = -1.0; /* empty */
      ++empty;
    }
    lo[0] = hi[0]; lo[1] = hi[1]; lo[2] = hi[2];
  }
  return empty;
}

/* Re-seed empty cells: drop their levels and split the worst splittable cells at their
 * centroids (each half gets its own centroid). Levels stay finite and ascending. */
static void lm_reseed(lm_state* s) {
  unsigned m = 0;
  double* keep = s->tmp;
  for (unsigned k = 0; k < s->L; ++k)
    if (s->sse[k] >= 0.0) keep[m++] = s->y[k];
  /* cell bounds (nominal) of the kept levels for splitting */
  while (m < s->L) {
    /* find the cell (under midpoint thresholds of keep[]) with the largest SSE and >= 2 values */
    double best = -1.0, ysplit_lo = 0.0, ysplit_hi = 0.0;
    unsigned bestk = 0;
    size_t a = 0;
    for (unsigned k = 0; k < m; ++k) {
      size_t b = (k + 1 < m) ? lm_below(s, 0.5 * (keep[k] + keep[k + 1])) : s->n;
      if (b > a + 1 && s->xs[a] != s->xs[b - 1]) {
        const double s0 = s->P0[b] - s->P0[a], s1 = s->P1[b] - s->P1[a], s2 = s->P2[b] - s->P2[a];
        const double e = s2 - s1 * s1 / s0;
        if (e > best) {
          /* split at the centroid: both halves are non-empty since the cell has 2+ values */
          size_t c = lm_below(s, s1 / s0);
          if (c <= a) c = a + 1;
          if (c >= b) c = b - 1;
          while (c > a + 1 && s->xs[c] == s->xs[c - 1]) --c;
          if (s->xs[c] == s->xs[c - 1]) {
            while (c < b - 1 && s->xs[c] == s->xs[c - 1]) ++c;
          }
          const double l0 = s->P0[c] - s->P0[a], l1 = s->P1[c] - s->P1[a];
          const double h0 = s->P0[b] - s->P0[c], h1 = s->P1[b] - s->P1[c];
          if (l0 > 0.0 && h0 > 0.0) {
            best = e; bestk = k; ysplit_lo = l1 / l0; ysplit_hi = h1 / h0;
          }
        }
      }
      a = b;
    }
    if (best < 0.0) break; /* nothing splittable: fewer distinct values than levels */
    keep[bestk] = ysplit_lo;
    keep[m++] = ysplit_hi;
    lm_sort_doubles(keep, m);
  }
  while (m < s->L) { /* pad: split the widest gap between levels (those cells stay empty) */
    unsigned g = 0;
    double wmax = -1.0;
    for (unsigned k = 0; k + 1 < m; ++k)
      if (keep[k + 1] - keep[k] > wmax) { wmax = keep[k + 1] - keep[k]; g = k; }
    if (m < 2 || wmax <= 0.0) {
      const double step = (keep[m - 1] + s->shift < 0 ? -(keep[m - 1] + s->shift) : keep[m - 1] + s->shift) + 1.0;
      keep[m] = keep[m - 1] + step * (1.0 / 1024.0);
      ++m;
      continue;
    }
    keep[m++] = 0.5 * (keep[g] + keep[g + 1]);
    lm_sort_doubles(keep, m);
  }
  for (unsigned k = 0; k < s->L; ++k) s->y[k] = keep[k];
}

/* Lloyd iterations from the levels in s->y. Returns final SSE; *iters gets the count. */
static double lm_run(lm_state* s, uint32_t max_iter, double tol, uint32_t* iters) {
  double prev = DBL_MAX, sse = DBL_MAX;
  uint32_t it = 0;
  for (size_t i = 0; i < (size_t)s->L * LM_HINTS_PER_T; ++i) s->hint[i] = 0;
  lm_sort_doubles(s->y, s->L);
  while (it < max_iter) {
    lm_update_thresholds(s);
    if (lm_centroids(s) > 0) lm_reseed(s);
    ++it;
    lm_update_thresholds(s);
    sse = lm_sse_of(s);
    if (sse <= 0.0) break;
    if (prev < DBL_MAX && (prev - sse) <= tol * prev) break;
    prev = sse;
  }
  lm_update_thresholds(s);
  sse = lm_sse_of(s);
  *iters = it;
  return sse;
}

/* ---------------------------------------------------------------- public API */

void lm_default_options(lm_options* opt) {
  opt->max_iter = 1000;
  opt->tol = 1e-9;
  opt->starts = LM_START_ALL;
  opt->kmeanspp_runs = 2;
  opt->seed = 1;
  opt->edge_sigma = 0.0;
}

#define LM_KPP_M 4096u

size_t lm_work_bytes(size_t n, unsigned bits) {
  const size_t L = (size_t)1u << (bits > LM_MAX_BITS ? LM_MAX_BITS : bits);
  size_t b = 0;
  b += lm_align8(4 * n * sizeof(float));            /* sorted x, sort tmp, weights, weights tmp */
  b += 3 * (n + 1) * sizeof(double);                /* prefix sums */
  b += 2 * LM_KPP_M * sizeof(double);               /* k-means++ subsample and D^2 */
  b += (6 * L + 8) * sizeof(double);                /* y, t, sse, tmp, best y, best t */
  b += (L + 1) * sizeof(size_t);
  return b + 64;
}

static void lm_quantile_levels(const lm_state* s, unsigned L, double* y) {
  for (unsigned k = 0; k < L; ++k) {
    const double target = s->W * ((double)k + 0.5) / (double)L;
    size_t lo = 0, hi = s->n; /* first i with P0[i+1] >= target */
    while (lo < hi) {
      size_t mid = lo + ((hi - lo) >> 1);
      if (s->P0[mid + 1] < target) lo = mid + 1; else hi = mid;
    }
    y[k] = (double)s->xs[lo < s->n ? lo : s->n - 1] - s->shift;
  }
}

int lm_design(const float* x, const float* w, size_t n, unsigned bits, const lm_options* opt_in, void* work,
              size_t work_bytes, float* thresholds, float* levels, lm_result* res) {
  lm_options opt;
  lm_result dummy;
  if (!res) res = &dummy;
  res->mse = res->expected_mse = -1.0;
  res->start_mse[0] = res->start_mse[1] = res->start_mse[2] = -1.0;
  res->iterations = 0; res->start_used = 0; res->distinct = 0; res->bad_index = 0;
  if (!x || !work || !thresholds || !levels || n == 0 || bits < 1 || bits > LM_MAX_BITS) return LM_ERR_ARG;
  if (opt_in) opt = *opt_in; else lm_default_options(&opt);
  if (opt.max_iter == 0) opt.max_iter = 1000;
  if (!(opt.tol > 0.0)) opt.tol = 1e-9;
  if (opt.starts == 0) opt.starts = LM_START_ALL;
  if (opt.kmeanspp_runs == 0) opt.kmeanspp_runs = 2;
  if (!(opt.edge_sigma >= 0.0) || opt.edge_sigma > DBL_MAX) return LM_ERR_ARG;
  if (work_bytes < lm_work_bytes(n, bits)) return LM_ERR_WORK;
  const unsigned L = 1u << bits;

  /* carve the work buffer */
  unsigned char* p = (unsigned char*)work;
  p += (8u - ((uintptr_t)p & 7u)) & 7u;
  float* xs = (float*)p; p += n * sizeof(float);
  float* xt = (float*)p; p += n * sizeof(float);
  float* ws = (float*)p; p += n * sizeof(float);
  float* wt = (float*)p; p += n * sizeof(float);
  p += (8u - ((uintptr_t)p & 7u)) & 7u;
  double* P0 = (double*)p; p += (n + 1) * sizeof(double);
  double* P1 = (double*)p; p += (n + 1) * sizeof(double);
  double* P2 = (double*)p; p += (n + 1) * sizeof(double);
  double* sub = (double*)p; p += LM_KPP_M * sizeof(double);
  double* d2 = (double*)p; p += LM_KPP_M * sizeof(double);
  double* y = (double*)p; p += L * sizeof(double);
  double* t = (double*)p; p += L * sizeof(double);
  double* sse = (double*)p; p += L * sizeof(double);
  double* tmp = (double*)p; p += L * sizeof(double);
  double* besty = (double*)p; p += L * sizeof(double);
  double* bestt = (double*)p; p += L * sizeof(double);
  size_t* idx = (size_t*)p;

  /* copy, validate, drop zero weights */
  size_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!lm_finite(x[i])) { res->bad_index = i; return LM_ERR_NONFINITE; }
    float wi = 1.0f;
    if (w) {
      wi = w[i];
      if (!lm_finite(wi)) { res->bad_index = i; return LM_ERR_NONFINITE; }
      if (wi < 0.0f) { res->bad_index = i; return LM_ERR_WEIGHT; }
      if (wi == 0.0f) continue;
    }
    xs[m] = x[i];
    ws[m] = wi;
    ++m;
  }
  if (m == 0) return LM_ERR_WEIGHT;
  lm_sort_f32(xs, w ? ws : (float*)0, m, xt, wt);

  lm_state s;
  s.xs = xs; s.P0 = P0; s.P1 = P1; s.P2 = P2; s.n = m;
  s.shift = 0.5 * ((double)xs[0] + (double)xs[m - 1]); /* centre the data: better-conditioned sums */
  s.L = L; s.sigma = opt.edge_sigma; s.y = y; s.t = t; s.sse = sse; s.idx = idx; s.tmp = tmp;
  /* The search hints live in the k-means++ D^2 scratch: that is only used while a start's levels
   * are seeded, before lm_run (which resets the hints); L * 5 size_t fit in LM_KPP_M doubles. */
  s.hint = (size_t*)(void*)d2;
  for (size_t i = 0; i < (size_t)L * LM_HINTS_PER_T; ++i) s.hint[i] = 0;
  P0[0] = P1[0] = P2[0] = 0.0;
  uint32_t distinct = 0;
  for (size_t i = 0; i < m; ++i) {
    const double u = (double)xs[i] - s.shift, wi = w ? (double)ws[i] : 1.0;
    P0[i + 1] = P0[i] + wi;
    P1[i + 1] = P1[i] + wi * u;
    P2[i + 1] = P2[i] + wi * u * u;
    if (i == 0 || xs[i] != xs[i - 1]) ++distinct;
  }
  s.W = P0[m];
  res->distinct = distinct;

  double best = DBL_MAX;
  uint32_t best_it = 0, best_start = 0;
  if (distinct <= L) {
    /* exact: one level per distinct value, the rest padded into the widest gaps (empty cells) */
    unsigned k = 0;
    for (size_t i = 0; i < m; ++i)
      if (i == 0 || xs[i] != xs[i - 1]) y[k++] = (double)xs[i] - s.shift;
    for (unsigned j = 0; j < L; ++j) sse[j] = j < k ? 0.0 : -1.0;
    lm_reseed(&s);
    lm_update_thresholds(&s);
    best = lm_sse_of(&s);
    for (unsigned j = 0; j < L; ++j) { besty[j] = y[j]; bestt[j] = j + 1 < L ? t[j] : 0.0; }
    best_start = 0;
  } else {
    uint64_t rng = opt.seed;
    const unsigned nk = (opt.starts & LM_START_KMEANSPP) ? opt.kmeanspp_runs : 0u;
    for (unsigned run = 0; run < 2u + nk; ++run) {
      uint32_t kind = run == 0 ? LM_START_UNIFORM : run == 1 ? LM_START_QUANTILE : LM_START_KMEANSPP;
      if (!(opt.starts & kind)) continue;
      if (kind == LM_START_UNIFORM) {
        const double lo = (double)xs[0] - s.shift, hi = (double)xs[m - 1] - s.shift;
        for (unsigned k = 0; k < L; ++k) y[k] = lo + (hi - lo) * (double)k / (double)(L - 1);
      } else if (kind == LM_START_QUANTILE) {
        lm_quantile_levels(&s, L, y);
      } else {
        /* k-means++ on a quantile subsample (represents the weighted distribution, O(M L)) */
        const unsigned M = (m < LM_KPP_M) ? (unsigned)m : LM_KPP_M;
        {
          lm_state q = s;
          for (unsigned j = 0; j < M; ++j) {
            const double target = s.W * ((double)j + 0.5) / (double)M;
            size_t lo = 0, hi = s.n;
            while (lo < hi) {
              size_t mid = lo + ((hi - lo) >> 1);
              if (q.P0[mid + 1] < target) lo = mid + 1; else hi = mid;
            }
            sub[j] = (double)xs[lo < s.n ? lo : s.n - 1] - s.shift;
          }
        }
        y[0] = sub[(unsigned)(lm_uniform01(&rng) * M) % M];
        for (unsigned j = 0; j < M; ++j) d2[j] = (sub[j] - y[0]) * (sub[j] - y[0]);
        for (unsigned k = 1; k < L; ++k) {
          double tot = 0.0;
          for (unsigned j = 0; j < M; ++j) tot += d2[j];
          unsigned pick = (unsigned)(lm_uniform01(&rng) * M) % M;
          if (tot > 0.0) {
            double r = lm_uniform01(&rng) * tot, acc = 0.0;
            for (unsigned j = 0; j < M; ++j) {
              acc += d2[j];
              if (acc >= r) { pick = j; break; }
            }
          }
          y[k] = sub[pick];
          for (unsigned j = 0; j < M; ++j) {
            const double d = (sub[j] - y[k]) * (sub[j] - y[k]);
            if (d < d2[j]) d2[j] = d;
          }
        }
      }
      uint32_t it = 0;
      const double e = lm_run(&s, opt.max_iter, opt.tol, &it);
      const int slot = kind == LM_START_UNIFORM ? 0 : kind == LM_START_QUANTILE ? 1 : 2;
      if (res->start_mse[slot] < 0.0 || e / s.W < res->start_mse[slot]) res->start_mse[slot] = e / s.W;
      if (e < best) {
        best = e; best_it = it; best_start = kind;
        for (unsigned k = 0; k < L; ++k) { besty[k] = y[k]; bestt[k] = k + 1 < L ? t[k] : 0.0; }
      }
    }
  }
  for (unsigned k = 0; k < L; ++k) {
    y[k] = besty[k];
    levels[k] = (float)(besty[k] + s.shift);
    if (k + 1 < L) { t[k] = bestt[k]; thresholds[k] = (float)(bestt[k] + s.shift); }
  }
  res->expected_mse = best / s.W;
  s.sigma = 0.0; /* report the nominal MSE too */
  res->mse = lm_sse_of(&s) / s.W;
  if (opt.edge_sigma <= 0.0) res->expected_mse = res->mse;
  res->iterations = best_it;
  res->start_used = best_start;
  return LM_OK;
}

double lm_uniform_mse(const float* x, const float* w, size_t n, unsigned bits) {
  if (!x || n == 0 || bits < 1 || bits > 30) return -1.0;
  float mn = FLT_MAX, mx = -FLT_MAX;
  for (size_t i = 0; i < n; ++i) {
    if (!lm_finite(x[i])) return -2.0;
    if (x[i] < mn) mn = x[i];
    if (x[i] > mx) mx = x[i];
  }
  const double L1 = (double)((1u << bits) - 1u);
  const double step = ((double)mx - (double)mn) / L1;
  double sse = 0.0, W = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double wi = w ? (double)w[i] : 1.0;
    double q = 0.0;
    if (step > 0.0) {
      double c = ((double)x[i] - mn) / step + 0.5;
      long k = (long)c; /* c >= 0: truncation == floor */
      if (k > (long)L1) k = (long)L1;
      q = mn + step * (double)k;
    } else {
      q = mn;
    }
    const double d = (double)x[i] - q;
    sse += wi * d * d;
    W += wi;
  }
  return W > 0.0 ? sse / W : -1.0;
}

double lm_eval_mse(const float* x, const float* w, size_t n, const float* thresholds, const float* levels,
                   unsigned n_levels) {
  if (!x || !levels || n == 0 || n_levels < 1 || (n_levels > 1 && !thresholds)) return -1.0;
  double sse = 0.0, W = 0.0;
  for (size_t i = 0; i < n; ++i) {
    if (!lm_finite(x[i])) return -2.0;
    unsigned lo = 0, hi = n_levels - 1; /* code = number of thresholds <= x */
    while (lo < hi) {
      unsigned mid = (lo + hi) >> 1;
      if (x[i] >= thresholds[mid]) lo = mid + 1; else hi = mid;
    }
    const double wi = w ? (double)w[i] : 1.0;
    const double d = (double)x[i] - (double)levels[lo];
    sse += wi * d * d;
    W += wi;
  }
  return W > 0.0 ? sse / W : -1.0;
}
