/*
 * Unit tests of the mmn-smmu notifier layer: lifetimes.  get/put and
 * free_notifier, release (exit_mmap) and what follows it, the mm kept by
 * registrations (mmgrab), mm_has_notifiers(), and what a callback may
 * call.
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
 * mmu_notifier_get_locked(): find_get_mmu_notifier() by ops (users++),
 * else ops->alloc_notifier() + register.  mmu_notifier_put(): last put
 * unlinks and calls free_notifier; put does not call release.
 */
static void test_get_put(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange range;
    MmnNotifier *s1, *s2, *s3;

    s1 = mmn_notifier_get(&ops_get, mm);
    g_assert_nonnull(s1);
    g_assert_cmpuint(s1->users, ==, 1);
    g_assert(s1->ops == &ops_get && s1->mm == mm);
    s2 = mmn_notifier_get(&ops_get, mm);
    g_assert(s2 == s1);
    g_assert_cmpuint(s1->users, ==, 2);
    s3 = mmn_notifier_get(&ops_get2, mm);
    g_assert(s3 != s1);
    g_assert_cmpuint(mmn_mm_nr_subscriptions(mm), ==, 2);

    g_assert_cmpint(mmn_notifier_put(s2), ==, 0);
    g_assert_cmpuint(nr_freed, ==, 0);
    range_init(&range, mm, MMN_NOTIFY_UNMAP, BLK, 0, 0x1000);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "got:start got:end ");
    /* outside a walk the free happens before put returns (see the docs) */
    g_assert_cmpint(mmn_notifier_put(s1), ==, 0);
    g_assert_cmpuint(nr_freed, ==, 1);
    g_assert_cmpint(mmn_notifier_put(s3), ==, 0);
    g_assert_cmpuint(nr_freed, ==, 2);
    g_assert_cmpstr(mlog->str, ==, "got:start got:end got:free got:free ");
    g_assert_cmpuint(mmn_mm_nr_subscriptions(mm), ==, 0);
    g_assert_cmpuint(mmn_mm_refcount(mm), ==, 1);
    mmn_mm_free(mm);
}

/*
 * mmu_notifier_put(): "This function can be called from the ops->release
 * callback"; free_notifier() "is only called after the mmu_notifier has
 * been fully put, calls to any ops callback are prevented and no ops
 * callbacks are currently running" (call_srcu).
 */
static void test_get_put_from_release(void)
{
    MmnMm *mm = setup();
    MmnNotifier *s;
    Rec *r;

    s = mmn_notifier_get(&ops_get, mm);
    g_assert_nonnull(s);
    r = rec_of(s);
    r->put_in_release = true;
    freed_seen_in_callback = 99;
    mmn_mm_free(mm);    /* exit_mmap: release -> put inside */
    /* not freed while the callback ran, freed once the walk ended */
    g_assert_cmpuint(freed_seen_in_callback, ==, 0);
    g_assert_cmpuint(nr_freed, ==, 1);
    g_assert_cmpstr(mlog->str, ==, "got:release got:free ");
}

/*
 * mmu_notifier_put() from a callback other than release, here
 * invalidate_range_start: the last reference goes, hlist_del_init_rcu()
 * unlinks the subscription and call_srcu() frees it once the walk is
 * over.  The callback finishes with its memory alive, the walk goes on to
 * the older subscription, and the range's end no longer reaches it.
 */
static void test_get_put_from_start(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange range;
    MmnNotifier *s;
    Rec old;

    rec_init(&old, "old", &ops_start_end);
    g_assert_cmpint(mmn_notifier_register(&old.mn, mm), ==, 0);
    s = mmn_notifier_get(&ops_get, mm);
    g_assert_nonnull(s);
    rec_of(s)->put_in_start = true;
    freed_seen_in_callback = 99;
    range_init(&range, mm, MMN_NOTIFY_UNMAP, BLK, 0, 0x1000);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
    g_assert_cmpuint(freed_seen_in_callback, ==, 0);
    g_assert_cmpuint(nr_freed, ==, 1);
    g_assert_cmpstr(mlog->str, ==, "got:start old:start got:free ");
    g_assert_cmpuint(mmn_mm_nr_subscriptions(mm), ==, 1);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "got:start old:start got:free old:end ");
    g_assert_cmpuint(mmn_mm_misuse_count(mm), ==, 0);
    g_assert_cmpint(mmn_notifier_unregister(&old.mn, mm), ==, 0);
    mmn_mm_free(mm);
}

