/*
 * qtests of mmn-smmuv3 and its SVA master on -M virt,iommu=mmn-smmuv3:
 * identification, translation, stalls and CMD_RESUME, TLBI (by VA, range,
 * ASID), the livelock on a stale read-only entry, configuration errors,
 * command errors, CMD_SYNC completion by MSI, event queue overflow and
 * reset.  The driver side follows Arm IHI 0070 (libqos/mmn-smmuv3.c).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/mmn-smmuv3.h"

#define SID         V3_MASTER_SID
#define PASID       5
#define ASID        7
#define VA          0x0000007f12340000ULL
#define DATA_PA     (V3_RAM + 0x08000000)
#define USER_RW     (PTE_AF | PTE_USER)
#define USER_RO_DBM (PTE_AF | PTE_USER | PTE_RDONLY | PTE_DBM)

typedef struct Env {
    QTestState *qts;
    V3 v;
    uint64_t cdtab;
    uint64_t root;
} Env;

/* SMMU on, master's STE with 16 CDs, CD @PASID bound to fresh tables. */
static void env_up(Env *e, bool stall, bool record)
{
    e->qts = v3_start(NULL);
    v3_init(&e->v, e->qts, 17, 8, 8);
    e->cdtab = v3_alloc(&e->v, 16 * 64);
    e->root = v3_pt_new(&e->v);
    v3_ste_s1(&e->v, SID, e->cdtab, 4, 2, false);
    v3_cd(&e->v, e->cdtab, PASID, e->root, ASID, stall, record);
}

static void env_down(Env *e)
{
    qtest_quit(e->qts);
}

static void test_idr(void)
{
    QTestState *qts = v3_start(NULL);
    V3 v = { .qts = qts };
    uint32_t idr0 = v3_rd(&v, V3_IDR0), idr1 = v3_rd(&v, V3_IDR1);

    g_assert_cmphex(idr0 & 0x2, ==, 0x2);           /* S1P */
    g_assert_cmphex(idr0 & 0x1, ==, 0);             /* no S2P */
    g_assert_cmphex((idr0 >> 2) & 3, ==, 2);        /* TTF AArch64 */
    g_assert_cmphex(idr0 & (1 << 4), !=, 0);        /* COHACC */
    g_assert_cmphex(idr0 & (1 << 5), ==, 0);        /* no BTM */
    g_assert_cmphex((idr0 >> 6) & 3, ==, 0);        /* no HTTU */
    g_assert_cmphex(idr0 & (1 << 12), !=, 0);       /* ASID16 */
    g_assert_cmphex(idr0 & (1 << 13), !=, 0);       /* MSI */
    g_assert_cmphex(idr0 & (1 << 19), !=, 0);       /* CD2L */
    g_assert_cmphex((idr0 >> 24) & 3, ==, 0);       /* stall model */
    g_assert_cmphex((idr0 >> 27) & 3, ==, 1);       /* 2-level STs */
    g_assert_cmpuint(idr1 & 0x3f, ==, 17);          /* SIDSIZE */
    g_assert_cmpuint((idr1 >> 6) & 0x1f, ==, 20);   /* SSIDSIZE */
    g_assert_cmpuint(v3_rd(&v, V3_IDR5) & 7, ==, 5);    /* OAS 48 */
    g_assert_cmphex(v3_rd(&v, V3_IDR3) & (1 << 10), !=, 0);     /* RIL */
    g_assert_cmphex(v3_rd(&v, V3_GBPA), ==, 0x1000);
    qtest_quit(qts);

    qts = v3_start("-global mmn-smmuv3.btm=on -global mmn-smmuv3.httu=2");
    v.qts = qts;
    g_assert_cmphex(v3_rd(&v, V3_IDR0) & (1 << 5), !=, 0);
    g_assert_cmphex((v3_rd(&v, V3_IDR0) >> 6) & 3, ==, 2);
    qtest_quit(qts);
}

