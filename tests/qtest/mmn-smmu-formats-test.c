/*
 * qtest for mmn-smmu: the stage-1 formats through the device.  CTX_BIND's
 * GRANULE, DS and TBI fields and their validation (docs/specs/mmn-smmu.rst
 * "Context configuration"), then DMA through hand-built tables: 4 KiB with
 * DS (level -1, as Linux 6.12 builds them on a CPU with FEAT_LPA2), 16 KiB
 * with DS, 64 KiB with 52-bit VA, TBI, and a contiguous run's invalidation
 * with the coherence checker.
 *
 * Self-contained: it drives the queues itself (no kernel model), so the
 * tables are exactly the ones written here.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qemu/module.h"
#include "qemu/bswap.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "libqos/libqos-malloc.h"
#include "libqos/mmn-smmu.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"
#include "hw/mmn-smmu/walker.h"

#define CMDQ_LOG2   4
#define PTE_AF      (1ULL << 10)
#define PTE_USER    (1ULL << 6)
#define SH_INNER    (3ULL << 8)     /* SH[1:0] without DS */
#define PTE_CONT    (1ULL << 52)

typedef struct Dev {
    QMmnSmmu *s;
    QTestState *qts;
    QGuestAllocator *alloc;
    uint64_t cmdq;
    uint32_t prod;
    uint64_t desc;                  /* DMA descriptor */
} Dev;

/* @size bytes of zeroed guest RAM aligned to @align. */
static uint64_t ram_alloc(Dev *d, uint64_t size, uint64_t align)
{
    uint64_t pa = guest_alloc(d->alloc, size + align);

    pa = ROUND_UP(pa, align);
    qtest_memset(d->qts, pa, 0, size);
    return pa;
}

static void dev_init(Dev *d, QMmnSmmu *s, QGuestAllocator *alloc)
{
    d->s = s;
    d->qts = s->dev.bus->qts;
    d->alloc = alloc;
    d->prod = 0;
    d->cmdq = ram_alloc(d, MMN_CMD_SIZE << CMDQ_LOG2, 64);
    d->desc = ram_alloc(d, MMN_DMA_DESC_SIZE, 64);
    qmmn_writel(s, A_CMDQ_BASE_LO, (uint32_t)d->cmdq | CMDQ_LOG2);
    qmmn_writel(s, A_CMDQ_BASE_HI, d->cmdq >> 32);
    qmmn_writel(s, A_CTRL, R_CTRL_CMDQ_EN_MASK | R_CTRL_DMA_EN_MASK);
}

/* Post one command; returns 0 or the CMDQ_ERR reason (then skipped). */
static unsigned cmd(Dev *d, uint8_t op, uint16_t ctx, uint64_t a0,
                    uint64_t a1)
{
    MmnCmd c = {
        .opcode = op,
        .ctx = cpu_to_le16(ctx),
        .a0 = cpu_to_le64(a0),
        .a1 = cpu_to_le64(a1),
    };
    uint32_t mask = (1u << CMDQ_LOG2) - 1, err;

    qtest_memwrite(d->qts, d->cmdq + (d->prod & mask) * MMN_CMD_SIZE, &c,
                   sizeof(c));
    d->prod = (d->prod + 1) & ((2u << CMDQ_LOG2) - 1);
    qmmn_writel(d->s, A_CMDQ_PROD, d->prod);
    err = qmmn_readl(d->s, A_CMDQ_ERR);
    if (!FIELD_EX32(err, CMDQ_ERR, VALID)) {
        g_assert_cmphex(qmmn_readl(d->s, A_CMDQ_CONS), ==, d->prod);
        return 0;
    }
    qmmn_writel(d->s, A_CMDQ_ERR_ACK, 1);
    return FIELD_EX32(err, CMDQ_ERR, REASON);
}

