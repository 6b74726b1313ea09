/*
 * Unit tests of the mmn-smmu stage-1 walker: the fake physical memory,
 * the 4 KiB 48/39-bit test context and the walk helpers shared by
 * test-mmn-walker.c and test-mmn-walker-dirty.c.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MMN_WALKER_ENV_H
#define MMN_WALKER_ENV_H

#include "hw/mmn-smmu/walker.h"

/*
 * Fake physical memory: RAM is [RAM_BASE, RAM_END), 4 KiB pages created
 * (zeroed) on first touch.  Anything else reads as "not memory" (MMIO below
 * RAM, nothing above it): ops return false.
 */
#define RAM_BASE        0x40000000ULL
#define RAM_END         0x140000000ULL
#define MMIO_ADDR       0x09000000ULL
#define OUTSIDE_ADDR    0x200000000ULL
#define PAGE_SZ         4096ULL

/* Linux arm64 PTE bits (asm/pgtable-hwdef.h, asm/pgtable-prot.h) */
#define L_PTE_TYPE_PAGE (3ULL << 0)
#define L_PTE_USER      (1ULL << 6)
#define L_PTE_RDONLY    (1ULL << 7)
#define L_PTE_SHARED    (3ULL << 8)
#define L_PTE_AF        (1ULL << 10)
#define L_PTE_NG        (1ULL << 11)
#define L_PTE_WRITE     (1ULL << 51)    /* hardware DBM */
#define L_PTE_PXN       (1ULL << 53)
#define L_PTE_UXN       (1ULL << 54)
#define L_PTE_DIRTY     (1ULL << 55)    /* software dirty */
#define L_PTE_SWBIT     (1ULL << 56)    /* another software bit */
#define L_PROT_DEFAULT  (L_PTE_TYPE_PAGE | L_PTE_AF | L_PTE_SHARED)
/* shared writable mapping, clean: PTE_WRITE and PTE_RDONLY */
#define L_PAGE_SHARED   (L_PROT_DEFAULT | L_PTE_USER | L_PTE_RDONLY | \
                         L_PTE_NG | L_PTE_PXN | L_PTE_UXN | L_PTE_WRITE)
/* the same after pte_mkdirty(): RDONLY cleared, software DIRTY set */
#define L_PAGE_SHARED_DIRTY ((L_PAGE_SHARED & ~L_PTE_RDONLY) | L_PTE_DIRTY)
#define L_PAGE_READONLY (L_PROT_DEFAULT | L_PTE_USER | L_PTE_RDONLY | \
                         L_PTE_NG | L_PTE_PXN | L_PTE_UXN)
#define L_PAGE_READONLY_EXEC (L_PAGE_READONLY & ~L_PTE_UXN)
#define L_PAGE_KERNEL   (L_PROT_DEFAULT | L_PTE_PXN | L_PTE_UXN | \
                         L_PTE_WRITE | L_PTE_DIRTY)

/* A page (level 3) and a block (levels 1, 2) descriptor, AF set. */
#define PAGE(pa, attrs)     ((pa) | MMN_PTE_VALID | MMN_PTE_TABLE | \
                             MMN_PTE_AF | (attrs))
#define BLOCK(pa, attrs)    ((pa) | MMN_PTE_VALID | MMN_PTE_AF | (attrs))
#define TABLE(pa)           ((pa) | MMN_PTE_VALID | MMN_PTE_TABLE)

typedef struct FakeMem {
    GHashTable *pages;      /* pfn -> uint64_t[512] */
    uint64_t next_free;     /* bump allocator for tables */
    unsigned reads;         /* ops->read calls */
    unsigned cas;           /* ops->cmpxchg calls */
    bool cas_broken;        /* cmpxchg returns false */
    /*
     * Another agent (the CPU) changes the descriptor between the walker's
     * read and its compare-and-swap: on each of the next race_left cmpxchg
     * calls (-1: all of them), before comparing.
     */
    int race_left;
    uint64_t race_set, race_clear, race_xor;
} FakeMem;

static inline bool fm_in_ram(uint64_t pa)
{
    return pa >= RAM_BASE && pa < RAM_END && !(pa & 7);
}

static inline uint64_t *fm_slot(FakeMem *m, uint64_t pa)
{
    gpointer key = GUINT_TO_POINTER((guint)(pa / PAGE_SZ));
    uint64_t *page = g_hash_table_lookup(m->pages, key);

    g_assert_true(fm_in_ram(pa));
    if (!page) {
        page = g_new0(uint64_t, PAGE_SZ / 8);
        g_hash_table_insert(m->pages, key, page);
    }
    return &page[(pa % PAGE_SZ) / 8];
}

static inline uint64_t fm_get(FakeMem *m, uint64_t pa)
{
    return *fm_slot(m, pa);
}

static inline void fm_set(FakeMem *m, uint64_t pa, uint64_t val)
{
    *fm_slot(m, pa) = val;
}

static inline uint64_t fm_alloc(FakeMem *m)
{
    uint64_t pa = m->next_free;

    m->next_free += PAGE_SZ;
    g_assert_cmphex(m->next_free, <=, RAM_END);
    fm_slot(m, pa);
    return pa;
}

static inline bool fm_read(void *opaque, uint64_t pa, uint64_t *val)
{
    FakeMem *m = opaque;

    m->reads++;
    if (!fm_in_ram(pa)) {
        return false;
    }
    *val = fm_get(m, pa);
    return true;
}

