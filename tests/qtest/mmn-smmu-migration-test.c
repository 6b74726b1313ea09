/*
 * qtest for mmn-smmu migration (vmstate): a source QEMU with queues, two
 * bound contexts, a filled IOTLB, a DMA stalled on a fault, a stopped
 * command queue and pending interrupts migrates to a file; a destination
 * QEMU loads it and must show the same registers, the same stalled DMA and
 * bindings, and an empty IOTLB (docs/specs/mmn-smmu.rst, "Migration").
 *
 * The guest kernel (libqos/mmn-kernel) is built against the source; after
 * migration mk_attach() points it at the destination: its rings, indexes,
 * page tables and allocations are all in guest RAM, which migrates.
 *
 *   QTEST_QEMU_BINARY=qemu-system-aarch64 mmn-smmu-migration-test --tap
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "libqos/libqos-malloc.h"
#include "libqos/pci.h"
#include "libqos/generic-pcihost.h"
#include "libqos/mmn-smmu.h"
#include "libqos/mmn-kernel.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"
#include "hw/pci/pci_regs.h"

#define RAM_BASE        0x40000000ULL
#define RAM_SIZE        (512ULL << 20)
#define CMDLINE         "-M virt -cpu max -m 512M -nic none " \
                        "-device mmn-smmu,id=mmn,addr=04.0"
#define QOM_PATH        "/machine/peripheral/mmn"

#define VA39            0x2000000000ULL
#define VA_FILLED       (VA39 + 0x100000)   /* populated, read by DMA */
#define FILLED_LEN      (4 * MK_PAGE_SIZE)
#define VA_STALL        (VA39 + 0x200000)   /* mapped, not populated */
#define STALL_OFF       0x180
#define STALL_LEN       0x200
#define VA_NOVMA        (VA39 + 0x300000)   /* no VMA at all */
#define CTX_STALL       1
#define CTX_ABORT       2
#define CMDQ_LOG2       6
#define EVTQ_LOG2       1                   /* 2 records: one gets lost */
#define IRQ_EN          (R_IRQ_STATUS_SYNC_MASK | R_IRQ_STATUS_EVTQ_MASK | \
                         R_IRQ_STATUS_DMA_DONE_MASK)

typedef struct Guest {
    QTestState *qts;
    QGenericPCIBus bus;
    QMmnSmmu dev;
} Guest;

/* What must survive migration: the state registers, and the identity. */
#define NR_REGS (MK_NR_STATE_REGS + 2)

static MkReg migrated_reg(size_t i)
{
    static const MkReg ident[] = { { A_ID, "ID" }, { A_NUM_CTX, "NUM_CTX" } };

    return i < MK_NR_STATE_REGS ? mk_state_regs[i] :
                                  ident[i - MK_NR_STATE_REGS];
}

static QPCIAddress mmn_addr = {
    .devfn = QPCI_DEVFN(4, 0),
    .vendor_id = MMN_SMMU_PCI_VENDOR_ID,
    .device_id = MMN_SMMU_PCI_DEVICE_ID,
};

/* Start QEMU and find the device; the source also maps and enables it. */
static void guest_start(Guest *g, QGuestAllocator *alloc, bool incoming)
{
    g->qts = qtest_initf(CMDLINE "%s", incoming ? " -incoming defer" : "");
    qpci_init_generic(&g->bus, g->qts, alloc, false);
    qpci_device_init(&g->dev.dev, &g->bus.bus, &mmn_addr);
    if (!incoming) {
        g->dev.bar = qpci_iomap(&g->dev.dev, 0, NULL);
        qpci_device_enable(&g->dev.dev);
    }
}

/*
 * After migration the destination's config space is the source's: the BAR
 * is programmed already, nothing is written (qpci_iomap would reassign it).
 */
