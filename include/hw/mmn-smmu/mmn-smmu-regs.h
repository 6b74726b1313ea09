/*
 * mmn-smmu register layout (BAR0).  docs/specs/mmn-smmu.rst is the
 * programming interface; this header is its machine-readable twin.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MMN_SMMU_REGS_H
#define HW_MMN_SMMU_REGS_H

#include "hw/registerfields.h"

#define MMN_SMMU_PCI_VENDOR_ID      0x1af4  /* Red Hat (Qumranet) */
#define MMN_SMMU_PCI_DEVICE_ID      0x10f5  /* experimental range 10f0-10ff */
#define MMN_SMMU_PCI_CLASS          0x0806  /* system peripheral: IOMMU */
#define MMN_SMMU_PCI_REVISION       0x01

#define MMN_SMMU_BAR0_SIZE          0x1000

#define MMN_SMMU_ID_VALUE           0x4d4d4e53  /* "MMNS" */
#define MMN_SMMU_VERSION_MAJOR      1
#define MMN_SMMU_VERSION_MINOR      0

/* Identification */
REG32(ID,           0x000)
REG32(VERSION,      0x004)
    FIELD(VERSION, MINOR,        0, 16)
    FIELD(VERSION, MAJOR,       16, 16)
REG32(FEATURES,     0x008)
    FIELD(FEATURES, VA39,        0, 1)
    FIELD(FEATURES, VA48,        1, 1)
    FIELD(FEATURES, HTTU_HA,     2, 1)
    FIELD(FEATURES, HTTU_HD,     3, 1)
    FIELD(FEATURES, BLOCKS,      4, 1)
    FIELD(FEATURES, STALL,       5, 1)
    FIELD(FEATURES, MSI,         6, 1)
    FIELD(FEATURES, YOUNG_BITMAP, 7, 1)
    FIELD(FEATURES, BTM,         8, 1)
    FIELD(FEATURES, GRAN16K,     9, 1)
    FIELD(FEATURES, GRAN64K,    10, 1)
    FIELD(FEATURES, LPA2,       11, 1)
    FIELD(FEATURES, LVA_LPA,    12, 1)
    FIELD(FEATURES, TBI,        13, 1)
REG32(NUM_CTX,      0x00c)
REG32(IOTLB_CAP,    0x010)
REG32(QUEUE_CAPS,   0x014)
    FIELD(QUEUE_CAPS, CMDQ_LOG2, 0, 8)
    FIELD(QUEUE_CAPS, EVTQ_LOG2, 8, 8)

/* Control */
REG32(CTRL,         0x020)
    FIELD(CTRL, CMDQ_EN,         0, 1)
    FIELD(CTRL, EVTQ_EN,         1, 1)
    FIELD(CTRL, DMA_EN,          2, 1)
REG32(STATUS,       0x024)
    FIELD(STATUS, CMDQ_EN,       0, 1)
    FIELD(STATUS, EVTQ_EN,       1, 1)
    FIELD(STATUS, DMA_EN,        2, 1)
    FIELD(STATUS, CMDQ_STOPPED,  3, 1)
    FIELD(STATUS, DMA_BUSY,      4, 1)
    FIELD(STATUS, DMA_STALLED,   5, 1)
REG32(IRQ_STATUS,   0x028)
    FIELD(IRQ_STATUS, SYNC,      0, 1)
    FIELD(IRQ_STATUS, EVTQ,      1, 1)
    FIELD(IRQ_STATUS, CMDQ_ERR,  2, 1)
    FIELD(IRQ_STATUS, DMA_DONE,  3, 1)
    FIELD(IRQ_STATUS, EVTQ_OVERFLOW, 4, 1)
REG32(IRQ_ENABLE,   0x02c)

/* Command queue */
REG32(CMDQ_BASE_LO, 0x040)
    FIELD(CMDQ_BASE_LO, LOG2SIZE, 0, 5)
    FIELD(CMDQ_BASE_LO, ADDR,     6, 26)
REG32(CMDQ_BASE_HI, 0x044)
REG32(CMDQ_PROD,    0x048)
REG32(CMDQ_CONS,    0x04c)
REG32(CMDQ_ERR,     0x050)
    FIELD(CMDQ_ERR, REASON,      0, 8)
    FIELD(CMDQ_ERR, INDEX,      16, 15)
    FIELD(CMDQ_ERR, VALID,      31, 1)
REG32(CMDQ_ERR_ACK, 0x054)
    FIELD(CMDQ_ERR_ACK, ACK,     0, 1)

