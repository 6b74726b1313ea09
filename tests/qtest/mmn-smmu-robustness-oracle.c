/*
 * mmn-smmu robustness qtest, the command oracle: random commands, the
 * outcome docs/specs/mmn-smmu.rst predicts for each (cmd_predict), the
 * checks of a command that succeeded, the test's model of bound
 * contexts and open ranges, and the event queue drain that checks every
 * record.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-smmu-robustness.h"

/* ---------------------------------------------------------------- */
/* Commands                                                          */

/* What the spec lets each opcode use (docs/specs/mmn-smmu.rst). */
enum { U_CTX = 1, U_ARG = 2, U_A0 = 4, U_A1 = 8, U_A2 = 16, U_A3 = 32 };

typedef struct OpSpec {
    uint8_t op;
    uint8_t uses;
    uint8_t flags;                  /* allowed flag bits */
    uint32_t arg;                   /* allowed arg bits */
} OpSpec;

static const OpSpec op_specs[] = {
    { MMN_CMD_SYNC, U_ARG | U_A0, 0x3, UINT32_MAX },
    { MMN_CMD_CTX_BIND, U_CTX | U_A0 | U_A1 | U_A2 },
    { MMN_CMD_CTX_UNBIND, U_CTX },
    { MMN_CMD_TLBI_PAGE, U_CTX | U_A0 },
    { MMN_CMD_TLBI_RANGE, U_CTX | U_A0 | U_A1 },
    { MMN_CMD_TLBI_CTX, U_CTX },
    { MMN_CMD_TLBI_ALL, 0 },
    { MMN_CMD_MN_RANGE_START, U_CTX | U_ARG | U_A0 | U_A1 | U_A2 | U_A3, 0,
      0x1ff },
    { MMN_CMD_MN_RANGE_END, U_CTX | U_ARG | U_A0 | U_A1 | U_A2, 0, 0x3ff },
    { MMN_CMD_MN_SECONDARY_TLBS, U_CTX | U_A0 | U_A1 },
    { MMN_CMD_MN_CLEAR_FLUSH_YOUNG, U_CTX | U_A0 | U_A1 | U_A3 },
    { MMN_CMD_MN_CLEAR_YOUNG, U_CTX | U_A0 | U_A1 | U_A3 },
    { MMN_CMD_MN_TEST_YOUNG, U_CTX | U_A0 | U_A3 },
    { MMN_CMD_MN_TEST_CLEAR_YOUNG, U_CTX | U_ARG | U_A0 | U_A1 | U_A2 | U_A3,
      0, 1 },
    { MMN_CMD_MN_CHANGE_PTE, U_CTX | U_A0 | U_A1 },
    { MMN_CMD_MN_RELEASE, U_CTX },
    { MMN_CMD_DMA_RESUME, 0 },
    { MMN_CMD_DMA_ABORT, 0 },
    { MMN_CMD_CHECK, U_CTX | U_A0 },
};

static const OpSpec *op_spec(uint8_t op)
{
    for (size_t i = 0; i < ARRAY_SIZE(op_specs); i++) {
        if (op_specs[i].op == op) {
            return &op_specs[i];
        }
    }
    return NULL;
}

static bool fields_clean(const MmnCmd *c, const OpSpec *s)
{
    return !(c->flags & ~s->flags) && !(c->arg & ~s->arg) &&
           ((s->uses & U_CTX) || !c->ctx) && ((s->uses & U_A0) || !c->a0) &&
           ((s->uses & U_A1) || !c->a1) && ((s->uses & U_A2) || !c->a2) &&
           ((s->uses & U_A3) || !c->a3) &&
           !c->reserved[0] && !c->reserved[1] && !c->reserved[2];
}

static bool range_aligned(uint64_t start, uint64_t end)
{
    return end > start && !(start & (PAGE - 1)) && !(end & (PAGE - 1));
}

