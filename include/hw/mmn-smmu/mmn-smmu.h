/*
 * mmn-smmu: a secondary MMU without broadcast TLB maintenance, kept coherent
 * by mmu_notifier calls from the guest kernel.  Device state.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MMN_SMMU_H
#define HW_MMN_SMMU_H

#include "hw/pci/pci_device.h"
#include "qom/object.h"

#define TYPE_MMN_SMMU "mmn-smmu"
OBJECT_DECLARE_SIMPLE_TYPE(MmnSmmuState, MMN_SMMU)

#define MMN_SMMU_MAX_CTX 16

struct MmnSmmuState {
    PCIDevice parent_obj;
    MemoryRegion mmio;

    /* properties */
    uint32_t num_ctx;
    uint32_t iotlb_capacity;
};

#endif /* HW_MMN_SMMU_H */
