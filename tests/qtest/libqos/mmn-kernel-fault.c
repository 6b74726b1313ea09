/*
 * mmn-kernel-fault: the mm model's fault handling (handle_mm_fault and the
 * paths below it: do_wp_page, handle_pte_fault, hugetlb_fault, the THP
 * paths), CPU accesses, and the device fault loop that plays the kernel's
 * IOPF handler.  Each path sends the notifications of its call site under
 * the mm's profile (mmn-kernel-profiles.c).  See mmn-kernel.h.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "../libqtest.h"
#include "mmn-kernel-int.h"

/*
 * arm64 __ptep_set_access_flags(): write @entry if it differs; flush the
 * CPU TLB if @dirty ("invalidate a stale read-only entry").  Returns
 * whether the PTE changed.
 */
static bool mk_ptep_set_access_flags(MkMm *mm, MkSite site, uint64_t slot,
                                     uint64_t va, uint64_t entry, bool dirty)
{
    if (mk_rd(mm, slot) == entry) {
        return false;
    }
    mk_wr(mm, slot, entry);
    if (dirty) {
        /* flush_tlb_page(vma, va): one page, even for a huge page */
        uint64_t p = va & ~(MK_PAGE_SIZE - 1);

        mk_site_flush(mm, site, p, p + MK_PAGE_SIZE);
    }
    return true;
}

/* wp_page_copy(): a new page replaces the shared / zero page. */
static void mk_wp_page_copy(MkMm *mm, MkVma *v, uint64_t slot, uint64_t va)
{
    uint64_t page = va & ~(MK_PAGE_SIZE - 1);
    uint64_t old = mk_rd(mm, slot);
    uint64_t old_pa = old & MK_PTE_ADDR_MASK;
    uint64_t new_pa = mk_new_page(mm, v);
    uint64_t entry = mk_make_pte(v, new_pa, true);
    uint8_t *buf = g_malloc(MK_PAGE_SIZE);

    g_assert(!(v->flags & MK_MAP_HUGETLB));
    qtest_memread(mk_qts(mm), old_pa, buf, MK_PAGE_SIZE);
    qtest_memwrite(mk_qts(mm), new_pa, buf, MK_PAGE_SIZE);
    g_free(buf);
    mk_site_start(mm, MK_SITE_WP_PAGE_COPY, page, page + MK_PAGE_SIZE, 0);
    /* ptep_clear_flush_notify() */
    mk_wr(mm, slot, 0);
    mk_site_flush(mm, MK_SITE_WP_PAGE_COPY, page, page + MK_PAGE_SIZE);
    /* set_pte_at_notify() (6.1) / set_pte_at() (6.12) */
    mk_site_set_pte_notify(mm, MK_SITE_WP_PAGE_COPY, slot, page, entry);
    mk_put_page(mm, old_pa, MK_PAGE_SIZE);
    mk_site_end(mm, MK_SITE_WP_PAGE_COPY, page, page + MK_PAGE_SIZE, 0);
}

/*
 * hugetlb_fault() (mm/hugetlb.c, 6.1; the same in 6.12).
 *
 * hugetlb_no_page() maps a new page with make_huge_pte(writable =
 * VM_WRITE && VM_SHARED): a shared writable mapping gets a dirty,
 * writable PTE even on a read fault (huge_pte_mkwrite(huge_pte_mkdirty())),
 * never a writable-clean one; a private mapping gets the anonymous page
 * write-protected, and a write fault then "does the COW without a second
 * fault": hugetlb_wp() reuses the new exclusive page at once.
 */
