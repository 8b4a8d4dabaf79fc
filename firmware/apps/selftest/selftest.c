/*
 * selftest: every block answers. Reads each block's ID, checks the reset values of its
 * registers that do not depend on the scenario (cimvp/regs.h *_RESET),
 * exercises SRAM with patterns, triggers and acknowledges one interrupt. Exits 0 when all
 * is well; prints what and where for every mismatch and exits with the mismatch count.
 */
#include "apps/apps.h"
#include "cimvp/regs.h"
#include "hal/hal.h"
#include "lib/fw_console.h"
#include "lib/fw_soc.h"

static int failures;

static void expect32(const char *what, uint32_t addr, uint32_t got, uint32_t want)
{
    if (got != want) {
        fw_printf("selftest: FAIL %s at 0x%08x: read 0x%08x, expected 0x%08x\n", what, addr, got, want);
        failures++;
    }
}

/* Reset values that must hold right after boot, per block type: every register of the
 * blocks on the selftest platform whose reset value does not depend on the scenario
 * (cimvp/regs.h, *_RESET). Write-only registers cannot be read back and are left out. */
typedef struct {
    uint32_t type;
    uint32_t offset;
    uint32_t reset;
    const char *name;
} reset_check_t;

static const reset_check_t reset_checks[] = {
    {CIMVP_BLOCK_SYSCTL, SYSCTL_PLATFORM, SYSCTL_PLATFORM_RESET, "SYSCTL_PLATFORM"},
    {CIMVP_BLOCK_SYSCTL, SYSCTL_SCRATCH, SYSCTL_SCRATCH_RESET, "SYSCTL_SCRATCH"},
    {CIMVP_BLOCK_SYSCTL, SYSCTL_BLOCK_SEL, SYSCTL_BLOCK_SEL_RESET, "SYSCTL_BLOCK_SEL"},
    {CIMVP_BLOCK_SYSCTL, SYSCTL_PHASE_ARG, SYSCTL_PHASE_ARG_RESET, "SYSCTL_PHASE_ARG"},
    {CIMVP_BLOCK_IRQ, IRQ_NLINES, IRQ_NLINES_RESET, "IRQ_NLINES"},
    {CIMVP_BLOCK_IRQ, IRQ_PENDING, IRQ_PENDING_RESET, "IRQ_PENDING"},
    {CIMVP_BLOCK_IRQ, IRQ_ENABLE, IRQ_ENABLE_RESET, "IRQ_ENABLE"},
    {CIMVP_BLOCK_IRQ, IRQ_RAW, IRQ_RAW_RESET, "IRQ_RAW"},
};

static const uint32_t expected_version[][2] = {
    {CIMVP_BLOCK_SYSCTL, SYSCTL_VERSION_VALUE},
    {CIMVP_BLOCK_IRQ, IRQ_VERSION_VALUE},
};

/* The ID register (type and, for known blocks, version) and the reset table of one block.
 * Runs before the firmware writes anything to the block. */
static int check_id_and_resets(uint32_t type, uint32_t base)
{
    uint32_t id = hal_read32(base + REG_ID);
    if (CIMVP_ID_TYPE(id) != type) {
        fw_printf("selftest: FAIL block at 0x%08x: ID 0x%08x has type 0x%04x, expected 0x%04x\n", base, id,
                  CIMVP_ID_TYPE(id), type);
        failures++;
        return -1;
    }
    for (unsigned i = 0; i < sizeof expected_version / sizeof expected_version[0]; i++)
        if (expected_version[i][0] == type)
            expect32("ID register", base + REG_ID, id, CIMVP_ID(type, expected_version[i][1]));
    for (unsigned i = 0; i < sizeof reset_checks / sizeof reset_checks[0]; i++) {
        const reset_check_t *c = &reset_checks[i];
        if (c->type == type) expect32(c->name, base + c->offset, hal_read32(base + c->offset), c->reset);
    }
    return 0;
}

static int is_memory(uint32_t type) { return type == CIMVP_BLOCK_SRAM || type == CIMVP_BLOCK_HOSTMEM; }

