/*
 * qtest for mmn-smmu migration under load: the random mm sequences of
 * mmn-smmu-sequence-test.c (the same operations and reference,
 * mmn-smmu-sequence.h), migrated to a new QEMU in the middle of them
 * (docs/specs/mmn-smmu.rst, "Migration").
 *
 * A migration point is taken from inside the kernel model, right after
 * one of its notifier commands (mk_mm_set_observer()), in its fault
 * handler, or between two operations.  Four kinds, taken in turn:
 *  - open: an MN_RANGE_START without its MN_RANGE_END yet (munmap,
 *    mprotect, fork, COW, migrate_vma...), the change it announces not
 *    yet made;
 *  - stalled: the DMA engine stalled on a fault, the kernel's IOPF
 *    handler about to handle it (Seq's fault_fn);
 *  - released: right after exit_mmap's MN_RELEASE, before the DMA that
 *    must then be RELEASED;
 *  - idle: between two operations.
 * At every point the driver also leaves work in flight: commands queued
 * while CMDQ is disabled, and (when the engine is not parked) the FAULT
 * record and DMA result of a DMA on a second context, unread.  The
 * destination must show every register as the source had it, then run
 * the queued commands, hold the same event record and DMA result, and go
 * on with the sequence: the reference's checks (no dangerous access, a
 * stale read-only entry only where a profile's unnotified upgrade or a
 * CPU hardware dirty update explains it, nothing unexpected) hold
 * throughout.
 *
 * Each profile runs twice with the same seed: once migrating, once
 * without (the baseline does everything the same but sends TLBI_ALL
 * where the other migrates, since the destination's IOTLB starts empty).
 * Every outcome count of the two runs must be equal, except the number
 * of faults handled: the livelock detector's suspect is not migrated, so
 * a repeated fault counts again from 1 on the destination.
 *
 * Environment: MMN_MIGLOAD_SEED (default fixed), MMN_MIGLOAD_OPS
 * (operations per profile), MMN_MIGLOAD_EVERY (operations between
 * points).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "hw/pci/pci_regs.h"
#include "mmn-smmu-sequence.h"

/*
 * As the sequence qtest's QEMU (THRESHOLD) with less RAM (LOAD_RAM_SIZE):
 * every migration sends all of it.
 */
#define LOAD_RAM_SIZE   (256ULL << 20)
#define CMDLINE         "-M virt -cpu max -m 256M -nic none " \
                        "-device mmn-smmu,id=mmn,addr=04.0," \
                        "livelock-threshold=%d%s"
#define LOAD_SEED       0x6d1c0adULL
#define LOAD_OPS        160
#define LOAD_EVERY      14
#define PATIENCE        40          /* ops a wanted kind may take */
#define CTX_SIDE        2           /* empty tables, no STALL */
#define SIDE_VA         0x1000000ULL
#define NR_QUEUED       3           /* commands left in a disabled CMDQ */

typedef enum Point {
    PT_OPEN, PT_STALLED, PT_RELEASED, PT_IDLE, NR_POINTS
} Point;

static const char *const point_names[NR_POINTS] = {
    "open", "stalled", "released", "idle",
};

typedef struct Load {
    Seq *s;
    bool migrate;
    bool armed;
    Point want;
    uint64_t armed_at;
    unsigned points[NR_POINTS];
    unsigned taken, side_events, queued;
    uint64_t side_desc, side_ttb, cookies;
    uint32_t cookie;
} Load;

static uint64_t load_seed = LOAD_SEED;
static uint64_t load_ops = LOAD_OPS;
static uint64_t load_every = LOAD_EVERY;

static QPCIAddress mmn_addr = {
    .devfn = QPCI_DEVFN(4, 0),
    .vendor_id = MMN_SMMU_PCI_VENDOR_ID,
    .device_id = MMN_SMMU_PCI_DEVICE_ID,
};

/* ---- migration through a file ---- */

static char *migration_status(QTestState *qts)
{
    QDict *rsp = qtest_qmp_assert_success_ref(qts,
                     "{ 'execute': 'query-migrate' }");
    char *st = g_strdup(qdict_get_try_str(rsp, "status"));

    qobject_unref(rsp);
    return st;
}

