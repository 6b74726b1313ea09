/*
 * libqos driver for the mmn-smmu PCI device.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "../libqtest.h"
#include "qemu/module.h"
#include "qgraph.h"
#include "pci.h"
#include "mmn-smmu.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"

uint32_t qmmn_readl(QMmnSmmu *s, uint64_t off)
{
    return qpci_io_readl(&s->dev, s->bar, off);
}

void qmmn_writel(QMmnSmmu *s, uint64_t off, uint32_t val)
{
    qpci_io_writel(&s->dev, s->bar, off, val);
}

static void *mmn_smmu_get_driver(void *obj, const char *interface)
{
    QMmnSmmu *s = obj;

    if (!g_strcmp0(interface, "pci-device")) {
        return &s->dev;
    }
    fprintf(stderr, "%s not present in mmn-smmu\n", interface);
    g_assert_not_reached();
}

static void mmn_smmu_start_hw(QOSGraphObject *obj)
{
    QMmnSmmu *s = (QMmnSmmu *)obj;

    qpci_device_enable(&s->dev);
}

static void mmn_smmu_destructor(QOSGraphObject *obj)
{
    QMmnSmmu *s = (QMmnSmmu *)obj;

    qpci_iounmap(&s->dev, s->bar);
}

static void *mmn_smmu_create(void *pci_bus, QGuestAllocator *alloc,
                             void *addr)
{
    QMmnSmmu *s = g_new0(QMmnSmmu, 1);

    qpci_device_init(&s->dev, pci_bus, addr);
    s->bar = qpci_iomap(&s->dev, 0, NULL);
    s->obj.get_driver = mmn_smmu_get_driver;
    s->obj.start_hw = mmn_smmu_start_hw;
    s->obj.destructor = mmn_smmu_destructor;
    return &s->obj;
}

static void mmn_smmu_register_nodes(void)
{
    QPCIAddress addr = {
        .devfn = QPCI_DEVFN(4, 0),
        .vendor_id = MMN_SMMU_PCI_VENDOR_ID,
        .device_id = MMN_SMMU_PCI_DEVICE_ID,
    };
    QOSGraphEdgeOptions opts = {
        .extra_device_opts = "addr=04.0,id=mmn0",
    };

    add_qpci_address(&opts, &addr);
    qos_node_create_driver("mmn-smmu", mmn_smmu_create);
    qos_node_consumes("mmn-smmu", "pci-bus", &opts);
    qos_node_produces("mmn-smmu", "pci-device");
}

libqos_init(mmn_smmu_register_nodes);
