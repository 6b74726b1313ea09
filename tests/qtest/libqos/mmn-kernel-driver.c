/*
 * mmn-kernel-driver: a driver for mmn-smmu in qtests (command queue, event
 * queue, DMA descriptors, CHECK reports).  See mmn-kernel-driver.h.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "../libqtest.h"
#include "mmn-kernel-driver.h"

uint32_t mk_readl(MmnKernel *k, uint32_t off)
{
    return qmmn_readl(k->dev, off);
}

void mk_writel(MmnKernel *k, uint32_t off, uint32_t val)
{
    qmmn_writel(k->dev, off, val);
}

uint64_t mk_bar_addr(MmnKernel *k)
{
    return k->dev->bar.addr;
}

const MkReg mk_state_regs[MK_NR_STATE_REGS] = {
    { A_CTRL, "CTRL" }, { A_STATUS, "STATUS" },
    { A_IRQ_STATUS, "IRQ_STATUS" }, { A_IRQ_ENABLE, "IRQ_ENABLE" },
    { A_CMDQ_BASE_LO, "CMDQ_BASE_LO" }, { A_CMDQ_BASE_HI, "CMDQ_BASE_HI" },
    { A_CMDQ_PROD, "CMDQ_PROD" }, { A_CMDQ_CONS, "CMDQ_CONS" },
    { A_CMDQ_ERR, "CMDQ_ERR" },
    { A_EVTQ_BASE_LO, "EVTQ_BASE_LO" }, { A_EVTQ_BASE_HI, "EVTQ_BASE_HI" },
    { A_EVTQ_PROD, "EVTQ_PROD" }, { A_EVTQ_CONS, "EVTQ_CONS" },
    { A_EVTQ_LOST, "EVTQ_LOST" },
    { A_DMA_DESC_LO, "DMA_DESC_LO" }, { A_DMA_DESC_HI, "DMA_DESC_HI" },
    { A_DMA_STATUS, "DMA_STATUS" },
    { A_DMA_FAULT_VA_LO, "DMA_FAULT_VA_LO" },
    { A_DMA_FAULT_VA_HI, "DMA_FAULT_VA_HI" },
};

void mk_assert_reset_state(QMmnSmmu *dev)
{
    g_assert_cmphex(qmmn_readl(dev, A_ID), ==, MMN_SMMU_ID_VALUE);
    for (size_t i = 0; i < MK_NR_STATE_REGS; i++) {
        uint32_t v = qmmn_readl(dev, mk_state_regs[i].off);

        if (v) {
            g_test_message("register %s = 0x%x after reset",
                           mk_state_regs[i].name, v);
        }
        g_assert_cmphex(v, ==, 0);
    }
    g_assert_cmphex(qmmn_readl(dev, A_QUEUE_CAPS), ==, 0x0f0f);
}

uint64_t mk_alloc(MmnKernel *k, uint64_t size, uint64_t align)
{
    uint64_t raw, addr;

    g_assert(align && !(align & (align - 1)));
    raw = guest_alloc(k->alloc, size + (align > 4096 ? align : 0));
    g_assert(raw);
    k->allocs = g_slist_prepend(k->allocs, (void *)(uintptr_t)raw);
    addr = ROUND_UP(raw, align);
    qtest_memset(k->qts, addr, 0, size);
    return addr;
}

MmnKernel *mk_new(QMmnSmmu *dev, QGuestAllocator *alloc,
                  unsigned cmdq_log2, unsigned evtq_log2)
{
    MmnKernel *k = g_new0(MmnKernel, 1);
    uint32_t ctrl;

    k->dev = dev;
    k->qts = dev->dev.bus->qts;
    k->alloc = alloc;
    k->cmdq_log2 = cmdq_log2;
    k->evtq_log2 = evtq_log2;
    k->cmdq = mk_alloc(k, MMN_CMD_SIZE << cmdq_log2, 4096);
    k->evtq = mk_alloc(k, MMN_EVT_SIZE << evtq_log2, 4096);
    k->desc = mk_alloc(k, 4096, 4096);
    k->res = k->desc + 0x100;
    k->report = k->desc + 0x200;
    k->zero_page = mk_alloc(k, 4096, 4096);

    mk_writel(k, A_CMDQ_BASE_LO, (uint32_t)k->cmdq | cmdq_log2);
    mk_writel(k, A_CMDQ_BASE_HI, k->cmdq >> 32);
    mk_writel(k, A_EVTQ_BASE_LO, (uint32_t)k->evtq | evtq_log2);
    mk_writel(k, A_EVTQ_BASE_HI, k->evtq >> 32);
    k->cmdq_prod = mk_readl(k, A_CMDQ_PROD);
    k->evtq_cons = mk_readl(k, A_EVTQ_CONS);
    ctrl = R_CTRL_CMDQ_EN_MASK | R_CTRL_EVTQ_EN_MASK | R_CTRL_DMA_EN_MASK;
    mk_writel(k, A_CTRL, ctrl);
    g_assert_cmphex(mk_readl(k, A_STATUS) & 7, ==, ctrl);
    return k;
}

void mk_free(MmnKernel *k)
{
    for (GSList *l = k->allocs; l; l = l->next) {
        guest_free(k->alloc, (uintptr_t)l->data);
    }
    g_slist_free(k->allocs);
    g_free(k);
}

void mk_attach(MmnKernel *k, QMmnSmmu *dev)
{
    k->dev = dev;
    k->qts = dev->dev.bus->qts;
    g_assert_cmphex(mk_readl(k, A_CMDQ_BASE_LO), ==,
                    (uint32_t)k->cmdq | k->cmdq_log2);
    g_assert_cmphex(mk_readl(k, A_CMDQ_BASE_HI), ==, k->cmdq >> 32);
    g_assert_cmphex(mk_readl(k, A_CMDQ_PROD), ==, k->cmdq_prod);
    g_assert_cmphex(mk_readl(k, A_EVTQ_BASE_LO), ==,
                    (uint32_t)k->evtq | k->evtq_log2);
    g_assert_cmphex(mk_readl(k, A_EVTQ_BASE_HI), ==, k->evtq >> 32);
    g_assert_cmphex(mk_readl(k, A_EVTQ_CONS), ==, k->evtq_cons);
}

MmnCmd mk_cmd_init(uint8_t opcode, uint16_t ctx)
{
    MmnCmd c = { .opcode = opcode, .ctx = ctx };
    return c;
}

void mk_cmd_encode(const MmnCmd *c, uint8_t *b)
{
    memset(b, 0, MMN_CMD_SIZE);
    b[0] = c->opcode;
    b[1] = c->flags;
    stw_le_p(b + 2, c->ctx);
    stl_le_p(b + 4, c->arg);
    stq_le_p(b + 8, c->a0);
    stq_le_p(b + 16, c->a1);
    stq_le_p(b + 24, c->a2);
    stq_le_p(b + 32, c->a3);
    for (int i = 0; i < 3; i++) {
        stq_le_p(b + 40 + 8 * i, c->reserved[i]);
    }
}

uint32_t mk_qmask(unsigned log2)
{
    return (2u << log2) - 1;        /* index + wrap bit */
}