static void guest_adopt_bar(Guest *dst, const Guest *src)
{
    uint32_t bar0 = qpci_config_readl(&dst->dev.dev, PCI_BASE_ADDRESS_0);

    g_assert_cmphex(bar0 & PCI_BASE_ADDRESS_MEM_MASK, ==, src->dev.bar.addr);
    g_assert_true(qpci_config_readw(&dst->dev.dev, PCI_COMMAND) &
                  PCI_COMMAND_MEMORY);
    dst->dev.bar = src->dev.bar;
}

static uint64_t qom_counter(QTestState *qts, const char *name)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'qom-get', 'arguments': "
                           "{ 'path': %s, 'property': %s } }", QOM_PATH,
                           name);
    uint64_t v;

    g_assert_true(qdict_haskey(rsp, "return"));
    v = qdict_get_int(rsp, "return");

    qobject_unref(rsp);
    return v;
}

static char *migration_status(QTestState *qts)
{
    QDict *rsp = qtest_qmp_assert_success_ref(qts,
                     "{ 'execute': 'query-migrate' }");
    char *st = g_strdup(qdict_get_try_str(rsp, "status"));

    qobject_unref(rsp);
    return st;
}

/* Wait until migration on @qts completed or failed; true if completed. */
static bool migration_wait(QTestState *qts)
{
    gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;

    for (;;) {
        g_autofree char *st = migration_status(qts);

        if (st && !strcmp(st, "completed")) {
            return true;
        }
        if (st && !strcmp(st, "failed")) {
            return false;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(20 * 1000);
    }
}

static void migrate_to_file(QTestState *src, const char *uri)
{
    qtest_qmp_assert_success(src, "{ 'execute': 'migrate', "
                             "'arguments': { 'uri': %s } }", uri);
    g_assert_true(migration_wait(src));
}

/* migrate-incoming on @dst; true if the load completed. */
static bool migrate_from_file(QTestState *dst, const char *uri)
{
    qtest_qmp_assert_success(dst, "{ 'execute': 'migrate-incoming', "
                             "'arguments': { 'uri': %s, "
                             "'exit-on-error': false } }", uri);
    return migration_wait(dst);
}

static size_t reg_idx(uint32_t off)
{
    for (size_t i = 0; i < NR_REGS; i++) {
        if (migrated_reg(i).off == off) {
            return i;
        }
    }
    g_assert_not_reached();
}

static char *tmp_uri(char **path)
{
    int fd = g_file_open_tmp("mmn-smmu-mig-XXXXXX", path, NULL);

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    return g_strdup_printf("file:%s", *path);
}

/* Migrate @src through a file into a new destination @dst. */
static void migrate_guest(Guest *src, Guest *dst, QGuestAllocator *alloc)
{
    g_autofree char *path = NULL;
    g_autofree char *uri = tmp_uri(&path);

    migrate_to_file(src->qts, uri);
    guest_start(dst, alloc, true);
    g_assert_true(migrate_from_file(dst->qts, uri));
    guest_adopt_bar(dst, src);
    unlink(path);
}

static void snapshot_regs(QMmnSmmu *dev, uint32_t *regs)
{
    for (size_t i = 0; i < NR_REGS; i++) {
        regs[i] = qmmn_readl(dev, migrated_reg(i).off);
    }
}

/*
 * The source's state: what the destination must reproduce.  Returns the
 * data the stalled DMA writes (STALL_LEN bytes) in *@data.
 */
typedef struct SourceState {
    MmnKernel *k;
    MkMm *mm_stall;        /* CTX_STALL: STALL, IOTLB filled, stalled DMA */
    MkMm *mm_abort;        /* CTX_ABORT: no STALL, faults complete */
    uint64_t buf;           /* bounce buffer */
    uint8_t data[STALL_LEN];
    uint32_t regs[NR_REGS];
} SourceState;

static void source_setup(Guest *src, QGuestAllocator *alloc, SourceState *ss)
{
    MmnKernel *k;
    MmnDmaDesc d, out;
    MmnCheckReport rep;
    MmnCmd c;
    uint32_t st;
    g_autofree uint8_t *got = g_malloc(FILLED_LEN);
    g_autofree uint8_t *want = g_malloc(FILLED_LEN);

    mk_assert_reset_state(&src->dev);
    k = ss->k = mk_new(&src->dev, alloc, CMDQ_LOG2, EVTQ_LOG2);
    ss->buf = mk_alloc(k, 0x10000, 4096);

    /* CTX_STALL: a read DMA of populated pages fills the IOTLB. */
    ss->mm_stall = mk_mm_new(k, MK_LINUX_6_6, CTX_STALL, 39,
                             MMN_CTX_CFG_STALL);
    mk_mmap_populate(ss->mm_stall, VA_FILLED, FILLED_LEN,
                     MK_PROT_READ | MK_PROT_WRITE, MK_MAP_PRIVATE);
    d = mk_dma_desc(MMN_DMA_OP_READ, CTX_STALL, VA_FILLED, FILLED_LEN,
                    ss->buf, 0);
    st = mk_dma_submit(k, &d, &out);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    qtest_memread(src->qts, ss->buf, got, FILLED_LEN);
    mk_cpu_read(ss->mm_stall, VA_FILLED, want, FILLED_LEN);
    g_assert_cmpuint(ldl_le_p(want), ==, mk_fill_pattern(VA_FILLED));
    g_assert_cmpmem(got, FILLED_LEN, want, FILLED_LEN);
    mk_check(k, CTX_STALL, &rep);
    g_assert_cmpuint(rep.entries, >=, FILLED_LEN / MK_PAGE_SIZE);
    g_assert_cmpuint(rep.stale, ==, 0);
    g_assert_cmpuint(qom_counter(src->qts, "iotlb-fills"), >=,
                     FILLED_LEN / MK_PAGE_SIZE);

    /* CTX_ABORT: three faults into a 2-record EVTQ, one record lost. */
    ss->mm_abort = mk_mm_new(k, MK_LINUX_6_6, CTX_ABORT, 39, 0);
    for (int i = 0; i < 3; i++) {
        d = mk_dma_desc(MMN_DMA_OP_READ, CTX_ABORT, VA_NOVMA, 64, ss->buf, 0);
        st = mk_dma_submit(k, &d, NULL);
        g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_FAULT);
    }
    g_assert_cmpuint(mk_readl(k, A_EVTQ_LOST), ==, 1);
    g_assert_cmpuint(mk_evt_drain(k), ==, 2);

    /* Interrupts: some enabled, SYNC pending, DMA_DONE acknowledged. */
    mk_writel(k, A_IRQ_ENABLE, IRQ_EN);
    c = mk_cmd_init(MMN_CMD_SYNC, 0);
    c.flags = MMN_CMD_SYNC_F_IRQ;
    mk_cmd(k, &c);
    mk_writel(k, A_IRQ_STATUS, R_IRQ_STATUS_DMA_DONE_MASK);

    /* A write DMA into a mapped, unpopulated page stalls. */
    mk_mmap(ss->mm_stall, VA_STALL, MK_PAGE_SIZE,
            MK_PROT_READ | MK_PROT_WRITE, MK_MAP_PRIVATE);
    for (int i = 0; i < STALL_LEN; i++) {
        ss->data[i] = 0x5a ^ i ^ (i >> 8);
    }
    qtest_memwrite(src->qts, ss->buf, ss->data, STALL_LEN);
    d = mk_dma_desc(MMN_DMA_OP_WRITE, CTX_STALL, VA_STALL + STALL_OFF,
                    STALL_LEN, ss->buf, 0);
    st = mk_dma_submit(k, &d, &out);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_STALLED);
    g_assert_cmphex(out.fault_va, ==, VA_STALL + STALL_OFF);
    g_assert_cmpuint(mk_evt_pending(k), ==, 1);

    /* The command queue stops on a bad command, error left pending. */
    c = mk_cmd_init(0xee, 0);
    g_assert_cmpuint(mk_cmd_try(k, &c), ==, MMN_CMDQ_ERR_OPCODE);

    snapshot_regs(&src->dev, ss->regs);
    /* every register that can be is non-trivial here */
    st = ss->regs[reg_idx(A_STATUS)];
    g_assert_true(st & R_STATUS_DMA_STALLED_MASK);
    g_assert_true(st & R_STATUS_CMDQ_STOPPED_MASK);
    g_assert_cmphex(mk_readl(k, A_IRQ_STATUS), ==,
                    R_IRQ_STATUS_SYNC_MASK | R_IRQ_STATUS_EVTQ_MASK |
                    R_IRQ_STATUS_CMDQ_ERR_MASK |
                    R_IRQ_STATUS_EVTQ_OVERFLOW_MASK);
}

