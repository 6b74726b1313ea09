/*
 * qtest for mmn-smmu's programming interface details a driver depends on
 * (docs/specs/mmn-smmu.rst): identity and write-only registers, bus
 * mastering, the doorbell's and the descriptor's rules, the FILL
 * pattern's phase, queue sizes and CMDQ_ERR's index, what a parked
 * (STALLED or BLOCKED) descriptor shows and which commands end it, when
 * a parked descriptor retries relative to a command batch, the young
 * result, and what a device reset leaves alone.  One QEMU per test.
 *
 *   QTEST_QEMU_BINARY=qemu-system-aarch64 mmn-smmu-interface-test --tap
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
#define CTX             1

/* Every FEATURES bit of this version but BTM (bit 8). */
#define FEATURES_ALL    0x3effu

typedef struct Env {
    QTestState *qts;
    QGuestAllocator alloc;
    QGenericPCIBus bus;
    QMmnSmmu dev;
    MmnKernel *k;
    MkMm *mm;
    uint64_t buf;
} Env;

static QPCIAddress mmn_addr = {
    .devfn = QPCI_DEVFN(4, 0),
    .vendor_id = MMN_SMMU_PCI_VENDOR_ID,
    .device_id = MMN_SMMU_PCI_DEVICE_ID,
};

/* QEMU, the device enabled (memory and bus master), a driver, no mm. */
static void env_start(Env *e, unsigned cmdq_log2)
{
    memset(e, 0, sizeof(*e));
    e->qts = qtest_init(CMDLINE);
    alloc_init(&e->alloc, 0, RAM_BASE, RAM_BASE + RAM_SIZE, 4096);
    qpci_init_generic(&e->bus, e->qts, &e->alloc, false);
    qpci_device_init(&e->dev.dev, &e->bus.bus, &mmn_addr);
    e->dev.bar = qpci_iomap(&e->dev.dev, 0, NULL);
    qpci_device_enable(&e->dev.dev);
    e->k = mk_new(&e->dev, &e->alloc, cmdq_log2, 6);
    e->buf = mk_alloc(e->k, 0x4000, 4096);
}

/* ... and a bound 39-bit context with @cfg, its VA39 page populated. */
static void env_start_mm(Env *e, uint64_t cfg)
{
    env_start(e, 6);
    e->mm = mk_mm_new(e->k, MK_LINUX_6_6, CTX, 39, cfg);
    mk_mmap_populate(e->mm, VA39, 4 * MK_PAGE_SIZE,
                     MK_PROT_READ | MK_PROT_WRITE, MK_MAP_PRIVATE);
}

static void env_stop(Env *e)
{
    if (e->mm) {
        mk_mm_free(e->mm);
    }
    mk_free(e->k);
    alloc_destroy(&e->alloc);
    qtest_quit(e->qts);
}

