/*
 * mmn-smmuv3: register, table, command and event layouts (Arm IHI 0070,
 * chapters 5-7) and the declarations shared by hw/mmn-smmu/smmuv3/.
 *
 *   smmuv3.c   QOM type, registers, interrupts, reset, migration
 *   config.c   stream table and context descriptor fetch and checks
 *   config-cache.c  the configuration cache and the CFGI_* commands
 *   xlate.c    translation of master and PCI transactions, stalls, livelock
 *   cmdq.c     command queue
 *   evtq.c     event queue, GERROR, MSIs
 *   btm.c      broadcast TLB maintenance (the guest CPUs' TLBIs)
 *   virt.c     the virt machine's device tree nodes
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MMN_SMMU_SMMUV3_INTERNAL_H
#define HW_MMN_SMMU_SMMUV3_INTERNAL_H

#include "hw/registerfields.h"
#include "hw/mmn-smmu/smmuv3.h"

/* Registers, page 0 (6.3) */
REG32(IDR0, 0x0)
    FIELD(IDR0, S2P, 0, 1)
    FIELD(IDR0, S1P, 1, 1)
    FIELD(IDR0, TTF, 2, 2)
    FIELD(IDR0, COHACC, 4, 1)
    FIELD(IDR0, BTM, 5, 1)
    FIELD(IDR0, HTTU, 6, 2)
    FIELD(IDR0, ASID16, 12, 1)
    FIELD(IDR0, MSI, 13, 1)
    FIELD(IDR0, SEV, 14, 1)
    FIELD(IDR0, CD2L, 19, 1)
    FIELD(IDR0, TTENDIAN, 21, 2)
    FIELD(IDR0, STALL_MODEL, 24, 2)
    FIELD(IDR0, TERM_MODEL, 26, 1)
    FIELD(IDR0, ST_LEVEL, 27, 2)
REG32(IDR1, 0x4)
    FIELD(IDR1, SIDSIZE, 0, 6)
    FIELD(IDR1, SSIDSIZE, 6, 5)
    FIELD(IDR1, PRIQS, 11, 5)
    FIELD(IDR1, EVENTQS, 16, 5)
    FIELD(IDR1, CMDQS, 21, 5)
REG32(IDR2, 0x8)
REG32(IDR3, 0xc)
    FIELD(IDR3, RIL, 10, 1)
REG32(IDR4, 0x10)
REG32(IDR5, 0x14)
    FIELD(IDR5, OAS, 0, 3)
    FIELD(IDR5, GRAN4K, 4, 1)
    FIELD(IDR5, GRAN16K, 5, 1)
    FIELD(IDR5, GRAN64K, 6, 1)
    FIELD(IDR5, VAX, 10, 2)
    FIELD(IDR5, STALL_MAX, 16, 16)
REG32(IIDR, 0x18)
REG32(AIDR, 0x1c)
REG32(CR0, 0x20)
    FIELD(CR0, SMMUEN, 0, 1)
    FIELD(CR0, EVENTQEN, 2, 1)
    FIELD(CR0, CMDQEN, 3, 1)
/* CR0: SMMUEN, EVENTQEN, CMDQEN; PRIQEN and ATSCHK are RES0 (no PRI, ATS) */
#define MMN_SMMUV3_CR0_VALID 0xdu
REG32(CR0ACK, 0x24)
REG32(CR1, 0x28)
REG32(CR2, 0x2c)
    FIELD(CR2, RECINVSID, 1, 1)
    FIELD(CR2, PTM, 2, 1)
REG32(STATUSR, 0x40)
REG32(GBPA, 0x44)
    FIELD(GBPA, ABORT, 20, 1)
    FIELD(GBPA, UPDATE, 31, 1)
REG32(AGBPA, 0x48)
REG32(IRQ_CTRL, 0x50)
    FIELD(IRQ_CTRL, GERROR_IRQEN, 0, 1)
    FIELD(IRQ_CTRL, PRIQ_IRQEN, 1, 1)
    FIELD(IRQ_CTRL, EVENTQ_IRQEN, 2, 1)
REG32(IRQ_CTRLACK, 0x54)
REG32(GERROR, 0x60)
    FIELD(GERROR, CMDQ_ERR, 0, 1)
    FIELD(GERROR, EVENTQ_ABT_ERR, 2, 1)
    FIELD(GERROR, MSI_CMDQ_ABT_ERR, 4, 1)
    FIELD(GERROR, MSI_EVENTQ_ABT_ERR, 5, 1)
    FIELD(GERROR, MSI_GERROR_ABT_ERR, 7, 1)
