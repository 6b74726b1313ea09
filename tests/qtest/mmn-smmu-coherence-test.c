/*
 * qtest coherence suite for mmn-smmu, scenarios: the guest kernel
 * (libqos/mmn-kernel) changes page tables the way Linux does and forwards
 * exactly the mmu_notifier calls a given kernel generation sends; the
 * device's DMA results and its coherence checker tell whether its IOTLB
 * kept up.
 *
 * Test names: coherence/<profile>/<scenario> for scenarios whose outcome
 * depends on the kernel, coherence/any/<scenario> for the others.  The
 * bad-input cases are mmn-smmu-coherence-bad-input-test.c.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-smmu-coherence.h"

/* ---------------------------------------------------------------- */
/* scenarios                                                         */

static void sc_read_write(Env *e)
{
    uint64_t va = VA39 + 0x10000;
    MkFaultLoop r;

    mk_mmap_populate(e->mm, va, 4 * MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    coh_dev_read_ok(e, va, 4 * MK_PAGE_SIZE);
    for (int i = 0; i < 4; i++) {
        coh_assert_words(e, e->buf + i * MK_PAGE_SIZE, MK_PAGE_SIZE,
                         mk_fill_pattern(va + i * MK_PAGE_SIZE));
    }
    g_assert_cmpuint(coh_check_coherent(e), >=, 4);

    /* write across a page boundary, unaligned */
    coh_fill_buf(e, 0x1800, 0xa5a5a5a5);
    coh_dev_dma(e, MMN_DMA_OP_WRITE, va + 0x800, 0x1800, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(r.faults, ==, 0);
    coh_assert_cpu_sees(e, va + 0x800, 0x1800, 0xa5a5a5a5);
    {
        uint32_t w;

        mk_cpu_read(e->mm, va + 0x7fc, &w, 4);
        g_assert_cmphex(le32_to_cpu(w), ==, mk_fill_pattern(va));
        mk_cpu_read(e->mm, va + 0x2000, &w, 4);
        g_assert_cmphex(le32_to_cpu(w), ==, mk_fill_pattern(va + 0x2000));
    }

    coh_dev_dma(e, MMN_DMA_OP_FILL, va + 0x3000, 0x1000, 0x12345678, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    coh_assert_cpu_sees(e, va + 0x3000, 0x1000, 0x12345678);

    /* CPU writes are seen by the device (same page, no remap) */
    {
        uint32_t w = cpu_to_le32(0xfeedface);

        mk_cpu_write(e->mm, va + 0x3010, &w, 4);
        coh_dev_read_ok(e, va + 0x3010, 4);
        coh_assert_words(e, e->buf, 4, 0xfeedface);
    }
    coh_check_coherent(e);
}

static void sc_read_write_va48(Env *e)
{
    uint64_t va = VA48;

    mk_mmap_populate(e->mm, va, 2 * MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_SHARED);
    coh_dev_read_ok(e, va, 2 * MK_PAGE_SIZE);
    coh_assert_words(e, e->buf, MK_PAGE_SIZE, mk_fill_pattern(va));
    coh_assert_words(e, e->buf + MK_PAGE_SIZE, MK_PAGE_SIZE,
                     mk_fill_pattern(va + MK_PAGE_SIZE));
    g_assert_cmpuint(coh_check_coherent(e), >=, 2);
}

/* Non-present VA in a VMA: the fault handler populates, DMA resumes. */
static void sc_demand_fault(Env *e)
{
    uint64_t va = VA39 + 0x40000;
    MkFaultLoop r;

    mk_mmap(e->mm, va, 2 * MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
            MK_MAP_PRIVATE);
    coh_fill_buf(e, 2 * MK_PAGE_SIZE, 0x0badcafe);
    coh_dev_dma(e, MMN_DMA_OP_WRITE, va, 2 * MK_PAGE_SIZE, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(r.faults, ==, 2);
    g_assert_cmpuint(r.last_fault.kind, ==, 1 /* TRANSLATION */);
    g_assert_true(r.last_fault.flags & MMN_EVT_F_STALLED);
    g_assert_true(r.last_fault.flags & MMN_EVT_F_WRITE);
    g_assert_cmpuint(r.notifications, ==, 0);  /* none -> present */
    coh_assert_cpu_sees(e, va, 2 * MK_PAGE_SIZE, 0x0badcafe);
    coh_check_coherent(e);
}

static void sc_munmap(Env *e)
{
    uint64_t va = VA39 + 0x100000;
    uint64_t old_pa;
    MkFaultLoop r;

    mk_mmap_populate(e->mm, va, 2 * MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_SHARED);
    old_pa = mk_va_to_pa(e->mm, va + MK_PAGE_SIZE);
    coh_dev_read_ok(e, va, 2 * MK_PAGE_SIZE);
    g_assert_cmpuint(coh_check_coherent(e), >=, 2);

    mk_munmap(e->mm, va + MK_PAGE_SIZE, MK_PAGE_SIZE);
    coh_check_coherent(e);
    /* the freed page was reused (poisoned): a stale read would show it */
    coh_dev_dma(e, MMN_DMA_OP_READ, va + MK_PAGE_SIZE, 16, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_ABORTED);
    g_assert_cmpuint(r.faults, ==, 1);
    g_assert_cmpuint(r.aborts, ==, 1);
    g_assert_cmpuint(r.last_fault.kind, ==, 1 /* TRANSLATION */);
    g_assert_cmphex(r.last_fault.va, ==, va + MK_PAGE_SIZE);
    g_assert_cmphex(r.desc.fault_va, ==, va + MK_PAGE_SIZE);
    g_assert_cmpuint(r.desc.done, ==, 0);
    /* and a write must not land in the freed page */
    coh_fill_buf(e, 16, 0x11111111);
    coh_dev_dma(e, MMN_DMA_OP_WRITE, va + MK_PAGE_SIZE, 16, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_ABORTED);
    coh_assert_words(e, old_pa, MK_PAGE_SIZE, 0xdeadf00d);
    /* the page still mapped still works */
    coh_dev_read_ok(e, va, MK_PAGE_SIZE);
    coh_assert_words(e, e->buf, MK_PAGE_SIZE, mk_fill_pattern(va));
    coh_check_coherent(e);
}

static void sc_mprotect(Env *e)
{
    uint64_t va = VA39 + 0x200000;
    uint32_t pat = mk_fill_pattern(va);
    MkFaultLoop r;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    coh_dev_read_ok(e, va, MK_PAGE_SIZE);

    /* down: the cached writable entry must go */
    mk_mprotect(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ);
    g_assert_true(mk_pte_get(e->mm, va) & MK_PTE_RDONLY);
    coh_check_coherent(e);
    coh_dev_read_ok(e, va, MK_PAGE_SIZE);           /* caches it read-only */
    coh_fill_buf(e, MK_PAGE_SIZE, 0x77777777);
    coh_dev_dma(e, MMN_DMA_OP_WRITE, va, MK_PAGE_SIZE, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_ABORTED);   /* SIGSEGV */
    g_assert_cmpuint(r.last_fault.kind, ==, 4 /* PERMISSION */);
    g_assert_cmpuint(r.desc.done, ==, 0);
    coh_assert_cpu_sees(e, va, MK_PAGE_SIZE, pat);
    coh_check_coherent(e);

    /* PROT_NONE: not even a read */
    mk_mprotect(e->mm, va, MK_PAGE_SIZE, MK_PROT_NONE);
    coh_check_coherent(e);
    coh_dev_dma(e, MMN_DMA_OP_READ, va, 8, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_ABORTED);

    /* up: mprotect always notifies, in every kernel */
    mk_mprotect(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE);
    g_assert_false(mk_pte_get(e->mm, va) & MK_PTE_RDONLY);
    coh_check_coherent(e);
    coh_dev_dma(e, MMN_DMA_OP_WRITE, va, MK_PAGE_SIZE, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(r.faults, ==, 0);
    coh_assert_cpu_sees(e, va, MK_PAGE_SIZE, 0x77777777);
    coh_check_coherent(e);
}

/* mprotect up of a read-only entry the device cached (shared mapping) */
static void sc_mprotect_up_cached(Env *e)
{
    uint64_t va = VA39 + 0x280000;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ, MK_MAP_SHARED);
    coh_dev_read_ok(e, va, MK_PAGE_SIZE);
    mk_mprotect(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE);
    /* writable-clean now; the cached RO entry was dropped by mprotect */
    coh_check_coherent(e);
    {
        MkFaultLoop r;

        coh_fill_buf(e, 64, 0x31415926);
        coh_dev_dma(e, MMN_DMA_OP_WRITE, va, 64, 0, &r);
        if (mk_mm_profile(e->mm) == MK_LINUX_6_1) {
            /* the dirtying is not notified: cached from the fault walk */
            g_assert_cmpuint(r.state, ==, MMN_DMA_ST_LIVELOCK);
        } else {
            /* one fault: writable-clean -> the handler dirties it */
            g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
            g_assert_cmpuint(r.faults, ==, 1);
            coh_assert_cpu_sees(e, va, 64, 0x31415926);
            coh_check_coherent(e);
        }
    }
}

static void sc_cow_copy(Env *e)
{
    uint64_t va = VA39 + 0x300000;
    uint32_t pat = mk_fill_pattern(va);
    uint64_t old_pa, new_pa;
    MkFaultLoop r;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    old_pa = mk_va_to_pa(e->mm, va);
    coh_dev_read_ok(e, va, MK_PAGE_SIZE);
    mk_fork(e->mm, va, MK_PAGE_SIZE);
    coh_check_coherent(e);
    coh_dev_read_ok(e, va, MK_PAGE_SIZE);           /* cached read-only */

    coh_fill_buf(e, 256, 0xc0c0c0c0);
    coh_dev_dma(e, MMN_DMA_OP_WRITE, va + 0x100, 256, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(r.faults, ==, 1);
    g_assert_cmpuint(r.notifications, >=, 2);
    new_pa = mk_va_to_pa(e->mm, va);
    g_assert_cmphex(new_pa, !=, old_pa);
    /* the child's page is untouched, ours has the copy + the write */
    coh_assert_words(e, old_pa, MK_PAGE_SIZE, pat);
    coh_assert_words(e, new_pa, 0x100, pat);
    coh_assert_words(e, new_pa + 0x100, 256, 0xc0c0c0c0);
    coh_assert_words(e, new_pa + 0x200, MK_PAGE_SIZE - 0x200, pat);
    coh_check_coherent(e);
    mk_child_exit(e->mm, va, MK_PAGE_SIZE);
}

/* read fault maps the zero page; the write replaces it (wp_page_copy) */
static void sc_cow_zero_page(Env *e)
{
    uint64_t va = VA39 + 0x380000;
    MkFaultLoop r;

    mk_mmap(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
            MK_MAP_PRIVATE);
    coh_dev_dma(e, MMN_DMA_OP_READ, va, MK_PAGE_SIZE, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(r.faults, ==, 1);
    coh_assert_words(e, e->buf, MK_PAGE_SIZE, 0);
    g_assert_cmphex(mk_va_to_pa(e->mm, va), ==, e->k->zero_page);

    coh_fill_buf(e, 64, 0x2e2e2e2e);
    coh_dev_dma(e, MMN_DMA_OP_WRITE, va, 64, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(r.faults, ==, 1);
    g_assert_cmphex(mk_va_to_pa(e->mm, va), !=, e->k->zero_page);
    coh_assert_cpu_sees(e, va, 64, 0x2e2e2e2e);
    coh_assert_words(e, e->k->zero_page, MK_PAGE_SIZE, 0);
    coh_check_coherent(e);
}

static bool upgrade_healed(MkProfile p)
{
    return p != MK_LINUX_6_1;
}

/* shared writable mapping, PTE writable-clean (DBM|RDONLY) */
static void sc_upgrade_writable_clean(Env *e)
{
    uint64_t va = VA39 + 0x400000;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_SHARED);
    g_assert_cmphex(mk_pte_get(e->mm, va) & (MK_PTE_WRITE | MK_PTE_RDONLY),
                    ==, MK_PTE_WRITE | MK_PTE_RDONLY);
    coh_dev_read_ok(e, va, MK_PAGE_SIZE);           /* cached read-only */
    coh_check_coherent(e);
    coh_expect_upgrade(e, va + 0x40, 64, upgrade_healed(e->p),
                       "writable-clean upgrade");
}

/* no device read first: the permission-faulting walk is cached too */
static void sc_upgrade_writable_clean_nofill(Env *e)
{
    uint64_t va = VA39 + 0x480000;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_SHARED);
    coh_expect_upgrade(e, va, MK_PAGE_SIZE, upgrade_healed(e->p),
                       "writable-clean upgrade, first access a write");
}

/*
 * Exclusive write-protected anonymous page (after fork, the child
 * exited): do_wp_page -> wp_page_reuse.  The upgrade-notify patch
 * ("mmu_notifiers: Notify on pte permission upgrades", May 2023) does not
 * notify there (see mk_site_rules): only 6.6 heals it.
 */
static void sc_upgrade_wp_page_reuse(Env *e)
{
    uint64_t va = VA39 + 0x500000;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    mk_fork(e->mm, va, MK_PAGE_SIZE);
    mk_child_exit(e->mm, va, MK_PAGE_SIZE);
    g_assert_true(mk_pte_get(e->mm, va) & MK_PTE_RDONLY);
    coh_dev_read_ok(e, va, MK_PAGE_SIZE);
    coh_check_coherent(e);
    coh_expect_upgrade(e, va, 128, e->p == MK_LINUX_6_6, "wp_page_reuse");
    /* reuse, not copy */
    g_assert_cmpuint(mk_mm_notifications(e->mm), >, 0);
}

/*
 * The CPU's own write dirties a writable-clean PTE in hardware (DBM,
 * -cpu max): no kernel code runs, nobody is notified, and the device's
 * cached read-only entry is stale.  Its fault handler then finds the PTE
 * writable but pte_mkdirty() still sets the software PTE_DIRTY bit, so
 * ptep_set_access_flags() sees a change (and flushes): healed exactly
 * where the writable-clean upgrade is.
 */
static void sc_upgrade_cpu_hw_dirty(Env *e)
{
    uint64_t va = VA39 + 0x580000;
    uint32_t w = cpu_to_le32(0x99999999);

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_SHARED);
    mk_mm_set_cpu_hw_dbm(e->mm, true);
    coh_dev_read_ok(e, va, MK_PAGE_SIZE);
    mk_mm_log_clear(e->mm);
    mk_cpu_write(e->mm, va + 0x800, &w, 4);
    g_assert_cmpuint(strlen(mk_mm_log(e->mm)), ==, 0);
    g_assert_false(mk_pte_get(e->mm, va) & MK_PTE_RDONLY);
    g_assert_false(mk_pte_get(e->mm, va) & MK_PTE_DIRTY);
    coh_expect_upgrade(e, va, 64, upgrade_healed(e->p),
                       "CPU hardware-dirtied page");
}

static bool have_blocks(Env *e)
{
    uint32_t f = mk_readl(e->k, A_FEATURES);

    g_assert_true(FIELD_EX32(f, FEATURES, BLOCKS));
    return true;
}

/*
 * 2 MiB private hugetlb block, first touched by a device read:
 * hugetlb_no_page() maps the new anonymous page write-protected
 * (make_huge_pte(writable=0)); the write reuses it in hugetlb_wp().
 */
static void sc_hugetlb_upgrade(Env *e)
{
    uint64_t va = VA39 + 0x40000000ULL;
    MkFaultLoop r;

    have_blocks(e);
    mk_mmap(e->mm, va, MK_HPAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
            MK_MAP_PRIVATE | MK_MAP_HUGETLB);
    coh_dev_dma(e, MMN_DMA_OP_READ, va + 0x5000, 64, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_false(mk_pte_get(e->mm, va) & MK_PTE_TABLE);     /* a block */
    g_assert_true(mk_pte_get(e->mm, va) & MK_PTE_RDONLY);
    coh_check_coherent(e);
    /* 6.6 invalidates [haddr, haddr + 4 KiB): the 2 MiB entry overlaps */
    coh_expect_upgrade(e, va + 0x5000, 64, upgrade_healed(e->p),
                       "hugetlb private read-first upgrade");
}

/* private hugetlb after fork + child exit: hugetlb_wp() reuse */
static void sc_hugetlb_wp_reuse(Env *e)
{
    uint64_t va = VA39 + 0x40400000ULL;

    have_blocks(e);
    mk_mmap(e->mm, va, MK_HPAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
            MK_MAP_PRIVATE | MK_MAP_HUGETLB);
    mk_populate(e->mm, va, MK_HPAGE_SIZE);
    mk_fork(e->mm, va, MK_HPAGE_SIZE);
    mk_child_exit(e->mm, va, MK_HPAGE_SIZE);
    coh_dev_read_ok(e, va + 0x1ff000, 64);
    coh_check_coherent(e);
    coh_expect_upgrade(e, va + 0x1ff000, 64, upgrade_healed(e->p),
                       "hugetlb_wp reuse");
}

static void sc_hugetlb_munmap(Env *e)
{
    uint64_t va = VA39 + 0x40800000ULL;
    uint64_t pa;
    MkFaultLoop r;

    have_blocks(e);
    mk_mmap(e->mm, va, MK_HPAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
            MK_MAP_PRIVATE | MK_MAP_HUGETLB);
    mk_populate(e->mm, va, MK_HPAGE_SIZE);
    pa = mk_va_to_pa(e->mm, va);
    coh_fill_buf(e, MK_PAGE_SIZE, 0x4b4b4b4b);
    coh_dev_dma(e, MMN_DMA_OP_WRITE, va + 0x100000, MK_PAGE_SIZE, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    coh_assert_words(e, pa + 0x100000, MK_PAGE_SIZE, 0x4b4b4b4b);
    mk_munmap(e->mm, va, MK_HPAGE_SIZE);
    coh_check_coherent(e);
    coh_dev_dma(e, MMN_DMA_OP_WRITE, va + 0x100000, MK_PAGE_SIZE, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_ABORTED);
    coh_assert_words(e, pa + 0x100000, MK_PAGE_SIZE, 0xdeadf00d);
}

/* a 1 MiB FILL (the maximum length) inside one block */
static void sc_hugetlb_fill_max(Env *e)
{
    uint64_t va = VA39 + 0x40c00000ULL;
    MkFaultLoop r;

    have_blocks(e);
    mk_mmap(e->mm, va, MK_HPAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
            MK_MAP_PRIVATE | MK_MAP_HUGETLB);
    mk_populate(e->mm, va, MK_HPAGE_SIZE);
    coh_dev_dma(e, MMN_DMA_OP_FILL, va + 0x80000, MMN_DMA_MAX_LEN,
                0x0f0f0f0f, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(r.desc.done, ==, MMN_DMA_MAX_LEN);
    coh_assert_words(e, mk_va_to_pa(e->mm, va + 0x80000), MMN_DMA_MAX_LEN,
                     0x0f0f0f0f);
    coh_assert_words(e, mk_va_to_pa(e->mm, va + 0x7f000), MK_PAGE_SIZE, 0);
    g_assert_cmpuint(coh_check_coherent(e), >=, 1);
}

/* only the device touched page A: young comes from the device */
static void sc_aging(Env *e)
{
    uint64_t a = VA39 + 0x600000, b = a + MK_PAGE_SIZE;
    uint64_t bm;
    uint32_t res;
    MkFaultLoop r;

    g_assert_true(FIELD_EX32(mk_readl(e->k, A_FEATURES), FEATURES,
                             YOUNG_BITMAP));
    /* only a KVM/HMM-style subscriber registers the young ops */
    mk_mm_set_subscriber(e->mm, MK_SUB_MIRROR);
    mk_mmap_populate(e->mm, a, 2 * MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    coh_dev_read_ok(e, a, 2 * MK_PAGE_SIZE);
    g_assert_true(mk_test_young(e->mm, a));
    g_assert_true(mk_test_young(e->mm, b));
    /* aging pass: clears the CPU AF and the device's young bits */
    g_assert_true(mk_clear_young(e->mm, a));
    g_assert_true(mk_clear_young(e->mm, b));
    g_assert_false(mk_pte_get(e->mm, a) & MK_PTE_AF);
    g_assert_false(mk_test_young(e->mm, a));
    g_assert_false(mk_test_young(e->mm, b));
    /* a second pass finds nothing: neither the CPU nor the device */
    g_assert_false(mk_clear_young(e->mm, a));

    /* the device reads A (through its cached entry): only it knows */
    coh_dev_read_ok(e, a, 64);
    g_assert_false(mk_pte_get(e->mm, a) & MK_PTE_AF);
    g_assert_true(mk_test_young(e->mm, a));
    g_assert_false(mk_test_young(e->mm, b));

    /* young-bitmap series: bit for addr = (end - addr) / 4096 - 1 */
    bm = 0;
    res = mk_test_clear_young(e->mm, a, b + MK_PAGE_SIZE, false, &bm);
    g_assert_cmpuint(res, !=, 0);
    g_assert_cmphex(bm, ==, 1ULL << 1);         /* A only */
    g_assert_true(mk_test_young(e->mm, a));     /* test mode: not cleared */
    /* clear mode with B's bit only: A stays young */
    bm = 1ULL << 0;
    mk_test_clear_young(e->mm, a, b + MK_PAGE_SIZE, true, &bm);
    g_assert_true(mk_test_young(e->mm, a));
    bm = 1ULL << 1;
    mk_test_clear_young(e->mm, a, b + MK_PAGE_SIZE, true, &bm);
    g_assert_false(mk_test_young(e->mm, a));
    /* without a bitmap */
    res = mk_test_clear_young(e->mm, a, b + MK_PAGE_SIZE, false, NULL);
    g_assert_cmpuint(res, ==, 0);

    /* clear_flush_young reports the device's access and clears it */
    coh_dev_read_ok(e, a, 64);
    g_assert_true(mk_clear_flush_young(e->mm, a));
    g_assert_false(mk_test_young(e->mm, a));
    g_assert_false(mk_clear_flush_young(e->mm, a));
    coh_check_coherent(e);
    /* AF is clear in the CPU PTE now: the device faults it back in */
    coh_dev_dma(e, MMN_DMA_OP_READ, a, 64, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    coh_assert_words(e, e->buf, 64, mk_fill_pattern(a));
    coh_check_coherent(e);
}

static void sc_release(Env *e)
{
    uint64_t va = VA39 + 0x700000;
    MmnCheckReport rep;
    MmnDmaDesc d;
    uint32_t st;
    MmnCmd c;

    mk_mmap_populate(e->mm, va, 2 * MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    coh_dev_read_ok(e, va, 2 * MK_PAGE_SIZE);
    g_assert_cmpuint(coh_check_coherent(e), >=, 2);
    mk_release(e->mm);
    mk_check(e->k, coh_ctx_of(e), &rep);
    g_assert_cmpuint(rep.entries, ==, 0);
    g_assert_cmpuint(rep.stale, ==, 0);

    d = mk_dma_desc(MMN_DMA_OP_READ, coh_ctx_of(e), va, 64, e->buf, 0);
    st = mk_dma_submit(e->k, &d, &d);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_RELEASED);
    g_assert_cmpuint(d.done, ==, 0);
    mk_check(e->k, coh_ctx_of(e), &rep);
    g_assert_cmpuint(rep.entries, ==, 0);

    /* after release nothing else may come: MISUSE */
    c = mk_cmd_init(MMN_CMD_MN_SECONDARY_TLBS, coh_ctx_of(e));
    c.a0 = va;
    c.a1 = va + MK_PAGE_SIZE;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_MISUSE);
    c = mk_cmd_init(MMN_CMD_MN_RELEASE, coh_ctx_of(e));
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_MISUSE);

    /* unbind + bind again: a fresh address space works */
    mk_mm_free(e->mm);
    e->mm = mk_mm_new(e->k, e->p, 1, 39, STALL);
    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ, MK_MAP_PRIVATE);
    coh_dev_read_ok(e, va, MK_PAGE_SIZE);
    coh_assert_words(e, e->buf, MK_PAGE_SIZE, mk_fill_pattern(va));
    coh_check_coherent(e);
}

/*
 * A non-blockable invalidation (oom reaper) while a DMA is in flight:
 * stalled on a fault after writing its first page.
 */
static void sc_nonblock_inflight(Env *e)
{
    uint64_t va = VA39 + 0x800000;
    MmnDmaDesc d;
    MmnEvt ev;
    int32_t res;
    uint32_t st;
    MmnCmd c;

    mk_mmap(e->mm, va, 2 * MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
            MK_MAP_PRIVATE);
    mk_populate(e->mm, va, MK_PAGE_SIZE);       /* page 1 not present */
    coh_fill_buf(e, 2 * MK_PAGE_SIZE, 0x5a5a1234);
    d = mk_dma_desc(MMN_DMA_OP_WRITE, coh_ctx_of(e), va, 2 * MK_PAGE_SIZE,
                    e->buf, 0);
    st = mk_dma_submit(e->k, &d, &d);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_STALLED);
    g_assert_true(mk_readl(e->k, A_STATUS) & R_STATUS_DMA_STALLED_MASK);
    g_assert_true(mk_evt_pop(e->k, &ev));
    g_assert_cmphex(ev.va, ==, va + MK_PAGE_SIZE);

    res = mk_mn_range_start(e->mm, MK_EV_UNMAP, false, va,
                            va + 2 * MK_PAGE_SIZE, 0);
    /*
     * The engine holds the faulting page (dmirror's mutex_trylock fails):
     * the non-blockable start fails, nothing stays open, no END is sent.
     */
    g_assert_cmpint(res, ==, EAGAIN_RES);
    coh_check_coherent(e);
    g_assert_cmpint(mk_handle_mm_fault(e->mm, va + MK_PAGE_SIZE, true), ==,
                    MK_FAULT_OK);
    c = mk_cmd_init(MMN_CMD_DMA_RESUME, 0);
    mk_cmd(e->k, &c);
    st = mk_readl(e->k, A_DMA_STATUS);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    coh_assert_cpu_sees(e, va, 2 * MK_PAGE_SIZE, 0x5a5a1234);
    coh_check_coherent(e);
    /* the retry (OOM reaper style) succeeds once the DMA is done */
    res = mk_mn_range_start(e->mm, MK_EV_UNMAP, false, va,
                            va + 2 * MK_PAGE_SIZE, 0);
    g_assert_cmpint(res, ==, 0);
    mk_mn_range_end(e->mm, MK_EV_UNMAP, false, false, va,
                    va + 2 * MK_PAGE_SIZE, 0);
    coh_check_coherent(e);
}

/*
 * An open (blockable) invalidation blocks the DMA at its page; a
 * non-blockable start on the page the DMA already did; the END of the
 * first resumes the DMA.
 */
static void sc_nonblock_blocked(Env *e)
{
    uint64_t va = VA39 + 0x900000;
    MmnDmaDesc d;
    int32_t res;
    uint32_t st;

    mk_mmap_populate(e->mm, va, 2 * MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    res = mk_mn_range_start(e->mm, MK_EV_CLEAR, true, va + MK_PAGE_SIZE,
                            va + 2 * MK_PAGE_SIZE, 0);
    g_assert_cmpint(res, ==, 0);
    coh_fill_buf(e, 2 * MK_PAGE_SIZE, 0x6b6b0001);
    d = mk_dma_desc(MMN_DMA_OP_WRITE, coh_ctx_of(e), va, 2 * MK_PAGE_SIZE,
                    e->buf, 0);
    st = mk_dma_submit(e->k, &d, &d);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BLOCKED);
    g_assert_true(mk_readl(e->k, A_STATUS) & R_STATUS_DMA_BUSY_MASK);
    g_assert_cmpuint(mk_evt_pending(e->k), ==, 0);   /* not a fault */

    res = mk_mn_range_start(e->mm, MK_EV_UNMAP, false, va, va + MK_PAGE_SIZE,
                            0);
    /* the engine holds page 1 only: a range over page 0 proceeds */
    g_assert_cmpint(res, ==, 0);
    mk_mn_range_end(e->mm, MK_EV_UNMAP, false, false, va, va + MK_PAGE_SIZE,
                    0);
    res = mk_mn_range_start(e->mm, MK_EV_UNMAP, false, va + MK_PAGE_SIZE,
                            va + 2 * MK_PAGE_SIZE, 0);
    g_assert_cmpint(res, ==, EAGAIN_RES);
    st = mk_readl(e->k, A_DMA_STATUS);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BLOCKED);

    mk_mn_range_end(e->mm, MK_EV_CLEAR, true, false, va + MK_PAGE_SIZE,
                    va + 2 * MK_PAGE_SIZE, 0);
    st = mk_readl(e->k, A_DMA_STATUS);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    g_assert_false(mk_readl(e->k, A_STATUS) & R_STATUS_DMA_BUSY_MASK);
    mk_dma_read_desc(e->k, &d);
    g_assert_cmpuint(d.done, ==, 2 * MK_PAGE_SIZE);
    coh_assert_cpu_sees(e, va, 2 * MK_PAGE_SIZE, 0x6b6b0001);
    coh_check_coherent(e);
}

typedef struct RaceCtx {
    Env *e;
    uint64_t va;
    uint32_t st;
} RaceCtx;

static void race_dma_during_start(MkMm *mm, void *opaque)
{
    RaceCtx *rc = opaque;
    MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, mk_mm_ctx(mm), rc->va,
                               3 * MK_PAGE_SIZE, rc->e->buf, 0);

    qtest_memset(rc->e->k->qts, rc->e->buf, 0, 3 * MK_PAGE_SIZE);
    rc->st = mk_dma_submit(rc->e->k, &d, NULL);
}

/*
 * A fill racing an invalidation: the DMA needs page 1 while its PTE is
 * being replaced (KSM); the fill must wait for the END and then see the
 * new page, never the old one (which is freed and poisoned).
 */
static void sc_fill_race(Env *e)
{
    uint64_t va = VA39 + 0xa00000;
    RaceCtx rc = { .e = e, .va = va };
    uint64_t old_pa;
    uint32_t st;

    mk_mmap_populate(e->mm, va, 3 * MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    coh_dev_read_ok(e, va, 3 * MK_PAGE_SIZE);
    old_pa = mk_va_to_pa(e->mm, va + MK_PAGE_SIZE);
    mk_ksm_replace(e->mm, va + MK_PAGE_SIZE, race_dma_during_start, &rc);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(rc.st), ==, MMN_DMA_ST_BLOCKED);
    g_assert_cmphex(mk_va_to_pa(e->mm, va + MK_PAGE_SIZE), !=, old_pa);
    coh_assert_words(e, old_pa, MK_PAGE_SIZE, 0xdeadf00d);
    st = mk_readl(e->k, A_DMA_STATUS);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    for (int i = 0; i < 3; i++) {
        coh_assert_words(e, e->buf + i * MK_PAGE_SIZE, MK_PAGE_SIZE,
                         mk_fill_pattern(va + i * MK_PAGE_SIZE));
    }
    coh_check_coherent(e);
}

/* KSM merge: change_pte inside start/end; the device follows */
static void sc_ksm_change_pte(Env *e)
{
    uint64_t va = VA39 + 0xb00000;
    uint64_t old_pa;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    coh_dev_read_ok(e, va, MK_PAGE_SIZE);
    old_pa = mk_va_to_pa(e->mm, va);
    mk_ksm_replace(e->mm, va, NULL, NULL);
    g_assert_cmphex(mk_va_to_pa(e->mm, va), !=, old_pa);
    coh_check_coherent(e);
    coh_dev_read_ok(e, va, MK_PAGE_SIZE);
    coh_assert_words(e, e->buf, MK_PAGE_SIZE, mk_fill_pattern(va));
    coh_check_coherent(e);
}

#define OWN_COOKIE      0x6f776e6572ULL     /* "owner" */
#define FOREIGN_COOKIE  0x0f0e0d0cULL

typedef struct MigrateCase {
    Env *e;
    bool ignored;           /* expected: the IOTLB ignores the MIGRATE start */
} MigrateCase;

static void migrate_between(MkMm *mm, void *opaque)
{
    MigrateCase *mc = opaque;
    MmnCheckReport rep;

    /* right after MN_RANGE_START(MIGRATE, owner), before any PTE change */
    mk_check(mc->e->k, mk_mm_ctx(mm), &rep);
    g_assert_cmpuint(rep.entries, ==, (mc->ignored ? 1 : 0));
}

/*
 * Spec: a MIGRATE range whose owner equals the context's cookie (CTX_BIND
 * a2) is ignored by the IOTLB, as lib/test_hmm.c ignores its own
 * migrations; any other range invalidates.  Either way the migration's
 * TLB flush (6.6) or range_end's invalidate_range (6.1) drops the entry
 * before the new PTE is used.
 */
static void sc_migrate(Env *e, uint64_t cookie, uint64_t owner)
{
    uint64_t va = VA39 + 0xc00000;
    MigrateCase mc = { .e = e, .ignored = cookie && cookie == owner };
    uint64_t old_pa;

    mk_mm_free(e->mm);
    e->mm = mk_mm_new_owner(e->k, e->p, 1, 39, STALL, cookie);
    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    coh_dev_read_ok(e, va, MK_PAGE_SIZE);
    g_assert_cmpuint(coh_check_coherent(e), ==, 1);
    old_pa = mk_va_to_pa(e->mm, va);
    mk_migrate(e->mm, va, MK_PAGE_SIZE, owner, migrate_between, &mc);
    g_assert_cmphex(mk_va_to_pa(e->mm, va), !=, old_pa);
    coh_check_coherent(e);
    coh_dev_read_ok(e, va, MK_PAGE_SIZE);
    coh_assert_words(e, e->buf, MK_PAGE_SIZE, mk_fill_pattern(va));
    coh_assert_words(e, old_pa, MK_PAGE_SIZE, 0xdeadf00d);
}

static void sc_migrate_own_owner(Env *e)
{
    sc_migrate(e, OWN_COOKIE, OWN_COOKIE);
}

static void sc_migrate_foreign_owner(Env *e)
{
    sc_migrate(e, OWN_COOKIE, FOREIGN_COOKIE);
}

/*
 * No cookie (0) and a NULL owner: equal by the letter of the spec, but 0
 * means "no owner" (Linux's test_hmm owner is never NULL, and a NULL
 * owner identifies no driver): the device invalidates, and so we expect.
 * The spec should say "a non-zero cookie".
 */
static void sc_migrate_null_owner(Env *e)
{
    sc_migrate(e, 0, 0);
}

/* ---------------------------------------------------------------- */
/* registration                                                      */

static const Scenario per_profile[] = {
    { "read-write", sc_read_write, 0, 39, STALL },
    { "read-write-va48", sc_read_write_va48, 0, 48, STALL },
    { "demand-fault", sc_demand_fault, 0, 39, STALL },
    { "munmap", sc_munmap, 0, 39, STALL },
    { "mprotect-down-up", sc_mprotect, 0, 48, STALL },
    { "mprotect-up-cached", sc_mprotect_up_cached, 0, 39, STALL },
    { "cow-copy", sc_cow_copy, 0, 39, STALL },
    { "cow-zero-page", sc_cow_zero_page, 0, 39, STALL },
    { "upgrade-writable-clean", sc_upgrade_writable_clean, 0, 39, STALL },
    { "upgrade-writable-clean-nofill", sc_upgrade_writable_clean_nofill, 0,
      48, STALL },
    { "upgrade-wp-page-reuse", sc_upgrade_wp_page_reuse, 0, 39, STALL },
    { "upgrade-cpu-hw-dirty", sc_upgrade_cpu_hw_dirty, 0, 39, STALL },
    { "hugetlb-upgrade", sc_hugetlb_upgrade, 0, 39, STALL },
    { "hugetlb-wp-reuse", sc_hugetlb_wp_reuse, 0, 48, STALL },
    { "hugetlb-munmap", sc_hugetlb_munmap, 0, 39, STALL },
    { "aging", sc_aging, 0, 39, STALL },
    { "release", sc_release, 0, 39, STALL },
    { "nonblock-inflight", sc_nonblock_inflight, 0, 39, STALL },
    { "nonblock-blocked", sc_nonblock_blocked, 0, 39, STALL },
    { "fill-race", sc_fill_race, 0, 39, STALL },
    { "ksm-change-pte", sc_ksm_change_pte, 0, 39, STALL },
    { "migrate-own-owner", sc_migrate_own_owner, 0, 39, STALL },
    { "migrate-foreign-owner", sc_migrate_foreign_owner, 0, 39, STALL },
    { "migrate-null-owner", sc_migrate_null_owner, 0, 39, STALL },
};

/* Profile-independent scenarios (coherence/any/...). */
static const Scenario any_profile[] = {
    { "hugetlb-fill-max-len", sc_hugetlb_fill_max, ANY, 39, STALL },
};

static void mmn_coherence_register_tests(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(per_profile); i++) {
        for (MkProfile p = 0; p < MK_NR_PROFILES; p++) {
            Scenario *sc = g_memdup2(&per_profile[i], sizeof(*sc));

            sc->profile = p;
            coh_register(mk_profile_name(p), sc);
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(any_profile); i++) {
        coh_register("any", &any_profile[i]);
    }
}

libqos_init(mmn_coherence_register_tests);
