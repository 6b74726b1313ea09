/*
 * Fuzz target "mmn-smmuv3": -M virt,iommu=mmn-smmuv3 with its SVA master
 * (StreamID 0x10000) and an mmn-smmu PCI function behind it (RID 0x20 =
 * StreamID 0x20), driven by inputs of 16-byte records (mmn_fuzz.h)
 * through the interfaces of docs/specs/mmn-smmuv3.rst (Arm IHI 0070):
 *
 *   CMD   a command (any opcode; SID, SSID, ASID, VA, range, RESUME STAG,
 *         SYNC MSI from pools), then a CMDQ_PROD write
 *   JOB   a master job (READ, WRITE, FILL; SSV and PASID; any length)
 *   MAP   a mapping in the tables of one of four CDs (their TG0, T0SZ)
 *   PTE   a raw edit of a descriptor the input wrote before
 *   STE   an STE or L1STD of the master or of the PCI function
 *   CD    a CD (every field of 5.4), linear and 2-level tables alike
 *   REG   an SMMU register access (page 0 or 1, 32 or 64 bits, any size)
 *   MREG  a master register access (the DATA window included)
 *   EVTQ  consume the event queue, remembering the last stall's STAG
 *   GERR  acknowledge GERROR, after replacing a failed command with
 *         CMD_SYNC as Linux's arm_smmu_cmdq_skip_err() does (or not)
 *   PCI   the PCI function: a CMD_SYNC WRITE through the SMMU, or a
 *         register write
 *   RESET a system reset, then the SMMU set up again
 *
 * MMN_FUZZ_VERBOSE=1 prints each record and the registers after it
 * (CMDQ_CONS, GERROR, EVENTQ_PROD, the master's STATUS).
 *
 * Guest RAM window (cleared before each input):
 *   +0x000000 L1 stream table   +0x050000 linear CD table (64 CDs)
 *   +0x010000 L2 STEs 0x10000.. +0x058000 L1CD table, +0x059000 its L2
 *   +0x014000 L2 STEs 0..0xff   +0x060000 the PCI function's queues
 *   +0x020000 command queue     +0x100000 4 start-level tables, 64 KiB each
 *   +0x030000 event queue       +0x200000 table pool (2 MiB)
 *   +0x040000 MSI/SYNC targets  +0x400000 data: leaf outputs
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/pci.h"
#include "tests/qtest/libqos/mmn-smmuv3.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"
#include "fuzz.h"
#include "mmn_fuzz.h"

#define W_L1        (V3_RAM + 0x000000)
#define W_L2_M      (V3_RAM + 0x010000)
#define W_L2_P      (V3_RAM + 0x014000)
#define W_CMDQ      (V3_RAM + 0x020000)
#define W_EVTQ      (V3_RAM + 0x030000)
#define W_MSI       (V3_RAM + 0x040000)
#define W_CD        (V3_RAM + 0x050000)
#define W_CDL1      (V3_RAM + 0x058000)
#define W_CDL2      (V3_RAM + 0x059000)
#define W_PCMDQ     (V3_RAM + 0x060000)
#define W_PEVTQ     (V3_RAM + 0x068000)
#define W_ROOT      (V3_RAM + 0x100000)
#define W_POOL      (V3_RAM + 0x200000)
#define W_POOL_END  (V3_RAM + 0x400000)
#define W_DATA      (V3_RAM + 0x400000)
#define W_DATA_SIZE 0x400000ULL
#define W_SIZE      0x800000ULL
#define NOWHERE     0x0000700000000000ULL

#define PCI_DEVFN   QPCI_DEVFN(4, 0)
#define PCI_SID     0x20u
#define NR_ROOTS    4
#define VA_PAGES    1024
#define NR_SLOTS    32
#define MAX_RECS    512
#define SPLIT       8
#define CDMAX       6                       /* 64 CDs */

#define CMD_PREFETCH_CONFIG 0x01
#define CMD_PREFETCH_ADDR   0x02
#define CMD_CFGI_STE        0x03
#define CMD_CFGI_CD_ALL     0x06
#define CMD_TLBI_NH_VAA     0x13
#define CMD_TLBI_EL2_ALL    0x20
#define CMD_TLBI_S12_VMALL  0x28
#define CMD_TLBI_NSNH_ALL   0x30
#define CMD_ATC_INV         0x40
#define CMD_PRI_RESP        0x41

#define V3_GERROR_IRQ_CFG0  0x68
#define V3_GERROR_IRQ_CFG1  0x70
#define V3_GERROR_IRQ_CFG2  0x74
#define V3_EVTQ_PROD_P0     0xa8
#define V3_EVTQ_CONS_P0     0xac
#define V3_EVTQ_IRQ_CFG0    0xb0
#define V3_EVTQ_IRQ_CFG1    0xb8
#define V3_EVTQ_IRQ_CFG2    0xbc

enum { OP_CMD, OP_JOB, OP_MAP, OP_PTE, OP_STE, OP_CD, OP_REG, OP_MREG,
       OP_EVTQ, OP_GERR, OP_PCI, OP_RESET, NR_OPS };

