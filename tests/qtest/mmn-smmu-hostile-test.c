/*
 * qtest for mmn-smmu against a hostile guest
 * (docs/specs/mmn-smmu-hostile.rst): what a malicious driver tries beyond the
 * malformed fields of mmn-smmu-coherence-bad-input-test.c and the random
 * input of mmn-smmu-robustness-test.c.
 *
 *  - targets: every address the guest hands the device (rings, result
 *    words, reports, bitmaps, DMA descriptors, bounce buffers, TTB, table
 *    and output addresses) aimed at another device's BAR, the device's own
 *    BAR, the PCIe ECAM, the GIC's MSI frame, the UART, the flash and
 *    beyond RAM: each access gets its defined error and nothing is
 *    written there (the peer device and both configuration spaces keep
 *    every value);
 *  - self-map: page tables that map themselves (an entry pointing at its
 *    own table, an L2 entry pointing back at the L1 table, a hardware AF
 *    update of an entry that is both table and leaf);
 *  - own-structures: DMA into the device's own DMA descriptor and into
 *    the command ring ahead of the consumer;
 *  - command-flood: a full ring of 32 Ki commands whose commands rewrite
 *    the ones after them while the ring is consumed;
 *  - ram-bar: another device's BAR that is RAM (bochs-display's VRAM)
 *    as DMA output page, command ring and bounce buffer, then switched
 *    off by the guest;
 *  - bounce-buffer-unmapped: behind QEMU's SMMUv3 (-M virt,iommu=smmuv3),
 *    the bounce buffer of a stalled descriptor is unmapped before
 *    DMA_RESUME.
 *
 * MSI messages aimed at hostile places are mmn-smmu-hostile-msi-test.c.
 * One QEMU per test; two mmn-smmu devices (00:04.0 under test, 00:05.0
 * the peer).
 *
 *   QTEST_QEMU_BINARY=qemu-system-aarch64 mmn-smmu-hostile-test --tap
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-smmu-hostile.h"
#include "libqos/mmn-smmuv3.h"

/* ---------------------------------------------------------------- */
/* targets                                                           */

/* A place the guest may name: @base page aligned, @word 8-byte aligned. */
typedef struct Target {
    const char *name;
    uint64_t base;
    uint64_t word;
} Target;

static unsigned targets_of(Env *e, Target *t)
{
    uint64_t own = mk_bar_addr(e->k), peer = e->peer.bar.addr;
    uint64_t ecam = hst_ecam(e, MMN_SLOT);
    unsigned n = 0;

    t[n++] = (Target) { "own-bar", own, own + A_CTRL };
    t[n++] = (Target) { "peer-bar", peer, peer + A_CTRL };
    t[n++] = (Target) { "ecam", ecam, ecam + PCI_BASE_ADDRESS_0 };
    t[n++] = (Target) { "gic-msi-frame", VIRT_GIC_V2M, VIRT_GIC_V2M + 0x40 };
    t[n++] = (Target) { "uart", VIRT_UART, VIRT_UART };
    /* 0 as a result or bitmap address means none: a word further in */
    t[n++] = (Target) { "flash", VIRT_FLASH, VIRT_FLASH + 0x1000 };
    t[n++] = (Target) { "beyond-ram", RAM_END, RAM_END };
    return n;
}

/* A DMA (@op) of @va on @ctx; returns its status, *@ev its event. */
static uint32_t raw_dma(Env *e, uint8_t op, uint16_t ctx, uint64_t va,
                        uint32_t len, uint64_t buf, MmnEvt *ev)
{
    MmnDmaDesc d = mk_dma_desc(op, ctx, va, len, buf,
                               op == MMN_DMA_OP_FILL ? 0x3c3c3c3c : 0);
    uint32_t st;

    if (op == MMN_DMA_OP_FILL) {
        d.buf = 0;
    }
    st = mk_dma_submit(e->k, &d, NULL);
    if (ev) {
        g_assert_true(mk_evt_pop(e->k, ev));
    }
    return st;
}

static void expect_fault(uint32_t st, const MmnEvt *ev, unsigned kind,
                         int level, uint64_t va, uint64_t desc)
{
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_FAULT);
    g_assert_cmpuint(MMN_DMA_STATUS_KIND(st), ==, kind);
    g_assert_cmpuint(MMN_DMA_STATUS_LEVEL(st), ==, level);
    g_assert_cmpuint(ev->type, ==, MMN_EVT_FAULT);
    g_assert_cmpuint(ev->kind, ==, kind);
    g_assert_cmpint((int8_t)ev->level, ==, level);
    g_assert_cmphex(ev->va, ==, va);
    g_assert_cmphex(ev->desc, ==, desc);
}

