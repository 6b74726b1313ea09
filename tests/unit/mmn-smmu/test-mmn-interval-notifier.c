/*
 * Unit tests of the mmn-smmu notifier layer: interval notifiers and the
 * invalidate_seq collision-retry scheme.
 *
 * Each test path names the Linux behaviour it checks; the comment above
 * each test cites the Linux function (mm/mmu_notifier.c of 6.6+) or says
 * what we do differently and why.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/mmn-smmu/mmu-notifier.h"

#define BLK MMN_NOTIFIER_RANGE_BLOCKABLE
#define PG  MMN_PAGE_SIZE

/* A recording interval subscriber; callbacks append "name:inv " to mlog. */
typedef struct ISub {
    MmnIntervalNotifier in;
    const char *name;
    bool fail;                  /* invalidate returns false */
    bool no_set_seq;            /* breaks the set_seq contract */
    unsigned calls;
    MmnNotifierRange range;
    unsigned long cur_seq;
    unsigned long mm_seq_seen;
    /* from the callback */
    bool remove_self;
    int remove_ret;
    struct ISub *insert_other;
    int insert_ret;
} ISub;

static GString *mlog;

static bool isub_invalidate(MmnIntervalNotifier *in,
                            const MmnNotifierRange *range,
                            unsigned long cur_seq)
{
    ISub *s = container_of(in, ISub, in);

    g_string_append_printf(mlog, "%s:inv ", s->name);
    s->calls++;
    s->range = *range;
    s->cur_seq = cur_seq;
    s->mm_seq_seen = mmn_mm_invalidate_seq(range->mm);
    if (s->remove_self) {
        s->remove_ret = mmn_interval_notifier_remove(in);
    }
    if (s->insert_other) {
        s->insert_ret = mmn_interval_notifier_insert(&s->insert_other->in,
                                                     range->mm, 0, PG,
                                                     in->ops);
    }
    if (s->fail) {
        return false;
    }
    if (!s->no_set_seq) {
        mmn_interval_set_seq(in, cur_seq);
    }
    return true;
}

static const MmnIntervalNotifierOps isub_ops = {
    .invalidate = isub_invalidate,
};

static void isub_init(ISub *s, const char *name)
{
    memset(s, 0, sizeof(*s));
    s->name = name;
}

static MmnMm *setup(void)
{
    g_string_truncate(mlog, 0);
    return mmn_mm_new();
}

static int start(MmnMm *mm, MmnNotifyEvent ev, unsigned flags,
                 uint64_t s, uint64_t e)
{
    MmnNotifierRange r;

    mmn_notifier_range_init(&r, ev, flags, mm, s, e);
    return mmn_notifier_invalidate_range_start(&r);
}

static int end(MmnMm *mm, MmnNotifyEvent ev, unsigned flags,
               uint64_t s, uint64_t e)
{
    MmnNotifierRange r;

    mmn_notifier_range_init(&r, ev, flags, mm, s, e);
    return mmn_notifier_invalidate_range_end(&r);
}

/*
 * mn_itree_invalidate(): interval_tree_iter_first(start, end - 1): only
 * subscriptions overlapping [start, end) are called, in start order, with
 * the range as given and cur_seq = the (odd) mm invalidate_seq.
 */
static void test_invalidate_only_overlapping(void)
{
    MmnMm *mm = setup();
    ISub a, b, c;

    isub_init(&a, "a");
    isub_init(&b, "b");
    isub_init(&c, "c");
    g_assert_cmpint(mmn_interval_notifier_insert(&c.in, mm, 5 * PG, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_insert(&b.in, mm, PG, 2 * PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpuint(mmn_mm_nr_interval_notifiers(mm), ==, 3);
    g_assert_true(mmn_mm_has_notifiers(mm));
    g_assert_cmpuint(a.in.interval_tree.last, ==, PG - 1);

    g_assert_cmpint(start(mm, MMN_NOTIFY_UNMAP, BLK, PG, 2 * PG), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "b:inv ");
    g_assert_cmpuint(b.range.start, ==, PG);
    g_assert_cmpuint(b.range.end, ==, 2 * PG);
    g_assert_cmpint(b.range.event, ==, MMN_NOTIFY_UNMAP);
    g_assert_cmpuint(b.range.flags, ==, BLK);
    g_assert_cmpuint(b.cur_seq & 1, ==, 1);
    g_assert_cmpuint(b.cur_seq, ==, b.mm_seq_seen);
    g_assert_cmpint(end(mm, MMN_NOTIFY_UNMAP, BLK, PG, 2 * PG), ==, 0);

    g_string_truncate(mlog, 0);
    g_assert_cmpint(start(mm, MMN_NOTIFY_CLEAR, 0, PG - 1, PG + 1), ==, 0);
    g_assert_cmpint(end(mm, MMN_NOTIFY_CLEAR, 0, PG - 1, PG + 1), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "a:inv b:inv ");

    /* end is exclusive: [3 PG, 5 PG) does not touch c at 5 PG */
    g_string_truncate(mlog, 0);
    g_assert_cmpint(start(mm, MMN_NOTIFY_CLEAR, 0, 3 * PG, 5 * PG), ==, 0);
    g_assert_cmpint(end(mm, MMN_NOTIFY_CLEAR, 0, 3 * PG, 5 * PG), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "");

    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&b.in), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&c.in), ==, 0);
    g_assert_cmpuint(mmn_mm_nr_interval_notifiers(mm), ==, 0);
    mmn_mm_free(mm);
}

