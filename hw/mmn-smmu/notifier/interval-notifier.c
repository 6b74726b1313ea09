/*
 * mmn-smmu notifier layer: interval notifiers.
 *
 * Linux 6.6+ mm/mmu_notifier.c mn_itree_* and
 * mmu_interval_*, over QEMU's interval tree.  The collision-retry
 * "lock" works as in Linux:
 *
 *  - mm->invalidate_seq is even when no invalidation overlaps an interval
 *    notifier, odd ("fully excluded") while at least one does; it starts
 *    at 2.  seq |= 1 begins writing, seq++ ends it, seq & 1 says whether a
 *    writer exists.
 *  - mm->active_invalidate_ranges counts open ranges (nested and
 *    overlapping ones included); only the last end makes the seq even
 *    again and applies deferred inserts.
 *  - ops->invalidate gets cur_seq (odd) and records it with
 *    mmn_interval_set_seq(); a reader whose seq differs must retry; a
 *    subscription whose seq equals mm->invalidate_seq is being
 *    invalidated right now.
 *
 * Concurrency: the BQL protects every field (it stands for Linux's
 * subscriptions->lock and the caller's "user lock").  The tree is only
 * walked inside mmn_notifier_invalidate_range_start() and release; during
 * such a walk invalidate_seq is odd, so inserts made from callbacks are
 * deferred exactly as in Linux, and removes are refused from any
 * callback (Linux forbids them from callbacks).  Nothing here waits: see
 * read_begin_nowait().
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/host-utils.h"
#include "mmu-notifier-internal.h"
#include "trace.h"

static bool mn_itree_is_invalidating(MmnMm *mm)
{
    return mm->invalidate_seq & 1;
}

static MmnIntervalNotifier *mn_itree_from_node(IntervalTreeNode *node)
{
    return node ? container_of(node, MmnIntervalNotifier, interval_tree)
                : NULL;
}

/* mn_itree_inv_start_range() */
static MmnIntervalNotifier *
mn_itree_inv_start_range(MmnMm *mm, const MmnNotifierRange *range,
                         unsigned long *seq)
{
    IntervalTreeNode *node;

    mm->active_invalidate_ranges++;
    node = interval_tree_iter_first(&mm->itree, range->start,
                                    range->end - 1);
    if (node) {
        mm->invalidate_seq |= 1;
    }
    *seq = mm->invalidate_seq;
    trace_mmn_interval_inv_begin(mm, range->start, range->end, *seq,
                                 mm->active_invalidate_ranges);
    return mn_itree_from_node(node);
}

/* mn_itree_inv_next() */
static MmnIntervalNotifier *mn_itree_inv_next(MmnIntervalNotifier *sub,
                                              const MmnNotifierRange *range)
{
    return mn_itree_from_node(interval_tree_iter_next(&sub->interval_tree,
                                                      range->start,
                                                      range->end - 1));
}

/* mn_itree_inv_end() */
void mmn_itree_inv_end(MmnMm *mm)
{
    MmnIntervalNotifier *sub, *next;

    if (!mm->active_invalidate_ranges) {
        /* Cannot happen: every caller matched an inv_start_range(). */
        mmn_misuse(mm, "interval notifier: unbalanced invalidation end");
        return;
    }
    if (--mm->active_invalidate_ranges || !mn_itree_is_invalidating(mm)) {
        trace_mmn_interval_inv_end(mm, mm->invalidate_seq,
                                   mm->active_invalidate_ranges);
        return;
    }
    /* Make invalidate_seq even */
    mm->invalidate_seq++;
    trace_mmn_interval_inv_end(mm, mm->invalidate_seq, 0);
    /*
     * "The inv_end incorporates a deferred mechanism like rtnl_unlock().
     * Adds and removes are queued until the final inv_end happens then
     * they are progressed."  (Only adds reach here: see remove.)
     */
    QLIST_FOREACH_SAFE(sub, &mm->deferred_list, deferred_item, next) {
        QLIST_SAFE_REMOVE(sub, deferred_item);
        interval_tree_insert(&sub->interval_tree, &mm->itree);
        sub->state = MMN_ISUB_IN_TREE;
        mm->nr_itree++;
    }
}