/* system_reset, then reprogram BAR0 and enable the device again. */
static void env_system_reset(Env *e)
{
    qtest_system_reset(e->qts);
    qpci_config_writel(&e->dev.dev, PCI_BASE_ADDRESS_0, e->dev.bar.addr);
    qpci_device_enable(&e->dev.dev);
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

/* A raw 64-byte descriptor at @addr; @fill goes into every byte first. */
static void desc_write_raw(Env *e, uint64_t addr, uint8_t fill, uint8_t op,
                           uint16_t ctx, uint32_t len, uint64_t va,
                           uint64_t buf, uint32_t pattern)
{
    uint8_t b[MMN_DMA_DESC_SIZE];

    memset(b, fill, sizeof(b));
    b[0] = op;
    stw_le_p(b + 2, ctx);
    stl_le_p(b + 4, len);
    stq_le_p(b + 8, va);
    stq_le_p(b + 16, buf);
    stl_le_p(b + 24, pattern);
    qtest_memwrite(e->qts, addr, b, sizeof(b));
}

static uint32_t doorbell(Env *e, uint64_t desc)
{
    mk_writel(e->k, A_DMA_DESC_LO, (uint32_t)desc);
    mk_writel(e->k, A_DMA_DESC_HI, desc >> 32);
    mk_writel(e->k, A_DMA_DOORBELL, 1);
    return mk_readl(e->k, A_DMA_STATUS);
}

static uint32_t desc_status(Env *e, uint64_t desc)
{
    return qtest_readl(e->qts, desc + 32);
}

/* FEATURES, write-only registers, BAR0's type. */
static void test_identity(void)
{
    Env e;
    uint32_t bar0;

    env_start(&e, 6);
    g_assert_cmphex(mk_readl(e.k, A_FEATURES), ==, FEATURES_ALL);
    mk_writel(e.k, A_IRQ_STATUS, 0xffffffff);
    g_assert_cmphex(mk_readl(e.k, A_CMDQ_ERR_ACK), ==, 0);
    g_assert_cmphex(mk_readl(e.k, A_DMA_DOORBELL), ==, 0);
    /* reading the doorbell ran nothing */
    g_assert_cmphex(mk_readl(e.k, A_IRQ_STATUS), ==, 0);
    g_assert_cmphex(mk_readl(e.k, A_DMA_STATUS), ==, 0);
    bar0 = qpci_config_readl(&e.dev.dev, PCI_BASE_ADDRESS_0);
    /* memory space, 32-bit, not prefetchable */
    g_assert_cmphex(bar0 & 0xf, ==, 0);
    env_system_reset(&e);
    g_assert_cmphex(mk_readl(e.k, A_FEATURES), ==, FEATURES_ALL);
    env_stop(&e);
}

/* Without Bus Master Enable every DMA access is refused: BAD_DESC. */
static void test_bus_master_off(void)
{
    Env e;
    uint16_t cmd;

    env_start_mm(&e, 0);
    desc_write_raw(&e, e.k->desc, 0, MMN_DMA_OP_READ, CTX, 64, VA39, e.buf,
                   0);
    cmd = qpci_config_readw(&e.dev.dev, PCI_COMMAND);
    qpci_config_writew(&e.dev.dev, PCI_COMMAND, cmd & ~PCI_COMMAND_MASTER);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(doorbell(&e, e.k->desc)), ==,
                     MMN_DMA_ST_BAD_DESC);
    /* nothing could be written back */
    g_assert_cmphex(desc_status(&e, e.k->desc), ==, 0);
    g_assert_true(mk_readl(e.k, A_IRQ_STATUS) & R_IRQ_STATUS_DMA_DONE_MASK);
    qpci_config_writew(&e.dev.dev, PCI_COMMAND, cmd);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(doorbell(&e, e.k->desc)), ==,
                     MMN_DMA_ST_DONE);
    env_stop(&e);
}

/* A doorbell while DMA_EN is 0 reads nothing and changes nothing. */
static void test_doorbell_without_dma_en(void)
{
    Env e;

    env_start_mm(&e, 0);
    /* a known DMA_STATUS first: a bad descriptor (length 0) */
    desc_write_raw(&e, e.k->desc, 0, MMN_DMA_OP_READ, CTX, 0, VA39, e.buf, 0);
    g_assert_cmpuint(doorbell(&e, e.k->desc), ==, MMN_DMA_ST_BAD_DESC);
    mk_writel(e.k, A_IRQ_STATUS, R_IRQ_STATUS_DMA_DONE_MASK);
    desc_write_raw(&e, e.k->desc, 0, MMN_DMA_OP_READ, CTX, 64, VA39, e.buf,
                   0);
    mk_writel(e.k, A_CTRL, mk_readl(e.k, A_CTRL) & ~R_CTRL_DMA_EN_MASK);
    g_assert_cmpuint(doorbell(&e, e.k->desc), ==, MMN_DMA_ST_BAD_DESC);
    g_assert_cmphex(desc_status(&e, e.k->desc), ==, 0);
    g_assert_false(mk_readl(e.k, A_IRQ_STATUS) & R_IRQ_STATUS_DMA_DONE_MASK);
    mk_writel(e.k, A_CTRL, mk_readl(e.k, A_CTRL) | R_CTRL_DMA_EN_MASK);
    g_assert_cmpuint(doorbell(&e, e.k->desc), ==, MMN_DMA_ST_DONE);
    env_stop(&e);
}

/*
 * A misaligned descriptor address: BAD_DESC, nothing written; a range
 * reaching 2^64 is refused; reserved fields are not checked.
 */