/*
 * __mmu_interval_notifier_insert(): "if (length == 0 ||
 * check_add_overflow(start, length - 1, ...)) return -EOVERFLOW"; a
 * double insert (Linux: tree corruption) is refused.
 */
static void test_insert_bad(void)
{
    MmnMm *mm = setup();
    ISub a;

    isub_init(&a, "a");
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0x1000, 0,
                                                 &isub_ops), ==, -EOVERFLOW);
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, UINT64_MAX, 2,
                                                 &isub_ops), ==, -EOVERFLOW);
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 2, UINT64_MAX,
                                                 &isub_ops), ==, -EOVERFLOW);
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, PG, NULL), ==,
                    -EINVAL);
    g_assert_cmpuint(mmn_mm_nr_interval_notifiers(mm), ==, 0);
    g_assert_false(mmn_interval_notifier_is_inserted(&a.in));
    /* the whole 64-bit space is fine (the IOTLB's subscription) */
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, UINT64_MAX,
                                                 &isub_ops), ==, 0);
    g_assert_cmpuint(a.in.interval_tree.last, ==, UINT64_MAX - 1);
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, PG,
                                                 &isub_ops), ==, -EEXIST);
    g_assert_cmpuint(mmn_mm_nr_interval_notifiers(mm), ==, 1);
    g_assert_cmpuint(mmn_mm_misuse_count(mm), ==, 5);
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    mmn_mm_free(mm);
}

/*
 * The write side: "seq |= 1 # Begin writing; seq++ # Release the writing
 * state".  Idle: even (starts at 2); a range overlapping a subscription
 * makes it odd (fully excluded); one overlapping nothing leaves it even
 * (partially excluded) but counts in active_invalidate_ranges.  A new
 * subscription starts at seq - 1 (odd, never equal).
 */
static void test_seq_write_side(void)
{
    MmnMm *mm = setup();
    ISub a;

    isub_init(&a, "a");
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 2);
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpuint(a.in.invalidate_seq, ==, 1);

    g_assert_cmpint(start(mm, MMN_NOTIFY_UNMAP, BLK, 0, PG), ==, 0);
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 3);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 1);
    g_assert_cmpuint(a.cur_seq, ==, 3);
    g_assert_cmpuint(a.in.invalidate_seq, ==, 3);
    g_assert_cmpint(end(mm, MMN_NOTIFY_UNMAP, BLK, 0, PG), ==, 0);
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 4);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 0);

    g_assert_cmpint(start(mm, MMN_NOTIFY_UNMAP, BLK, PG, 2 * PG), ==, 0);
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 4);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 1);
    g_assert_cmpint(end(mm, MMN_NOTIFY_UNMAP, BLK, PG, 2 * PG), ==, 0);
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 4);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 0);
    g_assert_cmpuint(a.calls, ==, 1);
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    mmn_mm_free(mm);
}

/*
 * mn_itree_inv_end(): "if (--subscriptions->active_invalidate_ranges ||
 * !mn_itree_is_invalidating(subscriptions)) return;" -- with nested and
 * overlapping ranges only the last end makes the seq even, whatever the
 * order of the ends.
 */
