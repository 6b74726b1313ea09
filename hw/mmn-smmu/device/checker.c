/*
 * mmn-smmu: coherence checker.  Compares every cached entry with a fresh,
 * side-effect free walk of the current page tables.  Once the kernel's
 * notifications for a change are done, no entry may disagree; the kinds
 * of disagreement tell which notification was missed.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "hw/mmn-smmu/iotlb.h"
#include "hw/mmn-smmu/iotlb-check.h"
#include "mmn-smmu-internal.h"
#include "hw/mmn-smmu/trace.h"

typedef struct MmnCheckState {
    MmnSmmuState *s;
    MmnCheckReport *r;
} MmnCheckState;

static void mmn_check_stale(MmnCheckState *cs, uint32_t ctx, uint64_t va,
                            uint8_t kind)
{
    MmnCheckReport *r = cs->r;

    switch (kind) {
    case MMN_CHECK_STALE_READONLY:
        r->stale_readonly++;
        break;
    case MMN_CHECK_STALE_WRITABLE:
        r->stale_writable++;
        break;
    case MMN_CHECK_STALE_PRESENT:
        r->stale_present++;
        break;
    case MMN_CHECK_STALE_OA:
        r->stale_oa++;
        break;
    }
    r->stale++;
    if (r->nr_samples < MMN_CHECK_MAX_SAMPLES) {
        MmnCheckSample *smp = &r->samples[r->nr_samples++];

        smp->va = va;
        smp->ctx = ctx;
        smp->kind = kind;
    }
    trace_mmn_smmu_check_stale(ctx, va, kind);
}

/* The guest ABI's stale kinds are the common checker's. */
QEMU_BUILD_BUG_ON(MMN_CHECK_STALE_READONLY != MMN_STALE_READONLY);
QEMU_BUILD_BUG_ON(MMN_CHECK_STALE_WRITABLE != MMN_STALE_WRITABLE);
QEMU_BUILD_BUG_ON(MMN_CHECK_STALE_PRESENT != MMN_STALE_PRESENT);
QEMU_BUILD_BUG_ON(MMN_CHECK_STALE_OA != MMN_STALE_OA);

static bool mmn_check_entry(const MmnIotlbEntryInfo *e, void *opaque)
{
    MmnCheckState *cs = opaque;
    MmnSmmuState *s = cs->s;
    MmnSmmuCtx *ctx = mmn_smmu_ctx_get(s, e->ctx_id);
    MmnStaleKind k;

    if (!ctx) {
        return true;
    }
    cs->r->entries++;
    /* The comparison common to both front ends (iotlb-check.h). */
    k = mmn_translation_stale_kind(e->tr, &ctx->walk,
                                   FIELD_EX64(ctx->cfg, CTX_CFG, UNPRIV),
                                   &mmn_smmu_pt_ops_peek, s);
    if (k) {
        mmn_check_stale(cs, e->ctx_id, e->tr->va, k);
    }
    return true;
}

void mmn_smmu_check(MmnSmmuState *s, int ctx, MmnCheckReport *r)
{
    MmnCheckState cs = { .s = s, .r = r };
    int i;

    memset(r, 0, sizeof(*r));
    if (ctx < 0) {
        mmn_iotlb_foreach(s->iotlb, mmn_check_entry, &cs);
    } else {
        mmn_iotlb_ctx_foreach(s->ctx[ctx].ictx, mmn_check_entry, &cs);
    }
    trace_mmn_smmu_check(ctx, r->entries, r->stale, r->stale_readonly,
                         r->stale_writable, r->stale_present, r->stale_oa);
    /* To guest byte order. */
    r->entries = cpu_to_le32(r->entries);
    r->stale = cpu_to_le32(r->stale);
    r->stale_readonly = cpu_to_le32(r->stale_readonly);
    r->stale_writable = cpu_to_le32(r->stale_writable);
    r->stale_present = cpu_to_le32(r->stale_present);
    r->stale_oa = cpu_to_le32(r->stale_oa);
    for (i = 0; i < r->nr_samples; i++) {
        r->samples[i].va = cpu_to_le64(r->samples[i].va);
        r->samples[i].ctx = cpu_to_le16(r->samples[i].ctx);
    }
    r->nr_samples = cpu_to_le32(r->nr_samples);
}
