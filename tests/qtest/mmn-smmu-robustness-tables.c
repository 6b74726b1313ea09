/*
 * mmn-smmu robustness qtest, the page-table builder: random walks of
 * random descriptors (loops, reserved encodings, tables at MMIO and at
 * the device's BAR) in the arena, and the random DMA VAs and lengths
 * that use them.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-smmu-robustness.h"

/* ---------------------------------------------------------------- */
/* Page tables and DMA                                               */

static unsigned start_level(unsigned va_bits)
{
    return va_bits > 39 ? 0 : va_bits > 30 ? 1 : 2;
}

static unsigned level_shift(unsigned level)
{
    return 12 + 9 * (3 - level);
}

uint64_t tbl_page(unsigned ctx, unsigned i)
{
    return TBL_BASE + ((uint64_t)ctx * TBL_PAGES + i) * PAGE;
}

static uint64_t rnd_attrs(Fuzz *f)
{
    uint64_t a = PTE_ATTR_LO & (rnd64(f) | (chance(f, 85) ? 1 << 10 : 0));

    a |= chance(f, 30) ? rnd64(f) & PTE_ATTR_HI : 0;
    if (chance(f, 60)) {
        a |= 1 << 6;        /* AP[1]: EL0 */
    }
    if (chance(f, 50)) {
        a &= ~(1ULL << 7);  /* writable */
    }
    return a;
}

/*
 * A leaf at @level: a 1 GiB or 2 MiB block, or a page.  The output
 * address is not masked to the block size (the walker ignores the low
 * bits), so that the same descriptor read at another level is still safe.
 */
static uint64_t leaf_desc(Fuzz *f, unsigned level)
{
    return PTE_VALID | (level == 3 ? PTE_TABLE : 0) | pool_oa(f) |
           rnd_attrs(f);
}

/* A good leaf: a page of arena data, accessed, EL0 read/write. */
static uint64_t good_page(Fuzz *f)
{
    return PTE_VALID | PTE_TABLE | (1 << 10) | (1 << 6) |
           (DATA_BASE + (rnd64(f) % DATA_SIZE & ~(PAGE - 1)));
}

/*
 * Build a walk for @va on DMA context @ctx, from the root down: tables
 * (fresh pages, loops back to a page of the walk, or not RAM), leaves,
 * invalid and reserved encodings, raw random bits.  Every address in a
 * descriptor is a table page of @ctx or comes from pool_oa(), never
 * masked to the block size: read at any level it stays safe.  A fresh
 * table page is only ever read at its own level or below.
 * @good: a walk that translates (the driver fixing a fault).  Returns
 * false when @ctx has no table page left.
 */
bool build_walk(Fuzz *f, unsigned ctx, unsigned va_bits, uint64_t va,
                bool good)
{
    uint64_t table = tbl_page(ctx, 0);
    uint64_t path[4];
    unsigned depth = 0;

    for (unsigned l = start_level(va_bits); l <= 3; l++) {
        uint64_t slot = table + ((va >> level_shift(l)) & 511) * 8;
        unsigned idx = (va >> level_shift(l)) & 511;
        unsigned r = good ? (l < 3 ? 0 : 70) : rnd(f, 100);
        uint64_t desc, next;
        unsigned n = 1;

        path[depth++] = table;
        if (r < 60 && l < 3) {
            unsigned where = good ? 0 : rnd(f, 100);

            if (where < 75) {
                if (f->next_tbl >= TBL_PAGES) {
                    return false;
                }
                next = tbl_page(ctx, f->next_tbl++);
                qtest_memset(f->qts, next, 0, PAGE);
            } else if (where < 87) {
                next = path[rnd(f, depth)];         /* a loop */
            } else {
                next = pool_oa_not_ram(f);
            }
            desc = PTE_VALID | PTE_TABLE | next;
            if (!good && chance(f, 15)) {
                desc |= rnd64(f) & (0x1fULL << 59); /* APTable, XNTable */
            }
            qtest_writeq(f->qts, slot, desc);
            if (where >= 75) {
                return true;
            }
            table = next;
            continue;
        }
        if (r < 85) {
            desc = good ? good_page(f) : leaf_desc(f, l);
            if (l == 3 && !good) {
                n = 1 + rnd(f, 8);
            }
        } else if (r < 90) {
            desc = rnd64(f) & ~PTE_VALID;
        } else if (r < 95) {
            desc = leaf_desc(f, l) & ~PTE_TABLE;    /* reserved at L3 */
        } else {
            desc = (rnd64(f) & ~PTE_OA) | (pool_oa(f) & PTE_OA);
        }
        for (unsigned i = 0; i < n && idx + i < 512; i++) {
            qtest_writeq(f->qts, slot + 8 * i, desc);
            desc = chance(f, 70) ? good_page(f) : leaf_desc(f, l);
        }
        return true;
    }
    return true;
}

uint64_t rnd_dma_va(Fuzz *f, unsigned va_bits, uint32_t len)
{
    uint64_t va;

    if (chance(f, 4)) {
        /* outside the input range: a translation fault */
        return chance(f, 50) ? (1ULL << va_bits) + rnd(f, 1 << 20) :
                               0xffff000000000000ULL + rnd64(f) % GIB;
    }
    if (va_bits <= 30) {
        /* no level 1: blocks are 2 MiB at most */
        va = rnd64(f) % (1ULL << va_bits);
        return va + len > (1ULL << va_bits) ?
               (1ULL << va_bits) - MIN(len, 1ULL << va_bits) : va;
    }
    va = (rnd64(f) % (1ULL << (va_bits - 30))) << 30;
    return va + VA_OFF_MIN + rnd64(f) % (VA_OFF_MAX - VA_OFF_MIN);
}

uint32_t rnd_len(Fuzz *f)
{
    switch (rnd(f, 20)) {
    case 0:
        return 0;
    case 1:
        return MMN_DMA_MAX_LEN;
    case 2:
        return MMN_DMA_MAX_LEN + 1 + rnd(f, 4096);
    case 3:
        return g_rand_int(f->rng);
    case 4:
    case 5:
    case 6:
    case 7:
        return 1 + rnd(f, MMN_DMA_MAX_LEN);
    default:
        return 1 + rnd(f, chance(f, 50) ? 64 : 3 * PAGE);
    }
}

