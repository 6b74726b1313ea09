/*
 * mmn-smmuv3 differential qtest, environment: one machine of each kind
 * (-M virt,iommu=mmn-smmuv3 and iommu=smmuv3, the mmn-smmu PCI function
 * as the master), the stream table, CD and stage-1 tables built the same
 * way in both, and the probe: a CMD_SYNC the function fetches and whose
 * word it writes through the SMMU under test.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-smmuv3-diff.h"

uint64_t cd_w0(unsigned t0sz, unsigned tg, unsigned ips)
{
    return CD_T0SZ(t0sz) | CD_TG0(tg) | (1ULL << 8) | (1ULL << 10) |
           (3ULL << 12) | CD_EPD1 | CD_V | CD_IPS(ips) | CD_AA64 | CD_R |
           CD_A | ((uint64_t)ASID << 48);
}

uint64_t alloc_aligned(Side *s, uint64_t size)
{
    return ROUND_UP(v3_alloc(&s->v, 2 * size), size);
}

static unsigned start_level(unsigned g, unsigned ias)
{
    return 4 - DIV_ROUND_UP(ias - g, g - 3);
}

/*
 * Map @va to @pa (aligned to the leaf's size) with a leaf at @level: a
 * page at level 3, a block above.  Returns the leaf descriptor's address.
 */
uint64_t map_at(Side *s, uint64_t va, uint64_t pa, uint64_t attrs,
                unsigned level)
{
    unsigned g = s->g, stride = g - 3, l = start_level(g, s->ias);
    uint64_t table = s->root, slot, d;

    for (;; l++) {
        unsigned shift = g + (3 - l) * stride;
        unsigned bits = MIN(stride, s->ias - shift);

        slot = table + ((va >> shift) & ((1ULL << bits) - 1)) * 8;
        if (l == level) {
            break;
        }
        d = qtest_readq(s->qts, slot);
        if (!(d & PTE_VALID)) {
            d = alloc_aligned(s, 1ULL << g) | PTE_TABLE | PTE_VALID;
            qtest_writeq(s->qts, slot, d);
        }
        table = d & 0x0000ffffffffffffULL & ~((1ULL << g) - 1);
    }
    qtest_writeq(s->qts, slot, pa | attrs | PTE_VALID |
                 (level == 3 ? PTE_TABLE : 0));
    return slot;
}

uint64_t map(Side *s, uint64_t va, uint64_t pa, uint64_t attrs)
{
    return map_at(s, va, pa, attrs, 3);
}

/* The table descriptor above @va's leaf at @level (< 3). */
uint64_t table_slot(Side *s, uint64_t va, unsigned level)
{
    unsigned g = s->g, stride = g - 3, l = start_level(g, s->ias);
    uint64_t table = s->root, slot;

    for (;; l++) {
        unsigned shift = g + (3 - l) * stride;
        unsigned bits = MIN(stride, s->ias - shift);

        slot = table + ((va >> shift) & ((1ULL << bits) - 1)) * 8;
        if (l == level) {
            return slot;
        }
        table = qtest_readq(s->qts, slot) & 0x0000ffffffffffffULL &
                ~((1ULL << g) - 1);
    }
}

void cmd(Side *s, uint64_t w0, uint64_t w1)
{
    v3_cmd(&s->v, w0, w1);
    g_assert_cmphex(v3_rd(&s->v, V3_CMDQ_CONS), ==, s->v.cmd_prod);
}

void sync_all(Side *s)
{
    cmd(s, CMD_CFGI_STE_RANGE, 31);                 /* CMD_CFGI_ALL */
    cmd(s, CMD_TLBI_NSNH_ALL, 0);
    cmd(s, CMD_SYNC, 0);
    g_assert_cmphex(v3_rd(&s->v, V3_GERROR) & V3_GERROR_MASK, ==,
                    v3_rd(&s->v, V3_GERRORN) & V3_GERROR_MASK);
}

void ste_raw(Side *s, uint64_t w0, uint64_t w1)
{
    qtest_memset(s->qts, s->ste, 0, 64);
    qtest_writeq(s->qts, s->ste + 8, w1);
    qtest_writeq(s->qts, s->ste, w0);
}

/* STE: stage 1, one CD at @ctx (S1CDMax 0), S1STALLD 0. */
void ste_s1(Side *s, uint64_t ctx)
{
    ste_raw(s, 1 | (5ULL << 1) | ctx,
            (1ULL << 2) | (1ULL << 4) | (3ULL << 6));
}

void cd_raw(Side *s, uint64_t w0, uint64_t ttb)
{
    v3_cd_raw(&s->v, s->cdtab, 0, w0, ttb);
}

void strtab(Side *s, uint64_t base, uint32_t cfg)
{
    v3_wr(&s->v, V3_CR0, 0xc);
    v3_wrq(&s->v, V3_STRTAB_BASE, base);
    v3_wr(&s->v, V3_STRTAB_BASE_CFG, cfg);
    v3_wr(&s->v, V3_CR0, 0xd);
    g_assert_cmphex(v3_rd(&s->v, V3_CR0ACK), ==, 0xd);
}

