/*
 * mmn-smmu: the DMA engine, the master behind the SMMU.
 *
 * One descriptor runs at a time, page by page through the IOTLB.  A fault
 * either completes the descriptor (FAULT) or, in a STALL context, parks it
 * until DMA_RESUME / DMA_ABORT.  A translation BLOCKED by an open
 * invalidation parks it until an invalidation ends.  The livelock detector
 * counts faults that repeat one another (the same cached entry, or a walk
 * stopping at the same unchanged descriptor), across descriptors too, and
 * ends the access with a LIVELOCK event that says whether the IOTLB entry
 * was stale (a missed invalidation) or agreed with the page tables (the
 * fault handler did not fix them), so neither hangs anyone.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/log.h"
#include "hw/mmn-smmu/mmu-notifier.h"
#include "hw/mmn-smmu/iotlb.h"
#include "hw/mmn-smmu/livelock.h"
#include "mmn-smmu-internal.h"
#include "hw/mmn-smmu/trace.h"

#define MMN_DMA_CHUNK 4096

static uint32_t mmn_dma_status_word(uint8_t state, const MmnFault *f,
                                    bool from_cache)
{
    uint32_t st = FIELD_DP32(0, DMA_STATUS, STATE, state);

    if (f) {
        st = FIELD_DP32(st, DMA_STATUS, KIND, f->kind);
        /* level -1 (4K with DS) is 0xff: an s8 */
        st = FIELD_DP32(st, DMA_STATUS, LEVEL, (uint8_t)f->level);
    }
    return FIELD_DP32(st, DMA_STATUS, FROM_CACHE, from_cache);
}

/* Write status, done, fault_va and faults back into the descriptor. */
static void mmn_dma_writeback(MmnSmmuState *s)
{
    MmnSmmuDma *d = &s->dma;
    struct {
        uint32_t status;
        uint32_t done;
        uint64_t fault_va;
        uint32_t faults;
    } QEMU_PACKED wb = {
        .status = cpu_to_le32(d->status),
        .done = cpu_to_le32(d->done),
        .fault_va = cpu_to_le64(d->fault_va),
        .faults = cpu_to_le32(d->faults),
    };

    if (!mmn_smmu_write(s, d->desc_addr + offsetof(MmnDmaDesc, status),
                        &wb, sizeof(wb))) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "mmn-smmu: DMA descriptor 0x%" PRIx64
                      " no longer in RAM\n", d->desc_addr);
    }
}

static void mmn_dma_finish(MmnSmmuState *s, uint8_t state, const MmnFault *f,
                           bool from_cache, uint32_t extra)
{
    MmnSmmuDma *d = &s->dma;

    d->status = mmn_dma_status_word(state, f, from_cache) | extra;
    d->state = MMN_DMA_ST_IDLE;
    mmn_dma_writeback(s);
    trace_mmn_smmu_dma_done(state, d->done, d->faults);
    mmn_smmu_raise_irq(s, R_IRQ_STATUS_DMA_DONE_MASK);
}

static void mmn_dma_park(MmnSmmuState *s, uint8_t state, const MmnFault *f,
                         bool from_cache)
{
    MmnSmmuDma *d = &s->dma;

    d->state = state;
    d->status = mmn_dma_status_word(state, f, from_cache);
    mmn_dma_writeback(s);
    trace_mmn_smmu_dma_park(state, d->desc.va + d->done);
}

static void mmn_dma_event(MmnSmmuState *s, uint8_t type, const MmnFault *f,
                          bool write, bool from_cache, bool stalled,
                          bool stale, uint32_t count)
{
    MmnSmmuCtx *ctx = &s->ctx[s->dma.desc.ctx];
    MmnEvt e = {
        .type = type,
        .kind = f->kind,
        .level = f->level,
        .ctx = s->dma.desc.ctx,
        .va = f->va,
        .desc = f->desc_pa,
        .count = count,
    };

    e.flags = FIELD_DP8(e.flags, EVT_FLAGS, WRITE, write);
    e.flags = FIELD_DP8(e.flags, EVT_FLAGS, UNPRIV,
                        FIELD_EX64(ctx->cfg, CTX_CFG, UNPRIV));
    e.flags = FIELD_DP8(e.flags, EVT_FLAGS, FROM_CACHE, from_cache);
    e.flags = FIELD_DP8(e.flags, EVT_FLAGS, STALLED, stalled);
    e.flags = FIELD_DP8(e.flags, EVT_FLAGS, STALE, stale);
    mmn_smmu_evtq_push(s, &e);
}

