/*
 * Unit tests of the mmn-smmu notifier layer: event names, registration,
 * invalidation ranges (pairing, nesting, the non-blockable failure path,
 * misuse), arch_invalidate_secondary_tlbs and change_pte.  The young
 * family, the get/put and mm lifetime, and the Linux <= 6.5 generation
 * have their own files (test-mmn-notifier-young.c, -lifetime.c,
 * -legacy.c).
 *
 * Each test path names the Linux behaviour it checks; the comment above
 * each test cites the Linux function (mm/mmu_notifier.c of 6.6+ unless
 * said otherwise).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-notifier-rec.h"

/*
 * enum mmu_notifier_event, + MMU_NOTIFY_PROTECTION_UPGRADE ("mmu_notifiers:
 * Notify on pte permission upgrades", unmerged)
 */
static void test_event_names(void)
{
    g_assert_cmpint(MMN_NOTIFY_UNMAP, ==, 0);
    g_assert_cmpint(MMN_NOTIFY_EXCLUSIVE, ==, 7);
    g_assert_cmpint(MMN_NOTIFY_PROTECTION_UPGRADE, ==, 8);
    g_assert_cmpstr(mmn_notify_event_name(MMN_NOTIFY_UNMAP), ==, "UNMAP");
    g_assert_cmpstr(mmn_notify_event_name(MMN_NOTIFY_SOFT_DIRTY), ==,
                    "SOFT_DIRTY");
    g_assert_cmpstr(mmn_notify_event_name(MMN_NOTIFY_PROTECTION_UPGRADE), ==,
                    "PROTECTION_UPGRADE");
    g_assert_cmpstr(mmn_notify_event_name(MMN_NOTIFY__MAX), ==, "INVALID");
}

/*
 * __mmu_notifier_register(): "Subsystems should only register for
 * invalidate_secondary_tlbs() or invalidate_range_start()/end() callbacks,
 * not both." -> WARN_ON_ONCE, -EINVAL.
 */
static void test_register_both_refused(void)
{
    MmnMm *mm = setup();
    Rec r, ok;

    rec_init(&r, "both", &ops_both);
    rec_init(&ok, "ok", &ops_arch);
    g_assert_cmpint(mmn_notifier_register(&r.mn, mm), ==, -EINVAL);
    g_assert_cmpint(mmn_mm_nr_subscriptions(mm), ==, 0);
    g_assert_cmpuint(mmn_mm_misuse_count(mm), ==, 1);
    g_assert_nonnull(strstr(mmn_mm_last_error(mm), "refused"));
    /* Not registered: no callback reaches it, the layer still works. */
    g_assert_cmpint(mmn_notifier_register(&ok.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_arch_invalidate_secondary_tlbs(mm, 0, 4096),
                    ==, 0);
    g_assert_cmpstr(mlog->str, ==, "ok:arch ");
    g_assert_cmpint(mmn_notifier_unregister(&r.mn, mm), ==, -ENOENT);
    g_assert_cmpint(mmn_notifier_unregister(&ok.mn, mm), ==, 0);
    mmn_mm_free(mm);
}

/* __mmu_notifier_register(): hlist_add_head_rcu, newest walked first */
static void test_register_newest_first(void)
{
    MmnMm *mm = setup();
    Rec a, b, c;

    rec_init(&a, "a", &ops_arch);
    rec_init(&b, "b", &ops_arch);
    rec_init(&c, "c", &ops_start_end);
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&b.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&c.mn, mm), ==, 0);
    g_assert_true(mmn_mm_has_notifiers(mm));
    g_assert(a.mn.mm == mm && a.mn.users == 1);
    g_assert_cmpint(mmn_notifier_clear_young(mm, 0, 4096), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "c:cy b:cy a:cy ");
    mmn_mm_free(mm);    /* releases all three (exit_mmap) */
    g_assert_cmpint(mmn_notifier_unregister(&a.mn, a.mn.mm), ==, 0);
    g_assert_cmpint(mmn_notifier_unregister(&b.mn, b.mn.mm), ==, 0);
    g_assert_cmpint(mmn_notifier_unregister(&c.mn, c.mn.mm), ==, 0);
}

