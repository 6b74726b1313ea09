/*
 * mmn-smmu translation: an AArch64 stage-1 page-table walker (VMSAv8-64,
 * Arm DDI 0487 D8 "The AArch64 Virtual Memory System Architecture":
 * "Translation table walk" and "Descriptor formats").
 *
 * Every stage-1 format a Linux arm64 kernel can produce for TTBR0:
 * 4 KiB, 16 KiB and 64 KiB granules; FEAT_LPA2 (TCR.DS = 1: 52-bit input
 * and output addresses with the 4K and 16K granules, level -1 for 4K);
 * FEAT_LPA (52-bit output addresses with 64K) and FEAT_LVA (52-bit input
 * addresses with 64K); TBI (top byte ignore).  The walker implements a
 * 52-bit physical address space (the Arm ARM's AArch64.PAMax() == 52),
 * which is what decides the 64K level-1 block and OA[51:48] below.
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
    /*
     * The walk succeeded but the output address is not RAM (e.g. a device
     * BAR): never returned by mmn_walk(), a front end reports it for the
     * access (docs/specs/mmn-smmu.rst, event kind 6 EXTERNAL).
     */
    MMN_FAULT_EXTERNAL = 6,
} MmnFaultKind;

/*
 * AArch64 stage-1 descriptor bits.  The output / next-level table address
 * is, for a granule of 2^g bytes (Arm DDI 0487 "Descriptor formats"; Linux
 * 6.12 arch/arm64/include/asm/pgtable.h __pte_to_phys()):
 *   DS = 0, 4K/16K:  OA[47:g] = desc[47:g]        (MMN_PTE_ADDR_MASK for 4K)
 *   DS = 1, 4K/16K:  OA[49:g] = desc[49:g], OA[51:50] = desc[9:8]
 *                    (Linux PTE_ADDR_HIGH 0x3 << 8, PTE_ADDR_HIGH_SHIFT 42)
 *   64K:             OA[47:16] = desc[47:16], OA[51:48] = desc[15:12]
 *                    (Linux PTE_ADDR_HIGH 0xf << 12, PTE_ADDR_HIGH_SHIFT 36)
 * With DS = 1, desc[9:8] are address bits, not shareability (that is in
 * TCR.SH0).  mmn_walk_desc_oa() decodes it for a configuration.
 */
#define MMN_PTE_VALID           (1ULL << 0)
#define MMN_PTE_TABLE           (1ULL << 1)    /* table (L0-2) or page (L3) */
#define MMN_PTE_AP_USER         (1ULL << 6)    /* AP[1]: EL0 access */
#define MMN_PTE_AP_RDONLY       (1ULL << 7)    /* AP[2]: read-only */
#define MMN_PTE_AF              (1ULL << 10)
#define MMN_PTE_NG              (1ULL << 11)
#define MMN_PTE_ADDR_MASK       0x0000fffffffff000ULL  /* OA[47:12] */
#define MMN_PTE_OA_51_50_DS     (3ULL << 8)     /* DS = 1: OA[51:50] */
#define MMN_PTE_OA_51_48_64K    (0xfULL << 12)  /* 64K: OA[51:48] */
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

/* Translation granule, with the values of TCR_ELx.TG0 / an SMMUv3 CD.TG0. */
typedef enum MmnGranule {
    MMN_GRANULE_4K = 0,     /* TG0 0b00 */
    MMN_GRANULE_64K = 1,    /* TG0 0b01 */
    MMN_GRANULE_16K = 2,    /* TG0 0b10 */
} MmnGranule;               /* 0b11 is reserved: a translation fault */

