/*
 * Benchmark of the mmn-smmu notifier layer: the cost of one range
 * invalidation (invalidate_range_start + invalidate_range_end) over N
 * interval subscribers of which K overlap the range, next to a naive
 * linear scan of the same N subscribers measured in the same run.
 *
 * The interval tree makes the cost grow with K (the overlapping ones),
 * not with N (the total); the linear scan grows with N.  Figures only:
 * nothing here asserts on time.  The run does check that both paths
 * called the same number of callbacks.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/mmn-smmu/mmu-notifier.h"

#define PG          MMN_PAGE_SIZE
#define TARGET      0x100000000000ULL   /* the page every range hits */
#define MIN_TIME_US 100000              /* per measurement */

typedef struct BSub {
    MmnIntervalNotifier in;
    uint64_t calls;
} BSub;

static bool bsub_invalidate(MmnIntervalNotifier *in,
                            const MmnNotifierRange *range,
                            unsigned long cur_seq)
{
    BSub *s = container_of(in, BSub, in);

    mmn_interval_set_seq(in, cur_seq);
    s->calls++;
    return true;
}

static const MmnIntervalNotifierOps bsub_ops = {
    .invalidate = bsub_invalidate,
};

typedef struct Bench {
    MmnMm *mm;
    BSub *subs;
    unsigned n;
    unsigned long naive_seq;
} Bench;

/*
 * N subscribers, one page each: K of them on TARGET, the others on
 * distinct pages below it.
 */
static void bench_setup(Bench *b, unsigned n, unsigned k)
{
    unsigned i;

    b->mm = mmn_mm_new();
    b->subs = g_new0(BSub, n);
    b->n = n;
    b->naive_seq = 2;
    for (i = 0; i < n; i++) {
        uint64_t start = i < k ? TARGET : (uint64_t)(i + 1) * 2 * PG;

        if (mmn_interval_notifier_insert(&b->subs[i].in, b->mm, start, PG,
                                         &bsub_ops)) {
            fprintf(stderr, "insert failed: %s\n",
                    mmn_mm_last_error(b->mm));
            exit(1);
        }
    }
}

static void bench_teardown(Bench *b)
{
    unsigned i;

    for (i = 0; i < b->n; i++) {
        mmn_interval_notifier_remove(&b->subs[i].in);
    }
    mmn_mm_free(b->mm);
    g_free(b->subs);
}

static uint64_t bench_calls(Bench *b)
{
    uint64_t calls = 0;
    unsigned i;

    for (i = 0; i < b->n; i++) {
        calls += b->subs[i].calls;
    }
    return calls;
}

/* One range invalidation through the layer. */
static void inval_tree(Bench *b, const MmnNotifierRange *r)
{
    if (mmn_notifier_invalidate_range_start(r) ||
        mmn_notifier_invalidate_range_end(r)) {
        fprintf(stderr, "range failed: %s\n", mmn_mm_last_error(b->mm));
        exit(1);
    }
}

/*
 * The same invalidation by scanning every subscriber: same overlap test
 * ([start, last] against [range->start, range->end - 1]), same callbacks,
 * same odd/even sequence.
 */
static void inval_linear(Bench *b, const MmnNotifierRange *r)
{
    uint64_t last = r->end - 1;
    bool any = false;
    unsigned i;

    for (i = 0; i < b->n; i++) {
        MmnIntervalNotifier *in = &b->subs[i].in;

        if (in->interval_tree.start <= last &&
            in->interval_tree.last >= r->start) {
            if (!any) {
                b->naive_seq |= 1;
                any = true;
            }
            in->ops->invalidate(in, r, b->naive_seq);
        }
    }
    if (any) {
        b->naive_seq++;
    }
}

/* ns per invalidation, running for at least MIN_TIME_US */
static double measure(Bench *b, const MmnNotifierRange *r,
                      void (*fn)(Bench *, const MmnNotifierRange *),
                      uint64_t *iters_out)
{
    uint64_t iters = 16, done = 0, i;
    int64_t t0 = g_get_monotonic_time(), t;

    for (;;) {
        for (i = 0; i < iters; i++) {
            fn(b, r);
        }
        done += iters;
        t = g_get_monotonic_time() - t0;
        if (t >= MIN_TIME_US) {
            break;
        }
        iters *= 2;
    }
    *iters_out = done;
    return (double)t * 1000.0 / done;
}

typedef struct Row {
    unsigned n, k;
    double tree_ns, linear_ns;
} Row;

static bool run_row(Row *row)
{
    MmnNotifierRange r;
    uint64_t it_tree, it_linear, calls;
    Bench b;
    bool ok;

    bench_setup(&b, row->n, row->k);
    mmn_notifier_range_init(&r, MMN_NOTIFY_CLEAR,
                            MMN_NOTIFIER_RANGE_BLOCKABLE, b.mm,
                            TARGET, TARGET + PG);
    /* warm up both */
    inval_tree(&b, &r);
    inval_linear(&b, &r);
    calls = bench_calls(&b);

    row->tree_ns = measure(&b, &r, inval_tree, &it_tree);
    ok = bench_calls(&b) - calls == it_tree * row->k;
    calls = bench_calls(&b);
    row->linear_ns = measure(&b, &r, inval_linear, &it_linear);
    ok = ok && bench_calls(&b) - calls == it_linear * row->k;
    ok = ok && mmn_mm_active_invalidate_ranges(b.mm) == 0;
    bench_teardown(&b);
    return ok;
}

int main(int argc, char **argv)
{
    Row rows[] = {
        { .n = 1, .k = 1 },
        { .n = 100, .k = 1 },
        { .n = 10000, .k = 1 },
        { .n = 10000, .k = 10 },
        { .n = 10000, .k = 100 },
        { .n = 10000, .k = 1000 },
    };
    bool ok = true;
    unsigned i;

    printf("mmn-notifier: cost of one range invalidation (start + end) "
           "over N interval\nsubscribers of which K overlap the range; "
           "'linear' scans all N in the same run.\n\n");
    printf("%8s %8s %14s %16s %12s\n", "N", "K", "tree ns/inval",
           "linear ns/inval", "linear/tree");
    for (i = 0; i < ARRAY_SIZE(rows); i++) {
        Row *row = &rows[i];

        if (!run_row(row)) {
            printf("callback counts differ for N=%u K=%u\n", row->n, row->k);
            ok = false;
        }
        printf("%8u %8u %14.1f %16.1f %12.2f\n", row->n, row->k,
               row->tree_ns, row->linear_ns, row->linear_ns / row->tree_ns);
        fflush(stdout);
    }
    printf("\ntree cost, N=10000 vs N=1 (K=1): x%.2f for x10000 "
           "subscribers\n", rows[2].tree_ns / rows[0].tree_ns);
    printf("linear cost, N=10000 vs N=1 (K=1): x%.2f\n",
           rows[2].linear_ns / rows[0].linear_ns);
    printf("tree cost, K=1000 vs K=1 (N=10000): x%.2f for x1000 "
           "overlapping\n", rows[5].tree_ns / rows[2].tree_ns);
    printf("callback counts: %s\n", ok ? "match" : "MISMATCH");
    return ok ? 0 : 1;
}
