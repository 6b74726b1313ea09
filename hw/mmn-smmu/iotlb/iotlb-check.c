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

MmnStaleKind mmn_translation_stale_kind(const MmnTranslation *old,
                                        const MmnWalkConfig *cfg,
                                        bool unpriv, const MmnPtOps *ops,
                                        void *opaque)
{
    MmnWalkConfig c = *cfg;
    MmnAccess acc = { .va = old->va, .unpriv = unpriv };
    MmnTranslation now;
    MmnFault f;
    MmnFaultKind k;

    c.ha = true;
    c.hd = false;
    k = mmn_walk(&c, ops, opaque, &acc, &now, &f);
    if (k != MMN_FAULT_NONE && k != MMN_FAULT_PERMISSION) {
        return MMN_STALE_PRESENT;
    }
    if (now.pa + (old->va - now.va) != old->pa) {
        return MMN_STALE_OA;
    }
    if ((old->perm & MMN_PERM_W) && !(now.perm & MMN_PERM_W)) {
        return MMN_STALE_WRITABLE;
    }
    if (!(old->perm & MMN_PERM_W) && (now.perm & MMN_PERM_W)) {
        return MMN_STALE_READONLY;
    }
    return 0;
}

static bool check_entry(const MmnIotlbEntryInfo *e, void *opaque)
{
    MmnCheckWalk *w = opaque;
    MmnStaleKind k = mmn_translation_stale_kind(e->tr, &w->cfg, w->unpriv,
                                                w->ops, w->opaque);

    w->r->entries++;
    if (k) {
        check_stale(w, e->ctx_id, e->tr->va, k);
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

    mmn_iotlb_ctx_foreach(c, check_entry, &w);
}
