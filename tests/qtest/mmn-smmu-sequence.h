/*
 * mmn-smmu random mm sequence qtest: what its parts share.  The reference
 * and its checks (mmn-smmu-sequence-reference.c) and the operations
 * (mmn-smmu-sequence-ops.c) serve the run, mmn-smmu-sequence-test.c,
 * whose top comment describes what is checked.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MMN_SMMU_SEQUENCE_H
#define MMN_SMMU_SEQUENCE_H

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

/* The routes in stale_ro_routes (mmn-smmu-sequence-reference.c checks). */
#define NR_STALE_RO_ROUTES  6

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
    uint64_t routes[NR_STALE_RO_ROUTES];    /* upgrades seen */
    unsigned reports;
    /* the DMA fault handler (NULL: mk_handle_mm_fault) and its opaque */
    MkFaultHandler fault_fn;
    void *fault_opaque;
} Seq;

extern const char *const op_names[NR_OPS];
extern const char *const count_names[NR_COUNTS];
extern const StaleRoute stale_ro_routes[];

static inline unsigned rnd(Seq *s, unsigned n)
{
    return g_rand_int_range(s->rng, 0, n);
}

static inline bool chance(Seq *s, unsigned percent)
{
    return rnd(s, 100) < percent;
}

static inline uint64_t slot_va(unsigned i)
{
    return VA_BASE + i * SLOT_SPAN;
}

static inline uint64_t page_va(unsigned i, unsigned pg)
{
    return slot_va(i) + (uint64_t)pg * MK_PAGE_SIZE;
}

/* mmn-smmu-sequence-reference.c: the reference and the checks */
void G_GNUC_PRINTF(3, 4) count(Seq *s, Count c, const char *fmt, ...);
void learn_pa(Seq *s, unsigned i, uint64_t *out);
void retire_changed(Seq *s, unsigned i, const uint64_t *before,
                    bool still_mapped);
void check_retired(Seq *s, uint64_t va);
void check_device(Seq *s);
void note_upgrade(Seq *s);

/* mmn-smmu-sequence-ops.c: the operations */
Op pick_op(Seq *s);
bool run_op(Seq *s, Op op);

#endif /* MMN_SMMU_SEQUENCE_H */