/*
 * Livelock detection (docs/specs/mmn-smmu.rst, "Livelock detection"): the
 * detector common to both front ends, include/hw/mmn-smmu/livelock.h.  It
 * keeps one suspect for the engine, so a driver that resubmits the
 * descriptor after each fault (no STALL) is caught as well as one that
 * resumes a stalled one.
 */
/* A fault on the access at f->va: park (stall) or finish the descriptor. */
static void mmn_dma_fault(MmnSmmuState *s, MmnFault *f, bool write,
                          bool from_cache, uint64_t serial)
{
    MmnSmmuDma *d = &s->dma;
    MmnSmmuCtx *ctx = &s->ctx[d->desc.ctx];
    uint32_t count = mmn_livelock_fault(&s->livelock, d->desc.ctx, serial,
                                        f, write, from_cache,
                                        &mmn_smmu_pt_ops, s);

    d->faults++;
    s->stat_dma_faults++;
    d->fault_va = f->va;
    trace_mmn_smmu_dma_fault(d->desc.ctx, f->va, f->kind, f->level,
                             from_cache, count);
    if (count >= s->livelock_threshold) {
        bool stale = mmn_livelock_stale(ctx->ictx, &ctx->walk,
                                        FIELD_EX64(ctx->cfg, CTX_CFG, UNPRIV),
                                        f->va, &mmn_smmu_pt_ops_peek, s);

        s->stat_livelocks++;
        trace_mmn_smmu_dma_livelock(d->desc.ctx, f->va, count, from_cache,
                                    stale);
        mmn_dma_event(s, MMN_EVT_LIVELOCK, f, write, from_cache, false,
                      stale, count);
        qemu_log_mask(LOG_GUEST_ERROR,
                      "mmn-smmu: livelock: ctx %u VA 0x%" PRIx64 " faulted "
                      "%u times in a row %s; %s\n", d->desc.ctx, f->va, count,
                      from_cache ? "from the same cached entry" :
                      "at the same descriptor",
                      stale ? "the entry is stale: was an invalidation "
                      "missed?" : "the IOTLB agrees with the page tables: "
                      "the fault handler did not fix them");
        memset(&s->livelock, 0, sizeof(s->livelock));
        mmn_dma_finish(s, MMN_DMA_ST_LIVELOCK, f, from_cache,
                       FIELD_DP32(0, DMA_STATUS, STALE, stale));
        return;
    }
    if (FIELD_EX64(ctx->cfg, CTX_CFG, STALL)) {
        mmn_dma_event(s, MMN_EVT_FAULT, f, write, from_cache, true, false,
                      count);
        mmn_dma_park(s, MMN_DMA_ST_STALLED, f, from_cache);
    } else {
        mmn_dma_event(s, MMN_EVT_FAULT, f, write, from_cache, false, false,
                      count);
        mmn_dma_finish(s, MMN_DMA_ST_FAULT, f, from_cache, 0);
    }
}