static void test_stalled_dma(void)
{
    QGuestAllocator alloc;
    Guest src = { 0 }, dst = { 0 };
    g_autofree SourceState *ss = g_new0(SourceState, 1);
    g_autofree uint8_t *got = g_malloc(FILLED_LEN);
    g_autofree uint8_t *want = g_malloc(FILLED_LEN);
    uint32_t regs[NR_REGS];
    MmnKernel *k, *k2;
    MmnDmaDesc d, out;
    MmnCheckReport rep;
    MmnEvt e;
    MmnCmd c;
    uint64_t misses, bar;
    uint32_t st;

    alloc_init(&alloc, 0, RAM_BASE, RAM_BASE + RAM_SIZE, 4096);
    guest_start(&src, &alloc, false);
    source_setup(&src, &alloc, ss);
    k = ss->k;

    migrate_guest(&src, &dst, &alloc);
    mk_attach(k, &dst.dev);

    /* Every register as on the source. */
    snapshot_regs(&dst.dev, regs);
    for (size_t i = 0; i < NR_REGS; i++) {
        if (regs[i] != ss->regs[i]) {
            g_test_message("%s: source 0x%x, destination 0x%x",
                           migrated_reg(i).name, ss->regs[i], regs[i]);
        }
        g_assert_cmphex(regs[i], ==, ss->regs[i]);
    }
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_readl(k, A_DMA_STATUS)), ==,
                     MMN_DMA_ST_STALLED);
    qtest_quit(src.qts);

    /* The IOTLB did not migrate. */
    g_assert_cmpuint(qom_counter(dst.qts, "iotlb-fills"), ==, 0);
    g_assert_cmpuint(qom_counter(dst.qts, "iotlb-hits"), ==, 0);

    /* The stopped command queue restarts on acknowledge. */
    st = regs[reg_idx(A_CMDQ_ERR)];
    g_assert_cmpuint(FIELD_EX32(st, CMDQ_ERR, REASON), ==,
                     MMN_CMDQ_ERR_OPCODE);
    mk_cmdq_ack(k);
    mk_sync(k);
    mk_check(k, MMN_CMD_CTX_ALL, &rep);
    g_assert_cmpuint(rep.entries, ==, 0);

    /*
     * The DMA engine still holds the stalled page, for the context still
     * bound: a non-blockable invalidation over it fails.
     */
    g_assert_cmpint(mk_mn_range_start(ss->mm_stall, MK_EV_CLEAR, false,
                                      VA_STALL, VA_STALL + MK_PAGE_SIZE, 0),
                    ==, -EAGAIN);

    /* The kernel handles the fault recorded on the source; resume. */
    g_assert_true(mk_evt_pop(k, &e));
    g_assert_cmpuint(e.type, ==, MMN_EVT_FAULT);
    g_assert_cmpuint(e.ctx, ==, CTX_STALL);
    g_assert_cmphex(e.va, ==, VA_STALL + STALL_OFF);
    g_assert_true(e.flags & MMN_EVT_F_STALLED);
    g_assert_true(e.flags & MMN_EVT_F_WRITE);
    g_assert_cmpuint(mk_evt_pending(k), ==, 0);
    g_assert_cmpint(mk_handle_mm_fault(ss->mm_stall, e.va, true), ==,
                    MK_FAULT_OK);
    c = mk_cmd_init(MMN_CMD_DMA_RESUME, 0);
    mk_cmd(k, &c);
    st = mk_readl(k, A_DMA_STATUS);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    g_assert_false(mk_readl(k, A_STATUS) &
                   (R_STATUS_DMA_STALLED_MASK | R_STATUS_DMA_BUSY_MASK));
    g_assert_true(mk_readl(k, A_IRQ_STATUS) & R_IRQ_STATUS_DMA_DONE_MASK);
    mk_dma_read_desc(k, &out);
    g_assert_cmphex(out.status, ==, st);
    g_assert_cmpuint(out.done, ==, STALL_LEN);
    g_assert_cmpuint(out.faults, ==, 1);
    mk_cpu_read(ss->mm_stall, VA_STALL + STALL_OFF, got, STALL_LEN);
    g_assert_cmpmem(got, STALL_LEN, ss->data, STALL_LEN);

    /* The pages cached on the source are walked again. */
    misses = qom_counter(dst.qts, "iotlb-misses");
    d = mk_dma_desc(MMN_DMA_OP_READ, CTX_STALL, VA_FILLED, FILLED_LEN,
                    ss->buf, 0);
    st = mk_dma_submit(k, &d, NULL);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(qom_counter(dst.qts, "iotlb-misses") - misses, >=,
                     FILLED_LEN / MK_PAGE_SIZE);
    qtest_memread(dst.qts, ss->buf, got, FILLED_LEN);
    mk_cpu_read(ss->mm_stall, VA_FILLED, want, FILLED_LEN);
    g_assert_cmpmem(got, FILLED_LEN, want, FILLED_LEN);

    /* CTX_ABORT is bound too: a fault, not a bad descriptor. */
    d = mk_dma_desc(MMN_DMA_OP_READ, CTX_ABORT, VA_NOVMA, 64, ss->buf, 0);
    st = mk_dma_submit(k, &d, NULL);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_FAULT);
    mk_evt_drain(k);

    /* Both unbind cleanly (an unbound context would be BAD_CTX). */
    mk_mm_free(ss->mm_stall);
    mk_mm_free(ss->mm_abort);

    /* Reset on the destination: reset values, contexts unbound. */
    mk_bind(k, CTX_STALL, mk_alloc(k, 4096, 4096),
            MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48));
    qtest_system_reset(dst.qts);
    bar = dst.dev.bar.addr;
    g_assert_cmphex(qpci_config_readl(&dst.dev.dev, PCI_BASE_ADDRESS_0) &
                    PCI_BASE_ADDRESS_MEM_MASK, !=, bar);
    qpci_config_writel(&dst.dev.dev, PCI_BASE_ADDRESS_0, bar);
    qpci_device_enable(&dst.dev.dev);
    mk_assert_reset_state(&dst.dev);
    k2 = mk_new(&dst.dev, &alloc, CMDQ_LOG2, 4);
    mk_check(k2, MMN_CMD_CTX_ALL, &rep);
    g_assert_cmpuint(rep.entries, ==, 0);
    c = mk_cmd_init(MMN_CMD_CTX_UNBIND, CTX_STALL);
    mk_cmd_expect_err(k2, &c, MMN_CMDQ_ERR_BAD_CTX);
    mk_free(k2);
    mk_free(k);

    qtest_quit(dst.qts);
    alloc_destroy(&alloc);
}