void mk_cmd_post(MmnKernel *k, const MmnCmd *c)
{
    uint8_t b[MMN_CMD_SIZE];
    uint32_t slot = k->cmdq_prod & ((1u << k->cmdq_log2) - 1);

    mk_cmd_encode(c, b);
    qtest_memwrite(k->qts, k->cmdq + slot * MMN_CMD_SIZE, b, sizeof(b));
    k->cmdq_prod = (k->cmdq_prod + 1) & mk_qmask(k->cmdq_log2);
    mk_writel(k, A_CMDQ_PROD, k->cmdq_prod);
}

uint32_t mk_cmd_try(MmnKernel *k, const MmnCmd *c)
{
    uint32_t cons, err;

    mk_cmd_post(k, c);
    cons = mk_readl(k, A_CMDQ_CONS);
    err = mk_readl(k, A_CMDQ_ERR);
    if (FIELD_EX32(err, CMDQ_ERR, VALID)) {
        return FIELD_EX32(err, CMDQ_ERR, REASON);
    }
    g_assert_cmphex(cons, ==, k->cmdq_prod);
    k->nr_cmds++;
    return 0;
}

void mk_cmd(MmnKernel *k, const MmnCmd *c)
{
    uint32_t reason = mk_cmd_try(k, c);

    if (reason) {
        g_test_message("command 0x%02x ctx %u arg 0x%x a0 0x%" PRIx64
                       " a1 0x%" PRIx64 " failed: reason %u", c->opcode,
                       c->ctx, c->arg, c->a0, c->a1, reason);
    }
    g_assert_cmpuint(reason, ==, 0);
}

