/*
 * mmn-smmu random mm sequences against a reference of the test's own.
 *
 * For each kernel profile, libqos/mmn-kernel plays the guest kernel
 * through a random sequence of mm operations (mmap/munmap, mprotect both
 * ways, fork and COW, write upgrades on every fault route the model has,
 * hugetlb and THP, aging, MIGRATE with and without the context's owner,
 * exit_mmap's release) interleaved with device DMA reads and writes and
 * CPU accesses.  The test keeps its own reference: for every 4 KiB page
 * of every mapping, the access the VMA grants and the 32-bit word the
 * page must hold now; and the pages that left the tables (munmap, COW,
 * migration) with the contents they must keep.  After every operation,
 * once its notifications are complete, it checks:
 *  - dangerous (none tolerated in any profile): a DMA that completed
 *    where the reference denies it, read data other than the reference,
 *    a write that did not land in the page the current tables map (or
 *    where they do not grant write), a write into a page that left the
 *    tables, and CHECK's stale_writable, stale_present and stale_oa;
 *  - stale read-only entries (CHECK stale_readonly, a write LIVELOCK on a
 *    stale entry): only after a permission upgrade on a route the profile
 *    does not notify, per the expectations of mmn-smmu-repro.c (table
 *    stale_ro_routes below), or a CPU hardware dirty update;
 *  - anything else unexpected (a permitted access aborted...).
 * Every outcome is counted and printed per profile with operations per
 * second.
 *
 * Environment: MMN_SEQ_SEED (default fixed), MMN_SEQ_OPS (operations
 * per profile).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "libqtest.h"
#include "libqos/libqos-malloc.h"
#include "libqos/pci.h"
#include "libqos/generic-pcihost.h"
#include "libqos/mmn-smmu.h"
#include "libqos/mmn-kernel.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"

#define RAM_BASE        0x40000000ULL
#define RAM_SIZE        (1ULL << 30)
#define VA_BASE         0x2000000000ULL
#define THRESHOLD       16
#define MAX_ITER        (4 * THRESHOLD)
#define CTX             1
#define NR_SMALL        4           /* slots of 4 KiB pages */
#define NR_SLOTS        6           /* and two 2 MiB (hugetlb or THP) */
#define SLOT_SPAN       0x400000ULL
#define SMALL_PAGES     4
#define EPOCH_OPS       48          /* then a new mm (guest RAM is reused) */
#define OWN_COOKIE      0x6f776e6572ULL
#define FOREIGN_COOKIE  0x0f0e0d0cULL
#define POISON          0xdeadf00du /* freed pages (mk_put_page) */
#define DEFAULT_SEED    0x5e9ULL
#define DEFAULT_OPS     400
#define MAX_REPORTS     10

typedef enum Op {
    OP_MMAP, OP_MUNMAP, OP_MPROTECT, OP_FORK, OP_CHILD_EXIT,
    OP_DMA_READ, OP_DMA_WRITE, OP_CPU_WRITE, OP_CPU_READ, OP_AGING,
    OP_MIGRATE, OP_RELEASE, NR_OPS
} Op;

static const char *const op_names[NR_OPS] = {
    "mmap", "munmap", "mprotect", "fork", "child-exit", "dma-read",
    "dma-write", "cpu-write", "cpu-read", "aging", "migrate", "release",
};

/* Relative frequencies of the operations. */
static const unsigned op_weights[NR_OPS] = {
    10, 5, 8, 4, 3, 22, 22, 6, 3, 6, 5, 1,
};

/* Outcome counters, printed per profile. */
typedef enum Count {
    /* as the reference says */
    C_DMA_READ_OK, C_DMA_WRITE_OK, C_DMA_DENIED, C_DMA_FAULTS,
    C_DMA_RELEASED, C_CPU_OK, C_CHECKS, C_CHECK_ENTRIES,
    C_LIVELOCK_STALE_RO, C_CHECK_STALE_RO, C_UNNOTIFIED_UPGRADES,
    C_CPU_HW_DIRTY, C_COW, C_RETIRED_PAGES, C_EPOCHS,
    /* dangerous: no profile may have any */
    C_BAD_DENIED_DONE, C_BAD_READ_DATA, C_BAD_WRITE_OA, C_BAD_WRITE_PERM,
    C_BAD_RETIRED_WRITE, C_BAD_STALE_WRITABLE, C_BAD_STALE_PRESENT,
    C_BAD_STALE_OA, C_BAD_RELEASED_DMA,
    /* unexpected, not dangerous */
    C_UNEXP_STALE_RO, C_UNEXP_LIVELOCK, C_UNEXP_ABORT, C_UNEXP_STATE,
    NR_COUNTS
} Count;