/* Rings and in-memory words aimed at @t. */
static void target_queues_and_words(Env *e, const Target *t)
{
    MmnKernel *k = e->k;
    uint64_t good_cmdq = k->cmdq, good_evtq = k->evtq;
    MmnCmd c = mk_cmd_init(MMN_CMD_SYNC, 0);
    uint32_t lost, prod;
    MmnEvt ev;

    /* CMDQ: the command cannot be read, the queue stops on it */
    mk_cmdq_set_base(k, t->base, e->scratch);
    g_assert_cmpuint(mk_cmd_try(k, &c), ==, MMN_CMDQ_ERR_BAD_ADDR);
    mk_cmdq_ack(k);
    mk_cmdq_set_base(k, good_cmdq, good_cmdq);
    mk_sync(k);

    /* EVTQ: the record is dropped and counted */
    lost = mk_readl(k, A_EVTQ_LOST);
    prod = mk_readl(k, A_EVTQ_PROD);
    mk_evtq_set_base(k, t->base);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(raw_dma(e, MMN_DMA_OP_READ,
                                                  CTX_RAW, VA_HOLE, 64,
                                                  e->buf, NULL)),
                     ==, MMN_DMA_ST_FAULT);
    g_assert_cmpuint(mk_readl(k, A_EVTQ_LOST), ==, lost + 1);
    g_assert_cmphex(mk_readl(k, A_EVTQ_PROD), ==, prod);
    g_assert_true(mk_readl(k, A_IRQ_STATUS) &
                  R_IRQ_STATUS_EVTQ_OVERFLOW_MASK);
    mk_evtq_set_base(k, good_evtq);
    mk_writel(k, A_IRQ_STATUS, 0x1f);
    g_assert_false(mk_evt_pop(k, &ev));

    /* SYNC's store, CHECK's report, a result word, a young bitmap */
    c = mk_cmd_init(MMN_CMD_SYNC, 0);
    c.flags = MMN_CMD_SYNC_F_WRITE;
    c.a0 = t->word;
    mk_cmd_expect_err(k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    c = mk_cmd_init(MMN_CMD_CHECK, MMN_CMD_CTX_ALL);
    c.a0 = t->base;
    mk_cmd_expect_err(k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    c = mk_cmd_init(MMN_CMD_MN_TEST_YOUNG, CTX_RAW);
    c.a0 = VA_RAW;
    c.a3 = t->word;
    mk_cmd_expect_err(k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    c = mk_cmd_init(MMN_CMD_MN_TEST_CLEAR_YOUNG, CTX_RAW);
    c.a0 = VA_RAW;
    c.a1 = VA_RAW + MK_PAGE_SIZE;
    c.a2 = t->word;
    mk_cmd_expect_err(k, &c, MMN_CMDQ_ERR_BAD_ADDR);
}

/* DMA descriptors and bounce buffers aimed at @t. */
static void target_dma_desc(Env *e, const Target *t)
{
    MmnKernel *k = e->k;
    uint32_t fva = mk_readl(k, A_DMA_FAULT_VA_LO);
    MmnDmaDesc d;

    /* the descriptor itself: nothing to write back into */
    mk_writel(k, A_DMA_DESC_LO, (uint32_t)t->base);
    mk_writel(k, A_DMA_DESC_HI, t->base >> 32);
    mk_writel(k, A_DMA_DOORBELL, 1);
    g_assert_cmpuint(mk_readl(k, A_DMA_STATUS), ==, MMN_DMA_ST_BAD_DESC);
    g_assert_cmphex(mk_readl(k, A_DMA_FAULT_VA_LO), ==, fva);
    /* READ's destination, WRITE's source */
    d = mk_dma_desc(MMN_DMA_OP_READ, CTX_RAW, VA_RAW, 64, t->base, 0);
    g_assert_cmpuint(mk_dma_submit(k, &d, &d), ==, MMN_DMA_ST_BAD_DESC);
    g_assert_cmpuint(d.status, ==, MMN_DMA_ST_BAD_DESC);
    g_assert_cmpuint(d.done, ==, 0);
    d = mk_dma_desc(MMN_DMA_OP_WRITE, CTX_RAW, VA_RAW, 64, t->base, 0);
    g_assert_cmpuint(mk_dma_submit(k, &d, &d), ==, MMN_DMA_ST_BAD_DESC);
    g_assert_cmpuint(d.done, ==, 0);
    hst_assert_words(e, e->data, MK_PAGE_SIZE, DATA_WORD);
}

/* The TTB, a table and an output address at @t. */
static void target_walk(Env *e, const Target *t)
{
    MmnKernel *k = e->k;
    uint64_t l1_slot = e->l1 + L1_IDX(VA_TABLE) * 8;
    MmnEvt ev;
    uint32_t st;
    MmnCmd c;

    /* TTB: CTX_BIND does not look at the memory; the walk aborts */
    mk_bind(k, CTX_SPARE, t->base, RAW_CFG);
    st = raw_dma(e, MMN_DMA_OP_READ, CTX_SPARE, VA_RAW, 64, e->buf, &ev);
    expect_fault(st, &ev, MMN_FAULT_WALK_ABORT, 1, VA_RAW,
                 t->base + L1_IDX(VA_RAW) * 8);
    mk_unbind(k, CTX_SPARE);

    /* an L1 entry whose next-level table is @t */
    qtest_writeq(e->qts, l1_slot, t->base | PTE_VALID | PTE_TABLE);
    st = raw_dma(e, MMN_DMA_OP_READ, CTX_RAW, VA_TABLE, 64, e->buf, &ev);
    expect_fault(st, &ev, MMN_FAULT_WALK_ABORT, 2, VA_TABLE,
                 t->base + L2_IDX(VA_TABLE) * 8);
    qtest_writeq(e->qts, l1_slot, 0);

    /* a page whose output address is @t: read, then written */
    hst_leaf(e, VA_OUT, hst_page(t->base));
    st = raw_dma(e, MMN_DMA_OP_READ, CTX_RAW, VA_OUT, 64, e->buf, &ev);
    expect_fault(st, &ev, MMN_FAULT_EXTERNAL, 3, VA_OUT,
                 hst_leaf_slot(e, VA_OUT));
    st = raw_dma(e, MMN_DMA_OP_FILL, CTX_RAW, VA_OUT, 64, 0, &ev);
    expect_fault(st, &ev, MMN_FAULT_EXTERNAL, 3, VA_OUT,
                 hst_leaf_slot(e, VA_OUT));
    g_assert_true(ev.flags & MMN_EVT_F_WRITE);
    hst_leaf(e, VA_OUT, 0);
    c = mk_cmd_init(MMN_CMD_TLBI_CTX, CTX_RAW);
    mk_cmd(k, &c);
}

static void test_targets(void)
{
    Env e;
    Target t[8];
    unsigned n;

    hst_start(&e, HST_CMDLINE, 6);
    n = targets_of(&e, t);
    for (unsigned i = 0; i < n; i++) {
        Snap before;

        g_test_message("target %s at 0x%" PRIx64, t[i].name, t[i].base);
        hst_snap(&e, &before);
        target_queues_and_words(&e, &t[i]);
        hst_snap_same(&e, &before, t[i].name);
        target_dma_desc(&e, &t[i]);
        hst_snap_same(&e, &before, t[i].name);
        target_walk(&e, &t[i]);
        hst_snap_same(&e, &before, t[i].name);
        hst_assert_working(&e);
    }
    hst_stop(&e);
}

/* ---------------------------------------------------------------- */
/* page tables that map themselves                                    */

#define SELF            7u          /* L1 index of the self entry */
#define SELF_HA         8u          /* the same, without AF, for HA */
#define BACK            9u          /* L2 index of the entry back to L1 */

static uint64_t va3(unsigned i1, unsigned i2, unsigned i3)
{
    return ((uint64_t)i1 << 30) | ((uint64_t)i2 << 21) |
           ((uint64_t)i3 << 12);
}

/*
 * A 4 KiB READ of @va on @ctx must complete with the page at @pa, as it
 * is once the walk is done (a hardware AF update may change it).
 */
static void read_page_is(Env *e, uint16_t ctx, uint64_t va, uint64_t pa)
{
    g_autofree uint8_t *want = g_malloc(MK_PAGE_SIZE);
    g_autofree uint8_t *got = g_malloc(MK_PAGE_SIZE);
    MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, ctx, va, MK_PAGE_SIZE,
                               e->buf, 0);

    g_assert_cmpuint(mk_dma_submit(e->k, &d, NULL), ==, MMN_DMA_ST_DONE);
    qtest_memread(e->qts, pa, want, MK_PAGE_SIZE);
    qtest_memread(e->qts, e->buf, got, MK_PAGE_SIZE);
    g_assert_cmpmem(got, MK_PAGE_SIZE, want, MK_PAGE_SIZE);
}

static void test_self_map(void)
{
    Env e;
    uint64_t self = 0, d2, pte, va_l3;
    MmnCheckReport rep;
    uint32_t st;
    MmnDmaDesc d;
    MmnEvt ev;
    MmnCmd c;

    hst_start(&e, HST_CMDLINE, 6);
    /*
     * L1[SELF] points at L1 itself.  Bits [11:2] of a table descriptor
     * are ignored, so its AF makes it a valid page when it is read as a
     * level-3 descriptor: VA (SELF, SELF, SELF) maps the L1 table.
     */
    self = e.l1 | PTE_VALID | PTE_TABLE | PTE_AF;
    qtest_writeq(e.qts, e.l1 + SELF * 8, self);
    read_page_is(&e, CTX_RAW, va3(SELF, SELF, SELF), e.l1);

    /* (SELF, i1, i2) maps the L3 table of VA_RAW when L2's entry has AF */
    qtest_writeq(e.qts, e.l2 + L2_IDX(VA_RAW) * 8,
                 e.l3 | PTE_VALID | PTE_TABLE | PTE_AF);
    va_l3 = va3(SELF, L1_IDX(VA_RAW), L2_IDX(VA_RAW));
    read_page_is(&e, CTX_RAW, va_l3, e.l3);

    /*
     * The device rewrites VA_RAW's PTE through that mapping.  It does not
     * snoop its own writes: the entry it cached for VA_RAW is stale (CHECK
     * says so) until the guest invalidates it, as after a CPU write.
     */
    read_page_is(&e, CTX_RAW, VA_RAW, e.data);
    d2 = mk_alloc(e.k, MK_PAGE_SIZE, MK_PAGE_SIZE);
    qtest_memset(e.qts, d2, 0x6b, MK_PAGE_SIZE);
    pte = cpu_to_le64(hst_page(d2));
    qtest_memwrite(e.qts, e.scratch, &pte, 8);
    d = mk_dma_desc(MMN_DMA_OP_WRITE, CTX_RAW,
                    va_l3 + L3_IDX(VA_RAW) * 8, 8, e.scratch, 0);
    g_assert_cmpuint(mk_dma_submit(e.k, &d, NULL), ==, MMN_DMA_ST_DONE);
    g_assert_cmphex(qtest_readq(e.qts, hst_leaf_slot(&e, VA_RAW)), ==,
                    hst_page(d2));
    mk_check(e.k, CTX_RAW, &rep);
    g_assert_cmpuint(rep.stale_oa, ==, 1);
    g_assert_cmpuint(rep.stale, ==, 1);
    read_page_is(&e, CTX_RAW, VA_RAW, e.data);
    c = mk_cmd_init(MMN_CMD_TLBI_PAGE, CTX_RAW);
    c.a0 = VA_RAW;
    mk_cmd(e.k, &c);
    read_page_is(&e, CTX_RAW, VA_RAW, d2);
    mk_check(e.k, CTX_RAW, &rep);
    g_assert_cmpuint(rep.stale, ==, 0);

    /*
     * A loop through two tables: L2[BACK] points back at L1, so (i1,
     * BACK, x) reads L1[x] as a level-3 descriptor: the self entry maps
     * L1 again, an empty entry is a level-3 translation fault.
     */
    qtest_writeq(e.qts, e.l2 + BACK * 8, e.l1 | PTE_VALID | PTE_TABLE);
    read_page_is(&e, CTX_RAW, va3(L1_IDX(VA_RAW), BACK, SELF), e.l1);
    st = raw_dma(&e, MMN_DMA_OP_READ, CTX_RAW, va3(L1_IDX(VA_RAW), BACK, 0),
                 64, e.buf, &ev);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_FAULT);
    g_assert_cmpuint(ev.kind, ==, MMN_FAULT_TRANSLATION);
    g_assert_cmpint((int8_t)ev.level, ==, 3);
    g_assert_cmphex(ev.desc, ==, e.l1);

    /*
     * Hardware AF (HTTU HA) on an entry that is table and leaf at once:
     * the walk sets AF in L1[SELF_HA] itself, a table entry, which bit 10
     * leaves a valid table.
     */
    qtest_writeq(e.qts, e.l1 + SELF_HA * 8, e.l1 | PTE_VALID | PTE_TABLE);
    mk_bind(e.k, CTX_SPARE, e.l1, RAW_CFG | MMN_CTX_CFG_HTTU(1));
    read_page_is(&e, CTX_SPARE, va3(SELF_HA, SELF_HA, SELF_HA), e.l1);
    g_assert_cmphex(qtest_readq(e.qts, e.l1 + SELF_HA * 8), ==,
                    e.l1 | PTE_VALID | PTE_TABLE | PTE_AF);
    read_page_is(&e, CTX_SPARE, VA_RAW, d2);
    mk_unbind(e.k, CTX_SPARE);

    hst_leaf(&e, VA_RAW, hst_page(e.data));
    hst_assert_working(&e);
    hst_stop(&e);
}

