/*
 * qtest for mmn-smmu robustness: random but bounded guest input must get
 * the defined error of docs/specs/mmn-smmu.rst, never a crash, a hang, or
 * a write anywhere the guest did not point the device at.
 *
 * Four tests, each with its own QEMU, drive the device with random
 * commands (valid and invalid opcodes, random fields, wild addresses),
 * random page tables and DMA descriptors on bound contexts (loops, tables
 * at MMIO and at the device's own BAR, reserved encodings, lengths 0 and
 * above 1 MiB) and random MMIO writes, then bring the device back to a
 * known state (system_reset or a driver re-init) and check that a
 * known-good command and DMA still work.
 *
 * Guest RAM (512 MiB at 1 GiB) is split in three:
 *
 *   [RAM_BASE, SENT_BASE)   the allocator: rings, descriptors, the mm model
 *   [SENT_BASE, ARENA_BASE) sentinel: filled at start, verified at the end
 *   [ARENA_BASE, RAM_END)   the arena: the only RAM addresses the random
 *                           input ever names (results, reports, bitmaps,
 *                           bounce buffers, page tables, output addresses)
 *
 * The arena is the top of RAM, so "just below the end of RAM" is arena
 * and a range running past it leaves RAM.  Output addresses can only come
 * from the arena, the device's BAR, PCIe ECAM, flash or beyond RAM: every
 * descriptor the test writes takes its address from that pool, and DMA
 * virtual addresses keep bits [29:25] = 0b01111, so that a descriptor read
 * at another level than it was written for (a table loop) and taken as a
 * 1 GiB block still lands in the arena (or in unassigned MMIO).
 *
 * The helpers are in mmn-smmu-robustness-{env,oracle,tables}.c
 * (mmn-smmu-robustness.h).
 *
 *   QTEST_QEMU_BINARY=qemu-system-aarch64 mmn-smmu-robustness-test --tap
 *   MMN_FUZZ_SEED=<n>   seed (default below, printed)
 *   MMN_FUZZ_ITERS=<n>  random actions per test (default below)
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-smmu-robustness.h"

uint64_t fuzz_seed;
unsigned fuzz_iters;

static const char *const reason_names[] = {
    "OK", "OPCODE", "RESERVED", "BAD_CTX", "BAD_ADDR", "BAD_RANGE",
    "BAD_CONFIG", "NOT_STALLED", "MISUSE",
};

static uint32_t dma_state_now(Fuzz *f)
{
    return MMN_DMA_STATUS_STATE(qmmn_readl(&f->dev, A_DMA_STATUS));
}

static bool dma_terminal(uint32_t st)
{
    return st == MMN_DMA_ST_DONE || st == MMN_DMA_ST_FAULT ||
           st == MMN_DMA_ST_LIVELOCK || st == MMN_DMA_ST_ABORTED ||
           st == MMN_DMA_ST_BAD_DESC || st == MMN_DMA_ST_RELEASED;
}

static void unbind_quiet(Fuzz *f, unsigned ctx)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_CTX_UNBIND, ctx);

    fz_cmd(f, &c);
    open_ranges_drop_ctx(f, ctx);
    if (ctx < ARRAY_SIZE(f->dma_cfg)) {
        f->dma_cfg[ctx] = 0;
    }
}

/* End every open range we know of on @ctx (a driver finishing its work). */
static void end_open_ranges(Fuzz *f, unsigned ctx)
{
    g_autoptr(GArray) todo = g_array_copy(f->open);

    for (guint i = 0; i < todo->len; i++) {
        OpenRange *o = &g_array_index(todo, OpenRange, i);
        MmnCmd c = mk_cmd_init(MMN_CMD_MN_RANGE_END, o->ctx);

        if (o->ctx != ctx) {
            continue;
        }
        c.arg = o->arg;
        c.a0 = o->start;
        c.a1 = o->end;
        c.a2 = o->owner;
        fz_cmd(f, &c);
    }
    open_ranges_drop_ctx(f, ctx);
}

