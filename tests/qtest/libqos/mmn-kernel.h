/*
 * mmn-kernel: a test library that plays the guest kernel for mmn-smmu.
 *
 * Three parts, one file each:
 *  - mmn-kernel-driver.[ch]: a driver for the device (MmnKernel): command
 *    queue, event queue, DMA descriptors, CHECK reports;
 *  - mmn-kernel-profiles.c: which kernel generation (MkProfile) sends which
 *    mmu_notifier call at which Linux call site, and which subscriber
 *    (MkSubscriber: the SMMU's SVA driver, or a KVM/HMM-style secondary
 *    MMU) receives it; read its tables as documentation;
 *  - mmn-kernel-mm.c and mmn-kernel-fault.c: an mm model (MkMm): arm64
 *    Linux page tables built in guest memory (4 KiB pages, 2 MiB hugetlb
 *    and THP blocks, 39- or 48-bit VA), the Linux mm operations that
 *    change them and the fault paths, each followed by exactly the
 *    notifier calls the profile sends and the subscriber registered for,
 *    forwarded to the device; and the device fault loop (IOPF handler).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_LIBQOS_MMN_KERNEL_H
#define TESTS_LIBQOS_MMN_KERNEL_H

#include "mmn-kernel-driver.h"

/* Linux arm64 PTE bits (arch/arm64/include/asm/pgtable-hwdef.h, -prot.h) */
#define MK_PTE_VALID        (1ULL << 0)
#define MK_PTE_TABLE        (1ULL << 1)     /* table (L0-2) or page (L3) */
#define MK_PTE_USER         (1ULL << 6)     /* AP[1] */
#define MK_PTE_RDONLY       (1ULL << 7)     /* AP[2] */
#define MK_PTE_SHARED       (3ULL << 8)     /* SH: inner shareable */
#define MK_PTE_AF           (1ULL << 10)
#define MK_PTE_NG           (1ULL << 11)
#define MK_PTE_WRITE        (1ULL << 51)    /* DBM */
#define MK_PTE_PXN          (1ULL << 53)
#define MK_PTE_UXN          (1ULL << 54)
#define MK_PTE_DIRTY        (1ULL << 55)    /* software dirty */
#define MK_PTE_ADDR_MASK    0x0000fffffffff000ULL
#define MK_PMD_TABLE_PXN    (1ULL << 59)

#define MK_PAGE_SIZE        0x1000ULL
#define MK_HPAGE_SIZE       0x200000ULL

/*
 * Linux's enum mmu_notifier_event, plus PROTECTION_UPGRADE of the May 2023
 * patch "mmu_notifiers: Notify on pte permission upgrades" (not merged).
 */
enum {
    MK_EV_UNMAP = 0,
    MK_EV_CLEAR = 1,
    MK_EV_PROTECTION_VMA = 2,
    MK_EV_PROTECTION_PAGE = 3,
    MK_EV_SOFT_DIRTY = 4,
    MK_EV_RELEASE = 5,
    MK_EV_MIGRATE = 6,
    MK_EV_EXCLUSIVE = 7,
    MK_EV_PROTECTION_UPGRADE = 8,
};

/* ---------------------------------------------------------------- */
/* Kernel profiles and subscribers (mmn-kernel-profiles.c)           */

typedef enum MkProfile {
    MK_LINUX_6_1,           /* invalidate_range era: no upgrade notify */
    /*
     * 6.1 plus the May 2023 patch "mmu_notifiers: Notify on pte
     * permission upgrades" (MMU_NOTIFY_PROTECTION_UPGRADE; not merged)
     */
    MK_UPGRADE_NOTIFY,
    MK_LINUX_6_6,           /* arch_invalidate_secondary_tlbs; as 6.12 */
    MK_NR_PROFILES,
} MkProfile;

