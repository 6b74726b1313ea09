/*
 * qtest for mmn-smmuv3 robustness: random but bounded guest input (stream
 * table entries, context descriptors, L1 descriptors, page tables with
 * loops and pointers into the tables and into MMIO, commands with random
 * opcodes and fields, register writes, master jobs with random VA, PASID
 * and op, stalls answered at random) must get the behaviour Arm IHI 0070
 * defines, never a crash, a hang or a write where the guest did not point
 * the SMMU or its master.  After every burst the SMMU is brought back the
 * way a driver does it (or by system_reset) and a known-good command and
 * job must work; after every step the invariants hold (a stall never
 * survives SMMUEN = 0, no reserved CR0 or GERROR bit is set).
 *
 * Guest RAM layout and why nothing the fuzzer does can write into the
 * sentinel: libqos/mmn-smmuv3-fuzz.h.
 *
 *   QTEST_QEMU_BINARY=qemu-system-aarch64 mmn-smmuv3-robustness-test --tap
 *   MMN_FUZZ_SEED=<n>   seed (default below, printed)
 *   MMN_FUZZ_ITERS=<n>  random actions per test (default below)
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "libqtest.h"
#include "libqos/mmn-smmuv3.h"
#include "libqos/mmn-smmuv3-fuzz.h"

#define DEFAULT_SEED    0x6d6d6e33ULL   /* "mmn3" */
#define DEFAULT_ITERS   1500

#define SID             V3_MASTER_SID
#define GOOD_ASID       0x77

#define ID_EVERY        16
#define SENT_EVERY      3                   /* bursts between checks */
#define MAX_ANSWERS     24                  /* stall answers per job */

enum {
    ACT_STE, ACT_CD, ACT_L1, ACT_PT, ACT_JOB, ACT_CMD, ACT_REG, ACT_EVT,
    NR_ACTS,
};

typedef struct TestCfg {
    const char *name;
    const char *props;
    unsigned weight[NR_ACTS];
    unsigned round;                 /* steps per burst */
} TestCfg;

typedef struct Fuzz {
    V3Fuzz z;                       /* randomness, pools, sentinel */
    const TestCfg *cfg;
    QTestState *qts;
    V3 v;
    uint64_t strtab;                /* where the master's STE is now */
    uint64_t l1std, l1std_at;       /* 2-level: its L1STD, and where */
    uint64_t good_cd, good_root, good_data, good_msi;
    /* statistics */
    unsigned steps, jobs, job_state[6], kinds[16], answers, cmds, cmd_err;
    unsigned regs, events, bursts, resets, bad_events;
} Fuzz;
static uint64_t fuzz_seed;
static unsigned fuzz_iters;

static uint32_t rnd(Fuzz *f, uint32_t n)
{
    return v3f_rnd(&f->z, n);
}

static bool chance(Fuzz *f, unsigned percent)
{
    return v3f_chance(&f->z, percent);
}

static uint64_t rnd64(Fuzz *f)
{
    return v3f_rnd64(&f->z);
}

static uint64_t tbl_page(Fuzz *f)
{
    return v3f_tbl_page(&f->z);
}

static void wr64(Fuzz *f, uint64_t a, uint64_t w)
{
    v3f_wr64(&f->z, a, w);
}

static uint32_t mrd(Fuzz *f, uint32_t off)
{
    return qtest_readl(f->qts, V3_MASTER + off);
}

static void mwr(Fuzz *f, uint32_t off, uint32_t val)
{
    qtest_writel(f->qts, V3_MASTER + off, val);
}

/* The invariants, after every step. */
static void check_state(Fuzz *f)
{
    uint32_t st = mrd(f, M_STATUS);

    g_assert_cmpuint(st & 0xf, <=, M_ST_ABORTED);
    /* 6.3.9.6: with SMMUEN 0 no transaction can stay stalled */
    if (!(v3_rd(&f->v, V3_CR0ACK) & 1)) {
        g_assert_cmphex(st & 0xf, !=, M_ST_BUSY);
    }
}

