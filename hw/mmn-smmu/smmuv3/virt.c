/*
 * mmn-smmuv3 on the Arm virt machine: the devices and their device tree
 * nodes.  The SMMU node is what hw/arm/virt.c create_smmu() writes for
 * QEMU's own SMMUv3 (Linux Documentation/devicetree/bindings/iommu/
 * arm,smmu-v3.yaml); the master's node carries the properties Linux's
 * arm_smmu_probe_device() reads for SVA with stalls: "pasid-num-bits"
 * (master->ssid_bits) and "dma-can-stall" (master->stall_enabled), in
 * drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c of 6.1 and 6.12.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/sysbus.h"
#include "hw/qdev-properties.h"
#include "hw/arm/fdt.h"
#include "system/device_tree.h"
#include "hw/mmn-smmu/smmuv3.h"
#include "hw/mmn-smmu/smmuv3-virt.h"
#include "hw/mmn-smmu/sva-master.h"

#define MMN_SVA_MASTER_PASID_BITS 16

void mmn_smmuv3_virt_create(void *fdt, DeviceState *gic, PCIBus *bus,
                            hwaddr base, int spi, uint32_t phandle)
{
    const char compat[] = "arm,smmu-v3";
    const char irq_names[] = "eventq\0priq\0cmdq-sync\0gerror";
    const char master_compat[] = "mmn,sva-master";
    DeviceState *smmu, *master;
    hwaddr mbase = MMN_SVA_MASTER_VIRT_BASE;
    char *node;
    int i;

    smmu = qdev_new(TYPE_MMN_SMMUV3);
    object_property_set_link(OBJECT(smmu), "primary-bus", OBJECT(bus),
                             &error_abort);
    sysbus_realize_and_unref(SYS_BUS_DEVICE(smmu), &error_fatal);
    sysbus_mmio_map(SYS_BUS_DEVICE(smmu), 0, base);
    for (i = 0; i < MMN_SMMUV3_NUM_IRQS; i++) {
        sysbus_connect_irq(SYS_BUS_DEVICE(smmu), i,
                           qdev_get_gpio_in(gic, spi + i));
    }

    node = g_strdup_printf("/smmuv3@%" PRIx64, base);
    qemu_fdt_add_subnode(fdt, node);
    qemu_fdt_setprop(fdt, node, "compatible", compat, sizeof(compat));
    qemu_fdt_setprop_sized_cells(fdt, node, "reg", 2, base, 2,
                                 MMN_SMMUV3_MMIO_SIZE);
    qemu_fdt_setprop_cells(fdt, node, "interrupts",
            GIC_FDT_IRQ_TYPE_SPI, spi, GIC_FDT_IRQ_FLAGS_EDGE_LO_HI,
            GIC_FDT_IRQ_TYPE_SPI, spi + 1, GIC_FDT_IRQ_FLAGS_EDGE_LO_HI,
            GIC_FDT_IRQ_TYPE_SPI, spi + 2, GIC_FDT_IRQ_FLAGS_EDGE_LO_HI,
            GIC_FDT_IRQ_TYPE_SPI, spi + 3, GIC_FDT_IRQ_FLAGS_EDGE_LO_HI);
    qemu_fdt_setprop(fdt, node, "interrupt-names", irq_names,
                     sizeof(irq_names));
    qemu_fdt_setprop(fdt, node, "dma-coherent", NULL, 0);
    qemu_fdt_setprop_cell(fdt, node, "#iommu-cells", 1);
    qemu_fdt_setprop_cell(fdt, node, "phandle", phandle);
    g_free(node);

    master = qdev_new(TYPE_MMN_SVA_MASTER);
    object_property_set_link(OBJECT(master), "smmu", OBJECT(smmu),
                             &error_abort);
    qdev_prop_set_uint32(master, "sid", MMN_SVA_MASTER_VIRT_SID);
    sysbus_realize_and_unref(SYS_BUS_DEVICE(master), &error_fatal);
    sysbus_mmio_map(SYS_BUS_DEVICE(master), 0, mbase);
    sysbus_connect_irq(SYS_BUS_DEVICE(master), 0,
                       qdev_get_gpio_in(gic, MMN_SVA_MASTER_VIRT_SPI));

    node = g_strdup_printf("/mmn-sva-master@%" PRIx64, mbase);
    qemu_fdt_add_subnode(fdt, node);
    qemu_fdt_setprop(fdt, node, "compatible", master_compat,
                     sizeof(master_compat));
    qemu_fdt_setprop_sized_cells(fdt, node, "reg", 2, mbase, 2,
                                 MMN_SVA_MASTER_MMIO_SIZE);
    qemu_fdt_setprop_cells(fdt, node, "interrupts", GIC_FDT_IRQ_TYPE_SPI,
                           MMN_SVA_MASTER_VIRT_SPI,
                           GIC_FDT_IRQ_FLAGS_LEVEL_HI);
    qemu_fdt_setprop_cells(fdt, node, "iommus", phandle,
                           MMN_SVA_MASTER_VIRT_SID);
    qemu_fdt_setprop(fdt, node, "dma-can-stall", NULL, 0);
    qemu_fdt_setprop_cell(fdt, node, "pasid-num-bits",
                          MMN_SVA_MASTER_PASID_BITS);
    qemu_fdt_setprop(fdt, node, "dma-coherent", NULL, 0);
    g_free(node);
}