const char *mk_profile_name(MkProfile p);
/* One line: the kernel a profile plays (for reports). */
const char *mk_profile_what(MkProfile p);
/* CTX_BIND LEGACY_INV: MN_RANGE_END also invalidates (Linux <= 6.5). */
bool mk_profile_legacy_inv(MkProfile p);

/*
 * Which mmu_notifier subscriber the device plays: the ops it registered
 * decide which calls reach it (mk_subscriber_ops() names them, with the
 * Linux source).  Range start/end and the secondary-TLB flushes are
 * forwarded for both (see mmn-kernel-profiles.c for what that simplifies).
 */
typedef enum MkSubscriber {
    /*
     * The SMMU's SVA driver (arm_smmu_mmu_notifier_ops): no young ops and
     * no change_pte, so clear_flush_young/clear_young/test_young and
     * change_pte reach nothing.  The default.
     */
    MK_SUB_SVA,
    /*
     * A KVM/HMM-style secondary MMU (kvm_mmu_notifier_ops): young ops,
     * and change_pte where the kernel still has it (6.1).
     */
    MK_SUB_MIRROR,
    MK_NR_SUBSCRIBERS,
} MkSubscriber;

const char *mk_subscriber_name(MkSubscriber s);
/* The ops that subscriber registers under @p, and where Linux says so. */
const char *mk_subscriber_ops(MkProfile p, MkSubscriber s);

/* ---------------------------------------------------------------- */
/* mm model (mmn-kernel-mm.c)                                        */

#define MK_PROT_NONE    0
#define MK_PROT_READ    1
#define MK_PROT_WRITE   2

#define MK_MAP_PRIVATE  0
#define MK_MAP_SHARED   1
#define MK_MAP_HUGETLB  2       /* hugetlbfs, 2 MiB pages */
/*
 * Transparent huge pages, 2 MiB PMD mappings: private = anonymous THP
 * (do_huge_pmd_anonymous_page, with transparent_hugepage/use_zero_page
 * off: a read fault maps a THP too), shared = shmem THP (do_set_pmd).
 */
#define MK_MAP_THP      4

typedef enum MkFaultRet {
    MK_FAULT_OK,            /* handled: the access may be retried */
    MK_FAULT_SIGSEGV,       /* no VMA or the VMA forbids the access */
} MkFaultRet;

/* A model of a process mm_struct (not the notifier layer's MmnMm). */
typedef struct MkMm MkMm;

/*
 * A process address space bound to context @ctx (CTX_BIND sent here).
 * @va_bits 39 or 48; @cfg_extra is OR-ed into the CTX_BIND configuration
 * (STALL, HTTU...); UNPRIV, OA_BITS 48 and, for the 6.1-era profiles,
 * LEGACY_INV are always set.  Owner cookie 0.  Subscriber MK_SUB_SVA.
 */
MkMm *mk_mm_new(MmnKernel *k, MkProfile p, uint16_t ctx, unsigned va_bits,
                uint64_t cfg_extra);
/* The same with CTX_BIND a2 = @owner (the driver's owner cookie). */
MkMm *mk_mm_new_owner(MmnKernel *k, MkProfile p, uint16_t ctx,
                      unsigned va_bits, uint64_t cfg_extra, uint64_t owner);
/* Unbinds (unless @k is gone) and frees the model. */
void mk_mm_free(MkMm *mm);
uint16_t mk_mm_ctx(MkMm *mm);
MkProfile mk_mm_profile(MkMm *mm);
uint64_t mk_mm_ttb(MkMm *mm);
/* CPU has hardware dirty-bit management (FEAT_HAFDBS; -cpu max). */
void mk_mm_set_cpu_hw_dbm(MkMm *mm, bool on);
void mk_mm_set_subscriber(MkMm *mm, MkSubscriber s);
MkSubscriber mk_mm_subscriber(MkMm *mm);

