/*
 * mmn-smmu IOTLB unit tests: the translate path over real walks of a fake
 * physical memory, the Arm caching rules, and the IOTLB as a subscriber
 * of the notifier layer (every op's effect on the cache, blocking, the
 * fill/invalidate race).  The young family is in test-mmn-iotlb-young.c.
 *
 * The comment above each test names the Linux or Arm behaviour it checks.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-iotlb-env.h"

static void range_init(MmnNotifierRange *r, Env *e, MmnNotifyEvent ev,
                       uint64_t start, uint64_t end)
{
    mmn_notifier_range_init(r, ev, MMN_NOTIFIER_RANGE_BLOCKABLE, e->mm,
                            start, end);
}

/* What a CPU write fault does to a PTE: AP[2] cleared, nothing else. */
static void cpu_make_writable(Env *e, uint64_t va)
{
    uint64_t dpa = leaf_pa(e, va);

    mmn_fake_mem_set(&e->mem, dpa,
                     mmn_fake_mem_get(&e->mem, dpa) & ~MMN_PTE_AP_RDONLY);
}

/*
 * The headline (Linux 6.1 vs 6.6+).  Arm: a cached valid leaf that denies
 * a write answers it with a permission fault without walking.  Linux 6.1
 * upgrades a read-only PTE to read-write (do_wp_page -> wp_page_reuse ->
 * ptep_set_access_flags -> flush_tlb_page) without any notifier call: the
 * IOTLB keeps faulting every write from its stale entry.  6.6+ calls
 * arch_invalidate_secondary_tlbs from flush_tlb_page: the next write walks
 * and succeeds.
 */
static void test_stale_readonly_until_invalidated(void)
{
    Env e;
    uint64_t reads;
    int i;

    env_init(&e, 64);
    map(&e, VA0, PA0, 3, RO);
    g_assert_cmpint(xl(&e, VA0 + 8, false), ==, MMN_XLATE_OK);
    g_assert_false(e.from_cache);
    g_assert_cmphex(e.tr.pa, ==, PA0);

    reads = e.mem.reads;
    g_assert_cmpint(xl(&e, VA0, true), ==, MMN_XLATE_FAULT);
    g_assert_cmpint(e.fault.kind, ==, MMN_FAULT_PERMISSION);
    g_assert_true(e.from_cache);
    g_assert_cmpuint(e.mem.reads, ==, reads);       /* no walk */

    cpu_make_writable(&e, VA0);                     /* 6.1: no notifier */
    for (i = 0; i < 5; i++) {
        g_assert_cmpint(xl(&e, VA0, true), ==, MMN_XLATE_FAULT);
        g_assert_true(e.from_cache);
    }
    g_assert_cmpuint(e.mem.reads, ==, reads);
    g_assert_cmpuint(stats(&e).perm_faults_cached, ==, 6);

    /* 6.6+: flush_tlb_page -> arch_invalidate_secondary_tlbs(page) */
    g_assert_cmpint(mmn_notifier_arch_invalidate_secondary_tlbs(
                        e.mm, VA0, VA0 + PG), ==, 0);
    g_assert_null(cached(&e, VA0, NULL));
    g_assert_cmpint(xl(&e, VA0, true), ==, MMN_XLATE_OK);
    g_assert_false(e.from_cache);
    g_assert_true(e.tr.perm & MMN_PERM_W);
    g_assert_cmpuint(e.mem.reads, >, reads);
    g_assert_cmpint(xl(&e, VA0, true), ==, MMN_XLATE_OK);
    g_assert_true(e.from_cache);
    g_assert_cmpuint(stats(&e).inv_entries[MMN_IOTLB_INV_SECONDARY_TLBS],
                     ==, 1);
    env_destroy(&e);
}

/*
 * Arm: a walk ending in a permission fault found a valid leaf, which may
 * be cached; the next denied access faults from the cache.
 */
static void test_permission_fault_walk_is_cached(void)
{
    Env e;
    uint64_t reads;

    env_init(&e, 64);
    map(&e, VA0, PA0, 3, RO);
    g_assert_cmpint(xl(&e, VA0, true), ==, MMN_XLATE_FAULT);
    g_assert_cmpint(e.fault.kind, ==, MMN_FAULT_PERMISSION);
    g_assert_false(e.from_cache);
    g_assert_nonnull(cached(&e, VA0, NULL));
    g_assert_false(cached(&e, VA0, NULL)->perm & MMN_PERM_W);

    reads = e.mem.reads;
    g_assert_cmpint(xl(&e, VA0, true), ==, MMN_XLATE_FAULT);
    g_assert_true(e.from_cache);
    g_assert_cmpint(e.fault.level, ==, 3);
    g_assert_cmpuint(e.mem.reads, ==, reads);
    /* the faulting entry still serves reads */
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);
    g_assert_true(e.from_cache);
    env_destroy(&e);
}

/*
 * Arm: translation, address-size and access-flag faults (and external
 * aborts on the walk) are never cached.  The CPU may then fix its tables
 * without any invalidation (Linux does not flush after making an invalid
 * PTE valid) and the very next device access must see the fix.
 */
