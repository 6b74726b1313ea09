/*
 * mmn-kernel: a test library that plays the guest kernel for mmn-smmu.
 * See mmn-kernel.h.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "../libqtest.h"
#include "mmn-kernel.h"

/* ================================================================ */
/* Which kernel notifies what                                        */
/* ================================================================ */

/*
 * What a kernel sends to a notifier-based secondary MMU at one call site.
 * An operation below calls the phases in Linux's order; a phase sends a
 * command only if the site's rule for the profile has the matching bit.
 */
enum {
    /* invalidate_range_start() before the change, _end() after */
    MK_N_RANGE = 1 << 0,
    /* ... ended by invalidate_range_only_end() (6.1: no invalidate_range) */
    MK_N_ONLY_END = 1 << 1,
    /*
     * MN_SECONDARY_TLBS when the CPU TLB is flushed after the PTE change:
     * 6.1 invalidate_range() from ptep_clear_flush_notify() and
     * tlb_flush_mmu_tlbonly(); 6.6 arch_invalidate_secondary_tlbs() from
     * flush_tlb_page() / flush_tlb_range() / flush_tlb_mm().
     */
    MK_N_FLUSH = 1 << 2,
    /* set_pte_at_notify(): change_pte() with the new PTE */
    MK_N_CHANGE_PTE = 1 << 3,
    /*
     * Seed 004: MN_RANGE_START/END(PROTECTION_UPGRADE) after the PTL is
     * dropped, only when ptep_set_access_flags() changed the PTE.
     */
    MK_N_UPGRADE = 1 << 4,
};

typedef enum MkSite {
    MK_SITE_UNMAP,
    MK_SITE_MPROTECT,
    MK_SITE_FORK,
    MK_SITE_WP_PAGE_COPY,
    MK_SITE_WP_PAGE_REUSE,
    MK_SITE_PTE_FAULT,
    MK_SITE_HUGETLB_FAULT,
    MK_SITE_HUGETLB_WP_REUSE,
    MK_SITE_CLEAR_FLUSH_YOUNG,
    MK_SITE_KSM_REPLACE,
    MK_SITE_MIGRATE,
    MK_NR_SITES,
} MkSite;

typedef struct MkSiteRule {
    const char *path;       /* the kernel code path */
    uint8_t event;          /* mmu_notifier_event of its range, if any */
    uint8_t rule[MK_NR_PROFILES];
} MkSiteRule;

#define R_   MK_N_RANGE
#define F_   MK_N_FLUSH

static const MkSiteRule mk_site_rules[MK_NR_SITES] = {
    /*
     * munmap: unmap_vmas() brackets the zap with start/end, then
     * tlb_finish_mmu() flushes: 6.1 tlb_flush_mmu_tlbonly() calls
     * invalidate_range(); 6.6 tlb_flush() -> flush_tlb_range() calls
     * arch_invalidate_secondary_tlbs().
     */
    [MK_SITE_UNMAP] = {
        "munmap: unmap_vmas() + tlb_finish_mmu()", MK_EV_UNMAP,
        { [MK_LINUX_6_1] = R_ | F_, [MK_UPGRADE_NOTIFY] = R_ | F_,
          [MK_LINUX_6_6] = R_ | F_ },
    },
    /* mprotect: change_protection() start/end, mmu_gather flush: same */
    [MK_SITE_MPROTECT] = {
        "mprotect: change_protection() + tlb_finish_mmu()",
        MK_EV_PROTECTION_VMA,
        { [MK_LINUX_6_1] = R_ | F_, [MK_UPGRADE_NOTIFY] = R_ | F_,
          [MK_LINUX_6_6] = R_ | F_ },
    },
    /*
     * fork: copy_page_range() start/end(PROTECTION_PAGE) around
     * ptep_set_wrprotect(); dup_mmap() then flush_tlb_mm(): only 6.6
     * notifies from it (0, -1UL).
     */
    [MK_SITE_FORK] = {
        "fork: copy_page_range() + flush_tlb_mm()", MK_EV_PROTECTION_PAGE,
        { [MK_LINUX_6_1] = R_, [MK_UPGRADE_NOTIFY] = R_,
          [MK_LINUX_6_6] = R_ | F_ },
    },
    /*
     * COW that replaces the page: wp_page_copy() start(CLEAR);
     * ptep_clear_flush_notify() (6.1) / ptep_clear_flush() ->
     * flush_tlb_page() (6.6); set_pte_at_notify(); 6.1 ends with
     * invalidate_range_only_end() (the range was already invalidated).
     */
    [MK_SITE_WP_PAGE_COPY] = {
        "do_wp_page -> wp_page_copy()", MK_EV_CLEAR,
        { [MK_LINUX_6_1] = R_ | MK_N_ONLY_END | F_ | MK_N_CHANGE_PTE,
          [MK_UPGRADE_NOTIFY] = R_ | MK_N_ONLY_END | F_ | MK_N_CHANGE_PTE,
          [MK_LINUX_6_6] = R_ | F_ | MK_N_CHANGE_PTE },
    },
    /*
     * COW on an exclusive page: wp_page_reuse() -> ptep_set_access_flags
     * (dirty=1) -> flush_tlb_page(): only 6.6 notifies.  Seed 004 adds its
     * PROTECTION_UPGRADE notification to handle_pte_fault(), insert_pfn(),
     * __wp_page_copy_user() and hugetlb_fault(), NOT to wp_page_reuse():
     * handle_pte_fault() returns do_wp_page() before its new code runs.
     */
    [MK_SITE_WP_PAGE_REUSE] = {
        "do_wp_page -> wp_page_reuse()", 0,
        { [MK_LINUX_6_1] = 0, [MK_UPGRADE_NOTIFY] = 0,
          [MK_LINUX_6_6] = F_ },
    },
    /*
     * handle_pte_fault(): pte_mkdirty/pte_mkyoung + ptep_set_access_flags
     * (dirty = write fault); arm64 flushes only when dirty: only 6.6
     * notifies from the flush; seed 004 notifies after the PTL drop when
     * the PTE changed.
     */
    [MK_SITE_PTE_FAULT] = {
        "handle_pte_fault -> ptep_set_access_flags()", 0,
        { [MK_LINUX_6_1] = 0, [MK_UPGRADE_NOTIFY] = MK_N_UPGRADE,
          [MK_LINUX_6_6] = F_ },
    },
    /*
     * hugetlb_fault(): huge_ptep_set_access_flags(haddr) -> (not cont)
     * ptep_set_access_flags -> flush_tlb_page(haddr): 6.6 notifies
     * [haddr, haddr + 4 KiB) only; seed 004 notifies the whole huge page.
     */
    [MK_SITE_HUGETLB_FAULT] = {
        "hugetlb_fault -> huge_ptep_set_access_flags()", 0,
        { [MK_LINUX_6_1] = 0, [MK_UPGRADE_NOTIFY] = MK_N_UPGRADE,
          [MK_LINUX_6_6] = F_ },
    },
    /* hugetlb_wp() reuse: set_huge_ptep_writable(): as above */
    [MK_SITE_HUGETLB_WP_REUSE] = {
        "hugetlb_fault -> hugetlb_wp() reuse", 0,
        { [MK_LINUX_6_1] = 0, [MK_UPGRADE_NOTIFY] = MK_N_UPGRADE,
          [MK_LINUX_6_6] = F_ },
    },
    /*
     * folio_referenced -> ptep_clear_flush_young_notify(): arm64
     * ptep_clear_flush_young() flushes (flush_tlb_page_nosync) when the
     * CPU PTE was young: 6.6 notifies from that flush.  clear_flush_young
     * itself goes to every profile.
     */
    [MK_SITE_CLEAR_FLUSH_YOUNG] = {
        "ptep_clear_flush_young_notify()", 0,
        { [MK_LINUX_6_1] = 0, [MK_UPGRADE_NOTIFY] = 0,
          [MK_LINUX_6_6] = F_ },
    },
    /*
     * KSM replace_page(): start(CLEAR), ptep_clear_flush() (6.6 notifies
     * from the flush; 6.1 relies on range_end), set_pte_at_notify().
     */
    [MK_SITE_KSM_REPLACE] = {
        "ksm replace_page()", MK_EV_CLEAR,
        { [MK_LINUX_6_1] = R_ | MK_N_CHANGE_PTE,
          [MK_UPGRADE_NOTIFY] = R_ | MK_N_CHANGE_PTE,
          [MK_LINUX_6_6] = R_ | F_ | MK_N_CHANGE_PTE },
    },
    /*
     * migrate_vma_collect(): start/end(MIGRATE, owner) around
     * migration entries and flush_tlb_range() (6.6 notifies).
     */
    [MK_SITE_MIGRATE] = {
        "migrate_vma_setup()", MK_EV_MIGRATE,
        { [MK_LINUX_6_1] = R_, [MK_UPGRADE_NOTIFY] = R_,
          [MK_LINUX_6_6] = R_ | F_ },
    },
};

