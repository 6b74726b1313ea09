/*
 * mmn-smmu hostile-guest qtest, MSI cases
 * (docs/specs/mmn-smmu-hostile.rst).  The device's MSI is a 32-bit
 * memory write of the message data to the message address through its
 * bus-master
 * address space (hw/pci/pci.c pci_msi_trigger(): address_space_stl_le()
 * on the device's bus_master_as), sent from inside the MMIO write that
 * caused the event.  So a guest can aim it at RAM, at nothing, at
 * another device, at the device's own BAR, at its own configuration
 * space and at the command ring being consumed; each has a defined
 * outcome, and none re-enters the device: QEMU's re-entrancy guard
 * (system/memory.c access_with_adjusted_size(), DeviceState's
 * mem_reentrancy_guard; MemoryRegion.disable_reentrancy_guard stays
 * false for the device's BAR) refuses an access to a device's MMIO while
 * that device is in one.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-smmu-hostile.h"

#define GUARD           0xa5a5a5a5u

/* A SYNC with IRQ: one event of IRQ_STATUS.SYNC (enabled by the caller). */
static void sync_irq(Env *e)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_SYNC, 0);

    c.flags = MMN_CMD_SYNC_F_IRQ;
    mk_cmd(e->k, &c);
}

/* A DMA on CTX_RAW that faults (no STALL): one FAULT event, DMA_DONE. */
static void dma_fault_desc(Env *e, MmnKernel *k, uint64_t at)
{
    MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, CTX_RAW, VA_HOLE, 64,
                               e->buf, 0);

    hst_desc_at(k, at, &d);
}

/* RAM: the data lands, as a 32-bit word, once per event. */
static void test_msi_ram(void)
{
    Env e;
    uint64_t w;

    hst_start(&e, HST_CMDLINE, 6);
    w = e.scratch + 0x100;
    for (int i = -1; i <= 1; i++) {
        qtest_writel(e.qts, w + 4 * i, GUARD);
    }
    mk_writel(e.k, A_IRQ_ENABLE, R_IRQ_STATUS_SYNC_MASK);
    hst_msi_set(&e.dev, w, 0x1234);
    g_assert_cmphex(qtest_readl(e.qts, w), ==, GUARD);

    sync_irq(&e);
    g_assert_cmphex(qtest_readl(e.qts, w), ==, 0x1234);
    g_assert_cmphex(qtest_readl(e.qts, w - 4), ==, GUARD);
    g_assert_cmphex(qtest_readl(e.qts, w + 4), ==, GUARD);
    /* one message per event, the status bit already set or not */
    qtest_writel(e.qts, w, 0);
    sync_irq(&e);
    g_assert_cmphex(qtest_readl(e.qts, w), ==, 0x1234);
    /* a write of IRQ_ENABLE that leaves the condition true sends one */
    qtest_writel(e.qts, w, 0);
    mk_writel(e.k, A_IRQ_ENABLE, R_IRQ_STATUS_SYNC_MASK);
    g_assert_cmphex(qtest_readl(e.qts, w), ==, 0x1234);
    /* clearing IRQ_STATUS never sends one, nor IRQ_ENABLE with it clear */
    qtest_writel(e.qts, w, 0);
    mk_writel(e.k, A_IRQ_STATUS, 0x1f);
    mk_writel(e.k, A_IRQ_ENABLE, R_IRQ_STATUS_SYNC_MASK);
    g_assert_cmphex(qtest_readl(e.qts, w), ==, 0);
    hst_msi_off(&e.dev);
    hst_assert_working(&e);
    hst_stop(&e);
}

/* Nothing there: the bus drops the write. */
static void test_msi_nowhere(void)
{
    static const uint64_t addrs[] = {
        RAM_END, 0x0000fffffffff000ULL, 0xfffffffffffffffcULL,
    };
    Env e;
    Snap before;

    hst_start(&e, HST_CMDLINE, 6);
    mk_writel(e.k, A_IRQ_ENABLE, R_IRQ_STATUS_SYNC_MASK);
    for (size_t i = 0; i < ARRAY_SIZE(addrs); i++) {
        hst_msi_set(&e.dev, addrs[i], 0xbeef);
        hst_snap(&e, &before);
        sync_irq(&e);
        g_assert_true(mk_readl(e.k, A_IRQ_STATUS) & R_IRQ_STATUS_SYNC_MASK);
        hst_snap_same(&e, &before, "MSI to nothing");
        hst_assert_working(&e);
    }
    hst_msi_off(&e.dev);
    hst_stop(&e);
}