/* mmu_notifier_put(): WARN_ON(!subscription->users); get failures */
static void test_get_put_misuse(void)
{
    MmnMm *mm = setup();
    MmnNotifier *s;
    Rec a;

    rec_init(&a, "a", &ops_arch);
    g_assert_cmpint(mmn_notifier_put(&a.mn), ==, -ENOENT);
    g_assert_cmpint(mmn_notifier_put(NULL), ==, -ENOENT);
    g_assert_nonnull(strstr(mmn_mm_last_error(NULL), "not registered"));
    /* alloc_notifier failing: NULL, nothing registered */
    g_assert_null(mmn_notifier_get(&ops_get_fail, mm));
    g_assert_nonnull(strstr(mmn_mm_last_error(mm), "alloc_notifier"));
    g_assert_null(mmn_notifier_get(&ops_arch, mm));     /* no alloc op */
    g_assert_cmpuint(mmn_mm_nr_subscriptions(mm), ==, 0);
    s = mmn_notifier_get(&ops_get2, mm);
    g_assert_nonnull(s);
    g_assert_cmpint(mmn_notifier_put(s), ==, 0);
    g_assert_cmpuint(nr_freed, ==, 1);
    mmn_mm_free(mm);
}

/*
 * mn_itree_release() then mn_hlist_release(): every ->release once, the
 * list emptied; "after it no other callback reaches that subscriber".
 * The calls that follow are refused (-ESRCH, the device's MISUSE).
 */
static void test_release_once(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange range;
    unsigned long bitmap[1];
    Rec a, b, c;

    rec_init(&a, "a", &ops_arch);
    rec_init(&b, "b", &ops_start_end);
    rec_init(&c, "c", &ops_arch);
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&b.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_release(mm), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "b:release a:release ");
    g_assert_true(mmn_mm_is_released(mm));
    g_assert_cmpuint(mmn_mm_nr_subscriptions(mm), ==, 0);

    range_init(&range, mm, MMN_NOTIFY_UNMAP, BLK, 0, 0x1000);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, -ESRCH);
    g_assert_cmpint(mmn_notifier_arch_invalidate_secondary_tlbs(mm, 0, 4096),
                    ==, -ESRCH);
    g_assert_cmpint(mmn_notifier_clear_flush_young(mm, 0, 4096), ==, -ESRCH);
    g_assert_cmpint(mmn_notifier_clear_young(mm, 0, 4096), ==, -ESRCH);
    g_assert_cmpint(mmn_notifier_test_young(mm, 0), ==, -ESRCH);
    g_assert_cmpint(mmn_notifier_test_clear_young(mm, 0, 4096, false, bitmap),
                    ==, -ESRCH);
    g_assert_cmpint(mmn_notifier_change_pte(mm, 0, 0), ==, -ESRCH);
    g_assert_nonnull(strstr(mmn_mm_last_error(mm), "after release"));
    /* double release: misuse, no second release callback */
    g_assert_cmpint(mmn_notifier_release(mm), ==, -ESRCH);
    g_assert_nonnull(strstr(mmn_mm_last_error(mm), "already released"));
    /* no registration on a dead mm */
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, -EEXIST);
    g_assert_cmpint(mmn_notifier_register(&c.mn, mm), ==, -ESRCH);
    g_assert_null(mmn_notifier_get(&ops_get, mm));
    g_assert_cmpstr(mlog->str, ==, "b:release a:release ");
    g_assert_cmpuint(mmn_mm_misuse_count(mm), ==, 11);
    g_assert_cmpint(mmn_notifier_unregister(&a.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_unregister(&b.mn, mm), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "b:release a:release ");
    mmn_mm_free(mm);
}

