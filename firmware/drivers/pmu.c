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
