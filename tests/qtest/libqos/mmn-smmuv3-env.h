/*
 * libqos: a test environment on mmn-smmuv3's master for checking the
 * SMMU's answers to bad input (tests/qtest/mmn-smmuv3-errors-test.c): the
 * master's STE with 16 CDs, a CD per PASID on one set of page tables, jobs
 * and their outcome, event records with the fetch address (Arm IHI 0070
 * 7.3), GERROR, stream table reprogramming.  Built on libqos/mmn-smmuv3.h.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef LIBQOS_MMN_SMMUV3_ENV_H
#define LIBQOS_MMN_SMMUV3_ENV_H

#include "mmn-smmuv3.h"

#define SID         V3_MASTER_SID
#define PASID       5
#define ASID        7
#define VA          0x0000007f12340000ULL
#define DATA_PA     (V3_RAM + 0x08000000)
#define MSI_PA      (V3_RAM + 0x08100000)
#define NOWHERE     0x0000700000000000ULL   /* below 2^48, nothing there */
#define UART        0x09000000ULL
#define USER_RW     (PTE_AF | PTE_USER)
#define GB_MSI_ABT  (1u << 7)               /* GERROR.MSI_GERROR_ABT_ERR */

/* CD word 0 fields (5.4) */
#define CD_T0SZ(x)  ((uint64_t)(x))
#define CD_TG0(x)   ((uint64_t)(x) << 6)
#define CD_EPD0     (1ULL << 14)
#define CD_ENDI     (1ULL << 15)
#define CD_EPD1     (1ULL << 30)
#define CD_V        (1ULL << 31)
#define CD_IPS(x)   ((uint64_t)(x) << 32)
#define CD_TBI0     (1ULL << 38)
#define CD_AA64     (1ULL << 41)
#define CD_HD       (1ULL << 42)
#define CD_HA       (1ULL << 43)
#define CD_S        (1ULL << 44)
#define CD_R        (1ULL << 45)
#define CD_A        (1ULL << 46)

/* STATUS of a master job */
#define ST(s)       ((s) & 0xf)
#define KIND(s)     (((s) >> 8) & 0xf)
#define K_XLATE     1
#define K_SIZE      2
#define K_ACCESS    3
#define K_ABORT     5
#define K_CONFIG    6

#define EVT_F_STE_FETCH     0x03
#define EVT_F_CD_FETCH      0x09
#define EVT_F_ADDR_SIZE     0x11
#define EVT_F_ACCESS        0x12

/* STRTAB_BASE_CFG of a 2-level stream table */
#define CFG_2L(split, log2) ((1u << 16) | (split) << 6 | (log2))

typedef struct V3Ev {
    uint8_t id;
    bool ssv, stall;
    uint32_t ssid, sid;
    uint16_t stag;
    uint64_t addr, fetch;
} V3Ev;

typedef struct V3Env {
    QTestState *qts;
    V3 v;
    uint64_t cdtab, root;
} V3Env;

/* The CD word 0 Linux's arm_smmu_write_ctx_desc() (6.1) writes. */
uint64_t v3e_cd_w0(bool stall, bool record);
/* The master's STE, raw fields, and CFGI_STE. */
void v3e_ste(V3Env *e, unsigned config, unsigned fmt, uint64_t ctx,
             unsigned cdmax, unsigned s1dss, bool stalld);
/* SMMU on; the master's STE: 16 CDs, S1DSS SSID0; CD PASID and CD 0. */
void v3e_up(V3Env *e, const char *props, bool stall);
/* CD PASID changed as a driver does it: CFGI_CD, TLBI of its ASID. */
void v3e_cd_set(V3Env *e, uint64_t w0, uint64_t ttb);

/* The next event record, or false. */
bool v3e_next(V3 *v, V3Ev *e);
/* The next event is @id from the master; none left / none at all. */
V3Ev v3e_expect(V3Env *e, uint8_t id);
void v3e_none(V3Env *e);

/* A job; its STATUS. */
uint32_t v3e_job(V3Env *e, uint32_t op, uint64_t va, uint32_t len, bool ssv,
                 uint32_t pasid);
/* A FILL at VA completes / is a configuration error recording @id. */
void v3e_ok(V3Env *e, bool ssv, uint32_t pasid);
V3Ev v3e_bad(V3Env *e, bool ssv, uint32_t pasid, uint8_t id);

/* GERROR bits active; acknowledge them all. */
uint32_t v3e_gerr(V3 *v);
void v3e_ack(V3 *v);

/* STRTAB_BASE(_CFG) and CR2, written with SMMUEN = 0 (6.3.24). */
void v3e_strtab(V3Env *e, uint64_t base, uint32_t cfg, uint32_t cr2);
/* A level-2 stream table of 2^(span-1) STEs, the master's at @index. */
uint64_t v3e_l2_table(V3Env *e, unsigned span, unsigned index);

#endif /* LIBQOS_MMN_SMMUV3_ENV_H */