/*
 * exit_mmap() may still end ranges opened on other CPUs: a range opened
 * before release can be ended after it (itree bookkeeping), and reaches
 * no released subscriber.
 */
static void test_release_open_range_can_end(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange range;
    Rec a;

    rec_init(&a, "a", &ops_start_end);
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    range_init(&range, mm, MMN_NOTIFY_UNMAP, BLK, 0, 0x1000);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&range), ==, 0);
    g_assert_cmpint(mmn_notifier_release(mm), ==, 0);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&range), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "a:start a:release ");
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 0);
    g_assert_cmpuint(mmn_mm_misuse_count(mm), ==, 0);
    mmn_mm_free(mm);
    g_assert_cmpint(mmn_notifier_unregister(&a.mn, a.mn.mm), ==, 0);
}

/*
 * mmput() -> exit_mmap() -> mmu_notifier_release(): release is delivered
 * and the mm takes no new work; the mm_struct itself lives on while a
 * registration holds the mmgrab() of __mmu_notifier_register() (dropped
 * by mmu_notifier_unregister()'s mmdrop()).
 */
static void test_release_by_mm_free(void)
{
    MmnMm *mm = setup();
    Rec a, late;

    rec_init(&a, "a", &ops_arch);
    rec_init(&late, "late", &ops_arch);
    g_assert_cmpuint(mmn_mm_refcount(mm), ==, 1);   /* the owner's */
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_cmpuint(mmn_mm_refcount(mm), ==, 2);
    g_assert_false(mmn_mm_is_released(mm));
    mmn_mm_free(mm);
    g_assert_cmpstr(mlog->str, ==, "a:release ");
    /* the owner's reference is gone, the registration's keeps the mm */
    g_assert_cmpuint(mmn_mm_refcount(mm), ==, 1);
    g_assert_true(mmn_mm_is_released(mm));
    g_assert_cmpuint(mmn_mm_nr_subscriptions(mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&late.mn, mm), ==, -ESRCH);
    g_assert_cmpint(mmn_notifier_arch_invalidate_secondary_tlbs(mm, 0, 4096),
                    ==, -ESRCH);
    g_assert_cmpstr(mlog->str, ==, "a:release ");
    mmn_mm_free(mm);            /* twice: misuse, ignored */
    g_assert_nonnull(strstr(mmn_mm_last_error(mm), "twice"));
    g_assert_cmpint(mmn_notifier_unregister(&a.mn, mm), ==, 0);  /* frees */
    g_assert_cmpstr(mlog->str, ==, "a:release ");
}

/*
 * What callbacks may not do: Linux deadlocks (synchronize_srcu() in
 * unregister from ->release, mm_take_all_locks() in register) or trips
 * lockdep (__mmu_notifier_invalidate_range_start_map).  Refused with
 * -EBUSY, state unchanged.  Calls on another mm: see
 * test_callback_reentry_other_mm().
 */
static void test_callback_reentry(void)
{
    MmnMm *mm = setup();
    Rec a;

    rec_init(&a, "a", &ops_start_end);
    a.probe_reentry = true;
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_release(mm), ==, 0);
    g_assert_cmpint(a.reentry_ret[0], ==, -EBUSY);
    g_assert_cmpint(a.reentry_ret[1], ==, -EBUSY);
    g_assert_cmpint(a.reentry_ret[2], ==, -EBUSY);
    g_assert_cmpint(a.reentry_ret[3], ==, -EBUSY);
    g_assert_cmpstr(mlog->str, ==, "a:release ");
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 0);
    a.probe_reentry = false;
    g_assert_cmpint(mmn_notifier_unregister(&a.mn, mm), ==, 0);
    mmn_mm_free(mm);
}

