/*
 * mmn-smmu notifier layer: Linux mmu_notifier semantics inside QEMU.
 *
 * A pure-logic library (no device, no QOM, no memory API) that reproduces
 * include/linux/mmu_notifier.h and mm/mmu_notifier.c: subscriptions with
 * ops per address space (Linux's mm_struct, here MmnMm), invalidation
 * ranges, the young-bit family, change_pte, release, get/put lifetime,
 * and interval notifiers with the invalidate_seq collision-retry scheme.
 * The mapping to Linux, rule by rule, and the deliberate differences are
 * in docs/devel/mmn-smmu-notifier.rst.
 *
 * CONCURRENCY MODEL
 *
 * - Every entry point must be called with the BQL held (in unit tests:
 *   from one thread).  The layer has no lock of its own: the BQL plays
 *   the part of Linux's mmap_lock, notifier_subscriptions->lock and SRCU.
 *   Nothing here sleeps or waits.
 * - The only functions that may run outside the BQL are
 *   mmn_interval_check_retry() (a hint, as in Linux) and reads of
 *   MmnIntervalNotifier.invalidate_seq through it; set_seq/read_retry
 *   must be called under the BQL (the "user lock" of Linux's scheme).
 * - Callbacks run synchronously, under the BQL, from the entry point that
 *   delivers them ("a walk").  A callback must not sleep or block, and
 *   must not call back into the layer except for: mmn_notifier_put(),
 *   mmn_interval_set_seq(), mmn_interval_read_retry(),
 *   mmn_interval_check_retry(), mmn_interval_notifier_insert() (deferred
 *   while an invalidation is active, as in Linux) and the read-only
 *   accessors.  Registering, unregistering, mmn_notifier_get(),
 *   mmn_interval_notifier_remove(), mmn_mm_free() and any entry point
 *   that delivers callbacks are refused with -EBUSY inside a callback,
 *   whichever mm the callback and the call are for (Linux's SRCU and
 *   lockdep map are global: unregister deadlocks in synchronize_srcu(),
 *   a nested start trips lockdep).  mmn_notifier_put() inside a callback
 *   of the subscription's mm defers free_notifier() to the end of the
 *   walk (Linux: SRCU); elsewhere it frees at once.
 *
 * MISUSE
 *
 * Misuse (ending a range that was never started, a range with
 * end <= start, removing or unregistering something that is not
 * registered, a second release, a call after release, ...) never aborts:
 * the call returns a negative errno, changes nothing, records a readable
 * reason (mmn_mm_last_error()) and logs it with LOG_GUEST_ERROR.
 * Structures passed to register/insert must be zero-initialised before
 * their first use (g_new0, static or memset), as Linux users kzalloc them.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MMN_SMMU_MMU_NOTIFIER_H
#define HW_MMN_SMMU_MMU_NOTIFIER_H

#include "qemu/atomic.h"
#include "qemu/interval-tree.h"
#include "qemu/queue.h"

#define MMN_PAGE_SHIFT  12
#define MMN_PAGE_SIZE   (1ULL << MMN_PAGE_SHIFT)

typedef struct MmnMm MmnMm;
typedef struct MmnNotifier MmnNotifier;
typedef struct MmnNotifierOps MmnNotifierOps;
typedef struct MmnNotifierRange MmnNotifierRange;
typedef struct MmnIntervalNotifier MmnIntervalNotifier;
typedef struct MmnIntervalNotifierOps MmnIntervalNotifierOps;

/*
 * Reason for an invalidation (enum mmu_notifier_event).  Values 0..7 are
 * Linux's; PROTECTION_UPGRADE (the May 2023 patch "mmu_notifiers: Notify
 * on pte permission upgrades", never merged: Linux 6.6 fixed the same bug
 * with arch_invalidate_secondary_tlbs) is appended as 8 instead of
 * being inserted after PROTECTION_PAGE as the patch did, so that the other
 * values keep their Linux numbers (docs/specs/mmn-smmu.rst).
 */