/* ---------------------------------------------------------------- */
/* DMA into the device's own structures                               */

static void test_own_structures(void)
{
    Env e;
    uint8_t b[MMN_DMA_DESC_SIZE];
    uint64_t desc, ring, cookie_at;
    uint32_t slot, st;
    MmnCmd cmds[2], rewrite;
    uint8_t enc[MMN_CMD_SIZE];
    MmnDmaDesc d;
    MmnEvt ev;

    hst_start(&e, HST_CMDLINE, 6);
    desc = e.k->desc;

    /*
     * A FILL whose VA maps the page of its own descriptor: the engine runs
     * the copy it read at the doorbell, the pattern lands over the
     * descriptor and the write-back (status, done, fault_va, faults) on
     * top of it.
     */
    hst_leaf(&e, VA_OUT, hst_page(desc));
    d = mk_dma_desc(MMN_DMA_OP_FILL, CTX_RAW, VA_OUT, 64, 0, 0x5a5a5a5a);
    st = mk_dma_submit(e.k, &d, NULL);
    g_assert_cmpuint(st, ==, MMN_DMA_ST_DONE);
    qtest_memread(e.qts, desc, b, sizeof(b));
    for (unsigned i = 0; i < sizeof(b); i++) {
        if (i < 32 || i >= 52) {
            g_assert_cmphex(b[i], ==, 0x5a);
        }
    }
    g_assert_cmphex((uint32_t)ldl_le_p(b + 32), ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint((uint32_t)ldl_le_p(b + 36), ==, 64);
    g_assert_cmphex(ldq_le_p(b + 40), ==, 0);
    g_assert_cmpuint((uint32_t)ldl_le_p(b + 48), ==, 0);

    /* A READ whose bounce buffer is its own descriptor: the same */
    d = mk_dma_desc(MMN_DMA_OP_READ, CTX_RAW, VA_RAW, 64, desc, 0);
    g_assert_cmpuint(mk_dma_submit(e.k, &d, NULL), ==, MMN_DMA_ST_DONE);
    qtest_memread(e.qts, desc, b, sizeof(b));
    g_assert_cmphex((uint32_t)ldl_le_p(b), ==, DATA_WORD);
    g_assert_cmphex((uint32_t)ldl_le_p(b + 28), ==, DATA_WORD);
    g_assert_cmphex((uint32_t)ldl_le_p(b + 32), ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint((uint32_t)ldl_le_p(b + 36), ==, 64);
    g_assert_cmphex((uint32_t)ldl_le_p(b + 52), ==, DATA_WORD);

    /*
     * A stalled WRITE resumed by DMA_RESUME rewrites the command after the
     * DMA_RESUME in the ring: the device reads each command when it
     * consumes it, so the rewritten SYNC runs, not the one written there.
     */
    mk_bind(e.k, CTX_SPARE, e.l1, RAW_CFG | MMN_CTX_CFG_STALL);
    hst_leaf(&e, VA_OUT, 0);
    ring = e.k->cmdq;
    slot = (e.k->cmdq_prod + 1) & ((1u << e.k->cmdq_log2) - 1);
    cookie_at = e.k->res;
    rewrite = mk_cmd_init(MMN_CMD_SYNC, 0);
    rewrite.flags = MMN_CMD_SYNC_F_WRITE;
    rewrite.arg = 0x7e3717e5;
    rewrite.a0 = cookie_at;
    mk_cmd_encode(&rewrite, enc);
    qtest_memwrite(e.qts, e.scratch, enc, sizeof(enc));
    d = mk_dma_desc(MMN_DMA_OP_WRITE, CTX_SPARE,
                    VA_OUT + (uint64_t)slot * MMN_CMD_SIZE, MMN_CMD_SIZE,
                    e.scratch, 0);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_dma_submit(e.k, &d, NULL)), ==,
                     MMN_DMA_ST_STALLED);
    g_assert_true(mk_evt_pop(e.k, &ev));
    g_assert_cmpuint(ev.kind, ==, MMN_FAULT_TRANSLATION);
    /* the fault handler maps the ring page (no TLBI: not cached) */
    qtest_writeq(e.qts, hst_leaf_slot(&e, VA_OUT), hst_page(ring));
    cmds[0] = mk_cmd_init(MMN_CMD_DMA_RESUME, 0);
    cmds[1] = mk_cmd_init(MMN_CMD_SYNC, 0);
    cmds[1].flags = MMN_CMD_SYNC_F_WRITE;
    cmds[1].arg = 0x01d0c0de;
    cmds[1].a0 = cookie_at;
    qtest_writel(e.qts, cookie_at, 0);
    hst_cmd_batch(e.k, cmds, 2);
    g_assert_false(FIELD_EX32(mk_readl(e.k, A_CMDQ_ERR), CMDQ_ERR, VALID));
    g_assert_cmphex(mk_readl(e.k, A_CMDQ_CONS), ==, e.k->cmdq_prod);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_readl(e.k, A_DMA_STATUS)), ==,
                     MMN_DMA_ST_DONE);
    g_assert_cmphex(qtest_readl(e.qts, cookie_at), ==, rewrite.arg);
    mk_unbind(e.k, CTX_SPARE);
    hst_leaf(&e, VA_OUT, 0);

    hst_assert_working(&e);
    hst_stop(&e);
}