/* Notifier commands sent for this mm so far, and a log of them. */
unsigned mk_mm_notifications(MkMm *mm);
const char *mk_mm_log(MkMm *mm);
void mk_mm_log_clear(MkMm *mm);
/*
 * @fn (NULL: none) runs right after each notifier command is sent, with
 * its log entry ("change_pte(...)", "tlbs(...)"...): tests look at the
 * page tables at that moment.
 */
typedef void (*MkNoteFn)(MkMm *mm, const char *note, void *opaque);
void mk_mm_set_observer(MkMm *mm, MkNoteFn fn, void *opaque);
/*
 * The Linux path of the last permission upgrade the fault handler made
 * (e.g. "do_wp_page -> wp_page_reuse()"), NULL if none since the last
 * mk_mm_log_clear().
 */
const char *mk_mm_upgrade_path(MkMm *mm);

/* VMAs and populating them (Linux populate rules: see mk_populate). */
void mk_mmap(MkMm *mm, uint64_t va, uint64_t len, int prot, int flags);
/*
 * MAP_POPULATE / mm_populate: a write fault for private writable VMAs
 * (dirty, writable PTE), a read fault otherwise (shared writable 4 KiB
 * or shmem THP: the writable-clean PTE of _PAGE_SHARED, DBM|RDONLY;
 * shared hugetlb: dirty and writable, hugetlb_no_page).  Pages get
 * contents from mk_fill_pattern().
 */
void mk_populate(MkMm *mm, uint64_t va, uint64_t len);
/* mmap + populate, and fill each page with mk_fill_pattern(va). */
void mk_mmap_populate(MkMm *mm, uint64_t va, uint64_t len, int prot,
                      int flags);
uint32_t mk_fill_pattern(uint64_t va);

/* munmap(2): zap, notify, and poison the freed pages (they get reused). */
void mk_munmap(MkMm *mm, uint64_t va, uint64_t len);
/* mprotect(2) of whole VMAs (change_protection, mm/mprotect.c). */
void mk_mprotect(MkMm *mm, uint64_t va, uint64_t len, int prot);
/*
 * fork(): write-protect private writable PTEs (the child shares the
 * pages, which are no longer PageAnonExclusive).
 */
void mk_fork(MkMm *mm, uint64_t va, uint64_t len);
/*
 * The child of mk_fork exits: the parent's mappings are the only ones
 * again (page_count 1), PTEs stay RO, PageAnonExclusive stays clear.
 */
void mk_child_exit(MkMm *mm, uint64_t va, uint64_t len);

/* CPU accesses through the model (a CPU fault runs the same handler). */
void mk_cpu_write(MkMm *mm, uint64_t va, const void *buf, size_t len);
void mk_cpu_read(MkMm *mm, uint64_t va, void *buf, size_t len);
/* Guest-physical address @va maps to, 0 if none (no fault). */
uint64_t mk_va_to_pa(MkMm *mm, uint64_t va);
/* The leaf descriptor for @va (page or block), 0 if none. */
uint64_t mk_pte_get(MkMm *mm, uint64_t va);
/* Raw access to the leaf slot for @va (for bad-input tests). */
uint64_t mk_pte_slot(MkMm *mm, uint64_t va, unsigned level, bool alloc);

/*
 * Page aging; each returns what the kernel sees (CPU young | secondary).
 * The young commands reach the device only for MK_SUB_MIRROR.
 */
bool mk_clear_flush_young(MkMm *mm, uint64_t va);  /* folio_referenced */
bool mk_clear_young(MkMm *mm, uint64_t va);        /* no flush */
bool mk_test_young(MkMm *mm, uint64_t va);         /* CPU AF untouched */
/*
 * The unmerged young-bitmap series' test_clear_young (bitmap API);
 * returns the device's result word (MK_SUB_MIRROR only).
 */
uint32_t mk_test_clear_young(MkMm *mm, uint64_t start, uint64_t end,
                             bool clear, uint64_t *bitmap);

