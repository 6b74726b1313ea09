/*
 * Unit tests of the mmn-smmu notifier layer: subscriptions, ranges, the
 * young family, change_pte, release, get/put and misuse.
 *
 * Each test path names the Linux behaviour it checks; the comment above
 * each test cites the Linux function (mm/mmu_notifier.c of 6.6+, seed 002,
 * unless said otherwise).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "hw/mmn-smmu/mmu-notifier.h"

/*
 * A recording subscriber.  Every callback appends "name:op " to mlog, so
 * tests can check which callbacks ran and in which order.
 */
typedef struct Rec {
    MmnNotifier mn;
    const char *name;
    int start_ret;              /* what invalidate_range_start returns */
    int young;                  /* what the young ops return */
    MmnNotifierRange range;     /* last range seen by start or end */
    uint64_t a, b;              /* last (start, end) or (address, pte) */
    bool clear;
    unsigned long *bitmap;
    /* re-entry probes, see test_callback_reentry() */
    int reentry_ret[4];
    bool probe_reentry;
    bool put_in_release;
} Rec;

static GString *mlog;
static unsigned nr_freed;
static unsigned freed_seen_in_release;

static Rec *rec_of(MmnNotifier *mn)
{
    return container_of(mn, Rec, mn);
}

static void note(MmnNotifier *mn, const char *op)
{
    g_string_append_printf(mlog, "%s:%s ", rec_of(mn)->name, op);
}

static void log_reset(void)
{
    g_string_truncate(mlog, 0);
}

static void rec_release(MmnNotifier *mn, MmnMm *mm)
{
    Rec *r = rec_of(mn);

    note(mn, "release");
    g_assert(mn->mm == mm);
    if (r->probe_reentry) {
        MmnNotifierRange range;

        mmn_notifier_range_init(&range, MMN_NOTIFY_UNMAP,
                                MMN_NOTIFIER_RANGE_BLOCKABLE, mm, 0, 4096);
        r->reentry_ret[0] = mmn_notifier_invalidate_range_start(&range);
        r->reentry_ret[1] = mmn_notifier_unregister(mn, mm);
        r->reentry_ret[2] = mmn_notifier_clear_young(mm, 0, 4096);
        r->reentry_ret[3] = mmn_notifier_register(mn, mm);
    }
    if (r->put_in_release) {
        g_assert_cmpint(mmn_notifier_put(mn), ==, 0);
        freed_seen_in_release = nr_freed;
    }
}

static int rec_clear_flush_young(MmnNotifier *mn, MmnMm *mm,
                                 uint64_t start, uint64_t end)
{
    note(mn, "cfy");
    rec_of(mn)->a = start;
    rec_of(mn)->b = end;
    return rec_of(mn)->young;
}

static int rec_clear_young(MmnNotifier *mn, MmnMm *mm,
                           uint64_t start, uint64_t end)
{
    note(mn, "cy");
    rec_of(mn)->a = start;
    rec_of(mn)->b = end;
    return rec_of(mn)->young;
}

static int rec_test_young(MmnNotifier *mn, MmnMm *mm, uint64_t address)
{
    note(mn, "ty");
    rec_of(mn)->a = address;
    return rec_of(mn)->young;
}

static int rec_test_clear_young(MmnNotifier *mn, MmnMm *mm, uint64_t start,
                                uint64_t end, bool clear,
                                unsigned long *bitmap)
{
    Rec *r = rec_of(mn);

    note(mn, clear ? "tcy(clear)" : "tcy(test)");
    r->a = start;
    r->b = end;
    r->clear = clear;
    r->bitmap = bitmap;
    return r->young;
}

static void rec_change_pte(MmnNotifier *mn, MmnMm *mm, uint64_t address,
                           uint64_t pte)
{
    note(mn, "change_pte");
    rec_of(mn)->a = address;
    rec_of(mn)->b = pte;
}

static int rec_start(MmnNotifier *mn, const MmnNotifierRange *range)
{
    Rec *r = rec_of(mn);

    note(mn, r->start_ret ? "start-fail" : "start");
    r->range = *range;
    return r->start_ret;
}

static void rec_end(MmnNotifier *mn, const MmnNotifierRange *range)
{
    note(mn, "end");
    rec_of(mn)->range = *range;
}