/* ---------------------------------------------------------------- */
/* a full ring of 32 Ki commands, rewriting itself                    */

#define FLOOD_LOG2      15
#define FLOOD_N         (1u << FLOOD_LOG2)
#define FLOOD_COOKIE(i) (0xf1000000u | (i))
#define REWRITE_ARG     1000u       /* rewrites the cookie of the next */
#define REWRITE_OPCODE  20000u      /* turns the next into opcode 0xee */
#define REWRITE_REPORT  30000u      /* CHECK's report over the next four */

/* The ring slot of the @i-th command from @start. */
static uint32_t flood_slot(uint32_t start, uint32_t i)
{
    return (start + i) & (FLOOD_N - 1);
}

static void test_command_flood(void)
{
    Env e;
    g_autofree uint8_t *ring = g_malloc0((size_t)FLOOD_N * MMN_CMD_SIZE);
    g_autofree uint32_t *res = g_malloc((size_t)FLOOD_N * 4);
    static const uint32_t stop_at[] = {
        REWRITE_OPCODE + 1, REWRITE_REPORT + 1, REWRITE_REPORT + 2,
        REWRITE_REPORT + 3, REWRITE_REPORT + 4,
    };
    uint64_t res_at, base, cmds0;
    uint32_t start, nstops = 0;
    gint64 t0;

    hst_start(&e, HST_CMDLINE, FLOOD_LOG2);
    base = e.k->cmdq;
    start = e.k->cmdq_prod;
    res_at = mk_alloc(e.k, (uint64_t)FLOOD_N * 4, 4096);
    for (uint32_t i = 0; i < FLOOD_N; i++) {
        uint64_t next = base + (uint64_t)flood_slot(start, i + 1) *
                        MMN_CMD_SIZE;
        MmnCmd c = mk_cmd_init(MMN_CMD_SYNC, 0);

        c.flags = MMN_CMD_SYNC_F_WRITE;
        c.arg = FLOOD_COOKIE(i);
        c.a0 = res_at + 4ULL * i;
        if (i == REWRITE_ARG) {
            c.a0 = next + 4;                    /* the next one's arg */
            c.arg = 0xc0ffee00;
        } else if (i == REWRITE_OPCODE) {
            c.a0 = next;                        /* opcode, flags, ctx */
            c.arg = 0xee;
        } else if (i == REWRITE_REPORT) {
            c = mk_cmd_init(MMN_CMD_CHECK, MMN_CMD_CTX_ALL);
            c.a0 = next;                        /* 256 bytes, 0 mostly */
        }
        mk_cmd_encode(&c, ring + (size_t)flood_slot(start, i) *
                      MMN_CMD_SIZE);
    }
    qtest_memwrite(e.qts, base, ring, (size_t)FLOOD_N * MMN_CMD_SIZE);
    cmds0 = hst_qom(e.qts, MMN_ID, "commands");

    /* the whole ring in one PROD write: same index, the other wrap bit */
    t0 = g_get_monotonic_time();
    e.k->cmdq_prod = start ^ FLOOD_N;
    mk_writel(e.k, A_CMDQ_PROD, e.k->cmdq_prod);
    while (FIELD_EX32(mk_readl(e.k, A_CMDQ_ERR), CMDQ_ERR, VALID)) {
        uint32_t err = mk_readl(e.k, A_CMDQ_ERR);
        uint32_t idx = FIELD_EX32(err, CMDQ_ERR, INDEX);

        g_assert_cmpuint(nstops, <, ARRAY_SIZE(stop_at));
        g_assert_cmpuint(idx, ==, flood_slot(start, stop_at[nstops]));
        g_assert_cmpuint(FIELD_EX32(err, CMDQ_ERR, REASON), ==,
                         MMN_CMDQ_ERR_OPCODE);
        g_assert_cmpuint(mk_readl(e.k, A_CMDQ_CONS) & (FLOOD_N - 1), ==,
                         idx);
        nstops++;
        mk_writel(e.k, A_CMDQ_ERR_ACK, 1);
    }
    g_test_message("%u commands in %.3f s, %u stops", FLOOD_N,
                   (g_get_monotonic_time() - t0) / 1e6, nstops);
    g_assert_cmpuint(nstops, ==, ARRAY_SIZE(stop_at));
    g_assert_cmphex(mk_readl(e.k, A_CMDQ_CONS), ==, e.k->cmdq_prod);
    /* every command was read once, the failing ones included */
    g_assert_cmpuint(hst_qom(e.qts, MMN_ID, "commands") - cmds0, ==,
                     FLOOD_N);

    qtest_memread(e.qts, res_at, res, (size_t)FLOOD_N * 4);
    for (uint32_t i = 0; i < FLOOD_N; i++) {
        uint32_t want = FLOOD_COOKIE(i);

        if (i == REWRITE_ARG || i == REWRITE_OPCODE ||
            i == REWRITE_OPCODE + 1 ||
            (i >= REWRITE_REPORT && i <= REWRITE_REPORT + 4)) {
            want = 0;           /* wrote into the ring, or did not run */
        } else if (i == REWRITE_ARG + 1) {
            want = 0xc0ffee00;  /* ran as rewritten */
        }
        if (le32_to_cpu(res[i]) != want) {
            g_test_message("command %u wrote 0x%08x, expected 0x%08x", i,
                           le32_to_cpu(res[i]), want);
        }
        g_assert_cmphex(le32_to_cpu(res[i]), ==, want);
    }
    hst_assert_working(&e);
    hst_stop(&e);
}