static void test_uncacheable_faults(void)
{
    Env e;
    uint64_t dpa, va_aborts = VA0 + 0x40000000ULL;

    env_init(&e, 64);

    /* translation fault: no mapping at all, then mapped */
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_FAULT);
    g_assert_cmpint(e.fault.kind, ==, MMN_FAULT_TRANSLATION);
    g_assert_cmpuint(mmn_iotlb_ctx_count(e.c), ==, 0);
    dpa = map(&e, VA0, PA0, 3, RW);
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);

    /* access flag fault (no HA), then AF set by the CPU */
    map(&e, VA0 + PG, PA0 + PG, 3, 0);
    g_assert_cmpint(xl(&e, VA0 + PG, false), ==, MMN_XLATE_FAULT);
    g_assert_cmpint(e.fault.kind, ==, MMN_FAULT_ACCESS_FLAG);
    g_assert_null(cached(&e, VA0 + PG, NULL));
    map(&e, VA0 + PG, PA0 + PG, 3, RW);
    g_assert_cmpint(xl(&e, VA0 + PG, false), ==, MMN_XLATE_OK);

    /* address size fault: OA beyond 40 bits, then fixed */
    map(&e, VA0 + 2 * PG, 1ULL << 44, 3, RW);
    g_assert_cmpint(xl(&e, VA0 + 2 * PG, false), ==, MMN_XLATE_FAULT);
    g_assert_cmpint(e.fault.kind, ==, MMN_FAULT_ADDR_SIZE);
    g_assert_null(cached(&e, VA0 + 2 * PG, NULL));
    map(&e, VA0 + 2 * PG, PA0 + 2 * PG, 3, RW);
    g_assert_cmpint(xl(&e, VA0 + 2 * PG, false), ==, MMN_XLATE_OK);
    g_assert_cmphex(e.tr.pa, ==, PA0 + 2 * PG);

    /* walk abort: a table descriptor pointing outside memory */
    dpa = mmn_fake_mem_desc_pa(&e.mem, e.cfg.ttb, 48, va_aborts, 2, 0);
    mmn_fake_mem_set(&e.mem, dpa,
                     0x7000000000ULL | MMN_PTE_VALID | MMN_PTE_TABLE);
    g_assert_cmpint(xl(&e, va_aborts, false), ==, MMN_XLATE_FAULT);
    g_assert_cmpint(e.fault.kind, ==, MMN_FAULT_WALK_ABORT);
    g_assert_null(cached(&e, va_aborts, NULL));

    g_assert_cmpuint(mmn_iotlb_ctx_count(e.c), ==, 3);
    g_assert_cmpuint(stats(&e).walk_faults, ==, 4);
    g_assert_cmpuint(stats(&e).fills, ==, 3);
    env_destroy(&e);
}

/*
 * Arm HTTU: with HA+HD a write to a writable-clean (DBM, AP[2] = 1) leaf
 * makes it dirty in memory.  A cached writable-clean entry must therefore
 * not fault the write from the cache: it walks again (Linux arm64 shared
 * mappings start writable-clean).  Without HD the same write is a
 * permission fault from the cache.
 */
static void test_dbm_with_hd_rewalks(void)
{
    Env e;
    uint64_t dpa;

    env_init(&e, 64);
    e.cfg.ha = e.cfg.hd = true;
    dpa = map(&e, VA0, PA0, 3, RO | MMN_PTE_DBM);
    map(&e, VA0 + PG, PA0 + PG, 3, RO | MMN_PTE_DBM);

    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);
    g_assert_true(cached(&e, VA0, NULL)->perm & MMN_PERM_DBM);
    g_assert_false(cached(&e, VA0, NULL)->perm & MMN_PERM_W);

    g_assert_cmpint(xl(&e, VA0, true), ==, MMN_XLATE_OK);
    g_assert_false(e.from_cache);
    g_assert_false(mmn_fake_mem_get(&e.mem, dpa) & MMN_PTE_AP_RDONLY);
    g_assert_true(cached(&e, VA0, NULL)->perm & MMN_PERM_W);
    g_assert_true(cached(&e, VA0, NULL)->dirty);
    g_assert_cmpuint(stats(&e).dbm_rewalks, ==, 1);
    g_assert_cmpint(xl(&e, VA0, true), ==, MMN_XLATE_OK);
    g_assert_true(e.from_cache);

    /* HA only: the write is denied, from the cache */
    e.cfg.hd = false;
    g_assert_cmpint(xl(&e, VA0 + PG, false), ==, MMN_XLATE_OK);
    g_assert_cmpint(xl(&e, VA0 + PG, true), ==, MMN_XLATE_FAULT);
    g_assert_true(e.from_cache);
    g_assert_cmpuint(stats(&e).dbm_rewalks, ==, 1);
    env_destroy(&e);
}

/*
 * Replacement when full: one entry, the least recently used (CLOCK, the
 * second-chance approximation of LRU: a hit spares its entry for one turn
 * of the hand).  QEMU's SMMUv3 flushes the whole table instead.
 */
