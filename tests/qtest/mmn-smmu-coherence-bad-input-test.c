/*
 * qtest coherence suite for mmn-smmu, bad inputs: malformed commands,
 * descriptors, results and queues outside RAM, overflow and misuse get
 * the defined error and leave the device working.
 *
 * Test names: coherence/bad-input/<case>.  The scenarios are
 * mmn-smmu-coherence-test.c.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-smmu-coherence.h"

/* ---------------------------------------------------------------- */
/* bad inputs (no mm unless needed)                                   */

static void bi_unknown_opcode(Env *e)
{
    static const uint8_t ops[] = { 0x00, 0x04, 0x14, 0x29, 0x32, 0x41, 0xff };

    for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
        MmnCmd c = mk_cmd_init(ops[i], 0);

        mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_OPCODE);
    }
}

static void bi_reserved(Env *e)
{
    MmnCmd c;

    c = mk_cmd_init(MMN_CMD_SYNC, 0);
    c.reserved[2] = 1;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    c = mk_cmd_init(MMN_CMD_SYNC, 0);
    c.flags = 0x80;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    c = mk_cmd_init(MMN_CMD_TLBI_ALL, 0);
    c.a0 = 0x1000;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    c = mk_cmd_init(MMN_CMD_TLBI_ALL, 3);       /* ctx unused */
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    c = mk_cmd_init(MMN_CMD_CTX_BIND, 2);
    c.a0 = mk_alloc(e->k, 4096, 4096);
    c.a1 = MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48) | (1ULL << 25);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    c = mk_cmd_init(MMN_CMD_CTX_BIND, 2);
    c.a0 = mk_alloc(e->k, 4096, 4096);
    c.a1 = MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48);
    c.a3 = 1;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    /* a2 of CTX_BIND is the owner cookie: any value is accepted */
    c = mk_cmd_init(MMN_CMD_CTX_BIND, 2);
    c.a0 = mk_alloc(e->k, 4096, 4096);
    c.a1 = MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48);
    c.a2 = 0x1234;
    mk_cmd(e->k, &c);
    mk_unbind(e->k, 2);
    c = mk_cmd_init(MMN_CMD_DMA_RESUME, 0);
    c.arg = 1;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    /* nothing bound by the rejected commands */
    c = mk_cmd_init(MMN_CMD_CTX_UNBIND, 2);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_CTX);
}

static void bi_reserved_mn(Env *e)
{
    MmnCmd c;

    c = mk_cmd_init(MMN_CMD_MN_RANGE_START, coh_ctx_of(e));
    c.arg = MK_EV_UNMAP | MMN_CMD_RANGE_BLOCKABLE | (1u << 12);
    c.a0 = VA39;
    c.a1 = VA39 + MK_PAGE_SIZE;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    c = mk_cmd_init(MMN_CMD_MN_TEST_CLEAR_YOUNG, coh_ctx_of(e));
    c.arg = 2;
    c.a0 = VA39;
    c.a1 = VA39 + MK_PAGE_SIZE;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    c = mk_cmd_init(MMN_CMD_MN_SECONDARY_TLBS, coh_ctx_of(e));
    c.a0 = VA39;
    c.a1 = VA39 + MK_PAGE_SIZE;
    c.a2 = 1;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    /* the rejected start opened nothing: an END is MISUSE */
    c = mk_cmd_init(MMN_CMD_MN_RANGE_END, coh_ctx_of(e));
    c.arg = MK_EV_UNMAP | MMN_CMD_RANGE_BLOCKABLE;
    c.a0 = VA39;
    c.a1 = VA39 + MK_PAGE_SIZE;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_MISUSE);
}

