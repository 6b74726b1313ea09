/*
 * mmn-smmu: PCI device glue (registers, reset, migration).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "hw/pci/pci.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "hw/mmn-smmu/mmn-smmu.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"
#include "hw/mmn-smmu/trace.h"

static uint32_t mmn_smmu_features(MmnSmmuState *s)
{
    uint32_t f = 0;

    f = FIELD_DP32(f, FEATURES, VA39, 1);
    f = FIELD_DP32(f, FEATURES, VA48, 1);
    f = FIELD_DP32(f, FEATURES, BLOCKS, 1);
    return f;
}

static uint64_t mmn_smmu_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    MmnSmmuState *s = opaque;
    uint64_t val = 0;

    switch (addr) {
    case A_ID:
        val = MMN_SMMU_ID_VALUE;
        break;
    case A_VERSION:
        val = FIELD_DP32(0, VERSION, MAJOR, MMN_SMMU_VERSION_MAJOR);
        val = FIELD_DP32(val, VERSION, MINOR, MMN_SMMU_VERSION_MINOR);
        break;
    case A_FEATURES:
        val = mmn_smmu_features(s);
        break;
    case A_NUM_CTX:
        val = s->num_ctx;
        break;
    case A_IOTLB_CAP:
        val = s->iotlb_capacity;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "mmn-smmu: read of undefined register 0x%" HWADDR_PRIx
                      "\n", addr);
        val = 0;
        break;
    }
    trace_mmn_smmu_mmio_read(addr, val, size);
    return val;
}

static void mmn_smmu_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                                unsigned size)
{
    trace_mmn_smmu_mmio_write(addr, val, size);
    switch (addr) {
    case A_ID:
    case A_VERSION:
    case A_FEATURES:
    case A_NUM_CTX:
    case A_IOTLB_CAP:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "mmn-smmu: write to read-only register 0x%"
                      HWADDR_PRIx "\n", addr);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "mmn-smmu: write to undefined register 0x%"
                      HWADDR_PRIx "\n", addr);
        break;
    }
}

static const MemoryRegionOps mmn_smmu_mmio_ops = {
    .read = mmn_smmu_mmio_read,
    .write = mmn_smmu_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

static void mmn_smmu_realize(PCIDevice *pdev, Error **errp)
{
    MmnSmmuState *s = MMN_SMMU(pdev);

    if (s->num_ctx == 0 || s->num_ctx > MMN_SMMU_MAX_CTX) {
        error_setg(errp, "mmn-smmu: num-ctx must be 1..%d",
                   MMN_SMMU_MAX_CTX);
        return;
    }
    if (s->iotlb_capacity == 0) {
        error_setg(errp, "mmn-smmu: iotlb-capacity must be non-zero");
        return;
    }
    pci_config_set_interrupt_pin(pdev->config, 1);
    memory_region_init_io(&s->mmio, OBJECT(s), &mmn_smmu_mmio_ops, s,
                          "mmn-smmu-mmio", MMN_SMMU_BAR0_SIZE);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);
}

static void mmn_smmu_reset(DeviceState *dev)
{
    trace_mmn_smmu_reset();
}

static const VMStateDescription vmstate_mmn_smmu = {
    .name = TYPE_MMN_SMMU,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, MmnSmmuState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property mmn_smmu_properties[] = {
    DEFINE_PROP_UINT32("num-ctx", MmnSmmuState, num_ctx, 8),
    DEFINE_PROP_UINT32("iotlb-capacity", MmnSmmuState, iotlb_capacity, 4096),
};

static void mmn_smmu_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = mmn_smmu_realize;
    k->vendor_id = MMN_SMMU_PCI_VENDOR_ID;
    k->device_id = MMN_SMMU_PCI_DEVICE_ID;
    k->revision = MMN_SMMU_PCI_REVISION;
    k->class_id = MMN_SMMU_PCI_CLASS;
    k->subsystem_vendor_id = MMN_SMMU_PCI_VENDOR_ID;
    k->subsystem_id = MMN_SMMU_PCI_DEVICE_ID;
    dc->desc = "mmn-smmu: SMMU without BTM, kept coherent by mmu_notifier";
    dc->vmsd = &vmstate_mmn_smmu;
    device_class_set_legacy_reset(dc, mmn_smmu_reset);
    device_class_set_props(dc, mmn_smmu_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo mmn_smmu_info = {
    .name = TYPE_MMN_SMMU,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(MmnSmmuState),
    .class_init = mmn_smmu_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void mmn_smmu_register_types(void)
{
    type_register_static(&mmn_smmu_info);
}

type_init(mmn_smmu_register_types)
