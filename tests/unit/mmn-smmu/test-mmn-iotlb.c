/*
 * mmn-smmu IOTLB unit tests: the cache itself (no walks, no notifiers).
 *
 * Entries are filled directly with mmn_iotlb_fill; each test names the
 * behaviour it checks.  The translate path, the Arm caching rules on real
 * walks and the notifier ops are in test-mmn-iotlb-subscriber.c.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/mmn-smmu/iotlb.h"

#define KiB4    0x1000ULL
#define MiB2    0x200000ULL
#define GiB1    0x40000000ULL

static MmnTranslation mk_tr(uint64_t va, uint64_t pa, unsigned level,
                            uint8_t perm)
{
    uint64_t size = 1ULL << (12 + 9 * (3 - level));
    MmnTranslation tr = {
        .va = va & ~(size - 1),
        .pa = pa & ~(size - 1),
        .size = size,
        .level = level,
        .perm = perm,
        .af = true,
        .dirty = perm & MMN_PERM_W,
        .desc = (pa & ~(size - 1)) | MMN_PTE_VALID | MMN_PTE_AF,
        .desc_pa = 0x1000,
    };
    return tr;
}

static void fill_ok(MmnIotlbCtx *c, uint64_t va, uint64_t pa,
                    unsigned level, uint8_t perm)
{
    MmnTranslation tr = mk_tr(va, pa, level, perm);

    g_assert_true(mmn_iotlb_fill(c, &tr));
}

static uint64_t lookup_pa(MmnIotlbCtx *c, uint64_t va)
{
    const MmnTranslation *tr = mmn_iotlb_lookup(c, va, NULL);

    return tr ? tr->pa + (va & (tr->size - 1)) : UINT64_MAX;
}

/*
 * Entries are keyed by context and VA; a lookup finds the page or block
 * translating the VA (Arm: one TLB entry per leaf, any of the 3 sizes).
 */
static void test_fill_lookup_sizes(void)
{
    MmnIotlb *t = mmn_iotlb_new(64);
    MmnIotlbCtx *a = mmn_iotlb_ctx_new(t, 1);
    MmnIotlbCtx *b = mmn_iotlb_ctx_new(t, 2);
    const MmnTranslation *tr;

    fill_ok(a, 0x5000, 0x80005000, 3, MMN_PERM_W);
    fill_ok(a, 0x40200000, 0x90000000, 2, 0);
    fill_ok(a, 0x80000000, 0xc0000000, 1, MMN_PERM_USER);
    g_assert_cmpuint(mmn_iotlb_count(t), ==, 3);
    g_assert_cmpuint(mmn_iotlb_ctx_count(a), ==, 3);

    g_assert_cmphex(lookup_pa(a, 0x5abc), ==, 0x80005abc);
    g_assert_cmphex(lookup_pa(a, 0x402fffff), ==, 0x900fffff);
    g_assert_cmphex(lookup_pa(a, 0xbfffffff), ==, 0xffffffff);
    tr = mmn_iotlb_lookup(a, 0x80001234, NULL);
    g_assert_nonnull(tr);
    g_assert_cmpuint(tr->size, ==, GiB1);
    g_assert_cmpuint(tr->perm, ==, MMN_PERM_USER);

    /* neighbours and the other context miss */
    g_assert_null(mmn_iotlb_lookup(a, 0x4000, NULL));
    g_assert_null(mmn_iotlb_lookup(a, 0x6000, NULL));
    g_assert_null(mmn_iotlb_lookup(a, 0x40400000, NULL));
    g_assert_null(mmn_iotlb_lookup(a, 0xc0000000, NULL));
    g_assert_null(mmn_iotlb_lookup(b, 0x5000, NULL));
    g_assert_null(mmn_iotlb_lookup(b, 0x80000000, NULL));
    mmn_iotlb_free(t);
}

/*
 * A fill never leaves two entries of a context translating one VA (Arm
 * calls that a TLB conflict): a block replaces the pages it covers, and a
 * page replaces the block it falls in.
 */