/*
 * The notifier layer's per-context state is part of the binding
 * (docs/specs/mmn-smmu.rst: "Context bindings migrate").
 */
typedef struct NotifierEnv {
    QGuestAllocator alloc;
    Guest src, dst;
    MmnKernel *k;
    MkMm *mm;
    uint64_t buf;
} NotifierEnv;

static void notifier_env_start(NotifierEnv *e)
{
    alloc_init(&e->alloc, 0, RAM_BASE, RAM_BASE + RAM_SIZE, 4096);
    guest_start(&e->src, &e->alloc, false);
    mk_assert_reset_state(&e->src.dev);
    e->k = mk_new(&e->src.dev, &e->alloc, CMDQ_LOG2, 4);
    e->buf = mk_alloc(e->k, 0x10000, 4096);
    e->mm = mk_mm_new(e->k, MK_LINUX_6_6, CTX_ABORT, 39, 0);
    mk_mmap_populate(e->mm, VA_FILLED, MK_PAGE_SIZE,
                     MK_PROT_READ | MK_PROT_WRITE, MK_MAP_PRIVATE);
}

static void notifier_env_migrate(NotifierEnv *e)
{
    migrate_guest(&e->src, &e->dst, &e->alloc);
    qtest_quit(e->src.qts);
    mk_attach(e->k, &e->dst.dev);
}