/*
 * KSM-style replace_page: new page, same contents, read-only; change_pte.
 * @between (may be NULL) runs after MN_RANGE_START, before the PTE changes.
 */
void mk_ksm_replace(MkMm *mm, uint64_t va,
                    void (*between)(MkMm *mm, void *opaque), void *opaque);
/* exit_mmap: release; afterwards nothing more is sent for this mm. */
void mk_release(MkMm *mm);
/*
 * migrate_vma_setup/pages/finalize of [va, va + len) with @owner as the
 * pgmap owner: MIGRATE range, migration entries, copy, new PTEs.
 * @between (may be NULL) runs right after MN_RANGE_START.
 */
void mk_migrate(MkMm *mm, uint64_t va, uint64_t len, uint64_t owner,
                void (*between)(MkMm *mm, void *opaque), void *opaque);

/* Raw notifier calls for this mm (with logging); start returns res. */
int32_t mk_mn_range_start(MkMm *mm, uint8_t event, bool blockable,
                          uint64_t start, uint64_t end, uint64_t owner);
void mk_mn_range_end(MkMm *mm, uint8_t event, bool blockable,
                     bool only_end, uint64_t start, uint64_t end,
                     uint64_t owner);
void mk_mn_secondary_tlbs(MkMm *mm, uint64_t start, uint64_t end);

/* ---------------------------------------------------------------- */
/* Fault handling and the device fault loop (mmn-kernel-fault.c)      */

/*
 * handle_mm_fault(FAULT_FLAG_REMOTE [| FAULT_FLAG_WRITE]) for a device
 * fault at @va, with the notifications of the mm's profile.
 */
MkFaultRet mk_handle_mm_fault(MkMm *mm, uint64_t va, bool write);

/* A device fault handler: mk_handle_mm_fault or a test's own. */
typedef MkFaultRet (*MkFaultHandler)(MkMm *mm, uint64_t va, bool write,
                                     void *opaque);

typedef struct MkFaultLoop {
    uint32_t status;        /* final DMA status word */
    uint32_t state;         /* MMN_DMA_ST_* */
    bool stale;             /* LIVELOCK on a stale entry (status bit) */
    unsigned faults;        /* FAULT events handled */
    unsigned retries;       /* DMA_RESUME sent, or descriptors resubmitted */
    unsigned aborts;        /* DMA_ABORT sent */
    unsigned notifications; /* notifier commands the handler sent */
    unsigned livelock_events;
    unsigned other_events;  /* records that are neither of the above */
    MmnEvt last_fault;      /* last FAULT record */
    MmnEvt livelock;        /* the LIVELOCK record, if any */
    MmnDmaDesc desc;        /* descriptor as written back */
} MkFaultLoop;

/*
 * Submit @d on a STALL context; while it is STALLED, read the FAULT event,
 * run mk_handle_mm_fault() for the faulting VA, and send DMA_RESUME (or
 * DMA_ABORT on SIGSEGV).  Stops on any other state.  At most @max_iter
 * rounds (asserted).
 */
void mk_dma_fault_loop(MkMm *mm, const MmnDmaDesc *d, unsigned max_iter,
                       MkFaultLoop *r);
/* The same with @fn as the fault handler. */
void mk_dma_fault_loop_with(MkMm *mm, const MmnDmaDesc *d, unsigned max_iter,
                            MkFaultHandler fn, void *opaque, MkFaultLoop *r);
/*
 * A driver without STALL: submit @d; while it completes with state FAULT,
 * run @fn (NULL: mk_handle_mm_fault) for the faulting VA and submit the
 * same descriptor again (SIGSEGV stops).  At most @max_iter submissions
 * (asserted).
 */
void mk_dma_resubmit_loop(MkMm *mm, const MmnDmaDesc *d, unsigned max_iter,
                          MkFaultHandler fn, void *opaque, MkFaultLoop *r);

#endif
