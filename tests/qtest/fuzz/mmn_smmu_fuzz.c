/*
 * Fuzz target "mmn-smmu": the mmn-smmu PCI device on -M virt, driven
 * through its programming interface (docs/specs/mmn-smmu.rst) by inputs
 * of 16-byte records (mmn_fuzz.h).  Each record is one of:
 *
 *   CMD   a command in the command queue, then a CMDQ_PROD write
 *   DMA   a DMA descriptor and a doorbell
 *   MAP   a page or block mapping in a context's tables (any granule,
 *         start level and DS the context was bound with)
 *   PTE   a raw edit of a descriptor the input wrote before
 *   REG   a BAR0 register access (any offset and size)
 *   CFG   a PCI config-space write (command register, MSI, BARs)
 *   EVTQ  consume the event queue
 *   ACK   CMDQ_ERR_ACK
 *   MSI   MSI on or off, its address in RAM or not
 *   RESET a device reset, then the queues enabled again
 *
 * MMN_FUZZ_VERBOSE=1 prints each record and the device's registers after
 * it (CMDQ_CONS, CMDQ_ERR, DMA_STATUS, EVTQ_PROD), for reading an input.
 *
 * Operands come from pools: the context's VA window, pages of the data
 * area, the result area, and a few bad values (misaligned, BAR0, no RAM,
 * beyond 2^48, reserved bits) so that error paths are reached as well.
 *
 * Guest RAM window (cleared before each input):
 *   +0x000000 command queue     +0x100000 16 start-level tables, 64 KiB each
 *   +0x010000 event queue       +0x200000 table pool (2 MiB)
 *   +0x020000 results, reports  +0x400000 data: leaf outputs, DMA buffers
 *   +0x030000 DMA descriptors   +0x800000 end
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/pci.h"
#include "hw/pci/pci_regs.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"
#include "fuzz.h"
#include "mmn_fuzz.h"

#define RAM         MMN_FUZZ_RAM
#define W_CMDQ      (RAM + 0x000000)
#define W_EVTQ      (RAM + 0x010000)
#define W_RES       (RAM + 0x020000)
#define W_DESC      (RAM + 0x030000)
#define W_ROOT      (RAM + 0x100000)
#define W_POOL      (RAM + 0x200000)
#define W_POOL_END  (RAM + 0x400000)
#define W_DATA      (RAM + 0x400000)
#define W_DATA_SIZE 0x400000ULL
#define W_SIZE      0x800000ULL
#define RAM_END     (RAM + (512ULL << 20))
#define NOWHERE     0x0000700000000000ULL   /* below 2^48, nothing there */

#define DEVFN       QPCI_DEVFN(4, 0)
#define NR_CTX      8                       /* the default num-ctx */
#define VA_PAGES    1024                    /* pages of a context's window */
#define NR_SLOTS    32                      /* descriptors remembered */
#define NR_OPEN     8                       /* open ranges remembered */
#define MAX_RECS    512

enum { OP_CMD, OP_DMA, OP_MAP, OP_PTE, OP_REG, OP_CFG, OP_EVTQ, OP_ACK,
       OP_MSI, OP_RESET, NR_OPS };

typedef struct Ctx {
    uint64_t cfg;           /* the last CTX_BIND configuration sent */
    unsigned g;             /* granule shift: 12, 14, 16 */
    int start;              /* start level */
    unsigned va_bits;
    uint64_t root;
    uint64_t cookie;
} Ctx;

typedef struct Range {
    uint16_t ctx;
    uint32_t arg;
    uint64_t a0, a1, a2;
} Range;

static struct {
    QTestState *qts;
    uint64_t bar;
    uint8_t msi_cap;
    Ctx ctx[NR_CTX];
    uint64_t pool_next;
    uint64_t slots[NR_SLOTS];       /* descriptors the input wrote */
    unsigned nr_slots;
    Range open[NR_OPEN];
    unsigned nr_open;
    unsigned desc_next;
} F;

static uint32_t rd(uint32_t off)
{
    return qtest_readl(F.qts, F.bar + off);
}

static void wr(uint32_t off, uint32_t val)
{
    qtest_writel(F.qts, F.bar + off, val);
}

static bool in_window(uint64_t a, uint64_t len)
{
    return a >= RAM && len <= W_SIZE && a - RAM <= W_SIZE - len;
}

/* ---------------------------------------------------------------- */
/* Contexts and page tables                                          */

static void ctx_view(Ctx *c, uint64_t cfg)
{
    static const unsigned gran[4] = { 12, 16, 14, 12 };
    unsigned vb = FIELD_EX64(cfg, CTX_CFG, VA_BITS);
    int stride;

    c->cfg = cfg;
    c->g = gran[FIELD_EX64(cfg, CTX_CFG, GRANULE)];
    c->va_bits = (vb >= 25 && vb <= 52) ? vb : 48;
    stride = c->g - 3;
    c->start = 4 - DIV_ROUND_UP((int)c->va_bits - (int)c->g, stride);
    c->start = MAX(c->start, -1);
}