static void notifier_env_end(NotifierEnv *e)
{
    mk_mm_free(e->mm);
    mk_free(e->k);
    qtest_quit(e->dst.qts);
    alloc_destroy(&e->alloc);
}

static uint32_t dma_read(NotifierEnv *e)
{
    MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, CTX_ABORT, VA_FILLED, 64,
                               e->buf, 0);

    return MMN_DMA_STATUS_STATE(mk_dma_submit(e->k, &d, NULL));
}

/* MN_RELEASE holds until the context is unbound and bound again. */
static void test_released_ctx(void)
{
    NotifierEnv e = { 0 };
    MmnCmd c;

    notifier_env_start(&e);
    mk_release(e.mm);
    g_assert_cmpuint(dma_read(&e), ==, MMN_DMA_ST_RELEASED);
    notifier_env_migrate(&e);
    g_assert_cmpuint(dma_read(&e), ==, MMN_DMA_ST_RELEASED);
    /* a second release is a call after MN_RELEASE */
    c = mk_cmd_init(MMN_CMD_MN_RELEASE, CTX_ABORT);
    mk_cmd_expect_err(e.k, &c, MMN_CMDQ_ERR_MISUSE);
    notifier_env_end(&e);
}

/*
 * An invalidation opened by MN_RANGE_START stays open: the DMA it blocks
 * stays BLOCKED, and MN_RANGE_END closes it and resumes the DMA.
 */
