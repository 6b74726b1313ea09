/*
 * Unit tests of the mmn-smmu stage-1 walker, over a fake physical memory:
 * descriptor kinds and levels, output address size, access flag,
 * permissions, hostile tables, Linux's arm64 encodings, the translation
 * check.  The hardware updates of descriptors (DBM, compare-and-swap
 * races) are test-mmn-walker-dirty.c.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-walker-env.h"

/* --- descriptor kinds and levels --------------------------------------- */

static void test_page_48(void)
{
    Ctx c;
    MmnTranslation tr;
    uint64_t va = 0x00007f1234567abcULL;
    uint64_t dpa, dpa2;

    ctx_init(&c, 48);
    dpa = pt_map(&c, va, 3, PAGE(0x41234000ULL, 0));
    dpa2 = pt_map(&c, va + PAGE_SZ, 3, PAGE(0x55555000ULL, 0));
    expect_ok(&c, va, A_R, &tr);
    g_assert_cmpuint(c.m.reads, ==, 4);
    g_assert_cmphex(tr.va, ==, 0x00007f1234567000ULL);
    g_assert_cmphex(tr.pa, ==, 0x41234000ULL);
    g_assert_cmphex(tr.size, ==, PAGE_SZ);
    g_assert_cmpuint(tr.level, ==, 3);
    g_assert_cmphex(tr.desc_pa, ==, dpa);
    g_assert_cmphex(tr.desc, ==, PAGE(0x41234000ULL, 0));
    g_assert_true(tr.af);
    g_assert_true(tr.dirty);
    g_assert_cmphex(tr.perm, ==, MMN_PERM_W);

    expect_ok(&c, va + PAGE_SZ, A_W, &tr);
    g_assert_cmphex(tr.pa, ==, 0x55555000ULL);
    g_assert_cmphex(tr.desc_pa, ==, dpa2);
    g_assert_cmpuint(c.m.cas, ==, 0);
    ctx_fini(&c);
}

static void test_page_39(void)
{
    Ctx c;
    MmnTranslation tr;
    uint64_t va = 0x7f12345abcULL;

    ctx_init(&c, 39);
    pt_map(&c, va, 3, PAGE(0x12345000ULL, 0));
    expect_ok(&c, va, A_R, &tr);
    g_assert_cmpuint(c.m.reads, ==, 3);
    g_assert_cmphex(tr.pa, ==, 0x12345000ULL);
    g_assert_cmphex(tr.va, ==, 0x7f12345000ULL);
    g_assert_cmpuint(tr.level, ==, 3);
    /* the level-1 descriptor is read from the TTB, indexed by VA[38:30] */
    g_assert_cmphex(pt_desc_pa(&c, va, 1), ==, c.cfg.ttb + 0x1fc * 8);
    ctx_fini(&c);
}

/* Every input size starts at the right level, up to the top of the range. */
static void test_start_levels(void)
{
    static const unsigned sizes[] = { 25, 26, 30, 31, 36, 39, 40, 47, 48 };
    int i;

    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        unsigned vb = sizes[i];
        uint64_t top = (1ULL << vb) - PAGE_SZ;
        Ctx c;
        MmnTranslation tr;

        ctx_init(&c, vb);
        pt_map(&c, top, 3, PAGE(0x7000ULL * (i + 1), 0));
        pt_map(&c, 0, 3, PAGE(0x99000ULL, 0));
        expect_ok(&c, top + 0x123, A_R, &tr);
        g_assert_cmphex(tr.pa, ==, 0x7000ULL * (i + 1));
        g_assert_cmpuint(c.m.reads, ==, 4 - t_start_level(vb));
        expect_ok(&c, 0x456, A_R, &tr);
        g_assert_cmphex(tr.pa, ==, 0x99000ULL);

        /* any VA bit at or above va_bits: translation fault, start level */
        expect_fault(&c, 1ULL << vb, A_R, MMN_FAULT_TRANSLATION,
                     t_start_level(vb), 0);
        g_assert_cmpuint(c.m.reads, ==, 0);
        expect_fault(&c, (1ULL << 63) | 0x1000, A_R, MMN_FAULT_TRANSLATION,
                     t_start_level(vb), 0);
        ctx_fini(&c);
    }
}

/*
 * TTB bits below the size of the start-level table are not address (CnP,
 * RES0): a full table is 4 KiB aligned, a 16-entry one (25 bits) 128 B.
 */
static void test_ttb_low_bits(void)
{
    Ctx c;
    MmnTranslation tr;

    ctx_init(&c, 48);
    pt_map(&c, 0x1000, 3, PAGE(0x5000ULL, 0));
    c.cfg.ttb |= 0xff9;
    expect_ok(&c, 0x1000, A_R, &tr);
    g_assert_cmphex(tr.pa, ==, 0x5000ULL);
    ctx_fini(&c);

    ctx_init(&c, 25);
    c.cfg.ttb += 0x80;
    pt_map(&c, 0x1ff1000ULL, 3, PAGE(0x6000ULL, 0));
    c.cfg.ttb |= 0x79;
    expect_ok(&c, 0x1ff1000ULL, A_R, &tr);
    g_assert_cmphex(tr.pa, ==, 0x6000ULL);
    ctx_fini(&c);
}

