/*
 * qtest for mmn-smmu: identification, reset values, undefined registers.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qemu/module.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "libqos/mmn-smmu.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"
#include "hw/pci/pci_regs.h"

static void test_pci_ids(void *obj, void *data, QGuestAllocator *alloc)
{
    QMmnSmmu *s = obj;

    g_assert_cmphex(qpci_config_readw(&s->dev, PCI_VENDOR_ID), ==,
                    MMN_SMMU_PCI_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(&s->dev, PCI_DEVICE_ID), ==,
                    MMN_SMMU_PCI_DEVICE_ID);
    g_assert_cmphex(qpci_config_readw(&s->dev, PCI_CLASS_DEVICE), ==,
                    MMN_SMMU_PCI_CLASS);
    g_assert_cmphex(qpci_config_readb(&s->dev, PCI_REVISION_ID), ==,
                    MMN_SMMU_PCI_REVISION);
}

static void test_ident_regs(void *obj, void *data, QGuestAllocator *alloc)
{
    QMmnSmmu *s = obj;
    uint32_t ver = qmmn_readl(s, A_ID + 4);
    uint32_t feat = qmmn_readl(s, A_FEATURES);

    g_assert_cmphex(qmmn_readl(s, A_ID), ==, MMN_SMMU_ID_VALUE);
    g_assert_cmpuint(FIELD_EX32(ver, VERSION, MAJOR), ==,
                     MMN_SMMU_VERSION_MAJOR);
    g_assert_cmpuint(FIELD_EX32(ver, VERSION, MINOR), ==,
                     MMN_SMMU_VERSION_MINOR);
    g_assert_true(FIELD_EX32(feat, FEATURES, VA39));
    g_assert_true(FIELD_EX32(feat, FEATURES, VA48));
    g_assert_false(FIELD_EX32(feat, FEATURES, BTM));
    g_assert_cmpuint(qmmn_readl(s, A_NUM_CTX), ==, 8);
    g_assert_cmpuint(qmmn_readl(s, A_IOTLB_CAP), ==, 4096);
}

static void test_read_only_regs(void *obj, void *data, QGuestAllocator *alloc)
{
    QMmnSmmu *s = obj;

    qmmn_writel(s, A_ID, 0xdeadbeef);
    g_assert_cmphex(qmmn_readl(s, A_ID), ==, MMN_SMMU_ID_VALUE);
}

static void test_undefined_regs(void *obj, void *data, QGuestAllocator *alloc)
{
    QMmnSmmu *s = obj;

    /* Undefined offsets read as zero and ignore writes. */
    qmmn_writel(s, 0xff0, 0x12345678);
    g_assert_cmphex(qmmn_readl(s, 0xff0), ==, 0);
    g_assert_cmphex(qmmn_readl(s, 0xffc), ==, 0);
}

static void mmn_smmu_register_tests(void)
{
    qos_add_test("pci-ids", "mmn-smmu", test_pci_ids, NULL);
    qos_add_test("ident-regs", "mmn-smmu", test_ident_regs, NULL);
    qos_add_test("read-only-regs", "mmn-smmu", test_read_only_regs, NULL);
    qos_add_test("undefined-regs", "mmn-smmu", test_undefined_regs, NULL);
}

libqos_init(mmn_smmu_register_tests);
