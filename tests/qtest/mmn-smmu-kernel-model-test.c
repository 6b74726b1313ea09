/*
 * qtest of the guest-kernel model itself (libqos/mmn-kernel-*): the page
 * table states and notification orders it produces must be those of the
 * Linux sources it cites (Debian linux-source-6.1 6.1.192-3 and
 * linux-source-6.12 6.12.117-1~deb12u1).  Also the THP upgrade paths
 * against the device, per profile.
 *
 * Test names: kernel-model/<case> and kernel-model/<case>/<profile> (one
 * suite per case: test.sh names its logs after the suite).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qemu/module.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "libqos/mmn-smmu.h"
#include "libqos/mmn-kernel.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"

#define VA39            0x2000000000ULL
#define THRESHOLD       16
#define MAX_ITER        (4 * THRESHOLD)
#define CTX             1
#define RW              (MK_PROT_READ | MK_PROT_WRITE)

typedef struct Env {
    MmnKernel *k;
    MkMm *mm;
    uint64_t buf;
} Env;

static Env *env_new(QMmnSmmu *s, QGuestAllocator *alloc, MkProfile p)
{
    Env *e = g_new0(Env, 1);

    mk_assert_reset_state(s);
    e->k = mk_new(s, alloc, 8, 8);
    e->buf = mk_alloc(e->k, 0x10000, 4096);
    e->mm = mk_mm_new(e->k, p, CTX, 39, MMN_CTX_CFG_STALL);
    return e;
}

static void env_free(Env *e)
{
    mk_mm_free(e->mm);
    mk_free(e->k);
    g_free(e);
}

static void dma(Env *e, uint8_t op, uint64_t va, MkFaultLoop *r)
{
    MmnDmaDesc d = mk_dma_desc(op, CTX, va, 64, e->buf, 0);

    mk_dma_fault_loop(e->mm, &d, MAX_ITER, r);
}

static uint64_t pte_wr_bits(Env *e, uint64_t va)
{
    return mk_pte_get(e->mm, va) &
           (MK_PTE_WRITE | MK_PTE_RDONLY | MK_PTE_DIRTY);
}

/*
 * hugetlb_no_page(): make_huge_pte(writable = VM_WRITE && VM_SHARED).  A
 * shared writable hugetlb page is mapped dirty and writable even by a
 * read fault; a private one read-only, until hugetlb_wp() reuses it.
 */
static void test_hugetlb_no_page(void *obj, void *data,
                                 QGuestAllocator *alloc)
{
    Env *e = env_new(obj, alloc, MK_LINUX_6_1);
    uint64_t shared = VA39 + 0x40000000ULL, priv = shared + MK_HPAGE_SIZE;

    mk_mmap(e->mm, shared, MK_HPAGE_SIZE, RW, MK_MAP_SHARED | MK_MAP_HUGETLB);
    mk_populate(e->mm, shared, MK_HPAGE_SIZE);          /* a read fault */
    g_assert_cmphex(pte_wr_bits(e, shared), ==, MK_PTE_WRITE | MK_PTE_DIRTY);

    mk_mmap(e->mm, priv, MK_HPAGE_SIZE, RW, MK_MAP_PRIVATE | MK_MAP_HUGETLB);
    g_assert_cmpint(mk_handle_mm_fault(e->mm, priv, false), ==, MK_FAULT_OK);
    g_assert_cmphex(pte_wr_bits(e, priv), ==, MK_PTE_RDONLY);
    g_assert_cmpint(mk_handle_mm_fault(e->mm, priv, true), ==, MK_FAULT_OK);
    g_assert_cmphex(pte_wr_bits(e, priv), ==, MK_PTE_WRITE | MK_PTE_DIRTY);
    g_assert_cmpstr(mk_mm_upgrade_path(e->mm), ==,
                    "hugetlb_fault -> hugetlb_wp() -> "
                    "set_huge_ptep_writable()");
    env_free(e);
}

/* What the page tables hold when change_pte is sent. */
typedef struct ChangePteSeen {
    uint64_t va;
    unsigned n;
    uint64_t pte_then;
} ChangePteSeen;

static void observe_change_pte(MkMm *mm, const char *note, void *opaque)
{
    ChangePteSeen *seen = opaque;

    if (g_str_has_prefix(note, "change_pte(")) {
        seen->n++;
        seen->pte_then = mk_pte_get(mm, seen->va);
    }
}

/*
 * set_pte_at_notify() (include/linux/mmu_notifier.h, 6.1) calls
 * mmu_notifier_change_pte() before set_pte_at(): the secondary MMU learns
 * the new PTE while the primary one still has none (ptep_clear_flush()
 * came first).  6.12 has no change_pte at all, and the SVA driver never
 * registers it.
 */
