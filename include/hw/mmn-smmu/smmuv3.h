/*
 * mmn-smmuv3: an Arm SMMUv3 front end (Arm IHI 0070) over the mmn-smmu
 * walker and IOTLB, for stage-1 SVA with stalls, as Linux's arm-smmu-v3
 * driver programs it.  docs/specs/mmn-smmuv3.rst is its description.
 *
 * The IOTLB is tagged by ASID: one IOTLB context per ASID, shared by every
 * context descriptor that carries it.  TLBI commands reach that context
 * through the same invalidation the notifier layer's secondary-TLB
 * callback uses (mmn_iotlb_inv_secondary): one cache, two front ends.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MMN_SMMU_SMMUV3_H
#define HW_MMN_SMMU_SMMUV3_H

#include "hw/sysbus.h"
#include "qom/object.h"
#include "exec/memory.h"
#include "hw/mmn-smmu/walker.h"
#include "hw/mmn-smmu/tlbi-snoop.h"
#include "hw/mmn-smmu/livelock.h"

#define TYPE_MMN_SMMUV3 "mmn-smmuv3"
OBJECT_DECLARE_SIMPLE_TYPE(MmnSmmuv3State, MMN_SMMUV3)

#define TYPE_MMN_SMMUV3_IOMMU_MR "mmn-smmuv3-iommu-memory-region"

/* Wired interrupts, in the order of QEMU's own SMMUv3 (and its DT node). */
enum {
    MMN_SMMUV3_IRQ_EVTQ,
    MMN_SMMUV3_IRQ_PRIQ,
    MMN_SMMUV3_IRQ_CMD_SYNC,
    MMN_SMMUV3_IRQ_GERROR,
    MMN_SMMUV3_NUM_IRQS,
};

#define MMN_SMMUV3_MMIO_SIZE 0x20000    /* register pages 0 and 1 */
#define MMN_SMMUV3_MAX_MASTERS 8

typedef struct MmnIotlb MmnIotlb;
typedef struct MmnIotlbCtx MmnIotlbCtx;

typedef struct MmnSmmuv3Queue {
    uint64_t base;          /* Q_BASE register: RA/WA, ADDR, LOG2SIZE */
    uint32_t prod;
    uint32_t cons;
} MmnSmmuv3Queue;

/*
 * One in-flight transaction of a master, owned (and migrated) by the
 * master.  The master fills the request fields and calls
 * mmn_smmuv3_translate(); the SMMU fills the rest.  A stalled transaction
 * stays here until CMD_RESUME / CMD_STALL_TERM ends the stall, or the
 * master cancels it.
 */
typedef struct MmnSmmuv3Txn {
    /* request */
    uint32_t sid;
    uint32_t ssid;
    bool ssv;
    bool write;
    bool can_stall;         /* the master can wait (platform "dma-can-stall") */
    uint64_t va;
    /* result of the last translation */
    uint64_t pa;
    uint64_t len;           /* bytes valid from pa (to the leaf's end) */
    uint8_t fault_kind;     /* MmnFaultKind, or MMN_SMMUV3_FAULT_CONFIG */
    uint8_t fault_level;
    bool from_cache;        /* the last fault came from a cached entry */
    /* stall state */
    bool stalled;
    uint16_t stag;
    /* livelock detector (livelock.h): its suspect, and when it fired */
    MmnLivelock livelock;
    uint32_t repeat;        /* repeat count of the last fault */
    bool stale;             /* LIVELOCK: the IOTLB entry was stale */
    /* the ASID the transaction used (for per-ASID TLBI counts), or -1 */
    int32_t asid;
} MmnSmmuv3Txn;

/* A configuration error (bad STE/CD, stream disabled): not a walk fault. */
#define MMN_SMMUV3_FAULT_CONFIG 6

typedef enum MmnSmmuv3Xlate {
    MMN_SMMUV3_XLATE_OK,        /* txn->pa, txn->len valid */
    MMN_SMMUV3_XLATE_FAULT,     /* terminated (abort to the master) */
    MMN_SMMUV3_XLATE_STALLED,   /* parked until resumed (callback) */
    MMN_SMMUV3_XLATE_LIVELOCK,  /* terminated by the livelock detector */
} MmnSmmuv3Xlate;

typedef struct MmnSmmuv3MasterOps {
    /*
     * The stall of @txn ended: @retry true for CMD_RESUME with Retry (the
     * master translates again), false for Abort / Terminate /
     * CMD_STALL_TERM / SMMU disable (the transaction is terminated).
     */
    void (*resume)(void *opaque, MmnSmmuv3Txn *txn, bool retry);
} MmnSmmuv3MasterOps;