#undef R_
#undef F_

/*
 * Sent the same way by every profile (no table needed): clear_young,
 * test_young, test_clear_young (seed 000 bitmap), change_pte (inside the
 * sites above) and release (exit_mmap -> mmu_notifier_release, first
 * thing; afterwards the subscription is gone and nothing else arrives).
 */

static const char *const mk_profile_names[MK_NR_PROFILES] = {
    [MK_LINUX_6_1] = "linux-6.1",
    [MK_UPGRADE_NOTIFY] = "upgrade-notify",
    [MK_LINUX_6_6] = "linux-6.6",
};

const char *mk_profile_name(MkProfile p)
{
    g_assert(p < MK_NR_PROFILES);
    return mk_profile_names[p];
}

bool mk_profile_legacy_inv(MkProfile p)
{
    /* invalidate_range() and range_end() invalidating: Linux <= 6.5 */
    return p != MK_LINUX_6_6;
}

/* ================================================================ */
/* Device driver                                                     */
/* ================================================================ */

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

/* ================================================================ */
/* mm model                                                          */
/* ================================================================ */

typedef struct MkVma {
    uint64_t start, end;
    int prot;
    int flags;
} MkVma;

struct MmnMm {
    MmnKernel *k;
    MkProfile profile;
    uint16_t ctx;
    unsigned va_bits;
    unsigned start_level;
    uint64_t ttb;
    bool cpu_hw_dbm;
    bool released;
    GList *vmas;                /* MkVma, sorted */
    GHashTable *mapcount;       /* data page pa -> mappings */
    unsigned notifications;
    GString *log;
};

static QTestState *mk_qts(MmnMm *mm)
{
    return mm->k->qts;
}

MmnMm *mk_mm_new(MmnKernel *k, MkProfile p, uint16_t ctx, unsigned va_bits,
                 uint64_t cfg_extra)
{
    return mk_mm_new_owner(k, p, ctx, va_bits, cfg_extra, 0);
}

MmnMm *mk_mm_new_owner(MmnKernel *k, MkProfile p, uint16_t ctx,
                       unsigned va_bits, uint64_t cfg_extra, uint64_t owner)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_CTX_BIND, ctx);
    MmnMm *mm = g_new0(MmnMm, 1);
    uint64_t cfg;

    g_assert(va_bits == 39 || va_bits == 48);
    mm->k = k;
    mm->profile = p;
    mm->ctx = ctx;
    mm->va_bits = va_bits;
    mm->start_level = va_bits == 48 ? 0 : 1;
    mm->ttb = mk_alloc(k, 4096, 4096);
    mm->mapcount = g_hash_table_new(g_int64_hash, g_int64_equal);
    mm->log = g_string_new("");
    cfg = MMN_CTX_CFG_VA_BITS(va_bits) | MMN_CTX_CFG_OA_BITS(48) |
          MMN_CTX_CFG_UNPRIV | cfg_extra;
    if (mk_profile_legacy_inv(p)) {
        cfg |= MMN_CTX_CFG_LEGACY_INV;
    }
    c.a0 = mm->ttb;
    c.a1 = cfg;
    c.a2 = owner;
    mk_cmd(k, &c);
    return mm;
}

static void mk_mapcount_free(gpointer key, gpointer value, gpointer opaque)
{
    g_free(key);
}

void mk_mm_free(MmnMm *mm)
{
    if (mm->k) {
        mk_unbind(mm->k, mm->ctx);
    }
    g_list_free_full(mm->vmas, g_free);
    g_hash_table_foreach(mm->mapcount, mk_mapcount_free, NULL);
    g_hash_table_destroy(mm->mapcount);
    g_string_free(mm->log, true);
    g_free(mm);
}

uint16_t mk_mm_ctx(MmnMm *mm)
{
    return mm->ctx;
}

MkProfile mk_mm_profile(MmnMm *mm)
{
    return mm->profile;
}

uint64_t mk_mm_ttb(MmnMm *mm)
{
    return mm->ttb;
}

