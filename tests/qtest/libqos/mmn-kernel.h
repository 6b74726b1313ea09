/*
 * mmn-kernel: a test library that plays the guest kernel for mmn-smmu.
 *
 * Two halves:
 *  - a driver for the device (MmnKernel): command queue, event queue, DMA
 *    descriptors, CHECK reports;
 *  - an mm model (MmnMm): arm64 Linux page tables built in guest memory
 *    (4 KiB pages, 2 MiB hugetlb blocks, 39- or 48-bit VA) and the Linux
 *    mm operations that change them, each followed by exactly the
 *    mmu_notifier calls a given kernel generation (MkProfile) sends,
 *    forwarded to the device as an SVA driver would.
 *
 * The table of which kernel notifies what lives in mmn-kernel.c
 * (mk_site_rules); read it as documentation.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_LIBQOS_MMN_KERNEL_H
#define TESTS_LIBQOS_MMN_KERNEL_H

#include "libqos-malloc.h"
#include "mmn-smmu.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"

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

/* Linux's enum mmu_notifier_event (plus seed 004's PROTECTION_UPGRADE). */
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
/* Device driver                                                     */

typedef struct MmnKernel {
    QMmnSmmu *dev;
    QTestState *qts;
    QGuestAllocator *alloc;
    uint64_t cmdq, evtq;            /* ring bases */
    unsigned cmdq_log2, evtq_log2;
    uint32_t cmdq_prod;             /* with wrap bit */
    uint32_t evtq_cons;
    uint64_t desc;                  /* 64-byte DMA descriptor slot */
    uint64_t res;                   /* result word of the last command */
    uint64_t report;                /* 256-byte CHECK report */
    uint64_t zero_page;             /* Linux's ZERO_PAGE, for the mm model */
    GSList *allocs;                 /* guest_alloc'ed blocks to free */
    uint64_t nr_cmds;               /* commands accepted */
} MmnKernel;

/* Every guest-visible state register (all read 0 after reset). */
typedef struct MkReg {
    uint32_t off;
    const char *name;
} MkReg;
#define MK_NR_STATE_REGS 19
extern const MkReg mk_state_regs[MK_NR_STATE_REGS];

/* Assert that every register has its reset value. */
void mk_assert_reset_state(QMmnSmmu *dev);

/*
 * Allocate both rings in guest RAM, program and enable CMDQ, EVTQ and the
 * DMA engine.  log2 sizes as in CMDQ_BASE_LO / EVTQ_BASE_LO.
 */
MmnKernel *mk_new(QMmnSmmu *dev, QGuestAllocator *alloc,
                  unsigned cmdq_log2, unsigned evtq_log2);
void mk_free(MmnKernel *k);
/*
 * Re-point @k at another view of the same device, @dev, typically the one
 * on the destination QEMU of a migration (its QTestState is the one of
 * @dev's bus).  Writes nothing: the rings, their indexes, the descriptor
 * slot and the guest allocations carry over with guest RAM and the device
 * state, and @k's allocator stays valid because guest-physical addresses
 * do.  Asserts that the device's queue registers agree with @k's view.
 * MmnMm objects built on @k follow it.
 */
void mk_attach(MmnKernel *k, QMmnSmmu *dev);

/* Zeroed guest memory aligned to @align (a power of two). */
uint64_t mk_alloc(MmnKernel *k, uint64_t size, uint64_t align);

uint32_t mk_readl(MmnKernel *k, uint32_t off);
void mk_writel(MmnKernel *k, uint32_t off, uint32_t val);
/* Guest-physical address of the device's BAR0 (for "DMA at MMIO" tests). */
uint64_t mk_bar_addr(MmnKernel *k);

/* Commands */
MmnCmd mk_cmd_init(uint8_t opcode, uint16_t ctx);
/* The 64-byte little-endian encoding of @c (MMN_CMD_SIZE bytes at @b). */
void mk_cmd_encode(const MmnCmd *c, uint8_t *b);
/* Index mask of a ring of 2^log2 entries: index bits plus the wrap bit. */
uint32_t mk_qmask(unsigned log2);
/* Write @c at PROD and ring the doorbell; checks nothing. */
void mk_cmd_post(MmnKernel *k, const MmnCmd *c);
/*
 * Write @c at PROD and bump PROD.  Returns 0 when the device consumed it
 * (CONS == PROD, no CMDQ_ERR), else the CMDQ_ERR reason, with the error
 * left pending (see mk_cmdq_ack).
 */
uint32_t mk_cmd_try(MmnKernel *k, const MmnCmd *c);
/* mk_cmd_try that must succeed. */
void mk_cmd(MmnKernel *k, const MmnCmd *c);
/*
 * mk_cmd_try that must fail with @reason: checks CMDQ_ERR (index too),
 * STATUS.CMDQ_STOPPED and IRQ_STATUS.CMDQ_ERR, then acknowledges and
 * checks that the queue runs again (a SYNC goes through).
 */
