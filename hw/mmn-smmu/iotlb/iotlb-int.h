/*
 * mmn-smmu IOTLB: internals shared by the cache (iotlb.c) and the notifier
 * subscriber / translate path (iotlb-subscriber.c).  Not a public interface.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MMN_SMMU_IOTLB_INT_H
#define HW_MMN_SMMU_IOTLB_INT_H

#include "qemu/interval-tree.h"
#include "qemu/queue.h"
#include "hw/mmn-smmu/iotlb.h"

typedef struct MmnIotlbEntry MmnIotlbEntry;
typedef struct MmnIotlbSub MmnIotlbSub;

/*
 * One cached translation (a shadow PTE).  An entry is in three structures
 * at once: the hash table (lookup by context, VA and size), its context's
 * interval tree (range and context invalidation) and the global CLOCK
 * ring (replacement).
 */
struct MmnIotlbEntry {
    /*
     * [run, run + run_size - 1]: the leaf's contiguous run (walker.h),
     * which is [tr.va, tr.va + tr.size - 1] without the contiguous bit, so
     * that an invalidation touching any page of a run finds every entry
     * the run fed.
     */
    IntervalTreeNode itn;
    MmnIotlbEntry *hnext;               /* hash chain, or free list */
    QTAILQ_ENTRY(MmnIotlbEntry) lru;    /* CLOCK ring, insertion order */
    MmnIotlbCtx *ctx;
    MmnTranslation tr;
    uint64_t serial;                    /* unique per fill, never 0 */
    bool young;                         /* shadow accessed bit */
    bool referenced;                    /* CLOCK: used since the hand passed */
};

/* An open invalidation (range start seen, end not yet) that blocks fills. */
typedef struct MmnIotlbBlock {
    uint64_t start;
    uint64_t last;                      /* inclusive */
    QLIST_ENTRY(MmnIotlbBlock) next;
} MmnIotlbBlock;

struct MmnIotlbCtx {
    MmnIotlb *iotlb;
    uint32_t id;
    void *owner;                        /* MIGRATE ranges of ours: ignored */
    /*
     * Bumped by every invalidation of the context (not by eviction or
     * replacement): a walk that saw it change must not fill.
     */
    uint64_t inv_gen;
    MmnWalkConfig walk;                 /* from attach: change_pte's PTEs */
    uint32_t count;                     /* cached entries */
    uint32_t nr_shift[64];              /* cached entries per log2(size) */
    uint64_t shift_mask;                /* bit n: nr_shift[n] != 0 */
    uint32_t nr_cont;                   /* entries whose run > their size */
    IntervalTreeRoot tree;
    QLIST_HEAD(, MmnIotlbBlock) blocks;
    uint32_t nr_blocks;
    MmnIotlbStats stats;
    MmnIotlbSub *sub;                   /* notifier subscriptions, if any */
    QLIST_ENTRY(MmnIotlbCtx) next;
};

struct MmnIotlb {
    uint32_t capacity;
    uint32_t count;
    uint64_t hash_mask;                 /* number of buckets - 1 */
    MmnIotlbEntry **buckets;
    MmnIotlbEntry *free_list;           /* recycled entries */
    uint64_t next_serial;
    QTAILQ_HEAD(, MmnIotlbEntry) lru;
    MmnIotlbEntry *hand;                /* next CLOCK candidate; NULL: head */
    QLIST_HEAD(, MmnIotlbCtx) ctxs;
    MmnIotlbStats stats;                /* all contexts, including freed */
};

/* Both the context's counters and the global ones. */
#define MMN_IOTLB_STAT_ADD(c, field, n) do {     \
        (c)->stats.field += (n);                 \
        (c)->iotlb->stats.field += (n);          \
    } while (0)
#define MMN_IOTLB_STAT_INC(c, field) MMN_IOTLB_STAT_ADD(c, field, 1)

/*
 * Find the entry covering @va (probing the 4 KiB, 2 MiB and 1 GiB keys);
 * NULL if none.  Does not touch the replacement state nor the statistics.
 */
MmnIotlbEntry *mmn_iotlb_find(MmnIotlbCtx *c, uint64_t va);

/* @e was used: spare it at the next CLOCK pass. */
void mmn_iotlb_touch(MmnIotlbEntry *e);

/*
 * Insert @tr, replacing entries of the context that overlap it.  Returns
 * the new entry, or NULL when the fill is refused (context released, range
 * blocked by an open invalidation, malformed translation, capacity 0).
 */
MmnIotlbEntry *mmn_iotlb_insert(MmnIotlbCtx *c, const MmnTranslation *tr,
                                bool young);

/* Remove one entry, counting it under @cause. */
void mmn_iotlb_remove(MmnIotlbEntry *e, MmnIotlbInvCause cause);

/*
 * Remove the entries of @c overlapping [start, last] (inclusive), counting
 * them under @cause; returns how many.
 */
uint64_t mmn_iotlb_remove_range(MmnIotlbCtx *c, uint64_t start,
                                uint64_t last, MmnIotlbInvCause cause);

/*
 * Count one invalidation operation under @cause.  Callers also bump the
 * context's inv_gen when a walk in flight must not fill after it.
 */
void mmn_iotlb_count_inv(MmnIotlbCtx *c, MmnIotlbInvCause cause);

/*
 * Open / close a range in which fills are refused (last inclusive).  Each
 * block is separate: a range opened twice must be closed twice.
 */
void mmn_iotlb_block(MmnIotlbCtx *c, uint64_t start, uint64_t last);
bool mmn_iotlb_unblock(MmnIotlbCtx *c, uint64_t start, uint64_t last);
bool mmn_iotlb_is_blocked(MmnIotlbCtx *c, uint64_t start, uint64_t last);
void mmn_iotlb_unblock_all(MmnIotlbCtx *c);

#endif /* HW_MMN_SMMU_IOTLB_INT_H */
