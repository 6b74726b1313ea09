/*
 * mmn-smmu: guest RAM access for the device front ends.
 *
 * Everything a front end reads or writes on its own behalf (queues, stream
 * and context tables, page tables, DMA data) goes through these helpers and
 * is allowed only when the whole range is RAM in the given address space:
 * MMIO (a device's own registers included), ROM for writes, holes and
 * ranges that wrap are refused, so bad guest input gets a defined error
 * and never reaches a device model or host memory outside RAM.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MMN_SMMU_GUEST_RAM_H
#define HW_MMN_SMMU_GUEST_RAM_H

#include "exec/memory.h"
#include "hw/mmn-smmu/walker.h"

bool mmn_ram_ok(AddressSpace *as, uint64_t addr, uint64_t len, bool is_write);
bool mmn_ram_read(AddressSpace *as, uint64_t addr, void *buf, uint64_t len);
bool mmn_ram_write(AddressSpace *as, uint64_t addr, const void *buf,
                   uint64_t len);

/*
 * Page-table access for the walker (opaque: the AddressSpace).  Hardware
 * descriptor updates (HTTU) are a compare-and-swap on the mapped RAM, atomic
 * with respect to the guest CPUs.  The _peek variant never writes: its
 * compare-and-swap pretends to succeed (for the coherence checker).
 */
extern const MmnPtOps mmn_ram_pt_ops;
extern const MmnPtOps mmn_ram_pt_ops_peek;

#endif /* HW_MMN_SMMU_GUEST_RAM_H */