typedef struct Root {
    unsigned g;             /* granule shift of the CD's TG0 */
    int start;
    unsigned va_bits;
    uint64_t addr;
} Root;

static struct {
    QTestState *qts;
    uint64_t pbar;                  /* the PCI function's BAR0 */
    Root root[NR_ROOTS];
    uint64_t pool_next;
    uint64_t slots[NR_SLOTS];
    unsigned nr_slots;
    uint16_t stag;                  /* of the last stall event seen */
} F;

static bool in_window(uint64_t a, uint64_t len)
{
    return a >= V3_RAM && len <= W_SIZE && a - V3_RAM <= W_SIZE - len;
}

static void wq(uint64_t a, uint64_t v)
{
    qtest_writeq(F.qts, a, v);
}

static uint32_t srd(uint64_t off)
{
    return qtest_readl(F.qts, V3_BASE + off);
}

static void swr(uint64_t off, uint32_t v)
{
    qtest_writel(F.qts, V3_BASE + off, v);
}

/* ---------------------------------------------------------------- */
/* Page tables of the four CD roots                                  */

static void root_view(Root *r, unsigned t0sz, unsigned tg0)
{
    static const unsigned gran[4] = { 12, 16, 14, 12 };

    r->g = gran[tg0 & 3];
    r->va_bits = (t0sz >= 12 && t0sz <= 39) ? 64 - t0sz : 48;
    r->start = 4 - DIV_ROUND_UP((int)r->va_bits - (int)r->g,
                                (int)r->g - 3);
    r->start = MAX(r->start, 0);
}

static uint64_t va_of(const Root *r, uint64_t page)
{
    uint64_t base = r->va_bits >= 40 ? 0x0000007fc0000000ULL :
                    1ULL << (r->va_bits - 1);

    return base + ((page % VA_PAGES) << r->g);
}

static unsigned level_shift(const Root *r, int level)
{
    return r->g + (3 - level) * (r->g - 3);
}

static void remember(uint64_t slot)
{
    F.slots[F.nr_slots++ % NR_SLOTS] = slot;
}

static uint64_t leaf_attrs(uint8_t b, uint32_t x)
{
    uint64_t a = 0;

    a |= (b & 0x01) ? PTE_RDONLY : 0;
    a |= (b & 0x02) ? 0 : PTE_USER;
    a |= (b & 0x04) ? 0 : PTE_AF;
    a |= (b & 0x08) ? PTE_DBM : 0;
    a |= (b & 0x10) ? 1ULL << 52 : 0;           /* contiguous */
    a |= (b & 0x20) ? 1ULL << 54 : 0;           /* UXN */
    a |= (b & 0x40) ? 1ULL << 11 : 0;           /* nG */
    if (b & 0x80) {
        a ^= ((uint64_t)x << 32) & 0xfff0000000000000ULL;
        a ^= x & 0xffcULL;
    }
    return a;
}

static uint64_t leaf_oa(uint8_t sel, uint32_t x, uint64_t size)
{
    switch (sel % 8) {
    case 5:
        return V3_MASTER & ~(size - 1);         /* the master's registers */
    case 6:
        return NOWHERE & ~(size - 1);
    case 7:
        return (V3_RAM + (((uint64_t)x << 12) % W_SIZE)) & ~(size - 1);
    default:
        if (size > W_DATA_SIZE) {
            return V3_RAM & ~(size - 1);
        }
        return (W_DATA + (((uint64_t)x << 12) % W_DATA_SIZE)) & ~(size - 1);
    }
}

static void op_map(const MmnFuzzRec *r)
{
    const Root *rt = &F.root[r->p1 % NR_ROOTS];
    int leaf = MAX(3 - (r->p1 >> 4) % 4, rt->start);
    uint64_t va = va_of(rt, r->y), table = rt->addr, slot, d;
    int level;

    for (level = rt->start; ; level++) {
        unsigned shift = level_shift(rt, level);
        unsigned bits = level == rt->start ? rt->va_bits - shift : rt->g - 3;

        slot = table + ((va >> shift) & ((1ULL << MIN(bits, 16)) - 1)) * 8;
        if (level == leaf) {
            break;
        }
        d = qtest_readq(F.qts, slot);
        if ((d & 3) != 3 || !in_window(d & 0x0000fffffffff000ULL, 8)) {
            uint64_t t = ROUND_UP(F.pool_next, 1ULL << rt->g);

            if (t + (1ULL << rt->g) > W_POOL_END) {
                return;
            }
            F.pool_next = t + (1ULL << rt->g);
            d = t | 3;
            if (r->p2 & 0x80) {                 /* APTable, XNTable */
                d |= (uint64_t)(r->x >> 28) << 59;
            }
            wq(slot, d);
            remember(slot);
        }
        table = d & 0x0000fffffffff000ULL & ~((1ULL << rt->g) - 1);
    }
    d = leaf_oa(r->p3, r->x, 1ULL << level_shift(rt, leaf)) |
        leaf_attrs(r->p2, r->x) | (leaf == 3 ? 3 : 1);
    wq(slot, d);
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
    case 1:
        v = old ^ (r->y & 0xfff0000000000ffdULL);
        break;
    case 2:
        v = (r->y & 0xfff0000000000fffULL) |
            (V3_RAM + (r->y & 0x0000fffffffff000ULL) % W_SIZE);
        break;
    default:
        v = r->y;
        break;
    }
    wq(slot, v);
}

