/*
 * mmn-kernel: which kernel notifies what, and who receives it.
 *
 * Read the two tables below as documentation: mk_site_rules says which
 * mmu_notifier calls each kernel generation makes at each Linux call site
 * the mm model plays; mk_subscribers says which of them reach the device
 * for the subscriber it plays.  Every rule names the Linux function it
 * follows; the sources are Debian's linux-source-6.1 (6.1.192-3) and
 * linux-source-6.12 (6.12.117-1~deb12u1), and for MK_UPGRADE_NOTIFY the
 * May 2023 patch "mmu_notifiers: Notify on pte permission upgrades"
 * (Alistair Popple, linux-arm-kernel, 2023-05-21; not merged).  The
 * linux-6.6 profile follows 6.12's sources.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "../libqtest.h"
#include "mmn-kernel-int.h"

/*
 * What a kernel sends to a notifier-based secondary MMU at one call site.
 * An operation of the model calls the phases in Linux's order; a phase
 * sends a command only if the site's rule for the profile has the
 * matching bit.
 */
enum {
    /* invalidate_range_start() before the change, _end() after */
    MK_N_RANGE = 1 << 0,
    /* ... ended by invalidate_range_only_end() (6.1: no invalidate_range) */
    MK_N_ONLY_END = 1 << 1,
    /*
     * MN_SECONDARY_TLBS when the CPU TLB is flushed after the PTE change:
     * 6.1 invalidate_range() from ptep_clear_flush_notify() and
     * tlb_flush_mmu_tlbonly(); 6.6+ arch_invalidate_secondary_tlbs() from
     * flush_tlb_page() / flush_tlb_range() / flush_tlb_mm()
     * (arch/arm64/include/asm/tlbflush.h, 6.12).
     */
    MK_N_FLUSH = 1 << 2,
    /*
     * set_pte_at_notify(): change_pte() with the new PTE, *before* the
     * PTE is written (include/linux/mmu_notifier.h, 6.1).  6.12 has no
     * set_pte_at_notify() and no change_pte op at all.
     */
    MK_N_CHANGE_PTE = 1 << 3,
    /*
     * The upgrade-notify patch: MN_RANGE_START/END(PROTECTION_UPGRADE)
     * after the PTL is dropped, only when ptep_set_access_flags() changed
     * the PTE.
     */
    MK_N_UPGRADE = 1 << 4,
};

typedef struct MkSiteRule {
    const char *path;       /* the kernel code path */
    uint8_t event;          /* mmu_notifier_event of its range, if any */
    uint8_t rule[MK_NR_PROFILES];
} MkSiteRule;

#define R_   MK_N_RANGE
#define F_   MK_N_FLUSH
#define C_   MK_N_CHANGE_PTE

