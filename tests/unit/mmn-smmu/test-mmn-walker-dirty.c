/*
 * Unit tests of the mmn-smmu stage-1 walker, hardware updates of
 * descriptors over a fake physical memory: DBM with and without hardware
 * dirty state, and the compare-and-swap of the access flag and dirty
 * state racing the CPU.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-walker-env.h"

/* --- DBM and hardware dirty state --------------------------------------- */

static void test_dbm_without_hd(void)
{
    static const bool has[][2] = { { false, false }, { true, false },
                                   { false, true } };
    int i;

    for (i = 0; i < ARRAY_SIZE(has); i++) {
        Ctx c;
        MmnTranslation tr;
        MmnFault f;
        uint64_t dpa;

        ctx_init(&c, 48);
        c.cfg.ha = has[i][0];
        c.cfg.hd = has[i][1];   /* HD without HA does nothing */
        dpa = pt_map(&c, 0x7000, 3, L_PAGE_SHARED | 0x8000ULL);
        expect_ok(&c, 0x7000, A_U, &tr);
        g_assert_cmphex(tr.perm & (MMN_PERM_W | MMN_PERM_DBM), ==,
                        MMN_PERM_DBM);
        g_assert_false(tr.dirty);
        g_assert_cmpint(ctx_walk(&c, 0x7000, A_U | A_W, &tr, &f), ==,
                        MMN_FAULT_PERMISSION);
        g_assert_cmpuint(f.level, ==, 3);
        g_assert_cmphex(tr.pa, ==, 0x8000ULL);
        g_assert_true(tr.perm & MMN_PERM_DBM);
        g_assert_false(tr.dirty);
        g_assert_cmpuint(c.m.cas, ==, 0);
        g_assert_cmphex(fm_get(&c.m, dpa), ==, L_PAGE_SHARED | 0x8000ULL);
        ctx_fini(&c);
    }
}