/* Bring a parked DMA to an end, whatever it takes (bounded). */
static uint32_t dma_force_end(Fuzz *f)
{
    uint32_t st = dma_state_now(f);
    MmnCmd c;

    if (st == MMN_DMA_ST_STALLED) {
        c = mk_cmd_init(MMN_CMD_DMA_ABORT, 0);
        cmd_must(f, &c);
        f->dma_aborts++;
    } else if (st == MMN_DMA_ST_BLOCKED) {
        /* unbinding the context ends everything; the next kick aborts */
        for (unsigned i = f->num_ctx / 2; i < f->num_ctx; i++) {
            unbind_quiet(f, i);
        }
        c = mk_cmd_init(MMN_CMD_TLBI_ALL, 0);
        cmd_must(f, &c);
        f->dma_unblocks++;
    } else {
        return st;
    }
    f->dma_forced++;
    st = dma_state_now(f);
    if (!f->chaos) {
        g_assert_cmpuint(st, ==, MMN_DMA_ST_ABORTED);
    }
    return st;
}

/* (Re)bind DMA context @ctx on fresh tables; returns the configuration. */
static uint64_t dma_bind(Fuzz *f, unsigned ctx, unsigned *va_bits)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_CTX_BIND, ctx);
    unsigned r = rnd(f, 100);
    uint32_t reason;

    *va_bits = r < 55 ? 39 : r < 85 ? 48 : 25 + rnd(f, 24);
    c.a0 = tbl_page(ctx, 0);
    c.a1 = MMN_CTX_CFG_VA_BITS(*va_bits) |
           MMN_CTX_CFG_OA_BITS(chance(f, 80) ? 48 : 32 + rnd(f, 17)) |
           MMN_CTX_CFG_HTTU(rnd(f, 3)) |
           (chance(f, 50) ? MMN_CTX_CFG_STALL : 0) |
           (chance(f, 60) ? MMN_CTX_CFG_UNPRIV : 0) |
           (chance(f, 30) ? MMN_CTX_CFG_LEGACY_INV : 0);
    c.a2 = rnd(f, 3);
    if (chance(f, 5)) {
        /* a configuration the device must refuse */
        c.a1 = chance(f, 50) ? (c.a1 & ~0xffULL) | (chance(f, 50) ? 24 : 49)
                             : c.a1 | MMN_CTX_CFG_HTTU(3);
    }
    unbind_quiet(f, ctx);
    qtest_memset(f->qts, tbl_page(ctx, 0), 0, TBL_PAGES * PAGE);
    f->next_tbl = 1;
    reason = fz_cmd(f, &c);
    if (!f->chaos) {
        g_assert_true(reason == 0 || reason == MMN_CMDQ_ERR_BAD_CONFIG);
    }
    f->dma_cfg[ctx] = reason ? 0 : c.a1;
    return f->dma_cfg[ctx];
}

static void rnd_desc(Fuzz *f, unsigned ctx, unsigned va_bits, MmnDmaDesc *d)
{
    uint32_t len = rnd_len(f);
    unsigned op = chance(f, 95) ? 1 + rnd(f, 3) : rnd(f, 256);
    uint64_t va = rnd_dma_va(f, va_bits, MIN(len, 2 * MMN_DMA_MAX_LEN));

    *d = mk_dma_desc(op, ctx, va, len, 0, g_rand_int(f->rng) & DATA_MASK);
    if (op != MMN_DMA_OP_FILL || chance(f, 10)) {
        uint64_t n = MIN(len, MMN_DMA_MAX_LEN);

        d->buf = chance(f, 25) ? pool_addr(f, n, 1) :
                 DATA_BASE + rnd64(f) % (DATA_SIZE - n);
    }
    if (chance(f, 5)) {
        d->ctx = chance(f, 50) ? f->num_ctx + rnd(f, 8) : 0xffff;
    }
    if (chance(f, 5)) {
        d->reserved0 = g_rand_int(f->rng);
        d->reserved1 = g_rand_int(f->rng);
    }
}

/* What the spec says about a descriptor before any translation. */
static bool desc_bad(Fuzz *f, const MmnDmaDesc *d)
{
    return d->op < MMN_DMA_OP_READ || d->op > MMN_DMA_OP_FILL ||
           d->len == 0 || d->len > MMN_DMA_MAX_LEN ||
           d->va + d->len < d->va || d->ctx >= f->num_ctx ||
           (d->op == MMN_DMA_OP_FILL ? d->buf != 0 :
            !ram_range(d->buf, d->len));
}