static const MkSiteRule mk_site_rules[MK_NR_SITES] = {
    /*
     * munmap: unmap_vmas() brackets the zap with start/end, then
     * tlb_finish_mmu() flushes: 6.1 tlb_flush_mmu_tlbonly() calls
     * invalidate_range(); 6.6+ tlb_flush() -> flush_tlb_range() calls
     * arch_invalidate_secondary_tlbs().
     */
    [MK_SITE_UNMAP] = {
        "munmap: unmap_vmas() + tlb_finish_mmu()", MK_EV_UNMAP,
        { [MK_LINUX_6_1] = R_ | F_, [MK_UPGRADE_NOTIFY] = R_ | F_,
          [MK_LINUX_6_6] = R_ | F_ },
    },
    /* mprotect: change_protection() start/end, mmu_gather flush: same */
    [MK_SITE_MPROTECT] = {
        "mprotect: change_protection() + tlb_finish_mmu()",
        MK_EV_PROTECTION_VMA,
        { [MK_LINUX_6_1] = R_ | F_, [MK_UPGRADE_NOTIFY] = R_ | F_,
          [MK_LINUX_6_6] = R_ | F_ },
    },
    /*
     * fork: copy_page_range() start/end(PROTECTION_PAGE) around
     * ptep_set_wrprotect(); dup_mmap() then flush_tlb_mm(): only 6.6+
     * notifies from it (0, -1UL).
     */
    [MK_SITE_FORK] = {
        "fork: copy_page_range() + flush_tlb_mm()", MK_EV_PROTECTION_PAGE,
        { [MK_LINUX_6_1] = R_, [MK_UPGRADE_NOTIFY] = R_,
          [MK_LINUX_6_6] = R_ | F_ },
    },
    /*
     * COW that replaces the page: wp_page_copy() start(CLEAR);
     * ptep_clear_flush_notify() (6.1) / ptep_clear_flush() ->
     * flush_tlb_page() (6.12); set_pte_at_notify() (6.1: change_pte
     * first) / set_pte_at() (6.12); 6.1 ends with
     * invalidate_range_only_end() (the range was already invalidated).
     */
    [MK_SITE_WP_PAGE_COPY] = {
        "do_wp_page -> wp_page_copy()", MK_EV_CLEAR,
        { [MK_LINUX_6_1] = R_ | MK_N_ONLY_END | F_ | C_,
          [MK_UPGRADE_NOTIFY] = R_ | MK_N_ONLY_END | F_ | C_,
          [MK_LINUX_6_6] = R_ | F_ },
    },
    /*
     * COW on an exclusive page: wp_page_reuse() -> ptep_set_access_flags
     * (dirty=1) -> flush_tlb_page(): only 6.6+ notifies.  The
     * upgrade-notify patch adds its PROTECTION_UPGRADE notification to
     * handle_pte_fault(), insert_pfn(), __wp_page_copy_user() and
     * hugetlb_fault(), not to wp_page_reuse() nor its callers:
     * handle_pte_fault() returns do_wp_page() before its new code runs.
     */
    [MK_SITE_WP_PAGE_REUSE] = {
        "do_wp_page -> wp_page_reuse()", 0,
        { [MK_LINUX_6_1] = 0, [MK_UPGRADE_NOTIFY] = 0,
          [MK_LINUX_6_6] = F_ },
    },
    /*
     * handle_pte_fault(): pte_mkdirty/pte_mkyoung + ptep_set_access_flags
     * (dirty = write fault); arm64 __ptep_set_access_flags() flushes only
     * when dirty (arch/arm64/mm/fault.c): only 6.6+ notifies from the
     * flush; the patch notifies after the PTL drop when the PTE changed.
     */
    [MK_SITE_PTE_FAULT] = {
        "handle_pte_fault -> ptep_set_access_flags()", 0,
        { [MK_LINUX_6_1] = 0, [MK_UPGRADE_NOTIFY] = MK_N_UPGRADE,
          [MK_LINUX_6_6] = F_ },
    },
    /*
     * hugetlb_fault(): huge_ptep_set_access_flags(haddr) -> (not cont)
     * __ptep_set_access_flags -> flush_tlb_page(haddr): 6.6+ notifies
     * [haddr, haddr + 4 KiB) only (__flush_tlb_page_nosync); the patch
     * notifies the whole huge page.
     */
    [MK_SITE_HUGETLB_FAULT] = {
        "hugetlb_fault -> huge_ptep_set_access_flags()", 0,
        { [MK_LINUX_6_1] = 0, [MK_UPGRADE_NOTIFY] = MK_N_UPGRADE,
          [MK_LINUX_6_6] = F_ },
    },
    /*
     * hugetlb_wp() reuse (page_mapcount 1, PageAnon) or a MAP_SHARED
     * mapping: set_huge_ptep_writable() -> huge_ptep_set_access_flags(1):
     * as above.  hugetlb_no_page()'s "do the COW without a second fault"
     * call of hugetlb_wp() returns through out_mutex, before the patch's
     * notification: there the patch sends nothing.
     */
    [MK_SITE_HUGETLB_WP_REUSE] = {
        "hugetlb_fault -> hugetlb_wp() -> set_huge_ptep_writable()", 0,
        { [MK_LINUX_6_1] = 0, [MK_UPGRADE_NOTIFY] = MK_N_UPGRADE,
          [MK_LINUX_6_6] = F_ },
    },
    /*
     * Anonymous THP reused after fork (mm/huge_memory.c
     * do_huge_pmd_wp_page(), reuse: folio_ref_count 1 or
     * PageAnonExclusive): pmd_mkdirty + maybe_pmd_mkwrite ->
     * pmdp_set_access_flags(haddr, dirty=1) -> __ptep_set_access_flags ->
     * flush_tlb_page(haddr), in 6.1 and 6.12.  Only 6.6+ notifies, and
     * only [haddr, haddr + 4 KiB); the patch does not touch huge_memory.c.
     */
    [MK_SITE_THP_WP_REUSE] = {
        "do_huge_pmd_wp_page() reuse -> pmdp_set_access_flags()", 0,
        { [MK_LINUX_6_1] = 0, [MK_UPGRADE_NOTIFY] = 0,
          [MK_LINUX_6_6] = F_ },
    },
    /*
     * A writable PMD (shmem THP mapped writable-clean by do_set_pmd()):
     * __handle_mm_fault -> huge_pmd_set_accessed() -> touch_pmd():
     * pmd_mkdirty -> pmdp_set_access_flags(haddr, dirty=write) ->
     * flush_tlb_page(haddr): as above.
     */
    [MK_SITE_THP_SET_ACCESSED] = {
        "huge_pmd_set_accessed() -> touch_pmd() -> pmdp_set_access_flags()",
        0,
        { [MK_LINUX_6_1] = 0, [MK_UPGRADE_NOTIFY] = 0,
          [MK_LINUX_6_6] = F_ },
    },
    /*
     * folio_referenced -> ptep_clear_flush_young_notify(): arm64
     * ptep_clear_flush_young() flushes (flush_tlb_page_nosync) when the
     * CPU PTE was young: 6.6+ notifies from that flush.  The
     * clear_flush_young op itself reaches only subscribers that have it.
     */
    [MK_SITE_CLEAR_FLUSH_YOUNG] = {
        "ptep_clear_flush_young_notify()", 0,
        { [MK_LINUX_6_1] = 0, [MK_UPGRADE_NOTIFY] = 0,
          [MK_LINUX_6_6] = F_ },
    },
    /*
     * KSM replace_page() (mm/ksm.c): start(CLEAR), ptep_clear_flush()
     * (6.6+ notifies from the flush; 6.1 relies on range_end),
     * set_pte_at_notify() (6.1) / set_pte_at() (6.12).
     */
    [MK_SITE_KSM_REPLACE] = {
        "ksm replace_page()", MK_EV_CLEAR,
        { [MK_LINUX_6_1] = R_ | C_, [MK_UPGRADE_NOTIFY] = R_ | C_,
          [MK_LINUX_6_6] = R_ | F_ },
    },
    /*
     * migrate_vma_collect(): start/end(MIGRATE, owner) around
     * migration entries and flush_tlb_range() (6.6+ notifies).
     */
    [MK_SITE_MIGRATE] = {
        "migrate_vma_setup()", MK_EV_MIGRATE,
        { [MK_LINUX_6_1] = R_, [MK_UPGRADE_NOTIFY] = R_,
          [MK_LINUX_6_6] = R_ | F_ },
    },
};

