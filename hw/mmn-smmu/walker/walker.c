/*
 * mmn-smmu translation: an AArch64 stage-1 page-table walker for the 4K,
 * 16K and 64K granules, FEAT_LPA2 (DS), FEAT_LPA/FEAT_LVA (64K, 52 bits)
 * and TBI.  Formats: include/hw/mmn-smmu/walker.h.
 *
 * Order of checks (Arm DDI 0487, VMSAv8-64 stage 1 "Translation table
 * walk"; fault priority is translation > address size > access flag >
 * permission):
 *
 *  1. Configuration: a reserved granule (TG0 = 0b11), or va_bits outside
 *     25..48 (25..52 with DS = 1 for 4K/16K, or with 64K) -> translation
 *     fault, level 0.  DS is ignored with 64K.  oa_bits is bounded to
 *     32..48, 32..52 with DS = 1 or 64K (as Arm bounds TCR.IPS by
 *     PARange and treats IPS = 52 as 48 with 4K/16K and DS = 0).
 *  2. Input range: with TBI the VA's bits [63:56] are cleared first (that
 *     untagged VA is the one translated and reported, in *tr and in
 *     *fault).  Then any VA bit at or above va_bits -> translation fault
 *     at the start level.  The start level is 4 - ceil((va_bits - g) /
 *     (g - 3)) for a 2^g granule: 4K -1 (49..52 bits, DS only), 0
 *     (40..48), 1 (31..39), 2 (25..30); 16K 0 (48..52), 1 (37..47), 2
 *     (26..36), 3 (25); 64K 1 (43..52), 2 (30..42), 3 (25..29).  The Arm
 *     ARM reports the range fault at level 0; the project asks for the
 *     start level.
 *  3. TTB above the OA size -> address size fault at the start level.  The
 *     TTB's bits below the start table's size (at least 64 bytes with a
 *     52-bit OA) are ignored.
 *  4. At each level: a descriptor that cannot be read -> walk abort at that
 *     level; invalid (bit 0 == 0) -> translation fault; a table at levels
 *     -1..2 whose next-level address is above the OA size -> address size
 *     fault at that level, otherwise fold its APTable/UXNTable/PXNTable and
 *     descend; reserved encodings -> translation fault: bit 1 == 0 at
 *     level 3, and a block where the granule forbids it (blocks exist at
 *     4K levels 1, 2 and with DS also 0; 16K level 2 and with DS also 1;
 *     64K levels 2 and 1, the 4 TiB level-1 block coming with the 52-bit
 *     PA space, Arm's AArch64.BlockDescSupported()); a block or page whose
 *     output address is above the OA size -> address size fault.
 *     Addresses are decoded per format (walker.h): with DS = 1, OA[51:50]
 *     from bits [9:8]; with 64K, OA[51:48] from bits [15:12] whatever
 *     oa_bits is (a non-zero value there above the OA size is an address
 *     size fault, Arm's AArch64.LeafBase()/NextTableBase() with
 *     AArch64.PAMax() == 52).
 *  5. Leaf with AF == 0 and no HA -> access flag fault (it wins over any
 *     permission fault).
 *  6. Permissions, with APTable folded in: EL0 needs AP[1] (and no
 *     APTable[0]) for any access; a write needs AP[2] == 0 (and no
 *     APTable[1]), or, with HD, DBM == 1; an instruction fetch needs !UXN
 *     at EL0 and !PXN at EL1, where an EL0-writable leaf is also PXN.
 *     A failure -> permission fault, with *tr filled.
 *  7. HTTU: with HA, AF is set (also when step 6 failed: Arm leaves that
 *     choice CONSTRAINED UNPREDICTABLE; setting it means every filled *tr has
 *     af == true); with HD, a permitted write to a DBM leaf with AP[2] == 1
 *     clears AP[2].  Both in one ops->cmpxchg.  If the descriptor changed
 *     meanwhile, the current value is re-evaluated from step 4 at the same
 *     level (it may now be invalid, a table, read-only...), for at most
 *     MMN_WALK_MAX_CAS compare-and-swaps per walk; then walk abort.  A
 *     cmpxchg that returns false -> walk abort at the leaf's level.
 *
 * The contiguous bit never changes a translation: tr->run_size reports
 * the aligned run the leaf belongs to (walker.h), for the IOTLB.
 *
 * The walk reads at most 5 descriptors plus the re-evaluations above, so
 * hostile tables (loops, tables at MMIO, reserved encodings) always end.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/mmn-smmu/walker.h"

#define MMN_PTE_TABLE_ATTRS (MMN_PTE_PXN_TABLE | MMN_PTE_UXN_TABLE | \
                             MMN_PTE_AP_TABLE_NOUSER | MMN_PTE_AP_TABLE_RDONLY)

/* A configuration, decoded once per walk. */
typedef struct MmnWalkFmt {
    unsigned gshift;        /* log2 granule: 12, 14, 16 */
    unsigned stride;        /* index bits per level: gshift - 3 */
    int start;              /* start level */
    unsigned va_bits;
    unsigned oa_bits;       /* effective */
    bool ds;                /* effective (never with 64K) */
    bool is64k;
} MmnWalkFmt;