static void test_seq_nested(void)
{
    MmnMm *mm = setup();
    ISub a, b;

    isub_init(&a, "a");
    isub_init(&b, "b");
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, 4 * PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_insert(&b.in, mm, 8 * PG, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(start(mm, MMN_NOTIFY_UNMAP, BLK, 0, 4 * PG), ==, 0);
    g_assert_cmpint(start(mm, MMN_NOTIFY_CLEAR, BLK, PG, 2 * PG), ==, 0);
    g_assert_cmpint(start(mm, MMN_NOTIFY_CLEAR, BLK, 3 * PG, 9 * PG), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "a:inv a:inv a:inv b:inv ");
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 3);
    g_assert_cmpuint(a.cur_seq, ==, 3);
    g_assert_cmpuint(b.cur_seq, ==, 3);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 3);
    g_assert_cmpint(end(mm, MMN_NOTIFY_UNMAP, BLK, 0, 4 * PG), ==, 0);
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 3);
    g_assert_cmpint(end(mm, MMN_NOTIFY_CLEAR, BLK, 3 * PG, 9 * PG), ==, 0);
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 3);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 1);
    g_assert_cmpint(end(mm, MMN_NOTIFY_CLEAR, BLK, PG, 2 * PG), ==, 0);
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 4);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&b.in), ==, 0);
    mmn_mm_free(mm);
}

/*
 * mmu_interval_read_begin()/mmu_interval_read_retry(): "If the mm invokes
 * invalidation during the critical section then mmu_interval_read_retry()
 * will return true."  A reader that collides with an invalidation must
 * retry, and cannot begin again until the range ends.  The loop is
 * bounded so that a retry that never clears fails the test.
 */
static void test_read_collides_and_retries(void)
{
    MmnMm *mm = setup();
    unsigned long seq, seq2;
    unsigned attempts = 0;
    bool installed = false;
    ISub a;

    isub_init(&a, "a");
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, 16 * PG,
                                                 &isub_ops), ==, 0);
    while (!installed && attempts < 4) {
        attempts++;
        g_assert_true(mmn_interval_read_begin_nowait(&a.in, &seq));
        g_assert_cmpuint(seq & 1, ==, 1);
        g_assert_false(mmn_interval_check_retry(&a.in, seq));
        /* "walk the page tables" ... and the CPU unmaps meanwhile once */
        if (attempts == 1) {
            g_assert_cmpint(start(mm, MMN_NOTIFY_UNMAP, BLK, 2 * PG, 3 * PG),
                            ==, 0);
            g_assert_true(mmn_interval_check_retry(&a.in, seq));
            /* while the range is open nobody may begin */
            g_assert_false(mmn_interval_read_begin_nowait(&a.in, &seq2));
            g_assert_cmpuint(seq2, ==, MMN_INTERVAL_SEQ_COLLIDING);
            g_assert_cmpuint(mmn_interval_read_begin(&a.in), ==,
                             MMN_INTERVAL_SEQ_COLLIDING);
            g_assert_cmpint(end(mm, MMN_NOTIFY_UNMAP, BLK, 2 * PG, 3 * PG),
                            ==, 0);
        }
        installed = !mmn_interval_read_retry(&a.in, seq);
    }
    g_assert_true(installed);
    g_assert_cmpuint(attempts, ==, 2);
    g_assert_cmpuint(a.calls, ==, 1);
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    mmn_mm_free(mm);
}

/*
 * The same scheme when nothing collides: an invalidation elsewhere (not
 * overlapping the subscription) does not force a retry, even while it is
 * open.
 */
static void test_read_no_collision(void)
{
    MmnMm *mm = setup();
    unsigned long seq, seq2;
    ISub a, b;

    isub_init(&a, "a");
    isub_init(&b, "b");
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, 4 * PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_insert(&b.in, mm, 8 * PG, 4 * PG,
                                                 &isub_ops), ==, 0);
    g_assert_true(mmn_interval_read_begin_nowait(&a.in, &seq));
    g_assert_cmpint(start(mm, MMN_NOTIFY_UNMAP, BLK, 8 * PG, 9 * PG), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "b:inv ");
    /* b is being invalidated (fully excluded), a is not colliding */
    g_assert_true(mmn_interval_read_begin_nowait(&a.in, &seq2));
    g_assert_cmpuint(seq2, ==, seq);
    g_assert_false(mmn_interval_read_begin_nowait(&b.in, &seq2));
    g_assert_cmpint(end(mm, MMN_NOTIFY_UNMAP, BLK, 8 * PG, 9 * PG), ==, 0);
    g_assert_false(mmn_interval_check_retry(&a.in, seq));
    g_assert_false(mmn_interval_read_retry(&a.in, seq));
    /* the linux-shaped read_begin gives the same seq */
    g_assert_cmpuint(mmn_interval_read_begin(&a.in), ==, seq);
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&b.in), ==, 0);
    mmn_mm_free(mm);
}

/*
 * Deliberate difference: Linux's mmu_interval_read_begin() sleeps while
 * colliding; ours returns MMN_INTERVAL_SEQ_COLLIDING, an even value that
 * never equals a subscription's (always odd) seq, so read_retry() says
 * retry even after the range has ended.
 */