static void migration_wait(QTestState *qts)
{
    gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;

    for (;;) {
        g_autofree char *st = migration_status(qts);

        if (st && !strcmp(st, "completed")) {
            return;
        }
        g_assert_cmpstr(st, !=, "failed");
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(5 * 1000);
    }
}

/*
 * Migrate the sequence's QEMU to a new one and point everything at it:
 * the QTestState, the PCI bus and device views, the driver (mk_attach:
 * its rings, allocations and the mm model's tables are guest RAM).
 */
static void migrate_now(Seq *s)
{
    int fd;
    g_autofree char *path = NULL;
    g_autofree char *uri = NULL;
    QPCIBar bar = s->dev.bar;
    QTestState *dst;

    fd = g_file_open_tmp("mmn-smmu-migload-XXXXXX", &path, NULL);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    uri = g_strdup_printf("file:%s", path);
    qtest_qmp_assert_success(s->qts, "{ 'execute': 'migrate', "
                             "'arguments': { 'uri': %s } }", uri);
    migration_wait(s->qts);
    dst = qtest_initf(CMDLINE, THRESHOLD, " -incoming defer");
    qtest_qmp_assert_success(dst, "{ 'execute': 'migrate-incoming', "
                             "'arguments': { 'uri': %s, "
                             "'exit-on-error': false } }", uri);
    migration_wait(dst);
    unlink(path);
    qtest_quit(s->qts);

    s->qts = dst;
    qpci_init_generic(&s->bus, dst, &s->alloc, false);
    qpci_device_init(&s->dev.dev, &s->bus.bus, &mmn_addr);
    g_assert_cmphex(qpci_config_readl(&s->dev.dev, PCI_BASE_ADDRESS_0) &
                    PCI_BASE_ADDRESS_MEM_MASK, ==, bar.addr);
    s->dev.bar = bar;
    mk_attach(s->k, &s->dev);
}

/* ---- the work left in flight at a point ---- */

static void side_dma(Load *l)
{
    MmnKernel *k = l->s->k;
    MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, CTX_SIDE, SIDE_VA, 64,
                               l->s->buf, 0);
    uint8_t b[MMN_DMA_DESC_SIZE] = { 0 };
    uint32_t st;

    b[0] = d.op;
    stw_le_p(b + 2, d.ctx);
    stl_le_p(b + 4, d.len);
    stq_le_p(b + 8, d.va);
    stq_le_p(b + 16, d.buf);
    qtest_memwrite(k->qts, l->side_desc, b, sizeof(b));
    mk_writel(k, A_DMA_DESC_LO, (uint32_t)l->side_desc);
    mk_writel(k, A_DMA_DESC_HI, l->side_desc >> 32);
    mk_writel(k, A_DMA_DOORBELL, 1);
    st = mk_readl(k, A_DMA_STATUS);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_FAULT);
    g_assert_cmpuint(mk_evt_pending(k), ==, 1);
}

/* Pop the side DMA's FAULT record and check its result is still there. */
static void side_check(Load *l, const uint8_t *evt_before)
{
    MmnKernel *k = l->s->k;
    uint8_t b[MMN_EVT_SIZE];
    MmnEvt e;

    qtest_memread(k->qts, k->evtq + (k->evtq_cons &
                  ((1u << k->evtq_log2) - 1)) * MMN_EVT_SIZE, b, sizeof(b));
    g_assert_cmpmem(b, sizeof(b), evt_before, MMN_EVT_SIZE);
    g_assert_true(mk_evt_pop(k, &e));
    g_assert_cmpuint(e.type, ==, MMN_EVT_FAULT);
    g_assert_cmpuint(e.ctx, ==, CTX_SIDE);
    g_assert_cmphex(e.va, ==, SIDE_VA);
    g_assert_cmpuint(e.kind, ==, 1 /* TRANSLATION */);
    g_assert_cmpuint(mk_evt_pending(k), ==, 0);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(qtest_readl(k->qts,
                                                      l->side_desc + 32)),
                     ==, MMN_DMA_ST_FAULT);
    l->side_events++;
}