static void test_lru_eviction(void)
{
    Env e;
    int i;

    env_init(&e, 3);
    for (i = 0; i < 4; i++) {
        map(&e, VA0 + i * PG, PA0 + i * PG, 3, RW);
    }
    for (i = 0; i < 3; i++) {
        g_assert_cmpint(xl(&e, VA0 + i * PG, false), ==, MMN_XLATE_OK);
    }
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);     /* hit A */
    g_assert_true(e.from_cache);
    g_assert_cmpint(xl(&e, VA0 + 3 * PG, false), ==, MMN_XLATE_OK);
    g_assert_nonnull(cached(&e, VA0, NULL));
    g_assert_null(cached(&e, VA0 + PG, NULL));              /* B: LRU */
    g_assert_nonnull(cached(&e, VA0 + 2 * PG, NULL));
    g_assert_nonnull(cached(&e, VA0 + 3 * PG, NULL));
    g_assert_cmpuint(stats(&e).evictions, ==, 1);
    g_assert_cmpuint(stats(&e).hits, ==, 1);
    g_assert_cmpuint(stats(&e).misses, ==, 4);
    env_destroy(&e);

    /* A B C D, hits on A and C: then B, D, A go, in LRU order */
    env_init(&e, 4);
    for (i = 0; i < 7; i++) {
        map(&e, VA0 + i * PG, PA0 + i * PG, 3, RW);
    }
    for (i = 0; i < 4; i++) {
        xl(&e, VA0 + i * PG, false);
    }
    xl(&e, VA0, false);
    xl(&e, VA0 + 2 * PG, false);
    xl(&e, VA0 + 4 * PG, false);                            /* E */
    g_assert_null(cached(&e, VA0 + PG, NULL));
    g_assert_nonnull(cached(&e, VA0, NULL));
    xl(&e, VA0 + 5 * PG, false);                            /* F */
    g_assert_null(cached(&e, VA0 + 3 * PG, NULL));
    g_assert_nonnull(cached(&e, VA0 + 2 * PG, NULL));
    xl(&e, VA0 + 6 * PG, false);                            /* G */
    g_assert_null(cached(&e, VA0, NULL));
    g_assert_nonnull(cached(&e, VA0 + 2 * PG, NULL));
    g_assert_nonnull(cached(&e, VA0 + 4 * PG, NULL));
    g_assert_nonnull(cached(&e, VA0 + 5 * PG, NULL));
    g_assert_cmpuint(mmn_iotlb_count(e.t), ==, 4);
    env_destroy(&e);
}

/*
 * invalidate_range_start drops the range (interval notifier invalidate)
 * and, until the matching end, no entry may be established in it (Linux:
 * "the establishment of sptes is forbidden in the range passed to
 * invalidate_range_begin/end for the whole duration").  Outside the
 * range, hits and fills go on.
 */
static void test_range_start_drops_and_blocks(void)
{
    Env e;
    MmnNotifierRange r;
    uint64_t reads;

    env_init(&e, 64);
    map(&e, VA0, PA0, 3, RW);
    map(&e, VA0 + PG, PA0 + PG, 3, RW);
    map(&e, VA0 + 2 * PG, PA0 + 2 * PG, 3, RW);
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);
    g_assert_cmpint(xl(&e, VA0 + PG, false), ==, MMN_XLATE_OK);

    range_init(&r, &e, MMN_NOTIFY_CLEAR, VA0, VA0 + PG);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&r), ==, 0);
    g_assert_null(cached(&e, VA0, NULL));
    g_assert_nonnull(cached(&e, VA0 + PG, NULL));
    g_assert_true(mmn_iotlb_va_blocked(e.c, VA0 + 0x10));
    g_assert_false(mmn_iotlb_va_blocked(e.c, VA0 + PG));

    reads = e.mem.reads;
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_BLOCKED);
    g_assert_cmpuint(e.mem.reads, ==, reads);       /* did not walk */
    g_assert_cmpint(xl(&e, VA0 + PG, false), ==, MMN_XLATE_OK);
    g_assert_true(e.from_cache);
    g_assert_cmpint(xl(&e, VA0 + 2 * PG, false), ==, MMN_XLATE_OK);
    g_assert_nonnull(cached(&e, VA0 + 2 * PG, NULL));
    /* a direct fill into the open range is refused too */
    {
        MmnTranslation tr = *cached(&e, VA0 + PG, NULL);

        tr.va = VA0;
        g_assert_false(mmn_iotlb_fill(e.c, &tr));
    }

    /* the CPU remaps the page while the range is open */
    map(&e, VA0, PA0 + 0x100000, 3, RO);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&r), ==, 0);
    g_assert_false(mmn_iotlb_va_blocked(e.c, VA0));
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);
    g_assert_cmphex(e.tr.pa, ==, PA0 + 0x100000);
    g_assert_false(e.tr.perm & MMN_PERM_W);

    g_assert_cmpuint(stats(&e).inv_entries[MMN_IOTLB_INV_NOTIFIER_START],
                     ==, 1);
    g_assert_cmpuint(stats(&e).blocked, ==, 1);
    env_destroy(&e);
}

