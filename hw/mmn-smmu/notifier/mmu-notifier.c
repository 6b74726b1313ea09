/*
 * mmn-smmu notifier layer: address spaces, subscriptions, ranges,
 * arch_invalidate_secondary_tlbs, change_pte, release and the get/put
 * lifetime.
 *
 * (The young family is in notifier-young.c.)
 *
 * Modelled on Linux 6.6+ mm/mmu_notifier.c, with the older and unmerged
 * behaviours the device offers: Linux <= 6.5 invalidate_range called from
 * invalidate_range_end (6.1 mn_hlist_invalidate_end(), per-mm legacy
 * mode), the unmerged young-bitmap series' test_clear_young and the
 * unmerged "mmu_notifiers: Notify on pte permission upgrades" patch's
 * MMU_NOTIFY_PROTECTION_UPGRADE.
 *
 * Concurrency: everything runs under the BQL (unit tests: one thread);
 * there is no lock here.  What Linux gets from SRCU (walks that survive a
 * concurrent put) we get from mm->walking: while callbacks run, the
 * subscription list does not change shape; mmn_notifier_put() only marks
 * the subscription dead and free_notifier() runs when the walk ends.
 * Entry points that would change a list or start a nested walk are
 * refused inside callbacks of any mm (-EBUSY, see mmn_in_walk()).
 * Nothing here sleeps.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "mmu-notifier-internal.h"
#include "trace.h"

static char mmn_global_last_error[192];

/* Walks running, over every mm (0 or 1: walks never nest). */
static unsigned mmn_walks_running;

bool mmn_in_walk(void)
{
    return mmn_walks_running != 0;
}

void mmn_misuse(MmnMm *mm, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (mm) {
        mm->misuse_count++;
        g_strlcpy(mm->last_error, msg, sizeof(mm->last_error));
    }
    g_strlcpy(mmn_global_last_error, msg, sizeof(mmn_global_last_error));
    trace_mmn_notifier_misuse(mm, msg);
    qemu_log_mask(LOG_GUEST_ERROR, "mmn-notifier: %s\n", msg);
}

/* An error that is not misuse (e.g. alloc_notifier failed). */
static void mmn_note_error(MmnMm *mm, const char *msg)
{
    g_strlcpy(mm->last_error, msg, sizeof(mm->last_error));
    g_strlcpy(mmn_global_last_error, msg, sizeof(mmn_global_last_error));
}

static const char *const mmn_event_names[MMN_NOTIFY__MAX] = {
    [MMN_NOTIFY_UNMAP] = "UNMAP",
    [MMN_NOTIFY_CLEAR] = "CLEAR",
    [MMN_NOTIFY_PROTECTION_VMA] = "PROTECTION_VMA",
    [MMN_NOTIFY_PROTECTION_PAGE] = "PROTECTION_PAGE",
    [MMN_NOTIFY_SOFT_DIRTY] = "SOFT_DIRTY",
    [MMN_NOTIFY_RELEASE] = "RELEASE",
    [MMN_NOTIFY_MIGRATE] = "MIGRATE",
    [MMN_NOTIFY_EXCLUSIVE] = "EXCLUSIVE",
    [MMN_NOTIFY_PROTECTION_UPGRADE] = "PROTECTION_UPGRADE",
};

const char *mmn_notify_event_name(MmnNotifyEvent event)
{
    if ((unsigned)event >= MMN_NOTIFY__MAX) {
        return "INVALID";
    }
    return mmn_event_names[event];
}

void mmn_notifier_range_init(MmnNotifierRange *range, MmnNotifyEvent event,
                             unsigned flags, MmnMm *mm,
                             uint64_t start, uint64_t end)
{
    mmn_notifier_range_init_owner(range, event, flags, mm, start, end, NULL);
}

void mmn_notifier_range_init_owner(MmnNotifierRange *range,
                                   MmnNotifyEvent event, unsigned flags,
                                   MmnMm *mm, uint64_t start, uint64_t end,
                                   void *owner)
{
    range->event = event;
    range->mm = mm;
    range->start = start;
    range->end = end;
    range->flags = flags;
    range->owner = owner;
}