static void rec_arch(MmnNotifier *mn, MmnMm *mm, uint64_t start,
                     uint64_t end)
{
    note(mn, "arch");
    rec_of(mn)->a = start;
    rec_of(mn)->b = end;
}

static MmnNotifier *rec_alloc(MmnMm *mm)
{
    Rec *r = g_new0(Rec, 1);

    r->name = "got";
    return &r->mn;
}

static MmnNotifier *rec_alloc_fail(MmnMm *mm)
{
    return NULL;
}

static void rec_free(MmnNotifier *mn)
{
    nr_freed++;
    g_string_append(mlog, "got:free ");
    g_free(rec_of(mn));
}

/* A start/end subscriber (KVM-like, 6.6) */
static const MmnNotifierOps ops_start_end = {
    .release = rec_release,
    .clear_flush_young = rec_clear_flush_young,
    .clear_young = rec_clear_young,
    .test_young = rec_test_young,
    .change_pte = rec_change_pte,
    .invalidate_range_start = rec_start,
    .invalidate_range_end = rec_end,
};

/* A secondary-TLB subscriber (SMMU SVA-like, 6.6; the IOTLB's shape) */
static const MmnNotifierOps ops_arch = {
    .release = rec_release,
    .clear_flush_young = rec_clear_flush_young,
    .clear_young = rec_clear_young,
    .test_young = rec_test_young,
    .change_pte = rec_change_pte,
    .arch_invalidate_secondary_tlbs = rec_arch,
};

/* Both: refused in 6.6, allowed in 6.1 (KVM had invalidate_range) */
static const MmnNotifierOps ops_both = {
    .release = rec_release,
    .invalidate_range_start = rec_start,
    .invalidate_range_end = rec_end,
    .arch_invalidate_secondary_tlbs = rec_arch,
};

/* A non-blocking start that may fail, without an end (Linux's rule) */
static const MmnNotifierOps ops_start_only = {
    .release = rec_release,
    .invalidate_range_start = rec_start,
};

/* Seed 000 only: test_clear_young instead of clear_young/test_young */
static const MmnNotifierOps ops_tcy = {
    .release = rec_release,
    .test_clear_young = rec_test_clear_young,
};

static const MmnNotifierOps ops_get = {
    .release = rec_release,
    .invalidate_range_start = rec_start,
    .invalidate_range_end = rec_end,
    .alloc_notifier = rec_alloc,
    .free_notifier = rec_free,
};

static const MmnNotifierOps ops_get2 = {
    .alloc_notifier = rec_alloc,
    .free_notifier = rec_free,
};

static const MmnNotifierOps ops_get_fail = {
    .alloc_notifier = rec_alloc_fail,
    .free_notifier = rec_free,
};

static void rec_init(Rec *r, const char *name, const MmnNotifierOps *ops)
{
    memset(r, 0, sizeof(*r));
    r->name = name;
    r->mn.ops = ops;
}

static MmnMm *setup(void)
{
    log_reset();
    nr_freed = 0;
    return mmn_mm_new();
}

static void range_init(MmnNotifierRange *r, MmnMm *mm, MmnNotifyEvent ev,
                       unsigned flags, uint64_t start, uint64_t end)
{
    mmn_notifier_range_init(r, ev, flags, mm, start, end);
}

#define BLK MMN_NOTIFIER_RANGE_BLOCKABLE

/* enum mmu_notifier_event, + MMU_NOTIFY_PROTECTION_UPGRADE (seed 004) */
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

/*
 * Linux <= 6.5 __mmu_notifier_register() had no such check (KVM registered
 * invalidate_range with start/end): legacy mode accepts both.
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
    g_assert_false(mmn_mm_has_notifiers(mm));
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
 * for every event including PROTECTION_UPGRADE (seed 004).
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
 * end (nor, in legacy mode, that range's invalidate_range).
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

/* __mmu_notifier_clear_young(): OR-ed, no early stop (every one clears) */
static void test_young_clear_young(void)
{
    MmnMm *mm = setup();
    Rec a, b;

    rec_init(&a, "a", &ops_arch);
    rec_init(&b, "b", &ops_arch);
    a.young = 1;
    b.young = 1;
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&b.mn, mm), ==, 0);
    g_assert_cmpint(mmn_notifier_clear_young(mm, 0x3000, 0x5000), ==, 1);
    g_assert_cmpstr(mlog->str, ==, "b:cy a:cy ");
    g_assert_cmpuint(a.b, ==, 0x5000);
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
 * Seed 000: mmu_notifier_clear_young() = __test_clear_young(start, end,
 * true, NULL) and mmu_notifier_test_young(addr) = __test_clear_young(addr,
 * addr + 1, false, NULL).  A subscriber with only test_clear_young gets
 * those; one with the 6.6 ops gets its own.
 */