static uint64_t ctx_vabase(const Ctx *c)
{
    return c->va_bits >= 40 ? 0x0000007fc0000000ULL :
           1ULL << (c->va_bits - 1);
}

static unsigned level_shift(const Ctx *c, int level)
{
    return c->g + (3 - level) * (c->g - 3);
}

static uint64_t pool_alloc(uint64_t size)
{
    uint64_t a = ROUND_UP(F.pool_next, size);

    if (a + size > W_POOL_END) {
        return 0;
    }
    F.pool_next = a + size;
    return a;
}

static void remember(uint64_t slot)
{
    F.slots[F.nr_slots++ % NR_SLOTS] = slot;
}

/* Leaf attributes from a record byte (Linux arm64 pgtable-hwdef.h bits). */
static uint64_t leaf_attrs(uint8_t b, uint32_t x)
{
    uint64_t a = 0;

    a |= (b & 0x01) ? 1ULL << 7 : 0;            /* AP[2]: read-only */
    a |= (b & 0x02) ? 1ULL << 6 : 0;            /* AP[1]: EL0 */
    a |= (b & 0x04) ? 0 : 1ULL << 10;           /* AF */
    a |= (b & 0x08) ? 1ULL << 51 : 0;           /* DBM */
    a |= (b & 0x10) ? 1ULL << 52 : 0;           /* contiguous */
    a |= (b & 0x20) ? 3ULL << 53 : 0;           /* PXN, UXN */
    a |= (b & 0x40) ? 1ULL << 11 : 0;           /* nG */
    if (b & 0x80) {                             /* odd bits anywhere */
        a ^= (uint64_t)x << 32 & 0xfff0000000000000ULL;
        a ^= x & 0xffcULL;
    }
    return a;
}

/* An output address for a leaf of @size bytes. */
static uint64_t leaf_oa(uint8_t sel, uint32_t x, uint64_t size)
{
    switch (sel % 8) {
    case 5:
        return F.bar & ~(size - 1);
    case 6:
        return NOWHERE & ~(size - 1);
    case 7:                                     /* a queue, a table ... */
        return (RAM + (((uint64_t)x << 12) % W_SIZE)) & ~(size - 1);
    default:
        if (size > W_DATA_SIZE) {
            return RAM & ~(size - 1);
        }
        return (W_DATA + (((uint64_t)x << 12) % W_DATA_SIZE)) & ~(size - 1);
    }
}

static void op_map(const MmnFuzzRec *r)
{
    Ctx *c = &F.ctx[r->p1 % NR_CTX];
    int leaf = 3 - (r->p1 >> 4) % 4;
    uint64_t va = ctx_vabase(c) + ((r->y % VA_PAGES) << c->g);
    uint64_t table = c->root, size, slot, d;
    int level;

    leaf = MAX(leaf, c->start);
    for (level = c->start; ; level++) {
        unsigned shift = level_shift(c, level);
        unsigned bits = level == c->start ? c->va_bits - shift : c->g - 3;

        slot = table + ((va >> shift) & ((1ULL << MIN(bits, 16)) - 1)) * 8;
        if (level == leaf) {
            break;
        }
        d = qtest_readq(F.qts, slot);
        if ((d & 3) != 3 || !in_window(d & 0x0000fffffffff000ULL, 8)) {
            uint64_t t = pool_alloc(1ULL << c->g);

            if (!t) {
                return;
            }
            d = t | 3;
            if (r->p2 & 0x80) {                 /* APTable, XNTable */
                d |= (uint64_t)(r->x >> 28) << 59;
            }
            qtest_writeq(F.qts, slot, d);
            remember(slot);
        }
        table = d & 0x0000fffffffff000ULL & ~((1ULL << c->g) - 1);
    }
    size = 1ULL << level_shift(c, leaf);
    d = leaf_oa(r->p3, r->x, size) | leaf_attrs(r->p2, r->x) |
        (leaf == 3 ? 3 : 1);
    qtest_writeq(F.qts, slot, d);
    remember(slot);
}

static void op_pte(const MmnFuzzRec *r)
{
    uint64_t slot, old, v;

    if (F.nr_slots && !(r->p1 & 0x80)) {
        slot = F.slots[r->p1 % MIN(F.nr_slots, NR_SLOTS)];
    } else {
        slot = W_POOL + ((uint64_t)r->x * 8) % (W_POOL_END - W_POOL);
    }
    old = qtest_readq(F.qts, slot);
    switch (r->p2 % 4) {
    case 0:
        v = 0;
        break;
    case 1:                                     /* flip attribute bits */
        v = old ^ (r->y & 0xfff0000000000ffdULL);
        break;
    case 2:                                     /* output inside the window */
        v = (r->y & 0xfff0000000000fffULL) |
            ((RAM + (r->y & 0x0000fffffffff000ULL) % W_SIZE));
        break;
    default:
        v = r->y;
        break;
    }
    qtest_writeq(F.qts, slot, v);
}

