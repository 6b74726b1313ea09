/*
 * libqos driver for the mmn-smmu PCI device.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_LIBQOS_MMN_SMMU_H
#define TESTS_LIBQOS_MMN_SMMU_H

#include "qgraph.h"
#include "pci.h"

typedef struct QMmnSmmu {
    QOSGraphObject obj;
    QPCIDevice dev;
    QPCIBar bar;
} QMmnSmmu;

uint32_t qmmn_readl(QMmnSmmu *s, uint64_t off);
void qmmn_writel(QMmnSmmu *s, uint64_t off, uint32_t val);

#endif
