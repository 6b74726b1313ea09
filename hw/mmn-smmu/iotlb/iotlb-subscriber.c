/*
 * mmn-smmu IOTLB: notifier subscriptions and the translate path.
 *
 * The IOTLB shares the CPU's page tables and sees no TLBI broadcast: the
 * notifier calls below are the only way its entries ever go stale-free.
 * Each bound context holds three subscriptions on its MmnMm (see
 * iotlb.h); the shared one fans every call out to all contexts bound to
 * the same address space, like one Linux mmu_notifier per (driver, mm).
 *
 * Fill/invalidate races.  A walk runs between a read-side begin and a
 * retry check, as in Linux's HMM users (lib/test_hmm.c):
 * - the interval sequence: mmn_interval_read_begin_nowait() before the
 *   walk, mmn_interval_read_retry() before the fill; our interval
 *   invalidate calls mmn_interval_set_seq().  It is what Linux offers, but
 *   it only detects an invalidation that starts while no other one is
 *   open (within one invalidating period every invalidate gets the same
 *   cur_seq, since Linux's readers sleep until the period ends) and it
 *   never sees arch_invalidate_secondary_tlbs, change_pte or SMMU TLBI
 *   commands, which do not go through interval notifiers;
 * - so the context also has a generation, bumped by every invalidation of
 *   any kind, compared before the fill.
 * Either one changing means the walk may have read tables that are now
 * different: walk again.  Walks are synchronous under the BQL, so in the
 * device the window is empty; unit tests open it from the page-table read
 * callback.
 *
 * Blocking.  Between invalidate_range_start and the matching end, Linux
 * forbids establishing secondary entries in the range.  The range
 * start/end subscription records the open ranges; a translation whose
 * page (or whose walked block) overlaps one answers BLOCKED and the device
 * retries after the end.  Translations elsewhere continue (Linux's
 * mmu_interval_read_begin would make every reader of a whole-VA
 * subscription sleep until all ranges end; the spec wants per-page
 * blocking).  If the context was bound while ranges were already open
 * (their start never reached us), every miss is BLOCKED until the
 * interval read side reports the mm idle.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitmap.h"
#include "iotlb-int.h"
#include "trace.h"

/* One per MmnMm, shared by every context bound to it (get/put). */
typedef struct MmnIotlbMm {
    MmnNotifier mn;
    QLIST_HEAD(, MmnIotlbSub) subs;
} MmnIotlbMm;

struct MmnIotlbSub {
    MmnIotlbCtx *ctx;
    MmnMm *mm;
    MmnIntervalNotifier isub;       /* drop at range start, sequence */
    MmnNotifier range_mn;           /* open ranges block fills */
    MmnIotlbMm *shared;             /* secondary TLBs, young, pte, release */
    bool unknown_open;              /* bound while ranges were open */
    QLIST_ENTRY(MmnIotlbSub) next;
};

/* Entries of @c overlapping [start, end), end exclusive. */
#define FOREACH_OVERLAP(n, c, start, end)                                   \
    for ((n) = interval_tree_iter_first(&(c)->tree, (start), (end) - 1);   \
         (n); (n) = interval_tree_iter_next((n), (start), (end) - 1))

static inline MmnIotlbEntry *itn_entry(IntervalTreeNode *n)
{
    return container_of(n, MmnIotlbEntry, itn);
}

/*
 * Does @e's own leaf (not only its contiguous run, which the tree
 * indexes) overlap [start, end)?  The young family asks about pages.
 */
static inline bool entry_overlaps(const MmnIotlbEntry *e, uint64_t start,
                                  uint64_t end)
{
    return e->tr.va < end && start <= e->tr.va + (e->tr.size - 1);
}

/*
 * Drop [start, end) of @c under @cause (one operation); a walk in flight
 * must not fill after it.
 */
static void mmn_iotlb_drop(MmnIotlbCtx *c, uint64_t start, uint64_t end,
                           MmnIotlbInvCause cause)
{
    mmn_iotlb_count_inv(c, cause);
    c->inv_gen++;
    if (end > start) {
        mmn_iotlb_remove_range(c, start, end - 1, cause);
    }
}

/*
 * A MIGRATE range whose owner is this context's owner comes from the
 * device's own migration (lib/test_hmm.c dmirror_interval_invalidate):
 * the device already knows, so it is ignored, start and end alike.
 */
