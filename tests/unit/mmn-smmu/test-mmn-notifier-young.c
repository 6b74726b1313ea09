/*
 * Unit tests of the mmn-smmu notifier layer: the young family
 * (clear_flush_young, clear_young, test_young of 6.6, and the unmerged
 * young-bitmap series' test_clear_young with the subscriber-side choice
 * of path).  What the IOTLB does with the bitmap is tested on the IOTLB
 * itself (test-mmn-iotlb-young.c).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-notifier-rec.h"

/* __mmu_notifier_clear_flush_young(): young |= each subscriber, all run */
static void test_young_clear_flush_young(void)
{
    MmnMm *mm = setup();
    Rec a, b, c;

    rec_init(&a, "a", &ops_arch);
    rec_init(&b, "b", &ops_start_end);
    rec_init(&c, "c", &ops_arch);
    b.young = 1;
    c.young = 2;
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&b.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&c.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_clear_flush_young(mm, 0x1000, 0x2000), ==,
                    3);
    g_assert_cmpstr(mlog->str, ==, "c:cfy b:cfy a:cfy ");
    g_assert_cmpuint(a.a, ==, 0x1000);
    g_assert_cmpuint(a.b, ==, 0x2000);
    b.young = c.young = 0;
    g_assert_cmpint(mmn_notifier_clear_flush_young(mm, 0x1000, 0x2000), ==,
                    0);
    mmn_mm_free(mm);
    mmn_notifier_unregister(&a.mn, a.mn.mm);
    mmn_notifier_unregister(&b.mn, b.mn.mm);
    mmn_notifier_unregister(&c.mn, c.mn.mm);
}

/*
 * __mmu_notifier_clear_young(): "young |= ...", no early stop (every one
 * clears): distinct results show that both are OR-ed, including the one
 * walked after a young one.
 */
static void test_young_clear_young(void)
{
    MmnMm *mm = setup();
    Rec a, b;

    rec_init(&a, "a", &ops_arch);
    rec_init(&b, "b", &ops_arch);
    a.young = 1;
    b.young = 2;
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&b.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_clear_young(mm, 0x3000, 0x5000), ==, 3);
    g_assert_cmpstr(mlog->str, ==, "b:cy a:cy ");
    g_assert_cmpuint(a.a, ==, 0x3000);
    g_assert_cmpuint(a.b, ==, 0x5000);
    g_assert_cmpuint(b.b, ==, 0x5000);
    b.young = 0;
    g_assert_cmpint(mmn_notifier_clear_young(mm, 0x3000, 0x5000), ==, 1);
    mmn_mm_free(mm);
    mmn_notifier_unregister(&a.mn, a.mn.mm);
    mmn_notifier_unregister(&b.mn, b.mn.mm);
}

/* __mmu_notifier_test_young(): "if (young) break;" */
static void test_young_test_young_stops(void)
{
    MmnMm *mm = setup();
    Rec a, b, c;

    rec_init(&a, "a", &ops_arch);
    rec_init(&b, "b", &ops_arch);
    rec_init(&c, "c", &ops_arch);
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&b.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&c.mn, mm), ==, 0);
    /* none young: every subscriber is asked */
    g_assert_cmpint(mmn_notifier_test_young(mm, 0x1234), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "c:ty b:ty a:ty ");
    g_assert_cmpuint(a.a, ==, 0x1234);
    /* b young: a (after b in walk order) is not asked */
    log_reset();
    b.young = 1;
    a.young = 1;
    g_assert_cmpint(mmn_notifier_test_young(mm, 0x1234), ==, 1);
    g_assert_cmpstr(mlog->str, ==, "c:ty b:ty ");
    mmn_mm_free(mm);
    mmn_notifier_unregister(&a.mn, a.mn.mm);
    mmn_notifier_unregister(&b.mn, b.mn.mm);
    mmn_notifier_unregister(&c.mn, c.mn.mm);
}

