/*
 * mmn-smmu notifier layer: state shared by mmu-notifier.c and
 * interval-notifier.c.  Not part of the API (see
 * include/hw/mmn-smmu/mmu-notifier.h).
 *
 * Locking: none of its own.  Every field is protected by the BQL (see the
 * concurrency model in the public header); @walking says that callbacks
 * of this mm are running, which is when its subscription list and
 * interval tree must not change shape; mmn_in_walk() says that callbacks
 * of any mm are running, which is when the entry points that would
 * deadlock in Linux are refused.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MMN_SMMU_MMU_NOTIFIER_INTERNAL_H
#define HW_MMN_SMMU_MMU_NOTIFIER_INTERNAL_H

#include "hw/mmn-smmu/mmu-notifier.h"

/* MmnNotifier.state */
enum {
    MMN_SUB_UNUSED = 0,     /* never registered (zeroed memory) */
    MMN_SUB_LINKED,         /* on mm->list, receives callbacks */
    MMN_SUB_RELEASED,       /* release delivered by the mm, unlinked */
    MMN_SUB_DEAD,           /* put to zero in a walk: free at walk end */
    MMN_SUB_UNREGISTERED,   /* unregistered or freed */
};

/* MmnIntervalNotifier.state */
enum {
    MMN_ISUB_UNUSED = 0,
    MMN_ISUB_IN_TREE,           /* in mm->itree */
    MMN_ISUB_DEFERRED_INSERT,   /* on mm->deferred_list, not in the tree */
    MMN_ISUB_REMOVED,
};

/* A range between a successful start and its end. */
typedef struct MmnOpenRange {
    uint64_t start;
    uint64_t end;
    unsigned flags;
    MmnNotifyEvent event;
    void *owner;
    uint64_t reg_gen;   /* subscriptions with reg_gen below got start */
} MmnOpenRange;

/* struct mm_struct + struct mmu_notifier_subscriptions */
struct MmnMm {
    unsigned refcount;          /* mmgrab()/mmdrop() */
    bool owner_gone;            /* mmn_mm_free() was called */
    bool released;              /* mmn_notifier_release() ran */
    bool legacy_invalidate_range;
    /*
     * mm->notifier_subscriptions != NULL: set by the first registration or
     * interval insert, never cleared (Linux frees the struct only with the
     * mm, __mmu_notifier_subscriptions_destroy()).
     */
    bool has_notifiers;
    unsigned walking;           /* callbacks running (0 or 1) */

    /* Plain subscriptions, newest first (hlist_add_head). */
    QLIST_HEAD(, MmnNotifier) list;
    unsigned nr_subs;           /* in state MMN_SUB_LINKED */
    uint64_t reg_gen;           /* next registration generation */
    GArray *open_ranges;        /* MmnOpenRange, oldest first */
    GPtrArray *pending_free;    /* MmnNotifier put to zero in a walk */

    /* Interval notifiers (mm/mmu_notifier.c: mn_itree_*) */
    unsigned long invalidate_seq;
    unsigned long active_invalidate_ranges;
    IntervalTreeRoot itree;
    unsigned nr_itree;
    QLIST_HEAD(, MmnIntervalNotifier) deferred_list;

    unsigned misuse_count;
    char last_error[192];
};

/* Record and log misuse (LOG_GUEST_ERROR).  @mm may be NULL. */
void mmn_misuse(MmnMm *mm, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/*
 * Callbacks of some mm are running.  Linux's SRCU struct and its lockdep
 * map __mmu_notifier_invalidate_range_start_map are global (one for every
 * mm, mm/mmu_notifier.c), so the calls refused inside a callback are
 * refused whichever mm they name.
 */
bool mmn_in_walk(void);

/* mmgrab() / mmdrop(): the last drop frees the MmnMm. */
void mmn_mm_grab(MmnMm *mm);
void mmn_mm_drop(MmnMm *mm);

/*
 * mmu-notifier.c, for the other files of the layer.  A walk delivers
 * callbacks between mmn_walk_begin() and mmn_walk_end() (the caller must
 * not touch @mm after the end).  mmn_check_call(): the checks of every
 * entry point that delivers callbacks (NULL mm -EINVAL, inside a callback
 * -EBUSY, after release -ESRCH); mmn_check_range(): end <= start -EINVAL.
 */
void mmn_walk_begin(MmnMm *mm);
void mmn_walk_end(MmnMm *mm);
int mmn_check_call(MmnMm *mm, const char *what);
int mmn_check_range(MmnMm *mm, const char *what, uint64_t start,
                    uint64_t end);

/* interval-notifier.c, called from mmu-notifier.c inside a walk */
int mmn_itree_invalidate(MmnMm *mm, const MmnNotifierRange *range);
void mmn_itree_inv_end(MmnMm *mm);
void mmn_itree_release(MmnMm *mm);

#endif /* HW_MMN_SMMU_MMU_NOTIFIER_INTERNAL_H */