/* ---------------------------------------------------------------- */
/* Stream table and context descriptors                              */

/* A table pointer: mostly the right one, else misaligned or not RAM. */
static uint64_t ptr_of(uint8_t sel, uint64_t good, uint32_t x)
{
    switch (sel % 8) {
    case 5:
        return good + (x & 0xfc0);
    case 6:
        return NOWHERE;
    case 7:
        return (sel & 8) ? 1ULL << 50 : V3_BASE;
    default:
        return good;
    }
}

static void ste_write(bool pci, uint64_t w0, uint64_t w1)
{
    uint64_t a = pci ? W_L2_P + PCI_SID * 64 : W_L2_M;

    wq(a + 8, w1);
    wq(a, w0);
}

static uint64_t ste_s1(unsigned fmt, uint64_t cdptr, unsigned cdmax)
{
    return 1 | (5ULL << 1) | ((uint64_t)fmt << 4) |
           (cdptr & 0x000fffffffffffc0ULL) | ((uint64_t)cdmax << 59);
}

static void op_ste(const MmnFuzzRec *r)
{
    bool pci = r->p1 & 1;
    uint32_t x = r->x;
    uint64_t w0, w1;

    if (r->p1 & 2) {                            /* the L1STD */
        uint64_t l2 = pci ? W_L2_P : W_L2_M;

        wq(W_L1 + ((pci ? PCI_SID : V3_MASTER_SID) >> SPLIT) * 8,
           ptr_of(r->p2, l2, x) | (x & 0x1f));
        return;
    }
    if (!(r->p3 & 1)) {                         /* a stage-1 STE */
        unsigned fmt = (x >> 3) & 3;

        w0 = ste_s1(fmt, ptr_of(r->p2, fmt ? W_CDL1 : W_CD, x),
                    (x >> 5) & 0x1f);
        w0 ^= (uint64_t)((x >> 13) & 1) << 0;   /* V */
        w1 = ((x >> 10) & 3) | ((uint64_t)((x >> 12) & 1) << 27);
    } else {                                    /* Config and words raw */
        w0 = (r->y & ~0xfULL) | ((x & 7) << 1) | !(x & 8);
        w1 = r->y >> 16 ^ x;
    }
    ste_write(pci, w0, w1);
}

static void op_cd(const MmnFuzzRec *r)
{
    static const uint8_t t0sz[] = { 16, 25, 39, 12, 40, 24, 33, 63 };
    unsigned ssid = r->p1 % 64;
    uint32_t x = r->x;
    unsigned tsz = MMN_PICK(t0sz, x), tg0 = (x >> 3) & 3;
    uint64_t ttb, w0;
    Root *rt = &F.root[ssid % NR_ROOTS];

    w0 = tsz | ((uint64_t)tg0 << 6) | (3ULL << 12) |
         ((x & (1 << 5)) ? 1ULL << 14 : 0) |            /* EPD0 */
         ((x & (1 << 6)) ? 1ULL << 15 : 0) |            /* ENDI */
         ((x & (1 << 18)) ? 0 : 1ULL << 30) |           /* EPD1 */
         ((r->p2 & 0x80) ? 0 : 1ULL << 31) |            /* V */
         ((uint64_t)(((x >> 7) & 7) ^ 5) << 32) |       /* IPS */
         ((x & (1 << 10)) ? 1ULL << 38 : 0) |           /* TBI0 */
         ((x & (1 << 11)) ? 0 : 1ULL << 41) |           /* AA64 */
         ((x & (1 << 12)) ? 1ULL << 42 : 0) |           /* HD */
         ((x & (1 << 13)) ? 1ULL << 43 : 0) |           /* HA */
         ((x & (1 << 14)) ? 1ULL << 44 : 0) |           /* S */
         ((x & (1 << 15)) ? 0 : 1ULL << 45) |           /* R */
         ((x & (1 << 16)) ? 0 : 1ULL << 46) |           /* A */
         ((x & (1 << 17)) ? 1ULL << 47 : 0) |           /* ASET */
         ((uint64_t)((x >> 19) % 5 + 1 + (r->p2 & 0x70)) << 48);
    ttb = ptr_of(r->p3, rt->addr, x);
    if (!(r->p3 & 0x80)) {                      /* the tables MAP builds */
        root_view(rt, tsz, tg0);
    }
    wq(W_CD + ssid * 64 + 8, ttb & 0x000ffffffffffff0ULL);
    wq(W_CD + ssid * 64, w0);
    wq(W_CDL2 + ssid * 64 + 8, ttb & 0x000ffffffffffff0ULL);
    wq(W_CDL2 + ssid * 64, w0);
    if (r->p2 & 0x08) {                         /* the L1CD */
        wq(W_CDL1, ptr_of(r->p3 >> 3, W_CDL2, x) | !(r->p2 & 4));
    }
}