/*
 * Address spaces
 */

MmnMm *mmn_mm_new(void)
{
    MmnMm *mm = g_new0(MmnMm, 1);

    mm->refcount = 1;                   /* the owner's */
    QLIST_INIT(&mm->list);
    mm->open_ranges = g_array_new(false, false, sizeof(MmnOpenRange));
    mm->pending_free = g_ptr_array_new();
    /* __mmu_notifier_register(): subscriptions->invalidate_seq = 2 */
    mm->invalidate_seq = 2;
    mm->itree = (IntervalTreeRoot){ };
    QLIST_INIT(&mm->deferred_list);
    return mm;
}

void mmn_mm_grab(MmnMm *mm)
{
    mm->refcount++;
}

void mmn_mm_drop(MmnMm *mm)
{
    if (--mm->refcount) {
        return;
    }
    /*
     * Every subscription and interval notifier holds a reference, so
     * nothing can point here any more.
     */
    g_array_free(mm->open_ranges, true);
    g_ptr_array_free(mm->pending_free, true);
    g_free(mm);
}

/* Free the subscriptions put to zero during the walk that just ended. */
static void mmn_flush_pending_free(MmnMm *mm)
{
    while (mm->pending_free->len) {
        MmnNotifier *sub = g_ptr_array_steal_index(mm->pending_free, 0);

        if (QLIST_IS_INSERTED(sub, hlist)) {
            QLIST_SAFE_REMOVE(sub, hlist);
        }
        sub->state = MMN_SUB_UNREGISTERED;
        sub->mm = NULL;
        trace_mmn_notifier_free(sub, mm);
        if (sub->ops->free_notifier) {
            sub->ops->free_notifier(sub);
        }
        mmn_mm_drop(mm);    /* pairs with the grab in register */
    }
}

/*
 * A walk delivers callbacks.  The temporary reference keeps @mm alive
 * until mmn_walk_end() even if a callback puts the last subscription;
 * the caller must not touch @mm after mmn_walk_end().
 */
void mmn_walk_begin(MmnMm *mm)
{
    mmn_mm_grab(mm);
    mm->walking++;
    mmn_walks_running++;
}

void mmn_walk_end(MmnMm *mm)
{
    mmn_walks_running--;
    mm->walking--;
    if (!mm->walking) {
        mmn_flush_pending_free(mm);
    }
    mmn_mm_drop(mm);
}

/* Common checks of the entry points that deliver callbacks. */
int mmn_check_call(MmnMm *mm, const char *what)
{
    if (!mm) {
        mmn_misuse(NULL, "%s: no address space", what);
        return -EINVAL;
    }
    if (mmn_in_walk()) {
        mmn_misuse(mm, "%s called from a notifier callback", what);
        return -EBUSY;
    }
    if (mm->released) {
        mmn_misuse(mm, "%s after release of the address space", what);
        return -ESRCH;
    }
    return 0;
}

int mmn_check_range(MmnMm *mm, const char *what, uint64_t start,
                    uint64_t end)
{
    if (end <= start) {
        mmn_misuse(mm, "%s: range [0x%" PRIx64 ", 0x%" PRIx64
                   ") has end <= start", what, start, end);
        return -EINVAL;
    }
    return 0;
}

void mmn_mm_free(MmnMm *mm)
{
    if (!mm) {
        return;
    }
    if (mmn_in_walk()) {
        mmn_misuse(mm, "mmn_mm_free called from a notifier callback");
        return;
    }
    if (mm->owner_gone) {
        mmn_misuse(mm, "mmn_mm_free called twice");
        return;
    }
    /* mmput() -> exit_mmap() -> mmu_notifier_release() */
    if (!mm->released) {
        mmn_notifier_release(mm);
    }
    mm->owner_gone = true;
    mmn_mm_drop(mm);
}

bool mmn_mm_set_legacy_invalidate_range(MmnMm *mm, bool legacy)
{
    if (!QLIST_EMPTY(&mm->list) || mm->open_ranges->len || mm->walking) {
        mmn_misuse(mm, "kernel generation changed while subscriptions or "
                   "ranges exist");
        return false;
    }
    mm->legacy_invalidate_range = legacy;
    return true;
}