/* Check a status word and the descriptor written back with it. */
static void dma_check(Fuzz *f, const MmnDmaDesc *d, uint64_t cfg)
{
    uint32_t st = qmmn_readl(&f->dev, A_DMA_STATUS);
    uint32_t state = MMN_DMA_STATUS_STATE(st);
    uint32_t status = qmmn_readl(&f->dev, A_STATUS);
    MmnDmaDesc out;

    g_assert_cmpuint(state, <=, MMN_DMA_ST_BLOCKED);
    if (f->chaos) {
        return;         /* the doorbell may have been ignored */
    }
    g_assert_cmpuint(state, >=, MMN_DMA_ST_DONE);
    g_assert_cmpuint(MMN_DMA_STATUS_KIND(st), <=, 6);
    g_assert_cmpuint(MMN_DMA_STATUS_LEVEL(st), <=, 3);
    g_assert_cmpuint(!!(status & R_STATUS_DMA_STALLED_MASK), ==,
                     state == MMN_DMA_ST_STALLED);
    g_assert_cmpuint(!!(status & R_STATUS_DMA_BUSY_MASK), ==,
                     state == MMN_DMA_ST_STALLED ||
                     state == MMN_DMA_ST_BLOCKED);
    mk_dma_read_desc(f->k, &out);
    if (desc_bad(f, d)) {
        g_assert_cmpuint(state, ==, MMN_DMA_ST_BAD_DESC);
        f->oracle_hits++;
    }
    if (state == MMN_DMA_ST_BAD_DESC && !desc_bad(f, d)) {
        /* only an unbound context is left */
        g_assert_cmpuint(cfg, ==, 0);
    }
    g_assert_cmphex(out.status, ==, st);
    g_assert_cmpuint(out.done, <=, d->len);
    if (state == MMN_DMA_ST_DONE) {
        g_assert_cmpuint(out.done, ==, d->len);
        g_assert_false(desc_bad(f, d));
    }
    if (state == MMN_DMA_ST_STALLED) {
        g_assert_true(cfg & MMN_CTX_CFG_STALL);
    }
    if (state == MMN_DMA_ST_FAULT) {
        g_assert_false(cfg & MMN_CTX_CFG_STALL);
    }
}

static void rnd_cmd_send(Fuzz *f);

/*
 * One random DMA on a DMA context: fresh tables with a random walk, a
 * random binding, maybe an open range or a release first, then resume /
 * abort / fix / unblock until it ends (at most MAX_DMA_ROUNDS rounds).
 */