void mk_cmdq_set_base(MmnKernel *k, uint64_t base, uint64_t drv_base)
{
    uint32_t ctrl = mk_readl(k, A_CTRL);

    mk_writel(k, A_CTRL, ctrl & ~R_CTRL_CMDQ_EN_MASK);
    g_assert_false(mk_readl(k, A_STATUS) & R_STATUS_CMDQ_EN_MASK);
    mk_writel(k, A_CMDQ_BASE_LO, (uint32_t)base | k->cmdq_log2);
    mk_writel(k, A_CMDQ_BASE_HI, base >> 32);
    /* spec: disabling and writing the base keep PROD/CONS */
    g_assert_cmphex(mk_readl(k, A_CMDQ_PROD), ==, k->cmdq_prod);
    g_assert_cmphex(mk_readl(k, A_CMDQ_CONS), ==, k->cmdq_prod);
    k->cmdq = drv_base;
    mk_writel(k, A_CTRL, ctrl);
    g_assert_true(mk_readl(k, A_STATUS) & R_STATUS_CMDQ_EN_MASK);
}

void mk_evtq_set_base(MmnKernel *k, uint64_t base)
{
    uint32_t ctrl = mk_readl(k, A_CTRL);

    mk_writel(k, A_CTRL, ctrl & ~R_CTRL_EVTQ_EN_MASK);
    mk_writel(k, A_EVTQ_BASE_LO, (uint32_t)base | k->evtq_log2);
    mk_writel(k, A_EVTQ_BASE_HI, base >> 32);
    g_assert_cmphex(mk_readl(k, A_EVTQ_CONS), ==, k->evtq_cons);
    k->evtq = base;
    mk_writel(k, A_CTRL, ctrl);
}

void mk_cmdq_ack(MmnKernel *k)
{
    mk_writel(k, A_CMDQ_ERR_ACK, 1);
    g_assert_false(FIELD_EX32(mk_readl(k, A_CMDQ_ERR), CMDQ_ERR, VALID));
    g_assert_false(mk_readl(k, A_STATUS) & R_STATUS_CMDQ_STOPPED_MASK);
    g_assert_cmphex(mk_readl(k, A_CMDQ_CONS), ==, k->cmdq_prod);
    mk_writel(k, A_IRQ_STATUS, R_IRQ_STATUS_CMDQ_ERR_MASK);
}

void mk_cmd_expect_err(MmnKernel *k, const MmnCmd *c, uint32_t reason)
{
    uint32_t idx = k->cmdq_prod & ((1u << k->cmdq_log2) - 1);
    uint32_t got = mk_cmd_try(k, c);
    uint32_t err = mk_readl(k, A_CMDQ_ERR);
    uint32_t cons = mk_readl(k, A_CMDQ_CONS);

    if (got != reason) {
        g_test_message("command 0x%02x flags 0x%x ctx %u arg 0x%x a0 0x%"
                       PRIx64 " a1 0x%" PRIx64 " a2 0x%" PRIx64 " a3 0x%"
                       PRIx64 ": reason %u, expected %u", c->opcode,
                       c->flags, c->ctx, c->arg, c->a0, c->a1, c->a2, c->a3,
                       got, reason);
    }
    g_assert_cmpuint(got, ==, reason);
    g_assert_cmpuint(FIELD_EX32(err, CMDQ_ERR, INDEX) &
                     ((1u << k->cmdq_log2) - 1), ==, idx);
    g_assert_cmphex(cons & ((1u << k->cmdq_log2) - 1), ==, idx);
    g_assert_true(mk_readl(k, A_STATUS) & R_STATUS_CMDQ_STOPPED_MASK);
    g_assert_true(mk_readl(k, A_IRQ_STATUS) & R_IRQ_STATUS_CMDQ_ERR_MASK);
    mk_cmdq_ack(k);
    mk_sync(k);
}