static MkFaultRet mk_hugetlb_fault(MkMm *mm, MkVma *v, uint64_t va,
                                   bool write)
{
    uint64_t haddr = va & ~(MK_HPAGE_SIZE - 1);
    uint64_t slot = mk_vma_slot(mm, v, haddr, true);
    uint64_t pte = mk_rd(mm, slot), entry;
    bool shared = v->flags & MK_MAP_SHARED;
    bool changed;
    MkSite site = MK_SITE_HUGETLB_FAULT;

    if (!(pte & MK_PTE_VALID)) {
        uint64_t pa = mk_new_page(mm, v);

        /* make_huge_pte(): writable and dirty iff VM_WRITE && VM_SHARED */
        pte = mk_make_pte(v, pa, shared && (v->prot & MK_PROT_WRITE));
        mk_wr(mm, slot, pte);
        if (write && !shared) {
            /*
             * hugetlb_wp() -> set_huge_ptep_writable(): the flush reaches
             * 6.6+; the patch's notification is skipped (out_mutex).
             */
            entry = (pte & ~MK_PTE_RDONLY) | MK_PTE_WRITE | MK_PTE_DIRTY;
            mk_ptep_set_access_flags(mm, MK_SITE_HUGETLB_WP_REUSE, slot,
                                     haddr, entry, true);
        }
        return MK_FAULT_OK;
    }
    entry = pte;
    if (write && !(pte & MK_PTE_WRITE)) {
        /* hugetlb_wp(): reuse an exclusive anonymous page */
        MkPage *pg = mk_page(mm, pte & MK_PTE_ADDR_MASK);

        g_assert(!shared);
        /* page_mapcount() == 1 && PageAnon(); a copy is not modelled */
        g_assert_cmpuint(pg->mapcount, ==, 1);
        pg->anon_exclusive = true;          /* page_move_anon_rmap() */
        entry = (entry & ~MK_PTE_RDONLY) | MK_PTE_WRITE | MK_PTE_DIRTY;
        site = MK_SITE_HUGETLB_WP_REUSE;
    } else if (write) {
        entry = (entry & ~MK_PTE_RDONLY) | MK_PTE_DIRTY; /* huge_pte_mkdirty */
    }
    entry |= MK_PTE_AF;
    changed = mk_ptep_set_access_flags(mm, site, slot, haddr, entry, write);
    if (site == MK_SITE_HUGETLB_WP_REUSE) {
        /* the patch: "if (!ret) changed = true" after hugetlb_wp() */
        changed = true;
    }
    if (changed && write) {
        mm->upgrade_path = mk_site_path(site);
    }
    mk_site_after_ptl(mm, site, haddr, haddr + MK_HPAGE_SIZE, changed);
    return MK_FAULT_OK;
}

/*
 * A PMD-mapped transparent huge page (mm/huge_memory.c, 6.1 and 6.12).
 *
 * No PMD: an anonymous THP (__do_huge_pmd_anonymous_page: mk_huge_pmd(),
 * then maybe_pmd_mkwrite(pmd_mkdirty()): dirty and writable, even for a
 * read fault once use_zero_page is off) or a shmem THP (do_set_pmd():
 * vm_page_prot, i.e. writable-clean for a shared writable mapping, made
 * dirty and writable by a write fault).
 *
 * A present PMD, as __handle_mm_fault() dispatches: a write to a
 * !pmd_write() PMD goes to do_huge_pmd_wp_page(), which reuses an
 * exclusive anonymous THP (PageAnonExclusive, or folio_ref_count 1 after
 * the fork's child is gone: page_move_anon_rmap) with pmd_mkdirty +
 * maybe_pmd_mkwrite; anything else goes to huge_pmd_set_accessed() ->
 * touch_pmd(): pmd_mkyoung, pmd_mkdirty on a write.  Both end in
 * pmdp_set_access_flags(haddr) -> __ptep_set_access_flags ->
 * flush_tlb_page(haddr) when dirty.  A shared THP after fork, or a copy,
 * would split the PMD (__split_huge_pmd): not modelled.
 */
static MkFaultRet mk_thp_fault(MkMm *mm, MkVma *v, uint64_t va, bool write)
{
    uint64_t haddr = va & ~(MK_HPAGE_SIZE - 1);
    uint64_t slot = mk_vma_slot(mm, v, haddr, true);
    uint64_t pte = mk_rd(mm, slot), entry;
    bool shared = v->flags & MK_MAP_SHARED;
    MkSite site;

    if (!(pte & MK_PTE_VALID)) {
        g_assert(!pte);                     /* PROT_NONE: not modelled */
        mk_wr(mm, slot, mk_make_pte(v, mk_new_page(mm, v),
                                    write || !shared));
        return MK_FAULT_OK;
    }
    if (write && !(pte & MK_PTE_WRITE)) {
        MkPage *pg = mk_page(mm, pte & MK_PTE_ADDR_MASK);

        g_assert(!shared);
        g_assert_cmpuint(pg->mapcount, ==, 1);  /* else: split, COW */
        pg->anon_exclusive = true;
        entry = (pte & ~MK_PTE_RDONLY) | MK_PTE_AF | MK_PTE_WRITE |
                MK_PTE_DIRTY;
        site = MK_SITE_THP_WP_REUSE;
    } else {
        entry = pte | MK_PTE_AF;
        if (write) {
            /* pmd_mkdirty(): AP[2] cleared, the PMD being writable */
            entry = (entry & ~MK_PTE_RDONLY) | MK_PTE_DIRTY;
        }
        site = MK_SITE_THP_SET_ACCESSED;
    }
    if (mk_ptep_set_access_flags(mm, site, slot, haddr, entry, write) &&
        write) {
        mm->upgrade_path = mk_site_path(site);
    }
    /* nothing after the PTL: the upgrade-notify patch has no THP hunk */
    return MK_FAULT_OK;
}