/* QEMU lives, both devices answer, and the invariants hold. */
static void check_alive(Fuzz *f)
{
    g_assert_true(qtest_probe_child(f->qts));
    g_assert_cmphex(mrd(f, 0), ==, 0x4d4d4e4d);
    g_assert_cmphex(v3_rd(&f->v, 0xfe0), ==, 0x84);         /* PIDR0 */
    check_state(f);
    g_assert_cmphex(v3_rd(&f->v, V3_GERROR) & ~0xb5u, ==, 0);
    g_assert_cmphex(v3_rd(&f->v, V3_CR0) & ~0xdu, ==, 0);
}

/* ---------------------------------------------------------------- */
/* Random structures                                                 */

/* The CD word 0 Linux writes, for ASID @asid. */
static uint64_t good_cd_w0(uint16_t asid, bool stall)
{
    return 16 | (1ULL << 8) | (1ULL << 10) | (3ULL << 12) | (1ULL << 30) |
           (1ULL << 31) | (5ULL << 32) | (1ULL << 41) | (1ULL << 45) |
           (1ULL << 46) | ((uint64_t)stall << 44) | ((uint64_t)asid << 48);
}

/*
 * The master's STE: mostly the context's valid one (64 CDs at cdtab,
 * S1DSS SSID0) with one field changed, sometimes anything.
 */
static void rnd_ste(Fuzz *f)
{
    uint64_t w0 = 1 | 5 << 1 | f->z.cdtab | 6ULL << 59;
    uint64_t w1 = 2 | (1ULL << 2) | (1ULL << 4) | (3ULL << 6);
    uint64_t at = f->strtab;

    switch (rnd(f, 16)) {
    case 0:
        w0 &= ~1ULL;                                /* V */
        break;
    case 1:
        w0 = (w0 & ~0xeULL) | rnd(f, 8) << 1;       /* Config */
        break;
    case 2:
        w0 |= (uint64_t)rnd(f, 4) << 4;             /* S1Fmt */
        break;
    case 3:
        w0 = (w0 & ~(0x1fULL << 59)) | (uint64_t)rnd(f, 32) << 59;
        break;
    case 4:
        w0 = (w0 & ~0x00ffffffffffffc0ULL) |
             ((chance(f, 50) ? tbl_page(f) : v3f_ptr_addr(&f->z, 64)) &
              0x00ffffffffffffc0ULL);
        break;
    case 5:
        w1 = (w1 & ~3ULL) | rnd(f, 4);              /* S1DSS */
        break;
    case 6:
        w1 |= 1ULL << 27;                           /* S1STALLD */
        break;
    case 7:
        w0 = rnd64(f);                              /* anything */
        w1 = rnd64(f);
        at = chance(f, 50) ? at : tbl_page(f) + rnd(f, 64) * 64;
        break;
    default:
        break;                                      /* repaired */
    }
    wr64(f, at + 8, w1);
    wr64(f, at, w0);
}

/* A CD: mostly valid (ASID 0-3, S, R), or with one field changed. */
static void rnd_cd(Fuzz *f)
{
    static const uint8_t t0sz[] = { 25, 39, 15, 40, 0, 20, 33, 63 };
    static const uint8_t bits[] = { 14, 15, 30, 31, 38, 41, 42, 43, 44, 45,
                                    46 };
    uint32_t ssid = chance(f, 70) ? v3f_job_pasid(&f->z) & 0x3f : rnd(f, 1024);
    uint64_t w0 = good_cd_w0(rnd(f, 4), chance(f, 60));
    uint64_t w1 = f->z.roots[rnd(f, ARRAY_SIZE(f->z.roots))];
    uint64_t at = f->z.cdtab + (uint64_t)ssid * 64;

    switch (rnd(f, 12)) {
    case 0:
        w0 = (w0 & ~0x3fULL) | t0sz[rnd(f, ARRAY_SIZE(t0sz))];
        break;
    case 1:
        w0 |= (uint64_t)rnd(f, 4) << 6;             /* TG0 */
        break;
    case 2:
        w0 = (w0 & ~(7ULL << 32)) | (uint64_t)rnd(f, 8) << 32;  /* IPS */
        break;
    case 3:
    case 4:
        w0 ^= 1ULL << bits[rnd(f, ARRAY_SIZE(bits))];
        break;
    case 5:
        w1 = v3f_ptr_addr(&f->z, 16);                       /* TTB0 */
        break;
    case 6:
        at = tbl_page(f) + rnd(f, 64) * 64;     /* a CD nobody reads */
        break;
    default:
        break;
    }
    wr64(f, at + 8, w1);
    wr64(f, at + 24, 0x0000000000ff0400ULL);    /* MAIR */
    wr64(f, at, w0);
}