static void check_register_block(const fw_block_t *b)
{
    if (b->type == CIMVP_BLOCK_SYSCTL && b->base == CIMVP_SYSCTL_BASE) {
        /* Checked at boot, before discovery wrote BLOCK_SEL: only confirm its ID here. */
        uint32_t id = hal_read32(b->base + REG_ID);
        expect32("ID register", b->base + REG_ID, id, CIMVP_ID(CIMVP_BLOCK_SYSCTL, SYSCTL_VERSION_VALUE));
        return;
    }
    check_id_and_resets(b->type, b->base);
}

static void check_memory(const fw_block_t *b)
{
    /* Walking ones and address-in-address over the first and last 1 KiB, plus sub-word
     * accesses: catches stuck bits, aliasing and byte-lane mistakes. */
    uint32_t span = b->size < 2048u ? b->size / 2u : 1024u;
    uint32_t starts[2] = {b->base, b->base + b->size - span};
    for (int s = 0; s < 2; s++) {
        for (uint32_t off = 0; off < span; off += 4) hal_write32(starts[s] + off, starts[s] + off);
        for (uint32_t off = 0; off < span; off += 4)
            expect32("memory address pattern", starts[s] + off, hal_read32(starts[s] + off), starts[s] + off);
    }
    for (int bit = 0; bit < 32; bit++) {
        hal_write32(b->base, 1u << bit);
        expect32("memory walking one", b->base, hal_read32(b->base), 1u << bit);
    }
    hal_write32(b->base, 0x11223344u);
    hal_write8(b->base + 1, 0xAAu);
    hal_write16(b->base + 2, 0xBBCCu);
    expect32("memory byte/halfword lanes", b->base, hal_read32(b->base), 0xBBCCAA44u);
    expect32("memory byte read", b->base + 3, hal_read8(b->base + 3), 0xBBu);
}

static void check_interrupt(void)
{
    fw_block_t irq;
    if (fw_find_block(CIMVP_BLOCK_IRQ, 0, &irq) != 0) {
        fw_printf("selftest: FAIL no interrupt controller in the discovery table\n");
        failures++;
        return;
    }
    uint32_t nlines = hal_read32(irq.base + IRQ_NLINES);
    uint32_t bit = 1u << (nlines - 1u); /* the highest line: software-triggered here */
    hal_write32(irq.base + IRQ_ENABLE, bit);
    hal_write32(irq.base + IRQ_SWSET, bit);
    hal_wait_irq();
    expect32("IRQ_PENDING after software trigger", irq.base + IRQ_PENDING, hal_read32(irq.base + IRQ_PENDING), bit);
    hal_write32(irq.base + IRQ_ACK, bit);
    expect32("IRQ_PENDING after acknowledge", irq.base + IRQ_PENDING, hal_read32(irq.base + IRQ_PENDING), 0u);
    hal_write32(irq.base + IRQ_ENABLE, 0u);
}

int fw_app_selftest(void)
{
    failures = 0;
    /* System control first, at its fixed address, before anything writes to it (the
     * discovery walk selects entries, the phase marker sets PHASE_ARG). */
    check_id_and_resets(CIMVP_BLOCK_SYSCTL, CIMVP_SYSCTL_BASE);
    fw_phase_begin(FW_PHASE_SELFTEST, 0);
    uint32_t n = fw_block_count();
    fw_printf("selftest: %u blocks\n", n);
    for (uint32_t i = 0; i < n; i++) {
        fw_block_t b = fw_block_at(i);
        fw_printf("selftest: block %u type 0x%04x.%u at 0x%08x size 0x%x\n", i, b.type, b.instance, b.base, b.size);
        if (is_memory(b.type))
            check_memory(&b);
        else
            check_register_block(&b);
    }
    /* Scratch register: written value reads back. */
    hal_write32(CIMVP_SYSCTL_BASE + SYSCTL_SCRATCH, 0xA5A55A5Au);
    expect32("SYSCTL_SCRATCH write/read", CIMVP_SYSCTL_BASE + SYSCTL_SCRATCH,
             hal_read32(CIMVP_SYSCTL_BASE + SYSCTL_SCRATCH), 0xA5A55A5Au);
    hal_write32(CIMVP_SYSCTL_BASE + SYSCTL_SCRATCH, 0u);
    check_interrupt();
    fw_phase_end(FW_PHASE_SELFTEST);
    if (failures == 0)
        fw_printf("selftest: PASS\n");
    else
        fw_printf("selftest: %d failure(s)\n", failures);
    return failures;
}
