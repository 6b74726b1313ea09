/*
 * libqos driver for mmn-smmuv3 on virt (-M virt,iommu=mmn-smmuv3):
 * stream tables, context descriptors, queues and page tables in guest RAM,
 * programmed as Arm IHI 0070 describes them (the field layouts are
 * Linux's drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h), and the
 * mmn-sva-master behind it.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef LIBQOS_MMN_SMMUV3_H
#define LIBQOS_MMN_SMMUV3_H

#include "../libqtest.h"

#define V3_BASE             0x09050000ULL
#define V3_MASTER           0x090c0000ULL
#define V3_MASTER_SID       0x10000u
#define V3_RAM              0x40000000ULL

/* register offsets (6.3) */
#define V3_IDR0             0x00
#define V3_IDR1             0x04
#define V3_IDR3             0x0c
#define V3_IDR5             0x14
#define V3_CR0              0x20
#define V3_CR0ACK           0x24
#define V3_CR1              0x28
#define V3_CR2              0x2c
#define V3_GBPA             0x44
#define V3_IRQ_CTRL         0x50
#define V3_IRQ_CTRLACK      0x54
#define V3_GERROR           0x60
#define V3_GERRORN          0x64
#define V3_STRTAB_BASE      0x80
#define V3_STRTAB_BASE_CFG  0x88
#define V3_CMDQ_BASE        0x90
#define V3_CMDQ_PROD        0x98
#define V3_CMDQ_CONS        0x9c
#define V3_EVTQ_BASE        0xa0
#define V3_EVTQ_PROD        0x100a8
#define V3_EVTQ_CONS        0x100ac

/* master registers (docs/specs/mmn-smmuv3.rst) */
#define M_CTRL              0x008
#define M_PASID             0x00c
#define M_VA_LO             0x010
#define M_VA_HI             0x014
#define M_LEN               0x018
#define M_OP                0x01c
#define M_PATTERN           0x020
#define M_DOORBELL          0x024
#define M_STATUS            0x028
#define M_DONE              0x02c
#define M_FAULTS            0x030
#define M_RETRIES           0x034
#define M_IRQ_STATUS        0x040
#define M_ABORT             0x044
#define M_TLBI_COUNT        0x048
#define M_LIVELOCK_COUNT    0x04c
#define M_CHECK             0x050
#define M_CHECK_ENTRIES     0x054
#define M_CHECK_STALE       0x058
#define M_CHECK_STALE_RO    0x05c
#define M_DATA              0x1000

#define M_OP_READ           1
#define M_OP_WRITE          2
#define M_OP_FILL           3
#define M_ST_BUSY           1
#define M_ST_DONE           2
#define M_ST_FAULT          3
#define M_ST_LIVELOCK       4
#define M_ST_ABORTED        5

/* commands (4.1-4.7) */
#define CMD_CFGI_STE        0x03
#define CMD_CFGI_STE_RANGE  0x04    /* Range 31: Linux's CMD_CFGI_ALL */
#define CMD_CFGI_CD         0x05
#define CMD_CFGI_CD_ALL     0x06
#define CMD_TLBI_NH_ALL     0x10
#define CMD_TLBI_NH_ASID    0x11
#define CMD_TLBI_NH_VA      0x12
#define CMD_RESUME          0x44
#define CMD_STALL_TERM      0x45
#define CMD_SYNC            0x46

/* events (7.3) */
#define EVT_C_BAD_STREAMID  0x02
#define EVT_C_BAD_STE       0x04
#define EVT_F_STREAM_DISABLED 0x06
#define EVT_C_BAD_SUBSTREAMID 0x08
#define EVT_C_BAD_CD        0x0a
#define EVT_F_WALK_EABT     0x0b
#define EVT_F_TRANSLATION   0x10
#define EVT_F_PERMISSION    0x13

/* stage-1 descriptor bits (Linux arch/arm64 pgtable-hwdef.h) */
#define PTE_VALID           (1ULL << 0)
#define PTE_TABLE           (1ULL << 1)
#define PTE_USER            (1ULL << 6)
#define PTE_RDONLY          (1ULL << 7)
#define PTE_AF              (1ULL << 10)
#define PTE_DBM             (1ULL << 51)

typedef struct V3 {
    QTestState *qts;
    uint64_t strtab;
    unsigned strtab_log2;
    uint64_t cmdq, evtq;
    unsigned cmdq_log2, evtq_log2;
    uint32_t cmd_prod;
    uint32_t evt_cons;
    uint64_t next_page;         /* bump allocator for tables */
} V3;

typedef struct V3Evt {
    uint8_t id;
    bool ssv;
    uint32_t ssid;
    uint32_t sid;
    uint16_t stag;
    bool stall;
    bool rnw;
    uint64_t addr;
} V3Evt;

typedef struct V3Job {
    uint32_t status;
    uint32_t done;
    uint32_t faults;
    uint32_t retries;
    uint32_t tlbi;
    uint32_t livelock;
} V3Job;

QTestState *v3_start(const char *extra);
uint32_t v3_rd(V3 *v, uint64_t off);
void v3_wr(V3 *v, uint64_t off, uint32_t val);
void v3_wrq(V3 *v, uint64_t off, uint64_t val);

/* Linear stream table of 2^log2 STEs, queues of 2^qlog2 entries, enable. */
void v3_init(V3 *v, QTestState *qts, unsigned strtab_log2,
             unsigned cmdq_log2, unsigned evtq_log2);
uint64_t v3_alloc(V3 *v, uint64_t size);

/* STE of @sid: stage-1 with a linear CD table of 2^cdmax CDs. */
void v3_ste_s1(V3 *v, uint32_t sid, uint64_t cdtab, unsigned cdmax,
               unsigned s1dss, bool stalld);
void v3_ste_raw(V3 *v, uint32_t sid, uint64_t w0, uint64_t w1);
/* CD @ssid of @cdtab: 48-bit VA, 4 KiB, TTB0 @ttb. */
void v3_cd(V3 *v, uint64_t cdtab, uint32_t ssid, uint64_t ttb,
           uint16_t asid, bool stall, bool record);
void v3_cd_raw(V3 *v, uint64_t cdtab, uint32_t ssid, uint64_t w0,
               uint64_t w1);

/* Page tables: a 4-level, 4 KiB root and leaf mappings. */
uint64_t v3_pt_new(V3 *v);
/*
 * Map the 4 KiB page @va to @pa with leaf attributes @attrs; returns the
 * address of the leaf descriptor.
 */
uint64_t v3_map(V3 *v, uint64_t root, uint64_t va, uint64_t pa,
                uint64_t attrs);

void v3_cmd(V3 *v, uint64_t w0, uint64_t w1);
void v3_tlbi_va(V3 *v, uint16_t asid, uint64_t va);
void v3_resume(V3 *v, uint32_t sid, uint16_t stag, unsigned resp);
/* Next event, or false if the queue is empty. */
bool v3_evt(V3 *v, V3Evt *e);
unsigned v3_evt_count(V3 *v);

/* Run a master job and read its result. */
void v3_job(V3 *v, uint32_t op, uint64_t va, uint32_t len, bool ssv,
            uint32_t pasid, uint32_t pattern, V3Job *j);
void v3_job_read(V3 *v, V3Job *j);

#endif /* LIBQOS_MMN_SMMUV3_H */