static void test_fill_replaces_overlap(void)
{
    MmnIotlb *t = mmn_iotlb_new(64);
    MmnIotlbCtx *c = mmn_iotlb_ctx_new(t, 1);
    MmnIotlbStats s;
    int i;

    for (i = 0; i < 4; i++) {
        fill_ok(c, 0x200000 + i * KiB4, 0x1000000 + i * KiB4, 3, 0);
    }
    fill_ok(c, 0x400000, 0x2000000, 3, 0);      /* outside the block */
    fill_ok(c, 0x200000, 0x3000000, 2, MMN_PERM_W);
    g_assert_cmpuint(mmn_iotlb_ctx_count(c), ==, 2);
    g_assert_cmphex(lookup_pa(c, 0x201000), ==, 0x3001000);
    g_assert_cmphex(lookup_pa(c, 0x400000), ==, 0x2000000);

    fill_ok(c, 0x3ff000, 0x5000000, 3, 0);
    g_assert_cmpuint(mmn_iotlb_ctx_count(c), ==, 2);
    g_assert_null(mmn_iotlb_lookup(c, 0x201000, NULL));
    g_assert_cmphex(lookup_pa(c, 0x3ff000), ==, 0x5000000);

    /* refill of the same key keeps one entry */
    fill_ok(c, 0x3ff000, 0x6000000, 3, MMN_PERM_W);
    g_assert_cmpuint(mmn_iotlb_ctx_count(c), ==, 2);
    g_assert_cmphex(lookup_pa(c, 0x3ff000), ==, 0x6000000);

    mmn_iotlb_ctx_get_stats(c, &s);
    g_assert_cmpuint(s.inv_entries[MMN_IOTLB_INV_REPLACE], ==, 4 + 1 + 1);
    g_assert_cmpuint(s.fills, ==, 8);
    mmn_iotlb_free(t);
}

/* Malformed translations are refused rather than cached. */
static void test_fill_refuses_malformed(void)
{
    MmnIotlb *t = mmn_iotlb_new(64);
    MmnIotlbCtx *c = mmn_iotlb_ctx_new(t, 1);
    MmnTranslation tr = mk_tr(0x200000, 0, 2, 0);
    MmnIotlbStats s;

    tr.va = 0x201000;                   /* block VA not aligned */
    g_assert_false(mmn_iotlb_fill(c, &tr));
    tr = mk_tr(0x200000, 0, 2, 0);
    tr.size = KiB4;                     /* size does not match level */
    g_assert_false(mmn_iotlb_fill(c, &tr));
    tr = mk_tr(0x200000, 0, 2, 0);
    tr.level = 0;                       /* no leaf at level 0 */
    g_assert_false(mmn_iotlb_fill(c, &tr));
    g_assert_cmpuint(mmn_iotlb_count(t), ==, 0);
    mmn_iotlb_ctx_get_stats(c, &s);
    g_assert_cmpuint(s.fills_refused, ==, 3);
    g_assert_cmpuint(s.fills, ==, 0);
    mmn_iotlb_free(t);
}

/* Capacity 0: nothing is ever cached (every access walks). */
static void test_capacity_zero(void)
{
    MmnIotlb *t = mmn_iotlb_new(0);
    MmnIotlbCtx *c = mmn_iotlb_ctx_new(t, 1);
    MmnTranslation tr = mk_tr(0x1000, 0x2000, 3, 0);

    g_assert_false(mmn_iotlb_fill(c, &tr));
    g_assert_null(mmn_iotlb_lookup(c, 0x1000, NULL));
    g_assert_cmpuint(mmn_iotlb_capacity(t), ==, 0);
    mmn_iotlb_free(t);
}

/*
 * Replacement when full evicts one entry (the least recently used), not
 * the whole table as QEMU's SMMUv3 does; with no hits in between, that is
 * the oldest fill, whichever context it belongs to.
 */
