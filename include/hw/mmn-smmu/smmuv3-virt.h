/*
 * mmn-smmuv3 on the Arm virt machine (-M virt,iommu=mmn-smmuv3).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MMN_SMMU_SMMUV3_VIRT_H
#define HW_MMN_SMMU_SMMUV3_VIRT_H

#include "hw/pci/pci.h"

/* Where the SVA master sits on virt (a gap of virt's memory map). */
#define MMN_SVA_MASTER_VIRT_BASE 0x090c0000ULL
#define MMN_SVA_MASTER_VIRT_SPI 80
#define MMN_SVA_MASTER_VIRT_SID 0x10000

/*
 * Create the SMMU at @base (MMN_SMMUV3_MMIO_SIZE bytes, SPIs @spi ..
 * @spi + 3: eventq, priq, cmdq-sync, gerror) in front of @bus, and one
 * mmn-sva-master, and describe both in @fdt: the SMMU node with
 * compatible "arm,smmu-v3" and @phandle, as virt's own iommu=smmuv3 does,
 * and the master's node with iommus, dma-can-stall and pasid-num-bits.
 * The caller adds the PCIe node's iommu-map.
 */
void mmn_smmuv3_virt_create(void *fdt, DeviceState *gic, PCIBus *bus,
                            hwaddr base, int spi, uint32_t phandle);

#endif /* HW_MMN_SMMU_SMMUV3_VIRT_H */
