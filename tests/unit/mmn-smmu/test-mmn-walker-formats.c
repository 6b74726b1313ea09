/*
 * mmn-smmu walker unit tests: the stage-1 formats beyond the 4 KiB / 48-bit
 * one (test-mmn-walker.c): 16 KiB and 64 KiB granules, FEAT_LPA2 (DS = 1:
 * level -1, 52-bit OA in bits [9:8]), 64 KiB with 52-bit OA (bits [15:12])
 * and VA, contiguous runs, TBI, and the reserved configurations.
 *
 * Tables are built by hand in mmn-fake-mem.h memory with the test's own
 * view of each format: start levels from the Arm ARM's tables (written out
 * below, not computed), descriptors encoded as Linux encodes them
 * (__phys_to_pte_val() of 6.12 arch/arm64/include/asm/pgtable.h).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/mmn-smmu/walker.h"
#include "hw/mmn-smmu/iotlb.h"
#include "mmn-fake-mem.h"

#define RAM_BASE    0x40000000ULL
/* tables above 2^50: their addresses need OA[51:50] / OA[51:48] */
#define HIGH_BASE   0x000c000040000000ULL

#define AF          MMN_PTE_AF
#define CONT        MMN_PTE_CONT
#define SH_INNER    (3ULL << 8)     /* SH[1:0] with DS = 0 */

typedef struct Fmt {
    const char *name;
    unsigned granule;       /* MMN_GRANULE_* */
    unsigned gshift;        /* log2 of the granule */
    bool ds;
    unsigned va_bits;
    unsigned oa_bits;
    int start;              /* Arm ARM start level for va_bits */
} Fmt;

typedef struct T {
    MmnFakeMem m;
    Fmt f;
    MmnWalkConfig cfg;
} T;

/* A table of @bytes (a granule or less), naturally aligned. */
static uint64_t tbl_alloc(MmnFakeMem *m, uint64_t bytes)
{
    uint64_t align = MAX(bytes, MMN_FAKE_PAGE), pa, i;

    while ((m->base + m->npages * MMN_FAKE_PAGE) & (align - 1)) {
        mmn_fake_mem_alloc(m);
    }
    pa = mmn_fake_mem_alloc(m);
    for (i = MMN_FAKE_PAGE; i < bytes; i += MMN_FAKE_PAGE) {
        mmn_fake_mem_alloc(m);
    }
    return pa;
}

static unsigned t_shift(const Fmt *f, int level)
{
    return f->gshift + (f->gshift - 3) * (3 - level);
}

static uint64_t t_start_bytes(const Fmt *f)
{
    return 8ULL << (f->va_bits - t_shift(f, f->start));
}

/* Linux's __phys_to_pte_val() for the format (6.12 pgtable.h). */
static uint64_t enc(const Fmt *f, uint64_t pa)
{
    if (f->ds) {
        /* PTE_ADDR_HIGH 0x3 << 8, shift 42, mask GENMASK(49, 8) */
        return (pa | (pa >> 42)) & 0x0003ffffffffff00ULL;
    }
    if (f->gshift == 16) {
        /* PTE_ADDR_LOW [49:16] | PTE_ADDR_HIGH 0xf << 12, shift 36 */
        return (pa | (pa >> 36)) & 0x0003fffffffff000ULL;
    }
    return pa;
}

static void t_init(T *t, const Fmt *f, uint64_t base)
{
    memset(t, 0, sizeof(*t));
    mmn_fake_mem_init(&t->m, base);
    t->f = *f;
    t->cfg.granule = f->granule;
    t->cfg.ds = f->ds;
    t->cfg.va_bits = f->va_bits;
    t->cfg.oa_bits = f->oa_bits;
    t->cfg.ttb = tbl_alloc(&t->m, t_start_bytes(f));
}

static void t_fini(T *t)
{
    mmn_fake_mem_destroy(&t->m);
}