/* Another device's BAR: a 32-bit write to that device's register. */
static void test_msi_peer_bar(void)
{
    Env e;
    uint32_t before[MK_NR_STATE_REGS];

    hst_start(&e, HST_CMDLINE, 6);
    mk_writel(e.k, A_IRQ_ENABLE, R_IRQ_STATUS_SYNC_MASK);
    hst_msi_set(&e.dev, e.peer.bar.addr + A_IRQ_ENABLE,
                R_IRQ_STATUS_SYNC_MASK | R_IRQ_STATUS_DMA_DONE_MASK);
    for (unsigned i = 0; i < MK_NR_STATE_REGS; i++) {
        before[i] = qmmn_readl(&e.peer, mk_state_regs[i].off);
    }
    g_assert_cmphex(before[3], ==, 0);          /* IRQ_ENABLE */
    sync_irq(&e);
    for (unsigned i = 0; i < MK_NR_STATE_REGS; i++) {
        uint32_t now = qmmn_readl(&e.peer, mk_state_regs[i].off);

        g_assert_cmphex(now, ==, mk_state_regs[i].off == A_IRQ_ENABLE ?
                        (R_IRQ_STATUS_SYNC_MASK |
                         R_IRQ_STATUS_DMA_DONE_MASK) : before[i]);
    }
    hst_msi_off(&e.dev);
    hst_assert_working(&e);
    hst_stop(&e);
}

/*
 * The device's own BAR: the message comes from inside the device's MMIO
 * write, so the re-entrancy guard refuses it and no register changes; a
 * doorbell aimed at itself runs the descriptor once.
 */
static void test_msi_own_bar(void)
{
    static const struct {
        uint32_t off;
        uint16_t data;
    } regs[] = {
        { A_CTRL, 0 },                  /* would disable everything */
        { A_IRQ_STATUS, 0x1f },         /* would clear every status bit */
        { A_IRQ_ENABLE, 0 },
        { A_CMDQ_PROD, 0x3f },          /* would queue 63 stale commands */
        { A_EVTQ_CONS, 0x1f },
        { A_CMDQ_ERR_ACK, 1 },
    };
    Env e;
    uint64_t bar, faults;

    hst_start(&e, HST_CMDLINE, 6);
    bar = mk_bar_addr(e.k);
    mk_writel(e.k, A_IRQ_ENABLE, R_IRQ_STATUS_SYNC_MASK);
    for (size_t i = 0; i < ARRAY_SIZE(regs); i++) {
        hst_msi_set(&e.dev, bar + regs[i].off, regs[i].data);
        sync_irq(&e);
        g_assert_cmphex(mk_readl(e.k, A_CTRL), ==, 7);
        g_assert_cmphex(mk_readl(e.k, A_IRQ_ENABLE), ==,
                        R_IRQ_STATUS_SYNC_MASK);
        g_assert_true(mk_readl(e.k, A_IRQ_STATUS) & R_IRQ_STATUS_SYNC_MASK);
        g_assert_cmphex(mk_readl(e.k, A_CMDQ_PROD), ==, e.k->cmdq_prod);
        g_assert_cmphex(mk_readl(e.k, A_CMDQ_CONS), ==, e.k->cmdq_prod);
        g_assert_cmphex(mk_readl(e.k, A_EVTQ_CONS), ==, e.k->evtq_cons);
        g_assert_false(FIELD_EX32(mk_readl(e.k, A_CMDQ_ERR), CMDQ_ERR,
                                  VALID));
    }

    /* DMA_DONE's message rings the device's own doorbell: refused */
    mk_writel(e.k, A_IRQ_ENABLE, R_IRQ_STATUS_DMA_DONE_MASK);
    hst_msi_set(&e.dev, bar + A_DMA_DOORBELL, 1);
    faults = hst_qom(e.qts, MMN_ID, "dma-faults");
    dma_fault_desc(&e, e.k, e.scratch);
    mk_writel(e.k, A_DMA_DOORBELL, 1);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_readl(e.k, A_DMA_STATUS)), ==,
                     MMN_DMA_ST_FAULT);
    g_assert_cmpuint(hst_qom(e.qts, MMN_ID, "dma-faults") - faults, ==, 1);
    g_assert_cmpuint(mk_evt_drain(e.k), ==, 1);

    hst_msi_off(&e.dev);
    mk_writel(e.k, A_IRQ_ENABLE, 0);
    mk_writel(e.k, A_IRQ_STATUS, 0x1f);
    hst_assert_working(&e);
    hst_stop(&e);
}

