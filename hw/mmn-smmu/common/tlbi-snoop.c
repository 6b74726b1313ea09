/*
 * Snooping of the guest CPUs' broadcast TLB maintenance (see
 * include/hw/mmn-smmu/tlbi-snoop.h).
 *
 * Locking.  The snooper list is protected by the BQL: devices register at
 * realize and unregister at unrealize/finalize, both under the BQL.  The
 * CPU calls mmn_tlbi_snoop_cpu_insn() from a TLBI write function on a
 * vCPU thread, which under MTTCG runs without the BQL; the call takes the
 * BQL (when the thread does not hold it already) and runs the snoopers
 * synchronously.  Deferring the work (a bottom half, or
 * async_run_on_cpu) is not an option: the architecture makes the TLBI
 * complete at the PE's next DSB, and a guest that executes
 * "TLBI VALE1IS; DSB ISH" and then writes CMD_RESUME to the SMMU's
 * command queue must find the SMMU's entry gone when the command runs.
 * Done here, the invalidation is complete before the TLBI instruction
 * retires.  Taking the BQL from a TCG helper is what an MMIO access does
 * (prepare_mmio_access in accel/tcg/cputlb.c); the snoopers touch device
 * state that MMIO handlers and DMA already protect with the BQL.
 *
 * The fast path: mmn_tlbi_snoop_active() is one atomic read of the number
 * of snoopers, tested by the CPU before it calls in.  A stale read is
 * harmless: a snooper that has just gone leaves an empty walk, and one
 * being realized has nothing cached yet.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "hw/mmn-smmu/tlbi-snoop.h"

unsigned mmn_tlbi_snoopers;

static QLIST_HEAD(, MmnTlbiSnooper) snoopers =
    QLIST_HEAD_INITIALIZER(snoopers);

void mmn_tlbi_snoop_register(MmnTlbiSnooper *n, MmnTlbiSnoopFn fn,
                             void *opaque)
{
    assert(bql_locked());
    if (n->registered) {
        return;
    }
    n->fn = fn;
    n->opaque = opaque;
    n->registered = true;
    QLIST_INSERT_HEAD(&snoopers, n, next);
    qatomic_inc(&mmn_tlbi_snoopers);
}

void mmn_tlbi_snoop_unregister(MmnTlbiSnooper *n)
{
    if (!n->registered) {
        return;
    }
    assert(bql_locked());
    QLIST_REMOVE(n, next);
    n->registered = false;
    qatomic_dec(&mmn_tlbi_snoopers);
}

/* VA bits an SMMU stage 1 compares: [55:0] (the top byte is TBI's). */
#define VA_MASK ((1ULL << 56) - 1)

bool mmn_tlbi_decode(const MmnTlbiInsn *insn, MmnTlbiBroadcast *b)
{
    uint64_t start;

    memset(b, 0, sizeof(*b));
    b->range = insn->range;
    b->secure = insn->secure;
    b->el2_host = insn->el2_host;
    b->vmid = insn->vmid;
    b->value = insn->value;
    b->asid = extract64(insn->value, 48, 16);
    b->leaf = insn->opc2 & 4;
    switch (insn->opc2) {
    case 0:
        if (insn->range) {
            return false;
        }
        b->op = MMN_TLBI_ALL;
        b->asid = 0;
        b->end = UINT64_MAX;
        return true;
    case 2:
        if (insn->range) {
            return false;
        }
        b->op = MMN_TLBI_ASID;
        b->end = UINT64_MAX;
        return true;
    case 1:
    case 5:
        b->op = MMN_TLBI_VA;
        break;
    case 3:
    case 7:
        b->op = MMN_TLBI_VAA;
        b->asid = 0;
        break;
    default:
        return false;
    }
    if (!insn->range) {
        /* Xt[43:0] is VA[55:12]: the page that holds it (TLBI_NH_VA). */
        b->start = (insn->value << 12) & VA_MASK;
        b->end = b->start + 4096;
        return true;
    }
    /*
     * The range as the CPU decoded it (tlbi_aa64_get_range): BaseADDR in
     * units of the TG granule (64 KiB with TCR.DS), (NUM + 1) <<
     * (5 * SCALE + 1) granules; length 0 when TG does not match the
     * granule in use, and then the CPU invalidated nothing either.
     */
    start = insn->base & VA_MASK;
    b->start = start;
    b->end = insn->length > VA_MASK + 1 - start ? VA_MASK + 1
                                                 : start + insn->length;
    return true;
}

void mmn_tlbi_snoop_cpu_insn(const MmnTlbiInsn *insn)
{
    MmnTlbiBroadcast b;
    MmnTlbiSnooper *n;
    bool locked;

    if (!mmn_tlbi_decode(insn, &b)) {
        return;
    }
    locked = !bql_locked();
    if (locked) {
        bql_lock();
    }
    QLIST_FOREACH(n, &snoopers, next) {
        n->fn(n->opaque, &b);
    }
    if (locked) {
        bql_unlock();
    }
}