static bool mmn_iotlb_own_migrate(MmnIotlbCtx *c,
                                  const MmnNotifierRange *range)
{
    return range->event == MMN_NOTIFY_MIGRATE && c->owner &&
           range->owner == c->owner;
}

void mmn_iotlb_ctx_set_owner(MmnIotlbCtx *c, void *owner)
{
    c->owner = owner;
}

/* ---- interval notifier: invalidate at range start ---- */

static bool mmn_iotlb_interval_invalidate(MmnIntervalNotifier *isub,
                                          const MmnNotifierRange *range,
                                          unsigned long cur_seq)
{
    MmnIotlbSub *sub = container_of(isub, MmnIotlbSub, isub);
    MmnIotlbCtx *c = sub->ctx;
    MmnIotlbInvCause cause = range->event == MMN_NOTIFY_RELEASE ?
                             MMN_IOTLB_INV_RELEASE :
                             MMN_IOTLB_INV_NOTIFIER_START;

    trace_mmn_iotlb_interval_invalidate(c->id,
                                        mmn_notify_event_name(range->event),
                                        range->start, range->end, cur_seq);
    if (mmn_iotlb_own_migrate(c, range)) {
        return true;
    }
    /*
     * We never sleep, so a non-blockable range is no different.  Every
     * event drops its range, PROTECTION_UPGRADE included (the unmerged
     * upgrade-notify patch: only drop, the next walk sees the upgrade).
     */

    if (qatomic_read(&isub->invalidate_seq) == cur_seq) {
        /*
         * Same invalidating period as the last invalidate: the sequence
         * does not change, so read_retry cannot see this one.
         */
        c->inv_gen++;
    }
    mmn_interval_set_seq(isub, cur_seq);
    mmn_iotlb_count_inv(c, cause);
    if (range->end > range->start) {
        mmn_iotlb_remove_range(c, range->start, range->end - 1, cause);
    }
    return true;
}

static const MmnIntervalNotifierOps mmn_iotlb_interval_ops = {
    .invalidate = mmn_iotlb_interval_invalidate,
};

/* ---- range start/end: block fills in open ranges ---- */

static int mmn_iotlb_range_start(MmnNotifier *mn,
                                 const MmnNotifierRange *range)
{
    MmnIotlbSub *sub = container_of(mn, MmnIotlbSub, range_mn);
    bool own = mmn_iotlb_own_migrate(sub->ctx, range);

    trace_mmn_iotlb_invalidate_range_start(sub->ctx->id,
                                           mmn_notify_event_name(range->event),
                                           range->start, range->end, own);
    if (range->end > range->start && !own) {
        mmn_iotlb_block(sub->ctx, range->start, range->end - 1);
    }
    return 0;
}

static void mmn_iotlb_range_end(MmnNotifier *mn,
                                const MmnNotifierRange *range)
{
    MmnIotlbSub *sub = container_of(mn, MmnIotlbSub, range_mn);
    bool own = mmn_iotlb_own_migrate(sub->ctx, range);

    trace_mmn_iotlb_invalidate_range_end(sub->ctx->id,
                                         mmn_notify_event_name(range->event),
                                         range->start, range->end, own);
    if (range->end > range->start && !own) {
        mmn_iotlb_unblock(sub->ctx, range->start, range->end - 1);
    }
}

static const MmnNotifierOps mmn_iotlb_range_ops = {
    .invalidate_range_start = mmn_iotlb_range_start,
    .invalidate_range_end = mmn_iotlb_range_end,
};

/* ---- the shared subscription ---- */

#define FOREACH_SUB(sub, mn) \
    QLIST_FOREACH(sub, &container_of(mn, MmnIotlbMm, mn)->subs, next)

static void mmn_iotlb_release(MmnNotifier *mn, MmnMm *mm)
{
    MmnIotlbSub *sub;

    trace_mmn_iotlb_release(mm);
    FOREACH_SUB(sub, mn) {
        MmnIotlbCtx *c = sub->ctx;

        mmn_iotlb_drop(c, 0, UINT64_MAX, MMN_IOTLB_INV_RELEASE);
        /* no range end will reach us any more */
        mmn_iotlb_unblock_all(c);
    }
}

void mmn_iotlb_inv_secondary(MmnIotlbCtx *c, uint64_t start, uint64_t end)
{
    mmn_iotlb_drop(c, start, end, MMN_IOTLB_INV_SECONDARY_TLBS);
}

