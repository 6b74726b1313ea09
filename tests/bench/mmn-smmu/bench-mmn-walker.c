/*
 * Benchmark of the mmn-smmu stage-1 walker over an in-memory table.
 *
 * Prints the cost of one walk (4 levels from a 48-bit VA, 3 levels from a
 * 39-bit VA, a 2 MiB block, and the HTTU compare-and-swap path); asserts
 * nothing about time.  Usage: bench-mmn-walker [walks per run]
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "qemu/cutils.h"
#include "hw/mmn-smmu/walker.h"

#define MEM_BASE    0x40000000ULL
#define MEM_PAGES   256
#define PAGE_SZ     4096ULL
#define NR_VAS      4096        /* 8 level-3 tables of 512 pages */
#define RUNS        5

typedef struct BenchMem {
    uint64_t *words;            /* MEM_PAGES pages from MEM_BASE */
    unsigned next_page;
} BenchMem;

static bool bm_read(void *opaque, uint64_t pa, uint64_t *val)
{
    BenchMem *m = opaque;
    uint64_t off = pa - MEM_BASE;

    if (pa < MEM_BASE || off >= MEM_PAGES * PAGE_SZ || (off & 7)) {
        return false;
    }
    *val = qatomic_read__nocheck(&m->words[off / 8]);
    return true;
}

static bool bm_cmpxchg(void *opaque, uint64_t pa, uint64_t old, uint64_t newv,
                       uint64_t *cur)
{
    BenchMem *m = opaque;
    uint64_t off = pa - MEM_BASE;

    if (pa < MEM_BASE || off >= MEM_PAGES * PAGE_SZ || (off & 7)) {
        return false;
    }
    *cur = qatomic_cmpxchg__nocheck(&m->words[off / 8], old, newv);
    return true;
}

static const MmnPtOps bm_ops = {
    .read = bm_read,
    .cmpxchg = bm_cmpxchg,
};

/* A table of @bytes, naturally aligned (a granule, or a smaller root). */
static uint64_t bm_alloc(BenchMem *m, uint64_t bytes)
{
    uint64_t align = MAX(bytes, PAGE_SZ) / PAGE_SZ, pa;

    m->next_page = ROUND_UP(m->next_page, align);
    pa = MEM_BASE + m->next_page * PAGE_SZ;
    m->next_page += DIV_ROUND_UP(bytes, PAGE_SZ);
    g_assert(m->next_page <= MEM_PAGES);
    return pa;
}

static uint64_t *bm_word(BenchMem *m, uint64_t pa)
{
    return &m->words[(pa - MEM_BASE) / 8];
}

/*
 * Map @va with a leaf at @level, creating tables; returns the leaf's PA.
 * Tables are below 2^48, so their descriptors are plain in every format.
 */
static uint64_t bm_map(BenchMem *m, const MmnWalkConfig *cfg, uint64_t va,
                       int level, uint64_t desc)
{
    unsigned g = mmn_walk_granule_shift(cfg->granule);
    int l = mmn_walk_start_level(cfg);
    uint64_t table = cfg->ttb;

    for (;; l++) {
        unsigned shift = g + (g - 3) * (3 - l);
        uint64_t pa = table + ((va >> shift) & ((1ULL << (g - 3)) - 1)) * 8;
        uint64_t *slot = bm_word(m, pa);

        if (l == level) {
            *slot = desc;
            return pa;
        }
        if (!(*slot & MMN_PTE_VALID)) {
            *slot = bm_alloc(m, 1ULL << g) | MMN_PTE_VALID | MMN_PTE_TABLE;
        }
        table = *slot & MMN_PTE_ADDR_MASK & ~((1ULL << g) - 1);
    }
}

typedef struct Scenario {
    const char *name;
    unsigned va_bits;
    unsigned leaf_level;        /* 3: pages, 2: level-2 blocks */
    bool httu;                  /* pages start old and clean; writes */
    unsigned granule;           /* MmnGranule (0: 4 KiB) */
    bool ds;
} Scenario;

/* volatile: keeps the compiler from dropping the walks' results */
static volatile uint64_t sink;

