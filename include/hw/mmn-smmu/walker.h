/*
 * mmn-smmu translation: an AArch64 stage-1 page-table walker (4 KiB granule).
 *
 * Pure logic: descriptors are read (and, with HTTU, updated) through
 * MmnPtOps, so the walker runs the same on guest memory and in unit tests.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MMN_SMMU_WALKER_H
#define HW_MMN_SMMU_WALKER_H

/* Fault kinds, as reported in event records (docs/specs/mmn-smmu.rst). */
typedef enum MmnFaultKind {
    MMN_FAULT_NONE = 0,
    MMN_FAULT_TRANSLATION = 1,  /* invalid or reserved descriptor, VA range */
    MMN_FAULT_ADDR_SIZE = 2,    /* output address beyond the OA size */
    MMN_FAULT_ACCESS_FLAG = 3,  /* AF == 0 and no hardware AF update */
    MMN_FAULT_PERMISSION = 4,   /* AP/XN deny the access */
    MMN_FAULT_WALK_ABORT = 5,   /* a descriptor could not be read/updated */
} MmnFaultKind;

/* AArch64 stage-1 descriptor bits (4 KiB granule, 48-bit OA). */
#define MMN_PTE_VALID           (1ULL << 0)
#define MMN_PTE_TABLE           (1ULL << 1)    /* table (L0-2) or page (L3) */
#define MMN_PTE_AP_USER         (1ULL << 6)    /* AP[1]: EL0 access */
#define MMN_PTE_AP_RDONLY       (1ULL << 7)    /* AP[2]: read-only */
#define MMN_PTE_AF              (1ULL << 10)
#define MMN_PTE_NG              (1ULL << 11)
#define MMN_PTE_ADDR_MASK       0x0000fffffffff000ULL  /* OA[47:12] */
#define MMN_PTE_DBM             (1ULL << 51)
#define MMN_PTE_CONT            (1ULL << 52)
#define MMN_PTE_PXN             (1ULL << 53)
#define MMN_PTE_UXN             (1ULL << 54)
#define MMN_PTE_PXN_TABLE       (1ULL << 59)
#define MMN_PTE_UXN_TABLE       (1ULL << 60)
#define MMN_PTE_AP_TABLE_NOUSER (1ULL << 61)   /* APTable[0] */
#define MMN_PTE_AP_TABLE_RDONLY (1ULL << 62)   /* APTable[1] */

/*
 * Access to the page tables.  Both return false when the address is not
 * memory the walker may touch (outside RAM, MMIO): the walk then ends in
 * MMN_FAULT_WALK_ABORT.  cmpxchg atomically replaces the 64-bit
 * little-endian descriptor at @pa with @newv if it equals @old, and stores
 * what it found in *@cur (so the caller sees whether it won).
 */
typedef struct MmnPtOps {
    bool (*read)(void *opaque, uint64_t pa, uint64_t *val);
    bool (*cmpxchg)(void *opaque, uint64_t pa, uint64_t old, uint64_t newv,
                    uint64_t *cur);
} MmnPtOps;

/* Per-context translation configuration. */
typedef struct MmnWalkConfig {
    uint64_t ttb;       /* level-0/1 table base, 4 KiB aligned */
    uint8_t va_bits;    /* 64 - T0SZ: 25..48 (39: 3 levels, 48: 4 levels) */
    uint8_t oa_bits;    /* output address size: 32..48 */
    bool ha;            /* HTTU: hardware sets AF */
    bool hd;            /* HTTU: hardware clears AP[2] of DBM entries (needs ha) */
} MmnWalkConfig;

typedef struct MmnAccess {
    uint64_t va;
    bool write;
    bool unpriv;        /* EL0 access: needs AP[1] and no APTable[0] */
    bool exec;          /* instruction fetch: UXN/PXN apply */
} MmnAccess;

/* Accepted configuration ranges (MmnWalkConfig). */
#define MMN_VA_BITS_MIN         25
#define MMN_VA_BITS_MAX         48
#define MMN_OA_BITS_MIN         32
#define MMN_OA_BITS_MAX         48