/* SMMUEN = 0: GBPA decides between bypass and abort. */
static void test_bypass_gbpa(void)
{
    QTestState *qts = v3_start(NULL);
    V3 v = { .qts = qts };
    V3Job j;

    qtest_writel(qts, DATA_PA, 0);
    v3_job(&v, M_OP_FILL, DATA_PA, 4, false, 0, 0x11223344, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_DONE);
    g_assert_cmphex(qtest_readl(qts, DATA_PA), ==, 0x11223344);

    v3_wr(&v, V3_GBPA, (1u << 31) | (1u << 20));
    g_assert_cmphex(v3_rd(&v, V3_GBPA), ==, 1u << 20);
    v3_job(&v, M_OP_FILL, DATA_PA, 4, false, 0, 0x55667788, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_FAULT);
    g_assert_cmphex(qtest_readl(qts, DATA_PA), ==, 0x11223344);
    qtest_quit(qts);
}

/* Stage-1 translation of READ, WRITE and FILL through a PASID's CD. */
static void test_translate(void)
{
    Env e;
    V3Job j;

    env_up(&e, true, true);
    v3_map(&e.v, e.root, VA, DATA_PA, USER_RW);
    v3_map(&e.v, e.root, VA + 0x1000, DATA_PA + 0x3000, USER_RW);
    v3_job(&e.v, M_OP_FILL, VA + 0xffe, 4, true, PASID, 0xa1b2c3d4, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_DONE);
    g_assert_cmpuint(j.done, ==, 4);
    /* phase 0 at VA: bytes (VA + i) mod 4 of the pattern */
    g_assert_cmphex(qtest_readb(e.qts, DATA_PA + 0xffe), ==, 0xb2);
    g_assert_cmphex(qtest_readb(e.qts, DATA_PA + 0xfff), ==, 0xa1);
    g_assert_cmphex(qtest_readb(e.qts, DATA_PA + 0x3000), ==, 0xd4);

    qtest_writel(e.qts, DATA_PA + 0x3010, 0xfeedf00d);
    v3_job(&e.v, M_OP_READ, VA + 0x1010, 4, true, PASID, 0, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_DONE);
    g_assert_cmphex(qtest_readl(e.qts, V3_MASTER + M_DATA), ==, 0xfeedf00d);

    qtest_writel(e.qts, V3_MASTER + M_DATA, 0x0badcafe);
    v3_job(&e.v, M_OP_WRITE, VA + 0x20, 4, true, PASID, 0, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_DONE);
    g_assert_cmphex(qtest_readl(e.qts, DATA_PA + 0x20), ==, 0x0badcafe);
    g_assert_cmpuint(v3_evt_count(&e.v), ==, 0);
    env_down(&e);
}

/*
 * The upgrade a kernel heals: a write hits a writable-clean PTE (read-only
 * to the SMMU), stalls with F_PERMISSION; the CPU side makes it writable,
 * sends TLBI_NH_VA and resumes: the retry walks again and completes.
 */
static void test_stall_tlbi_resume(void)
{
    Env e;
    V3Job j;
    V3Evt ev;
    uint64_t pte;

    env_up(&e, true, true);
    pte = v3_map(&e.v, e.root, VA, DATA_PA, USER_RO_DBM);
    v3_job(&e.v, M_OP_FILL, VA, 8, true, PASID, 0x01020304, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_BUSY);
    g_assert_cmpuint(j.faults, ==, 1);
    g_assert_true(v3_evt(&e.v, &ev));
    g_assert_cmphex(ev.id, ==, EVT_F_PERMISSION);
    g_assert_true(ev.stall);
    g_assert_true(ev.ssv);
    g_assert_cmphex(ev.ssid, ==, PASID);
    g_assert_cmphex(ev.sid, ==, SID);
    g_assert_false(ev.rnw);
    g_assert_cmphex(ev.addr, ==, VA);

    qtest_writeq(e.qts, pte, qtest_readq(e.qts, pte) & ~PTE_RDONLY);
    v3_tlbi_va(&e.v, ASID, VA);
    v3_resume(&e.v, SID, ev.stag, 1);
    v3_job_read(&e.v, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_DONE);
    g_assert_cmpuint(j.retries, ==, 1);
    g_assert_cmpuint(j.tlbi, ==, 1);
    g_assert_cmphex(qtest_readl(e.qts, DATA_PA), ==, 0x01020304);
    g_assert_false(v3_evt(&e.v, &ev));
    env_down(&e);
}

/*
 * The same without the TLBI (Linux 6.1's path): every retry faults from
 * the cached read-only entry until the livelock detector ends the job;
 * the checker finds the entry stale.
 */