/* L1STDs and L1CDs: a span or V bit and a pointer. */
static void rnd_l1(Fuzz *f)
{
    uint64_t at = chance(f, 20) ? f->z.cdtab + rnd(f, 64) * 8 :
                  tbl_page(f) + rnd(f, PAGE / 8) * 8;
    uint64_t p = chance(f, 70) ? tbl_page(f) : v3f_ptr_addr(&f->z, 64);

    if (f->l1std_at && chance(f, 40)) {
        at = f->l1std_at;                           /* the live L1STD */
        p &= ~((64ULL << 8) - 1);
        if (chance(f, 50)) {
            wr64(f, at, f->l1std);                  /* repaired */
            return;
        }
    }
    wr64(f, at, p | (chance(f, 80) ? (chance(f, 50) ? 1 : 9) : rnd(f, 32)));
}

/* A walk along the path of @va from @root, with random turns. */
static void rnd_walk(Fuzz *f, uint64_t root, uint64_t va)
{
    uint64_t table = root;
    int level;

    for (level = 0; level < 4 && table >= TBL_BASE &&
                    table < TBL_BASE + TBL_PAGES * PAGE; level++) {
        uint64_t slot = table + ((va >> (39 - 9 * level)) & 0x1ff) * 8;
        uint64_t d = qtest_readq(f->qts, slot), attrs;

        if (level < 3 && (d & 3) == 3 && chance(f, 70)) {
            table = d & 0x0000fffffffff000ULL;      /* keep, go down */
            continue;
        }
        attrs = (1ULL << 10) | (1ULL << 6) | (chance(f, 20) << 7) |
                (chance(f, 10) ? rnd64(f) & 0xfff8000000000ffcULL : 0);
        switch (rnd(f, level < 3 ? 6 : 4)) {
        case 0:                                     /* invalid */
            wr64(f, slot, rnd64(f) & ~1ULL);
            return;
        case 1:
        case 2:                                     /* leaf */
            wr64(f, slot, v3f_out_addr(&f->z) | attrs | (level == 3 ? 3 : 1));
            return;
        case 3:                                     /* loop or MMIO */
            wr64(f, slot, (chance(f, 50) ? root :
                           v3f_ptr_addr(&f->z, PAGE)) | 3);
            return;
        default:                                    /* a new table */
            table = tbl_page(f);
            qtest_memset(f->qts, table, 0, PAGE);
            wr64(f, slot, table | 3 | (chance(f, 10) ? 1ULL << 61 : 0));
            break;
        }
    }
}

static void rnd_pt(Fuzz *f)
{
    rnd_walk(f, f->z.roots[rnd(f, ARRAY_SIZE(f->z.roots))], v3f_job_va(&f->z));
}

/* ---------------------------------------------------------------- */
/* Commands, registers, events                                       */

static void cmd_push(Fuzz *f, uint64_t w0, uint64_t w1)
{
    uint32_t cons = v3_rd(&f->v, V3_CMDQ_CONS);
    uint32_t log2 = f->v.cmdq_log2;
    uint64_t at = f->v.cmdq + (f->v.cmd_prod & ((1u << log2) - 1)) * 16;

    if (((cons ^ f->v.cmd_prod) & ((2u << log2) - 1)) == (1u << log2)) {
        return;                                     /* full */
    }
    wr64(f, at, w0);
    wr64(f, at + 8, w1);
    f->v.cmd_prod = (f->v.cmd_prod + 1) & ((2u << log2) - 1);
    v3_wr(&f->v, V3_CMDQ_PROD, f->v.cmd_prod);
    f->cmds++;
}

/* A command word with random fields: bytes 1-7 are data bytes. */
static uint64_t cmd_fields(Fuzz *f)
{
    return (uint64_t)v3f_data32(&f->z) << 32 | v3f_data32(&f->z);
}