void mk_mm_set_cpu_hw_dbm(MmnMm *mm, bool on)
{
    mm->cpu_hw_dbm = on;
}

unsigned mk_mm_notifications(MmnMm *mm)
{
    return mm->notifications;
}

const char *mk_mm_log(MmnMm *mm)
{
    return mm->log->str;
}

void mk_mm_log_clear(MmnMm *mm)
{
    g_string_truncate(mm->log, 0);
}

/* ---- raw notifier calls ---- */

static void mk_note(MmnMm *mm, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void mk_note(MmnMm *mm, const char *fmt, ...)
{
    va_list ap;

    g_assert_false(mm->released);
    mm->notifications++;
    va_start(ap, fmt);
    g_string_append_vprintf(mm->log, fmt, ap);
    va_end(ap);
    g_string_append_c(mm->log, ' ');
}

int32_t mk_mn_range_start(MmnMm *mm, uint8_t event, bool blockable,
                          uint64_t start, uint64_t end, uint64_t owner)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_MN_RANGE_START, mm->ctx);
    int32_t res;

    c.arg = event | (blockable ? MMN_CMD_RANGE_BLOCKABLE : 0);
    c.a0 = start;
    c.a1 = end;
    c.a2 = owner;
    res = (int32_t)mk_cmd_res(mm->k, &c);
    mk_note(mm, "start(%u%s,%" PRIx64 "-%" PRIx64 ")=%d", event,
            blockable ? "" : ",nonblock", start, end, res);
    return res;
}

void mk_mn_range_end(MmnMm *mm, uint8_t event, bool blockable,
                     bool only_end, uint64_t start, uint64_t end,
                     uint64_t owner)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_MN_RANGE_END, mm->ctx);

    c.arg = event | (blockable ? MMN_CMD_RANGE_BLOCKABLE : 0) |
            (only_end ? MMN_CMD_RANGE_ONLY_END : 0);
    c.a0 = start;
    c.a1 = end;
    c.a2 = owner;
    mk_cmd(mm->k, &c);
    mk_note(mm, "end%s(%u,%" PRIx64 "-%" PRIx64 ")",
            only_end ? "_only" : "", event, start, end);
}

void mk_mn_secondary_tlbs(MmnMm *mm, uint64_t start, uint64_t end)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_MN_SECONDARY_TLBS, mm->ctx);

    c.a0 = start;
    c.a1 = end;
    mk_cmd(mm->k, &c);
    mk_note(mm, "tlbs(%" PRIx64 "-%" PRIx64 ")", start, end);
}

static void mk_mn_change_pte(MmnMm *mm, uint64_t va, uint64_t pte)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_MN_CHANGE_PTE, mm->ctx);

    c.a0 = va;
    c.a1 = pte;
    mk_cmd(mm->k, &c);
    mk_note(mm, "change_pte(%" PRIx64 ")", va);
}

/* ---- the profile engine: phases of a call site ---- */

static uint8_t mk_rule(MmnMm *mm, MkSite site)
{
    return mk_site_rules[site].rule[mm->profile];
}

static void mk_site_start(MmnMm *mm, MkSite site, uint64_t s, uint64_t e,
                          uint64_t owner)
{
    if (mk_rule(mm, site) & MK_N_RANGE) {
        int32_t r = mk_mn_range_start(mm, mk_site_rules[site].event, true,
                                      s, e, owner);
        g_assert_cmpint(r, ==, 0);  /* blockable starts cannot fail */
    }
}

static void mk_site_end(MmnMm *mm, MkSite site, uint64_t s, uint64_t e,
                        uint64_t owner)
{
    uint8_t r = mk_rule(mm, site);

    if (r & MK_N_RANGE) {
        mk_mn_range_end(mm, mk_site_rules[site].event, true,
                        r & MK_N_ONLY_END, s, e, owner);
    }
}

/* The CPU TLB flush after a PTE change (range [s, e)). */
static void mk_site_flush(MmnMm *mm, MkSite site, uint64_t s, uint64_t e)
{
    if (mk_rule(mm, site) & MK_N_FLUSH) {
        mk_mn_secondary_tlbs(mm, s, e);
    }
}

static void mk_site_change_pte(MmnMm *mm, MkSite site, uint64_t va,
                               uint64_t pte)
{
    if (mk_rule(mm, site) & MK_N_CHANGE_PTE) {
        mk_mn_change_pte(mm, va, pte);
    }
}

/* After pte_unmap_unlock(): seed 004's notification. */
static void mk_site_after_ptl(MmnMm *mm, MkSite site, uint64_t s,
                              uint64_t e, bool changed)
{
    if ((mk_rule(mm, site) & MK_N_UPGRADE) && changed) {
        int32_t r = mk_mn_range_start(mm, MK_EV_PROTECTION_UPGRADE, true,
                                      s, e, 0);
        g_assert_cmpint(r, ==, 0);
        mk_mn_range_end(mm, MK_EV_PROTECTION_UPGRADE, true, false, s, e, 0);
    }
}

/* ---- page tables ---- */

static unsigned mk_idx(uint64_t va, unsigned level)
{
    return (va >> (39 - 9 * level)) & 511;
}

uint64_t mk_pte_slot(MmnMm *mm, uint64_t va, unsigned level, bool alloc)
{
    uint64_t table = mm->ttb;

    for (unsigned l = mm->start_level; l < level; l++) {
        uint64_t slot = table + mk_idx(va, l) * 8;
        uint64_t d = qtest_readq(mk_qts(mm), slot);

        if (!(d & MK_PTE_VALID)) {
            if (!alloc) {
                return 0;
            }
            d = mk_alloc(mm->k, 4096, 4096) | MK_PTE_VALID | MK_PTE_TABLE |
                MK_PMD_TABLE_PXN;
            qtest_writeq(mk_qts(mm), slot, d);
        } else if (!(d & MK_PTE_TABLE)) {
            return 0;                       /* a block above @level */
        }
        table = d & MK_PTE_ADDR_MASK;
    }
    return table + mk_idx(va, level) * 8;
}

static uint64_t mk_rd(MmnMm *mm, uint64_t slot)
{
    return qtest_readq(mk_qts(mm), slot);
}

static void mk_wr(MmnMm *mm, uint64_t slot, uint64_t v)
{
    qtest_writeq(mk_qts(mm), slot, v);
}

