/*
 * mmn-smmu: contexts.  Binding a context creates its address space in the
 * notifier layer (what Linux calls the mm), selects the kernel generation's
 * semantics for it, and subscribes the IOTLB and the DMA engine to it.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "hw/mmn-smmu/mmu-notifier.h"
#include "hw/mmn-smmu/iotlb.h"
#include "mmn-smmu-internal.h"
#include "hw/mmn-smmu/trace.h"

MmnSmmuCtx *mmn_smmu_ctx_get(MmnSmmuState *s, unsigned idx)
{
    if (idx >= s->num_ctx || !s->ctx[idx].bound) {
        return NULL;
    }
    return &s->ctx[idx];
}

/*
 * The walk configuration of a CTX_BIND configuration word, or the
 * CMDQ_ERR reason that refuses it (docs/specs/mmn-smmu.rst, "Context
 * configuration").
 */
static int mmn_smmu_ctx_config(uint64_t ttb, uint64_t cfg, MmnWalkConfig *w)
{
    unsigned va_bits = FIELD_EX64(cfg, CTX_CFG, VA_BITS);
    unsigned oa_bits = FIELD_EX64(cfg, CTX_CFG, OA_BITS);
    unsigned httu = FIELD_EX64(cfg, CTX_CFG, HTTU);
    unsigned granule = FIELD_EX64(cfg, CTX_CFG, GRANULE);
    bool ds = FIELD_EX64(cfg, CTX_CFG, DS);
    uint64_t align;

    if (FIELD_EX64(cfg, CTX_CFG, RESERVED)) {
        return MMN_CMDQ_ERR_RESERVED;
    }
    *w = (MmnWalkConfig) {
        .ttb = ttb,
        .va_bits = va_bits,
        .oa_bits = oa_bits,
        .granule = granule,
        .ds = ds,
        .tbi = FIELD_EX64(cfg, CTX_CFG, TBI),
        .ha = httu >= MMN_CTX_HTTU_HA,
        .hd = httu >= MMN_CTX_HTTU_HAHD,
    };
    if (granule != MMN_CTX_GRANULE_4K && granule != MMN_CTX_GRANULE_16K &&
        granule != MMN_CTX_GRANULE_64K) {
        return MMN_CMDQ_ERR_BAD_CONFIG;     /* TG0 0b11 is reserved */
    }
    if (ds && granule == MMN_CTX_GRANULE_64K) {
        return MMN_CMDQ_ERR_BAD_CONFIG;     /* DS is for 4K and 16K */
    }
    if (!mmn_walk_config_valid(w) ||
        (oa_bits != MMN_OA_BITS_MAX &&
         (oa_bits < MMN_OA_BITS_MIN || oa_bits > MMN_OA_BITS_MAX_48)) ||
        oa_bits > mmn_walk_max_oa_bits(w) || httu > MMN_CTX_HTTU_HAHD) {
        return MMN_CMDQ_ERR_BAD_CONFIG;
    }
    /* the start table, naturally aligned; 64 bytes at least for 52 bits */
    align = mmn_walk_start_table_size(w);
    if (oa_bits == MMN_OA_BITS_MAX) {
        align = MAX(align, 64);
    }
    if (!QEMU_IS_ALIGNED(ttb, align) || ttb >> oa_bits) {
        return MMN_CMDQ_ERR_BAD_ADDR;
    }
    return 0;
}

int mmn_smmu_ctx_bind(MmnSmmuState *s, unsigned idx, uint64_t ttb,
                      uint64_t cfg, uint64_t owner)
{
    MmnSmmuCtx *ctx = &s->ctx[idx];
    MmnWalkConfig walk;
    int err = mmn_smmu_ctx_config(ttb, cfg, &walk);

    if (err) {
        qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmu: CTX_BIND %u: configuration"
                      " 0x%" PRIx64 " with TTB 0x%" PRIx64 " refused (%d)\n",
                      idx, cfg, ttb, err);
        return err;
    }
    ctx->ttb = ttb;
    ctx->cfg = cfg;
    ctx->owner = owner;
    ctx->walk = walk;
    ctx->mm = mmn_mm_new();
    mmn_mm_set_legacy_invalidate_range(ctx->mm,
                                       FIELD_EX64(cfg, CTX_CFG, LEGACY_INV));
    ctx->ictx = mmn_iotlb_ctx_new(s->iotlb, idx);
    mmn_iotlb_ctx_set_owner(ctx->ictx, (void *)(uintptr_t)owner);
    ctx->dev = s;
    ctx->dma_mn = NULL;
    if (mmn_iotlb_ctx_attach(ctx->ictx, ctx->mm, &ctx->walk) == 0) {
        ctx->dma_mn = mmn_smmu_dma_subscribe(ctx);
    }
    if (!ctx->dma_mn) {
        mmn_iotlb_ctx_free(ctx->ictx);
        mmn_mm_free(ctx->mm);
        ctx->ictx = NULL;
        ctx->mm = NULL;
        return MMN_CMDQ_ERR_BAD_CONFIG;
    }
    ctx->bound = true;
    trace_mmn_smmu_ctx_bind(idx, ttb, cfg);
    return 0;
}