#undef R_
#undef F_
#undef C_

/*
 * Who receives what.  Range start/end and the flushes (MN_SECONDARY_TLBS)
 * are forwarded for both subscribers: the device's IOTLB subscribes with
 * an interval notifier as well as a secondary-TLB op (iotlb.h).  A real
 * SMMU SVA driver has no range ops: on 6.1 it sees a range only as
 * invalidate_range() from invalidate_range_end() (which the context's
 * LEGACY_INV plays), on 6.6+ not at all, so the model's range start is an
 * earlier invalidation than such a driver gets; no scenario depends on it.
 * The young family and change_pte are forwarded only where the subscriber
 * registered them: on a real kernel, clear_flush_young with only an SVA
 * driver subscribed reaches nothing.
 */
typedef struct MkSubscriberOps {
    const char *ops;        /* what it registers, and where Linux says so */
    bool young;             /* clear_flush_young, clear_young, test_young */
    bool change_pte;
} MkSubscriberOps;

static const MkSubscriberOps mk_subscribers[MK_NR_SUBSCRIBERS]
                                           [MK_NR_PROFILES] = {
    [MK_SUB_SVA] = {
        [MK_LINUX_6_1] = {
            "invalidate_range, release, free_notifier "
            "(arm_smmu_mmu_notifier_ops, drivers/iommu/arm/arm-smmu-v3/"
            "arm-smmu-v3-sva.c, 6.1)", false, false },
        [MK_UPGRADE_NOTIFY] = {
            "invalidate_range, release, free_notifier "
            "(arm_smmu_mmu_notifier_ops, 6.1; the patch adds no op)",
            false, false },
        [MK_LINUX_6_6] = {
            "arch_invalidate_secondary_tlbs, release, free_notifier "
            "(arm_smmu_mmu_notifier_ops, drivers/iommu/arm/arm-smmu-v3/"
            "arm-smmu-v3-sva.c, 6.12)", false, false },
    },
    [MK_SUB_MIRROR] = {
        [MK_LINUX_6_1] = {
            "invalidate_range, invalidate_range_start/end, "
            "clear_flush_young, clear_young, test_young, change_pte, "
            "release (kvm_mmu_notifier_ops, virt/kvm/kvm_main.c, 6.1)",
            true, true },
        [MK_UPGRADE_NOTIFY] = {
            "as linux-6.1 (kvm_mmu_notifier_ops, 6.1)", true, true },
        [MK_LINUX_6_6] = {
            "invalidate_range_start/end, clear_flush_young, clear_young, "
            "test_young, release (kvm_mmu_notifier_ops, "
            "virt/kvm/kvm_main.c, 6.12)", true, false },
    },
};

