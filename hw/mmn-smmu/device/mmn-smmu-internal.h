/*
 * mmn-smmu device glue: declarations shared by the files of hw/mmn-smmu/device.
 *
 *   mmn-smmu.c   QOM type, registers, interrupts, reset, migration
 *   guest-mem.c  guest RAM access (never anything but RAM), page-table ops
 *   cmdq.c       command queue: decoding and executing commands
 *   evtq.c       event queue
 *   dma.c        the DMA engine (master behind the SMMU), stall, livelock,
 *                its notifier subscription
 *   context.c    contexts: binding an address space to the IOTLB
 *   checker.c    coherence checker
 *
 * Everything here runs under the BQL (MMIO handlers).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MMN_SMMU_INTERNAL_H
#define HW_MMN_SMMU_INTERNAL_H

#include "hw/mmn-smmu/mmn-smmu.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"
#include "hw/mmn-smmu/walker.h"

/*
 * Queue indexes (CMDQ_PROD/CONS, EVTQ_PROD/CONS) are [LOG2SIZE:0]: the
 * ring slot in bits [LOG2SIZE-1:0], the wrap bit above it.
 */
static inline uint32_t mmn_queue_idx_mask(const MmnSmmuQueue *q)
{
    return (2u << q->log2size) - 1;
}

static inline uint32_t mmn_queue_slot(const MmnSmmuQueue *q, uint32_t idx)
{
    return idx & ((1u << q->log2size) - 1);
}

static inline uint32_t mmn_queue_next(const MmnSmmuQueue *q, uint32_t idx)
{
    return (idx + 1) & mmn_queue_idx_mask(q);
}

/* Guest address of the entry at index @idx, of @entry_size bytes. */
static inline uint64_t mmn_queue_entry(const MmnSmmuQueue *q, uint32_t idx,
                                       unsigned entry_size)
{
    return q->base + (uint64_t)mmn_queue_slot(q, idx) * entry_size;
}

/* Full: PROD and CONS at the same slot, their wrap bits differ. */
static inline bool mmn_queue_full(const MmnSmmuQueue *q)
{
    return mmn_queue_slot(q, q->prod) == mmn_queue_slot(q, q->cons) &&
           ((q->prod ^ q->cons) & (1u << q->log2size));
}

/* mmn-smmu.c */
void mmn_smmu_raise_irq(MmnSmmuState *s, uint32_t status_bits);

/* guest-mem.c */
bool mmn_smmu_ram_ok(MmnSmmuState *s, uint64_t addr, uint64_t len,
                     bool is_write);
bool mmn_smmu_read(MmnSmmuState *s, uint64_t addr, void *buf, uint64_t len);
bool mmn_smmu_write(MmnSmmuState *s, uint64_t addr, const void *buf,
                    uint64_t len);
void mmn_smmu_dma_data_read(MmnSmmuState *s, uint64_t pa, void *buf,
                            uint64_t len);
void mmn_smmu_dma_data_write(MmnSmmuState *s, uint64_t pa, const void *buf,
                             uint64_t len);
extern const MmnPtOps mmn_smmu_pt_ops;        /* opaque: MmnSmmuState */
extern const MmnPtOps mmn_smmu_pt_ops_peek;   /* read only, for the checker */

/* evtq.c */
void mmn_smmu_evtq_push(MmnSmmuState *s, const MmnEvt *evt);

/* cmdq.c */
void mmn_smmu_cmdq_process(MmnSmmuState *s);

/* context.c */
int mmn_smmu_ctx_bind(MmnSmmuState *s, unsigned idx, uint64_t ttb,
                      uint64_t cfg, uint64_t owner);
void mmn_smmu_ctx_unbind(MmnSmmuState *s, unsigned idx);
void mmn_smmu_ctx_unbind_all(MmnSmmuState *s);
MmnSmmuCtx *mmn_smmu_ctx_get(MmnSmmuState *s, unsigned idx);
typedef struct MmnNotifierRange MmnNotifierRange;
MmnNotifierRange mmn_smmu_ctx_range(MmnSmmuCtx *ctx,
                                    const MmnSmmuOpenRange *r);

/*
 * The notifier layer's state of a bound context as the migration stream
 * carries it (VMSTATE_WITH_TMP of mmn-smmu-ctx): filled from the notifier
 * layer before saving, replayed into a fresh one after loading.
 */
typedef struct MmnSmmuCtxMig {
    MmnSmmuCtx *parent;
    bool released;
    uint32_t nr_open;
    MmnSmmuOpenRange open[MMN_SMMU_MAX_OPEN_RANGES];
} MmnSmmuCtxMig;
int mmn_smmu_ctx_save(MmnSmmuCtx *ctx, MmnSmmuCtxMig *m);
int mmn_smmu_ctx_restore(MmnSmmuState *s, unsigned idx,
                         const MmnSmmuCtxMig *m);

/* dma.c */
void mmn_smmu_dma_doorbell(MmnSmmuState *s);
void mmn_smmu_dma_resume(MmnSmmuState *s);
void mmn_smmu_dma_abort(MmnSmmuState *s);
void mmn_smmu_dma_kick(MmnSmmuState *s);
bool mmn_smmu_dma_stalled(MmnSmmuState *s);
void mmn_smmu_dma_reset(MmnSmmuState *s);
MmnNotifier *mmn_smmu_dma_subscribe(MmnSmmuCtx *ctx);
void mmn_smmu_dma_unsubscribe(MmnSmmuCtx *ctx);

/* checker.c */
void mmn_smmu_check(MmnSmmuState *s, int ctx, MmnCheckReport *r);

#endif /* HW_MMN_SMMU_INTERNAL_H */