/* Linux corrupts its hlist on a double register; we refuse it. */
static void test_register_twice_refused(void)
{
    MmnMm *mm = setup();
    Rec a;

    rec_init(&a, "a", &ops_arch);
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, -EEXIST);
    g_assert_cmpint(mmn_mm_nr_subscriptions(mm), ==, 1);
    g_assert_cmpint(mmn_notifier_change_pte(mm, 0x1000, 0x42), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "a:change_pte ");
    g_assert_cmpint(mmn_notifier_unregister(&a.mn, mm), ==, 0);
    /* Unregistered: it may register again. */
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_unregister(&a.mn, mm), ==, 0);
    mmn_mm_free(mm);
}

/*
 * mmu_notifier_unregister(): "If ->release runs before
 * mmu_notifier_unregister it must be handled" -- unregister delivers
 * ->release when the mm has not; afterwards no callback.
 */
static void test_unregister_delivers_release_once(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange range;
    Rec a;

    rec_init(&a, "a", &ops_start_end);
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_unregister(&a.mn, mm), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "a:release ");
    g_assert_null(a.mn.mm);
    g_assert_cmpuint(mmn_mm_nr_subscriptions(mm), ==, 0);
    range_init(&range, mm, MMN_NOTIFY_UNMAP, BLK, 0, 0x2000);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, 0);
    mmn_mm_free(mm);
    g_assert_cmpstr(mlog->str, ==, "a:release ");
}

/* Misuse: unregistering a subscription that is not registered. */
static void test_unregister_unregistered(void)
{
    MmnMm *mm = setup(), *other = mmn_mm_new();
    Rec a, b;

    rec_init(&a, "a", &ops_arch);
    rec_init(&b, "b", &ops_arch);
    g_assert_cmpint(mmn_notifier_unregister(&a.mn, mm), ==, -ENOENT);
    g_assert_nonnull(strstr(mmn_mm_last_error(mm), "not registered"));
    g_assert_cmpint(mmn_notifier_register(&b.mn, other), ==, 0);
    /* registered, but on another mm */
    g_assert_cmpint(mmn_notifier_unregister(&b.mn, mm), ==, -ENOENT);
    g_assert_cmpuint(mmn_mm_misuse_count(mm), ==, 2);
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_unregister(&a.mn, mm), ==, 0);
    /* twice */
    g_assert_cmpint(mmn_notifier_unregister(&a.mn, mm), ==, -ENOENT);
    g_assert_cmpint(mmn_notifier_unregister(&b.mn, other), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "a:release b:release ");
    mmn_mm_free(mm);
    mmn_mm_free(other);
}

/*
 * mmu_notifier_unregister() after mn_hlist_release(): the subscription
 * is already unhashed, so ->release is not delivered a second time.
 */
static void test_unregister_after_release(void)
{
    MmnMm *mm = setup();
    Rec a;

    rec_init(&a, "a", &ops_arch);
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_release(mm), ==, 0);
    g_assert_cmpint(mmn_notifier_unregister(&a.mn, mm), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "a:release ");
    mmn_mm_free(mm);
    g_assert_cmpstr(mlog->str, ==, "a:release ");
}

/*
 * __mmu_notifier_invalidate_range_start()/_end(): every start/end
 * subscriber sees the range as given (start, end, flags, event, owner),
 * for every event including PROTECTION_UPGRADE.
 */
static void test_range_start_end_fields(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange range;
    Rec a, b;
    int owner;
    unsigned ev;

    rec_init(&a, "a", &ops_start_end);
    rec_init(&b, "b", &ops_arch);
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&b.mn, mm), ==, 0);
    for (ev = 0; ev < MMN_NOTIFY__MAX; ev++) {
        log_reset();
        mmn_notifier_range_init_owner(&range, ev, ev & 1 ? BLK : 0, mm,
                                      0x10000 * ev, 0x10000 * ev + 0x3000,
                                      &owner);
        g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
        g_assert_cmpuint(a.range.start, ==, range.start);
        g_assert_cmpuint(a.range.end, ==, range.end);
        g_assert_cmpuint(a.range.flags, ==, range.flags);
        g_assert_cmpint(a.range.event, ==, ev);
        g_assert(a.range.owner == &owner && a.range.mm == mm);
        memset(&a.range, 0, sizeof(a.range));
        g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, 0);
        g_assert_cmpint(a.range.event, ==, ev);
        g_assert_cmpuint(a.range.end, ==, range.end);
        /* 6.6: the arch subscriber gets nothing from start/end */
        g_assert_cmpstr(mlog->str, ==, "a:start a:end ");
    }
    g_assert_cmpuint(mmn_mm_misuse_count(mm), ==, 0);
    mmn_mm_free(mm);
    mmn_notifier_unregister(&a.mn, a.mn.mm);
    mmn_notifier_unregister(&b.mn, b.mn.mm);
}