/* The reason the spec leaves no choice about, or -1. */
static int cmd_predict(Fuzz *f, const MmnCmd *c)
{
    const OpSpec *s = op_spec(c->opcode);

    if (!s) {
        return MMN_CMDQ_ERR_OPCODE;
    }
    if (!fields_clean(c, s)) {
        return MMN_CMDQ_ERR_RESERVED;
    }
    if ((s->uses & U_CTX) && c->ctx >= f->num_ctx &&
        !(c->opcode == MMN_CMD_CHECK && c->ctx == MMN_CMD_CTX_ALL)) {
        return MMN_CMDQ_ERR_BAD_CTX;
    }
    switch (c->opcode) {
    case MMN_CMD_SYNC:
        if (!(c->flags & MMN_CMD_SYNC_F_WRITE)) {
            return (c->a0 || c->arg) ? MMN_CMDQ_ERR_RESERVED : 0;
        }
        return addr_ok(c->a0, 4, 4) ? 0 : MMN_CMDQ_ERR_BAD_ADDR;
    case MMN_CMD_TLBI_ALL:
        return 0;
    case MMN_CMD_DMA_RESUME:
    case MMN_CMD_DMA_ABORT:
        return (qmmn_readl(&f->dev, A_STATUS) & R_STATUS_DMA_STALLED_MASK) ?
               0 : MMN_CMDQ_ERR_NOT_STALLED;
    case MMN_CMD_CHECK:
        if (c->ctx == MMN_CMD_CTX_ALL) {
            return addr_ok(c->a0, MMN_CHECK_REPORT_SIZE, 8) ? 0 :
                   MMN_CMDQ_ERR_BAD_ADDR;
        }
        break;
    }
    return -1;
}

/*
 * The TTB alignment CTX_BIND requires (docs/specs/mmn-smmu.rst, "Context
 * configuration"): the start-level table's size, at least 64 bytes with
 * a 52-bit OA; 0 for a configuration that never binds.
 */
static uint64_t bind_ttb_align(uint64_t cfg)
{
    unsigned va = cfg & 0xff, oa = (cfg >> 8) & 0xff;
    static const unsigned gshift[] = { 12, 16, 14, 0 };
    unsigned g = gshift[MMN_CTX_CFG_GRANULE_OF(cfg)];
    uint64_t bytes;
    int start;

    if (!g || va <= g || va > 52) {
        return 0;
    }
    start = 4 - (int)DIV_ROUND_UP(va - g, g - 3);
    bytes = 8ULL << (va - (g + (g - 3) * (3 - start)));
    return oa == 52 ? MAX(bytes, 64) : bytes;
}

/*
 * A command that succeeded must have had valid operands: every address it
 * wrote to is RAM and aligned, every range well-formed.
 */
static void cmd_check_success(Fuzz *f, const MmnCmd *c)
{
    bool ok = true;

    switch (c->opcode) {
    case MMN_CMD_SYNC:
        ok = !(c->flags & MMN_CMD_SYNC_F_WRITE) || addr_ok(c->a0, 4, 4);
        break;
    case MMN_CMD_CHECK:
        ok = addr_ok(c->a0, MMN_CHECK_REPORT_SIZE, 8);
        break;
    case MMN_CMD_CTX_BIND:
        ok = !(c->a0 & (bind_ttb_align(c->a1) - 1)) &&
             !(c->a1 & MMN_CTX_CFG_RESERVED);
        break;
    case MMN_CMD_MN_RANGE_START:
    case MMN_CMD_MN_CLEAR_FLUSH_YOUNG:
    case MMN_CMD_MN_CLEAR_YOUNG:
    case MMN_CMD_MN_TEST_CLEAR_YOUNG:
        ok = range_aligned(c->a0, c->a1) &&
             (!c->a3 || addr_ok(c->a3, 4, 4));
        if (ok && c->opcode == MMN_CMD_MN_TEST_CLEAR_YOUNG && c->a2) {
            uint64_t pages = (c->a1 - c->a0) / PAGE;

            ok = pages <= 65536 &&
                 addr_ok(c->a2, DIV_ROUND_UP(pages, 64) * 8, 8);
        }
        break;
    case MMN_CMD_MN_RANGE_END:
        ok = range_aligned(c->a0, c->a1);
        break;
    case MMN_CMD_MN_TEST_YOUNG:
        ok = !c->a3 || addr_ok(c->a3, 4, 4);
        break;
    case MMN_CMD_TLBI_RANGE:
    case MMN_CMD_MN_SECONDARY_TLBS:
        ok = c->a1 > c->a0;
        break;
    }
    if (!ok) {
        g_test_message("command 0x%02x flags 0x%x ctx %u arg 0x%x a0 0x%"
                       PRIx64 " a1 0x%" PRIx64 " a2 0x%" PRIx64 " a3 0x%"
                       PRIx64 " succeeded with invalid operands", c->opcode,
                       c->flags, c->ctx, c->arg, c->a0, c->a1, c->a2, c->a3);
    }
    g_assert_true(ok);
}