#define FIRST_BAD       C_BAD_DENIED_DONE

static const char *const count_names[NR_COUNTS] = {
    "dma-read-ok", "dma-write-ok", "dma-denied", "dma-faults-handled",
    "dma-released", "cpu-access-ok", "checks", "check-entries",
    "livelock-stale-ro-expected", "check-stale-ro-expected",
    "unnotified-upgrades", "cpu-hw-dirty", "wp-page-copy", "retired-pages",
    "epochs",
    "DANGER-denied-dma-done", "DANGER-read-data", "DANGER-write-oa",
    "DANGER-write-perm", "DANGER-write-retired-page",
    "DANGER-stale-writable", "DANGER-stale-present", "DANGER-stale-oa",
    "DANGER-dma-after-release", "UNEXPECTED-stale-ro",
    "UNEXPECTED-livelock", "UNEXPECTED-abort", "UNEXPECTED-state",
};

/*
 * Stale read-only entries are expected where a kernel upgrades a PTE's
 * permission without notifying the secondary MMU: the upgrade routes of
 * the mm model (mk_mm_upgrade_path()) and the profiles in which they stay
 * silent, as mmn-smmu-repro.c expects them (docs/devel/mmn-smmu-bug.rst):
 * 6.1 notifies no upgrade; the upgrade-notify patch notifies from
 * handle_pte_fault() and hugetlb_fault(), not from wp_page_reuse() nor
 * mm/huge_memory.c; 6.6+ notifies every one from flush_tlb_page().
 */
typedef struct StaleRoute {
    const char *path;
    bool silent[MK_NR_PROFILES];
} StaleRoute;

static const StaleRoute stale_ro_routes[] = {
    { "handle_pte_fault -> ptep_set_access_flags()",
      { [MK_LINUX_6_1] = true } },
    { "hugetlb_fault -> huge_ptep_set_access_flags()",
      { [MK_LINUX_6_1] = true } },
    { "hugetlb_fault -> hugetlb_wp() -> set_huge_ptep_writable()",
      { [MK_LINUX_6_1] = true } },
    { "do_wp_page -> wp_page_reuse()",
      { [MK_LINUX_6_1] = true, [MK_UPGRADE_NOTIFY] = true } },
    { "do_huge_pmd_wp_page() reuse -> pmdp_set_access_flags()",
      { [MK_LINUX_6_1] = true, [MK_UPGRADE_NOTIFY] = true } },
    { "huge_pmd_set_accessed() -> touch_pmd() -> pmdp_set_access_flags()",
      { [MK_LINUX_6_1] = true, [MK_UPGRADE_NOTIFY] = true } },
};

typedef enum Kind { K_SMALL, K_HUGETLB, K_THP } Kind;

typedef struct Slot {
    bool mapped;
    Kind kind;
    bool shared;
    int prot;
    bool child;             /* a fork child still maps the pages */
    unsigned npages;        /* 4 KiB pages */
    uint32_t word[512];     /* what each 4 KiB page must hold */
    uint64_t pa[512];       /* learned from the tables (0: none) */
} Slot;

/* A page that left the tables: nobody may write it through the device. */
typedef struct Retired {
    uint64_t va, pa, size;
    uint32_t word;          /* its contents (uniform per 4 KiB page) */
} Retired;

typedef struct Seq {
    MkProfile p;
    GRand *rng;
    QTestState *qts;
    QGuestAllocator alloc;
    QGenericPCIBus bus;
    QMmnSmmu dev;
    MmnKernel *k;
    MkMm *mm;
    uint64_t buf;
    Slot slot[NR_SLOTS];
    GArray *retired;
    bool stale_ro_ok;       /* an unnotified upgrade happened */
    unsigned epoch_ops;
    uint64_t op_index;
    Op op;
    uint64_t counts[NR_COUNTS];
    uint64_t routes[ARRAY_SIZE(stale_ro_routes)];   /* upgrades seen */
    unsigned reports;
} Seq;

static uint64_t seq_seed = DEFAULT_SEED;
static uint64_t seq_ops = DEFAULT_OPS;

static QPCIAddress mmn_addr = {
    .devfn = QPCI_DEVFN(4, 0),
    .vendor_id = MMN_SMMU_PCI_VENDOR_ID,
    .device_id = MMN_SMMU_PCI_DEVICE_ID,
};

static unsigned rnd(Seq *s, unsigned n)
{
    return g_rand_int_range(s->rng, 0, n);
}

static bool chance(Seq *s, unsigned percent)
{
    return rnd(s, 100) < percent;
}