/* ---------------------------------------------------------------- */
/* Commands                                                          */

static const uint8_t opcodes[] = {
    MMN_CMD_SYNC, MMN_CMD_CTX_BIND, MMN_CMD_CTX_UNBIND, MMN_CMD_TLBI_PAGE,
    MMN_CMD_TLBI_RANGE, MMN_CMD_TLBI_CTX, MMN_CMD_TLBI_ALL,
    MMN_CMD_MN_RANGE_START, MMN_CMD_MN_RANGE_END,
    MMN_CMD_MN_SECONDARY_TLBS, MMN_CMD_MN_CLEAR_FLUSH_YOUNG,
    MMN_CMD_MN_CLEAR_YOUNG, MMN_CMD_MN_TEST_YOUNG,
    MMN_CMD_MN_TEST_CLEAR_YOUNG, MMN_CMD_MN_CHANGE_PTE, MMN_CMD_MN_RELEASE,
    MMN_CMD_DMA_RESUME, MMN_CMD_DMA_ABORT, MMN_CMD_CHECK,
};

/* A result address: mostly a u32 of the result area. */
static uint64_t res_addr(uint8_t sel, uint32_t x)
{
    switch (sel % 8) {
    case 4:
        return 0;
    case 5:
        return W_RES + 1 + (x & 2);
    case 6:
        return F.bar;
    case 7:
        return RAM_END - 2;
    default:
        return W_RES + (x & 0x3ffc);
    }
}

static uint64_t bind_cfg(const MmnFuzzRec *r)
{
    static const uint8_t va[] = { 48, 39, 47, 25, 32, 42, 52, 49 };
    static const uint8_t oa[] = { 48, 40, 44, 32, 36, 42, 52, 47 };
    uint32_t x = r->x;
    uint64_t cfg;

    cfg = MMN_CTX_CFG_VA_BITS(MMN_PICK(va, x)) |
          MMN_CTX_CFG_OA_BITS(MMN_PICK(oa, x >> 3)) |
          MMN_CTX_CFG_HTTU(x >> 6) |
          ((x & (1 << 8)) ? MMN_CTX_CFG_UNPRIV : 0) |
          ((x & (1 << 9)) ? MMN_CTX_CFG_STALL : 0) |
          ((x & (1 << 10)) ? MMN_CTX_CFG_LEGACY_INV : 0) |
          MMN_CTX_CFG_GRANULE(x >> 11) |
          ((x & (1 << 13)) ? MMN_CTX_CFG_DS : 0) |
          ((x & (1 << 14)) ? MMN_CTX_CFG_TBI : 0);
    if (x & (1 << 15)) {                        /* raw VA_BITS/OA_BITS */
        cfg = (cfg & ~0xffffULL) | ((x >> 16) & 0xffff);
    }
    if ((r->p2 & 0xc0) == 0xc0) {
        cfg |= r->y & MMN_CTX_CFG_RESERVED;
    }
    return cfg;
}

static void cmd_range(const Ctx *c, const MmnFuzzRec *r, MmnCmd *cmd)
{
    cmd->a0 = ctx_vabase(c) + ((r->y % VA_PAGES) << 12);
    cmd->a1 = cmd->a0 + (((r->x & 0x3ff) + 1) << 12);
    if (r->p2 & 0x10) {                         /* unaligned */
        cmd->a0 += (r->y >> 32) & 0xfff;
        cmd->a1 += (r->y >> 44) & 0xfff;
    }
    if (r->p2 & 0x20) {                         /* empty or inverted */
        cmd->a1 = cmd->a0 - ((r->x >> 20) & 0xf) * 0x1000;
    }
    if ((r->p2 & 0x30) == 0x30) {               /* to the end of 2^64 */
        cmd->a1 = 0;
        cmd->a0 = -(((uint64_t)(r->x & 0xff) + 1) << 12);
    }
}