static void test_full_evicts_one(void)
{
    MmnIotlb *t = mmn_iotlb_new(4);
    MmnIotlbCtx *a = mmn_iotlb_ctx_new(t, 1);
    MmnIotlbCtx *b = mmn_iotlb_ctx_new(t, 2);
    MmnIotlbStats sa, sb, st;

    fill_ok(a, 0x1000, 0x11000, 3, 0);
    fill_ok(b, 0x2000, 0x12000, 3, 0);
    fill_ok(a, 0x3000, 0x13000, 3, 0);
    fill_ok(b, 0x4000, 0x14000, 3, 0);
    g_assert_cmpuint(mmn_iotlb_count(t), ==, 4);

    fill_ok(b, 0x5000, 0x15000, 3, 0);
    g_assert_cmpuint(mmn_iotlb_count(t), ==, 4);
    g_assert_null(mmn_iotlb_lookup(a, 0x1000, NULL));
    g_assert_nonnull(mmn_iotlb_lookup(b, 0x2000, NULL));
    g_assert_nonnull(mmn_iotlb_lookup(a, 0x3000, NULL));
    g_assert_nonnull(mmn_iotlb_lookup(b, 0x5000, NULL));

    fill_ok(a, 0x6000, 0x16000, 3, 0);
    g_assert_null(mmn_iotlb_lookup(b, 0x2000, NULL));
    g_assert_cmpuint(mmn_iotlb_ctx_count(a), ==, 2);
    g_assert_cmpuint(mmn_iotlb_ctx_count(b), ==, 2);

    /* the victim's context counts the eviction */
    mmn_iotlb_ctx_get_stats(a, &sa);
    mmn_iotlb_ctx_get_stats(b, &sb);
    mmn_iotlb_get_stats(t, &st);
    g_assert_cmpuint(sa.evictions, ==, 1);
    g_assert_cmpuint(sb.evictions, ==, 1);
    g_assert_cmpuint(st.evictions, ==, 2);
    g_assert_cmpuint(st.fills, ==, 6);
    mmn_iotlb_free(t);
}

/*
 * TLBI by VA: removes the entry translating that VA, be it a page or the
 * block holding it; the VA need not be aligned; other entries stay.
 */
static void test_inv_page(void)
{
    MmnIotlb *t = mmn_iotlb_new(64);
    MmnIotlbCtx *c = mmn_iotlb_ctx_new(t, 1);
    MmnIotlbCtx *o = mmn_iotlb_ctx_new(t, 2);
    MmnIotlbStats s;

    fill_ok(c, 0x1000, 0x11000, 3, 0);
    fill_ok(c, 0x2000, 0x12000, 3, 0);
    fill_ok(c, 0x600000, 0x800000, 2, 0);
    fill_ok(o, 0x1000, 0x21000, 3, 0);

    g_assert_cmpuint(mmn_iotlb_inv_page(c, 0x1abc), ==, 1);
    g_assert_null(mmn_iotlb_lookup(c, 0x1000, NULL));
    g_assert_nonnull(mmn_iotlb_lookup(c, 0x2000, NULL));
    g_assert_nonnull(mmn_iotlb_lookup(o, 0x1000, NULL));

    g_assert_cmpuint(mmn_iotlb_inv_page(c, 0x7ff000), ==, 1);
    g_assert_null(mmn_iotlb_lookup(c, 0x600000, NULL));
    g_assert_cmpuint(mmn_iotlb_inv_page(c, 0x5000), ==, 0);

    mmn_iotlb_ctx_get_stats(c, &s);
    g_assert_cmpuint(s.inv_ops[MMN_IOTLB_INV_PAGE], ==, 3);
    g_assert_cmpuint(s.inv_entries[MMN_IOTLB_INV_PAGE], ==, 2);
    g_assert_cmpuint(mmn_iotlb_count(t), ==, 2);
    mmn_iotlb_free(t);
}

/*
 * TLBI by range [start, end): removes every entry overlapping it, blocks
 * straddling either edge included; the byte at @end is not in the range.
 */