static void test_read_begin_colliding_forces_retry(void)
{
    MmnMm *mm = setup();
    unsigned long seq;
    ISub a;

    isub_init(&a, "a");
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(start(mm, MMN_NOTIFY_CLEAR, 0, 0, PG), ==, 0);
    seq = mmn_interval_read_begin(&a.in);
    g_assert_cmpuint(seq, ==, MMN_INTERVAL_SEQ_COLLIDING);
    g_assert_true(mmn_interval_read_retry(&a.in, seq));
    g_assert_cmpint(end(mm, MMN_NOTIFY_CLEAR, 0, 0, PG), ==, 0);
    g_assert_true(mmn_interval_read_retry(&a.in, seq));
    g_assert_true(mmn_interval_check_retry(&a.in, seq));
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    mmn_mm_free(mm);
}

/*
 * mmu_interval_set_seq(): "This must be called unconditionally from the
 * invalidate callback ... If the caller does not call
 * mmu_interval_read_begin() or mmu_interval_read_retry() then this call
 * is not required."  Without it a colliding reader is not told to retry;
 * this is the contract the IOTLB relies on.
 */
static void test_read_requires_set_seq(void)
{
    MmnMm *mm = setup();
    unsigned long seq;
    ISub a;

    isub_init(&a, "a");
    a.no_set_seq = true;
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, PG,
                                                 &isub_ops), ==, 0);
    g_assert_true(mmn_interval_read_begin_nowait(&a.in, &seq));
    g_assert_cmpint(start(mm, MMN_NOTIFY_CLEAR, 0, 0, PG), ==, 0);
    g_assert_cmpint(end(mm, MMN_NOTIFY_CLEAR, 0, 0, PG), ==, 0);
    g_assert_cmpuint(a.calls, ==, 1);
    g_assert_false(mmn_interval_read_retry(&a.in, seq));
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    mmn_mm_free(mm);
}

/*
 * __mmu_interval_notifier_insert() while the itree is invalidating:
 * "defer the add to mn_itree_inv_end()"; its seq is the current (odd)
 * one, so readers collide until the last end, and invalidations started
 * meanwhile do not reach it (it is not in the tree yet).
 */
static void test_deferred_insert(void)
{
    MmnMm *mm = setup();
    unsigned long seq;
    ISub a, b;

    isub_init(&a, "a");
    isub_init(&b, "b");
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, 4 * PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(start(mm, MMN_NOTIFY_UNMAP, BLK, 0, PG), ==, 0);
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 3);
    g_assert_cmpint(mmn_interval_notifier_insert(&b.in, mm, 0, 4 * PG,
                                                 &isub_ops), ==, 0);
    g_assert_true(mmn_interval_notifier_is_inserted(&b.in));
    g_assert_cmpuint(mmn_mm_nr_interval_notifiers(mm), ==, 1);
    g_assert_cmpuint(b.in.invalidate_seq, ==, 3);
    g_assert_false(mmn_interval_read_begin_nowait(&b.in, &seq));
    /* a nested range: the tree is unchanged, b gets no callback */
    g_assert_cmpint(start(mm, MMN_NOTIFY_CLEAR, BLK, 0, 4 * PG), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "a:inv a:inv ");
    g_assert_cmpint(end(mm, MMN_NOTIFY_UNMAP, BLK, 0, PG), ==, 0);
    g_assert_cmpuint(mmn_mm_nr_interval_notifiers(mm), ==, 1);
    g_assert_false(mmn_interval_read_begin_nowait(&b.in, &seq));
    g_assert_cmpint(end(mm, MMN_NOTIFY_CLEAR, BLK, 0, 4 * PG), ==, 0);
    /* the last end inserted it */
    g_assert_cmpuint(mmn_mm_nr_interval_notifiers(mm), ==, 2);
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 4);
    g_assert_true(mmn_interval_read_begin_nowait(&b.in, &seq));
    g_assert_cmpuint(seq, ==, 3);
    g_assert_cmpint(start(mm, MMN_NOTIFY_CLEAR, BLK, 0, PG), ==, 0);
    g_assert_cmpint(end(mm, MMN_NOTIFY_CLEAR, BLK, 0, PG), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "a:inv a:inv a:inv b:inv ");
    g_assert_true(mmn_interval_read_retry(&b.in, seq));
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&b.in), ==, 0);
    mmn_mm_free(mm);
}

