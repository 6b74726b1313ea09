/*
 * mmn-smmu robustness qtest, environment: the seeded random helpers, the
 * pools the random input takes its addresses from, and starting QEMU
 * with the device, the sentinel and the liveness checks.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-smmu-robustness.h"

/* ---------------------------------------------------------------- */
/* Random helpers                                                    */

uint32_t rnd(Fuzz *f, uint32_t n)
{
    return n ? g_rand_int_range(f->rng, 0, n) : 0;
}

bool chance(Fuzz *f, unsigned percent)
{
    return rnd(f, 100) < percent;
}

uint64_t rnd64(Fuzz *f)
{
    return (uint64_t)g_rand_int(f->rng) << 32 | g_rand_int(f->rng);
}

unsigned pick_weighted(Fuzz *f, const unsigned *w, unsigned n)
{
    unsigned total = 0, r, i;

    for (i = 0; i < n; i++) {
        total += w[i];
    }
    r = rnd(f, total);
    for (i = 0; i < n; i++) {
        if (r < w[i]) {
            return i;
        }
        r -= w[i];
    }
    g_assert_not_reached();
}

/* A RAM range the device may legitimately touch (our model of "in RAM"). */
bool ram_range(uint64_t addr, uint64_t len)
{
    return len && addr + len > addr && addr >= RAM_BASE &&
           addr + len <= RAM_END;
}

bool addr_ok(uint64_t addr, uint64_t len, uint64_t align)
{
    return !(addr & (align - 1)) && ram_range(addr, len);
}

enum {
    A_ARENA, A_UNALIGNED, A_BAR, A_BELOW_END, A_ABOVE_END, A_ZERO, A_HUGE,
    A_ECAM, NR_ACLASS,
};

/*
 * An address for an operand of @len bytes aligned to @align, from the
 * pool: the arena (mostly valid), its last bytes (straddling the end of
 * RAM), the device's BAR, ECAM and flash below RAM, beyond RAM, huge.
 * Never the allocator area or the sentinel.
 */
uint64_t pool_addr(Fuzz *f, uint64_t len, uint64_t align)
{
    static const unsigned w[NR_ACLASS] = { 45, 8, 10, 9, 8, 6, 8, 6 };
    uint64_t span, a;

    len = MAX(len, 1);
    switch (pick_weighted(f, w, NR_ACLASS)) {
    case A_ARENA:
        span = DATA_SIZE > len ? DATA_SIZE - len : 1;
        return (DATA_BASE + rnd64(f) % span) & ~(align - 1);
    case A_UNALIGNED:
        a = (DATA_BASE + rnd64(f) % (DATA_SIZE / 2)) & ~(align - 1);
        return a + 1 + rnd(f, MAX(align, 8) - 1);
    case A_BAR:
        return f->bar + (rnd(f, MMN_SMMU_BAR0_SIZE) & ~(align - 1));
    case A_BELOW_END:
        /* exactly fitting, or straddling the end of RAM */
        a = RAM_END - ROUND_UP(len, align) - align * rnd(f, 3);
        return chance(f, 50) ? a : (RAM_END - align * (1 + rnd(f, 2)));
    case A_ABOVE_END:
        return RAM_END + align * rnd(f, 4096);
    case A_ZERO:
        return chance(f, 70) ? 0 : align * rnd(f, 64);
    case A_HUGE: {
        static const uint64_t huge[] = {
            UINT64_MAX, UINT64_MAX - 63, 1ULL << 63, 1ULL << 48,
            (1ULL << 48) - 64, 0xfffffffffffff000ULL, 0x100000000ULL,
            RAM_END + (1ULL << 32), 0x0000800000000000ULL,
            SENT_ALIAS, SENT_ALIAS + (3ULL << 40),
        };
        return huge[rnd(f, ARRAY_SIZE(huge))] & ~(align - 1);
    }
    case A_ECAM:
        return chance(f, 50) ? RAM_BASE - ROUND_UP(len, align) :
               ECAM_BASE + (rnd(f, 0x100000) & ~(align - 1));
    }
    g_assert_not_reached();
}

/* A page-aligned output address for a leaf descriptor (same pool). */
uint64_t pool_oa(Fuzz *f)
{
    static const unsigned w[] = { 72, 8, 5, 5, 3, 4, 3 };
    static const uint64_t huge[] = {
        0x0000fffffffff000ULL, 0x0000800000000000ULL, 0x100000000ULL,
        RAM_END + (1ULL << 32), SENT_ALIAS,
    };

    switch (pick_weighted(f, w, ARRAY_SIZE(w))) {
    case 0:
        return DATA_BASE + (rnd64(f) % DATA_SIZE & ~(PAGE - 1));
    case 1:
        return f->bar;
    case 2:
        return RAM_END - PAGE;
    case 3:
        return RAM_END + PAGE * rnd(f, 16);
    case 4:
        return 0;
    case 5:
        return RAM_BASE - PAGE * (1 + rnd(f, 16));     /* ECAM */
    case 6:
        return huge[rnd(f, ARRAY_SIZE(huge))];
    }
    g_assert_not_reached();
}

/* A page-aligned address that is not RAM, for a table pointer. */
uint64_t pool_oa_not_ram(Fuzz *f)
{
    uint64_t a;

    do {
        a = pool_oa(f);
    } while (a >= RAM_BASE && a < RAM_END);
    return a;
}