/* The notifier layer's range for an MN_RANGE_START/END of @ctx. */
MmnNotifierRange mmn_smmu_ctx_range(MmnSmmuCtx *ctx,
                                    const MmnSmmuOpenRange *r)
{
    return (MmnNotifierRange) {
        .mm = ctx->mm,
        .start = r->start,
        .end = r->end,
        .flags = FIELD_EX32(r->arg, CMD_RANGE_ARG, BLOCKABLE) ?
                 MMN_NOTIFIER_RANGE_BLOCKABLE : 0,
        .event = FIELD_EX32(r->arg, CMD_RANGE_ARG, EVENT),
        .owner = (void *)(uintptr_t)r->owner,
    };
}

/* An open range of the notifier layer, as the stream carries it. */
static int mmn_smmu_ctx_save_range(const MmnNotifierRange *range,
                                   void *opaque)
{
    MmnSmmuCtxMig *m = opaque;
    uint32_t arg = FIELD_DP32(0, CMD_RANGE_ARG, EVENT, range->event);

    if (m->nr_open == MMN_SMMU_MAX_OPEN_RANGES) {
        return -ENOSPC;         /* MN_RANGE_START keeps fewer open */
    }
    m->open[m->nr_open++] = (MmnSmmuOpenRange) {
        .start = range->start,
        .end = range->end,
        .owner = (uintptr_t)range->owner,
        .arg = FIELD_DP32(arg, CMD_RANGE_ARG, BLOCKABLE,
                          mmn_notifier_range_blockable(range)),
    };
    return 0;
}

/* Before saving: what the notifier layer knows of bound context @ctx. */
int mmn_smmu_ctx_save(MmnSmmuCtx *ctx, MmnSmmuCtxMig *m)
{
    m->released = false;
    m->nr_open = 0;
    memset(m->open, 0, sizeof(m->open));
    if (!ctx->bound) {
        return 0;
    }
    m->released = mmn_mm_is_released(ctx->mm);
    return mmn_mm_for_each_open_range(ctx->mm, mmn_smmu_ctx_save_range, m);
}

/*
 * After migration: bind context @idx again from its migrated binding and
 * replay what the notifier layer knew, the open ranges (oldest first)
 * and the release, so that the guest kernel's next command finds the
 * state it left.
 */
int mmn_smmu_ctx_restore(MmnSmmuState *s, unsigned idx,
                         const MmnSmmuCtxMig *m)
{
    MmnSmmuCtx *ctx = &s->ctx[idx];
    uint32_t i;

    if (m->nr_open > MMN_SMMU_MAX_OPEN_RANGES) {
        return -EINVAL;
    }
    ctx->bound = false;
    if (mmn_smmu_ctx_bind(s, idx, ctx->ttb, ctx->cfg, ctx->owner) != 0) {
        return -EINVAL;
    }
    for (i = 0; i < m->nr_open; i++) {
        MmnNotifierRange range = mmn_smmu_ctx_range(ctx, &m->open[i]);

        if (range.end <= range.start || range.event >= MMN_NOTIFY__MAX) {
            return -EINVAL;
        }
        /* The DMA engine is idle during restore: nothing fails it. */
        if (mmn_notifier_invalidate_range_start(&range) != 0) {
            return -EINVAL;
        }
    }
    if (m->released && mmn_notifier_release(ctx->mm) != 0) {
        return -EINVAL;
    }
    return 0;
}

void mmn_smmu_ctx_unbind(MmnSmmuState *s, unsigned idx)
{
    MmnSmmuCtx *ctx = &s->ctx[idx];

    if (!ctx->bound) {
        return;
    }
    trace_mmn_smmu_ctx_unbind(idx);
    /* Drops the entries and the subscriptions, then the address space. */
    mmn_iotlb_ctx_free(ctx->ictx);
    mmn_smmu_dma_unsubscribe(ctx);
    mmn_mm_free(ctx->mm);
    memset(ctx, 0, sizeof(*ctx));
}

void mmn_smmu_ctx_unbind_all(MmnSmmuState *s)
{
    unsigned i;

    for (i = 0; i < MMN_SMMU_MAX_CTX; i++) {
        mmn_smmu_ctx_unbind(s, i);
    }
}