static void test_young_seed000_routing(void)
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
    /* clear_flush_young has no seed-000 route: only the op */
    log_reset();
    g_assert_cmpint(mmn_notifier_clear_flush_young(mm, 0x1000, 0x2000), ==,
                    0);
    g_assert_cmpstr(mlog->str, ==, "old:cfy ");
    mmn_mm_free(mm);
    mmn_notifier_unregister(&old.mn, old.mn.mm);
    mmn_notifier_unregister(&tcy.mn, tcy.mn.mm);
}

/*
 * Seed 000 __mmu_notifier_test_clear_young(): young |= each; "The caller
 * ORs subscribers and may stop early when young && !clear"; a clear visits
 * everyone; the bitmap is passed through.
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
 * A fake secondary MMU with per-page young bits, answering seed 000's
 * test_clear_young through mmn_test_clear_young_paths().
 */
#define NPAGES 8
typedef struct YoungMmu {
    MmnNotifier mn;
    bool young[NPAGES];
    bool fast_ok;
    unsigned fast_calls, slow_calls;
} YoungMmu;

static bool ym_fast(void *opaque, uint64_t start, uint64_t end, bool clear,
                    unsigned long *bitmap, bool *young)
{
    YoungMmu *ym = opaque;
    uint64_t addr;

    ym->fast_calls++;
    if (!ym->fast_ok) {
        return false;
    }
    *young = false;
    for (addr = start; addr < end; addr += MMN_PAGE_SIZE) {
        uint64_t page = addr / MMN_PAGE_SIZE;
        uint64_t bit = mmn_young_bitmap_bit(end, addr);

        if (!ym->young[page]) {
            continue;
        }
        if (!clear) {
            if (bitmap) {
                set_bit(bit, bitmap);
            }
            *young = true;
        } else if (!bitmap || test_bit(bit, bitmap)) {
            ym->young[page] = false;
            *young = true;
        }
    }
    return true;
}

static bool ym_slow(void *opaque, uint64_t start, uint64_t end, bool clear)
{
    YoungMmu *ym = opaque;
    bool young = false;
    uint64_t addr;

    ym->slow_calls++;
    for (addr = start; addr < end; addr += MMN_PAGE_SIZE) {
        uint64_t page = addr / MMN_PAGE_SIZE;

        young |= ym->young[page];
        if (clear) {
            ym->young[page] = false;
        }
    }
    return young;
}

static const MmnYoungPaths ym_paths = {
    .fast = ym_fast,
    .slow = ym_slow,
};

static int ym_test_clear_young(MmnNotifier *mn, MmnMm *mm, uint64_t start,
                               uint64_t end, bool clear,
                               unsigned long *bitmap)
{
    YoungMmu *ym = container_of(mn, YoungMmu, mn);

    return mmn_test_clear_young_paths(&ym_paths, ym, start, end, clear,
                                      bitmap);
}

static const MmnNotifierOps ops_ym = {
    .test_clear_young = ym_test_clear_young,
};

/*
 * Seed 000 mmu_notifier_test_clear_young(): "the offset corresponding to
 * addr should be (end-addr)/PAGE_SIZE-1"; "When testing, this function
 * sets the corresponding bit in the bitmap for each young KVM PTE. When
 * clearing, this function clears the accessed bit for each young KVM PTE
 * whose corresponding bit in the bitmap is set"; LOCKLESS when the fast
 * path succeeded; "if it is NULL, the function falls back to the slow
 * path if the fast path was unsuccessful; otherwise, the function bails
 * out".
 */