/*
 * Two devices whose DMA_DONE messages ring each other's doorbell: the
 * one rung from the test runs, its message runs the other inside it, and
 * that one's message back is refused (the first is still in its MMIO
 * write).  Each runs once per doorbell the test rings.
 */
static void test_msi_ping_pong(void)
{
    Env e;
    uint64_t empty, fa, fb;

    hst_start(&e, HST_CMDLINE, 6);
    empty = mk_alloc(e.k, 4096, 4096);
    mk_bind(e.kp, CTX_RAW, empty, RAW_CFG);
    dma_fault_desc(&e, e.k, e.scratch);
    dma_fault_desc(&e, e.kp, e.scratch + 0x40);
    mk_writel(e.k, A_IRQ_ENABLE, R_IRQ_STATUS_DMA_DONE_MASK);
    mk_writel(e.kp, A_IRQ_ENABLE, R_IRQ_STATUS_DMA_DONE_MASK);
    hst_msi_set(&e.dev, e.peer.bar.addr + A_DMA_DOORBELL, 1);
    hst_msi_set(&e.peer, mk_bar_addr(e.k) + A_DMA_DOORBELL, 1);

    for (int round = 0; round < 2; round++) {
        MmnKernel *first = round ? e.kp : e.k;

        fa = hst_qom(e.qts, MMN_ID, "dma-faults");
        fb = hst_qom(e.qts, PEER_ID, "dma-faults");
        mk_writel(first, A_DMA_DOORBELL, 1);
        g_assert_cmpuint(hst_qom(e.qts, MMN_ID, "dma-faults") - fa, ==, 1);
        g_assert_cmpuint(hst_qom(e.qts, PEER_ID, "dma-faults") - fb, ==, 1);
        g_assert_cmpuint(mk_evt_drain(e.k), ==, 1);
        g_assert_cmpuint(mk_evt_drain(e.kp), ==, 1);
        g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_readl(e.k, A_DMA_STATUS)),
                         ==, MMN_DMA_ST_FAULT);
        g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_readl(e.kp, A_DMA_STATUS)),
                         ==, MMN_DMA_ST_FAULT);
    }
    hst_msi_off(&e.dev);
    hst_msi_off(&e.peer);
    mk_writel(e.k, A_IRQ_ENABLE, 0);
    mk_writel(e.kp, A_IRQ_ENABLE, 0);
    mk_unbind(e.kp, CTX_RAW);
    hst_assert_working(&e);
    hst_stop(&e);
}

/*
 * The device's own configuration space, through the ECAM (the host
 * bridge's MMIO, not the device's: not refused): a SYNC's message clears
 * the Command register, so the device's BAR and bus mastering go away
 * inside its own MMIO write; the next command of the batch cannot be
 * read (BAD_ADDR), and the device is as it was once the guest enables
 * it again.
 */