static uint64_t slot_va(unsigned i)
{
    return VA_BASE + i * SLOT_SPAN;
}

/* Count @c; a dangerous or unexpected one is also reported. */
static void G_GNUC_PRINTF(3, 4) count(Seq *s, Count c, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    s->counts[c]++;
    if (c < FIRST_BAD || !fmt || s->reports >= MAX_REPORTS) {
        return;
    }
    s->reports++;
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_test_message("%s: op %" PRIu64 " (%s): %s: %s; notifications: %s",
                   mk_profile_name(s->p), s->op_index, op_names[s->op],
                   count_names[c], msg, mk_mm_log(s->mm));
}

/* Is @path an upgrade route the profile does not notify?  Counts it. */
static bool stale_route_silent(Seq *s, const char *path)
{
    for (size_t i = 0; path && i < ARRAY_SIZE(stale_ro_routes); i++) {
        if (!strcmp(stale_ro_routes[i].path, path)) {
            s->routes[i]++;
            return stale_ro_routes[i].silent[s->p];
        }
    }
    return false;
}

/* ---- epochs: one mm bound to the device ---- */

static void epoch_start(Seq *s)
{
    uint64_t owner = chance(s, 50) ? OWN_COOKIE : 0;

    s->k = mk_new(&s->dev, &s->alloc, 8, 8);
    s->buf = mk_alloc(s->k, MK_PAGE_SIZE, MK_PAGE_SIZE);
    s->mm = mk_mm_new_owner(s->k, s->p, CTX, chance(s, 50) ? 39 : 48,
                            MMN_CTX_CFG_STALL, owner);
    mk_mm_set_subscriber(s->mm, chance(s, 50) ? MK_SUB_SVA : MK_SUB_MIRROR);
    mk_mm_set_cpu_hw_dbm(s->mm, chance(s, 50));
    memset(s->slot, 0, sizeof(s->slot));
    g_array_set_size(s->retired, 0);
    s->stale_ro_ok = false;
    s->epoch_ops = 0;
    s->counts[C_EPOCHS]++;
}

static void epoch_end(Seq *s)
{
    mk_mm_free(s->mm);
    s->mm = NULL;
    /* stop the queues before their memory goes back to the allocator */
    mk_writel(s->k, A_CTRL, 0);
    mk_free(s->k);
    s->k = NULL;
}

/* ---- the reference ---- */

static uint64_t page_va(unsigned i, unsigned pg)
{
    return slot_va(i) + (uint64_t)pg * MK_PAGE_SIZE;
}

/* Learn where the tables map the pages of slot @i. */
static void learn_pa(Seq *s, unsigned i, uint64_t *out)
{
    Slot *sl = &s->slot[i];
    uint64_t huge = sl->kind != K_SMALL ? mk_va_to_pa(s->mm, slot_va(i)) : 0;

    if (sl->prot == MK_PROT_NONE) {
        return;     /* the pages stay where they are, not valid */
    }
    for (unsigned pg = 0; pg < sl->npages; pg++) {
        out[pg] = sl->kind == K_SMALL ? mk_va_to_pa(s->mm, page_va(i, pg)) :
                  huge ? huge + pg * MK_PAGE_SIZE : 0;
    }
}

/*
 * After an operation on slot @i: every page that left the tables since
 * @before (unmapped, copied, migrated) is retired with the contents it
 * has now, and the reference learns the new addresses.
 */
static void retire_changed(Seq *s, unsigned i, const uint64_t *before,
                           bool still_mapped)
{
    Slot *sl = &s->slot[i];
    uint64_t now[512] = { 0 };
    unsigned step = sl->kind == K_SMALL ? 1 : sl->npages;

    if (still_mapped && sl->prot == MK_PROT_NONE) {
        return;
    }
    if (still_mapped) {
        learn_pa(s, i, now);
    }
    for (unsigned pg = 0; pg < sl->npages; pg += step) {
        Retired r;

        if (before[pg] && now[pg] && before[pg] != now[pg] &&
            (s->op == OP_DMA_WRITE || s->op == OP_CPU_WRITE)) {
            s->counts[C_COW]++;
        }
        if (!before[pg] || before[pg] == now[pg] ||
            before[pg] == s->k->zero_page) {
            continue;
        }
        r.va = page_va(i, pg);
        r.pa = before[pg];
        r.size = sl->kind == K_SMALL ? MK_PAGE_SIZE : MK_HPAGE_SIZE;
        r.word = qtest_readl(s->qts, r.pa);
        g_array_append_val(s->retired, r);
        s->counts[C_RETIRED_PAGES]++;
    }
    if (still_mapped) {
        memcpy(sl->pa, now, sizeof(now));
    }
}

