/*
 * mmn-smmu: command queue.  Commands are consumed synchronously, in order,
 * during the write of CMDQ_PROD (or CMDQ_ERR_ACK / CTRL.CMDQ_EN).  A command
 * that cannot be executed stops the queue with CMDQ_ERR until the driver
 * acknowledges it.  The MN_* commands carry the guest kernel's
 * mmu_notifier calls into the notifier layer, which delivers them to the
 * IOTLB (and any other subscriber of the context's address space).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/log.h"
#include "hw/mmn-smmu/mmu-notifier.h"
#include "hw/mmn-smmu/iotlb.h"
#include "mmn-smmu-internal.h"
#include "hw/mmn-smmu/trace.h"

#define MMN_YOUNG_BITMAP_MAX    65536ULL    /* pages */

static const char *const mmn_cmdq_err_names[] = {
    [MMN_CMDQ_ERR_OPCODE] = "OPCODE",
    [MMN_CMDQ_ERR_RESERVED] = "RESERVED",
    [MMN_CMDQ_ERR_BAD_CTX] = "BAD_CTX",
    [MMN_CMDQ_ERR_BAD_ADDR] = "BAD_ADDR",
    [MMN_CMDQ_ERR_BAD_RANGE] = "BAD_RANGE",
    [MMN_CMDQ_ERR_BAD_CONFIG] = "BAD_CONFIG",
    [MMN_CMDQ_ERR_NOT_STALLED] = "NOT_STALLED",
    [MMN_CMDQ_ERR_MISUSE] = "MISUSE",
};

/* Which operand fields each opcode uses; the others must be zero. */
enum {
    U_CTX = 1 << 0,
    U_ARG = 1 << 1,
    U_A0 = 1 << 2,
    U_A1 = 1 << 3,
    U_A2 = 1 << 4,
    U_A3 = 1 << 5,
    U_FLAGS = 1 << 6,
};

static int mmn_cmd_uses(uint8_t opcode)
{
    switch (opcode) {
    case MMN_CMD_SYNC:
        return U_FLAGS | U_ARG | U_A0;
    case MMN_CMD_CTX_BIND:
        return U_CTX | U_A0 | U_A1 | U_A2;
    case MMN_CMD_CTX_UNBIND:
    case MMN_CMD_TLBI_CTX:
    case MMN_CMD_MN_RELEASE:
        return U_CTX;
    case MMN_CMD_TLBI_PAGE:
        return U_CTX | U_A0;
    case MMN_CMD_TLBI_RANGE:
    case MMN_CMD_MN_SECONDARY_TLBS:
        return U_CTX | U_A0 | U_A1;
    case MMN_CMD_TLBI_ALL:
    case MMN_CMD_DMA_RESUME:
    case MMN_CMD_DMA_ABORT:
        return 0;
    case MMN_CMD_MN_RANGE_START:
        return U_CTX | U_ARG | U_A0 | U_A1 | U_A2 | U_A3;
    case MMN_CMD_MN_RANGE_END:
        return U_CTX | U_ARG | U_A0 | U_A1 | U_A2;
    case MMN_CMD_MN_CLEAR_FLUSH_YOUNG:
    case MMN_CMD_MN_CLEAR_YOUNG:
        return U_CTX | U_A0 | U_A1 | U_A3;
    case MMN_CMD_MN_TEST_YOUNG:
        return U_CTX | U_A0 | U_A3;
    case MMN_CMD_MN_TEST_CLEAR_YOUNG:
        return U_CTX | U_ARG | U_A0 | U_A1 | U_A2 | U_A3;
    case MMN_CMD_MN_CHANGE_PTE:
        return U_CTX | U_A0 | U_A1;
    case MMN_CMD_CHECK:
        return U_CTX | U_A0;
    default:
        return -1;
    }
}