/*
 * The young-bitmap series: mmu_notifier_clear_young() =
 * __mmu_notifier_test_clear_young(start, end, true, NULL) and
 * mmu_notifier_test_young(addr) = __mmu_notifier_test_clear_young(addr,
 * addr + 1, false, NULL).  A subscriber with only test_clear_young gets
 * those; one with the 6.6 ops gets its own.
 */
static void test_young_series_routing(void)
{
    MmnMm *mm = setup();
    Rec old, tcy;

    rec_init(&old, "old", &ops_arch);
    rec_init(&tcy, "tcy", &ops_tcy);
    g_assert_cmpint(mmn_notifier_register(&old.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&tcy.mn, mm), ==, 0);
    tcy.young = MMN_NOTIFIER_RANGE_YOUNG;
    g_assert_cmpint(mmn_notifier_clear_young(mm, 0x1000, 0x3000), ==,
                    MMN_NOTIFIER_RANGE_YOUNG);
    g_assert_cmpstr(mlog->str, ==, "tcy:tcy(clear) old:cy ");
    g_assert_cmpuint(tcy.a, ==, 0x1000);
    g_assert_cmpuint(tcy.b, ==, 0x3000);
    g_assert_null(tcy.bitmap);
    log_reset();
    g_assert_cmpint(mmn_notifier_test_young(mm, 0x5000), ==,
                    MMN_NOTIFIER_RANGE_YOUNG);
    g_assert_cmpstr(mlog->str, ==, "tcy:tcy(test) ");
    g_assert_cmpuint(tcy.a, ==, 0x5000);
    g_assert_cmpuint(tcy.b, ==, 0x5001);
    g_assert_false(tcy.clear);
    /* clear_flush_young has no route to test_clear_young: only the op */
    log_reset();
    g_assert_cmpint(mmn_notifier_clear_flush_young(mm, 0x1000, 0x2000), ==,
                    0);
    g_assert_cmpstr(mlog->str, ==, "old:cfy ");
    mmn_mm_free(mm);
    mmn_notifier_unregister(&old.mn, old.mn.mm);
    mmn_notifier_unregister(&tcy.mn, tcy.mn.mm);
}

/*
 * The series' __mmu_notifier_test_clear_young(): young |= each, stopping
 * early when young && !clear; a clear visits everyone; the bitmap is
 * passed through.
 */
static void test_young_test_clear_young_walk(void)
{
    MmnMm *mm = setup();
    unsigned long bitmap[1] = { 0 };
    Rec a, b, c;

    rec_init(&a, "a", &ops_tcy);
    rec_init(&b, "b", &ops_tcy);
    rec_init(&c, "c", &ops_arch);     /* no test_clear_young: not called */
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&b.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&c.mn, mm), ==, 0);
    b.young = MMN_NOTIFIER_RANGE_LOCKLESS;
    a.young = MMN_NOTIFIER_RANGE_YOUNG;
    g_assert_cmpint(mmn_notifier_test_clear_young(mm, 0, 0x8000, false,
                                                  bitmap),
                    ==, MMN_NOTIFIER_RANGE_LOCKLESS);
    g_assert_cmpstr(mlog->str, ==, "b:tcy(test) ");
    g_assert(b.bitmap == bitmap);
    log_reset();
    g_assert_cmpint(mmn_notifier_test_clear_young(mm, 0, 0x8000, true,
                                                  bitmap),
                    ==, MMN_NOTIFIER_RANGE_LOCKLESS | MMN_NOTIFIER_RANGE_YOUNG);
    g_assert_cmpstr(mlog->str, ==, "b:tcy(clear) a:tcy(clear) ");
    g_assert_true(a.clear);
    log_reset();
    b.young = 0;
    g_assert_cmpint(mmn_notifier_test_clear_young(mm, 0, 0x8000, false,
                                                  NULL),
                    ==, MMN_NOTIFIER_RANGE_YOUNG);
    g_assert_cmpstr(mlog->str, ==, "b:tcy(test) a:tcy(test) ");
    g_assert_null(a.bitmap);
    mmn_mm_free(mm);
    mmn_notifier_unregister(&a.mn, a.mn.mm);
    mmn_notifier_unregister(&b.mn, b.mn.mm);
    mmn_notifier_unregister(&c.mn, c.mn.mm);
}