/*
 * __mmu_interval_notifier_insert() while ranges are active but none
 * overlaps a subscription (partially excluded): "we don't know what VA
 * ranges are affected, so we must assume this new range is included":
 * inserted at once, seq |= 1, and the newcomer collides until the end.
 */
static void test_insert_partially_excluded(void)
{
    MmnMm *mm = setup();
    unsigned long seq;
    ISub a;

    isub_init(&a, "a");
    g_assert_cmpint(start(mm, MMN_NOTIFY_UNMAP, BLK, 0, PG), ==, 0);
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 2);
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 8 * PG, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpuint(mmn_mm_nr_interval_notifiers(mm), ==, 1);
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 3);
    g_assert_cmpuint(a.in.invalidate_seq, ==, 3);
    g_assert_false(mmn_interval_read_begin_nowait(&a.in, &seq));
    g_assert_cmpint(end(mm, MMN_NOTIFY_UNMAP, BLK, 0, PG), ==, 0);
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 4);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 0);
    g_assert_true(mmn_interval_read_begin_nowait(&a.in, &seq));
    g_assert_cmpuint(a.calls, ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    mmn_mm_free(mm);
}

/*
 * mmu_interval_notifier_remove(): "remove is being called after insert
 * put this on the deferred list, but before the deferred list was
 * processed" -- the pending insert is cancelled.
 */
static void test_remove_cancels_deferred_insert(void)
{
    MmnMm *mm = setup();
    ISub a, b;

    isub_init(&a, "a");
    isub_init(&b, "b");
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(start(mm, MMN_NOTIFY_UNMAP, BLK, 0, PG), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_insert(&b.in, mm, 0, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&b.in), ==, 0);
    g_assert_false(mmn_interval_notifier_is_inserted(&b.in));
    memset(&b, 0xa5, sizeof(b));    /* the caller may reuse the memory */
    g_assert_cmpint(end(mm, MMN_NOTIFY_UNMAP, BLK, 0, PG), ==, 0);
    g_assert_cmpuint(mmn_mm_nr_interval_notifiers(mm), ==, 1);
    g_assert_cmpint(start(mm, MMN_NOTIFY_UNMAP, BLK, 0, PG), ==, 0);
    g_assert_cmpint(end(mm, MMN_NOTIFY_UNMAP, BLK, 0, PG), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "a:inv a:inv ");
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    mmn_mm_free(mm);
}

/*
 * Deliberate difference: Linux's remove during an invalidation defers the
 * tree removal and sleeps until the last end; we cannot sleep and no walk
 * holds the node between MMIO writes, so it leaves the tree at once.  As
 * in Linux, once remove returns no callback reaches it.
 */
static void test_remove_while_invalidating(void)
{
    MmnMm *mm = setup();
    ISub *a = g_new0(ISub, 1);
    ISub b;

    a->name = "a";
    isub_init(&b, "b");
    g_assert_cmpint(mmn_interval_notifier_insert(&a->in, mm, 0, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_insert(&b.in, mm, 0, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(start(mm, MMN_NOTIFY_UNMAP, BLK, 0, PG), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&a->in), ==, 0);
    g_free(a);      /* ASan would catch a later use */
    g_assert_cmpuint(mmn_mm_nr_interval_notifiers(mm), ==, 1);
    g_assert_cmpint(start(mm, MMN_NOTIFY_CLEAR, BLK, 0, PG), ==, 0);
    g_assert_cmpint(end(mm, MMN_NOTIFY_CLEAR, BLK, 0, PG), ==, 0);
    g_assert_cmpint(end(mm, MMN_NOTIFY_UNMAP, BLK, 0, PG), ==, 0);
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 4);
    g_assert_cmpstr(mlog->str, ==, "a:inv b:inv b:inv ");
    g_assert_cmpint(mmn_interval_notifier_remove(&b.in), ==, 0);
    mmn_mm_free(mm);
}

/*
 * mmu_interval_notifier_remove(): "It cannot be called from any ops
 * callback" (it would wait for its own invalidation): refused, -EBUSY.
 * Inserting from a callback is deferred like any insert while the tree is
 * invalidating.
 */
static void test_callbacks_remove_refused_insert_deferred(void)
{
    MmnMm *mm = setup();
    ISub a, b;

    isub_init(&a, "a");
    isub_init(&b, "b");
    a.remove_self = true;
    a.insert_other = &b;
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(start(mm, MMN_NOTIFY_UNMAP, BLK, 0, PG), ==, 0);
    g_assert_cmpint(a.remove_ret, ==, -EBUSY);
    g_assert_cmpint(a.insert_ret, ==, 0);
    g_assert_true(mmn_interval_notifier_is_inserted(&a.in));
    g_assert_cmpuint(mmn_mm_nr_interval_notifiers(mm), ==, 1);
    g_assert_cmpint(end(mm, MMN_NOTIFY_UNMAP, BLK, 0, PG), ==, 0);
    g_assert_cmpuint(mmn_mm_nr_interval_notifiers(mm), ==, 2);
    a.remove_self = false;
    a.insert_other = NULL;
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&b.in), ==, 0);
    mmn_mm_free(mm);
}