/* Run (or continue) the current descriptor from d->done. */
static void mmn_dma_run(MmnSmmuState *s)
{
    MmnSmmuDma *d = &s->dma;
    MmnSmmuCtx *ctx = &s->ctx[d->desc.ctx];
    bool write = d->desc.op != MMN_DMA_OP_READ;
    uint8_t buf[MMN_DMA_CHUNK];

    while (d->done < d->desc.len) {
        /* TBI: the device translates and reports the untagged VA */
        uint64_t va = mmn_walk_input_va(&ctx->walk, d->desc.va + d->done);
        MmnAccess acc = {
            .va = va,
            .write = write,
            .unpriv = FIELD_EX64(ctx->cfg, CTX_CFG, UNPRIV),
        };
        MmnTranslation tr;
        MmnFault f = { 0 };
        bool from_cache = false, buf_ok = true;
        uint64_t serial;
        MmnXlateResult r;
        uint64_t pa, n, i;

        if (!ctx->bound) {
            mmn_dma_finish(s, MMN_DMA_ST_ABORTED, NULL, false, 0);
            return;
        }
        r = mmn_iotlb_translate(ctx->ictx, &ctx->walk, &mmn_smmu_pt_ops, s,
                                &acc, &tr, &f, &from_cache, &serial);
        switch (r) {
        case MMN_XLATE_OK:
            break;
        case MMN_XLATE_FAULT:
            f.va = va;
            mmn_dma_fault(s, &f, write, from_cache, serial);
            return;
        case MMN_XLATE_BLOCKED:
            mmn_dma_park(s, MMN_DMA_ST_BLOCKED, NULL, false);
            return;
        case MMN_XLATE_RELEASED:
        default:
            mmn_dma_finish(s, MMN_DMA_ST_RELEASED, NULL, false, 0);
            return;
        }
        mmn_livelock_progress(&s->livelock, d->desc.ctx, va, write);
        pa = tr.pa + (va - tr.va);
        n = MIN((uint64_t)d->desc.len - d->done, tr.va + tr.size - va);
        n = MIN(n, MMN_PAGE_SIZE - (va & (MMN_PAGE_SIZE - 1)));
        if (!mmn_smmu_ram_ok(s, pa, n, write)) {
            /* Output address is not RAM (e.g. this device's own BAR). */
            f = (MmnFault) {
                .kind = MMN_FAULT_EXTERNAL, .level = tr.level, .va = va,
                .desc_pa = tr.desc_pa,
            };
            qemu_log_mask(LOG_GUEST_ERROR,
                          "mmn-smmu: DMA to VA 0x%" PRIx64 " -> PA 0x%"
                          PRIx64 " is not RAM\n", va, pa);
            mmn_dma_fault(s, &f, write, false, serial);
            return;
        }
        /*
         * The output range was checked just above, once; the bounce buffer
         * goes through the checked helpers: a parked descriptor resumes in
         * a later MMIO handler, and the buffer may have left RAM since the
         * doorbell (an IOMMU in front of the device unmapped it).
         */
        switch (d->desc.op) {
        case MMN_DMA_OP_READ:
            mmn_smmu_dma_data_read(s, pa, buf, n);
            buf_ok = mmn_smmu_write(s, d->desc.buf + d->done, buf, n);
            break;
        case MMN_DMA_OP_WRITE:
            buf_ok = mmn_smmu_read(s, d->desc.buf + d->done, buf, n);
            if (buf_ok) {
                mmn_smmu_dma_data_write(s, pa, buf, n);
            }
            break;
        case MMN_DMA_OP_FILL:
            for (i = 0; i < n; i++) {
                buf[i] = d->desc.pattern >> (8 * ((va + i) & 3));
            }
            mmn_smmu_dma_data_write(s, pa, buf, n);
            break;
        }
        if (!buf_ok) {
            qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmu: DMA bounce buffer 0x%"
                          PRIx64 " is no longer RAM\n",
                          d->desc.buf + d->done);
            mmn_dma_finish(s, MMN_DMA_ST_BAD_DESC, NULL, false, 0);
            return;
        }
        d->done += n;
    }
    mmn_dma_finish(s, MMN_DMA_ST_DONE, NULL, false, 0);
}

void mmn_smmu_dma_doorbell(MmnSmmuState *s)
{
    MmnSmmuDma *d = &s->dma;
    MmnDmaDesc *desc = &d->desc;
    uint64_t desc_addr = s->dma_desc;
    MmnDmaDesc raw;
    const char *bad = NULL;

    if (!(s->ctrl & R_CTRL_DMA_EN_MASK)) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "mmn-smmu: DMA doorbell while CTRL.DMA_EN is 0\n");
        return;
    }
    if (d->state != MMN_DMA_ST_IDLE) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "mmn-smmu: DMA doorbell while a descriptor is %s\n",
                      d->state == MMN_DMA_ST_STALLED ? "stalled" : "blocked");
        return;
    }
    if (!QEMU_IS_ALIGNED(desc_addr, MMN_DMA_DESC_SIZE) ||
        !mmn_smmu_read(s, desc_addr, &raw, sizeof(raw))) {
        qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmu: DMA descriptor 0x%" PRIx64
                      " misaligned or not in RAM\n", desc_addr);
        /* nothing to write back into; DMA_FAULT_VA keeps its value */
        d->status = MMN_DMA_ST_BAD_DESC;
        mmn_smmu_raise_irq(s, R_IRQ_STATUS_DMA_DONE_MASK);
        return;
    }
    memset(d, 0, sizeof(*d));
    d->desc_addr = desc_addr;
    *desc = raw;
    desc->ctx = le16_to_cpu(desc->ctx);
    desc->len = le32_to_cpu(desc->len);
    desc->va = le64_to_cpu(desc->va);
    desc->buf = le64_to_cpu(desc->buf);
    desc->pattern = le32_to_cpu(desc->pattern);
    trace_mmn_smmu_dma_start(desc->op, desc->ctx, desc->va, desc->len,
                             desc->buf);

    if (desc->op < MMN_DMA_OP_READ || desc->op > MMN_DMA_OP_FILL) {
        bad = "unknown op";
    } else if (desc->len == 0 || desc->len > MMN_DMA_MAX_LEN) {
        bad = "length 0 or above 1 MiB";
    } else if (desc->va + desc->len < desc->va) {
        bad = "VA range wraps";
    } else if (!mmn_smmu_ctx_get(s, desc->ctx)) {
        bad = "context not bound";
    } else if (desc->op == MMN_DMA_OP_FILL ? desc->buf != 0 :
               !mmn_smmu_ram_ok(s, desc->buf, desc->len,
                                desc->op == MMN_DMA_OP_READ)) {
        bad = "bounce buffer not in RAM";
    }
    if (bad) {
        qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmu: bad DMA descriptor 0x%"
                      PRIx64 ": %s\n", d->desc_addr, bad);
        mmn_dma_finish(s, MMN_DMA_ST_BAD_DESC, NULL, false, 0);
        return;
    }
    mmn_dma_run(s);
}