static void test_change_pte(void *obj, void *data, QGuestAllocator *alloc)
{
    MkProfile p = GPOINTER_TO_INT(data);
    Env *e = env_new(obj, alloc, p);
    uint64_t va = VA39 + 0x300000;
    ChangePteSeen seen = { .va = va };
    bool has = p != MK_LINUX_6_6;
    MkFaultLoop r;

    mk_mm_set_subscriber(e->mm, MK_SUB_MIRROR);
    mk_mm_set_observer(e->mm, observe_change_pte, &seen);
    /* KSM replace_page() */
    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, RW, MK_MAP_PRIVATE);
    mk_ksm_replace(e->mm, va, NULL, NULL);
    g_assert_cmpuint(seen.n, ==, has ? 1 : 0);
    if (has) {
        g_assert_cmphex(seen.pte_then, ==, 0);
    }
    /* wp_page_copy() of the now shared (KSM) page */
    mk_fork(e->mm, va, MK_PAGE_SIZE);
    dma(e, MMN_DMA_OP_WRITE, va, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(seen.n, ==, has ? 2 : 0);
    if (has) {
        g_assert_cmphex(seen.pte_then, ==, 0);
    }
    /* (the child keeps the KSM page: mk_child_exit would see our copy) */

    /* the SVA driver registers no change_pte */
    mk_mm_set_subscriber(e->mm, MK_SUB_SVA);
    mk_ksm_replace(e->mm, va, NULL, NULL);
    g_assert_cmpuint(seen.n, ==, has ? 2 : 0);
    env_free(e);
}

/*
 * The young family reaches only a subscriber with young ops: the SMMU's
 * SVA driver has none (arm_smmu_mmu_notifier_ops, 6.1 and 6.12), a
 * KVM-style one has all three.
 */
static void test_young_subscriber(void *obj, void *data,
                                  QGuestAllocator *alloc)
{
    Env *e = env_new(obj, alloc, MK_LINUX_6_1);
    uint64_t va = VA39 + 0x380000;
    MkFaultLoop r;

    g_assert_cmpint(mk_mm_subscriber(e->mm), ==, MK_SUB_SVA);
    g_assert_nonnull(strstr(mk_subscriber_ops(MK_LINUX_6_1, MK_SUB_SVA),
                            "arm-smmu-v3-sva.c"));
    g_assert_null(strstr(mk_subscriber_ops(MK_LINUX_6_6, MK_SUB_MIRROR),
                         "change_pte"));
    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, RW, MK_MAP_PRIVATE);
    dma(e, MMN_DMA_OP_READ, va, &r);            /* device young */
    mk_mm_log_clear(e->mm);
    g_assert_true(mk_clear_flush_young(e->mm, va));     /* the CPU's AF */
    g_assert_false(mk_test_young(e->mm, va));
    g_assert_false(mk_clear_young(e->mm, va));
    g_assert_null(strstr(mk_mm_log(e->mm), "young"));

    mk_mm_set_subscriber(e->mm, MK_SUB_MIRROR);
    g_assert_true(mk_test_young(e->mm, va));    /* the device's access */
    g_assert_true(mk_clear_young(e->mm, va));
    g_assert_false(mk_test_young(e->mm, va));
    g_assert_nonnull(strstr(mk_mm_log(e->mm), "young"));
    env_free(e);
}

/*
 * mprotect(RO) then mprotect(RW) (change_pte_range(), mm/mprotect.c):
 * pte_modify() makes a dirty PTE writable again, a clean shared one
 * stays writable-clean; a private page comes back writable only if
 * can_change_pte_writable(): PageAnonExclusive (gone after fork, even
 * when the child exited) and, in 6.1, dirty.
 */
static void test_mprotect(void *obj, void *data, QGuestAllocator *alloc)
{
    MkProfile p = GPOINTER_TO_INT(data);
    Env *e = env_new(obj, alloc, p);
    uint64_t clean = VA39 + 0x200000, dirty = clean + MK_PAGE_SIZE;
    uint64_t forked = VA39 + 0x280000, excl = forked + MK_PAGE_SIZE;
    uint32_t w = 0;

    mk_mmap_populate(e->mm, clean, 2 * MK_PAGE_SIZE, RW, MK_MAP_SHARED);
    mk_cpu_write(e->mm, dirty, &w, sizeof(w));
    mk_mprotect(e->mm, clean, 2 * MK_PAGE_SIZE, MK_PROT_READ);
    g_assert_true(mk_pte_get(e->mm, clean) & MK_PTE_RDONLY);
    g_assert_true(mk_pte_get(e->mm, dirty) & MK_PTE_RDONLY);
    mk_mprotect(e->mm, clean, 2 * MK_PAGE_SIZE, RW);
    g_assert_cmphex(pte_wr_bits(e, clean), ==, MK_PTE_WRITE | MK_PTE_RDONLY);
    g_assert_cmphex(pte_wr_bits(e, dirty), ==, MK_PTE_WRITE | MK_PTE_DIRTY);

    mk_mmap_populate(e->mm, forked, MK_PAGE_SIZE, RW, MK_MAP_PRIVATE);
    mk_mmap_populate(e->mm, excl, MK_PAGE_SIZE, RW, MK_MAP_PRIVATE);
    mk_fork(e->mm, forked, MK_PAGE_SIZE);
    mk_child_exit(e->mm, forked, MK_PAGE_SIZE);
    mk_mprotect(e->mm, forked, MK_PAGE_SIZE, MK_PROT_READ);
    mk_mprotect(e->mm, forked, MK_PAGE_SIZE, RW);
    g_assert_cmphex(pte_wr_bits(e, forked), ==, MK_PTE_RDONLY | MK_PTE_DIRTY);
    mk_mprotect(e->mm, excl, MK_PAGE_SIZE, MK_PROT_READ);
    mk_mprotect(e->mm, excl, MK_PAGE_SIZE, RW);
    g_assert_cmphex(pte_wr_bits(e, excl), ==, MK_PTE_WRITE | MK_PTE_DIRTY);
    env_free(e);
}

