/*
 * mmn-smmuv3: the event queue (Arm IHI 0070, 7.2, 7.3), global errors
 * (7.5, GERROR/GERRORN) and message-signalled interrupts (6.3.20-6.3.26).
 *
 * An event is written when the queue is writable (7.2.1): CR0.EVENTQEN is
 * set, the queue is not full and no GERROR.EVENTQ_ABT_ERR is active.  A
 * full queue toggles EVENTQ_PROD.OVFLG (7.4) and the event is lost; a
 * disabled or aborted queue discards it without an overflow.  The event
 * queue interrupt is an MSI when EVENTQ_IRQ_CFG0 holds an address, else
 * the wired interrupt, both gated by IRQ_CTRL.EVENTQ_IRQEN.  An event
 * queue entry that cannot be written (base not in RAM) raises
 * GERROR.EVENTQ_ABT_ERR (7.2.2, a synchronous abort: PROD does not move).
 * Queue bases and MSI addresses are truncated to the OAS (3.4.3).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/log.h"
#include "hw/mmn-smmu/guest-ram.h"
#include "smmuv3-internal.h"
#include "hw/mmn-smmu/trace.h"

#define EVT_SIZE 32

/* MSI address field of *_IRQ_CFG0: bits [51:2]. */
#define MSI_ADDR_MASK 0x000ffffffffffffcULL

bool mmn_smmuv3_msi(MmnSmmuv3State *s, uint64_t cfg0, uint32_t data)
{
    uint64_t addr = cfg0 & MSI_ADDR_MASK & MAKE_64BIT_MASK(0, s->oas_bits);
    MemReentrancyGuard *guard = &DEVICE(s)->mem_reentrancy_guard;
    bool engaged = guard->engaged_in_io;
    uint32_t le = cpu_to_le32(data);
    MemTxResult r;

    if (!(cfg0 & MSI_ADDR_MASK)) {
        return false;
    }
    /*
     * The write goes to the bus as a device write (an ITS doorbell...).
     * Aimed at our own registers it is aborted, also when the MSI comes
     * from a master's transaction rather than from one of our register
     * accesses (where QEMU's re-entrancy guard already refuses it): the
     * SMMU must not change its configuration, a CR0 write that would
     * terminate stalls for instance, while it records a stall.
     */
    guard->engaged_in_io = true;
    r = address_space_write(s->as, addr, MEMTXATTRS_UNSPECIFIED, &le, 4);
    guard->engaged_in_io = engaged;
    trace_mmn_smmuv3_msi(addr, data, r);
    return r == MEMTX_OK;
}

void mmn_smmuv3_gerror(MmnSmmuv3State *s, uint32_t bits)
{
    uint32_t active = s->gerror ^ s->gerrorn;

    /* A bit already active (GERROR != GERRORN) stays as it is. */
    bits &= ~active;
    if (!bits) {
        return;
    }
    s->gerror ^= bits;
    trace_mmn_smmuv3_gerror(s->gerror, s->gerrorn);
    if (!FIELD_EX32(s->irq_ctrl, IRQ_CTRL, GERROR_IRQEN)) {
        return;
    }
    if (s->gerror_irq_cfg0 & MSI_ADDR_MASK) {
        if (!mmn_smmuv3_msi(s, s->gerror_irq_cfg0, s->gerror_irq_cfg1)) {
            s->gerror ^= R_GERROR_MSI_GERROR_ABT_ERR_MASK &
                         ~(s->gerror ^ s->gerrorn);
        }
    } else {
        mmn_smmuv3_irq_raise(s, MMN_SMMUV3_IRQ_GERROR);
    }
}