static void test_inv_range(void)
{
    MmnIotlb *t = mmn_iotlb_new(64);
    MmnIotlbCtx *c = mmn_iotlb_ctx_new(t, 1);
    MmnIotlbStats s;
    uint64_t va;

    for (va = 0x100000; va < 0x110000; va += KiB4) {
        fill_ok(c, va, va + 0x10000000, 3, 0);
    }
    fill_ok(c, 0x200000, 0x400000, 2, 0);       /* 0x200000-0x3fffff */
    g_assert_cmpuint(mmn_iotlb_ctx_count(c), ==, 17);

    /* [0x104000, 0x108000): pages 4..7 */
    g_assert_cmpuint(mmn_iotlb_inv_range(c, 0x104000, 0x108000), ==, 4);
    g_assert_nonnull(mmn_iotlb_lookup(c, 0x103000, NULL));
    g_assert_null(mmn_iotlb_lookup(c, 0x104000, NULL));
    g_assert_null(mmn_iotlb_lookup(c, 0x107000, NULL));
    g_assert_nonnull(mmn_iotlb_lookup(c, 0x108000, NULL));

    /* unaligned edges: touches page 0x10f000 and the block */
    g_assert_cmpuint(mmn_iotlb_inv_range(c, 0x10ffff, 0x200001), ==, 2);
    g_assert_null(mmn_iotlb_lookup(c, 0x10f000, NULL));
    g_assert_null(mmn_iotlb_lookup(c, 0x300000, NULL));
    g_assert_nonnull(mmn_iotlb_lookup(c, 0x10e000, NULL));

    /* empty and reversed ranges remove nothing */
    g_assert_cmpuint(mmn_iotlb_inv_range(c, 0x100000, 0x100000), ==, 0);
    g_assert_cmpuint(mmn_iotlb_inv_range(c, 0x108000, 0x100000), ==, 0);
    g_assert_cmpuint(mmn_iotlb_ctx_count(c), ==, 11);

    mmn_iotlb_ctx_get_stats(c, &s);
    g_assert_cmpuint(s.inv_ops[MMN_IOTLB_INV_RANGE], ==, 4);
    g_assert_cmpuint(s.inv_entries[MMN_IOTLB_INV_RANGE], ==, 6);
    mmn_iotlb_free(t);
}

/* TLBI by context (ASID) and TLBI all. */
static void test_inv_ctx_all(void)
{
    MmnIotlb *t = mmn_iotlb_new(64);
    MmnIotlbCtx *a = mmn_iotlb_ctx_new(t, 1);
    MmnIotlbCtx *b = mmn_iotlb_ctx_new(t, 2);
    MmnIotlbStats s;
    int i;

    for (i = 0; i < 5; i++) {
        fill_ok(a, i * KiB4, 0x100000 + i * KiB4, 3, 0);
        fill_ok(b, i * KiB4, 0x200000 + i * KiB4, 3, 0);
    }
    fill_ok(b, GiB1, 0, 1, 0);
    g_assert_cmpuint(mmn_iotlb_inv_ctx(a), ==, 5);
    g_assert_cmpuint(mmn_iotlb_ctx_count(a), ==, 0);
    g_assert_cmpuint(mmn_iotlb_ctx_count(b), ==, 6);
    g_assert_null(mmn_iotlb_lookup(a, 0, NULL));
    g_assert_nonnull(mmn_iotlb_lookup(b, 0, NULL));

    fill_ok(a, 0x9000, 0x9000, 3, 0);
    g_assert_cmpuint(mmn_iotlb_inv_all(t), ==, 7);
    g_assert_cmpuint(mmn_iotlb_count(t), ==, 0);
    g_assert_null(mmn_iotlb_lookup(b, GiB1, NULL));

    /* the cache is usable afterwards */
    fill_ok(b, 0x3000, 0x4000, 3, 0);
    g_assert_cmphex(lookup_pa(b, 0x3000), ==, 0x4000);

    mmn_iotlb_ctx_get_stats(a, &s);
    g_assert_cmpuint(s.inv_ops[MMN_IOTLB_INV_CTX], ==, 1);
    g_assert_cmpuint(s.inv_entries[MMN_IOTLB_INV_CTX], ==, 5);
    g_assert_cmpuint(s.inv_entries[MMN_IOTLB_INV_ALL], ==, 1);
    mmn_iotlb_get_stats(t, &s);
    g_assert_cmpuint(s.inv_ops[MMN_IOTLB_INV_ALL], ==, 1);
    g_assert_cmpuint(s.inv_entries[MMN_IOTLB_INV_ALL], ==, 7);
    g_assert_cmpuint(s.inv_entries[MMN_IOTLB_INV_CTX], ==, 5);
    mmn_iotlb_free(t);
}

