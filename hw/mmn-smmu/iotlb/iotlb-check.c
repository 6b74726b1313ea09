/*
 * mmn-smmu: the coherence checker (see iotlb-check.h).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/mmn-smmu/iotlb-check.h"

typedef struct MmnCheckWalk {
    MmnWalkConfig cfg;
    bool unpriv;
    const MmnPtOps *ops;
    void *opaque;
    MmnIotlbCheck *r;
    MmnStaleFn stale;
    void *stale_opaque;
} MmnCheckWalk;

static void check_stale(MmnCheckWalk *w, uint32_t ctx, uint64_t va,
                        MmnStaleKind kind)
{
    switch (kind) {
    case MMN_STALE_READONLY:
        w->r->stale_readonly++;
        break;
    case MMN_STALE_WRITABLE:
        w->r->stale_writable++;
        break;
    case MMN_STALE_PRESENT:
        w->r->stale_present++;
        break;
    case MMN_STALE_OA:
        w->r->stale_oa++;
        break;
    }
    w->r->stale++;
    if (w->stale) {
        w->stale(w->stale_opaque, ctx, va, kind);
    }
}

static bool check_entry(const MmnIotlbEntryInfo *e, void *opaque)
{
    MmnCheckWalk *w = opaque;
    const MmnTranslation *old = e->tr;
    MmnAccess acc = { .va = old->va, .unpriv = w->unpriv };
    MmnTranslation now;
    MmnFault f;
    MmnFaultKind k;

    w->r->entries++;
    k = mmn_walk(&w->cfg, w->ops, w->opaque, &acc, &now, &f);
    if (k != MMN_FAULT_NONE && k != MMN_FAULT_PERMISSION) {
        check_stale(w, e->ctx_id, old->va, MMN_STALE_PRESENT);
    } else if (now.pa + (old->va - now.va) != old->pa) {
        check_stale(w, e->ctx_id, old->va, MMN_STALE_OA);
    } else if ((old->perm & MMN_PERM_W) && !(now.perm & MMN_PERM_W)) {
        check_stale(w, e->ctx_id, old->va, MMN_STALE_WRITABLE);
    } else if (!(old->perm & MMN_PERM_W) && (now.perm & MMN_PERM_W)) {
        check_stale(w, e->ctx_id, old->va, MMN_STALE_READONLY);
    }
    return true;
}

void mmn_iotlb_check_ctx(MmnIotlbCtx *c, const MmnWalkConfig *cfg,
                         bool unpriv, const MmnPtOps *ops, void *opaque,
                         MmnIotlbCheck *r, MmnStaleFn stale,
                         void *stale_opaque)
{
    MmnCheckWalk w = {
        .cfg = *cfg,
        .unpriv = unpriv,
        .ops = ops,
        .opaque = opaque,
        .r = r,
        .stale = stale,
        .stale_opaque = stale_opaque,
    };

    w.cfg.ha = true;
    w.cfg.hd = false;
    mmn_iotlb_ctx_foreach(c, check_entry, &w);
}