static void rnd_dma(Fuzz *f)
{
    unsigned ctx = f->num_ctx / 2 + rnd(f, f->num_ctx - f->num_ctx / 2);
    unsigned va_bits, rounds = 0;
    uint64_t cfg;
    MmnDmaDesc d;
    uint32_t state;
    MmnCmd c;

    dma_force_end(f);
    cfg = dma_bind(f, ctx, &va_bits);
    rnd_desc(f, ctx, va_bits, &d);
    build_walk(f, ctx, va_bits, d.va, false);
    if (chance(f, 20)) {
        /* a second walk in the same tables, maybe the next page */
        build_walk(f, ctx, va_bits, d.va + PAGE * rnd(f, 3), false);
    }
    if (cfg && chance(f, 8)) {
        c = mk_cmd_init(MMN_CMD_MN_RANGE_START, ctx);
        c.arg = rnd(f, 9) | (chance(f, 70) ? MMN_CMD_RANGE_BLOCKABLE : 0);
        c.a0 = d.va & ~(PAGE - 1);
        c.a1 = c.a0 + PAGE * (1 + rnd(f, 4));
        c.a3 = f->k->res;
        fz_cmd(f, &c);
    } else if (cfg && chance(f, 4)) {
        c = mk_cmd_init(MMN_CMD_MN_RELEASE, ctx);
        fz_cmd(f, &c);
    }

    mk_dma_submit(f->k, &d, NULL);
    dma_check(f, &d, cfg);
    state = dma_state_now(f);
    while (!dma_terminal(state)) {
        if (++rounds > MAX_DMA_ROUNDS) {
            /* the forced end below always works on a sane device */
            g_assert_true(f->chaos);
            break;
        }
        if (state == MMN_DMA_ST_STALLED) {
            unsigned r = rnd(f, 100);

            f->dma_stalls++;
            drain_events(f);
            if (rounds == MAX_DMA_ROUNDS || r < 15) {
                c = mk_cmd_init(MMN_CMD_DMA_ABORT, 0);
                cmd_must(f, &c);
                f->dma_aborts++;
            } else if (r < 35) {
                /* the driver fixes the tables and invalidates */
                uint64_t fva = qmmn_readl(&f->dev, A_DMA_FAULT_VA_LO) |
                    (uint64_t)qmmn_readl(&f->dev, A_DMA_FAULT_VA_HI) << 32;

                if (build_walk(f, ctx, va_bits, fva, true)) {
                    c = mk_cmd_init(MMN_CMD_TLBI_PAGE, ctx);
                    c.a0 = fva;
                    fz_cmd(f, &c);
                    c = mk_cmd_init(MMN_CMD_DMA_RESUME, 0);
                    fz_cmd(f, &c);
                    f->dma_fixes++;
                } else {
                    c = mk_cmd_init(MMN_CMD_DMA_ABORT, 0);
                    cmd_must(f, &c);
                    f->dma_aborts++;
                }
            } else if (r < 45) {
                rnd_cmd_send(f);        /* anything, while stalled */
            } else {
                c = mk_cmd_init(MMN_CMD_DMA_RESUME, 0);
                cmd_must(f, &c);
                f->dma_resumes++;
            }
        } else if (state == MMN_DMA_ST_BLOCKED) {
            if (rounds < MAX_DMA_ROUNDS && chance(f, 70)) {
                end_open_ranges(f, ctx);
                f->dma_unblocks++;
            } else {
                dma_force_end(f);
            }
        } else {
            /* IDLE: the doorbell was ignored (DMA_EN scrambled) */
            g_assert_true(f->chaos);
            break;
        }
        if (!f->chaos && dma_state_now(f) != MMN_DMA_ST_IDLE) {
            dma_check(f, &d, f->dma_cfg[ctx]);
        }
        state = dma_state_now(f);
        if (rounds >= MAX_DMA_ROUNDS) {
            state = dma_force_end(f);
        }
    }
    f->dma_state[state]++;
    drain_events(f);
    qmmn_writel(&f->dev, A_IRQ_STATUS, R_IRQ_STATUS_DMA_DONE_MASK);
}

static void rnd_cmd_send(Fuzz *f)
{
    MmnCmd c;

    rnd_cmd(f, &c);
    fz_cmd(f, &c);
    if (c.opcode == MMN_CMD_DMA_RESUME || c.opcode == MMN_CMD_MN_RANGE_END ||
        c.opcode == MMN_CMD_CTX_UNBIND || c.opcode == MMN_CMD_MN_RELEASE) {
        drain_events(f);
    }
}

/* ---------------------------------------------------------------- */
/* MMIO                                                              */

static bool reg_defined(uint32_t off)
{
    static const uint32_t regs[] = {
        A_ID, A_VERSION, A_FEATURES, A_NUM_CTX, A_IOTLB_CAP, A_QUEUE_CAPS,
        A_CTRL, A_STATUS, A_IRQ_STATUS, A_IRQ_ENABLE, A_CMDQ_BASE_LO,
        A_CMDQ_BASE_HI, A_CMDQ_PROD, A_CMDQ_CONS, A_CMDQ_ERR, A_CMDQ_ERR_ACK,
        A_EVTQ_BASE_LO, A_EVTQ_BASE_HI, A_EVTQ_PROD, A_EVTQ_CONS,
        A_EVTQ_LOST, A_DMA_DESC_LO, A_DMA_DESC_HI, A_DMA_DOORBELL,
        A_DMA_STATUS, A_DMA_FAULT_VA_LO, A_DMA_FAULT_VA_HI,
    };

    for (size_t i = 0; i < ARRAY_SIZE(regs); i++) {
        if (regs[i] == off) {
            return true;
        }
    }
    return false;
}

/* Registers a benign write must leave alone. */
static const uint32_t kept_regs[] = {
    A_ID, A_VERSION, A_FEATURES, A_NUM_CTX, A_IOTLB_CAP, A_QUEUE_CAPS,
    A_CTRL, A_STATUS, A_CMDQ_BASE_LO, A_CMDQ_BASE_HI, A_CMDQ_PROD,
    A_CMDQ_CONS, A_CMDQ_ERR, A_EVTQ_BASE_LO, A_EVTQ_BASE_HI, A_EVTQ_PROD,
    A_EVTQ_CONS, A_EVTQ_LOST, A_DMA_STATUS, A_DMA_FAULT_VA_LO,
    A_DMA_FAULT_VA_HI,
};