static void test_open_range(void)
{
    NotifierEnv e = { 0 };
    MmnCmd c;

    notifier_env_start(&e);
    g_assert_cmpint(mk_mn_range_start(e.mm, MK_EV_CLEAR, true, VA_FILLED,
                                      VA_FILLED + MK_PAGE_SIZE, 0), ==, 0);
    g_assert_cmpuint(dma_read(&e), ==, MMN_DMA_ST_BLOCKED);
    notifier_env_migrate(&e);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_readl(e.k, A_DMA_STATUS)), ==,
                     MMN_DMA_ST_BLOCKED);
    c = mk_cmd_init(MMN_CMD_MN_RANGE_END, CTX_ABORT);
    c.arg = MK_EV_CLEAR | MMN_CMD_RANGE_BLOCKABLE;
    c.a0 = VA_FILLED;
    c.a1 = VA_FILLED + MK_PAGE_SIZE;
    g_assert_cmpuint(mk_cmd_try(e.k, &c), ==, 0);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_readl(e.k, A_DMA_STATUS)), ==,
                     MMN_DMA_ST_DONE);
    notifier_env_end(&e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/mmn-smmu/migration/stalled-dma", test_stalled_dma);
    qtest_add_func("/mmn-smmu/migration/released-ctx", test_released_ctx);
    qtest_add_func("/mmn-smmu/migration/open-range", test_open_range);
    return g_test_run();
}
