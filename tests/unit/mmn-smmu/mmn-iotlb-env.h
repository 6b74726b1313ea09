/*
 * mmn-smmu IOTLB unit tests: one IOTLB context bound to an address space,
 * translating over a fake physical memory (mmn-fake-mem.h), and the
 * helpers the IOTLB tests share.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MMN_IOTLB_ENV_H
#define MMN_IOTLB_ENV_H

#include "hw/mmn-smmu/iotlb.h"
#include "mmn-fake-mem.h"

#define PG          0x1000ULL
#define MiB2        0x200000ULL
#define VA0         0x7f0000000000ULL     /* a user-space-like VA */
#define PA0         0x80000000ULL
#define RW          (MMN_PTE_AF)
#define RO          (MMN_PTE_AF | MMN_PTE_AP_RDONLY)

typedef struct Env {
    MmnFakeMem mem;
    MmnWalkConfig cfg;
    MmnMm *mm;
    MmnIotlb *t;
    MmnIotlbCtx *c;
    /* last translate */
    MmnTranslation tr;
    MmnFault fault;
    bool from_cache;
    uint64_t serial;
} Env;

static inline void env_init(Env *e, uint32_t capacity)
{
    memset(e, 0, sizeof(*e));
    mmn_fake_mem_init(&e->mem, 0x10000000);
    e->cfg.ttb = mmn_fake_mem_alloc(&e->mem);
    e->cfg.va_bits = 48;
    e->cfg.oa_bits = 40;
    e->mm = mmn_mm_new();
    e->t = mmn_iotlb_new(capacity);
    e->c = mmn_iotlb_ctx_new(e->t, 1);
    g_assert_cmpint(mmn_iotlb_ctx_attach(e->c, e->mm, &e->cfg), ==, 0);
}

static inline void env_destroy(Env *e)
{
    mmn_iotlb_free(e->t);
    mmn_mm_free(e->mm);
    mmn_fake_mem_destroy(&e->mem);
}

static inline uint64_t map(Env *e, uint64_t va, uint64_t pa,
                           unsigned level, uint64_t attrs)
{
    return mmn_fake_mem_map(&e->mem, e->cfg.ttb, e->cfg.va_bits, va, pa,
                            level, attrs);
}

/* The descriptor translating @va at level 3 (must exist). */
static inline uint64_t leaf_pa(Env *e, uint64_t va)
{
    return mmn_fake_mem_desc_pa(&e->mem, e->cfg.ttb, e->cfg.va_bits, va, 3,
                                0);
}

static inline MmnXlateResult xl(Env *e, uint64_t va, bool write)
{
    MmnAccess acc = { .va = va, .write = write };

    memset(&e->tr, 0, sizeof(e->tr));
    memset(&e->fault, 0, sizeof(e->fault));
    return mmn_iotlb_translate(e->c, &e->cfg, &mmn_fake_mem_ops, &e->mem,
                               &acc, &e->tr, &e->fault, &e->from_cache,
                               &e->serial);
}

static inline MmnIotlbStats stats(Env *e)
{
    MmnIotlbStats s;

    mmn_iotlb_ctx_get_stats(e->c, &s);
    return s;
}

static inline const MmnTranslation *cached(Env *e, uint64_t va,
                                           bool *young)
{
    return mmn_iotlb_lookup(e->c, va, young);
}

#endif /* MMN_IOTLB_ENV_H */