void mk_cmd_expect_err(MmnKernel *k, const MmnCmd *c, uint32_t reason);
/*
 * Move CMDQ to @base (the device reads there; the driver writes commands
 * at @drv_base, e.g. the same, or scratch RAM when @base is not RAM) or
 * EVTQ to @base: disable, program, resynchronise PROD/CONS from the
 * registers, enable.
 */
void mk_cmdq_set_base(MmnKernel *k, uint64_t base, uint64_t drv_base);
void mk_evtq_set_base(MmnKernel *k, uint64_t base);
/* Acknowledge a pending error: CONS moves on, queue restarts. */
void mk_cmdq_ack(MmnKernel *k);
/* SYNC with WRITE of a fresh cookie; asserts the cookie landed. */
void mk_sync(MmnKernel *k);

void mk_bind(MmnKernel *k, uint16_t ctx, uint64_t ttb, uint64_t cfg);
void mk_unbind(MmnKernel *k, uint16_t ctx);
/* Sends a command with a result address (a3 = k->res); returns the word. */
uint32_t mk_cmd_res(MmnKernel *k, MmnCmd *c);

/* Events */
/* Pop one event record; false when EVTQ is empty. */
bool mk_evt_pop(MmnKernel *k, MmnEvt *e);
/* Number of records waiting. */
unsigned mk_evt_pending(MmnKernel *k);
/* Drop all pending records; returns how many. */
unsigned mk_evt_drain(MmnKernel *k);

/* DMA: write @d at k->desc, ring; returns DMA_STATUS; *out = descriptor. */
uint32_t mk_dma_submit(MmnKernel *k, const MmnDmaDesc *d, MmnDmaDesc *out);
/* Re-read the descriptor written back at k->desc. */
void mk_dma_read_desc(MmnKernel *k, MmnDmaDesc *out);
MmnDmaDesc mk_dma_desc(uint8_t op, uint16_t ctx, uint64_t va, uint32_t len,
                       uint64_t buf, uint32_t pattern);

/* CHECK for @ctx (or MMN_CMD_CTX_ALL) into *r. */
void mk_check(MmnKernel *k, uint16_t ctx, MmnCheckReport *r);
/* Human-readable one-liner of a report (g_free it). */
char *mk_check_str(const MmnCheckReport *r);

/* ---------------------------------------------------------------- */
/* mm model                                                          */

typedef enum MkProfile {
    MK_LINUX_6_1,           /* invalidate_range era: no upgrade notify */
    MK_UPGRADE_NOTIFY,      /* 6.1 + seed 004 (PROTECTION_UPGRADE) */
    MK_LINUX_6_6,           /* arch_invalidate_secondary_tlbs */
    MK_NR_PROFILES,
} MkProfile;

const char *mk_profile_name(MkProfile p);
/* CTX_BIND LEGACY_INV: MN_RANGE_END also invalidates (Linux <= 6.5). */
bool mk_profile_legacy_inv(MkProfile p);

#define MK_PROT_NONE    0
#define MK_PROT_READ    1
#define MK_PROT_WRITE   2

#define MK_MAP_PRIVATE  0
#define MK_MAP_SHARED   1
#define MK_MAP_HUGETLB  2

typedef enum MkFaultRet {
    MK_FAULT_OK,            /* handled: the access may be retried */
    MK_FAULT_SIGSEGV,       /* no VMA or the VMA forbids the access */
} MkFaultRet;

typedef struct MmnMm MmnMm;

/*
 * A process address space bound to context @ctx (CTX_BIND sent here).
 * @va_bits 39 or 48; @cfg_extra is OR-ed into the CTX_BIND configuration
 * (STALL, HTTU...); UNPRIV, OA_BITS 48 and, for the 6.1-era profiles,
 * LEGACY_INV are always set.  Owner cookie 0.
 */
MmnMm *mk_mm_new(MmnKernel *k, MkProfile p, uint16_t ctx, unsigned va_bits,
                 uint64_t cfg_extra);
/* The same with CTX_BIND a2 = @owner (the driver's owner cookie). */
MmnMm *mk_mm_new_owner(MmnKernel *k, MkProfile p, uint16_t ctx,
                       unsigned va_bits, uint64_t cfg_extra, uint64_t owner);
/* Unbinds (unless @k is gone) and frees the model. */
void mk_mm_free(MmnMm *mm);
uint16_t mk_mm_ctx(MmnMm *mm);
MkProfile mk_mm_profile(MmnMm *mm);
uint64_t mk_mm_ttb(MmnMm *mm);
/* CPU has hardware dirty-bit management (FEAT_HAFDBS; -cpu max). */
void mk_mm_set_cpu_hw_dbm(MmnMm *mm, bool on);

/* Notifier commands sent for this mm so far, and a log of them. */
unsigned mk_mm_notifications(MmnMm *mm);
const char *mk_mm_log(MmnMm *mm);
void mk_mm_log_clear(MmnMm *mm);

/* VMAs and populating them (Linux populate rules: see mk_populate). */
void mk_mmap(MmnMm *mm, uint64_t va, uint64_t len, int prot, int flags);
/*
 * MAP_POPULATE / mm_populate: a write fault for private writable VMAs
 * (dirty, writable PTE), a read fault otherwise (shared writable: the
 * writable-clean PTE of _PAGE_SHARED, DBM|RDONLY).  Pages get contents
 * from mk_fill_pattern().
 */