typedef enum MmnNotifyEvent {
    MMN_NOTIFY_UNMAP = 0,           /* munmap()/mremap() of the range */
    MMN_NOTIFY_CLEAR = 1,           /* PTEs cleared (madvise, replace, ...) */
    MMN_NOTIFY_PROTECTION_VMA = 2,  /* mprotect(): vma protection applies */
    MMN_NOTIFY_PROTECTION_PAGE = 3, /* per-page r/w change: inspect PTEs */
    MMN_NOTIFY_SOFT_DIRTY = 4,      /* soft-dirty accounting */
    MMN_NOTIFY_RELEASE = 5,         /* mm going away (interval release) */
    MMN_NOTIFY_MIGRATE = 6,         /* migrate_vma; see range owner */
    MMN_NOTIFY_EXCLUSIVE = 7,       /* device-exclusive access revoked */
    /*
     * read-only -> read-write (that patch): only drop cached entries, never
     * install or upgrade an entry from it.
     */
    MMN_NOTIFY_PROTECTION_UPGRADE = 8,
    MMN_NOTIFY__MAX
} MmnNotifyEvent;

/* "UNMAP", "CLEAR", ...; "INVALID" for a value out of range. */
const char *mmn_notify_event_name(MmnNotifyEvent event);

/* MmnNotifierRange.flags */
#define MMN_NOTIFIER_RANGE_BLOCKABLE    (1u << 0)
/* Results of test_clear_young (the unmerged young-bitmap series) */
#define MMN_NOTIFIER_RANGE_LOCKLESS     (1 << 1)  /* fast path was young */
#define MMN_NOTIFIER_RANGE_YOUNG        (1 << 2)  /* slow path was young */

/*
 * struct mmu_notifier_range of 6.6+.  [start, end): end is exclusive.
 * Linux 6.1's also has vma (read by mmu_notifier_range_update_to_read_only()
 * for MMU_NOTIFY_PROTECTION_VMA); the device has no VMAs.
 */
struct MmnNotifierRange {
    MmnMm *mm;
    uint64_t start;
    uint64_t end;
    unsigned flags;
    MmnNotifyEvent event;
    void *owner;
};

static inline bool mmn_notifier_range_blockable(const MmnNotifierRange *r)
{
    return r->flags & MMN_NOTIFIER_RANGE_BLOCKABLE;
}

/* mmu_notifier_range_init() / mmu_notifier_range_init_owner() */
void mmn_notifier_range_init(MmnNotifierRange *range, MmnNotifyEvent event,
                             unsigned flags, MmnMm *mm,
                             uint64_t start, uint64_t end);
void mmn_notifier_range_init_owner(MmnNotifierRange *range,
                                   MmnNotifyEvent event, unsigned flags,
                                   MmnMm *mm, uint64_t start, uint64_t end,
                                   void *owner);

/*
 * struct mmu_notifier_ops.  Every op is optional except alloc_notifier and
 * free_notifier for subscriptions obtained with mmn_notifier_get().
 */