static bool mmn_cmd_reserved_ok(const MmnCmd *c, int uses)
{
    uint32_t arg_mask = 0;
    uint8_t flags_mask = 0;

    switch (c->opcode) {
    case MMN_CMD_SYNC:
        flags_mask = MMN_CMD_SYNC_F_IRQ | MMN_CMD_SYNC_F_WRITE;
        arg_mask = UINT32_MAX;
        break;
    case MMN_CMD_MN_RANGE_START:
        arg_mask = MMN_CMD_RANGE_EVENT_MASK | MMN_CMD_RANGE_BLOCKABLE;
        break;
    case MMN_CMD_MN_RANGE_END:
        arg_mask = MMN_CMD_RANGE_EVENT_MASK | MMN_CMD_RANGE_BLOCKABLE |
                   MMN_CMD_RANGE_ONLY_END;
        break;
    case MMN_CMD_MN_TEST_CLEAR_YOUNG:
        arg_mask = MMN_CMD_YOUNG_CLEAR;
        break;
    }
    if ((c->flags & ~flags_mask) || (c->arg & ~arg_mask)) {
        return false;
    }
    if ((!(uses & U_CTX) && c->ctx) || (!(uses & U_A0) && c->a0) ||
        (!(uses & U_A1) && c->a1) || (!(uses & U_A2) && c->a2) ||
        (!(uses & U_A3) && c->a3)) {
        return false;
    }
    return !c->reserved[0] && !c->reserved[1] && !c->reserved[2];
}

static bool mmn_range_ok(uint64_t start, uint64_t end)
{
    return end > start && !(start & (MMN_PAGE_SIZE - 1)) &&
           !(end & (MMN_PAGE_SIZE - 1));
}

/* A result word: 0 means none wanted. */
static bool mmn_result_ok(MmnSmmuState *s, uint64_t addr)
{
    return addr == 0 || (!(addr & 3) && mmn_smmu_ram_ok(s, addr, 4, true));
}

static void mmn_put_result(MmnSmmuState *s, uint64_t addr, uint32_t val)
{
    uint32_t le = cpu_to_le32(val);

    if (addr) {
        /* Checked by mmn_result_ok() before the command had effects. */
        mmn_smmu_write(s, addr, &le, sizeof(le));
    }
}

static int mmn_cmd_young_bitmap(MmnSmmuState *s, MmnSmmuCtx *ctx,
                                const MmnCmd *c)
{
    uint64_t npages = (c->a1 - c->a0) / MMN_PAGE_SIZE;
    uint64_t words = DIV_ROUND_UP(npages, 64);
    g_autofree unsigned long *bitmap = NULL;
    g_autofree uint64_t *le = NULL;
    bool clear = c->arg & MMN_CMD_YOUNG_CLEAR;
    uint64_t i;
    int ret;

    if (!c->a2) {
        ret = mmn_notifier_test_clear_young(ctx->mm, c->a0, c->a1, clear,
                                            NULL);
        mmn_put_result(s, c->a3, ret);
        return 0;
    }
    if (npages > MMN_YOUNG_BITMAP_MAX) {
        return MMN_CMDQ_ERR_BAD_RANGE;
    }
    if ((c->a2 & 7) || !mmn_smmu_ram_ok(s, c->a2, words * 8, true)) {
        return MMN_CMDQ_ERR_BAD_ADDR;
    }
    le = g_new0(uint64_t, words);
    bitmap = bitmap_new(npages);
    if (!mmn_smmu_read(s, c->a2, le, words * 8)) {
        return MMN_CMDQ_ERR_BAD_ADDR;
    }
    for (i = 0; i < npages; i++) {
        if (le64_to_cpu(le[i / 64]) & (1ULL << (i % 64))) {
            set_bit(i, bitmap);
        }
    }
    ret = mmn_notifier_test_clear_young(ctx->mm, c->a0, c->a1, clear,
                                        bitmap);
    memset(le, 0, words * 8);
    for (i = 0; i < npages; i++) {
        if (test_bit(i, bitmap)) {
            le[i / 64] |= 1ULL << (i % 64);
        }
    }
    for (i = 0; i < words; i++) {
        le[i] = cpu_to_le64(le[i]);
    }
    mmn_smmu_write(s, c->a2, le, words * 8);
    mmn_put_result(s, c->a3, ret);
    return 0;
}

