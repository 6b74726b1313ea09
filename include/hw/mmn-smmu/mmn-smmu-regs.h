/*
 * mmn-smmu register layout (BAR0).  docs/specs/mmn-smmu.rst is the
 * programming interface; this header is its machine-readable twin.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MMN_SMMU_REGS_H
#define HW_MMN_SMMU_REGS_H

#include "hw/registerfields.h"

#define MMN_SMMU_PCI_VENDOR_ID      0x1af4  /* Red Hat (Qumranet) */
#define MMN_SMMU_PCI_DEVICE_ID      0x10f5  /* experimental range 10f0-10ff */
#define MMN_SMMU_PCI_CLASS          0x0806  /* system peripheral: IOMMU */
#define MMN_SMMU_PCI_REVISION       0x01

#define MMN_SMMU_BAR0_SIZE          0x1000

#define MMN_SMMU_ID_VALUE           0x4d4d4e53  /* "MMNS" */
#define MMN_SMMU_VERSION_MAJOR      1
#define MMN_SMMU_VERSION_MINOR      0

/* Identification */
REG32(ID,           0x000)
REG32(VERSION,      0x004)
    FIELD(VERSION, MINOR,        0, 16)
    FIELD(VERSION, MAJOR,       16, 16)
REG32(FEATURES,     0x008)
    FIELD(FEATURES, VA39,        0, 1)
    FIELD(FEATURES, VA48,        1, 1)
    FIELD(FEATURES, HTTU_HA,     2, 1)
    FIELD(FEATURES, HTTU_HD,     3, 1)
    FIELD(FEATURES, BLOCKS,      4, 1)
    FIELD(FEATURES, STALL,       5, 1)
    FIELD(FEATURES, MSI,         6, 1)
    FIELD(FEATURES, YOUNG_BITMAP, 7, 1)
    FIELD(FEATURES, BTM,         8, 1)
REG32(NUM_CTX,      0x00c)
REG32(IOTLB_CAP,    0x010)

#endif /* HW_MMN_SMMU_REGS_H */