/*
 * "the core mm creates nested invalidate_range_start()/end() regions
 * within the same thread" -- nested and overlapping ranges each get
 * their own end, in any order.
 */
static void test_range_nested(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange outer, inner, other;
    Rec a;

    rec_init(&a, "a", &ops_start_end);
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    range_init(&outer, mm, MMN_NOTIFY_UNMAP, BLK, 0, 0x10000);
    range_init(&inner, mm, MMN_NOTIFY_CLEAR, BLK, 0x1000, 0x2000);
    range_init(&other, mm, MMN_NOTIFY_CLEAR, BLK, 0x8000, 0x20000);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&outer), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&inner), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&other), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&inner), ==, 0);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 4);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&inner), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&outer), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&inner), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&other), ==, 0);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 0);
    g_assert_cmpstr(mlog->str, ==,
                    "a:start a:start a:start a:start a:end a:end a:end a:end ");
    /* all four were consumed */
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&inner), ==, -ENOENT);
    g_assert_cmpint(mmn_notifier_unregister(&a.mn, mm), ==, 0);
    mmn_mm_free(mm);
}

/*
 * mn_hlist_invalidate_range_start(), non-blockable: one subscriber fails
 * with -EAGAIN.  "We call all the notifiers on any EAGAIN" ... "any that
 * succeeded start are expecting their end to be called.  Do so now." The
 * caller sees -EAGAIN and may not call end; the failed one gets no end.
 */
static void test_range_nonblock_eagain(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange range;
    Rec first, fail, last;

    rec_init(&last, "last", &ops_start_end);
    rec_init(&fail, "fail", &ops_start_only);
    rec_init(&first, "first", &ops_start_end);
    fail.start_ret = -EAGAIN;
    g_assert_cmpint(mmn_notifier_register(&last.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&fail.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&first.mn, mm), ==, 0);
    range_init(&range, mm, MMN_NOTIFY_UNMAP, 0, 0x1000, 0x5000);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==,
                    -EAGAIN);
    g_assert_cmpstr(mlog->str, ==, "first:start fail:start-fail last:start "
                    "first:end last:end ");
    g_assert_cmpuint(mmn_mm_misuse_count(mm), ==, 0);
    /* The range is not open: ending it is misuse and delivers nothing. */
    log_reset();
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, -ENOENT);
    g_assert_cmpstr(mlog->str, ==, "");
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 0);
    /* It may succeed next time. */
    fail.start_ret = 0;
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "first:start fail:start last:start "
                    "first:end last:end ");
    mmn_mm_free(mm);
    mmn_notifier_unregister(&first.mn, first.mn.mm);
    mmn_notifier_unregister(&fail.mn, fail.mn.mm);
    mmn_notifier_unregister(&last.mn, last.mn.mm);
}

/*
 * mn_hlist_invalidate_range_start(): "notifiers that can fail
 * invalidate_range_start are not allowed to implement
 * invalidate_range_end" (WARN_ON(ops->invalidate_range_end)).  The failed
 * subscriber still gets no end; the WARN is reported as misuse.
 */
static void test_range_nonblock_fail_with_end_op(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange range;
    Rec ok, fail;

    rec_init(&ok, "ok", &ops_start_end);
    rec_init(&fail, "fail", &ops_start_end);
    fail.start_ret = -EAGAIN;
    g_assert_cmpint(mmn_notifier_register(&ok.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&fail.mn, mm), ==, 0);
    range_init(&range, mm, MMN_NOTIFY_CLEAR, 0, 0, 0x1000);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==,
                    -EAGAIN);
    g_assert_cmpstr(mlog->str, ==, "fail:start-fail ok:start ok:end ");
    g_assert_cmpuint(mmn_mm_misuse_count(mm), ==, 1);
    g_assert_nonnull(strstr(mmn_mm_last_error(mm), "gets no end"));
    mmn_mm_free(mm);
    mmn_notifier_unregister(&ok.mn, ok.mn.mm);
    mmn_notifier_unregister(&fail.mn, fail.mn.mm);
}