/* ---------------------------------------------------------------- */
/* another device's BAR that is RAM: bochs-display's VRAM             */

#define BOCHS_SLOT      6

/* bochs-display's Memory Space Enable, on or off. */
static void bochs_decode(QPCIDevice *bochs, bool on)
{
    uint16_t cmd = qpci_config_readw(bochs, PCI_COMMAND);

    qpci_config_writew(bochs, PCI_COMMAND, on ? cmd | PCI_COMMAND_MEMORY :
                       cmd & ~PCI_COMMAND_MEMORY);
}

/*
 * A BAR backed by RAM (hw/display/bochs-display.c: BAR 0 is
 * memory_region_init_ram()) is RAM while the guest lets it decode, and
 * stops being RAM when it does not.  DMA output, rings and bounce
 * buffers there work like guest RAM, and fail like MMIO once it is
 * gone: the bounce buffer of a stalled descriptor too, without any IOMMU.
 */
static void test_ram_bar(void)
{
    Env e;
    QPCIDevice *bochs;
    QPCIBar vbar;
    uint64_t vram, good_cmdq, out;
    MmnDmaDesc d;
    MmnEvt ev;
    MmnCmd c;
    uint32_t st;

    hst_start(&e, HST_CMDLINE " -device bochs-display,addr=06.0,romfile=", 6);
    bochs = qpci_device_find(&e.bus.bus, QPCI_DEVFN(BOCHS_SLOT, 0));
    g_assert_nonnull(bochs);
    vbar = qpci_iomap(bochs, 0, NULL);
    qpci_device_enable(bochs);
    vram = vbar.addr;

    /* a page of VRAM as a DMA output page */
    hst_leaf(&e, VA_OUT, hst_page(vram));
    st = raw_dma(&e, MMN_DMA_OP_FILL, CTX_RAW, VA_OUT, MK_PAGE_SIZE, 0, NULL);
    g_assert_cmpuint(st, ==, MMN_DMA_ST_DONE);
    hst_assert_words(&e, vram, MK_PAGE_SIZE, 0x3c3c3c3c);

    /* the command ring in VRAM, then VRAM gone: BAD_ADDR */
    good_cmdq = e.k->cmdq;
    mk_cmdq_set_base(e.k, vram + 0x2000, vram + 0x2000);
    mk_sync(e.k);
    bochs_decode(bochs, false);
    c = mk_cmd_init(MMN_CMD_SYNC, 0);
    g_assert_cmpuint(mk_cmd_try(e.k, &c), ==, MMN_CMDQ_ERR_BAD_ADDR);
    bochs_decode(bochs, true);
    mk_cmdq_ack(e.k);
    mk_cmdq_set_base(e.k, good_cmdq, good_cmdq);
    mk_sync(e.k);

    /*
     * A WRITE from a VRAM bounce buffer stalls; the guest turns VRAM off
     * and resumes: BAD_DESC, the output page keeps its contents.
     */
    mk_bind(e.k, CTX_SPARE, e.l1, RAW_CFG | MMN_CTX_CFG_STALL);
    hst_leaf(&e, VA_OUT, 0);
    qtest_memset(e.qts, vram + 0x4000, 0x77, MK_PAGE_SIZE);
    d = mk_dma_desc(MMN_DMA_OP_WRITE, CTX_SPARE, VA_OUT, MK_PAGE_SIZE,
                    vram + 0x4000, 0);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_dma_submit(e.k, &d, NULL)), ==,
                     MMN_DMA_ST_STALLED);
    g_assert_true(mk_evt_pop(e.k, &ev));
    out = mk_alloc(e.k, MK_PAGE_SIZE, MK_PAGE_SIZE);
    qtest_memset(e.qts, out, 0x19, MK_PAGE_SIZE);
    qtest_writeq(e.qts, hst_leaf_slot(&e, VA_OUT), hst_page(out));
    bochs_decode(bochs, false);
    c = mk_cmd_init(MMN_CMD_DMA_RESUME, 0);
    mk_cmd(e.k, &c);
    st = mk_readl(e.k, A_DMA_STATUS);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BAD_DESC);
    hst_assert_words(&e, out, MK_PAGE_SIZE, 0x19191919);
    bochs_decode(bochs, true);

    /*
     * The descriptor itself in VRAM, parked, VRAM turned off: the engine
     * finishes from its copy, the write-back is skipped (guest error),
     * DMA_STATUS has the result; the descriptor shows the parked state.
     */
    hst_leaf(&e, VA_OUT, 0);
    d = mk_dma_desc(MMN_DMA_OP_READ, CTX_SPARE, VA_OUT, 64, e.buf, 0);
    hst_desc_at(e.k, vram + 0x6000, &d);
    mk_writel(e.k, A_DMA_DOORBELL, 1);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(qtest_readl(e.qts, vram + 0x6020)),
                     ==, MMN_DMA_ST_STALLED);
    g_assert_true(mk_evt_pop(e.k, &ev));
    qtest_writeq(e.qts, hst_leaf_slot(&e, VA_OUT), hst_page(e.data));
    bochs_decode(bochs, false);
    c = mk_cmd_init(MMN_CMD_DMA_RESUME, 0);
    mk_cmd(e.k, &c);
    g_assert_cmpuint(mk_readl(e.k, A_DMA_STATUS), ==, MMN_DMA_ST_DONE);
    hst_assert_words(&e, e.buf, 64, DATA_WORD);
    bochs_decode(bochs, true);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(qtest_readl(e.qts, vram + 0x6020)),
                     ==, MMN_DMA_ST_STALLED);
    mk_unbind(e.k, CTX_SPARE);
    hst_leaf(&e, VA_OUT, 0);

    g_free(bochs);
    hst_assert_working(&e);
    hst_stop(&e);
}