bool mmn_mm_legacy_invalidate_range(const MmnMm *mm)
{
    return mm->legacy_invalidate_range;
}

/*
 * mm_has_notifiers(): mm->notifier_subscriptions, which the first
 * __mmu_notifier_register() creates and only the mm's destruction frees:
 * true from the first registration or interval insert on, even once
 * everything is unregistered again.
 */
bool mmn_mm_has_notifiers(const MmnMm *mm)
{
    return mm->has_notifiers;
}

unsigned mmn_mm_refcount(const MmnMm *mm)
{
    return mm->refcount;
}

bool mmn_mm_is_released(const MmnMm *mm)
{
    return mm->released;
}

unsigned long mmn_mm_invalidate_seq(const MmnMm *mm)
{
    return mm->invalidate_seq;
}

unsigned long mmn_mm_active_invalidate_ranges(const MmnMm *mm)
{
    return mm->active_invalidate_ranges;
}

unsigned mmn_mm_nr_subscriptions(const MmnMm *mm)
{
    return mm->nr_subs;
}

unsigned mmn_mm_nr_interval_notifiers(const MmnMm *mm)
{
    return mm->nr_itree;
}

unsigned mmn_mm_misuse_count(const MmnMm *mm)
{
    return mm->misuse_count;
}

const char *mmn_mm_last_error(const MmnMm *mm)
{
    return mm ? mm->last_error : mmn_global_last_error;
}

/*
 * Subscriptions
 */

/* __mmu_notifier_register() */
int mmn_notifier_register(MmnNotifier *sub, MmnMm *mm)
{
    const MmnNotifierOps *ops;

    if (!sub || !mm || !sub->ops) {
        mmn_misuse(mm, "register: NULL subscription, mm or ops");
        return -EINVAL;
    }
    ops = sub->ops;
    if (mmn_in_walk()) {
        mmn_misuse(mm, "register called from a notifier callback");
        return -EBUSY;
    }
    if (sub->state == MMN_SUB_LINKED || sub->state == MMN_SUB_RELEASED ||
        sub->state == MMN_SUB_DEAD) {
        mmn_misuse(mm, "register: subscription %p is already registered",
                   sub);
        return -EEXIST;
    }
    if (mm->released) {
        /* Linux: BUG_ON(mm_users <= 0) */
        mmn_misuse(mm, "register after release of the address space");
        return -ESRCH;
    }
    /*
     * "Subsystems should only register for invalidate_secondary_tlbs() or
     * invalidate_range_start()/end() callbacks, not both." (6.6+; Linux
     * <= 6.5 allowed both, e.g. KVM's invalidate_range.)
     */
    if (!mm->legacy_invalidate_range && ops->arch_invalidate_secondary_tlbs &&
        (ops->invalidate_range_start || ops->invalidate_range_end)) {
        mmn_misuse(mm, "register: arch_invalidate_secondary_tlbs together "
                   "with invalidate_range_start/end is refused (Linux 6.6+)");
        return -EINVAL;
    }

    mmn_mm_grab(mm);        /* pairs with the drop in unregister/put */
    sub->mm = mm;
    sub->users = 1;
    sub->reg_gen = mm->reg_gen++;
    sub->start_failed = false;
    sub->state = MMN_SUB_LINKED;
    QLIST_INSERT_HEAD(&mm->list, sub, hlist);
    mm->nr_subs++;
    mm->has_notifiers = true;
    trace_mmn_notifier_register(sub, mm, mm->nr_subs);
    return 0;
}