static void test_stale_livelock(void)
{
    Env e;
    V3Job j;
    V3Evt ev;
    uint64_t pte;
    unsigned n = 0;

    env_up(&e, true, true);
    pte = v3_map(&e.v, e.root, VA, DATA_PA, USER_RO_DBM);
    qtest_writel(e.qts, DATA_PA, 0x5a5a5a5a);
    v3_job(&e.v, M_OP_FILL, VA, 4, true, PASID, 0x01020304, &j);
    qtest_writeq(e.qts, pte, qtest_readq(e.qts, pte) & ~PTE_RDONLY);
    while (v3_evt(&e.v, &ev) && n < 100) {
        g_assert_true(ev.stall);
        v3_resume(&e.v, SID, ev.stag, 1);
        n++;
    }
    v3_job_read(&e.v, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_LIVELOCK);
    g_assert_cmphex(j.status & (1 << 12), !=, 0);   /* from the cache */
    g_assert_cmphex(j.status & (1 << 13), !=, 0);   /* a stale entry */
    g_assert_cmpuint(j.livelock, ==, 16);
    g_assert_cmpuint(j.tlbi, ==, 0);
    g_assert_cmphex(qtest_readl(e.qts, DATA_PA), ==, 0x5a5a5a5a);
    qtest_writel(e.qts, V3_MASTER + M_CTRL, 1);
    qtest_writel(e.qts, V3_MASTER + M_CHECK, 1);
    g_assert_cmpuint(qtest_readl(e.qts, V3_MASTER + M_CHECK_ENTRIES), ==, 1);
    g_assert_cmpuint(qtest_readl(e.qts, V3_MASTER + M_CHECK_STALE_RO), ==, 1);

    /* TLBI_NH_ASID heals it: the next job walks again. */
    v3_cmd(&e.v, CMD_TLBI_NH_ASID | ((uint64_t)ASID << 48), 0);
    qtest_writel(e.qts, V3_MASTER + M_CHECK, 1);
    g_assert_cmpuint(qtest_readl(e.qts, V3_MASTER + M_CHECK_ENTRIES), ==, 0);
    v3_job(&e.v, M_OP_FILL, VA, 4, true, PASID, 0x01020304, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_DONE);
    env_down(&e);
}

/*
 * Livelocks on a coherent IOTLB: the "fix" never changes the tables.  An
 * access-flag fault is never cached (walked after each resume at the same
 * descriptor); a master without stalls resubmitting a job that takes a
 * cached permission fault is caught across jobs.
 */
static void test_coherent_livelock(void)
{
    Env e;
    V3Job j;
    V3Evt ev;
    unsigned n = 0;

    env_up(&e, true, true);
    v3_map(&e.v, e.root, VA, DATA_PA, PTE_USER);        /* AF = 0 */
    v3_job(&e.v, M_OP_FILL, VA, 4, true, PASID, 1, &j);
    while (v3_evt(&e.v, &ev) && n < 100) {
        v3_resume(&e.v, SID, ev.stag, 1);
        n++;
    }
    v3_job_read(&e.v, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_LIVELOCK);
    g_assert_cmphex((j.status >> 8) & 0xf, ==, 3);     /* access flag */
    g_assert_cmphex(j.status & (1 << 13), ==, 0);       /* not stale */
    g_assert_cmpuint(n, ==, 15);
    env_down(&e);

    env_up(&e, false, true);
    v3_map(&e.v, e.root, VA, DATA_PA, USER_RO_DBM);
    for (n = 1; n < 16; n++) {
        v3_job(&e.v, M_OP_FILL, VA, 4, true, PASID, 1, &j);
        g_assert_cmphex(j.status & 0xf, ==, M_ST_FAULT);
    }
    v3_job(&e.v, M_OP_FILL, VA, 4, true, PASID, 1, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_LIVELOCK);
    g_assert_cmphex(j.status & (1 << 13), ==, 0);
    env_down(&e);
}