struct MmnNotifierOps {
    /*
     * The address space goes away (mmn_notifier_release(), mmn_mm_free())
     * or the subscription is unregistered, whichever comes first: called
     * exactly once per registration; no callback follows it.
     */
    void (*release)(MmnNotifier *sub, MmnMm *mm);
    /*
     * Test and clear the accessed state of [start, end) and flush; return
     * non-zero if it was young.  Results of all subscribers are OR-ed.
     */
    int (*clear_flush_young)(MmnNotifier *sub, MmnMm *mm,
                             uint64_t start, uint64_t end);
    /* The same, flush optional.  OR-ed over all subscribers. */
    int (*clear_young)(MmnNotifier *sub, MmnMm *mm,
                       uint64_t start, uint64_t end);
    /* Test without clearing; the walk stops at the first young one. */
    int (*test_young)(MmnNotifier *sub, MmnMm *mm, uint64_t address);
    /*
     * The unmerged young-bitmap series.  Return 0,
     * MMN_NOTIFIER_RANGE_LOCKLESS (lock-less fast path found a young PTE)
     * or MMN_NOTIFIER_RANGE_YOUNG (slow path did).  With a non-NULL
     * @bitmap only the fast path may be used: if it fails return 0, do
     * not fall back (mmn_test_clear_young_paths() implements this).  The
     * bit of address a is mmn_young_bitmap_bit(end, a).  !clear: set the
     * bit of each young page.  clear: clear the accessed state only of
     * young pages whose bit is set.  Either way the result says whether
     * any page of [start, end) was young, selected by the bitmap or not
     * ("returns nonzero if any of the KVM PTEs within a given range was
     * young", mmu_notifier_test_clear_young() in that series).  A
     * subscriber without clear_young or test_young receives those calls
     * here, as in that series:
     * clear_young(s, e) = test_clear_young(s, e, true, NULL),
     * test_young(a) = test_clear_young(a, a + 1, false, NULL).
     */
    int (*test_clear_young)(MmnNotifier *sub, MmnMm *mm,
                            uint64_t start, uint64_t end, bool clear,
                            unsigned long *bitmap);
    /* The PTE mapping @address changes to @pte (set_pte_at_notify). */
    void (*change_pte)(MmnNotifier *sub, MmnMm *mm, uint64_t address,
                       uint64_t pte);
    /*
     * Paired start/end.  In a range without MMN_NOTIFIER_RANGE_BLOCKABLE,
     * start may return -EAGAIN ("would block"); a subscriber that can fail
     * start should not have an end op (it gets no end for a failed start).
     */
    int (*invalidate_range_start)(MmnNotifier *sub,
                                  const MmnNotifierRange *range);
    void (*invalidate_range_end)(MmnNotifier *sub,
                                 const MmnNotifierRange *range);
    /*
     * Invalidate the secondary TLB for [start, end) (Linux 6.6+; Linux
     * <= 6.5 invalidate_range).  A subscription with this op and
     * invalidate_range_start/end is refused by register (6.6+ rule) unless
     * the mm is in legacy mode.  In legacy mode it is also called from
     * mmn_notifier_invalidate_range_end() (not _only_end()), just before
     * invalidate_range_end.
     */
    void (*arch_invalidate_secondary_tlbs)(MmnNotifier *sub, MmnMm *mm,
                                           uint64_t start, uint64_t end);
    /*
     * get/put lifetime: alloc_notifier returns a new zeroed subscription
     * (usually embedded in the caller's state) or NULL on failure;
     * free_notifier is called once the last reference is put and no
     * callback runs any more.
     */
    MmnNotifier *(*alloc_notifier)(MmnMm *mm);
    void (*free_notifier)(MmnNotifier *sub);
};

/* struct mmu_notifier.  ops, mm and users are read-only for users. */
struct MmnNotifier {
    const MmnNotifierOps *ops;
    MmnMm *mm;                  /* set by register, cleared by unregister */
    unsigned int users;         /* get/put references */
    /* private to the layer */
    QLIST_ENTRY(MmnNotifier) hlist;
    uint64_t reg_gen;
    uint8_t state;
    bool start_failed;
};

/* struct mmu_interval_notifier_ops */
struct MmnIntervalNotifierOps {
    /*
     * An invalidation overlaps the subscription.  Must call
     * mmn_interval_set_seq(sub, cur_seq) (under the lock that guards
     * read_retry: the BQL) and stop using cached entries of @range.
     * Return false only if it would have to block and the range is not
     * blockable; then the start fails with -EAGAIN.
     */
    bool (*invalidate)(MmnIntervalNotifier *sub,
                       const MmnNotifierRange *range,
                       unsigned long cur_seq);
};

/* struct mmu_interval_notifier */
struct MmnIntervalNotifier {
    IntervalTreeNode interval_tree;     /* [start, last], last inclusive */
    const MmnIntervalNotifierOps *ops;
    MmnMm *mm;
    unsigned long invalidate_seq;       /* always odd */
    /* private to the layer */
    QLIST_ENTRY(MmnIntervalNotifier) deferred_item;
    uint8_t state;
};