static void test_va_bits_invalid(void)
{
    static const unsigned sizes[] = { 0, 12, 24, 49, 52, 64, 255 };
    int i;

    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        Ctx c;

        ctx_init(&c, 48);
        pt_map(&c, 0x1000, 3, PAGE(0x1000ULL, 0));
        c.cfg.va_bits = sizes[i];
        expect_fault(&c, 0x1000, A_R, MMN_FAULT_TRANSLATION, 0, 0);
        g_assert_cmpuint(c.m.reads, ==, 0);
        ctx_fini(&c);
    }
}

static void test_blocks(void)
{
    static const unsigned sizes[] = { 48, 39 };
    int i;

    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        unsigned vb = sizes[i], sl = t_start_level(vb);
        uint64_t va1 = 0xc0000000ULL + 0x12345678ULL;
        uint64_t va2 = 0x7f00200000ULL + 0x1abcdeULL;
        uint64_t dpa;
        Ctx c;
        MmnTranslation tr;

        ctx_init(&c, vb);
        /* 1 GiB block at level 1; RES0 bits [29:12] are not address */
        dpa = pt_map(&c, va1, 1, BLOCK(0x80000000ULL | 0x100000ULL, 0));
        expect_ok(&c, va1, A_R, &tr);
        g_assert_cmphex(tr.pa, ==, 0x80000000ULL);
        g_assert_cmphex(tr.va, ==, 0xc0000000ULL);
        g_assert_cmphex(tr.size, ==, 1ULL << 30);
        g_assert_cmpuint(tr.level, ==, 1);
        g_assert_cmphex(tr.desc_pa, ==, dpa);
        g_assert_cmpuint(c.m.reads, ==, 2 - sl);

        /* 2 MiB block at level 2 */
        dpa = pt_map(&c, va2, 2, BLOCK(0x7fe00000ULL | 0x1000ULL, 0));
        expect_ok(&c, va2, A_W, &tr);
        g_assert_cmphex(tr.pa, ==, 0x7fe00000ULL);
        g_assert_cmphex(tr.va, ==, 0x7f00200000ULL);
        g_assert_cmphex(tr.size, ==, 2ULL << 20);
        g_assert_cmpuint(tr.level, ==, 2);
        g_assert_cmphex(tr.desc_pa, ==, dpa);
        g_assert_cmpuint(c.m.reads, ==, 3 - sl);
        ctx_fini(&c);
    }
}

/* Reserved encodings: block at level 0, bit 1 == 0 at level 3. */
static void test_reserved(void)
{
    uint64_t va = 0x0000123456789000ULL;
    uint64_t dpa;
    Ctx c;

    ctx_init(&c, 48);
    dpa = pt_map(&c, va, 0, BLOCK(0, 0));
    expect_fault(&c, va, A_R, MMN_FAULT_TRANSLATION, 0, dpa);
    g_assert_cmpuint(c.m.reads, ==, 1);
    ctx_fini(&c);

    ctx_init(&c, 48);
    dpa = pt_map(&c, va, 3, BLOCK(0x5000ULL, 0));
    expect_fault(&c, va, A_R, MMN_FAULT_TRANSLATION, 3, dpa);
    ctx_fini(&c);

    ctx_init(&c, 39);
    dpa = pt_map(&c, 0x5000, 3, BLOCK(0x5000ULL, 0));
    expect_fault(&c, 0x5000, A_R, MMN_FAULT_TRANSLATION, 3, dpa);
    ctx_fini(&c);
}

/* An invalid descriptor at each level faults at that level. */
static void test_invalid_each_level(void)
{
    static const unsigned sizes[] = { 48, 39, 30 };
    int i;
    unsigned l;

    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        unsigned vb = sizes[i];
        uint64_t va = 0x2345678000ULL & ((1ULL << vb) - 1);

        for (l = t_start_level(vb); l <= 3; l++) {
            Ctx c;
            uint64_t dpa;

            ctx_init(&c, vb);
            pt_map(&c, va, 3, PAGE(0x3000ULL, 0));
            dpa = pt_desc_pa(&c, va, l);
            /* keep everything but the valid bit */
            fm_set(&c.m, dpa, fm_get(&c.m, dpa) & ~MMN_PTE_VALID);
            expect_fault(&c, va, A_R, MMN_FAULT_TRANSLATION, l, dpa);
            g_assert_cmpuint(c.m.reads, ==, l - t_start_level(vb) + 1);
            ctx_fini(&c);
        }
    }
}

/* --- output address size ---------------------------------------------- */