/*
 * mn_hlist_invalidate_range_start() error path, the same in 6.1 and 6.12:
 * "any that succeeded start are expecting their end to be called.  Do so
 * now." -- it calls invalidate_range_end of every subscription that has
 * one, so also of a subscription without invalidate_range_start (nothing
 * of it can have failed).  One with neither (arch only) gets nothing.
 */
static void test_range_nonblock_eagain_end_only(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange range;
    Rec eo, fail, arch;

    rec_init(&eo, "eo", &ops_end_only);
    rec_init(&fail, "fail", &ops_start_only);
    rec_init(&arch, "arch", &ops_arch);
    fail.start_ret = -EAGAIN;
    g_assert_cmpint(mmn_notifier_register(&eo.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&fail.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&arch.mn, mm), ==, 0);
    range_init(&range, mm, MMN_NOTIFY_CLEAR, 0, 0x2000, 0x3000);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==,
                    -EAGAIN);
    g_assert_cmpstr(mlog->str, ==, "fail:start-fail eo:end ");
    g_assert_cmpuint(eo.range.start, ==, 0x2000);
    g_assert_cmpuint(eo.range.end, ==, 0x3000);
    g_assert_cmpuint(eo.range.flags, ==, 0);
    g_assert_cmpuint(mmn_mm_misuse_count(mm), ==, 0);
    /* nothing is open: no second end */
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, -ENOENT);
    g_assert_cmpstr(mlog->str, ==, "fail:start-fail eo:end ");
    /* a start that succeeds gives the end-only one exactly one end */
    log_reset();
    fail.start_ret = 0;
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "fail:start ");
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "fail:start eo:end ");
    mmn_mm_free(mm);
    mmn_notifier_unregister(&eo.mn, eo.mn.mm);
    mmn_notifier_unregister(&fail.mn, fail.mn.mm);
    mmn_notifier_unregister(&arch.mn, arch.mn.mm);
}

/*
 * mn_hlist_invalidate_range_start(), blockable: a failure is a subscriber
 * bug (WARN_ON(mmu_notifier_range_blockable(range))) and the blocking
 * mmu_notifier_invalidate_range_start() ignores it.  The range is open.
 */
static void test_range_blockable_failure_ignored(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange range;
    Rec ok, fail;

    rec_init(&ok, "ok", &ops_start_end);
    rec_init(&fail, "fail", &ops_start_only);
    fail.start_ret = -EAGAIN;
    g_assert_cmpint(mmn_notifier_register(&ok.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&fail.mn, mm), ==, 0);
    range_init(&range, mm, MMN_NOTIFY_CLEAR, BLK, 0, 0x1000);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "fail:start-fail ok:start ");
    g_assert_cmpuint(mmn_mm_misuse_count(mm), ==, 1);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "fail:start-fail ok:start ok:end ");
    mmn_mm_free(mm);
    mmn_notifier_unregister(&ok.mn, ok.mn.mm);
    mmn_notifier_unregister(&fail.mn, fail.mn.mm);
}

/*
 * Misuse: ending a range that never started (Linux would underflow
 * active_invalidate_ranges).  Reported, nothing delivered, and a later
 * correct start/end still works.
 */