/*
 * Two open ranges over the same page (two concurrent invalidations): the
 * page stays blocked until both have ended; a non-blockable start succeeds
 * (the IOTLB never sleeps).
 */
static void test_nested_ranges(void)
{
    Env e;
    MmnNotifierRange r1, r2;

    env_init(&e, 64);
    map(&e, VA0, PA0, 3, RW);
    range_init(&r1, &e, MMN_NOTIFY_UNMAP, VA0, VA0 + MiB2);
    mmn_notifier_range_init(&r2, MMN_NOTIFY_PROTECTION_UPGRADE, 0, e.mm,
                            VA0, VA0 + PG);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&r1), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&r2), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&r1), ==, 0);
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_BLOCKED);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&r2), ==, 0);
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);
    env_destroy(&e);
}

/*
 * A context bound while a range is already open never saw its start:
 * every miss is BLOCKED until the mm has no open range (Linux: a new
 * interval notifier "starts out colliding").
 */
static void test_attach_during_open_range(void)
{
    Env e;
    MmnNotifierRange r;

    env_init(&e, 64);
    map(&e, VA0, PA0, 3, RW);
    mmn_iotlb_ctx_detach(e.c);
    range_init(&r, &e, MMN_NOTIFY_CLEAR, VA0 + MiB2, VA0 + 2 * MiB2);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&r), ==, 0);
    g_assert_cmpint(mmn_iotlb_ctx_attach(e.c, e.mm, &e.cfg), ==, 0);
    g_assert_cmpint(mmn_iotlb_ctx_attach(e.c, e.mm, &e.cfg), ==, -EBUSY);
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_BLOCKED);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&r), ==, 0);
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);
    env_destroy(&e);
}

/*
 * arch_invalidate_secondary_tlbs (6.6+; 6.1's invalidate_range) drops
 * exactly the entries overlapping [start, end); flush_tlb_mm passes
 * (0, -1UL) and drops everything.
 */
static void test_secondary_tlbs(void)
{
    Env e;
    int i;

    env_init(&e, 64);
    for (i = 0; i < 4; i++) {
        map(&e, VA0 + i * PG, PA0 + i * PG, 3, RW);
        g_assert_cmpint(xl(&e, VA0 + i * PG, false), ==, MMN_XLATE_OK);
    }
    map(&e, VA0 + MiB2, PA0 + MiB2, 2, RW);
    g_assert_cmpint(xl(&e, VA0 + MiB2 + 5 * PG, false), ==, MMN_XLATE_OK);
    g_assert_cmpuint(e.tr.size, ==, MiB2);

    mmn_notifier_arch_invalidate_secondary_tlbs(e.mm, VA0 + PG,
                                                VA0 + 3 * PG);
    g_assert_nonnull(cached(&e, VA0, NULL));
    g_assert_null(cached(&e, VA0 + PG, NULL));
    g_assert_null(cached(&e, VA0 + 2 * PG, NULL));
    g_assert_nonnull(cached(&e, VA0 + 3 * PG, NULL));

    /* one page of a block drops the block */
    mmn_notifier_arch_invalidate_secondary_tlbs(e.mm, VA0 + MiB2 + 9 * PG,
                                                VA0 + MiB2 + 10 * PG);
    g_assert_null(cached(&e, VA0 + MiB2, NULL));

    mmn_notifier_arch_invalidate_secondary_tlbs(e.mm, 0, UINT64_MAX);
    g_assert_cmpuint(mmn_iotlb_ctx_count(e.c), ==, 0);
    g_assert_cmpuint(stats(&e).inv_ops[MMN_IOTLB_INV_SECONDARY_TLBS], ==, 3);
    g_assert_cmpuint(stats(&e).inv_entries[MMN_IOTLB_INV_SECONDARY_TLBS],
                     ==, 5);
    env_destroy(&e);
}

/*
 * lib/test_hmm.c dmirror_interval_invalidate(): a MIGRATE range whose
 * owner is the mirror's own device is ignored; any other owner (or none)
 * invalidates.  Ours: the context's owner cookie (CTX_BIND a2).
 */
static void test_migrate_own_owner_ignored(void)
{
    static int me, other;
    MmnNotifierRange r;
    Env e;

    env_init(&e, 64);
    mmn_iotlb_ctx_set_owner(e.c, &me);
    map(&e, VA0, PA0, 3, RW);
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);

    mmn_notifier_range_init_owner(&r, MMN_NOTIFY_MIGRATE,
                                  MMN_NOTIFIER_RANGE_BLOCKABLE, e.mm,
                                  VA0, VA0 + PG, &me);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&r), ==, 0);
    g_assert_nonnull(cached(&e, VA0, NULL));    /* kept */
    g_assert_false(mmn_iotlb_va_blocked(e.c, VA0));
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&r), ==, 0);

    mmn_notifier_range_init_owner(&r, MMN_NOTIFY_MIGRATE,
                                  MMN_NOTIFIER_RANGE_BLOCKABLE, e.mm,
                                  VA0, VA0 + PG, &other);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&r), ==, 0);
    g_assert_null(cached(&e, VA0, NULL));       /* dropped */
    g_assert_true(mmn_iotlb_va_blocked(e.c, VA0));
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&r), ==, 0);
    g_assert_false(mmn_iotlb_va_blocked(e.c, VA0));
    env_destroy(&e);
}

