/*
 * mmn-smmuv3 differential qtest: what its parts share.  The two machines
 * and the stream table, CD and stage-1 table builder
 * (mmn-smmuv3-diff-env.c) and the comparison of two outcomes
 * (mmn-smmuv3-diff-compare.c) serve the cases, mmn-smmuv3-diff-test.c,
 * whose top comment describes the method.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MMN_SMMUV3_DIFF_H
#define MMN_SMMUV3_DIFF_H

#include "libqtest.h"
#include "libqos/libqos-malloc.h"
#include "libqos/pci.h"
#include "libqos/generic-pcihost.h"
#include "libqos/mmn-smmu.h"
#include "libqos/mmn-smmuv3.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"

#define RID         QPCI_DEVFN(4, 0)
#define CMD_PG      (V3_RAM + 0x0c000000)   /* 2 MiB aligned */
#define WR_PG       (V3_RAM + 0x0c200000)
#define HOLE        0x0000000100000000ULL   /* nothing there, below 2^44 */
#define UART        0x09000000ULL
#define IOVA_C      0x0000004012300000ULL   /* the queue: read */
#define IOVA_W      0x0000004012401000ULL   /* the CMD_SYNC word: write */
#define MAGIC       0x5a5a0000u
#define ATTRS       (PTE_AF | PTE_USER)
#define NSTE_LOG2   8

/* CD word 0 (5.4) */
#define CD_T0SZ(x)  ((uint64_t)(x))
#define CD_TG0(x)   ((uint64_t)(x) << 6)
#define CD_EPD0     (1ULL << 14)
#define CD_ENDI     (1ULL << 15)
#define CD_EPD1     (1ULL << 30)
#define CD_V        (1ULL << 31)
#define CD_IPS(x)   ((uint64_t)(x) << 32)
#define CD_TBI0     (1ULL << 38)
#define CD_AA64     (1ULL << 41)
#define CD_HA       (1ULL << 43)
#define CD_R        (1ULL << 45)
#define CD_A        (1ULL << 46)
#define ASID        3

#define TG_4K       0
#define TG_64K      1
#define TG_16K      2

#define CMD_CFGI_STE_RANGE  0x04
#define CMD_TLBI_NSNH_ALL   0x30
#define EVT_F_STE_FETCH     0x03
#define EVT_F_CD_FETCH      0x09
#define EVT_F_ADDR_SIZE     0x11
#define EVT_F_ACCESS        0x12
#define V3_GERROR_MASK      0x1fd

/* One probe: where the queue and the word are, and where they should be. */
typedef struct Probe {
    uint64_t cmd_iova, cmd_pa, wr_iova, wr_pa;
} Probe;

typedef struct Result {
    uint32_t reason;            /* the function's CMDQ_ERR reason, or 0 */
    bool landed;                /* the word is at wr_pa */
    unsigned nev;
    uint64_t ev[4][4];
} Result;

typedef struct Out {
    unsigned n;
    Result r[3];
} Out;

typedef struct Side {
    const char *iommu;
    QTestState *qts;
    V3 v;
    QGuestAllocator alloc;
    QGenericPCIBus bus;
    QMmnSmmu dev;
    uint32_t prod, seq;
    uint64_t ste, cdtab, root;
    unsigned g, ias;            /* granule shift and input size */
} Side;

/* mmn-smmuv3-diff-env.c: machines and tables */
uint64_t cd_w0(unsigned t0sz, unsigned tg, unsigned ips);
uint64_t alloc_aligned(Side *s, uint64_t size);
uint64_t map_at(Side *s, uint64_t va, uint64_t pa, uint64_t attrs,
                unsigned level);
uint64_t map(Side *s, uint64_t va, uint64_t pa, uint64_t attrs);
uint64_t table_slot(Side *s, uint64_t va, unsigned level);
void cmd(Side *s, uint64_t w0, uint64_t w1);
void sync_all(Side *s);
void ste_raw(Side *s, uint64_t w0, uint64_t w1);
void ste_s1(Side *s, uint64_t ctx);
void cd_raw(Side *s, uint64_t w0, uint64_t ttb);
void strtab(Side *s, uint64_t base, uint32_t cfg);
void setup(Side *s, Probe *p, unsigned t0sz, unsigned tg, uint64_t attrs);
void probe(Side *s, const Probe *p, Out *o);
void side_up(Side *s, const char *iommu, const char *extra);
void side_down(Side *s);

/* mmn-smmuv3-diff-compare.c: two outcomes */
void show(const char *who, const Out *o);
bool same(const Out *a, const Out *b);

#endif /* MMN_SMMUV3_DIFF_H */