static void op_cmd(const MmnFuzzRec *r)
{
    unsigned sel = r->p1 % (ARRAY_SIZE(opcodes) + 4);
    unsigned ctx_i = r->p3 == 0xff ? MMN_CMD_CTX_ALL : r->p3 % (NR_CTX + 2);
    const Ctx *c = &F.ctx[ctx_i % NR_CTX];
    uint64_t base, slot;
    uint32_t prod, log2, lo;
    MmnCmd cmd = { 0 };
    Range *o;

    cmd.opcode = sel < ARRAY_SIZE(opcodes) ? opcodes[sel] : r->p1;
    switch (cmd.opcode) {
    case MMN_CMD_SYNC:
        cmd.flags = r->p2 & 3;
        cmd.arg = r->x;
        if (cmd.flags & MMN_CMD_SYNC_F_WRITE) {
            cmd.a0 = res_addr(r->p2 >> 2, r->y);
        }
        break;
    case MMN_CMD_CTX_BIND:
        cmd.ctx = ctx_i;
        cmd.a1 = bind_cfg(r);
        if (ctx_i < NR_CTX) {
            Ctx *b = &F.ctx[ctx_i];

            ctx_view(b, cmd.a1);
            b->cookie = (r->p2 & 1) ? 0x1000 + ctx_i : 0;
        }
        cmd.a0 = c->root;
        if (r->p2 & 0x10) {                     /* misaligned, beyond OA */
            cmd.a0 += (r->y & 0xff8) + ((r->p2 & 0x20) ? 1ULL << 50 : 0);
        }
        cmd.a2 = c->cookie;
        break;
    case MMN_CMD_CTX_UNBIND:
    case MMN_CMD_TLBI_CTX:
    case MMN_CMD_MN_RELEASE:
        cmd.ctx = ctx_i;
        break;
    case MMN_CMD_TLBI_PAGE:
    case MMN_CMD_MN_TEST_YOUNG:
        cmd.ctx = ctx_i;
        cmd.a0 = ctx_vabase(c) + ((r->y % VA_PAGES) << 12) +
                 ((r->p2 & 0x10) ? (r->x & 0xfff) : 0);
        if (cmd.opcode == MMN_CMD_MN_TEST_YOUNG) {
            cmd.a3 = res_addr(r->p2, r->x);
        }
        break;
    case MMN_CMD_TLBI_RANGE:
    case MMN_CMD_MN_SECONDARY_TLBS:
        cmd.ctx = ctx_i;
        cmd_range(c, r, &cmd);
        break;
    case MMN_CMD_MN_CLEAR_FLUSH_YOUNG:
    case MMN_CMD_MN_CLEAR_YOUNG:
        cmd.ctx = ctx_i;
        cmd_range(c, r, &cmd);
        cmd.a3 = res_addr(r->p2 >> 6, r->x >> 12);
        break;
    case MMN_CMD_MN_TEST_CLEAR_YOUNG:
        cmd.ctx = ctx_i;
        cmd_range(c, r, &cmd);
        cmd.arg = r->p2 & 1;
        cmd.a2 = (r->p2 & 2) ? W_RES + 0x8000 + ((r->p2 & 4) ? 4 : 0) : 0;
        cmd.a3 = res_addr(r->p2 >> 6, r->x >> 12);
        break;
    case MMN_CMD_MN_CHANGE_PTE:
        cmd.ctx = ctx_i;
        cmd.a0 = ctx_vabase(c) + ((r->y % VA_PAGES) << 12);
        cmd.a1 = leaf_oa(r->p2 >> 4, r->x, 4096) | leaf_attrs(r->p2, r->x) |
                 3;
        break;
    case MMN_CMD_MN_RANGE_START:
        cmd.ctx = ctx_i;
        cmd.arg = (r->x >> 24) % 10 | ((r->p2 & 1) ? MMN_CMD_RANGE_BLOCKABLE
                                                      : 0);
        cmd_range(c, r, &cmd);
        cmd.a2 = (r->p2 & 4) ? c->cookie : 0;
        cmd.a3 = res_addr(r->p2 >> 6, r->x >> 12);
        o = &F.open[F.nr_open++ % NR_OPEN];
        *o = (Range) { cmd.ctx, cmd.arg, cmd.a0, cmd.a1, cmd.a2 };
        break;
    case MMN_CMD_MN_RANGE_END:
        if (F.nr_open && !(r->p2 & 8)) {        /* end one that is open */
            o = &F.open[--F.nr_open % NR_OPEN];
            cmd.ctx = o->ctx;
            cmd.arg = o->arg;
            cmd.a0 = o->a0;
            cmd.a1 = o->a1;
            cmd.a2 = o->a2;
        } else {
            cmd.ctx = ctx_i;
            cmd.arg = (r->x >> 24) % 10;
            cmd_range(c, r, &cmd);
        }
        cmd.arg |= (r->p2 & 2) ? MMN_CMD_RANGE_ONLY_END : 0;
        break;
    case MMN_CMD_CHECK:
        cmd.ctx = ctx_i;
        cmd.a0 = (r->p2 & 0x10) ? res_addr(r->p2 >> 5, r->x) :
                 W_RES + 0x1000 + (r->x % 8) * MMN_CHECK_REPORT_SIZE;
        break;
    case MMN_CMD_TLBI_ALL:
    case MMN_CMD_DMA_RESUME:
    case MMN_CMD_DMA_ABORT:
        break;
    default:                                    /* unknown: raw operands */
        cmd.flags = r->p2;
        cmd.ctx = r->p3;
        cmd.arg = r->x;
        cmd.a0 = r->y;
        break;
    }
    if ((r->x & 0xc0000000) == 0xc0000000 && (r->p2 & 0x80)) {
        cmd.reserved[r->p3 % 3] = r->y | 1;     /* a reserved word */
    }

    /* Where the device will read it: its own registers say. */
    lo = rd(A_CMDQ_BASE_LO);
    base = ((uint64_t)rd(A_CMDQ_BASE_HI) << 32) |
           (lo & R_CMDQ_BASE_LO_ADDR_MASK);
    log2 = FIELD_EX32(lo, CMDQ_BASE_LO, LOG2SIZE);
    prod = rd(A_CMDQ_PROD);
    slot = base + (uint64_t)(prod & ((1u << log2) - 1)) * MMN_CMD_SIZE;
    if (in_window(slot, MMN_CMD_SIZE)) {
        cmd.ctx = cpu_to_le16(cmd.ctx);
        cmd.arg = cpu_to_le32(cmd.arg);
        cmd.a0 = cpu_to_le64(cmd.a0);
        cmd.a1 = cpu_to_le64(cmd.a1);
        cmd.a2 = cpu_to_le64(cmd.a2);
        cmd.a3 = cpu_to_le64(cmd.a3);
        qtest_memwrite(F.qts, slot, &cmd, sizeof(cmd));
    }
    wr(A_CMDQ_PROD, (prod + 1) & ((2u << log2) - 1));
}