/* Descriptor address for @va at @level, creating tables down to it. */
static uint64_t t_desc_pa(T *t, uint64_t va, int level)
{
    uint64_t table = t->cfg.ttb;
    int l;

    for (l = t->f.start;; l++) {
        uint64_t mask = (1ULL << (t->f.gshift - 3)) - 1;
        uint64_t pa = table + ((va >> t_shift(&t->f, l)) & mask) * 8;
        uint64_t d;

        if (l == level) {
            return pa;
        }
        d = mmn_fake_mem_get(&t->m, pa);
        if (!d) {
            table = tbl_alloc(&t->m, 1ULL << t->f.gshift);
            mmn_fake_mem_set(&t->m, pa, enc(&t->f, table) | MMN_PTE_VALID |
                             MMN_PTE_TABLE);
        } else {
            g_assert_true(d & MMN_PTE_TABLE);
            /* Linux's __pte_to_phys() of the same format */
            table = t->f.ds ? (d & 0x0003fffffffff000ULL &
                               ~((1ULL << t->f.gshift) - 1)) |
                              ((d & 0x300) << 42) :
                    t->f.gshift == 16 ? (d & 0x0000ffffffff0000ULL) |
                                        ((d & 0xf000) << 36) :
                    d & 0x0000fffffffff000ULL & ~((1ULL << t->f.gshift) - 1);
        }
    }
}

/* Map a leaf: a page at level 3, else a block. */
static uint64_t t_map(T *t, uint64_t va, int level, uint64_t pa,
                      uint64_t attrs)
{
    uint64_t dpa = t_desc_pa(t, va, level);

    mmn_fake_mem_set(&t->m, dpa, enc(&t->f, pa) | MMN_PTE_VALID | attrs |
                     (level == 3 ? MMN_PTE_TABLE : 0));
    return dpa;
}

static MmnFaultKind t_walk(T *t, uint64_t va, bool write, MmnTranslation *tr,
                           MmnFault *fault)
{
    MmnAccess acc = { .va = va, .write = write };

    memset(tr, 0, sizeof(*tr));
    memset(fault, 0x5a, sizeof(*fault));
    t->m.reads = 0;
    return mmn_walk(&t->cfg, &mmn_fake_mem_ops, &t->m, &acc, tr, fault);
}

static void t_expect_ok(T *t, uint64_t va, uint64_t pa, uint64_t size,
                        int level)
{
    MmnTranslation tr;
    MmnFault f;

    g_assert_cmpint(t_walk(t, va, false, &tr, &f), ==, MMN_FAULT_NONE);
    g_assert_cmphex(tr.pa + (va - tr.va), ==, pa);
    g_assert_cmphex(tr.size, ==, size);
    g_assert_cmpint(tr.level, ==, level);
    g_assert_cmphex(tr.va, ==, va & ~(size - 1));
    g_assert_true(mmn_walk_leaf_size_valid(tr.level, tr.size));
}

static void t_expect_fault(T *t, uint64_t va, MmnFaultKind kind, int level)
{
    MmnTranslation tr;
    MmnFault f;

    g_assert_cmpint(t_walk(t, va, false, &tr, &f), ==, kind);
    g_assert_cmpint(f.kind, ==, kind);
    g_assert_cmpint(f.level, ==, level);
}

#define G4K     MMN_GRANULE_4K
#define G16K    MMN_GRANULE_16K
#define G64K    MMN_GRANULE_64K

/*
 * Every granule and VA size class, with the start level the Arm ARM gives
 * (DDI 0487 "Translation table walk", the initial lookup level tables).
 */
static const Fmt formats[] = {
    { "4k-25", G4K, 12, false, 25, 48, 2 },
    { "4k-39", G4K, 12, false, 39, 48, 1 },
    { "4k-48", G4K, 12, false, 48, 48, 0 },
    { "4k-ds-48", G4K, 12, true, 48, 52, 0 },
    { "4k-ds-49", G4K, 12, true, 49, 52, -1 },
    { "4k-ds-52", G4K, 12, true, 52, 52, -1 },
    { "16k-25", G16K, 14, false, 25, 48, 3 },
    { "16k-36", G16K, 14, false, 36, 48, 2 },
    { "16k-47", G16K, 14, false, 47, 48, 1 },
    { "16k-48", G16K, 14, false, 48, 48, 0 },
    { "16k-ds-52", G16K, 14, true, 52, 52, 0 },
    { "64k-25", G64K, 16, false, 25, 48, 3 },
    { "64k-42", G64K, 16, false, 42, 48, 2 },
    { "64k-48", G64K, 16, false, 48, 48, 1 },
    { "64k-52", G64K, 16, false, 52, 52, 1 },
};