/* RESUME with Abort, STALL_TERM, and a RESUME that matches nothing. */
static void test_resume_abort_term(void)
{
    Env e;
    V3Job j;
    V3Evt ev;

    env_up(&e, true, true);
    v3_map(&e.v, e.root, VA, DATA_PA, USER_RO_DBM);
    v3_job(&e.v, M_OP_FILL, VA, 4, true, PASID, 1, &j);
    g_assert_true(v3_evt(&e.v, &ev));
    v3_resume(&e.v, SID, ev.stag + 1, 1);           /* no match: ignored */
    v3_job_read(&e.v, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_BUSY);
    v3_resume(&e.v, SID, ev.stag, 2);               /* Abort */
    v3_job_read(&e.v, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_FAULT);

    v3_job(&e.v, M_OP_FILL, VA, 4, true, PASID, 1, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_BUSY);
    v3_cmd(&e.v, CMD_STALL_TERM | ((uint64_t)SID << 32), 0);
    v3_job_read(&e.v, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_FAULT);
    g_assert_cmphex(v3_rd(&e.v, V3_GERROR) ^ v3_rd(&e.v, V3_GERRORN), ==, 0);
    env_down(&e);
}

/* CD.S = 0: a fault terminates; recorded only with CD.R = 1. */
static void test_terminate_record(void)
{
    Env e;
    V3Job j;
    V3Evt ev;

    env_up(&e, false, true);
    v3_job(&e.v, M_OP_FILL, VA, 4, true, PASID, 1, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_FAULT);
    g_assert_cmphex((j.status >> 8) & 0xf, ==, 1);  /* translation */
    g_assert_true(v3_evt(&e.v, &ev));
    g_assert_cmphex(ev.id, ==, EVT_F_TRANSLATION);
    g_assert_false(ev.stall);
    env_down(&e);

    env_up(&e, false, false);
    v3_job(&e.v, M_OP_FILL, VA, 4, true, PASID, 1, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_FAULT);
    g_assert_cmpuint(v3_evt_count(&e.v), ==, 0);
    env_down(&e);
}

/* Configuration errors give their events and terminate. */
static void test_bad_config(void)
{
    Env e;
    V3Job j;
    V3Evt ev;

    env_up(&e, true, true);
    /* SSID beyond S1CDMAX (16 CDs) */
    v3_job(&e.v, M_OP_FILL, VA, 4, true, 16, 1, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_FAULT);
    g_assert_cmphex((j.status >> 8) & 0xf, ==, 6);
    g_assert_true(v3_evt(&e.v, &ev));
    g_assert_cmphex(ev.id, ==, EVT_C_BAD_SUBSTREAMID);

    /* CD.V = 0 */
    v3_job(&e.v, M_OP_FILL, VA, 4, true, PASID + 1, 1, &j);
    g_assert_true(v3_evt(&e.v, &ev));
    g_assert_cmphex(ev.id, ==, EVT_C_BAD_CD);

    /* CD with AA64 = 0 */
    v3_cd_raw(&e.v, e.cdtab, 9, 16 | (1ULL << 31) | (5ULL << 32), 0);
    v3_job(&e.v, M_OP_FILL, VA, 4, true, 9, 1, &j);
    g_assert_true(v3_evt(&e.v, &ev));
    g_assert_cmphex(ev.id, ==, EVT_C_BAD_CD);

    /* no substream with S1DSS terminate */
    v3_ste_s1(&e.v, SID, e.cdtab, 4, 0, false);
    v3_job(&e.v, M_OP_FILL, VA, 4, false, 0, 1, &j);
    g_assert_true(v3_evt(&e.v, &ev));
    g_assert_cmphex(ev.id, ==, EVT_F_STREAM_DISABLED);

    /* STE.V = 0, then a stage-2 Config */
    v3_ste_raw(&e.v, SID, 0, 0);
    v3_job(&e.v, M_OP_FILL, VA, 4, true, PASID, 1, &j);
    g_assert_true(v3_evt(&e.v, &ev));
    g_assert_cmphex(ev.id, ==, EVT_C_BAD_STE);
    v3_ste_raw(&e.v, SID, 1 | (6 << 1), 0);
    v3_job(&e.v, M_OP_FILL, VA, 4, true, PASID, 1, &j);
    g_assert_true(v3_evt(&e.v, &ev));
    g_assert_cmphex(ev.id, ==, EVT_C_BAD_STE);

    /* Config abort: terminated without an event */
    v3_ste_raw(&e.v, SID, 1, 0);
    v3_job(&e.v, M_OP_FILL, VA, 4, true, PASID, 1, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_FAULT);
    g_assert_cmpuint(v3_evt_count(&e.v), ==, 0);

    /* StreamID beyond the table */
    v3_wr(&e.v, V3_CR0, 0xc);
    v3_wr(&e.v, V3_STRTAB_BASE_CFG, 16);
    v3_wr(&e.v, V3_CR0, 0xd);
    v3_job(&e.v, M_OP_FILL, VA, 4, true, PASID, 1, &j);
    g_assert_true(v3_evt(&e.v, &ev));
    g_assert_cmphex(ev.id, ==, EVT_C_BAD_STREAMID);

    /* page tables outside RAM: a walk abort, never stalled */
    v3_wr(&e.v, V3_CR0, 0xc);          /* Guarded by SMMUEN (6.3.25) */
    v3_wr(&e.v, V3_STRTAB_BASE_CFG, 17);
    v3_wr(&e.v, V3_CR0, 0xd);
    v3_ste_s1(&e.v, SID, e.cdtab, 4, 2, false);
    v3_cd(&e.v, e.cdtab, PASID, 0x09000000, ASID, true, true);
    v3_job(&e.v, M_OP_FILL, VA, 4, true, PASID, 1, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_FAULT);
    g_assert_true(v3_evt(&e.v, &ev));
    g_assert_cmphex(ev.id, ==, EVT_F_WALK_EABT);
    g_assert_false(ev.stall);
    env_down(&e);
}

