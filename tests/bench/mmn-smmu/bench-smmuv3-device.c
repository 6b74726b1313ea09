/*
 * Device-level benchmark: the same PCI master, the same stage-1 tables
 * and the same DMA + invalidation workload behind QEMU's SMMUv3
 * (-M virt,iommu=smmuv3) and behind mmn-smmuv3 (-M virt,iommu=mmn-smmuv3),
 * each driven through qtest in one run of this program.
 *
 * The master is the mmn-smmu PCI device (docs/specs/mmn-smmu.rst): a DMA
 * descriptor FILLs NPAGES pages of its own context; every page it writes
 * (its guest-RAM check, then the write) and every descriptor or table it
 * reads goes through its bus-master address space, i.e. through the
 * upstream SMMU's IOMMU region.  The upstream SMMU is programmed the same
 * way for both (libqos/mmn-smmuv3.c, Arm IHI 0070): a linear stream
 * table, STE of the master's RID (stage 1, one CD), CD with ASID 1 and a
 * 4-level 4 KiB table that maps every page the master uses at IOVA == PA.
 *
 * qtest round trips cost tens of microseconds, far more than a
 * translation, so each cost is the median of paired differences measured
 * back to back in the same QEMU: a DMA with the SMMU translating minus one
 * with the SMMU disabled (SMMUEN = 0, GBPA bypass: the master's own work),
 * and a CMDQ_PROD write carrying the commands and a CMD_SYNC minus one
 * carrying the CMD_SYNC alone.  The two QEMUs run side by side and take
 * turns.  Figures only: nothing here asserts on time.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "../../qtest/libqtest.h"
#include "../../qtest/libqos/pci.h"
#include "../../qtest/libqos/generic-pcihost.h"
#include "../../qtest/libqos/mmn-smmuv3.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"
#include "hw/mmn-smmu/walker.h"

#define NPAGES      128u        /* pages per DMA: QEMU's IOTLB holds 256 */
#define MMN_AT      (V3_RAM + 0x10000000)   /* the master's memory */
#define MMN_CMDQ_LOG2 4
#define VA0         0x0000007f00000000ULL
#define SID         0x20u       /* RID of 00:04.0 */
#define ASID        1u
/* Linux's CMDQ_OP_CFGI_ALL: CFGI_STE_RANGE (0x04) with Range 31 */
#define CFGI_STE_RANGE 0x04
#define CMDQ_LOG2   12          /* upstream command queue: 4 Ki entries */
#define JOBS        2000u       /* DMA jobs per median */
#define BATCHES     400u        /* TLBI_NH_VA batches per median */
#define SINGLES     1000u       /* TLBI_NH_ASID commands per median */

typedef struct Run {
    const char *iommu;
    QTestState *qts;
    QGenericPCIBus gbus;
    QPCIDevice *dev;
    QPCIBar bar;
    V3 v;
    uint64_t next;              /* bump allocator in the master's memory */
    uint64_t cmdq, desc, ttb, data;
    uint32_t prod;
} Run;

typedef struct Figures {
    double dma_bypass, dma_smmu, dma_added;     /* per page */
    double sync_rt;                     /* one CMD_SYNC round trip */
    double va_nottl, va_ttl, asid;      /* per command */
} Figures;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

static double median(int64_t *s, unsigned n)
{
    qsort(s, n, sizeof(*s), cmp_i64);
    return n & 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
}

static uint64_t mem_alloc(Run *r, uint64_t size)
{
    uint64_t a = r->next;

    r->next += ROUND_UP(size, 4096);
    qtest_memset(r->qts, a, 0, ROUND_UP(size, 4096));
    return a;
}

static void mmn_wr(Run *r, uint64_t off, uint32_t val)
{
    qpci_io_writel(r->dev, r->bar, off, val);
}

static uint32_t mmn_rd(Run *r, uint64_t off)
{
    return qpci_io_readl(r->dev, r->bar, off);
}

/* The master's own 4-level, 4 KiB table: VA0 + i pages -> data + i. */
static void mmn_map(Run *r, uint64_t va, uint64_t pa)
{
    uint64_t table = r->ttb, slot, d;
    int l;

    for (l = 0; l < 3; l++) {
        slot = table + ((va >> (39 - 9 * l)) & 0x1ff) * 8;
        d = qtest_readq(r->qts, slot);
        if (!d) {
            d = mem_alloc(r, 4096) | 3;
            qtest_writeq(r->qts, slot, d);
        }
        table = d & 0x0000fffffffff000ULL;
    }
    qtest_writeq(r->qts, table + ((va >> 12) & 0x1ff) * 8,
                 pa | 3 | (1ULL << 10) | (1ULL << 6));   /* AF, user */
}