/*
 * Paths that answer as told and record what they were given: the test is
 * of mmn_test_clear_young_paths(), not of a bitmap implementation.
 */
typedef struct Paths {
    MmnNotifier mn;
    bool fast_decides, fast_young, slow_young;
    unsigned fast_calls, slow_calls;
    uint64_t start, end;
    bool clear;
    unsigned long *bitmap;
} Paths;

static bool paths_fast(void *opaque, uint64_t start, uint64_t end,
                       bool clear, unsigned long *bitmap, bool *young)
{
    Paths *p = opaque;

    p->fast_calls++;
    p->start = start;
    p->end = end;
    p->clear = clear;
    p->bitmap = bitmap;
    if (!p->fast_decides) {
        return false;
    }
    *young = p->fast_young;
    return true;
}

static bool paths_slow(void *opaque, uint64_t start, uint64_t end,
                       bool clear)
{
    Paths *p = opaque;

    p->slow_calls++;
    p->start = start;
    p->end = end;
    p->clear = clear;
    return p->slow_young;
}

static const MmnYoungPaths both_paths = {
    .fast = paths_fast,
    .slow = paths_slow,
};

static const MmnYoungPaths fast_only = {
    .fast = paths_fast,
};

static const MmnYoungPaths slow_only = {
    .slow = paths_slow,
};

static int paths_test_clear_young(MmnNotifier *mn, MmnMm *mm,
                                  uint64_t start, uint64_t end, bool clear,
                                  unsigned long *bitmap)
{
    Paths *p = container_of(mn, Paths, mn);

    return mmn_test_clear_young_paths(&both_paths, p, start, end, clear,
                                      bitmap);
}

static const MmnNotifierOps ops_paths = {
    .test_clear_young = paths_test_clear_young,
};

/*
 * The series' mmu_notifier_test_clear_young(): "returns nonzero if any of
 * the KVM PTEs within a given range was young:
 * MMU_NOTIFIER_RANGE_LOCKLESS if the fast path was successful,
 * MMU_NOTIFIER_RANGE_YOUNG otherwise.  The last parameter to the function
 * is a bitmap and only the fast path supports it: if it is NULL, the
 * function falls back to the slow path if the fast path was unsuccessful;
 * otherwise, the function bails out."  And the bit numbering: "the offset
 * corresponding to addr should be (end-addr)/PAGE_SIZE-1".
 */