/*
 * An entry change_pte updated in place has the permissions a walk of the
 * new PTE gives (mmn_walk_leaf_perm(), one function for both).
 */
static void test_change_pte_perm_as_walk(void)
{
    Env e;
    uint64_t attrs = RW | MMN_PTE_AP_USER | MMN_PTE_UXN | MMN_PTE_PXN;
    uint64_t newpte = 0x90000000ULL | MMN_PTE_VALID | MMN_PTE_TABLE | attrs;
    uint8_t replaced;

    env_init(&e, 64);
    map(&e, VA0, PA0, 3, attrs);
    g_assert_cmpint(xl(&e, VA0, true), ==, MMN_XLATE_OK);
    mmn_notifier_change_pte(e.mm, VA0, newpte);
    g_assert_cmpuint(stats(&e).change_pte_replaced, ==, 1);
    g_assert_cmpint(xl(&e, VA0, true), ==, MMN_XLATE_OK);
    g_assert_true(e.from_cache);
    g_assert_cmphex(e.tr.pa, ==, 0x90000000ULL);
    replaced = e.tr.perm;
    /* the walk of the same PTE */
    map(&e, VA0, 0x90000000ULL, 3, attrs);
    mmn_iotlb_inv_page(e.c, VA0);
    g_assert_cmpint(xl(&e, VA0, true), ==, MMN_XLATE_OK);
    g_assert_false(e.from_cache);
    g_assert_cmphex(e.tr.perm, ==, replaced);
    env_destroy(&e);
}

/*
 * change_pte (set_pte_at_notify, e.g. KSM): the entry is updated in place
 * when the new PTE grants no more than it had (KVM's rule: the levels
 * above are not in the PTE), else dropped; never created.
 */
static void test_change_pte(void)
{
    Env e;
    uint64_t reads, newpte;

    env_init(&e, 64);
    map(&e, VA0, PA0, 3, RO);
    map(&e, VA0 + PG, PA0 + PG, 3, RO);
    map(&e, VA0 + MiB2, PA0 + MiB2, 2, RO);
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);
    g_assert_cmpint(xl(&e, VA0 + PG, false), ==, MMN_XLATE_OK);
    g_assert_cmpint(xl(&e, VA0 + MiB2, false), ==, MMN_XLATE_OK);

    /* KSM: same protection, new page */
    newpte = 0x90000000ULL | MMN_PTE_VALID | MMN_PTE_TABLE | RO;
    map(&e, VA0, 0x90000000ULL, 3, RO);
    mmn_notifier_change_pte(e.mm, VA0, newpte);
    reads = e.mem.reads;
    g_assert_cmpint(xl(&e, VA0 + 4, false), ==, MMN_XLATE_OK);
    g_assert_true(e.from_cache);
    g_assert_cmpuint(e.mem.reads, ==, reads);
    g_assert_cmphex(e.tr.pa, ==, 0x90000000ULL);
    g_assert_cmpuint(stats(&e).change_pte_replaced, ==, 1);

    /* a writable PTE on a read-only entry: dropped, the walk decides */
    newpte = (PA0 + PG) | MMN_PTE_VALID | MMN_PTE_TABLE | RW;
    mmn_notifier_change_pte(e.mm, VA0 + PG, newpte);
    g_assert_null(cached(&e, VA0 + PG, NULL));

    /* an invalid PTE: dropped */
    mmn_notifier_change_pte(e.mm, VA0, 0);
    g_assert_null(cached(&e, VA0, NULL));

    /* a page PTE inside a cached block: the block is dropped */
    mmn_notifier_change_pte(e.mm, VA0 + MiB2 + PG,
                            (PA0 + MiB2 + PG) | MMN_PTE_VALID |
                            MMN_PTE_TABLE | RO);
    g_assert_null(cached(&e, VA0 + MiB2, NULL));

    /* no entry: nothing created */
    mmn_notifier_change_pte(e.mm, VA0 + 5 * PG, newpte);
    g_assert_null(cached(&e, VA0 + 5 * PG, NULL));
    g_assert_cmpuint(stats(&e).inv_entries[MMN_IOTLB_INV_CHANGE_PTE], ==, 3);
    g_assert_cmpuint(stats(&e).inv_ops[MMN_IOTLB_INV_CHANGE_PTE], ==, 5);
    env_destroy(&e);
}

/*
 * release (exit_mmap): the context's entries go and nothing more is
 * cached or translated for it (SVA: the device gets no translation for a
 * dead mm) until it is unbound and bound again.
 */
