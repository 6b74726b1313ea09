/*
 * mmn-smmu IOTLB unit tests: the IOTLB as a subscriber of the young
 * family (clear_flush_young, clear_young, test_young, and the unmerged
 * young-bitmap series' test_clear_young with its bitmap), on real cached
 * entries: a device access sets the entry's shadow young bit.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "mmn-iotlb-env.h"

/*
 * Young family.  A device access sets the shadow young bit.
 * clear_young: test and clear, no flush (entries stay).  test_young: test
 * only.  clear_flush_young: test, clear and flush: the entries go, so the
 * next device access walks the CPU tables again (sets AF there with HA).
 */
static void test_young_family(void)
{
    Env e;
    bool young;
    int i;

    env_init(&e, 64);
    for (i = 0; i < 3; i++) {
        map(&e, VA0 + i * PG, PA0 + i * PG, 3, RW);
        g_assert_cmpint(xl(&e, VA0 + i * PG, false), ==, MMN_XLATE_OK);
    }
    g_assert_nonnull(cached(&e, VA0, &young));
    g_assert_true(young);

    /* test_young does not clear */
    g_assert_cmpint(mmn_notifier_test_young(e.mm, VA0 + PG), ==, 1);
    g_assert_cmpint(mmn_notifier_test_young(e.mm, VA0 + PG), ==, 1);
    g_assert_cmpint(mmn_notifier_test_young(e.mm, VA0 + 9 * PG), ==, 0);

    /* clear_young clears and keeps the entry */
    g_assert_cmpint(mmn_notifier_clear_young(e.mm, VA0, VA0 + 2 * PG), !=,
                    0);
    g_assert_cmpint(mmn_notifier_clear_young(e.mm, VA0, VA0 + 2 * PG), ==,
                    0);
    g_assert_nonnull(cached(&e, VA0, &young));
    g_assert_false(young);
    g_assert_cmpint(mmn_notifier_test_young(e.mm, VA0 + PG), ==, 0);
    g_assert_cmpint(mmn_notifier_test_young(e.mm, VA0 + 2 * PG), ==, 1);
    g_assert_cmpuint(stats(&e).young_cleared, ==, 2);

    /* an access through the entry makes it young again */
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);
    g_assert_true(e.from_cache);
    g_assert_cmpint(mmn_notifier_test_young(e.mm, VA0), ==, 1);

    /* clear_flush_young: old range -> 0, but flushed all the same */
    g_assert_cmpint(mmn_notifier_clear_flush_young(e.mm, VA0 + PG,
                                                   VA0 + 2 * PG), ==, 0);
    g_assert_null(cached(&e, VA0 + PG, NULL));
    g_assert_cmpint(mmn_notifier_clear_flush_young(e.mm, VA0,
                                                   VA0 + 3 * PG), !=, 0);
    g_assert_cmpuint(mmn_iotlb_ctx_count(e.c), ==, 0);
    g_assert_cmpuint(stats(&e).inv_entries[MMN_IOTLB_INV_YOUNG_UNMAP], ==,
                     3);

    /* with HA the walk after the flush sets AF in the CPU PTE again */
    e.cfg.ha = true;
    mmn_fake_mem_set(&e.mem, leaf_pa(&e, VA0),
                     mmn_fake_mem_get(&e.mem, leaf_pa(&e, VA0)) &
                     ~MMN_PTE_AF);
    g_assert_cmpint(xl(&e, VA0, false), ==, MMN_XLATE_OK);
    g_assert_true(mmn_fake_mem_get(&e.mem, leaf_pa(&e, VA0)) & MMN_PTE_AF);
    env_destroy(&e);
}

/*
 * The young-bitmap series' mmu_notifier_test_clear_young() on the IOTLB:
 * "the offset corresponding to addr should be (end-addr)/PAGE_SIZE-1";
 * "When testing, this function sets the corresponding bit in the bitmap
 * for each young KVM PTE.  When clearing, this function clears the
 * accessed bit for each young KVM PTE whose corresponding bit in the
 * bitmap is set"; and it "returns nonzero if any of the KVM PTEs within a
 * given range was young", in clear mode too: a young page whose bit is
 * not set is reported, and stays young.  The IOTLB's fast path always
 * decides: a young result is MMN_NOTIFIER_RANGE_LOCKLESS.  A block has one
 * young bit for all its pages.
 */