unsigned mmn_walk_granule_shift(unsigned granule)
{
    switch (granule) {
    case MMN_GRANULE_4K:
        return 12;
    case MMN_GRANULE_16K:
        return 14;
    case MMN_GRANULE_64K:
        return 16;
    }
    return 0;
}

static bool mmn_walk_ds(const MmnWalkConfig *cfg)
{
    return cfg->ds && cfg->granule != MMN_GRANULE_64K;
}

unsigned mmn_walk_max_va_bits(const MmnWalkConfig *cfg)
{
    return (mmn_walk_ds(cfg) || cfg->granule == MMN_GRANULE_64K) ?
           MMN_VA_BITS_MAX : MMN_VA_BITS_MAX_48;
}

unsigned mmn_walk_max_oa_bits(const MmnWalkConfig *cfg)
{
    return (mmn_walk_ds(cfg) || cfg->granule == MMN_GRANULE_64K) ?
           MMN_OA_BITS_MAX : MMN_OA_BITS_MAX_48;
}

bool mmn_walk_config_valid(const MmnWalkConfig *cfg)
{
    return mmn_walk_granule_shift(cfg->granule) &&
           cfg->va_bits >= MMN_VA_BITS_MIN &&
           cfg->va_bits <= mmn_walk_max_va_bits(cfg);
}

static int fmt_start_level(unsigned va_bits, unsigned gshift)
{
    unsigned stride = gshift - 3;

    return 4 - (int)DIV_ROUND_UP(va_bits - gshift, stride);
}

int mmn_walk_start_level(const MmnWalkConfig *cfg)
{
    return fmt_start_level(cfg->va_bits,
                           mmn_walk_granule_shift(cfg->granule));
}

/* log2 of the size mapped by one entry of a level-@level table */
static inline unsigned level_shift(const MmnWalkFmt *f, int level)
{
    return f->gshift + f->stride * (3 - level);
}

uint64_t mmn_walk_start_table_size(const MmnWalkConfig *cfg)
{
    unsigned gshift = mmn_walk_granule_shift(cfg->granule);
    int start = fmt_start_level(cfg->va_bits, gshift);

    return 8ULL << (cfg->va_bits - (gshift + (gshift - 3) * (3 - start)));
}

uint64_t mmn_walk_input_va(const MmnWalkConfig *cfg, uint64_t va)
{
    return cfg->tbi ? va & ~(0xffULL << 56) : va;
}

static uint64_t fmt_desc_oa(const MmnWalkFmt *f, uint64_t desc)
{
    unsigned top = f->ds ? 50 : 48;
    uint64_t oa = desc & (((1ULL << top) - 1) & ~((1ULL << f->gshift) - 1));

    if (f->ds) {
        oa |= ((desc & MMN_PTE_OA_51_50_DS) >> 8) << 50;
    } else if (f->is64k) {
        oa |= ((desc & MMN_PTE_OA_51_48_64K) >> 12) << 48;
    }
    return oa;
}

static void fmt_init(MmnWalkFmt *f, const MmnWalkConfig *cfg)
{
    f->gshift = mmn_walk_granule_shift(cfg->granule);
    f->stride = f->gshift - 3;
    f->ds = mmn_walk_ds(cfg);
    f->is64k = cfg->granule == MMN_GRANULE_64K;
    f->va_bits = cfg->va_bits;
    f->oa_bits = MIN(MAX(cfg->oa_bits, MMN_OA_BITS_MIN),
                     mmn_walk_max_oa_bits(cfg));
    f->start = fmt_start_level(cfg->va_bits, f->gshift);
}

uint64_t mmn_walk_desc_oa(const MmnWalkConfig *cfg, uint64_t desc)
{
    MmnWalkFmt f;

    if (!mmn_walk_granule_shift(cfg->granule)) {
        return desc & MMN_PTE_ADDR_MASK;
    }
    f.gshift = mmn_walk_granule_shift(cfg->granule);
    f.ds = mmn_walk_ds(cfg);
    f.is64k = cfg->granule == MMN_GRANULE_64K;
    return fmt_desc_oa(&f, desc);
}