static void test_msi_own_config(void)
{
    Env e;
    MmnCmd cmds[2];
    uint32_t slot, err;

    hst_start(&e, HST_CMDLINE, 6);
    mk_writel(e.k, A_IRQ_ENABLE, R_IRQ_STATUS_SYNC_MASK);
    hst_msi_set(&e.dev, hst_ecam(&e, MMN_SLOT) + PCI_COMMAND, 0);
    cmds[0] = mk_cmd_init(MMN_CMD_SYNC, 0);
    cmds[0].flags = MMN_CMD_SYNC_F_IRQ;
    cmds[1] = mk_cmd_init(MMN_CMD_SYNC, 0);
    cmds[1].flags = MMN_CMD_SYNC_F_WRITE;
    cmds[1].arg = 0x5ca1ab1e;
    cmds[1].a0 = e.k->res;
    qtest_writel(e.qts, e.k->res, 0);
    slot = (e.k->cmdq_prod + 1) & ((1u << e.k->cmdq_log2) - 1);
    hst_cmd_batch(e.k, cmds, 2);

    g_assert_cmphex(qpci_config_readw(&e.dev.dev, PCI_COMMAND) &
                    (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), ==, 0);
    hst_msi_off(&e.dev);
    qpci_device_enable(&e.dev.dev);
    err = mk_readl(e.k, A_CMDQ_ERR);
    g_assert_true(FIELD_EX32(err, CMDQ_ERR, VALID));
    g_assert_cmpuint(FIELD_EX32(err, CMDQ_ERR, REASON), ==,
                     MMN_CMDQ_ERR_BAD_ADDR);
    g_assert_cmpuint(FIELD_EX32(err, CMDQ_ERR, INDEX), ==, slot);
    g_assert_cmphex(qtest_readl(e.qts, e.k->res), ==, 0);
    g_assert_cmphex(mk_readl(e.k, A_CTRL), ==, 7);
    /* the guest skips the command it lost, as after any BAD_ADDR */
    mk_cmdq_ack(e.k);
    mk_writel(e.k, A_IRQ_ENABLE, 0);
    mk_writel(e.k, A_IRQ_STATUS, 0x1f);
    hst_assert_working(&e);
    hst_stop(&e);
}

/*
 * The command ring, ahead of the consumer: the message rewrites the next
 * command before the device reads it, which then fails as what it now is.
 */
static void test_msi_command_ring(void)
{
    Env e;
    MmnCmd cmds[2];
    uint32_t slot, err;

    hst_start(&e, HST_CMDLINE, 6);
    slot = (e.k->cmdq_prod + 1) & ((1u << e.k->cmdq_log2) - 1);
    mk_writel(e.k, A_IRQ_ENABLE, R_IRQ_STATUS_SYNC_MASK);
    hst_msi_set(&e.dev, e.k->cmdq + (uint64_t)slot * MMN_CMD_SIZE, 0xee);
    cmds[0] = mk_cmd_init(MMN_CMD_SYNC, 0);
    cmds[0].flags = MMN_CMD_SYNC_F_IRQ;
    cmds[1] = mk_cmd_init(MMN_CMD_SYNC, 0);
    cmds[1].flags = MMN_CMD_SYNC_F_WRITE;
    cmds[1].arg = 0x5ca1ab1e;
    cmds[1].a0 = e.k->res;
    qtest_writel(e.qts, e.k->res, 0);
    hst_cmd_batch(e.k, cmds, 2);

    err = mk_readl(e.k, A_CMDQ_ERR);
    g_assert_true(FIELD_EX32(err, CMDQ_ERR, VALID));
    g_assert_cmpuint(FIELD_EX32(err, CMDQ_ERR, REASON), ==,
                     MMN_CMDQ_ERR_OPCODE);
    g_assert_cmpuint(FIELD_EX32(err, CMDQ_ERR, INDEX), ==, slot);
    g_assert_cmphex(qtest_readl(e.qts, e.k->cmdq +
                                (uint64_t)slot * MMN_CMD_SIZE), ==, 0xee);
    g_assert_cmphex(qtest_readl(e.qts, e.k->res), ==, 0);
    hst_msi_off(&e.dev);
    mk_cmdq_ack(e.k);
    mk_writel(e.k, A_IRQ_ENABLE, 0);
    mk_writel(e.k, A_IRQ_STATUS, 0x1f);
    hst_assert_working(&e);
    hst_stop(&e);
}

void hst_msi_register_tests(void)
{
    qtest_add_func("/mmn-smmu/hostile/msi/ram", test_msi_ram);
    qtest_add_func("/mmn-smmu/hostile/msi/nowhere", test_msi_nowhere);
    qtest_add_func("/mmn-smmu/hostile/msi/peer-bar", test_msi_peer_bar);
    qtest_add_func("/mmn-smmu/hostile/msi/own-bar", test_msi_own_bar);
    qtest_add_func("/mmn-smmu/hostile/msi/ping-pong", test_msi_ping_pong);
    qtest_add_func("/mmn-smmu/hostile/msi/own-config", test_msi_own_config);
    qtest_add_func("/mmn-smmu/hostile/msi/command-ring",
                   test_msi_command_ring);
}
