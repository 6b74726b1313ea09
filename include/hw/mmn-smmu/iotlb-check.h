/*
 * mmn-smmu: the coherence checker, common to the device front ends.
 *
 * Compares every cached entry of one IOTLB context with a fresh,
 * side-effect free walk of the current page tables.  Once the kernel's
 * invalidations for a change are done, no entry may disagree; the kind of
 * disagreement tells which invalidation was missed.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MMN_SMMU_IOTLB_CHECK_H
#define HW_MMN_SMMU_IOTLB_CHECK_H

#include "hw/mmn-smmu/iotlb.h"

typedef enum MmnStaleKind {
    MMN_STALE_READONLY = 1,  /* cached read-only, the tables now grant write */
    MMN_STALE_WRITABLE = 2,  /* cached writable, the tables now deny write */
    MMN_STALE_PRESENT = 3,   /* cached, the tables no longer map it */
    MMN_STALE_OA = 4,        /* cached with another output address */
} MmnStaleKind;

typedef struct MmnIotlbCheck {
    uint32_t entries;
    uint32_t stale;
    uint32_t stale_readonly;
    uint32_t stale_writable;
    uint32_t stale_present;
    uint32_t stale_oa;
} MmnIotlbCheck;

/*
 * Compare one cached translation @old with a fresh walk of @cfg's tables
 * through @ops (which must not write): 0 if they agree, else the kind of
 * disagreement.  The walk has hardware AF on (an entry whose AF the kernel
 * cleared still compares as present) and HD off (write permission is
 * AP[2]).
 */
MmnStaleKind mmn_translation_stale_kind(const MmnTranslation *old,
                                        const MmnWalkConfig *cfg,
                                        bool unpriv, const MmnPtOps *ops,
                                        void *opaque);

static inline bool mmn_translation_stale(const MmnTranslation *old,
                                         const MmnWalkConfig *cfg,
                                         bool unpriv, const MmnPtOps *ops,
                                         void *opaque)
{
    return mmn_translation_stale_kind(old, cfg, unpriv, ops, opaque) != 0;
}

/* Called for each stale entry (may be NULL). */
typedef void (*MmnStaleFn)(void *opaque, uint32_t ctx_id, uint64_t va,
                           MmnStaleKind kind);

/*
 * Check the entries of @c against the tables of @cfg read through @ops
 * (which must not write: e.g. mmn_ram_pt_ops_peek), for accesses of
 * privilege @unpriv, with mmn_translation_stale_kind().  Results are added
 * to *@r.
 */
void mmn_iotlb_check_ctx(MmnIotlbCtx *c, const MmnWalkConfig *cfg,
                         bool unpriv, const MmnPtOps *ops, void *opaque,
                         MmnIotlbCheck *r, MmnStaleFn stale,
                         void *stale_opaque);

#endif /* HW_MMN_SMMU_IOTLB_CHECK_H */