REG32(GERRORN, 0x64)
REG64(GERROR_IRQ_CFG0, 0x68)
REG32(GERROR_IRQ_CFG1, 0x70)
REG32(GERROR_IRQ_CFG2, 0x74)
REG64(STRTAB_BASE, 0x80)
    FIELD(STRTAB_BASE, ADDR, 6, 46)
    FIELD(STRTAB_BASE, RA, 62, 1)
REG32(STRTAB_BASE_CFG, 0x88)
    FIELD(STRTAB_BASE_CFG, LOG2SIZE, 0, 6)
    FIELD(STRTAB_BASE_CFG, SPLIT, 6, 5)
    FIELD(STRTAB_BASE_CFG, FMT, 16, 2)
REG64(CMDQ_BASE, 0x90)
REG32(CMDQ_PROD, 0x98)
REG32(CMDQ_CONS, 0x9c)
    FIELD(CMDQ_CONS, ERR, 24, 7)
REG64(EVENTQ_BASE, 0xa0)
REG32(EVENTQ_PROD_P0, 0xa8)    /* page 0 aliases of page 1's registers */
REG32(EVENTQ_CONS_P0, 0xac)
REG64(EVENTQ_IRQ_CFG0, 0xb0)
REG32(EVENTQ_IRQ_CFG1, 0xb8)
REG32(EVENTQ_IRQ_CFG2, 0xbc)
/* Page 1 */
REG32(EVENTQ_PROD, 0x100a8)
    FIELD(EVENTQ_PROD, OVFLG, 31, 1)
REG32(EVENTQ_CONS, 0x100ac)
    FIELD(EVENTQ_CONS, OVACKFLG, 31, 1)

/* Queue base registers (CMDQ_BASE, EVENTQ_BASE) */
FIELD(Q_BASE, LOG2SIZE, 0, 5)
FIELD(Q_BASE, ADDR, 5, 47)
FIELD(Q_BASE, RA, 62, 1)

/* Queue sizes this model offers (IDR1.CMDQS, EVENTQS: log2 entries) */
#define MMN_SMMUV3_CMDQS 19
#define MMN_SMMUV3_EVENTQS 19
#define MMN_SMMUV3_STALL_MAX 64

/* Stream table (5.1, 5.2): 64-bit words of an STE / L1 descriptor */
FIELD(L1STD, SPAN, 0, 5)
FIELD(L1STD, L2PTR, 6, 50)
FIELD(STE0, V, 0, 1)
FIELD(STE0, CONFIG, 1, 3)
FIELD(STE0, S1FMT, 4, 2)
FIELD(STE0, S1CTXPTR, 6, 50)
FIELD(STE0, S1CDMAX, 59, 5)
#define STE_CONFIG_S2           6   /* 0b11x: stage 2 (IDR0.S2P is 0) */
FIELD(STE1, S1DSS, 0, 2)
FIELD(STE1, S1STALLD, 27, 1)
FIELD(STE1, EATS, 28, 2)
FIELD(STE1, STRW, 30, 2)
#define STE_CONFIG_ABORT        0
#define STE_CONFIG_BYPASS       4
#define STE_CONFIG_S1           5
#define STE_S1FMT_LINEAR        0
#define STE_S1FMT_4K_L2         1
#define STE_S1FMT_64K_L2        2
#define STE_S1DSS_TERMINATE     0
#define STE_S1DSS_BYPASS        1
#define STE_S1DSS_SSID0         2
#define STE_S1DSS_RESERVED      3   /* behaves as Terminate */

/* Context descriptors (5.4) */
FIELD(L1CD, V, 0, 1)
FIELD(L1CD, L2PTR, 12, 44)
FIELD(CD0, T0SZ, 0, 6)
FIELD(CD0, TG0, 6, 2)
FIELD(CD0, EPD0, 14, 1)
FIELD(CD0, ENDI, 15, 1)
FIELD(CD0, T1SZ, 16, 6)
FIELD(CD0, TG1, 22, 2)
FIELD(CD0, EPD1, 30, 1)
FIELD(CD0, V, 31, 1)
FIELD(CD0, IPS, 32, 3)
FIELD(CD0, AFFD, 35, 1)
FIELD(CD0, TBI0, 38, 1)
FIELD(CD0, AA64, 41, 1)
FIELD(CD0, HD, 42, 1)
FIELD(CD0, HA, 43, 1)
FIELD(CD0, S, 44, 1)
FIELD(CD0, R, 45, 1)
FIELD(CD0, A, 46, 1)
FIELD(CD0, ASET, 47, 1)
FIELD(CD0, ASID, 48, 16)
FIELD(CD1, TTB0, 4, 48)