/*
 * THP upgrades: do_huge_pmd_wp_page() reuse (anonymous THP after fork,
 * child exited) and huge_pmd_set_accessed() (shmem THP mapped
 * writable-clean) end in pmdp_set_access_flags() -> flush_tlb_page(haddr):
 * 6.1 and the upgrade-notify patch send nothing; 6.6+ notifies
 * [haddr, haddr + 4 KiB), and that must drop the device's 2 MiB entry
 * (it overlaps).
 */
static void thp_case(Env *e, MkProfile p, uint64_t va, int flags,
                     const char *path)
{
    uint64_t at = va + 0x1ff040;            /* last 4 KiB of the block */
    MmnCheckReport rep;
    MkFaultLoop r;
    g_autofree char *want = g_strdup_printf("tlbs(%" PRIx64 "-%" PRIx64 ") ",
                                            va, va + (uint64_t)MK_PAGE_SIZE);

    mk_mmap(e->mm, va, MK_HPAGE_SIZE, RW, flags | MK_MAP_THP);
    mk_populate(e->mm, va, MK_HPAGE_SIZE);
    if (!(flags & MK_MAP_SHARED)) {
        mk_fork(e->mm, va, MK_HPAGE_SIZE);
        mk_child_exit(e->mm, va, MK_HPAGE_SIZE);
    }
    g_assert_false(mk_pte_get(e->mm, va) & MK_PTE_TABLE);     /* a block */
    g_assert_true(mk_pte_get(e->mm, va) & MK_PTE_RDONLY);
    dma(e, MMN_DMA_OP_READ, at, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    mk_mm_log_clear(e->mm);
    dma(e, MMN_DMA_OP_WRITE, at, &r);
    g_assert_cmpstr(mk_mm_upgrade_path(e->mm), ==, path);
    g_assert_false(mk_pte_get(e->mm, va) & MK_PTE_RDONLY);
    mk_check(e->k, CTX, &rep);
    if (p == MK_LINUX_6_6) {
        g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
        g_assert_cmpuint(r.faults, ==, 1);
        g_assert_cmpstr(mk_mm_log(e->mm), ==, want);
        g_assert_cmpuint(rep.stale, ==, 0);
    } else {
        g_assert_cmpuint(r.state, ==, MMN_DMA_ST_LIVELOCK);
        g_assert_true(r.stale);
        g_assert_cmpstr(mk_mm_log(e->mm), ==, "");
        g_assert_cmpuint(rep.stale_readonly, ==, 1);
    }
}

static void test_thp_anon_reuse(void *obj, void *data, QGuestAllocator *alloc)
{
    MkProfile p = GPOINTER_TO_INT(data);
    Env *e = env_new(obj, alloc, p);

    thp_case(e, p, VA39 + 0x41000000ULL, MK_MAP_PRIVATE,
             "do_huge_pmd_wp_page() reuse -> pmdp_set_access_flags()");
    env_free(e);
}

static void test_thp_shmem(void *obj, void *data, QGuestAllocator *alloc)
{
    MkProfile p = GPOINTER_TO_INT(data);
    Env *e = env_new(obj, alloc, p);

    thp_case(e, p, VA39 + 0x41400000ULL, MK_MAP_SHARED,
             "huge_pmd_set_accessed() -> touch_pmd() -> "
             "pmdp_set_access_flags()");
    env_free(e);
}

static void *mmn_before(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -m 512M");
    return arg;
}

static void add(const char *name, void (*fn)(void *, void *,
                                             QGuestAllocator *),
                bool per_profile)
{
    for (MkProfile p = 0; p < MK_NR_PROFILES; p++) {
        QOSGraphTestOptions opts = {
            .before = mmn_before,
            .arg = GINT_TO_POINTER(p),
        };
        g_autofree char *path = per_profile ?
            g_strdup_printf("kernel-model/%s/%s", name, mk_profile_name(p)) :
            g_strdup_printf("kernel-model/%s", name);

        qos_add_test(path, "mmn-smmu", fn, &opts);
        if (!per_profile) {
            break;
        }
    }
}

static void mmn_kernel_model_register_tests(void)
{
    add("hugetlb-no-page", test_hugetlb_no_page, false);
    add("young-subscriber", test_young_subscriber, false);
    add("change-pte", test_change_pte, true);
    add("mprotect-rw", test_mprotect, true);
    add("thp-anon-reuse", test_thp_anon_reuse, true);
    add("thp-shmem", test_thp_shmem, true);
}

libqos_init(mmn_kernel_model_register_tests);