/*
 * A fresh configuration for each case: the linear stream table, a stage-1
 * STE, a CD (T0SZ @t0sz, TG0 @tg, IPS 44 bits) and new tables mapping
 * IOVA_C and IOVA_W to CMD_PG and WR_PG with @attrs.
 */
void setup(Side *s, Probe *p, unsigned t0sz, unsigned tg, uint64_t attrs)
{
    static const unsigned gran[] = { 12, 16, 14 };

    strtab(s, s->v.strtab, NSTE_LOG2);
    v3_wr(&s->v, V3_GBPA, 1u << 31);
    s->ste = s->v.strtab + RID * 64;
    s->g = gran[tg];
    s->ias = 64 - t0sz;
    s->cdtab = v3_alloc(&s->v, 4096);
    s->root = alloc_aligned(s, 1ULL << s->g);
    ste_s1(s, s->cdtab);
    cd_raw(s, cd_w0(t0sz, tg, 4), s->root);
    p->cmd_iova = IOVA_C;
    p->wr_iova = IOVA_W;
    p->cmd_pa = CMD_PG + (IOVA_C & ((1ULL << s->g) - 1));
    p->wr_pa = WR_PG + (IOVA_W & ((1ULL << s->g) - 1));
    if (attrs) {
        map(s, IOVA_C, CMD_PG, attrs);
        map(s, IOVA_W, WR_PG, attrs);
    }
}

static void drain(Side *s, Result *r)
{
    V3 *v = &s->v;
    uint32_t mask = (2u << v->evtq_log2) - 1;
    uint64_t a;
    int i;

    while ((v3_rd(v, V3_EVTQ_PROD) & mask) != (v->evt_cons & mask)) {
        a = v->evtq + (v->evt_cons & ((1u << v->evtq_log2) - 1)) * 32;
        g_assert_cmpuint(r->nev, <, ARRAY_SIZE(r->ev));
        for (i = 0; i < 4; i++) {
            r->ev[r->nev][i] = qtest_readq(s->qts, a + i * 8);
        }
        r->nev++;
        v->evt_cons = (v->evt_cons + 1) & mask;
        v3_wr(v, V3_EVTQ_CONS, v->evt_cons);
    }
}

/*
 * The function's command queue (2 entries) at p->cmd_iova holds one
 * CMD_SYNC that writes a word at p->wr_iova; run it.
 */
void probe(Side *s, const Probe *p, Out *o)
{
    Result *r = &o->r[o->n++];
    uint32_t slot = s->prod & 1, val = MAGIC + ++s->seq, err;
    uint8_t c[64] = { MMN_CMD_SYNC, MMN_CMD_SYNC_F_WRITE };

    g_assert_cmpuint(o->n, <=, ARRAY_SIZE(o->r));
    memset(r, 0, sizeof(*r));
    stl_le_p(c + 4, val);
    stq_le_p(c + 8, p->wr_iova);
    qmmn_writel(&s->dev, A_CTRL, 0);
    qmmn_writel(&s->dev, A_CMDQ_BASE_LO, (uint32_t)p->cmd_iova | 1);
    qmmn_writel(&s->dev, A_CMDQ_BASE_HI, p->cmd_iova >> 32);
    qtest_memwrite(s->qts, p->cmd_pa + slot * 64, c, sizeof(c));
    qtest_writel(s->qts, p->wr_pa, 0);
    qmmn_writel(&s->dev, A_CTRL, R_CTRL_CMDQ_EN_MASK);
    s->prod = (s->prod + 1) & 3;
    qmmn_writel(&s->dev, A_CMDQ_PROD, s->prod);
    err = qmmn_readl(&s->dev, A_CMDQ_ERR);
    if (err & R_CMDQ_ERR_VALID_MASK) {
        r->reason = err & R_CMDQ_ERR_REASON_MASK;
        qmmn_writel(&s->dev, A_CMDQ_ERR_ACK, 1);
    }
    g_assert_cmphex(qmmn_readl(&s->dev, A_CMDQ_CONS), ==, s->prod);
    r->landed = qtest_readl(s->qts, p->wr_pa) == val;
    drain(s, r);
}

void side_up(Side *s, const char *iommu, const char *extra)
{
    QPCIAddress addr = { .devfn = RID,
                         .vendor_id = MMN_SMMU_PCI_VENDOR_ID,
                         .device_id = MMN_SMMU_PCI_DEVICE_ID };

    memset(s, 0, sizeof(*s));
    s->iommu = iommu;
    s->qts = qtest_initf("-M virt,iommu=%s -cpu max -m 512M "
                         "-device mmn-smmu,addr=04.0 %s", iommu, extra);
    v3_init(&s->v, s->qts, NSTE_LOG2, 8, 8);
    alloc_init(&s->alloc, 0, V3_RAM + 0x1f000000, V3_RAM + 0x1f800000, 4096);
    qpci_init_generic(&s->bus, s->qts, &s->alloc, false);
    qpci_device_init(&s->dev.dev, &s->bus.bus, &addr);
    s->dev.bar = qpci_iomap(&s->dev.dev, 0, NULL);
    qpci_device_enable(&s->dev.dev);
}

void side_down(Side *s)
{
    qtest_quit(s->qts);
    alloc_destroy(&s->alloc);
}
