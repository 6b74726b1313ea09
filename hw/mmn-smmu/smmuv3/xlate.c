/*
 * mmn-smmuv3: translation of transactions (Arm IHI 0070, 3.3), stalls
 * (3.12 "Fault models, recording and reporting"), the livelock detector,
 * the per-ASID IOTLB contexts, PCI devices' address spaces and the
 * coherence check.
 *
 * A transaction is configured (config.c), then translated through the
 * shared IOTLB context of its CD's ASID with mmn_iotlb_translate: a hit
 * is checked against the cached entry, so a write through a cached
 * read-only entry faults from the cache without a walk, exactly as on the
 * PCI front end.  A fault in a stall-enabled context (CD.S == 1 and
 * STE.S1STALLD == 0, for a master that can stall) records an event with
 * Stall = 1 and a STAG and parks the transaction until CMD_RESUME.
 * Otherwise the transaction is terminated, with an event when CD.R == 1.
 * Only F_TRANSLATION, F_ADDR_SIZE, F_ACCESS and F_PERMISSION can stall.
 *
 * The livelock detector (livelock.h, shared with the PCI front end) counts
 * faults of one transaction that repeat one another; at livelock-threshold
 * it terminates the transaction instead of stalling it again, tells
 * whether the IOTLB entry was stale, and the master reports LIVELOCK.  No
 * architected event exists for this.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "exec/address-spaces.h"
#include "hw/pci/pci.h"
#include "hw/mmn-smmu/guest-ram.h"
#include "hw/mmn-smmu/iotlb.h"
#include "hw/mmn-smmu/iotlb-check.h"
#include "smmuv3-internal.h"
#include "hw/mmn-smmu/trace.h"

static void asid_free(gpointer p)
{
    MmnSmmuv3Asid *a = p;

    mmn_iotlb_ctx_free(a->ictx);
    g_free(a);
}

MmnSmmuv3Asid *mmn_smmuv3_asid(MmnSmmuv3State *s, uint16_t asid, bool create)
{
    MmnSmmuv3Asid *a;

    if (!s->asids) {
        s->asids = g_hash_table_new_full(g_direct_hash, g_direct_equal,
                                         NULL, asid_free);
    }
    a = g_hash_table_lookup(s->asids, GUINT_TO_POINTER(asid));
    if (!a && create) {
        a = g_new0(MmnSmmuv3Asid, 1);
        a->asid = asid;
        a->ictx = mmn_iotlb_ctx_new(s->iotlb, asid);
        g_hash_table_insert(s->asids, GUINT_TO_POINTER(asid), a);
    }
    return a;
}

void mmn_smmuv3_asids_free(MmnSmmuv3State *s)
{
    if (s->asids) {
        g_hash_table_remove_all(s->asids);
    }
}

uint64_t mmn_smmuv3_tlbi_count(MmnSmmuv3State *s, int32_t asid)
{
    MmnSmmuv3Asid *a;

    if (asid < 0) {
        return 0;
    }
    a = mmn_smmuv3_asid(s, asid, false);
    return a ? a->tlbi : 0;
}

void mmn_smmuv3_register_master(MmnSmmuv3State *s, uint32_t sid,
                                MmnSmmuv3Txn *txn,
                                const MmnSmmuv3MasterOps *ops, void *opaque)
{
    MmnSmmuv3Master *m;

    assert(s->nr_masters < MMN_SMMUV3_MAX_MASTERS);
    m = &s->masters[s->nr_masters++];
    m->sid = sid;
    m->txn = txn;
    m->ops = ops;
    m->opaque = opaque;
}

static uint8_t fault_event_id(MmnFaultKind k)
{
    switch (k) {
    case MMN_FAULT_TRANSLATION:
        return EVT_F_TRANSLATION;
    case MMN_FAULT_ADDR_SIZE:
        return EVT_F_ADDR_SIZE;
    case MMN_FAULT_ACCESS_FLAG:
        return EVT_F_ACCESS;
    case MMN_FAULT_PERMISSION:
        return EVT_F_PERMISSION;
    default:
        return EVT_F_WALK_EABT;
    }
}

static MmnSmmuv3Xlate xlate_ok(MmnSmmuv3Txn *txn, uint64_t pa, uint64_t len)
{
    txn->pa = pa;
    txn->len = len;
    txn->repeat = 0;
    txn->fault_kind = MMN_FAULT_NONE;
    mmn_livelock_progress(&txn->livelock, txn->asid < 0 ? UINT32_MAX :
                          txn->asid, txn->va, txn->write);
    return MMN_SMMUV3_XLATE_OK;
}

static MmnSmmuv3Xlate xlate_config_fault(MmnSmmuv3Txn *txn)
{
    txn->fault_kind = MMN_SMMUV3_FAULT_CONFIG;
    txn->fault_level = 0;
    txn->from_cache = false;
    return MMN_SMMUV3_XLATE_FAULT;
}

/* The walk (or the cache) faulted: stall, terminate, or end a livelock. */
static MmnSmmuv3Xlate xlate_fault(MmnSmmuv3State *s, MmnSmmuv3Txn *txn,
                                  const MmnSmmuv3Cfg *cfg, MmnIotlbCtx *ictx,
                                  uint64_t serial, const MmnFault *f,
                                  bool from_cache)
{
    bool can_stall = f->kind != MMN_FAULT_WALK_ABORT;
    MmnSmmuv3Evt evt = {
        .id = fault_event_id(f->kind),
        .sid = txn->sid,
        .ssv = txn->ssv,
        .ssid = txn->ssid,
        .write = txn->write,
        /* stage 1: IN, but TT for an abort on a descriptor (7.3.12) */
        .class = f->kind == MMN_FAULT_WALK_ABORT ? EVT_CLASS_TT :
                 EVT_CLASS_IN,
        .addr = txn->va,
        .addr2 = f->desc_pa,
    };

    s->stat_faults++;
    txn->fault_kind = f->kind;
    txn->fault_level = f->level;
    txn->from_cache = from_cache;
    txn->repeat = mmn_livelock_fault(&txn->livelock, cfg->asid, serial, f,
                                     txn->write, from_cache, &mmn_ram_pt_ops,
                                     s->as);
    trace_mmn_smmuv3_fault(txn->sid, txn->ssid, txn->va, f->kind, f->level,
                           from_cache, txn->repeat);
    if (txn->repeat >= s->livelock_threshold) {
        txn->stale = mmn_livelock_stale(ictx, &cfg->walk, true, txn->va,
                                        &mmn_ram_pt_ops_peek, s->as);
        s->stat_livelocks++;
        qemu_log_mask(LOG_GUEST_ERROR,
                      "mmn-smmuv3: livelock: StreamID 0x%x SSID 0x%x VA 0x%"
                      PRIx64 " faulted %u times in a row (ASID %u); %s\n",
                      txn->sid, txn->ssid, txn->va, txn->repeat, cfg->asid,
                      txn->stale ? "the IOTLB entry is stale: was a TLBI "
                      "missed?" : "the IOTLB agrees with the page tables: "
                      "the fault was not fixed");
        memset(&txn->livelock, 0, sizeof(txn->livelock));
        return MMN_SMMUV3_XLATE_LIVELOCK;
    }
    if (cfg->stall && txn->can_stall && can_stall) {
        evt.stall = true;
        evt.stag = s->next_stag++;
        if (mmn_smmuv3_record_event(s, &evt)) {
            s->stat_stalls++;
            txn->stalled = true;
            txn->stag = evt.stag;
            return MMN_SMMUV3_XLATE_STALLED;
        }
        /* No room to report the stall: terminate instead. */
        return MMN_SMMUV3_XLATE_FAULT;
    }
    /* 5.5: R suppresses only the four translation-related faults */
    if (cfg->record || !can_stall) {
        mmn_smmuv3_record_event(s, &evt);
    }
    return MMN_SMMUV3_XLATE_FAULT;
}