/* No device write may have reached a retired page behind @va. */
static void check_retired(Seq *s, uint64_t va)
{
    for (guint n = 0; n < s->retired->len; n++) {
        Retired *r = &g_array_index(s->retired, Retired, n);
        uint64_t pa = r->pa + (va - r->va);
        uint32_t got;

        /* huge pages hold one word per 4 KiB: checked when poisoned */
        if (va < r->va || va >= r->va + r->size ||
            (r->size == MK_HPAGE_SIZE && r->word != POISON)) {
            continue;
        }
        got = qtest_readl(s->qts, pa);
        if (got != r->word) {
            count(s, C_BAD_RETIRED_WRITE, "va 0x%" PRIx64 ": page 0x%"
                  PRIx64 " left the tables holding 0x%08x, now 0x%08x",
                  va, pa, r->word, got);
        }
    }
}

/* CHECK after the operation's notifications are complete. */
static void check_device(Seq *s)
{
    MmnCheckReport rep;
    g_autofree char *str = NULL;

    mk_check(s->k, CTX, &rep);
    str = mk_check_str(&rep);
    s->counts[C_CHECKS]++;
    s->counts[C_CHECK_ENTRIES] += rep.entries;
    if (rep.stale_writable) {
        count(s, C_BAD_STALE_WRITABLE, "%s", str);
    }
    if (rep.stale_present) {
        count(s, C_BAD_STALE_PRESENT, "%s", str);
    }
    if (rep.stale_oa) {
        count(s, C_BAD_STALE_OA, "%s", str);
    }
    if (rep.stale_readonly && s->stale_ro_ok) {
        s->counts[C_CHECK_STALE_RO]++;
    } else if (rep.stale_readonly) {
        count(s, C_UNEXP_STALE_RO, "%s", str);
    } else {
        s->stale_ro_ok = false;
    }
}

/* The fault handler's upgrade route of this operation, if any. */
static void note_upgrade(Seq *s)
{
    const char *path = mk_mm_upgrade_path(s->mm);

    if (stale_route_silent(s, path)) {
        s->stale_ro_ok = true;
        s->counts[C_UNNOTIFIED_UPGRADES]++;
    }
}

/* ---- operations ---- */

static int pick_slot(Seq *s, bool mapped)
{
    unsigned start = rnd(s, NR_SLOTS);

    for (unsigned n = 0; n < NR_SLOTS; n++) {
        unsigned i = (start + n) % NR_SLOTS;

        if (s->slot[i].mapped == mapped) {
            return i;
        }
    }
    return -1;
}

static const int prots[] = {
    MK_PROT_NONE, MK_PROT_READ, MK_PROT_READ | MK_PROT_WRITE,
};

static void op_mmap(Seq *s, unsigned i)
{
    Slot *sl = &s->slot[i];
    int flags, populate = rnd(s, 3);
    bool child = sl->child;

    /* a child of a fork of the previous mapping may still be alive */
    memset(sl, 0, sizeof(*sl));
    sl->child = child;
    sl->mapped = true;
    sl->kind = i < NR_SMALL ? K_SMALL : chance(s, 50) ? K_HUGETLB : K_THP;
    sl->shared = chance(s, 40);
    sl->prot = chance(s, 80) ? MK_PROT_READ | MK_PROT_WRITE :
               prots[rnd(s, 2)];
    sl->npages = sl->kind == K_SMALL ? SMALL_PAGES : 512;
    flags = (sl->shared ? MK_MAP_SHARED : MK_MAP_PRIVATE) |
            (sl->kind == K_HUGETLB ? MK_MAP_HUGETLB :
             sl->kind == K_THP ? MK_MAP_THP : 0);
    if (sl->prot == MK_PROT_NONE) {
        populate = 0;
    }
    if (populate == 2) {
        mk_mmap_populate(s->mm, slot_va(i), sl->npages * MK_PAGE_SIZE,
                         sl->prot, flags);
        for (unsigned pg = 0; pg < sl->npages; pg++) {
            sl->word[pg] = mk_fill_pattern(page_va(i, pg));
        }
    } else {
        mk_mmap(s->mm, slot_va(i), sl->npages * MK_PAGE_SIZE, sl->prot,
                flags);
        if (populate) {
            mk_populate(s->mm, slot_va(i), sl->npages * MK_PAGE_SIZE);
        }
    }
    learn_pa(s, i, sl->pa);
}