/*
 * Freeing a context drops its entries (and only its entries); the global
 * statistics keep what it did.
 */
static void test_ctx_free(void)
{
    MmnIotlb *t = mmn_iotlb_new(8);
    MmnIotlbCtx *a = mmn_iotlb_ctx_new(t, 1);
    MmnIotlbCtx *b = mmn_iotlb_ctx_new(t, 2);
    MmnIotlbStats s;

    fill_ok(a, 0x1000, 0x1000, 3, 0);
    fill_ok(a, 0x2000, 0x2000, 3, 0);
    fill_ok(b, 0x1000, 0x5000, 3, 0);
    mmn_iotlb_ctx_free(a);
    g_assert_cmpuint(mmn_iotlb_count(t), ==, 1);
    g_assert_cmphex(lookup_pa(b, 0x1000), ==, 0x5000);
    mmn_iotlb_get_stats(t, &s);
    g_assert_cmpuint(s.fills, ==, 3);
    g_assert_cmpuint(s.inv_entries[MMN_IOTLB_INV_UNBIND], ==, 2);

    /* freed entries are recycled: fill up to capacity again */
    a = mmn_iotlb_ctx_new(t, 3);
    for (int i = 0; i < 7; i++) {
        fill_ok(a, i * KiB4, i * KiB4, 3, 0);
    }
    g_assert_cmpuint(mmn_iotlb_count(t), ==, 8);
    mmn_iotlb_get_stats(t, &s);
    g_assert_cmpuint(s.evictions, ==, 0);
    mmn_iotlb_free(t);
}

typedef struct IterState {
    unsigned n;
    unsigned stop_after;
    uint64_t last_va;
    bool seen1;
    bool ordered;
    uint32_t ids;
} IterState;

static bool iter_cb(const MmnIotlbEntryInfo *e, void *opaque)
{
    IterState *st = opaque;

    if (e->ctx_id == 1) {
        if (st->seen1 && e->tr->va <= st->last_va) {
            st->ordered = false;
        }
        st->seen1 = true;
        st->last_va = e->tr->va;
    }
    st->ids |= 1u << e->ctx_id;
    st->n++;
    return st->n != st->stop_after;
}

/* The iterator visits every entry once (in VA order per context). */
static void test_foreach(void)
{
    MmnIotlb *t = mmn_iotlb_new(64);
    MmnIotlbCtx *a = mmn_iotlb_ctx_new(t, 1);
    MmnIotlbCtx *b = mmn_iotlb_ctx_new(t, 2);
    IterState st = { .ordered = true };
    int i;

    for (i = 9; i >= 0; i--) {
        fill_ok(a, i * KiB4 * 3, i * KiB4, 3, 0);
    }
    fill_ok(b, 0x1000, 0x1000, 3, 0);
    mmn_iotlb_foreach(t, iter_cb, &st);
    g_assert_cmpuint(st.n, ==, 11);
    g_assert_true(st.ordered);
    g_assert_cmphex(st.ids, ==, 0x6);

    memset(&st, 0, sizeof(st));
    mmn_iotlb_ctx_foreach(a, iter_cb, &st);
    g_assert_cmpuint(st.n, ==, 10);

    memset(&st, 0, sizeof(st));
    st.stop_after = 3;
    mmn_iotlb_foreach(t, iter_cb, &st);
    g_assert_cmpuint(st.n, ==, 3);
    mmn_iotlb_free(t);
}

/* Memory per entry is reported and sane (entry + hash bucket share). */
static void test_bytes_per_entry(void)
{
    MmnIotlb *t = mmn_iotlb_new(65536);
    size_t b = mmn_iotlb_bytes_per_entry(t);

    g_assert_cmpuint(b, >=, sizeof(MmnTranslation));
    g_assert_cmpuint(b, <=, 256);
    g_assert_cmpstr(mmn_iotlb_inv_cause_name(MMN_IOTLB_INV_YOUNG_UNMAP), ==,
                    "young-unmap");
    g_assert_cmpstr(mmn_iotlb_inv_cause_name(MMN_IOTLB_INV__MAX), ==,
                    "unknown");
    mmn_iotlb_free(t);
}