static void test_young_bitmap(void)
{
    MmnMm *mm = setup();
    unsigned long bitmap[1] = { 0 };
    uint64_t end = NPAGES * MMN_PAGE_SIZE;
    YoungMmu ym = { .mn.ops = &ops_ym, .fast_ok = true };

    /* the bit numbering itself */
    g_assert_cmpuint(mmn_young_bitmap_bit(end, end - MMN_PAGE_SIZE), ==, 0);
    g_assert_cmpuint(mmn_young_bitmap_bit(end, 0), ==, NPAGES - 1);
    g_assert_cmpuint(mmn_young_bitmap_bit(0x10000, 0xd000), ==, 2);
    g_assert_cmpuint(mmn_young_bitmap_nbits(0, end), ==, NPAGES);

    g_assert_cmpint(mmn_notifier_register(&ym.mn, mm), ==, 0);
    ym.young[1] = ym.young[6] = true;

    /* test: bits of pages 1 and 6, counted from the end: 6 and 1 */
    g_assert_cmpint(mmn_notifier_test_clear_young(mm, 0, end, false, bitmap),
                    ==, MMN_NOTIFIER_RANGE_LOCKLESS);
    g_assert_cmphex(bitmap[0], ==, (1UL << 6) | (1UL << 1));
    g_assert_true(ym.young[1] && ym.young[6]);

    /* clear only what the bitmap selects: page 6 (bit 1) */
    bitmap[0] = 1UL << mmn_young_bitmap_bit(end, 6 * MMN_PAGE_SIZE);
    g_assert_cmpint(mmn_notifier_test_clear_young(mm, 0, end, true, bitmap),
                    ==, MMN_NOTIFIER_RANGE_LOCKLESS);
    g_assert_true(ym.young[1]);
    g_assert_false(ym.young[6]);

    /* fast path fails, bitmap given: 0, no slow-path fallback */
    ym.fast_ok = false;
    bitmap[0] = 0;
    g_assert_cmpint(mmn_notifier_test_clear_young(mm, 0, end, false, bitmap),
                    ==, 0);
    g_assert_cmpuint(ym.slow_calls, ==, 0);
    g_assert_cmphex(bitmap[0], ==, 0);

    /* fast path fails, no bitmap: slow path, YOUNG */
    g_assert_cmpint(mmn_notifier_test_clear_young(mm, 0, end, true, NULL),
                    ==, MMN_NOTIFIER_RANGE_YOUNG);
    g_assert_cmpuint(ym.slow_calls, ==, 1);
    g_assert_false(ym.young[1]);
    g_assert_cmpint(mmn_notifier_test_clear_young(mm, 0, end, false, NULL),
                    ==, 0);
    g_assert_cmpuint(ym.slow_calls, ==, 2);
    g_assert_cmpuint(ym.fast_calls, ==, 5);
    g_assert_cmpint(mmn_notifier_unregister(&ym.mn, mm), ==, 0);
    mmn_mm_free(mm);
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
    g_assert_cmpint(mmn_notifier_put(s1), ==, 0);
    g_assert_cmpuint(nr_freed, ==, 1);
    g_assert_cmpint(mmn_notifier_put(s3), ==, 0);
    g_assert_cmpuint(nr_freed, ==, 2);
    g_assert_cmpstr(mlog->str, ==, "got:start got:end got:free got:free ");
    g_assert_cmpuint(mmn_mm_nr_subscriptions(mm), ==, 0);
    g_assert_false(mmn_mm_has_notifiers(mm));
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
    freed_seen_in_release = 99;
    mmn_mm_free(mm);    /* exit_mmap: release -> put inside */
    /* not freed while the callback ran, freed once the walk ended */
    g_assert_cmpuint(freed_seen_in_release, ==, 0);
    g_assert_cmpuint(nr_freed, ==, 1);
    g_assert_cmpstr(mlog->str, ==, "got:release got:free ");
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
 * mmput() -> exit_mmap() -> mmu_notifier_release(); the mm_struct itself
 * lives on while a registration holds mmgrab() (dropped by unregister).
 */
static void test_release_by_mm_free(void)
{
    MmnMm *mm = setup();
    Rec a;

    rec_init(&a, "a", &ops_arch);
    g_assert_cmpint(mmn_notifier_register(&a.mn, mm), ==, 0);
    mmn_mm_free(mm);
    g_assert_cmpstr(mlog->str, ==, "a:release ");
    /* still valid (ASan would complain otherwise) */
    g_assert(a.mn.mm == mm);
    g_assert_true(mmn_mm_is_released(a.mn.mm));
    mmn_mm_free(mm);            /* twice: misuse, ignored */
    g_assert_nonnull(strstr(mmn_mm_last_error(mm), "twice"));
    g_assert_cmpint(mmn_notifier_unregister(&a.mn, mm), ==, 0);  /* frees */
    g_assert_cmpstr(mlog->str, ==, "a:release ");
}

/*
 * What callbacks may not do: Linux deadlocks (synchronize_srcu() in
 * unregister from ->release, mm_take_all_locks() in register) or trips
 * lockdep (__mmu_notifier_invalidate_range_start_map).  Refused with
 * -EBUSY, state unchanged.
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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    mlog = g_string_new("");

    g_test_add_func("/mmn-notifier/event/names-and-values", test_event_names);
    g_test_add_func("/mmn-notifier/register/arch-inval-with-start-end-refused",
                    test_register_both_refused);
    g_test_add_func("/mmn-notifier/register/legacy-allows-invalidate-range-"
                    "with-start-end", test_register_legacy_allows_both);
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
    g_test_add_func("/mmn-notifier/range/blockable-start-failure-ignored",
                    test_range_blockable_failure_ignored);
    g_test_add_func("/mmn-notifier/range/end-without-start-is-misuse",
                    test_range_end_without_start);
    g_test_add_func("/mmn-notifier/range/end-le-start-is-misuse",
                    test_range_end_le_start);
    g_test_add_func("/mmn-notifier/range/registered-while-open-gets-no-end",
                    test_range_registered_while_open);
    g_test_add_func("/mmn-notifier/range/open-ranges-bounded",
                    test_range_too_many_open);
    g_test_add_func("/mmn-notifier/range/v6.6-end-does-not-invalidate-"
                    "secondary-tlbs", test_range_end_v66_no_secondary_tlbs);
    g_test_add_func("/mmn-notifier/range/v6.1-end-calls-invalidate-range-"
                    "unless-only-end", test_range_end_legacy_invalidate_range);
    g_test_add_func("/mmn-notifier/secondary-tlbs/every-subscriber-with-op",
                    test_secondary_tlbs);
    g_test_add_func("/mmn-notifier/young/clear-flush-young-ored-all-called",
                    test_young_clear_flush_young);
    g_test_add_func("/mmn-notifier/young/clear-young-ored-all-called",
                    test_young_clear_young);
    g_test_add_func("/mmn-notifier/young/test-young-stops-at-first-young",
                    test_young_test_young_stops);
    g_test_add_func("/mmn-notifier/young/seed000-clear-young-test-young-via-"
                    "test-clear-young", test_young_seed000_routing);
    g_test_add_func("/mmn-notifier/young/test-clear-young-ored-stops-when-"
                    "young-and-not-clear", test_young_test_clear_young_walk);
    g_test_add_func("/mmn-notifier/young/test-clear-young-bitmap-from-end-"
                    "lockless-no-fallback", test_young_bitmap);
    g_test_add_func("/mmn-notifier/change-pte/delivered",
                    test_change_pte);
    g_test_add_func("/mmn-notifier/get-put/find-by-ops-alloc-free",
                    test_get_put);
    g_test_add_func("/mmn-notifier/get-put/put-from-release-defers-free",
                    test_get_put_from_release);
    g_test_add_func("/mmn-notifier/get-put/misuse", test_get_put_misuse);
    g_test_add_func("/mmn-notifier/release/delivered-once-then-nothing",
                    test_release_once);
    g_test_add_func("/mmn-notifier/release/open-range-ends-after-release",
                    test_release_open_range_can_end);
    g_test_add_func("/mmn-notifier/release/mmput-releases-mmgrab-keeps-mm",
                    test_release_by_mm_free);
    g_test_add_func("/mmn-notifier/callbacks/reentry-refused",
                    test_callback_reentry);
    return g_test_run();
}