static MkVma *mk_find_vma(MmnMm *mm, uint64_t va)
{
    for (GList *l = mm->vmas; l; l = l->next) {
        MkVma *v = l->data;

        if (va >= v->start && va < v->end) {
            return v;
        }
    }
    return NULL;
}

static uint64_t mk_vma_psize(const MkVma *v)
{
    return (v->flags & MK_MAP_HUGETLB) ? MK_HPAGE_SIZE : MK_PAGE_SIZE;
}

static unsigned mk_vma_level(const MkVma *v)
{
    return (v->flags & MK_MAP_HUGETLB) ? 2 : 3;
}

/* The leaf slot for @va in @v (tables allocated on demand). */
static uint64_t mk_vma_slot(MmnMm *mm, const MkVma *v, uint64_t va,
                            bool alloc)
{
    return mk_pte_slot(mm, va, mk_vma_level(v), alloc);
}

uint64_t mk_pte_get(MmnMm *mm, uint64_t va)
{
    for (unsigned l = mm->start_level; l <= 3; l++) {
        uint64_t slot = mk_pte_slot(mm, va, l, false);
        uint64_t d;

        if (!slot) {
            return 0;
        }
        d = mk_rd(mm, slot);
        if (!(d & MK_PTE_VALID)) {
            return 0;
        }
        if (l == 3 || !(d & MK_PTE_TABLE)) {
            return d;
        }
    }
    return 0;
}

uint64_t mk_va_to_pa(MmnMm *mm, uint64_t va)
{
    MkVma *v = mk_find_vma(mm, va);
    uint64_t d = mk_pte_get(mm, va);

    if (!d || !v) {
        return 0;
    }
    return (d & MK_PTE_ADDR_MASK) + (va & (mk_vma_psize(v) - 1));
}

/* Linux: the PTE of a freshly faulted page (mk_pte(page, vm_page_prot)). */
static uint64_t mk_make_pte(const MkVma *v, uint64_t pa, bool dirty)
{
    uint64_t pte = pa | MK_PTE_VALID | MK_PTE_AF | MK_PTE_SHARED |
                   MK_PTE_NG | MK_PTE_PXN | MK_PTE_UXN;

    if (!(v->flags & MK_MAP_HUGETLB)) {
        pte |= MK_PTE_TABLE;                /* page, not block */
    }
    if (v->prot == MK_PROT_NONE) {
        /* PAGE_NONE: not valid for hardware (PTE_PROT_NONE) */
        return 0;
    }
    pte |= MK_PTE_USER | MK_PTE_RDONLY;     /* PAGE_READONLY */
    if (v->prot & MK_PROT_WRITE) {
        if (v->flags & MK_MAP_SHARED) {
            pte |= MK_PTE_WRITE;            /* PAGE_SHARED: DBM|RDONLY */
            if (dirty) {
                pte = (pte & ~MK_PTE_RDONLY) | MK_PTE_DIRTY;
            }
        } else if (dirty) {
            /* maybe_mkwrite(pte_mkdirty()): private, after a write fault */
            pte = (pte & ~MK_PTE_RDONLY) | MK_PTE_WRITE | MK_PTE_DIRTY;
        }
        /* private, read fault: PAGE_COPY (read-only, COW) */
    }
    return pte;
}

static unsigned *mk_mapcount_ref(MmnMm *mm, uint64_t pa)
{
    unsigned *n = g_hash_table_lookup(mm->mapcount, &pa);

    if (!n) {
        uint64_t *key = g_new(uint64_t, 2);

        key[0] = pa;
        key[1] = 0;
        g_hash_table_insert(mm->mapcount, key, &key[1]);
        n = (unsigned *)&key[1];
    }
    return n;
}

uint32_t mk_fill_pattern(uint64_t va)
{
    return (uint32_t)(va >> 12) * 0x9e3779b1u ^ 0xc0ffee00u;
}

static void mk_fill(MmnMm *mm, uint64_t pa, uint64_t size, uint32_t pat)
{
    uint32_t buf[1024];

    for (size_t i = 0; i < ARRAY_SIZE(buf); i++) {
        buf[i] = cpu_to_le32(pat);
    }
    for (uint64_t o = 0; o < size; o += sizeof(buf)) {
        qtest_memwrite(mk_qts(mm), pa + o, buf, sizeof(buf));
    }
}

/* A new page (or huge page) for @va, mapped once. */
static uint64_t mk_new_page(MmnMm *mm, const MkVma *v)
{
    uint64_t size = mk_vma_psize(v);
    uint64_t pa = mk_alloc(mm->k, size, size);

    (*mk_mapcount_ref(mm, pa))++;
    return pa;
}

/* A page is freed: someone else reuses it; make stale accesses visible. */
static void mk_put_page(MmnMm *mm, uint64_t pa, uint64_t size)
{
    unsigned *n = mk_mapcount_ref(mm, pa);

    if (pa == mm->k->zero_page) {
        return;
    }
    g_assert_cmpuint(*n, >, 0);
    if (--*n == 0) {
        mk_fill(mm, pa, size, 0xdeadf00d);
    }
}

void mk_mmap(MmnMm *mm, uint64_t va, uint64_t len, int prot, int flags)
{
    MkVma *v = g_new0(MkVma, 1);
    uint64_t align = (flags & MK_MAP_HUGETLB) ? MK_HPAGE_SIZE : MK_PAGE_SIZE;

    g_assert(!(va & (align - 1)) && len && !(len & (align - 1)));
    g_assert(va + len <= (1ULL << mm->va_bits));
    for (uint64_t a = va; a < va + len; a += MK_PAGE_SIZE) {
        g_assert(!mk_find_vma(mm, a));
    }
    v->start = va;
    v->end = va + len;
    v->prot = prot;
    v->flags = flags;
    mm->vmas = g_list_append(mm->vmas, v);
}

void mk_populate(MmnMm *mm, uint64_t va, uint64_t len)
{
    for (uint64_t a = va; a < va + len;) {
        MkVma *v = mk_find_vma(mm, a);
        bool write;

        g_assert(v);
        write = (v->prot & MK_PROT_WRITE) && !(v->flags & MK_MAP_SHARED);
        g_assert_cmpint(mk_handle_mm_fault(mm, a, write), ==, MK_FAULT_OK);
        a += mk_vma_psize(v);
    }
}

