/*
 * Benchmark of the mmn-smmu IOTLB, with QEMU's SMMUv3 IOTLB approach
 * measured in the same run for comparison.
 *
 * Prints: the cost of a translation that hits, and of one that misses
 * (4-level walk of a fake memory + fill); the cost of invalidating one
 * 4 KiB page with 64 Ki entries cached, against a full-table scan of the
 * same number of entries (hw/arm/smmu-common.c: a GHashTable keyed
 * {iova, asid, vmid, tg, level} and g_hash_table_foreach_remove, which is
 * what smmu_iotlb_inv_iova does for every invalidation without a TTL
 * hint, and for ASID/VMID invalidations), as a ratio; bytes per cached
 * entry.  Figures only: nothing here asserts on time.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/jhash.h"
#include "qemu/bitops.h"
#include "hw/mmn-smmu/iotlb.h"
#include "../../unit/mmn-smmu/mmn-fake-mem.h"
#ifdef MMN_HAVE_MALLINFO2
#include <malloc.h>
#endif

#define NPAGES      65536u
#define PG          4096ULL
#define VA0         0x7f0000000000ULL
#define PA0         0x100000000ULL
#define BATCH       1024u

/* volatile: results land here so the compiler keeps the timed work */
static volatile uint64_t sink;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t heap_used(void)
{
#ifdef MMN_HAVE_MALLINFO2     /* meson.build: glibc 2.33 and later */
    return mallinfo2().uordblks;
#else
    return 0;
#endif
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A random permutation of 0..n-1. */
static uint32_t *permutation(unsigned n)
{
    uint32_t *p = g_new(uint32_t, n);
    unsigned i;

    for (i = 0; i < n; i++) {
        p[i] = i;
    }
    for (i = n - 1; i > 0; i--) {
        unsigned j = rng() % (i + 1);
        uint32_t t = p[i];

        p[i] = p[j];
        p[j] = t;
    }
    return p;
}

/* ---- QEMU's SMMUv3 IOTLB (hw/arm/smmu-common.c), reduced ---- */

typedef struct QKey {
    uint64_t iova;
    int asid;
    int vmid;
    uint8_t tg;
    uint8_t level;
} QKey;

/* SMMUTLBEntry: IOMMUTLBEntry + level + granule */
typedef struct QEntry {
    void *target_as;
    uint64_t iova;
    uint64_t translated_addr;
    uint64_t addr_mask;
    int perm;
    uint32_t pasid;
    uint8_t level;
    uint8_t granule;
} QEntry;

typedef struct QInvInfo {
    int asid;
    int vmid;
    uint64_t iova;
    uint64_t mask;
} QInvInfo;

static guint qkey_hash(gconstpointer v)
{
    const QKey *key = v;
    uint32_t a, b, c;

    a = b = c = JHASH_INITVAL + sizeof(*key);
    a += key->asid + key->vmid + key->level + key->tg;
    b += extract64(key->iova, 0, 32);
    c += extract64(key->iova, 32, 32);
    __jhash_mix(a, b, c);
    __jhash_final(a, b, c);
    return c;
}

static gboolean qkey_equal(gconstpointer v1, gconstpointer v2)
{
    const QKey *k1 = v1, *k2 = v2;

    return k1->asid == k2->asid && k1->iova == k2->iova &&
           k1->level == k2->level && k1->tg == k2->tg &&
           k1->vmid == k2->vmid;
}

/* smmu_hash_remove_by_asid_vmid_iova() */
static gboolean qremove_by_asid_vmid_iova(gpointer key, gpointer value,
                                          gpointer user_data)
{
    QEntry *entry = value;
    QInvInfo *info = user_data;
    QKey *k = key;

    if (info->asid >= 0 && info->asid != k->asid) {
        return false;
    }
    if (info->vmid >= 0 && info->vmid != k->vmid) {
        return false;
    }
    return ((info->iova & ~entry->addr_mask) == entry->iova) ||
           ((entry->iova & ~info->mask) == info->iova);
}

static void qinsert(GHashTable *h, uint64_t iova)
{
    QKey *k = g_new0(QKey, 1);
    QEntry *e = g_new0(QEntry, 1);

    k->iova = iova;
    k->asid = 1;
    k->vmid = -1;
    k->tg = 1;
    k->level = 3;
    e->iova = iova;
    e->translated_addr = iova - VA0 + PA0;
    e->addr_mask = PG - 1;
    e->perm = 3;
    e->level = 3;
    e->granule = 12;
    g_hash_table_insert(h, k, e);
}

/* smmu_iotlb_inv_iova() without a TTL: one full scan per command */
static void qinv_iova(GHashTable *h, uint64_t iova, uint64_t num_pages)
{
    QInvInfo info = {
        .asid = 1, .vmid = -1, .iova = iova,
        .mask = num_pages * PG - 1,
    };

    g_hash_table_foreach_remove(h, qremove_by_asid_vmid_iova, &info);
}

/* ---- mmn-smmu ---- */

typedef struct Env {
    MmnFakeMem mem;
    MmnWalkConfig cfg;
    MmnMm *mm;
    MmnIotlb *t;
    MmnIotlbCtx *c;
} Env;

static MmnXlateResult xlate(Env *e, uint64_t va)
{
    MmnAccess acc = { .va = va };
    MmnTranslation tr;
    MmnFault f;
    bool fc;
    MmnXlateResult r;

    r = mmn_iotlb_translate(e->c, &e->cfg, &mmn_fake_mem_ops, &e->mem,
                            &acc, &tr, &f, &fc, NULL);
    sink += tr.pa;
    return r;
}

static void fill_all(Env *e, const uint32_t *order)
{
    unsigned i;

    for (i = 0; i < NPAGES; i++) {
        if (xlate(e, VA0 + order[i] * PG) != MMN_XLATE_OK) {
            fprintf(stderr, "translation failed\n");
            exit(1);
        }
    }
}

int main(int argc, char **argv)
{
    Env e = { };
    uint32_t *order = permutation(NPAGES);      /* fill order */
    uint32_t *order2 = permutation(NPAGES);     /* lookup order */
    uint32_t *seq = g_new(uint32_t, NPAGES);
    uint64_t t0, heap0, heap1, ns_hit, ns_lookup, ns_miss, ns_walk;
    uint64_t ns_miss_seq;
    uint64_t ns_inv, ns_inv_mn, ns_scan, ns_range, ns_qrange, ns_ctx;
    double mmn_bytes, q_bytes;
    GHashTable *q;
    unsigned i, r, rounds;
    MmnIotlbStats st;

    for (i = 0; i < NPAGES; i++) {
        seq[i] = i;
    }
    mmn_fake_mem_init(&e.mem, 0x10000000);
    e.cfg.ttb = mmn_fake_mem_alloc(&e.mem);
    e.cfg.va_bits = 48;
    e.cfg.oa_bits = 48;
    for (i = 0; i < NPAGES; i++) {
        mmn_fake_mem_map(&e.mem, e.cfg.ttb, 48, VA0 + i * PG, PA0 + i * PG,
                         3, MMN_PTE_AF);
    }
    e.mm = mmn_mm_new();

    heap0 = heap_used();
    e.t = mmn_iotlb_new(NPAGES);
    e.c = mmn_iotlb_ctx_new(e.t, 1);
    mmn_iotlb_ctx_attach(e.c, e.mm, &e.cfg);

    /* miss: 4-level walk + fill, the cache refilled from empty */
    rounds = 8;
    ns_miss = 0;
    for (r = 0; r < rounds; r++) {
        mmn_iotlb_inv_ctx(e.c);
        t0 = now_ns();
        fill_all(&e, order);
        ns_miss += now_ns() - t0;
    }
    heap1 = heap_used();
    mmn_bytes = (double)(heap1 - heap0) / NPAGES;
    ns_miss_seq = 0;
    for (r = 0; r < 8; r++) {
        mmn_iotlb_inv_ctx(e.c);
        t0 = now_ns();
        fill_all(&e, seq);
        ns_miss_seq += now_ns() - t0;
    }
    mmn_iotlb_inv_ctx(e.c);
    fill_all(&e, order);

    /* hit */
    rounds = 64;
    t0 = now_ns();
    for (r = 0; r < rounds; r++) {
        for (i = 0; i < NPAGES; i++) {
            xlate(&e, VA0 + order2[i] * PG + (r & 0xff8));
        }
    }
    ns_hit = now_ns() - t0;
    t0 = now_ns();
    for (r = 0; r < rounds; r++) {
        for (i = 0; i < NPAGES; i++) {
            sink += mmn_iotlb_lookup(e.c, VA0 + order2[i] * PG, NULL)->pa;
        }
    }
    ns_lookup = now_ns() - t0;

    /* the walk alone */
    t0 = now_ns();
    for (r = 0; r < 8; r++) {
        for (i = 0; i < NPAGES; i++) {
            MmnAccess acc = { .va = VA0 + order2[i] * PG };
            MmnTranslation tr;
            MmnFault f;

            mmn_walk(&e.cfg, &mmn_fake_mem_ops, &e.mem, &acc, &tr, &f);
            sink += tr.pa;
        }
    }
    ns_walk = now_ns() - t0;

    /*
     * One-page invalidation, 64 Ki entries cached: batches of BATCH
     * distinct pages, refilled (untimed) after each batch.
     */
    ns_inv = 0;
    for (r = 0; r < NPAGES / BATCH; r++) {
        const uint32_t *b = &order2[r * BATCH];

        t0 = now_ns();
        for (i = 0; i < BATCH; i++) {
            sink += mmn_iotlb_inv_page(e.c, VA0 + b[i] * PG);
        }
        ns_inv += now_ns() - t0;
        for (i = 0; i < BATCH; i++) {
            xlate(&e, VA0 + b[i] * PG);
        }
    }
    ns_inv_mn = 0;
    for (r = 0; r < NPAGES / BATCH; r++) {
        const uint32_t *b = &order2[r * BATCH];

        t0 = now_ns();
        for (i = 0; i < BATCH; i++) {
            uint64_t va = VA0 + b[i] * PG;

            mmn_notifier_arch_invalidate_secondary_tlbs(e.mm, va, va + PG);
        }
        ns_inv_mn += now_ns() - t0;
        for (i = 0; i < BATCH; i++) {
            xlate(&e, VA0 + b[i] * PG);
        }
    }

    /* 2 MiB range (512 entries), refilled after each */
    ns_range = 0;
    for (r = 0; r < 64; r++) {
        uint64_t va = VA0 + (rng() % (NPAGES / 512)) * 512 * PG;

        t0 = now_ns();
        sink += mmn_iotlb_inv_range(e.c, va, va + 512 * PG);
        ns_range += now_ns() - t0;
        for (i = 0; i < 512; i++) {
            xlate(&e, va + i * PG);
        }
    }
    g_assert(mmn_iotlb_count(e.t) == NPAGES);

    /* whole context */
    t0 = now_ns();
    sink += mmn_iotlb_inv_ctx(e.c);
    ns_ctx = now_ns() - t0;

    /* QEMU's approach on the same 64 Ki entries */
    heap0 = heap_used();
    q = g_hash_table_new_full(qkey_hash, qkey_equal, g_free, g_free);
    for (i = 0; i < NPAGES; i++) {
        qinsert(q, VA0 + order[i] * PG);
    }
    heap1 = heap_used();
    q_bytes = (double)(heap1 - heap0) / NPAGES;
    rounds = 256;
    ns_scan = 0;
    for (r = 0; r < rounds; r++) {
        uint64_t va = VA0 + order2[r] * PG;

        t0 = now_ns();
        qinv_iova(q, va, 1);
        ns_scan += now_ns() - t0;
        qinsert(q, va);
    }
    ns_qrange = 0;
    for (r = 0; r < 64; r++) {
        uint64_t va = VA0 + (rng() % (NPAGES / 512)) * 512 * PG;

        t0 = now_ns();
        qinv_iova(q, va, 512);
        ns_qrange += now_ns() - t0;
        for (i = 0; i < 512; i++) {
            qinsert(q, va + i * PG);
        }
    }
    g_assert(g_hash_table_size(q) == NPAGES);

    mmn_iotlb_get_stats(e.t, &st);
    printf("mmn-smmu IOTLB benchmark: %u entries cached, 4 KiB pages, "
           "4-level tables (VA 48 bits), one context\n\n", NPAGES);
    printf("%-52s %12s\n", "operation", "ns/op");
    printf("%-52s %12.1f\n", "translate, hit (random VA)",
           (double)ns_hit / (64.0 * NPAGES));
    printf("%-52s %12.1f\n", "  lookup only (hash probe)",
           (double)ns_lookup / (64.0 * NPAGES));
    printf("%-52s %12.1f\n", "translate, miss (4-level walk + fill), "
           "random VA",
           (double)ns_miss / (8.0 * NPAGES));
    printf("%-52s %12.1f\n", "translate, miss (4-level walk + fill), "
           "sequential", (double)ns_miss_seq / (8.0 * NPAGES));
    printf("%-52s %12.1f\n", "  walk only (4 descriptor reads, fake memory)",
           (double)ns_walk / (8.0 * NPAGES));
    printf("\n");
    printf("%-52s %12.1f\n", "invalidate 1 page: mmn_iotlb_inv_page",
           (double)ns_inv / NPAGES);
    printf("%-52s %12.1f\n", "invalidate 1 page: arch_invalidate_secondary_"
           "tlbs", (double)ns_inv_mn / NPAGES);
    printf("%-52s %12.1f\n", "invalidate 1 page: full-table scan (QEMU "
           "SMMUv3)", (double)ns_scan / rounds);
    printf("%-52s %12.0fx\n", "  ratio scan / mmn_iotlb_inv_page",
           ((double)ns_scan / rounds) / ((double)ns_inv / NPAGES));
    printf("%-52s %12.1f\n", "invalidate 2 MiB range (512 entries): mmn",
           (double)ns_range / 64);
    printf("%-52s %12.1f\n", "invalidate 2 MiB range (512 entries): scan",
           (double)ns_qrange / 64);
    printf("%-52s %12.1f\n", "invalidate context (65536 entries), per entry",
           (double)ns_ctx / NPAGES);
    printf("\n");
    printf("%-52s %12zu\n", "bytes per entry: struct + hash bucket share",
           mmn_iotlb_bytes_per_entry(e.t));
    printf("%-52s %12.1f\n", "bytes per entry: measured heap (mmn)",
           mmn_bytes);
    printf("%-52s %12.1f\n", "bytes per entry: measured heap (QEMU layout)",
           q_bytes);
    printf("\nstats: hits %" PRIu64 " misses %" PRIu64 " fills %" PRIu64
           " evictions %" PRIu64 " walks %" PRIu64 "\n",
           st.hits, st.misses, st.fills, st.evictions, st.walks);

    g_hash_table_destroy(q);
    mmn_iotlb_free(e.t);
    mmn_mm_free(e.mm);
    mmn_fake_mem_destroy(&e.mem);
    g_free(order);
    g_free(order2);
    g_free(seq);
    return 0;
}