static void master_setup(Run *r)
{
    MmnCmd c = {
        .opcode = MMN_CMD_CTX_BIND,
        .ctx = cpu_to_le16(0),
    };
    unsigned i;

    r->qts = qtest_initf("-M virt,iommu=%s -cpu max -m 512M "
                         "-device mmn-smmu,addr=04.0", r->iommu);
    qpci_init_generic(&r->gbus, r->qts, NULL, false);
    r->dev = qpci_device_find(&r->gbus.bus, QPCI_DEVFN(4, 0));
    g_assert(r->dev);
    qpci_device_enable(r->dev);
    r->bar = qpci_iomap(r->dev, 0, NULL);

    r->next = MMN_AT;
    r->cmdq = mem_alloc(r, MMN_CMD_SIZE << MMN_CMDQ_LOG2);
    r->desc = mem_alloc(r, MMN_DMA_DESC_SIZE);
    r->ttb = mem_alloc(r, 4096);
    r->data = mem_alloc(r, NPAGES * 4096);
    for (i = 0; i < NPAGES; i++) {
        mmn_map(r, VA0 + i * 4096ULL, r->data + i * 4096ULL);
    }
    mmn_wr(r, A_CMDQ_BASE_LO, (uint32_t)r->cmdq | MMN_CMDQ_LOG2);
    mmn_wr(r, A_CMDQ_BASE_HI, r->cmdq >> 32);
    mmn_wr(r, A_CTRL, R_CTRL_CMDQ_EN_MASK | R_CTRL_DMA_EN_MASK);
    c.a0 = cpu_to_le64(r->ttb);
    c.a1 = cpu_to_le64(MMN_CTX_CFG_VA_BITS(48) | MMN_CTX_CFG_OA_BITS(48) |
                       MMN_CTX_CFG_GRANULE(MMN_CTX_GRANULE_4K) |
                       MMN_CTX_CFG_UNPRIV);
    qtest_memwrite(r->qts, r->cmdq, &c, sizeof(c));
    r->prod = 1;
    mmn_wr(r, A_CMDQ_PROD, r->prod);
    g_assert_cmphex(mmn_rd(r, A_CMDQ_CONS), ==, r->prod);
    g_assert_false(FIELD_EX32(mmn_rd(r, A_CMDQ_ERR), CMDQ_ERR, VALID));
}