static void bi_bad_ctx(Env *e)
{
    uint32_t n = mk_readl(e->k, A_NUM_CTX);
    uint64_t ttb = mk_alloc(e->k, 4096, 4096);
    MmnCmd c;

    c = mk_cmd_init(MMN_CMD_TLBI_CTX, n);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_CTX);
    c = mk_cmd_init(MMN_CMD_TLBI_CTX, 0xfffe);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_CTX);
    c = mk_cmd_init(MMN_CMD_TLBI_CTX, 3);       /* not bound */
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_CTX);
    c = mk_cmd_init(MMN_CMD_CTX_UNBIND, 3);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_CTX);
    c = mk_cmd_init(MMN_CMD_CTX_BIND, n);
    c.a0 = ttb;
    c.a1 = MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_CTX);
    c = mk_cmd_init(MMN_CMD_CHECK, n);
    c.a0 = e->k->report;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_CTX);
    mk_bind(e->k, 3, ttb, MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48));
    c = mk_cmd_init(MMN_CMD_CTX_BIND, 3);       /* already bound */
    c.a0 = ttb;
    c.a1 = MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_CTX);
    c = mk_cmd_init(MMN_CMD_TLBI_CTX, 3);
    mk_cmd(e->k, &c);
    mk_unbind(e->k, 3);
    /* DMA on an unbound context */
    {
        MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, 3, VA39, 64, e->buf, 0);
        uint32_t st = mk_dma_submit(e->k, &d, &d);

        g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BAD_DESC);
        g_assert_cmphex(d.status, ==, st);
    }
}

static void bi_bad_config(Env *e)
{
    uint64_t ttb = mk_alloc(e->k, 4096, 4096);
    static const struct {
        uint64_t cfg;
        uint32_t reason;
    } cases[] = {
        { MMN_CTX_CFG_VA_BITS(24) | MMN_CTX_CFG_OA_BITS(48),
          MMN_CMDQ_ERR_BAD_CONFIG },
        { MMN_CTX_CFG_VA_BITS(49) | MMN_CTX_CFG_OA_BITS(48),
          MMN_CMDQ_ERR_BAD_CONFIG },
        { MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(31),
          MMN_CMDQ_ERR_BAD_CONFIG },
        { MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(52),
          MMN_CMDQ_ERR_BAD_CONFIG },
        { MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48) |
          MMN_CTX_CFG_HTTU(3), MMN_CMDQ_ERR_BAD_CONFIG },
    };
    MmnCmd c;

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        c = mk_cmd_init(MMN_CMD_CTX_BIND, 2);
        c.a0 = ttb;
        c.a1 = cases[i].cfg;
        mk_cmd_expect_err(e->k, &c, cases[i].reason);
    }
    c = mk_cmd_init(MMN_CMD_CTX_BIND, 2);
    c.a0 = ttb + 0x800;                         /* misaligned TTB */
    c.a1 = MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    /* none of them bound ctx 2 */
    mk_bind(e->k, 2, ttb, MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48));
    mk_unbind(e->k, 2);
}

static void bi_bad_range(Env *e)
{
    MmnCmd c;

    c = mk_cmd_init(MMN_CMD_TLBI_RANGE, coh_ctx_of(e));
    c.a0 = VA39 + MK_PAGE_SIZE;
    c.a1 = VA39;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_RANGE);
    c.a1 = c.a0;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_RANGE);
    /* TLB invalidations take any alignment (spec): accepted */
    c.a0 = VA39 + 0x10;
    c.a1 = VA39 + MK_PAGE_SIZE;
    mk_cmd(e->k, &c);
    /* flush_tlb_mm()'s (0, -1UL), forwarded literally: accepted */
    c = mk_cmd_init(MMN_CMD_MN_SECONDARY_TLBS, coh_ctx_of(e));
    c.a0 = 0;
    c.a1 = UINT64_MAX;
    mk_cmd(e->k, &c);
    c.a1 = 0;                                   /* end <= start */
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_RANGE);
    /* a bitmap of more than 65536 pages */
    c = mk_cmd_init(MMN_CMD_MN_TEST_CLEAR_YOUNG, coh_ctx_of(e));
    c.a0 = VA39;
    c.a1 = VA39 + 65537 * MK_PAGE_SIZE;
    c.a2 = mk_alloc(e->k, 65537 / 8 + 8, 4096);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_RANGE);
    c.a1 = VA39 + 65536 * MK_PAGE_SIZE;         /* the maximum is fine */
    mk_cmd_res(e->k, &c);
    /* NOT_STALLED and MISUSE */
    c = mk_cmd_init(MMN_CMD_DMA_RESUME, 0);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_NOT_STALLED);
    c = mk_cmd_init(MMN_CMD_DMA_ABORT, 0);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_NOT_STALLED);
    c = mk_cmd_init(MMN_CMD_MN_RANGE_END, coh_ctx_of(e));
    c.arg = MK_EV_CLEAR | MMN_CMD_RANGE_BLOCKABLE;
    c.a0 = VA39;
    c.a1 = VA39 + MK_PAGE_SIZE;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_MISUSE);
}