static void op_munmap(Seq *s, unsigned i)
{
    Slot *sl = &s->slot[i];
    uint64_t before[512];

    memcpy(before, sl->pa, sizeof(before));
    mk_munmap(s->mm, slot_va(i), sl->npages * MK_PAGE_SIZE);
    sl->mapped = false;
    retire_changed(s, i, before, false);
}

static void op_mprotect(Seq *s, unsigned i)
{
    Slot *sl = &s->slot[i];
    int prot;

    do {
        /* mostly back to read-write: most DMA should be permitted */
        prot = prots[MIN(rnd(s, 4), 2)];
    } while (prot == sl->prot);
    mk_mprotect(s->mm, slot_va(i), sl->npages * MK_PAGE_SIZE, prot);
    sl->prot = prot;
}

static void op_fork(Seq *s, unsigned i)
{
    Slot *sl = &s->slot[i];

    mk_fork(s->mm, slot_va(i), sl->npages * MK_PAGE_SIZE);
    if (sl->kind == K_SMALL && chance(s, 60)) {
        sl->child = true;   /* the parent's writes copy (wp_page_copy) */
    } else {
        /* a huge page shared with a live child would split: not modelled */
        mk_child_exit(s->mm, slot_va(i), sl->npages * MK_PAGE_SIZE);
    }
}

static void op_child_exit(Seq *s, unsigned i)
{
    Slot *sl = &s->slot[i];

    mk_child_exit(s->mm, slot_va(i), sl->npages * MK_PAGE_SIZE);
    sl->child = false;
    /* pages only the child still mapped are freed (poisoned) now */
    for (guint n = 0; n < s->retired->len; n++) {
        Retired *r = &g_array_index(s->retired, Retired, n);

        if (r->va >= slot_va(i) && r->va < slot_va(i) + SLOT_SPAN) {
            r->word = qtest_readl(s->qts, r->pa);
        }
    }
}

static void op_aging(Seq *s, unsigned i)
{
    uint64_t va = page_va(i, rnd(s, MAX(s->slot[i].npages, 1)));
    uint64_t bm[1];

    switch (rnd(s, 4)) {
    case 0:
        mk_clear_flush_young(s->mm, va);
        break;
    case 1:
        mk_clear_young(s->mm, va);
        break;
    case 2:
        mk_test_young(s->mm, va);
        break;
    default:
        bm[0] = 0;
        mk_test_clear_young(s->mm, slot_va(i),
                            slot_va(i) + SMALL_PAGES * MK_PAGE_SIZE,
                            chance(s, 50), bm);
        break;
    }
}

static void op_migrate(Seq *s, unsigned i)
{
    static const uint64_t owners[] = { OWN_COOKIE, FOREIGN_COOKIE, 0 };
    Slot *sl = &s->slot[i];
    unsigned first = rnd(s, SMALL_PAGES), n = 1 + rnd(s, SMALL_PAGES - first);
    uint64_t before[512];

    memcpy(before, sl->pa, sizeof(before));
    mk_migrate(s->mm, page_va(i, first), n * MK_PAGE_SIZE,
               owners[rnd(s, ARRAY_SIZE(owners))], NULL, NULL);
    retire_changed(s, i, before, true);
}

/* The CPU writes a whole page (a CPU fault runs the same handler). */
static void op_cpu_write(Seq *s, unsigned i)
{
    Slot *sl = &s->slot[i];
    unsigned pg = rnd(s, sl->npages);
    uint64_t va = page_va(i, pg);
    uint64_t pte = mk_pte_get(s->mm, va);
    uint32_t w = g_rand_int(s->rng) | 1;
    g_autofree uint32_t *b = g_new(uint32_t, MK_PAGE_SIZE / 4);
    uint64_t before[512];

    memcpy(before, sl->pa, sizeof(before));
    for (unsigned n = 0; n < MK_PAGE_SIZE / 4; n++) {
        b[n] = cpu_to_le32(w);
    }
    mk_cpu_write(s->mm, va, b, MK_PAGE_SIZE);
    sl->word[pg] = w;
    if ((pte & MK_PTE_VALID) && (pte & MK_PTE_AF) && (pte & MK_PTE_WRITE) &&
        (pte & MK_PTE_RDONLY) && !mk_mm_upgrade_path(s->mm)) {
        /* FEAT_HAFDBS dirtied it: no kernel code runs, nobody is told */
        s->stale_ro_ok = true;
        s->counts[C_CPU_HW_DIRTY]++;
    }
    note_upgrade(s);
    retire_changed(s, i, before, true);
    s->counts[C_CPU_OK]++;
}