static void rnd_cmd(Fuzz *f)
{
    static const uint8_t ops[] = {
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13,
        0x20, 0x30, 0x40, 0x41, 0x44, 0x44, 0x45, 0x46, 0x46, 0x46,
    };
    uint8_t op = chance(f, 85) ? ops[rnd(f, ARRAY_SIZE(ops))] : rnd(f, 256);
    uint64_t w0 = (cmd_fields(f) & ~0xffULL) | op;
    uint64_t w1 = cmd_fields(f);

    if (chance(f, 70)) {
        w0 &= ~(1ULL << 10);                        /* SSec mostly 0 */
    }
    if (op == 0x44 || op == 0x45) {
        w0 = (w0 & 0xffffffffULL) | (uint64_t)(chance(f, 80) ? SID :
                                               v3f_data32(&f->z)) << 32;
    }
    if (op == 0x46 && chance(f, 70)) {
        uint64_t a;
        uint32_t d;

        v3f_msi_pair(&f->z, &a, &d);
        w0 = (w0 & 0xcfffULL) | 1 << 12 | (uint64_t)d << 32;   /* SIG_IRQ */
        w1 = a;
    }
    cmd_push(f, w0, w1);
    if ((v3_rd(&f->v, V3_GERROR) ^ v3_rd(&f->v, V3_GERRORN)) & 1) {
        f->cmd_err++;
        if (chance(f, 70)) {                        /* skip it, as Linux */
            uint32_t rd = v3_rd(&f->v, V3_CMDQ_CONS);
            uint64_t at = f->v.cmdq + (rd & ((1u << f->v.cmdq_log2) - 1)) * 16;

            wr64(f, at, 0x46);
            wr64(f, at + 8, 0);
            v3_wr(&f->v, V3_GERRORN, v3_rd(&f->v, V3_GERROR));
        }
    }
}

static void rnd_reg(Fuzz *f)
{
    static const uint32_t regs32[] = {
        0x20, 0x28, 0x2c, 0x44, 0x50, 0x64, 0x70, 0x74, 0x88, 0x98, 0x9c,
        0xb8, 0xbc, 0x100a8, 0x100ac, 0xa8, 0xac, 0x30, 0xc0, 0x10000,
    };
    uint32_t off = regs32[rnd(f, ARRAY_SIZE(regs32))];
    uint32_t v = g_rand_int(f->z.rng);
    unsigned log2;

    f->regs++;
    switch (rnd(f, 9)) {
    case 0:                                     /* a queue base */
        log2 = rnd(f, 21);
        off = chance(f, 50) ? 0x90 : 0xa0;
        v3_wrq(&f->v, off, v3f_queue_addr(&f->z, log2, off == 0x90 ? 16 : 32) |
               log2 | (chance(f, 20) ? 1ULL << 62 : 0));
        return;
    case 1: {                                   /* an MSI */
        bool evtq = chance(f, 50);
        uint64_t a;
        uint32_t d;

        v3f_msi_pair(&f->z, &a, &d);
        v3_wr(&f->v, V3_IRQ_CTRL, 0);
        v3_wrq(&f->v, evtq ? 0xb0 : 0x68, a);
        v3_wr(&f->v, evtq ? 0xb8 : 0x70, d);
        v3_wr(&f->v, V3_IRQ_CTRL, rnd(f, 8));
        return;
    }
    case 2:
        v3_wrq(&f->v, 0x80, v3f_ptr_addr(&f->z, 64));
        return;
    case 3:                                     /* a 64-bit access */
        qtest_writeq(f->qts, V3_BASE + (off & ~7u), rnd64(f));
        return;
    case 4:
        off = 0x20;                             /* CR0 */
        v = chance(f, 70) ? 0xd & ~(1u << rnd(f, 4)) : v;
        break;
    case 5:
        off = 0x64;                             /* GERRORN */
        v = chance(f, 70) ? v3_rd(&f->v, V3_GERROR) : v;
        break;
    case 6:
        off = 0x88;
        v = chance(f, 50) ? (1u << 16 | 8 << 6 | 17) : v & 0x3ffff;
        break;
    default:
        break;
    }
    if (off == 0x70 || off == 0xb8) {
        v = v3f_data32(&f->z);                          /* MSI data */
    }
    v3_wr(&f->v, off, v);
}

