/*
 * mmn-smmu IOTLB: a cache of shadow PTEs, kept coherent with the CPU page
 * tables it shares (SVA) by mmu_notifier calls only (no broadcast TLB
 * maintenance).
 *
 * Entries are keyed by context and VA and remember the walker's
 * translation: output address, size (a page or block of any granule:
 * mmn_walk_leaf_size_valid()), effective permissions, access flag and
 * dirty state, plus a shadow young bit set by device accesses.
 *
 * Contiguous runs (descriptor bit 52, walker.h) are cached per page: each
 * entry is filled from its own leaf descriptor, as if the hint were
 * absent, so a translation never comes from another descriptor of the
 * run and HTTU's AF/dirty updates stay exact per descriptor.  What an
 * architected TLB may do with a run, cache it as one entry, makes one
 * rule binding for invalidation, and the IOTLB keeps it: every
 * invalidation (TLBI_PAGE/RANGE, notifier ranges, secondary TLBs,
 * clear_flush_young, change_pte) that covers any page of a run removes
 * every entry that run fed, and no page of a run is filled while an open
 * invalidation covers any page of it.  Entries are indexed by their run
 * for this; the young family still answers per page.
 *
 * Arm caching rules: translation, address-size and access-flag faults (and
 * walk aborts) are never cached; a valid leaf that denies the access
 * (permission fault) is cached, and a later access that it denies faults
 * from the cache without a new walk.
 *
 * Every operation costs time proportional to what it touches, never to the
 * size of the cache: a hash table for lookups (one probe per leaf size
 * the context holds), a per-context interval tree for range and context
 * invalidation, and a
 * global CLOCK ring (second-chance approximation of LRU) for replacement
 * when the cache is full: one entry is evicted, not the whole table.
 *
 * Not thread-safe: callers serialise (in the device, the BQL).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MMN_SMMU_IOTLB_H
#define HW_MMN_SMMU_IOTLB_H

#include "hw/mmn-smmu/walker.h"
#include "hw/mmn-smmu/mmu-notifier.h"

typedef struct MmnIotlb MmnIotlb;
typedef struct MmnIotlbCtx MmnIotlbCtx;

#define MMN_IOTLB_DEFAULT_CAPACITY  4096
#define MMN_IOTLB_MAX_CAPACITY      (1u << 24)

/* Why entries were removed (statistics). */
typedef enum MmnIotlbInvCause {
    MMN_IOTLB_INV_PAGE,             /* mmn_iotlb_inv_page (SMMU command) */
    MMN_IOTLB_INV_RANGE,            /* mmn_iotlb_inv_range (SMMU command) */
    MMN_IOTLB_INV_CTX,              /* mmn_iotlb_inv_ctx (SMMU command) */
    MMN_IOTLB_INV_ALL,              /* mmn_iotlb_inv_all (SMMU command) */
    MMN_IOTLB_INV_NOTIFIER_START,   /* invalidate_range_start (interval) */
    MMN_IOTLB_INV_SECONDARY_TLBS,   /* arch_invalidate_secondary_tlbs */
    MMN_IOTLB_INV_CHANGE_PTE,       /* change_pte that could not replace */
    MMN_IOTLB_INV_RELEASE,          /* release of the address space */
    MMN_IOTLB_INV_YOUNG_UNMAP,      /* clear_flush_young */
    MMN_IOTLB_INV_REPLACE,          /* a fill overlapping older entries */
    MMN_IOTLB_INV_UNBIND,           /* mmn_iotlb_ctx_detach / _ctx_free */
    MMN_IOTLB_INV__MAX,
} MmnIotlbInvCause;

typedef struct MmnIotlbStats {
    uint64_t hits;              /* lookups served by an entry */
    uint64_t misses;            /* lookups that found no usable entry */
    uint64_t fills;             /* entries inserted */
    uint64_t evictions;         /* entries replaced (CLOCK) when full */
    uint64_t perm_faults_cached;    /* permission faults without a walk */
    uint64_t walks;             /* page-table walks by mmn_iotlb_translate */
    uint64_t walk_faults;       /* walks ending in an uncacheable fault */
    uint64_t dbm_rewalks;       /* writes to writable-clean entries (HD) */
    uint64_t fill_retries;      /* walks redone: invalidation raced a fill */
    uint64_t fills_refused;     /* fills into a released ctx / open range */
    uint64_t blocked;           /* translations answered BLOCKED */
    uint64_t released_refused;  /* translations answered RELEASED */
    uint64_t change_pte_replaced;   /* change_pte updated an entry */
    uint64_t young_cleared;     /* shadow young bits cleared */
    uint64_t inv_ops[MMN_IOTLB_INV__MAX];       /* operations by cause */
    uint64_t inv_entries[MMN_IOTLB_INV__MAX];   /* entries removed */
} MmnIotlbStats;

