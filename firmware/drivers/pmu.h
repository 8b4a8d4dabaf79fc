/* PMU driver: energy and time counters per power component (registers PMU_* in
 * cimvp/regs.h; docs/energy.md). Energy is in fJ, time in ps, both as uint64_t.
 *
 * Typical per-layer use (what the infer app prints):
 *     pmu_t pmu; pmu_snapshot_t a, b;
 *     if (pmu_open(&pmu) == 0) pmu_snapshot(&pmu, &a);
 *     ... run the layer ...
 *     pmu_snapshot(&pmu, &b);
 *     fw_printf("layer %u: %llu ns, %llu pJ\n", l, pmu_delta_ns(&a, &b), pmu_delta_pj(&a, &b));
 * A snapshot counts the energy of every operation started before it (an operation's energy
 * is reported when it is issued) plus leakage up to the snapshot instant. */
#ifndef CIMVP_DRIVER_PMU_H
#define CIMVP_DRIVER_PMU_H

#include <stdint.h>

#include "drivers/tile.h"

#define PMU_NO_COMPONENT 0xFFFFFFFFu

typedef struct {
    uint32_t base;  /* bus address of the PMU */
    uint32_t ncomp; /* number of power components */
} pmu_t;

typedef struct {
    uint64_t now_ps;   /* absolute simulated time of the snapshot */
    uint64_t time_ps;  /* time since the last pmu_reset() */
    uint64_t cycles;   /* the same interval in host-CPU cycles */
    uint64_t total_fj; /* energy of all components since the last pmu_reset() */
} pmu_snapshot_t;

/* Finds the PMU through the discovery table; 0 on success, -1 if the SoC has none. */
int pmu_open(pmu_t *p);
/* Zeroes every counter (energy and time) at the time of the access. */
void pmu_reset(const pmu_t *p);
/* Latches every counter at once and reads the totals into s. */
void pmu_snapshot(const pmu_t *p, pmu_snapshot_t *s);
/* Latched energy of component i (from the last snapshot), total and its leakage part, fJ. */
uint64_t pmu_component_fj(const pmu_t *p, uint32_t i);
uint64_t pmu_component_static_fj(const pmu_t *p, uint32_t i);
/* Latches and reads every component's energy into fj[0..n-1] (n <= p->ncomp); returns the
 * number read. Pair two calls to get per-component energy of a code region. */
uint32_t pmu_snapshot_components(const pmu_t *p, pmu_snapshot_t *s, uint64_t *fj, uint32_t n);
/* Latched busy time of component i, ps (0 for components whose block reports no busy
 * intervals: registers, memories, the CPU). */
uint64_t pmu_component_busy_ps(const pmu_t *p, uint32_t i);
/* Component name (up to 16 characters) into out[17]. */
void pmu_component_name(const pmu_t *p, uint32_t i, char out[17]);
/* Index of the component with this name (FNV-1a hash match), or PMU_NO_COMPONENT. */
uint32_t pmu_find(const pmu_t *p, const char *name);
/* FNV-1a 32-bit hash, as the PMU_C_HASH register computes it. */
uint32_t pmu_name_hash(const char *name);

/* Differences between two snapshots a (earlier) and b. */
static inline uint64_t pmu_delta_ns(const pmu_snapshot_t *a, const pmu_snapshot_t *b)
{
    return (b->now_ps - a->now_ps + 500u) / 1000u;
}
static inline uint64_t pmu_delta_pj(const pmu_snapshot_t *a, const pmu_snapshot_t *b)
{
    return (b->total_fj - a->total_fj + 500u) / 1000u;
}

/* Latches and prints one line per component with non-zero energy, then the total:
 * "pmu <label>: <name> <pJ>.<fJ> pJ" ... "pmu <label>: total <pJ> pJ in <ns> ns". */
void pmu_print(const pmu_t *p, const char *label);

/* ------------------------------------------------------------------------------------------
 * Meter: time and energy of code regions (a layer, a firmware phase), with the energy of a
 * range of tiles split by part, their ADC conversions and their arrays' busy time.
 *
 *     pmu_meter_t m;  pmu_mark_t a, b;  pmu_acc_t layer = {0};
 *     pmu_meter_open(&m, tiles, n_tiles);          (tiles opened with tile_open)
 *     pmu_meter_mark(&m, t0, nt, &a);  ... run the layer on tiles t0..t0+nt-1 ...
 *     pmu_meter_mark(&m, t0, nt, &b);  pmu_acc_add(&layer, &a, &b);
 *
 * A mark latches the PMU (one SNAPSHOT) and reads the total, then per tile of the range its
 * `<tile>_adc`, `<tile>.array` and `<tile>.periphery` components (found once, by name hash,
 * with the tiles named "tile<i>" as the network flow names them) and its TILE_CONV counter.
 * Marks telescope: for back-to-back regions the accumulated figures sum exactly to the
 * difference of the first and last marks (integer fJ / ps). A mark costs 9 + 13 x nt
 * register accesses (~12 ns each on the default chip), which the regions include.
 * ---------------------------------------------------------------------------------------- */
#define PMU_METER_MAX_TILES 65536u /* the platform's tile limit */
#define PMU_METER_MAX_COMPONENTS (4u * 65536u + 256u) /* 4 per tile (registers, adc, array, periphery) + the rest */

typedef struct {
    pmu_t pmu;
    const tile_t *tiles;
    uint32_t ntiles;
    uint32_t found; /* tiles whose three components were all found */
    uint32_t comp[PMU_METER_MAX_TILES][3]; /* adc, array, periphery index or PMU_NO_COMPONENT */
} pmu_meter_t;

typedef struct {
    uint64_t now_ps, total_fj;
    uint64_t adc_fj, array_fj, periphery_fj; /* summed over the mark's tiles */
    uint64_t conversions, array_busy_ps;
} pmu_mark_t;

typedef struct {
    uint32_t count; /* regions added */
    uint64_t time_ps, energy_fj, adc_fj, array_fj, periphery_fj, conversions, array_busy_ps;
} pmu_acc_t;

/* 0 on success, -1 without a PMU (then marks read zeros and accumulate nothing). */
int pmu_meter_open(pmu_meter_t *m, const tile_t *tiles, uint32_t ntiles);
int pmu_meter_ok(const pmu_meter_t *m);
/* Latches the PMU and reads tiles [t0, t0 + nt) into out (nt 0: totals only). */
void pmu_meter_mark(const pmu_meter_t *m, uint32_t t0, uint32_t nt, pmu_mark_t *out);
/* acc += b - a (a earlier; both marks over the same tiles). */
void pmu_acc_add(pmu_acc_t *acc, const pmu_mark_t *a, const pmu_mark_t *b);
/* The region table (docs/energy.md "Per-layer figures"): a header line, then one row per
 * region: "perf: <kind> <name> <count> <time_ns> <energy_pJ> <adc_pJ> <array_pJ>
 * <periphery_pJ> <conversions> <array_busy_ns>", ns and pJ with 3 decimals (exact: ps, fJ). */
void pmu_acc_print_header(void);
void pmu_acc_print(const char *kind, const char *name, const pmu_acc_t *acc);
/* "perf: end <now_ns> <total_pJ>": the last mark, so a reader can check that the regions
 * cover [0, now] (their energies sum to total). */
void pmu_mark_print_end(const pmu_mark_t *m);

#endif