/* Misuse: removing what was never inserted, or twice. */
static void test_remove_not_inserted(void)
{
    MmnMm *mm = setup();
    unsigned long seq;
    ISub a;

    isub_init(&a, "a");
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, -ENOENT);
    g_assert_nonnull(strstr(mmn_mm_last_error(NULL), "not inserted"));
    g_assert_cmpint(mmn_interval_notifier_remove(NULL), ==, -ENOENT);
    g_assert_false(mmn_interval_read_begin_nowait(&a.in, &seq));
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, -ENOENT);
    g_assert_cmpuint(mmn_mm_nr_interval_notifiers(mm), ==, 0);
    /* and it can be inserted again */
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    mmn_mm_free(mm);
}

/* A plain subscriber whose start fails (for the hlist case below). */
static int fail_start(MmnNotifier *mn, const MmnNotifierRange *range)
{
    g_string_append(mlog, "plain:start ");
    return mmn_notifier_range_blockable(range) ? 0 : -EAGAIN;
}

static const MmnNotifierOps fail_ops = {
    .invalidate_range_start = fail_start,
};

/*
 * mn_itree_invalidate(), non-blockable: an interval notifier returning
 * false stops the walk ("goto out_would_block"), mn_itree_inv_end() closes
 * the write side, the subscriptions' starts are not called and the caller
 * gets -EAGAIN without an open range.
 */
static void test_nonblock_invalidate_false(void)
{
    MmnMm *mm = setup();
    MmnNotifier plain = { .ops = &fail_ops };
    unsigned long seq;
    ISub a, b;

    isub_init(&a, "a");
    isub_init(&b, "b");
    a.fail = true;
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_insert(&b.in, mm, PG, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&plain, mm), ==, 0);
    g_assert_cmpint(start(mm, MMN_NOTIFY_CLEAR, 0, 0, 2 * PG), ==, -EAGAIN);
    g_assert_cmpstr(mlog->str, ==, "a:inv ");
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 4);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 0);
    g_assert_true(mmn_interval_read_begin_nowait(&b.in, &seq));
    g_assert_cmpint(end(mm, MMN_NOTIFY_CLEAR, 0, 0, 2 * PG), ==, -ENOENT);
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 4);
    g_assert_cmpint(mmn_notifier_unregister(&plain, mm), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&b.in), ==, 0);
    mmn_mm_free(mm);
}

/*
 * mn_itree_invalidate(), blockable: "if
 * (WARN_ON(mmu_notifier_range_blockable(range))) continue;" -- the walk
 * goes on and the range is open.
 */
static void test_blockable_invalidate_false(void)
{
    MmnMm *mm = setup();
    ISub a, b;

    isub_init(&a, "a");
    isub_init(&b, "b");
    a.fail = true;
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_insert(&b.in, mm, PG, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(start(mm, MMN_NOTIFY_CLEAR, BLK, 0, 2 * PG), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "a:inv b:inv ");
    g_assert_cmpuint(mmn_mm_misuse_count(mm), ==, 1);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 1);
    g_assert_cmpint(end(mm, MMN_NOTIFY_CLEAR, BLK, 0, 2 * PG), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&b.in), ==, 0);
    mmn_mm_free(mm);
}

/*
 * Deliberate difference: in __mmu_notifier_invalidate_range_start() a
 * subscription failing after the itree succeeded returns -EAGAIN with the
 * itree write side still held (the caller may not end).  We close it: the
 * seq returns to even and readers are not stalled forever.
 */
static void test_nonblock_hlist_failure_closes_itree(void)
{
    MmnMm *mm = setup();
    MmnNotifier plain = { .ops = &fail_ops };
    unsigned long seq;
    ISub a;

    isub_init(&a, "a");
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(mmn_notifier_register(&plain, mm), ==, 0);
    g_assert_cmpint(start(mm, MMN_NOTIFY_CLEAR, 0, 0, PG), ==, -EAGAIN);
    g_assert_cmpstr(mlog->str, ==, "a:inv plain:start ");
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 4);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 0);
    g_assert_true(mmn_interval_read_begin_nowait(&a.in, &seq));
    g_assert_cmpuint(seq, ==, 3);
    g_assert_cmpint(mmn_notifier_unregister(&plain, mm), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    mmn_mm_free(mm);
}

