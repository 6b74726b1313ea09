/*
 * mmn-smmu translation: an AArch64 stage-1 page-table walker (4 KiB granule).
 *
 * Order of checks (Arm ARM, VMSAv8-64 stage 1; fault priority is
 * translation > address size > access flag > permission):
 *
 *  1. Configuration: va_bits outside 25..48 -> translation fault, level 0.
 *     oa_bits is bounded to 32..48 (as Arm bounds TCR.IPS by PARange).
 *  2. Input range: any VA bit at or above va_bits -> translation fault at
 *     the start level (level 0 for 40..48 bits, 1 for 31..39, 2 for 25..30).
 *     The Arm ARM reports this one at level 0; the project asks for the
 *     start level.
 *  3. TTB above the OA size -> address size fault at the start level.
 *  4. At each level: a descriptor that cannot be read -> walk abort at that
 *     level; invalid (bit 0 == 0) -> translation fault; a table at levels
 *     0..2 whose next-level address is above the OA size -> address size
 *     fault at that level, otherwise fold its APTable/UXNTable/PXNTable and
 *     descend; a block at level 0 or bit 1 == 0 at level 3 (reserved) ->
 *     translation fault; a block (levels 1, 2) or page (level 3) whose
 *     output address is above the OA size -> address size fault.
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
 * The walk reads at most 4 descriptors plus the re-evaluations above, so
 * hostile tables (loops, tables at MMIO, reserved encodings) always end.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/mmn-smmu/walker.h"

#define MMN_GRANULE_SHIFT   12
#define MMN_LEVEL_BITS      9
#define MMN_LEVEL_MASK      ((1ULL << MMN_LEVEL_BITS) - 1)

#define MMN_PTE_TABLE_ATTRS (MMN_PTE_PXN_TABLE | MMN_PTE_UXN_TABLE | \
                             MMN_PTE_AP_TABLE_NOUSER | MMN_PTE_AP_TABLE_RDONLY)

/* log2 of the size mapped by one entry of a level-@level table */
static inline unsigned level_shift(unsigned level)
{
    return MMN_GRANULE_SHIFT + MMN_LEVEL_BITS * (3 - level);
}

static unsigned start_level(unsigned va_bits)
{
    if (va_bits > MMN_GRANULE_SHIFT + 3 * MMN_LEVEL_BITS) {
        return 0;
    }
    if (va_bits > MMN_GRANULE_SHIFT + 2 * MMN_LEVEL_BITS) {
        return 1;
    }
    return 2;
}

/* Effective permissions of leaf @desc under the folded table bits. */
static uint8_t leaf_perm(uint64_t desc, uint64_t tattrs, bool hd)
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
                               unsigned level, uint64_t va, uint64_t desc_pa)
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
    unsigned va_bits = cfg->va_bits;
    unsigned oa_bits = MIN(MAX(cfg->oa_bits, MMN_OA_BITS_MIN),
                           MMN_OA_BITS_MAX);
    bool ha = cfg->ha;
    bool hd = cfg->ha && cfg->hd;   /* HD without HA is treated as 0 */
    uint64_t va = acc->va;
    uint64_t tattrs = 0;
    uint64_t table, desc = 0, desc_pa;
    unsigned level, cas_left = MMN_WALK_MAX_CAS;
    bool have_desc = false;

    if (va_bits < MMN_VA_BITS_MIN || va_bits > MMN_VA_BITS_MAX) {
        return walk_fault(fault, MMN_FAULT_TRANSLATION, 0, va, 0);
    }
    level = start_level(va_bits);
    if (va >> va_bits) {
        return walk_fault(fault, MMN_FAULT_TRANSLATION, level, va, 0);
    }
    if (cfg->ttb >> oa_bits) {
        return walk_fault(fault, MMN_FAULT_ADDR_SIZE, level, va, 0);
    }
    /* The start-level table holds 2^(va_bits - shift) entries. */
    table = cfg->ttb & ~((8ULL << (va_bits - level_shift(level))) - 1);

    for (;;) {
        unsigned shift = level_shift(level);
        uint64_t size, oa, newd, cur;
        uint8_t perm;
        bool allowed;

        desc_pa = table + ((va >> shift) & MMN_LEVEL_MASK) * 8;
        if (!have_desc && !ops->read(opaque, desc_pa, &desc)) {
            return walk_fault(fault, MMN_FAULT_WALK_ABORT, level, va, desc_pa);
        }
        have_desc = false;

        if (!(desc & MMN_PTE_VALID)) {
            return walk_fault(fault, MMN_FAULT_TRANSLATION, level, va,
                              desc_pa);
        }
        if (level < 3 && (desc & MMN_PTE_TABLE)) {
            table = desc & MMN_PTE_ADDR_MASK;
            if (table >> oa_bits) {
                return walk_fault(fault, MMN_FAULT_ADDR_SIZE, level, va,
                                  desc_pa);
            }
            tattrs |= desc & MMN_PTE_TABLE_ATTRS;
            level++;
            continue;
        }
        if (level == 0 || (level == 3 && !(desc & MMN_PTE_TABLE))) {
            /* block at level 0, or reserved encoding at level 3 */
            return walk_fault(fault, MMN_FAULT_TRANSLATION, level, va,
                              desc_pa);
        }

        /* Leaf: block at level 1 or 2, page at level 3. */
        size = 1ULL << shift;
        oa = desc & MMN_PTE_ADDR_MASK & ~(size - 1);
        if (oa >> oa_bits) {
            return walk_fault(fault, MMN_FAULT_ADDR_SIZE, level, va, desc_pa);
        }
        if (!(desc & MMN_PTE_AF) && !ha) {
            return walk_fault(fault, MMN_FAULT_ACCESS_FLAG, level, va,
                              desc_pa);
        }
        perm = leaf_perm(desc, tattrs, hd);
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
            perm = leaf_perm(desc, tattrs, hd);
        }

        tr->va = va & ~(size - 1);
        tr->pa = oa;
        tr->size = size;
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
    }
    return "unknown";
}