void mk_populate(MmnMm *mm, uint64_t va, uint64_t len);
/* mmap + populate, and fill each page with mk_fill_pattern(va). */
void mk_mmap_populate(MmnMm *mm, uint64_t va, uint64_t len, int prot,
                      int flags);
uint32_t mk_fill_pattern(uint64_t va);

/* munmap(2): zap, notify, and poison the freed pages (they get reused). */
void mk_munmap(MmnMm *mm, uint64_t va, uint64_t len);
/* mprotect(2) */
void mk_mprotect(MmnMm *mm, uint64_t va, uint64_t len, int prot);
/* fork(): write-protect private writable PTEs (the child shares the pages). */
void mk_fork(MmnMm *mm, uint64_t va, uint64_t len);
/* The child of mk_fork exits: pages become exclusive again, PTEs stay RO. */
void mk_child_exit(MmnMm *mm, uint64_t va, uint64_t len);

/*
 * handle_mm_fault(FAULT_FLAG_REMOTE [| FAULT_FLAG_WRITE]) for a device
 * fault at @va, with the notifications of the mm's profile.
 */
MkFaultRet mk_handle_mm_fault(MmnMm *mm, uint64_t va, bool write);

/* CPU accesses through the model (a CPU fault runs the same handler). */
void mk_cpu_write(MmnMm *mm, uint64_t va, const void *buf, size_t len);
void mk_cpu_read(MmnMm *mm, uint64_t va, void *buf, size_t len);
/* Guest-physical address @va maps to, 0 if none (no fault). */
uint64_t mk_va_to_pa(MmnMm *mm, uint64_t va);
/* The leaf descriptor for @va (page or block), 0 if none. */
uint64_t mk_pte_get(MmnMm *mm, uint64_t va);
/* Raw access to the leaf slot for @va (for bad-input tests). */
uint64_t mk_pte_slot(MmnMm *mm, uint64_t va, unsigned level, bool alloc);

/* Page aging; each returns what the kernel sees (CPU young | secondary). */
bool mk_clear_flush_young(MmnMm *mm, uint64_t va);  /* folio_referenced */
bool mk_clear_young(MmnMm *mm, uint64_t va);        /* no flush */
bool mk_test_young(MmnMm *mm, uint64_t va);         /* CPU AF untouched */
/* Seed 000 bitmap API; returns the device's result word. */
uint32_t mk_test_clear_young(MmnMm *mm, uint64_t start, uint64_t end,
                             bool clear, uint64_t *bitmap);

/*
 * KSM-style replace_page: new page, same contents, read-only; change_pte.
 * @between (may be NULL) runs after MN_RANGE_START, before the PTE changes.
 */
void mk_ksm_replace(MmnMm *mm, uint64_t va,
                    void (*between)(MmnMm *mm, void *opaque), void *opaque);
/* exit_mmap: release; afterwards nothing more is sent for this mm. */
void mk_release(MmnMm *mm);
/*
 * migrate_vma_setup/pages/finalize of [va, va + len) with @owner as the
 * pgmap owner: MIGRATE range, migration entries, copy, new PTEs.
 * @between (may be NULL) runs right after MN_RANGE_START.
 */
void mk_migrate(MmnMm *mm, uint64_t va, uint64_t len, uint64_t owner,
                void (*between)(MmnMm *mm, void *opaque), void *opaque);

/* Raw notifier calls for this mm (with logging); start returns res. */
int32_t mk_mn_range_start(MmnMm *mm, uint8_t event, bool blockable,
                          uint64_t start, uint64_t end, uint64_t owner);
void mk_mn_range_end(MmnMm *mm, uint8_t event, bool blockable,
                     bool only_end, uint64_t start, uint64_t end,
                     uint64_t owner);
void mk_mn_secondary_tlbs(MmnMm *mm, uint64_t start, uint64_t end);

/* ---------------------------------------------------------------- */
/* The device fault loop                                              */

typedef struct MkFaultLoop {
    uint32_t status;        /* final DMA status word */
    uint32_t state;         /* MMN_DMA_ST_* */
    unsigned faults;        /* FAULT events handled */
    unsigned retries;       /* DMA_RESUME sent */
    unsigned aborts;        /* DMA_ABORT sent */
    unsigned notifications; /* notifier commands the handler sent */
    unsigned livelock_events;
    unsigned other_events;  /* records that are neither of the above */
    MmnEvt last_fault;      /* last FAULT record */
    MmnDmaDesc desc;        /* descriptor as written back */
} MkFaultLoop;

/*
 * Submit @d on a STALL context; while it is STALLED, read the FAULT event,
 * run mk_handle_mm_fault() for the faulting VA, and send DMA_RESUME (or
 * DMA_ABORT on SIGSEGV).  Stops on any other state.  At most @max_iter
 * rounds (asserted).
 */
void mk_dma_fault_loop(MmnMm *mm, const MmnDmaDesc *d, unsigned max_iter,
                       MkFaultLoop *r);
const char *mk_dma_state_name(uint32_t state);

#endif