static void drain_events(Fuzz *f)
{
    V3Evt ev;
    unsigned n = 0;

    /* only the driver's queue is read: random bases are not ours */
    if ((qtest_readq(f->qts, V3_BASE + 0xa0) & ~(1ULL << 62)) !=
        (f->v.evtq | f->v.evtq_log2)) {
        return;
    }
    while (n++ < 64 && v3_evt(&f->v, &ev)) {
        static const uint8_t ids[] = {
            0x02, 0x03, 0x04, 0x06, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x11,
            0x12, 0x13,
        };
        bool known = false;
        size_t i;

        for (i = 0; i < ARRAY_SIZE(ids); i++) {
            known |= ev.id == ids[i];
        }
        /* a random EVENTQ_PROD can make stale entries "valid" */
        f->bad_events += !known || ev.sid != SID;
        f->events++;
        if (ev.stall && chance(f, 50)) {
            v3_resume(&f->v, SID, ev.stag, rnd(f, 4));
        }
    }
}

static void rnd_evt(Fuzz *f)
{
    if (chance(f, 80)) {
        drain_events(f);
    } else {
        v3_wr(&f->v, V3_EVTQ_CONS, g_rand_int(f->z.rng) & 0x800fffffu);
    }
}

/* ---------------------------------------------------------------- */
/* Jobs                                                              */

static void rnd_job(Fuzz *f)
{
    static const uint32_t lens[] = { 1, 4, 8, 100, 4096, 8192, 4, 8 };
    uint32_t op = chance(f, 95) ? 1 + rnd(f, 3) : rnd(f, 8);
    uint32_t len = chance(f, 90) ? lens[rnd(f, ARRAY_SIZE(lens))] :
                   rnd(f, 70000);
    uint64_t va = v3f_job_va(&f->z);
    uint32_t st;
    unsigned n;

    if (chance(f, 30)) {
        rnd_walk(f, f->z.roots[rnd(f, ARRAY_SIZE(f->z.roots))], va);
    }
    if ((mrd(f, M_STATUS) & 0xf) == M_ST_BUSY) {
        mwr(f, M_ABORT, 1);
    }
    if (op == M_OP_WRITE) {                     /* a window we filled */
        uint8_t buf[4096];
        size_t i;

        for (i = 0; i < sizeof(buf); i++) {
            buf[i] = v3f_data_byte(g_rand_int(f->z.rng));
        }
        qtest_memwrite(f->qts, V3_MASTER + M_DATA, buf, sizeof(buf));
    }
    mwr(f, M_CTRL, chance(f, 90) | (chance(f, 20) << 1));
    mwr(f, M_PASID, v3f_job_pasid(&f->z));
    qtest_writeq(f->qts, V3_MASTER + M_VA_LO, va);
    mwr(f, M_LEN, len);
    mwr(f, M_OP, op);
    mwr(f, M_PATTERN, v3f_data32(&f->z));
    mwr(f, M_DOORBELL, 1);
    f->jobs++;
    for (n = 0; n < MAX_ANSWERS; n++) {
        st = mrd(f, M_STATUS) & 0xf;
        if (st != M_ST_BUSY || chance(f, 10)) {
            break;                              /* or leave it stalled */
        }
        f->answers++;
        switch (rnd(f, 8)) {
        case 0:
            mwr(f, M_ABORT, 1);
            break;
        case 1:
            v3_cmd(&f->v, 0x45 | (uint64_t)SID << 32, 0);   /* STALL_TERM */
            break;
        case 2:
            rnd_walk(f, f->z.roots[rnd(f, ARRAY_SIZE(f->z.roots))], va);
            /* fall through */
        default:
            drain_events(f);
            break;
        }
    }
    st = mrd(f, M_STATUS);
    f->job_state[MIN(st & 0xf, M_ST_ABORTED)]++;
    f->kinds[(st >> 8) & 0xf]++;
}

/* ---------------------------------------------------------------- */
/* Re-establishing a working SMMU                                    */