static void plain_release(MmnNotifier *mn, MmnMm *mm)
{
    g_string_append(mlog, "plain:release ");
}

static const MmnNotifierOps release_ops = {
    .release = plain_release,
};

/*
 * __mmu_notifier_release(): mn_itree_release() first -- every interval
 * notifier invalidated with a blockable MMU_NOTIFY_RELEASE range [0,
 * ULONG_MAX) -- then mn_hlist_release().  Afterwards nothing may be
 * cached (read_begin refuses) and nothing may be inserted.
 */
static void test_release_whole_tree(void)
{
    MmnMm *mm = setup();
    MmnNotifier plain = { .ops = &release_ops };
    unsigned long seq;
    ISub a, b, c;

    isub_init(&a, "a");
    isub_init(&b, "b");
    isub_init(&c, "c");
    g_assert_cmpint(mmn_notifier_register(&plain, mm), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_insert(&b.in, mm,
                                                 UINT64_MAX - 4 * PG, PG,
                                                 &isub_ops), ==, 0);
    g_assert_cmpint(mmn_notifier_release(mm), ==, 0);
    g_assert_cmpstr(mlog->str, ==, "a:inv b:inv plain:release ");
    g_assert_cmpint(b.range.event, ==, MMN_NOTIFY_RELEASE);
    g_assert_cmpuint(b.range.flags, ==, BLK);
    g_assert_cmpuint(b.range.start, ==, 0);
    g_assert_cmpuint(b.range.end, ==, UINT64_MAX);
    g_assert_cmpuint(b.cur_seq & 1, ==, 1);
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 4);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 0);
    g_assert_false(mmn_interval_read_begin_nowait(&a.in, &seq));
    g_assert_cmpint(mmn_interval_notifier_insert(&c.in, mm, 0, PG,
                                                 &isub_ops), ==, -ESRCH);
    g_assert_cmpint(start(mm, MMN_NOTIFY_UNMAP, BLK, 0, PG), ==, -ESRCH);
    g_assert_cmpint(mmn_notifier_release(mm), ==, -ESRCH);
    g_assert_cmpstr(mlog->str, ==, "a:inv b:inv plain:release ");
    /* still inserted: removal is the owner's job */
    g_assert_cmpuint(mmn_mm_nr_interval_notifiers(mm), ==, 2);
    mmn_mm_free(mm);
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    g_assert_cmpint(mmn_notifier_unregister(&plain, plain.mm), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&b.in), ==, 0);  /* frees */
}

/*
 * MMU_NOTIFY_MIGRATE: "a device driver to possibly ignore the invalidation
 * if the owner field matches the driver's device private pgmap owner".
 * The decision is the driver's (lib/test_hmm.c
 * dmirror_interval_invalidate()); mn_itree_invalidate() hands every
 * overlapping subscription the range as given.  So each MIGRATE range,
 * whatever its owner, reaches the callback with that owner and collides
 * with a reader.  Ignoring one's own migration is tested on the IOTLB
 * (test-mmn-iotlb-subscriber.c, migrate-own-owner-ignored).
 */
static void test_migrate_owner(void)
{
    MmnMm *mm = setup();
    MmnNotifierRange r;
    unsigned long seq;
    int me, other;
    ISub a;

    isub_init(&a, "a");
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, PG,
                                                 &isub_ops), ==, 0);
    g_assert_true(mmn_interval_read_begin_nowait(&a.in, &seq));
    mmn_notifier_range_init_owner(&r, MMN_NOTIFY_MIGRATE, BLK, mm, 0, PG,
                                  &me);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&r), ==, 0);
    g_assert_cmpuint(a.calls, ==, 1);
    g_assert(a.range.owner == &me);
    g_assert_cmpint(a.range.event, ==, MMN_NOTIFY_MIGRATE);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&r), ==, 0);
    g_assert_true(mmn_interval_read_retry(&a.in, seq));

    g_assert_true(mmn_interval_read_begin_nowait(&a.in, &seq));
    r.owner = &other;
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&r), ==, 0);
    g_assert(a.range.owner == &other);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&r), ==, 0);
    g_assert_true(mmn_interval_read_retry(&a.in, seq));

    /*
     * mmn_notifier_range_init() sets a NULL owner (Linux's
     * mmu_notifier_range_init() leaves the field as it was)
     */
    g_assert_true(mmn_interval_read_begin_nowait(&a.in, &seq));
    mmn_notifier_range_init(&r, MMN_NOTIFY_MIGRATE, BLK, mm, 0, PG);
    g_assert_cmpint(mmn_notifier_invalidate_range_start(&r), ==, 0);
    g_assert_null(a.range.owner);
    g_assert_cmpint(mmn_notifier_invalidate_range_end(&r), ==, 0);
    g_assert_true(mmn_interval_read_retry(&a.in, seq));
    g_assert_cmpuint(a.calls, ==, 3);
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    mmn_mm_free(mm);
}