/* ---------------------------------------------------------------- */
/* Commands                                                          */

static const uint8_t opcodes[] = {
    CMD_PREFETCH_CONFIG, CMD_PREFETCH_ADDR, CMD_CFGI_STE, CMD_CFGI_STE_RANGE,
    CMD_CFGI_CD, CMD_CFGI_CD_ALL, CMD_TLBI_NH_ALL, CMD_TLBI_NH_ASID,
    CMD_TLBI_NH_VA, CMD_TLBI_NH_VAA, CMD_TLBI_NSNH_ALL, CMD_RESUME,
    CMD_STALL_TERM, CMD_SYNC, CMD_TLBI_EL2_ALL, CMD_TLBI_S12_VMALL,
    CMD_ATC_INV, CMD_PRI_RESP,
};

/* An MSI target: RAM mostly, else the SMMU, the master, nothing. */
static uint64_t msi_addr(uint8_t sel, uint32_t x)
{
    switch (sel % 8) {
    case 5:
        return V3_BASE + (x & 0xffc);
    case 6:
        return V3_MASTER + (x & 0xffc);
    case 7:
        return NOWHERE;
    default:
        return W_MSI + (x & 0xfffc);
    }
}

static void op_cmd(const MmnFuzzRec *r)
{
    unsigned sel = r->p1 % (ARRAY_SIZE(opcodes) + 3);
    static const uint32_t sids[] = {
        V3_MASTER_SID, PCI_SID, 0x10001, 0x20000, 0xffffffff,
    };
    uint32_t x = r->x, sid = MMN_PICK(sids, r->p3);
    uint8_t op = sel < ARRAY_SIZE(opcodes) ? opcodes[sel] : r->p1;
    uint16_t asid = (r->p2 >> 4) < 5 ? (r->p2 >> 4) + 1 : r->p2;
    uint64_t c0 = op, c1 = 0, q, base, slot;
    uint32_t prod, log2;

    switch (op) {
    case CMD_PREFETCH_CONFIG:
    case CMD_PREFETCH_ADDR:
    case CMD_CFGI_STE:
    case CMD_CFGI_CD:
    case CMD_CFGI_CD_ALL:
    case CMD_STALL_TERM:
    case CMD_ATC_INV:
    case CMD_PRI_RESP:
        c0 |= (uint64_t)sid << 32 | (uint64_t)(r->p2 & 0xf) << 12 |
              ((r->p2 & 1) ? 1ULL << 11 : 0);
        c1 = r->y & 1;
        break;
    case CMD_CFGI_STE_RANGE:
        c0 |= (uint64_t)sid << 32;
        c1 = x & 0x1f;
        break;
    case CMD_TLBI_NH_ASID:
        c0 |= (uint64_t)asid << 48;
        break;
    case CMD_TLBI_NH_VA:
    case CMD_TLBI_NH_VAA:
        c0 |= (uint64_t)asid << 48 | (uint64_t)(x & 0x1f) << 12 |
              (uint64_t)((x >> 5) & 0x1f) << 20;
        if (!(r->p2 & 1)) {                     /* no range fields */
            c0 &= ~0x1f1f000ULL;
        }
        c1 = (va_of(&F.root[(asid + NR_ROOTS - 1) % NR_ROOTS], r->y) &
              ~0xfffULL) |
             ((x >> 10) & 1) | ((uint64_t)((x >> 11) & 3) << 8) |
             ((r->p2 & 1) ? (uint64_t)((x >> 13) & 3) << 10 : 0);
        break;
    case CMD_RESUME:
        c0 |= (uint64_t)sid << 32 | (uint64_t)(x & 3) << 12;
        c1 = (r->p2 & 1) ? (r->y & 0xffff) : F.stag;
        break;
    case CMD_SYNC:
        c0 |= (uint64_t)(x & 3) << 12 | (uint64_t)r->y << 32;
        if (r->p2 & 1) {
            c1 = msi_addr(r->p2 >> 1, x >> 4) & 0x000ffffffffffffcULL;
        }
        break;
    case CMD_TLBI_NH_ALL:
    case CMD_TLBI_NSNH_ALL:
    case CMD_TLBI_EL2_ALL:
    case CMD_TLBI_S12_VMALL:
        break;
    default:
        c0 |= (uint64_t)x << 8;
        c1 = r->y;
        break;
    }
    if ((x & 0xe0000000) == 0xe0000000) {       /* SSec or stray bits */
        c0 |= (r->p2 & 2) ? 1ULL << 10 : (r->y & 0xff00ULL);
    }

    q = qtest_readq(F.qts, V3_BASE + V3_CMDQ_BASE);
    base = q & 0x000fffffffffffe0ULL;
    log2 = MIN(q & 0x1f, 19);
    base &= ~((16ULL << log2) - 1);
    prod = srd(V3_CMDQ_PROD);
    slot = base + (uint64_t)(prod & ((1u << log2) - 1)) * 16;
    if (in_window(slot, 16)) {
        wq(slot, c0);
        wq(slot + 8, c1);
    }
    swr(V3_CMDQ_PROD, (prod + 1) & ((2u << log2) - 1));
}