void mk_sync(MmnKernel *k)
{
    static uint32_t cookie = 0x5eed0000;
    MmnCmd c = mk_cmd_init(MMN_CMD_SYNC, 0);

    c.flags = MMN_CMD_SYNC_F_WRITE;
    c.arg = ++cookie;
    c.a0 = k->res;
    qtest_writel(k->qts, k->res, 0);
    mk_cmd(k, &c);
    g_assert_cmphex(qtest_readl(k->qts, k->res), ==, cookie);
}

void mk_bind(MmnKernel *k, uint16_t ctx, uint64_t ttb, uint64_t cfg)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_CTX_BIND, ctx);

    c.a0 = ttb;
    c.a1 = cfg;
    mk_cmd(k, &c);
}

void mk_unbind(MmnKernel *k, uint16_t ctx)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_CTX_UNBIND, ctx);

    mk_cmd(k, &c);
}

uint32_t mk_cmd_res(MmnKernel *k, MmnCmd *c)
{
    c->a3 = k->res;
    qtest_writel(k->qts, k->res, 0xdeadbeef);
    mk_cmd(k, c);
    return qtest_readl(k->qts, k->res);
}

unsigned mk_evt_pending(MmnKernel *k)
{
    uint32_t prod = mk_readl(k, A_EVTQ_PROD);
    uint32_t n = 1u << k->evtq_log2;

    g_assert_cmpuint((prod - k->evtq_cons) & mk_qmask(k->evtq_log2), <=, n);
    return (prod - k->evtq_cons) & mk_qmask(k->evtq_log2);
}

bool mk_evt_pop(MmnKernel *k, MmnEvt *e)
{
    uint8_t b[MMN_EVT_SIZE];
    uint32_t prod = mk_readl(k, A_EVTQ_PROD);
    uint32_t slot = k->evtq_cons & ((1u << k->evtq_log2) - 1);

    if (prod == k->evtq_cons) {
        return false;
    }
    qtest_memread(k->qts, k->evtq + slot * MMN_EVT_SIZE, b, sizeof(b));
    e->type = b[0];
    e->kind = b[1];
    e->level = b[2];
    e->flags = b[3];
    e->ctx = lduw_le_p(b + 4);
    e->reserved0 = lduw_le_p(b + 6);
    e->va = ldq_le_p(b + 8);
    e->desc = ldq_le_p(b + 16);
    e->count = ldl_le_p(b + 24);
    e->reserved1 = ldl_le_p(b + 28);
    k->evtq_cons = (k->evtq_cons + 1) & mk_qmask(k->evtq_log2);
    mk_writel(k, A_EVTQ_CONS, k->evtq_cons);
    return true;
}

unsigned mk_evt_drain(MmnKernel *k)
{
    MmnEvt e;
    unsigned n = 0;

    while (mk_evt_pop(k, &e)) {
        n++;
    }
    return n;
}

MmnDmaDesc mk_dma_desc(uint8_t op, uint16_t ctx, uint64_t va, uint32_t len,
                       uint64_t buf, uint32_t pattern)
{
    MmnDmaDesc d = {
        .op = op, .ctx = ctx, .len = len, .va = va, .buf = buf,
        .pattern = pattern,
    };
    return d;
}