void open_ranges_drop_ctx(Fuzz *f, unsigned ctx)
{
    for (guint i = f->open->len; i-- > 0;) {
        if (g_array_index(f->open, OpenRange, i).ctx == ctx) {
            g_array_remove_index_fast(f->open, i);
        }
    }
}

/* Keep our view of open notifier ranges, for ending them later. */
static void cmd_track(Fuzz *f, const MmnCmd *c)
{
    OpenRange r = {
        .ctx = c->ctx, .arg = c->arg & ~MMN_CMD_RANGE_ONLY_END,
        .start = c->a0, .end = c->a1, .owner = c->a2,
    };

    switch (c->opcode) {
    case MMN_CMD_CTX_BIND:
        f->bound |= 1u << c->ctx;
        break;
    case MMN_CMD_MN_RANGE_START:
        if (c->a3 && (int32_t)qtest_readl(f->qts, c->a3) != 0) {
            return;         /* -EAGAIN: nothing is open */
        }
        g_array_append_val(f->open, r);
        break;
    case MMN_CMD_MN_RANGE_END:
        for (guint i = 0; i < f->open->len; i++) {
            OpenRange *o = &g_array_index(f->open, OpenRange, i);

            if (o->ctx == r.ctx && o->arg == r.arg && o->start == r.start &&
                o->end == r.end && o->owner == r.owner) {
                g_array_remove_index_fast(f->open, i);
                break;
            }
        }
        break;
    case MMN_CMD_CTX_UNBIND:
        f->bound &= ~(1u << c->ctx);
        open_ranges_drop_ctx(f, c->ctx);
        if (is_dma_ctx(f, c->ctx)) {
            f->dma_cfg[c->ctx] = 0;
        }
        break;
    }
}

/*
 * Send @c and check the command queue contract: either the command was
 * consumed (CONS == PROD, CMDQ_ERR not VALID), or the queue stopped on it
 * (CMDQ_ERR VALID, a reason 1..8, INDEX its slot, CONS on it, STOPPED and
 * the interrupt status bit set).  An error is acknowledged and the queue
 * must run again.  In chaos mode (registers scrambled) only the reason is
 * checked.  Returns 0 or the reason.
 */