/*
 * A write the driver could make at any time without changing the
 * device's state: undefined and read-only offsets, the bases while the
 * queues are enabled, interrupt registers, a doorbell with bit 0 clear.
 */
static void rnd_mmio_benign(Fuzz *f)
{
    static const uint32_t ro_or_locked[] = {
        A_ID, A_VERSION, A_FEATURES, A_NUM_CTX, A_IOTLB_CAP, A_QUEUE_CAPS,
        A_STATUS, A_CMDQ_CONS, A_CMDQ_ERR, A_EVTQ_PROD, A_EVTQ_LOST,
        A_DMA_STATUS, A_DMA_FAULT_VA_LO, A_DMA_FAULT_VA_HI, A_CMDQ_BASE_LO,
        A_CMDQ_BASE_HI, A_EVTQ_BASE_LO, A_EVTQ_BASE_HI,
    };
    uint32_t before[ARRAY_SIZE(kept_regs)];
    uint32_t off, val = g_rand_int(f->rng);
    bool verify = chance(f, 30);

    switch (rnd(f, 6)) {
    case 0:
    case 1:
        do {
            off = rnd(f, MMN_SMMU_BAR0_SIZE / 4) * 4;
        } while (reg_defined(off));
        break;
    case 2:
        off = ro_or_locked[rnd(f, ARRAY_SIZE(ro_or_locked))];
        break;
    case 3:
        off = chance(f, 50) ? A_IRQ_ENABLE : A_IRQ_STATUS;
        break;
    case 4:
        off = chance(f, 50) ? A_DMA_DOORBELL : A_CMDQ_ERR_ACK;
        val &= ~1u;
        break;
    default:
        off = chance(f, 50) ? A_DMA_DESC_LO : A_DMA_DESC_HI;
        break;
    }
    if (verify) {
        for (size_t i = 0; i < ARRAY_SIZE(kept_regs); i++) {
            before[i] = qmmn_readl(&f->dev, kept_regs[i]);
        }
    }
    qmmn_writel(&f->dev, off, val);
    f->mmio_benign++;
    if (!reg_defined(off)) {
        g_assert_cmphex(qmmn_readl(&f->dev, off), ==, 0);
    }
    if (verify) {
        for (size_t i = 0; i < ARRAY_SIZE(kept_regs); i++) {
            uint32_t now = qmmn_readl(&f->dev, kept_regs[i]);

            if (now != before[i]) {
                g_test_message("write 0x%x to 0x%03x changed 0x%03x: 0x%x "
                               "-> 0x%x", val, off, kept_regs[i],
                               before[i], now);
            }
            g_assert_cmphex(now, ==, before[i]);
        }
    }
}

/*
 * Anything at any offset.  Address registers get halves of pool
 * addresses (else a random base could point into the sentinel, which the
 * device may then legitimately write).
 */
static void rnd_mmio_chaos(Fuzz *f)
{
    uint32_t off = rnd(f, MMN_SMMU_BAR0_SIZE / 4) * 4;
    uint32_t val = g_rand_int(f->rng);
    uint64_t a;

    if (chance(f, 50)) {
        static const uint32_t hot[] = {
            A_CTRL, A_CMDQ_BASE_LO, A_CMDQ_BASE_HI, A_CMDQ_PROD,
            A_CMDQ_ERR_ACK, A_EVTQ_BASE_LO, A_EVTQ_BASE_HI, A_EVTQ_CONS,
            A_DMA_DESC_LO, A_DMA_DESC_HI, A_DMA_DOORBELL, A_IRQ_ENABLE,
        };
        off = hot[rnd(f, ARRAY_SIZE(hot))];
    }
    switch (off) {
    case A_CMDQ_BASE_LO:
    case A_CMDQ_BASE_HI:
    case A_EVTQ_BASE_LO:
    case A_EVTQ_BASE_HI:
    case A_DMA_DESC_LO:
    case A_DMA_DESC_HI:
        do {
            a = pool_addr(f, PAGE, off == A_DMA_DESC_LO && chance(f, 80) ?
                          64 : 1);
            /* either half may pair with the other register's old half */
        } while ((uint32_t)a >= RAM_BASE && (uint32_t)a < ARENA_BASE);
        if (a >> 32 && a >> 32 != UINT32_MAX && chance(f, 50)) {
            a = (uint32_t)a;    /* keep the low half in RAM or MMIO */
        }
        val = (off & 4) ? a >> 32 : (uint32_t)a;
        if (off == A_CMDQ_BASE_LO || off == A_EVTQ_BASE_LO) {
            val = (val & ~0x1fu) | rnd(f, 32);
        }
        break;
    case A_CTRL:
        val = chance(f, 70) ? rnd(f, 8) : val;
        break;
    case A_CMDQ_PROD:
    case A_EVTQ_CONS:
        val = chance(f, 70) ? rnd(f, 64) : val;
        break;
    }
    qmmn_writel(&f->dev, off, val);
    f->mmio_chaos++;
}