static void driver_init(Fuzz *f)
{
    unsigned i;

    /* quiesce as Linux's arm_smmu_device_reset(): disable, ack, re-init */
    v3_wr(&f->v, V3_CR0, 0);
    if ((mrd(f, M_STATUS) & 0xf) == M_ST_BUSY) {
        mwr(f, M_ABORT, 1);
    }
    v3_wr(&f->v, V3_IRQ_CTRL, 0);
    v3_wr(&f->v, V3_GERRORN, v3_rd(&f->v, V3_GERROR));
    v3_wrq(&f->v, 0x68, 0);
    v3_wrq(&f->v, 0xb0, 0);
    v3_wr(&f->v, V3_GBPA, 1u << 31 | 1u << 12);
    v3_init(&f->v, f->qts, 17, 8, 8);
    f->v.next_page = GOOD_BASE;
    f->l1std_at = 0;
    f->strtab = f->v.strtab + SID * 64;
    f->good_cd = v3_alloc(&f->v, PAGE);
    f->good_root = v3_pt_new(&f->v);
    f->good_data = v3_alloc(&f->v, PAGE);
    f->good_msi = v3_alloc(&f->v, PAGE);
    v3_ste_s1(&f->v, SID, f->good_cd, 4, 2, false);
    v3_cd_raw(&f->v, f->good_cd, GOOD_PASID, good_cd_w0(GOOD_ASID, false),
              f->good_root);
    v3_map(&f->v, f->good_root, GOOD_VA, f->good_data, (1ULL << 10) |
           (1ULL << 6));
    for (i = 0; i < ARRAY_SIZE(f->z.roots); i++) {
        f->z.roots[i] = TBL_BASE + i * PAGE;
    }
    f->z.cdtab = TBL_BASE + 4 * PAGE;
    /* sometimes a 2-level stream table: SPLIT 8, the master's L2 */
    if (chance(f, 30)) {
        uint64_t l1 = v3_alloc(&f->v, PAGE);
        uint64_t l2 = ROUND_UP(v3_alloc(&f->v, 8 * PAGE), 4 * PAGE);

        for (i = 0; i < 8; i++) {
            qtest_writeq(f->qts, l2 + i * 8,
                         qtest_readq(f->qts, f->strtab + i * 8));
        }
        f->l1std_at = l1 + (SID >> 8) * 8;
        f->l1std = l2 | 9;
        qtest_writeq(f->qts, f->l1std_at, f->l1std);
        v3_wr(&f->v, V3_CR0, 0xc);
        v3_wrq(&f->v, V3_STRTAB_BASE, l1);
        v3_wr(&f->v, V3_STRTAB_BASE_CFG, 1u << 16 | 8 << 6 | 17);
        v3_wr(&f->v, V3_CR0, 0xd);
        f->strtab = l2;
        f->v.strtab = l1;
    }
}

/*
 * The fuzzer's own context, valid to begin with: the master's STE with 64
 * CDs in the table arena, CDs of the hot PASIDs on four page-table roots,
 * and the hot pages mapped (some read-only, some without AF, some not) to
 * the data arena.  The random actions then break it piece by piece.
 */
static void fuzz_context(Fuzz *f, bool repair)
{
    static const uint32_t hot[] = { 0, 1, GOOD_PASID, 5, 63 };
    uint64_t driver_next = f->v.next_page;
    unsigned i, k;

    if (!repair) {
        for (i = 0; i < TBL_PAGES; i += 64) {
            qtest_memset(f->qts, TBL_BASE + i * PAGE, 0, 64 * PAGE);
        }
    }
    for (i = 0; i < ARRAY_SIZE(hot); i++) {
        wr64(f, f->z.cdtab + hot[i] * 64 + 8, f->z.roots[i % 4]);
        wr64(f, f->z.cdtab + hot[i] * 64 + 24, 0x0000000000ff0400ULL);
        wr64(f, f->z.cdtab + hot[i] * 64,
             good_cd_w0(i % 3, chance(f, 70)));
    }
    f->v.next_page = TBL_BASE + 8 * PAGE;           /* tables in the arena */
    for (i = 0; i < ARRAY_SIZE(f->z.roots) && !repair; i++) {
        for (k = 0; k < 64; k++) {
            uint64_t va = GOOD_VA + k * PAGE, attrs;

            if (chance(f, 15)) {
                continue;                           /* not mapped */
            }
            attrs = (1ULL << 6) | (chance(f, 80) << 10) |
                    (chance(f, 20) ? (1ULL << 7) | (1ULL << 51) : 0);
            v3_map(&f->v, f->z.roots[i], va, DATA_BASE + rnd(f, DATA_SIZE /
                   PAGE) * PAGE, attrs);
        }
    }
    f->v.next_page = driver_next;
    if (f->l1std_at) {
        wr64(f, f->l1std_at, f->l1std);
    }
    wr64(f, f->strtab + 8, 2 | (1ULL << 2) | (1ULL << 4) | (3ULL << 6));
    wr64(f, f->strtab, 1 | 5 << 1 | f->z.cdtab | 6ULL << 59);
}

