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

#endif