static void test_range_end_without_start(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange range, open, wrong_event;
    Rec a;
    int owner;

    rec_init(&a, "a", &ops_start_end);
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    range_init(&range, mm, MMN_NOTIFY_UNMAP, BLK, 0x1000, 0x2000);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, -ENOENT);
    g_assert_cmpint(mmn_notifier_invalidate_range_only_end(&range), ==,
                    -ENOENT);
    g_assert_nonnull(strstr(mmn_mm_last_error(mm), "never started"));
    g_assert_cmpstr(mlog->str, ==, "");
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 0);
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 2);

    /* An open range is matched on every field, owner included. */
    mmn_notifier_range_init_owner(&open, MMN_NOTIFY_MIGRATE, BLK, mm,
                                  0x1000, 0x2000, &owner);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&open), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, -ENOENT);
    wrong_event = open;
    wrong_event.event = MMN_NOTIFY_CLEAR;
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&wrong_event), ==,
                    -ENOENT);
    wrong_event = open;
    wrong_event.flags = 0;
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&wrong_event), ==,
                    -ENOENT);
    g_assert_cmpuint(mmn_mm_misuse_count(mm), ==, 5);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 1);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&open), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "a:start a:end ");
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 0);
    g_assert_cmpint(mmn_notifier_unregister(&a.mn, mm), ==, 0);
    mmn_mm_free(mm);
}

/* Misuse: a range with end <= start, anywhere a range is taken. */
static void test_range_end_le_start(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange range;
    Rec a, b;

    rec_init(&a, "a", &ops_start_end);
    rec_init(&b, "b", &ops_arch);
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&b.mn, mm), ==, 0);
    range_init(&range, mm, MMN_NOTIFY_UNMAP, BLK, 0x2000, 0x2000);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, -EINVAL);
    g_assert_nonnull(strstr(mmn_mm_last_error(mm), "end <= start"));
    range_init(&range, mm, MMN_NOTIFY_UNMAP, BLK, 0x3000, 0x2000);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, -EINVAL);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, -EINVAL);
    g_assert_cmpint(mmn_notifier_arch_invalidate_secondary_tlbs(mm, 5, 5), ==,
                    -EINVAL);
    g_assert_cmpint(mmn_notifier_clear_flush_young(mm, 9, 1), ==, -EINVAL);
    g_assert_cmpint(mmn_notifier_clear_young(mm, 9, 1), ==, -EINVAL);
    g_assert_cmpint(mmn_notifier_test_clear_young(mm, 9, 9, false, NULL), ==,
                    -EINVAL);
    /* unknown event */
    range_init(&range, mm, MMN_NOTIFY__MAX, BLK, 0, 0x1000);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, -EINVAL);
    g_assert_cmpstr(mlog->str, ==, "");
    g_assert_cmpuint(mmn_mm_misuse_count(mm), ==, 8);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 0);
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 2);
    range.event = MMN_NOTIFY_UNMAP;
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "a:start a:end ");
    mmn_mm_free(mm);
    mmn_notifier_unregister(&a.mn, a.mn.mm);
    mmn_notifier_unregister(&b.mn, b.mn.mm);
}

/*
 * start/end pairing ("invalidate_range_start() and invalidate_range_end()
 * must be paired"): Linux cannot register while a range is open
 * (mm_take_all_locks()); a guest can, and the newcomer gets no unpaired
 * end (in legacy mode it still gets invalidate_range, see
 * test-mmn-notifier-legacy.c).
 */
static void test_range_registered_while_open(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange range;
    Rec old, late;

    rec_init(&old, "old", &ops_start_end);
    rec_init(&late, "late", &ops_start_end);
    g_assert_cmpint(mmn_notifier_register(&old.mn, mm), ==, 0);
    range_init(&range, mm, MMN_NOTIFY_UNMAP, BLK, 0, 0x1000);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&late.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "old:start old:end ");
    log_reset();
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "late:start old:start late:end old:end ");
    mmn_mm_free(mm);
    mmn_notifier_unregister(&old.mn, old.mn.mm);
    mmn_notifier_unregister(&late.mn, late.mn.mm);
}

/* A guest cannot make the layer grow without bound. */
static void test_range_too_many_open(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange range;
    int i;

    range_init(&range, mm, MMN_NOTIFY_CLEAR, 0, 0, 0x1000);
    for (i = 0; i < MMN_NOTIFIER_MAX_OPEN_RANGES; i++) {
        g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
    }
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==,
                    -ENOSPC);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==,
                     MMN_NOTIFIER_MAX_OPEN_RANGES);
    for (i = 0; i < MMN_NOTIFIER_MAX_OPEN_RANGES; i++) {
        g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, 0);
    }
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, -ENOENT);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 0);
    mmn_mm_free(mm);
}

