/*
 * mmn-smmu hostile-guest qtest: what its parts share.  The environment
 * (mmn-smmu-hostile-env.c: QEMU with the device under test and a peer
 * mmn-smmu, a driver for each, a context on hand-made page tables,
 * snapshots of what nothing may change) serves the memory cases
 * (mmn-smmu-hostile-test.c, which has main()) and the MSI cases
 * (mmn-smmu-hostile-msi.c).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MMN_SMMU_HOSTILE_H
#define MMN_SMMU_HOSTILE_H

#include "qemu/bswap.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "libqos/libqos-malloc.h"
#include "libqos/pci.h"
#include "libqos/generic-pcihost.h"
#include "libqos/mmn-smmu.h"
#include "libqos/mmn-kernel.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"
#include "hw/mmn-smmu/walker.h"
#include "hw/pci/pci_regs.h"

#define RAM_BASE        0x40000000ULL
#define RAM_SIZE        (512ULL << 20)
#define RAM_END         (RAM_BASE + RAM_SIZE)

/* hw/arm/virt.c's memory map (GICv2 by default under TCG: GICv2m) */
#define VIRT_FLASH      0x00000000ULL
#define VIRT_GIC_V2M    0x08020000ULL
#define VIRT_UART       0x09000000ULL

#define MMN_SLOT        4           /* the device under test, 00:04.0 */
#define PEER_SLOT       5           /* the peer mmn-smmu, 00:05.0 */
#define MMN_ID          "mmn"
#define PEER_ID         "peer"
#define HST_CMDLINE     "-M virt -cpu max -m 512M -nic none " \
                        "-device mmn-smmu,id=" MMN_ID ",addr=04.0 " \
                        "-device mmn-smmu,id=" PEER_ID ",addr=05.0"

/*
 * CTX_RAW: a context on tables the test writes itself (39-bit VA, start
 * level 1, EL1 read/write pages), VA_RAW mapped to the data page.
 */
#define CTX_RAW         2
#define CTX_SPARE       3           /* bound and unbound by the cases */
#define RAW_CFG         (MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48))
#define VA_RAW          0x40000000ULL   /* L1 1, L2 0, L3 0: the data page */
#define VA_OUT          (VA_RAW + 0x1000)   /* L3 1: set by the cases */
#define VA_HOLE         (VA_RAW + 0x200000) /* L2 1: nothing */
#define VA_TABLE        0x80000000ULL   /* L1 2: set by the cases */
#define VA39_HST        0x2000000000ULL /* the mm model's user VA */
#define L1_IDX(va)      (((va) >> 30) & 0x1ff)
#define L2_IDX(va)      (((va) >> 21) & 0x1ff)
#define L3_IDX(va)      (((va) >> 12) & 0x1ff)
#define DATA_WORD       0xda7a0001u

typedef struct Env {
    QTestState *qts;
    QGuestAllocator alloc;
    QGenericPCIBus bus;
    QMmnSmmu dev, peer;
    bool has_peer;
    MmnKernel *k, *kp;
    uint64_t buf;               /* 16 KiB bounce buffer */
    uint64_t scratch;           /* 4 KiB of anything */
    uint64_t data;              /* VA_RAW's page, DATA_WORD */
    uint64_t l1, l2, l3;        /* CTX_RAW's tables */
} Env;

/* What nothing may change: the peer's registers, both config spaces. */
#define SNAP_CFG_DWORDS 24      /* header and the MSI capability */
typedef struct Snap {
    uint32_t peer[MK_NR_STATE_REGS];
    uint32_t cfg[2][SNAP_CFG_DWORDS];
} Snap;

/*
 * QEMU from @cmdline with the device under test at 00:04.0 (and the peer
 * at 00:05.0 if the command line has one), both enabled; a driver for
 * each (the test's CMDQ 2^@cmdq_log2 entries); CTX_RAW bound.
 */
void hst_start(Env *e, const char *cmdline, unsigned cmdq_log2);
/* QEMU and the device under test only, its allocator in [@lo, @hi). */
void hst_start_range(Env *e, const char *cmdline, uint64_t lo, uint64_t hi);
/* The driver of hst_start_range()'s device: rings, buf, scratch. */
void hst_kernel_new(Env *e, unsigned cmdq_log2);
void hst_stop(Env *e);

/* The PCIe ECAM address of 00:@slot.0's configuration space. */
uint64_t hst_ecam(Env *e, unsigned slot);
uint64_t hst_qom(QTestState *qts, const char *id, const char *name);

/* CTX_RAW's tables: an EL1 read/write page descriptor of @pa. */
uint64_t hst_page(uint64_t pa);
uint64_t hst_leaf_slot(Env *e, uint64_t va);
/*
 * Set VA's level-3 descriptor (VA_RAW's L3 table) and TLBI_ALL (every
 * context the cases bind on these tables caches its own entries).
 */
void hst_leaf(Env *e, uint64_t va, uint64_t desc);

void hst_snap(Env *e, Snap *s);
void hst_snap_same(Env *e, const Snap *before, const char *what);
void hst_assert_words(Env *e, uint64_t pa, uint64_t len, uint32_t word);
/* A SYNC and a READ of VA_RAW work; the peer answers. */
void hst_assert_working(Env *e);

/* Write @d at @at (any address) and point DMA_DESC at it; no doorbell. */
void hst_desc_at(MmnKernel *k, uint64_t at, const MmnDmaDesc *d);
/* Write @n commands at PROD and move PROD once. */
void hst_cmd_batch(MmnKernel *k, const MmnCmd *cmds, unsigned n);

/* MSI of @d: 64-bit @addr, 16-bit @data, enabled; or disabled. */
void hst_msi_set(QMmnSmmu *d, uint64_t addr, uint16_t data);
void hst_msi_off(QMmnSmmu *d);

/* mmn-smmu-hostile-msi.c */
void hst_msi_register_tests(void);

#endif /* MMN_SMMU_HOSTILE_H */