/* mmu_notifier_unregister() */
int mmn_notifier_unregister(MmnNotifier *sub, MmnMm *mm)
{
    if (!sub || !mm) {
        mmn_misuse(mm, "unregister: NULL subscription or mm");
        return -EINVAL;
    }
    if ((sub->state != MMN_SUB_LINKED && sub->state != MMN_SUB_RELEASED) ||
        sub->mm != mm) {
        mmn_misuse(mm, "unregister: subscription %p is not registered on "
                   "this address space", sub);
        return -ENOENT;
    }
    if (mmn_in_walk()) {
        mmn_misuse(mm, "unregister called from a notifier callback");
        return -EBUSY;
    }

    trace_mmn_notifier_unregister(sub, mm, sub->state == MMN_SUB_LINKED &&
                                  sub->ops->release);
    mmn_walk_begin(mm);
    /* Still hashed: the mm's release did not reach it, we deliver it. */
    if (sub->state == MMN_SUB_LINKED && sub->ops->release) {
        sub->ops->release(sub, mm);
    }
    if (sub->state == MMN_SUB_LINKED) {
        QLIST_SAFE_REMOVE(sub, hlist);
        mm->nr_subs--;
    }
    /* If release put the last get reference, the walk end frees it. */
    if (sub->state != MMN_SUB_DEAD) {
        sub->state = MMN_SUB_UNREGISTERED;
        sub->mm = NULL;
        mmn_mm_drop(mm);    /* pairs with the grab in register */
    }
    mmn_walk_end(mm);
    return 0;
}

/* find_get_mmu_notifier() + mmu_notifier_get_locked() */
MmnNotifier *mmn_notifier_get(const MmnNotifierOps *ops, MmnMm *mm)
{
    MmnNotifier *sub;
    int ret;

    if (!ops || !mm) {
        mmn_misuse(mm, "get: NULL ops or mm");
        return NULL;
    }
    if (mmn_in_walk()) {
        mmn_misuse(mm, "get called from a notifier callback");
        return NULL;
    }
    if (mm->released) {
        mmn_misuse(mm, "get after release of the address space");
        return NULL;
    }
    QLIST_FOREACH(sub, &mm->list, hlist) {
        if (sub->state != MMN_SUB_LINKED || sub->ops != ops) {
            continue;
        }
        if (sub->users == UINT_MAX) {
            mmn_misuse(mm, "get: too many references (-EOVERFLOW)");
            return NULL;
        }
        sub->users++;
        trace_mmn_notifier_get(sub, mm, sub->users);
        return sub;
    }
    if (!ops->alloc_notifier || !ops->free_notifier) {
        mmn_misuse(mm, "get: ops without alloc_notifier/free_notifier");
        return NULL;
    }
    sub = ops->alloc_notifier(mm);
    if (!sub) {
        mmn_note_error(mm, "get: alloc_notifier failed");
        return NULL;
    }
    sub->ops = ops;
    sub->state = MMN_SUB_UNUSED;
    sub->hlist.le_prev = NULL;
    sub->hlist.le_next = NULL;
    ret = mmn_notifier_register(sub, mm);
    if (ret) {
        ops->free_notifier(sub);
        return NULL;
    }
    trace_mmn_notifier_get(sub, mm, sub->users);
    return sub;
}

/*
 * mmu_notifier_put() + mmu_notifier_free_rcu().  Linux always frees from
 * an SRCU callback (call_srcu), once no callback of any mm runs.  Under
 * the BQL the only callbacks that can be running are those of the walk we
 * are in, if any: inside a walk of this mm the free waits for its end;
 * otherwise no callback can be running and the SRCU grace period is
 * empty, so the free happens at once, one of the orders Linux allows
 * (free_notifier runs at some point after put; mmu_notifier_synchronize()
 * waits for it).
 */
int mmn_notifier_put(MmnNotifier *sub)
{
    MmnMm *mm;

    if (!sub || (sub->state != MMN_SUB_LINKED &&
                 sub->state != MMN_SUB_RELEASED)) {
        mmn_misuse(sub ? sub->mm : NULL,
                   "put: subscription %p is not registered", sub);
        return -ENOENT;
    }
    mm = sub->mm;
    if (!sub->users) {
        /* Linux: WARN_ON(!subscription->users) */
        mmn_misuse(mm, "put: subscription %p has no reference left", sub);
        return -ENOENT;
    }
    trace_mmn_notifier_put(sub, mm, sub->users - 1,
                           sub->users == 1 && mm->walking);
    if (--sub->users) {
        return 0;
    }
    if (sub->state == MMN_SUB_LINKED) {
        mm->nr_subs--;
    }
    if (mm->walking) {
        /* call_srcu(): free once the callbacks running now are done */
        sub->state = MMN_SUB_DEAD;
        g_ptr_array_add(mm->pending_free, sub);
        return 0;
    }
    g_ptr_array_add(mm->pending_free, sub);
    mmn_flush_pending_free(mm);
    return 0;
}