/* A subscription on one mm whose clear_young probes another mm. */
typedef struct Cross {
    MmnNotifier mn;
    MmnMm *other;
    Rec *other_rec;                 /* registered on other */
    MmnNotifier *other_got;         /* got on other, put from here */
    MmnIntervalNotifier *other_in;  /* inserted on other */
    Rec *fresh;                     /* never registered */
    int ret[9];
    MmnNotifier *get_ret;
    unsigned freed_before, freed_after;
} Cross;

static int cross_clear_young(MmnNotifier *mn, MmnMm *mm, uint64_t start,
                             uint64_t end)
{
    Cross *x = container_of(mn, Cross, mn);
    MmnNotifierRange range;

    range_init(&range, x->other, MMN_NOTIFY_UNMAP, BLK, 0, 0x1000);
    x->ret[0] = mmn_notifier_invalidate_range_start(&range);
    x->ret[1] = mmn_notifier_unregister(&x->other_rec->mn, x->other);
    x->ret[2] = mmn_notifier_register(&x->fresh->mn, x->other);
    x->ret[3] = mmn_notifier_clear_young(x->other, 0, 0x1000);
    x->ret[4] = mmn_notifier_arch_invalidate_secondary_tlbs(x->other, 0,
                                                             0x1000);
    x->ret[5] = mmn_notifier_change_pte(x->other, 0, 0);
    x->ret[6] = mmn_notifier_release(x->other);
    x->ret[7] = mmn_interval_notifier_remove(x->other_in);
    x->get_ret = mmn_notifier_get(&ops_get2, x->other);
    mmn_mm_free(x->other);
    /* allowed: put (no walk of the other mm runs, so it frees at once) */
    x->freed_before = nr_freed;
    x->ret[8] = mmn_notifier_put(x->other_got);
    x->freed_after = nr_freed;
    return 0;
}

static const MmnNotifierOps ops_cross = {
    .clear_young = cross_clear_young,
};

static bool plain_invalidate(MmnIntervalNotifier *in,
                             const MmnNotifierRange *range,
                             unsigned long cur_seq)
{
    mmn_interval_set_seq(in, cur_seq);
    return true;
}

static const MmnIntervalNotifierOps plain_interval_ops = {
    .invalidate = plain_invalidate,
};

/*
 * The refusals hold whichever mm the call names: Linux's SRCU struct is
 * one for every mm (DEFINE_STATIC_SRCU(srcu) in mm/mmu_notifier.c), so
 * mmu_notifier_unregister() of any subscription deadlocks in
 * synchronize_srcu() inside a callback, and the lockdep map
 * __mmu_notifier_invalidate_range_start_map is global too.  Refused from
 * a callback of mm A on mm B: every call that delivers callbacks,
 * register, unregister, get, interval remove, mmn_mm_free().  put is
 * allowed.  B is left as it was.
 */
static void test_callback_reentry_other_mm(void)
{
    MmnMm *mm = setup(), *other = mmn_mm_new();
    MmnIntervalNotifier in = { };
    Rec b, fresh;
    Cross x = {
        .mn.ops = &ops_cross, .other = other, .other_rec = &b,
        .other_in = &in, .fresh = &fresh,
    };
    unsigned misuse;
    int i;

    rec_init(&b, "b", &ops_start_end);
    rec_init(&fresh, "fresh", &ops_start_end);
    g_assert_cmpint(mmn_notifier_register(&b.mn, other), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_insert(&in, other, 0, 0x1000,
                                                 &plain_interval_ops), ==, 0);
    x.other_got = mmn_notifier_get(&ops_get, other);
    g_assert_nonnull(x.other_got);
    g_assert_cmpint(mmn_notifier_register(&x.mn, mm), ==, 0);
    misuse = mmn_mm_misuse_count(other);

    g_assert_cmpint(mmn_notifier_clear_young(mm, 0, 0x1000), ==, 0);
    for (i = 0; i < 8; i++) {
        g_assert_cmpint(x.ret[i], ==, -EBUSY);
    }
    g_assert_null(x.get_ret);
    g_assert_cmpint(x.ret[8], ==, 0);
    g_assert_cmpuint(x.freed_after, ==, x.freed_before + 1);
    /* nothing reached or changed the other mm */
    g_assert_cmpstr(mlog->str, ==, "got:free ");
    g_assert_cmpuint(mmn_mm_misuse_count(other), ==, misuse + 10);
    g_assert_false(mmn_mm_is_released(other));
    g_assert_cmpuint(mmn_mm_nr_subscriptions(other), ==, 1);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(other), ==, 0);
    g_assert_true(mmn_interval_notifier_is_inserted(&in));
    g_assert(b.mn.mm == other);

    g_assert_cmpint(mmn_notifier_unregister(&x.mn, mm), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&in), ==, 0);
    g_assert_cmpint(mmn_notifier_unregister(&b.mn, other), ==, 0);
    mmn_mm_free(other);
    mmn_mm_free(mm);
}

