/*
 * libqos driver for mmn-smmuv3 (see mmn-smmuv3.h).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "../libqtest.h"
#include "mmn-smmuv3.h"

/* Guest RAM layout of the driver (512 MiB from V3_RAM). */
#define STRTAB_AT   (V3_RAM)                /* up to 8 MiB (2^17 STEs) */
#define CMDQ_AT     (V3_RAM + 0x01000000)
#define EVTQ_AT     (V3_RAM + 0x01100000)
#define TABLES_AT   (V3_RAM + 0x02000000)   /* bump-allocated */

QTestState *v3_start(const char *extra)
{
    return qtest_initf("-M virt,iommu=mmn-smmuv3 -cpu max -m 512M %s",
                       extra ? extra : "");
}

uint32_t v3_rd(V3 *v, uint64_t off)
{
    return qtest_readl(v->qts, V3_BASE + off);
}

void v3_wr(V3 *v, uint64_t off, uint32_t val)
{
    qtest_writel(v->qts, V3_BASE + off, val);
}

void v3_wrq(V3 *v, uint64_t off, uint64_t val)
{
    qtest_writeq(v->qts, V3_BASE + off, val);
}

uint64_t v3_alloc(V3 *v, uint64_t size)
{
    uint64_t a = v->next_page;

    size = (size + 0xfff) & ~0xfffULL;
    v->next_page += size;
    qtest_memset(v->qts, a, 0, size);
    return a;
}

void v3_init(V3 *v, QTestState *qts, unsigned strtab_log2,
             unsigned cmdq_log2, unsigned evtq_log2)
{
    memset(v, 0, sizeof(*v));
    v->qts = qts;
    v->strtab = STRTAB_AT;
    v->strtab_log2 = strtab_log2;
    v->cmdq = CMDQ_AT;
    v->evtq = EVTQ_AT;
    v->cmdq_log2 = cmdq_log2;
    v->evtq_log2 = evtq_log2;
    v->next_page = TABLES_AT;
    qtest_memset(qts, STRTAB_AT, 0, 64ULL << strtab_log2);
    /* The order of Linux's arm_smmu_device_reset(). */
    v3_wr(v, V3_CR0, 0);
    v3_wr(v, V3_CR1, 0x0d75);
    v3_wr(v, V3_CR2, 0x2);
    v3_wrq(v, V3_STRTAB_BASE, STRTAB_AT);
    v3_wr(v, V3_STRTAB_BASE_CFG, strtab_log2);
    v3_wrq(v, V3_CMDQ_BASE, CMDQ_AT | cmdq_log2);
    v3_wr(v, V3_CMDQ_PROD, 0);
    v3_wr(v, V3_CMDQ_CONS, 0);
    v3_wr(v, V3_CR0, 1 << 3);                           /* CMDQEN */
    v3_wrq(v, V3_EVTQ_BASE, EVTQ_AT | evtq_log2);
    v3_wr(v, V3_EVTQ_PROD, 0);
    v3_wr(v, V3_EVTQ_CONS, 0);
    v3_wr(v, V3_CR0, (1 << 3) | (1 << 2));              /* + EVENTQEN */
    v3_wr(v, V3_IRQ_CTRL, 0x5);
    v3_wr(v, V3_CR0, (1 << 3) | (1 << 2) | 1);          /* + SMMUEN */
    g_assert_cmphex(v3_rd(v, V3_CR0ACK), ==, 0xd);
}

void v3_ste_raw(V3 *v, uint32_t sid, uint64_t w0, uint64_t w1)
{
    uint64_t a = v->strtab + (uint64_t)sid * 64;

    qtest_memset(v->qts, a, 0, 64);
    qtest_writeq(v->qts, a + 8, w1);
    qtest_writeq(v->qts, a, w0);
}

void v3_ste_s1(V3 *v, uint32_t sid, uint64_t cdtab, unsigned cdmax,
               unsigned s1dss, bool stalld)
{
    uint64_t w0 = 1 | (5ULL << 1) | (cdtab & 0x000fffffffffffc0ULL) |
                  ((uint64_t)cdmax << 59);
    uint64_t w1 = s1dss | (1ULL << 2) | (1ULL << 4) | (3ULL << 6) |
                  ((uint64_t)stalld << 27);

    v3_ste_raw(v, sid, w0, w1);
}

void v3_cd_raw(V3 *v, uint64_t cdtab, uint32_t ssid, uint64_t w0,
               uint64_t w1)
{
    uint64_t a = cdtab + (uint64_t)ssid * 64;

    qtest_memset(v->qts, a, 0, 64);
    qtest_writeq(v->qts, a + 8, w1);
    qtest_writeq(v->qts, a + 24, 0x00000000ff440c0400ULL);  /* MAIR */
    qtest_writeq(v->qts, a, w0);
}

void v3_cd(V3 *v, uint64_t cdtab, uint32_t ssid, uint64_t ttb,
           uint16_t asid, bool stall, bool record)
{
    /* T0SZ 16, TG0 4K, IRGN0/ORGN0 WBWA, SH0 IS, EPD1, V, IPS 48-bit, AA64 */
    uint64_t w0 = 16 | (1ULL << 8) | (1ULL << 10) | (3ULL << 12) |
                  (1ULL << 30) | (1ULL << 31) | (5ULL << 32) | (1ULL << 41) |
                  ((uint64_t)stall << 44) | ((uint64_t)record << 45) |
                  (1ULL << 46) | ((uint64_t)asid << 48);

    v3_cd_raw(v, cdtab, ssid, w0, ttb & 0x000ffffffffffff0ULL);
}

