/*
 * mmn-smmu unit tests: an in-memory fake physical memory holding AArch64
 * stage-1 page tables (4 KiB granule), implementing MmnPtOps.
 *
 * Memory is one flat array of 4 KiB pages from @base upwards; tables are
 * handed out by a bump allocator.  Reads or cmpxchgs outside the allocated
 * pages fail (the walk then aborts).  The data pages that leaves point to
 * need not exist: nothing here reads them.
 *
 * A test may set a hook called after every descriptor read (with the value
 * already read): it can change the tables and deliver notifier calls in the
 * middle of a walk, to race a fill against an invalidation.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MMN_FAKE_MEM_H
#define MMN_FAKE_MEM_H

#include "hw/mmn-smmu/walker.h"

#define MMN_FAKE_PAGE       4096ULL

typedef struct MmnFakeMem MmnFakeMem;
typedef void (*MmnFakeMemHook)(MmnFakeMem *m, uint64_t pa, uint64_t val,
                               void *opaque);

struct MmnFakeMem {
    uint64_t base;              /* PA of the first page */
    uint64_t npages;            /* pages allocated */
    uint64_t cap;               /* pages the array can hold */
    uint64_t *words;
    uint64_t reads;             /* descriptor reads (ops->read) */
    uint64_t cmpxchgs;          /* ops->cmpxchg calls */
    MmnFakeMemHook read_hook;
    void *hook_opaque;
};

static inline void mmn_fake_mem_init(MmnFakeMem *m, uint64_t base)
{
    memset(m, 0, sizeof(*m));
    m->base = base;
}

static inline void mmn_fake_mem_destroy(MmnFakeMem *m)
{
    g_free(m->words);
    m->words = NULL;
}

/* A zeroed 4 KiB page; returns its PA. */
static inline uint64_t mmn_fake_mem_alloc(MmnFakeMem *m)
{
    if (m->npages == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->words = g_renew(uint64_t, m->words, m->cap * 512);
    }
    memset(&m->words[m->npages * 512], 0, MMN_FAKE_PAGE);
    return m->base + m->npages++ * MMN_FAKE_PAGE;
}

static inline uint64_t *mmn_fake_mem_word(MmnFakeMem *m, uint64_t pa)
{
    if (pa < m->base || (pa & 7) ||
        (pa - m->base) / MMN_FAKE_PAGE >= m->npages) {
        return NULL;
    }
    return &m->words[(pa - m->base) / 8];
}

/* Test-side access (the CPU changing its tables); no hook, no counting. */
static inline uint64_t mmn_fake_mem_get(MmnFakeMem *m, uint64_t pa)
{
    uint64_t *w = mmn_fake_mem_word(m, pa);

    g_assert(w);
    return *w;
}

static inline void mmn_fake_mem_set(MmnFakeMem *m, uint64_t pa, uint64_t v)
{
    uint64_t *w = mmn_fake_mem_word(m, pa);

    g_assert(w);
    *w = v;
}

static inline bool mmn_fake_mem_read(void *opaque, uint64_t pa,
                                     uint64_t *val)
{
    MmnFakeMem *m = opaque;
    uint64_t *w = mmn_fake_mem_word(m, pa);

    if (!w) {
        return false;
    }
    m->reads++;
    *val = *w;
    if (m->read_hook) {
        m->read_hook(m, pa, *val, m->hook_opaque);
    }
    return true;
}

static inline bool mmn_fake_mem_cmpxchg(void *opaque, uint64_t pa,
                                        uint64_t old, uint64_t newv,
                                        uint64_t *cur)
{
    MmnFakeMem *m = opaque;
    uint64_t *w = mmn_fake_mem_word(m, pa);

    if (!w) {
        return false;
    }
    m->cmpxchgs++;
    *cur = *w;
    if (*w == old) {
        *w = newv;
    }
    return true;
}

static const MmnPtOps mmn_fake_mem_ops = {
    .read = mmn_fake_mem_read,
    .cmpxchg = mmn_fake_mem_cmpxchg,
};

/* Start level of a walk for @va_bits (4 KiB granule). */
static inline unsigned mmn_fake_start_level(unsigned va_bits)
{
    return va_bits > 39 ? 0 : va_bits > 30 ? 1 : 2;
}

/*
 * Address of the descriptor translating @va at @level under the table
 * @ttb, creating missing tables on the way (table descriptors get
 * @table_attrs, e.g. MMN_PTE_AP_TABLE_RDONLY).  Fails the test if a
 * level above @level holds a leaf.
 */
static inline uint64_t mmn_fake_mem_desc_pa(MmnFakeMem *m, uint64_t ttb,
                                            unsigned va_bits, uint64_t va,
                                            unsigned level,
                                            uint64_t table_attrs)
{
    unsigned l = mmn_fake_start_level(va_bits);
    uint64_t table = ttb;

    for (;; l++) {
        unsigned shift = 12 + 9 * (3 - l);
        uint64_t pa = table + ((va >> shift) & 511) * 8;
        uint64_t d;

        if (l == level) {
            return pa;
        }
        d = mmn_fake_mem_get(m, pa);
        if (!(d & MMN_PTE_VALID)) {
            uint64_t t = mmn_fake_mem_alloc(m);

            d = t | MMN_PTE_VALID | MMN_PTE_TABLE | table_attrs;
            mmn_fake_mem_set(m, pa, d);
        }
        g_assert(d & MMN_PTE_TABLE);
        table = d & MMN_PTE_ADDR_MASK;
    }
}

/*
 * Map @va to @pa at @level (3: page, 2: 2 MiB block, 1: 1 GiB block) with
 * leaf attribute bits @attrs (e.g. MMN_PTE_AF | MMN_PTE_AP_RDONLY).
 * Returns the PA of the leaf descriptor.
 */
static inline uint64_t mmn_fake_mem_map(MmnFakeMem *m, uint64_t ttb,
                                        unsigned va_bits, uint64_t va,
                                        uint64_t pa, unsigned level,
                                        uint64_t attrs)
{
    uint64_t dpa = mmn_fake_mem_desc_pa(m, ttb, va_bits, va, level, 0);
    uint64_t d = (pa & MMN_PTE_ADDR_MASK) | attrs | MMN_PTE_VALID;

    if (level == 3) {
        d |= MMN_PTE_TABLE;     /* page descriptor encoding */
    }
    mmn_fake_mem_set(m, dpa, d);
    return dpa;
}

#endif /* MMN_FAKE_MEM_H */