/* ---------------------------------------------------------------- */
/* Known state                                                       */

/* Bind the contexts the command fuzzer plays with. */
static void bind_fuzz_ctxs(Fuzz *f)
{
    for (unsigned i = 0; i < f->num_ctx / 2; i++) {
        MmnCmd c = mk_cmd_init(MMN_CMD_CTX_BIND, i);

        c.a0 = DATA_BASE + (rnd64(f) % DATA_SIZE & ~(PAGE - 1));
        c.a1 = MMN_CTX_CFG_VA_BITS(chance(f, 50) ? 39 : 48) |
               MMN_CTX_CFG_OA_BITS(48) | MMN_CTX_CFG_HTTU(rnd(f, 3)) |
               (chance(f, 50) ? MMN_CTX_CFG_LEGACY_INV : 0);
        c.a2 = rnd(f, 3);
        cmd_must(f, &c);
    }
}

static void kernel_new(Fuzz *f)
{
    f->k = mk_new(&f->dev, &f->alloc, 2 + rnd(f, 5), 1 + rnd(f, 4));
    g_array_set_size(f->open, 0);
    memset(f->dma_cfg, 0, sizeof(f->dma_cfg));
    f->bound = 0;
    f->chaos = false;
    bind_fuzz_ctxs(f);
}

/* system_reset: every register back to its reset value. */
static void reestablish_reset(Fuzz *f)
{
    uint64_t bar = f->bar;

    qtest_system_reset(f->qts);
    qpci_config_writel(&f->dev.dev, PCI_BASE_ADDRESS_0, bar);
    qpci_device_enable(&f->dev.dev);
    mk_assert_reset_state(&f->dev);
    mk_free(f->k);
    kernel_new(f);
    f->resets++;
}

/*
 * A driver re-initialising a device in an unknown state, without reset:
 * queues off, error acknowledged, indexes resynchronised, queues on,
 * DMA ended, every context unbound.
 */
static void reestablish_reinit(Fuzz *f)
{
    MmnKernel *k = f->k;
    uint32_t prod;

    qmmn_writel(&f->dev, A_CTRL, 0);
    g_assert_cmphex(qmmn_readl(&f->dev, A_STATUS) & 7, ==, 0);
    qmmn_writel(&f->dev, A_IRQ_ENABLE, 0);
    if (FIELD_EX32(qmmn_readl(&f->dev, A_CMDQ_ERR), CMDQ_ERR, VALID)) {
        qmmn_writel(&f->dev, A_CMDQ_ERR_ACK, 1);
    }
    g_assert_cmphex(qmmn_readl(&f->dev, A_CMDQ_ERR), ==, 0);
    qmmn_writel(&f->dev, A_CMDQ_BASE_LO, (uint32_t)k->cmdq | k->cmdq_log2);
    qmmn_writel(&f->dev, A_CMDQ_BASE_HI, k->cmdq >> 32);
    qmmn_writel(&f->dev, A_EVTQ_BASE_LO, (uint32_t)k->evtq | k->evtq_log2);
    qmmn_writel(&f->dev, A_EVTQ_BASE_HI, k->evtq >> 32);
    /* empty both rings: indexes are [LOG2SIZE:0] of the new size */
    k->cmdq_prod = qmmn_readl(&f->dev, A_CMDQ_CONS);
    g_assert_cmphex(k->cmdq_prod, <=, mk_qmask(k->cmdq_log2));
    qmmn_writel(&f->dev, A_CMDQ_PROD, k->cmdq_prod);
    g_assert_cmphex(qmmn_readl(&f->dev, A_CMDQ_PROD), ==, k->cmdq_prod);
    prod = qmmn_readl(&f->dev, A_EVTQ_PROD);
    g_assert_cmphex(prod, <=, mk_qmask(k->evtq_log2));
    k->evtq_cons = prod;
    qmmn_writel(&f->dev, A_EVTQ_CONS, prod);
    g_assert_cmphex(qmmn_readl(&f->dev, A_EVTQ_CONS), ==, prod);
    qmmn_writel(&f->dev, A_IRQ_STATUS, 0x1f);
    qmmn_writel(&f->dev, A_CTRL, R_CTRL_CMDQ_EN_MASK | R_CTRL_EVTQ_EN_MASK |
                R_CTRL_DMA_EN_MASK);
    g_assert_cmphex(qmmn_readl(&f->dev, A_STATUS) & 7, ==, 7);
    f->chaos = false;
    dma_force_end(f);
    for (unsigned i = 0; i < f->num_ctx; i++) {
        unbind_quiet(f, i);
    }
    g_assert_cmpuint(qmmn_readl(&f->dev, A_STATUS), ==, 7);
    g_array_set_size(f->open, 0);
    f->bound = 0;
    bind_fuzz_ctxs(f);
    f->reinits++;
}