/*
 * Address spaces.
 *
 * mmn_mm_new(): a new, empty address space (invalidate_seq starts at 2).
 * mmn_mm_free(): the owner is done with it, like mmput() reaching
 * exit_mmap(): delivers release if it was not released yet, then drops
 * the owner's reference.  Like Linux's mmgrab(), every registered
 * subscription and inserted interval notifier keeps the MmnMm allocated
 * until it is unregistered/put/removed, so teardown order does not matter.
 */
MmnMm *mmn_mm_new(void);
void mmn_mm_free(MmnMm *mm);

/*
 * Kernel generation.  false (default): Linux 6.6+.  true: Linux <= 6.5,
 * where invalidate_range_end() also calls arch_invalidate_secondary_tlbs
 * (then named invalidate_range) unless the _only_end() variant is used,
 * and a subscription may have both that op and start/end.  Can only be
 * changed while the mm has no subscription and no open range; returns
 * false (misuse) otherwise.
 */
bool mmn_mm_set_legacy_invalidate_range(MmnMm *mm, bool legacy);
bool mmn_mm_legacy_invalidate_range(const MmnMm *mm);

/* Read-only state, for callers, tests and the docs' invariants. */
/*
 * mm_has_notifiers(): true from the first registration or interval insert
 * on, also once they are all gone (Linux keeps mm->notifier_subscriptions
 * until the mm is destroyed).
 */
bool mmn_mm_has_notifiers(const MmnMm *mm);
/*
 * mmgrab() references: the owner's until mmn_mm_free(), one per
 * registration and interval insert.
 */
unsigned mmn_mm_refcount(const MmnMm *mm);
bool mmn_mm_is_released(const MmnMm *mm);
unsigned long mmn_mm_invalidate_seq(const MmnMm *mm);
unsigned long mmn_mm_active_invalidate_ranges(const MmnMm *mm);
unsigned mmn_mm_nr_subscriptions(const MmnMm *mm);  /* plain, linked */
unsigned mmn_mm_nr_interval_notifiers(const MmnMm *mm); /* in the tree */
unsigned mmn_mm_misuse_count(const MmnMm *mm);
/* Last misuse on @mm (NULL: last misuse anywhere); "" if none. */
const char *mmn_mm_last_error(const MmnMm *mm);

/* Open ranges per mm beyond which start fails with -ENOSPC. */
#define MMN_NOTIFIER_MAX_OPEN_RANGES 1024

/*
 * Subscriptions (mmu_notifier_register / _unregister / _get / _put).
 *
 * register: 0; -EINVAL (arch_invalidate_secondary_tlbs together with
 * invalidate_range_start/end in 6.6+ mode, NULL ops); -EEXIST (already
 * registered); -ESRCH (mm released); -EBUSY (inside a callback of any
 * mm).  Subscriptions are walked newest first (hlist_add_head).
 *
 * unregister: delivers release if the mm did not already, removes the
 * subscription; afterwards no callback reaches it and its memory may be
 * freed.  0; -ENOENT (not registered on @mm); -EBUSY (inside a callback).
 *
 * get: the one subscription of @mm with these @ops (users + 1), or a new
 * one from ops->alloc_notifier registered with users = 1.  NULL on
 * failure (reason in mmn_mm_last_error()).
 *
 * put: drop a reference; at zero the subscription leaves the mm (no
 * callback reaches it any more, in the current walk neither) and
 * ops->free_notifier is called: at the end of the walk if called from a
 * callback of the same mm, otherwise before put returns.  put does not
 * deliver release.  0; -ENOENT (not a registered subscription, or users
 * already 0).
 */
int mmn_notifier_register(MmnNotifier *sub, MmnMm *mm);
int mmn_notifier_unregister(MmnNotifier *sub, MmnMm *mm);
MmnNotifier *mmn_notifier_get(const MmnNotifierOps *ops, MmnMm *mm);
int mmn_notifier_put(MmnNotifier *sub);