/* mmn_mm_for_each_open_range(): what a front end saves for migration. */
typedef struct OpenSeen {
    GString *log;
    unsigned stop_after;
} OpenSeen;

static int record_open(const MmnNotifierRange *r, void *opaque)
{
    OpenSeen *seen = opaque;

    g_string_append_printf(seen->log, "[%" PRIx64 ",%" PRIx64 ") %s %s %p;",
                           r->start, r->end, mmn_notify_event_name(r->event),
                           mmn_notifier_range_blockable(r) ? "B" : "-",
                           r->owner);
    return --seen->stop_after == 0 ? 7 : 0;
}

static void test_range_open_iterator(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange r1, r2, r3;
    OpenSeen seen = { g_string_new(NULL), 100 };
    int owner;
    g_autofree char *want = NULL;

    mmn_notifier_range_init_owner(&r1, MMN_NOTIFY_CLEAR, BLK, mm,
                                  0x1000, 0x3000, NULL);
    mmn_notifier_range_init_owner(&r2, MMN_NOTIFY_MIGRATE, 0, mm,
                                  0x5000, 0x6000, &owner);
    mmn_notifier_range_init_owner(&r3, MMN_NOTIFY_UNMAP, BLK, mm,
                                  0x8000, 0x9000, NULL);
    g_assert_cmpint(mmn_mm_for_each_open_range(mm, record_open, &seen), ==, 0);
    g_assert_cmpstr(seen.log->str, ==, "");
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&r1), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&r2), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&r3), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&r1), ==, 0);
    g_assert_cmpuint(mmn_mm_nr_open_ranges(mm), ==, 2);
    /* oldest first, as given to start; the ended one is gone */
    g_assert_cmpint(mmn_mm_for_each_open_range(mm, record_open, &seen), ==, 0);
    want = g_strdup_printf("[5000,6000) MIGRATE - %p;[8000,9000) UNMAP B %p;",
                           (void *)&owner, NULL);
    g_assert_cmpstr(seen.log->str, ==, want);
    /* a non-zero return stops the walk and is returned */
    g_string_truncate(seen.log, 0);
    seen.stop_after = 1;
    g_assert_cmpint(mmn_mm_for_each_open_range(mm, record_open, &seen), ==, 7);
    g_assert_cmpuint(seen.log->len, ==, strchr(want, ';') - want + 1);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&r2), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&r3), ==, 0);
    g_assert_cmpuint(mmn_mm_nr_open_ranges(mm), ==, 0);
    g_string_free(seen.log, true);
    mmn_mm_free(mm);
}

/*
 * Linux 6.6 (ec8832d007cb "mmu_notifiers: don't invalidate secondary TLBs
 * as part of mmu_notifier_invalidate_range_end()"): end and only_end are
 * the same and never call arch_invalidate_secondary_tlbs.
 */
static void test_range_end_v66_no_secondary_tlbs(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange range;
    Rec arch, se;

    rec_init(&arch, "arch", &ops_arch);
    rec_init(&se, "se", &ops_start_end);
    g_assert_cmpint(mmn_notifier_register(&arch.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&se.mn, mm), ==, 0);
    range_init(&range, mm, MMN_NOTIFY_PROTECTION_PAGE, BLK, 0x4000, 0x8000);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_only_end(&range), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "se:start se:end se:start se:end ");
    mmn_mm_free(mm);
    mmn_notifier_unregister(&arch.mn, arch.mn.mm);
    mmn_notifier_unregister(&se.mn, se.mn.mm);
}

/*
 * __mmu_notifier_arch_invalidate_secondary_tlbs(): every subscriber with
 * the op, with the exact range (flush_tlb_mm() passes 0, -1UL).
 */