static void bi_result_mmio(Env *e)
{
    uint64_t bar = mk_bar_addr(e->k);
    uint32_t ctrl = mk_readl(e->k, A_CTRL);
    MmnCmd c;

    /* a result word aimed at the device's own BAR (CTRL) */
    c = mk_cmd_init(MMN_CMD_MN_TEST_YOUNG, coh_ctx_of(e));
    c.a0 = VA39;
    c.a3 = bar + A_CTRL;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    /* SYNC's store of 0 into CTRL would disable everything */
    c = mk_cmd_init(MMN_CMD_SYNC, 0);
    c.flags = MMN_CMD_SYNC_F_WRITE;
    c.arg = 0;
    c.a0 = bar + A_CTRL;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    c = mk_cmd_init(MMN_CMD_CHECK, coh_ctx_of(e));
    c.a0 = bar;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    c = mk_cmd_init(MMN_CMD_MN_TEST_CLEAR_YOUNG, coh_ctx_of(e));
    c.a0 = VA39;
    c.a1 = VA39 + MK_PAGE_SIZE;
    c.a2 = bar + A_CTRL;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    g_assert_cmphex(mk_readl(e->k, A_CTRL), ==, ctrl);
    g_assert_cmphex(mk_readl(e->k, A_STATUS) & 7, ==, ctrl);
    /* misaligned */
    c = mk_cmd_init(MMN_CMD_MN_TEST_YOUNG, coh_ctx_of(e));
    c.a0 = VA39;
    c.a3 = e->k->res + 2;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    c = mk_cmd_init(MMN_CMD_CHECK, coh_ctx_of(e));
    c.a0 = e->k->report + 4;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
}

static void bi_result_beyond_ram(Env *e)
{
    MmnCmd c;

    c = mk_cmd_init(MMN_CMD_MN_TEST_YOUNG, coh_ctx_of(e));
    c.a0 = VA39;
    c.a3 = RAM_END;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    c.a3 = 0xfffffffffffffff0ULL;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    /* a report straddling the end of RAM */
    c = mk_cmd_init(MMN_CMD_CHECK, MMN_CMD_CTX_ALL);
    c.a0 = RAM_END - 128;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    c = mk_cmd_init(MMN_CMD_SYNC, 0);
    c.flags = MMN_CMD_SYNC_F_WRITE;
    c.arg = 1;
    c.a0 = RAM_END;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    /* the last word of RAM is fine */
    c.a0 = RAM_END - 4;
    mk_cmd(e->k, &c);
    g_assert_cmphex(qtest_readl(e->k->qts, RAM_END - 4), ==, 1);
}

static void bi_dma_mmio(Env *e)
{
    uint64_t bar = mk_bar_addr(e->k);
    uint64_t va = VA39 + 0x10000;
    uint32_t ctrl = mk_readl(e->k, A_CTRL);
    MmnDmaDesc d;
    uint32_t st;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    /* READ whose destination is the device's BAR */
    d = mk_dma_desc(MMN_DMA_OP_READ, coh_ctx_of(e), va, 64, bar, 0);
    st = mk_dma_submit(e->k, &d, &d);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BAD_DESC);
    g_assert_cmpuint(d.done, ==, 0);
    g_assert_cmphex(mk_readl(e->k, A_CTRL), ==, ctrl);
    /* WRITE whose source is beyond RAM */
    d = mk_dma_desc(MMN_DMA_OP_WRITE, coh_ctx_of(e), va, 64, RAM_END, 0);
    st = mk_dma_submit(e->k, &d, &d);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BAD_DESC);
    /* a buffer straddling the end of RAM */
    d = mk_dma_desc(MMN_DMA_OP_READ, coh_ctx_of(e), va, 256, RAM_END - 128, 0);
    st = mk_dma_submit(e->k, &d, &d);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BAD_DESC);
    coh_assert_cpu_sees(e, va, MK_PAGE_SIZE, mk_fill_pattern(va));
    /* the descriptor itself in MMIO */
    mk_writel(e->k, A_DMA_DESC_LO, (uint32_t)bar);
    mk_writel(e->k, A_DMA_DESC_HI, bar >> 32);
    mk_writel(e->k, A_DMA_DOORBELL, 1);
    st = mk_readl(e->k, A_DMA_STATUS);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BAD_DESC);
    g_assert_cmphex(mk_readl(e->k, A_CTRL), ==, ctrl);
    /* a bad op, a non-zero reserved field */
    d = mk_dma_desc(4, coh_ctx_of(e), va, 64, e->buf, 0);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_dma_submit(e->k, &d, NULL)),
                     ==, MMN_DMA_ST_BAD_DESC);
    d = mk_dma_desc(0, coh_ctx_of(e), va, 64, e->buf, 0);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_dma_submit(e->k, &d, NULL)),
                     ==, MMN_DMA_ST_BAD_DESC);
    /* still works */
    coh_dev_read_ok(e, va, MK_PAGE_SIZE);
    coh_assert_words(e, e->buf, MK_PAGE_SIZE, mk_fill_pattern(va));
}