void mk_mmap_populate(MmnMm *mm, uint64_t va, uint64_t len, int prot,
                      int flags)
{
    mk_mmap(mm, va, len, prot, flags);
    mk_populate(mm, va, len);
    for (uint64_t a = va; a < va + len; a += MK_PAGE_SIZE) {
        uint64_t pa = mk_va_to_pa(mm, a);

        g_assert(pa && pa != mm->k->zero_page);
        mk_fill(mm, pa, MK_PAGE_SIZE, mk_fill_pattern(a));
    }
}

/* Remove [va, va + len) from the VMA list (splitting VMAs). */
static void mk_vma_remove(MmnMm *mm, uint64_t va, uint64_t len)
{
    GList *l = mm->vmas;

    while (l) {
        GList *next = l->next;
        MkVma *v = l->data;
        uint64_t end = va + len;

        if (v->end <= va || v->start >= end) {
            l = next;
            continue;
        }
        if (v->start < va && v->end > end) {
            MkVma *tail = g_memdup2(v, sizeof(*v));

            tail->start = end;
            v->end = va;
            mm->vmas = g_list_insert_before(mm->vmas, next, tail);
        } else if (v->start < va) {
            v->end = va;
        } else if (v->end > end) {
            v->start = end;
        } else {
            g_free(v);
            mm->vmas = g_list_delete_link(mm->vmas, l);
        }
        l = next;
    }
}

void mk_munmap(MmnMm *mm, uint64_t va, uint64_t len)
{
    uint64_t end = va + len;

    mk_site_start(mm, MK_SITE_UNMAP, va, end, 0);
    for (uint64_t a = va; a < end;) {
        MkVma *v = mk_find_vma(mm, a);
        uint64_t slot, pte;

        if (!v) {
            a += MK_PAGE_SIZE;
            continue;
        }
        slot = mk_vma_slot(mm, v, a, false);
        pte = slot ? mk_rd(mm, slot) : 0;
        if (pte & MK_PTE_VALID) {
            mk_wr(mm, slot, 0);
            mk_put_page(mm, pte & MK_PTE_ADDR_MASK, mk_vma_psize(v));
        }
        a += mk_vma_psize(v);
    }
    mk_site_end(mm, MK_SITE_UNMAP, va, end, 0);
    mk_site_flush(mm, MK_SITE_UNMAP, va, end);
    mk_vma_remove(mm, va, len);
}

/*
 * pte_modify() to the new vm_page_prot, then MM_CP_TRY_CHANGE_WRITABLE:
 * can_change_pte_writable() -> pte_mkwrite() for an exclusive private
 * anonymous page or a dirty shared one.
 */
static uint64_t mk_change_prot(MmnMm *mm, const MkVma *v, uint64_t pte)
{
    uint64_t pa = pte & MK_PTE_ADDR_MASK;
    bool dirty = (pte & MK_PTE_DIRTY) ||
                 ((pte & MK_PTE_WRITE) && !(pte & MK_PTE_RDONLY));
    uint64_t keep = pte & (MK_PTE_AF | MK_PTE_DIRTY);
    uint64_t n;

    n = mk_make_pte(v, pa, false);
    if (!n) {
        return 0;
    }
    n = (n & ~MK_PTE_AF) | keep | (dirty ? MK_PTE_DIRTY : 0);
    if (v->prot & MK_PROT_WRITE) {
        bool exclusive = pa != mm->k->zero_page &&
                         *mk_mapcount_ref(mm, pa) == 1;

        if ((v->flags & MK_MAP_SHARED) ? dirty : exclusive) {
            n = (n & ~MK_PTE_RDONLY) | MK_PTE_WRITE;
        }
    }
    return n;
}

void mk_mprotect(MmnMm *mm, uint64_t va, uint64_t len, int prot)
{
    uint64_t end = va + len;

    mk_site_start(mm, MK_SITE_MPROTECT, va, end, 0);
    for (uint64_t a = va; a < end;) {
        MkVma *v = mk_find_vma(mm, a);
        uint64_t slot, pte;

        g_assert(v && v->start == va && v->end == end); /* whole VMAs */
        v->prot = prot;
        slot = mk_vma_slot(mm, v, a, false);
        pte = slot ? mk_rd(mm, slot) : 0;
        if (pte & MK_PTE_VALID) {
            uint64_t n = mk_change_prot(mm, v, pte);

            /* PROT_NONE keeps the page (PTE_PROT_NONE, not valid) */
            mk_wr(mm, slot, n ? n : (pte & ~MK_PTE_VALID));
        } else if (pte && prot != MK_PROT_NONE) {
            /* back from PROT_NONE */
            uint64_t n = mk_change_prot(mm, v, pte | MK_PTE_VALID);

            mk_wr(mm, slot, n);
        }
        a += mk_vma_psize(v);
    }
    mk_site_end(mm, MK_SITE_MPROTECT, va, end, 0);
    mk_site_flush(mm, MK_SITE_MPROTECT, va, end);
}

void mk_fork(MmnMm *mm, uint64_t va, uint64_t len)
{
    uint64_t end = va + len;

    mk_site_start(mm, MK_SITE_FORK, va, end, 0);
    for (uint64_t a = va; a < end;) {
        MkVma *v = mk_find_vma(mm, a);
        uint64_t slot, pte;

        g_assert(v);
        slot = mk_vma_slot(mm, v, a, false);
        pte = slot ? mk_rd(mm, slot) : 0;
        if (pte & MK_PTE_VALID) {
            uint64_t pa = pte & MK_PTE_ADDR_MASK;

            if (!(v->flags & MK_MAP_SHARED)) {
                /* ptep_set_wrprotect(): keep dirtiness in PTE_DIRTY */
                bool dirty = !(pte & MK_PTE_RDONLY) && (pte & MK_PTE_WRITE);

                pte = (pte | MK_PTE_RDONLY | (dirty ? MK_PTE_DIRTY : 0)) &
                      ~MK_PTE_WRITE;
                mk_wr(mm, slot, pte);
            }
            if (pa != mm->k->zero_page) {
                (*mk_mapcount_ref(mm, pa))++;   /* the child's mapping */
            }
        }
        a += mk_vma_psize(v);
    }
    mk_site_end(mm, MK_SITE_FORK, va, end, 0);
    /* flush_tlb_mm(): (0, -1UL); the driver rounds the end down */
    mk_site_flush(mm, MK_SITE_FORK, 0, ~(MK_PAGE_SIZE - 1));
}

