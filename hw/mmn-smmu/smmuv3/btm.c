/*
 * mmn-smmuv3: broadcast TLB maintenance (property btm = on, IDR0.BTM = 1).
 *
 * The SMMU snoops the EL1&0 TLBIs the guest CPUs broadcast to the Inner
 * or Outer Shareable domain (include/hw/mmn-smmu/tlbi-snoop.h) and
 * invalidates its IOTLB as the matching command would: VMALLE1IS as
 * TLBI_NH_ALL, ASIDE1IS as TLBI_NH_ASID, VA{L}E1IS and RVA{L}E1IS as
 * TLBI_NH_VA, VAA{L}E1IS and RVAA{L}E1IS as TLBI_NH_VAA, through the same
 * mmn_iotlb_inv_secondary of the ASID's IOTLB context (cmdq.c).  The rules
 * are Arm IHI 0070, 3.17 "TLB tagging, VMIDs, ASIDs and participation in
 * broadcast TLB maintenance" and 5.4 "CD.ASET":
 *
 *  - SMMU_CR2.PTM = 1: "the SMMU is permitted but not required to ignore
 *    broadcast TLB invalidation operations ... Arm strongly recommends
 *    that SMMU implementations ignore" them.  This SMMU ignores them.
 *  - The SMMU has no stage 2 (S2P = 0): it "matches VMID 0 for incoming
 *    broadcast TLB invalidation messages for a regime that uses VMIDs";
 *    a TLBI from EL1 with EL2 enabled and VTTBR_EL2.VMID != 0 is not for
 *    it.
 *  - It has only the Non-secure programming interface and no IDR0.HYP,
 *    so its only StreamWorld is NS-EL1: TLBIs for the Secure EL1&0 or the
 *    EL2&0 regime (HCR_EL2.{E2H,TGE} = 1, a VHE host) match nothing.
 *  - CD.ASET = 1 (non-shared ASID): entries "are not required to be
 *    invalidated by the broadcast invalidation operations that match with
 *    an ASID.  These operations are VA{L}ExIS and ASIDExIS ... All other
 *    matching broadcast invalidations are required to affect these
 *    entries" (3.17): VAA{L}E1IS and VMALLE1IS always apply.  This model
 *    counts the range forms RVA{L}E1IS among the ASID-matching ones.
 *
 * The IOTLB stays shared per ASID: a CD with ASET = 0 and one with
 * ASET = 1 carrying the same ASID fill one context, and its entries carry
 * no ASET tag (5.4: ASET "is also intended (but not required) to be
 * included in non-Global translations").  The context remembers which
 * kinds of CD filled it since it was last empty (MmnSmmuv3Asid.asets).
 * An ASID-matching broadcast skips a context filled only through ASET = 1
 * CDs and invalidates every other one, the entries of ASET = 1 CDs in a
 * mixed context included: an SMMU may drop any TLB entry at any time, so
 * invalidating more than required is never visible as an error; missing
 * an ASET = 0 entry would be.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "hw/mmn-smmu/iotlb.h"
#include "smmuv3-internal.h"
#include "hw/mmn-smmu/trace.h"

static const char *const op_names[] = {
    [MMN_TLBI_ALL] = "VMALLE1IS",
    [MMN_TLBI_ASID] = "ASIDE1IS",
    [MMN_TLBI_VA] = "VA(L)E1IS",
    [MMN_TLBI_VAA] = "VAA(L)E1IS",
};

void mmn_smmuv3_btm_note_aset(MmnSmmuv3Asid *a, bool aset)
{
    if (!mmn_iotlb_ctx_count(a->ictx)) {
        /* nothing cached: what filled it before does not matter */
        a->asets = 0;
    }
    a->asets |= aset ? MMN_SMMUV3_ASET_NONSHARED : MMN_SMMUV3_ASET_SHARED;
}

typedef struct BtmInv {
    const MmnTlbiBroadcast *b;
    unsigned contexts;
} BtmInv;

static void btm_inv_ctx(MmnSmmuv3Asid *a, BtmInv *inv)
{
    mmn_iotlb_inv_secondary(a->ictx, inv->b->start, inv->b->end);
    inv->contexts++;
}

static void btm_inv_each(gpointer key, gpointer value, gpointer opaque)
{
    btm_inv_ctx(value, opaque);
}

/* Why this SMMU does not take part in @b, or NULL if it does. */
static const char *btm_ignored(MmnSmmuv3State *s, const MmnTlbiBroadcast *b)
{
    if (FIELD_EX32(s->cr[2], CR2, PTM)) {
        return "SMMU_CR2.PTM = 1";
    }
    if (b->secure) {
        return "Secure regime";
    }
    if (b->el2_host) {
        return "EL2&0 regime";
    }
    if (b->vmid) {
        return "VMID != 0 (no stage 2)";
    }
    return NULL;
}

/* Runs on the thread of the CPU that executed the TLBI, with the BQL. */
static void btm_snoop(void *opaque, const MmnTlbiBroadcast *b)
{
    MmnSmmuv3State *s = opaque;
    const char *why = btm_ignored(s, b);
    BtmInv inv = { .b = b };
    MmnSmmuv3Asid *a;

    assert(bql_locked());
    if (why) {
        s->stat_btm_ignored++;
        trace_mmn_smmuv3_btm_ignored(op_names[b->op], b->asid, b->vmid, why);
        return;
    }
    if (!s->asids) {
        return;
    }
    switch (b->op) {
    case MMN_TLBI_ALL:
    case MMN_TLBI_VAA:
        g_hash_table_foreach(s->asids, btm_inv_each, &inv);
        break;
    case MMN_TLBI_ASID:
    case MMN_TLBI_VA:
        a = mmn_smmuv3_asid(s, b->asid, false);
        if (!a) {
            break;
        }
        if (a->asets == MMN_SMMUV3_ASET_NONSHARED) {
            trace_mmn_smmuv3_btm_aset(op_names[b->op], b->asid);
            break;
        }
        btm_inv_ctx(a, &inv);
        break;
    }
    if (inv.contexts) {
        s->stat_btm_invalidations++;
    }
    trace_mmn_smmuv3_btm(op_names[b->op], b->asid, b->start, b->end, b->leaf,
                         b->range, inv.contexts);
}

void mmn_smmuv3_btm_instance_init(MmnSmmuv3State *s)
{
    object_property_add_uint64_ptr(OBJECT(s), "btm-invalidations",
                                   &s->stat_btm_invalidations,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(OBJECT(s), "btm-ignored",
                                   &s->stat_btm_ignored, OBJ_PROP_FLAG_READ);
}

void mmn_smmuv3_btm_realize(MmnSmmuv3State *s)
{
    if (s->btm) {
        mmn_tlbi_snoop_register(&s->btm_snooper, btm_snoop, s);
    }
}

void mmn_smmuv3_btm_fini(MmnSmmuv3State *s)
{
    mmn_tlbi_snoop_unregister(&s->btm_snooper);
}