/*
 * Invalidation ranges.
 *
 * start: walks interval notifiers overlapping [start, end) then the
 * subscriptions' invalidate_range_start.  Returns 0 (the range is open:
 * the caller must end it), -EAGAIN (non-blockable range and a subscriber
 * would block: the range is NOT open, subscribers that succeeded already
 * got their end, the one that failed gets none), or misuse: -EINVAL
 * (end <= start, bad event, NULL mm), -ESRCH (mm released), -ENOSPC (too
 * many open ranges), -EBUSY (inside a callback).  The flags are taken as
 * given: set MMN_NOTIFIER_RANGE_BLOCKABLE for Linux's
 * mmu_notifier_invalidate_range_start(), clear it for _start_nonblock().
 *
 * end / only_end: close an open range with the same mm, start, end, event,
 * owner and BLOCKABLE flag (the most recent one if several match).
 * Subscriptions registered after the start get no invalidate_range_end;
 * in legacy mode end (not only_end) calls arch_invalidate_secondary_tlbs
 * of every subscription, those included.  Returns 0, or
 * -ENOENT (no such open range: misuse, nothing delivered), -EBUSY.
 * Ranges opened before release may still be ended after it.
 */
int mmn_notifier_invalidate_range_start(const MmnNotifierRange *range);
int mmn_notifier_invalidate_range_end(const MmnNotifierRange *range);
int mmn_notifier_invalidate_range_only_end(const MmnNotifierRange *range);

/*
 * The ranges of @mm that are open (started successfully, not yet ended),
 * oldest first, each as given to start (flags: only the BLOCKABLE bit).
 * @fn runs outside any walk and must not start or end ranges of @mm; a
 * non-zero return stops the iteration and is returned.  For a front end
 * that saves them (migration) and replays them with start.
 */
typedef int (*MmnOpenRangeFn)(const MmnNotifierRange *range, void *opaque);
int mmn_mm_for_each_open_range(MmnMm *mm, MmnOpenRangeFn fn, void *opaque);
unsigned mmn_mm_nr_open_ranges(const MmnMm *mm);

/*
 * Calls without a range.  Each returns a negative errno on misuse:
 * -EINVAL (end <= start, NULL mm), -ESRCH (after release), -EBUSY (inside
 * a callback); the young family otherwise returns its (non-negative)
 * OR-ed result, the others 0.
 */
int mmn_notifier_arch_invalidate_secondary_tlbs(MmnMm *mm, uint64_t start,
                                                uint64_t end);
int mmn_notifier_clear_flush_young(MmnMm *mm, uint64_t start, uint64_t end);
int mmn_notifier_clear_young(MmnMm *mm, uint64_t start, uint64_t end);
int mmn_notifier_test_young(MmnMm *mm, uint64_t address);
/*
 * The young-bitmap series: OR of the subscribers' test_clear_young; stops
 * at the first young result when !clear.  @bitmap (may be NULL) has at least
 * mmn_young_bitmap_nbits(start, end) bits and is passed through.
 */
int mmn_notifier_test_clear_young(MmnMm *mm, uint64_t start, uint64_t end,
                                  bool clear, unsigned long *bitmap);
int mmn_notifier_change_pte(MmnMm *mm, uint64_t address, uint64_t pte);

/*
 * exit_mmap()'s mmu_notifier_release(): invalidate every interval notifier
 * with a blockable MMN_NOTIFY_RELEASE range [0, UINT64_MAX), then deliver
 * release to every subscription and unlink them all (they must still be
 * unregistered or put).  Afterwards the mm refuses new work with -ESRCH.
 * Returns 0, -ESRCH (already released), -EBUSY (inside a callback).
 */
int mmn_notifier_release(MmnMm *mm);

/*
 * Young bitmap of the young-bitmap series: bit for @addr counted from the
 * end.
 */
static inline uint64_t mmn_young_bitmap_bit(uint64_t end, uint64_t addr)
{
    return (end - addr) / MMN_PAGE_SIZE - 1;
}

static inline uint64_t mmn_young_bitmap_nbits(uint64_t start, uint64_t end)
{
    return (end - start) / MMN_PAGE_SIZE;
}

