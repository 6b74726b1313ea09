/*
 * mmn-smmu: the livelock detector (see livelock.h).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/mmn-smmu/livelock.h"
#include "hw/mmn-smmu/iotlb-check.h"

#define MMN_LIVELOCK_PAGE 4096ULL

static uint64_t desc_value(const MmnPtOps *ops, void *opaque,
                           uint64_t desc_pa)
{
    uint64_t v;

    if (!desc_pa || !ops || !ops->read(opaque, desc_pa, &v)) {
        return ~0ULL;           /* no descriptor, or not readable */
    }
    return v;
}

uint32_t mmn_livelock_fault(MmnLivelock *l, uint32_t ctx, uint64_t serial,
                            const MmnFault *f, bool write, bool from_cache,
                            const MmnPtOps *ops, void *opaque)
{
    uint64_t page = f->va & ~(MMN_LIVELOCK_PAGE - 1);
    uint64_t val = desc_value(ops, opaque, f->desc_pa);
    bool repeat;

    if (!l->count || l->ctx != ctx) {
        repeat = false;
    } else if (from_cache) {
        repeat = serial && serial == l->serial;
    } else {
        repeat = page == l->page && f->kind == l->kind &&
                 f->level == l->level && f->desc_pa == l->desc_pa &&
                 val == l->desc_val;
    }
    *l = (MmnLivelock) {
        .count = repeat ? l->count + 1 : 1,
        .ctx = ctx,
        /* the entry a permission-faulting walk just cached counts too */
        .serial = serial,
        .page = page,
        .kind = f->kind,
        .level = f->level,
        .write = write,
        .desc_pa = f->desc_pa,
        .desc_val = val,
    };
    return l->count;
}

void mmn_livelock_progress(MmnLivelock *l, uint32_t ctx, uint64_t va,
                           bool write)
{
    if (l->count && l->ctx == ctx && (write || !l->write) &&
        l->page == (va & ~(MMN_LIVELOCK_PAGE - 1))) {
        memset(l, 0, sizeof(*l));
    }
}

bool mmn_livelock_stale(MmnIotlbCtx *ictx, const MmnWalkConfig *cfg,
                        bool unpriv, uint64_t va, const MmnPtOps *peek_ops,
                        void *opaque)
{
    const MmnTranslation *old = ictx ? mmn_iotlb_lookup(ictx, va, NULL) :
                                NULL;

    return old && mmn_translation_stale(old, cfg, unpriv, peek_ops, opaque);
}