/* mn_itree_invalidate(): 0, or -EAGAIN with the write side closed */
int mmn_itree_invalidate(MmnMm *mm, const MmnNotifierRange *range)
{
    MmnIntervalNotifier *sub;
    unsigned long cur_seq;

    for (sub = mn_itree_inv_start_range(mm, range, &cur_seq); sub;
         sub = mn_itree_inv_next(sub, range)) {
        if (sub->ops->invalidate(sub, range, cur_seq)) {
            continue;
        }
        if (mmn_notifier_range_blockable(range)) {
            /* Linux: WARN_ON(mmu_notifier_range_blockable(range)) */
            mmn_misuse(mm, "interval notifier %p refused a blockable "
                       "invalidation (ignored)", sub);
            continue;
        }
        /*
         * "On -EAGAIN the non-blocking caller is not allowed to call
         * invalidate_range_end()"
         */
        mmn_itree_inv_end(mm);
        return -EAGAIN;
    }
    return 0;
}

/* mn_itree_release() */
void mmn_itree_release(MmnMm *mm)
{
    MmnNotifierRange range = {
        .flags = MMN_NOTIFIER_RANGE_BLOCKABLE,
        .event = MMN_NOTIFY_RELEASE,
        .mm = mm,
        .start = 0,
        .end = UINT64_MAX,
    };
    MmnIntervalNotifier *sub;
    unsigned long cur_seq;

    for (sub = mn_itree_inv_start_range(mm, &range, &cur_seq); sub;
         sub = mn_itree_inv_next(sub, &range)) {
        if (!sub->ops->invalidate(sub, &range, cur_seq)) {
            /* Linux: WARN_ON(!ret) */
            mmn_misuse(mm, "interval notifier %p refused the release", sub);
        }
    }
    mmn_itree_inv_end(mm);
}

/* __mmu_interval_notifier_insert() */
int mmn_interval_notifier_insert(MmnIntervalNotifier *sub, MmnMm *mm,
                                 uint64_t start, uint64_t length,
                                 const MmnIntervalNotifierOps *ops)
{
    uint64_t last;

    if (!sub || !mm || !ops || !ops->invalidate) {
        mmn_misuse(mm, "interval insert: NULL subscription, mm or ops");
        return -EINVAL;
    }
    if (sub->state == MMN_ISUB_IN_TREE ||
        sub->state == MMN_ISUB_DEFERRED_INSERT) {
        mmn_misuse(mm, "interval insert: %p is already inserted", sub);
        return -EEXIST;
    }
    /*
     * "Note that the representation of the intervals in the interval tree
     * considers the ending point as contained in the interval."
     */
    if (length == 0 || uadd64_overflow(start, length - 1, &last)) {
        mmn_misuse(mm, "interval insert: [0x%" PRIx64 ", +0x%" PRIx64
                   ") is empty or wraps (-EOVERFLOW)", start, length);
        return -EOVERFLOW;
    }
    if (mm->released) {
        /* Linux: WARN_ON(mm_users <= 0), -EINVAL */
        mmn_misuse(mm, "interval insert after release of the address "
                   "space");
        return -ESRCH;
    }

    mmn_mm_grab(mm);    /* pairs with the drop in remove */
    /* mmu_interval_notifier_insert(): __mmu_notifier_register(NULL, mm) */
    mm->has_notifiers = true;
    sub->mm = mm;
    sub->ops = ops;
    sub->interval_tree = (IntervalTreeNode) {
        .start = start,
        .last = last,
    };
    /*
     * "If some invalidate_range_start/end region is going on in parallel
     * we don't know what VA ranges are affected, so we must assume this
     * new range is included.
     *
     * If the itree is invalidating then we are not allowed to change
     * it. ... defer the add to mn_itree_inv_end() so this algorithm is
     * deterministic.
     *
     * In all cases the value for the interval_sub->invalidate_seq should be
     * odd, see mmu_interval_read_begin()"
     */
    if (mm->active_invalidate_ranges) {
        if (mn_itree_is_invalidating(mm)) {
            QLIST_INSERT_HEAD(&mm->deferred_list, sub, deferred_item);
            sub->state = MMN_ISUB_DEFERRED_INSERT;
        } else {
            mm->invalidate_seq |= 1;
            interval_tree_insert(&sub->interval_tree, &mm->itree);
            sub->state = MMN_ISUB_IN_TREE;
            mm->nr_itree++;
        }
        sub->invalidate_seq = mm->invalidate_seq;
    } else {
        /*
         * "The starting seq for a subscription not under invalidation
         * should be odd, not equal to the current invalidate_seq and
         * invalidate_seq should not 'wrap' to the new seq any time soon."
         */
        sub->invalidate_seq = mm->invalidate_seq - 1;
        interval_tree_insert(&sub->interval_tree, &mm->itree);
        sub->state = MMN_ISUB_IN_TREE;
        mm->nr_itree++;
    }
    trace_mmn_interval_insert(sub, mm, start, last,
                              sub->state == MMN_ISUB_DEFERRED_INSERT);
    return 0;
}