/* handle_mm_fault() for one device (or CPU) fault. */
MkFaultRet mk_handle_mm_fault(MkMm *mm, uint64_t va, bool write)
{
    MkVma *v = mk_find_vma(mm, va);
    uint64_t page = va & ~(MK_PAGE_SIZE - 1);
    uint64_t slot, pte, entry;
    bool changed;

    if (!v || !(v->prot & (write ? MK_PROT_WRITE : MK_PROT_READ))) {
        return MK_FAULT_SIGSEGV;
    }
    if (v->flags & MK_MAP_HUGETLB) {
        return mk_hugetlb_fault(mm, v, va, write);
    }
    if (v->flags & MK_MAP_THP) {
        return mk_thp_fault(mm, v, va, write);
    }
    slot = mk_vma_slot(mm, v, va, true);
    pte = mk_rd(mm, slot);
    if (!(pte & MK_PTE_VALID)) {
        if (pte) {
            return MK_FAULT_SIGSEGV;        /* PROT_NONE leftovers */
        }
        /* do_anonymous_page() / do_fault(): set_pte_at, no flush */
        if (!write && !(v->flags & MK_MAP_SHARED) &&
            (v->prot & MK_PROT_WRITE)) {
            /* the zero page, read-only (pte_mkspecial) */
            mk_wr(mm, slot, mk_make_pte(v, mm->k->zero_page, false));
        } else {
            mk_wr(mm, slot, mk_make_pte(v, mk_new_page(mm, v), write));
        }
        return MK_FAULT_OK;
    }
    if (write && !(pte & MK_PTE_WRITE)) {
        /* do_wp_page() */
        uint64_t pa = pte & MK_PTE_ADDR_MASK;

        if (pa == mm->k->zero_page || mk_page(mm, pa)->mapcount > 1) {
            mk_wp_page_copy(mm, v, slot, va);
            return MK_FAULT_OK;
        }
        /* page_count 1: page_move_anon_rmap() makes it exclusive again */
        mk_page(mm, pa)->anon_exclusive = true;
        /* wp_page_reuse(): pte_mkyoung, maybe_mkwrite(pte_mkdirty()) */
        entry = (pte & ~MK_PTE_RDONLY) | MK_PTE_AF | MK_PTE_WRITE |
                MK_PTE_DIRTY;
        changed = mk_ptep_set_access_flags(mm, MK_SITE_WP_PAGE_REUSE, slot,
                                           va, entry, true);
        if (changed) {
            mm->upgrade_path = mk_site_path(MK_SITE_WP_PAGE_REUSE);
        }
        mk_site_after_ptl(mm, MK_SITE_WP_PAGE_REUSE, page,
                          page + MK_PAGE_SIZE, changed);
        return MK_FAULT_OK;
    }
    /* handle_pte_fault(): pte_mkdirty() on write, pte_mkyoung() */
    entry = pte | MK_PTE_AF;
    if (write) {
        entry = (entry & ~MK_PTE_RDONLY) | MK_PTE_DIRTY;
    }
    changed = mk_ptep_set_access_flags(mm, MK_SITE_PTE_FAULT, slot, va,
                                       entry, write);
    if (changed && write) {
        mm->upgrade_path = mk_site_path(MK_SITE_PTE_FAULT);
    }
    /* else: flush_tlb_fix_spurious_fault() is empty on arm64 */
    mk_site_after_ptl(mm, MK_SITE_PTE_FAULT, page, page + MK_PAGE_SIZE,
                      changed);
    return MK_FAULT_OK;
}

/* The CPU makes @va accessible for itself, as its MMU + fault path would. */
static uint64_t mk_cpu_access(MkMm *mm, uint64_t va, bool write)
{
    for (int tries = 0; tries < 3; tries++) {
        MkVma *v = mk_find_vma(mm, va);
        uint64_t pte = mk_pte_get(mm, va);
        bool ok = (pte & MK_PTE_VALID) && (pte & MK_PTE_AF);

        g_assert(v);
        if (ok && write && (pte & MK_PTE_RDONLY)) {
            if ((pte & MK_PTE_WRITE) && mm->cpu_hw_dbm) {
                /* FEAT_HAFDBS: hardware clears AP[2]; nobody is told */
                uint64_t slot = mk_vma_slot(mm, v, va, false);

                mk_wr(mm, slot, pte & ~MK_PTE_RDONLY);
            } else {
                ok = false;
            }
        }
        if (ok) {
            return mk_va_to_pa(mm, va);
        }
        g_assert_cmpint(mk_handle_mm_fault(mm, va, write), ==, MK_FAULT_OK);
    }
    g_assert_not_reached();
}

void mk_cpu_write(MkMm *mm, uint64_t va, const void *buf, size_t len)
{
    while (len) {
        size_t n = MIN(len, MK_PAGE_SIZE - (va & (MK_PAGE_SIZE - 1)));

        qtest_memwrite(mk_qts(mm), mk_cpu_access(mm, va, true), buf, n);
        va += n;
        buf = (const uint8_t *)buf + n;
        len -= n;
    }
}

