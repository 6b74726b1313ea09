/*
 * Snooping of the guest CPUs' broadcast TLB maintenance: the model of the
 * DVM messages an Arm SMMU with SMMU_IDR0.BTM = 1 receives (Arm IHI 0070,
 * 3.17 "TLB tagging, VMIDs, ASIDs and participation in broadcast TLB
 * maintenance").
 *
 * QEMU's Arm CPU reports every Inner or Outer Shareable EL1&0 TLBI by VA,
 * by ASID or for all ASIDs (TLBI VMALLE1IS, ASIDE1IS, VA{A}{L}E1IS,
 * RVA{A}{L}E1IS, their OS and nXS forms) from its write functions in
 * target/arm/tcg/tlb-insns.c (scripts/mmn-smmu/qemu-hooks.patch) through
 * mmn_tlbi_snoop_cpu_insn(); every registered snooper then sees the
 * decoded operation, with the BQL held.
 *
 * The CPU side runs on a vCPU thread without the BQL (MTTCG).  It first
 * checks mmn_tlbi_snoop_active(), a single atomic read, so a guest
 * without a snooping SMMU pays nothing else.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MMN_SMMU_TLBI_SNOOP_H
#define HW_MMN_SMMU_TLBI_SNOOP_H

#include "qemu/atomic.h"
#include "qemu/queue.h"

/* What a broadcast TLBI invalidates (the ASID and address scope). */
typedef enum MmnTlbiOp {
    MMN_TLBI_ALL,       /* VMALLE1IS: every ASID, every VA */
    MMN_TLBI_ASID,      /* ASIDE1IS: one ASID, every VA */
    MMN_TLBI_VA,        /* VA{L}E1IS, RVA{L}E1IS: one ASID, a VA range */
    MMN_TLBI_VAA,       /* VAA{L}E1IS, RVAA{L}E1IS: every ASID, a VA range */
} MmnTlbiOp;

/* Where the TLBI came from, as the CPU executed it. */
typedef struct MmnTlbiInsn {
    uint8_t opc2;       /* TLBI op2: 0 VMALL, 2 ASID, 1/5 VA{L}, 3/7 VAA{L} */
    bool range;         /* an RVA* form: base/length decoded by the CPU */
    bool secure;        /* for the Secure EL1&0 regime */
    bool el2_host;      /* for the EL2&0 regime (HCR_EL2.{E2H,TGE} = 1) */
    uint16_t vmid;      /* VTTBR_EL2.VMID when EL2 is enabled, else 0 */
    uint64_t value;     /* the Xt operand */
    uint64_t base;      /* RVA* only: the range, per the Arm ARM's */
    uint64_t length;    /* BaseADDR/NUM/SCALE/TG as the CPU decoded them */
} MmnTlbiInsn;

/* The decoded operation a snooper receives. */
typedef struct MmnTlbiBroadcast {
    MmnTlbiOp op;
    bool leaf;          /* a ...L... form: last level only (a hint) */
    bool range;         /* an RVA* form */
    bool secure;
    bool el2_host;
    uint16_t vmid;
    uint16_t asid;      /* Xt[63:48] (MMN_TLBI_ASID, MMN_TLBI_VA) */
    uint64_t start;     /* VA range [start, end): whole pages; */
    uint64_t end;       /* VA bits [55:0] only (TBI), like TLBI_NH_VA */
    uint64_t value;     /* the Xt operand, for traces */
} MmnTlbiBroadcast;

typedef void (*MmnTlbiSnoopFn)(void *opaque, const MmnTlbiBroadcast *b);

typedef struct MmnTlbiSnooper {
    MmnTlbiSnoopFn fn;
    void *opaque;
    bool registered;
    QLIST_ENTRY(MmnTlbiSnooper) next;
} MmnTlbiSnooper;

/* Registered snoopers; read without a lock by the vCPU fast path. */
extern unsigned mmn_tlbi_snoopers;

static inline bool mmn_tlbi_snoop_active(void)
{
    return qatomic_read(&mmn_tlbi_snoopers) != 0;
}

/*
 * Add/remove @n (BQL held).  Unregistering an unregistered snooper is a
 * no-op, so unrealize and finalize can both call it.
 */
void mmn_tlbi_snoop_register(MmnTlbiSnooper *n, MmnTlbiSnoopFn fn,
                             void *opaque);
void mmn_tlbi_snoop_unregister(MmnTlbiSnooper *n);

/*
 * Decode a CPU's TLBI; false for an opc2 that is not a TLBI by VA, ASID or
 * for all ASIDs.  Pure: no lock, no global state.
 */
bool mmn_tlbi_decode(const MmnTlbiInsn *insn, MmnTlbiBroadcast *b);

/*
 * Called by the CPU after it executed a broadcast TLBI (any thread, BQL
 * held or not): decodes it and runs every snooper, under the BQL, before
 * the TLBI instruction completes.
 */
void mmn_tlbi_snoop_cpu_insn(const MmnTlbiInsn *insn);

#endif /* HW_MMN_SMMU_TLBI_SNOOP_H */