static void test_release(void)
{
    Env e;
    MmnTranslation tr;
    MmnMm *mm2;

    env_init(&e, 64);
    map(&e, VA0, PA0, 3, RW);
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);
    tr = e.tr;
    g_assert_cmpint(mmn_notifier_release(e.mm), ==, 0);
    g_assert_true(mmn_iotlb_ctx_released(e.c));
    g_assert_cmpuint(mmn_iotlb_ctx_count(e.c), ==, 0);
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_RELEASED);
    g_assert_false(mmn_iotlb_fill(e.c, &tr));
    g_assert_cmpuint(mmn_iotlb_ctx_count(e.c), ==, 0);
    g_assert_cmpuint(stats(&e).inv_entries[MMN_IOTLB_INV_RELEASE], ==, 1);
    g_assert_cmpuint(stats(&e).released_refused, ==, 1);

    /* a released mm cannot be bound; unbind + bind to a live one works */
    mmn_iotlb_ctx_detach(e.c);
    g_assert_false(mmn_iotlb_ctx_released(e.c));
    g_assert_cmpint(mmn_iotlb_ctx_attach(e.c, e.mm, &e.cfg), <, 0);
    g_assert_null(mmn_iotlb_ctx_mm(e.c));
    mm2 = mmn_mm_new();
    g_assert_cmpint(mmn_iotlb_ctx_attach(e.c, mm2, &e.cfg), ==, 0);
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);
    mmn_iotlb_ctx_detach(e.c);
    mmn_mm_free(mm2);
    env_destroy(&e);
}

/*
 * Two contexts bound to one address space share one get/put subscription
 * (alloc_notifier once, free_notifier at the last put); every call
 * reaches both, and unbinding one leaves the other subscribed.
 */
static void test_two_contexts_one_mm(void)
{
    Env e;
    MmnIotlbCtx *c2;
    MmnIotlbStats s;
    MmnAccess acc = { .va = VA0 };
    bool fc;
    unsigned subs;

    env_init(&e, 64);
    subs = mmn_mm_nr_subscriptions(e.mm);
    c2 = mmn_iotlb_ctx_new(e.t, 2);
    g_assert_cmpint(mmn_iotlb_ctx_attach(c2, e.mm, &e.cfg), ==, 0);
    g_assert_cmpuint(mmn_mm_nr_subscriptions(e.mm), ==, subs + 1);
    map(&e, VA0, PA0, 3, RW);
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);
    g_assert_cmpint(mmn_iotlb_translate(c2, &e.cfg, &mmn_fake_mem_ops,
                                        &e.mem, &acc, &e.tr, &e.fault, &fc,
                                        NULL),
                    ==, MMN_XLATE_OK);
    g_assert_cmpuint(mmn_iotlb_count(e.t), ==, 2);
    mmn_notifier_arch_invalidate_secondary_tlbs(e.mm, VA0, VA0 + PG);
    g_assert_cmpuint(mmn_iotlb_count(e.t), ==, 0);

    mmn_iotlb_ctx_detach(e.c);
    g_assert_cmpuint(mmn_mm_nr_subscriptions(e.mm), ==, subs);
    mmn_iotlb_translate(c2, &e.cfg, &mmn_fake_mem_ops, &e.mem, &acc,
                        &e.tr, &e.fault, &fc, NULL);
    mmn_notifier_arch_invalidate_secondary_tlbs(e.mm, VA0, VA0 + PG);
    g_assert_cmpuint(mmn_iotlb_ctx_count(c2), ==, 0);
    mmn_iotlb_ctx_get_stats(c2, &s);
    g_assert_cmpuint(s.inv_entries[MMN_IOTLB_INV_SECONDARY_TLBS], ==, 2);
    mmn_iotlb_ctx_free(c2);
    g_assert_cmpuint(mmn_mm_nr_subscriptions(e.mm), ==, 0);
    g_assert_cmpuint(mmn_mm_misuse_count(e.mm), ==, 0);
    env_destroy(&e);
}

/* ---- fill/invalidate races ---- */

typedef enum RaceKind {
    RACE_RANGE,             /* invalidate_range_start + end (interval) */
    RACE_SECONDARY_TLBS,    /* arch_invalidate_secondary_tlbs only */
    RACE_CHANGE_PTE,        /* set_pte_at_notify */
    RACE_RELEASE,
} RaceKind;

typedef struct Race {
    Env *e;
    uint64_t leaf;          /* descriptor whose read triggers the race */
    uint64_t va;
    unsigned fire;          /* how many more times to fire */
    RaceKind kind;
} Race;

/*
 * Called right after the walker read a descriptor: when it read the leaf,
 * the CPU changes it (read-only -> read-write, new page, as wp_page_copy
 * does) and notifies, before the walk can fill.
 */