uint32_t fz_cmd(Fuzz *f, const MmnCmd *c)
{
    MmnKernel *k = f->k;
    uint32_t slot = k->cmdq_prod & ((1u << k->cmdq_log2) - 1);
    int predicted = f->chaos ? -1 : cmd_predict(f, c);
    uint32_t cons, err, reason;

    mk_cmd_post(k, c);
    cons = qmmn_readl(&f->dev, A_CMDQ_CONS);
    err = qmmn_readl(&f->dev, A_CMDQ_ERR);
    reason = FIELD_EX32(err, CMDQ_ERR, VALID) ?
             FIELD_EX32(err, CMDQ_ERR, REASON) : 0;

    if (f->chaos) {
        if (FIELD_EX32(err, CMDQ_ERR, VALID)) {
            g_assert_cmpuint(reason, >=, 1);
            g_assert_cmpuint(reason, <=, 8);
            qmmn_writel(&f->dev, A_CMDQ_ERR_ACK, 1);
        }
        k->cmdq_prod = qmmn_readl(&f->dev, A_CMDQ_PROD) &
                       mk_qmask(k->cmdq_log2);
        f->cmd_err[reason]++;
        return reason;
    }

    if (predicted >= 0 && (uint32_t)predicted != reason) {
        g_test_message("command 0x%02x flags 0x%x ctx %u arg 0x%x a0 0x%"
                       PRIx64 " a1 0x%" PRIx64 " a2 0x%" PRIx64 " a3 0x%"
                       PRIx64 " res 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64
                       ": reason %u, the spec says %d", c->opcode, c->flags,
                       c->ctx, c->arg, c->a0, c->a1, c->a2, c->a3,
                       c->reserved[0], c->reserved[1], c->reserved[2],
                       reason, predicted);
        g_assert_cmpuint(reason, ==, predicted);
    }
    if (predicted >= 0) {
        f->oracle_hits++;
    }
    if (!reason) {
        g_assert_cmphex(cons, ==, k->cmdq_prod);
        cmd_check_success(f, c);
        cmd_track(f, c);
        f->cmd_ok++;
        return 0;
    }
    g_assert_cmpuint(reason, >=, 1);
    g_assert_cmpuint(reason, <=, 8);
    g_assert_cmpuint(FIELD_EX32(err, CMDQ_ERR, INDEX), ==, slot);
    g_assert_cmphex(cons, ==, (k->cmdq_prod - 1) & mk_qmask(k->cmdq_log2));
    g_assert_true(qmmn_readl(&f->dev, A_STATUS) &
                  R_STATUS_CMDQ_STOPPED_MASK);
    g_assert_true(qmmn_readl(&f->dev, A_IRQ_STATUS) &
                  R_IRQ_STATUS_CMDQ_ERR_MASK);
    qmmn_writel(&f->dev, A_CMDQ_ERR_ACK, 1);
    g_assert_false(FIELD_EX32(qmmn_readl(&f->dev, A_CMDQ_ERR), CMDQ_ERR,
                              VALID));
    g_assert_false(qmmn_readl(&f->dev, A_STATUS) &
                   R_STATUS_CMDQ_STOPPED_MASK);
    g_assert_cmphex(qmmn_readl(&f->dev, A_CMDQ_CONS), ==, k->cmdq_prod);
    qmmn_writel(&f->dev, A_IRQ_STATUS, R_IRQ_STATUS_CMDQ_ERR_MASK);
    f->cmd_err[reason]++;
    return reason;
}

/* A command that must succeed (unless the registers are scrambled). */
void cmd_must(Fuzz *f, const MmnCmd *c)
{
    uint32_t reason = fz_cmd(f, c);

    if (!f->chaos) {
        g_assert_cmpuint(reason, ==, 0);
    }
}

/* A VA range for the notifier and TLBI commands. */
static void rnd_range(Fuzz *f, uint64_t *start, uint64_t *end)
{
    uint64_t base = 0x2000000000ULL + VA_OFF_MIN +
                    (rnd(f, 0x800) << 12);
    uint64_t len = PAGE * (1 + rnd(f, chance(f, 80) ? 16 : 70000));

    switch (rnd(f, 10)) {
    case 0:                 /* unaligned */
        base += 1 + rnd(f, PAGE - 1);
        break;
    case 1:                 /* empty or backwards */
        len = chance(f, 50) ? 0 : -(PAGE * (1 + rnd(f, 4)));
        break;
    case 2:                 /* whole address space, as flush_tlb_mm */
        *start = 0;
        *end = chance(f, 50) ? UINT64_MAX : 1ULL << 48;
        return;
    case 3:                 /* wrapping */
        base = -(PAGE * (1 + rnd(f, 4)));
        break;
    }
    *start = base;
    *end = base + len;
}