static const char *const mk_profile_names[MK_NR_PROFILES] = {
    [MK_LINUX_6_1] = "linux-6.1",
    [MK_UPGRADE_NOTIFY] = "upgrade-notify",
    [MK_LINUX_6_6] = "linux-6.6",
};

static const char *const mk_profile_whats[MK_NR_PROFILES] = {
    [MK_LINUX_6_1] = "Linux 6.1 (invalidate_range era)",
    [MK_UPGRADE_NOTIFY] = "Linux 6.1 + \"mmu_notifiers: Notify on pte "
                          "permission upgrades\" (May 2023, not merged)",
    [MK_LINUX_6_6] = "Linux 6.6+ (arch_invalidate_secondary_tlbs; "
                     "as 6.12)",
};

static const char *const mk_subscriber_names[MK_NR_SUBSCRIBERS] = {
    [MK_SUB_SVA] = "sva",
    [MK_SUB_MIRROR] = "kvm-style",
};

const char *mk_profile_name(MkProfile p)
{
    g_assert(p < MK_NR_PROFILES);
    return mk_profile_names[p];
}

const char *mk_profile_what(MkProfile p)
{
    g_assert(p < MK_NR_PROFILES);
    return mk_profile_whats[p];
}

bool mk_profile_legacy_inv(MkProfile p)
{
    /* invalidate_range() and range_end() invalidating: Linux <= 6.5 */
    return p != MK_LINUX_6_6;
}

const char *mk_subscriber_name(MkSubscriber s)
{
    g_assert(s < MK_NR_SUBSCRIBERS);
    return mk_subscriber_names[s];
}

const char *mk_subscriber_ops(MkProfile p, MkSubscriber s)
{
    g_assert(p < MK_NR_PROFILES && s < MK_NR_SUBSCRIBERS);
    return mk_subscribers[s][p].ops;
}

bool mk_subscriber_has_young(MkMm *mm)
{
    return mk_subscribers[mm->subscriber][mm->profile].young;
}

const char *mk_site_path(MkSite site)
{
    g_assert(site < MK_NR_SITES);
    return mk_site_rules[site].path;
}

/* ---- the profile engine: phases of a call site ---- */

static uint8_t mk_rule(MkMm *mm, MkSite site)
{
    return mk_site_rules[site].rule[mm->profile];
}

void mk_site_start(MkMm *mm, MkSite site, uint64_t s, uint64_t e,
                   uint64_t owner)
{
    if (mk_rule(mm, site) & MK_N_RANGE) {
        int32_t r = mk_mn_range_start(mm, mk_site_rules[site].event, true,
                                      s, e, owner);
        g_assert_cmpint(r, ==, 0);  /* blockable starts cannot fail */
    }
}

void mk_site_end(MkMm *mm, MkSite site, uint64_t s, uint64_t e,
                 uint64_t owner)
{
    uint8_t r = mk_rule(mm, site);

    if (r & MK_N_RANGE) {
        mk_mn_range_end(mm, mk_site_rules[site].event, true,
                        r & MK_N_ONLY_END, s, e, owner);
    }
}

void mk_site_flush(MkMm *mm, MkSite site, uint64_t s, uint64_t e)
{
    if (mk_rule(mm, site) & MK_N_FLUSH) {
        mk_mn_secondary_tlbs(mm, s, e);
    }
}

void mk_site_set_pte_notify(MkMm *mm, MkSite site, uint64_t slot,
                            uint64_t va, uint64_t pte)
{
    if ((mk_rule(mm, site) & MK_N_CHANGE_PTE) &&
        mk_subscribers[mm->subscriber][mm->profile].change_pte) {
        /* mmu_notifier_change_pte() first, then set_pte_at() */
        mk_mn_change_pte(mm, va, pte);
    }
    mk_wr(mm, slot, pte);
}

void mk_site_after_ptl(MkMm *mm, MkSite site, uint64_t s, uint64_t e,
                       bool changed)
{
    if ((mk_rule(mm, site) & MK_N_UPGRADE) && changed) {
        int32_t r = mk_mn_range_start(mm, MK_EV_PROTECTION_UPGRADE, true,
                                      s, e, 0);
        g_assert_cmpint(r, ==, 0);
        mk_mn_range_end(mm, MK_EV_PROTECTION_UPGRADE, true, false, s, e, 0);
    }
}