void mk_cpu_read(MkMm *mm, uint64_t va, void *buf, size_t len)
{
    while (len) {
        size_t n = MIN(len, MK_PAGE_SIZE - (va & (MK_PAGE_SIZE - 1)));

        qtest_memread(mk_qts(mm), mk_cpu_access(mm, va, false), buf, n);
        va += n;
        buf = (uint8_t *)buf + n;
        len -= n;
    }
}

/* ---- the device fault loop (the kernel's IOPF handler) ---- */

static MkFaultRet mk_default_handler(MkMm *mm, uint64_t va, bool write,
                                     void *opaque)
{
    return mk_handle_mm_fault(mm, va, write);
}

/* Count the records waiting in EVTQ into @r; was a STALLED fault seen? */
static bool mk_loop_events(MkMm *mm, MkFaultLoop *r)
{
    bool stalled_seen = false;
    MmnEvt e;

    while (mk_evt_pop(mm->k, &e)) {
        if (e.type == MMN_EVT_FAULT) {
            r->faults++;
            r->last_fault = e;
            stalled_seen |= !!(e.flags & MMN_EVT_F_STALLED);
        } else if (e.type == MMN_EVT_LIVELOCK) {
            r->livelock_events++;
            r->livelock = e;
        } else {
            r->other_events++;
        }
    }
    return stalled_seen;
}

static void mk_loop_done(MkMm *mm, uint32_t st, unsigned n0,
                         MkFaultLoop *r)
{
    r->status = st;
    r->state = MMN_DMA_STATUS_STATE(st);
    r->stale = r->state == MMN_DMA_ST_LIVELOCK &&
               (st & MMN_DMA_STATUS_STALE);
    r->notifications = mm->notifications - n0;
    mk_dma_read_desc(mm->k, &r->desc);
    g_assert_cmphex(r->desc.status, ==, st);
}

void mk_dma_fault_loop(MkMm *mm, const MmnDmaDesc *d, unsigned max_iter,
                       MkFaultLoop *r)
{
    mk_dma_fault_loop_with(mm, d, max_iter, NULL, NULL, r);
}

void mk_dma_fault_loop_with(MkMm *mm, const MmnDmaDesc *d, unsigned max_iter,
                            MkFaultHandler fn, void *opaque, MkFaultLoop *r)
{
    MmnKernel *k = mm->k;
    unsigned n0 = mm->notifications;
    uint32_t st;

    memset(r, 0, sizeof(*r));
    fn = fn ? fn : mk_default_handler;
    st = mk_dma_submit(k, d, NULL);
    for (unsigned iter = 0;; iter++) {
        bool stalled_seen;
        MmnCmd c;

        g_assert_cmpuint(iter, <, max_iter);
        stalled_seen = mk_loop_events(mm, r);
        if (MMN_DMA_STATUS_STATE(st) != MMN_DMA_ST_STALLED) {
            break;
        }
        /* The stalled access must have been reported. */
        g_assert_true(stalled_seen);
        g_assert_cmpuint(r->last_fault.ctx, ==, mm->ctx);
        if (fn(mm, r->last_fault.va, r->last_fault.flags & MMN_EVT_F_WRITE,
               opaque) == MK_FAULT_OK) {
            c = mk_cmd_init(MMN_CMD_DMA_RESUME, 0);
            r->retries++;
        } else {
            c = mk_cmd_init(MMN_CMD_DMA_ABORT, 0);
            r->aborts++;
        }
        mk_cmd(k, &c);
        st = mk_readl(k, A_DMA_STATUS);
    }
    mk_loop_done(mm, st, n0, r);
}

void mk_dma_resubmit_loop(MkMm *mm, const MmnDmaDesc *d, unsigned max_iter,
                          MkFaultHandler fn, void *opaque, MkFaultLoop *r)
{
    MmnKernel *k = mm->k;
    unsigned n0 = mm->notifications;
    uint32_t st;

    memset(r, 0, sizeof(*r));
    fn = fn ? fn : mk_default_handler;
    st = mk_dma_submit(k, d, NULL);
    for (unsigned iter = 0;; iter++) {
        g_assert_cmpuint(iter, <, max_iter);
        g_assert_false(mk_loop_events(mm, r));  /* nothing stalls */
        if (MMN_DMA_STATUS_STATE(st) != MMN_DMA_ST_FAULT) {
            break;
        }
        g_assert_cmpuint(r->last_fault.ctx, ==, mm->ctx);
        if (fn(mm, r->last_fault.va, r->last_fault.flags & MMN_EVT_F_WRITE,
               opaque) != MK_FAULT_OK) {
            r->aborts++;
            break;
        }
        r->retries++;
        st = mk_dma_submit(k, d, NULL);
    }
    mk_loop_done(mm, st, n0, r);
}