static void test_young_paths(void)
{
    unsigned long bitmap[1] = { 0 };
    uint64_t end = 8 * MMN_PAGE_SIZE;
    Paths p = { .mn.ops = &ops_paths };
    MmnMm *mm = setup();

    /* the bit numbering */
    g_assert_cmpuint(mmn_young_bitmap_bit(end, end - MMN_PAGE_SIZE), ==, 0);
    g_assert_cmpuint(mmn_young_bitmap_bit(end, 0), ==, 7);
    g_assert_cmpuint(mmn_young_bitmap_bit(0x10000, 0xd000), ==, 2);
    g_assert_cmpuint(mmn_young_bitmap_nbits(0, end), ==, 8);
    g_assert_cmpuint(mmn_young_bitmap_nbits(0x3000, 0x5000), ==, 2);

    /* the fast path decides: LOCKLESS or 0, never the slow path */
    p.fast_decides = p.fast_young = p.slow_young = true;
    g_assert_cmpint(mmn_test_clear_young_paths(&both_paths, &p, 0x1000, end,
                                               true, bitmap), ==,
                    MMN_NOTIFIER_RANGE_LOCKLESS);
    g_assert(p.bitmap == bitmap && p.clear);
    g_assert_cmpuint(p.start, ==, 0x1000);
    g_assert_cmpuint(p.end, ==, end);
    p.fast_young = false;
    g_assert_cmpint(mmn_test_clear_young_paths(&both_paths, &p, 0, end,
                                               false, NULL), ==, 0);
    g_assert_cmpuint(p.slow_calls, ==, 0);

    /* the fast path cannot decide, a bitmap: bail out, 0 */
    p.fast_decides = false;
    g_assert_cmpint(mmn_test_clear_young_paths(&both_paths, &p, 0, end,
                                               false, bitmap), ==, 0);
    g_assert_cmpint(mmn_test_clear_young_paths(&both_paths, &p, 0, end,
                                               true, bitmap), ==, 0);
    g_assert_cmpuint(p.slow_calls, ==, 0);
    g_assert_cmpuint(p.fast_calls, ==, 4);

    /* ... no bitmap: the slow path, YOUNG or 0, with the clear flag */
    g_assert_cmpint(mmn_test_clear_young_paths(&both_paths, &p, 0, end,
                                               true, NULL), ==,
                    MMN_NOTIFIER_RANGE_YOUNG);
    g_assert_cmpuint(p.slow_calls, ==, 1);
    g_assert_true(p.clear);
    p.slow_young = false;
    g_assert_cmpint(mmn_test_clear_young_paths(&both_paths, &p, 0, end,
                                               false, NULL), ==, 0);
    g_assert_cmpuint(p.slow_calls, ==, 2);
    g_assert_false(p.clear);

    /* no slow path: 0; no fast path: the slow path, never with a bitmap */
    p.slow_young = true;
    g_assert_cmpint(mmn_test_clear_young_paths(&fast_only, &p, 0, end,
                                               false, NULL), ==, 0);
    g_assert_cmpint(mmn_test_clear_young_paths(&slow_only, &p, 0, end,
                                               false, NULL), ==,
                    MMN_NOTIFIER_RANGE_YOUNG);
    g_assert_cmpint(mmn_test_clear_young_paths(&slow_only, &p, 0, end,
                                               false, bitmap), ==, 0);
    g_assert_cmpuint(p.slow_calls, ==, 3);

    /* through the layer: the subscriber's answer is the call's */
    g_assert_cmpint(mmn_notifier_register(&p.mn, mm), ==, 0);
    p.fast_decides = p.fast_young = true;
    g_assert_cmpint(mmn_notifier_test_clear_young(mm, 0, end, true, bitmap),
                    ==, MMN_NOTIFIER_RANGE_LOCKLESS);
    g_assert(p.bitmap == bitmap);
    p.fast_decides = false;
    g_assert_cmpint(mmn_notifier_test_clear_young(mm, 0, end, false, bitmap),
                    ==, 0);
    g_assert_cmpint(mmn_notifier_clear_young(mm, 0, end), ==,
                    MMN_NOTIFIER_RANGE_YOUNG);
    g_assert_cmpint(mmn_notifier_unregister(&p.mn, mm), ==, 0);
    mmn_mm_free(mm);
}

int main(int argc, char **argv)
{
    rec_test_init(&argc, &argv);

    g_test_add_func("/mmn-notifier/young/clear-flush-young-ored-all-called",
                    test_young_clear_flush_young);
    g_test_add_func("/mmn-notifier/young/clear-young-ored-all-called",
                    test_young_clear_young);
    g_test_add_func("/mmn-notifier/young/test-young-stops-at-first-young",
                    test_young_test_young_stops);
    g_test_add_func("/mmn-notifier/young/series-clear-young-test-young-via-"
                    "test-clear-young", test_young_series_routing);
    g_test_add_func("/mmn-notifier/young/test-clear-young-ored-stops-when-"
                    "young-and-not-clear", test_young_test_clear_young_walk);
    g_test_add_func("/mmn-notifier/young/test-clear-young-paths-lockless-"
                    "young-no-fallback-with-bitmap", test_young_paths);
    return g_test_run();
}