static void test_descriptor_rules(void)
{
    Env e;
    uint64_t d2;
    uint8_t b[MMN_DMA_DESC_SIZE], after[MMN_DMA_DESC_SIZE];

    env_start_mm(&e, 0);
    d2 = mk_alloc(e.k, 2 * MMN_DMA_DESC_SIZE, 64) + 32;
    desc_write_raw(&e, d2, 0, MMN_DMA_OP_READ, CTX, 64, VA39, e.buf, 0);
    qtest_memread(e.qts, d2, b, sizeof(b));
    mk_writel(e.k, A_IRQ_STATUS, 0xffffffff);
    g_assert_cmpuint(doorbell(&e, d2), ==, MMN_DMA_ST_BAD_DESC);
    g_assert_true(mk_readl(e.k, A_IRQ_STATUS) & R_IRQ_STATUS_DMA_DONE_MASK);
    qtest_memread(e.qts, d2, after, sizeof(after));
    g_assert_cmpmem(b, sizeof(b), after, sizeof(after));

    /* [2^64 - 4096, 2^64): the end wraps to 0, refused */
    desc_write_raw(&e, e.k->desc, 0, MMN_DMA_OP_READ, CTX, 4096,
                   -4096ULL, e.buf, 0);
    g_assert_cmpuint(doorbell(&e, e.k->desc), ==, MMN_DMA_ST_BAD_DESC);
    g_assert_cmpuint(desc_status(&e, e.k->desc), ==, MMN_DMA_ST_BAD_DESC);
    /* one byte less is a valid descriptor: a translation fault */
    desc_write_raw(&e, e.k->desc, 0, MMN_DMA_OP_READ, CTX, 4095,
                   -4096ULL, e.buf, 0);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(doorbell(&e, e.k->desc)), ==,
                     MMN_DMA_ST_FAULT);
    mk_evt_drain(e.k);

    /* every reserved and device-written byte 0xff: runs all the same */
    desc_write_raw(&e, e.k->desc, 0xff, MMN_DMA_OP_READ, CTX, 64, VA39,
                   e.buf, 0xffffffff);
    g_assert_cmpuint(doorbell(&e, e.k->desc), ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(qtest_readl(e.qts, e.k->desc + 36), ==, 64);
    /* FILL with a buffer address is refused */
    desc_write_raw(&e, e.k->desc, 0, MMN_DMA_OP_FILL, CTX, 64, VA39,
                   e.buf, 0);
    g_assert_cmpuint(doorbell(&e, e.k->desc), ==, MMN_DMA_ST_BAD_DESC);
    env_stop(&e);
}

/* FILL: the byte at VA v is byte (v & 3) of the pattern. */
static void test_fill_phase(void)
{
    static const uint8_t expect[] = { 0x11, 0x22, 0x33, 0x44, 0x11, 0x22,
                                      0x33, 0x44, 0x11 };
    Env e;
    uint8_t got[sizeof(expect)];

    env_start_mm(&e, 0);
    mk_cpu_write(e.mm, VA39, (uint8_t[16]) { 0 }, 16);
    desc_write_raw(&e, e.k->desc, 0, MMN_DMA_OP_FILL, CTX, 7, VA39 + 1, 0,
                   0x44332211);
    g_assert_cmpuint(doorbell(&e, e.k->desc), ==, MMN_DMA_ST_DONE);
    mk_cpu_read(e.mm, VA39, got, sizeof(got));
    /* untouched byte 0, then 0x22 0x33 0x44 0x11 0x22 0x33 0x44 */
    g_assert_cmphex(got[0], ==, 0);
    g_assert_cmpmem(got + 1, 7, expect + 1, 7);
    g_assert_cmphex(got[8], ==, 0);
    env_stop(&e);
}