static void bi_dma_len(Env *e)
{
    uint64_t va = VA39 + 0x20000;
    static const uint32_t lens[] = { 0, MMN_DMA_MAX_LEN + 1, 0x80000000u,
                                     0xffffffffu };
    MmnDmaDesc d;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
        uint32_t st;

        d = mk_dma_desc(MMN_DMA_OP_FILL, coh_ctx_of(e), va, lens[i], 0, 0);
        st = mk_dma_submit(e->k, &d, &d);
        g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BAD_DESC);
        g_assert_cmpuint(d.done, ==, 0);
    }
    coh_assert_cpu_sees(e, va, MK_PAGE_SIZE, mk_fill_pattern(va));
    /* a VA range that wraps around the top of the address space */
    d = mk_dma_desc(MMN_DMA_OP_READ, coh_ctx_of(e), UINT64_MAX - 0xfff, 0x2000,
                    e->buf, 0);
    {
        MkFaultLoop r;

        mk_dma_fault_loop(e->mm, &d, MAX_ITER, &r);
        g_assert_cmpuint(r.state, !=, MMN_DMA_ST_DONE);
        g_assert_cmpuint(r.desc.done, ==, 0);
    }
    coh_dev_read_ok(e, va, 64);
}

static void bi_queue_outside_ram(Env *e)
{
    MmnKernel *k = e->k;
    uint32_t ctrl = mk_readl(k, A_CTRL);
    uint64_t good = k->cmdq;
    uint64_t scratch = mk_alloc(k, MMN_CMD_SIZE << k->cmdq_log2, 4096);
    MmnCmd c = mk_cmd_init(MMN_CMD_SYNC, 0);
    uint32_t lost;

    /* CMDQ beyond RAM: the command cannot be read */
    mk_cmdq_set_base(k, RAM_END, scratch);
    g_assert_cmpuint(mk_cmd_try(k, &c), ==, MMN_CMDQ_ERR_BAD_ADDR);
    g_assert_true(mk_readl(k, A_STATUS) & R_STATUS_CMDQ_STOPPED_MASK);
    mk_cmdq_ack(k);
    /* CMDQ at the device's own BAR */
    mk_cmdq_set_base(k, mk_bar_addr(k), scratch);
    g_assert_cmpuint(mk_cmd_try(k, &c), ==, MMN_CMDQ_ERR_BAD_ADDR);
    mk_cmdq_ack(k);
    g_assert_cmphex(mk_readl(k, A_CTRL), ==, ctrl);
    /* base registers are ignored while enabled */
    mk_writel(k, A_CMDQ_BASE_LO, (uint32_t)good | k->cmdq_log2);
    g_assert_cmphex(mk_readl(k, A_CMDQ_BASE_LO), ==,
                    (uint32_t)mk_bar_addr(k) | k->cmdq_log2);
    /* back to RAM */
    mk_cmdq_set_base(k, good, good);
    mk_sync(k);

    /* EVTQ beyond RAM: events are dropped and counted */
    lost = mk_readl(k, A_EVTQ_LOST);
    mk_evtq_set_base(k, RAM_END);
    {
        MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, coh_ctx_of(e), VA39, 64,
                                   e->buf, 0);
        uint32_t st = mk_dma_submit(k, &d, NULL);

        g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_FAULT);
    }
    g_assert_cmpuint(mk_readl(k, A_EVTQ_LOST), ==, lost + 1);
    g_assert_true(mk_readl(k, A_IRQ_STATUS) &
                  R_IRQ_STATUS_EVTQ_OVERFLOW_MASK);
    /* the EVTQ at the BAR: same */
    mk_evtq_set_base(k, mk_bar_addr(k));
    {
        MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, coh_ctx_of(e), VA39, 64,
                                   e->buf, 0);

        mk_dma_submit(k, &d, NULL);
    }
    g_assert_cmpuint(mk_readl(k, A_EVTQ_LOST), ==, lost + 2);
    g_assert_cmphex(mk_readl(k, A_CTRL), ==, ctrl);
    mk_sync(k);
}