static void op_cpu_read(Seq *s, unsigned i)
{
    Slot *sl = &s->slot[i];
    unsigned pg = rnd(s, sl->npages);
    uint32_t w;

    mk_cpu_read(s->mm, page_va(i, pg) + 4 * rnd(s, MK_PAGE_SIZE / 4), &w, 4);
    learn_pa(s, i, sl->pa);
    if (le32_to_cpu(w) != sl->word[pg]) {
        count(s, C_BAD_READ_DATA, "CPU read 0x%08x, reference 0x%08x",
              le32_to_cpu(w), sl->word[pg]);
    } else {
        s->counts[C_CPU_OK]++;
    }
}

/*
 * One device DMA on a page of slot @i (@i < 0: a hole).  Reads cover a
 * random part of the page, writes all of it (FILL with a word, or WRITE
 * from a buffer of one repeated byte), so every page holds one word.
 */
static void op_dma(Seq *s, int i, bool write)
{
    Slot *sl = i >= 0 ? &s->slot[i] : NULL;
    unsigned pg = sl && sl->npages ? rnd(s, sl->npages) : 0;
    uint64_t va = sl ? page_va(i, pg) : VA_BASE + NR_SLOTS * SLOT_SPAN;
    bool allowed = sl && sl->mapped &&
                   (sl->prot & (write ? MK_PROT_WRITE : MK_PROT_READ));
    uint32_t off = 0, len = MK_PAGE_SIZE, w = 0;
    uint64_t before[512];
    MmnDmaDesc d;
    MkFaultLoop r;

    if (sl) {
        memcpy(before, sl->pa, sizeof(before));
    }
    if (write && chance(s, 50)) {
        uint8_t byte = 1 + rnd(s, 254);

        w = byte * 0x01010101u;
        qtest_memset(s->qts, s->buf, byte, MK_PAGE_SIZE);
        d = mk_dma_desc(MMN_DMA_OP_WRITE, CTX, va, len, s->buf, 0);
    } else if (write) {
        w = g_rand_int(s->rng) | 1;
        if (w == POISON) {
            w ^= 2;
        }
        d = mk_dma_desc(MMN_DMA_OP_FILL, CTX, va, len, 0, w);
    } else {
        off = 4 * rnd(s, MK_PAGE_SIZE / 4);
        len = MIN(4 * (1 + rnd(s, 64)), MK_PAGE_SIZE - off);
        qtest_memset(s->qts, s->buf, 0xa5, len);
        d = mk_dma_desc(MMN_DMA_OP_READ, CTX, va + off, len, s->buf, 0);
    }
    mk_dma_fault_loop(s->mm, &d, MAX_ITER, &r);
    s->counts[C_DMA_FAULTS] += r.faults;

    switch (r.state) {
    case MMN_DMA_ST_DONE:
        if (!allowed) {
            count(s, C_BAD_DENIED_DONE, "%s of va 0x%" PRIx64 " completed "
                  "(%s)", write ? "write" : "read", va,
                  !sl || !sl->mapped ? "no VMA" : "VMA forbids it");
            break;
        }
        learn_pa(s, i, sl->pa);
        if (write) {
            uint64_t pte = mk_pte_get(s->mm, va);
            uint64_t pa = mk_va_to_pa(s->mm, va);
            uint32_t first, last;

            note_upgrade(s);
            if (!(pte & MK_PTE_VALID) || (pte & MK_PTE_RDONLY)) {
                count(s, C_BAD_WRITE_PERM, "write of va 0x%" PRIx64
                      " completed, PTE 0x%" PRIx64 " does not grant it",
                      va, pte);
            }
            first = pa ? qtest_readl(s->qts, pa) : 0;
            last = pa ? qtest_readl(s->qts, pa + MK_PAGE_SIZE - 4) : 0;
            if (first != w || last != w) {
                count(s, C_BAD_WRITE_OA, "write of 0x%08x at va 0x%" PRIx64
                      " not in page 0x%" PRIx64 " (holds 0x%08x/0x%08x)",
                      w, va, pa, first, last);
            }
            sl->word[pg] = w;
            s->counts[C_DMA_WRITE_OK]++;
        } else {
            g_autofree uint32_t *b = g_malloc(len);
            unsigned bad = 0;

            qtest_memread(s->qts, s->buf, b, len);
            for (unsigned n = 0; n < len / 4; n++) {
                bad += le32_to_cpu(b[n]) != sl->word[pg];
            }
            if (bad || !(mk_pte_get(s->mm, va) & MK_PTE_VALID)) {
                count(s, C_BAD_READ_DATA, "read of va 0x%" PRIx64 " got "
                      "0x%08x (%u of %u words differ), reference 0x%08x",
                      va + off, le32_to_cpu(b[0]), bad, len / 4,
                      sl->word[pg]);
            } else {
                s->counts[C_DMA_READ_OK]++;
            }
        }
        break;
    case MMN_DMA_ST_ABORTED:
        if (allowed) {
            count(s, C_UNEXP_ABORT, "permitted %s of va 0x%" PRIx64
                  " aborted", write ? "write" : "read", va);
        } else {
            s->counts[C_DMA_DENIED]++;
        }
        break;
    case MMN_DMA_ST_LIVELOCK:
        note_upgrade(s);
        if (write && allowed && r.stale && s->stale_ro_ok) {
            s->counts[C_LIVELOCK_STALE_RO]++;
        } else {
            count(s, C_UNEXP_LIVELOCK, "%s of va 0x%" PRIx64 " (%s entry, "
                  "upgrade route %s)", write ? "write" : "read", va,
                  r.stale ? "stale" : "coherent",
                  mk_mm_upgrade_path(s->mm) ?: "none");
        }
        break;
    default:
        count(s, C_UNEXP_STATE, "DMA state %s at va 0x%" PRIx64,
              mk_dma_state_name(r.state), va);
        break;
    }
    if (sl && sl->mapped) {
        retire_changed(s, i, before, true);
        /* a write that did not complete left the page as it was */
        if (write && r.state != MMN_DMA_ST_DONE && sl->pa[pg] &&
            qtest_readl(s->qts, sl->pa[pg]) != sl->word[pg]) {
            count(s, C_BAD_WRITE_OA, "failed write changed va 0x%" PRIx64,
                  va);
        }
    }
    if (write) {
        check_retired(s, va);
    }
}