uint64_t v3_pt_new(V3 *v)
{
    return v3_alloc(v, 4096);
}

uint64_t v3_map(V3 *v, uint64_t root, uint64_t va, uint64_t pa,
                uint64_t attrs)
{
    uint64_t table = root;
    int level;

    for (level = 0; level < 3; level++) {
        uint64_t slot = table + ((va >> (39 - 9 * level)) & 0x1ff) * 8;
        uint64_t d = qtest_readq(v->qts, slot);

        if (!(d & PTE_VALID)) {
            d = v3_alloc(v, 4096) | PTE_TABLE | PTE_VALID;
            qtest_writeq(v->qts, slot, d);
        }
        table = d & 0x0000fffffffff000ULL;
    }
    table += ((va >> 12) & 0x1ff) * 8;
    qtest_writeq(v->qts, table, (pa & 0x0000fffffffff000ULL) | attrs |
                 PTE_TABLE | PTE_VALID);
    return table;
}

void v3_cmd(V3 *v, uint64_t w0, uint64_t w1)
{
    uint32_t idx = v->cmd_prod & ((1u << v->cmdq_log2) - 1);

    qtest_writeq(v->qts, v->cmdq + idx * 16, w0);
    qtest_writeq(v->qts, v->cmdq + idx * 16 + 8, w1);
    v->cmd_prod = (v->cmd_prod + 1) & ((2u << v->cmdq_log2) - 1);
    v3_wr(v, V3_CMDQ_PROD, v->cmd_prod);
}

void v3_tlbi_va(V3 *v, uint16_t asid, uint64_t va)
{
    v3_cmd(v, CMD_TLBI_NH_VA | ((uint64_t)asid << 48),
           (va & ~0xfffULL) | 1);
}

void v3_resume(V3 *v, uint32_t sid, uint16_t stag, unsigned resp)
{
    v3_cmd(v, CMD_RESUME | ((uint64_t)resp << 12) | ((uint64_t)sid << 32),
           stag);
}

unsigned v3_evt_count(V3 *v)
{
    uint32_t prod = v3_rd(v, V3_EVTQ_PROD);
    uint32_t mask = (2u << v->evtq_log2) - 1;

    return ((prod & mask) - (v->evt_cons & mask)) & mask;
}

bool v3_evt(V3 *v, V3Evt *e)
{
    uint32_t mask = (2u << v->evtq_log2) - 1;
    uint32_t prod = v3_rd(v, V3_EVTQ_PROD);
    uint64_t a, w0, w1;

    if ((prod & mask) == (v->evt_cons & mask)) {
        return false;
    }
    a = v->evtq + (v->evt_cons & ((1u << v->evtq_log2) - 1)) * 32;
    w0 = qtest_readq(v->qts, a);
    w1 = qtest_readq(v->qts, a + 8);
    e->id = w0 & 0xff;
    e->ssv = (w0 >> 11) & 1;
    e->ssid = (w0 >> 12) & 0xfffff;
    e->sid = w0 >> 32;
    e->stag = w1 & 0xffff;
    e->stall = (w1 >> 31) & 1;
    e->rnw = (w1 >> 35) & 1;
    e->addr = qtest_readq(v->qts, a + 16);
    v->evt_cons = (v->evt_cons + 1) & mask;
    v3_wr(v, V3_EVTQ_CONS, v->evt_cons);
    return true;
}

void v3_job_read(V3 *v, V3Job *j)
{
    QTestState *q = v->qts;

    j->status = qtest_readl(q, V3_MASTER + M_STATUS);
    j->done = qtest_readl(q, V3_MASTER + M_DONE);
    j->faults = qtest_readl(q, V3_MASTER + M_FAULTS);
    j->retries = qtest_readl(q, V3_MASTER + M_RETRIES);
    j->tlbi = qtest_readl(q, V3_MASTER + M_TLBI_COUNT);
    j->livelock = qtest_readl(q, V3_MASTER + M_LIVELOCK_COUNT);
}

void v3_job(V3 *v, uint32_t op, uint64_t va, uint32_t len, bool ssv,
            uint32_t pasid, uint32_t pattern, V3Job *j)
{
    QTestState *q = v->qts;

    qtest_writel(q, V3_MASTER + M_CTRL, ssv ? 1 : 0);
    qtest_writel(q, V3_MASTER + M_PASID, pasid);
    qtest_writel(q, V3_MASTER + M_VA_LO, (uint32_t)va);
    qtest_writel(q, V3_MASTER + M_VA_HI, va >> 32);
    qtest_writel(q, V3_MASTER + M_LEN, len);
    qtest_writel(q, V3_MASTER + M_OP, op);
    qtest_writel(q, V3_MASTER + M_PATTERN, pattern);
    qtest_writel(q, V3_MASTER + M_DOORBELL, 1);
    v3_job_read(v, j);
}