/*
 * Pages at the lowest and highest VA of each format: the walk reads one
 * descriptor per level from the start level, the first at the start
 * table's index for the VA's top bits, and a VA one bit too wide faults
 * at the start level without reading anything.
 */
static void test_levels(void)
{
    int i;

    for (i = 0; i < ARRAY_SIZE(formats); i++) {
        const Fmt *f = &formats[i];
        uint64_t g = 1ULL << f->gshift;
        uint64_t top = (1ULL << f->va_bits) - g;
        uint64_t first;
        MmnTranslation tr;
        MmnFault flt;
        T t;

        g_test_message("format %s", f->name);
        t_init(&t, f, RAM_BASE);
        g_assert_cmpint(mmn_walk_start_level(&t.cfg), ==, f->start);
        g_assert_cmpuint(mmn_walk_start_table_size(&t.cfg), ==,
                         t_start_bytes(f));
        first = t_desc_pa(&t, top, f->start);
        t_map(&t, top, 3, 0x7654320000ULL, AF);
        t_map(&t, g, 3, 0x1230000ULL, AF);
        t_expect_ok(&t, top + 8, 0x7654320008ULL, g, 3);
        g_assert_cmpuint(t.m.reads, ==, 4 - f->start);
        t_expect_ok(&t, g + g - 8, 0x1230000ULL + g - 8, g, 3);
        g_assert_cmphex(first, ==, t.cfg.ttb +
                        (top >> t_shift(f, f->start)) * 8);
        g_assert_cmpint(t_walk(&t, 1ULL << f->va_bits, false, &tr, &flt),
                        ==, MMN_FAULT_TRANSLATION);
        g_assert_cmpint(flt.level, ==, f->start);
        g_assert_cmpuint(t.m.reads, ==, 0);
        t_fini(&t);
    }
}

/* Blocks where the Arm ARM has them (AArch64.BlockDescSupported()). */
static void test_blocks(void)
{
    static const struct {
        Fmt f;
        int level;
        uint64_t size;
    } cases[] = {
        { { "4k", G4K, 12, false, 48, 48, 0 }, 1, 1ULL << 30 },
        { { "4k", G4K, 12, false, 48, 48, 0 }, 2, 1ULL << 21 },
        { { "4k-ds", G4K, 12, true, 52, 52, -1 }, 0, 1ULL << 39 },
        { { "4k-ds", G4K, 12, true, 52, 52, -1 }, 1, 1ULL << 30 },
        { { "16k", G16K, 14, false, 48, 48, 0 }, 2, 1ULL << 25 },
        { { "16k-ds", G16K, 14, true, 52, 52, 0 }, 1, 1ULL << 36 },
        { { "16k-ds", G16K, 14, true, 52, 52, 0 }, 2, 1ULL << 25 },
        { { "64k", G64K, 16, false, 48, 48, 1 }, 1, 1ULL << 42 },
        { { "64k", G64K, 16, false, 42, 48, 2 }, 2, 1ULL << 29 },
        { { "64k-52", G64K, 16, false, 52, 52, 1 }, 1, 1ULL << 42 },
    };
    int i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t size = cases[i].size;
        uint64_t va = 3 * size, pa = 5 * size, off = size / 2 + 0x18;
        T t;

        g_test_message("%s block at level %d", cases[i].f.name,
                       cases[i].level);
        t_init(&t, &cases[i].f, RAM_BASE);
        t_map(&t, va, cases[i].level, pa, AF);
        t_expect_ok(&t, va + off, pa + off, size, cases[i].level);
        t_fini(&t);
    }
}

/*
 * Reserved encodings: a block at a level whose granule (and DS) has none,
 * and bits [1:0] = 01 at level 3: translation fault at that level.
 */