static void bi_evtq_overflow(Env *e)
{
    MmnKernel *k = e->k;
    MmnEvt ev;
    unsigned n = 7;

    /* e->k was created with a 2-entry event queue (see the scenario) */
    for (unsigned i = 0; i < n; i++) {
        MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, coh_ctx_of(e),
                                   VA39 + i * MK_PAGE_SIZE, 64, e->buf, 0);
        uint32_t st = mk_dma_submit(k, &d, NULL);

        g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_FAULT);
        g_assert_cmpuint(MMN_DMA_STATUS_KIND(st), ==, 1 /* TRANSLATION */);
    }
    g_assert_cmpuint(mk_evt_pending(k), ==, 2);
    g_assert_cmpuint(mk_readl(k, A_EVTQ_LOST), ==, n - 2);
    g_assert_true(mk_readl(k, A_IRQ_STATUS) &
                  R_IRQ_STATUS_EVTQ_OVERFLOW_MASK);
    g_assert_true(mk_evt_pop(k, &ev));
    g_assert_cmpuint(ev.type, ==, MMN_EVT_FAULT);
    g_assert_cmphex(ev.va, ==, VA39);
    /*
     * "desc: descriptor address involved": the device reports the
     * page-table descriptor at which the walk faulted (the walker's
     * desc_pa), not the DMA descriptor: the L1 entry here.
     */
    g_assert_cmpuint(ev.level, ==, 1);
    g_assert_cmphex(ev.desc, ==, mk_pte_slot(e->mm, VA39, 1, false));
    g_assert_true(mk_evt_pop(k, &ev));
    g_assert_cmphex(ev.va, ==, VA39 + MK_PAGE_SIZE);
    g_assert_false(mk_evt_pop(k, &ev));
    mk_writel(k, A_IRQ_STATUS, R_IRQ_STATUS_EVTQ_OVERFLOW_MASK |
              R_IRQ_STATUS_EVTQ_MASK);
    g_assert_false(mk_readl(k, A_IRQ_STATUS) &
                   R_IRQ_STATUS_EVTQ_OVERFLOW_MASK);
    /* room again: recorded, and the ring wraps correctly */
    for (unsigned i = 0; i < 5; i++) {
        MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, coh_ctx_of(e),
                                   VA39 + 0x100000, 64, e->buf, 0);

        mk_dma_submit(k, &d, NULL);
        g_assert_true(mk_evt_pop(k, &ev));
        g_assert_cmphex(ev.va, ==, VA39 + 0x100000);
    }
    g_assert_cmpuint(mk_readl(k, A_EVTQ_LOST), ==, n - 2);
    mk_sync(k);
}

