/*
 * mmn-smmu: the livelock detector, common to the device front ends.
 *
 * A device that retries an access the kernel "fixed" without the fix
 * reaching the device faults forever.  The detector keeps one suspect per
 * transaction stream: the last fault.  A new fault repeats it when it is
 * on the same context and
 * - it was served from the cache by the same IOTLB entry (same serial: no
 *   invalidation removed the entry in between), or
 * - it was walked and stopped at the same place for the same reason: same
 *   4 KiB page, fault kind, level, descriptor address and descriptor
 *   value.  Nothing the kernel could have fixed has changed.
 * A repeat adds 1 to the count, any other fault starts again at 1, and a
 * successful access to the suspect page clears it (a write, or a read when
 * the suspect is a read fault: a read through a read-only entry says
 * nothing about the write it denies).
 *
 * Two classes of livelock, told apart when the count reaches the
 * threshold (mmn_livelock_stale): the IOTLB entry is stale (a missed
 * invalidation: a cache bug), or it agrees with the page tables (the
 * kernel's fault handling returned without granting the access: a
 * page-table bug), which includes loops that are never cached.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MMN_SMMU_LIVELOCK_H
#define HW_MMN_SMMU_LIVELOCK_H

#include "hw/mmn-smmu/iotlb.h"

typedef struct MmnLivelock {
    uint32_t count;         /* 0: no suspect */
    uint32_t ctx;           /* the caller's context label */
    uint64_t serial;        /* IOTLB entry translating page (0: none) */
    uint64_t page;          /* 4 KiB page of the faulting VA */
    uint8_t kind;           /* fault kind and level of the last fault */
    uint8_t level;
    bool write;             /* the faulting access was a write */
    uint64_t desc_pa;       /* descriptor the walk stopped at */
    uint64_t desc_val;      /* its value in guest memory at the fault */
} MmnLivelock;

/*
 * A fault @f of an access (@write) on context @ctx (@serial: the IOTLB
 * entry covering the VA, as mmn_iotlb_translate() reported it, 0 for
 * none; tables read through @ops/@opaque to compare descriptor values):
 * returns the repeat count, 1 for a new suspect.
 */
uint32_t mmn_livelock_fault(MmnLivelock *l, uint32_t ctx, uint64_t serial,
                            const MmnFault *f, bool write, bool from_cache,
                            const MmnPtOps *ops, void *opaque);

/* The access to @va (@write) translated: the suspect may be cleared. */
void mmn_livelock_progress(MmnLivelock *l, uint32_t ctx, uint64_t va,
                           bool write);

/*
 * Is the IOTLB entry of @ictx translating @va stale with respect to the
 * tables of @cfg (read through the side-effect free @peek_ops)?  The
 * comparison of the coherence checker: a valid leaf with the same output
 * address and the same write permission.  No entry: false.
 */
bool mmn_livelock_stale(MmnIotlbCtx *ictx, const MmnWalkConfig *cfg,
                        bool unpriv, uint64_t va, const MmnPtOps *peek_ops,
                        void *opaque);

#endif /* HW_MMN_SMMU_LIVELOCK_H */