static void test_oa_size(void)
{
    uint64_t va = 0x0000400000345000ULL;
    uint64_t dpa;
    Ctx c;
    MmnTranslation tr;

    /* leaf page: last page below 2^40 is fine, 2^40 is not */
    ctx_init(&c, 48);
    c.cfg.oa_bits = 40;
    dpa = pt_map(&c, va, 3, PAGE((1ULL << 40) - PAGE_SZ, 0));
    expect_ok(&c, va, A_R, &tr);
    g_assert_cmphex(tr.pa, ==, (1ULL << 40) - PAGE_SZ);
    fm_set(&c.m, dpa, PAGE(1ULL << 40, 0));
    expect_fault(&c, va, A_R, MMN_FAULT_ADDR_SIZE, 3, dpa);
    /* the check comes before AF and permissions */
    fm_set(&c.m, dpa, PAGE(1ULL << 47, MMN_PTE_AP_RDONLY) & ~MMN_PTE_AF);
    expect_fault(&c, va, A_W, MMN_FAULT_ADDR_SIZE, 3, dpa);
    ctx_fini(&c);

    /* blocks */
    ctx_init(&c, 48);
    c.cfg.oa_bits = 40;
    dpa = pt_map(&c, va, 1, BLOCK(1ULL << 40, 0));
    expect_fault(&c, va, A_R, MMN_FAULT_ADDR_SIZE, 1, dpa);
    fm_set(&c.m, dpa, BLOCK((1ULL << 40) - (1ULL << 30), 0));
    expect_ok(&c, va, A_R, &tr);
    g_assert_cmpuint(tr.level, ==, 1);
    ctx_fini(&c);

    ctx_init(&c, 39);
    c.cfg.oa_bits = 36;
    dpa = pt_map(&c, 0x345000, 2, BLOCK(1ULL << 36, 0));
    expect_fault(&c, 0x345000, A_R, MMN_FAULT_ADDR_SIZE, 2, dpa);
    ctx_fini(&c);

    /* table addresses: the fault is at the level of the table descriptor */
    ctx_init(&c, 48);
    c.cfg.oa_bits = 44;
    pt_map(&c, va, 3, PAGE(0x1000ULL, 0));
    dpa = pt_desc_pa(&c, va, 1);
    fm_set(&c.m, dpa, fm_get(&c.m, dpa) | (1ULL << 44));
    expect_fault(&c, va, A_R, MMN_FAULT_ADDR_SIZE, 1, dpa);
    g_assert_cmpuint(c.m.reads, ==, 2);
    dpa = pt_desc_pa(&c, va, 0);
    fm_set(&c.m, dpa, fm_get(&c.m, dpa) | (1ULL << 47));
    expect_fault(&c, va, A_R, MMN_FAULT_ADDR_SIZE, 0, dpa);
    ctx_fini(&c);

    /* the TTB itself */
    ctx_init(&c, 39);
    c.cfg.oa_bits = 32;
    pt_map(&c, 0x1000, 3, PAGE(0xfffff000ULL, 0));
    expect_ok(&c, 0x1000, A_R, &tr);
    c.cfg.ttb |= 1ULL << 32;
    expect_fault(&c, 0x1000, A_R, MMN_FAULT_ADDR_SIZE, 1, 0);
    g_assert_cmpuint(c.m.reads, ==, 0);
    ctx_fini(&c);

    /* oa_bits outside 32..48 is bounded to it */
    ctx_init(&c, 48);
    dpa = pt_map(&c, va, 3, PAGE(1ULL << 32, 0));
    c.cfg.oa_bits = 0;
    expect_fault(&c, va, A_R, MMN_FAULT_ADDR_SIZE, 3, dpa);
    fm_set(&c.m, dpa, PAGE(0xfffff000ULL, 0));
    expect_ok(&c, va, A_R, &tr);
    c.cfg.oa_bits = 52;
    fm_set(&c.m, dpa, PAGE(MMN_PTE_ADDR_MASK, 0));
    expect_ok(&c, va, A_R, &tr);
    g_assert_cmphex(tr.pa, ==, MMN_PTE_ADDR_MASK);
    ctx_fini(&c);
}

/* --- access flag -------------------------------------------------------- */