/* ---------------------------------------------------------------- */
/* The master, registers, events                                     */

static void op_job(const MmnFuzzRec *r)
{
    const Root *rt = &F.root[r->p2 % NR_ROOTS];
    uint32_t len;
    uint64_t va = va_of(rt, r->y);
    unsigned op = (r->p1 >> 1) % 4 < 3 ? (r->p1 >> 1) % 4 + 1 : r->p1;

    switch (r->p3 & 3) {
    case 0:
        len = (r->x & 0xfff) + 1;
        break;
    case 1:
        len = r->x % 0x10000 + 1;
        break;
    default:
        len = (r->p3 & 4) ? 0 : r->x;
        break;
    }
    if (r->p3 & 0x10) {
        va += (r->y >> 32) & 0xfff;
    }
    if (r->p3 & 0x20) {
        va |= r->y & 0xff00000000000000ULL;
    }
    if (r->p3 & 0x40) {
        va = (r->x & 1) ? va | (1ULL << 55) : -(uint64_t)(r->x & 0xfff);
    }
    qtest_writel(F.qts, V3_MASTER + M_CTRL, (r->p1 & 1) | (r->p3 & 0x80 ?
                                                         2 : 0));
    qtest_writel(F.qts, V3_MASTER + M_PASID,
                 (r->p2 & 0x80) ? r->y >> 44 : r->p2 % 64);
    qtest_writel(F.qts, V3_MASTER + M_VA_LO, va);
    qtest_writel(F.qts, V3_MASTER + M_VA_HI, va >> 32);
    qtest_writel(F.qts, V3_MASTER + M_LEN, len);
    qtest_writel(F.qts, V3_MASTER + M_OP, op);
    qtest_writel(F.qts, V3_MASTER + M_PATTERN, r->x);
    qtest_writel(F.qts, V3_MASTER + M_DOORBELL, 1);
}

static const uint32_t sregs[] = {
    V3_CR0, V3_CR1, V3_CR2, V3_GBPA, V3_IRQ_CTRL, V3_GERRORN,
    V3_GERROR_IRQ_CFG0, V3_GERROR_IRQ_CFG1, V3_GERROR_IRQ_CFG2,
    V3_STRTAB_BASE, V3_STRTAB_BASE_CFG, V3_CMDQ_BASE, V3_CMDQ_PROD,
    V3_CMDQ_CONS, V3_EVTQ_BASE, V3_EVTQ_PROD, V3_EVTQ_CONS,
    V3_EVTQ_PROD_P0, V3_EVTQ_CONS_P0, V3_EVTQ_IRQ_CFG0, V3_EVTQ_IRQ_CFG1,
    V3_EVTQ_IRQ_CFG2,
};

static void op_reg(const MmnFuzzRec *r)
{
    uint32_t off = r->p1 < 0xe0 ? MMN_PICK(sregs, r->p1) :
                   ((uint32_t)r->p2 << 2 | (r->x & 0x10000)) +
                   ((r->p3 & 0x40) ? (r->p3 & 7) : 0);
    uint64_t a = V3_BASE + off, v = r->y;

    if (r->p3 & 1) {                            /* a value that fits */
        switch (off) {
        case V3_CMDQ_BASE:
            v = W_CMDQ | (r->x % 20);
            break;
        case V3_EVTQ_BASE:
            v = W_EVTQ | (r->x % 20);
            break;
        case V3_STRTAB_BASE:
            v = W_L1;
            break;
        case V3_GERROR_IRQ_CFG0:
        case V3_EVTQ_IRQ_CFG0:
            v = msi_addr(r->x, r->x >> 8);
            break;
        case V3_STRTAB_BASE_CFG:
            v = (r->x & 0x30000) | (r->x & 0xf) << 6 | (r->x >> 4) % 33;
            break;
        }
    }
    switch ((r->p3 >> 4) & 3) {
    case 0:
        qtest_writeq(F.qts, a, v);
        break;
    case 1:
        qtest_writel(F.qts, a, (r->p3 & 1) ? v : r->x);
        break;
    case 2:
        if (r->p3 & 0x80) {
            qtest_writew(F.qts, a, r->x);
        } else {
            qtest_readq(F.qts, a);
        }
        break;
    default:
        qtest_readl(F.qts, a);
        break;
    }
}

static const uint32_t mregs[] = {
    M_CTRL, M_PASID, M_VA_LO, M_VA_HI, M_LEN, M_OP, M_PATTERN, M_DOORBELL,
    M_IRQ_STATUS, M_ABORT, M_CHECK, M_STATUS,
};

static void op_mreg(const MmnFuzzRec *r)
{
    uint64_t a = V3_MASTER + (r->p1 < 0xc0 ? MMN_PICK(mregs, r->p1) :
                              (r->p1 & 0x20) ? M_DATA + (r->x & 0xfff) :
                              (r->x & 0xfffc));

    switch (r->p3 % 4) {
    case 0:
        qtest_writel(F.qts, a, r->x);
        break;
    case 1:
        qtest_writeq(F.qts, a, r->y);
        break;
    case 2:
        qtest_writeb(F.qts, a, r->x);
        break;
    default:
        qtest_readl(F.qts, a);
        break;
    }
}

