/*
 * mmn-smmu: guest RAM access for the device front ends (see guest-ram.h).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "qemu/rcu.h"
#include "qemu/bswap.h"
#include "exec/memory.h"
#include "hw/mmn-smmu/guest-ram.h"

bool mmn_ram_ok(AddressSpace *as, uint64_t addr, uint64_t len, bool is_write)
{
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

bool mmn_ram_read(AddressSpace *as, uint64_t addr, void *buf, uint64_t len)
{
    if (!mmn_ram_ok(as, addr, len, false)) {
        return false;
    }
    return address_space_read(as, addr, MEMTXATTRS_UNSPECIFIED, buf,
                              len) == MEMTX_OK;
}

bool mmn_ram_write(AddressSpace *as, uint64_t addr, const void *buf,
                   uint64_t len)
{
    if (!mmn_ram_ok(as, addr, len, true)) {
        return false;
    }
    return address_space_write(as, addr, MEMTXATTRS_UNSPECIFIED, buf,
                               len) == MEMTX_OK;
}

static bool pt_read(void *opaque, uint64_t pa, uint64_t *val)
{
    uint64_t le;

    if ((pa & 7) || !mmn_ram_read(opaque, pa, &le, sizeof(le))) {
        return false;
    }
    *val = le64_to_cpu(le);
    return true;
}

static bool pt_cmpxchg(void *opaque, uint64_t pa, uint64_t old,
                       uint64_t newv, uint64_t *cur)
{
    AddressSpace *as = opaque;
    hwaddr len = sizeof(uint64_t);
    uint64_t *p;
    uint64_t found;

    if ((pa & 7) || !mmn_ram_ok(as, pa, len, true)) {
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

static bool pt_cmpxchg_peek(void *opaque, uint64_t pa, uint64_t old,
                            uint64_t newv, uint64_t *cur)
{
    *cur = old;
    return true;
}

const MmnPtOps mmn_ram_pt_ops = {
    .read = pt_read,
    .cmpxchg = pt_cmpxchg,
};

const MmnPtOps mmn_ram_pt_ops_peek = {
    .read = pt_read,
    .cmpxchg = pt_cmpxchg_peek,
};