static void mmn_iotlb_secondary_tlbs(MmnNotifier *mn, MmnMm *mm,
                                     uint64_t start, uint64_t end)
{
    MmnIotlbSub *sub;

    trace_mmn_iotlb_arch_invalidate_secondary_tlbs(mm, start, end);
    FOREACH_SUB(sub, mn) {
        mmn_iotlb_inv_secondary(sub->ctx, start, end);
    }
}

/*
 * clear_flush_young: the CPU has just cleared AF in its PTEs for the
 * range.  Report whether the device used any entry of it since the last
 * clear (shadow young), and flush: drop the entries, so that the next
 * device access walks again and sets AF in the CPU PTE (HA) or takes an
 * access-flag fault, and the page's age stays true for reclaim.
 */
static int mmn_iotlb_clear_flush_young(MmnNotifier *mn, MmnMm *mm,
                                       uint64_t start, uint64_t end)
{
    MmnIotlbSub *sub;
    IntervalTreeNode *n;
    bool young = false;

    if (end <= start) {
        return 0;
    }
    FOREACH_SUB(sub, mn) {
        FOREACH_OVERLAP(n, sub->ctx, start, end) {
            if (entry_overlaps(itn_entry(n), start, end)) {
                young |= itn_entry(n)->young;
            }
        }
        mmn_iotlb_drop(sub->ctx, start, end, MMN_IOTLB_INV_YOUNG_UNMAP);
    }
    trace_mmn_iotlb_clear_flush_young(mm, start, end, young);
    return young;
}

/* clear_young: test and clear the shadow young bits; no flush. */
static int mmn_iotlb_clear_young(MmnNotifier *mn, MmnMm *mm,
                                 uint64_t start, uint64_t end)
{
    MmnIotlbSub *sub;
    IntervalTreeNode *n;
    bool young = false;

    if (end <= start) {
        return 0;
    }
    FOREACH_SUB(sub, mn) {
        FOREACH_OVERLAP(n, sub->ctx, start, end) {
            MmnIotlbEntry *e = itn_entry(n);

            if (e->young && entry_overlaps(e, start, end)) {
                e->young = false;
                young = true;
                MMN_IOTLB_STAT_INC(sub->ctx, young_cleared);
            }
        }
    }
    trace_mmn_iotlb_clear_young(mm, start, end, young);
    return young;
}

/* test_young: is the entry translating @address young?  Clears nothing. */
static int mmn_iotlb_test_young(MmnNotifier *mn, MmnMm *mm,
                                uint64_t address)
{
    MmnIotlbSub *sub;
    bool young = false;

    FOREACH_SUB(sub, mn) {
        MmnIotlbEntry *e = mmn_iotlb_find(sub->ctx, address);

        if (e && e->young) {
            young = true;
            break;
        }
    }
    trace_mmn_iotlb_test_young(mm, address, young);
    return young;
}

/*
 * The young-bitmap series' test_clear_young on one context.  The bit of
 * page p is mmn_young_bitmap_bit(end, p); only whole pages inside
 * [start, end) have one.  A block has one young bit for all its pages: in
 * test mode it sets the bits of all its pages in range, in clear mode it
 * is cleared if the bit of any of its pages in range is set.  The result
 * says whether any entry in range was young, in clear mode too, selected
 * or not: the series' mmu_notifier_test_clear_young() "returns nonzero if
 * any of the KVM PTEs within a given range was young" and "clears the
 * accessed bit for each young KVM PTE whose corresponding bit in the
 * bitmap is set".
 */