static void test_access_flag(void)
{
    uint64_t va = 0x7000123000ULL;
    uint64_t page = PAGE(0x42000ULL, 0) & ~MMN_PTE_AF;
    uint64_t dpa;
    Ctx c;
    MmnTranslation tr;
    MmnFault f;

    ctx_init(&c, 48);
    dpa = pt_map(&c, va, 3, page);
    expect_fault(&c, va, A_R, MMN_FAULT_ACCESS_FLAG, 3, dpa);
    g_assert_cmphex(fm_get(&c.m, dpa), ==, page);
    g_assert_cmpuint(c.m.cas, ==, 0);
    /* AF == 0 without HA wins over a permission fault */
    fm_set(&c.m, dpa, page | MMN_PTE_AP_RDONLY);
    expect_fault(&c, va, A_W | A_U, MMN_FAULT_ACCESS_FLAG, 3, dpa);

    /* with HA: hardware sets AF through a compare-and-swap */
    c.cfg.ha = true;
    fm_set(&c.m, dpa, page);
    expect_ok(&c, va, A_R, &tr);
    g_assert_cmpuint(c.m.cas, ==, 1);
    g_assert_cmphex(fm_get(&c.m, dpa), ==, page | MMN_PTE_AF);
    g_assert_cmphex(tr.desc, ==, page | MMN_PTE_AF);
    g_assert_true(tr.af);
    /* already set: no update */
    expect_ok(&c, va, A_R, &tr);
    g_assert_cmpuint(c.m.cas, ==, 0);

    /* with HA and a permission fault: AF is set, *tr is filled */
    fm_set(&c.m, dpa, page | MMN_PTE_AP_RDONLY);
    g_assert_cmpint(ctx_walk(&c, va, A_W, &tr, &f), ==, MMN_FAULT_PERMISSION);
    g_assert_cmphex(fm_get(&c.m, dpa), ==,
                    page | MMN_PTE_AP_RDONLY | MMN_PTE_AF);
    g_assert_true(tr.af);
    g_assert_cmphex(tr.pa, ==, 0x42000ULL);
    ctx_fini(&c);

    /* on a block, at its level */
    ctx_init(&c, 39);
    dpa = pt_map(&c, 0x40000000ULL, 1, BLOCK(0x40000000ULL, 0) & ~MMN_PTE_AF);
    expect_fault(&c, 0x40001000ULL, A_R, MMN_FAULT_ACCESS_FLAG, 1, dpa);
    c.cfg.ha = true;
    expect_ok(&c, 0x40001000ULL, A_R, &tr);
    g_assert_true(fm_get(&c.m, dpa) & MMN_PTE_AF);
    ctx_fini(&c);
}

/* --- permissions -------------------------------------------------------- */