/* Event queue */
REG32(EVTQ_BASE_LO, 0x060)
    FIELD(EVTQ_BASE_LO, LOG2SIZE, 0, 5)
    FIELD(EVTQ_BASE_LO, ADDR,     5, 27)
REG32(EVTQ_BASE_HI, 0x064)
REG32(EVTQ_PROD,    0x068)
REG32(EVTQ_CONS,    0x06c)
REG32(EVTQ_LOST,    0x070)

/* DMA engine */
REG32(DMA_DESC_LO,  0x080)
REG32(DMA_DESC_HI,  0x084)
REG32(DMA_DOORBELL, 0x088)
    FIELD(DMA_DOORBELL, RING,    0, 1)
REG32(DMA_STATUS,   0x08c)
REG32(DMA_FAULT_VA_LO, 0x090)
REG32(DMA_FAULT_VA_HI, 0x094)

#define MMN_CMDQ_MAX_LOG2       15
#define MMN_EVTQ_MAX_LOG2       15

/*
 * Commands: 64 bytes, eight little-endian u64 words.  Word 0 holds the
 * opcode, flags, ctx and arg; a0..a3 are words 1..4; words 5..7 are
 * reserved (must be 0).
 */
#define MMN_CMD_SIZE            64
#define MMN_CMD_WORDS           (MMN_CMD_SIZE / 8)
REG64(CMD_W0,       0x00)
    FIELD(CMD_W0, OPCODE,        0, 8)
    FIELD(CMD_W0, FLAGS,         8, 8)
    FIELD(CMD_W0, CTX,          16, 16)
    FIELD(CMD_W0, ARG,          32, 32)
REG64(CMD_A0,       0x08)
REG64(CMD_A1,       0x10)
REG64(CMD_A2,       0x18)
REG64(CMD_A3,       0x20)
REG64(CMD_RESERVED, 0x28)           /* words 5..7 */

#define MMN_CMD_SYNC            0x01
#define MMN_CMD_CTX_BIND        0x02
#define MMN_CMD_CTX_UNBIND      0x03
#define MMN_CMD_TLBI_PAGE       0x10
#define MMN_CMD_TLBI_RANGE      0x11
#define MMN_CMD_TLBI_CTX        0x12
#define MMN_CMD_TLBI_ALL        0x13
#define MMN_CMD_MN_RANGE_START  0x20
#define MMN_CMD_MN_RANGE_END    0x21
#define MMN_CMD_MN_SECONDARY_TLBS 0x22
#define MMN_CMD_MN_CLEAR_FLUSH_YOUNG 0x23
#define MMN_CMD_MN_CLEAR_YOUNG  0x24
#define MMN_CMD_MN_TEST_YOUNG   0x25
#define MMN_CMD_MN_TEST_CLEAR_YOUNG 0x26
#define MMN_CMD_MN_CHANGE_PTE   0x27
#define MMN_CMD_MN_RELEASE      0x28
#define MMN_CMD_DMA_RESUME      0x30
#define MMN_CMD_DMA_ABORT       0x31
#define MMN_CMD_CHECK           0x40

/* flags of SYNC */
    FIELD(CMD_SYNC_FLAGS, IRQ,       0, 1)
    FIELD(CMD_SYNC_FLAGS, WRITE,     1, 1)
/* arg of MN_RANGE_START and MN_RANGE_END */
    FIELD(CMD_RANGE_ARG, EVENT,      0, 8)
    FIELD(CMD_RANGE_ARG, BLOCKABLE,  8, 1)
    FIELD(CMD_RANGE_ARG, ONLY_END,   9, 1)  /* MN_RANGE_END only */
/* arg of MN_TEST_CLEAR_YOUNG */
    FIELD(CMD_YOUNG_ARG, CLEAR,      0, 1)
#define MMN_CMD_SYNC_F_IRQ      R_CMD_SYNC_FLAGS_IRQ_MASK
#define MMN_CMD_SYNC_F_WRITE    R_CMD_SYNC_FLAGS_WRITE_MASK
#define MMN_CMD_RANGE_EVENT_MASK R_CMD_RANGE_ARG_EVENT_MASK
#define MMN_CMD_RANGE_BLOCKABLE R_CMD_RANGE_ARG_BLOCKABLE_MASK
#define MMN_CMD_RANGE_ONLY_END  R_CMD_RANGE_ARG_ONLY_END_MASK
#define MMN_CMD_YOUNG_CLEAR     R_CMD_YOUNG_ARG_CLEAR_MASK
#define MMN_CMD_CTX_ALL         0xffff      /* CHECK: every context */