/*
 * At most this many ops->cmpxchg calls per walk (HTTU updates that lose a
 * race are re-evaluated and retried); past it the walk ends in
 * MMN_FAULT_WALK_ABORT at the leaf's level.
 */
#define MMN_WALK_MAX_CAS        8

/*
 * Effective permissions of a translation (APTable folded in).
 * W: AP[2] == 0 and no APTable[1] on the way.  USER: AP[1] == 1 and no
 * APTable[0].  UXN/PXN: the leaf's bit or any UXNTable/PXNTable; PXN also
 * when EL0 may write (W, or DBM with HD), as Arm requires for EL1&0.
 * DBM: the leaf has DBM and no APTable[1]: with HD a write may make it W.
 */
#define MMN_PERM_W      (1u << 0)   /* writable at the translation's level */
#define MMN_PERM_USER   (1u << 1)   /* EL0 may access */
#define MMN_PERM_UXN    (1u << 2)
#define MMN_PERM_PXN    (1u << 3)
#define MMN_PERM_DBM    (1u << 4)   /* writable-clean when !W (DBM set) */

typedef struct MmnTranslation {
    uint64_t va;        /* VA of the page or block, aligned to size */
    uint64_t pa;        /* output address of the page or block */
    uint64_t size;      /* 4 KiB, 2 MiB or 1 GiB */
    uint8_t level;      /* level of the leaf: 1, 2 or 3 */
    uint8_t perm;       /* MMN_PERM_* */
    bool af;            /* access flag as left by the walk */
    bool dirty;         /* leaf is writable (AP[2] == 0) and was written */
    /*
     * af: always true when *tr is filled: without HA, AF == 0 is an
     * access-flag fault; with HA the walk sets AF (also before reporting a
     * permission fault).  dirty: exactly "the leaf descriptor, as left by
     * the walk, has AP[2] == 0", whatever DBM and APTable say.  For a DBM
     * leaf that is Linux's pte_hw_dirty(); a non-DBM leaf with AP[2] == 0
     * is plainly writable, clean and dirty cannot be told apart, so it
     * counts as dirty.  A write through an AP[2] == 0 leaf never needs a
     * descriptor update.
     */
    uint64_t desc;      /* leaf descriptor after any HTTU update */
    uint64_t desc_pa;   /* physical address of the leaf descriptor */
} MmnTranslation;

typedef struct MmnFault {
    MmnFaultKind kind;
    uint8_t level;      /* level at which the walk stopped */
    uint64_t va;
    uint64_t desc_pa;   /* descriptor involved (0 if none) */
} MmnFault;

/*
 * Walk the tables of @cfg for @acc.
 *
 * Returns MMN_FAULT_NONE and fills *@tr on success.  Returns
 * MMN_FAULT_PERMISSION with *@tr filled too: the leaf is valid, so the
 * translation may be cached (Arm caching rules).  Any other fault leaves
 * *@tr undefined and must not be cached.  *@fault is filled whenever the
 * result is not MMN_FAULT_NONE.  The walk is bounded (at most 4 levels and a
 * bounded number of compare-and-swap retries) whatever the tables contain.
 */
MmnFaultKind mmn_walk(const MmnWalkConfig *cfg, const MmnPtOps *ops,
                      void *opaque, const MmnAccess *acc,
                      MmnTranslation *tr, MmnFault *fault);

/*
 * Check @acc against an already known (e.g. cached) translation without
 * walking: MMN_FAULT_NONE or MMN_FAULT_PERMISSION.
 * It does not know the context's HD: a write to a !W translation is a
 * permission fault here.  If the context has HD and tr->perm has
 * MMN_PERM_DBM, the caller must walk instead (the walk makes the
 * descriptor dirty in memory), and should refresh its entry from the result.
 */
MmnFaultKind mmn_translation_check(const MmnTranslation *tr,
                                   const MmnAccess *acc);

const char *mmn_fault_kind_name(MmnFaultKind kind);

#endif /* HW_MMN_SMMU_WALKER_H */
