/*
 * mmn-smmu: event queue (device -> driver).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/log.h"
#include "mmn-smmu-internal.h"
#include "hw/mmn-smmu/trace.h"

static void mmn_smmu_evtq_lost(MmnSmmuState *s, const char *why)
{
    if (s->evtq_lost != UINT32_MAX) {
        s->evtq_lost++;
    }
    s->stat_events_lost++;
    trace_mmn_smmu_evtq_lost(why, s->evtq_lost);
    mmn_smmu_raise_irq(s, R_IRQ_STATUS_EVTQ_OVERFLOW_MASK);
}

void mmn_smmu_evtq_push(MmnSmmuState *s, const MmnEvt *evt)
{
    MmnSmmuQueue *q = &s->evtq;
    MmnEvt le = *evt;
    uint64_t addr;

    trace_mmn_smmu_event(evt->type, evt->kind, evt->level, evt->flags,
                         evt->ctx, evt->va, evt->count);
    if (!(s->ctrl & R_CTRL_EVTQ_EN_MASK)) {
        mmn_smmu_evtq_lost(s, "disabled");
        return;
    }
    if (mmn_queue_full(q)) {
        mmn_smmu_evtq_lost(s, "full");
        return;
    }
    le.ctx = cpu_to_le16(evt->ctx);
    le.va = cpu_to_le64(evt->va);
    le.desc = cpu_to_le64(evt->desc);
    le.count = cpu_to_le32(evt->count);
    addr = mmn_queue_entry(q, q->prod, MMN_EVT_SIZE);
    if (!mmn_smmu_write(s, addr, &le, sizeof(le))) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "mmn-smmu: event queue entry 0x%" PRIx64
                      " is not in RAM\n", addr);
        mmn_smmu_evtq_lost(s, "not-ram");
        return;
    }
    q->prod = mmn_queue_next(q, q->prod);
    s->stat_events++;
    mmn_smmu_raise_irq(s, R_IRQ_STATUS_EVTQ_MASK);
}