static void race_hook(MmnFakeMem *m, uint64_t pa, uint64_t val, void *opaque)
{
    Race *r = opaque;
    MmnNotifierRange range;
    uint64_t newpa;

    if (pa != r->leaf || !r->fire) {
        return;
    }
    r->fire--;
    newpa = (val & MMN_PTE_ADDR_MASK) + 0x1000000;
    mmn_fake_mem_set(m, pa, newpa | MMN_PTE_VALID | MMN_PTE_TABLE | RW);
    switch (r->kind) {
    case RACE_RANGE:
        range_init(&range, r->e, MMN_NOTIFY_CLEAR, r->va, r->va + PG);
        g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
        g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, 0);
        break;
    case RACE_SECONDARY_TLBS:
        mmn_notifier_arch_invalidate_secondary_tlbs(r->e->mm, r->va,
                                                    r->va + PG);
        break;
    case RACE_CHANGE_PTE:
        mmn_notifier_change_pte(r->e->mm, r->va,
                                mmn_fake_mem_get(m, pa));
        break;
    case RACE_RELEASE:
        mmn_notifier_release(r->e->mm);
        break;
    }
}

static void race_setup(Env *e, Race *r, RaceKind kind, unsigned fire)
{
    env_init(e, 64);
    map(e, VA0, PA0, 3, RO);
    *r = (Race) {
        .e = e, .leaf = leaf_pa(e, VA0), .va = VA0, .fire = fire,
        .kind = kind,
    };
    e->mem.read_hook = race_hook;
    e->mem.hook_opaque = r;
}

/*
 * Linux's collision-retry scheme (mmu_interval_read_begin/_retry, as in
 * lib/test_hmm.c): a walk that an invalidation overtook must not fill; it
 * walks again and what ends up cached matches the new tables.
 */
static void test_race_range_retries(void)
{
    Env e;
    Race r;

    race_setup(&e, &r, RACE_RANGE, 1);
    g_assert_cmpint(xl(&e, VA0, true), ==, MMN_XLATE_OK);
    g_assert_cmphex(e.tr.pa, ==, PA0 + 0x1000000);
    g_assert_true(e.tr.perm & MMN_PERM_W);
    g_assert_cmphex(cached(&e, VA0, NULL)->pa, ==, PA0 + 0x1000000);
    g_assert_cmphex(cached(&e, VA0, NULL)->desc, ==,
                    mmn_fake_mem_get(&e.mem, r.leaf));
    g_assert_cmpuint(stats(&e).fill_retries, ==, 1);
    g_assert_cmpuint(stats(&e).walks, ==, 2);
    /* the range has ended: nothing stays blocked */
    g_assert_false(mmn_iotlb_va_blocked(e.c, VA0));
    env_destroy(&e);
}

/*
 * Linux 6.6+: the upgrade reaches the secondary TLB only through
 * arch_invalidate_secondary_tlbs, which interval notifiers never see.  A
 * walk it overtook must retry too, or the stale read-only entry would be
 * filled just after its invalidation (the headline bug, by a race).
 */
static void test_race_secondary_tlbs_retries(void)
{
    Env e;
    Race r;

    race_setup(&e, &r, RACE_SECONDARY_TLBS, 1);
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);
    g_assert_cmphex(e.tr.pa, ==, PA0 + 0x1000000);
    g_assert_true(cached(&e, VA0, NULL)->perm & MMN_PERM_W);
    g_assert_cmpuint(stats(&e).fill_retries, ==, 1);
    /* and a write now succeeds from the cache */
    g_assert_cmpint(xl(&e, VA0, true), ==, MMN_XLATE_OK);
    g_assert_true(e.from_cache);
    env_destroy(&e);
}

/*
 * Within one invalidating period (another range is open elsewhere), every
 * interval invalidate gets the same cur_seq (Linux's readers sleep until
 * the period ends, we do not): a range that starts and ends during the
 * walk must still make the fill retry.
 */
static void test_race_within_open_period(void)
{
    Env e;
    Race r;
    MmnNotifierRange other;

    race_setup(&e, &r, RACE_RANGE, 1);
    range_init(&other, &e, MMN_NOTIFY_UNMAP, VA0 + 64 * MiB2,
               VA0 + 65 * MiB2);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&other), ==, 0);
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);
    g_assert_cmphex(e.tr.pa, ==, PA0 + 0x1000000);
    g_assert_cmphex(cached(&e, VA0, NULL)->pa, ==, PA0 + 0x1000000);
    g_assert_cmpuint(stats(&e).fill_retries, ==, 1);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&other), ==, 0);
    env_destroy(&e);
}

/*
 * change_pte (2.6.30 semantics: no range around it) during a walk: the
 * walk read the old PTE and must not fill it after the change.
 */
static void test_race_change_pte_retries(void)
{
    Env e;
    Race r;

    race_setup(&e, &r, RACE_CHANGE_PTE, 1);
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);
    g_assert_cmphex(cached(&e, VA0, NULL)->pa, ==, PA0 + 0x1000000);
    g_assert_cmpuint(stats(&e).fill_retries, ==, 1);
    env_destroy(&e);
}

/* Retries are bounded: an invalidation on every walk ends in BLOCKED. */
static void test_race_bounded(void)
{
    Env e;
    Race r;

    race_setup(&e, &r, RACE_RANGE, 1000);
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_BLOCKED);
    g_assert_cmpuint(stats(&e).walks, ==, MMN_IOTLB_MAX_FILL_RETRIES + 1);
    g_assert_null(cached(&e, VA0, NULL));
    r.fire = 0;
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);
    env_destroy(&e);
}