static bool mmn_iotlb_ctx_test_clear_young(MmnIotlbCtx *c, uint64_t start,
                                           uint64_t end, bool clear,
                                           unsigned long *bitmap)
{
    IntervalTreeNode *n;
    bool young = false;

    FOREACH_OVERLAP(n, c, start, end) {
        MmnIotlbEntry *e = itn_entry(n);
        uint64_t lim, p_lo, p_hi, b_lo, b_hi;

        if (!e->young || !entry_overlaps(e, start, end)) {
            continue;
        }
        if (bitmap) {
            lim = MIN(e->tr.va + e->tr.size, end);
            p_lo = ROUND_UP(MAX(e->tr.va, start), MMN_PAGE_SIZE);
            if (p_lo < start || lim < MMN_PAGE_SIZE ||
                p_lo > lim - MMN_PAGE_SIZE) {
                continue;               /* no whole page in range */
            }
            p_hi = ROUND_DOWN(lim - MMN_PAGE_SIZE, MMN_PAGE_SIZE);
            b_hi = mmn_young_bitmap_bit(end, p_lo);
            b_lo = mmn_young_bitmap_bit(end, p_hi);
            young = true;
            if (!clear) {
                bitmap_set(bitmap, b_lo, b_hi - b_lo + 1);
                continue;
            }
            if (find_next_bit(bitmap, b_hi + 1, b_lo) > b_hi) {
                continue;               /* young, but not selected */
            }
        }
        young = true;
        if (clear) {
            e->young = false;
            MMN_IOTLB_STAT_INC(c, young_cleared);
        }
    }
    return young;
}

/* The lock-less fast path always decides: nothing here can block. */
static bool mmn_iotlb_young_fast(void *opaque, uint64_t start, uint64_t end,
                                 bool clear, unsigned long *bitmap,
                                 bool *young)
{
    MmnNotifier *mn = opaque;
    MmnIotlbSub *sub;

    *young = false;
    FOREACH_SUB(sub, mn) {
        *young |= mmn_iotlb_ctx_test_clear_young(sub->ctx, start, end,
                                                 clear, bitmap);
    }
    return true;
}

static const MmnYoungPaths mmn_iotlb_young_paths = {
    .fast = mmn_iotlb_young_fast,
};

static int mmn_iotlb_test_clear_young(MmnNotifier *mn, MmnMm *mm,
                                      uint64_t start, uint64_t end,
                                      bool clear, unsigned long *bitmap)
{
    int ret;

    if (end <= start) {
        return 0;
    }
    ret = mmn_test_clear_young_paths(&mmn_iotlb_young_paths, mn, start, end,
                                     clear, bitmap);
    trace_mmn_iotlb_test_clear_young(mm, start, end, clear, bitmap != NULL,
                                     ret);
    return ret;
}

/*
 * change_pte on one context.  Like KVM's handler, never grant more than
 * the cached entry had: the table levels above (APTable, XNTable) are not
 * in @pte, so only a page entry whose new PTE is valid, accessed, inside
 * the OA size and no more permissive is updated in place (new output
 * address decoded in the context's format, permissions narrowed to the
 * PTE's); anything else is dropped and the next access walks.  A page of
 * a contiguous run (in the cache, or by the new PTE's contiguous bit) is
 * never updated in place: the whole run is dropped, as any invalidation
 * of one of its pages does.
 */
static void mmn_iotlb_ctx_change_pte(MmnIotlbCtx *c, uint64_t addr,
                                     uint64_t pte)
{
    MmnIotlbEntry *e = mmn_iotlb_find(c, addr);
    uint8_t old, perm;
    bool w = !(pte & MMN_PTE_AP_RDONLY);
    bool user = pte & MMN_PTE_AP_USER;
    uint64_t oa = mmn_walk_desc_oa(&c->walk, pte);
    unsigned oa_bits = MIN(MAX(c->walk.oa_bits, MMN_OA_BITS_MIN),
                           mmn_walk_max_oa_bits(&c->walk));

    mmn_iotlb_count_inv(c, MMN_IOTLB_INV_CHANGE_PTE);
    c->inv_gen++;           /* a walk in flight read the old PTE */
    if (c->nr_cont || (pte & MMN_PTE_CONT)) {
        mmn_iotlb_remove_range(c, addr, addr, MMN_IOTLB_INV_CHANGE_PTE);
        return;
    }
    if (!e) {
        return;
    }
    old = e->tr.perm;
    if (e->tr.level != 3 ||
        (pte & (MMN_PTE_VALID | MMN_PTE_TABLE)) !=
        (MMN_PTE_VALID | MMN_PTE_TABLE) ||
        !(pte & MMN_PTE_AF) ||
        (oa >> oa_bits) ||
        (w && !(old & MMN_PERM_W)) ||
        (user && !(old & MMN_PERM_USER)) ||
        (!(pte & MMN_PTE_UXN) && (old & MMN_PERM_UXN)) ||
        (!(pte & MMN_PTE_PXN) && (old & MMN_PERM_PXN)) ||
        mmn_iotlb_is_blocked(c, e->tr.va, e->tr.va + e->tr.size - 1)) {
        trace_mmn_iotlb_invalidate(
            c->id, mmn_iotlb_inv_cause_name(MMN_IOTLB_INV_CHANGE_PTE),
            e->tr.va, e->tr.va + e->tr.size - 1, 1);
        mmn_iotlb_remove(e, MMN_IOTLB_INV_CHANGE_PTE);
        return;
    }
    /*
     * The walker's permissions of @pte; the table levels above are not
     * known here (0), and DBM counts as writable for PXN whatever HD (the
     * stricter choice; with HD a write through DBM walks again).
     */
    perm = mmn_walk_leaf_perm(pte, 0, true);
    e->tr.pa = oa;
    e->tr.perm = perm;
    e->tr.af = true;
    e->tr.dirty = w;
    e->tr.desc = pte;
    e->young = false;
    e->serial = ++c->iotlb->next_serial;    /* a different entry now */
    MMN_IOTLB_STAT_INC(c, change_pte_replaced);
}