bool mmn_walk_leaf_size_valid(unsigned level, uint64_t size)
{
    static const uint8_t shifts[4][3] = {
        { 39, 0, 0 },       /* level 0: 4K with DS */
        { 30, 36, 42 },     /* level 1: 4K; 16K with DS; 64K */
        { 21, 25, 29 },     /* level 2 */
        { 12, 14, 16 },     /* level 3: pages */
    };
    int i;

    if (level > 3) {
        return false;
    }
    for (i = 0; i < 3; i++) {
        if (shifts[level][i] && size == 1ULL << shifts[level][i]) {
            return true;
        }
    }
    return false;
}

/* May a block descriptor appear at @level (AArch64.BlockDescSupported)? */
static bool block_allowed(const MmnWalkFmt *f, int level)
{
    switch (f->gshift) {
    case 12:
        return level == 1 || level == 2 || (level == 0 && f->ds);
    case 14:
        return level == 2 || (level == 1 && f->ds);
    default:
        return level == 1 || level == 2;
    }
}

/* log2 of the number of entries of a contiguous run at @level, or 0. */
static unsigned cont_shift(const MmnWalkFmt *f, int level)
{
    switch (f->gshift) {
    case 12:
        return level >= 1 ? 4 : 0;
    case 14:
        return level == 3 ? 7 : level == 2 ? 5 : 0;
    default:
        return level >= 2 ? 5 : 0;
    }
}

/* Effective permissions of leaf @desc under the folded table bits. */
uint8_t mmn_walk_leaf_perm(uint64_t desc, uint64_t tattrs, bool hd)
{
    bool ro_table = tattrs & MMN_PTE_AP_TABLE_RDONLY;
    bool w = !(desc & MMN_PTE_AP_RDONLY) && !ro_table;
    bool dbm = (desc & MMN_PTE_DBM) && !ro_table;
    bool user = (desc & MMN_PTE_AP_USER) &&
                !(tattrs & MMN_PTE_AP_TABLE_NOUSER);
    uint8_t perm = 0;

    if (w) {
        perm |= MMN_PERM_W;
    }
    if (dbm) {
        perm |= MMN_PERM_DBM;
    }
    if (user) {
        perm |= MMN_PERM_USER;
    }
    if ((desc & MMN_PTE_UXN) || (tattrs & MMN_PTE_UXN_TABLE)) {
        perm |= MMN_PERM_UXN;
    }
    /* EL1 may not execute what EL0 may write (EL1&0 regime). */
    if ((desc & MMN_PTE_PXN) || (tattrs & MMN_PTE_PXN_TABLE) ||
        (user && (w || (dbm && hd)))) {
        perm |= MMN_PERM_PXN;
    }
    return perm;
}

/* Does @perm allow @acc?  @write_ok: may it be written (W, or DBM + HD). */
static bool perm_allows(uint8_t perm, const MmnAccess *acc, bool write_ok)
{
    if (acc->unpriv && !(perm & MMN_PERM_USER)) {
        return false;
    }
    if (acc->write && !write_ok) {
        return false;
    }
    if (acc->exec &&
        (perm & (acc->unpriv ? MMN_PERM_UXN : MMN_PERM_PXN))) {
        return false;
    }
    return true;
}

static MmnFaultKind walk_fault(MmnFault *fault, MmnFaultKind kind,
                               int level, uint64_t va, uint64_t desc_pa)
{
    fault->kind = kind;
    fault->level = level;
    fault->va = va;
    fault->desc_pa = desc_pa;
    return kind;
}