typedef struct MmnSmmuv3Master {
    uint32_t sid;
    const MmnSmmuv3MasterOps *ops;
    void *opaque;
    MmnSmmuv3Txn *txn;
} MmnSmmuv3Master;

typedef struct MmnSmmuv3Asid MmnSmmuv3Asid;

struct MmnSmmuv3State {
    SysBusDevice parent_obj;
    MemoryRegion iomem;
    qemu_irq irq[MMN_SMMUV3_NUM_IRQS];
    AddressSpace *as;       /* where tables, queues and DMA data live */
    PCIBus *primary_bus;    /* link: PCI devices translated (RID = SID) */

    /* properties */
    bool btm;
    uint8_t httu;           /* IDR0.HTTU: 0 none, 1 HA, 2 HA+HD */
    uint8_t sid_bits;
    uint8_t ssid_bits;
    uint8_t oas_bits;
    bool ril;
    uint32_t iotlb_capacity;
    uint32_t livelock_threshold;
    bool config_cache;

    /* registers */
    uint32_t cr[3];
    uint32_t cr0ack;
    uint32_t gbpa;
    uint32_t irq_ctrl;
    uint32_t gerror;
    uint32_t gerrorn;
    uint64_t gerror_irq_cfg0;
    uint32_t gerror_irq_cfg1;
    uint32_t gerror_irq_cfg2;
    uint64_t strtab_base;
    uint32_t strtab_base_cfg;
    MmnSmmuv3Queue cmdq;
    MmnSmmuv3Queue evtq;
    uint64_t eventq_irq_cfg0;
    uint32_t eventq_irq_cfg1;
    uint32_t eventq_irq_cfg2;
    uint16_t next_stag;

    /* the shared cache: one IOTLB context per ASID */
    MmnIotlb *iotlb;
    GHashTable *asids;      /* ASID -> MmnSmmuv3Asid */
    /* the configuration cache (smmuv3/config-cache.c), not migrated */
    GHashTable *cfgc;

    MmnSmmuv3Master masters[MMN_SMMUV3_MAX_MASTERS];
    uint32_t nr_masters;
    GHashTable *iommu_mrs;  /* PCI devfn/bus -> IOMMU region */

    /* counters (QOM properties) */
    uint64_t stat_commands;
    uint64_t stat_events;
    uint64_t stat_events_lost;
    uint64_t stat_tlbi;
    uint64_t stat_faults;
    uint64_t stat_stalls;
    uint64_t stat_livelocks;
    uint64_t stat_cfgc_hits;
    uint64_t stat_stale_configs;

    /* broadcast TLB maintenance (btm = on; smmuv3/btm.c) */
    MmnTlbiSnooper btm_snooper;
    uint64_t stat_btm_invalidations;
    uint64_t stat_btm_ignored;
};

/* Masters: a platform device with StreamID @sid behind the SMMU. */
void mmn_smmuv3_register_master(MmnSmmuv3State *s, uint32_t sid,
                                MmnSmmuv3Txn *txn,
                                const MmnSmmuv3MasterOps *ops, void *opaque);

/*
 * Translate txn->va for txn->sid/ssid.  On MMN_SMMUV3_XLATE_STALLED the
 * master waits for its resume callback and must not translate @txn again
 * before.  Called with the BQL held.
 */
MmnSmmuv3Xlate mmn_smmuv3_translate(MmnSmmuv3State *s, MmnSmmuv3Txn *txn);

/*
 * The master gives up on @txn (abort, new job): a stall of it is dropped.
 * The livelock suspect stays, so a master that resubmits a faulting job
 * is caught as well as one that is resumed.
 */
void mmn_smmuv3_txn_cancel(MmnSmmuv3State *s, MmnSmmuv3Txn *txn);

/*
 * Coherence check of the IOTLB entries of the ASID that (sid, ssid/ssv)
 * maps to now (through the configuration cache, as a transaction).
 * Returns false if the stream does not translate through a valid stage-1
 * context descriptor.
 */
typedef struct MmnIotlbCheck MmnIotlbCheck;
bool mmn_smmuv3_check(MmnSmmuv3State *s, uint32_t sid, uint32_t ssid,
                      bool ssv, MmnIotlbCheck *r);

/* TLBI commands executed so far that covered @asid (any VA). */
uint64_t mmn_smmuv3_tlbi_count(MmnSmmuv3State *s, int32_t asid);

#endif /* HW_MMN_SMMU_SMMUV3_H */