/*
 * Ranges
 */

/* mn_hlist_invalidate_range_start() */
static int mn_hlist_invalidate_range_start(MmnMm *mm,
                                           const MmnNotifierRange *range)
{
    bool blockable = mmn_notifier_range_blockable(range);
    MmnNotifier *sub;
    int ret = 0;

    QLIST_FOREACH(sub, &mm->list, hlist) {
        const MmnNotifierOps *ops = sub->ops;
        int r;

        sub->start_failed = false;
        if (sub->state != MMN_SUB_LINKED || !ops->invalidate_range_start) {
            continue;
        }
        r = ops->invalidate_range_start(sub, range);
        if (!r) {
            continue;
        }
        if (blockable) {
            /*
             * Linux WARNs, returns the error to a caller that ignores it
             * and later ends the range again.  We ignore the failure: the
             * range stays open and the subscriber gets its end.
             */
            mmn_misuse(mm, "invalidate_range_start of %p failed with %d in "
                       "a blockable range (ignored)", sub, r);
            continue;
        }
        if (r != -EAGAIN) {
            mmn_misuse(mm, "invalidate_range_start of %p failed with %d, "
                       "not -EAGAIN", sub, r);
        }
        if (ops->invalidate_range_end) {
            /* Linux: WARN_ON(ops->invalidate_range_end) */
            mmn_misuse(mm, "subscription %p failed start but has an end op; "
                       "it gets no end", sub);
        }
        sub->start_failed = true;
        ret = r;
    }
    if (ret) {
        /*
         * Non-blocking: subscribers that succeeded expect their end; the
         * one(s) that failed get none.  (Linux calls every end op and
         * relies on failing subscribers having none.)
         */
        QLIST_FOREACH(sub, &mm->list, hlist) {
            if (sub->state != MMN_SUB_LINKED || sub->start_failed ||
                !sub->ops->invalidate_range_end) {
                continue;
            }
            sub->ops->invalidate_range_end(sub, range);
        }
    }
    QLIST_FOREACH(sub, &mm->list, hlist) {
        sub->start_failed = false;
    }
    return ret;
}

/* __mmu_notifier_invalidate_range_start() */
int mmn_notifier_invalidate_range_start(const MmnNotifierRange *range)
{
    MmnMm *mm = range ? range->mm : NULL;
    MmnOpenRange open;
    int ret;

    ret = mmn_check_call(mm, "invalidate_range_start");
    if (ret) {
        return ret;
    }
    ret = mmn_check_range(mm, "invalidate_range_start", range->start,
                          range->end);
    if (ret) {
        return ret;
    }
    if ((unsigned)range->event >= MMN_NOTIFY__MAX) {
        mmn_misuse(mm, "invalidate_range_start: unknown event %u",
                   (unsigned)range->event);
        return -EINVAL;
    }
    if (mm->open_ranges->len >= MMN_NOTIFIER_MAX_OPEN_RANGES) {
        mmn_misuse(mm, "invalidate_range_start: %u ranges already open",
                   mm->open_ranges->len);
        return -ENOSPC;
    }

    mmn_walk_begin(mm);
    /* Linux skips the itree until the first insert; see the docs. */
    ret = mmn_itree_invalidate(mm, range);
    if (!ret) {
        ret = mn_hlist_invalidate_range_start(mm, range);
        if (ret) {
            /*
             * Linux leaves the itree write side held here (the caller may
             * not call end); we close it so invalidate_seq returns to
             * even and readers can make progress.
             */
            mmn_itree_inv_end(mm);
        }
    }
    if (!ret) {
        open = (MmnOpenRange) {
            .start = range->start,
            .end = range->end,
            .flags = range->flags & MMN_NOTIFIER_RANGE_BLOCKABLE,
            .event = range->event,
            .owner = range->owner,
            .reg_gen = mm->reg_gen,
        };
        g_array_append_val(mm->open_ranges, open);
    }
    trace_mmn_notifier_range_start(mm, mmn_notify_event_name(range->event),
                                   range->start, range->end,
                                   mmn_notifier_range_blockable(range), ret,
                                   mm->open_ranges->len);
    mmn_walk_end(mm);
    return ret;
}