static void encode_event(const MmnSmmuv3Evt *e, uint64_t *w)
{
    w[0] = 0;
    w[0] = FIELD_DP64(w[0], EVT0, ID, e->id);
    w[0] = FIELD_DP64(w[0], EVT0, SSV, e->ssv);
    w[0] = FIELD_DP64(w[0], EVT0, SSID, e->ssv ? e->ssid : 0);
    w[0] = FIELD_DP64(w[0], EVT0, SID, e->sid);
    w[1] = 0;
    w[2] = e->addr;
    w[3] = 0;
    switch (e->id) {
    case EVT_F_TRANSLATION:
    case EVT_F_ADDR_SIZE:
    case EVT_F_ACCESS:
    case EVT_F_PERMISSION:
    case EVT_F_WALK_EABT:
        w[1] = FIELD_DP64(w[1], EVT1, STAG, e->stall ? e->stag : 0);
        w[1] = FIELD_DP64(w[1], EVT1, STALL, e->stall);
        /* PnU 0: unprivileged; InD 0: data */
        w[1] = FIELD_DP64(w[1], EVT1, RNW, !e->write);
        w[1] = FIELD_DP64(w[1], EVT1, CLASS, e->class);
        if (e->id == EVT_F_WALK_EABT) {
            w[3] = e->addr2 & ~7ULL;    /* FetchAddr[51:3] */
        }
        break;
    case EVT_F_STE_FETCH:
    case EVT_F_CD_FETCH:
        /* FetchAddr in word 3, bits [51:3] */
        w[2] = 0;
        w[3] = e->addr & ~7ULL;
        break;
    default:
        break;
    }
}

bool mmn_smmuv3_record_event(MmnSmmuv3State *s, const MmnSmmuv3Evt *e)
{
    MmnSmmuv3Queue *q = &s->evtq;
    unsigned log2 = MIN(FIELD_EX64(q->base, Q_BASE, LOG2SIZE),
                        MMN_SMMUV3_EVENTQS);
    uint32_t wrap_idx = (2u << log2) - 1;
    uint64_t base = (FIELD_EX64(q->base, Q_BASE, ADDR) << 5) &
                    MAKE_64BIT_MASK(0, s->oas_bits) &
                    ~(MAX(32ULL, (uint64_t)EVT_SIZE << log2) - 1);
    uint64_t w[4];
    unsigned i;

    trace_mmn_smmuv3_event(e->id, e->sid, e->ssid, e->addr, e->stall,
                           e->stag);
    if (!FIELD_EX32(s->cr[0], CR0, EVENTQEN) ||
        FIELD_EX32(s->gerror ^ s->gerrorn, GERROR, EVENTQ_ABT_ERR)) {
        return false;
    }
    if (((q->prod ^ q->cons) & wrap_idx) == (1u << log2)) {
        /* full: the event is lost, overflow flag toggles */
        if (FIELD_EX32(q->prod, EVENTQ_PROD, OVFLG) ==
            FIELD_EX32(q->cons, EVENTQ_CONS, OVACKFLG)) {
            q->prod ^= R_EVENTQ_PROD_OVFLG_MASK;
        }
        s->stat_events_lost++;
        return false;
    }
    encode_event(e, w);
    for (i = 0; i < 4; i++) {
        w[i] = cpu_to_le64(w[i]);
    }
    if (!mmn_ram_write(s->as, base + (q->prod & ((1u << log2) - 1)) *
                       EVT_SIZE, w, sizeof(w))) {
        qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmuv3: event queue entry at "
                      "0x%" PRIx64 " not in RAM\n", base);
        mmn_smmuv3_gerror(s, R_GERROR_EVENTQ_ABT_ERR_MASK);
        return false;
    }
    q->prod = (q->prod & ~wrap_idx) | ((q->prod + 1) & wrap_idx);
    s->stat_events++;
    if (FIELD_EX32(s->irq_ctrl, IRQ_CTRL, EVENTQ_IRQEN)) {
        if (s->eventq_irq_cfg0 & MSI_ADDR_MASK) {
            if (!mmn_smmuv3_msi(s, s->eventq_irq_cfg0, s->eventq_irq_cfg1)) {
                mmn_smmuv3_gerror(s, R_GERROR_MSI_EVENTQ_ABT_ERR_MASK);
            }
        } else {
            mmn_smmuv3_irq_raise(s, MMN_SMMUV3_IRQ_EVTQ);
        }
    }
    return true;
}
