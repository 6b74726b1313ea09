/*
 * mmn-smmu: command queue.  Commands are consumed synchronously, in order,
 * during the write of CMDQ_PROD (or CMDQ_ERR_ACK / CTRL.CMDQ_EN).  A command
 * that cannot be executed stops the queue with CMDQ_ERR until the driver
 * acknowledges it.  The MN_* commands carry the guest kernel's
 * mmu_notifier calls into the notifier layer, which delivers them to the
 * IOTLB (and any other subscriber of the context's address space).
 *
 * Each opcode is one entry of mmn_cmds[]: the fields it uses, the checks
 * made before it has any effect, in the order given under "Checks", and
 * its handler.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitmap.h"
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

/* The operands a0..a3 an opcode uses; the others must be zero. */
#define U_A0    (1u << 0)
#define U_A1    (1u << 1)
#define U_A2    (1u << 2)
#define U_A3    (1u << 3)

/* What ctx must name (BAD_CTX otherwise); with CTX_NONE it must be 0. */
typedef enum MmnCmdCtxRule {
    CTX_NONE,
    CTX_BOUND,              /* a bound context */
    CTX_FREE,               /* a context below NUM_CTX, not bound */
    CTX_BOUND_OR_ALL,       /* a bound context or MMN_CMD_CTX_ALL */
} MmnCmdCtxRule;

/* What [a0, a1) must be (BAD_RANGE otherwise). */
typedef enum MmnCmdRangeRule {
    RANGE_NONE,
    RANGE_ORDERED,          /* a1 > a0, any alignment */
    RANGE_PAGES,            /* a1 > a0, both 4 KiB aligned */
} MmnCmdRangeRule;

typedef struct MmnCmdInfo {
    const char *name;
    uint8_t uses;           /* U_A0..U_A3 */
    uint8_t flags;          /* flag bits the opcode defines */
    uint32_t arg;           /* arg bits the opcode defines */
    MmnCmdCtxRule ctx;
    MmnCmdRangeRule range;
    bool result;            /* a3 is a result address (0: none wanted) */
    /* On success, a BLOCKED DMA descriptor retries after the batch. */
    bool retries_dma;
    /* Opcode-specific argument checks: 0 or an MMN_CMDQ_ERR_* reason. */
    int (*check)(MmnSmmuState *s, const MmnCmd *c);
    /* @ctx is the context ctx names (CTX_BOUND; else NULL or ALL). */
    int (*exec)(MmnSmmuState *s, MmnSmmuCtx *ctx, const MmnCmd *c);
} MmnCmdInfo;

/* ---------------------------------------------------------------- */
/* Result words                                                      */

/* A result word: 0 means none wanted. */
static bool mmn_result_ok(MmnSmmuState *s, uint64_t addr)
{
    return addr == 0 ||
           (QEMU_IS_ALIGNED(addr, 4) && mmn_smmu_ram_ok(s, addr, 4, true));
}

static void mmn_put_result(MmnSmmuState *s, uint64_t addr, uint32_t val)
{
    uint32_t le = cpu_to_le32(val);

    if (addr) {
        /* Checked by mmn_result_ok() before the command had effects. */
        mmn_smmu_write(s, addr, &le, sizeof(le));
    }
}

/* ---------------------------------------------------------------- */
/* Opcode-specific checks                                            */

/* SYNC: a0 and arg only with WRITE; the word written is aligned. */
static int mmn_cmd_sync_check(MmnSmmuState *s, const MmnCmd *c)
{
    if (!FIELD_EX32(c->flags, CMD_SYNC_FLAGS, WRITE)) {
        return (c->a0 || c->arg) ? MMN_CMDQ_ERR_RESERVED : 0;
    }
    return QEMU_IS_ALIGNED(c->a0, 4) ? 0 : MMN_CMDQ_ERR_BAD_ADDR;
}

/* MN_RANGE_START/END: the event is one of Linux's. */
static int mmn_cmd_range_check(MmnSmmuState *s, const MmnCmd *c)
{
    return FIELD_EX32(c->arg, CMD_RANGE_ARG, EVENT) >= MMN_NOTIFY__MAX ?
           MMN_CMDQ_ERR_RESERVED : 0;
}

static int mmn_cmd_stalled_check(MmnSmmuState *s, const MmnCmd *c)
{
    return mmn_smmu_dma_stalled(s) ? 0 : MMN_CMDQ_ERR_NOT_STALLED;
}