static void test_blocks_reserved(void)
{
    static const struct {
        Fmt f;
        int level;
    } cases[] = {
        { { "4k", G4K, 12, false, 48, 48, 0 }, 0 },
        { { "4k-ds", G4K, 12, true, 52, 52, -1 }, -1 },
        { { "16k", G16K, 14, false, 48, 48, 0 }, 0 },
        { { "16k", G16K, 14, false, 47, 48, 1 }, 1 },
        { { "16k-ds", G16K, 14, true, 52, 52, 0 }, 0 },
        { { "4k", G4K, 12, false, 48, 48, 0 }, 3 },
        { { "16k", G16K, 14, false, 48, 48, 0 }, 3 },
        { { "64k", G64K, 16, false, 52, 52, 1 }, 3 },
    };
    int i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t va = 1ULL << t_shift(&cases[i].f, cases[i].level);
        uint64_t dpa;
        T t;

        g_test_message("%s reserved at level %d", cases[i].f.name,
                       cases[i].level);
        t_init(&t, &cases[i].f, RAM_BASE);
        dpa = t_desc_pa(&t, va, cases[i].level);
        mmn_fake_mem_set(&t.m, dpa, MMN_PTE_VALID | AF);  /* block / 01 */
        t_expect_fault(&t, va, MMN_FAULT_TRANSLATION, cases[i].level);
        t_fini(&t);
    }
}

/*
 * FEAT_LPA2, 4 KiB: level -1 (16 entries for 52 bits), every table above
 * 2^50 (next-level address [51:50] in bits [9:8]) and a 52-bit OA; with
 * 48-bit OA the same tables are an address size fault where a descriptor
 * first points above 2^48.  Bits [9:8] are shareability without DS.
 */
static void test_ds_4k(void)
{
    static const Fmt f = { "4k-ds-52", G4K, 12, true, 52, 52, -1 };
    static const Fmt f48 = { "4k-48", G4K, 12, false, 48, 48, 0 };
    uint64_t va = 0xfedcba9876000ULL, pa = 0xfabcdef012000ULL, dpa;
    T t;

    t_init(&t, &f, HIGH_BASE);
    g_assert_cmpuint(t_start_bytes(&f), ==, 128);
    dpa = t_map(&t, va, 3, pa, AF);
    t_expect_ok(&t, va | 0xabc, pa | 0xabc, 0x1000, 3);
    g_assert_cmpuint(t.m.reads, ==, 5);
    g_assert_cmphex(mmn_fake_mem_get(&t.m, dpa) & 0x300, ==, 0x300);
    g_assert_cmphex(mmn_walk_desc_oa(&t.cfg, mmn_fake_mem_get(&t.m, dpa)),
                    ==, pa);

    /* the TTB itself is above 2^48: address size at the start level */
    t.cfg.oa_bits = 48;
    t_expect_fault(&t, va, MMN_FAULT_ADDR_SIZE, -1);
    t_fini(&t);

    /* tables below 2^48, a leaf above: address size fault at level 3 */
    t_init(&t, &f, RAM_BASE);
    t_map(&t, va, 3, pa, AF);
    t.cfg.oa_bits = 48;
    t_expect_fault(&t, va, MMN_FAULT_ADDR_SIZE, 3);
    t.cfg.oa_bits = 52;
    t_expect_ok(&t, va, pa, 0x1000, 3);
    t_fini(&t);

    /* without DS, SH = 0b11 in bits [9:8] is no address */
    t_init(&t, &f48, RAM_BASE);
    t_map(&t, 0x5000, 3, 0x9000, AF | SH_INNER);
    t_expect_ok(&t, 0x5000, 0x9000, 0x1000, 3);
    t_fini(&t);
}

/* FEAT_LPA2, 16 KiB: 32-entry level 0, OA[51:50], the 64 GiB block. */
static void test_ds_16k(void)
{
    static const Fmt f = { "16k-ds-52", G16K, 14, true, 52, 52, 0 };
    uint64_t va = 0xf123456788000ULL, pa = 0xe987654320000ULL;
    uint64_t bva = 0x7000000000000ULL, bpa = 0xd000000000000ULL;
    T t;

    t_init(&t, &f, HIGH_BASE);
    g_assert_cmpuint(t_start_bytes(&f), ==, 256);
    t_map(&t, va, 3, pa, AF);
    t_map(&t, bva, 1, bpa, AF);
    t_expect_ok(&t, va + 0x3ff8, pa + 0x3ff8, 0x4000, 3);
    g_assert_cmpuint(t.m.reads, ==, 4);
    t_expect_ok(&t, bva + 0x876543210ULL, bpa + 0x876543210ULL,
                1ULL << 36, 1);
    t_fini(&t);
}