/*
 * A field's value at its place in a 64-bit word: FIELD_DP64(0, ...) as a
 * constant expression, for the drivers' and tests' macros below.
 */
#define MMN_FIELD64(reg, field, val) \
    (((uint64_t)(val) << R_ ## reg ## _ ## field ## _SHIFT) & \
     (uint64_t)R_ ## reg ## _ ## field ## _MASK)

/* The CTX_BIND configuration word (a1), read with FIELD_EX64 */
    FIELD(CTX_CFG, VA_BITS,    0, 8)
    FIELD(CTX_CFG, OA_BITS,    8, 8)
    FIELD(CTX_CFG, HTTU,      16, 2)
    FIELD(CTX_CFG, UNPRIV,    18, 1)
    FIELD(CTX_CFG, STALL,     19, 1)
    FIELD(CTX_CFG, LEGACY_INV, 20, 1)
    FIELD(CTX_CFG, GRANULE,   21, 2)        /* TG0 */
    FIELD(CTX_CFG, DS,        23, 1)
    FIELD(CTX_CFG, TBI,       24, 1)
    FIELD(CTX_CFG, RESERVED,  25, 39)       /* must be 0 */
#define MMN_CTX_CFG_VA_BITS(x)  MMN_FIELD64(CTX_CFG, VA_BITS, x)
#define MMN_CTX_CFG_OA_BITS(x)  MMN_FIELD64(CTX_CFG, OA_BITS, x)
#define MMN_CTX_CFG_HTTU(x)     MMN_FIELD64(CTX_CFG, HTTU, x)
#define MMN_CTX_HTTU_NONE       0
#define MMN_CTX_HTTU_HA         1
#define MMN_CTX_HTTU_HAHD       2
#define MMN_CTX_CFG_UNPRIV      MMN_FIELD64(CTX_CFG, UNPRIV, 1)
#define MMN_CTX_CFG_STALL       MMN_FIELD64(CTX_CFG, STALL, 1)
#define MMN_CTX_CFG_LEGACY_INV  MMN_FIELD64(CTX_CFG, LEGACY_INV, 1)
#define MMN_CTX_CFG_GRANULE(x)  MMN_FIELD64(CTX_CFG, GRANULE, x)   /* TG0 */
#define MMN_CTX_CFG_GRANULE_OF(cfg) FIELD_EX64(cfg, CTX_CFG, GRANULE)
#define MMN_CTX_GRANULE_4K      0
#define MMN_CTX_GRANULE_64K     1
#define MMN_CTX_GRANULE_16K     2
/* FEAT_LPA2 descriptors */
#define MMN_CTX_CFG_DS          MMN_FIELD64(CTX_CFG, DS, 1)
/* top byte ignore */
#define MMN_CTX_CFG_TBI         MMN_FIELD64(CTX_CFG, TBI, 1)
#define MMN_CTX_CFG_RESERVED    ((uint64_t)R_CTX_CFG_RESERVED_MASK)

/* CMDQ_ERR reasons */
#define MMN_CMDQ_ERR_OPCODE     1
#define MMN_CMDQ_ERR_RESERVED   2
#define MMN_CMDQ_ERR_BAD_CTX    3
#define MMN_CMDQ_ERR_BAD_ADDR   4
#define MMN_CMDQ_ERR_BAD_RANGE  5
#define MMN_CMDQ_ERR_BAD_CONFIG 6
#define MMN_CMDQ_ERR_NOT_STALLED 7
#define MMN_CMDQ_ERR_MISUSE     8

/* Event records: 32 bytes */
#define MMN_EVT_SIZE            32
#define MMN_EVT_FAULT           1
#define MMN_EVT_LIVELOCK        2
/* The record's flags byte */
    FIELD(EVT_FLAGS, WRITE,      0, 1)
    FIELD(EVT_FLAGS, UNPRIV,     1, 1)
    FIELD(EVT_FLAGS, FROM_CACHE, 2, 1)
    FIELD(EVT_FLAGS, STALLED,    3, 1)
    FIELD(EVT_FLAGS, STALE,      4, 1)  /* LIVELOCK on a stale IOTLB entry */
#define MMN_EVT_F_WRITE         R_EVT_FLAGS_WRITE_MASK
#define MMN_EVT_F_UNPRIV        R_EVT_FLAGS_UNPRIV_MASK
#define MMN_EVT_F_FROM_CACHE    R_EVT_FLAGS_FROM_CACHE_MASK
#define MMN_EVT_F_STALLED       R_EVT_FLAGS_STALLED_MASK
#define MMN_EVT_F_STALE         R_EVT_FLAGS_STALE_MASK

/* DMA descriptors: 64 bytes */
#define MMN_DMA_DESC_SIZE       64
#define MMN_DMA_MAX_LEN         (1u << 20)
#define MMN_DMA_OP_READ         1
#define MMN_DMA_OP_WRITE        2
#define MMN_DMA_OP_FILL         3
#define MMN_DMA_ST_IDLE         0
#define MMN_DMA_ST_DONE         1
#define MMN_DMA_ST_STALLED      2
#define MMN_DMA_ST_FAULT        3
#define MMN_DMA_ST_LIVELOCK     4
#define MMN_DMA_ST_ABORTED      5
#define MMN_DMA_ST_BAD_DESC     6
#define MMN_DMA_ST_RELEASED     7
#define MMN_DMA_ST_BLOCKED      8
/* The status word: DMA_STATUS and the descriptor's status */
    FIELD(DMA_STATUS, STATE,      0, 8)
    FIELD(DMA_STATUS, KIND,       8, 8)
    FIELD(DMA_STATUS, LEVEL,     16, 8)     /* s8 */
    FIELD(DMA_STATUS, FROM_CACHE, 24, 1)
    FIELD(DMA_STATUS, STALE,     25, 1)     /* LIVELOCK, stale entry */
#define MMN_DMA_STATUS_STATE(s)     FIELD_EX32(s, DMA_STATUS, STATE)
#define MMN_DMA_STATUS_KIND(s)      FIELD_EX32(s, DMA_STATUS, KIND)
#define MMN_DMA_STATUS_LEVEL(s)     FIELD_EX32(s, DMA_STATUS, LEVEL)
#define MMN_DMA_STATUS_FROM_CACHE   R_DMA_STATUS_FROM_CACHE_MASK
#define MMN_DMA_STATUS_STALE        R_DMA_STATUS_STALE_MASK

/* Coherence check report: 256 bytes */
#define MMN_CHECK_REPORT_SIZE   256
#define MMN_CHECK_MAX_SAMPLES   8
#define MMN_CHECK_STALE_READONLY 1
#define MMN_CHECK_STALE_WRITABLE 2
#define MMN_CHECK_STALE_PRESENT  3
#define MMN_CHECK_STALE_OA       4

/*
 * In-memory formats (all fields little-endian in guest memory; convert with
 * le*_to_cpu / cpu_to_le*).
 */
typedef struct MmnCmd {
    uint8_t opcode;
    uint8_t flags;
    uint16_t ctx;
    uint32_t arg;
    uint64_t a0;
    uint64_t a1;
    uint64_t a2;
    uint64_t a3;
    uint64_t reserved[3];
} QEMU_PACKED MmnCmd;

typedef struct MmnEvt {
    uint8_t type;
    uint8_t kind;
    uint8_t level;
    uint8_t flags;
    uint16_t ctx;
    uint16_t reserved0;
    uint64_t va;
    uint64_t desc;
    uint32_t count;
    uint32_t reserved1;
} QEMU_PACKED MmnEvt;

typedef struct MmnDmaDesc {
    uint8_t op;
    uint8_t reserved0;
    uint16_t ctx;
    uint32_t len;
    uint64_t va;
    uint64_t buf;
    uint32_t pattern;
    uint32_t reserved1;
    uint32_t status;
    uint32_t done;
    uint64_t fault_va;
    uint32_t faults;
    uint32_t reserved2[3];
} QEMU_PACKED MmnDmaDesc;

typedef struct MmnCheckSample {
    uint64_t va;
    uint16_t ctx;
    uint8_t kind;
    uint8_t pad[5];
} QEMU_PACKED MmnCheckSample;

typedef struct MmnCheckReport {
    uint32_t entries;
    uint32_t stale;
    uint32_t stale_readonly;
    uint32_t stale_writable;
    uint32_t stale_present;
    uint32_t stale_oa;
    uint32_t nr_samples;
    uint32_t reserved0;
    MmnCheckSample samples[MMN_CHECK_MAX_SAMPLES];
    uint8_t reserved1[96];
} QEMU_PACKED MmnCheckReport;

QEMU_BUILD_BUG_ON(sizeof(MmnCmd) != MMN_CMD_SIZE);
QEMU_BUILD_BUG_ON(sizeof(MmnEvt) != MMN_EVT_SIZE);
QEMU_BUILD_BUG_ON(sizeof(MmnDmaDesc) != MMN_DMA_DESC_SIZE);
QEMU_BUILD_BUG_ON(sizeof(MmnCheckReport) != MMN_CHECK_REPORT_SIZE);

#endif /* HW_MMN_SMMU_REGS_H */