/* LOG2SIZE 0 is taken as 1; CMDQ_ERR's index is the slot, no wrap bit. */
static void test_queue_sizes_and_err_index(void)
{
    Env e;
    MmnCmd c;
    uint32_t err;

    env_start(&e, 1);               /* a 2-entry command queue */
    mk_writel(e.k, A_CTRL, mk_readl(e.k, A_CTRL) & ~R_CTRL_EVTQ_EN_MASK);
    mk_writel(e.k, A_EVTQ_BASE_LO, (uint32_t)e.k->evtq);
    g_assert_cmphex(mk_readl(e.k, A_EVTQ_BASE_LO) & 0x1f, ==, 1);
    mk_evtq_set_base(e.k, e.k->evtq);

    /* three commands: CONS is 3, slot 1 with the wrap bit set */
    for (int i = 0; i < 3; i++) {
        mk_sync(e.k);
    }
    g_assert_cmphex(mk_readl(e.k, A_CMDQ_CONS), ==, 3);
    c = mk_cmd_init(0xff, 0);
    g_assert_cmpuint(mk_cmd_try(e.k, &c), ==, MMN_CMDQ_ERR_OPCODE);
    err = mk_readl(e.k, A_CMDQ_ERR);
    g_assert_cmphex(mk_readl(e.k, A_CMDQ_CONS), ==, 3);
    g_assert_cmpuint(FIELD_EX32(err, CMDQ_ERR, INDEX), ==, 1);
    mk_cmdq_ack(e.k);
    mk_sync(e.k);
    env_stop(&e);
}

/*
 * A STALLED descriptor is written back, DMA_BUSY and DMA_STALLED are
 * set, DMA_DONE is not; DMA_ABORT completes it.
 */
static void test_stall_writeback(void)
{
    Env e;
    uint32_t st;
    MmnCmd c;

    env_start_mm(&e, MMN_CTX_CFG_STALL);
    mk_writel(e.k, A_IRQ_STATUS, 0xffffffff);
    /* not mapped at all: a translation fault at the second page */
    desc_write_raw(&e, e.k->desc, 0, MMN_DMA_OP_READ, CTX,
                   2 * MK_PAGE_SIZE, VA39 + 3 * MK_PAGE_SIZE, e.buf, 0);
    st = doorbell(&e, e.k->desc);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_STALLED);
    g_assert_cmphex(desc_status(&e, e.k->desc), ==, st);
    g_assert_cmpuint(qtest_readl(e.qts, e.k->desc + 36), ==, MK_PAGE_SIZE);
    g_assert_cmphex(qtest_readq(e.qts, e.k->desc + 40), ==,
                    VA39 + 4 * MK_PAGE_SIZE);
    g_assert_cmpuint(qtest_readl(e.qts, e.k->desc + 48), ==, 1);
    g_assert_cmphex(mk_readl(e.k, A_DMA_FAULT_VA_LO), ==,
                    (uint32_t)(VA39 + 4 * MK_PAGE_SIZE));
    g_assert_true(mk_readl(e.k, A_STATUS) & R_STATUS_DMA_BUSY_MASK);
    g_assert_true(mk_readl(e.k, A_STATUS) & R_STATUS_DMA_STALLED_MASK);
    g_assert_false(mk_readl(e.k, A_IRQ_STATUS) & R_IRQ_STATUS_DMA_DONE_MASK);
    c = mk_cmd_init(MMN_CMD_DMA_ABORT, 0);
    mk_cmd(e.k, &c);
    g_assert_cmpuint(mk_readl(e.k, A_DMA_STATUS), ==, MMN_DMA_ST_ABORTED);
    g_assert_cmpuint(desc_status(&e, e.k->desc), ==, MMN_DMA_ST_ABORTED);
    g_assert_false(mk_readl(e.k, A_STATUS) & R_STATUS_DMA_BUSY_MASK);
    mk_evt_drain(e.k);
    env_stop(&e);
}

/*
 * BLOCKED: written back, DMA_BUSY without DMA_STALLED; DMA_ABORT fails
 * with NOT_STALLED, a doorbell is ignored, MN_RELEASE completes it with
 * state RELEASED.
 */