/*
 * 64 KiB with FEAT_LPA and FEAT_LVA: 52-bit VA (1024-entry level 1),
 * OA[51:48] in bits [15:12] for tables and leaves; bits [49:48], which
 * Linux 6.12 also fills (PTE_ADDR_LOW is [49:16]), are not address bits
 * (Linux 6.1's encoding leaves them 0: same result).  With 48-bit OA a
 * non-zero [15:12] is an address size fault.
 */
static void test_64k_52(void)
{
    static const Fmt f = { "64k-52", G64K, 16, false, 52, 52, 1 };
    uint64_t va = 0xfedcba9870000ULL, pa = 0xf123456780000ULL, dpa, d;
    T t;

    t_init(&t, &f, HIGH_BASE);
    g_assert_cmpuint(t_start_bytes(&f), ==, 8192);
    dpa = t_map(&t, va, 3, pa, AF);
    t_expect_ok(&t, va + 0xfff8, pa + 0xfff8, 0x10000, 3);
    g_assert_cmpuint(t.m.reads, ==, 3);
    d = mmn_fake_mem_get(&t.m, dpa);
    g_assert_cmphex(d & 0xf000, ==, 0xf000);
    /* 6.1 __phys_to_pte_val(): PTE_ADDR_MASK [47:16] | [15:12] */
    mmn_fake_mem_set(&t.m, dpa, d & ~(3ULL << 48));
    t_expect_ok(&t, va, pa, 0x10000, 3);
    t.cfg.oa_bits = 48;
    t_expect_fault(&t, va, MMN_FAULT_ADDR_SIZE, 1);
    t_fini(&t);

    t_init(&t, &f, RAM_BASE);
    dpa = t_map(&t, va, 3, pa, AF);
    t.cfg.oa_bits = 48;
    t_expect_fault(&t, va, MMN_FAULT_ADDR_SIZE, 3);
    /* a 48-bit OA whose descriptor has only [15:12] = 0: fine */
    mmn_fake_mem_set(&t.m, dpa, enc(&f, 0xa987650000ULL) | MMN_PTE_VALID |
                     MMN_PTE_TABLE | AF);
    t_expect_ok(&t, va, 0xa987650000ULL, 0x10000, 3);
    t_fini(&t);
}

/*
 * Contiguous runs: every leaf of a run reports the run's size (Arm DDI
 * 0487 "The Contiguous bit" table; Linux CONT_PTES / CONT_PMDS), and each
 * page is still translated from its own descriptor.  Where the Arm ARM
 * has no run the bit is ignored.
 */
static void test_contiguous(void)
{
    static const struct {
        Fmt f;
        int level;
        unsigned entries;       /* 1: no run at that level */
    } cases[] = {
        { { "4k", G4K, 12, false, 48, 48, 0 }, 3, 16 },
        { { "4k", G4K, 12, false, 48, 48, 0 }, 2, 16 },
        { { "4k", G4K, 12, false, 48, 48, 0 }, 1, 16 },
        { { "4k-ds", G4K, 12, true, 52, 52, -1 }, 0, 1 },
        { { "16k", G16K, 14, false, 48, 48, 0 }, 3, 128 },
        { { "16k", G16K, 14, false, 48, 48, 0 }, 2, 32 },
        { { "16k-ds", G16K, 14, true, 52, 52, 0 }, 1, 1 },
        { { "64k", G64K, 16, false, 48, 48, 1 }, 3, 32 },
        { { "64k", G64K, 16, false, 48, 48, 1 }, 2, 32 },
        { { "64k", G64K, 16, false, 48, 48, 1 }, 1, 1 },
    };
    int i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t size = 1ULL << t_shift(&cases[i].f, cases[i].level);
        unsigned n = cases[i].entries, j;
        uint64_t run = size * n, base = 2 * MAX(run, size);
        MmnTranslation tr;
        MmnFault flt;
        T t;

        g_test_message("%s contiguous at level %d", cases[i].f.name,
                       cases[i].level);
        t_init(&t, &cases[i].f, RAM_BASE);
        for (j = 0; j < n; j++) {
            t_map(&t, base + j * size, cases[i].level,
                  0x40000000000ULL + j * size, AF | CONT);
        }
        if (n > 1) {
            /* one entry of the run disagrees: translated as it says */
            t_map(&t, base + (n - 1) * size, cases[i].level,
                  0x80000000000ULL, AF | CONT | MMN_PTE_AP_RDONLY);
        }
        g_assert_cmpint(t_walk(&t, base + size / 2, false, &tr, &flt), ==,
                        MMN_FAULT_NONE);
        g_assert_cmphex(tr.run_size, ==, run);
        g_assert_cmphex(tr.size, ==, size);
        g_assert_cmphex(tr.pa, ==, 0x40000000000ULL);
        g_assert_true(tr.perm & MMN_PERM_W);
        if (n > 1) {
            g_assert_cmpint(t_walk(&t, base + (n - 1) * size, true, &tr,
                                   &flt), ==, MMN_FAULT_PERMISSION);
            g_assert_cmphex(tr.pa, ==, 0x80000000000ULL);
            g_assert_cmphex(tr.run_size, ==, run);
        }
        /* no contiguous bit: the run is the leaf */
        t_map(&t, base, cases[i].level, 0x40000000000ULL, AF);
        g_assert_cmpint(t_walk(&t, base, false, &tr, &flt), ==,
                        MMN_FAULT_NONE);
        g_assert_cmphex(tr.run_size, ==, size);
        t_fini(&t);
    }
}