/* Run one DMA descriptor; returns its status word. */
static uint32_t dma(Dev *d, uint8_t op, uint16_t ctx, uint64_t va,
                    uint32_t len, uint64_t buf, uint32_t pattern)
{
    MmnDmaDesc x = {
        .op = op,
        .ctx = cpu_to_le16(ctx),
        .len = cpu_to_le32(len),
        .va = cpu_to_le64(va),
        .buf = cpu_to_le64(buf),
        .pattern = cpu_to_le32(pattern),
    };

    qtest_memwrite(d->qts, d->desc, &x, sizeof(x));
    qmmn_writel(d->s, A_DMA_DESC_LO, (uint32_t)d->desc);
    qmmn_writel(d->s, A_DMA_DESC_HI, d->desc >> 32);
    qmmn_writel(d->s, A_DMA_DOORBELL, 1);
    return qmmn_readl(d->s, A_DMA_STATUS);
}

static uint64_t fault_va(Dev *d)
{
    return qmmn_readl(d->s, A_DMA_FAULT_VA_LO) |
           (uint64_t)qmmn_readl(d->s, A_DMA_FAULT_VA_HI) << 32;
}

/* A format, with the start level of the spec's table. */
typedef struct Fmt {
    unsigned granule;       /* CTX_BIND GRANULE (TG0) */
    unsigned gshift;
    bool ds;
    unsigned va_bits, oa_bits;
    int start;
} Fmt;

typedef struct Pt {
    Dev *d;
    Fmt f;
    uint64_t ttb;
} Pt;

static unsigned pt_shift(const Fmt *f, int level)
{
    return f->gshift + (f->gshift - 3) * (3 - level);
}

/* Linux's __phys_to_pte_val() (6.12 arch/arm64/include/asm/pgtable.h). */
static uint64_t pt_enc(const Fmt *f, uint64_t pa)
{
    if (f->ds) {
        return (pa | (pa >> 42)) & 0x0003ffffffffff00ULL;
    }
    if (f->gshift == 16) {
        return (pa | (pa >> 36)) & 0x0003fffffffff000ULL;
    }
    return pa;
}

static void pt_init(Pt *p, Dev *d, const Fmt *f)
{
    uint64_t bytes = 8ULL << (f->va_bits - pt_shift(f, f->start));

    p->d = d;
    p->f = *f;
    p->ttb = ram_alloc(d, bytes, MAX(bytes, 64));
}

/* Map a page of the granule at @va to @pa with @attrs. */
static uint64_t pt_map(Pt *p, uint64_t va, uint64_t pa, uint64_t attrs)
{
    uint64_t g = 1ULL << p->f.gshift, table = p->ttb, slot, desc;
    int l;

    for (l = p->f.start;; l++) {
        slot = table + ((va >> pt_shift(&p->f, l)) &
                        ((1ULL << (p->f.gshift - 3)) - 1)) * 8;
        if (l == 3) {
            break;
        }
        desc = qtest_readq(p->d->qts, slot);
        if (!desc) {
            table = ram_alloc(p->d, g, g);
            qtest_writeq(p->d->qts, slot, pt_enc(&p->f, table) | 3);
        } else {
            /* tables here are below 2^48: the low bits are the address */
            table = desc & 0x0000ffffffffffffULL & ~(g - 1);
        }
    }
    qtest_writeq(p->d->qts, slot, pt_enc(&p->f, pa) | 3 | PTE_AF | attrs);
    return slot;
}

static uint64_t cfg_word(const Fmt *f, bool tbi)
{
    return MMN_CTX_CFG_VA_BITS(f->va_bits) | MMN_CTX_CFG_OA_BITS(f->oa_bits) |
           MMN_CTX_CFG_GRANULE(f->granule) | (f->ds ? MMN_CTX_CFG_DS : 0) |
           (tbi ? MMN_CTX_CFG_TBI : 0);
}

#define G4K     MMN_CTX_GRANULE_4K
#define G16K    MMN_CTX_GRANULE_16K
#define G64K    MMN_CTX_GRANULE_64K

/*
 * The FEATURES bits announce the formats; every combination of the spec's
 * table binds, anything else is BAD_CONFIG (or RESERVED / BAD_ADDR), and
 * a version-1.0 word still binds.
 */