/*
 * mm_has_notifiers() is "mm->notifier_subscriptions", which
 * __mmu_notifier_register() allocates on the first registration
 * (mmu_interval_notifier_insert() calls it with NULL) and only
 * __mmu_notifier_subscriptions_destroy() frees, with the mm: once true it
 * stays true.  A registration refused before that point (6.6's
 * WARN_ON_ONCE for both kinds of ops, -EINVAL) creates nothing.
 */
static void test_has_notifiers_sticky(void)
{
    MmnMm *mm = setup(), *mm2 = mmn_mm_new();
    MmnIntervalNotifier in = { };
    Rec a, both;

    rec_init(&a, "a", &ops_arch);
    rec_init(&both, "both", &ops_both);
    g_assert_false(mmn_mm_has_notifiers(mm));
    g_assert_cmpint(mmn_notifier_register(&both.mn, mm), ==, -EINVAL);
    g_assert_null(mmn_notifier_get(&ops_get_fail, mm));
    g_assert_false(mmn_mm_has_notifiers(mm));
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_true(mmn_mm_has_notifiers(mm));
    g_assert_cmpint(mmn_notifier_unregister(&a.mn, mm), ==, 0);
    g_assert_cmpuint(mmn_mm_nr_subscriptions(mm), ==, 0);
    g_assert_true(mmn_mm_has_notifiers(mm));

    g_assert_false(mmn_mm_has_notifiers(mm2));
    g_assert_cmpint(mmn_interval_notifier_insert(&in, mm2, 0, 0x1000,
                                                 &plain_interval_ops), ==, 0);
    g_assert_true(mmn_mm_has_notifiers(mm2));
    g_assert_cmpint(mmn_interval_notifier_remove(&in), ==, 0);
    g_assert_cmpuint(mmn_mm_nr_interval_notifiers(mm2), ==, 0);
    g_assert_true(mmn_mm_has_notifiers(mm2));
    mmn_mm_free(mm);
    mmn_mm_free(mm2);
}

int main(int argc, char **argv)
{
    rec_test_init(&argc, &argv);

    g_test_add_func("/mmn-notifier/get-put/find-by-ops-alloc-free",
                    test_get_put);
    g_test_add_func("/mmn-notifier/get-put/put-from-release-defers-free",
                    test_get_put_from_release);
    g_test_add_func("/mmn-notifier/get-put/put-from-range-start-defers-free-"
                    "no-end", test_get_put_from_start);
    g_test_add_func("/mmn-notifier/get-put/misuse", test_get_put_misuse);
    g_test_add_func("/mmn-notifier/release/delivered-once-then-nothing",
                    test_release_once);
    g_test_add_func("/mmn-notifier/release/open-range-ends-after-release",
                    test_release_open_range_can_end);
    g_test_add_func("/mmn-notifier/release/mmput-releases-mmgrab-keeps-mm",
                    test_release_by_mm_free);
    g_test_add_func("/mmn-notifier/callbacks/reentry-refused",
                    test_callback_reentry);
    g_test_add_func("/mmn-notifier/callbacks/reentry-refused-on-another-mm",
                    test_callback_reentry_other_mm);
    g_test_add_func("/mmn-notifier/mm/has-notifiers-sticky",
                    test_has_notifiers_sticky);
    return g_test_run();
}