static uint64_t rnd_bind_cfg(Fuzz *f)
{
    uint64_t va = chance(f, 85) ? 25 + rnd(f, 24) : rnd(f, 256);
    uint64_t oa = chance(f, 85) ? 32 + rnd(f, 17) : rnd(f, 256);
    uint64_t cfg = MMN_CTX_CFG_VA_BITS(va) | MMN_CTX_CFG_OA_BITS(oa) |
                   MMN_CTX_CFG_HTTU(rnd(f, chance(f, 90) ? 3 : 4)) |
                   (rnd64(f) & (MMN_CTX_CFG_UNPRIV | MMN_CTX_CFG_STALL |
                                MMN_CTX_CFG_LEGACY_INV));

    if (chance(f, 5)) {
        cfg |= rnd64(f) & MMN_CTX_CFG_RESERVED;
    }
    return cfg;
}

static uint16_t rnd_ctx(Fuzz *f)
{
    if (f->bound && chance(f, 75)) {
        unsigned i;

        do {
            i = rnd(f, f->num_ctx);
        } while (!(f->bound & (1u << i)));
        return i;
    }
    switch (rnd(f, 20)) {
    case 0:
        return f->num_ctx + rnd(f, 4);
    case 1:
        return MMN_CMD_CTX_ALL;
    case 2:
        return g_rand_int(f->rng);
    default:
        return rnd(f, f->num_ctx);
    }
}

/* A descriptor value for MN_CHANGE_PTE: random bits, OA from the pool. */
static uint64_t rnd_pte(Fuzz *f)
{
    return (rnd64(f) & ~PTE_OA) | (pool_oa(f) & PTE_OA);
}