/* mmu_interval_notifier_remove() */
int mmn_interval_notifier_remove(MmnIntervalNotifier *sub)
{
    MmnMm *mm;

    if (!sub || (sub->state != MMN_ISUB_IN_TREE &&
                 sub->state != MMN_ISUB_DEFERRED_INSERT)) {
        mmn_misuse(NULL, "interval remove: %p is not inserted", sub);
        return -ENOENT;
    }
    mm = sub->mm;
    if (mmn_in_walk()) {
        /* "It cannot be called from any ops callback." */
        mmn_misuse(mm, "interval remove called from a notifier callback");
        return -EBUSY;
    }
    if (sub->state == MMN_ISUB_DEFERRED_INSERT) {
        /*
         * "remove is being called after insert put this on the
         * deferred list, but before the deferred list was processed."
         */
        QLIST_SAFE_REMOVE(sub, deferred_item);
    } else {
        /*
         * Linux defers this while invalidate_seq is odd and sleeps until
         * the last range ends.  No walk runs now (we are not in a
         * callback, everything is under the BQL), so the tree may change:
         * remove at once, which is what Linux's caller observes on return.
         */
        interval_tree_remove(&sub->interval_tree, &mm->itree);
        mm->nr_itree--;
    }
    trace_mmn_interval_remove(sub, mm);
    sub->state = MMN_ISUB_REMOVED;
    sub->mm = NULL;
    mmn_mm_drop(mm);    /* pairs with the grab in insert */
    return 0;
}

bool mmn_interval_notifier_is_inserted(const MmnIntervalNotifier *sub)
{
    return sub->state == MMN_ISUB_IN_TREE ||
           sub->state == MMN_ISUB_DEFERRED_INSERT;
}

/*
 * mmu_interval_read_begin() without the wait_event(): false while
 * "the subscription currently has the same seq value as the
 * subscriptions seq, then it is currently between invalidate_start/end
 * and is colliding".
 */
bool mmn_interval_read_begin_nowait(MmnIntervalNotifier *sub,
                                    unsigned long *seq)
{
    MmnMm *mm;
    unsigned long s;

    *seq = MMN_INTERVAL_SEQ_COLLIDING;
    if (!mmn_interval_notifier_is_inserted(sub)) {
        mmn_misuse(NULL, "interval read_begin: %p is not inserted", sub);
        return false;
    }
    mm = sub->mm;
    if (mm->released) {
        return false;   /* nothing may be cached after release */
    }
    s = qatomic_read(&sub->invalidate_seq);
    if (s == mm->invalidate_seq) {
        trace_mmn_interval_collision(sub, mm, s);
        return false;
    }
    *seq = s;
    return true;
}

unsigned long mmn_interval_read_begin(MmnIntervalNotifier *sub)
{
    unsigned long seq;

    mmn_interval_read_begin_nowait(sub, &seq);
    return seq;
}