/* Execute one command; returns 0 or an MMN_CMDQ_ERR_* reason. */
static int mmn_cmd_exec(MmnSmmuState *s, const MmnCmd *c)
{
    int uses = mmn_cmd_uses(c->opcode);
    MmnSmmuCtx *ctx = NULL;
    MmnSmmuOpenRange open_range;
    MmnNotifierRange range;
    MmnCheckReport report;
    int ret;

    if (uses < 0) {
        return MMN_CMDQ_ERR_OPCODE;
    }
    if (!mmn_cmd_reserved_ok(c, uses)) {
        return MMN_CMDQ_ERR_RESERVED;
    }
    if ((uses & U_CTX) && c->opcode != MMN_CMD_CTX_BIND &&
        !(c->opcode == MMN_CMD_CHECK && c->ctx == MMN_CMD_CTX_ALL)) {
        ctx = mmn_smmu_ctx_get(s, c->ctx);
        if (!ctx) {
            return MMN_CMDQ_ERR_BAD_CTX;
        }
    }

    switch (c->opcode) {
    case MMN_CMD_SYNC:
        if (c->flags & MMN_CMD_SYNC_F_WRITE) {
            uint32_t le = cpu_to_le32(c->arg);

            if ((c->a0 & 3) || !mmn_smmu_write(s, c->a0, &le, 4)) {
                return MMN_CMDQ_ERR_BAD_ADDR;
            }
        } else if (c->a0 || c->arg) {
            return MMN_CMDQ_ERR_RESERVED;
        }
        if (c->flags & MMN_CMD_SYNC_F_IRQ) {
            mmn_smmu_raise_irq(s, R_IRQ_STATUS_SYNC_MASK);
        }
        return 0;

    case MMN_CMD_CTX_BIND:
        if (c->ctx >= s->num_ctx || s->ctx[c->ctx].bound) {
            return MMN_CMDQ_ERR_BAD_CTX;
        }
        return mmn_smmu_ctx_bind(s, c->ctx, c->a0, c->a1, c->a2);

    case MMN_CMD_CTX_UNBIND:
        /* A DMA stalled or blocked on this context cannot go on. */
        if (s->dma.state != MMN_DMA_ST_IDLE && s->dma.desc.ctx == c->ctx) {
            mmn_smmu_dma_abort(s);
        }
        mmn_smmu_ctx_unbind(s, c->ctx);
        return 0;

    case MMN_CMD_TLBI_PAGE:
        mmn_iotlb_inv_page(ctx->ictx, c->a0);
        mmn_smmu_dma_kick(s);
        return 0;
    case MMN_CMD_TLBI_RANGE:
        if (c->a1 <= c->a0) {
            return MMN_CMDQ_ERR_BAD_RANGE;
        }
        mmn_iotlb_inv_range(ctx->ictx, c->a0, c->a1);
        mmn_smmu_dma_kick(s);
        return 0;
    case MMN_CMD_TLBI_CTX:
        mmn_iotlb_inv_ctx(ctx->ictx);
        mmn_smmu_dma_kick(s);
        return 0;
    case MMN_CMD_TLBI_ALL:
        mmn_iotlb_inv_all(s->iotlb);
        mmn_smmu_dma_kick(s);
        return 0;

    case MMN_CMD_MN_RANGE_START:
    case MMN_CMD_MN_RANGE_END:
        if (!mmn_range_ok(c->a0, c->a1)) {
            return MMN_CMDQ_ERR_BAD_RANGE;
        }
        if ((c->arg & MMN_CMD_RANGE_EVENT_MASK) >= MMN_NOTIFY__MAX) {
            return MMN_CMDQ_ERR_RESERVED;
        }
        if (c->opcode == MMN_CMD_MN_RANGE_START && !mmn_result_ok(s, c->a3)) {
            return MMN_CMDQ_ERR_BAD_ADDR;
        }
        open_range = (MmnSmmuOpenRange) {
            .start = c->a0, .end = c->a1, .owner = c->a2,
            .arg = c->arg & ~MMN_CMD_RANGE_ONLY_END,
        };
        range = mmn_smmu_ctx_range(ctx, &open_range);
        if (c->opcode == MMN_CMD_MN_RANGE_START) {
            if (mmn_mm_nr_open_ranges(ctx->mm) >= MMN_SMMU_MAX_OPEN_RANGES) {
                qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmu: ctx %u: more than "
                              "%d notifier ranges open\n", c->ctx,
                              MMN_SMMU_MAX_OPEN_RANGES);
                return MMN_CMDQ_ERR_MISUSE;
            }
            ret = mmn_notifier_invalidate_range_start(&range);
            if (ret != 0 && ret != -EAGAIN) {
                return MMN_CMDQ_ERR_MISUSE;
            }
            mmn_put_result(s, c->a3, ret);
            return 0;
        }
        if (c->arg & MMN_CMD_RANGE_ONLY_END) {
            ret = mmn_notifier_invalidate_range_only_end(&range);
        } else {
            ret = mmn_notifier_invalidate_range_end(&range);
        }
        if (ret) {
            return MMN_CMDQ_ERR_MISUSE;
        }
        mmn_smmu_dma_kick(s);
        return 0;

    case MMN_CMD_MN_SECONDARY_TLBS:
        if (c->a1 <= c->a0) {
            return MMN_CMDQ_ERR_BAD_RANGE;
        }
        if (mmn_notifier_arch_invalidate_secondary_tlbs(ctx->mm, c->a0,
                                                        c->a1)) {
            return MMN_CMDQ_ERR_MISUSE;
        }
        mmn_smmu_dma_kick(s);
        return 0;

    case MMN_CMD_MN_CLEAR_FLUSH_YOUNG:
    case MMN_CMD_MN_CLEAR_YOUNG:
        if (!mmn_range_ok(c->a0, c->a1)) {
            return MMN_CMDQ_ERR_BAD_RANGE;
        }
        if (!mmn_result_ok(s, c->a3)) {
            return MMN_CMDQ_ERR_BAD_ADDR;
        }
        if (c->opcode == MMN_CMD_MN_CLEAR_FLUSH_YOUNG) {
            ret = mmn_notifier_clear_flush_young(ctx->mm, c->a0, c->a1);
        } else {
            ret = mmn_notifier_clear_young(ctx->mm, c->a0, c->a1);
        }
        if (ret < 0) {
            return MMN_CMDQ_ERR_MISUSE;
        }
        mmn_put_result(s, c->a3, ret != 0);
        return 0;

    case MMN_CMD_MN_TEST_YOUNG:
        if (!mmn_result_ok(s, c->a3)) {
            return MMN_CMDQ_ERR_BAD_ADDR;
        }
        ret = mmn_notifier_test_young(ctx->mm, c->a0);
        if (ret < 0) {
            return MMN_CMDQ_ERR_MISUSE;
        }
        mmn_put_result(s, c->a3, ret != 0);
        return 0;

    case MMN_CMD_MN_TEST_CLEAR_YOUNG:
        if (!mmn_range_ok(c->a0, c->a1)) {
            return MMN_CMDQ_ERR_BAD_RANGE;
        }
        if (!mmn_result_ok(s, c->a3)) {
            return MMN_CMDQ_ERR_BAD_ADDR;
        }
        return mmn_cmd_young_bitmap(s, ctx, c);

    case MMN_CMD_MN_CHANGE_PTE:
        mmn_notifier_change_pte(ctx->mm, c->a0, c->a1);
        return 0;

    case MMN_CMD_MN_RELEASE:
        if (mmn_notifier_release(ctx->mm)) {
            return MMN_CMDQ_ERR_MISUSE;
        }
        mmn_smmu_dma_kick(s);
        return 0;

    case MMN_CMD_DMA_RESUME:
    case MMN_CMD_DMA_ABORT:
        if (!mmn_smmu_dma_stalled(s)) {
            return MMN_CMDQ_ERR_NOT_STALLED;
        }
        if (c->opcode == MMN_CMD_DMA_RESUME) {
            mmn_smmu_dma_resume(s);
        } else {
            mmn_smmu_dma_abort(s);
        }
        return 0;

    case MMN_CMD_CHECK:
        if ((c->a0 & 7) ||
            !mmn_smmu_ram_ok(s, c->a0, MMN_CHECK_REPORT_SIZE, true)) {
            return MMN_CMDQ_ERR_BAD_ADDR;
        }
        mmn_smmu_check(s, c->ctx == MMN_CMD_CTX_ALL ? -1 : c->ctx, &report);
        mmn_smmu_write(s, c->a0, &report, sizeof(report));
        return 0;
    }
    g_assert_not_reached();
}