/* exit_mmap: afterwards the device translates nothing for the mm. */
static void op_release(Seq *s)
{
    unsigned i = rnd(s, NR_SLOTS);
    MmnDmaDesc d;
    MkFaultLoop r;

    mk_release(s->mm);
    qtest_memset(s->qts, s->buf, 0xa5, 64);
    d = mk_dma_desc(MMN_DMA_OP_READ, CTX, slot_va(i), 64, s->buf, 0);
    mk_dma_fault_loop(s->mm, &d, MAX_ITER, &r);
    if (r.state != MMN_DMA_ST_RELEASED || r.faults ||
        qtest_readl(s->qts, s->buf) != 0xa5a5a5a5) {
        count(s, C_BAD_RELEASED_DMA, "DMA after release: state %s, %u "
              "faults", mk_dma_state_name(r.state), r.faults);
    } else {
        s->counts[C_DMA_RELEASED]++;
    }
}

static Op pick_op(Seq *s)
{
    unsigned total = 0, x;

    for (int o = 0; o < NR_OPS; o++) {
        total += op_weights[o];
    }
    x = rnd(s, total);
    for (int o = 0; o < NR_OPS; o++) {
        if (x < op_weights[o]) {
            return o;
        }
        x -= op_weights[o];
    }
    g_assert_not_reached();
}

/* Operations that need a mapped slot (m below). */
#define NEEDS_MAPPING   ((1u << OP_MUNMAP) | (1u << OP_MPROTECT) | \
                         (1u << OP_FORK) | (1u << OP_CPU_WRITE) | \
                         (1u << OP_CPU_READ) | (1u << OP_MIGRATE))

/* One operation; false if none applied to the state (pick another). */
static bool run_op(Seq *s, Op op)
{
    int i, m = pick_slot(s, true);
    Slot *sl = m >= 0 ? &s->slot[m] : NULL;

    if (!sl && (NEEDS_MAPPING & (1u << op))) {
        return false;
    }
    s->op = op;
    mk_mm_log_clear(s->mm);
    switch (op) {
    case OP_MMAP:
        i = pick_slot(s, false);
        if (i < 0) {
            return false;
        }
        op_mmap(s, i);
        break;
    case OP_MUNMAP:
        op_munmap(s, m);
        break;
    case OP_MPROTECT:
        op_mprotect(s, m);
        break;
    case OP_FORK:
        if (sl->child) {
            return false;
        }
        op_fork(s, m);
        break;
    case OP_CHILD_EXIT:
        for (i = 0; i < NR_SLOTS && !s->slot[i].child; i++) {
            continue;
        }
        if (i == NR_SLOTS) {
            return false;
        }
        op_child_exit(s, i);
        break;
    case OP_DMA_READ:
    case OP_DMA_WRITE:
        /* mostly mapped pages; sometimes a hole or an unmapped slot */
        i = chance(s, 90) && sl ? m : chance(s, 50) ? -1 : rnd(s, NR_SLOTS);
        op_dma(s, i, op == OP_DMA_WRITE);
        break;
    case OP_CPU_WRITE:
        if (sl->prot != (MK_PROT_READ | MK_PROT_WRITE)) {
            return false;
        }
        op_cpu_write(s, m);
        break;
    case OP_CPU_READ:
        if (sl->prot == MK_PROT_NONE) {
            return false;
        }
        op_cpu_read(s, m);
        break;
    case OP_AGING:
        op_aging(s, sl ? m : rnd(s, NR_SLOTS));
        break;
    case OP_MIGRATE:
        if (sl->kind != K_SMALL) {
            return false;
        }
        op_migrate(s, m);
        break;
    case OP_RELEASE:
        op_release(s);
        return true;
    default:
        g_assert_not_reached();
    }
    check_device(s);
    return true;
}