void rnd_cmd(Fuzz *f, MmnCmd *c)
{
    const OpSpec *s;
    uint64_t start, end;

    memset(c, 0, sizeof(*c));
    if (chance(f, 85)) {
        c->opcode = op_specs[rnd(f, ARRAY_SIZE(op_specs))].op;
    } else {
        c->opcode = g_rand_int(f->rng);
    }
    s = op_spec(c->opcode);
    c->ctx = rnd_ctx(f);
    rnd_range(f, &start, &end);

    switch (c->opcode) {
    case MMN_CMD_SYNC:
        c->flags = rnd(f, 4);
        c->arg = g_rand_int(f->rng) & DATA_MASK;
        c->a0 = pool_addr(f, 4, 4);
        if (!(c->flags & MMN_CMD_SYNC_F_WRITE) && chance(f, 70)) {
            c->arg = c->a0 = 0;
        }
        break;
    case MMN_CMD_CTX_BIND:
        /* DMA contexts are bound by the DMA half only, on its tables. */
        if (is_dma_ctx(f, c->ctx)) {
            c->ctx = fuzz_ctx(f);
        }
        c->a0 = chance(f, 80) ? pool_addr(f, PAGE, PAGE) :
                                pool_addr(f, 8, 8);
        c->a1 = rnd_bind_cfg(f);
        c->a2 = chance(f, 50) ? 0 : rnd64(f);
        break;
    case MMN_CMD_TLBI_PAGE:
    case MMN_CMD_MN_TEST_YOUNG:
    case MMN_CMD_MN_CHANGE_PTE:
        c->a0 = chance(f, 90) ? start : rnd64(f);
        break;
    case MMN_CMD_TLBI_RANGE:
    case MMN_CMD_MN_RANGE_START:
    case MMN_CMD_MN_RANGE_END:
    case MMN_CMD_MN_SECONDARY_TLBS:
    case MMN_CMD_MN_CLEAR_FLUSH_YOUNG:
    case MMN_CMD_MN_CLEAR_YOUNG:
    case MMN_CMD_MN_TEST_CLEAR_YOUNG:
        c->a0 = start;
        c->a1 = end;
        break;
    case MMN_CMD_CHECK:
        c->a0 = pool_addr(f, MMN_CHECK_REPORT_SIZE, 8);
        break;
    }
    switch (c->opcode) {
    case MMN_CMD_MN_RANGE_START:
    case MMN_CMD_MN_RANGE_END:
        c->arg = rnd(f, 10) | (chance(f, 60) ? MMN_CMD_RANGE_BLOCKABLE : 0);
        if (c->opcode == MMN_CMD_MN_RANGE_END && chance(f, 30)) {
            c->arg |= MMN_CMD_RANGE_ONLY_END;
        }
        c->a2 = chance(f, 70) ? 0 : rnd(f, 4);
        break;
    case MMN_CMD_MN_TEST_CLEAR_YOUNG:
        c->arg = rnd(f, 2);
        c->a2 = chance(f, 40) ? 0 : pool_addr(f, 64, 8);
        break;
    case MMN_CMD_MN_CHANGE_PTE:
        c->a1 = rnd_pte(f);
        break;
    }
    if (s && (s->uses & U_A3) && chance(f, 70)) {
        c->a3 = pool_addr(f, 4, 4);
    }

    /* Now break some rules. */
    if (chance(f, 4)) {
        c->flags = g_rand_int(f->rng);
    }
    if (chance(f, 4)) {
        c->arg = g_rand_int(f->rng);
    }
    if (s && !(s->uses & U_CTX) && chance(f, 85)) {
        c->ctx = 0;
    }
    if (chance(f, 3)) {
        c->a0 = rnd64(f);
    }
    if (s && !(s->uses & U_A1) && chance(f, 4)) {
        c->a1 = rnd64(f);
    }
    if (s && !(s->uses & U_A2) && chance(f, 4)) {
        c->a2 = pool_addr(f, 4, 4);
    }
    if (s && !(s->uses & U_A3) && chance(f, 4)) {
        c->a3 = pool_addr(f, 4, 4);
    }
    if (chance(f, 4)) {
        c->reserved[rnd(f, 3)] = rnd64(f) | 1;
    }
}

/* ---------------------------------------------------------------- */
/* Events                                                            */

void drain_events(Fuzz *f)
{
    MmnKernel *k = f->k;
    unsigned n = 0;
    MmnEvt e;

    if (f->chaos) {
        /* our view of the ring may be stale: just catch up */
        k->evtq_cons = qmmn_readl(&f->dev, A_EVTQ_PROD) &
                       mk_qmask(k->evtq_log2);
        qmmn_writel(&f->dev, A_EVTQ_CONS, k->evtq_cons);
        return;
    }
    g_assert_cmpuint(((qmmn_readl(&f->dev, A_EVTQ_PROD) - k->evtq_cons) &
                      mk_qmask(k->evtq_log2)), <=, 1u << k->evtq_log2);
    while (mk_evt_pop(k, &e)) {
        bool ok = (e.type == MMN_EVT_FAULT || e.type == MMN_EVT_LIVELOCK) &&
                  e.kind >= 1 && e.kind <= 6 && e.level <= 3 &&
                  !(e.flags & ~0xf) && e.ctx < f->num_ctx &&
                  !e.reserved0 && !e.reserved1;

        if (!ok) {
            g_test_message("bad event: type %u kind %u level %u flags 0x%x "
                           "ctx %u va 0x%" PRIx64 " count %u", e.type,
                           e.kind, e.level, e.flags, e.ctx, e.va, e.count);
            f->bad_events++;
        }
        g_assert_true(ok);
        g_assert_cmpuint(++n, <=, 1u << k->evtq_log2);
        f->events++;
    }
    qmmn_writel(&f->dev, A_IRQ_STATUS, R_IRQ_STATUS_EVTQ_MASK |
                R_IRQ_STATUS_EVTQ_OVERFLOW_MASK);
}