/* ---------------------------------------------------------------- */
/* DMA                                                               */

static void op_dma(const MmnFuzzRec *r)
{
    unsigned ctx_i = r->p2 % (NR_CTX + 2);
    const Ctx *c = &F.ctx[ctx_i % NR_CTX];
    uint8_t v = r->p3;
    MmnDmaDesc d = { 0 };
    uint64_t desc;

    d.op = (r->p1 % 4) < 3 ? r->p1 % 4 + 1 : r->p1;
    d.ctx = ctx_i;
    switch (v & 3) {
    case 0:
        d.len = (r->x & 0xfff) + 1;
        break;
    case 1:
        d.len = r->x % 0x4000 + 1;
        break;
    case 2:
        d.len = r->x % MMN_DMA_MAX_LEN + 1;
        break;
    default:
        d.len = (r->x & 1) ? 0 : MMN_DMA_MAX_LEN + (r->x >> 1);
        break;
    }
    d.va = ctx_vabase(c) + ((r->y % VA_PAGES) << c->g);
    if (v & 0x04) {
        d.va += (r->y >> 32) & 0xfff;
    }
    if (v & 0x20) {                             /* a tag in the top byte */
        d.va |= r->y & 0xff00000000000000ULL;
    }
    if (v & 0x40) {                             /* outside VA_BITS */
        d.va = (r->x & 1) ? d.va | (1ULL << 50) : -(uint64_t)(r->x & 0xfff);
    }
    if (d.op != MMN_DMA_OP_FILL) {
        uint64_t len = MIN(d.len, MMN_DMA_MAX_LEN);

        d.buf = W_DATA + ((r->y >> 20) % (W_DATA_SIZE - len));
    }
    if (v & 0x08) {                             /* buffer not in RAM */
        d.buf = (r->x & 1) ? F.bar : RAM_END - (r->x & 0xfff);
    }
    d.pattern = r->x;

    desc = W_DESC + (F.desc_next++ % 1024) * MMN_DMA_DESC_SIZE;
    if (v & 0x10) {                             /* misaligned, not RAM */
        desc = (r->x & 1) ? desc + 8 : F.bar;
    }
    if (in_window(desc, sizeof(d))) {
        d.ctx = cpu_to_le16(d.ctx);
        d.len = cpu_to_le32(d.len);
        d.va = cpu_to_le64(d.va);
        d.buf = cpu_to_le64(d.buf);
        d.pattern = cpu_to_le32(d.pattern);
        qtest_memwrite(F.qts, desc, &d, sizeof(d));
    }
    wr(A_DMA_DESC_LO, desc);
    wr(A_DMA_DESC_HI, desc >> 32);
    if (!(v & 0x80)) {
        wr(A_DMA_DOORBELL, 1);
    }
}

/* ---------------------------------------------------------------- */
/* Registers, config space, queues, reset                           */

static const uint16_t regs[] = {
    A_CTRL, A_IRQ_STATUS, A_IRQ_ENABLE, A_CMDQ_BASE_LO, A_CMDQ_BASE_HI,
    A_CMDQ_PROD, A_CMDQ_ERR_ACK, A_EVTQ_BASE_LO, A_EVTQ_BASE_HI,
    A_EVTQ_CONS, A_DMA_DESC_LO, A_DMA_DESC_HI, A_DMA_DOORBELL,
};