/* SYNC WRITEs posted while CMDQ is disabled: PROD moves, CONS does not. */
static void queue_commands(Load *l)
{
    MmnKernel *k = l->s->k;

    mk_writel(k, A_CTRL, mk_readl(k, A_CTRL) & ~R_CTRL_CMDQ_EN_MASK);
    for (unsigned i = 0; i < NR_QUEUED; i++) {
        MmnCmd c = mk_cmd_init(MMN_CMD_SYNC, 0);

        c.flags = MMN_CMD_SYNC_F_WRITE;
        c.arg = l->cookie + i;
        c.a0 = l->cookies + 4 * i;
        qtest_writel(k->qts, c.a0, 0);
        mk_cmd_post(k, &c);
    }
    g_assert_cmphex(mk_readl(k, A_CMDQ_CONS), !=, k->cmdq_prod);
}

static void run_queued(Load *l)
{
    MmnKernel *k = l->s->k;

    mk_writel(k, A_CTRL, mk_readl(k, A_CTRL) | R_CTRL_CMDQ_EN_MASK);
    g_assert_cmphex(mk_readl(k, A_CMDQ_CONS), ==, k->cmdq_prod);
    g_assert_false(FIELD_EX32(mk_readl(k, A_CMDQ_ERR), CMDQ_ERR, VALID));
    for (unsigned i = 0; i < NR_QUEUED; i++) {
        g_assert_cmphex(qtest_readl(k->qts, l->cookies + 4 * i), ==,
                        l->cookie + i);
    }
    k->nr_cmds += NR_QUEUED;
    l->cookie += NR_QUEUED;
    l->queued += NR_QUEUED;
}

/* ---- points ---- */

static void take_point(Load *l, Point kind)
{
    Seq *s = l->s;
    MmnKernel *k = s->k;
    uint32_t status = mk_readl(k, A_STATUS);
    bool side = !(status & R_STATUS_DMA_BUSY_MASK);
    uint32_t before[MK_NR_STATE_REGS];
    uint8_t evt[MMN_EVT_SIZE] = { 0 };
    MmnCmd c;

    /* nothing of the sequence is ever left BLOCKED */
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_readl(k, A_DMA_STATUS)), !=,
                     MMN_DMA_ST_BLOCKED);
    g_assert_cmpuint(mk_evt_pending(k), ==, 0);
    if (side) {
        side_dma(l);
        qtest_memread(k->qts, k->evtq + (k->evtq_cons &
                      ((1u << k->evtq_log2) - 1)) * MMN_EVT_SIZE, evt,
                      sizeof(evt));
    }
    if (!l->migrate) {
        c = mk_cmd_init(MMN_CMD_TLBI_ALL, 0);
        mk_cmd(k, &c);
    }
    queue_commands(l);
    for (unsigned i = 0; i < MK_NR_STATE_REGS; i++) {
        before[i] = mk_readl(k, mk_state_regs[i].off);
    }
    if (l->migrate) {
        migrate_now(s);
    }
    for (unsigned i = 0; i < MK_NR_STATE_REGS; i++) {
        uint32_t now = mk_readl(k, mk_state_regs[i].off);

        if (now != before[i]) {
            g_test_message("%s point: %s 0x%x before, 0x%x after",
                           point_names[kind], mk_state_regs[i].name,
                           before[i], now);
        }
        g_assert_cmphex(now, ==, before[i]);
    }
    run_queued(l);
    if (side) {
        side_check(l, evt);
    }
    l->points[kind]++;
    l->taken++;
    l->armed = false;
}

/* The kernel model just sent a notifier command (@note). */
static void observer(MkMm *mm, const char *note, void *opaque)
{
    Load *l = opaque;

    if (!l->armed) {
        return;
    }
    if (l->want == PT_OPEN && g_str_has_prefix(note, "start(") &&
        !g_str_has_suffix(note, "=-11")) {
        take_point(l, PT_OPEN);
    } else if (l->want == PT_RELEASED && !strcmp(note, "release")) {
        take_point(l, PT_RELEASED);
    }
}