/* A leaf of any granule: @size at @level, in a run of @run bytes. */
static MmnTranslation mk_leaf(uint64_t va, uint64_t pa, unsigned level,
                              uint64_t size, uint64_t run)
{
    MmnTranslation tr = mk_tr(va, pa, 3, MMN_PERM_W);

    tr.va = va & ~(size - 1);
    tr.pa = pa & ~(size - 1);
    tr.size = size;
    tr.run_size = run;
    tr.level = level;
    tr.desc = tr.pa | MMN_PTE_VALID | MMN_PTE_AF |
              (run > size ? MMN_PTE_CONT : 0);
    return tr;
}

/*
 * The hash probes one key per leaf size: the pages and blocks of the 16K
 * and 64K granules (and the 4K DS level-0 block) are found, their
 * neighbours are not, and a size no granule has is refused.
 */
static void test_granule_sizes(void)
{
    static const struct {
        uint64_t va;
        unsigned level;
        unsigned shift;
    } leaves[] = {
        { 0x0000004000ULL, 3, 14 }, { 0x0002000000ULL, 2, 25 },
        { 0x1000000000ULL, 1, 36 }, { 0x8000000000ULL, 0, 39 },
        { 0x0000010000ULL, 3, 16 }, { 0x0020000000ULL, 2, 29 },
        { 0x40000000000ULL, 1, 42 },
    };
    MmnIotlb *t = mmn_iotlb_new(64);
    MmnIotlbCtx *c = mmn_iotlb_ctx_new(t, 1);
    MmnTranslation bad = mk_leaf(0x200000, 0, 3, MiB2, 0);
    int i;

    for (i = 0; i < ARRAY_SIZE(leaves); i++) {
        uint64_t size = 1ULL << leaves[i].shift;
        MmnTranslation tr = mk_leaf(leaves[i].va, leaves[i].va << 1,
                                    leaves[i].level, size, 0);

        g_assert_true(mmn_iotlb_fill(c, &tr));
    }
    g_assert_cmpuint(mmn_iotlb_ctx_count(c), ==, ARRAY_SIZE(leaves));
    for (i = 0; i < ARRAY_SIZE(leaves); i++) {
        uint64_t size = 1ULL << leaves[i].shift, va = leaves[i].va;

        g_assert_cmphex(lookup_pa(c, va + size - 8), ==,
                        (va << 1) + size - 8);
        g_assert_cmpuint(mmn_iotlb_lookup(c, va, NULL)->size, ==, size);
    }
    g_assert_null(mmn_iotlb_lookup(c, 0x8000, NULL));
    g_assert_null(mmn_iotlb_lookup(c, 0x30000, NULL));
    g_assert_cmpuint(mmn_iotlb_inv_page(c, 0x1000000000ULL + 0x123), ==, 1);
    g_assert_null(mmn_iotlb_lookup(c, 0x1000000000ULL, NULL));
    g_assert_false(mmn_iotlb_fill(c, &bad));    /* a 2 MiB "page" */
    mmn_iotlb_free(t);
}

/*
 * Contiguous runs are cached per page, but an invalidation of any one page
 * of a run, cached or not, drops every entry the run fed (and nothing
 * else): TLBI_PAGE, a range that only touches the run's last page, and a
 * notifier-style range.  Runs of the 4K (16 x 4 KiB), 16K (128 x 16 KiB)
 * and 64K (32 x 64 KiB) granules.
 */