static void test_blocked(void)
{
    Env e;
    uint32_t st;
    MmnCmd c;

    env_start_mm(&e, 0);
    g_assert_cmpint(mk_mn_range_start(e.mm, 0 /* UNMAP */, true, VA39,
                                      VA39 + MK_PAGE_SIZE, 0), ==, 0);
    mk_writel(e.k, A_IRQ_STATUS, 0xffffffff);
    desc_write_raw(&e, e.k->desc, 0, MMN_DMA_OP_READ, CTX, 64, VA39, e.buf,
                   0);
    st = doorbell(&e, e.k->desc);
    g_assert_cmpuint(st, ==, MMN_DMA_ST_BLOCKED);
    g_assert_cmpuint(desc_status(&e, e.k->desc), ==, MMN_DMA_ST_BLOCKED);
    g_assert_true(mk_readl(e.k, A_STATUS) & R_STATUS_DMA_BUSY_MASK);
    g_assert_false(mk_readl(e.k, A_STATUS) & R_STATUS_DMA_STALLED_MASK);
    g_assert_false(mk_readl(e.k, A_IRQ_STATUS) & R_IRQ_STATUS_DMA_DONE_MASK);

    c = mk_cmd_init(MMN_CMD_DMA_ABORT, 0);
    g_assert_cmpuint(mk_cmd_try(e.k, &c), ==, MMN_CMDQ_ERR_NOT_STALLED);
    mk_cmdq_ack(e.k);
    g_assert_cmpuint(mk_readl(e.k, A_DMA_STATUS), ==, MMN_DMA_ST_BLOCKED);
    /* a doorbell (of another descriptor) is ignored */
    g_assert_cmpuint(doorbell(&e, e.k->desc), ==, MMN_DMA_ST_BLOCKED);

    c = mk_cmd_init(MMN_CMD_MN_RELEASE, CTX);
    mk_cmd(e.k, &c);
    g_assert_cmpuint(mk_readl(e.k, A_DMA_STATUS), ==, MMN_DMA_ST_RELEASED);
    g_assert_cmpuint(desc_status(&e, e.k->desc), ==, MMN_DMA_ST_RELEASED);
    g_assert_true(mk_readl(e.k, A_IRQ_STATUS) & R_IRQ_STATUS_DMA_DONE_MASK);
    g_assert_false(mk_readl(e.k, A_STATUS) & R_STATUS_DMA_BUSY_MASK);
    env_stop(&e);
}

/* Write @n commands from PROD on, then PROD once: one batch. */
static void cmd_batch(Env *e, const MmnCmd *cmds, unsigned n)
{
    MmnKernel *k = e->k;
    uint8_t b[MMN_CMD_SIZE];

    for (unsigned i = 0; i < n; i++) {
        uint32_t slot = k->cmdq_prod & ((1u << k->cmdq_log2) - 1);

        mk_cmd_encode(&cmds[i], b);
        qtest_memwrite(e->qts, k->cmdq + slot * MMN_CMD_SIZE, b, sizeof(b));
        k->cmdq_prod = (k->cmdq_prod + 1) & mk_qmask(k->cmdq_log2);
    }
    mk_writel(k, A_CMDQ_PROD, k->cmdq_prod);
}

/* MN_RANGE_START/END, event UNMAP, of the first page at VA39. */
static MmnCmd range_cmd(uint8_t opcode, bool blockable, uint64_t res)
{
    MmnCmd c = mk_cmd_init(opcode, CTX);

    c.arg = blockable ? MMN_CMD_RANGE_BLOCKABLE : 0;
    c.a0 = VA39;
    c.a1 = VA39 + MK_PAGE_SIZE;
    c.a3 = res;
    return c;
}

/* A READ of the first page at VA39 that blocks on an open UNMAP range. */
static void dma_block(Env *e)
{
    g_assert_cmpint(mk_mn_range_start(e->mm, 0 /* UNMAP */, true, VA39,
                                      VA39 + MK_PAGE_SIZE, 0), ==, 0);
    mk_writel(e->k, A_IRQ_STATUS, 0xffffffff);
    desc_write_raw(e, e->k->desc, 0, MMN_DMA_OP_READ, CTX, 64, VA39, e->buf,
                   0);
    g_assert_cmpuint(doorbell(e, e->k->desc), ==, MMN_DMA_ST_BLOCKED);
}

/*
 * A BLOCKED descriptor retries once per batch, after the batch's last
 * command: the commands after MN_RANGE_END in the same batch still find
 * it BLOCKED, and the CMDQ_PROD write returns with the retry done, also
 * when the batch stops on an error.
 */