/* Information about one cached entry, for iterators. */
typedef struct MmnIotlbEntryInfo {
    MmnIotlbCtx *ctx;
    uint32_t ctx_id;
    const MmnTranslation *tr;
    bool young;
} MmnIotlbEntryInfo;

/* Return false to stop the iteration.  Must not modify the IOTLB. */
typedef bool (*MmnIotlbForeachFn)(const MmnIotlbEntryInfo *e, void *opaque);

/*
 * The cache.  @capacity entries at most, shared by all contexts (0: cache
 * nothing, every translation walks; values above MMN_IOTLB_MAX_CAPACITY
 * are clamped).  mmn_iotlb_free frees the remaining contexts too.
 */
MmnIotlb *mmn_iotlb_new(uint32_t capacity);
void mmn_iotlb_free(MmnIotlb *t);
uint32_t mmn_iotlb_capacity(const MmnIotlb *t);
uint32_t mmn_iotlb_count(const MmnIotlb *t);

/*
 * A translation context (one address space, e.g. an SMMU context
 * descriptor / ASID).  @id is the caller's label, reported by iterators.
 * mmn_iotlb_ctx_free drops the context's entries and its notifier
 * subscriptions.
 */
MmnIotlbCtx *mmn_iotlb_ctx_new(MmnIotlb *t, uint32_t id);
void mmn_iotlb_ctx_free(MmnIotlbCtx *c);
uint32_t mmn_iotlb_ctx_id(const MmnIotlbCtx *c);
uint32_t mmn_iotlb_ctx_count(const MmnIotlbCtx *c);
bool mmn_iotlb_ctx_released(const MmnIotlbCtx *c);

/*
 * Low-level cache access (the translate path below is what a device uses).
 * mmn_iotlb_lookup returns the entry covering @va or NULL (valid until
 * the IOTLB next changes); it changes nothing (no replacement state, no
 * statistics).  mmn_iotlb_fill caches @tr (a successful or
 * permission-faulting walk), replacing overlapping entries of the
 * context; it returns false when the fill is refused: context released,
 * range inside an open invalidation, malformed @tr, capacity 0.
 */
const MmnTranslation *mmn_iotlb_lookup(MmnIotlbCtx *c, uint64_t va,
                                       bool *young);
bool mmn_iotlb_fill(MmnIotlbCtx *c, const MmnTranslation *tr);

/*
 * Invalidation commands; each returns the number of entries removed.
 * page: every entry of @c translating @va (a page, or a block holding it),
 * and every entry of a contiguous run holding @va.
 * range: every entry of @c overlapping [@start, @end) (@end exclusive),
 * and every entry of a contiguous run overlapping it.
 */
uint64_t mmn_iotlb_inv_page(MmnIotlbCtx *c, uint64_t va);
uint64_t mmn_iotlb_inv_range(MmnIotlbCtx *c, uint64_t start, uint64_t end);
uint64_t mmn_iotlb_inv_ctx(MmnIotlbCtx *c);
uint64_t mmn_iotlb_inv_all(MmnIotlb *t);

/* Iterate over cached entries (of one context / of all, by context). */
void mmn_iotlb_ctx_foreach(MmnIotlbCtx *c, MmnIotlbForeachFn fn,
                           void *opaque);
void mmn_iotlb_foreach(MmnIotlb *t, MmnIotlbForeachFn fn, void *opaque);

/*
 * Statistics of one context (since its creation) / of the whole IOTLB
 * (all contexts, including freed ones).
 */
void mmn_iotlb_ctx_get_stats(const MmnIotlbCtx *c, MmnIotlbStats *s);
void mmn_iotlb_get_stats(const MmnIotlb *t, MmnIotlbStats *s);
const char *mmn_iotlb_inv_cause_name(MmnIotlbInvCause cause);

/* Bytes of memory per cached entry (entry + its share of the hash). */
size_t mmn_iotlb_bytes_per_entry(const MmnIotlb *t);

/*
 * Identity of the entry translating @va (unique per fill, 0 if none): two
 * faults served by the same serial were served by the same cached entry,
 * with no invalidation having removed it in between (livelock detection).
 */
uint64_t mmn_iotlb_entry_serial(MmnIotlbCtx *c, uint64_t va);