void mk_child_exit(MmnMm *mm, uint64_t va, uint64_t len)
{
    /* The child's zap touches the child's tables only: no notification. */
    for (uint64_t a = va; a < va + len;) {
        MkVma *v = mk_find_vma(mm, a);
        uint64_t pte;

        g_assert(v);
        pte = mk_pte_get(mm, a);
        if ((pte & MK_PTE_VALID) &&
            (pte & MK_PTE_ADDR_MASK) != mm->k->zero_page) {
            mk_put_page(mm, pte & MK_PTE_ADDR_MASK, mk_vma_psize(v));
        }
        a += mk_vma_psize(v);
    }
}

/*
 * arm64 __ptep_set_access_flags(): write @entry if it differs; flush the
 * CPU TLB if @dirty ("invalidate a stale read-only entry").  Returns
 * whether the PTE changed.
 */
static bool mk_ptep_set_access_flags(MmnMm *mm, MkSite site, uint64_t slot,
                                     uint64_t va, uint64_t entry, bool dirty)
{
    if (mk_rd(mm, slot) == entry) {
        return false;
    }
    mk_wr(mm, slot, entry);
    if (dirty) {
        /* flush_tlb_page(vma, va): one page, even for a huge page */
        uint64_t p = va & ~(MK_PAGE_SIZE - 1);

        mk_site_flush(mm, site, p, p + MK_PAGE_SIZE);
    }
    return true;
}

/* wp_page_copy(): a new page replaces the shared / zero page. */
static void mk_wp_page_copy(MmnMm *mm, MkVma *v, uint64_t slot, uint64_t va)
{
    uint64_t page = va & ~(MK_PAGE_SIZE - 1);
    uint64_t old = mk_rd(mm, slot);
    uint64_t old_pa = old & MK_PTE_ADDR_MASK;
    uint64_t new_pa = mk_new_page(mm, v);
    uint64_t entry = mk_make_pte(v, new_pa, true);
    uint8_t *buf = g_malloc(MK_PAGE_SIZE);

    g_assert(!(v->flags & MK_MAP_HUGETLB));
    qtest_memread(mk_qts(mm), old_pa, buf, MK_PAGE_SIZE);
    qtest_memwrite(mk_qts(mm), new_pa, buf, MK_PAGE_SIZE);
    g_free(buf);
    mk_site_start(mm, MK_SITE_WP_PAGE_COPY, page, page + MK_PAGE_SIZE, 0);
    /* ptep_clear_flush_notify() */
    mk_wr(mm, slot, 0);
    mk_site_flush(mm, MK_SITE_WP_PAGE_COPY, page, page + MK_PAGE_SIZE);
    /* set_pte_at_notify() */
    mk_wr(mm, slot, entry);
    mk_site_change_pte(mm, MK_SITE_WP_PAGE_COPY, page, entry);
    mk_put_page(mm, old_pa, MK_PAGE_SIZE);
    mk_site_end(mm, MK_SITE_WP_PAGE_COPY, page, page + MK_PAGE_SIZE, 0);
}

static MkFaultRet mk_hugetlb_fault(MmnMm *mm, MkVma *v, uint64_t va,
                                   bool write)
{
    uint64_t haddr = va & ~(MK_HPAGE_SIZE - 1);
    uint64_t slot = mk_vma_slot(mm, v, haddr, true);
    uint64_t pte = mk_rd(mm, slot), entry;
    bool changed;
    MkSite site = MK_SITE_HUGETLB_FAULT;

    if (!(pte & MK_PTE_VALID)) {
        /* hugetlb_no_page() */
        mk_wr(mm, slot, mk_make_pte(v, mk_new_page(mm, v), write));
        return MK_FAULT_OK;
    }
    entry = pte;
    if (write && !(pte & MK_PTE_WRITE)) {
        /* hugetlb_wp(): reuse an exclusive anonymous page */
        g_assert(!(v->flags & MK_MAP_SHARED));
        g_assert_cmpuint(*mk_mapcount_ref(mm, pte & MK_PTE_ADDR_MASK), ==, 1);
        entry = (entry & ~MK_PTE_RDONLY) | MK_PTE_WRITE | MK_PTE_DIRTY;
        site = MK_SITE_HUGETLB_WP_REUSE;
    } else if (write) {
        entry = (entry & ~MK_PTE_RDONLY) | MK_PTE_DIRTY; /* huge_pte_mkdirty */
    }
    entry |= MK_PTE_AF;
    changed = mk_ptep_set_access_flags(mm, site, slot, haddr, entry, write);
    if (site == MK_SITE_HUGETLB_WP_REUSE) {
        changed = true;     /* seed 004: hugetlb_wp() returned 0 */
    }
    mk_site_after_ptl(mm, site, haddr, haddr + MK_HPAGE_SIZE, changed);
    return MK_FAULT_OK;
}

MkFaultRet mk_handle_mm_fault(MmnMm *mm, uint64_t va, bool write)
{
    MkVma *v = mk_find_vma(mm, va);
    uint64_t page = va & ~(MK_PAGE_SIZE - 1);
    uint64_t slot, pte, entry;
    bool changed;

    if (!v || !(v->prot & (write ? MK_PROT_WRITE : MK_PROT_READ))) {
        return MK_FAULT_SIGSEGV;
    }
    if (v->flags & MK_MAP_HUGETLB) {
        return mk_hugetlb_fault(mm, v, va, write);
    }
    slot = mk_vma_slot(mm, v, va, true);
    pte = mk_rd(mm, slot);
    if (!(pte & MK_PTE_VALID)) {
        if (pte) {
            return MK_FAULT_SIGSEGV;        /* PROT_NONE leftovers */
        }
        /* do_anonymous_page() / do_fault(): set_pte_at, no flush */
        if (!write && !(v->flags & MK_MAP_SHARED) &&
            (v->prot & MK_PROT_WRITE)) {
            /* the zero page, read-only (pte_mkspecial) */
            mk_wr(mm, slot, mk_make_pte(v, mm->k->zero_page, false));
        } else {
            mk_wr(mm, slot, mk_make_pte(v, mk_new_page(mm, v), write));
        }
        return MK_FAULT_OK;
    }
    if (write && !(pte & MK_PTE_WRITE)) {
        /* do_wp_page() */
        uint64_t pa = pte & MK_PTE_ADDR_MASK;

        if (pa == mm->k->zero_page || *mk_mapcount_ref(mm, pa) > 1) {
            mk_wp_page_copy(mm, v, slot, va);
            return MK_FAULT_OK;
        }
        /* wp_page_reuse(): pte_mkyoung, maybe_mkwrite(pte_mkdirty()) */
        entry = (pte & ~MK_PTE_RDONLY) | MK_PTE_AF | MK_PTE_WRITE |
                MK_PTE_DIRTY;
        changed = mk_ptep_set_access_flags(mm, MK_SITE_WP_PAGE_REUSE, slot,
                                           va, entry, true);
        mk_site_after_ptl(mm, MK_SITE_WP_PAGE_REUSE, page,
                          page + MK_PAGE_SIZE, changed);
        return MK_FAULT_OK;
    }
    /* handle_pte_fault(): pte_mkdirty() on write, pte_mkyoung() */
    entry = pte | MK_PTE_AF;
    if (write) {
        entry = (entry & ~MK_PTE_RDONLY) | MK_PTE_DIRTY;
    }
    changed = mk_ptep_set_access_flags(mm, MK_SITE_PTE_FAULT, slot, va,
                                       entry, write);
    /* else: flush_tlb_fix_spurious_fault() is empty on arm64 */
    mk_site_after_ptl(mm, MK_SITE_PTE_FAULT, page, page + MK_PAGE_SIZE,
                      changed);
    return MK_FAULT_OK;
}

