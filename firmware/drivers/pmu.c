#include "drivers/pmu.h"

#include "cimvp/regs.h"
#include "hal/hal.h"
#include "lib/fw_console.h"
#include "lib/fw_soc.h"

static uint64_t rd64(uint32_t base, uint32_t lo, uint32_t hi)
{
    /* Both words belong to one latched value, so the order does not matter. */
    uint64_t l = hal_read32(base + lo);
    uint64_t h = hal_read32(base + hi);
    return (h << 32) | l;
}

int pmu_open(pmu_t *p)
{
    fw_block_t b;
    if (fw_find_block(CIMVP_BLOCK_PMU, 0, &b) != 0) return -1;
    p->base = b.base;
    p->ncomp = hal_read32(b.base + PMU_NCOMP);
    return 0;
}

void pmu_reset(const pmu_t *p) { hal_write32(p->base + PMU_CTRL, PMU_CTRL_RESET); }

void pmu_snapshot(const pmu_t *p, pmu_snapshot_t *s)
{
    hal_write32(p->base + PMU_CTRL, PMU_CTRL_SNAPSHOT);
    s->now_ps = rd64(p->base, PMU_NOW_LO, PMU_NOW_HI);
    s->time_ps = rd64(p->base, PMU_TIME_LO, PMU_TIME_HI);
    s->cycles = rd64(p->base, PMU_CYCLES_LO, PMU_CYCLES_HI);
    s->total_fj = rd64(p->base, PMU_TOTAL_LO, PMU_TOTAL_HI);
}

uint64_t pmu_component_fj(const pmu_t *p, uint32_t i)
{
    hal_write32(p->base + PMU_SEL, i);
    return rd64(p->base, PMU_C_ENERGY_LO, PMU_C_ENERGY_HI);
}

uint64_t pmu_component_static_fj(const pmu_t *p, uint32_t i)
{
    hal_write32(p->base + PMU_SEL, i);
    return rd64(p->base, PMU_C_STATIC_LO, PMU_C_STATIC_HI);
}

uint32_t pmu_snapshot_components(const pmu_t *p, pmu_snapshot_t *s, uint64_t *fj, uint32_t n)
{
    pmu_snapshot(p, s);
    if (n > p->ncomp) n = p->ncomp;
    for (uint32_t i = 0; i < n; i++) fj[i] = pmu_component_fj(p, i);
    return n;
}

uint64_t pmu_component_busy_ps(const pmu_t *p, uint32_t i)
{
    hal_write32(p->base + PMU_SEL, i);
    return rd64(p->base, PMU_C_BUSY_LO, PMU_C_BUSY_HI);
}

void pmu_component_name(const pmu_t *p, uint32_t i, char out[17])
{
    hal_write32(p->base + PMU_SEL, i);
    for (uint32_t w = 0; w < 4; w++) {
        uint32_t v = hal_read32(p->base + PMU_C_NAME0 + 4u * w);
        for (uint32_t b = 0; b < 4; b++) out[4 * w + b] = (char)((v >> (8 * b)) & 0xFFu);
    }
    out[16] = '\0';
}

uint32_t pmu_name_hash(const char *name)
{
    uint32_t h = 2166136261u;
    for (; *name; name++) {
        h ^= (uint8_t)*name;
        h *= 16777619u;
    }
    return h;
}

uint32_t pmu_find(const pmu_t *p, const char *name)
{
    uint32_t want = pmu_name_hash(name);
    for (uint32_t i = 0; i < p->ncomp; i++) {
        hal_write32(p->base + PMU_SEL, i);
        if (hal_read32(p->base + PMU_C_HASH) == want) return i;
    }
    return PMU_NO_COMPONENT;
}