/* An illegal command stops the queue until GERRORN acknowledges it. */
static void test_illegal_command(void)
{
    Env e;
    uint32_t cons;

    env_up(&e, true, true);
    v3_cmd(&e.v, 0x7f, 0);
    cons = v3_rd(&e.v, V3_CMDQ_CONS);
    g_assert_cmphex((cons >> 24) & 0x7f, ==, 1);        /* CERROR_ILL */
    g_assert_cmphex(cons & 0xffff, ==, 0);              /* stopped at it */
    g_assert_cmphex((v3_rd(&e.v, V3_GERROR) ^
                     v3_rd(&e.v, V3_GERRORN)) & 1, ==, 1);
    v3_cmd(&e.v, CMD_SYNC, 0);                          /* queued behind */
    g_assert_cmphex(v3_rd(&e.v, V3_CMDQ_CONS) & 0xffff, ==, 0);
    /* Linux's arm_smmu_cmdq_skip_err: replace with a SYNC, acknowledge */
    qtest_writeq(e.qts, e.v.cmdq, CMD_SYNC);
    v3_wr(&e.v, V3_GERRORN, v3_rd(&e.v, V3_GERROR));
    g_assert_cmphex(v3_rd(&e.v, V3_CMDQ_CONS) & 0xffff, ==, 2);
    env_down(&e);
}

/* CMD_SYNC with CS = IRQ and an MSI address writes MSIData there. */
static void test_sync_msi(void)
{
    Env e;
    uint64_t msi;

    env_up(&e, true, true);
    msi = v3_alloc(&e.v, 4096);
    qtest_writel(e.qts, msi, 0xffffffff);
    v3_cmd(&e.v, CMD_SYNC | (1ULL << 12) | (0x1234ULL << 32), msi);
    g_assert_cmphex(qtest_readl(e.qts, msi), ==, 0x1234);
    env_down(&e);
}