static void test_contiguous_run_inv(void)
{
    static const struct {
        uint64_t page;
        unsigned entries;
    } runs[] = {
        { KiB4, 16 }, { 0x4000, 128 }, { 0x10000, 32 },
    };
    int i;

    for (i = 0; i < ARRAY_SIZE(runs); i++) {
        uint64_t page = runs[i].page, run = page * runs[i].entries;
        uint64_t base = 4 * run, j;
        unsigned n = runs[i].entries;
        MmnIotlb *t = mmn_iotlb_new(1024);
        MmnIotlbCtx *c = mmn_iotlb_ctx_new(t, 1);
        MmnTranslation tr;

        /* the run, and a plain page on each side of it */
        for (j = 0; j < n; j++) {
            tr = mk_leaf(base + j * page, 0x80000000 + j * page, 3, page, run);
            g_assert_true(mmn_iotlb_fill(c, &tr));
        }
        tr = mk_leaf(base - page, 0x70000000, 3, page, 0);
        g_assert_true(mmn_iotlb_fill(c, &tr));
        tr = mk_leaf(base + run, 0x90000000, 3, page, 0);
        g_assert_true(mmn_iotlb_fill(c, &tr));
        g_assert_cmpuint(mmn_iotlb_ctx_count(c), ==, n + 2);
        g_assert_cmphex(lookup_pa(c, base + 3 * page + 8), ==,
                        0x80000000 + 3 * page + 8);

        g_assert_cmpuint(mmn_iotlb_inv_page(c, base + 5 * page + 1), ==, n);
        g_assert_cmpuint(mmn_iotlb_ctx_count(c), ==, 2);
        g_assert_nonnull(mmn_iotlb_lookup(c, base - page, NULL));
        g_assert_nonnull(mmn_iotlb_lookup(c, base + run, NULL));

        /* half the run cached; the invalidated page is not one of them */
        for (j = 0; j < n / 2; j++) {
            tr = mk_leaf(base + j * page, 0x80000000 + j * page, 3, page, run);
            g_assert_true(mmn_iotlb_fill(c, &tr));
        }
        g_assert_cmpuint(mmn_iotlb_inv_page(c, base + run - page), ==,
                         n / 2);
        g_assert_cmpuint(mmn_iotlb_ctx_count(c), ==, 2);

        /* a range that only touches the run's last byte */
        for (j = 0; j < n; j++) {
            tr = mk_leaf(base + j * page, 0x80000000 + j * page, 3, page, run);
            g_assert_true(mmn_iotlb_fill(c, &tr));
        }
        g_assert_cmpuint(mmn_iotlb_inv_range(c, base + run - 1,
                                             base + run + 1), ==, n + 1);
        g_assert_cmpuint(mmn_iotlb_ctx_count(c), ==, 1);
        g_assert_nonnull(mmn_iotlb_lookup(c, base - page, NULL));
        /* one before the run: only its own page */
        g_assert_cmpuint(mmn_iotlb_inv_range(c, base - page, base), ==, 1);
        mmn_iotlb_free(t);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/mmn-iotlb/cache/fill-lookup-sizes",
                    test_fill_lookup_sizes);
    g_test_add_func("/mmn-iotlb/cache/fill-replaces-overlap",
                    test_fill_replaces_overlap);
    g_test_add_func("/mmn-iotlb/cache/fill-refuses-malformed",
                    test_fill_refuses_malformed);
    g_test_add_func("/mmn-iotlb/cache/capacity-zero", test_capacity_zero);
    g_test_add_func("/mmn-iotlb/cache/full-evicts-one", test_full_evicts_one);
    g_test_add_func("/mmn-iotlb/cache/inv-page", test_inv_page);
    g_test_add_func("/mmn-iotlb/cache/inv-range", test_inv_range);
    g_test_add_func("/mmn-iotlb/cache/inv-ctx-all", test_inv_ctx_all);
    g_test_add_func("/mmn-iotlb/cache/ctx-free", test_ctx_free);
    g_test_add_func("/mmn-iotlb/cache/foreach", test_foreach);
    g_test_add_func("/mmn-iotlb/cache/bytes-per-entry", test_bytes_per_entry);
    g_test_add_func("/mmn-iotlb/cache/granule-sizes", test_granule_sizes);
    g_test_add_func("/mmn-iotlb/cache/contiguous-run-inv",
                    test_contiguous_run_inv);
    return g_test_run();
}