/* The kernel's IOPF handler, called with the DMA stalled on @va. */
static MkFaultRet fault_handler(MkMm *mm, uint64_t va, bool write,
                                void *opaque)
{
    Load *l = opaque;

    g_assert_true(mk_readl(l->s->k, A_STATUS) & R_STATUS_DMA_STALLED_MASK);
    if (l->armed && l->want == PT_STALLED) {
        take_point(l, PT_STALLED);
    }
    return mk_handle_mm_fault(mm, va, write);
}

/* ---- epochs, as mmn-smmu-sequence-test.c's, plus the side context ---- */

static void epoch_start(Load *l)
{
    Seq *s = l->s;
    uint64_t owner = chance(s, 50) ? OWN_COOKIE : 0;

    s->k = mk_new(&s->dev, &s->alloc, 8, 8);
    s->buf = mk_alloc(s->k, MK_PAGE_SIZE, MK_PAGE_SIZE);
    s->mm = mk_mm_new_owner(s->k, s->p, CTX, chance(s, 50) ? 39 : 48,
                            MMN_CTX_CFG_STALL, owner);
    mk_mm_set_subscriber(s->mm, chance(s, 50) ? MK_SUB_SVA : MK_SUB_MIRROR);
    mk_mm_set_cpu_hw_dbm(s->mm, chance(s, 50));
    mk_mm_set_observer(s->mm, observer, l);
    memset(s->slot, 0, sizeof(s->slot));
    g_array_set_size(s->retired, 0);
    s->stale_ro_ok = false;
    s->epoch_ops = 0;
    s->counts[C_EPOCHS]++;
    l->side_desc = mk_alloc(s->k, MMN_DMA_DESC_SIZE, 64);
    l->side_ttb = mk_alloc(s->k, 4096, 4096);
    l->cookies = mk_alloc(s->k, 4 * NR_QUEUED, 4);
    mk_bind(s->k, CTX_SIDE, l->side_ttb,
            MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48));
}

static void epoch_end(Load *l)
{
    Seq *s = l->s;

    mk_mm_free(s->mm);
    s->mm = NULL;
    mk_unbind(s->k, CTX_SIDE);
    mk_writel(s->k, A_CTRL, 0);
    mk_free(s->k);
    s->k = NULL;
}

/* ---- one run ---- */