void pmu_print(const pmu_t *p, const char *label)
{
    pmu_snapshot_t s;
    pmu_snapshot(p, &s);
    for (uint32_t i = 0; i < p->ncomp; i++) {
        uint64_t e = pmu_component_fj(p, i);
        if (e == 0) continue;
        char name[17];
        pmu_component_name(p, i, name);
        fw_printf("pmu %s: %s %llu.%03llu pJ\n", label, name, (unsigned long long)(e / 1000u),
                  (unsigned long long)(e % 1000u));
    }
    fw_printf("pmu %s: total %llu pJ in %llu ns\n", label, (unsigned long long)((s.total_fj + 500u) / 1000u),
              (unsigned long long)((s.time_ps + 500u) / 1000u));
}

/* ---- meter ------------------------------------------------------------------------------ */

/* (hash << 32 | index) of every component, sorted: a tile's three names are found by binary
 * search, so opening the meter on a 6,344-tile chip (25,000 components) costs O(n log n), not
 * tiles x components. */
static uint64_t g_keys[PMU_METER_MAX_COMPONENTS];

/* In-place heapsort, ascending (freestanding: no qsort). */
static void sift(uint64_t *a, uint32_t root, uint32_t n)
{
    for (;;) {
        uint32_t c = 2u * root + 1u;
        if (c >= n) return;
        if (c + 1u < n && a[c + 1u] > a[c]) c++;
        if (a[root] >= a[c]) return;
        const uint64_t t = a[root];
        a[root] = a[c];
        a[c] = t;
        root = c;
    }
}
static void sort_keys(uint64_t *a, uint32_t n)
{
    for (uint32_t i = n / 2u; i-- > 0;) sift(a, i, n);
    for (uint32_t end = n; end-- > 1u;) {
        const uint64_t t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift(a, 0, end);
    }
}
/* Lowest component index whose name hashes to h (as a linear search would find), or PMU_NO_COMPONENT. */
static uint32_t find_hash(uint32_t h, uint32_t n)
{
    uint32_t lo = 0, hi = n;
    const uint64_t key = (uint64_t)h << 32;
    while (lo < hi) {
        const uint32_t mid = lo + (hi - lo) / 2u;
        if (g_keys[mid] < key) lo = mid + 1u;
        else hi = mid;
    }
    return lo < n && (uint32_t)(g_keys[lo] >> 32) == h ? (uint32_t)g_keys[lo] : PMU_NO_COMPONENT;
}

/* "tile<i><suffix>" into out (<= 32 bytes). */
static void tile_name(char *out, uint32_t i, const char *suffix)
{
    char d[12];
    uint32_t n = 0, k = 0;
    do {
        d[n++] = (char)('0' + i % 10u);
        i /= 10u;
    } while (i);
    const char *stem = "tile";
    while (*stem) out[k++] = *stem++;
    while (n) out[k++] = d[--n];
    while (*suffix && k < 31u) out[k++] = *suffix++;
    out[k] = '\0';
}

int pmu_meter_ok(const pmu_meter_t *m) { return m->pmu.base != 0 || m->pmu.ncomp != 0; }

int pmu_meter_open(pmu_meter_t *m, const tile_t *tiles, uint32_t ntiles)
{
    m->pmu.base = 0;
    m->pmu.ncomp = 0;
    m->tiles = tiles;
    m->ntiles = ntiles > PMU_METER_MAX_TILES ? PMU_METER_MAX_TILES : ntiles;
    m->found = 0;
    if (pmu_open(&m->pmu) != 0) {
        m->pmu.base = 0;
        m->pmu.ncomp = 0;
        return -1;
    }
    const uint32_t nc = m->pmu.ncomp < PMU_METER_MAX_COMPONENTS ? m->pmu.ncomp : PMU_METER_MAX_COMPONENTS;
    for (uint32_t i = 0; i < nc; i++) {
        hal_write32(m->pmu.base + PMU_SEL, i);
        g_keys[i] = (uint64_t)hal_read32(m->pmu.base + PMU_C_HASH) << 32 | i;
    }
    sort_keys(g_keys, nc);
    uint32_t log2n = 1;
    while ((1u << log2n) < nc && log2n < 31u) log2n++;
    static const char *const suffix[3] = {"_adc", ".array", ".periphery"};
    for (uint32_t t = 0; t < m->ntiles; t++) {
        uint32_t all = 1;
        for (uint32_t k = 0; k < 3; k++) {
            char name[32];
            tile_name(name, tiles[t].index, suffix[k]);
            const uint32_t h = pmu_name_hash(name);
            m->comp[t][k] = find_hash(h, nc);
            if (m->comp[t][k] == PMU_NO_COMPONENT) all = 0;
        }
        m->found += all;
    }
    /* Reading and sorting the hashes, then 3 binary searches per tile (assumption: ~4 cycles per step). */
    hal_cpu_cycles(8u * nc + 4u * nc * log2n + 3u * 4u * m->ntiles * log2n);
    return 0;
}

