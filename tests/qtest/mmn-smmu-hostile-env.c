/*
 * mmn-smmu hostile-guest qtest: the environment (see mmn-smmu-hostile.h).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-smmu-hostile.h"

static void dev_init(Env *e, QMmnSmmu *d, unsigned slot)
{
    QPCIAddress a = {
        .devfn = QPCI_DEVFN(slot, 0),
        .vendor_id = MMN_SMMU_PCI_VENDOR_ID,
        .device_id = MMN_SMMU_PCI_DEVICE_ID,
    };

    qpci_device_init(&d->dev, &e->bus.bus, &a);
    d->bar = qpci_iomap(&d->dev, 0, NULL);
    qpci_device_enable(&d->dev);
}

void hst_start_range(Env *e, const char *cmdline, uint64_t lo, uint64_t hi)
{
    memset(e, 0, sizeof(*e));
    e->qts = qtest_init(cmdline);
    alloc_init(&e->alloc, 0, lo, hi, 4096);
    qpci_init_generic(&e->bus, e->qts, &e->alloc, false);
    dev_init(e, &e->dev, MMN_SLOT);
    e->has_peer = strstr(cmdline, "id=" PEER_ID) != NULL;
    if (e->has_peer) {
        dev_init(e, &e->peer, PEER_SLOT);
    }
}

void hst_kernel_new(Env *e, unsigned cmdq_log2)
{
    e->k = mk_new(&e->dev, &e->alloc, cmdq_log2, 4);
    e->buf = mk_alloc(e->k, 0x4000, 4096);
    e->scratch = mk_alloc(e->k, 0x1000, 4096);
}

void hst_start(Env *e, const char *cmdline, unsigned cmdq_log2)
{
    hst_start_range(e, cmdline, RAM_BASE, RAM_END);
    hst_kernel_new(e, cmdq_log2);
    if (e->has_peer) {
        e->kp = mk_new(&e->peer, &e->alloc, 6, 4);
    }
    e->l1 = mk_alloc(e->k, 4096, 4096);
    e->l2 = mk_alloc(e->k, 4096, 4096);
    e->l3 = mk_alloc(e->k, 4096, 4096);
    e->data = mk_alloc(e->k, 4096, 4096);
    qtest_writeq(e->qts, e->l1 + L1_IDX(VA_RAW) * 8,
                 e->l2 | MK_PTE_VALID | MK_PTE_TABLE);
    qtest_writeq(e->qts, e->l2 + L2_IDX(VA_RAW) * 8,
                 e->l3 | MK_PTE_VALID | MK_PTE_TABLE);
    qtest_writeq(e->qts, e->l3 + L3_IDX(VA_RAW) * 8, hst_page(e->data));
    for (unsigned i = 0; i < 1024; i++) {
        qtest_writel(e->qts, e->data + 4 * i, DATA_WORD);
    }
    mk_bind(e->k, CTX_RAW, e->l1, RAW_CFG);
}

void hst_stop(Env *e)
{
    if (e->kp) {
        mk_free(e->kp);
    }
    if (e->k) {
        mk_free(e->k);
    }
    qtest_quit(e->qts);
    alloc_destroy(&e->alloc);
}

uint64_t hst_ecam(Env *e, unsigned slot)
{
    return e->bus.ecam_alloc_ptr + ((uint64_t)QPCI_DEVFN(slot, 0) << 12);
}

uint64_t hst_qom(QTestState *qts, const char *id, const char *name)
{
    g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", id);
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'qom-get', 'arguments': "
                           "{ 'path': %s, 'property': %s } }", path, name);
    uint64_t v;

    g_assert_true(qdict_haskey(rsp, "return"));
    v = qdict_get_int(rsp, "return");
    qobject_unref(rsp);
    return v;
}

uint64_t hst_page(uint64_t pa)
{
    return pa | MK_PTE_VALID | MK_PTE_TABLE | MK_PTE_AF;
}

uint64_t hst_leaf_slot(Env *e, uint64_t va)
{
    return e->l3 + L3_IDX(va) * 8;
}

void hst_leaf(Env *e, uint64_t va, uint64_t desc)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_TLBI_ALL, 0);

    qtest_writeq(e->qts, hst_leaf_slot(e, va), desc);
    mk_cmd(e->k, &c);
}

static void snap_cfg(QPCIDevice *d, uint32_t *out)
{
    for (unsigned i = 0; i < SNAP_CFG_DWORDS; i++) {
        out[i] = qpci_config_readl(d, 4 * i);
    }
}

void hst_snap(Env *e, Snap *s)
{
    memset(s, 0, sizeof(*s));
    snap_cfg(&e->dev.dev, s->cfg[0]);
    if (!e->has_peer) {
        return;
    }
    snap_cfg(&e->peer.dev, s->cfg[1]);
    for (unsigned i = 0; i < MK_NR_STATE_REGS; i++) {
        s->peer[i] = qmmn_readl(&e->peer, mk_state_regs[i].off);
    }
}

void hst_snap_same(Env *e, const Snap *before, const char *what)
{
    Snap now;

    hst_snap(e, &now);
    for (unsigned i = 0; i < MK_NR_STATE_REGS; i++) {
        if (now.peer[i] != before->peer[i]) {
            g_test_message("%s: peer %s 0x%x -> 0x%x", what,
                           mk_state_regs[i].name, before->peer[i],
                           now.peer[i]);
        }
        g_assert_cmphex(now.peer[i], ==, before->peer[i]);
    }
    for (unsigned d = 0; d < 2; d++) {
        for (unsigned i = 0; i < SNAP_CFG_DWORDS; i++) {
            if (now.cfg[d][i] != before->cfg[d][i]) {
                g_test_message("%s: %s config 0x%02x: 0x%x -> 0x%x", what,
                               d ? "peer" : "own", 4 * i,
                               before->cfg[d][i], now.cfg[d][i]);
            }
            g_assert_cmphex(now.cfg[d][i], ==, before->cfg[d][i]);
        }
    }
}

void hst_assert_words(Env *e, uint64_t pa, uint64_t len, uint32_t word)
{
    g_autofree uint32_t *b = g_malloc(len);

    qtest_memread(e->qts, pa, b, len);
    for (uint64_t i = 0; i < len / 4; i++) {
        g_assert_cmphex(le32_to_cpu(b[i]), ==, word);
    }
}

void hst_assert_working(Env *e)
{
    MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, CTX_RAW, VA_RAW, 256,
                               e->buf, 0);

    g_assert_cmphex(mk_readl(e->k, A_CTRL), ==, 7);
    g_assert_cmphex(mk_readl(e->k, A_STATUS) & 0xf, ==, 7);
    mk_sync(e->k);
    qtest_memset(e->qts, e->buf, 0, 256);
    g_assert_cmpuint(mk_dma_submit(e->k, &d, NULL), ==, MMN_DMA_ST_DONE);
    hst_assert_words(e, e->buf, 256, DATA_WORD);
    if (e->kp) {
        mk_sync(e->kp);
    }
}

void hst_desc_at(MmnKernel *k, uint64_t at, const MmnDmaDesc *d)
{
    uint8_t b[MMN_DMA_DESC_SIZE] = { 0 };

    b[0] = d->op;
    stw_le_p(b + 2, d->ctx);
    stl_le_p(b + 4, d->len);
    stq_le_p(b + 8, d->va);
    stq_le_p(b + 16, d->buf);
    stl_le_p(b + 24, d->pattern);
    qtest_memwrite(k->qts, at, b, sizeof(b));
    mk_writel(k, A_DMA_DESC_LO, (uint32_t)at);
    mk_writel(k, A_DMA_DESC_HI, at >> 32);
}

void hst_cmd_batch(MmnKernel *k, const MmnCmd *cmds, unsigned n)
{
    uint32_t mask = (1u << k->cmdq_log2) - 1;
    uint8_t b[MMN_CMD_SIZE];

    for (unsigned i = 0; i < n; i++) {
        mk_cmd_encode(&cmds[i], b);
        qtest_memwrite(k->qts, k->cmdq + (k->cmdq_prod & mask) * MMN_CMD_SIZE,
                       b, sizeof(b));
        k->cmdq_prod = (k->cmdq_prod + 1) & mk_qmask(k->cmdq_log2);
    }
    mk_writel(k, A_CMDQ_PROD, k->cmdq_prod);
}

void hst_msi_set(QMmnSmmu *d, uint64_t addr, uint16_t data)
{
    uint8_t cap = qpci_find_capability(&d->dev, PCI_CAP_ID_MSI, 0);
    uint16_t flags;

    g_assert_cmpuint(cap, !=, 0);
    flags = qpci_config_readw(&d->dev, cap + PCI_MSI_FLAGS);
    g_assert_true(flags & PCI_MSI_FLAGS_64BIT);
    qpci_config_writew(&d->dev, cap + PCI_MSI_FLAGS,
                       flags & ~PCI_MSI_FLAGS_ENABLE);
    qpci_config_writel(&d->dev, cap + PCI_MSI_ADDRESS_LO, (uint32_t)addr);
    qpci_config_writel(&d->dev, cap + PCI_MSI_ADDRESS_HI, addr >> 32);
    qpci_config_writew(&d->dev, cap + PCI_MSI_DATA_64, data);
    qpci_config_writew(&d->dev, cap + PCI_MSI_FLAGS,
                       flags | PCI_MSI_FLAGS_ENABLE);
}

void hst_msi_off(QMmnSmmu *d)
{
    uint8_t cap = qpci_find_capability(&d->dev, PCI_CAP_ID_MSI, 0);
    uint16_t flags = qpci_config_readw(&d->dev, cap + PCI_MSI_FLAGS);

    qpci_config_writew(&d->dev, cap + PCI_MSI_FLAGS,
                       flags & ~PCI_MSI_FLAGS_ENABLE);
}