/*
 * TBI: a tagged VA translates like the untagged one and the translation
 * and the fault report the untagged VA; without TBI the same tagged VA
 * is a translation fault at the start level, reported as given.  Bit 55
 * (the TTBR1 half) still faults with TBI.
 */
static void test_tbi(void)
{
    static const Fmt f = { "16k-47", G16K, 14, false, 47, 48, 1 };
    uint64_t va = 0x7fff12344000ULL, tag = 0xb5ULL << 56;
    MmnTranslation tr;
    MmnFault flt;
    T t;

    t_init(&t, &f, RAM_BASE);
    t_map(&t, va, 3, 0x88888000ULL, AF);
    t.cfg.tbi = true;
    g_assert_cmpint(t_walk(&t, va | tag | 0x123, false, &tr, &flt), ==,
                    MMN_FAULT_NONE);
    g_assert_cmphex(tr.va, ==, va);
    g_assert_cmphex(tr.pa, ==, 0x88888000ULL);
    g_assert_cmphex(mmn_walk_input_va(&t.cfg, va | tag), ==, va);
    /* unmapped: the fault's VA is the untagged one */
    g_assert_cmpint(t_walk(&t, (va + 0x4000) | tag, false, &tr, &flt), ==,
                    MMN_FAULT_TRANSLATION);
    g_assert_cmphex(flt.va, ==, va + 0x4000);
    g_assert_cmpint(flt.level, ==, 3);
    /* bit 55 set: outside TTBR0's range */
    g_assert_cmpint(t_walk(&t, va | tag | (1ULL << 55), false, &tr, &flt),
                    ==, MMN_FAULT_TRANSLATION);
    g_assert_cmpint(flt.level, ==, 1);

    t.cfg.tbi = false;
    g_assert_cmpint(t_walk(&t, va | tag, false, &tr, &flt), ==,
                    MMN_FAULT_TRANSLATION);
    g_assert_cmphex(flt.va, ==, va | tag);
    g_assert_cmpint(flt.level, ==, 1);
    g_assert_cmpuint(t.m.reads, ==, 0);
    g_assert_cmphex(mmn_walk_input_va(&t.cfg, va | tag), ==, va | tag);
    t_expect_ok(&t, va, 0x88888000ULL, 0x4000, 3);
    t_fini(&t);
}

/*
 * Through the IOTLB with TBI: a tagged access fills the untagged VA, a
 * differently tagged one hits that entry, and an invalidation of the
 * untagged VA (what Linux's notifiers send) drops it.
 */
