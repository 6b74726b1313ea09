/*
 * mmn-smmu: a secondary MMU without broadcast TLB maintenance, kept coherent
 * by mmu_notifier calls from the guest kernel.  Device state.
 *
 * docs/specs/mmn-smmu.rst is the programming interface.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MMN_SMMU_H
#define HW_MMN_SMMU_H

#include "hw/pci/pci_device.h"
#include "qom/object.h"
#include "hw/mmn-smmu/walker.h"
#include "hw/mmn-smmu/livelock.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"

#define TYPE_MMN_SMMU "mmn-smmu"
OBJECT_DECLARE_SIMPLE_TYPE(MmnSmmuState, MMN_SMMU)

#define MMN_SMMU_MAX_CTX 16
/* Notifier ranges a context may have open at once (start without end). */
#define MMN_SMMU_MAX_OPEN_RANGES 32

/*
 * An MN_RANGE_START/END as the command gives it; also how an open range
 * travels in the migration stream (the notifier layer owns open ranges).
 */
typedef struct MmnSmmuOpenRange {
    uint64_t start;
    uint64_t end;
    uint64_t owner;
    uint32_t arg;           /* event | BLOCKABLE, as in the command */
} MmnSmmuOpenRange;

typedef struct MmnIotlb MmnIotlb;
typedef struct MmnIotlbCtx MmnIotlbCtx;
typedef struct MmnMm MmnMm;
typedef struct MmnNotifier MmnNotifier;
typedef struct MmnNotifierOps MmnNotifierOps;

/* A context: one address space bound to a page-table root. */
typedef struct MmnSmmuCtx {
    bool bound;
    uint64_t ttb;
    uint64_t cfg;           /* CTX_BIND configuration word */
    uint64_t owner;         /* CTX_BIND owner cookie (MIGRATE events) */
    MmnWalkConfig walk;     /* derived from ttb and cfg */
    /*
     * The notifier layer's address space: it owns the open ranges and
     * whether MN_RELEASE was delivered (mmn_mm_for_each_open_range(),
     * mmn_mm_is_released()).
     */
    MmnMm *mm;
    /* Between loading a migration stream and post_load only. */
    struct MmnSmmuCtxMig *incoming;
    MmnIotlbCtx *ictx;      /* the IOTLB's view of it (subscribed to mm) */
    MmnNotifier *dma_mn;    /* the DMA engine's subscription to mm */
    struct MmnSmmuState *dev;
} MmnSmmuCtx;

typedef struct MmnSmmuQueue {
    uint64_t base;
    uint32_t log2size;
    uint32_t prod;
    uint32_t cons;
} MmnSmmuQueue;

/* The DMA engine's in-flight descriptor. */
typedef struct MmnSmmuDma {
    uint8_t state;          /* MMN_DMA_ST_*: IDLE, STALLED, BLOCKED... */
    uint64_t desc_addr;
    MmnDmaDesc desc;        /* host-endian copy */
    uint32_t done;          /* bytes transferred so far */
    uint32_t faults;
    uint64_t fault_va;      /* DMA_FAULT_VA */
    uint32_t status;        /* last status word: DMA_STATUS */
} MmnSmmuDma;

struct MmnSmmuState {
    PCIDevice parent_obj;
    MemoryRegion mmio;

    /* properties */
    uint32_t num_ctx;
    uint32_t iotlb_capacity;
    uint32_t livelock_threshold;

    /* registers */
    uint32_t ctrl;
    uint32_t irq_status;
    uint32_t irq_enable;
    MmnSmmuQueue cmdq;
    uint32_t cmdq_err;
    MmnSmmuQueue evtq;
    uint32_t evtq_lost;
    uint64_t dma_desc;      /* DMA_DESC; the engine latches it at doorbell */
    bool irq_level;

    MmnSmmuDma dma;
    /*
     * The livelock detector's suspect (livelock.h; docs/specs/mmn-smmu.rst
     * "Livelock detection"): it outlives descriptors, so that a driver
     * resubmitting after each fault is caught too.  Not migrated: the
     * count restarts on the destination.
     */
    MmnLivelock livelock;
    MmnSmmuCtx ctx[MMN_SMMU_MAX_CTX];
    MmnIotlb *iotlb;

    /* counters (QOM properties) */
    uint64_t stat_commands;
    uint64_t stat_events;
    uint64_t stat_events_lost;
    uint64_t stat_dma_faults;
    uint64_t stat_livelocks;
};

#endif /* HW_MMN_SMMU_H */