/* A command and a DMA by the book still work. */
static void known_good(Fuzz *f)
{
    MmnKernel *k = f->k;
    uint64_t va = 0x2000000000ULL + 0x300000;
    uint64_t buf = mk_alloc(k, 3 * PAGE, PAGE);
    g_autofree uint8_t *got = g_malloc(2 * PAGE);
    g_autofree uint8_t *want = g_malloc(2 * PAGE);
    MmnCheckReport rep;
    MmnDmaDesc d, out;
    unsigned ctx = f->num_ctx - 1;
    MkMm *mm;
    uint32_t st;

    drain_events(f);
    mk_sync(k);
    unbind_quiet(f, ctx);
    mm = mk_mm_new(k, MK_LINUX_6_6, ctx, 39, 0);
    mk_mmap_populate(mm, va, 2 * PAGE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    d = mk_dma_desc(MMN_DMA_OP_READ, ctx, va + 0x10, 2 * PAGE - 0x20, buf,
                    0);
    st = mk_dma_submit(k, &d, &out);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(out.done, ==, d.len);
    qtest_memread(f->qts, buf, got, d.len);
    mk_cpu_read(mm, va + 0x10, want, d.len);
    g_assert_cmpmem(got, d.len, want, d.len);

    d = mk_dma_desc(MMN_DMA_OP_FILL, ctx, va + 4, 0x100, 0, 0x12345678);
    st = mk_dma_submit(k, &d, NULL);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    mk_cpu_read(mm, va + 4, got, 4);
    g_assert_cmphex(ldl_le_p(got), ==, 0x12345678);

    mk_check(k, ctx, &rep);
    g_assert_cmpuint(rep.stale, ==, 0);
    mk_mm_free(mm);
    g_assert_cmpuint(mk_evt_drain(k), ==, 0);
    f->known_good++;
}

/* ---------------------------------------------------------------- */
/* The tests                                                         */

static void fuzz_report(Fuzz *f)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "%s: %u steps; commands: %u ok", f->cfg->name,
                           f->steps, f->cmd_ok);
    for (unsigned i = 1; i < ARRAY_SIZE(reason_names); i++) {
        g_string_append_printf(s, ", %s %u", reason_names[i], f->cmd_err[i]);
    }
    g_test_message("%s", s->str);
    g_string_truncate(s, 0);
    g_string_append_printf(s, "%s: DMA:", f->cfg->name);
    for (unsigned i = 1; i < ARRAY_SIZE(f->dma_state); i++) {
        g_string_append_printf(s, " %s %u", mk_dma_state_name(i),
                               f->dma_state[i]);
    }
    g_string_append_printf(s, "; stalls %u, resumes %u, fixes %u, aborts "
                           "%u, unblocks %u, forced ends %u", f->dma_stalls,
                           f->dma_resumes, f->dma_fixes, f->dma_aborts,
                           f->dma_unblocks, f->dma_forced);
    g_test_message("%s", s->str);
    g_test_message("%s: events %u; MMIO writes: benign %u, chaos %u; "
                   "resets %u, re-inits %u, known-good checks %u; exactly "
                   "predicted outcomes %u", f->cfg->name, f->events,
                   f->mmio_benign, f->mmio_chaos, f->resets, f->reinits,
                   f->known_good, f->oracle_hits);
    g_string_free(s, true);
}