MmnFaultKind mmn_walk(const MmnWalkConfig *cfg, const MmnPtOps *ops,
                      void *opaque, const MmnAccess *acc,
                      MmnTranslation *tr, MmnFault *fault)
{
    MmnWalkFmt f;
    bool ha = cfg->ha;
    bool hd = cfg->ha && cfg->hd;   /* HD without HA is treated as 0 */
    uint64_t va = mmn_walk_input_va(cfg, acc->va);
    uint64_t tattrs = 0;
    uint64_t table, desc = 0, desc_pa, align;
    unsigned cas_left = MMN_WALK_MAX_CAS;
    bool have_desc = false;
    int level;

    if (!mmn_walk_config_valid(cfg)) {
        return walk_fault(fault, MMN_FAULT_TRANSLATION, 0, va, 0);
    }
    fmt_init(&f, cfg);
    level = f.start;
    if (va >> f.va_bits) {
        return walk_fault(fault, MMN_FAULT_TRANSLATION, level, va, 0);
    }
    if (cfg->ttb >> f.oa_bits) {
        return walk_fault(fault, MMN_FAULT_ADDR_SIZE, level, va, 0);
    }
    /* The start-level table holds 2^(va_bits - shift) entries. */
    align = 8ULL << (f.va_bits - level_shift(&f, level));
    if (f.oa_bits > 48) {
        align = MAX(align, 64);
    }
    table = cfg->ttb & ~(align - 1);

    for (;;) {
        unsigned shift = level_shift(&f, level);
        uint64_t size, oa, newd, cur;
        uint8_t perm;
        bool allowed;

        desc_pa = table + ((va >> shift) & ((1ULL << f.stride) - 1)) * 8;
        if (!have_desc && !ops->read(opaque, desc_pa, &desc)) {
            return walk_fault(fault, MMN_FAULT_WALK_ABORT, level, va, desc_pa);
        }
        have_desc = false;

        if (!(desc & MMN_PTE_VALID)) {
            return walk_fault(fault, MMN_FAULT_TRANSLATION, level, va,
                              desc_pa);
        }
        if (level < 3 && (desc & MMN_PTE_TABLE)) {
            table = fmt_desc_oa(&f, desc);
            if (table >> f.oa_bits) {
                return walk_fault(fault, MMN_FAULT_ADDR_SIZE, level, va,
                                  desc_pa);
            }
            tattrs |= desc & MMN_PTE_TABLE_ATTRS;
            level++;
            continue;
        }
        if (level < 3 ? !block_allowed(&f, level) :
            !(desc & MMN_PTE_TABLE)) {
            /* block where the granule has none, or reserved at level 3 */
            return walk_fault(fault, MMN_FAULT_TRANSLATION, level, va,
                              desc_pa);
        }

        /* Leaf: a block, or a page at level 3. */
        size = 1ULL << shift;
        oa = fmt_desc_oa(&f, desc) & ~(size - 1);
        if (oa >> f.oa_bits) {
            return walk_fault(fault, MMN_FAULT_ADDR_SIZE, level, va, desc_pa);
        }
        if (!(desc & MMN_PTE_AF) && !ha) {
            return walk_fault(fault, MMN_FAULT_ACCESS_FLAG, level, va,
                              desc_pa);
        }
        perm = mmn_walk_leaf_perm(desc, tattrs, hd);
        allowed = perm_allows(perm, acc, (perm & MMN_PERM_W) ||
                              (hd && (perm & MMN_PERM_DBM)));

        newd = desc | MMN_PTE_AF;
        if (allowed && acc->write && !(perm & MMN_PERM_W)) {
            /* permitted only through DBM + HD: mark it dirty */
            newd &= ~MMN_PTE_AP_RDONLY;
        }
        if (newd != desc) {
            if (!cas_left || !ops->cmpxchg) {
                return walk_fault(fault, MMN_FAULT_WALK_ABORT, level, va,
                                  desc_pa);
            }
            cas_left--;
            if (!ops->cmpxchg(opaque, desc_pa, desc, newd, &cur)) {
                return walk_fault(fault, MMN_FAULT_WALK_ABORT, level, va,
                                  desc_pa);
            }
            if (cur != desc) {
                /* Lost a race: evaluate what is there now, same level. */
                desc = cur;
                have_desc = true;
                continue;
            }
            desc = newd;
            perm = mmn_walk_leaf_perm(desc, tattrs, hd);
        }

        tr->va = va & ~(size - 1);
        tr->pa = oa;
        tr->size = size;
        tr->run_size = (desc & MMN_PTE_CONT) ?
                       size << cont_shift(&f, level) : size;
        tr->level = level;
        tr->perm = perm;
        tr->af = desc & MMN_PTE_AF;
        tr->dirty = !(desc & MMN_PTE_AP_RDONLY);
        tr->desc = desc;
        tr->desc_pa = desc_pa;
        if (!allowed) {
            return walk_fault(fault, MMN_FAULT_PERMISSION, level, va, desc_pa);
        }
        return MMN_FAULT_NONE;
    }
}

MmnFaultKind mmn_translation_check(const MmnTranslation *tr,
                                   const MmnAccess *acc)
{
    return perm_allows(tr->perm, acc, tr->perm & MMN_PERM_W) ?
           MMN_FAULT_NONE : MMN_FAULT_PERMISSION;
}

const char *mmn_fault_kind_name(MmnFaultKind kind)
{
    switch (kind) {
    case MMN_FAULT_NONE:
        return "none";
    case MMN_FAULT_TRANSLATION:
        return "translation";
    case MMN_FAULT_ADDR_SIZE:
        return "address-size";
    case MMN_FAULT_ACCESS_FLAG:
        return "access-flag";
    case MMN_FAULT_PERMISSION:
        return "permission";
    case MMN_FAULT_WALK_ABORT:
        return "walk-abort";
    case MMN_FAULT_EXTERNAL:
        return "external";
    }
    return "unknown";
}
