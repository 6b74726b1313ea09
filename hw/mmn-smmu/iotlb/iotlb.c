/*
 * mmn-smmu IOTLB: the cache of shadow PTEs.
 *
 * Layout (every operation is proportional to what it touches):
 * - a chained hash table keyed {context, VA aligned to the leaf size, log2
 *   of the leaf size}, sized at creation for the capacity (load factor
 *   <= 1); a lookup probes one key per leaf size the context holds,
 *   smallest first (per context a bit mask of the sizes present: with one
 *   granule at most 4 sizes, e.g. 4K: 4 KiB, 2 MiB, 1 GiB, 512 GiB; 16K:
 *   16 KiB, 32 MiB, 64 GiB; 64K: 64 KiB, 512 MiB, 4 TiB);
 * - per context, an interval tree over each entry's contiguous run
 *   ([run, run + run_size - 1], the leaf itself without the contiguous
 *   bit) that finds the entries overlapping a range in O(log n + k), and
 *   all the context's entries for context invalidation;
 * - contiguous runs are cached per page (walker.h): every entry is its own
 *   leaf; only invalidation sees the run: a range or page invalidation
 *   that touches any page of a run removes every entry of that run;
 * - one replacement ring over all contexts, CLOCK (second chance, the
 *   usual approximation of LRU): a hit only sets the entry's reference
 *   bit (no list update, so no extra cache misses on the hot path); a fill
 *   into a full cache sweeps the hand forward, clearing reference bits,
 *   and evicts the first unreferenced entry; new entries go just behind
 *   the hand.  QEMU's SMMUv3 flushes the whole table instead.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/host-utils.h"
#include "hw/mmn-smmu/mmu-notifier.h"
#include "iotlb-int.h"
#include "trace.h"

#define MMN_IOTLB_MIN_BUCKETS 16

static const char *const mmn_iotlb_cause_names[MMN_IOTLB_INV__MAX] = {
    [MMN_IOTLB_INV_PAGE] = "page",
    [MMN_IOTLB_INV_RANGE] = "range",
    [MMN_IOTLB_INV_CTX] = "context",
    [MMN_IOTLB_INV_ALL] = "all",
    [MMN_IOTLB_INV_NOTIFIER_START] = "notifier-start",
    [MMN_IOTLB_INV_SECONDARY_TLBS] = "secondary-tlbs",
    [MMN_IOTLB_INV_CHANGE_PTE] = "change-pte",
    [MMN_IOTLB_INV_RELEASE] = "release",
    [MMN_IOTLB_INV_YOUNG_UNMAP] = "young-unmap",
    [MMN_IOTLB_INV_REPLACE] = "replace",
    [MMN_IOTLB_INV_UNBIND] = "unbind",
};

const char *mmn_iotlb_inv_cause_name(MmnIotlbInvCause cause)
{
    if ((unsigned)cause >= MMN_IOTLB_INV__MAX) {
        return "unknown";
    }
    return mmn_iotlb_cause_names[cause];
}

/* Size of the run of @tr (its own size without the contiguous bit). */
static inline uint64_t mmn_run_size(const MmnTranslation *tr)
{
    return tr->run_size > tr->size ? tr->run_size : tr->size;
}