static inline bool fm_cmpxchg(void *opaque, uint64_t pa, uint64_t old,
                              uint64_t newv, uint64_t *cur)
{
    FakeMem *m = opaque;
    uint64_t *slot;

    m->cas++;
    if (m->cas_broken || !fm_in_ram(pa)) {
        return false;
    }
    slot = fm_slot(m, pa);
    if (m->race_left) {
        *slot = ((*slot & ~m->race_clear) | m->race_set) ^ m->race_xor;
        if (m->race_left > 0) {
            m->race_left--;
        }
    }
    *cur = *slot;
    if (*slot == old) {
        *slot = newv;
    }
    return true;
}

static const MmnPtOps fm_ops = {
    .read = fm_read,
    .cmpxchg = fm_cmpxchg,
};

/* A context: fake memory plus a configuration whose TTB is in it. */
typedef struct Ctx {
    FakeMem m;
    MmnWalkConfig cfg;
} Ctx;

static inline void ctx_init(Ctx *c, unsigned va_bits)
{
    memset(c, 0, sizeof(*c));
    c->m.pages = g_hash_table_new_full(g_direct_hash, g_direct_equal,
                                       NULL, g_free);
    c->m.next_free = RAM_BASE;
    c->cfg.ttb = fm_alloc(&c->m);
    c->cfg.va_bits = va_bits;
    c->cfg.oa_bits = 48;
}

static inline void ctx_fini(Ctx *c)
{
    g_hash_table_destroy(c->m.pages);
}

/* The test's own view of the geometry (independent of walker.c). */
static inline unsigned t_start_level(unsigned va_bits)
{
    return va_bits >= 40 ? 0 : va_bits >= 31 ? 1 : 2;
}

static inline unsigned t_shift(unsigned level)
{
    return 39 - 9 * level;
}

/*
 * Physical address of the level-@level descriptor for @va, creating the
 * (plain) tables above it as needed.
 */
static inline uint64_t pt_desc_pa(Ctx *c, uint64_t va, unsigned level)
{
    unsigned l = t_start_level(c->cfg.va_bits);
    uint64_t table = c->cfg.ttb;

    g_assert_cmpuint(level, >=, l);
    for (;; l++) {
        uint64_t pa = table + ((va >> t_shift(l)) & 511) * 8;
        uint64_t d;

        if (l == level) {
            return pa;
        }
        d = fm_get(&c->m, pa);
        if (!(d & MMN_PTE_VALID)) {
            d = TABLE(fm_alloc(&c->m));
            fm_set(&c->m, pa, d);
        }
        table = d & MMN_PTE_ADDR_MASK;
    }
}

static inline uint64_t pt_map(Ctx *c, uint64_t va, unsigned level,
                              uint64_t desc)
{
    uint64_t pa = pt_desc_pa(c, va, level);

    fm_set(&c->m, pa, desc);
    return pa;
}

/* OR @bits into the table descriptor at @level on the path of @va. */
static inline void pt_table_or(Ctx *c, uint64_t va, unsigned level,
                               uint64_t bits)
{
    uint64_t pa;

    pt_desc_pa(c, va, level + 1);
    pa = pt_desc_pa(c, va, level);
    g_assert_true(fm_get(&c->m, pa) & MMN_PTE_TABLE);
    fm_set(&c->m, pa, fm_get(&c->m, pa) | bits);
}

enum { A_R = 0, A_W = 1, A_U = 2, A_X = 4 };

static inline MmnFaultKind ctx_walk(Ctx *c, uint64_t va, unsigned flags,
                                    MmnTranslation *tr, MmnFault *f)
{
    MmnAccess acc = {
        .va = va,
        .write = flags & A_W,
        .unpriv = flags & A_U,
        .exec = flags & A_X,
    };
    MmnFaultKind k;

    memset(tr, 0, sizeof(*tr));
    memset(f, 0xa5, sizeof(*f));
    c->m.reads = 0;
    c->m.cas = 0;
    k = mmn_walk(&c->cfg, &fm_ops, &c->m, &acc, tr, f);
    g_assert_cmpuint(c->m.reads, <=, 4);
    g_assert_cmpuint(c->m.cas, <=, MMN_WALK_MAX_CAS);
    if (k != MMN_FAULT_NONE) {
        g_assert_cmpint(f->kind, ==, k);
        g_assert_cmphex(f->va, ==, va);
    }
    return k;
}

/* Walk and expect a fault of @kind at @level on descriptor @desc_pa. */
static inline void expect_fault(Ctx *c, uint64_t va, unsigned flags,
                                MmnFaultKind kind, unsigned level,
                                uint64_t desc_pa)
{
    MmnTranslation tr;
    MmnFault f;

    g_assert_cmpstr(mmn_fault_kind_name(ctx_walk(c, va, flags, &tr, &f)),
                    ==, mmn_fault_kind_name(kind));
    g_assert_cmpuint(f.level, ==, level);
    g_assert_cmphex(f.desc_pa, ==, desc_pa);
}

static inline void expect_ok(Ctx *c, uint64_t va, unsigned flags,
                             MmnTranslation *tr)
{
    MmnFault f;

    g_assert_cmpstr(mmn_fault_kind_name(ctx_walk(c, va, flags, tr, &f)),
                    ==, "none");
}

#endif