/* The driver's command and job work; nothing is in error. */
static void known_good(Fuzz *f)
{
    V3Job j;
    uint32_t pat = v3f_data32(&f->z);

    v3_cmd(&f->v, 0x11 | (uint64_t)GOOD_ASID << 48, 0);     /* TLBI ASID */
    v3_cmd(&f->v, 0x46 | 1 << 12 | 0x24680000ULL << 32, f->good_msi);
    g_assert_cmphex(qtest_readl(f->qts, f->good_msi), ==, 0x24680000);
    qtest_writel(f->qts, f->good_data + 0x20, 0);
    mwr(f, M_IRQ_STATUS, 1);
    v3_job(&f->v, M_OP_FILL, GOOD_VA + 0x20, 4, true, GOOD_PASID, pat, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_DONE);
    g_assert_cmphex(qtest_readl(f->qts, f->good_data + 0x20), ==, pat);
    v3_job(&f->v, M_OP_READ, GOOD_VA + 0x20, 4, true, GOOD_PASID, 0, &j);
    g_assert_cmphex(j.status & 0xf, ==, M_ST_DONE);
    g_assert_cmphex(mrd(f, M_DATA), ==, pat);
    g_assert_cmphex(v3_rd(&f->v, V3_GERROR) ^ v3_rd(&f->v, V3_GERRORN), ==,
                    0);
    g_assert_cmpuint(v3_evt_count(&f->v), ==, 0);
}

/* ---------------------------------------------------------------- */
/* The tests                                                         */