static double run_scenario(const Scenario *sc, unsigned walks)
{
    BenchMem m = { .words = g_new0(uint64_t, MEM_PAGES * PAGE_SZ / 8) };
    MmnWalkConfig cfg = {
        .va_bits = sc->va_bits, .oa_bits = sc->ds ? 52 : 48,
        .ha = sc->httu, .hd = sc->httu, .granule = sc->granule, .ds = sc->ds,
    };
    unsigned g = mmn_walk_granule_shift(sc->granule);
    uint64_t leaf_size = 1ULL << (g + (g - 3) * (3 - sc->leaf_level));
    uint64_t attrs = MMN_PTE_VALID | MMN_PTE_AP_USER |
                     (sc->leaf_level == 3 ? MMN_PTE_TABLE : 0);
    uint64_t *vas = g_new(uint64_t, NR_VAS);
    uint64_t *leaf_pa = g_new(uint64_t, NR_VAS);
    uint64_t *leaf_init = g_new(uint64_t, NR_VAS);
    uint64_t base = (0x12345ULL << 30) & ((1ULL << sc->va_bits) - 1);
    GRand *rnd = g_rand_new_with_seed(42);
    double best = 0;
    int run, i;

    cfg.ttb = bm_alloc(&m, mmn_walk_start_table_size(&cfg));
    for (i = 0; i < NR_VAS; i++) {
        uint64_t va = base + i * leaf_size;

        leaf_init[i] = (0x80000000ULL + i * leaf_size) | attrs |
                       (sc->httu ? MMN_PTE_AP_RDONLY | MMN_PTE_DBM
                                 : MMN_PTE_AF);
        leaf_pa[i] = bm_map(&m, &cfg, va, sc->leaf_level, leaf_init[i]);
    }
    /* visit the VAs in a random order, at a random offset in the leaf */
    for (i = 0; i < NR_VAS; i++) {
        vas[i] = base + g_rand_int_range(rnd, 0, NR_VAS) * leaf_size +
                 g_rand_int_range(rnd, 0, leaf_size / 8) * 8;
    }

    for (run = 0; run < RUNS; run++) {
        MmnAccess acc = { .write = sc->httu, .unpriv = true };
        MmnTranslation tr;
        MmnFault f;
        uint64_t acc_pa = 0;
        int64_t t0, t1;
        double ns;
        unsigned n;

        t0 = g_get_monotonic_time();
        for (n = 0; n < walks; n++) {
            unsigned k = n % NR_VAS;

            if (sc->httu) {
                /* old and clean again, as after the CPU aged it */
                *bm_word(&m, leaf_pa[k]) = leaf_init[k];
            }
            acc.va = vas[k];
            if (mmn_walk(&cfg, &bm_ops, &m, &acc, &tr, &f) != MMN_FAULT_NONE) {
                g_error("%s: unexpected %s fault", sc->name,
                        mmn_fault_kind_name(f.kind));
            }
            acc_pa += tr.pa;
        }
        t1 = g_get_monotonic_time();
        sink += acc_pa;
        ns = (double)(t1 - t0) * 1000.0 / walks;
        if (run == 0 || ns < best) {
            best = ns;
        }
    }
    g_rand_free(rnd);
    g_free(vas);
    g_free(leaf_pa);
    g_free(leaf_init);
    g_free(m.words);
    return best;
}

int main(int argc, char **argv)
{
    static const Scenario scenarios[] = {
        { "4-level walk, 48-bit VA, 4 KiB page", 48, 3, false },
        { "3-level walk, 39-bit VA, 4 KiB page", 39, 3, false },
        { "3-level walk, 48-bit VA, 2 MiB block", 48, 2, false },
        { "2-level walk, 39-bit VA, 2 MiB block", 39, 2, false },
        { "4-level walk + HTTU CAS (AF, dirty)", 48, 3, true },
        { "3-level walk + HTTU CAS (AF, dirty)", 39, 3, true },
        { "5-level walk, 52-bit VA, 4 KiB page, DS", 52, 3, false,
          MMN_GRANULE_4K, true },
        { "3-level walk, 47-bit VA, 16 KiB page", 47, 3, false,
          MMN_GRANULE_16K },
        { "4-level walk, 52-bit VA, 16 KiB page, DS", 52, 3, false,
          MMN_GRANULE_16K, true },
        { "3-level walk, 52-bit VA, 64 KiB page", 52, 3, false,
          MMN_GRANULE_64K },
        { "2-level walk, 42-bit VA, 64 KiB page", 42, 3, false,
          MMN_GRANULE_64K },
    };
    unsigned walks = 2000000;
    int i;

    if (argc > 1 && (qemu_strtoui(argv[1], NULL, 0, &walks) < 0 || !walks)) {
        fprintf(stderr, "usage: %s [walks per run]\n", argv[0]);
        return 1;
    }
    printf("mmn-smmu walker: %u walks per run, best of %d runs, "
           "%d VAs in random order\n", walks, RUNS, NR_VAS);
    for (i = 0; i < ARRAY_SIZE(scenarios); i++) {
        printf("  %-40s %7.1f ns/walk\n", scenarios[i].name,
               run_scenario(&scenarios[i], walks));
    }
    return 0;
}