static void load_run(MkProfile p, bool migrate, uint64_t *counts,
                     Load *out)
{
    uint64_t seed = load_seed * MK_NR_PROFILES + p;
    Seq *s = g_new0(Seq, 1);
    Load *l = g_new0(Load, 1);
    uint64_t bad = 0;
    gint64 t0 = g_get_monotonic_time();
    GString *msg = g_string_new(NULL);

    l->s = s;
    s->fault_fn = fault_handler;
    s->fault_opaque = l;
    l->migrate = migrate;
    l->cookie = 0x10ad0000;
    s->p = p;
    s->rng = g_rand_new_with_seed_array((const guint32[]) {
                                            (guint32)seed,
                                            (guint32)(seed >> 32) }, 2);
    s->retired = g_array_new(false, false, sizeof(Retired));
    alloc_init(&s->alloc, 0, RAM_BASE, RAM_BASE + LOAD_RAM_SIZE, 4096);
    s->qts = qtest_initf(CMDLINE, THRESHOLD, "");
    qpci_init_generic(&s->bus, s->qts, &s->alloc, false);
    qpci_device_init(&s->dev.dev, &s->bus.bus, &mmn_addr);
    s->dev.bar = qpci_iomap(&s->dev.dev, 0, NULL);
    qpci_device_enable(&s->dev.dev);

    epoch_start(l);
    for (s->op_index = 0; s->op_index < load_ops;) {
        Op op;

        if (!l->armed && s->op_index && s->op_index % load_every == 0 &&
            s->op_index != l->armed_at) {
            l->armed = true;
            l->armed_at = s->op_index;
            l->want = l->taken % NR_POINTS;
        }
        if (l->armed && (l->want == PT_IDLE ||
                         s->op_index - l->armed_at >= PATIENCE)) {
            /* between two operations (or the wanted kind did not come) */
            take_point(l, PT_IDLE);
        }
        op = l->armed && l->want == PT_RELEASED ? OP_RELEASE : pick_op(s);
        if (!run_op(s, op)) {
            continue;
        }
        s->op_index++;
        if (op == OP_RELEASE || ++s->epoch_ops == EPOCH_OPS) {
            epoch_end(l);
            epoch_start(l);
        }
    }
    epoch_end(l);

    g_string_append_printf(msg, "%s, %s: %" PRIu64 " operations in %.1f s; "
                           "points", mk_profile_name(p),
                           migrate ? "migrating" : "baseline", load_ops,
                           (g_get_monotonic_time() - t0) / 1e6);
    for (int i = 0; i < NR_POINTS; i++) {
        g_string_append_printf(msg, " %s=%u", point_names[i], l->points[i]);
    }
    g_string_append_printf(msg, "; queued commands run %u, side records "
                           "kept %u;", l->queued, l->side_events);
    for (int c = 0; c < NR_COUNTS; c++) {
        g_string_append_printf(msg, " %s=%" PRIu64, count_names[c],
                               s->counts[c]);
        if (c >= FIRST_BAD) {
            bad += s->counts[c];
        }
    }
    g_test_message("%s", msg->str);
    g_string_free(msg, true);
    memcpy(counts, s->counts, sizeof(s->counts));
    *out = *l;
    out->s = NULL;

    qtest_quit(s->qts);
    alloc_destroy(&s->alloc);
    g_array_free(s->retired, true);
    g_rand_free(s->rng);
    g_free(s);
    g_free(l);
    g_assert_cmpuint(bad, ==, 0);
}

static void load_test(const void *opaque)
{
    MkProfile p = GPOINTER_TO_INT(opaque);
    uint64_t base[NR_COUNTS], mig[NR_COUNTS];
    Load lb, lm;

    load_run(p, false, base, &lb);
    load_run(p, true, mig, &lm);
    /* every kind of point was taken, and the same in both runs */
    for (int i = 0; i < NR_POINTS; i++) {
        g_assert_cmpuint(lm.points[i], ==, lb.points[i]);
        g_assert_cmpuint(lm.points[i], >=, 1);
    }
    g_assert_cmpuint(lm.side_events, ==, lb.side_events);
    for (int c = 0; c < NR_COUNTS; c++) {
        if (c == C_DMA_FAULTS) {
            continue;
        }
        if (mig[c] != base[c]) {
            g_test_message("%s: %" PRIu64 " migrating, %" PRIu64
                           " without", count_names[c], mig[c], base[c]);
        }
        g_assert_cmpuint(mig[c], ==, base[c]);
    }
}

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *v = g_getenv(name);
    uint64_t n;

    if (!v || !*v) {
        return def;
    }
    if (qemu_strtou64(v, NULL, 0, &n) < 0 || !n) {
        fprintf(stderr, "%s must be a positive integer, not '%s'\n", name,
                v);
        exit(2);
    }
    return n;
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    load_seed = env_u64("MMN_MIGLOAD_SEED", LOAD_SEED);
    load_ops = env_u64("MMN_MIGLOAD_OPS", LOAD_OPS);
    load_every = env_u64("MMN_MIGLOAD_EVERY", LOAD_EVERY);
    g_test_message("seed %" PRIu64 " (MMN_MIGLOAD_SEED), %" PRIu64
                   " operations per profile (MMN_MIGLOAD_OPS), a point every "
                   "%" PRIu64 " (MMN_MIGLOAD_EVERY)", load_seed, load_ops,
                   load_every);
    for (int p = 0; p < MK_NR_PROFILES; p++) {
        g_autofree char *path = g_strdup_printf("/mmn-smmu/migration-load/%s",
                                                mk_profile_name(p));

        qtest_add_data_func(path, GINT_TO_POINTER(p), load_test);
    }
    return g_test_run();
}