int mmn_mm_for_each_open_range(MmnMm *mm, MmnOpenRangeFn fn, void *opaque)
{
    unsigned i;
    int ret;

    for (i = 0; i < mm->open_ranges->len; i++) {
        const MmnOpenRange *o = &g_array_index(mm->open_ranges,
                                               MmnOpenRange, i);
        MmnNotifierRange range;

        mmn_notifier_range_init_owner(&range, o->event, o->flags, mm,
                                      o->start, o->end, o->owner);
        ret = fn(&range, opaque);
        if (ret) {
            return ret;
        }
    }
    return 0;
}

unsigned mmn_mm_nr_open_ranges(const MmnMm *mm)
{
    return mm->open_ranges->len;
}

static int mmn_find_open_range(MmnMm *mm, const MmnNotifierRange *range)
{
    int i;

    for (i = mm->open_ranges->len - 1; i >= 0; i--) {
        MmnOpenRange *o = &g_array_index(mm->open_ranges, MmnOpenRange, i);

        if (o->start == range->start && o->end == range->end &&
            o->event == range->event && o->owner == range->owner &&
            o->flags == (range->flags & MMN_NOTIFIER_RANGE_BLOCKABLE)) {
            return i;
        }
    }
    return -1;
}

/* __mmu_notifier_invalidate_range_end() (6.6) / (range, only_end) (6.1) */
static int mmn_invalidate_range_end(const MmnNotifierRange *range,
                                    bool only_end)
{
    const char *what = only_end ? "invalidate_range_only_end"
                                : "invalidate_range_end";
    MmnMm *mm = range ? range->mm : NULL;
    MmnNotifier *sub;
    uint64_t reg_gen;
    int ret, i;

    if (!mm) {
        mmn_misuse(NULL, "%s: no address space", what);
        return -EINVAL;
    }
    if (mmn_in_walk()) {
        mmn_misuse(mm, "%s called from a notifier callback", what);
        return -EBUSY;
    }
    ret = mmn_check_range(mm, what, range->start, range->end);
    if (ret) {
        return ret;
    }
    i = mmn_find_open_range(mm, range);
    if (i < 0) {
        mmn_misuse(mm, "%s: range [0x%" PRIx64 ", 0x%" PRIx64 ") event %s "
                   "was never started (or already ended)", what,
                   range->start, range->end,
                   mmn_notify_event_name(range->event));
        return -ENOENT;
    }
    reg_gen = g_array_index(mm->open_ranges, MmnOpenRange, i).reg_gen;
    g_array_remove_index(mm->open_ranges, i);
    trace_mmn_notifier_range_end(mm, mmn_notify_event_name(range->event),
                                 range->start, range->end, only_end,
                                 mm->open_ranges->len);
    if (mm->legacy_invalidate_range && !only_end) {
        trace_mmn_notifier_arch_invalidate_secondary_tlbs(mm, range->start,
                                                          range->end, true);
    }

    mmn_walk_begin(mm);
    mmn_itree_inv_end(mm);
    QLIST_FOREACH(sub, &mm->list, hlist) {
        const MmnNotifierOps *ops = sub->ops;

        if (sub->state != MMN_SUB_LINKED) {
            continue;
        }
        /*
         * Linux <= 6.5 mn_hlist_invalidate_end(): "Call invalidate_range
         * here too ... We skip call to invalidate_range() if we know it is
         * safe ie call site use mmu_notifier_invalidate_range_only_end()".
         * 6.1 calls it for every hashed subscription.  It is a flush, not
         * half of a pair, so a subscription registered after the start
         * gets it too: its TLB may hold entries of the range that the
         * caller changed after registration (6.1's SMMU SVA has only this
         * op and relies on it).
         */
        if (mm->legacy_invalidate_range && !only_end &&
            ops->arch_invalidate_secondary_tlbs) {
            ops->arch_invalidate_secondary_tlbs(sub, mm, range->start,
                                                range->end);
        }
        /* registered after the start: its start was never called */
        if (ops->invalidate_range_end && sub->reg_gen < reg_gen) {
            ops->invalidate_range_end(sub, range);
        }
    }
    mmn_walk_end(mm);
    return 0;
}