static void fuzz_run(gconstpointer data)
{
    const TestCfg *cfg = data;
    Fuzz *f = g_new0(Fuzz, 1);
    gint64 t0 = g_get_monotonic_time();
    unsigned since = 0;

    f->cfg = cfg;
    f->z.rng = g_rand_new_with_seed_array((const guint32[]) {
                 (guint32)fuzz_seed, (guint32)(fuzz_seed >> 32),
                 g_str_hash(cfg->name) }, 3);
    f->qts = v3_start(cfg->props);
    f->z.qts = f->v.qts = f->qts;
    f->z.oas = 48;
    if (strstr(cfg->props, "oas-bits=40")) {
        f->z.oas = 40;
    }
    g_test_message("%s: seed %" PRIu64 ", %u steps", cfg->name, fuzz_seed,
                   fuzz_iters);
    v3f_sentinel_fill(&f->z);
    driver_init(f);
    known_good(f);
    fuzz_context(f, false);
    for (f->steps = 0; f->steps < fuzz_iters; f->steps++) {
        switch (v3f_pick(&f->z, cfg->weight, NR_ACTS)) {
        case ACT_STE:
            rnd_ste(f);
            break;
        case ACT_CD:
            rnd_cd(f);
            break;
        case ACT_L1:
            rnd_l1(f);
            break;
        case ACT_PT:
            rnd_pt(f);
            break;
        case ACT_JOB:
            rnd_job(f);
            break;
        case ACT_CMD:
            rnd_cmd(f);
            break;
        case ACT_REG:
            rnd_reg(f);
            break;
        default:
            rnd_evt(f);
            break;
        }
        if (f->steps % ID_EVERY == 0) {
            check_alive(f);
        } else {
            check_state(f);
        }
        if (++since >= cfg->round) {
            since = 0;
            f->bursts++;
            check_alive(f);
            if (chance(f, 25)) {
                qtest_system_reset(f->qts);
                f->resets++;
            }
            driver_init(f);
            known_good(f);
            if (f->bursts % SENT_EVERY == 0) {
                v3f_sentinel_check(&f->z);
            }
            fuzz_context(f, false);
        } else if (chance(f, 4)) {
            fuzz_context(f, true);      /* STE, CDs, L1STD as they were */
        }
    }
    check_alive(f);
    driver_init(f);
    known_good(f);
    v3f_sentinel_check(&f->z);
    g_test_message("%s: fault kinds: translation %u, address size %u, "
                   "access %u, permission %u, abort %u, configuration %u",
                   cfg->name, f->kinds[1], f->kinds[2], f->kinds[3],
                   f->kinds[4], f->kinds[5], f->kinds[6]);
    g_test_message("%s: %u steps, %u bursts (%u resets); jobs %u (done %u, "
                   "fault %u, livelock %u, aborted %u), stall answers %u; "
                   "commands %u (%u stopped the queue); register writes %u; "
                   "events read %u (%u from stale entries); %.1f s",
                   cfg->name, f->steps, f->bursts, f->resets, f->jobs,
                   f->job_state[M_ST_DONE], f->job_state[M_ST_FAULT],
                   f->job_state[M_ST_LIVELOCK], f->job_state[M_ST_ABORTED],
                   f->answers, f->cmds, f->cmd_err, f->regs, f->events,
                   f->bad_events, (g_get_monotonic_time() - t0) / 1e6);
    qtest_quit(f->qts);
    g_rand_free(f->z.rng);
    g_free(f->z.sent);
    g_free(f);
}

static const TestCfg tests[] = {
    {
        .name = "structures", .props = "-global mmn-smmuv3.httu=2",
        .weight = { [ACT_STE] = 6, [ACT_CD] = 12, [ACT_L1] = 4,
                    [ACT_PT] = 18, [ACT_JOB] = 50, [ACT_CMD] = 5,
                    [ACT_EVT] = 5 },
        .round = 250,
    }, {
        .name = "commands",
        .props = "-global mmn-smmuv3.livelock-threshold=3 "
                 "-global mmn-smmuv3.iotlb-capacity=8",
        .weight = { [ACT_CD] = 5, [ACT_PT] = 5, [ACT_JOB] = 25,
                    [ACT_CMD] = 35, [ACT_REG] = 20, [ACT_EVT] = 10 },
        .round = 200,
    }, {
        .name = "mixed",
        .props = "-global mmn-smmuv3.oas-bits=40 -global mmn-smmuv3.httu=1 "
                 "-global mmn-smmuv3.ril=off",
        .weight = { [ACT_STE] = 8, [ACT_CD] = 12, [ACT_L1] = 6,
                    [ACT_PT] = 12, [ACT_JOB] = 30, [ACT_CMD] = 16,
                    [ACT_REG] = 10, [ACT_EVT] = 6 },
        .round = 150,
    },
};

int main(int argc, char **argv)
{
    const char *seed = g_getenv("MMN_FUZZ_SEED");
    const char *iters = g_getenv("MMN_FUZZ_ITERS");
    uint64_t v;
    size_t i;

    g_test_init(&argc, &argv, NULL);
    fuzz_seed = DEFAULT_SEED;
    fuzz_iters = DEFAULT_ITERS;
    if (seed && *seed) {
        g_assert_cmpint(qemu_strtou64(seed, NULL, 0, &v), ==, 0);
        fuzz_seed = v;
    }
    if (iters && *iters) {
        g_assert_cmpint(qemu_strtou64(iters, NULL, 0, &v), ==, 0);
        g_assert_cmpuint(v, <=, UINT_MAX);
        fuzz_iters = v;
    }
    for (i = 0; i < ARRAY_SIZE(tests); i++) {
        g_autofree char *path = g_strdup_printf("/mmn-smmuv3/robustness/%s",
                                                tests[i].name);

        qtest_add_data_func(path, &tests[i], fuzz_run);
    }
    return g_test_run();
}