static void test_bind_config(void *obj, void *data, QGuestAllocator *alloc)
{
    static const struct {
        uint64_t cfg;
        uint64_t ttb_off;       /* added to a 64 KiB-aligned TTB */
        unsigned err;
    } cases[] = {
#define C(va, oa, g, ds) (MMN_CTX_CFG_VA_BITS(va) | MMN_CTX_CFG_OA_BITS(oa) | \
                          MMN_CTX_CFG_GRANULE(g) | ((ds) ? MMN_CTX_CFG_DS : 0))
        { C(48, 48, G4K, 0), 0, 0 },
        { C(39, 40, G4K, 0) | MMN_CTX_CFG_TBI, 0, 0 },
        { C(48, 48, G4K, 0) | MMN_CTX_CFG_HTTU(2), 0, 0 },
        { C(52, 52, G4K, 1), 0, 0 },
        { C(52, 48, G4K, 1), 0x80, 0 },     /* 128-byte level -1 table */
        { C(48, 52, G4K, 1), 0, 0 },
        { C(52, 52, G16K, 1), 0x100, 0 },   /* 256-byte level 0 table */
        { C(47, 48, G16K, 0), 0, 0 },
        { C(48, 48, G16K, 0), 0x10, 0 },    /* 16-byte level 0 table */
        { C(25, 48, G16K, 0), 0, 0 },
        { C(52, 52, G64K, 0), 0, 0 },
        { C(48, 48, G64K, 0), 0x200, 0 },
        { C(25, 32, G64K, 0), 0, 0 },
        { C(48, 48, 3, 0), 0, MMN_CMDQ_ERR_BAD_CONFIG },
        { C(48, 48, G64K, 1), 0, MMN_CMDQ_ERR_BAD_CONFIG },
        { C(49, 48, G4K, 0), 0, MMN_CMDQ_ERR_BAD_CONFIG },
        { C(52, 48, G16K, 0), 0, MMN_CMDQ_ERR_BAD_CONFIG },
        { C(53, 52, G4K, 1), 0, MMN_CMDQ_ERR_BAD_CONFIG },
        { C(53, 52, G64K, 0), 0, MMN_CMDQ_ERR_BAD_CONFIG },
        { C(24, 48, G16K, 0), 0, MMN_CMDQ_ERR_BAD_CONFIG },
        { C(48, 52, G4K, 0), 0, MMN_CMDQ_ERR_BAD_CONFIG },
        { C(48, 52, G16K, 0), 0, MMN_CMDQ_ERR_BAD_CONFIG },
        { C(48, 50, G4K, 1), 0, MMN_CMDQ_ERR_BAD_CONFIG },
        { C(48, 49, G64K, 0), 0, MMN_CMDQ_ERR_BAD_CONFIG },
        { C(48, 31, G64K, 0), 0, MMN_CMDQ_ERR_BAD_CONFIG },
        { C(48, 48, G4K, 0) | MMN_CTX_CFG_HTTU(3), 0, MMN_CMDQ_ERR_BAD_CONFIG },
        { C(48, 48, G4K, 0) | (1ULL << 25), 0, MMN_CMDQ_ERR_RESERVED },
        { C(48, 48, G16K, 0) | (1ULL << 63), 0, MMN_CMDQ_ERR_RESERVED },
        { C(48, 48, G4K, 0), 0x800, MMN_CMDQ_ERR_BAD_ADDR },
        { C(52, 52, G4K, 1), 0x40, MMN_CMDQ_ERR_BAD_ADDR },
        { C(48, 48, G16K, 0), 0x8, MMN_CMDQ_ERR_BAD_ADDR },
        { C(48, 52, G16K, 1), 0x10, MMN_CMDQ_ERR_BAD_ADDR },  /* 64 B */
        { C(52, 52, G64K, 0), 0x1000, MMN_CMDQ_ERR_BAD_ADDR },
#undef C
    };
    uint32_t feat = qmmn_readl(obj, A_FEATURES);
    Dev d;
    uint64_t ttb;
    int i;

    g_assert_true(FIELD_EX32(feat, FEATURES, GRAN16K));
    g_assert_true(FIELD_EX32(feat, FEATURES, GRAN64K));
    g_assert_true(FIELD_EX32(feat, FEATURES, LPA2));
    g_assert_true(FIELD_EX32(feat, FEATURES, LVA_LPA));
    g_assert_true(FIELD_EX32(feat, FEATURES, TBI));
    dev_init(&d, obj, alloc);
    ttb = ram_alloc(&d, 0x20000, 0x10000);
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        unsigned err = cmd(&d, MMN_CMD_CTX_BIND, 1, ttb + cases[i].ttb_off,
                           cases[i].cfg);

        g_test_message("cfg 0x%" PRIx64 " ttb +0x%" PRIx64, cases[i].cfg,
                       cases[i].ttb_off);
        g_assert_cmpuint(err, ==, cases[i].err);
        if (!err) {
            g_assert_cmpuint(cmd(&d, MMN_CMD_CTX_UNBIND, 1, 0, 0), ==, 0);
        }
    }
    /* TTB above OA_BITS */
    g_assert_cmpuint(cmd(&d, MMN_CMD_CTX_BIND, 1, 1ULL << 40,
                         MMN_CTX_CFG_VA_BITS(48) | MMN_CTX_CFG_OA_BITS(40)),
                     ==, MMN_CMDQ_ERR_BAD_ADDR);
}