static void test_tbi_iotlb(void)
{
    static const Fmt f = { "4k-48", G4K, 12, false, 48, 48, 0 };
    MmnIotlb *tlb = mmn_iotlb_new(16);
    MmnIotlbCtx *c = mmn_iotlb_ctx_new(tlb, 1);
    uint64_t va = 0x12345000ULL;
    MmnAccess acc = { .va = va | (0x0fULL << 56) };
    MmnTranslation tr;
    MmnFault flt;
    bool cached;
    T t;

    t_init(&t, &f, RAM_BASE);
    t_map(&t, va, 3, 0x77777000ULL, AF);
    t.cfg.tbi = true;
    g_assert_cmpint(mmn_iotlb_translate(c, &t.cfg, &mmn_fake_mem_ops, &t.m,
                                        &acc, &tr, &flt, &cached, NULL), ==,
                    MMN_XLATE_OK);
    g_assert_false(cached);
    g_assert_cmphex(tr.va, ==, va);
    g_assert_nonnull(mmn_iotlb_lookup(c, va, NULL));
    acc.va = va | (0xf0ULL << 56) | 0x10;
    g_assert_cmpint(mmn_iotlb_translate(c, &t.cfg, &mmn_fake_mem_ops, &t.m,
                                        &acc, &tr, &flt, &cached, NULL), ==,
                    MMN_XLATE_OK);
    g_assert_true(cached);
    g_assert_cmpuint(mmn_iotlb_inv_page(c, va), ==, 1);
    g_assert_cmpuint(mmn_iotlb_count(tlb), ==, 0);
    mmn_iotlb_free(tlb);
    t_fini(&t);
}

/* Configurations the walker refuses: every walk faults, nothing is read. */
static void test_config_invalid(void)
{
    static const struct {
        unsigned granule;
        bool ds;
        unsigned va_bits;
    } bad[] = {
        { 3, false, 48 },               /* TG0 0b11 reserved */
        { G4K, false, 49 },             /* 52-bit VA needs DS */
        { G4K, false, 52 },
        { G16K, false, 49 },
        { G16K, false, 52 },
        { G4K, true, 53 },
        { G16K, true, 53 },
        { G64K, false, 53 },
        { G64K, false, 24 },
        { G16K, true, 24 },
        { G4K, false, 0 },
    };
    static const Fmt f = { "4k-48", G4K, 12, false, 48, 48, 0 };
    int i;

    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        MmnWalkConfig cfg = {
            .granule = bad[i].granule,
            .ds = bad[i].ds,
            .va_bits = bad[i].va_bits,
            .oa_bits = 48,
        };
        T t;

        g_test_message("granule %u ds %d va_bits %u", bad[i].granule,
                       bad[i].ds, bad[i].va_bits);
        t_init(&t, &f, RAM_BASE);
        t_map(&t, 0x1000, 3, 0x1000, AF);
        cfg.ttb = t.cfg.ttb;
        g_assert_false(mmn_walk_config_valid(&cfg));
        t.cfg = cfg;
        t_expect_fault(&t, 0x1000, MMN_FAULT_TRANSLATION, 0);
        g_assert_cmpuint(t.m.reads, ==, 0);
        t_fini(&t);
    }
}

/*
 * Values the walker bounds, as Arm does: DS is ignored with 64 KiB (bits
 * [9:8] stay attributes, [15:12] stay OA[51:48]); IPS = 52 is 48 for
 * 4K/16K with DS = 0; oa_bits above 52 is 52.
 */
static void test_config_bounded(void)
{
    static const Fmt f64 = { "64k-48", G64K, 16, false, 48, 52, 1 };
    static const Fmt f16 = { "16k-47", G16K, 14, false, 47, 52, 1 };
    uint64_t dpa;
    T t;

    t_init(&t, &f64, RAM_BASE);
    dpa = t_map(&t, 0x30000, 3, 0x7000000000000ULL, AF | SH_INNER);
    t.cfg.ds = true;
    t_expect_ok(&t, 0x30000, 0x7000000000000ULL, 0x10000, 3);
    g_assert_cmpuint(mmn_walk_max_va_bits(&t.cfg), ==, 52);
    t.cfg.oa_bits = 60;
    t_expect_ok(&t, 0x30000, 0x7000000000000ULL, 0x10000, 3);
    g_assert_cmphex(mmn_fake_mem_get(&t.m, dpa) & 0xf000, ==, 0x7000);
    t_fini(&t);

    /* a TTB above 2^48 with IPS = 52: still beyond the 48-bit OA */
    t_init(&t, &f16, HIGH_BASE);
    t_map(&t, 0x4000, 3, 0x8000, AF);
    t_expect_fault(&t, 0x4000, MMN_FAULT_ADDR_SIZE, 1);
    t_fini(&t);

    /* and descriptor bits [51:48] are no address bits there (RES0) */
    t_init(&t, &f16, RAM_BASE);
    t_map(&t, 0x4000, 3, (0xfULL << 48) | 0xffffffffc000ULL, AF);
    t_expect_ok(&t, 0x4000, 0xffffffffc000ULL, 0x4000, 3);
    t_fini(&t);
}