static void mk_desc_encode(const MmnDmaDesc *d, uint8_t *b)
{
    memset(b, 0, MMN_DMA_DESC_SIZE);
    b[0] = d->op;
    b[1] = d->reserved0;
    stw_le_p(b + 2, d->ctx);
    stl_le_p(b + 4, d->len);
    stq_le_p(b + 8, d->va);
    stq_le_p(b + 16, d->buf);
    stl_le_p(b + 24, d->pattern);
    stl_le_p(b + 28, d->reserved1);
}

void mk_dma_read_desc(MmnKernel *k, MmnDmaDesc *out)
{
    uint8_t b[MMN_DMA_DESC_SIZE];

    qtest_memread(k->qts, k->desc, b, sizeof(b));
    memset(out, 0, sizeof(*out));
    out->op = b[0];
    out->ctx = lduw_le_p(b + 2);
    out->len = ldl_le_p(b + 4);
    out->va = ldq_le_p(b + 8);
    out->buf = ldq_le_p(b + 16);
    out->pattern = ldl_le_p(b + 24);
    out->status = ldl_le_p(b + 32);
    out->done = ldl_le_p(b + 36);
    out->fault_va = ldq_le_p(b + 40);
    out->faults = ldl_le_p(b + 48);
}

uint32_t mk_dma_submit(MmnKernel *k, const MmnDmaDesc *d, MmnDmaDesc *out)
{
    uint8_t b[MMN_DMA_DESC_SIZE];

    mk_desc_encode(d, b);
    qtest_memwrite(k->qts, k->desc, b, sizeof(b));
    mk_writel(k, A_DMA_DESC_LO, (uint32_t)k->desc);
    mk_writel(k, A_DMA_DESC_HI, k->desc >> 32);
    mk_writel(k, A_DMA_DOORBELL, 1);
    if (out) {
        mk_dma_read_desc(k, out);
    }
    return mk_readl(k, A_DMA_STATUS);
}

void mk_check(MmnKernel *k, uint16_t ctx, MmnCheckReport *r)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_CHECK, ctx);
    uint8_t b[MMN_CHECK_REPORT_SIZE];

    memset(b, 0xa5, sizeof(b));
    qtest_memwrite(k->qts, k->report, b, sizeof(b));
    c.a0 = k->report;
    mk_cmd(k, &c);
    qtest_memread(k->qts, k->report, b, sizeof(b));
    memset(r, 0, sizeof(*r));
    r->entries = ldl_le_p(b + 0);
    r->stale = ldl_le_p(b + 4);
    r->stale_readonly = ldl_le_p(b + 8);
    r->stale_writable = ldl_le_p(b + 12);
    r->stale_present = ldl_le_p(b + 16);
    r->stale_oa = ldl_le_p(b + 20);
    r->nr_samples = ldl_le_p(b + 24);
    g_assert_cmpuint(r->nr_samples, <=, MMN_CHECK_MAX_SAMPLES);
    for (unsigned i = 0; i < r->nr_samples; i++) {
        r->samples[i].va = ldq_le_p(b + 32 + 16 * i);
        r->samples[i].ctx = lduw_le_p(b + 40 + 16 * i);
        r->samples[i].kind = b[42 + 16 * i];
    }
    g_assert_cmpuint(r->stale, ==, r->stale_readonly + r->stale_writable +
                     r->stale_present + r->stale_oa);
}

char *mk_check_str(const MmnCheckReport *r)
{
    return g_strdup_printf("entries %u stale %u (readonly %u writable %u "
                           "present %u oa %u)", r->entries, r->stale,
                           r->stale_readonly, r->stale_writable,
                           r->stale_present, r->stale_oa);
}

const char *mk_dma_state_name(uint32_t state)
{
    static const char *const names[] = {
        "IDLE", "DONE", "STALLED", "FAULT", "LIVELOCK", "ABORTED",
        "BAD_DESC", "RELEASED", "BLOCKED",
    };
    return state < ARRAY_SIZE(names) ? names[state] : "?";
}