/*
 * Write across a page boundary at the top of the VA space through @f's
 * tables, read it back by DMA and by guest-physical reads.
 */
static void dma_roundtrip(Dev *d, const Fmt *f, uint16_t ctx)
{
    uint64_t g = 1ULL << f->gshift;
    uint64_t va = (1ULL << f->va_bits) - 2 * g;
    uint64_t pa0 = ram_alloc(d, g, g), pa1 = ram_alloc(d, g, g);
    uint64_t buf = ram_alloc(d, 64, 64), w;
    uint32_t st;
    Pt p;

    pt_init(&p, d, f);
    pt_map(&p, va, pa0, PTE_USER);
    pt_map(&p, va + g, pa1, PTE_USER);
    g_assert_cmpuint(cmd(d, MMN_CMD_CTX_BIND, ctx, p.ttb, cfg_word(f, false) |
                         MMN_CTX_CFG_UNPRIV), ==, 0);
    st = dma(d, MMN_DMA_OP_FILL, ctx, va + g - 16, 32, 0, 0x5a5a0000 | ctx);
    g_assert_cmphex(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    g_assert_cmphex(qtest_readl(d->qts, pa0 + g - 4), ==, 0x5a5a0000 | ctx);
    g_assert_cmphex(qtest_readl(d->qts, pa1 + 12), ==, 0x5a5a0000 | ctx);
    g_assert_cmphex(qtest_readl(d->qts, pa1 + 16), ==, 0);
    qtest_writeq(d->qts, pa1 + 8, 0x1122334455667788ULL);
    st = dma(d, MMN_DMA_OP_READ, ctx, va + g + 8, 8, buf, 0);
    g_assert_cmphex(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    w = qtest_readq(d->qts, buf);
    g_assert_cmphex(w, ==, 0x1122334455667788ULL);
    /* the page below is not mapped: a translation fault at level 3 */
    st = dma(d, MMN_DMA_OP_READ, ctx, va - 8, 8, buf, 0);
    g_assert_cmphex(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_FAULT);
    g_assert_cmphex(MMN_DMA_STATUS_KIND(st), ==, MMN_FAULT_TRANSLATION);
    g_assert_cmphex(MMN_DMA_STATUS_LEVEL(st), ==, 3);
    g_assert_cmpuint(cmd(d, MMN_CMD_CTX_UNBIND, ctx, 0, 0), ==, 0);
}


/*
 * DS changes what descriptor bits [9:8] mean: shareability (ignored) with
 * DS = 0, OA[51:50] with DS = 1, so the same leaf is RAM in one context,
 * and above the 48-bit OA (address size fault) or not RAM in the others.
 */
static void dma_ds_bits(Dev *d)
{
    static const Fmt f48 = { G16K, 14, false, 47, 48, 1 };
    static const Fmt fds = { G16K, 14, true, 47, 48, 1 };
    static const Fmt fds52 = { G16K, 14, true, 47, 52, 1 };
    uint64_t va = 0x12344000ULL, pa;
    uint32_t st;
    Pt p;

    pa = ram_alloc(d, 0x4000, 0x4000);
    pt_init(&p, d, &f48);
    pt_map(&p, va, pa, PTE_USER | SH_INNER);
    g_assert_cmpuint(cmd(d, MMN_CMD_CTX_BIND, 1, p.ttb, cfg_word(&f48, false)),
                     ==, 0);
    g_assert_cmpuint(cmd(d, MMN_CMD_CTX_BIND, 2, p.ttb, cfg_word(&fds, false)),
                     ==, 0);
    g_assert_cmpuint(cmd(d, MMN_CMD_CTX_BIND, 3, p.ttb,
                         cfg_word(&fds52, false)), ==, 0);
    st = dma(d, MMN_DMA_OP_FILL, 1, va, 4, 0, 0xabcdef01);
    g_assert_cmphex(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    g_assert_cmphex(qtest_readl(d->qts, pa), ==, 0xabcdef01);
    st = dma(d, MMN_DMA_OP_FILL, 2, va, 4, 0, 0);
    g_assert_cmphex(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_FAULT);
    g_assert_cmphex(MMN_DMA_STATUS_KIND(st), ==, MMN_FAULT_ADDR_SIZE);
    g_assert_cmphex(MMN_DMA_STATUS_LEVEL(st), ==, 3);
    st = dma(d, MMN_DMA_OP_FILL, 3, va, 4, 0, 0);
    g_assert_cmphex(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_FAULT);
    g_assert_cmphex(MMN_DMA_STATUS_KIND(st), ==, 6);  /* EXTERNAL: not RAM */
    g_assert_cmphex(qtest_readl(d->qts, pa), ==, 0xabcdef01);
}

/*
 * TBI: a tagged VA is translated like the untagged one, and a fault
 * reports the untagged VA; without TBI the tagged VA faults at the start
 * level and is reported as given.
 */
static void dma_tbi(Dev *d)
{
    static const Fmt f = { G4K, 12, false, 48, 48, 0 };
    uint64_t va = 0x7f0012345000ULL, tag = 0x3cULL << 56, pa;
    uint32_t st;
    Pt p;

    pa = ram_alloc(d, 0x1000, 0x1000);
    pt_init(&p, d, &f);
    pt_map(&p, va, pa, PTE_USER);
    g_assert_cmpuint(cmd(d, MMN_CMD_CTX_BIND, 5, p.ttb, cfg_word(&f, true)),
                     ==, 0);
    g_assert_cmpuint(cmd(d, MMN_CMD_CTX_BIND, 6, p.ttb, cfg_word(&f, false)),
                     ==, 0);
    st = dma(d, MMN_DMA_OP_FILL, 5, va | tag | 0x100, 4, 0, 0x7a9b0000);
    g_assert_cmphex(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    g_assert_cmphex(qtest_readl(d->qts, pa + 0x100), ==, 0x7a9b0000);
    st = dma(d, MMN_DMA_OP_FILL, 5, (va + 0x1000) | tag, 4, 0, 0);
    g_assert_cmphex(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_FAULT);
    g_assert_cmphex(fault_va(d), ==, va + 0x1000);
    st = dma(d, MMN_DMA_OP_FILL, 6, va | tag, 4, 0, 0);
    g_assert_cmphex(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_FAULT);
    g_assert_cmphex(MMN_DMA_STATUS_KIND(st), ==, MMN_FAULT_TRANSLATION);
    g_assert_cmphex(MMN_DMA_STATUS_LEVEL(st), ==, 0);
    g_assert_cmphex(fault_va(d), ==, va | tag);
}

/* CHECK of context @ctx: the number of entries checked and stale. */
static void check(Dev *d, uint16_t ctx, uint32_t *entries, uint32_t *stale)
{
    uint64_t rep = ram_alloc(d, MMN_CHECK_REPORT_SIZE, 8);

    g_assert_cmpuint(cmd(d, MMN_CMD_CHECK, ctx, rep, 0), ==, 0);
    *entries = qtest_readl(d->qts, rep);
    *stale = qtest_readl(d->qts, rep + 4);
}

/*
 * A contiguous run (16 x 4 KiB, descriptor bit 52) is cached per page,
 * the coherence checker finds every entry coherent, and a TLBI_PAGE of
 * one page drops all 16 (and not the page after the run).
 */
static void dma_contiguous(Dev *d)
{
    static const Fmt f = { G4K, 12, false, 48, 48, 0 };
    uint64_t va = 0x40000000ULL, pa = ram_alloc(d, 0x11000, 0x10000);
    uint64_t buf = ram_alloc(d, 0x11000, 0x1000);
    uint32_t st, entries, stale;
    Pt p;
    int i;

    pt_init(&p, d, &f);
    for (i = 0; i < 16; i++) {
        pt_map(&p, va + i * 0x1000, pa + i * 0x1000, PTE_CONT);
        qtest_writel(d->qts, pa + i * 0x1000, 0xc0de0000 + i);
    }
    pt_map(&p, va + 0x10000, pa + 0x10000, 0);
    g_assert_cmpuint(cmd(d, MMN_CMD_CTX_BIND, 7, p.ttb, cfg_word(&f, false)),
                     ==, 0);
    st = dma(d, MMN_DMA_OP_READ, 7, va, 0x11000, buf, 0);
    g_assert_cmphex(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    g_assert_cmphex(qtest_readl(d->qts, buf + 0x9000), ==, 0xc0de0009);
    check(d, 7, &entries, &stale);
    g_assert_cmpuint(entries, ==, 17);
    g_assert_cmpuint(stale, ==, 0);
    g_assert_cmpuint(cmd(d, MMN_CMD_TLBI_PAGE, 7, va + 0x5000, 0), ==, 0);
    check(d, 7, &entries, &stale);
    g_assert_cmpuint(entries, ==, 1);
    g_assert_cmpuint(stale, ==, 0);
}

/*
 * DMA through each format, one QEMU for all (the qos graph has room for
 * few more test nodes under mmn-smmu): 4 KiB DS with 52-bit VA (the level
 * -1 table of Linux 6.12 with LPA2), 16 KiB DS, 64 KiB 52-bit, the DS
 * bits, TBI, a contiguous run.
 */
static void test_dma_formats(void *obj, void *data, QGuestAllocator *alloc)
{
    static const Fmt f4ds = { G4K, 12, true, 52, 52, -1 };
    static const Fmt f16ds = { G16K, 14, true, 52, 52, 0 };
    static const Fmt f64 = { G64K, 16, false, 52, 52, 1 };
    Dev d;

    dev_init(&d, obj, alloc);
    g_test_message("4 KiB DS, 52-bit VA");
    dma_roundtrip(&d, &f4ds, 2);
    g_test_message("16 KiB DS, 52-bit VA");
    dma_roundtrip(&d, &f16ds, 3);
    g_test_message("64 KiB, 52-bit VA and OA");
    dma_roundtrip(&d, &f64, 4);
    g_test_message("DS bits [9:8]");
    dma_ds_bits(&d);
    g_test_message("TBI");
    dma_tbi(&d);
    g_test_message("contiguous run");
    dma_contiguous(&d);
}

static void register_tests(void)
{
    qos_add_test("formats/bind-config", "mmn-smmu", test_bind_config, NULL);
    qos_add_test("formats/dma", "mmn-smmu", test_dma_formats, NULL);
}

libqos_init(register_tests);
