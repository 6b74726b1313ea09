/*
 * Unit tests of the mmn-smmu notifier layer: the Linux <= 6.5 generation
 * (legacy mode, mmn_mm_set_legacy_invalidate_range()), where the op now
 * named arch_invalidate_secondary_tlbs was invalidate_range, a
 * subscription could have it together with invalidate_range_start/end,
 * and invalidate_range_end() called it too.  Checked against Debian's
 * linux-source-6.1 (6.1.192) mm/mmu_notifier.c.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-notifier-rec.h"

/*
 * Linux <= 6.5 __mmu_notifier_register() did not refuse invalidate_range
 * together with invalidate_range_start/end (KVM registered all three):
 * legacy mode accepts both kinds.
 */
static void test_register_legacy_allows_both(void)
{
    MmnMm *mm = setup();
    Rec r;

    g_assert_true(mmn_mm_set_legacy_invalidate_range(mm, true));
    g_assert_true(mmn_mm_legacy_invalidate_range(mm));
    rec_init(&r, "both", &ops_both);
    g_assert_cmpint(mmn_notifier_register(&r.mn, mm), ==, 0);
    g_assert_cmpint(mmn_mm_nr_subscriptions(mm), ==, 1);
    /* The generation cannot change under a subscription. */
    g_assert_false(mmn_mm_set_legacy_invalidate_range(mm, false));
    g_assert_true(mmn_mm_legacy_invalidate_range(mm));
    g_assert_cmpint(mmn_notifier_unregister(&r.mn, mm), ==, 0);
    g_assert_true(mmn_mm_set_legacy_invalidate_range(mm, false));
    mmn_mm_free(mm);
}

/*
 * Linux <= 6.5 mn_hlist_invalidate_end(range, only_end): "Call
 * invalidate_range here too" before invalidate_range_end, "We skip call
 * to invalidate_range() if ... call site use
 * mmu_notifier_invalidate_range_only_end()".
 */
static void test_range_end_legacy_invalidate_range(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange range;
    Rec arch, both;

    g_assert_true(mmn_mm_set_legacy_invalidate_range(mm, true));
    rec_init(&arch, "arch", &ops_arch);
    rec_init(&both, "both", &ops_both);
    g_assert_cmpint(mmn_notifier_register(&arch.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&both.mn, mm), ==, 0);
    range_init(&range, mm, MMN_NOTIFY_PROTECTION_PAGE, BLK, 0x4000, 0x8000);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, 0);
    g_assert_cmpstr(mlog->str, ==,
                    "both:start both:arch both:end arch:arch ");
    g_assert_cmpuint(arch.a, ==, 0x4000);
    g_assert_cmpuint(arch.b, ==, 0x8000);
    log_reset();
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_only_end(&range), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "both:start both:end ");
    mmn_mm_free(mm);
    mmn_notifier_unregister(&arch.mn, arch.mn.mm);
    mmn_notifier_unregister(&both.mn, both.mn.mm);
}


/*
 * 6.1 mn_hlist_invalidate_end() calls invalidate_range of every hashed
 * subscription ("if (!only_end && subscription->ops->invalidate_range)",
 * no other condition).  A subscription registered after the start (Linux's
 * mm_take_all_locks() rules that out, a guest does not) gets it too: it
 * may have cached entries of the range since it registered, and 6.1's SMMU
 * SVA (invalidate_range only) depends on this flush.  Its
 * invalidate_range_end would be unpaired, so it gets none; only_end skips
 * invalidate_range for everyone.
 */
