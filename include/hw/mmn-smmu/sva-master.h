/*
 * mmn-sva-master: a DMA master behind mmn-smmuv3 that Linux binds with SVA
 * (a platform device with dma-can-stall and pasid-num-bits).
 * docs/specs/mmn-smmuv3.rst, "The SVA master", is its interface.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MMN_SMMU_SVA_MASTER_H
#define HW_MMN_SMMU_SVA_MASTER_H

#include "hw/sysbus.h"
#include "qom/object.h"
#include "hw/mmn-smmu/smmuv3.h"

#define TYPE_MMN_SVA_MASTER "mmn-sva-master"
OBJECT_DECLARE_SIMPLE_TYPE(MmnSvaMasterState, MMN_SVA_MASTER)

#define MMN_SVA_MASTER_MMIO_SIZE 0x10000
#define MMN_SVA_MASTER_DATA 0x1000
#define MMN_SVA_MASTER_DATA_SIZE 0x1000
#define MMN_SVA_MASTER_MAX_LEN 0x10000

enum {
    MMN_SVA_ST_IDLE = 0,
    MMN_SVA_ST_BUSY = 1,
    MMN_SVA_ST_DONE = 2,
    MMN_SVA_ST_FAULT = 3,
    MMN_SVA_ST_LIVELOCK = 4,
    MMN_SVA_ST_ABORTED = 5,
};

enum {
    MMN_SVA_OP_READ = 1,
    MMN_SVA_OP_WRITE = 2,
    MMN_SVA_OP_FILL = 3,
};

struct MmnSvaMasterState {
    SysBusDevice parent_obj;
    MemoryRegion iomem;
    qemu_irq irq;
    MmnSmmuv3State *smmu;
    uint32_t sid;

    /* registers */
    uint32_t ctrl;
    uint32_t pasid;
    uint64_t va;
    uint32_t len;
    uint32_t op;
    uint32_t pattern;
    uint32_t state;
    uint32_t fault_info;    /* STATUS[12:8] */
    uint32_t done;
    uint32_t faults;
    uint32_t retries;
    uint64_t fault_va;
    uint32_t irq_status;
    uint32_t livelock_count;
    uint64_t tlbi_base;
    uint32_t tlbi_count;
    int32_t job_asid;
    uint32_t check[5];
    uint8_t data[MMN_SVA_MASTER_DATA_SIZE];

    MmnSmmuv3Txn txn;
};

#endif /* HW_MMN_SMMU_SVA_MASTER_H */