/* Commands (4.1-4.7): 16 bytes, two 64-bit words */
FIELD(CMD0, OP, 0, 8)
FIELD(CMD0, SSEC, 10, 1)
FIELD(CMD0, SSV, 11, 1)
FIELD(CMD0, SSID, 12, 20)
FIELD(CMD0, SID, 32, 32)
FIELD(CMD0, TLBI_NUM, 12, 5)
FIELD(CMD0, TLBI_SCALE, 20, 5)
FIELD(CMD0, VMID, 32, 16)
FIELD(CMD0, ASID, 48, 16)
FIELD(CMD0, RESUME_AC, 12, 1)
FIELD(CMD0, SYNC_CS, 12, 2)
FIELD(CMD0, SYNC_MSIDATA, 32, 32)
FIELD(CMD1, LEAF, 0, 1)
FIELD(CMD1, RANGE, 0, 5)
FIELD(CMD1, TTL, 8, 2)
FIELD(CMD1, TG, 10, 2)
FIELD(CMD1, ADDR, 12, 52)
FIELD(CMD1, RESUME_STAG, 0, 16)
FIELD(CMD1, SYNC_MSIADDR, 2, 50)

enum {
    CMD_PREFETCH_CONFIG = 0x01,
    CMD_PREFETCH_ADDR = 0x02,
    CMD_CFGI_STE = 0x03,
    CMD_CFGI_STE_RANGE = 0x04,
    CMD_CFGI_CD = 0x05,
    CMD_CFGI_CD_ALL = 0x06,     /* CFGI_ALL is CFGI_STE_RANGE, Range 31 */
    CMD_TLBI_NH_ALL = 0x10,
    CMD_TLBI_NH_ASID = 0x11,
    CMD_TLBI_NH_VA = 0x12,
    CMD_TLBI_NH_VAA = 0x13,
    CMD_TLBI_EL2_ALL = 0x20,
    CMD_TLBI_S12_VMALL = 0x28,
    CMD_TLBI_NSNH_ALL = 0x30,
    CMD_ATC_INV = 0x40,
    CMD_PRI_RESP = 0x41,
    CMD_RESUME = 0x44,
    CMD_STALL_TERM = 0x45,
    CMD_SYNC = 0x46,
};
#define CMD_SYNC_CS_NONE 0
#define CMD_SYNC_CS_IRQ 1
#define CMD_SYNC_CS_SEV 2
#define CMD_SYNC_CS_RESERVED 3

/* CMDQ_CONS.ERR codes (7.1) */
#define CERROR_NONE 0
#define CERROR_ILL 1
#define CERROR_ABT 2
#define CERROR_ATC_INV_SYNC 3

/* Events (7.3): 32 bytes, four 64-bit words */
enum {
    EVT_F_UUT = 0x01,
    EVT_C_BAD_STREAMID = 0x02,
    EVT_F_STE_FETCH = 0x03,
    EVT_C_BAD_STE = 0x04,
    EVT_F_STREAM_DISABLED = 0x06,
    EVT_C_BAD_SUBSTREAMID = 0x08,
    EVT_F_CD_FETCH = 0x09,
    EVT_C_BAD_CD = 0x0a,
    EVT_F_WALK_EABT = 0x0b,
    EVT_F_TRANSLATION = 0x10,
    EVT_F_ADDR_SIZE = 0x11,
    EVT_F_ACCESS = 0x12,
    EVT_F_PERMISSION = 0x13,
};
FIELD(EVT0, ID, 0, 8)
FIELD(EVT0, SSV, 11, 1)
FIELD(EVT0, SSID, 12, 20)
FIELD(EVT0, SID, 32, 32)
FIELD(EVT1, STAG, 0, 16)
FIELD(EVT1, STALL, 31, 1)
FIELD(EVT1, PNU, 33, 1)
FIELD(EVT1, IND, 34, 1)
FIELD(EVT1, RNW, 35, 1)
FIELD(EVT1, CLASS, 40, 2)
#define EVT_CLASS_CD 0
#define EVT_CLASS_TT 1
#define EVT_CLASS_IN 2

typedef struct MmnSmmuv3Evt {
    uint8_t id;
    uint32_t sid;
    bool ssv;
    uint32_t ssid;
    bool stall;
    uint16_t stag;
    bool write;
    uint8_t class;
    uint64_t addr;          /* input address, or a fetch address */
    uint64_t addr2;         /* word 3: descriptor address for F_WALK_EABT */
} MmnSmmuv3Evt;

/* A stage-1 configuration decoded from a valid STE and CD. */
typedef struct MmnSmmuv3Cfg {
    uint8_t config;         /* STE_CONFIG_* actually applied */
    MmnWalkConfig walk;
    uint16_t asid;
    bool stall;             /* CD.S and !STE.S1STALLD */
    bool record;            /* CD.R: record faults */
    bool epd0;
    bool aset;              /* CD.ASET: non-shared ASID (btm.c) */
    /* the CD it came from (CFGI_CD, stale check in config-cache.c) */
    bool has_cd;
    uint32_t cd_ssid;       /* its index: 0 without a substream */
    uint8_t cd_split;       /* STE.S1Fmt as SSID bits per L1CD, or 0 */
} MmnSmmuv3Cfg;