int mmn_notifier_invalidate_range_end(const MmnNotifierRange *range)
{
    return mmn_invalidate_range_end(range, false);
}

int mmn_notifier_invalidate_range_only_end(const MmnNotifierRange *range)
{
    return mmn_invalidate_range_end(range, true);
}

/*
 * Calls without a range
 */

/* __mmu_notifier_arch_invalidate_secondary_tlbs() */
int mmn_notifier_arch_invalidate_secondary_tlbs(MmnMm *mm, uint64_t start,
                                                uint64_t end)
{
    const char *what = "arch_invalidate_secondary_tlbs";
    MmnNotifier *sub;
    int ret;

    ret = mmn_check_call(mm, what);
    if (!ret) {
        ret = mmn_check_range(mm, what, start, end);
    }
    if (ret) {
        return ret;
    }
    trace_mmn_notifier_arch_invalidate_secondary_tlbs(mm, start, end, false);
    mmn_walk_begin(mm);
    QLIST_FOREACH(sub, &mm->list, hlist) {
        if (sub->state == MMN_SUB_LINKED &&
            sub->ops->arch_invalidate_secondary_tlbs) {
            sub->ops->arch_invalidate_secondary_tlbs(sub, mm, start, end);
        }
    }
    mmn_walk_end(mm);
    return 0;
}

/* __mmu_notifier_change_pte() */
int mmn_notifier_change_pte(MmnMm *mm, uint64_t address, uint64_t pte)
{
    MmnNotifier *sub;
    int ret;

    ret = mmn_check_call(mm, "change_pte");
    if (ret) {
        return ret;
    }
    trace_mmn_notifier_change_pte(mm, address, pte);
    mmn_walk_begin(mm);
    QLIST_FOREACH(sub, &mm->list, hlist) {
        if (sub->state == MMN_SUB_LINKED && sub->ops->change_pte) {
            sub->ops->change_pte(sub, mm, address, pte);
        }
    }
    mmn_walk_end(mm);
    return 0;
}

/* mn_hlist_release(): every release first, then unlink them all */
static void mn_hlist_release(MmnMm *mm)
{
    MmnNotifier *sub, *next;

    QLIST_FOREACH(sub, &mm->list, hlist) {
        if (sub->state == MMN_SUB_LINKED && sub->ops->release) {
            sub->ops->release(sub, mm);
        }
    }
    QLIST_FOREACH_SAFE(sub, &mm->list, hlist, next) {
        if (sub->state == MMN_SUB_LINKED) {
            sub->state = MMN_SUB_RELEASED;
            mm->nr_subs--;
        }
        /* DEAD ones stay on pending_free, which copes with unlinked. */
        QLIST_SAFE_REMOVE(sub, hlist);
    }
}

/* __mmu_notifier_release() */
int mmn_notifier_release(MmnMm *mm)
{
    if (!mm) {
        mmn_misuse(NULL, "release: no address space");
        return -EINVAL;
    }
    if (mmn_in_walk()) {
        mmn_misuse(mm, "release called from a notifier callback");
        return -EBUSY;
    }
    if (mm->released) {
        mmn_misuse(mm, "release: the address space was already released");
        return -ESRCH;
    }
    mm->released = true;
    trace_mmn_notifier_release(mm, mm->nr_subs);
    mmn_walk_begin(mm);
    mmn_itree_release(mm);
    mn_hlist_release(mm);
    mmn_walk_end(mm);
    return 0;
}