static void mmn_cmd_to_host(MmnCmd *c)
{
    int i;

    c->ctx = le16_to_cpu(c->ctx);
    c->arg = le32_to_cpu(c->arg);
    c->a0 = le64_to_cpu(c->a0);
    c->a1 = le64_to_cpu(c->a1);
    c->a2 = le64_to_cpu(c->a2);
    c->a3 = le64_to_cpu(c->a3);
    for (i = 0; i < ARRAY_SIZE(c->reserved); i++) {
        c->reserved[i] = le64_to_cpu(c->reserved[i]);
    }
}

void mmn_smmu_cmdq_process(MmnSmmuState *s)
{
    MmnSmmuQueue *q = &s->cmdq;
    uint32_t mask = (1u << q->log2size) - 1;
    uint32_t idx_mask = (2u << q->log2size) - 1;
    unsigned budget = 2u << q->log2size;

    if (!(s->ctrl & R_CTRL_CMDQ_EN_MASK) ||
        FIELD_EX32(s->cmdq_err, CMDQ_ERR, VALID)) {
        return;
    }
    while (q->cons != q->prod && budget--) {
        uint64_t addr = q->base + (uint64_t)(q->cons & mask) * MMN_CMD_SIZE;
        MmnCmd c;
        int err;

        if (!mmn_smmu_read(s, addr, &c, sizeof(c))) {
            err = MMN_CMDQ_ERR_BAD_ADDR;
            c.opcode = 0;
        } else {
            mmn_cmd_to_host(&c);
            trace_mmn_smmu_cmd(q->cons & mask, c.opcode, c.ctx, c.arg, c.a0,
                               c.a1);
            s->stat_commands++;
            err = mmn_cmd_exec(s, &c);
        }
        if (err) {
            s->cmdq_err = FIELD_DP32(0, CMDQ_ERR, VALID, 1);
            s->cmdq_err = FIELD_DP32(s->cmdq_err, CMDQ_ERR, INDEX,
                                     q->cons & mask);
            s->cmdq_err = FIELD_DP32(s->cmdq_err, CMDQ_ERR, REASON, err);
            qemu_log_mask(LOG_GUEST_ERROR,
                          "mmn-smmu: command %u (opcode 0x%02x) failed: %s\n",
                          q->cons & mask, c.opcode, mmn_cmdq_err_names[err]);
            trace_mmn_smmu_cmd_error(q->cons & mask, c.opcode,
                                     mmn_cmdq_err_names[err]);
            mmn_smmu_raise_irq(s, R_IRQ_STATUS_CMDQ_ERR_MASK);
            return;
        }
        q->cons = (q->cons + 1) & idx_mask;
    }
}