/* One FILL of the NPAGES pages; returns its duration. */
static uint64_t dma_job(Run *r, uint32_t pattern)
{
    MmnDmaDesc x = {
        .op = MMN_DMA_OP_FILL,
        .len = cpu_to_le32(NPAGES * 4096),
        .va = cpu_to_le64(VA0),
        .pattern = cpu_to_le32(pattern),
    };
    uint64_t t0, t;
    uint32_t st;

    qtest_memwrite(r->qts, r->desc, &x, sizeof(x));
    mmn_wr(r, A_DMA_DESC_LO, (uint32_t)r->desc);
    mmn_wr(r, A_DMA_DESC_HI, r->desc >> 32);
    t0 = now_ns();
    mmn_wr(r, A_DMA_DOORBELL, 1);
    st = mmn_rd(r, A_DMA_STATUS);
    t = now_ns() - t0;
    g_assert_cmphex(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    return t;
}

static void smmu_enable(Run *r, bool on)
{
    uint32_t cr0 = (1 << 3) | (1 << 2) | on;        /* CMDQEN EVTQEN SMMUEN */

    v3_wr(&r->v, V3_CR0, cr0);
    g_assert_cmphex(v3_rd(&r->v, V3_CR0ACK), ==, cr0);
}

/*
 * JOBS pairs per run, the runs taking turns so that a load on the machine
 * falls on both: a job with SMMUEN = 0 (GBPA bypass: the master's own
 * work), then SMMUEN = 1, a warming job and a timed one.  Medians per
 * page: bypass, translated, and of the pairs' differences.
 */
static void dma_figures(Run *r, unsigned nr, Figures *f)
{
    g_autofree int64_t *by = g_new(int64_t, nr * JOBS);
    g_autofree int64_t *tr = g_new(int64_t, nr * JOBS);
    g_autofree int64_t *df = g_new(int64_t, nr * JOBS);
    unsigned i, k, j;

    for (i = 0; i < JOBS; i++) {
        for (k = 0; k < nr; k++) {
            j = k * JOBS + i;
            smmu_enable(&r[k], false);
            by[j] = dma_job(&r[k], 0x22220000 + i);
            smmu_enable(&r[k], true);
            dma_job(&r[k], 0x33330000 + i);
            tr[j] = dma_job(&r[k], 0x11110000 + i);
            df[j] = tr[j] - by[j];
        }
    }
    for (k = 0; k < nr; k++) {
        g_assert_cmphex(qtest_readl(r[k].qts,
                                    r[k].data + (NPAGES - 1) * 4096ULL),
                        ==, 0x11110000 + JOBS - 1);
        f[k].dma_bypass = median(&by[k * JOBS], JOBS) / NPAGES;
        f[k].dma_smmu = median(&tr[k * JOBS], JOBS) / NPAGES;
        f[k].dma_added = median(&df[k * JOBS], JOBS) / NPAGES;
    }
}

/* Upstream SMMU on: stage 1 for the master, IOVA == PA for its pages. */
static void smmu_setup(Run *r)
{
    V3 *v = &r->v;
    uint64_t cdtab, root, pa;

    v3_init(v, r->qts, 8, CMDQ_LOG2, 8);
    cdtab = v3_alloc(v, 64);
    root = v3_pt_new(v);
    for (pa = MMN_AT; pa < r->next; pa += 4096) {
        v3_map(v, root, pa, pa, PTE_AF | PTE_USER);
    }
    v3_cd(v, cdtab, 0, root, ASID, false, true);
    v3_ste_s1(v, SID, cdtab, 0, 0, false);
    v3_cmd(v, CFGI_STE_RANGE, 31);
    v3_cmd(v, CMD_SYNC, 0);
    g_assert_cmphex(v3_rd(v, V3_CMDQ_CONS), ==, v->cmd_prod);
}

/* Queue @n commands (w0, w1 pairs) and a CMD_SYNC; time the PROD write. */
static uint64_t cmd_batch(Run *r, const uint64_t *cmds, unsigned n)
{
    V3 *v = &r->v;
    uint32_t mask = (1u << v->cmdq_log2) - 1;
    uint32_t wrap = (2u << v->cmdq_log2) - 1;
    uint64_t buf[2 * 2048 + 2];
    uint32_t idx = v->cmd_prod & mask, cons;
    uint64_t t0, t;
    unsigned i;

    g_assert(n < ARRAY_SIZE(buf) / 2);
    for (i = 0; i < n; i++) {
        buf[2 * i] = cpu_to_le64(cmds[2 * i]);
        buf[2 * i + 1] = cpu_to_le64(cmds[2 * i + 1]);
    }
    buf[2 * n] = cpu_to_le64(CMD_SYNC);
    buf[2 * n + 1] = 0;
    if (idx + n + 1 > mask + 1) {
        unsigned first = mask + 1 - idx;

        qtest_memwrite(r->qts, v->cmdq + idx * 16, buf, first * 16);
        qtest_memwrite(r->qts, v->cmdq, buf + 2 * first,
                       (n + 1 - first) * 16);
    } else {
        qtest_memwrite(r->qts, v->cmdq + idx * 16, buf, (n + 1) * 16);
    }
    v->cmd_prod = (v->cmd_prod + n + 1) & wrap;
    t0 = now_ns();
    v3_wr(v, V3_CMDQ_PROD, v->cmd_prod);
    cons = v3_rd(v, V3_CMDQ_CONS);
    t = now_ns() - t0;
    g_assert_cmphex(cons, ==, v->cmd_prod);
    g_assert_cmphex(v3_rd(v, V3_GERROR), ==, 0);
    return t;
}

/*
 * @reps pairs per run, the runs taking turns: a warming DMA and a lone
 * CMD_SYNC, then a warming DMA and @n commands + CMD_SYNC.  The median of
 * the pairs' differences, divided by @per; the lone CMD_SYNC's median in
 * @sync when not NULL.
 */
static void cmd_figure(Run *r, unsigned nr, const uint64_t *cmds,
                       unsigned n, unsigned reps, double per, double *out,
                       double *sync, size_t stride)
{
    g_autofree int64_t *df = g_new(int64_t, nr * reps);
    g_autofree int64_t *base = g_new(int64_t, nr * reps);
    unsigned i, k;

    for (i = 0; i < reps; i++) {
        for (k = 0; k < nr; k++) {
            dma_job(&r[k], i);
            base[k * reps + i] = cmd_batch(&r[k], NULL, 0);
            dma_job(&r[k], i);
            df[k * reps + i] = (int64_t)cmd_batch(&r[k], cmds, n) -
                               base[k * reps + i];
        }
    }
    for (k = 0; k < nr; k++) {
        *(double *)((char *)out + k * stride) =
            median(&df[k * reps], reps) / per;
        if (sync) {
            *(double *)((char *)sync + k * stride) =
                median(&base[k * reps], reps);
        }
    }
}

static void run(Run *r, unsigned nr, Figures *f)
{
    uint64_t cmds[2 * NPAGES];
    uint64_t asid_cmd[2] = { CMD_TLBI_NH_ASID | ((uint64_t)ASID << 48), 0 };
    unsigned i, k;

    for (k = 0; k < nr; k++) {
        master_setup(&r[k]);
        g_assert_cmphex(r[k].data, ==, r[0].data);  /* same IOVAs */
        smmu_setup(&r[k]);
    }
    dma_figures(r, nr, f);

    /* NPAGES TLBI_NH_VA (one per cached page), without and with TTL */
    for (int ttl = 0; ttl <= 3; ttl += 3) {
        for (i = 0; i < NPAGES; i++) {
            /* TG 4 KiB (1), TTL, Leaf; NUM = SCALE = 0: one page */
            cmds[2 * i] = CMD_TLBI_NH_VA | ((uint64_t)ASID << 48);
            cmds[2 * i + 1] = (r[0].data + i * 4096ULL) | 1 |
                              (ttl ? (1ULL << 10) | ((uint64_t)ttl << 8) : 0);
        }
        cmd_figure(r, nr, cmds, NPAGES, BATCHES, NPAGES,
                   ttl ? &f[0].va_ttl : &f[0].va_nottl,
                   ttl ? NULL : &f[0].sync_rt, sizeof(*f));
    }

    /* TLBI_NH_ASID one at a time, each on a cache warmed by a DMA */
    cmd_figure(r, nr, asid_cmd, 1, SINGLES, 1, &f[0].asid, NULL,
               sizeof(*f));

    for (k = 0; k < nr; k++) {
        /* the translations still work after all that */
        dma_job(&r[k], 0x5a5a5a5a);
        g_assert_cmphex(qtest_readl(r[k].qts, r[k].data), ==, 0x5a5a5a5a);
        g_assert_cmpuint(v3_evt_count(&r[k].v), ==, 0);
        qtest_quit(r[k].qts);
    }
}

static void row(const char *what, double q, double m)
{
    printf("%-50s %11.0f %11.0f %8.1fx\n", what, q, m, q / m);
}

int main(int argc, char **argv)
{
    Run r[2] = { { .iommu = "smmuv3" }, { .iommu = "mmn-smmuv3" } };
    Figures f[2], fq, fm;

    g_test_init(&argc, &argv, NULL);
    run(r, 2, f);
    fq = f[0];
    fm = f[1];

    printf("Device level: the mmn-smmu PCI device (00:04.0, SID 0x%x) as "
           "the DMA master behind\nQEMU's smmuv3 and behind mmn-smmuv3, "
           "same stage-1 tables (4 KiB, ASID %u), via qtest.\n"
           "Medians; a cost is the median of paired differences measured "
           "back to back in\nthe same QEMU (qtest round trips are tens "
           "of us: small figures are within the noise).\n\n",
           SID, ASID);
    printf("%-50s %11s %11s %9s\n", "ns", "smmuv3", "mmn-smmuv3",
           "ratio");
    row("DMA per page, SMMU disabled (the master's work)",
        fq.dma_bypass, fm.dma_bypass);
    row("DMA per page, SMMU translating, warm IOTLB", fq.dma_smmu,
        fm.dma_smmu);
    row("  added by the SMMU per page (median of pairs)",
        fq.dma_added, fm.dma_added);
    row("lone CMD_SYNC: PROD write + CONS read (subtracted)", fq.sync_rt,
        fm.sync_rt);
    row("TLBI_NH_VA 1 page, no TTL, per command", fq.va_nottl,
        fm.va_nottl);
    row("TLBI_NH_VA 1 page, TG 4K TTL 3, per command", fq.va_ttl,
        fm.va_ttl);
    row("TLBI_NH_ASID, warm cache, per command", fq.asid, fm.asid);
    printf("\n%u pages per DMA (QEMU's IOTLB holds 256 entries); "
           "TLBI_NH_VA in batches of %u\n(one per cached page) + CMD_SYNC; "
           "TLBI_NH_ASID one per CMDQ_PROD write after a DMA.\n",
           NPAGES, NPAGES);
    return 0;
}