static void op_evtq(const MmnFuzzRec *r)
{
    uint32_t prod = srd(V3_EVTQ_PROD), cons = srd(V3_EVTQ_CONS);
    uint64_t q = qtest_readq(F.qts, V3_BASE + V3_EVTQ_BASE);
    uint32_t log2 = MIN(q & 0x1f, 19), idx;
    uint64_t base = q & 0x000fffffffffffe0ULL & ~((32ULL << log2) - 1);

    /* the newest record, if it is a stall: its STAG for RESUME */
    if ((prod ^ cons) & ((2u << log2) - 1)) {
        idx = (prod - 1) & ((1u << log2) - 1);
        if (in_window(base + idx * 32, 32) &&
            (qtest_readq(F.qts, base + idx * 32 + 8) >> 31) & 1) {
            F.stag = qtest_readq(F.qts, base + idx * 32 + 8);
        }
    }
    swr(V3_EVTQ_CONS, (r->p1 & 1) ? r->x : prod);
}

static void op_gerr(const MmnFuzzRec *r)
{
    uint32_t cons = srd(V3_CMDQ_CONS);
    uint64_t q = qtest_readq(F.qts, V3_BASE + V3_CMDQ_BASE);
    uint32_t log2 = MIN(q & 0x1f, 19);
    uint64_t slot = (q & 0x000fffffffffffe0ULL & ~((16ULL << log2) - 1)) +
                    (uint64_t)(cons & ((1u << log2) - 1)) * 16;

    if (!(r->p1 & 2) && (cons >> 24) & 0x7f && in_window(slot, 16)) {
        wq(slot, CMD_SYNC);
        wq(slot + 8, 0);
    }
    swr(V3_GERRORN, srd(V3_GERROR) ^ ((r->p1 & 1) ? r->x : 0));
}

static void op_pci(const MmnFuzzRec *r)
{
    static const uint8_t regs[] = { A_CTRL, A_CMDQ_BASE_LO, A_EVTQ_CONS,
                                    A_IRQ_ENABLE, A_CMDQ_ERR_ACK };
    MmnCmd cmd = { .opcode = MMN_CMD_SYNC, .flags = MMN_CMD_SYNC_F_WRITE };
    uint32_t prod;

    if (!F.pbar) {
        return;
    }
    if (r->p1 & 1) {
        qtest_writel(F.qts, F.pbar + MMN_PICK(regs, r->p2), r->x);
        return;
    }
    /* The function's queue is at an IOVA: PA under a bypass STE. */
    cmd.arg = cpu_to_le32(r->x);
    cmd.a0 = cpu_to_le64((r->p2 & 1) ? va_of(&F.root[0], r->y) :
                         W_MSI + (r->y & 0xfffc));
    prod = qtest_readl(F.qts, F.pbar + A_CMDQ_PROD);
    qtest_memwrite(F.qts, W_PCMDQ + (prod & 0xf) * MMN_CMD_SIZE, &cmd,
                   sizeof(cmd));
    qtest_writel(F.qts, F.pbar + A_CMDQ_PROD, (prod + 1) & 0x1f);
}

/* ---------------------------------------------------------------- */
/* The state every input starts from                                 */

static void setup(QTestState *s)
{
    unsigned i;

    F.qts = s;
    F.pool_next = W_POOL;
    F.nr_slots = 0;
    F.stag = 0;
    /* 2-level stream table, SPLIT 8: the master's and the PCI bus's L2 */
    wq(W_L1 + (V3_MASTER_SID >> SPLIT) * 8, W_L2_M | (SPLIT + 1));
    wq(W_L1, W_L2_P | (SPLIT + 1));
    wq(W_L2_M + 8, 2 /* S1DSS: substream 0 */);
    wq(W_L2_M, ste_s1(0, W_CD, CDMAX));
    ste_write(true, 1 | (4ULL << 1), 0);        /* PCI: bypass */
    wq(W_CDL1, W_CDL2 | 1);
    for (i = 0; i < NR_ROOTS; i++) {
        MmnFuzzRec cd = { .p1 = i, .x = i << 19 | ((i & 1) ? 1 << 14 : 0) };

        F.root[i].addr = W_ROOT + i * 0x10000ULL;
        op_cd(&cd);                 /* T0SZ 16, 4 KiB, ASID i + 1 */
    }
    swr(V3_CR0, 0);
    swr(V3_CR1, 0x0d75);
    swr(V3_CR2, 0x2);
    qtest_writeq(s, V3_BASE + V3_STRTAB_BASE, W_L1);
    swr(V3_STRTAB_BASE_CFG, (1 << 16) | (SPLIT << 6) | 17);
    qtest_writeq(s, V3_BASE + V3_CMDQ_BASE, W_CMDQ | 8);
    swr(V3_CMDQ_PROD, 0);
    swr(V3_CMDQ_CONS, 0);
    qtest_writeq(s, V3_BASE + V3_EVTQ_BASE, W_EVTQ | 7);
    swr(V3_EVTQ_PROD, 0);
    swr(V3_EVTQ_CONS, 0);
    swr(V3_IRQ_CTRL, 0x5);
    swr(V3_CR0, 0xd);                           /* SMMUEN, EVENTQEN, CMDQEN */

    F.pbar = mmn_fuzz_pci_enable(s, PCI_DEVFN, NULL);
    if (F.pbar) {
        qtest_writel(s, F.pbar + A_CMDQ_BASE_LO, W_PCMDQ | 4);
        qtest_writel(s, F.pbar + A_EVTQ_BASE_LO, W_PEVTQ | 4);
        qtest_writel(s, F.pbar + A_CTRL, 7);
    }
}