/*
 * Deliberate difference: Linux only counts active ranges once has_itree
 * is set (by the first insert), which cannot happen while a range is open
 * (mm_take_all_locks()).  A guest can open a range first; we always count,
 * so the first insert still collides and the end does not underflow.
 */
static void test_first_insert_during_open_range(void)
{
    MmnMm *mm = setup();
    unsigned long seq;
    ISub a;

    isub_init(&a, "a");
    g_assert_cmpint(start(mm, MMN_NOTIFY_UNMAP, BLK, 0, PG), ==, 0);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 1);
    g_assert_cmpint(mmn_interval_notifier_insert(&a.in, mm, 0, PG,
                                                 &isub_ops), ==, 0);
    g_assert_false(mmn_interval_read_begin_nowait(&a.in, &seq));
    g_assert_cmpint(end(mm, MMN_NOTIFY_UNMAP, BLK, 0, PG), ==, 0);
    g_assert_cmpuint(mmn_mm_active_invalidate_ranges(mm), ==, 0);
    g_assert_cmpuint(mmn_mm_invalidate_seq(mm), ==, 4);
    g_assert_true(mmn_interval_read_begin_nowait(&a.in, &seq));
    g_assert_cmpuint(mmn_mm_misuse_count(mm), ==, 0);
    g_assert_cmpint(mmn_interval_notifier_remove(&a.in), ==, 0);
    mmn_mm_free(mm);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    mlog = g_string_new("");

    g_test_add_func("/mmn-interval/invalidate/only-overlapping-end-"
                    "exclusive", test_invalidate_only_overlapping);
    g_test_add_func("/mmn-interval/insert/eoverflow-and-double-insert",
                    test_insert_bad);
    g_test_add_func("/mmn-interval/seq/odd-while-invalidating-even-after",
                    test_seq_write_side);
    g_test_add_func("/mmn-interval/seq/nested-overlapping-last-end-makes-"
                    "even", test_seq_nested);
    g_test_add_func("/mmn-interval/read/collision-must-retry",
                    test_read_collides_and_retries);
    g_test_add_func("/mmn-interval/read/no-collision-no-retry",
                    test_read_no_collision);
    g_test_add_func("/mmn-interval/read/begin-while-colliding-forces-retry",
                    test_read_begin_colliding_forces_retry);
    g_test_add_func("/mmn-interval/read/set-seq-is-the-contract",
                    test_read_requires_set_seq);
    g_test_add_func("/mmn-interval/deferred/insert-while-invalidating",
                    test_deferred_insert);
    g_test_add_func("/mmn-interval/deferred/insert-partially-excluded-"
                    "collides", test_insert_partially_excluded);
    g_test_add_func("/mmn-interval/deferred/remove-cancels-pending-insert",
                    test_remove_cancels_deferred_insert);
    g_test_add_func("/mmn-interval/remove/while-invalidating-no-more-"
                    "callbacks", test_remove_while_invalidating);
    g_test_add_func("/mmn-interval/callbacks/remove-refused-insert-deferred",
                    test_callbacks_remove_refused_insert_deferred);
    g_test_add_func("/mmn-interval/remove/not-inserted-is-misuse",
                    test_remove_not_inserted);
    g_test_add_func("/mmn-interval/nonblock/invalidate-false-eagain-write-"
                    "side-closed", test_nonblock_invalidate_false);
    g_test_add_func("/mmn-interval/blockable/invalidate-false-warns-and-"
                    "continues", test_blockable_invalidate_false);
    g_test_add_func("/mmn-interval/nonblock/hlist-failure-closes-itree",
                    test_nonblock_hlist_failure_closes_itree);
    g_test_add_func("/mmn-interval/release/whole-tree-release-event-then-"
                    "hlist", test_release_whole_tree);
    g_test_add_func("/mmn-interval/migrate/owner-reaches-invalidate",
                    test_migrate_owner);
    g_test_add_func("/mmn-interval/insert/first-insert-during-open-range",
                    test_first_insert_during_open_range);
    return g_test_run();
}