/* CHECK: the report is 8-byte aligned and in RAM. */
static int mmn_cmd_report_check(MmnSmmuState *s, const MmnCmd *c)
{
    return QEMU_IS_ALIGNED(c->a0, 8) &&
           mmn_smmu_ram_ok(s, c->a0, MMN_CHECK_REPORT_SIZE, true) ?
           0 : MMN_CMDQ_ERR_BAD_ADDR;
}

/* ---------------------------------------------------------------- */
/* Handlers                                                          */

static int mmn_cmd_sync(MmnSmmuState *s, MmnSmmuCtx *ctx, const MmnCmd *c)
{
    if (FIELD_EX32(c->flags, CMD_SYNC_FLAGS, WRITE)) {
        uint32_t le = cpu_to_le32(c->arg);

        if (!mmn_smmu_write(s, c->a0, &le, sizeof(le))) {
            return MMN_CMDQ_ERR_BAD_ADDR;
        }
    }
    if (FIELD_EX32(c->flags, CMD_SYNC_FLAGS, IRQ)) {
        mmn_smmu_raise_irq(s, R_IRQ_STATUS_SYNC_MASK);
    }
    return 0;
}

static int mmn_cmd_ctx_bind(MmnSmmuState *s, MmnSmmuCtx *ctx,
                            const MmnCmd *c)
{
    return mmn_smmu_ctx_bind(s, c->ctx, c->a0, c->a1, c->a2);
}

static int mmn_cmd_ctx_unbind(MmnSmmuState *s, MmnSmmuCtx *ctx,
                              const MmnCmd *c)
{
    /* A DMA stalled or blocked on this context cannot go on. */
    if (s->dma.state != MMN_DMA_ST_IDLE && s->dma.desc.ctx == c->ctx) {
        mmn_smmu_dma_abort(s);
    }
    mmn_smmu_ctx_unbind(s, c->ctx);
    return 0;
}

static int mmn_cmd_tlbi_page(MmnSmmuState *s, MmnSmmuCtx *ctx,
                             const MmnCmd *c)
{
    mmn_iotlb_inv_page(ctx->ictx, c->a0);
    return 0;
}

static int mmn_cmd_tlbi_range(MmnSmmuState *s, MmnSmmuCtx *ctx,
                              const MmnCmd *c)
{
    mmn_iotlb_inv_range(ctx->ictx, c->a0, c->a1);
    return 0;
}

static int mmn_cmd_tlbi_ctx(MmnSmmuState *s, MmnSmmuCtx *ctx,
                            const MmnCmd *c)
{
    mmn_iotlb_inv_ctx(ctx->ictx);
    return 0;
}

static int mmn_cmd_tlbi_all(MmnSmmuState *s, MmnSmmuCtx *ctx,
                            const MmnCmd *c)
{
    mmn_iotlb_inv_all(s->iotlb);
    return 0;
}

/* The notifier layer's range of an MN_RANGE_START/END. */
static MmnNotifierRange mmn_cmd_range(MmnSmmuCtx *ctx, const MmnCmd *c)
{
    MmnSmmuOpenRange r = {
        .start = c->a0,
        .end = c->a1,
        .owner = c->a2,
        .arg = FIELD_DP32(c->arg, CMD_RANGE_ARG, ONLY_END, 0),
    };

    return mmn_smmu_ctx_range(ctx, &r);
}