/* The CPU makes @va accessible for itself, as its MMU + fault path would. */
static uint64_t mk_cpu_access(MmnMm *mm, uint64_t va, bool write)
{
    for (int tries = 0; tries < 3; tries++) {
        MkVma *v = mk_find_vma(mm, va);
        uint64_t pte = mk_pte_get(mm, va);
        bool ok = (pte & MK_PTE_VALID) && (pte & MK_PTE_AF);

        g_assert(v);
        if (ok && write && (pte & MK_PTE_RDONLY)) {
            if ((pte & MK_PTE_WRITE) && mm->cpu_hw_dbm) {
                /* FEAT_HAFDBS: hardware clears AP[2]; nobody is told */
                uint64_t slot = mk_vma_slot(mm, v, va, false);

                mk_wr(mm, slot, pte & ~MK_PTE_RDONLY);
            } else {
                ok = false;
            }
        }
        if (ok) {
            return mk_va_to_pa(mm, va);
        }
        g_assert_cmpint(mk_handle_mm_fault(mm, va, write), ==, MK_FAULT_OK);
    }
    g_assert_not_reached();
}

void mk_cpu_write(MmnMm *mm, uint64_t va, const void *buf, size_t len)
{
    while (len) {
        size_t n = MIN(len, MK_PAGE_SIZE - (va & (MK_PAGE_SIZE - 1)));

        qtest_memwrite(mk_qts(mm), mk_cpu_access(mm, va, true), buf, n);
        va += n;
        buf = (const uint8_t *)buf + n;
        len -= n;
    }
}

void mk_cpu_read(MmnMm *mm, uint64_t va, void *buf, size_t len)
{
    while (len) {
        size_t n = MIN(len, MK_PAGE_SIZE - (va & (MK_PAGE_SIZE - 1)));

        qtest_memread(mk_qts(mm), mk_cpu_access(mm, va, false), buf, n);
        va += n;
        buf = (uint8_t *)buf + n;
        len -= n;
    }
}

/* ---- page aging ---- */

static bool mk_cpu_test_and_clear_young(MmnMm *mm, uint64_t va)
{
    MkVma *v = mk_find_vma(mm, va);
    uint64_t slot = v ? mk_vma_slot(mm, v, va, false) : 0;
    uint64_t pte = slot ? mk_rd(mm, slot) : 0;

    if (!(pte & MK_PTE_VALID) || !(pte & MK_PTE_AF)) {
        return false;
    }
    mk_wr(mm, slot, pte & ~MK_PTE_AF);
    return true;
}

static uint32_t mk_young_cmd(MmnMm *mm, uint8_t op, uint64_t a0,
                             uint64_t a1)
{
    MmnCmd c = mk_cmd_init(op, mm->ctx);
    uint32_t r;

    c.a0 = a0;
    c.a1 = a1;
    r = mk_cmd_res(mm->k, &c);
    mk_note(mm, "young%02x(%" PRIx64 ")=%u", op, a0, r);
    return r;
}

bool mk_clear_flush_young(MmnMm *mm, uint64_t va)
{
    uint64_t p = va & ~(MK_PAGE_SIZE - 1);
    bool young = mk_cpu_test_and_clear_young(mm, va);

    if (young) {
        mk_site_flush(mm, MK_SITE_CLEAR_FLUSH_YOUNG, p, p + MK_PAGE_SIZE);
    }
    return mk_young_cmd(mm, MMN_CMD_MN_CLEAR_FLUSH_YOUNG, p,
                        p + MK_PAGE_SIZE) || young;
}

bool mk_clear_young(MmnMm *mm, uint64_t va)
{
    uint64_t p = va & ~(MK_PAGE_SIZE - 1);
    bool young = mk_cpu_test_and_clear_young(mm, va);

    return mk_young_cmd(mm, MMN_CMD_MN_CLEAR_YOUNG, p,
                        p + MK_PAGE_SIZE) || young;
}

bool mk_test_young(MmnMm *mm, uint64_t va)
{
    /* mmu_notifier_test_young() alone: the CPU bit is read separately */
    return mk_young_cmd(mm, MMN_CMD_MN_TEST_YOUNG,
                        va & ~(MK_PAGE_SIZE - 1), 0) != 0;
}

uint32_t mk_test_clear_young(MmnMm *mm, uint64_t start, uint64_t end,
                             bool clear, uint64_t *bitmap)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_MN_TEST_CLEAR_YOUNG, mm->ctx);
    unsigned words = DIV_ROUND_UP((end - start) / MK_PAGE_SIZE, 64);
    uint64_t bm = 0;
    uint32_t r;

    c.arg = clear ? MMN_CMD_YOUNG_CLEAR : 0;
    c.a0 = start;
    c.a1 = end;
    if (bitmap) {
        bm = mm->k->desc + 0x400;
        g_assert_cmpuint(words * 8, <=, 0xc00);
        for (unsigned i = 0; i < words; i++) {
            qtest_writeq(mk_qts(mm), bm + 8 * i, bitmap[i]);
        }
    }
    c.a2 = bm;
    r = mk_cmd_res(mm->k, &c);
    if (bitmap) {
        for (unsigned i = 0; i < words; i++) {
            bitmap[i] = qtest_readq(mk_qts(mm), bm + 8 * i);
        }
    }
    mk_note(mm, "test_clear_young(%" PRIx64 "-%" PRIx64 ",%d)=%u", start,
            end, clear, r);
    return r;
}