static void test_blocked_retry_after_batch(void)
{
    Env e;
    MmnCmd batch[2];
    uint32_t idx, err;

    env_start_mm(&e, 0);
    dma_block(&e);
    /* END, START of the same range: the retry finds it open again */
    batch[0] = range_cmd(MMN_CMD_MN_RANGE_END, true, 0);
    batch[1] = range_cmd(MMN_CMD_MN_RANGE_START, true, 0);
    cmd_batch(&e, batch, 2);
    g_assert_cmphex(mk_readl(e.k, A_CMDQ_CONS), ==, e.k->cmdq_prod);
    g_assert_false(FIELD_EX32(mk_readl(e.k, A_CMDQ_ERR), CMDQ_ERR, VALID));
    g_assert_cmpuint(mk_readl(e.k, A_DMA_STATUS), ==, MMN_DMA_ST_BLOCKED);
    g_assert_cmpuint(desc_status(&e, e.k->desc), ==, MMN_DMA_ST_BLOCKED);
    g_assert_true(mk_readl(e.k, A_STATUS) & R_STATUS_DMA_BUSY_MASK);
    g_assert_false(mk_readl(e.k, A_IRQ_STATUS) & R_IRQ_STATUS_DMA_DONE_MASK);

    /*
     * END, then a non-blockable START over the page: the engine still
     * holds the page, -EAGAIN (-11) and nothing opens; after the batch
     * the retry completes the descriptor.
     */
    qtest_writel(e.qts, e.k->res, 0xdeadbeef);
    batch[0] = range_cmd(MMN_CMD_MN_RANGE_END, true, 0);
    batch[1] = range_cmd(MMN_CMD_MN_RANGE_START, false, e.k->res);
    cmd_batch(&e, batch, 2);
    g_assert_cmphex(mk_readl(e.k, A_CMDQ_CONS), ==, e.k->cmdq_prod);
    g_assert_cmpint((int32_t)qtest_readl(e.qts, e.k->res), ==, -11);
    g_assert_cmpuint(mk_readl(e.k, A_DMA_STATUS), ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(desc_status(&e, e.k->desc), ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(qtest_readl(e.qts, e.k->desc + 36), ==, 64);
    g_assert_true(mk_readl(e.k, A_IRQ_STATUS) & R_IRQ_STATUS_DMA_DONE_MASK);
    g_assert_false(mk_readl(e.k, A_STATUS) & R_STATUS_DMA_BUSY_MASK);

    /* END, then a DMA_ABORT that stops the queue: the retry still runs */
    dma_block(&e);
    idx = e.k->cmdq_prod & ((1u << e.k->cmdq_log2) - 1);
    batch[0] = range_cmd(MMN_CMD_MN_RANGE_END, true, 0);
    batch[1] = mk_cmd_init(MMN_CMD_DMA_ABORT, 0);
    cmd_batch(&e, batch, 2);
    err = mk_readl(e.k, A_CMDQ_ERR);
    g_assert_true(FIELD_EX32(err, CMDQ_ERR, VALID));
    g_assert_cmpuint(FIELD_EX32(err, CMDQ_ERR, REASON), ==,
                     MMN_CMDQ_ERR_NOT_STALLED);
    g_assert_cmpuint(FIELD_EX32(err, CMDQ_ERR, INDEX), ==,
                     (idx + 1) & ((1u << e.k->cmdq_log2) - 1));
    g_assert_cmpuint(mk_readl(e.k, A_DMA_STATUS), ==, MMN_DMA_ST_DONE);
    mk_cmdq_ack(e.k);
    mk_sync(e.k);
    env_stop(&e);
}

/*
 * DMA_RESUME retries a STALLED descriptor at once, inside the batch: a
 * DMA_ABORT after it in the same batch finds the access completed.
 */
static void test_stalled_resume_in_batch(void)
{
    Env e;
    MmnCmd batch[2];
    uint64_t va = VA39 + 8 * MK_PAGE_SIZE;
    uint32_t err;

    env_start_mm(&e, MMN_CTX_CFG_STALL);
    desc_write_raw(&e, e.k->desc, 0, MMN_DMA_OP_READ, CTX, 64, va, e.buf, 0);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(doorbell(&e, e.k->desc)), ==,
                     MMN_DMA_ST_STALLED);
    mk_evt_drain(e.k);
    /* the fault was a translation fault: nothing cached, no TLBI needed */
    mk_mmap_populate(e.mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    batch[0] = mk_cmd_init(MMN_CMD_DMA_RESUME, 0);
    batch[1] = mk_cmd_init(MMN_CMD_DMA_ABORT, 0);
    cmd_batch(&e, batch, 2);
    err = mk_readl(e.k, A_CMDQ_ERR);
    g_assert_cmpuint(FIELD_EX32(err, CMDQ_ERR, REASON), ==,
                     MMN_CMDQ_ERR_NOT_STALLED);
    g_assert_cmpuint(mk_readl(e.k, A_DMA_STATUS), ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(desc_status(&e, e.k->desc), ==, MMN_DMA_ST_DONE);
    mk_cmdq_ack(e.k);
    env_stop(&e);
}

/* MN_TEST_CLEAR_YOUNG answers 2 (lock-less), with and without a bitmap. */
static void test_young_result(void)
{
    Env e;
    uint64_t bitmap = 0;

    env_start_mm(&e, 0);
    mk_mm_set_subscriber(e.mm, MK_SUB_MIRROR);
    desc_write_raw(&e, e.k->desc, 0, MMN_DMA_OP_READ, CTX, 64, VA39, e.buf,
                   0);
    g_assert_cmpuint(doorbell(&e, e.k->desc), ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(mk_test_clear_young(e.mm, VA39, VA39 + 4 * MK_PAGE_SIZE,
                                         false, NULL), ==, 2);
    g_assert_cmpuint(mk_test_clear_young(e.mm, VA39, VA39 + 4 * MK_PAGE_SIZE,
                                         false, &bitmap), ==, 2);
    g_assert_cmphex(bitmap, ==, 1ULL << 3);     /* (end - VA39) / 4K - 1 */
    g_assert_cmpuint(mk_test_clear_young(e.mm, VA39, VA39 + 4 * MK_PAGE_SIZE,
                                         true, NULL), ==, 2);
    g_assert_cmpuint(mk_test_clear_young(e.mm, VA39, VA39 + 4 * MK_PAGE_SIZE,
                                         false, NULL), ==, 0);
    env_stop(&e);
}

/* system_reset resets the registers, not the QOM counters. */
static void test_reset_keeps_counters(void)
{
    Env e;
    uint64_t cmds;

    env_start(&e, 6);
    mk_sync(e.k);
    mk_sync(e.k);
    cmds = qom_counter(e.qts, "commands");
    g_assert_cmpuint(cmds, >=, 2);
    env_system_reset(&e);
    mk_assert_reset_state(&e.dev);
    g_assert_cmpuint(qom_counter(e.qts, "commands"), ==, cmds);
    env_stop(&e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/mmn-smmu/interface/identity", test_identity);
    qtest_add_func("/mmn-smmu/interface/bus-master-off", test_bus_master_off);
    qtest_add_func("/mmn-smmu/interface/doorbell-without-dma-en",
                   test_doorbell_without_dma_en);
    qtest_add_func("/mmn-smmu/interface/descriptor-rules",
                   test_descriptor_rules);
    qtest_add_func("/mmn-smmu/interface/fill-phase", test_fill_phase);
    qtest_add_func("/mmn-smmu/interface/queue-sizes-err-index",
                   test_queue_sizes_and_err_index);
    qtest_add_func("/mmn-smmu/interface/stall-writeback",
                   test_stall_writeback);
    qtest_add_func("/mmn-smmu/interface/blocked", test_blocked);
    qtest_add_func("/mmn-smmu/interface/blocked-retry-after-batch",
                   test_blocked_retry_after_batch);
    qtest_add_func("/mmn-smmu/interface/stalled-resume-in-batch",
                   test_stalled_resume_in_batch);
    qtest_add_func("/mmn-smmu/interface/young-result", test_young_result);
    qtest_add_func("/mmn-smmu/interface/reset-keeps-counters",
                   test_reset_keeps_counters);
    return g_test_run();
}