static inline uint64_t mmn_iotlb_hash(const MmnIotlbCtx *c, uint64_t va,
                                      unsigned shift)
{
    /* murmur3 finaliser over the three key parts */
    uint64_t h = (va >> 12) ^ ((uint64_t)shift << 58) ^
                 ((uint64_t)(uintptr_t)c * 0x9e3779b97f4a7c15ULL);

    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static inline MmnIotlbEntry **mmn_iotlb_bucket(MmnIotlb *t,
                                               const MmnIotlbCtx *c,
                                               uint64_t va, uint64_t size)
{
    return &t->buckets[mmn_iotlb_hash(c, va, ctz64(size)) & t->hash_mask];
}

MmnIotlb *mmn_iotlb_new(uint32_t capacity)
{
    MmnIotlb *t = g_new0(MmnIotlb, 1);
    uint64_t nb = MMN_IOTLB_MIN_BUCKETS;

    t->capacity = MIN(capacity, MMN_IOTLB_MAX_CAPACITY);
    while (nb < t->capacity) {
        nb <<= 1;
    }
    t->hash_mask = nb - 1;
    t->buckets = g_new0(MmnIotlbEntry *, nb);
    QTAILQ_INIT(&t->lru);
    QLIST_INIT(&t->ctxs);
    return t;
}

void mmn_iotlb_free(MmnIotlb *t)
{
    MmnIotlbCtx *c, *next_c;
    MmnIotlbEntry *e;

    if (!t) {
        return;
    }
    QLIST_FOREACH_SAFE(c, &t->ctxs, next, next_c) {
        mmn_iotlb_ctx_free(c);
    }
    while ((e = t->free_list)) {
        t->free_list = e->hnext;
        g_free(e);
    }
    g_free(t->buckets);
    g_free(t);
}

uint32_t mmn_iotlb_capacity(const MmnIotlb *t)
{
    return t->capacity;
}

uint32_t mmn_iotlb_count(const MmnIotlb *t)
{
    return t->count;
}

size_t mmn_iotlb_bytes_per_entry(const MmnIotlb *t)
{
    size_t buckets = (t->hash_mask + 1) * sizeof(MmnIotlbEntry *);

    return sizeof(MmnIotlbEntry) +
           (t->capacity ? DIV_ROUND_UP(buckets, t->capacity) : 0);
}

MmnIotlbCtx *mmn_iotlb_ctx_new(MmnIotlb *t, uint32_t id)
{
    MmnIotlbCtx *c = g_new0(MmnIotlbCtx, 1);

    c->iotlb = t;
    c->id = id;
    c->tree = (IntervalTreeRoot){ };
    QLIST_INIT(&c->blocks);
    QLIST_INSERT_HEAD(&t->ctxs, c, next);
    return c;
}

void mmn_iotlb_ctx_free(MmnIotlbCtx *c)
{
    if (!c) {
        return;
    }
    /* First stop the notifier calls, then drop what they would have. */
    mmn_iotlb_ctx_detach(c);
    mmn_iotlb_remove_range(c, 0, UINT64_MAX, MMN_IOTLB_INV_UNBIND);
    mmn_iotlb_unblock_all(c);
    QLIST_REMOVE(c, next);
    g_free(c);
}

uint32_t mmn_iotlb_ctx_id(const MmnIotlbCtx *c)
{
    return c->id;
}

uint32_t mmn_iotlb_ctx_count(const MmnIotlbCtx *c)
{
    return c->count;
}

/* The notifier layer owns the release: the attached mm's. */
bool mmn_iotlb_ctx_released(const MmnIotlbCtx *c)
{
    MmnMm *mm = mmn_iotlb_ctx_mm(c);

    return mm && mmn_mm_is_released(mm);
}

MmnIotlbEntry *mmn_iotlb_find(MmnIotlbCtx *c, uint64_t va)
{
    MmnIotlb *t = c->iotlb;
    uint64_t sizes;

    for (sizes = c->shift_mask; sizes; sizes &= sizes - 1) {
        uint64_t size = 1ULL << ctz64(sizes);
        uint64_t key = va & ~(size - 1);
        MmnIotlbEntry *e;

        for (e = *mmn_iotlb_bucket(t, c, key, size); e; e = e->hnext) {
            if (e->ctx == c && e->tr.va == key && e->tr.size == size) {
                return e;
            }
        }
    }
    return NULL;
}

void mmn_iotlb_touch(MmnIotlbEntry *e)
{
    e->referenced = true;
}

/* CLOCK: the first unreferenced entry from the hand on. */
static MmnIotlbEntry *mmn_iotlb_victim(MmnIotlb *t)
{
    MmnIotlbEntry *e = t->hand ? t->hand : QTAILQ_FIRST(&t->lru);

    /* at most one full turn: the bits cleared on the way stay clear */
    while (e->referenced) {
        e->referenced = false;
        e = QTAILQ_NEXT(e, lru);
        if (!e) {
            e = QTAILQ_FIRST(&t->lru);
        }
    }
    t->hand = e;            /* unlinking the victim moves it on */
    return e;
}

/* Take @e out of every structure and put it on the free list. */
static void mmn_iotlb_unlink(MmnIotlbEntry *e)
{
    MmnIotlbCtx *c = e->ctx;
    MmnIotlb *t = c->iotlb;
    MmnIotlbEntry **pp = mmn_iotlb_bucket(t, c, e->tr.va, e->tr.size);
    unsigned shift = ctz64(e->tr.size);

    while (*pp != e) {
        pp = &(*pp)->hnext;
    }
    *pp = e->hnext;
    interval_tree_remove(&e->itn, &c->tree);
    if (t->hand == e) {
        t->hand = QTAILQ_NEXT(e, lru);
    }
    QTAILQ_REMOVE(&t->lru, e, lru);
    if (!--c->nr_shift[shift]) {
        c->shift_mask &= ~(1ULL << shift);
    }
    if (mmn_run_size(&e->tr) > e->tr.size) {
        c->nr_cont--;
    }
    c->count--;
    t->count--;

    e->ctx = NULL;
    e->hnext = t->free_list;
    t->free_list = e;
}

void mmn_iotlb_remove(MmnIotlbEntry *e, MmnIotlbInvCause cause)
{
    MmnIotlbCtx *c = e->ctx;

    MMN_IOTLB_STAT_INC(c, inv_entries[cause]);
    mmn_iotlb_unlink(e);
}

uint64_t mmn_iotlb_remove_range(MmnIotlbCtx *c, uint64_t start,
                                uint64_t last, MmnIotlbInvCause cause)
{
    IntervalTreeNode *n;
    uint64_t removed = 0;

    if (last < start) {
        return 0;
    }
    /*
     * The tree rebalances on removal, so restart from the first overlap:
     * O(log n) per removed entry, nothing for entries outside the range.
     */
    while ((n = interval_tree_iter_first(&c->tree, start, last))) {
        mmn_iotlb_remove(container_of(n, MmnIotlbEntry, itn), cause);
        removed++;
    }
    if (removed || cause != MMN_IOTLB_INV_REPLACE) {
        trace_mmn_iotlb_invalidate(c->id, mmn_iotlb_inv_cause_name(cause),
                                   start, last, removed);
    }
    return removed;
}

void mmn_iotlb_count_inv(MmnIotlbCtx *c, MmnIotlbInvCause cause)
{
    MMN_IOTLB_STAT_INC(c, inv_ops[cause]);
}

static bool mmn_translation_valid(const MmnTranslation *tr)
{
    uint64_t run = mmn_run_size(tr);

    return mmn_walk_leaf_size_valid(tr->level, tr->size) &&
           !(tr->va & (tr->size - 1)) && is_power_of_2(run) &&
           run <= tr->size << MMN_CONT_RUN_MAX_SHIFT;
}

MmnIotlbEntry *mmn_iotlb_insert(MmnIotlbCtx *c, const MmnTranslation *tr,
                                bool young)
{
    MmnIotlb *t = c->iotlb;
    MmnIotlbEntry *e, **bucket;
    uint64_t last, run_start, run_last;
    uint64_t replaced;
    unsigned shift;

    if (mmn_iotlb_ctx_released(c) || !mmn_translation_valid(tr)) {
        MMN_IOTLB_STAT_INC(c, fills_refused);
        trace_mmn_iotlb_insert_refused(c->id, tr->va,
                                       mmn_iotlb_ctx_released(c) ?
                                       "address space released" :
                                       "malformed translation");
        return NULL;
    }
    last = tr->va + tr->size - 1;
    run_start = tr->va & ~(mmn_run_size(tr) - 1);
    run_last = run_start + mmn_run_size(tr) - 1;
    /* an open invalidation of any page of the run: the run is changing */
    if (mmn_iotlb_is_blocked(c, run_start, run_last)) {
        MMN_IOTLB_STAT_INC(c, fills_refused);
        trace_mmn_iotlb_insert_refused(c->id, tr->va,
                                       "run overlaps an open invalidation");
        return NULL;
    }
    if (!t->capacity) {
        trace_mmn_iotlb_insert_refused(c->id, tr->va, "capacity 0");
        return NULL;
    }

    /*
     * Never two entries of a context translating the same VA.  A page can
     * only overlap the entry that translates its VA (hash probes); a block
     * may cover many entries (interval tree, which also finds the entries
     * of contiguous runs reaching into it: removing more is harmless).
     */
    if (tr->level == 3) {
        e = mmn_iotlb_find(c, tr->va);
        replaced = e ? 1 : 0;
        if (e) {
            mmn_iotlb_remove(e, MMN_IOTLB_INV_REPLACE);
        }
    } else {
        replaced = mmn_iotlb_remove_range(c, tr->va, last,
                                          MMN_IOTLB_INV_REPLACE);
    }
    if (replaced) {
        mmn_iotlb_count_inv(c, MMN_IOTLB_INV_REPLACE);
    }

    if (t->count >= t->capacity) {
        MmnIotlbEntry *victim = mmn_iotlb_victim(t);

        MMN_IOTLB_STAT_INC(victim->ctx, evictions);
        trace_mmn_iotlb_evict(victim->ctx->id, victim->tr.va,
                              victim->tr.size);
        mmn_iotlb_unlink(victim);
    }

    e = t->free_list;
    if (e) {
        t->free_list = e->hnext;
    } else {
        e = g_new(MmnIotlbEntry, 1);
    }
    memset(e, 0, sizeof(*e));
    e->ctx = c;
    e->tr = *tr;
    e->serial = ++t->next_serial;
    e->young = young;
    e->itn.start = run_start;
    e->itn.last = run_last;

    bucket = mmn_iotlb_bucket(t, c, tr->va, tr->size);
    e->hnext = *bucket;
    *bucket = e;
    interval_tree_insert(&e->itn, &c->tree);
    if (t->hand) {
        QTAILQ_INSERT_BEFORE(t->hand, e, lru);
    } else {
        QTAILQ_INSERT_TAIL(&t->lru, e, lru);
    }
    shift = ctz64(tr->size);
    c->nr_shift[shift]++;
    c->shift_mask |= 1ULL << shift;
    if (mmn_run_size(tr) > tr->size) {
        c->nr_cont++;
    }
    c->count++;
    t->count++;
    MMN_IOTLB_STAT_INC(c, fills);
    trace_mmn_iotlb_insert(c->id, tr->va, tr->size, mmn_run_size(tr),
                           tr->level, tr->perm, young, c->count);
    return e;
}

const MmnTranslation *mmn_iotlb_lookup(MmnIotlbCtx *c, uint64_t va,
                                       bool *young)
{
    MmnIotlbEntry *e = mmn_iotlb_find(c, va);

    if (young) {
        *young = e && e->young;
    }
    return e ? &e->tr : NULL;
}

uint64_t mmn_iotlb_entry_serial(MmnIotlbCtx *c, uint64_t va)
{
    MmnIotlbEntry *e = mmn_iotlb_find(c, va);

    return e ? e->serial : 0;
}

bool mmn_iotlb_fill(MmnIotlbCtx *c, const MmnTranslation *tr)
{
    return mmn_iotlb_insert(c, tr, false) != NULL;
}

uint64_t mmn_iotlb_inv_page(MmnIotlbCtx *c, uint64_t va)
{
    MmnIotlbEntry *e;
    uint64_t removed = 0;

    mmn_iotlb_count_inv(c, MMN_IOTLB_INV_PAGE);
    c->inv_gen++;
    if (c->nr_cont) {
        /* the entries of a run holding @va too (interval tree) */
        return mmn_iotlb_remove_range(c, va, va, MMN_IOTLB_INV_PAGE);
    }
    e = mmn_iotlb_find(c, va);
    if (e) {
        mmn_iotlb_remove(e, MMN_IOTLB_INV_PAGE);
        removed = 1;
    }
    trace_mmn_iotlb_invalidate(c->id,
                               mmn_iotlb_inv_cause_name(MMN_IOTLB_INV_PAGE),
                               va, va, removed);
    return removed;
}

uint64_t mmn_iotlb_inv_range(MmnIotlbCtx *c, uint64_t start, uint64_t end)
{
    mmn_iotlb_count_inv(c, MMN_IOTLB_INV_RANGE);
    c->inv_gen++;
    if (end <= start) {
        return 0;
    }
    return mmn_iotlb_remove_range(c, start, end - 1, MMN_IOTLB_INV_RANGE);
}

uint64_t mmn_iotlb_inv_ctx(MmnIotlbCtx *c)
{
    mmn_iotlb_count_inv(c, MMN_IOTLB_INV_CTX);
    c->inv_gen++;
    return mmn_iotlb_remove_range(c, 0, UINT64_MAX, MMN_IOTLB_INV_CTX);
}

uint64_t mmn_iotlb_inv_all(MmnIotlb *t)
{
    MmnIotlbCtx *c;
    uint64_t removed = 0;

    t->stats.inv_ops[MMN_IOTLB_INV_ALL]++;
    QLIST_FOREACH(c, &t->ctxs, next) {
        c->stats.inv_ops[MMN_IOTLB_INV_ALL]++;
        c->inv_gen++;
        removed += mmn_iotlb_remove_range(c, 0, UINT64_MAX,
                                          MMN_IOTLB_INV_ALL);
    }
    return removed;
}

/* Blocks: a handful at a time (concurrent invalidations of one mm). */
void mmn_iotlb_block(MmnIotlbCtx *c, uint64_t start, uint64_t last)
{
    MmnIotlbBlock *b = g_new0(MmnIotlbBlock, 1);

    b->start = start;
    b->last = last;
    QLIST_INSERT_HEAD(&c->blocks, b, next);
    c->nr_blocks++;
}

bool mmn_iotlb_unblock(MmnIotlbCtx *c, uint64_t start, uint64_t last)
{
    MmnIotlbBlock *b;

    QLIST_FOREACH(b, &c->blocks, next) {
        if (b->start == start && b->last == last) {
            QLIST_REMOVE(b, next);
            g_free(b);
            c->nr_blocks--;
            return true;
        }
    }
    return false;
}

void mmn_iotlb_unblock_all(MmnIotlbCtx *c)
{
    MmnIotlbBlock *b, *next_b;

    QLIST_FOREACH_SAFE(b, &c->blocks, next, next_b) {
        QLIST_REMOVE(b, next);
        g_free(b);
    }
    c->nr_blocks = 0;
}

bool mmn_iotlb_is_blocked(MmnIotlbCtx *c, uint64_t start, uint64_t last)
{
    MmnIotlbBlock *b;

    QLIST_FOREACH(b, &c->blocks, next) {
        if (b->start <= last && start <= b->last) {
            return true;
        }
    }
    return false;
}

static bool mmn_iotlb_ctx_foreach_inner(MmnIotlbCtx *c, MmnIotlbForeachFn fn,
                                        void *opaque)
{
    IntervalTreeNode *n;

    for (n = interval_tree_iter_first(&c->tree, 0, UINT64_MAX); n;
         n = interval_tree_iter_next(n, 0, UINT64_MAX)) {
        MmnIotlbEntry *e = container_of(n, MmnIotlbEntry, itn);
        MmnIotlbEntryInfo info = {
            .ctx = c,
            .ctx_id = c->id,
            .tr = &e->tr,
            .young = e->young,
        };

        if (!fn(&info, opaque)) {
            return false;
        }
    }
    return true;
}

void mmn_iotlb_ctx_foreach(MmnIotlbCtx *c, MmnIotlbForeachFn fn,
                           void *opaque)
{
    mmn_iotlb_ctx_foreach_inner(c, fn, opaque);
}

void mmn_iotlb_foreach(MmnIotlb *t, MmnIotlbForeachFn fn, void *opaque)
{
    MmnIotlbCtx *c;

    QLIST_FOREACH(c, &t->ctxs, next) {
        if (!mmn_iotlb_ctx_foreach_inner(c, fn, opaque)) {
            return;
        }
    }
}

void mmn_iotlb_ctx_get_stats(const MmnIotlbCtx *c, MmnIotlbStats *s)
{
    *s = c->stats;
}

void mmn_iotlb_get_stats(const MmnIotlb *t, MmnIotlbStats *s)
{
    *s = t->stats;
}
