/*
 * mmn-smmu: guest memory access.
 *
 * Every access the device makes on its own behalf (queues, results,
 * descriptors, bounce buffers, page tables, DMA data) goes through here and
 * is allowed only when the whole range is guest RAM as seen by the device's
 * bus-master address space.  MMIO (the device's own BAR included), holes
 * and ranges that wrap are refused, so bad guest input gets a defined error
 * and never reaches a device model or host memory outside RAM.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "qemu/rcu.h"
#include "qemu/bswap.h"
#include "exec/memory.h"
#include "hw/pci/pci_device.h"
#include "mmn-smmu-internal.h"

bool mmn_smmu_ram_ok(MmnSmmuState *s, uint64_t addr, uint64_t len,
                     bool is_write)
{
    AddressSpace *as = pci_get_address_space(PCI_DEVICE(s));
    bool ok = true;

    if (len == 0 || addr + len < addr) {
        return false;
    }
    RCU_READ_LOCK_GUARD();
    while (len) {
        hwaddr xlat, plen = len;
        MemoryRegion *mr = address_space_translate(as, addr, &xlat, &plen,
                                                   is_write,
                                                   MEMTXATTRS_UNSPECIFIED);

        if (!memory_region_is_ram(mr) || memory_region_is_ram_device(mr) ||
            (is_write && mr->readonly) || plen == 0) {
            ok = false;
            break;
        }
        plen = MIN(plen, len);
        addr += plen;
        len -= plen;
    }
    return ok;
}

bool mmn_smmu_read(MmnSmmuState *s, uint64_t addr, void *buf, uint64_t len)
{
    if (!mmn_smmu_ram_ok(s, addr, len, false)) {
        return false;
    }
    return pci_dma_read(PCI_DEVICE(s), addr, buf, len) == MEMTX_OK;
}

bool mmn_smmu_write(MmnSmmuState *s, uint64_t addr, const void *buf,
                    uint64_t len)
{
    if (!mmn_smmu_ram_ok(s, addr, len, true)) {
        return false;
    }
    return pci_dma_write(PCI_DEVICE(s), addr, buf, len) == MEMTX_OK;
}

static bool pt_read(void *opaque, uint64_t pa, uint64_t *val)
{
    MmnSmmuState *s = opaque;
    uint64_t le;

    if ((pa & 7) || !mmn_smmu_read(s, pa, &le, sizeof(le))) {
        return false;
    }
    *val = le64_to_cpu(le);
    return true;
}

/*
 * Hardware updates of descriptors (HTTU) are atomic with respect to the
 * guest CPUs: map the RAM and compare-and-swap in place.
 */
static bool pt_cmpxchg(void *opaque, uint64_t pa, uint64_t old,
                       uint64_t newv, uint64_t *cur)
{
    MmnSmmuState *s = opaque;
    AddressSpace *as = pci_get_address_space(PCI_DEVICE(s));
    hwaddr len = sizeof(uint64_t);
    uint64_t *p;
    uint64_t found;

    if ((pa & 7) || !mmn_smmu_ram_ok(s, pa, len, true)) {
        return false;
    }
    p = address_space_map(as, pa, &len, true, MEMTXATTRS_UNSPECIFIED);
    if (!p) {
        return false;
    }
    if (len < sizeof(uint64_t)) {
        address_space_unmap(as, p, len, true, 0);
        return false;
    }
    found = qatomic_cmpxchg__nocheck(p, cpu_to_le64(old), cpu_to_le64(newv));
    *cur = le64_to_cpu(found);
    address_space_unmap(as, p, len, true,
                        *cur == old ? sizeof(uint64_t) : 0);
    return true;
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
static bool pt_cmpxchg_peek(void *opaque, uint64_t pa, uint64_t old,
                            uint64_t newv, uint64_t *cur)
{
    *cur = old;
    return true;
}

const MmnPtOps mmn_smmu_pt_ops_peek = {
    .read = pt_read,
    .cmpxchg = pt_cmpxchg_peek,
};