static void op_reg(const MmnFuzzRec *r)
{
    uint32_t off = r->p1 < 0xc0 ? MMN_PICK(regs, r->p1) :
                   (r->p2 * 4 + (r->p3 & 0x40 ? r->p3 & 3 : 0)) & 0xfff;
    uint32_t val = r->x;
    uint64_t a = F.bar + off;

    if (r->p3 & 0x01) {                         /* a queue of the window */
        if (off == A_CMDQ_BASE_LO) {
            val = W_CMDQ | (val & 0x1f);
        } else if (off == A_EVTQ_BASE_LO) {
            val = W_EVTQ | (val & 0x1f);
        } else if (off == A_CMDQ_BASE_HI || off == A_EVTQ_BASE_HI) {
            val = 0;
        }
    }
    switch ((r->p3 >> 4) & 7) {
    case 0:
    case 1:
    case 2:
        qtest_writel(F.qts, a, val);
        break;
    case 3:
        qtest_readl(F.qts, a);
        break;
    case 4:
        qtest_writeb(F.qts, a, val);
        break;
    case 5:
        qtest_writew(F.qts, a, val);
        break;
    case 6:
        qtest_writeq(F.qts, a, r->y);
        break;
    default:
        qtest_readq(F.qts, a);
        break;
    }
}

static void op_cfg(const MmnFuzzRec *r)
{
    static const uint8_t size[] = { 1, 2, 4 };

    mmn_fuzz_pci_cfg_write(F.qts, DEVFN, r->p1, MMN_PICK(size, r->p2),
                           r->x);
}

static void op_msi(const MmnFuzzRec *r)
{
    uint8_t cap = F.msi_cap;
    uint64_t addr;

    if (!cap) {
        return;
    }
    addr = (r->p2 & 1) ? F.bar + (r->x & 0xffc) :
           (r->p2 & 2) ? NOWHERE : W_RES + 0xf000 + (r->x & 0xffc);
    mmn_fuzz_pci_cfg_write(F.qts, DEVFN, cap + PCI_MSI_ADDRESS_LO, 4, addr);
    mmn_fuzz_pci_cfg_write(F.qts, DEVFN, cap + PCI_MSI_ADDRESS_HI, 4,
                           addr >> 32);
    mmn_fuzz_pci_cfg_write(F.qts, DEVFN, cap + PCI_MSI_DATA_64, 2, r->y);
    mmn_fuzz_pci_cfg_write(F.qts, DEVFN, cap + PCI_MSI_FLAGS, 2,
                           (r->p1 & 1) ? PCI_MSI_FLAGS_ENABLE : 0);
}

static void op_evtq(const MmnFuzzRec *r)
{
    wr(A_EVTQ_CONS, (r->p1 & 1) ? r->x : rd(A_EVTQ_PROD));
}

/* The state every input starts from: queues and DMA on, nothing bound. */
static void setup(QTestState *s)
{
    unsigned i;

    F.qts = s;
    F.bar = mmn_fuzz_pci_enable(s, DEVFN, &F.msi_cap);
    g_assert(F.bar);
    F.pool_next = W_POOL;
    F.nr_slots = 0;
    F.nr_open = 0;
    F.desc_next = 0;
    for (i = 0; i < NR_CTX; i++) {
        ctx_view(&F.ctx[i], MMN_CTX_CFG_VA_BITS(48) | MMN_CTX_CFG_OA_BITS(48));
        F.ctx[i].root = W_ROOT + i * 0x10000ULL;
        F.ctx[i].cookie = 0;
    }
    wr(A_CMDQ_BASE_LO, W_CMDQ | 8);
    wr(A_CMDQ_BASE_HI, 0);
    wr(A_EVTQ_BASE_LO, W_EVTQ | 6);
    wr(A_EVTQ_BASE_HI, 0);
    wr(A_IRQ_ENABLE, 0x1f);
    wr(A_CTRL, R_CTRL_CMDQ_EN_MASK | R_CTRL_EVTQ_EN_MASK |
       R_CTRL_DMA_EN_MASK);
}

static void mmn_smmu_fuzz(QTestState *s, const unsigned char *data,
                          size_t size)
{
    bool verbose = getenv("MMN_FUZZ_VERBOSE");
    MmnFuzzRec r;
    unsigned n = 0;

    mmn_fuzz_ram_clear(s, RAM, W_SIZE);
    setup(s);
    while (n++ < MAX_RECS && mmn_fuzz_next(&data, &size, &r)) {
        if (verbose) {
            mmn_fuzz_rec_print(n, &r);
        }
        switch (r.op % NR_OPS) {
        case OP_CMD:
            op_cmd(&r);
            break;
        case OP_DMA:
            op_dma(&r);
            break;
        case OP_MAP:
            op_map(&r);
            break;
        case OP_PTE:
            op_pte(&r);
            break;
        case OP_REG:
            op_reg(&r);
            break;
        case OP_CFG:
            op_cfg(&r);
            break;
        case OP_EVTQ:
            op_evtq(&r);
            break;
        case OP_ACK:
            wr(A_CMDQ_ERR_ACK, 1);
            break;
        case OP_MSI:
            op_msi(&r);
            break;
        case OP_RESET:
            fuzz_reset(s);
            setup(s);
            break;
        }
        if (verbose) {
            fprintf(stderr, "  CMDQ_CONS %x CMDQ_ERR %08x DMA_STATUS %08x "
                    "EVTQ_PROD %x\n", rd(A_CMDQ_CONS), rd(A_CMDQ_ERR),
                    rd(A_DMA_STATUS), rd(A_EVTQ_PROD));
        }
    }
    flush_events(s);
    fuzz_reset(s);
}