static void test_secondary_tlbs(void)
{
    MmnMm *mm = setup();
    Rec a, b, se;

    rec_init(&a, "a", &ops_arch);
    rec_init(&b, "b", &ops_arch);
    rec_init(&se, "se", &ops_start_end);
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&se.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&b.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_arch_invalidate_secondary_tlbs(mm, 0x7000,
                                                                0x8000),
                    ==, 0);
    g_assert_cmpstr(mlog->str, ==, "b:arch a:arch ");
    g_assert_cmpuint(a.a, ==, 0x7000);
    g_assert_cmpuint(a.b, ==, 0x8000);
    g_assert_cmpint(mmn_notifier_arch_invalidate_secondary_tlbs(mm, 0,
                                                                UINT64_MAX),
                    ==, 0);
    g_assert_cmpuint(b.b, ==, UINT64_MAX);
    mmn_mm_free(mm);
    mmn_notifier_unregister(&a.mn, a.mn.mm);
    mmn_notifier_unregister(&b.mn, b.mn.mm);
    mmn_notifier_unregister(&se.mn, se.mn.mm);
}

/* __mmu_notifier_change_pte() (set_pte_at_notify) */
static void test_change_pte(void)
{
    MmnMm *mm = setup();
    Rec a, tcy;

    rec_init(&a, "a", &ops_arch);
    rec_init(&tcy, "tcy", &ops_tcy);
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&tcy.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_change_pte(mm, 0x7000, 0x40000000000f43ULL),
                    ==, 0);
    g_assert_cmpstr(mlog->str, ==, "a:change_pte ");
    g_assert_cmphex(a.a, ==, 0x7000);
    g_assert_cmphex(a.b, ==, 0x40000000000f43ULL);
    mmn_mm_free(mm);
    mmn_notifier_unregister(&a.mn, a.mn.mm);
    mmn_notifier_unregister(&tcy.mn, tcy.mn.mm);
}


int main(int argc, char **argv)
{
    rec_test_init(&argc, &argv);

    g_test_add_func("/mmn-notifier/event/names-and-values", test_event_names);
    g_test_add_func("/mmn-notifier/register/arch-inval-with-start-end-refused",
                    test_register_both_refused);
    g_test_add_func("/mmn-notifier/register/hlist-add-head-newest-first",
                    test_register_newest_first);
    g_test_add_func("/mmn-notifier/register/twice-refused",
                    test_register_twice_refused);
    g_test_add_func("/mmn-notifier/unregister/delivers-release-once",
                    test_unregister_delivers_release_once);
    g_test_add_func("/mmn-notifier/unregister/unregistered-is-misuse",
                    test_unregister_unregistered);
    g_test_add_func("/mmn-notifier/unregister/after-mm-release-no-second-"
                    "release", test_unregister_after_release);
    g_test_add_func("/mmn-notifier/range/start-end-see-range-fields-all-"
                    "events", test_range_start_end_fields);
    g_test_add_func("/mmn-notifier/range/nested-and-overlapping",
                    test_range_nested);
    g_test_add_func("/mmn-notifier/range/nonblock-eagain-caller-sees-it-"
                    "succeeded-get-end-failed-gets-none",
                    test_range_nonblock_eagain);
    g_test_add_func("/mmn-notifier/range/nonblock-failed-with-end-op-gets-"
                    "no-end", test_range_nonblock_fail_with_end_op);
    g_test_add_func("/mmn-notifier/range/nonblock-eagain-end-only-"
                    "subscription-gets-end",
                    test_range_nonblock_eagain_end_only);
    g_test_add_func("/mmn-notifier/range/blockable-start-failure-ignored",
                    test_range_blockable_failure_ignored);
    g_test_add_func("/mmn-notifier/range/end-without-start-is-misuse",
                    test_range_end_without_start);
    g_test_add_func("/mmn-notifier/range/end-le-start-is-misuse",
                    test_range_end_le_start);
    g_test_add_func("/mmn-notifier/range/registered-while-open-gets-no-end",
                    test_range_registered_while_open);
    g_test_add_func("/mmn-notifier/range/open-ranges-iterated-oldest-first",
                    test_range_open_iterator);
    g_test_add_func("/mmn-notifier/range/open-ranges-bounded",
                    test_range_too_many_open);
    g_test_add_func("/mmn-notifier/range/v6.6-end-does-not-invalidate-"
                    "secondary-tlbs", test_range_end_v66_no_secondary_tlbs);
    g_test_add_func("/mmn-notifier/secondary-tlbs/every-subscriber-with-op",
                    test_secondary_tlbs);
    g_test_add_func("/mmn-notifier/change-pte/delivered",
                    test_change_pte);
    return g_test_run();
}
