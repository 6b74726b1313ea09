/*
 * libqos: a test environment on mmn-smmuv3's master (see mmn-smmuv3-env.h).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "../libqtest.h"
#include "mmn-smmuv3-env.h"

/* The CD word 0 Linux's arm_smmu_write_ctx_desc() (6.1) writes. */
uint64_t v3e_cd_w0(bool stall, bool record)
{
    return CD_T0SZ(16) | (1ULL << 8) | (1ULL << 10) | (3ULL << 12) |
           CD_EPD1 | CD_V | CD_IPS(5) | CD_AA64 | (stall ? CD_S : 0) |
           (record ? CD_R : 0) | CD_A | ((uint64_t)ASID << 48);
}

/*
 * The STE is followed by CFGI_STE (Leaf), as Linux 6.1's
 * arm_smmu_write_strtab_ent() does through arm_smmu_sync_ste_for_sid()
 * (drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c, like the CD below):
 * without it the SMMU may keep the old configuration.
 */
void v3e_ste(V3Env *e, unsigned config, unsigned fmt, uint64_t ctx,
             unsigned cdmax, unsigned s1dss, bool stalld)
{
    v3_ste_raw(&e->v, SID, 1 | config << 1 | fmt << 4 | ctx |
               (uint64_t)cdmax << 59, s1dss | (1ULL << 2) | (1ULL << 4) |
               (3ULL << 6) | (uint64_t)stalld << 27);
    v3_cmd(&e->v, CMD_CFGI_STE | (uint64_t)SID << 32, 1);
}

/* SMMU on; the master's STE: 16 CDs, S1DSS SSID0; CD PASID and CD 0. */
void v3e_up(V3Env *e, const char *props, bool stall)
{
    e->qts = v3_start(props);
    v3_init(&e->v, e->qts, 17, 8, 8);
    e->cdtab = v3_alloc(&e->v, 4096);
    e->root = v3_pt_new(&e->v);
    v3e_ste(e, 5, 0, e->cdtab, 4, 2, false);
    v3_cd_raw(&e->v, e->cdtab, PASID, v3e_cd_w0(stall, true), e->root);
    v3_cd_raw(&e->v, e->cdtab, 0, v3e_cd_w0(stall, true), e->root);
    v3_map(&e->v, e->root, VA, DATA_PA, USER_RW);
}

/*
 * CD PASID changed as a driver does it: CFGI_CD (Leaf), as Linux 6.1's
 * arm_smmu_write_ctx_desc() does through arm_smmu_sync_cd(), and a TLBI
 * of its ASID.
 */
void v3e_cd_set(V3Env *e, uint64_t w0, uint64_t ttb)
{
    v3_cd_raw(&e->v, e->cdtab, PASID, w0, ttb);
    v3_cmd(&e->v, CMD_CFGI_CD | (uint64_t)PASID << 12 | (uint64_t)SID << 32,
           1);
    v3_cmd(&e->v, CMD_TLBI_NH_ASID | ((uint64_t)ASID << 48), 0);
}

bool v3e_next(V3 *v, V3Ev *e)
{
    uint32_t mask = (2u << v->evtq_log2) - 1;
    uint64_t a, w[4];
    int i;

    if ((v3_rd(v, V3_EVTQ_PROD) & mask) == (v->evt_cons & mask)) {
        return false;
    }
    a = v->evtq + (v->evt_cons & ((1u << v->evtq_log2) - 1)) * 32;
    for (i = 0; i < 4; i++) {
        w[i] = qtest_readq(v->qts, a + i * 8);
    }
    *e = (V3Ev) {
        .id = w[0] & 0xff, .ssv = (w[0] >> 11) & 1,
        .ssid = (w[0] >> 12) & 0xfffff, .sid = w[0] >> 32,
        .stag = w[1] & 0xffff, .stall = (w[1] >> 31) & 1,
        .addr = w[2], .fetch = w[3] & 0x00fffffffffffff8ULL,
    };
    v->evt_cons = (v->evt_cons + 1) & mask;
    v3_wr(v, V3_EVTQ_CONS, v->evt_cons);
    return true;
}

V3Ev v3e_expect(V3Env *e, uint8_t id)
{
    V3Ev ev;

    g_assert_true(v3e_next(&e->v, &ev));
    g_assert_cmphex(ev.id, ==, id);
    g_assert_cmphex(ev.sid, ==, SID);
    return ev;
}

void v3e_none(V3Env *e)
{
    g_assert_cmpuint(v3_evt_count(&e->v), ==, 0);
}

uint32_t v3e_job(V3Env *e, uint32_t op, uint64_t va, uint32_t len,
                 bool ssv, uint32_t pasid)
{
    V3Job j;

    v3_job(&e->v, op, va, len, ssv, pasid, 0x11223344, &j);
    return j.status;
}

/* A FILL at VA must complete. */
void v3e_ok(V3Env *e, bool ssv, uint32_t pasid)
{
    g_assert_cmphex(ST(v3e_job(e, M_OP_FILL, VA, 4, ssv, pasid)), ==,
                    M_ST_DONE);
    v3e_none(e);
}

/* A FILL at VA is a configuration error: @id recorded (0: none). */
V3Ev v3e_bad(V3Env *e, bool ssv, uint32_t pasid, uint8_t id)
{
    uint32_t st = v3e_job(e, M_OP_FILL, VA, 4, ssv, pasid);
    V3Ev ev = { 0 };

    g_assert_cmphex(ST(st), ==, M_ST_FAULT);
    g_assert_cmphex(KIND(st), ==, K_CONFIG);
    if (id) {
        ev = v3e_expect(e, id);
        g_assert_cmphex(ev.ssv, ==, ssv);
        g_assert_cmphex(ev.ssv ? ev.ssid : 0, ==, ssv ? pasid : 0);
    }
    v3e_none(e);
    return ev;
}

uint32_t v3e_gerr(V3 *v)
{
    return v3_rd(v, V3_GERROR) ^ v3_rd(v, V3_GERRORN);
}

void v3e_ack(V3 *v)
{
    v3_wr(v, V3_GERRORN, v3_rd(v, V3_GERROR));
}

/* STRTAB_BASE(_CFG) and CR2 are written with SMMUEN = 0 (6.3.24). */
void v3e_strtab(V3Env *e, uint64_t base, uint32_t cfg, uint32_t cr2)
{
    v3_wr(&e->v, V3_CR0, 0xc);
    v3_wrq(&e->v, V3_STRTAB_BASE, base);
    v3_wr(&e->v, V3_STRTAB_BASE_CFG, cfg);
    v3_wr(&e->v, V3_CR2, cr2);
    v3_wr(&e->v, V3_CR0, 0xd);
}

/* A level-2 stream table of 2^(span-1) STEs, the master's at @index. */
uint64_t v3e_l2_table(V3Env *e, unsigned span, unsigned index)
{
    uint64_t size = 64ULL << (span - 1);
    uint64_t a = ROUND_UP(v3_alloc(&e->v, 2 * MAX(size, 4096)), size);
    uint8_t buf[64];

    qtest_memread(e->qts, e->v.strtab + SID * 64, buf, 64);
    qtest_memwrite(e->qts, a + index * 64, buf, 64);
    return a;
}