static void fuzz_run(gconstpointer data)
{
    const TestCfg *cfg = data;
    Fuzz *f = g_new0(Fuzz, 1);
    gint64 t0 = g_get_monotonic_time();
    unsigned since_round = 0, chaos_left = 0;

    fuzz_start(f, cfg, cfg->idx);
    sentinel_fill(f);
    arena_fill(f);
    mk_assert_reset_state(&f->dev);
    kernel_new(f);
    known_good(f);

    for (f->steps = 0; f->steps < fuzz_iters; f->steps++) {
        unsigned act = pick_weighted(f, cfg->weight, NR_ACTS);

        switch (act) {
        case ACT_CMD:
            rnd_cmd_send(f);
            break;
        case ACT_DMA:
            rnd_dma(f);
            break;
        case ACT_MMIO:
            if (f->chaos) {
                rnd_mmio_chaos(f);
            } else {
                rnd_mmio_benign(f);
            }
            break;
        case ACT_CHAOS:
            if (!f->chaos) {
                f->chaos = true;
                chaos_left = 1 + rnd(f, CHAOS_STEPS);
            }
            rnd_mmio_chaos(f);
            break;
        }
        if (f->steps % ID_EVERY == 0) {
            check_alive(f);
        }
        if ((f->chaos && !--chaos_left) ||
            (cfg->round && ++since_round >= cfg->round)) {
            /* back to a known state: by reset, or as a driver would */
            since_round = 0;
            check_alive(f);
            if (f->chaos || chance(f, 50)) {
                if (chance(f, 50)) {
                    reestablish_reset(f);
                } else {
                    reestablish_reinit(f);
                }
            }
            known_good(f);
        }
    }

    check_alive(f);
    reestablish_reinit(f);
    known_good(f);
    reestablish_reset(f);
    known_good(f);
    sentinel_check(f);
    check_running(f);
    fuzz_report(f);
    g_test_message("%s: %.1f s", cfg->name,
                   (g_get_monotonic_time() - t0) / 1e6);

    mk_free(f->k);
    qtest_quit(f->qts);
    alloc_destroy(&f->alloc);
    g_array_free(f->open, true);
    g_rand_free(f->rng);
    g_free(f);
}

static const TestCfg tests[] = {
    {
        .idx = 0, .name = "commands", .props = "",
        .weight = { [ACT_CMD] = 90, [ACT_MMIO] = 10 },
        .round = 400,
    }, {
        .idx = 1, .name = "dma",
        .props = ",livelock-threshold=4,iotlb-capacity=16",
        .weight = { [ACT_CMD] = 15, [ACT_DMA] = 80, [ACT_MMIO] = 5 },
        .round = 300,
    }, {
        .idx = 2, .name = "mmio", .props = ",num-ctx=4",
        .weight = { [ACT_CMD] = 30, [ACT_DMA] = 20, [ACT_MMIO] = 40,
                    [ACT_CHAOS] = 10 },
        .round = 100,
    }, {
        .idx = 3, .name = "mixed", .props = ",num-ctx=16,iotlb-capacity=64",
        .weight = { [ACT_CMD] = 50, [ACT_DMA] = 35, [ACT_MMIO] = 13,
                    [ACT_CHAOS] = 2 },
        .round = 150,
    },
};

int main(int argc, char **argv)
{
    const char *seed = g_getenv("MMN_FUZZ_SEED");
    const char *iters = g_getenv("MMN_FUZZ_ITERS");
    uint64_t v;

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
    g_test_message("seed %" PRIu64 " (set MMN_FUZZ_SEED to change), %u "
                   "steps per test (MMN_FUZZ_ITERS)", fuzz_seed, fuzz_iters);
    for (size_t i = 0; i < ARRAY_SIZE(tests); i++) {
        g_autofree char *path = g_strdup_printf("/mmn-smmu/robustness/%s",
                                                tests[i].name);

        qtest_add_data_func(path, &tests[i], fuzz_run);
    }
    return g_test_run();
}