/*
 * The subscriber side of the young-bitmap series' test_clear_young (KVM's,
 * in that series), the choice of path only: try the lock-less fast path;
 * if it can decide, return
 * MMN_NOTIFIER_RANGE_LOCKLESS when young (0 when not).  If it cannot
 * decide: with a bitmap return 0 (no slow-path fallback), without one
 * run the slow path and return MMN_NOTIFIER_RANGE_YOUNG when young.
 * @slow may be NULL (no slow path).
 */
typedef struct MmnYoungPaths {
    /* return false if the fast path cannot decide; else set *young */
    bool (*fast)(void *opaque, uint64_t start, uint64_t end, bool clear,
                 unsigned long *bitmap, bool *young);
    /* no bitmap; return whether a young page was found */
    bool (*slow)(void *opaque, uint64_t start, uint64_t end, bool clear);
} MmnYoungPaths;

int mmn_test_clear_young_paths(const MmnYoungPaths *paths, void *opaque,
                               uint64_t start, uint64_t end, bool clear,
                               unsigned long *bitmap);

/*
 * Interval notifiers (mmu_interval_notifier_*).
 *
 * insert: watch [start, start + length).  0; -EOVERFLOW (length 0 or the
 * range wraps); -EEXIST (already inserted); -ESRCH (mm released); -EINVAL
 * (NULL argument).  While an invalidation is active the subscription
 * starts out colliding (readers retry until the last range ends); while
 * the tree is being invalidated (invalidate_seq odd) the tree insert is
 * deferred to the end of the last range, as in Linux.
 *
 * remove: afterwards no callback reaches @sub and its memory may be
 * freed.  A pending deferred insert is cancelled.  0; -ENOENT (not
 * inserted); -EBUSY (inside a callback).  Linux sleeps here until the
 * active invalidation ends; we cannot sleep, and no walk can hold the
 * node outside a callback, so the node leaves the tree at once.
 */
int mmn_interval_notifier_insert(MmnIntervalNotifier *sub, MmnMm *mm,
                                 uint64_t start, uint64_t length,
                                 const MmnIntervalNotifierOps *ops);
int mmn_interval_notifier_remove(MmnIntervalNotifier *sub);
bool mmn_interval_notifier_is_inserted(const MmnIntervalNotifier *sub);

/*
 * Read side of the collision-retry scheme:
 *
 *     if (!mmn_interval_read_begin_nowait(sub, &seq)) {
 *         stall: an invalidation covering sub is open; retry after its end
 *     }
 *     walk the page tables ...
 *     (under the BQL) if (mmn_interval_read_retry(sub, seq)) start again;
 *     else install the entries
 *
 * read_begin_nowait() returns false while an invalidation that covers
 * @sub is active (Linux's mmu_interval_read_begin() sleeps until it
 * ends; we must not), after release, or for a subscription that is not
 * inserted.  mmn_interval_read_begin() is the Linux-shaped form: it never
 * waits either, and when the subscription is colliding it returns
 * MMN_INTERVAL_SEQ_COLLIDING, an even value no subscription ever holds,
 * so that read_retry() is guaranteed to say "retry".
 */
#define MMN_INTERVAL_SEQ_COLLIDING 0UL
bool mmn_interval_read_begin_nowait(MmnIntervalNotifier *sub,
                                    unsigned long *seq);
unsigned long mmn_interval_read_begin(MmnIntervalNotifier *sub);

/* From ops->invalidate, under the BQL: record cur_seq (always odd). */
static inline void mmn_interval_set_seq(MmnIntervalNotifier *sub,
                                        unsigned long cur_seq)
{
    qatomic_set(&sub->invalidate_seq, cur_seq);
}

/* Under the BQL: true if an invalidation collided since read_begin. */
static inline bool mmn_interval_read_retry(MmnIntervalNotifier *sub,
                                           unsigned long seq)
{
    return sub->invalidate_seq != seq;
}

/* Anywhere, as a hint: true means read_retry() will be true. */
static inline bool mmn_interval_check_retry(MmnIntervalNotifier *sub,
                                            unsigned long seq)
{
    return qatomic_read(&sub->invalidate_seq) != seq;
}

#endif /* HW_MMN_SMMU_MMU_NOTIFIER_H */