MmnSmmuv3Xlate mmn_smmuv3_translate(MmnSmmuv3State *s, MmnSmmuv3Txn *txn)
{
    uint64_t page_end = (txn->va | 0xfff) + 1;
    MmnSmmuv3Cfg cfg;
    MmnSmmuv3Evt evt;
    MmnAccess acc = {
        .va = txn->va,
        .write = txn->write,
        .unpriv = true,
    };
    MmnTranslation tr;
    MmnFault f = { 0 };
    MmnSmmuv3Asid *a;
    bool from_cache = false;
    uint64_t serial;
    uint64_t va;

    txn->asid = -1;
    txn->stalled = false;
    txn->stale = false;
    if (!mmn_smmuv3_enabled(s)) {
        /* SMMUEN == 0: GBPA decides (6.3.14) */
        if (FIELD_EX32(s->gbpa, GBPA, ABORT)) {
            return xlate_config_fault(txn);
        }
        return xlate_ok(txn, txn->va, page_end - txn->va);
    }
    switch (mmn_smmuv3_config(s, txn->sid, txn->ssv, txn->ssid, &cfg,
                              &evt)) {
    case MMN_SMMUV3_CFG_ABORT:
        return xlate_config_fault(txn);
    case MMN_SMMUV3_CFG_EVENT:
        evt.write = txn->write;
        if (!evt.addr) {
            evt.addr = txn->va;
        }
        mmn_smmuv3_record_event(s, &evt);
        return xlate_config_fault(txn);
    case MMN_SMMUV3_CFG_OK:
        break;
    }
    if (cfg.config == STE_CONFIG_BYPASS) {
        return xlate_ok(txn, txn->va, page_end - txn->va);
    }
    txn->asid = cfg.asid;
    a = mmn_smmuv3_asid(s, cfg.asid, true);
    mmn_smmuv3_btm_note_aset(a, cfg.aset);
    if (cfg.epd0 || (txn->va >> 55) & 1 ||
        (!cfg.walk.tbi && txn->va >> 56)) {
        /* TTB0 walks disabled, or a TTB1 address (EPD1: never walked) */
        f.kind = MMN_FAULT_TRANSLATION;
        return xlate_fault(s, txn, &cfg, NULL, 0, &f, false);
    }
    switch (mmn_iotlb_translate(a->ictx, &cfg.walk, &mmn_ram_pt_ops, s->as,
                                &acc, &tr, &f, &from_cache, &serial)) {
    case MMN_XLATE_OK:
        /*
         * The output address goes to the system as it is: if it is not
         * RAM (a device's registers), the master's access is aborted
         * downstream, which the SMMU does not record (F_WALK_EABT is for
         * descriptor fetches, 7.3.12).  With TBI, VA[63:56] are not part
         * of the offset into the leaf.
         */
        va = mmn_walk_input_va(&cfg.walk, txn->va);
        return xlate_ok(txn, tr.pa + (va - tr.va), tr.va + tr.size - va);
    case MMN_XLATE_FAULT:
        return xlate_fault(s, txn, &cfg, a->ictx, serial, &f, from_cache);
    default:
        /* BLOCKED/RELEASED need a notifier subscription: never here. */
        f.kind = MMN_FAULT_WALK_ABORT;
        return xlate_fault(s, txn, &cfg, NULL, 0, &f, false);
    }
}