static void mmn_iotlb_change_pte(MmnNotifier *mn, MmnMm *mm,
                                 uint64_t address, uint64_t pte)
{
    MmnIotlbSub *sub;

    trace_mmn_iotlb_change_pte(mm, address, pte);
    FOREACH_SUB(sub, mn) {
        mmn_iotlb_ctx_change_pte(sub->ctx, address, pte);
    }
}

static MmnNotifier *mmn_iotlb_alloc_notifier(MmnMm *mm)
{
    MmnIotlbMm *m = g_new0(MmnIotlbMm, 1);

    QLIST_INIT(&m->subs);
    return &m->mn;
}

static void mmn_iotlb_free_notifier(MmnNotifier *mn)
{
    g_free(container_of(mn, MmnIotlbMm, mn));
}

static const MmnNotifierOps mmn_iotlb_shared_ops = {
    .release = mmn_iotlb_release,
    .clear_flush_young = mmn_iotlb_clear_flush_young,
    .clear_young = mmn_iotlb_clear_young,
    .test_young = mmn_iotlb_test_young,
    .test_clear_young = mmn_iotlb_test_clear_young,
    .change_pte = mmn_iotlb_change_pte,
    .arch_invalidate_secondary_tlbs = mmn_iotlb_secondary_tlbs,
    .alloc_notifier = mmn_iotlb_alloc_notifier,
    .free_notifier = mmn_iotlb_free_notifier,
};

/* ---- binding ---- */

int mmn_iotlb_ctx_attach(MmnIotlbCtx *c, MmnMm *mm,
                         const MmnWalkConfig *walk)
{
    MmnIotlbSub *sub;
    MmnNotifier *mn;
    int ret;

    if (c->sub) {
        return -EBUSY;
    }
    if (!mm || !walk) {
        return -EINVAL;
    }
    sub = g_new0(MmnIotlbSub, 1);
    sub->ctx = c;
    sub->mm = mm;
    ret = mmn_interval_notifier_insert(&sub->isub, mm, 0, UINT64_MAX,
                                       &mmn_iotlb_interval_ops);
    if (ret) {
        goto fail;
    }
    sub->range_mn.ops = &mmn_iotlb_range_ops;
    ret = mmn_notifier_register(&sub->range_mn, mm);
    if (ret) {
        goto fail_interval;
    }
    mn = mmn_notifier_get(&mmn_iotlb_shared_ops, mm);
    if (!mn) {
        ret = mmn_mm_is_released(mm) ? -ESRCH : -EINVAL;
        goto fail_range;
    }
    sub->shared = container_of(mn, MmnIotlbMm, mn);
    QLIST_INSERT_HEAD(&sub->shared->subs, sub, next);
    sub->unknown_open = mmn_mm_active_invalidate_ranges(mm) != 0;
    c->sub = sub;
    c->walk = *walk;
    trace_mmn_iotlb_attach(c->id, mm, sub->unknown_open, 0);
    return 0;

fail_range:
    mmn_notifier_unregister(&sub->range_mn, mm);
fail_interval:
    mmn_interval_notifier_remove(&sub->isub);
fail:
    g_free(sub);
    trace_mmn_iotlb_attach(c->id, mm, false, ret);
    return ret;
}