/*
 * Per-context translation configuration, as Arm expresses it for TTBR0
 * (TCR_EL1 / an SMMUv3 context descriptor):
 *   granule  TG0 encoding (MmnGranule).
 *   va_bits  64 - T0SZ.  25..48; up to 52 with DS = 1 (4K, 16K) or with
 *            64K (FEAT_LVA).  Outside that: translation fault, level 0.
 *   oa_bits  the decoded IPS: 32..48, 52 with DS = 1 or 64K.  Values
 *            outside are bounded to that range (as Arm bounds IPS by
 *            PARange, and treats IPS = 52 as 48 for 4K/16K with DS = 0).
 *   ds       TCR.DS (FEAT_LPA2); ignored with 64K (Arm: DS applies to the
 *            4K and 16K granules only).
 *   tbi      TCR.TBI0: VA[63:56] are ignored (the VA used for translation,
 *            reported in MmnTranslation and MmnFault, is the VA with
 *            bits [63:56] cleared, mmn_walk_input_va()).  Without TBI a VA
 *            with any bit at or above va_bits set is a translation fault.
 *   ha, hd   HTTU: hardware sets AF / clears AP[2] of DBM entries (hd
 *            needs ha).
 * A zero-initialised MmnWalkConfig with ttb, va_bits and oa_bits set is
 * the 4K granule, DS = 0, no TBI, no HTTU.
 *
 * ttb is the start-level table's physical address.  Its bits below the
 * table's size (entries * 8, at least 64 bytes when oa_bits is 52, the
 * TTBR.BADDR rule for 52-bit addresses) are ignored, as the Arm ARM
 * permits for a misaligned TTBR.
 */
typedef struct MmnWalkConfig {
    uint64_t ttb;       /* start-level table base */
    uint8_t va_bits;    /* 64 - T0SZ */
    uint8_t oa_bits;    /* output address size */
    uint8_t granule;    /* MmnGranule (TG0) */
    bool ds;            /* FEAT_LPA2 52-bit descriptors (4K, 16K) */
    bool tbi;           /* top byte ignore for TTBR0 */
    bool ha;            /* HTTU: hardware sets AF */
    bool hd;            /* HTTU: hardware clears AP[2] of DBM leaves */
} MmnWalkConfig;

typedef struct MmnAccess {
    uint64_t va;
    bool write;
    bool unpriv;        /* EL0 access: needs AP[1] and no APTable[0] */
    bool exec;          /* instruction fetch: UXN/PXN apply */
} MmnAccess;

/*
 * Accepted configuration ranges (MmnWalkConfig).  The _MAX values need
 * DS = 1 or the 64K granule; without them va_bits and oa_bits stop at
 * MMN_VA_BITS_MAX_48 / MMN_OA_BITS_MAX_48 (mmn_walk_max_va_bits()).
 */
#define MMN_VA_BITS_MIN         25
#define MMN_VA_BITS_MAX_48      48
#define MMN_VA_BITS_MAX         52
#define MMN_OA_BITS_MIN         32
#define MMN_OA_BITS_MAX_48      48
#define MMN_OA_BITS_MAX         52

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

/*
 * The contiguous hint (descriptor bit 52, Arm DDI 0487 "The Contiguous
 * bit"): a leaf with it belongs to an aligned run of entries that a TLB may
 * cache as one.  Run lengths (entries): 4K granule 16 at levels 3, 2 and 1
 * (64 KiB, 32 MiB, 16 GiB); 16K 128 at level 3 (2 MiB) and 32 at level 2
 * (1 GiB); 64K 32 at levels 3 and 2 (2 MiB, 16 GiB); Linux uses the same
 * (6.12 arch/arm64/Kconfig ARM64_CONT_PTE_SHIFT / ARM64_CONT_PMD_SHIFT).
 * The Arm ARM gives no run for the 4K level-0, 16K level-1 and 64K level-1
 * blocks: there the bit is ignored (run_size == size).
 *
 * mmn-smmu caches per page: each translation comes from its own leaf
 * descriptor (output address, permissions, AF and dirty state of that
 * descriptor only), never from another entry of the run.  That is always
 * architecturally correct (the hint only permits more), keeps HTTU's AF
 * and dirty updates exact per descriptor, and lets the coherence checker
 * compare an entry with the one descriptor it came from.  What the run
 * does change is invalidation: a TLB that merged the run would lose all
 * of it to an invalidation of any one page, and software (Linux's
 * contpte code, arch/arm64/mm/contpte.c) relies only on that, so the IOTLB
 * drops every entry a run fed when an invalidation touches any page of it.
 * For that the walk reports run_size.
 */