static void mmn_smmuv3_fuzz(QTestState *s, const unsigned char *data,
                            size_t size)
{
    static void (*const ops[NR_OPS])(const MmnFuzzRec *) = {
        [OP_CMD] = op_cmd, [OP_JOB] = op_job, [OP_MAP] = op_map,
        [OP_PTE] = op_pte, [OP_STE] = op_ste, [OP_CD] = op_cd,
        [OP_REG] = op_reg, [OP_MREG] = op_mreg, [OP_EVTQ] = op_evtq,
        [OP_GERR] = op_gerr, [OP_PCI] = op_pci,
    };
    bool verbose = getenv("MMN_FUZZ_VERBOSE");
    MmnFuzzRec r;
    unsigned n = 0;

    mmn_fuzz_ram_clear(s, V3_RAM, W_SIZE);
    setup(s);
    while (n++ < MAX_RECS && mmn_fuzz_next(&data, &size, &r)) {
        if (verbose) {
            mmn_fuzz_rec_print(n, &r);
        }
        switch (r.op % NR_OPS) {
        case OP_RESET:
            fuzz_reset(s);
            setup(s);
            break;
        default:
            ops[r.op % NR_OPS](&r);
            break;
        }
        if (verbose) {
            fprintf(stderr, "  CMDQ_CONS %x GERROR %x EVENTQ_PROD %x "
                    "master STATUS %x\n", srd(V3_CMDQ_CONS), srd(V3_GERROR),
                    srd(V3_EVTQ_PROD),
                    qtest_readl(F.qts, V3_MASTER + M_STATUS));
        }
    }
    flush_events(s);
    fuzz_reset(s);
}

/* ---------------------------------------------------------------- */
/* Seeds                                                             */

#define REC(op, p1, p2, p3, x, y) mmn_fuzz_rec(a, op, p1, p2, p3, x, y)
/* opcodes[] indexes */
enum { C_PF_CFG, C_PF_ADDR, C_CFGI_STE, C_CFGI_RANGE, C_CFGI_CD,
       C_CFGI_CD_ALL, C_NH_ALL, C_NH_ASID, C_NH_VA, C_NH_VAA, C_NSNH_ALL,
       C_RESUME, C_STALL_TERM, C_SYNC };
/* CMD record: p1 opcode, p2 ASID << 4 | flags, p3 SID index */
#define CMD(sel, p2, sid, x, y) REC(OP_CMD, sel, p2, sid, x, y)
/* JOB record: p1 op << 1 | SSV, p2 PASID (root), p3 length class */
#define JOB(op, pasid, page) REC(OP_JOB, ((op) - 1) << 1 | !!(pasid), \
                                 pasid, 0, 0x7ff, page)
#define MAP_RW(root, page) REC(OP_MAP, root, 0x00, 0, page, page)
#define MAP_RO(root, page) REC(OP_MAP, root, 0x01, 0, page, page)

static GByteArray *seed_jobs(void)
{
    GByteArray *a = g_byte_array_new();

    MAP_RW(0, 1);
    MAP_RW(0, 2);
    JOB(M_OP_FILL, 0, 1);
    JOB(M_OP_WRITE, 0, 1);
    JOB(M_OP_READ, 0, 2);
    REC(OP_JOB, 1, 0, 0, 0x7ff, 2);     /* SSV, PASID 0: F_STREAM_DISABLED */
    CMD(C_NH_VA, 0x00, 0, 0, 1);                /* ASID 1 */
    CMD(C_NH_ASID, 0x00, 0, 0, 0);
    CMD(C_CFGI_CD, 0x00, 0, 0, 0);
    CMD(C_SYNC, 0x01, 0, 1, 0x55);              /* MSI write */
    REC(OP_MREG, 10, 0, 0, 1, 0);               /* CHECK */
    REC(OP_EVTQ, 0, 0, 0, 0, 0);
    return a;
}

static GByteArray *seed_stall(void)
{
    GByteArray *a = g_byte_array_new();

    MAP_RO(1, 3);                               /* CD 1 stalls (S = 1) */
    JOB(M_OP_WRITE, 1, 3);
    REC(OP_EVTQ, 0, 0, 0, 0, 0);                /* its STAG */
    MAP_RW(1, 3);
    CMD(C_NH_VA, 0x10, 0, 0, 3);                /* ASID 2 */
    CMD(C_RESUME, 0x00, 0, 1, 0);               /* retry */
    JOB(M_OP_WRITE, 1, 4);                      /* unmapped: stalls */
    REC(OP_EVTQ, 0, 0, 0, 0, 0);
    CMD(C_RESUME, 0x00, 0, 0, 0);               /* abort */
    JOB(M_OP_WRITE, 1, 5);
    CMD(C_STALL_TERM, 0x00, 0, 0, 0);
    return a;
}