static void test_dbm_with_hd(void)
{
    uint64_t clean = L_PAGE_SHARED | 0x8000ULL;
    uint64_t dpa;
    Ctx c;
    MmnTranslation tr;
    MmnFault f;

    ctx_init(&c, 48);
    c.cfg.ha = c.cfg.hd = true;
    dpa = pt_map(&c, 0x7000, 3, clean);
    /* a read leaves it clean */
    expect_ok(&c, 0x7000, A_U, &tr);
    g_assert_cmpuint(c.m.cas, ==, 0);
    g_assert_false(tr.dirty);
    g_assert_cmphex(fm_get(&c.m, dpa), ==, clean);
    /* without PXN, EL1 may still not execute it: EL0 may write it */
    pt_map(&c, 0xc000, 3, clean & ~L_PTE_PXN);
    g_assert_cmpint(ctx_walk(&c, 0xc000, A_X, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    g_assert_true(tr.perm & MMN_PERM_PXN);
    c.cfg.hd = false;   /* without HD it is read-only for everyone */
    expect_ok(&c, 0xc000, A_X, &tr);
    g_assert_false(tr.perm & MMN_PERM_PXN);
    c.cfg.hd = true;
    /* a write makes it dirty: AP[2] cleared, nothing else */
    expect_ok(&c, 0x7000, A_U | A_W, &tr);
    g_assert_cmpuint(c.m.cas, ==, 1);
    g_assert_cmphex(fm_get(&c.m, dpa), ==, clean & ~MMN_PTE_AP_RDONLY);
    g_assert_cmphex(tr.desc, ==, clean & ~MMN_PTE_AP_RDONLY);
    g_assert_true(tr.dirty);
    g_assert_true(tr.perm & MMN_PERM_W);
    g_assert_true(tr.perm & MMN_PERM_DBM);
    /* once dirty, writes need no update */
    expect_ok(&c, 0x7000, A_U | A_W, &tr);
    g_assert_cmpuint(c.m.cas, ==, 0);

    /* old and clean: one CAS sets AF and clears AP[2] */
    dpa = pt_map(&c, 0x9000, 3, clean & ~MMN_PTE_AF);
    expect_ok(&c, 0x9000, A_U | A_W, &tr);
    g_assert_cmpuint(c.m.cas, ==, 1);
    g_assert_cmphex(fm_get(&c.m, dpa), ==, clean & ~MMN_PTE_AP_RDONLY);

    /* APTable[1] wins over DBM: no update, permission fault */
    dpa = pt_map(&c, 0x40000000ULL, 3, clean);
    pt_table_or(&c, 0x40000000ULL, 2, MMN_PTE_AP_TABLE_RDONLY);
    g_assert_cmpint(ctx_walk(&c, 0x40000000ULL, A_U | A_W, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    g_assert_false(tr.perm & MMN_PERM_DBM);
    g_assert_cmphex(fm_get(&c.m, dpa), ==, clean);
    g_assert_cmpuint(c.m.cas, ==, 0);

    /* a write that fails AP[1] does not make the page dirty */
    dpa = pt_map(&c, 0xa000, 3, clean & ~MMN_PTE_AP_USER);
    g_assert_cmpint(ctx_walk(&c, 0xa000, A_U | A_W, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    g_assert_cmphex(fm_get(&c.m, dpa), ==, clean & ~MMN_PTE_AP_USER);
    expect_ok(&c, 0xa000, A_W, &tr);
    g_assert_cmphex(fm_get(&c.m, dpa), ==,
                    clean & ~(MMN_PTE_AP_USER | MMN_PTE_AP_RDONLY));

    /* read-only without DBM stays read-only */
    dpa = pt_map(&c, 0xb000, 3, L_PAGE_READONLY | 0x8000ULL);
    g_assert_cmpint(ctx_walk(&c, 0xb000, A_U | A_W, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    g_assert_cmphex(fm_get(&c.m, dpa), ==, L_PAGE_READONLY | 0x8000ULL);

    /* a DBM block */
    dpa = pt_map(&c, 0x80000000ULL, 2,
                 BLOCK(0x200000ULL, MMN_PTE_AP_RDONLY | MMN_PTE_DBM));
    expect_ok(&c, 0x80012345ULL, A_W, &tr);
    g_assert_cmpuint(tr.level, ==, 2);
    g_assert_true(tr.dirty);
    g_assert_false(fm_get(&c.m, dpa) & MMN_PTE_AP_RDONLY);
    ctx_fini(&c);
}

/* --- compare-and-swap races --------------------------------------------- */

static void test_cas_race_other_bit(void)
{
    uint64_t old = PAGE(0x8000ULL, 0) & ~MMN_PTE_AF;
    uint64_t dpa;
    Ctx c;
    MmnTranslation tr;

    ctx_init(&c, 48);
    c.cfg.ha = true;
    dpa = pt_map(&c, 0x7000, 3, old);
    c.m.race_left = 1;
    c.m.race_set = L_PTE_SWBIT;
    expect_ok(&c, 0x7000, A_R, &tr);
    g_assert_cmpuint(c.m.cas, ==, 2);
    g_assert_cmpuint(c.m.race_left, ==, 0);
    g_assert_cmphex(fm_get(&c.m, dpa), ==, old | L_PTE_SWBIT | MMN_PTE_AF);
    g_assert_cmphex(tr.desc, ==, old | L_PTE_SWBIT | MMN_PTE_AF);

    /* the racer set AF itself: nothing left to do */
    dpa = pt_map(&c, 0x9000, 3, old);
    c.m.race_left = 1;
    c.m.race_set = MMN_PTE_AF;
    expect_ok(&c, 0x9000, A_R, &tr);
    g_assert_cmpuint(c.m.cas, ==, 1);
    g_assert_cmphex(fm_get(&c.m, dpa), ==, old | MMN_PTE_AF);
    ctx_fini(&c);
}

static void test_cas_race_invalidate(void)
{
    uint64_t old = PAGE(0x8000ULL, 0) & ~MMN_PTE_AF;
    uint64_t dpa;
    Ctx c;

    ctx_init(&c, 48);
    c.cfg.ha = true;
    dpa = pt_map(&c, 0x7000, 3, old);
    c.m.race_left = 1;
    c.m.race_clear = MMN_PTE_VALID;
    expect_fault(&c, 0x7000, A_R, MMN_FAULT_TRANSLATION, 3, dpa);
    g_assert_cmpuint(c.m.cas, ==, 1);
    g_assert_cmphex(fm_get(&c.m, dpa), ==, old & ~MMN_PTE_VALID);
    ctx_fini(&c);
}

/* The CPU write-protects the page (pte_wrprotect) while HD marks it dirty. */
static void test_cas_race_wrprotect(void)
{
    uint64_t clean = L_PAGE_SHARED | 0x8000ULL;
    uint64_t dpa;
    Ctx c;
    MmnTranslation tr;
    MmnFault f;

    ctx_init(&c, 48);
    c.cfg.ha = c.cfg.hd = true;
    dpa = pt_map(&c, 0x7000, 3, clean);
    c.m.race_left = 1;
    c.m.race_clear = L_PTE_WRITE;
    g_assert_cmpint(ctx_walk(&c, 0x7000, A_U | A_W, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    g_assert_cmpuint(c.m.cas, ==, 1);
    g_assert_cmphex(fm_get(&c.m, dpa), ==, clean & ~L_PTE_WRITE);
    g_assert_cmphex(tr.desc, ==, clean & ~L_PTE_WRITE);
    g_assert_false(tr.perm & (MMN_PERM_W | MMN_PERM_DBM));
    ctx_fini(&c);
}

/* The racer turns a level-2 block into a table: the walk goes on down. */
static void test_cas_race_to_table(void)
{
    uint64_t va = 0x40212345ULL;
    uint64_t l3, dpa;
    Ctx c;
    MmnTranslation tr;

    ctx_init(&c, 39);
    c.cfg.ha = true;
    dpa = pt_map(&c, va, 2, BLOCK(0x600000ULL, 0) & ~MMN_PTE_AF);
    l3 = fm_alloc(&c.m);
    fm_set(&c.m, l3 + ((va >> 12) & 511) * 8, PAGE(0xabc000ULL, 0));
    c.m.race_left = 1;
    c.m.race_clear = ~0ULL;
    c.m.race_set = TABLE(l3);
    expect_ok(&c, va, A_R, &tr);
    g_assert_cmpuint(tr.level, ==, 3);
    g_assert_cmphex(tr.pa, ==, 0xabc000ULL);
    g_assert_cmphex(fm_get(&c.m, dpa), ==, TABLE(l3));
    g_assert_cmpuint(c.m.cas, ==, 1);
    ctx_fini(&c);
}

/* A descriptor that changes on every attempt: bounded, then walk abort. */
static void test_cas_race_forever(void)
{
    uint64_t dpa;
    Ctx c;

    ctx_init(&c, 48);
    c.cfg.ha = c.cfg.hd = true;
    dpa = pt_map(&c, 0x7000, 3, L_PAGE_SHARED | 0x8000ULL);
    c.m.race_left = -1;
    c.m.race_xor = L_PTE_SWBIT;
    expect_fault(&c, 0x7000, A_U | A_W, MMN_FAULT_WALK_ABORT, 3, dpa);
    g_assert_cmpuint(c.m.cas, ==, MMN_WALK_MAX_CAS);
    g_assert_cmpuint(c.m.reads, ==, 4);
    /* never made dirty */
    g_assert_true(fm_get(&c.m, dpa) & MMN_PTE_AP_RDONLY);
    ctx_fini(&c);
}

static void test_cas_fails(void)
{
    static const MmnPtOps read_only_ops = { .read = fm_read };
    MmnAccess acc = { .va = 0x7000 };
    MmnTranslation tr;
    MmnFault f;
    uint64_t dpa;
    Ctx c;

    ctx_init(&c, 48);
    c.cfg.ha = true;
    dpa = pt_map(&c, 0x7000, 3, PAGE(0x8000ULL, 0) & ~MMN_PTE_AF);
    c.m.cas_broken = true;
    expect_fault(&c, 0x7000, A_R, MMN_FAULT_WALK_ABORT, 3, dpa);
    g_assert_cmpuint(c.m.cas, ==, 1);
    /* no cmpxchg at all */
    g_assert_cmpint(mmn_walk(&c.cfg, &read_only_ops, &c.m, &acc, &tr, &f),
                    ==, MMN_FAULT_WALK_ABORT);
    g_assert_cmpuint(f.level, ==, 3);
    ctx_fini(&c);
}


int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/mmn-smmu/walker/dbm/without-hd", test_dbm_without_hd);
    g_test_add_func("/mmn-smmu/walker/dbm/with-hd", test_dbm_with_hd);
    g_test_add_func("/mmn-smmu/walker/cas/race-other-bit",
                    test_cas_race_other_bit);
    g_test_add_func("/mmn-smmu/walker/cas/race-invalidate",
                    test_cas_race_invalidate);
    g_test_add_func("/mmn-smmu/walker/cas/race-wrprotect",
                    test_cas_race_wrprotect);
    g_test_add_func("/mmn-smmu/walker/cas/race-to-table",
                    test_cas_race_to_table);
    g_test_add_func("/mmn-smmu/walker/cas/race-forever",
                    test_cas_race_forever);
    g_test_add_func("/mmn-smmu/walker/cas/fails", test_cas_fails);
    return g_test_run();
}