static void test_test_clear_young_bitmap(void)
{
    Env e;
    unsigned long bm[2];
    uint64_t end = VA0 + 8 * PG;
    uint64_t bva = VA0 + 2 * MiB2;
    int i;

    env_init(&e, 64);
    for (i = 0; i < 8; i++) {
        map(&e, VA0 + i * PG, PA0 + i * PG, 3, RW);
    }
    for (i = 0; i < 8; i++) {
        if (i == 0 || i == 2 || i == 3 || i == 5) {
            g_assert_cmpint(xl(&e, VA0 + i * PG, false), ==, MMN_XLATE_OK);
        }
    }
    /* page 3 cached but old */
    mmn_notifier_clear_young(e.mm, VA0 + 3 * PG, VA0 + 4 * PG);

    memset(bm, 0, sizeof(bm));
    g_assert_cmpint(mmn_notifier_test_clear_young(e.mm, VA0, end, false, bm),
                    ==, MMN_NOTIFIER_RANGE_LOCKLESS);
    /* pages 0, 2, 5 -> bits 7, 5, 2 */
    g_assert_cmphex(bm[0], ==, (1ul << 7) | (1ul << 5) | (1ul << 2));
    g_assert_cmpuint(mmn_young_bitmap_bit(end, VA0 + 2 * PG), ==, 5);

    /* clear only page 2's bit */
    memset(bm, 0, sizeof(bm));
    set_bit(5, bm);
    g_assert_cmpint(mmn_notifier_test_clear_young(e.mm, VA0, end, true, bm),
                    ==, MMN_NOTIFIER_RANGE_LOCKLESS);
    memset(bm, 0, sizeof(bm));
    mmn_notifier_test_clear_young(e.mm, VA0, end, false, bm);
    g_assert_cmphex(bm[0], ==, (1ul << 7) | (1ul << 2));

    /*
     * a selection holding no young page clears nothing, but the range
     * holds young pages (0 and 5): young all the same
     */
    memset(bm, 0, sizeof(bm));
    set_bit(4, bm);                                 /* page 3: old */
    g_assert_cmpint(mmn_notifier_test_clear_young(e.mm, VA0, end, true, bm),
                    ==, MMN_NOTIFIER_RANGE_LOCKLESS);
    g_assert_cmphex(bm[0], ==, 1ul << 4);           /* not written */
    memset(bm, 0, sizeof(bm));
    mmn_notifier_test_clear_young(e.mm, VA0, end, false, bm);
    g_assert_cmphex(bm[0], ==, (1ul << 7) | (1ul << 2));
    /* page 5 alone, young, its bit clear: reported, kept */
    memset(bm, 0, sizeof(bm));
    g_assert_cmpint(mmn_notifier_test_clear_young(e.mm, VA0 + 5 * PG,
                                                  VA0 + 6 * PG, true, bm),
                    ==, MMN_NOTIFIER_RANGE_LOCKLESS);
    g_assert_cmpint(mmn_notifier_test_young(e.mm, VA0 + 5 * PG), ==, 1);

    /* without a bitmap, clear all */
    g_assert_cmpint(mmn_notifier_test_clear_young(e.mm, VA0, end, true,
                                                  NULL), ==,
                    MMN_NOTIFIER_RANGE_LOCKLESS);
    memset(bm, 0, sizeof(bm));
    g_assert_cmpint(mmn_notifier_test_clear_young(e.mm, VA0, end, false, bm),
                    ==, 0);
    g_assert_cmphex(bm[0], ==, 0);
    g_assert_cmpuint(mmn_iotlb_ctx_count(e.c), ==, 4);  /* no flush */
    /* nothing young in range: 0, whatever the selection */
    bm[0] = 0xff;
    g_assert_cmpint(mmn_notifier_test_clear_young(e.mm, VA0, end, true, bm),
                    ==, 0);

    /* a young 2 MiB block sets the bits of every page in range */
    map(&e, bva, PA0 + MiB2, 2, RW);
    g_assert_cmpint(xl(&e, bva + 0x1234, false), ==, MMN_XLATE_OK);
    memset(bm, 0, sizeof(bm));
    g_assert_cmpint(mmn_notifier_test_clear_young(e.mm, bva + 4 * PG,
                                                  bva + 12 * PG, false, bm),
                    ==, MMN_NOTIFIER_RANGE_LOCKLESS);
    g_assert_cmphex(bm[0], ==, 0xff);
    /* cleared when the bit of any of its pages is set, reported if not */
    memset(bm, 0, sizeof(bm));
    g_assert_cmpint(mmn_notifier_test_clear_young(e.mm, bva + 4 * PG,
                                                  bva + 12 * PG, true, bm),
                    ==, MMN_NOTIFIER_RANGE_LOCKLESS);
    g_assert_cmpint(mmn_notifier_test_young(e.mm, bva), ==, 1);
    set_bit(3, bm);
    g_assert_cmpint(mmn_notifier_test_clear_young(e.mm, bva + 4 * PG,
                                                  bva + 12 * PG, true, bm),
                    ==, MMN_NOTIFIER_RANGE_LOCKLESS);
    g_assert_cmpint(mmn_notifier_test_young(e.mm, bva), ==, 0);
    env_destroy(&e);
}


int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/mmn-iotlb/notifier/young-family", test_young_family);
    g_test_add_func("/mmn-iotlb/notifier/test-clear-young-bitmap",
                    test_test_clear_young_bitmap);
    return g_test_run();
}