/*
 * The DMA engine as a subscriber (Linux: a driver's invalidate_range_start
 * that must take a lock, like lib/test_hmm.c's mutex_trylock).  While a
 * DMA is stalled or blocked on a page of this context, the engine "holds
 * its lock" on that page: a non-blockable invalidation covering it fails
 * with -EAGAIN (the caller retries later, as the OOM reaper does); a
 * blockable one proceeds.  No end op: a subscriber that can fail start
 * gets no end for it (mm/mmu_notifier.c).
 */
typedef struct MmnSmmuDmaSub {
    MmnNotifier mn;
    MmnSmmuCtx *ctx;
} MmnSmmuDmaSub;

static int mmn_smmu_dma_range_start(MmnNotifier *mn,
                                    const MmnNotifierRange *range)
{
    MmnSmmuCtx *ctx = container_of(mn, MmnSmmuDmaSub, mn)->ctx;
    MmnSmmuState *s = ctx->dev;
    uint64_t page;

    if (mmn_notifier_range_blockable(range) ||
        (s->dma.state != MMN_DMA_ST_STALLED &&
         s->dma.state != MMN_DMA_ST_BLOCKED) ||
        &s->ctx[s->dma.desc.ctx] != ctx) {
        return 0;
    }
    page = QEMU_ALIGN_DOWN(mmn_walk_input_va(&ctx->walk,
                                             s->dma.desc.va + s->dma.done),
                           MMN_PAGE_SIZE);
    if (range->start < page + MMN_PAGE_SIZE && page < range->end) {
        trace_mmn_smmu_dma_would_block(s->dma.desc.ctx, page);
        return -EAGAIN;
    }
    return 0;
}

static const MmnNotifierOps mmn_smmu_dma_mn_ops = {
    .invalidate_range_start = mmn_smmu_dma_range_start,
};

/* Subscribe the DMA engine to @ctx's address space; NULL on failure. */
MmnNotifier *mmn_smmu_dma_subscribe(MmnSmmuCtx *ctx)
{
    MmnSmmuDmaSub *sub = g_new0(MmnSmmuDmaSub, 1);

    sub->ctx = ctx;
    sub->mn.ops = &mmn_smmu_dma_mn_ops;
    if (mmn_notifier_register(&sub->mn, ctx->mm) != 0) {
        g_free(sub);
        return NULL;
    }
    return &sub->mn;
}

void mmn_smmu_dma_unsubscribe(MmnSmmuCtx *ctx)
{
    mmn_notifier_unregister(ctx->dma_mn, ctx->mm);
    g_free(container_of(ctx->dma_mn, MmnSmmuDmaSub, mn));
    ctx->dma_mn = NULL;
}

bool mmn_smmu_dma_stalled(MmnSmmuState *s)
{
    return s->dma.state == MMN_DMA_ST_STALLED;
}

void mmn_smmu_dma_resume(MmnSmmuState *s)
{
    if (s->dma.state == MMN_DMA_ST_STALLED) {
        s->dma.state = MMN_DMA_ST_IDLE;
        mmn_dma_run(s);
    }
}

void mmn_smmu_dma_abort(MmnSmmuState *s)
{
    if (s->dma.state == MMN_DMA_ST_STALLED ||
        s->dma.state == MMN_DMA_ST_BLOCKED) {
        mmn_dma_finish(s, MMN_DMA_ST_ABORTED, NULL, false, 0);
    }
}

/*
 * A BLOCKED descriptor tries again: once after a command batch in which
 * an invalidation ended (mmn_smmu_cmdq_process()).
 */
void mmn_smmu_dma_kick(MmnSmmuState *s)
{
    if (s->dma.state == MMN_DMA_ST_BLOCKED) {
        s->dma.state = MMN_DMA_ST_IDLE;
        mmn_dma_run(s);
    }
}

void mmn_smmu_dma_reset(MmnSmmuState *s)
{
    memset(&s->dma, 0, sizeof(s->dma));
    memset(&s->livelock, 0, sizeof(s->livelock));
}