/* ---------------------------------------------------------------- */
/* QEMU                                                              */

static QPCIAddress mmn_addr = {
    .devfn = QPCI_DEVFN(4, 0),
    .vendor_id = MMN_SMMU_PCI_VENDOR_ID,
    .device_id = MMN_SMMU_PCI_DEVICE_ID,
};

void fuzz_start(Fuzz *f, const TestCfg *cfg, unsigned idx)
{
    uint64_t seed = fuzz_seed + idx;

    memset(f, 0, sizeof(*f));
    f->cfg = cfg;
    f->rng = g_rand_new_with_seed_array((const guint32[]) {
                                            (guint32)seed,
                                            (guint32)(seed >> 32) },
                                        2);
    f->open = g_array_new(false, false, sizeof(OpenRange));
    alloc_init(&f->alloc, 0, RAM_BASE, SENT_BASE, 4096);
    f->qts = qtest_initf("-M virt -cpu max -m 512M -nic none "
                         "-device mmn-smmu,id=mmn,addr=04.0%s", cfg->props);
    qpci_init_generic(&f->bus, f->qts, &f->alloc, false);
    qpci_device_init(&f->dev.dev, &f->bus.bus, &mmn_addr);
    f->dev.bar = qpci_iomap(&f->dev.dev, 0, NULL);
    qpci_device_enable(&f->dev.dev);
    f->bar = f->dev.bar.addr;
    f->num_ctx = qmmn_readl(&f->dev, A_NUM_CTX);
    g_assert_cmpuint(f->num_ctx, >=, 2);
    g_assert_cmpuint(f->num_ctx, <=, 16);
    g_test_message("%s: seed %" PRIu64 " (MMN_FUZZ_SEED=%" PRIu64
                   "), %u steps, num-ctx %u, BAR 0x%" PRIx64, cfg->name,
                   seed, fuzz_seed, fuzz_iters, f->num_ctx, f->bar);
}

/* Contexts [0, num_ctx / 2) take any binding; the others run the DMAs. */
bool is_dma_ctx(Fuzz *f, unsigned ctx)
{
    return ctx >= f->num_ctx / 2 && ctx < f->num_ctx;
}

unsigned fuzz_ctx(Fuzz *f)
{
    return rnd(f, f->num_ctx / 2);
}

/*
 * Sentinel: a different byte per MiB, so that a stray write of any value
 * shows.  Checked through a dump of guest memory (pmemsave) to a file.
 */
static uint8_t sentinel_byte(uint64_t addr)
{
    return 0xa5 ^ (uint8_t)((addr - SENT_BASE) >> 20) ^ 0x3c;
}

void sentinel_fill(Fuzz *f)
{
    for (uint64_t a = SENT_BASE; a < ARENA_BASE; a += 1ULL << 20) {
        qtest_memset(f->qts, a, sentinel_byte(a), 1ULL << 20);
    }
}

void sentinel_check(Fuzz *f)
{
    g_autofree char *path = NULL;
    g_autofree uint8_t *mem = NULL;
    gsize len = 0;
    int fd = g_file_open_tmp("mmn-smmu-sentinel-XXXXXX", &path, NULL);
    uint64_t bad = 0, first = 0;

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    qtest_qmp_assert_success(f->qts, "{ 'execute': 'pmemsave', 'arguments': "
                             "{ 'val': %" PRIu64 ", 'size': %" PRIu64 ", "
                             "'filename': %s } }", (uint64_t)SENT_BASE,
                             (uint64_t)SENT_SIZE, path);
    g_assert_true(g_file_get_contents(path, (char **)&mem, &len, NULL));
    unlink(path);
    g_assert_cmpuint(len, ==, SENT_SIZE);
    for (uint64_t i = 0; i < SENT_SIZE; i++) {
        if (mem[i] != sentinel_byte(SENT_BASE + i)) {
            if (!bad++) {
                first = SENT_BASE + i;
            }
        }
    }
    if (bad) {
        g_test_message("sentinel: %" PRIu64 " bytes changed, first at 0x%"
                       PRIx64, bad, first);
    }
    g_assert_cmpuint(bad, ==, 0);
}

void arena_fill(Fuzz *f)
{
    g_autofree uint8_t *b = g_malloc(1 << 20);

    for (uint64_t a = ARENA_BASE; a < RAM_END; a += 1 << 20) {
        for (size_t i = 0; i < (1 << 20); i += 4) {
            stl_le_p(b + i, g_rand_int(f->rng) & DATA_MASK);
        }
        qtest_bufwrite(f->qts, a, b, 1 << 20);
    }
}

/* The device answers and QEMU lives. */
void check_alive(Fuzz *f)
{
    g_assert_true(qtest_probe_child(f->qts));
    g_assert_cmphex(qmmn_readl(&f->dev, A_ID), ==, MMN_SMMU_ID_VALUE);
    g_assert_cmphex(qmmn_readl(&f->dev, A_NUM_CTX), ==, f->num_ctx);
}

void check_running(Fuzz *f)
{
    QDict *rsp = qtest_qmp_assert_success_ref(f->qts,
                     "{ 'execute': 'query-status' }");

    g_assert_cmpstr(qdict_get_try_str(rsp, "status"), ==, "running");
    qobject_unref(rsp);
}