/* an L0/L1 entry pointing at its own table: bounded walk, defined fault */
static void bi_recursive_table(Env *e)
{
    uint64_t ttb = mk_mm_ttb(e->mm);
    unsigned self = 5;
    /* 39-bit: L1 index = self, L2 = self, L3 = self */
    uint64_t va = ((uint64_t)self << 30) | ((uint64_t)self << 21) |
                  ((uint64_t)self << 12);
    MmnDmaDesc d;
    uint32_t st;
    MmnEvt ev;

    qtest_writeq(e->k->qts, ttb + self * 8,
                 ttb | MK_PTE_VALID | MK_PTE_TABLE);
    d = mk_dma_desc(MMN_DMA_OP_WRITE, coh_ctx_of(e), va, 64, e->buf, 0);
    coh_fill_buf(e, 64, 0xbad0bad0);
    st = mk_dma_submit(e->k, &d, &d);
    g_test_message("recursive table: %s kind %u level %u",
                   mk_dma_state_name(MMN_DMA_STATUS_STATE(st)),
                   MMN_DMA_STATUS_KIND(st), MMN_DMA_STATUS_LEVEL(st));
    /*
     * The self entry read as an L3 page has AF == 0 and no AP[1]: an
     * access-flag (or permission) fault at level 3; the table page must
     * not be written.
     */
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_FAULT);
    g_assert_cmpuint(MMN_DMA_STATUS_LEVEL(st), <=, 3);
    g_assert_cmphex(qtest_readq(e->k->qts, ttb + self * 8), ==,
                    ttb | MK_PTE_VALID | MK_PTE_TABLE);
    g_assert_true(mk_evt_pop(e->k, &ev));
    g_assert_cmpuint(ev.type, ==, MMN_EVT_FAULT);
    qtest_writeq(e->k->qts, ttb + self * 8, 0);
    coh_check_coherent(e);
    {
        uint64_t va2 = VA39 + 0x30000;

        mk_mmap_populate(e->mm, va2, MK_PAGE_SIZE, MK_PROT_READ,
                         MK_MAP_PRIVATE);
        coh_dev_read_ok(e, va2, 64);
        coh_assert_words(e, e->buf, 64, mk_fill_pattern(va2));
    }
}

static void bi_msi_not_configured(Env *e)
{
    MmnKernel *k = e->k;
    MmnCmd c;
    uint16_t msi_ctrl = 0;
    uint8_t cap;

    /* MSI stays disabled (if the capability exists at all) */
    cap = qpci_find_capability(&e->s->dev, PCI_CAP_ID_MSI, 0);
    if (cap) {
        msi_ctrl = qpci_config_readw(&e->s->dev, cap + PCI_MSI_FLAGS);
        g_assert_false(msi_ctrl & PCI_MSI_FLAGS_ENABLE);
    }
    mk_writel(k, A_IRQ_ENABLE, 0x1f);
    g_assert_cmphex(mk_readl(k, A_IRQ_ENABLE), ==, 0x1f);
    c = mk_cmd_init(MMN_CMD_SYNC, 0);
    c.flags = MMN_CMD_SYNC_F_IRQ;
    mk_cmd(k, &c);
    g_assert_true(mk_readl(k, A_IRQ_STATUS) & R_IRQ_STATUS_SYNC_MASK);
    mk_writel(k, A_IRQ_STATUS, R_IRQ_STATUS_SYNC_MASK);   /* RW1C */
    g_assert_false(mk_readl(k, A_IRQ_STATUS) & R_IRQ_STATUS_SYNC_MASK);
    mk_mmap_populate(e->mm, VA39, MK_PAGE_SIZE, MK_PROT_READ, MK_MAP_PRIVATE);
    coh_dev_read_ok(e, VA39, 64);
    g_assert_true(mk_readl(k, A_IRQ_STATUS) & R_IRQ_STATUS_DMA_DONE_MASK);
    g_assert_false(mk_readl(k, A_IRQ_STATUS) & R_IRQ_STATUS_EVTQ_MASK);
    {
        MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, coh_ctx_of(e),
                                   VA39 + MK_PAGE_SIZE, 64, e->buf, 0);

        g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_dma_submit(k, &d, NULL)),
                         ==, MMN_DMA_ST_FAULT);
    }
    g_assert_true(mk_readl(k, A_IRQ_STATUS) & R_IRQ_STATUS_EVTQ_MASK);
    g_assert_cmpuint(mk_evt_drain(k), ==, 1);
    mk_writel(k, A_IRQ_STATUS, 0x1f);
    g_assert_cmphex(mk_readl(k, A_IRQ_STATUS), ==, 0);
    mk_writel(k, A_IRQ_ENABLE, 0);
    mk_sync(k);
}