/* ---------------------------------------------------------------- */
/* Seeds: valid sequences a driver sends (fuzz.sh writes them once)   */

#define REC(op, p1, p2, p3, x, y) mmn_fuzz_rec(a, op, p1, p2, p3, x, y)
#define BIND(ctx, x)        REC(OP_CMD, 1, 0, ctx, x, 0)
#define MAP_RW(ctx, page)   REC(OP_MAP, ctx, 0x02, 0, page, page)
#define MAP_RO(ctx, page)   REC(OP_MAP, ctx, 0x0b, 0, page, page)
#define DMA(op, ctx, page)  REC(OP_DMA, (op) - 1, ctx, 0, 0x7ff, page)
#define CMD(sel, ctx, p2, x, y) REC(OP_CMD, sel, p2, ctx, x, y)

/* indexes into opcodes[] */
enum { C_SYNC, C_BIND, C_UNBIND, C_TLBI_PAGE, C_TLBI_RANGE, C_TLBI_CTX,
       C_TLBI_ALL, C_START, C_END, C_SECONDARY, C_CFY, C_CY, C_TY, C_TCY,
       C_CHANGE_PTE, C_RELEASE, C_RESUME, C_ABORT, C_CHECK };

/* CTX_BIND x: bits 8 UNPRIV, 9 STALL, 10 LEGACY_INV, 6-7 HTTU, 11-12 TG0 */
#define X_UNPRIV    (1u << 8)
#define X_STALL     (1u << 9)
#define X_LEGACY    (1u << 10)
#define X_HAHD      (2u << 6)

static GByteArray *seed_dma(void)
{
    GByteArray *a = g_byte_array_new();

    BIND(0, X_UNPRIV);
    MAP_RW(0, 1);
    MAP_RW(0, 2);
    DMA(MMN_DMA_OP_FILL, 0, 1);
    DMA(MMN_DMA_OP_WRITE, 0, 1);
    DMA(MMN_DMA_OP_READ, 0, 2);
    CMD(C_SYNC, 0, 3, 0x1234, 0x10);
    CMD(C_CHECK, 0, 0, 0, 0);
    CMD(C_TLBI_PAGE, 0, 0, 0, 1);
    CMD(C_UNBIND, 0, 0, 0, 0);
    REC(OP_EVTQ, 0, 0, 0, 0, 0);
    return a;
}

static GByteArray *seed_stall(void)
{
    GByteArray *a = g_byte_array_new();

    BIND(1, X_UNPRIV | X_STALL);
    MAP_RO(1, 4);
    DMA(MMN_DMA_OP_WRITE, 1, 4);                /* stalls */
    MAP_RW(1, 4);
    CMD(C_TLBI_PAGE, 1, 0, 0, 4);
    CMD(C_RESUME, 0, 0, 0, 0);
    DMA(MMN_DMA_OP_WRITE, 1, 5);                /* unmapped: stalls */
    CMD(C_ABORT, 0, 0, 0, 0);
    CMD(C_RESUME, 0, 0, 0, 0);                  /* NOT_STALLED */
    REC(OP_ACK, 0, 0, 0, 0, 0);
    REC(OP_EVTQ, 0, 0, 0, 0, 0);
    return a;
}

static GByteArray *seed_ranges(void)
{
    GByteArray *a = g_byte_array_new();

    BIND(2, X_UNPRIV | X_LEGACY);
    MAP_RW(2, 8);
    CMD(C_START, 2, 1, 0x00000000, 8);          /* UNMAP, blockable */
    DMA(MMN_DMA_OP_READ, 2, 8);                 /* blocked */
    CMD(C_END, 2, 0, 0, 0);                     /* resumes it */
    CMD(C_START, 2, 0, 0x06000000, 8);          /* MIGRATE, not blockable */
    CMD(C_END, 2, 2, 0, 0);                     /* ONLY_END */
    CMD(C_SECONDARY, 2, 0, 3, 8);
    CMD(C_CFY, 2, 0, 1, 8);
    CMD(C_CY, 2, 0, 1, 8);
    CMD(C_TY, 2, 0, 0, 8);
    CMD(C_TCY, 2, 3, 7, 8);
    CMD(C_RELEASE, 2, 0, 0, 0);
    DMA(MMN_DMA_OP_READ, 2, 8);                 /* released */
    CMD(C_UNBIND, 2, 0, 0, 0);
    return a;
}