/* release during a walk: nothing is filled, the answer is RELEASED. */
static void test_race_release(void)
{
    Env e;
    Race r;

    race_setup(&e, &r, RACE_RELEASE, 1);
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_RELEASED);
    g_assert_cmpuint(mmn_iotlb_count(e.t), ==, 0);
    env_destroy(&e);
}

/* Global statistics add up the contexts; the serial names an entry. */
static void test_stats_and_serial(void)
{
    Env e;
    MmnIotlbStats g;
    uint64_t s1;

    env_init(&e, 64);
    map(&e, VA0, PA0, 3, RO);
    g_assert_cmpuint(mmn_iotlb_entry_serial(e.c, VA0), ==, 0);
    xl(&e, VA0, false);
    s1 = mmn_iotlb_entry_serial(e.c, VA0);
    g_assert_cmpuint(s1, !=, 0);
    g_assert_cmpuint(e.serial, ==, s1);         /* the fill */
    g_assert_cmpint(xl(&e, VA0, true), ==, MMN_XLATE_FAULT);
    g_assert_true(e.from_cache);
    g_assert_cmpuint(e.serial, ==, s1);         /* the hit */
    xl(&e, VA0, true);
    g_assert_cmpuint(mmn_iotlb_entry_serial(e.c, VA0), ==, s1);
    mmn_iotlb_inv_page(e.c, VA0);
    g_assert_cmpint(xl(&e, VA0, true), ==, MMN_XLATE_FAULT);
    g_assert_false(e.from_cache);
    g_assert_cmpuint(mmn_iotlb_entry_serial(e.c, VA0), !=, s1);
    /* a permission-faulting walk reports the entry it cached */
    g_assert_cmpuint(e.serial, ==, mmn_iotlb_entry_serial(e.c, VA0));

    mmn_iotlb_get_stats(e.t, &g);
    g_assert_cmpuint(g.misses, ==, 2);
    g_assert_cmpuint(g.hits, ==, 2);
    g_assert_cmpuint(g.fills, ==, 2);
    g_assert_cmpuint(g.perm_faults_cached, ==, 2);
    g_assert_cmpuint(g.inv_ops[MMN_IOTLB_INV_PAGE], ==, 1);
    g_assert_cmpuint(g.walks, ==, stats(&e).walks);
    g_assert_cmpstr(mmn_xlate_result_name(MMN_XLATE_BLOCKED), ==, "blocked");
    /* a walk fault caches nothing: no entry */
    g_assert_cmpint(xl(&e, VA0 + PG, false), ==, MMN_XLATE_FAULT);
    g_assert_cmpuint(e.serial, ==, 0);
    env_destroy(&e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/mmn-iotlb/rules/stale-readonly-until-invalidated",
                    test_stale_readonly_until_invalidated);
    g_test_add_func("/mmn-iotlb/rules/permission-fault-walk-is-cached",
                    test_permission_fault_walk_is_cached);
    g_test_add_func("/mmn-iotlb/rules/uncacheable-faults",
                    test_uncacheable_faults);
    g_test_add_func("/mmn-iotlb/rules/dbm-with-hd-rewalks",
                    test_dbm_with_hd_rewalks);
    g_test_add_func("/mmn-iotlb/rules/lru-eviction", test_lru_eviction);
    g_test_add_func("/mmn-iotlb/notifier/change-pte-perm-as-walk",
                    test_change_pte_perm_as_walk);
    g_test_add_func("/mmn-iotlb/notifier/range-start-drops-and-blocks",
                    test_range_start_drops_and_blocks);
    g_test_add_func("/mmn-iotlb/notifier/nested-ranges", test_nested_ranges);
    g_test_add_func("/mmn-iotlb/notifier/attach-during-open-range",
                    test_attach_during_open_range);
    g_test_add_func("/mmn-iotlb/notifier/migrate-own-owner-ignored",
                    test_migrate_own_owner_ignored);
    g_test_add_func("/mmn-iotlb/notifier/secondary-tlbs",
                    test_secondary_tlbs);
    g_test_add_func("/mmn-iotlb/notifier/change-pte", test_change_pte);
    g_test_add_func("/mmn-iotlb/notifier/release", test_release);
    g_test_add_func("/mmn-iotlb/notifier/two-contexts-one-mm",
                    test_two_contexts_one_mm);
    g_test_add_func("/mmn-iotlb/race/range-retries", test_race_range_retries);
    g_test_add_func("/mmn-iotlb/race/secondary-tlbs-retries",
                    test_race_secondary_tlbs_retries);
    g_test_add_func("/mmn-iotlb/race/within-open-period",
                    test_race_within_open_period);
    g_test_add_func("/mmn-iotlb/race/change-pte-retries",
                    test_race_change_pte_retries);
    g_test_add_func("/mmn-iotlb/race/bounded", test_race_bounded);
    g_test_add_func("/mmn-iotlb/race/release", test_race_release);
    g_test_add_func("/mmn-iotlb/stats-and-serial", test_stats_and_serial);
    return g_test_run();
}
