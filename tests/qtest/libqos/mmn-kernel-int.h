/*
 * mmn-kernel: declarations shared by the files of the mm model
 * (mmn-kernel-profiles.c, mmn-kernel-mm.c, mmn-kernel-fault.c).  Not for
 * tests: they use mmn-kernel.h.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_LIBQOS_MMN_KERNEL_INT_H
#define TESTS_LIBQOS_MMN_KERNEL_INT_H

#include "mmn-kernel.h"

/* The Linux call sites whose notifications differ between kernels. */
typedef enum MkSite {
    MK_SITE_UNMAP,
    MK_SITE_MPROTECT,
    MK_SITE_FORK,
    MK_SITE_WP_PAGE_COPY,
    MK_SITE_WP_PAGE_REUSE,
    MK_SITE_PTE_FAULT,
    MK_SITE_HUGETLB_FAULT,
    MK_SITE_HUGETLB_WP_REUSE,
    MK_SITE_THP_WP_REUSE,
    MK_SITE_THP_SET_ACCESSED,
    MK_SITE_CLEAR_FLUSH_YOUNG,
    MK_SITE_KSM_REPLACE,
    MK_SITE_MIGRATE,
    MK_NR_SITES,
} MkSite;

typedef struct MkVma {
    uint64_t start, end;
    int prot;
    int flags;
} MkVma;

/* What the model knows of one data page (struct page / folio). */
typedef struct MkPage {
    uint64_t pa;
    unsigned mapcount;      /* mappings: this mm + children of mk_fork */
    bool anon_exclusive;    /* PageAnonExclusive (private anonymous) */
} MkPage;

/* A page a child of mk_fork() maps (until mk_child_exit()). */
typedef struct MkChildPage {
    uint64_t va, pa, size;
} MkChildPage;

struct MkMm {
    MmnKernel *k;
    MkProfile profile;
    MkSubscriber subscriber;
    uint16_t ctx;
    unsigned va_bits;
    unsigned start_level;
    uint64_t ttb;
    bool cpu_hw_dbm;
    bool released;
    GList *vmas;                /* MkVma, sorted */
    GHashTable *pages;          /* data page pa -> MkPage */
    GArray *child;              /* MkChildPage: the fork children's */
    unsigned notifications;
    GString *log;
    MkNoteFn observer;
    void *observer_opaque;
    const char *upgrade_path;   /* mk_mm_upgrade_path() */
};

/* ---- mmn-kernel-profiles.c: the phases of a call site ---- */

/* The kernel code path of @site (Linux function names). */
const char *mk_site_path(MkSite site);
/* invalidate_range_start() before the change ... */
void mk_site_start(MkMm *mm, MkSite site, uint64_t s, uint64_t e,
                   uint64_t owner);
/* ... and _end() (or _only_end()) after it */
void mk_site_end(MkMm *mm, MkSite site, uint64_t s, uint64_t e,
                 uint64_t owner);
/* The CPU TLB flush after a PTE change (range [s, e)). */
void mk_site_flush(MkMm *mm, MkSite site, uint64_t s, uint64_t e);
/*
 * set_pte_at_notify(): writes @pte at @slot, with change_pte() before it
 * where the profile has change_pte (6.1) and the subscriber registered
 * it; a plain set_pte_at() otherwise (6.6+: no set_pte_at_notify).
 */
void mk_site_set_pte_notify(MkMm *mm, MkSite site, uint64_t slot,
                            uint64_t va, uint64_t pte);
/* After pte_unmap_unlock(): the upgrade-notify patch's notification. */
void mk_site_after_ptl(MkMm *mm, MkSite site, uint64_t s, uint64_t e,
                       bool changed);
/* Does the mm's subscriber get the young family (clear_flush_young...)? */
bool mk_subscriber_has_young(MkMm *mm);

/* ---- mmn-kernel-mm.c ---- */

QTestState *mk_qts(MkMm *mm);
/* Log one notifier command (and run the observer). */
void mk_note(MkMm *mm, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void mk_mn_change_pte(MkMm *mm, uint64_t va, uint64_t pte);
uint64_t mk_rd(MkMm *mm, uint64_t slot);
void mk_wr(MkMm *mm, uint64_t slot, uint64_t v);
MkVma *mk_find_vma(MkMm *mm, uint64_t va);
/* 2 MiB for hugetlb and THP VMAs, else 4 KiB; their leaf level. */
uint64_t mk_vma_psize(const MkVma *v);
unsigned mk_vma_level(const MkVma *v);
/* The leaf slot for @va in @v (tables allocated on demand). */
uint64_t mk_vma_slot(MkMm *mm, const MkVma *v, uint64_t va, bool alloc);
/*
 * Linux: the PTE of a freshly faulted page, mk_pte(page, vm_page_prot),
 * made dirty and writable by a write fault (maybe_mkwrite(pte_mkdirty())).
 * @write_fault false gives vm_page_prot itself: PAGE_SHARED
 * (writable-clean) for shared writable VMAs, PAGE_COPY (read-only) for
 * private ones.  0 for PROT_NONE.
 */
uint64_t mk_make_pte(const MkVma *v, uint64_t pa, bool write_fault);
MkPage *mk_page(MkMm *mm, uint64_t pa);
/* A new page (or huge page) for @v, mapped once, anonymous-exclusive. */
uint64_t mk_new_page(MkMm *mm, const MkVma *v);
/* A mapping of @pa goes away; a freed page is poisoned. */
void mk_put_page(MkMm *mm, uint64_t pa, uint64_t size);

#endif