/* ---------------------------------------------------------------- */
/* a bounce buffer that an IOMMU in front of the device unmaps        */

#define V3_SID          0x20u       /* RID of 00:04.0 */
#define V3_ASID         1u
#define MMN_AT          (RAM_BASE + 0x10000000ULL)
#define MMN_LEN         0x400000ULL  /* identity-mapped by the SMMU */

/*
 * The descriptor's bounce buffer was RAM at the doorbell; while the
 * descriptor is stalled, the guest unmaps it in the SMMUv3 in front of
 * the device.  DMA_RESUME must end the descriptor BAD_DESC without
 * touching the output page (neither with the buffer's data, which cannot
 * be read, nor with anything else).
 */
static void bounce_unmapped(bool write)
{
    Env e;
    V3 v;
    uint64_t cdtab, root, slot, pa, va = VA39_HST;
    g_autofree uint8_t *page = g_malloc(MK_PAGE_SIZE);
    MmnDmaDesc d;
    MkMm *mm;
    MmnEvt ev;
    MmnCmd c;
    uint32_t st;

    hst_start_range(&e, "-M virt,iommu=smmuv3 -cpu max -m 512M -nic none "
                    "-device mmn-smmu,id=" MMN_ID ",addr=04.0", MMN_AT,
                    MMN_AT + MMN_LEN);
    v3_init(&v, e.qts, 8, 6, 6);
    cdtab = v3_alloc(&v, 64);
    root = v3_pt_new(&v);
    for (pa = MMN_AT; pa < MMN_AT + MMN_LEN; pa += MK_PAGE_SIZE) {
        v3_map(&v, root, pa, pa, PTE_AF | PTE_USER);
    }
    v3_cd(&v, cdtab, 0, root, V3_ASID, false, true);
    v3_ste_s1(&v, V3_SID, cdtab, 0, 0, false);
    v3_cmd(&v, CMD_CFGI_STE_RANGE, 31);
    v3_cmd(&v, CMD_SYNC, 0);
    hst_kernel_new(&e, 6);

    mm = mk_mm_new(e.k, MK_LINUX_6_6, 1, 39, MMN_CTX_CFG_STALL);
    mk_mmap(mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
            MK_MAP_PRIVATE);
    qtest_memset(e.qts, e.buf, 0x77, MK_PAGE_SIZE);
    d = mk_dma_desc(write ? MMN_DMA_OP_WRITE : MMN_DMA_OP_READ, 1, va,
                    MK_PAGE_SIZE, e.buf, 0);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_dma_submit(e.k, &d, NULL)), ==,
                     MMN_DMA_ST_STALLED);
    g_assert_true(mk_evt_pop(e.k, &ev));

    /*
     * The IOMMU driver unmaps the buffer (and invalidates), the kernel
     * handles the fault, the driver resumes.
     */
    slot = v3_map(&v, root, e.buf, e.buf, PTE_AF | PTE_USER);
    qtest_writeq(e.qts, slot, 0);
    v3_tlbi_va(&v, V3_ASID, e.buf);
    v3_cmd(&v, CMD_SYNC, 0);
    g_assert_cmpint(mk_handle_mm_fault(mm, va, true), ==, MK_FAULT_OK);
    pa = mk_va_to_pa(mm, va);
    g_assert_cmphex(pa, >=, MMN_AT);
    qtest_memset(e.qts, pa, 0x19, MK_PAGE_SIZE);
    c = mk_cmd_init(MMN_CMD_DMA_RESUME, 0);
    mk_cmd(e.k, &c);

    st = mk_readl(e.k, A_DMA_STATUS);
    g_test_message("%s with its buffer unmapped: %s", write ? "WRITE" :
                   "READ", mk_dma_state_name(MMN_DMA_STATUS_STATE(st)));
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BAD_DESC);
    mk_dma_read_desc(e.k, &d);
    g_assert_cmphex(d.status, ==, st);
    g_assert_cmpuint(d.done, ==, 0);
    g_assert_cmpuint(d.faults, ==, 1);
    qtest_memread(e.qts, pa, page, MK_PAGE_SIZE);
    for (unsigned i = 0; i < MK_PAGE_SIZE; i++) {
        g_assert_cmphex(page[i], ==, 0x19);
    }
    g_assert_false(mk_readl(e.k, A_STATUS) & R_STATUS_DMA_BUSY_MASK);

    mk_mm_free(mm);
    hst_stop(&e);
}

static void test_bounce_unmapped_write(void)
{
    bounce_unmapped(true);
}

static void test_bounce_unmapped_read(void)
{
    bounce_unmapped(false);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/mmn-smmu/hostile/targets", test_targets);
    qtest_add_func("/mmn-smmu/hostile/self-map", test_self_map);
    qtest_add_func("/mmn-smmu/hostile/own-structures", test_own_structures);
    qtest_add_func("/mmn-smmu/hostile/command-flood", test_command_flood);
    qtest_add_func("/mmn-smmu/hostile/ram-bar", test_ram_bar);
    qtest_add_func("/mmn-smmu/hostile/bounce-buffer-unmapped/write",
                   test_bounce_unmapped_write);
    qtest_add_func("/mmn-smmu/hostile/bounce-buffer-unmapped/read",
                   test_bounce_unmapped_read);
    hst_msi_register_tests();
    return g_test_run();
}