/*
 * The IOTLB as a notifier subscriber (iotlb-subscriber.c).
 *
 * mmn_iotlb_ctx_attach subscribes @c to @mm, as a Linux SVA driver does at
 * bind time, with three subscriptions (Linux 6.6+ refuses one subscription
 * having both arch_invalidate_secondary_tlbs and range start/end):
 * - an interval notifier over the whole VA space: its invalidate (called at
 *   range start) drops the range's entries and records the sequence that
 *   makes a racing fill retry;
 * - a plain subscription with invalidate_range_start/end: the range is
 *   blocked (fills refused, translations in it answer BLOCKED) from start
 *   to the matching end;
 * - a plain subscription shared by every context bound to @mm (obtained
 *   with mmn_notifier_get/put: alloc/free_notifier): release,
 *   arch_invalidate_secondary_tlbs, the young family and change_pte.
 * @walk is the context's page-table format (granule, DS, OA size): the
 * format in which change_pte's new PTEs are decoded.
 * Returns 0, -EBUSY (already attached), -EINVAL (no @mm or @walk), or the
 * layer's error (e.g. -ESRCH if @mm was released); on error nothing stays
 * subscribed.
 *
 * mmn_iotlb_ctx_detach (unbind) drops the subscriptions, the context's
 * entries and open blocks, and clears the released state.  Neither may be
 * called from a notifier callback.
 */
int mmn_iotlb_ctx_attach(MmnIotlbCtx *c, MmnMm *mm,
                         const MmnWalkConfig *walk);

/*
 * Invalidate the entries of @c overlapping [@start, @end), as
 * arch_invalidate_secondary_tlbs does for a subscribed context (the same
 * function: it also makes a racing fill walk again).  This is how an SMMU
 * TLBI command reaches the cache, so both front ends invalidate alike.
 */
void mmn_iotlb_inv_secondary(MmnIotlbCtx *c, uint64_t start, uint64_t end);
/*
 * The context's owner cookie (Linux: the range owner a driver compares
 * with, e.g. dmirror's mdevice).  MIGRATE ranges with this owner are
 * ignored; NULL (the default) ignores none.
 */
void mmn_iotlb_ctx_set_owner(MmnIotlbCtx *c, void *owner);
void mmn_iotlb_ctx_detach(MmnIotlbCtx *c);
MmnMm *mmn_iotlb_ctx_mm(const MmnIotlbCtx *c);

/* Is a fill of the page holding @va refused by an open invalidation? */
bool mmn_iotlb_va_blocked(MmnIotlbCtx *c, uint64_t va);

typedef enum MmnXlateResult {
    MMN_XLATE_OK,           /* *tr holds the translation */
    MMN_XLATE_FAULT,        /* *fault (and for PERMISSION *tr) filled */
    MMN_XLATE_BLOCKED,      /* open invalidation: retry after its end */
    MMN_XLATE_RELEASED,     /* the address space was released */
} MmnXlateResult;

/* Walks redone after racing invalidations before answering BLOCKED. */
#define MMN_IOTLB_MAX_FILL_RETRIES 8

/*
 * Translate @acc for the device.
 *
 * The VA looked up, walked and cached is mmn_walk_input_va(@cfg, acc->va)
 * (TBI removes the tag): *tr and *fault report that VA.
 *
 * Hit: the cached entry is checked (mmn_translation_check).  A write to a
 * cached read-only entry is a permission fault served from the cache
 * without a walk (*from_cache = true): this is what makes a stale
 * read-only entry observable.  Exception: a writable-clean (DBM) entry
 * with HA+HD in @cfg walks again, so the hardware dirty update happens.
 * An access through an entry sets its shadow young bit.
 *
 * Miss: BLOCKED if an open invalidation covers the page; else walk with
 * the interval sequence taken before; uncacheable faults (translation,
 * address size, access flag, walk abort) are returned, never cached; if
 * an invalidation reached the context during the walk, walk again (at
 * most MMN_IOTLB_MAX_FILL_RETRIES times, then BLOCKED); else cache the
 * leaf (a permission-faulting one too) and return it.
 *
 * @serial (may be NULL) receives the serial of the entry covering the VA
 * when translate returns (the hit, the new fill, or the entry a fault left
 * in place; what mmn_iotlb_entry_serial() would find), 0 if none.
 */
MmnXlateResult mmn_iotlb_translate(MmnIotlbCtx *c, const MmnWalkConfig *cfg,
                                   const MmnPtOps *ops, void *opaque,
                                   const MmnAccess *acc, MmnTranslation *tr,
                                   MmnFault *fault, bool *from_cache,
                                   uint64_t *serial);
const char *mmn_xlate_result_name(MmnXlateResult r);

#endif /* HW_MMN_SMMU_IOTLB_H */