static void end_stall(MmnSmmuv3Master *m, bool retry)
{
    m->txn->stalled = false;
    m->ops->resume(m->opaque, m->txn, retry);
}

void mmn_smmuv3_resume(MmnSmmuv3State *s, uint32_t sid, uint16_t stag,
                       bool retry)
{
    uint32_t i;

    for (i = 0; i < s->nr_masters; i++) {
        MmnSmmuv3Master *m = &s->masters[i];

        if (m->sid == sid && m->txn->stalled && m->txn->stag == stag) {
            trace_mmn_smmuv3_resume(sid, stag, retry);
            end_stall(m, retry);
            return;
        }
    }
    /* 4.7.2: a RESUME that matches no stalled transaction is ignored. */
    trace_mmn_smmuv3_resume_nomatch(sid, stag);
}

void mmn_smmuv3_stall_term(MmnSmmuv3State *s, uint32_t sid)
{
    uint32_t i;

    for (i = 0; i < s->nr_masters; i++) {
        MmnSmmuv3Master *m = &s->masters[i];

        if (m->sid == sid && m->txn->stalled) {
            end_stall(m, false);
        }
    }
}

void mmn_smmuv3_terminate_all_stalls(MmnSmmuv3State *s)
{
    uint32_t i;

    for (i = 0; i < s->nr_masters; i++) {
        if (s->masters[i].txn->stalled) {
            end_stall(&s->masters[i], false);
        }
    }
}

void mmn_smmuv3_txn_cancel(MmnSmmuv3State *s, MmnSmmuv3Txn *txn)
{
    txn->stalled = false;
}