#define MMN_CONT_RUN_MAX_SHIFT  7   /* at most 2^7 entries in a run */

typedef struct MmnTranslation {
    uint64_t va;        /* VA of the page or block, aligned to size */
    uint64_t pa;        /* output address of the page or block */
    uint64_t size;      /* the leaf's size (mmn_walk_leaf_size_valid()) */
    uint64_t run_size;  /* its contiguous run (>= size); 0 means size */
    uint8_t level;      /* level of the leaf: 0 (4K, DS), 1, 2 or 3 */
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
    int8_t level;       /* level at which the walk stopped: -1..3 */
    uint64_t va;        /* the VA used for translation (tag removed by TBI) */
    uint64_t desc_pa;   /* descriptor involved (0 if none) */
} MmnFault;

/*
 * Walk the tables of @cfg for @acc.
 *
 * Returns MMN_FAULT_NONE and fills *@tr on success.  Returns
 * MMN_FAULT_PERMISSION with *@tr filled too: the leaf is valid, so the
 * translation may be cached (Arm caching rules).  Any other fault leaves
 * *@tr undefined and must not be cached.  *@fault is filled whenever the
 * result is not MMN_FAULT_NONE.  The walk is bounded (at most 5 levels and a
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

/* log2 of the granule (12, 14, 16), 0 for a reserved TG0 value. */
unsigned mmn_walk_granule_shift(unsigned granule);

/* Largest va_bits / effective oa_bits of @cfg's granule and DS. */
unsigned mmn_walk_max_va_bits(const MmnWalkConfig *cfg);
unsigned mmn_walk_max_oa_bits(const MmnWalkConfig *cfg);

/* Is @cfg's granule and va_bits walkable (otherwise every walk faults)? */
bool mmn_walk_config_valid(const MmnWalkConfig *cfg);

/* Start level of a valid @cfg: -1..3. */
int mmn_walk_start_level(const MmnWalkConfig *cfg);

/* Size in bytes of the start-level table of a valid @cfg. */
uint64_t mmn_walk_start_table_size(const MmnWalkConfig *cfg);

/*
 * The VA a walk translates: with TBI, @va with bits [63:56] cleared;
 * without, @va itself.
 */
uint64_t mmn_walk_input_va(const MmnWalkConfig *cfg, uint64_t va);

/*
 * Output (or next-level table) address in descriptor @desc, in the format
 * of @cfg (granule, DS), aligned to the granule: see the MMN_PTE_* notes.
 */
uint64_t mmn_walk_desc_oa(const MmnWalkConfig *cfg, uint64_t desc);

/*
 * The MMN_PERM_* of leaf descriptor @desc under the table attributes
 * @tattrs accumulated by the walk above it (APTable, UXNTable, PXNTable
 * bits in their descriptor positions; 0 for none), with hardware dirty
 * state @hd: what mmn_walk() caches for the leaf.
 */
uint8_t mmn_walk_leaf_perm(uint64_t desc, uint64_t tattrs, bool hd);

/*
 * Is @size the size of a leaf at @level for some granule (4K: 4 KiB,
 * 2 MiB, 1 GiB, 512 GiB at levels 3..0; 16K: 16 KiB, 32 MiB, 64 GiB at
 * 3..1; 64K: 64 KiB, 512 MiB, 4 TiB at 3..1)?
 */
bool mmn_walk_leaf_size_valid(unsigned level, uint64_t size);

#endif /* HW_MMN_SMMU_WALKER_H */