/*
 * The start table's base: bits below its size are ignored (and below 64
 * bytes with a 52-bit OA), for tables smaller than a granule.
 */
static void test_ttb_alignment(void)
{
    static const Fmt f16 = { "16k-48", G16K, 14, false, 48, 48, 0 };
    static const Fmt f4ds = { "4k-ds-52", G4K, 12, true, 52, 52, -1 };
    static const Fmt f16ds = { "16k-ds-48", G16K, 14, true, 48, 52, 0 };
    uint64_t va = 0xffff12344000ULL;
    T t;

    t_init(&t, &f16, RAM_BASE);
    g_assert_cmpuint(t_start_bytes(&f16), ==, 16);
    t_map(&t, va, 3, 0x5554000ULL, AF);
    t.cfg.ttb |= 0xf;
    t_expect_ok(&t, va, 0x5554000ULL, 0x4000, 3);
    t.cfg.ttb += 0x10;     /* the next 16 bytes: another table */
    t_expect_fault(&t, va, MMN_FAULT_TRANSLATION, 0);
    t_fini(&t);

    t_init(&t, &f4ds, RAM_BASE);
    t_map(&t, 0xf000000000000ULL, 3, 0x5554000ULL, AF);
    t.cfg.ttb |= 0x7f;
    t_expect_ok(&t, 0xf000000000000ULL, 0x5554000ULL, 0x1000, 3);
    t_fini(&t);

    /* 16 bytes of table, but a 52-bit OA: aligned to 64 */
    t_init(&t, &f16ds, RAM_BASE);
    t_map(&t, va, 3, 0x5554000ULL, AF);
    t.cfg.ttb |= 0x30;
    t_expect_ok(&t, va, 0x5554000ULL, 0x4000, 3);
    t_fini(&t);
}

/* The leaf sizes the IOTLB accepts: every granule's, nothing else. */
static void test_leaf_sizes(void)
{
    static const struct {
        unsigned level;
        uint64_t size;
        bool ok;
    } cases[] = {
        { 3, 1ULL << 12, true }, { 3, 1ULL << 14, true },
        { 3, 1ULL << 16, true }, { 2, 1ULL << 21, true },
        { 2, 1ULL << 25, true }, { 2, 1ULL << 29, true },
        { 1, 1ULL << 30, true }, { 1, 1ULL << 36, true },
        { 1, 1ULL << 42, true }, { 0, 1ULL << 39, true },
        { 3, 1ULL << 21, false }, { 2, 1ULL << 12, false },
        { 0, 1ULL << 42, false }, { 4, 1ULL << 12, false },
        { 3, 0, false }, { 1, 3ULL << 30, false },
    };
    int i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        g_assert_cmpint(mmn_walk_leaf_size_valid(cases[i].level,
                                                 cases[i].size), ==,
                        cases[i].ok);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/mmn-smmu/walker-formats/levels", test_levels);
    g_test_add_func("/mmn-smmu/walker-formats/blocks", test_blocks);
    g_test_add_func("/mmn-smmu/walker-formats/blocks-reserved",
                    test_blocks_reserved);
    g_test_add_func("/mmn-smmu/walker-formats/ds-4k", test_ds_4k);
    g_test_add_func("/mmn-smmu/walker-formats/ds-16k", test_ds_16k);
    g_test_add_func("/mmn-smmu/walker-formats/64k-52", test_64k_52);
    g_test_add_func("/mmn-smmu/walker-formats/contiguous", test_contiguous);
    g_test_add_func("/mmn-smmu/walker-formats/tbi", test_tbi);
    g_test_add_func("/mmn-smmu/walker-formats/tbi-iotlb", test_tbi_iotlb);
    g_test_add_func("/mmn-smmu/walker-formats/config-invalid",
                    test_config_invalid);
    g_test_add_func("/mmn-smmu/walker-formats/config-bounded",
                    test_config_bounded);
    g_test_add_func("/mmn-smmu/walker-formats/ttb-alignment",
                    test_ttb_alignment);
    g_test_add_func("/mmn-smmu/walker-formats/leaf-sizes", test_leaf_sizes);
    return g_test_run();
}