static GByteArray *seed_httu(void)
{
    GByteArray *a = g_byte_array_new();

    BIND(3, X_UNPRIV | X_HAHD);
    REC(OP_MAP, 3, 0x0f, 0, 12, 12);            /* DBM, RO, AF clear */
    REC(OP_MAP, 0x13, 0x02, 0, 0, 512);         /* a 2 MiB block */
    DMA(MMN_DMA_OP_WRITE, 3, 12);
    DMA(MMN_DMA_OP_FILL, 3, 600);
    CMD(C_CHANGE_PTE, 3, 0x02, 20, 12);
    CMD(C_TLBI_RANGE, 3, 0, 0x10, 0);
    CMD(C_CHECK, 0xff, 0, 0, 0);
    return a;
}

static GByteArray *seed_granules(void)
{
    GByteArray *a = g_byte_array_new();

    BIND(4, X_UNPRIV | (2u << 11));             /* 16 KiB */
    MAP_RW(4, 3);
    DMA(MMN_DMA_OP_FILL, 4, 3);
    BIND(5, X_UNPRIV | (1u << 11) | 6);         /* 64 KiB, 52-bit VA */
    MAP_RW(5, 3);
    DMA(MMN_DMA_OP_FILL, 5, 3);
    BIND(6, X_UNPRIV | (1u << 13) | 7);         /* 4 KiB DS, 49-bit VA */
    MAP_RW(6, 3);
    DMA(MMN_DMA_OP_READ, 6, 3);
    BIND(7, X_UNPRIV | (1u << 14) | 3);         /* TBI, 25-bit VA */
    MAP_RW(7, 3);
    REC(OP_DMA, 0, 7, 0x20, 0x7ff, 0x5a00000000000003ULL);
    return a;
}

static GByteArray *seed_livelock(void)
{
    GByteArray *a = g_byte_array_new();
    unsigned i;

    BIND(0, X_UNPRIV);
    MAP_RO(0, 1);
    DMA(MMN_DMA_OP_READ, 0, 1);
    for (i = 0; i < 17; i++) {
        DMA(MMN_DMA_OP_WRITE, 0, 1);            /* faults from the cache */
    }
    REC(OP_MSI, 1, 0, 0, 0, 0x41);
    CMD(C_SYNC, 0, 1, 0, 0);
    REC(OP_EVTQ, 0, 0, 0, 0, 0);
    REC(OP_RESET, 0, 0, 0, 0, 0);
    return a;
}

static GByteArray *seed_errors(void)
{
    GByteArray *a = g_byte_array_new();

    CMD(0x14, 0, 0, 0, 0);                      /* unknown opcode */
    REC(OP_ACK, 0, 0, 0, 0, 0);
    CMD(C_UNBIND, 9, 0, 0, 0);                  /* BAD_CTX */
    REC(OP_ACK, 0, 0, 0, 0, 0);
    BIND(0, 1u << 15 | 0x3010u << 16);          /* BAD_CONFIG */
    REC(OP_ACK, 0, 0, 0, 0, 0);
    REC(OP_DMA, 7, 0, 0, 1, 0);                 /* op 7: BAD_DESC */
    REC(OP_DMA, 0, 0, 0x10, 1, 0);              /* misaligned descriptor */
    REC(OP_REG, 3, 0, 0x01, 0x0f, 0);           /* CMDQ resized */
    REC(OP_REG, 0, 0, 0, 0, 0);                 /* CTRL off */
    REC(OP_CFG, PCI_COMMAND, 1, 0, 0, 0);       /* bus mastering off */
    CMD(C_SYNC, 0, 3, 1, 0);
    return a;
}

static void mmn_smmu_seeds(void)
{
    static const char *const names[] = {
        "dma", "stall", "ranges", "httu", "granules", "livelock", "errors",
    };
    GByteArray *seeds[] = {
        seed_dma(), seed_stall(), seed_ranges(), seed_httu(),
        seed_granules(), seed_livelock(), seed_errors(),
    };

    mmn_fuzz_write_seeds(names, seeds, ARRAY_SIZE(seeds));
}

static GString *mmn_smmu_cmdline(FuzzTarget *t)
{
    mmn_smmu_seeds();
    return g_string_new(TARGET_NAME " -display none -machine accel=qtest "
                        "-M virt -cpu max -m 512M -nodefaults "
                        "-device mmn-smmu,addr=04.0");
}

static void register_mmn_smmu_fuzz_targets(void)
{
    fuzz_add_target(&(FuzzTarget){
        .name = "mmn-smmu",
        .description = "mmn-smmu on virt: commands, DMA descriptors and "
                       "page tables built from records",
        .get_init_cmdline = mmn_smmu_cmdline,
        .fuzz = mmn_smmu_fuzz,
    });
}

fuzz_target_init(register_mmn_smmu_fuzz_targets);