static void test_legacy_end_reaches_late_subscription(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange range;
    Rec old, late_arch, late_both, later;

    g_assert_true(mmn_mm_set_legacy_invalidate_range(mm, true));
    rec_init(&old, "old", &ops_both);
    rec_init(&late_arch, "late-arch", &ops_arch);
    rec_init(&late_both, "late-both", &ops_both);
    rec_init(&later, "later", &ops_arch);
    g_assert_cmpint(mmn_notifier_register(&old.mn, mm), ==, 0);
    range_init(&range, mm, MMN_NOTIFY_CLEAR, BLK, 0x4000, 0x6000);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&late_arch.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&late_both.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "old:start late-both:arch late-arch:arch "
                    "old:arch old:end ");
    g_assert_cmpuint(late_arch.a, ==, 0x4000);
    g_assert_cmpuint(late_arch.b, ==, 0x6000);
    g_assert_cmpuint(late_both.a, ==, 0x4000);

    /* only_end: no invalidate_range for anyone, late or not */
    log_reset();
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&later.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_only_end(&range), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "late-both:start old:start "
                    "late-both:end old:end ");
    g_assert_cmpuint(mmn_mm_misuse_count(mm), ==, 0);
    mmn_mm_free(mm);
    mmn_notifier_unregister(&old.mn, old.mn.mm);
    mmn_notifier_unregister(&late_arch.mn, late_arch.mn.mm);
    mmn_notifier_unregister(&late_both.mn, late_both.mn.mm);
    mmn_notifier_unregister(&later.mn, later.mn.mm);
}

/*
 * 6.1 mn_hlist_invalidate_range_start(), non-blockable, one start failing
 * with -EAGAIN: the error path calls invalidate_range_end of every
 * subscription that has one ("any that succeeded start are expecting
 * their end to be called.  Do so now.") and never invalidate_range.  The
 * range is not open: neither end nor only_end may follow, so no
 * invalidate_range comes later either.
 */
static void test_legacy_nonblock_failure(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange range;
    Rec both, fail, arch;

    g_assert_true(mmn_mm_set_legacy_invalidate_range(mm, true));
    rec_init(&both, "both", &ops_both);
    rec_init(&fail, "fail", &ops_start_only);
    rec_init(&arch, "arch", &ops_arch);
    fail.start_ret = -EAGAIN;
    g_assert_cmpint(mmn_notifier_register(&both.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&fail.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&arch.mn, mm), ==, 0);
    range_init(&range, mm, MMN_NOTIFY_UNMAP, 0, 0x1000, 0x3000);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==,
                    -EAGAIN);
    g_assert_cmpstr(mlog->str, ==, "fail:start-fail both:start both:end ");
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, -ENOENT);
    g_assert_cmpint(mmn_notifier_invalidate_range_only_end(&range), ==,
                    -ENOENT);
    g_assert_cmpstr(mlog->str, ==, "fail:start-fail both:start both:end ");
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 0);
    g_assert_cmpuint(mmn_mm_misuse_count(mm), ==, 2);

    /* the retry succeeds and ends as 6.1 does */
    log_reset();
    fail.start_ret = 0;
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "fail:start both:start arch:arch "
                    "both:arch both:end ");
    mmn_mm_free(mm);
    mmn_notifier_unregister(&both.mn, both.mn.mm);
    mmn_notifier_unregister(&fail.mn, fail.mn.mm);
    mmn_notifier_unregister(&arch.mn, arch.mn.mm);
}

int main(int argc, char **argv)
{
    rec_test_init(&argc, &argv);

    g_test_add_func("/mmn-notifier/register/legacy-allows-invalidate-range-"
                    "with-start-end", test_register_legacy_allows_both);
    g_test_add_func("/mmn-notifier/range/v6.1-end-calls-invalidate-range-"
                    "unless-only-end", test_range_end_legacy_invalidate_range);
    g_test_add_func("/mmn-notifier/legacy/end-invalidate-range-reaches-"
                    "subscription-registered-after-start",
                    test_legacy_end_reaches_late_subscription);
    g_test_add_func("/mmn-notifier/legacy/nonblock-failure-calls-ends-not-"
                    "invalidate-range", test_legacy_nonblock_failure);
    return g_test_run();
}