static int mmn_cmd_range_start(MmnSmmuState *s, MmnSmmuCtx *ctx,
                               const MmnCmd *c)
{
    MmnNotifierRange range = mmn_cmd_range(ctx, c);
    int ret;

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

static int mmn_cmd_range_end(MmnSmmuState *s, MmnSmmuCtx *ctx,
                             const MmnCmd *c)
{
    MmnNotifierRange range = mmn_cmd_range(ctx, c);
    int ret;

    if (FIELD_EX32(c->arg, CMD_RANGE_ARG, ONLY_END)) {
        ret = mmn_notifier_invalidate_range_only_end(&range);
    } else {
        ret = mmn_notifier_invalidate_range_end(&range);
    }
    return ret ? MMN_CMDQ_ERR_MISUSE : 0;
}

static int mmn_cmd_secondary_tlbs(MmnSmmuState *s, MmnSmmuCtx *ctx,
                                  const MmnCmd *c)
{
    return mmn_notifier_arch_invalidate_secondary_tlbs(ctx->mm, c->a0,
                                                       c->a1) ?
           MMN_CMDQ_ERR_MISUSE : 0;
}

static int mmn_cmd_clear_flush_young(MmnSmmuState *s, MmnSmmuCtx *ctx,
                                     const MmnCmd *c)
{
    int ret = mmn_notifier_clear_flush_young(ctx->mm, c->a0, c->a1);

    if (ret < 0) {
        return MMN_CMDQ_ERR_MISUSE;
    }
    mmn_put_result(s, c->a3, ret != 0);
    return 0;
}

static int mmn_cmd_clear_young(MmnSmmuState *s, MmnSmmuCtx *ctx,
                               const MmnCmd *c)
{
    int ret = mmn_notifier_clear_young(ctx->mm, c->a0, c->a1);

    if (ret < 0) {
        return MMN_CMDQ_ERR_MISUSE;
    }
    mmn_put_result(s, c->a3, ret != 0);
    return 0;
}

static int mmn_cmd_test_young(MmnSmmuState *s, MmnSmmuCtx *ctx,
                              const MmnCmd *c)
{
    int ret = mmn_notifier_test_young(ctx->mm, c->a0);

    if (ret < 0) {
        return MMN_CMDQ_ERR_MISUSE;
    }
    mmn_put_result(s, c->a3, ret != 0);
    return 0;
}

/*
 * MN_TEST_CLEAR_YOUNG: the bitmap (a2, 0 for none) is u64 words in guest
 * byte order, which is a little-endian bitmap whatever the host's long.
 */
static int mmn_cmd_test_clear_young(MmnSmmuState *s, MmnSmmuCtx *ctx,
                                    const MmnCmd *c)
{
    uint64_t npages = mmn_young_bitmap_nbits(c->a0, c->a1);
    uint64_t nbits = QEMU_ALIGN_UP(npages, 64);
    bool clear = FIELD_EX32(c->arg, CMD_YOUNG_ARG, CLEAR);
    g_autofree unsigned long *bitmap = NULL;
    g_autofree unsigned long *le = NULL;
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
    if (!QEMU_IS_ALIGNED(c->a2, 8) ||
        !mmn_smmu_ram_ok(s, c->a2, nbits / 8, true)) {
        return MMN_CMDQ_ERR_BAD_ADDR;
    }
    le = bitmap_new(nbits);
    bitmap = bitmap_new(nbits);
    if (!mmn_smmu_read(s, c->a2, le, nbits / 8)) {
        return MMN_CMDQ_ERR_BAD_ADDR;
    }
    bitmap_from_le(bitmap, le, nbits);
    /* the bits past the range are written back as 0 */
    bitmap_clear(bitmap, npages, nbits - npages);
    ret = mmn_notifier_test_clear_young(ctx->mm, c->a0, c->a1, clear,
                                        bitmap);
    bitmap_to_le(le, bitmap, nbits);
    mmn_smmu_write(s, c->a2, le, nbits / 8);
    mmn_put_result(s, c->a3, ret);
    return 0;
}

static int mmn_cmd_change_pte(MmnSmmuState *s, MmnSmmuCtx *ctx,
                              const MmnCmd *c)
{
    mmn_notifier_change_pte(ctx->mm, c->a0, c->a1);
    return 0;
}

static int mmn_cmd_release(MmnSmmuState *s, MmnSmmuCtx *ctx,
                           const MmnCmd *c)
{
    return mmn_notifier_release(ctx->mm) ? MMN_CMDQ_ERR_MISUSE : 0;
}

static int mmn_cmd_dma_resume(MmnSmmuState *s, MmnSmmuCtx *ctx,
                              const MmnCmd *c)
{
    mmn_smmu_dma_resume(s);
    return 0;
}

static int mmn_cmd_dma_abort(MmnSmmuState *s, MmnSmmuCtx *ctx,
                             const MmnCmd *c)
{
    mmn_smmu_dma_abort(s);
    return 0;
}

static int mmn_cmd_check(MmnSmmuState *s, MmnSmmuCtx *ctx, const MmnCmd *c)
{
    MmnCheckReport report;

    mmn_smmu_check(s, ctx ? c->ctx : -1, &report);
    mmn_smmu_write(s, c->a0, &report, sizeof(report));
    return 0;
}

/* ---------------------------------------------------------------- */
/* The commands (docs/specs/mmn-smmu.rst, "Command queue")            */

#define RANGE_ARG (R_CMD_RANGE_ARG_EVENT_MASK | R_CMD_RANGE_ARG_BLOCKABLE_MASK)

static const MmnCmdInfo mmn_cmds[] = {
    [MMN_CMD_SYNC] = {
        .name = "SYNC", .uses = U_A0,
        .flags = R_CMD_SYNC_FLAGS_IRQ_MASK | R_CMD_SYNC_FLAGS_WRITE_MASK,
        .arg = UINT32_MAX,
        .check = mmn_cmd_sync_check, .exec = mmn_cmd_sync,
    },
    [MMN_CMD_CTX_BIND] = {
        .name = "CTX_BIND", .uses = U_A0 | U_A1 | U_A2, .ctx = CTX_FREE,
        .exec = mmn_cmd_ctx_bind,
    },
    [MMN_CMD_CTX_UNBIND] = {
        .name = "CTX_UNBIND", .ctx = CTX_BOUND, .exec = mmn_cmd_ctx_unbind,
    },
    [MMN_CMD_TLBI_PAGE] = {
        .name = "TLBI_PAGE", .uses = U_A0, .ctx = CTX_BOUND,
        .retries_dma = true, .exec = mmn_cmd_tlbi_page,
    },
    [MMN_CMD_TLBI_RANGE] = {
        .name = "TLBI_RANGE", .uses = U_A0 | U_A1, .ctx = CTX_BOUND,
        .range = RANGE_ORDERED, .retries_dma = true,
        .exec = mmn_cmd_tlbi_range,
    },
    [MMN_CMD_TLBI_CTX] = {
        .name = "TLBI_CTX", .ctx = CTX_BOUND, .retries_dma = true,
        .exec = mmn_cmd_tlbi_ctx,
    },
    [MMN_CMD_TLBI_ALL] = {
        .name = "TLBI_ALL", .retries_dma = true, .exec = mmn_cmd_tlbi_all,
    },
    [MMN_CMD_MN_RANGE_START] = {
        .name = "MN_RANGE_START", .uses = U_A0 | U_A1 | U_A2 | U_A3,
        .arg = RANGE_ARG, .ctx = CTX_BOUND, .range = RANGE_PAGES,
        .result = true,
        .check = mmn_cmd_range_check, .exec = mmn_cmd_range_start,
    },
    [MMN_CMD_MN_RANGE_END] = {
        .name = "MN_RANGE_END", .uses = U_A0 | U_A1 | U_A2,
        .arg = RANGE_ARG | R_CMD_RANGE_ARG_ONLY_END_MASK, .ctx = CTX_BOUND,
        .range = RANGE_PAGES, .retries_dma = true,
        .check = mmn_cmd_range_check, .exec = mmn_cmd_range_end,
    },
    [MMN_CMD_MN_SECONDARY_TLBS] = {
        .name = "MN_SECONDARY_TLBS", .uses = U_A0 | U_A1, .ctx = CTX_BOUND,
        .range = RANGE_ORDERED, .retries_dma = true,
        .exec = mmn_cmd_secondary_tlbs,
    },
    [MMN_CMD_MN_CLEAR_FLUSH_YOUNG] = {
        .name = "MN_CLEAR_FLUSH_YOUNG", .uses = U_A0 | U_A1 | U_A3,
        .ctx = CTX_BOUND, .range = RANGE_PAGES, .result = true,
        .exec = mmn_cmd_clear_flush_young,
    },
    [MMN_CMD_MN_CLEAR_YOUNG] = {
        .name = "MN_CLEAR_YOUNG", .uses = U_A0 | U_A1 | U_A3,
        .ctx = CTX_BOUND, .range = RANGE_PAGES, .result = true,
        .exec = mmn_cmd_clear_young,
    },
    [MMN_CMD_MN_TEST_YOUNG] = {
        .name = "MN_TEST_YOUNG", .uses = U_A0 | U_A3, .ctx = CTX_BOUND,
        .result = true, .exec = mmn_cmd_test_young,
    },
    [MMN_CMD_MN_TEST_CLEAR_YOUNG] = {
        .name = "MN_TEST_CLEAR_YOUNG", .uses = U_A0 | U_A1 | U_A2 | U_A3,
        .arg = R_CMD_YOUNG_ARG_CLEAR_MASK, .ctx = CTX_BOUND,
        .range = RANGE_PAGES, .result = true,
        .exec = mmn_cmd_test_clear_young,   /* checks the bitmap itself */
    },
    [MMN_CMD_MN_CHANGE_PTE] = {
        .name = "MN_CHANGE_PTE", .uses = U_A0 | U_A1, .ctx = CTX_BOUND,
        .exec = mmn_cmd_change_pte,
    },
    [MMN_CMD_MN_RELEASE] = {
        .name = "MN_RELEASE", .ctx = CTX_BOUND, .retries_dma = true,
        .exec = mmn_cmd_release,
    },
    [MMN_CMD_DMA_RESUME] = {
        .name = "DMA_RESUME",
        .check = mmn_cmd_stalled_check, .exec = mmn_cmd_dma_resume,
    },
    [MMN_CMD_DMA_ABORT] = {
        .name = "DMA_ABORT",
        .check = mmn_cmd_stalled_check, .exec = mmn_cmd_dma_abort,
    },
    [MMN_CMD_CHECK] = {
        .name = "CHECK", .uses = U_A0, .ctx = CTX_BOUND_OR_ALL,
        .check = mmn_cmd_report_check, .exec = mmn_cmd_check,
    },
};

static const MmnCmdInfo *mmn_cmd_info(uint8_t opcode)
{
    if (opcode >= ARRAY_SIZE(mmn_cmds) || !mmn_cmds[opcode].exec) {
        return NULL;
    }
    return &mmn_cmds[opcode];
}

/* ---------------------------------------------------------------- */
/* Checks                                                            */

/* Flags, arg, ctx and a0..a3 the opcode does not define, reserved words. */
static bool mmn_cmd_fields_ok(const MmnCmdInfo *info, const MmnCmd *c)
{
    const uint64_t a[] = { c->a0, c->a1, c->a2, c->a3 };
    int i;

    if ((c->flags & ~info->flags) || (c->arg & ~info->arg) ||
        (info->ctx == CTX_NONE && c->ctx)) {
        return false;
    }
    for (i = 0; i < ARRAY_SIZE(a); i++) {
        if (!(info->uses & (U_A0 << i)) && a[i]) {
            return false;
        }
    }
    for (i = 0; i < ARRAY_SIZE(c->reserved); i++) {
        if (c->reserved[i]) {
            return false;
        }
    }
    return true;
}

/* The context ctx names, in *ctx (NULL for none or all contexts). */
static int mmn_cmd_ctx(MmnSmmuState *s, const MmnCmdInfo *info,
                       const MmnCmd *c, MmnSmmuCtx **ctx)
{
    *ctx = NULL;
    switch (info->ctx) {
    case CTX_NONE:
        return 0;
    case CTX_FREE:
        return c->ctx >= s->num_ctx || s->ctx[c->ctx].bound ?
               MMN_CMDQ_ERR_BAD_CTX : 0;
    case CTX_BOUND_OR_ALL:
        if (c->ctx == MMN_CMD_CTX_ALL) {
            return 0;
        }
        /* fall through */
    case CTX_BOUND:
        *ctx = mmn_smmu_ctx_get(s, c->ctx);
        return *ctx ? 0 : MMN_CMDQ_ERR_BAD_CTX;
    }
    g_assert_not_reached();
}

static bool mmn_cmd_range_ok(MmnCmdRangeRule rule, uint64_t start,
                             uint64_t end)
{
    switch (rule) {
    case RANGE_NONE:
        return true;
    case RANGE_ORDERED:
        return end > start;
    case RANGE_PAGES:
        return end > start && QEMU_IS_ALIGNED(start, MMN_PAGE_SIZE) &&
               QEMU_IS_ALIGNED(end, MMN_PAGE_SIZE);
    }
    g_assert_not_reached();
}

/*
 * Execute one command; returns 0 or an MMN_CMDQ_ERR_* reason.  Checks,
 * in this order, all before the command has any effect: the opcode
 * (OPCODE), unused fields (RESERVED), the context (BAD_CTX), the range
 * (BAD_RANGE), the opcode's own checks, the result address (BAD_ADDR);
 * then the handler, which may still refuse (MISUSE from the notifier
 * layer, CTX_BIND's configuration, the young bitmap).  *@retry_dma is
 * set when the command succeeded and can unblock the DMA engine.
 */
static int mmn_cmd_exec(MmnSmmuState *s, const MmnCmd *c, bool *retry_dma)
{
    const MmnCmdInfo *info = mmn_cmd_info(c->opcode);
    MmnSmmuCtx *ctx;
    int err;

    if (!info) {
        return MMN_CMDQ_ERR_OPCODE;
    }
    if (!mmn_cmd_fields_ok(info, c)) {
        return MMN_CMDQ_ERR_RESERVED;
    }
    err = mmn_cmd_ctx(s, info, c, &ctx);
    if (err) {
        return err;
    }
    if (!mmn_cmd_range_ok(info->range, c->a0, c->a1)) {
        return MMN_CMDQ_ERR_BAD_RANGE;
    }
    if (info->check) {
        err = info->check(s, c);
        if (err) {
            return err;
        }
    }
    if (info->result && !mmn_result_ok(s, c->a3)) {
        return MMN_CMDQ_ERR_BAD_ADDR;
    }
    err = info->exec(s, ctx, c);
    if (!err && info->retries_dma) {
        *retry_dma = true;
    }
    return err;
}

/* ---------------------------------------------------------------- */
/* The queue                                                         */

static bool mmn_cmd_read(MmnSmmuState *s, uint64_t addr, MmnCmd *c)
{
    uint64_t w[MMN_CMD_WORDS];
    uint64_t w0;
    int i;

    if (!mmn_smmu_read(s, addr, w, sizeof(w))) {
        return false;
    }
    w0 = le64_to_cpu(w[R_CMD_W0]);
    c->opcode = FIELD_EX64(w0, CMD_W0, OPCODE);
    c->flags = FIELD_EX64(w0, CMD_W0, FLAGS);
    c->ctx = FIELD_EX64(w0, CMD_W0, CTX);
    c->arg = FIELD_EX64(w0, CMD_W0, ARG);
    c->a0 = le64_to_cpu(w[R_CMD_A0]);
    c->a1 = le64_to_cpu(w[R_CMD_A1]);
    c->a2 = le64_to_cpu(w[R_CMD_A2]);
    c->a3 = le64_to_cpu(w[R_CMD_A3]);
    for (i = 0; i < ARRAY_SIZE(c->reserved); i++) {
        c->reserved[i] = le64_to_cpu(w[R_CMD_RESERVED + i]);
    }
    return true;
}

static void mmn_cmdq_stop(MmnSmmuState *s, uint32_t slot, uint8_t opcode,
                          int err)
{
    const MmnCmdInfo *info = mmn_cmd_info(opcode);

    s->cmdq_err = FIELD_DP32(0, CMDQ_ERR, VALID, 1);
    s->cmdq_err = FIELD_DP32(s->cmdq_err, CMDQ_ERR, INDEX, slot);
    s->cmdq_err = FIELD_DP32(s->cmdq_err, CMDQ_ERR, REASON, err);
    qemu_log_mask(LOG_GUEST_ERROR,
                  "mmn-smmu: command %u (opcode 0x%02x %s) failed: %s\n",
                  slot, opcode, info ? info->name : "unknown",
                  mmn_cmdq_err_names[err]);
    trace_mmn_smmu_cmd_error(slot, opcode, mmn_cmdq_err_names[err]);
    mmn_smmu_raise_irq(s, R_IRQ_STATUS_CMDQ_ERR_MASK);
}

/*
 * Consume commands up to PROD: one batch.  A BLOCKED DMA descriptor is
 * retried once, after the batch's last command (also when a command
 * stopped the queue), if a command of the batch can have unblocked it
 * (docs/specs/mmn-smmu.rst, "Command batches and the DMA engine").
 */
void mmn_smmu_cmdq_process(MmnSmmuState *s)
{
    MmnSmmuQueue *q = &s->cmdq;
    unsigned budget = mmn_queue_idx_mask(q) + 1;    /* twice the ring */
    bool retry_dma = false;

    if (!(s->ctrl & R_CTRL_CMDQ_EN_MASK) ||
        FIELD_EX32(s->cmdq_err, CMDQ_ERR, VALID)) {
        return;
    }
    while (q->cons != q->prod && budget--) {
        uint32_t slot = mmn_queue_slot(q, q->cons);
        MmnCmd c;
        int err;

        if (!mmn_cmd_read(s, mmn_queue_entry(q, q->cons, MMN_CMD_SIZE),
                          &c)) {
            err = MMN_CMDQ_ERR_BAD_ADDR;
            c.opcode = 0;
        } else {
            trace_mmn_smmu_cmd(slot, c.opcode, c.ctx, c.arg, c.a0, c.a1);
            s->stat_commands++;
            err = mmn_cmd_exec(s, &c, &retry_dma);
        }
        if (err) {
            mmn_cmdq_stop(s, slot, c.opcode, err);
            break;
        }
        q->cons = mmn_queue_next(q, q->cons);
    }
    if (retry_dma) {
        mmn_smmu_dma_kick(s);
    }
}