void mmn_iotlb_ctx_detach(MmnIotlbCtx *c)
{
    MmnIotlbSub *sub = c->sub;

    if (sub) {
        trace_mmn_iotlb_detach(c->id, sub->mm);
        QLIST_REMOVE(sub, next);
        mmn_notifier_put(&sub->shared->mn);
        mmn_notifier_unregister(&sub->range_mn, sub->mm);
        mmn_interval_notifier_remove(&sub->isub);
        g_free(sub);
        c->sub = NULL;
    }
    mmn_iotlb_drop(c, 0, UINT64_MAX, MMN_IOTLB_INV_UNBIND);
    mmn_iotlb_unblock_all(c);
}

MmnMm *mmn_iotlb_ctx_mm(const MmnIotlbCtx *c)
{
    return c->sub ? c->sub->mm : NULL;
}

/* ---- the translate path ---- */

/*
 * Read-side begin.  false: stall (BLOCKED).  Otherwise *seq is what
 * mmn_interval_read_retry() compares after the walk.
 */
static bool mmn_iotlb_read_begin(MmnIotlbCtx *c, unsigned long *seq)
{
    MmnIotlbSub *sub = c->sub;

    *seq = 0;
    if (!sub) {
        return true;
    }
    if (mmn_interval_read_begin_nowait(&sub->isub, seq)) {
        sub->unknown_open = false;
        return true;
    }
    if (sub->unknown_open) {
        return false;
    }
    /*
     * Ranges are open, all of them known to us and none covering the
     * page (checked by the caller): the tables there are stable.  The
     * current sequence still detects a new invalidating period; the
     * context generation detects the rest.
     */
    *seq = qatomic_read(&sub->isub.invalidate_seq);
    return true;
}

static bool mmn_iotlb_read_retry(MmnIotlbCtx *c, unsigned long seq,
                                 uint64_t gen)
{
    return c->inv_gen != gen ||
           (c->sub && mmn_interval_read_retry(&c->sub->isub, seq));
}

bool mmn_iotlb_va_blocked(MmnIotlbCtx *c, uint64_t va)
{
    uint64_t page = va & ~(MMN_PAGE_SIZE - 1);
    unsigned long seq;

    return mmn_iotlb_is_blocked(c, page, page + MMN_PAGE_SIZE - 1) ||
           !mmn_iotlb_read_begin(c, &seq);
}

static bool mmn_fault_cacheable(MmnFaultKind k)
{
    return k == MMN_FAULT_NONE || k == MMN_FAULT_PERMISSION;
}

/*
 * A lookup that found @e.  Returns false if the access must walk instead
 * (a write to a writable-clean entry with HD), else answers it from @e.
 */
static bool mmn_iotlb_xlate_hit(MmnIotlbCtx *c, MmnIotlbEntry *e, bool hd,
                                uint64_t va, const MmnAccess *acc,
                                MmnTranslation *tr,
                                MmnFault *fault, MmnXlateResult *res)
{
    if (mmn_translation_check(&e->tr, acc) == MMN_FAULT_NONE) {
        trace_mmn_iotlb_hit(c->id, va, e->tr.va, e->tr.size, e->tr.perm,
                            acc->write, false);
        MMN_IOTLB_STAT_INC(c, hits);
        mmn_iotlb_touch(e);
        e->young = true;
        *tr = e->tr;
        *res = MMN_XLATE_OK;
        return true;
    }
    if (hd && acc->write && (e->tr.perm & MMN_PERM_DBM)) {
        MmnTranslation wr = e->tr;

        wr.perm |= MMN_PERM_W;
        if (mmn_translation_check(&wr, acc) == MMN_FAULT_NONE) {
            /* writable-clean: the walk makes the descriptor dirty */
            MMN_IOTLB_STAT_INC(c, dbm_rewalks);
            return false;
        }
    }
    /* Arm: a cached leaf that denies the access faults without a walk. */
    trace_mmn_iotlb_hit(c->id, va, e->tr.va, e->tr.size, e->tr.perm,
                        acc->write, true);
    MMN_IOTLB_STAT_INC(c, hits);
    MMN_IOTLB_STAT_INC(c, perm_faults_cached);
    mmn_iotlb_touch(e);
    *tr = e->tr;
    fault->kind = MMN_FAULT_PERMISSION;
    fault->level = e->tr.level;
    fault->va = va;
    fault->desc_pa = e->tr.desc_pa;
    *res = MMN_XLATE_FAULT;
    return true;
}