void pmu_meter_mark(const pmu_meter_t *m, uint32_t t0, uint32_t nt, pmu_mark_t *out)
{
    pmu_snapshot_t s;
    out->now_ps = out->total_fj = out->adc_fj = out->array_fj = out->periphery_fj = 0;
    out->conversions = out->array_busy_ps = 0;
    if (!pmu_meter_ok(m)) return;
    pmu_snapshot(&m->pmu, &s);
    out->now_ps = s.now_ps;
    out->total_fj = s.total_fj;
    for (uint32_t t = t0; t < t0 + nt && t < m->ntiles; t++) {
        const uint32_t *c = m->comp[t];
        if (c[0] != PMU_NO_COMPONENT) out->adc_fj += pmu_component_fj(&m->pmu, c[0]);
        if (c[1] != PMU_NO_COMPONENT) {
            out->array_fj += pmu_component_fj(&m->pmu, c[1]);
            out->array_busy_ps += rd64(m->pmu.base, PMU_C_BUSY_LO, PMU_C_BUSY_HI); /* same SEL */
        }
        if (c[2] != PMU_NO_COMPONENT) out->periphery_fj += pmu_component_fj(&m->pmu, c[2]);
        out->conversions += tile_conversions(&m->tiles[t]);
    }
}

void pmu_acc_add(pmu_acc_t *acc, const pmu_mark_t *a, const pmu_mark_t *b)
{
    acc->count++;
    acc->time_ps += b->now_ps - a->now_ps;
    acc->energy_fj += b->total_fj - a->total_fj;
    acc->adc_fj += b->adc_fj - a->adc_fj;
    acc->array_fj += b->array_fj - a->array_fj;
    acc->periphery_fj += b->periphery_fj - a->periphery_fj;
    acc->conversions += b->conversions - a->conversions;
    acc->array_busy_ps += b->array_busy_ps - a->array_busy_ps;
}

/* v / 1000 with 3 decimals: exact for ps -> ns and fJ -> pJ. */
static void milli(uint64_t v)
{
    fw_printf(" %llu.%03llu", (unsigned long long)(v / 1000u), (unsigned long long)(v % 1000u));
}

void pmu_acc_print_header(void)
{
    fw_printf("perf: kind name count time_ns energy_pJ adc_pJ array_pJ periphery_pJ conversions array_busy_ns\n");
}

void pmu_acc_print(const char *kind, const char *name, const pmu_acc_t *acc)
{
    fw_printf("perf: %s %s %u", kind, name, acc->count);
    milli(acc->time_ps);
    milli(acc->energy_fj);
    milli(acc->adc_fj);
    milli(acc->array_fj);
    milli(acc->periphery_fj);
    fw_printf(" %llu", (unsigned long long)acc->conversions);
    milli(acc->array_busy_ps);
    fw_printf("\n");
}

void pmu_mark_print_end(const pmu_mark_t *m)
{
    fw_printf("perf: end");
    milli(m->now_ps);
    milli(m->total_fj);
    fw_printf("\n");
}
