/*
 * mmn-smmu: guest memory access of the PCI front end.
 *
 * Every access the device makes on its own behalf (queues, results,
 * descriptors, bounce buffers, page tables, DMA data) goes through the
 * common guest RAM helpers (include/hw/mmn-smmu/guest-ram.h) in the
 * device's bus-master address space: allowed only when the whole range is
 * guest RAM there, so MMIO (the device's own BAR included), holes, ranges
 * that wrap and every access while bus mastering is off are refused.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/pci/pci_device.h"
#include "hw/mmn-smmu/guest-ram.h"
#include "mmn-smmu-internal.h"

static AddressSpace *mmn_smmu_as(MmnSmmuState *s)
{
    return pci_get_address_space(PCI_DEVICE(s));
}

bool mmn_smmu_ram_ok(MmnSmmuState *s, uint64_t addr, uint64_t len,
                     bool is_write)
{
    return mmn_ram_ok(mmn_smmu_as(s), addr, len, is_write);
}

bool mmn_smmu_read(MmnSmmuState *s, uint64_t addr, void *buf, uint64_t len)
{
    return mmn_ram_read(mmn_smmu_as(s), addr, buf, len);
}

bool mmn_smmu_write(MmnSmmuState *s, uint64_t addr, const void *buf,
                    uint64_t len)
{
    return mmn_ram_write(mmn_smmu_as(s), addr, buf, len);
}

/*
 * DMA data at an output address that mmn_smmu_ram_ok() accepted in the
 * same MMIO handler (the memory map cannot change in between, under the
 * BQL): no second check.
 */
void mmn_smmu_dma_data_read(MmnSmmuState *s, uint64_t pa, void *buf,
                            uint64_t len)
{
    address_space_read(mmn_smmu_as(s), pa, MEMTXATTRS_UNSPECIFIED, buf, len);
}

void mmn_smmu_dma_data_write(MmnSmmuState *s, uint64_t pa, const void *buf,
                             uint64_t len)
{
    address_space_write(mmn_smmu_as(s), pa, MEMTXATTRS_UNSPECIFIED, buf, len);
}

/* Page-table ops with the device as opaque, over the common ones. */
static bool pt_read(void *opaque, uint64_t pa, uint64_t *val)
{
    return mmn_ram_pt_ops.read(mmn_smmu_as(opaque), pa, val);
}

static bool pt_cmpxchg(void *opaque, uint64_t pa, uint64_t old,
                       uint64_t newv, uint64_t *cur)
{
    return mmn_ram_pt_ops.cmpxchg(mmn_smmu_as(opaque), pa, old, newv, cur);
}

static bool pt_cmpxchg_peek(void *opaque, uint64_t pa, uint64_t old,
                            uint64_t newv, uint64_t *cur)
{
    return mmn_ram_pt_ops_peek.cmpxchg(mmn_smmu_as(opaque), pa, old, newv,
                                       cur);
}

const MmnPtOps mmn_smmu_pt_ops = {
    .read = pt_read,
    .cmpxchg = pt_cmpxchg,
};

/*
 * The checker walks with hardware AF "on" so that an entry whose AF the
 * kernel cleared still compares as present, but it must not write: the
 * update pretends to succeed and guest memory is left alone.
 */
const MmnPtOps mmn_smmu_pt_ops_peek = {
    .read = pt_read,
    .cmpxchg = pt_cmpxchg_peek,
};