static GByteArray *seed_ranges(void)
{
    GByteArray *a = g_byte_array_new();

    MAP_RW(2, 8);
    REC(OP_MAP, 0x12, 0x00, 0, 0, 512);         /* a 2 MiB block */
    JOB(M_OP_READ, 2, 8);
    JOB(M_OP_FILL, 2, 600);
    CMD(C_NH_VA, 0x21, 0, 0x2003, 8);           /* RIL: TG 4K, NUM 3 */
    CMD(C_NH_VAA, 0x01, 0, 0x4000 | 0x40, 512);
    CMD(C_NH_ALL, 0, 0, 0, 0);
    CMD(C_NSNH_ALL, 0, 0, 0, 0);
    CMD(C_CFGI_RANGE, 0, 0, 31, 0);
    return a;
}

static GByteArray *seed_config(void)
{
    GByteArray *a = g_byte_array_new();

    REC(OP_CD, 3, 0x00, 0, 2u << 3 | 3 << 19, 0);   /* 16 KiB granule */
    MAP_RW(3, 1);
    JOB(M_OP_FILL, 3, 1);
    REC(OP_STE, 0, 0, 0, 1 << 3 | CDMAX << 5 | 2 << 10, 0);    /* 2L CDs */
    JOB(M_OP_FILL, 3, 1);
    REC(OP_STE, 0, 0, 0, 1 << 13, 0);           /* V = 0: C_BAD_STE */
    JOB(M_OP_READ, 0, 1);
    REC(OP_STE, 2, 0, 0, 0, 0);                 /* Span 0 */
    JOB(M_OP_READ, 0, 1);
    REC(OP_STE, 1, 0, 0, CDMAX << 5 | 2 << 10, 0);  /* PCI: stage 1 */
    REC(OP_PCI, 0, 1, 0, 0x77, 5);
    REC(OP_EVTQ, 0, 0, 0, 0, 0);
    return a;
}

static GByteArray *seed_errors(void)
{
    GByteArray *a = g_byte_array_new();

    CMD(0x3e, 0, 0, 0, 0);                      /* an unknown opcode */
    REC(OP_GERR, 0, 0, 0, 0, 0);
    CMD(C_SYNC, 0x0b, 0, 1, 0);                 /* MSI to the SMMU */
    REC(OP_GERR, 0, 0, 0, 0, 0);
    REC(OP_REG, 4, 0, 0x10, 0, 0);              /* IRQ_CTRL = 0 */
    REC(OP_REG, 6, 0, 0x11, 5, 0);              /* GERROR MSI to the SMMU */
    REC(OP_REG, 4, 0, 0x10, 5, 0);
    REC(OP_REG, 0, 0, 0x10, 0, 0);              /* CR0 = 0 */
    JOB(M_OP_READ, 0, 1);                       /* GBPA */
    REC(OP_REG, 14, 0, 0x01, 2, 0);             /* EVENTQ_BASE, 4 entries */
    REC(OP_REG, 0, 0, 0x10, 0xd, 0);
    JOB(M_OP_READ, 0, 9);
    JOB(M_OP_READ, 0, 10);
    JOB(M_OP_READ, 0, 11);
    JOB(M_OP_READ, 0, 12);
    JOB(M_OP_READ, 0, 13);                      /* overflow */
    REC(OP_EVTQ, 0, 0, 0, 0, 0);
    REC(OP_RESET, 0, 0, 0, 0, 0);
    return a;
}

static void mmn_smmuv3_seeds(void)
{
    static const char *const names[] = {
        "jobs", "stall", "ranges", "config", "errors",
    };
    GByteArray *seeds[] = {
        seed_jobs(), seed_stall(), seed_ranges(), seed_config(),
        seed_errors(),
    };

    mmn_fuzz_write_seeds(names, seeds, ARRAY_SIZE(seeds));
}

static GString *mmn_smmuv3_cmdline(FuzzTarget *t)
{
    mmn_smmuv3_seeds();
    return g_string_new(TARGET_NAME " -display none -machine accel=qtest "
                        "-M virt,iommu=mmn-smmuv3 -cpu max -m 512M "
                        "-nodefaults -device mmn-smmu,addr=04.0");
}

static void register_mmn_smmuv3_fuzz_targets(void)
{
    fuzz_add_target(&(FuzzTarget){
        .name = "mmn-smmuv3",
        .description = "mmn-smmuv3 on virt with its SVA master and a PCI "
                       "function: commands, STEs, CDs, page tables and "
                       "jobs built from records",
        .get_init_cmdline = mmn_smmuv3_cmdline,
        .fuzz = mmn_smmuv3_fuzz,
    });
}

fuzz_target_init(register_mmn_smmuv3_fuzz_targets);