static void test_ap_rdonly(void)
{
    uint64_t va = 0x1234000ULL;
    uint64_t dpa;
    Ctx c;
    MmnTranslation tr;
    MmnFault f;

    ctx_init(&c, 39);
    dpa = pt_map(&c, va, 3, PAGE(0x8000ULL, MMN_PTE_AP_RDONLY));
    expect_ok(&c, va, A_R, &tr);
    g_assert_false(tr.perm & MMN_PERM_W);
    g_assert_false(tr.dirty);
    g_assert_cmpint(ctx_walk(&c, va + 8, A_W, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    g_assert_cmpuint(f.level, ==, 3);
    g_assert_cmphex(f.desc_pa, ==, dpa);
    /* the leaf is valid: *tr is filled and may be cached */
    g_assert_cmphex(tr.pa, ==, 0x8000ULL);
    g_assert_cmphex(tr.va, ==, va);
    g_assert_cmpuint(tr.level, ==, 3);
    g_assert_cmphex(tr.desc_pa, ==, dpa);
    g_assert_false(tr.perm & MMN_PERM_W);
    ctx_fini(&c);
}

static void test_ap_user(void)
{
    uint64_t va = 0x5000ULL, uva = 0x6000ULL;
    Ctx c;
    MmnTranslation tr;
    MmnFault f;

    ctx_init(&c, 48);
    pt_map(&c, va, 3, PAGE(0x8000ULL, 0));
    pt_map(&c, uva, 3, PAGE(0x9000ULL, MMN_PTE_AP_USER));
    expect_ok(&c, va, A_W, &tr);
    g_assert_false(tr.perm & MMN_PERM_USER);
    g_assert_cmpint(ctx_walk(&c, va, A_U, &tr, &f), ==, MMN_FAULT_PERMISSION);
    g_assert_cmpint(ctx_walk(&c, va, A_U | A_W, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    expect_ok(&c, uva, A_U, &tr);
    g_assert_true(tr.perm & MMN_PERM_USER);
    expect_ok(&c, uva, A_U | A_W, &tr);
    expect_ok(&c, uva, A_W, &tr);
    /* AP[2:1] == 11: read-only for both */
    pt_map(&c, uva, 3, PAGE(0x9000ULL, MMN_PTE_AP_USER | MMN_PTE_AP_RDONLY));
    expect_ok(&c, uva, A_U, &tr);
    g_assert_cmpint(ctx_walk(&c, uva, A_U | A_W, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    g_assert_cmpint(ctx_walk(&c, uva, A_W, &tr, &f), ==, MMN_FAULT_PERMISSION);
    ctx_fini(&c);
}

static void test_aptable(void)
{
    uint64_t va = 0x0000100000200000ULL, other = 0x0000100040200000ULL;
    uint64_t rw_user = PAGE(0x8000ULL, MMN_PTE_AP_USER);
    Ctx c;
    MmnTranslation tr;
    MmnFault f;

    /* APTable[1] at level 1 removes write from everything below */
    ctx_init(&c, 48);
    pt_map(&c, va, 3, rw_user);
    pt_map(&c, other, 3, rw_user);
    pt_table_or(&c, va, 1, MMN_PTE_AP_TABLE_RDONLY);
    expect_ok(&c, va, A_U, &tr);
    g_assert_false(tr.perm & MMN_PERM_W);
    g_assert_true(tr.perm & MMN_PERM_USER);
    g_assert_true(tr.dirty);    /* AP[2] == 0 in the leaf itself */
    g_assert_cmpint(ctx_walk(&c, va, A_W, &tr, &f), ==, MMN_FAULT_PERMISSION);
    g_assert_cmpuint(f.level, ==, 3);
    /* another level-1 entry is not affected */
    expect_ok(&c, other, A_U | A_W, &tr);
    g_assert_true(tr.perm & MMN_PERM_W);
    ctx_fini(&c);

    /* APTable[0] at level 0 removes EL0 access */
    ctx_init(&c, 48);
    pt_map(&c, va, 3, rw_user);
    pt_table_or(&c, va, 0, MMN_PTE_AP_TABLE_NOUSER);
    expect_ok(&c, va, A_W, &tr);
    g_assert_false(tr.perm & MMN_PERM_USER);
    g_assert_cmpint(ctx_walk(&c, va, A_U, &tr, &f), ==, MMN_FAULT_PERMISSION);
    ctx_fini(&c);

    /* 39 bits: level-2 table descriptor, and a block under a level-1 one */
    ctx_init(&c, 39);
    pt_map(&c, 0x1000, 3, rw_user);
    pt_table_or(&c, 0x1000, 2, MMN_PTE_AP_TABLE_RDONLY);
    g_assert_cmpint(ctx_walk(&c, 0x1000, A_U | A_W, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    expect_ok(&c, 0x1000, A_U, &tr);
    pt_map(&c, 0x40200000ULL, 2, BLOCK(0x200000ULL, MMN_PTE_AP_USER));
    pt_table_or(&c, 0x40200000ULL, 1, MMN_PTE_AP_TABLE_NOUSER);
    g_assert_cmpint(ctx_walk(&c, 0x40200000ULL, A_U, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    g_assert_cmpuint(tr.level, ==, 2);
    g_assert_cmpuint(f.level, ==, 2);
    expect_ok(&c, 0x40200000ULL, A_W, &tr);
    ctx_fini(&c);
}

static void test_xn(void)
{
    uint64_t ro_user = PAGE(0x8000ULL, MMN_PTE_AP_USER | MMN_PTE_AP_RDONLY);
    Ctx c;
    MmnTranslation tr;
    MmnFault f;

    ctx_init(&c, 48);
    /* UXN: EL0 may not execute, EL1 may */
    pt_map(&c, 0x1000, 3, ro_user | MMN_PTE_UXN);
    g_assert_cmpint(ctx_walk(&c, 0x1000, A_U | A_X, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    g_assert_true(tr.perm & MMN_PERM_UXN);
    expect_ok(&c, 0x1000, A_X, &tr);
    expect_ok(&c, 0x1000, A_U, &tr);
    /* PXN: EL1 may not execute, EL0 may */
    pt_map(&c, 0x2000, 3, ro_user | MMN_PTE_PXN);
    g_assert_cmpint(ctx_walk(&c, 0x2000, A_X, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    expect_ok(&c, 0x2000, A_U | A_X, &tr);
    expect_ok(&c, 0x2000, A_R, &tr);
    /* EL0 execution still needs EL0 access */
    pt_map(&c, 0x3000, 3, PAGE(0x8000ULL, MMN_PTE_AP_RDONLY));
    g_assert_cmpint(ctx_walk(&c, 0x3000, A_U | A_X, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    expect_ok(&c, 0x3000, A_X, &tr);
    /* EL1 may not execute what EL0 may write */
    pt_map(&c, 0x4000, 3, PAGE(0x8000ULL, MMN_PTE_AP_USER));
    g_assert_cmpint(ctx_walk(&c, 0x4000, A_X, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    g_assert_true(tr.perm & MMN_PERM_PXN);
    expect_ok(&c, 0x4000, A_U | A_X, &tr);
    ctx_fini(&c);

    /* UXNTable / PXNTable fold into the leaf */
    ctx_init(&c, 48);
    pt_map(&c, 0x1000, 3, ro_user);
    pt_map(&c, 0x40000000ULL, 3, ro_user);
    pt_table_or(&c, 0x1000, 1, MMN_PTE_UXN_TABLE);
    pt_table_or(&c, 0x40000000ULL, 2, MMN_PTE_PXN_TABLE);
    g_assert_cmpint(ctx_walk(&c, 0x1000, A_U | A_X, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    g_assert_cmphex(tr.perm & (MMN_PERM_UXN | MMN_PERM_PXN), ==,
                    MMN_PERM_UXN);
    expect_ok(&c, 0x1000, A_X, &tr);
    g_assert_cmpint(ctx_walk(&c, 0x40000000ULL, A_X, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    g_assert_cmphex(tr.perm & (MMN_PERM_UXN | MMN_PERM_PXN), ==,
                    MMN_PERM_PXN);
    expect_ok(&c, 0x40000000ULL, A_U | A_X, &tr);
    ctx_fini(&c);
}


/* --- hostile tables ----------------------------------------------------- */

static void test_tables_not_in_ram(void)
{
    uint64_t va = 0x0000123456789000ULL;
    uint64_t dpa;
    Ctx c;

    /* level-0 entry points at MMIO: reading the level-1 descriptor aborts */
    ctx_init(&c, 48);
    pt_map(&c, va, 3, PAGE(0x1000ULL, 0));
    dpa = pt_desc_pa(&c, va, 0);
    fm_set(&c.m, dpa, TABLE(MMIO_ADDR));
    expect_fault(&c, va, A_R, MMN_FAULT_WALK_ABORT, 1,
                 MMIO_ADDR + ((va >> 30) & 511) * 8);
    g_assert_cmpuint(c.m.reads, ==, 2);
    /* level-2 entry points outside RAM */
    fm_set(&c.m, dpa, TABLE(fm_alloc(&c.m)));
    pt_map(&c, va, 3, PAGE(0x1000ULL, 0));
    fm_set(&c.m, pt_desc_pa(&c, va, 2), TABLE(OUTSIDE_ADDR));
    expect_fault(&c, va, A_R, MMN_FAULT_WALK_ABORT, 3,
                 OUTSIDE_ADDR + ((va >> 12) & 511) * 8);
    /* the TTB itself */
    c.cfg.ttb = MMIO_ADDR;
    expect_fault(&c, va, A_R, MMN_FAULT_WALK_ABORT, 0,
                 MMIO_ADDR + ((va >> 39) & 511) * 8);
    ctx_fini(&c);
}

static void test_self_reference(void)
{
    /* VA whose four indexes are all 5 */
    uint64_t va = (5ULL << 39) | (5ULL << 30) | (5ULL << 21) | (5ULL << 12);
    uint64_t dpa;
    Ctx c;
    MmnTranslation tr;

    ctx_init(&c, 48);
    dpa = c.cfg.ttb + 5 * 8;
    fm_set(&c.m, dpa, TABLE(c.cfg.ttb));
    /* the loop is read at every level; at level 3 it is a page with AF 0 */
    expect_fault(&c, va, A_R, MMN_FAULT_ACCESS_FLAG, 3, dpa);
    g_assert_cmpuint(c.m.reads, ==, 4);
    /* other indexes: the loop leads to empty entries */
    expect_fault(&c, va + (1ULL << 30), A_R, MMN_FAULT_TRANSLATION, 1,
                 c.cfg.ttb + 6 * 8);
    /* with HA, what hardware does: the "page" is the table itself */
    c.cfg.ha = true;
    expect_ok(&c, va, A_R, &tr);
    g_assert_cmphex(tr.pa, ==, c.cfg.ttb);
    g_assert_cmpuint(c.m.reads, ==, 4);
    g_assert_cmphex(fm_get(&c.m, dpa), ==, TABLE(c.cfg.ttb) | MMN_PTE_AF);
    ctx_fini(&c);

    /* a level-2 entry pointing back at the level-1 table (39 bits) */
    ctx_init(&c, 39);
    va = (7ULL << 30) | (3ULL << 21) | (7ULL << 12);
    pt_map(&c, va, 3, PAGE(0x1000ULL, 0));
    dpa = pt_desc_pa(&c, va, 2);
    fm_set(&c.m, dpa, TABLE(c.cfg.ttb));
    expect_fault(&c, va, A_R, MMN_FAULT_ACCESS_FLAG, 3, c.cfg.ttb + 7 * 8);
    g_assert_cmpuint(c.m.reads, ==, 3);
    ctx_fini(&c);
}

/* Random tables, random configurations, a racer: always a bounded result. */
static void test_random_tables(void)
{
    GRand *rnd = g_rand_new_with_seed(0x5eed);
    int round, i;

    for (round = 0; round < 200; round++) {
        uint64_t pool[8];
        Ctx c;

        ctx_init(&c, 25 + g_rand_int_range(rnd, 0, 24));
        c.cfg.oa_bits = 32 + g_rand_int_range(rnd, 0, 17);
        c.cfg.ha = g_rand_boolean(rnd);
        c.cfg.hd = g_rand_boolean(rnd);
        pool[0] = c.cfg.ttb;
        for (i = 1; i < ARRAY_SIZE(pool); i++) {
            pool[i] = fm_alloc(&c.m);
        }
        for (i = 0; i < ARRAY_SIZE(pool) * 512; i++) {
            uint64_t d = ((uint64_t)g_rand_int(rnd) << 32) | g_rand_int(rnd);

            if (g_rand_int_range(rnd, 0, 4)) {   /* mostly into the pool */
                d = (d & ~MMN_PTE_ADDR_MASK) |
                    pool[g_rand_int_range(rnd, 0, ARRAY_SIZE(pool))];
            }
            fm_set(&c.m, pool[i / 512] + (i % 512) * 8, d);
        }
        c.m.race_left = g_rand_int_range(rnd, -1, 3);
        c.m.race_xor = (uint64_t)g_rand_int(rnd) << g_rand_int_range(rnd, 0,
                                                                      33);
        for (i = 0; i < 200; i++) {
            uint64_t va = (((uint64_t)g_rand_int(rnd) << 32) | g_rand_int(rnd))
                          & ((1ULL << c.cfg.va_bits) - 1);
            MmnTranslation tr;
            MmnFault f;
            MmnFaultKind k = ctx_walk(&c, va, g_rand_int_range(rnd, 0, 8),
                                      &tr, &f);

            if (k == MMN_FAULT_NONE || k == MMN_FAULT_PERMISSION) {
                g_assert_cmpuint(tr.level, >=, 1);
                g_assert_cmpuint(tr.level, <=, 3);
                g_assert_cmphex(tr.size, ==, 1ULL << t_shift(tr.level));
                g_assert_cmphex(tr.va, ==, va & ~(tr.size - 1));
                g_assert_cmphex(tr.pa & (tr.size - 1), ==, 0);
                g_assert_cmphex(tr.pa >> c.cfg.oa_bits, ==, 0);
                g_assert_true(tr.af);
            } else {
                g_assert_cmpint(k, <=, MMN_FAULT_WALK_ABORT);
                g_assert_cmpuint(f.level, >=, t_start_level(c.cfg.va_bits));
                g_assert_cmpuint(f.level, <=, 3);
            }
        }
        ctx_fini(&c);
    }
    g_rand_free(rnd);
}

/* --- Linux arm64 encodings ---------------------------------------------- */

static void test_linux_ptes(void)
{
    Ctx c;
    MmnTranslation tr;
    MmnFault f;

    ctx_init(&c, 48);
    pt_map(&c, 0x1000, 3, L_PAGE_SHARED | 0x8000ULL);
    pt_map(&c, 0x2000, 3, L_PAGE_SHARED_DIRTY | 0x9000ULL);
    pt_map(&c, 0x3000, 3, L_PAGE_READONLY | 0xa000ULL);
    pt_map(&c, 0x4000, 3, L_PAGE_READONLY_EXEC | 0xb000ULL);
    pt_map(&c, 0x5000, 3, L_PAGE_KERNEL | 0xc000ULL);
    pt_map(&c, 0x6000, 3, (L_PAGE_SHARED_DIRTY & ~L_PTE_AF) | 0xd000ULL);

    /* writable-clean: readable by EL0, a write faults without HD */
    expect_ok(&c, 0x1000, A_U, &tr);
    g_assert_cmphex(tr.perm, ==, MMN_PERM_USER | MMN_PERM_DBM |
                    MMN_PERM_UXN | MMN_PERM_PXN);
    g_assert_cmpint(ctx_walk(&c, 0x1000, A_U | A_W, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    g_assert_cmpint(ctx_walk(&c, 0x1000, A_U | A_X, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    /* writable-dirty */
    expect_ok(&c, 0x2000, A_U | A_W, &tr);
    g_assert_cmphex(tr.perm, ==, MMN_PERM_W | MMN_PERM_USER | MMN_PERM_DBM |
                    MMN_PERM_UXN | MMN_PERM_PXN);
    g_assert_true(tr.dirty);
    /* read-only */
    expect_ok(&c, 0x3000, A_U, &tr);
    g_assert_cmphex(tr.perm, ==, MMN_PERM_USER | MMN_PERM_UXN | MMN_PERM_PXN);
    g_assert_cmpint(ctx_walk(&c, 0x3000, A_U | A_W, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    /* user text */
    expect_ok(&c, 0x4000, A_U | A_X, &tr);
    g_assert_cmpint(ctx_walk(&c, 0x4000, A_X, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    /* kernel data: not for EL0 */
    expect_ok(&c, 0x5000, A_W, &tr);
    g_assert_cmpint(ctx_walk(&c, 0x5000, A_U, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    /* old (pte_mkold) */
    expect_fault(&c, 0x6000, A_U, MMN_FAULT_ACCESS_FLAG, 3,
                 pt_desc_pa(&c, 0x6000, 3));
    /* with HTTU, as a CPU with FEAT_HAFDBS */
    c.cfg.ha = c.cfg.hd = true;
    expect_ok(&c, 0x1000, A_U | A_W, &tr);
    g_assert_cmphex(fm_get(&c.m, pt_desc_pa(&c, 0x1000, 3)), ==,
                    (L_PAGE_SHARED_DIRTY & ~L_PTE_DIRTY) | 0x8000ULL);
    expect_ok(&c, 0x6000, A_U, &tr);
    g_assert_cmphex(fm_get(&c.m, pt_desc_pa(&c, 0x6000, 3)), ==,
                    L_PAGE_SHARED_DIRTY | 0xd000ULL);
    ctx_fini(&c);
}

/* --- mmn_translation_check, names --------------------------------------- */

static void test_translation_check(void)
{
    static const struct {
        uint8_t perm;
        unsigned flags;
        MmnFaultKind want;
    } cases[] = {
        { 0, A_R, MMN_FAULT_NONE },
        { 0, A_W, MMN_FAULT_PERMISSION },
        { MMN_PERM_DBM, A_W, MMN_FAULT_PERMISSION },
        { MMN_PERM_W, A_W, MMN_FAULT_NONE },
        { MMN_PERM_W, A_U, MMN_FAULT_PERMISSION },
        { MMN_PERM_W | MMN_PERM_USER, A_U | A_W, MMN_FAULT_NONE },
        { MMN_PERM_USER, A_U | A_W, MMN_FAULT_PERMISSION },
        { MMN_PERM_USER | MMN_PERM_UXN, A_U | A_X, MMN_FAULT_PERMISSION },
        { MMN_PERM_USER | MMN_PERM_UXN, A_X, MMN_FAULT_NONE },
        { MMN_PERM_USER | MMN_PERM_PXN, A_X, MMN_FAULT_PERMISSION },
        { MMN_PERM_USER | MMN_PERM_PXN, A_U | A_X, MMN_FAULT_NONE },
        { MMN_PERM_UXN | MMN_PERM_PXN, A_R, MMN_FAULT_NONE },
    };
    MmnTranslation tr;
    MmnFault f;
    MmnAccess acc = { .va = 0x1000, .write = true, .unpriv = true };
    Ctx c;
    int i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        MmnTranslation t = { .perm = cases[i].perm, .size = PAGE_SZ };
        MmnAccess a = {
            .va = 0x1234,
            .write = cases[i].flags & A_W,
            .unpriv = cases[i].flags & A_U,
            .exec = cases[i].flags & A_X,
        };

        g_assert_cmpint(mmn_translation_check(&t, &a), ==, cases[i].want);
    }

    /* against what the walker returned: a cached writable-clean entry */
    ctx_init(&c, 48);
    pt_map(&c, 0x1000, 3, L_PAGE_SHARED | 0x8000ULL);
    g_assert_cmpint(ctx_walk(&c, 0x1000, A_U | A_W, &tr, &f), ==,
                    MMN_FAULT_PERMISSION);
    g_assert_cmpint(mmn_translation_check(&tr, &acc), ==,
                    MMN_FAULT_PERMISSION);
    acc.write = false;
    g_assert_cmpint(mmn_translation_check(&tr, &acc), ==, MMN_FAULT_NONE);
    /* after an HD walk made it dirty, the refreshed entry allows writes */
    c.cfg.ha = c.cfg.hd = true;
    expect_ok(&c, 0x1000, A_U | A_W, &tr);
    acc.write = true;
    g_assert_cmpint(mmn_translation_check(&tr, &acc), ==, MMN_FAULT_NONE);
    ctx_fini(&c);
}

static void test_fault_names(void)
{
    const char *names[MMN_FAULT_EXTERNAL + 1];
    int i, j;

    for (i = 0; i <= MMN_FAULT_EXTERNAL; i++) {
        names[i] = mmn_fault_kind_name(i);
        g_assert_nonnull(names[i]);
        g_assert_cmpstr(names[i], !=, "unknown");
        for (j = 0; j < i; j++) {
            g_assert_cmpstr(names[i], !=, names[j]);
        }
    }
    g_assert_cmpstr(mmn_fault_kind_name(MMN_FAULT_PERMISSION), ==,
                    "permission");
    g_assert_cmpstr(mmn_fault_kind_name(MMN_FAULT_EXTERNAL), ==, "external");
    g_assert_cmpstr(mmn_fault_kind_name(99), ==, "unknown");
}


int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/mmn-smmu/walker/page/48", test_page_48);
    g_test_add_func("/mmn-smmu/walker/page/39", test_page_39);
    g_test_add_func("/mmn-smmu/walker/start-levels", test_start_levels);
    g_test_add_func("/mmn-smmu/walker/va-bits-invalid", test_va_bits_invalid);
    g_test_add_func("/mmn-smmu/walker/ttb-low-bits", test_ttb_low_bits);
    g_test_add_func("/mmn-smmu/walker/blocks", test_blocks);
    g_test_add_func("/mmn-smmu/walker/reserved", test_reserved);
    g_test_add_func("/mmn-smmu/walker/invalid-each-level",
                    test_invalid_each_level);
    g_test_add_func("/mmn-smmu/walker/oa-size", test_oa_size);
    g_test_add_func("/mmn-smmu/walker/access-flag", test_access_flag);
    g_test_add_func("/mmn-smmu/walker/perm/ap-rdonly", test_ap_rdonly);
    g_test_add_func("/mmn-smmu/walker/perm/ap-user", test_ap_user);
    g_test_add_func("/mmn-smmu/walker/perm/aptable", test_aptable);
    g_test_add_func("/mmn-smmu/walker/perm/xn", test_xn);
    g_test_add_func("/mmn-smmu/walker/hostile/not-in-ram",
                    test_tables_not_in_ram);
    g_test_add_func("/mmn-smmu/walker/hostile/self-reference",
                    test_self_reference);
    g_test_add_func("/mmn-smmu/walker/hostile/random", test_random_tables);
    g_test_add_func("/mmn-smmu/walker/linux-ptes", test_linux_ptes);
    g_test_add_func("/mmn-smmu/walker/translation-check",
                    test_translation_check);
    g_test_add_func("/mmn-smmu/walker/fault-names", test_fault_names);
    return g_test_run();
}