/* ---- KSM, release, migration ---- */

void mk_ksm_replace(MmnMm *mm, uint64_t va,
                    void (*between)(MmnMm *mm, void *opaque), void *opaque)
{
    MkVma *v = mk_find_vma(mm, va);
    uint64_t page = va & ~(MK_PAGE_SIZE - 1);
    uint64_t slot, old, new_pa, entry;
    uint8_t *buf = g_malloc(MK_PAGE_SIZE);

    g_assert(v && !(v->flags & MK_MAP_HUGETLB));
    slot = mk_vma_slot(mm, v, va, false);
    old = mk_rd(mm, slot);
    g_assert(old & MK_PTE_VALID);
    new_pa = mk_new_page(mm, v);
    qtest_memread(mk_qts(mm), old & MK_PTE_ADDR_MASK, buf, MK_PAGE_SIZE);
    qtest_memwrite(mk_qts(mm), new_pa, buf, MK_PAGE_SIZE);
    g_free(buf);
    /* the KSM page is mapped read-only (write-protected, not DBM) */
    entry = (old & ~(MK_PTE_ADDR_MASK | MK_PTE_WRITE | MK_PTE_DIRTY)) |
            new_pa | MK_PTE_RDONLY;
    mk_site_start(mm, MK_SITE_KSM_REPLACE, page, page + MK_PAGE_SIZE, 0);
    if (between) {
        between(mm, opaque);
    }
    mk_wr(mm, slot, 0);                     /* ptep_clear_flush() */
    mk_site_flush(mm, MK_SITE_KSM_REPLACE, page, page + MK_PAGE_SIZE);
    mk_wr(mm, slot, entry);                 /* set_pte_at_notify() */
    mk_site_change_pte(mm, MK_SITE_KSM_REPLACE, page, entry);
    mk_put_page(mm, old & MK_PTE_ADDR_MASK, MK_PAGE_SIZE);
    mk_site_end(mm, MK_SITE_KSM_REPLACE, page, page + MK_PAGE_SIZE, 0);
}

void mk_release(MmnMm *mm)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_MN_RELEASE, mm->ctx);

    mk_cmd(mm->k, &c);
    mk_note(mm, "release");
    mm->released = true;
}

void mk_migrate(MmnMm *mm, uint64_t va, uint64_t len, uint64_t owner,
                void (*between)(MmnMm *mm, void *opaque), void *opaque)
{
    uint64_t end = va + len;
    uint64_t *old = g_new0(uint64_t, len / MK_PAGE_SIZE);
    uint8_t *buf = g_malloc(MK_PAGE_SIZE);
    unsigned i = 0;

    mk_site_start(mm, MK_SITE_MIGRATE, va, end, owner);
    if (between) {
        between(mm, opaque);
    }
    /* migrate_vma_collect(): migration entries (not valid) */
    for (uint64_t a = va; a < end; a += MK_PAGE_SIZE, i++) {
        MkVma *v = mk_find_vma(mm, a);
        uint64_t slot;

        g_assert(v && !(v->flags & MK_MAP_HUGETLB));
        slot = mk_vma_slot(mm, v, a, false);
        old[i] = slot ? mk_rd(mm, slot) : 0;
        if (old[i] & MK_PTE_VALID) {
            mk_wr(mm, slot, 0);
        }
    }
    mk_site_flush(mm, MK_SITE_MIGRATE, va, end);
    mk_site_end(mm, MK_SITE_MIGRATE, va, end, owner);
    /* migrate_vma_pages() + finalize: copy, remove_migration_ptes() */
    i = 0;
    for (uint64_t a = va; a < end; a += MK_PAGE_SIZE, i++) {
        MkVma *v = mk_find_vma(mm, a);
        uint64_t new_pa;

        if (!(old[i] & MK_PTE_VALID)) {
            continue;
        }
        new_pa = mk_new_page(mm, v);
        qtest_memread(mk_qts(mm), old[i] & MK_PTE_ADDR_MASK, buf,
                      MK_PAGE_SIZE);
        qtest_memwrite(mk_qts(mm), new_pa, buf, MK_PAGE_SIZE);
        mk_wr(mm, mk_vma_slot(mm, v, a, false),
              (old[i] & ~MK_PTE_ADDR_MASK) | new_pa);
        mk_put_page(mm, old[i] & MK_PTE_ADDR_MASK, MK_PAGE_SIZE);
    }
    g_free(buf);
    g_free(old);
}

/* ================================================================ */
/* The device fault loop                                             */
/* ================================================================ */

void mk_dma_fault_loop(MmnMm *mm, const MmnDmaDesc *d, unsigned max_iter,
                       MkFaultLoop *r)
{
    MmnKernel *k = mm->k;
    unsigned n0 = mm->notifications;
    uint32_t st;

    memset(r, 0, sizeof(*r));
    st = mk_dma_submit(k, d, NULL);
    for (unsigned iter = 0;; iter++) {
        MmnEvt e;
        bool stalled_seen = false;
        MmnCmd c;

        g_assert_cmpuint(iter, <, max_iter);
        while (mk_evt_pop(k, &e)) {
            if (e.type == MMN_EVT_FAULT) {
                r->faults++;
                r->last_fault = e;
                stalled_seen |= !!(e.flags & MMN_EVT_F_STALLED);
            } else if (e.type == MMN_EVT_LIVELOCK) {
                r->livelock_events++;
            } else {
                r->other_events++;
            }
        }
        if (MMN_DMA_STATUS_STATE(st) != MMN_DMA_ST_STALLED) {
            break;
        }
        /* The stalled access must have been reported. */
        g_assert_true(stalled_seen);
        g_assert_cmpuint(r->last_fault.ctx, ==, mm->ctx);
        if (mk_handle_mm_fault(mm, r->last_fault.va,
                               r->last_fault.flags & MMN_EVT_F_WRITE) ==
            MK_FAULT_OK) {
            c = mk_cmd_init(MMN_CMD_DMA_RESUME, 0);
            r->retries++;
        } else {
            c = mk_cmd_init(MMN_CMD_DMA_ABORT, 0);
            r->aborts++;
        }
        mk_cmd(k, &c);
        st = mk_readl(k, A_DMA_STATUS);
    }
    r->status = st;
    r->state = MMN_DMA_STATUS_STATE(st);
    r->notifications = mm->notifications - n0;
    mk_dma_read_desc(k, &r->desc);
    g_assert_cmphex(r->desc.status, ==, st);
}