MmnXlateResult mmn_iotlb_translate(MmnIotlbCtx *c, const MmnWalkConfig *cfg,
                                   const MmnPtOps *ops, void *opaque,
                                   const MmnAccess *acc, MmnTranslation *tr,
                                   MmnFault *fault, bool *from_cache,
                                   uint64_t *serial)
{
    /* the cache holds untagged VAs (TBI), as the walk reports them */
    uint64_t va = mmn_walk_input_va(cfg, acc->va);
    uint64_t page = va & ~(MMN_PAGE_SIZE - 1);
    bool hd = cfg->ha && cfg->hd;
    unsigned attempt;
    uint64_t unused;

    *from_cache = false;
    serial = serial ? serial : &unused;
    *serial = 0;
    for (attempt = 0; attempt <= MMN_IOTLB_MAX_FILL_RETRIES; attempt++) {
        MmnIotlbEntry *e, *ins;
        MmnXlateResult res;
        MmnTranslation w;
        MmnFaultKind k;
        unsigned long seq;
        uint64_t gen, run;

        if (mmn_iotlb_ctx_released(c)) {
            MMN_IOTLB_STAT_INC(c, released_refused);
            return MMN_XLATE_RELEASED;
        }
        e = mmn_iotlb_find(c, va);
        *serial = e ? e->serial : 0;
        if (e && mmn_iotlb_xlate_hit(c, e, hd, va, acc, tr, fault, &res)) {
            *from_cache = true;
            return res;
        }
        if (attempt == 0) {
            MMN_IOTLB_STAT_INC(c, misses);
            trace_mmn_iotlb_miss(c->id, va, acc->write, e != NULL);
        }
        if (mmn_iotlb_is_blocked(c, page, page + MMN_PAGE_SIZE - 1)) {
            MMN_IOTLB_STAT_INC(c, blocked);
            trace_mmn_iotlb_blocked(c->id, va, "an open invalidation "
                                    "covers the page");
            return MMN_XLATE_BLOCKED;
        }
        if (!mmn_iotlb_read_begin(c, &seq)) {
            MMN_IOTLB_STAT_INC(c, blocked);
            trace_mmn_iotlb_blocked(c->id, va, "bound while invalidations "
                                    "were open");
            return MMN_XLATE_BLOCKED;
        }
        gen = c->inv_gen;
        MMN_IOTLB_STAT_INC(c, walks);
        k = mmn_walk(cfg, ops, opaque, acc, &w, fault);
        if (mmn_iotlb_read_retry(c, seq, gen)) {
            /* an invalidation arrived: the walk may have read old tables */
            MMN_IOTLB_STAT_INC(c, fill_retries);
            trace_mmn_iotlb_fill_retry(c->id, va, attempt);
            continue;
        }
        if (!mmn_fault_cacheable(k)) {
            /* translation, address size, access flag, abort: not cached */
            MMN_IOTLB_STAT_INC(c, walk_faults);
            return MMN_XLATE_FAULT;
        }
        run = MAX(w.run_size, w.size);
        if (mmn_iotlb_is_blocked(c, w.va & ~(run - 1),
                                 (w.va & ~(run - 1)) + run - 1)) {
            /* a block or run whose other pages are being changed */
            MMN_IOTLB_STAT_INC(c, blocked);
            trace_mmn_iotlb_blocked(c->id, va, "an open invalidation "
                                    "covers the walked block or run");
            return MMN_XLATE_BLOCKED;
        }
        ins = mmn_iotlb_insert(c, &w, k == MMN_FAULT_NONE);
        if (ins) {
            *serial = ins->serial;      /* it replaced @e */
        }
        *tr = w;
        return k == MMN_FAULT_NONE ? MMN_XLATE_OK : MMN_XLATE_FAULT;
    }
    MMN_IOTLB_STAT_INC(c, blocked);
    trace_mmn_iotlb_blocked(c->id, va, "fill retries exhausted");
    return MMN_XLATE_BLOCKED;
}

const char *mmn_xlate_result_name(MmnXlateResult r)
{
    switch (r) {
    case MMN_XLATE_OK:
        return "ok";
    case MMN_XLATE_FAULT:
        return "fault";
    case MMN_XLATE_BLOCKED:
        return "blocked";
    case MMN_XLATE_RELEASED:
        return "released";
    }
    return "unknown";
}