/* Range TLBI (RIL): NUM + 1 pages of TG 4K from ADDR, nothing more. */
static void test_tlbi_range(void)
{
    Env e;
    V3Job j;
    uint64_t pte[4];
    int i;

    env_up(&e, false, true);
    for (i = 0; i < 4; i++) {
        pte[i] = v3_map(&e.v, e.root, VA + i * 0x1000, DATA_PA + i * 0x1000,
                        USER_RW);
        v3_job(&e.v, M_OP_FILL, VA + i * 0x1000, 4, true, PASID, 1, &j);
        g_assert_cmphex(j.status & 0xf, ==, M_ST_DONE);
    }
    qtest_writel(e.qts, V3_MASTER + M_CHECK, 1);
    g_assert_cmpuint(qtest_readl(e.qts, V3_MASTER + M_CHECK_ENTRIES), ==, 4);
    /* TG 4K (1), NUM 2 (3 pages), SCALE 0, from VA + 0x1000 */
    v3_cmd(&e.v, CMD_TLBI_NH_VA | (2ULL << 12) | ((uint64_t)ASID << 48),
           (VA + 0x1000) | (1ULL << 10));
    qtest_writel(e.qts, V3_MASTER + M_CHECK, 1);
    g_assert_cmpuint(qtest_readl(e.qts, V3_MASTER + M_CHECK_ENTRIES), ==, 1);
    /* the one left is the first page: unmapping it makes it stale */
    qtest_writeq(e.qts, pte[0], 0);
    qtest_writel(e.qts, V3_MASTER + M_CHECK, 1);
    g_assert_cmpuint(qtest_readl(e.qts, V3_MASTER + M_CHECK_STALE), ==, 1);
    v3_cmd(&e.v, CMD_TLBI_NH_ALL, 0);
    qtest_writel(e.qts, V3_MASTER + M_CHECK, 1);
    g_assert_cmpuint(qtest_readl(e.qts, V3_MASTER + M_CHECK_ENTRIES), ==, 0);
    env_down(&e);
}

/* A full event queue toggles EVENTQ_PROD.OVFLG and loses the event. */
static void test_evtq_overflow(void)
{
    QTestState *qts = v3_start(NULL);
    V3 v;
    V3Job j;
    uint64_t cdtab, root;
    int i;

    v3_init(&v, qts, 17, 8, 1);                 /* 2 event entries */
    cdtab = v3_alloc(&v, 16 * 64);
    root = v3_pt_new(&v);
    v3_ste_s1(&v, SID, cdtab, 4, 2, false);
    v3_cd(&v, cdtab, PASID, root, ASID, false, true);
    for (i = 0; i < 3; i++) {
        v3_job(&v, M_OP_FILL, VA, 4, true, PASID, 1, &j);
    }
    g_assert_cmphex(v3_rd(&v, V3_EVTQ_PROD) & (1u << 31), !=, 0);
    g_assert_cmpuint(v3_evt_count(&v), ==, 2);
    qtest_quit(qts);
}

/* system_reset brings every register back to its reset value. */
static void test_reset(void)
{
    Env e;

    env_up(&e, true, true);
    qtest_system_reset(e.qts);
    g_assert_cmphex(v3_rd(&e.v, V3_CR0), ==, 0);
    g_assert_cmphex(v3_rd(&e.v, V3_CR0ACK), ==, 0);
    g_assert_cmphex(v3_rd(&e.v, V3_GBPA), ==, 0x1000);
    g_assert_cmphex(v3_rd(&e.v, V3_IRQ_CTRL), ==, 0);
    g_assert_cmphex(v3_rd(&e.v, V3_STRTAB_BASE_CFG), ==, 0);
    g_assert_cmphex(v3_rd(&e.v, V3_CMDQ_PROD), ==, 0);
    g_assert_cmphex(qtest_readl(e.qts, V3_MASTER + M_STATUS), ==, 0);
    env_down(&e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/mmn-smmuv3/idr", test_idr);
    qtest_add_func("/mmn-smmuv3/bypass-gbpa", test_bypass_gbpa);
    qtest_add_func("/mmn-smmuv3/translate", test_translate);
    qtest_add_func("/mmn-smmuv3/stall-tlbi-resume", test_stall_tlbi_resume);
    qtest_add_func("/mmn-smmuv3/stale-livelock", test_stale_livelock);
    qtest_add_func("/mmn-smmuv3/coherent-livelock", test_coherent_livelock);
    qtest_add_func("/mmn-smmuv3/resume-abort-term", test_resume_abort_term);
    qtest_add_func("/mmn-smmuv3/terminate-record", test_terminate_record);
    qtest_add_func("/mmn-smmuv3/bad-config", test_bad_config);
    qtest_add_func("/mmn-smmuv3/illegal-command", test_illegal_command);
    qtest_add_func("/mmn-smmuv3/sync-msi", test_sync_msi);
    qtest_add_func("/mmn-smmuv3/tlbi-range", test_tlbi_range);
    qtest_add_func("/mmn-smmuv3/evtq-overflow", test_evtq_overflow);
    qtest_add_func("/mmn-smmuv3/reset", test_reset);
    return g_test_run();
}