/* What the configuration stage decided for a transaction. */
typedef enum MmnSmmuv3CfgResult {
    MMN_SMMUV3_CFG_OK,          /* *cfg valid (S1, or BYPASS) */
    MMN_SMMUV3_CFG_ABORT,       /* terminate, no event */
    MMN_SMMUV3_CFG_EVENT,       /* terminate, *evt filled (record it) */
} MmnSmmuv3CfgResult;

/* An ASID's IOTLB context and counters. */
struct MmnSmmuv3Asid {
    uint16_t asid;
    MmnIotlbCtx *ictx;
    uint64_t tlbi;          /* TLBI commands that covered this ASID */
    uint8_t asets;          /* MMN_SMMUV3_ASET_*: CDs that filled it (btm.c) */
};

/* smmuv3.c */
void mmn_smmuv3_irq_raise(MmnSmmuv3State *s, int irq);
bool mmn_smmuv3_enabled(MmnSmmuv3State *s);

/* config.c: the configuration of a stream, from the tables in memory */
MmnSmmuv3CfgResult mmn_smmuv3_config_fetch(MmnSmmuv3State *s, uint32_t sid,
                                           bool ssv, uint32_t ssid,
                                           MmnSmmuv3Cfg *cfg,
                                           MmnSmmuv3Evt *evt);

/* config-cache.c */
#define MMN_SMMUV3_CFGC_MAX 1024    /* entries; a full cache is emptied */
/* A transaction's configuration: from the cache, else fetched (and kept). */
MmnSmmuv3CfgResult mmn_smmuv3_config(MmnSmmuv3State *s, uint32_t sid,
                                     bool ssv, uint32_t ssid,
                                     MmnSmmuv3Cfg *cfg, MmnSmmuv3Evt *evt);
/* The same, for a checker: neither counts nor fills the cache. */
MmnSmmuv3CfgResult mmn_smmuv3_config_peek(MmnSmmuv3State *s, uint32_t sid,
                                          bool ssv, uint32_t ssid,
                                          MmnSmmuv3Cfg *cfg,
                                          MmnSmmuv3Evt *evt);
/* CFGI_STE, CFGI_STE_RANGE, CFGI_CD, CFGI_CD_ALL (SSec already checked) */
void mmn_smmuv3_cfgc_command(MmnSmmuv3State *s, const uint64_t *c);
/* Drop every entry (@why for the trace). */
void mmn_smmuv3_cfgc_flush(MmnSmmuv3State *s, const char *why);
void mmn_smmuv3_cfgc_fini(MmnSmmuv3State *s);
/* Entries held now (QOM config-cache-entries). */
uint32_t mmn_smmuv3_cfgc_entries(MmnSmmuv3State *s);

/* xlate.c */
MmnSmmuv3Asid *mmn_smmuv3_asid(MmnSmmuv3State *s, uint16_t asid, bool create);
void mmn_smmuv3_resume(MmnSmmuv3State *s, uint32_t sid, uint16_t stag,
                       bool retry);
void mmn_smmuv3_stall_term(MmnSmmuv3State *s, uint32_t sid);
void mmn_smmuv3_terminate_all_stalls(MmnSmmuv3State *s);
void mmn_smmuv3_pci_init(MmnSmmuv3State *s);
void mmn_smmuv3_asids_free(MmnSmmuv3State *s);

/* cmdq.c */
void mmn_smmuv3_cmdq_process(MmnSmmuv3State *s);

/* btm.c */
#define MMN_SMMUV3_ASET_SHARED      1   /* a CD with ASET = 0 */
#define MMN_SMMUV3_ASET_NONSHARED   2   /* a CD with ASET = 1 */
void mmn_smmuv3_btm_note_aset(MmnSmmuv3Asid *a, bool aset);
void mmn_smmuv3_btm_instance_init(MmnSmmuv3State *s);
void mmn_smmuv3_btm_realize(MmnSmmuv3State *s);
void mmn_smmuv3_btm_fini(MmnSmmuv3State *s);

/* evtq.c */
bool mmn_smmuv3_record_event(MmnSmmuv3State *s, const MmnSmmuv3Evt *evt);
void mmn_smmuv3_gerror(MmnSmmuv3State *s, uint32_t bits);
bool mmn_smmuv3_msi(MmnSmmuv3State *s, uint64_t cfg0, uint32_t data);

#endif /* HW_MMN_SMMU_SMMUV3_INTERNAL_H */