/* a doorbell while a descriptor is stalled is ignored */
/*
 * CTX_UNBIND of the context a DMA is blocked on (an invalidation is open
 * and will never end for it): the DMA completes ABORTED, the engine is
 * free again.  A second context shares the mm's tables.
 */
static void bi_unbind_while_blocked(Env *e)
{
    const uint16_t ctx2 = 3;
    uint64_t va = VA39 + 0xa00000;
    MmnDmaDesc d;
    uint32_t st;
    MmnCmd c;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    mk_bind(e->k, ctx2, mk_mm_ttb(e->mm),
            MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48) |
            MMN_CTX_CFG_UNPRIV | STALL);
    c = mk_cmd_init(MMN_CMD_MN_RANGE_START, ctx2);
    c.arg = MK_EV_CLEAR | MMN_CMD_RANGE_BLOCKABLE;
    c.a0 = va;
    c.a1 = va + MK_PAGE_SIZE;
    mk_cmd(e->k, &c);
    d = mk_dma_desc(MMN_DMA_OP_READ, ctx2, va, 64, e->buf, 0);
    st = mk_dma_submit(e->k, &d, NULL);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BLOCKED);
    g_assert_true(mk_readl(e->k, A_STATUS) & R_STATUS_DMA_BUSY_MASK);

    mk_unbind(e->k, ctx2);
    st = mk_readl(e->k, A_DMA_STATUS);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_ABORTED);
    g_assert_false(mk_readl(e->k, A_STATUS) & R_STATUS_DMA_BUSY_MASK);
    mk_dma_read_desc(e->k, &d);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(d.status), ==, MMN_DMA_ST_ABORTED);
    /* the engine takes new work on the remaining context */
    coh_dev_read_ok(e, va, 64);
}

static void bi_doorbell_while_stalled(Env *e)
{
    MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, coh_ctx_of(e), VA39, 64,
                               e->buf, 0);
    uint32_t st = mk_dma_submit(e->k, &d, NULL);
    MmnCmd c;

    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_STALLED);
    mk_writel(e->k, A_DMA_DOORBELL, 1);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_readl(e->k, A_DMA_STATUS)), ==,
                     MMN_DMA_ST_STALLED);
    c = mk_cmd_init(MMN_CMD_DMA_ABORT, 0);
    mk_cmd(e->k, &c);
    st = mk_readl(e->k, A_DMA_STATUS);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_ABORTED);
    g_assert_false(mk_readl(e->k, A_STATUS) & R_STATUS_DMA_STALLED_MASK);
    mk_evt_drain(e->k);
}

/* ---------------------------------------------------------------- */
/* registration                                                      */

static const Scenario bad_inputs[] = {
    { "unknown-opcode", bi_unknown_opcode, ANY, 0, 0, true },
    { "reserved-bits", bi_reserved, ANY, 0, 0, true },
    { "reserved-bits-mn", bi_reserved_mn, ANY, 39, 0 },
    { "bad-ctx", bi_bad_ctx, ANY, 0, 0, true },
    { "bad-config", bi_bad_config, ANY, 0, 0, true },
    { "bad-range", bi_bad_range, ANY, 39, 0 },
    { "result-at-mmio", bi_result_mmio, ANY, 39, 0 },
    { "result-beyond-ram", bi_result_beyond_ram, ANY, 39, 0 },
    { "dma-buffer-at-mmio", bi_dma_mmio, ANY, 39, STALL },
    { "dma-length", bi_dma_len, ANY, 39, 0 },
    { "queue-outside-ram", bi_queue_outside_ram, ANY, 39, 0 },
    { "evtq-overflow", bi_evtq_overflow, ANY, 39, 0, false, 1 },
    { "recursive-table", bi_recursive_table, ANY, 39, 0 },
    { "msi-not-configured", bi_msi_not_configured, ANY, 39, 0 },
    { "doorbell-while-stalled", bi_doorbell_while_stalled, ANY, 39, STALL },
    { "unbind-while-blocked", bi_unbind_while_blocked, ANY, 39, STALL },
};

static void mmn_coherence_bad_input_register_tests(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(bad_inputs); i++) {
        coh_register("bad-input", &bad_inputs[i]);
    }
}

libqos_init(mmn_coherence_bad_input_register_tests);