static void seq_run(const void *opaque)
{
    MkProfile p = GPOINTER_TO_INT(opaque);
    uint64_t seed = seq_seed * MK_NR_PROFILES + p;
    Seq *s = g_new0(Seq, 1);
    uint64_t bad = 0;
    int64_t t0;
    double secs;
    GString *out = g_string_new(NULL);

    s->p = p;
    s->rng = g_rand_new_with_seed_array((const guint32[]) {
                                            (guint32)seed,
                                            (guint32)(seed >> 32) }, 2);
    s->retired = g_array_new(false, false, sizeof(Retired));
    alloc_init(&s->alloc, 0, RAM_BASE, RAM_BASE + RAM_SIZE, 4096);
    s->qts = qtest_initf("-M virt -cpu max -m 1G -nic none "
                         "-device mmn-smmu,id=mmn,addr=04.0,"
                         "livelock-threshold=%d", THRESHOLD);
    qpci_init_generic(&s->bus, s->qts, &s->alloc, false);
    qpci_device_init(&s->dev.dev, &s->bus.bus, &mmn_addr);
    s->dev.bar = qpci_iomap(&s->dev.dev, 0, NULL);
    qpci_device_enable(&s->dev.dev);

    t0 = g_get_monotonic_time();
    epoch_start(s);
    for (s->op_index = 0; s->op_index < seq_ops;) {
        Op op = pick_op(s);

        if (!run_op(s, op)) {
            continue;
        }
        s->op_index++;
        if (op == OP_RELEASE || ++s->epoch_ops == EPOCH_OPS) {
            epoch_end(s);
            epoch_start(s);
        }
    }
    epoch_end(s);
    secs = (g_get_monotonic_time() - t0) / 1e6;

    g_string_append_printf(out, "%s: %" PRIu64 " operations in %.2f s, "
                           "%.0f/s (seed %" PRIu64 "):", mk_profile_name(p),
                           seq_ops, secs, seq_ops / MAX(secs, 0.000001),
                           seq_seed);
    for (int c = 0; c < NR_COUNTS; c++) {
        g_string_append_printf(out, " %s=%" PRIu64, count_names[c],
                               s->counts[c]);
        if (c >= FIRST_BAD) {
            bad += s->counts[c];
        }
    }
    for (size_t r = 0; r < ARRAY_SIZE(stale_ro_routes); r++) {
        g_string_append_printf(out, "%s route \"%s\"=%" PRIu64,
                               r ? "," : "; upgrades by",
                               stale_ro_routes[r].path, s->routes[r]);
    }
    g_test_message("%s", out->str);
    g_string_free(out, true);
    qtest_quit(s->qts);
    g_array_free(s->retired, true);
    g_rand_free(s->rng);
    g_free(s);
    g_assert_cmpuint(bad, ==, 0);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *v = g_getenv(name);
    uint64_t n;

    if (!v || !*v) {
        return def;
    }
    if (qemu_strtou64(v, NULL, 0, &n) < 0) {
        fprintf(stderr, "%s must be an unsigned integer, not '%s'\n",
                name, v);
        exit(2);
    }
    return n;
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    seq_seed = env_u64("MMN_SEQ_SEED", DEFAULT_SEED);
    seq_ops = env_u64("MMN_SEQ_OPS", DEFAULT_OPS);
    g_test_message("seed %" PRIu64 " (MMN_SEQ_SEED), %" PRIu64
                   " operations per profile (MMN_SEQ_OPS)", seq_seed,
                   seq_ops);
    for (int p = 0; p < MK_NR_PROFILES; p++) {
        g_autofree char *path = g_strdup_printf("/mmn-smmu/sequence/%s",
                                                mk_profile_name(p));

        qtest_add_data_func(path, GINT_TO_POINTER(p), seq_run);
    }
    return g_test_run();
}