bool mmn_smmuv3_check(MmnSmmuv3State *s, uint32_t sid, uint32_t ssid,
                      bool ssv, MmnIotlbCheck *r)
{
    MmnSmmuv3Cfg cfg;
    MmnSmmuv3Evt evt;
    MmnSmmuv3Asid *a;

    memset(r, 0, sizeof(*r));
    if (!mmn_smmuv3_enabled(s) ||
        mmn_smmuv3_config_peek(s, sid, ssv, ssid, &cfg, &evt) !=
        MMN_SMMUV3_CFG_OK || cfg.config != STE_CONFIG_S1) {
        return false;
    }
    a = mmn_smmuv3_asid(s, cfg.asid, false);
    if (a && !cfg.epd0) {
        mmn_iotlb_check_ctx(a->ictx, &cfg.walk, true, &mmn_ram_pt_ops_peek,
                            s->as, r, NULL, NULL);
    }
    return true;
}

/*
 * PCI devices behind the SMMU: one IOMMU region per (bus, devfn); RID is
 * the StreamID (the virt machine's iommu-map is the identity).  A PCI
 * function cannot stall (no PRI here): faults terminate the access.
 */
typedef struct MmnSmmuv3PciDev {
    IOMMUMemoryRegion iommu;
    AddressSpace as;
    MmnSmmuv3State *s;
    PCIBus *bus;
    int devfn;
} MmnSmmuv3PciDev;

static IOMMUTLBEntry mmn_smmuv3_iommu_translate(IOMMUMemoryRegion *mr,
                                                hwaddr addr,
                                                IOMMUAccessFlags flag,
                                                int iommu_idx)
{
    MmnSmmuv3PciDev *d = container_of(mr, MmnSmmuv3PciDev, iommu);
    MmnSmmuv3Txn txn = {
        .sid = PCI_BUILD_BDF(pci_bus_num(d->bus), d->devfn),
        .write = flag & IOMMU_WO,
        .va = addr,
    };
    IOMMUTLBEntry e = {
        .target_as = &address_space_memory,
        .iova = addr & ~0xfffULL,
        .addr_mask = 0xfff,
        .perm = IOMMU_NONE,
    };

    if (mmn_smmuv3_translate(d->s, &txn) == MMN_SMMUV3_XLATE_OK) {
        e.translated_addr = txn.pa & ~0xfffULL;
        e.perm = flag == IOMMU_NONE ? IOMMU_RO : flag;
    }
    return e;
}

static AddressSpace *mmn_smmuv3_pci_as(PCIBus *bus, void *opaque, int devfn)
{
    MmnSmmuv3State *s = opaque;
    uint64_t key = ((uint64_t)(uintptr_t)bus << 8) ^ (uint64_t)devfn;
    MmnSmmuv3PciDev *d;

    d = g_hash_table_lookup(s->iommu_mrs, &key);
    if (!d) {
        g_autofree char *name = g_strdup_printf("mmn-smmuv3-%d-%d",
                                                pci_bus_num(bus), devfn);
        uint64_t *k = g_new(uint64_t, 1);

        d = g_new0(MmnSmmuv3PciDev, 1);
        d->s = s;
        d->bus = bus;
        d->devfn = devfn;
        memory_region_init_iommu(&d->iommu, sizeof(d->iommu),
                                 TYPE_MMN_SMMUV3_IOMMU_MR, OBJECT(s), name,
                                 UINT64_MAX);
        address_space_init(&d->as, MEMORY_REGION(&d->iommu), name);
        *k = key;
        g_hash_table_insert(s->iommu_mrs, k, d);
    }
    return &d->as;
}

static const PCIIOMMUOps mmn_smmuv3_pci_ops = {
    .get_address_space = mmn_smmuv3_pci_as,
};

void mmn_smmuv3_pci_init(MmnSmmuv3State *s)
{
    s->iommu_mrs = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                         g_free, NULL);
    if (s->primary_bus) {
        pci_setup_iommu(s->primary_bus, &mmn_smmuv3_pci_ops, s);
    }
}

static void mmn_smmuv3_iommu_mr_class_init(ObjectClass *klass, void *data)
{
    IOMMUMemoryRegionClass *imrc = IOMMU_MEMORY_REGION_CLASS(klass);

    imrc->translate = mmn_smmuv3_iommu_translate;
}

static const TypeInfo mmn_smmuv3_iommu_mr_info = {
    .parent = TYPE_IOMMU_MEMORY_REGION,
    .name = TYPE_MMN_SMMUV3_IOMMU_MR,
    .class_init = mmn_smmuv3_iommu_mr_class_init,
};

static void mmn_smmuv3_iommu_mr_register(void)
{
    type_register_static(&mmn_smmuv3_iommu_mr_info);
}

type_init(mmn_smmuv3_iommu_mr_register)
