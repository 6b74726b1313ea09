/*
 * qtest for mmn-smmu robustness: random but bounded guest input must get
 * the defined error of docs/specs/mmn-smmu.rst, never a crash, a hang, or
 * a write anywhere the guest did not point the device at.
 *
 * Four tests, each with its own QEMU, drive the device with random
 * commands (valid and invalid opcodes, random fields, wild addresses),
 * random page tables and DMA descriptors on bound contexts (loops, tables
 * at MMIO and at the device's own BAR, reserved encodings, lengths 0 and
 * above 1 MiB) and random MMIO writes, then bring the device back to a
 * known state (system_reset or a driver re-init) and check that a
 * known-good command and DMA still work.
 *
 * Guest RAM (512 MiB at 1 GiB) is split in three:
 *
 *   [RAM_BASE, SENT_BASE)   the allocator: rings, descriptors, the mm model
 *   [SENT_BASE, ARENA_BASE) sentinel: filled at start, verified at the end
 *   [ARENA_BASE, RAM_END)   the arena: the only RAM addresses the random
 *                           input ever names (results, reports, bitmaps,
 *                           bounce buffers, page tables, output addresses)
 *
 * The arena is the top of RAM, so "just below the end of RAM" is arena
 * and a range running past it leaves RAM.  Output addresses can only come
 * from the arena, the device's BAR, PCIe ECAM, flash or beyond RAM: every
 * descriptor the test writes takes its address from that pool, and DMA
 * virtual addresses keep bits [29:25] = 0b01111, so that a descriptor read
 * at another level than it was written for (a table loop) and taken as a
 * 1 GiB block still lands in the arena (or in unassigned MMIO).
 *
 *   QTEST_QEMU_BINARY=qemu-system-aarch64 mmn-smmu-robustness-test --tap
 *   MMN_FUZZ_SEED=<n>   seed (default below, printed)
 *   MMN_FUZZ_ITERS=<n>  random actions per test (default below)
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "libqos/libqos-malloc.h"
#include "libqos/pci.h"
#include "libqos/generic-pcihost.h"
#include "libqos/mmn-smmu.h"
#include "libqos/mmn-kernel.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"
#include "hw/pci/pci_regs.h"

#define DEFAULT_SEED    0x6d6d6e53ULL   /* "mmnS" */
#define DEFAULT_ITERS   1200

#define RAM_BASE        0x40000000ULL
#define RAM_SIZE        (512ULL << 20)
#define RAM_END         (RAM_BASE + RAM_SIZE)
#define SENT_BASE       (RAM_BASE + (128ULL << 20))
#define ARENA_BASE      (RAM_END - (32ULL << 20))
#define SENT_SIZE       (ARENA_BASE - SENT_BASE)
#define ECAM_BASE       0x3f000000ULL   /* virt: PCIe ECAM, below RAM */
/* Not RAM, but the sentinel if an address were truncated to 32 bits. */
#define SENT_ALIAS      ((1ULL << 32) + SENT_BASE + (64ULL << 20))

/* Arena: page tables of the DMA contexts, then data. */
#define TBL_PAGES       64          /* per context */
#define TBL_BASE        ARENA_BASE
#define DATA_BASE       (TBL_BASE + 16 * TBL_PAGES * PAGE)
#define DATA_SIZE       (RAM_END - DATA_BASE)

#define PAGE            0x1000ULL
#define GIB             (1ULL << 30)
/* DMA VA offset inside its 1 GiB region (see the top comment). */
#define VA_OFF_MIN      0x1e000000ULL
#define VA_OFF_MAX      0x1fe00000ULL

#define PTE_VALID       (1ULL << 0)
#define PTE_TABLE       (1ULL << 1)
#define PTE_ATTR_LO     0x0000000000000ffcULL  /* [11:2] */
#define PTE_ATTR_HI     0xfff0000000000000ULL  /* [63:52] */
#define PTE_OA          0x0000fffffffff000ULL

/*
 * Data the test puts in the arena has bit 0 of every byte clear: read as
 * a descriptor (a DMA may copy it into a table page), it is invalid.
 */
#define DATA_MASK       0xfefefefeu

#define MAX_DMA_ROUNDS  48          /* resumes/unblocks per descriptor */
#define ID_EVERY        16          /* steps between liveness probes */
#define CHAOS_STEPS     40          /* at most, before the next re-init */

enum { ACT_CMD, ACT_DMA, ACT_MMIO, ACT_CHAOS, NR_ACTS };

typedef struct TestCfg {
    unsigned idx;                   /* seed offset */
    const char *name;
    const char *props;              /* extra -device properties */
    unsigned weight[NR_ACTS];       /* action mix */
    unsigned round;                 /* steps between re-establishments */
} TestCfg;

typedef struct OpenRange {
    uint16_t ctx;
    uint32_t arg;
    uint64_t start, end, owner;
} OpenRange;

typedef struct Fuzz {
    const TestCfg *cfg;
    GRand *rng;
    QTestState *qts;
    QGuestAllocator alloc;
    QGenericPCIBus bus;
    QMmnSmmu dev;
    MmnKernel *k;
    uint64_t bar;
    unsigned num_ctx;
    bool chaos;                     /* registers scrambled: liveness only */
    GArray *open;                   /* OpenRange: MN_RANGE_START accepted */
    uint32_t bound;                 /* contexts bound, as far as we know */
    uint64_t dma_cfg[16];           /* CTX_BIND a1 of a DMA context, 0 */
    unsigned next_tbl;              /* next free table page of the DMA */
    /* statistics */
    unsigned steps;
    unsigned cmd_ok, cmd_err[9];
    unsigned dma_state[9];
    unsigned dma_stalls, dma_resumes, dma_aborts, dma_fixes, dma_unblocks;
    unsigned dma_forced;
    unsigned events, bad_events;
    unsigned mmio_benign, mmio_chaos;
    unsigned resets, reinits, known_good;
    unsigned oracle_hits;           /* outcomes predicted exactly */
} Fuzz;

static uint64_t fuzz_seed;
static unsigned fuzz_iters;

static const char *const reason_names[] = {
    "OK", "OPCODE", "RESERVED", "BAD_CTX", "BAD_ADDR", "BAD_RANGE",
    "BAD_CONFIG", "NOT_STALLED", "MISUSE",
};

/* ---------------------------------------------------------------- */
/* Random helpers                                                    */

static uint32_t rnd(Fuzz *f, uint32_t n)
{
    return n ? g_rand_int_range(f->rng, 0, n) : 0;
}

static bool chance(Fuzz *f, unsigned percent)
{
    return rnd(f, 100) < percent;
}

static uint64_t rnd64(Fuzz *f)
{
    return (uint64_t)g_rand_int(f->rng) << 32 | g_rand_int(f->rng);
}

static unsigned pick_weighted(Fuzz *f, const unsigned *w, unsigned n)
{
    unsigned total = 0, r, i;

    for (i = 0; i < n; i++) {
        total += w[i];
    }
    r = rnd(f, total);
    for (i = 0; i < n; i++) {
        if (r < w[i]) {
            return i;
        }
        r -= w[i];
    }
    g_assert_not_reached();
}

/* A RAM range the device may legitimately touch (our model of "in RAM"). */
static bool ram_range(uint64_t addr, uint64_t len)
{
    return len && addr + len > addr && addr >= RAM_BASE &&
           addr + len <= RAM_END;
}

static bool addr_ok(uint64_t addr, uint64_t len, uint64_t align)
{
    return !(addr & (align - 1)) && ram_range(addr, len);
}

enum {
    A_ARENA, A_UNALIGNED, A_BAR, A_BELOW_END, A_ABOVE_END, A_ZERO, A_HUGE,
    A_ECAM, NR_ACLASS,
};

/*
 * An address for an operand of @len bytes aligned to @align, from the
 * pool: the arena (mostly valid), its last bytes (straddling the end of
 * RAM), the device's BAR, ECAM and flash below RAM, beyond RAM, huge.
 * Never the allocator area or the sentinel.
 */
static uint64_t pool_addr(Fuzz *f, uint64_t len, uint64_t align)
{
    static const unsigned w[NR_ACLASS] = { 45, 8, 10, 9, 8, 6, 8, 6 };
    uint64_t span, a;

    len = MAX(len, 1);
    switch (pick_weighted(f, w, NR_ACLASS)) {
    case A_ARENA:
        span = DATA_SIZE > len ? DATA_SIZE - len : 1;
        return (DATA_BASE + rnd64(f) % span) & ~(align - 1);
    case A_UNALIGNED:
        a = (DATA_BASE + rnd64(f) % (DATA_SIZE / 2)) & ~(align - 1);
        return a + 1 + rnd(f, MAX(align, 8) - 1);
    case A_BAR:
        return f->bar + (rnd(f, MMN_SMMU_BAR0_SIZE) & ~(align - 1));
    case A_BELOW_END:
        /* exactly fitting, or straddling the end of RAM */
        a = RAM_END - ROUND_UP(len, align) - align * rnd(f, 3);
        return chance(f, 50) ? a : (RAM_END - align * (1 + rnd(f, 2)));
    case A_ABOVE_END:
        return RAM_END + align * rnd(f, 4096);
    case A_ZERO:
        return chance(f, 70) ? 0 : align * rnd(f, 64);
    case A_HUGE: {
        static const uint64_t huge[] = {
            UINT64_MAX, UINT64_MAX - 63, 1ULL << 63, 1ULL << 48,
            (1ULL << 48) - 64, 0xfffffffffffff000ULL, 0x100000000ULL,
            RAM_END + (1ULL << 32), 0x0000800000000000ULL,
            SENT_ALIAS, SENT_ALIAS + (3ULL << 40),
        };
        return huge[rnd(f, ARRAY_SIZE(huge))] & ~(align - 1);
    }
    case A_ECAM:
        return chance(f, 50) ? RAM_BASE - ROUND_UP(len, align) :
               ECAM_BASE + (rnd(f, 0x100000) & ~(align - 1));
    }
    g_assert_not_reached();
}

/* A page-aligned output address for a leaf descriptor (same pool). */
static uint64_t pool_oa(Fuzz *f)
{
    static const unsigned w[] = { 72, 8, 5, 5, 3, 4, 3 };
    static const uint64_t huge[] = {
        0x0000fffffffff000ULL, 0x0000800000000000ULL, 0x100000000ULL,
        RAM_END + (1ULL << 32), SENT_ALIAS,
    };

    switch (pick_weighted(f, w, ARRAY_SIZE(w))) {
    case 0:
        return DATA_BASE + (rnd64(f) % DATA_SIZE & ~(PAGE - 1));
    case 1:
        return f->bar;
    case 2:
        return RAM_END - PAGE;
    case 3:
        return RAM_END + PAGE * rnd(f, 16);
    case 4:
        return 0;
    case 5:
        return RAM_BASE - PAGE * (1 + rnd(f, 16));     /* ECAM */
    case 6:
        return huge[rnd(f, ARRAY_SIZE(huge))];
    }
    g_assert_not_reached();
}

/* A page-aligned address that is not RAM, for a table pointer. */
static uint64_t pool_oa_not_ram(Fuzz *f)
{
    uint64_t a;

    do {
        a = pool_oa(f);
    } while (a >= RAM_BASE && a < RAM_END);
    return a;
}

/* ---------------------------------------------------------------- */
/* QEMU                                                              */

static QPCIAddress mmn_addr = {
    .devfn = QPCI_DEVFN(4, 0),
    .vendor_id = MMN_SMMU_PCI_VENDOR_ID,
    .device_id = MMN_SMMU_PCI_DEVICE_ID,
};

static void fuzz_start(Fuzz *f, const TestCfg *cfg, unsigned idx)
{
    uint64_t seed = fuzz_seed + idx;

    memset(f, 0, sizeof(*f));
    f->cfg = cfg;
    f->rng = g_rand_new_with_seed_array((const guint32[]) {
                                            (guint32)seed,
                                            (guint32)(seed >> 32) },
                                        2);
    f->open = g_array_new(false, false, sizeof(OpenRange));
    alloc_init(&f->alloc, 0, RAM_BASE, SENT_BASE, 4096);
    f->qts = qtest_initf("-M virt -cpu max -m 512M -nic none "
                         "-device mmn-smmu,id=mmn,addr=04.0%s", cfg->props);
    qpci_init_generic(&f->bus, f->qts, &f->alloc, false);
    qpci_device_init(&f->dev.dev, &f->bus.bus, &mmn_addr);
    f->dev.bar = qpci_iomap(&f->dev.dev, 0, NULL);
    qpci_device_enable(&f->dev.dev);
    f->bar = f->dev.bar.addr;
    f->num_ctx = qmmn_readl(&f->dev, A_NUM_CTX);
    g_assert_cmpuint(f->num_ctx, >=, 2);
    g_assert_cmpuint(f->num_ctx, <=, 16);
    g_test_message("%s: seed %" PRIu64 " (MMN_FUZZ_SEED=%" PRIu64
                   "), %u steps, num-ctx %u, BAR 0x%" PRIx64, cfg->name,
                   seed, fuzz_seed, fuzz_iters, f->num_ctx, f->bar);
}

/* Contexts [0, num_ctx / 2) take any binding; the others run the DMAs. */
static bool is_dma_ctx(Fuzz *f, unsigned ctx)
{
    return ctx >= f->num_ctx / 2 && ctx < f->num_ctx;
}

static unsigned fuzz_ctx(Fuzz *f)
{
    return rnd(f, f->num_ctx / 2);
}

/*
 * Sentinel: a different byte per MiB, so that a stray write of any value
 * shows.  Checked through a dump of guest memory (pmemsave) to a file.
 */
static uint8_t sentinel_byte(uint64_t addr)
{
    return 0xa5 ^ (uint8_t)((addr - SENT_BASE) >> 20) ^ 0x3c;
}

static void sentinel_fill(Fuzz *f)
{
    for (uint64_t a = SENT_BASE; a < ARENA_BASE; a += 1ULL << 20) {
        qtest_memset(f->qts, a, sentinel_byte(a), 1ULL << 20);
    }
}

static void sentinel_check(Fuzz *f)
{
    g_autofree char *path = NULL;
    g_autofree uint8_t *mem = NULL;
    gsize len = 0;
    int fd = g_file_open_tmp("mmn-smmu-sentinel-XXXXXX", &path, NULL);
    uint64_t bad = 0, first = 0;

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    qtest_qmp_assert_success(f->qts, "{ 'execute': 'pmemsave', 'arguments': "
                             "{ 'val': %" PRIu64 ", 'size': %" PRIu64 ", "
                             "'filename': %s } }", (uint64_t)SENT_BASE,
                             (uint64_t)SENT_SIZE, path);
    g_assert_true(g_file_get_contents(path, (char **)&mem, &len, NULL));
    unlink(path);
    g_assert_cmpuint(len, ==, SENT_SIZE);
    for (uint64_t i = 0; i < SENT_SIZE; i++) {
        if (mem[i] != sentinel_byte(SENT_BASE + i)) {
            if (!bad++) {
                first = SENT_BASE + i;
            }
        }
    }
    if (bad) {
        g_test_message("sentinel: %" PRIu64 " bytes changed, first at 0x%"
                       PRIx64, bad, first);
    }
    g_assert_cmpuint(bad, ==, 0);
}

static void arena_fill(Fuzz *f)
{
    g_autofree uint8_t *b = g_malloc(1 << 20);

    for (uint64_t a = ARENA_BASE; a < RAM_END; a += 1 << 20) {
        for (size_t i = 0; i < (1 << 20); i += 4) {
            stl_le_p(b + i, g_rand_int(f->rng) & DATA_MASK);
        }
        qtest_bufwrite(f->qts, a, b, 1 << 20);
    }
}

/* The device answers and QEMU lives. */
static void check_alive(Fuzz *f)
{
    g_assert_true(qtest_probe_child(f->qts));
    g_assert_cmphex(qmmn_readl(&f->dev, A_ID), ==, MMN_SMMU_ID_VALUE);
    g_assert_cmphex(qmmn_readl(&f->dev, A_NUM_CTX), ==, f->num_ctx);
}

static void check_running(Fuzz *f)
{
    QDict *rsp = qtest_qmp_assert_success_ref(f->qts,
                     "{ 'execute': 'query-status' }");

    g_assert_cmpstr(qdict_get_try_str(rsp, "status"), ==, "running");
    qobject_unref(rsp);
}

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

static void open_ranges_drop_ctx(Fuzz *f, unsigned ctx)
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
static uint32_t fz_cmd(Fuzz *f, const MmnCmd *c)
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
static void cmd_must(Fuzz *f, const MmnCmd *c)
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

static void rnd_cmd(Fuzz *f, MmnCmd *c)
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

static void drain_events(Fuzz *f)
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

/* ---------------------------------------------------------------- */
/* Page tables and DMA                                               */

static unsigned start_level(unsigned va_bits)
{
    return va_bits > 39 ? 0 : va_bits > 30 ? 1 : 2;
}

static unsigned level_shift(unsigned level)
{
    return 12 + 9 * (3 - level);
}

static uint64_t tbl_page(unsigned ctx, unsigned i)
{
    return TBL_BASE + ((uint64_t)ctx * TBL_PAGES + i) * PAGE;
}

static uint64_t rnd_attrs(Fuzz *f)
{
    uint64_t a = PTE_ATTR_LO & (rnd64(f) | (chance(f, 85) ? 1 << 10 : 0));

    a |= chance(f, 30) ? rnd64(f) & PTE_ATTR_HI : 0;
    if (chance(f, 60)) {
        a |= 1 << 6;        /* AP[1]: EL0 */
    }
    if (chance(f, 50)) {
        a &= ~(1ULL << 7);  /* writable */
    }
    return a;
}

/*
 * A leaf at @level: a 1 GiB or 2 MiB block, or a page.  The output
 * address is not masked to the block size (the walker ignores the low
 * bits), so that the same descriptor read at another level is still safe.
 */
static uint64_t leaf_desc(Fuzz *f, unsigned level)
{
    return PTE_VALID | (level == 3 ? PTE_TABLE : 0) | pool_oa(f) |
           rnd_attrs(f);
}

/* A good leaf: a page of arena data, accessed, EL0 read/write. */
static uint64_t good_page(Fuzz *f)
{
    return PTE_VALID | PTE_TABLE | (1 << 10) | (1 << 6) |
           (DATA_BASE + (rnd64(f) % DATA_SIZE & ~(PAGE - 1)));
}

/*
 * Build a walk for @va on DMA context @ctx, from the root down: tables
 * (fresh pages, loops back to a page of the walk, or not RAM), leaves,
 * invalid and reserved encodings, raw random bits.  Every address in a
 * descriptor is a table page of @ctx or comes from pool_oa(), never
 * masked to the block size: read at any level it stays safe.  A fresh
 * table page is only ever read at its own level or below.
 * @good: a walk that translates (the driver fixing a fault).  Returns
 * false when @ctx has no table page left.
 */
static bool build_walk(Fuzz *f, unsigned ctx, unsigned va_bits, uint64_t va,
                       bool good)
{
    uint64_t table = tbl_page(ctx, 0);
    uint64_t path[4];
    unsigned depth = 0;

    for (unsigned l = start_level(va_bits); l <= 3; l++) {
        uint64_t slot = table + ((va >> level_shift(l)) & 511) * 8;
        unsigned idx = (va >> level_shift(l)) & 511;
        unsigned r = good ? (l < 3 ? 0 : 70) : rnd(f, 100);
        uint64_t desc, next;
        unsigned n = 1;

        path[depth++] = table;
        if (r < 60 && l < 3) {
            unsigned where = good ? 0 : rnd(f, 100);

            if (where < 75) {
                if (f->next_tbl >= TBL_PAGES) {
                    return false;
                }
                next = tbl_page(ctx, f->next_tbl++);
                qtest_memset(f->qts, next, 0, PAGE);
            } else if (where < 87) {
                next = path[rnd(f, depth)];         /* a loop */
            } else {
                next = pool_oa_not_ram(f);
            }
            desc = PTE_VALID | PTE_TABLE | next;
            if (!good && chance(f, 15)) {
                desc |= rnd64(f) & (0x1fULL << 59); /* APTable, XNTable */
            }
            qtest_writeq(f->qts, slot, desc);
            if (where >= 75) {
                return true;
            }
            table = next;
            continue;
        }
        if (r < 85) {
            desc = good ? good_page(f) : leaf_desc(f, l);
            if (l == 3 && !good) {
                n = 1 + rnd(f, 8);
            }
        } else if (r < 90) {
            desc = rnd64(f) & ~PTE_VALID;
        } else if (r < 95) {
            desc = leaf_desc(f, l) & ~PTE_TABLE;    /* reserved at L3 */
        } else {
            desc = (rnd64(f) & ~PTE_OA) | (pool_oa(f) & PTE_OA);
        }
        for (unsigned i = 0; i < n && idx + i < 512; i++) {
            qtest_writeq(f->qts, slot + 8 * i, desc);
            desc = chance(f, 70) ? good_page(f) : leaf_desc(f, l);
        }
        return true;
    }
    return true;
}

static uint64_t rnd_dma_va(Fuzz *f, unsigned va_bits, uint32_t len)
{
    uint64_t va;

    if (chance(f, 4)) {
        /* outside the input range: a translation fault */
        return chance(f, 50) ? (1ULL << va_bits) + rnd(f, 1 << 20) :
                               0xffff000000000000ULL + rnd64(f) % GIB;
    }
    if (va_bits <= 30) {
        /* no level 1: blocks are 2 MiB at most */
        va = rnd64(f) % (1ULL << va_bits);
        return va + len > (1ULL << va_bits) ?
               (1ULL << va_bits) - MIN(len, 1ULL << va_bits) : va;
    }
    va = (rnd64(f) % (1ULL << (va_bits - 30))) << 30;
    return va + VA_OFF_MIN + rnd64(f) % (VA_OFF_MAX - VA_OFF_MIN);
}

static uint32_t rnd_len(Fuzz *f)
{
    switch (rnd(f, 20)) {
    case 0:
        return 0;
    case 1:
        return MMN_DMA_MAX_LEN;
    case 2:
        return MMN_DMA_MAX_LEN + 1 + rnd(f, 4096);
    case 3:
        return g_rand_int(f->rng);
    case 4:
    case 5:
    case 6:
    case 7:
        return 1 + rnd(f, MMN_DMA_MAX_LEN);
    default:
        return 1 + rnd(f, chance(f, 50) ? 64 : 3 * PAGE);
    }
}

static uint32_t dma_state_now(Fuzz *f)
{
    return MMN_DMA_STATUS_STATE(qmmn_readl(&f->dev, A_DMA_STATUS));
}

static bool dma_terminal(uint32_t st)
{
    return st == MMN_DMA_ST_DONE || st == MMN_DMA_ST_FAULT ||
           st == MMN_DMA_ST_LIVELOCK || st == MMN_DMA_ST_ABORTED ||
           st == MMN_DMA_ST_BAD_DESC || st == MMN_DMA_ST_RELEASED;
}

static void unbind_quiet(Fuzz *f, unsigned ctx)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_CTX_UNBIND, ctx);

    fz_cmd(f, &c);
    open_ranges_drop_ctx(f, ctx);
    if (ctx < ARRAY_SIZE(f->dma_cfg)) {
        f->dma_cfg[ctx] = 0;
    }
}

/* End every open range we know of on @ctx (a driver finishing its work). */
static void end_open_ranges(Fuzz *f, unsigned ctx)
{
    g_autoptr(GArray) todo = g_array_copy(f->open);

    for (guint i = 0; i < todo->len; i++) {
        OpenRange *o = &g_array_index(todo, OpenRange, i);
        MmnCmd c = mk_cmd_init(MMN_CMD_MN_RANGE_END, o->ctx);

        if (o->ctx != ctx) {
            continue;
        }
        c.arg = o->arg;
        c.a0 = o->start;
        c.a1 = o->end;
        c.a2 = o->owner;
        fz_cmd(f, &c);
    }
    open_ranges_drop_ctx(f, ctx);
}

/* Bring a parked DMA to an end, whatever it takes (bounded). */
static uint32_t dma_force_end(Fuzz *f)
{
    uint32_t st = dma_state_now(f);
    MmnCmd c;

    if (st == MMN_DMA_ST_STALLED) {
        c = mk_cmd_init(MMN_CMD_DMA_ABORT, 0);
        cmd_must(f, &c);
        f->dma_aborts++;
    } else if (st == MMN_DMA_ST_BLOCKED) {
        /* unbinding the context ends everything; the next kick aborts */
        for (unsigned i = f->num_ctx / 2; i < f->num_ctx; i++) {
            unbind_quiet(f, i);
        }
        c = mk_cmd_init(MMN_CMD_TLBI_ALL, 0);
        cmd_must(f, &c);
        f->dma_unblocks++;
    } else {
        return st;
    }
    f->dma_forced++;
    st = dma_state_now(f);
    if (!f->chaos) {
        g_assert_cmpuint(st, ==, MMN_DMA_ST_ABORTED);
    }
    return st;
}

/* (Re)bind DMA context @ctx on fresh tables; returns the configuration. */
static uint64_t dma_bind(Fuzz *f, unsigned ctx, unsigned *va_bits)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_CTX_BIND, ctx);
    unsigned r = rnd(f, 100);
    uint32_t reason;

    *va_bits = r < 55 ? 39 : r < 85 ? 48 : 25 + rnd(f, 24);
    c.a0 = tbl_page(ctx, 0);
    c.a1 = MMN_CTX_CFG_VA_BITS(*va_bits) |
           MMN_CTX_CFG_OA_BITS(chance(f, 80) ? 48 : 32 + rnd(f, 17)) |
           MMN_CTX_CFG_HTTU(rnd(f, 3)) |
           (chance(f, 50) ? MMN_CTX_CFG_STALL : 0) |
           (chance(f, 60) ? MMN_CTX_CFG_UNPRIV : 0) |
           (chance(f, 30) ? MMN_CTX_CFG_LEGACY_INV : 0);
    c.a2 = rnd(f, 3);
    if (chance(f, 5)) {
        /* a configuration the device must refuse */
        c.a1 = chance(f, 50) ? (c.a1 & ~0xffULL) | (chance(f, 50) ? 24 : 49)
                             : c.a1 | MMN_CTX_CFG_HTTU(3);
    }
    unbind_quiet(f, ctx);
    qtest_memset(f->qts, tbl_page(ctx, 0), 0, TBL_PAGES * PAGE);
    f->next_tbl = 1;
    reason = fz_cmd(f, &c);
    if (!f->chaos) {
        g_assert_true(reason == 0 || reason == MMN_CMDQ_ERR_BAD_CONFIG);
    }
    f->dma_cfg[ctx] = reason ? 0 : c.a1;
    return f->dma_cfg[ctx];
}

static void rnd_desc(Fuzz *f, unsigned ctx, unsigned va_bits, MmnDmaDesc *d)
{
    uint32_t len = rnd_len(f);
    unsigned op = chance(f, 95) ? 1 + rnd(f, 3) : rnd(f, 256);
    uint64_t va = rnd_dma_va(f, va_bits, MIN(len, 2 * MMN_DMA_MAX_LEN));

    *d = mk_dma_desc(op, ctx, va, len, 0, g_rand_int(f->rng) & DATA_MASK);
    if (op != MMN_DMA_OP_FILL || chance(f, 10)) {
        uint64_t n = MIN(len, MMN_DMA_MAX_LEN);

        d->buf = chance(f, 25) ? pool_addr(f, n, 1) :
                 DATA_BASE + rnd64(f) % (DATA_SIZE - n);
    }
    if (chance(f, 5)) {
        d->ctx = chance(f, 50) ? f->num_ctx + rnd(f, 8) : 0xffff;
    }
    if (chance(f, 5)) {
        d->reserved0 = g_rand_int(f->rng);
        d->reserved1 = g_rand_int(f->rng);
    }
}

/* What the spec says about a descriptor before any translation. */
static bool desc_bad(Fuzz *f, const MmnDmaDesc *d)
{
    return d->op < MMN_DMA_OP_READ || d->op > MMN_DMA_OP_FILL ||
           d->len == 0 || d->len > MMN_DMA_MAX_LEN ||
           d->va + d->len < d->va || d->ctx >= f->num_ctx ||
           (d->op == MMN_DMA_OP_FILL ? d->buf != 0 :
            !ram_range(d->buf, d->len));
}

/* Check a status word and the descriptor written back with it. */
static void dma_check(Fuzz *f, const MmnDmaDesc *d, uint64_t cfg)
{
    uint32_t st = qmmn_readl(&f->dev, A_DMA_STATUS);
    uint32_t state = MMN_DMA_STATUS_STATE(st);
    uint32_t status = qmmn_readl(&f->dev, A_STATUS);
    MmnDmaDesc out;

    g_assert_cmpuint(state, <=, MMN_DMA_ST_BLOCKED);
    if (f->chaos) {
        return;         /* the doorbell may have been ignored */
    }
    g_assert_cmpuint(state, >=, MMN_DMA_ST_DONE);
    g_assert_cmpuint(MMN_DMA_STATUS_KIND(st), <=, 6);
    g_assert_cmpuint(MMN_DMA_STATUS_LEVEL(st), <=, 3);
    g_assert_cmpuint(!!(status & R_STATUS_DMA_STALLED_MASK), ==,
                     state == MMN_DMA_ST_STALLED);
    g_assert_cmpuint(!!(status & R_STATUS_DMA_BUSY_MASK), ==,
                     state == MMN_DMA_ST_STALLED ||
                     state == MMN_DMA_ST_BLOCKED);
    mk_dma_read_desc(f->k, &out);
    if (desc_bad(f, d)) {
        g_assert_cmpuint(state, ==, MMN_DMA_ST_BAD_DESC);
        f->oracle_hits++;
    }
    if (state == MMN_DMA_ST_BAD_DESC && !desc_bad(f, d)) {
        /* only an unbound context is left */
        g_assert_cmpuint(cfg, ==, 0);
    }
    g_assert_cmphex(out.status, ==, st);
    g_assert_cmpuint(out.done, <=, d->len);
    if (state == MMN_DMA_ST_DONE) {
        g_assert_cmpuint(out.done, ==, d->len);
        g_assert_false(desc_bad(f, d));
    }
    if (state == MMN_DMA_ST_STALLED) {
        g_assert_true(cfg & MMN_CTX_CFG_STALL);
    }
    if (state == MMN_DMA_ST_FAULT) {
        g_assert_false(cfg & MMN_CTX_CFG_STALL);
    }
}

static void rnd_cmd_send(Fuzz *f);

/*
 * One random DMA on a DMA context: fresh tables with a random walk, a
 * random binding, maybe an open range or a release first, then resume /
 * abort / fix / unblock until it ends (at most MAX_DMA_ROUNDS rounds).
 */
static void rnd_dma(Fuzz *f)
{
    unsigned ctx = f->num_ctx / 2 + rnd(f, f->num_ctx - f->num_ctx / 2);
    unsigned va_bits, rounds = 0;
    uint64_t cfg;
    MmnDmaDesc d;
    uint32_t state;
    MmnCmd c;

    dma_force_end(f);
    cfg = dma_bind(f, ctx, &va_bits);
    rnd_desc(f, ctx, va_bits, &d);
    build_walk(f, ctx, va_bits, d.va, false);
    if (chance(f, 20)) {
        /* a second walk in the same tables, maybe the next page */
        build_walk(f, ctx, va_bits, d.va + PAGE * rnd(f, 3), false);
    }
    if (cfg && chance(f, 8)) {
        c = mk_cmd_init(MMN_CMD_MN_RANGE_START, ctx);
        c.arg = rnd(f, 9) | (chance(f, 70) ? MMN_CMD_RANGE_BLOCKABLE : 0);
        c.a0 = d.va & ~(PAGE - 1);
        c.a1 = c.a0 + PAGE * (1 + rnd(f, 4));
        c.a3 = f->k->res;
        fz_cmd(f, &c);
    } else if (cfg && chance(f, 4)) {
        c = mk_cmd_init(MMN_CMD_MN_RELEASE, ctx);
        fz_cmd(f, &c);
    }

    mk_dma_submit(f->k, &d, NULL);
    dma_check(f, &d, cfg);
    state = dma_state_now(f);
    while (!dma_terminal(state)) {
        if (++rounds > MAX_DMA_ROUNDS) {
            /* the forced end below always works on a sane device */
            g_assert_true(f->chaos);
            break;
        }
        if (state == MMN_DMA_ST_STALLED) {
            unsigned r = rnd(f, 100);

            f->dma_stalls++;
            drain_events(f);
            if (rounds == MAX_DMA_ROUNDS || r < 15) {
                c = mk_cmd_init(MMN_CMD_DMA_ABORT, 0);
                cmd_must(f, &c);
                f->dma_aborts++;
            } else if (r < 35) {
                /* the driver fixes the tables and invalidates */
                uint64_t fva = qmmn_readl(&f->dev, A_DMA_FAULT_VA_LO) |
                    (uint64_t)qmmn_readl(&f->dev, A_DMA_FAULT_VA_HI) << 32;

                if (build_walk(f, ctx, va_bits, fva, true)) {
                    c = mk_cmd_init(MMN_CMD_TLBI_PAGE, ctx);
                    c.a0 = fva;
                    fz_cmd(f, &c);
                    c = mk_cmd_init(MMN_CMD_DMA_RESUME, 0);
                    fz_cmd(f, &c);
                    f->dma_fixes++;
                } else {
                    c = mk_cmd_init(MMN_CMD_DMA_ABORT, 0);
                    cmd_must(f, &c);
                    f->dma_aborts++;
                }
            } else if (r < 45) {
                rnd_cmd_send(f);        /* anything, while stalled */
            } else {
                c = mk_cmd_init(MMN_CMD_DMA_RESUME, 0);
                cmd_must(f, &c);
                f->dma_resumes++;
            }
        } else if (state == MMN_DMA_ST_BLOCKED) {
            if (rounds < MAX_DMA_ROUNDS && chance(f, 70)) {
                end_open_ranges(f, ctx);
                f->dma_unblocks++;
            } else {
                dma_force_end(f);
            }
        } else {
            /* IDLE: the doorbell was ignored (DMA_EN scrambled) */
            g_assert_true(f->chaos);
            break;
        }
        if (!f->chaos && dma_state_now(f) != MMN_DMA_ST_IDLE) {
            dma_check(f, &d, f->dma_cfg[ctx]);
        }
        state = dma_state_now(f);
        if (rounds >= MAX_DMA_ROUNDS) {
            state = dma_force_end(f);
        }
    }
    f->dma_state[state]++;
    drain_events(f);
    qmmn_writel(&f->dev, A_IRQ_STATUS, R_IRQ_STATUS_DMA_DONE_MASK);
}

static void rnd_cmd_send(Fuzz *f)
{
    MmnCmd c;

    rnd_cmd(f, &c);
    fz_cmd(f, &c);
    if (c.opcode == MMN_CMD_DMA_RESUME || c.opcode == MMN_CMD_MN_RANGE_END ||
        c.opcode == MMN_CMD_CTX_UNBIND || c.opcode == MMN_CMD_MN_RELEASE) {
        drain_events(f);
    }
}

/* ---------------------------------------------------------------- */
/* MMIO                                                              */

static bool reg_defined(uint32_t off)
{
    static const uint32_t regs[] = {
        A_ID, A_VERSION, A_FEATURES, A_NUM_CTX, A_IOTLB_CAP, A_QUEUE_CAPS,
        A_CTRL, A_STATUS, A_IRQ_STATUS, A_IRQ_ENABLE, A_CMDQ_BASE_LO,
        A_CMDQ_BASE_HI, A_CMDQ_PROD, A_CMDQ_CONS, A_CMDQ_ERR, A_CMDQ_ERR_ACK,
        A_EVTQ_BASE_LO, A_EVTQ_BASE_HI, A_EVTQ_PROD, A_EVTQ_CONS,
        A_EVTQ_LOST, A_DMA_DESC_LO, A_DMA_DESC_HI, A_DMA_DOORBELL,
        A_DMA_STATUS, A_DMA_FAULT_VA_LO, A_DMA_FAULT_VA_HI,
    };

    for (size_t i = 0; i < ARRAY_SIZE(regs); i++) {
        if (regs[i] == off) {
            return true;
        }
    }
    return false;
}

/* Registers a benign write must leave alone. */
static const uint32_t kept_regs[] = {
    A_ID, A_VERSION, A_FEATURES, A_NUM_CTX, A_IOTLB_CAP, A_QUEUE_CAPS,
    A_CTRL, A_STATUS, A_CMDQ_BASE_LO, A_CMDQ_BASE_HI, A_CMDQ_PROD,
    A_CMDQ_CONS, A_CMDQ_ERR, A_EVTQ_BASE_LO, A_EVTQ_BASE_HI, A_EVTQ_PROD,
    A_EVTQ_CONS, A_EVTQ_LOST, A_DMA_STATUS, A_DMA_FAULT_VA_LO,
    A_DMA_FAULT_VA_HI,
};

/*
 * A write the driver could make at any time without changing the
 * device's state: undefined and read-only offsets, the bases while the
 * queues are enabled, interrupt registers, a doorbell with bit 0 clear.
 */
static void rnd_mmio_benign(Fuzz *f)
{
    static const uint32_t ro_or_locked[] = {
        A_ID, A_VERSION, A_FEATURES, A_NUM_CTX, A_IOTLB_CAP, A_QUEUE_CAPS,
        A_STATUS, A_CMDQ_CONS, A_CMDQ_ERR, A_EVTQ_PROD, A_EVTQ_LOST,
        A_DMA_STATUS, A_DMA_FAULT_VA_LO, A_DMA_FAULT_VA_HI, A_CMDQ_BASE_LO,
        A_CMDQ_BASE_HI, A_EVTQ_BASE_LO, A_EVTQ_BASE_HI,
    };
    uint32_t before[ARRAY_SIZE(kept_regs)];
    uint32_t off, val = g_rand_int(f->rng);
    bool verify = chance(f, 30);

    switch (rnd(f, 6)) {
    case 0:
    case 1:
        do {
            off = rnd(f, MMN_SMMU_BAR0_SIZE / 4) * 4;
        } while (reg_defined(off));
        break;
    case 2:
        off = ro_or_locked[rnd(f, ARRAY_SIZE(ro_or_locked))];
        break;
    case 3:
        off = chance(f, 50) ? A_IRQ_ENABLE : A_IRQ_STATUS;
        break;
    case 4:
        off = chance(f, 50) ? A_DMA_DOORBELL : A_CMDQ_ERR_ACK;
        val &= ~1u;
        break;
    default:
        off = chance(f, 50) ? A_DMA_DESC_LO : A_DMA_DESC_HI;
        break;
    }
    if (verify) {
        for (size_t i = 0; i < ARRAY_SIZE(kept_regs); i++) {
            before[i] = qmmn_readl(&f->dev, kept_regs[i]);
        }
    }
    qmmn_writel(&f->dev, off, val);
    f->mmio_benign++;
    if (!reg_defined(off)) {
        g_assert_cmphex(qmmn_readl(&f->dev, off), ==, 0);
    }
    if (verify) {
        for (size_t i = 0; i < ARRAY_SIZE(kept_regs); i++) {
            uint32_t now = qmmn_readl(&f->dev, kept_regs[i]);

            if (now != before[i]) {
                g_test_message("write 0x%x to 0x%03x changed 0x%03x: 0x%x "
                               "-> 0x%x", val, off, kept_regs[i],
                               before[i], now);
            }
            g_assert_cmphex(now, ==, before[i]);
        }
    }
}

/*
 * Anything at any offset.  Address registers get halves of pool
 * addresses (else a random base could point into the sentinel, which the
 * device may then legitimately write).
 */
static void rnd_mmio_chaos(Fuzz *f)
{
    uint32_t off = rnd(f, MMN_SMMU_BAR0_SIZE / 4) * 4;
    uint32_t val = g_rand_int(f->rng);
    uint64_t a;

    if (chance(f, 50)) {
        static const uint32_t hot[] = {
            A_CTRL, A_CMDQ_BASE_LO, A_CMDQ_BASE_HI, A_CMDQ_PROD,
            A_CMDQ_ERR_ACK, A_EVTQ_BASE_LO, A_EVTQ_BASE_HI, A_EVTQ_CONS,
            A_DMA_DESC_LO, A_DMA_DESC_HI, A_DMA_DOORBELL, A_IRQ_ENABLE,
        };
        off = hot[rnd(f, ARRAY_SIZE(hot))];
    }
    switch (off) {
    case A_CMDQ_BASE_LO:
    case A_CMDQ_BASE_HI:
    case A_EVTQ_BASE_LO:
    case A_EVTQ_BASE_HI:
    case A_DMA_DESC_LO:
    case A_DMA_DESC_HI:
        do {
            a = pool_addr(f, PAGE, off == A_DMA_DESC_LO && chance(f, 80) ?
                          64 : 1);
            /* either half may pair with the other register's old half */
        } while ((uint32_t)a >= RAM_BASE && (uint32_t)a < ARENA_BASE);
        if (a >> 32 && a >> 32 != UINT32_MAX && chance(f, 50)) {
            a = (uint32_t)a;    /* keep the low half in RAM or MMIO */
        }
        val = (off & 4) ? a >> 32 : (uint32_t)a;
        if (off == A_CMDQ_BASE_LO || off == A_EVTQ_BASE_LO) {
            val = (val & ~0x1fu) | rnd(f, 32);
        }
        break;
    case A_CTRL:
        val = chance(f, 70) ? rnd(f, 8) : val;
        break;
    case A_CMDQ_PROD:
    case A_EVTQ_CONS:
        val = chance(f, 70) ? rnd(f, 64) : val;
        break;
    }
    qmmn_writel(&f->dev, off, val);
    f->mmio_chaos++;
}

/* ---------------------------------------------------------------- */
/* Known state                                                       */

/* Bind the contexts the command fuzzer plays with. */
static void bind_fuzz_ctxs(Fuzz *f)
{
    for (unsigned i = 0; i < f->num_ctx / 2; i++) {
        MmnCmd c = mk_cmd_init(MMN_CMD_CTX_BIND, i);

        c.a0 = DATA_BASE + (rnd64(f) % DATA_SIZE & ~(PAGE - 1));
        c.a1 = MMN_CTX_CFG_VA_BITS(chance(f, 50) ? 39 : 48) |
               MMN_CTX_CFG_OA_BITS(48) | MMN_CTX_CFG_HTTU(rnd(f, 3)) |
               (chance(f, 50) ? MMN_CTX_CFG_LEGACY_INV : 0);
        c.a2 = rnd(f, 3);
        cmd_must(f, &c);
    }
}

static void kernel_new(Fuzz *f)
{
    f->k = mk_new(&f->dev, &f->alloc, 2 + rnd(f, 5), 1 + rnd(f, 4));
    g_array_set_size(f->open, 0);
    memset(f->dma_cfg, 0, sizeof(f->dma_cfg));
    f->bound = 0;
    f->chaos = false;
    bind_fuzz_ctxs(f);
}

/* system_reset: every register back to its reset value. */
static void reestablish_reset(Fuzz *f)
{
    uint64_t bar = f->bar;

    qtest_system_reset(f->qts);
    qpci_config_writel(&f->dev.dev, PCI_BASE_ADDRESS_0, bar);
    qpci_device_enable(&f->dev.dev);
    mk_assert_reset_state(&f->dev);
    mk_free(f->k);
    kernel_new(f);
    f->resets++;
}

/*
 * A driver re-initialising a device in an unknown state, without reset:
 * queues off, error acknowledged, indexes resynchronised, queues on,
 * DMA ended, every context unbound.
 */
static void reestablish_reinit(Fuzz *f)
{
    MmnKernel *k = f->k;
    uint32_t prod;

    qmmn_writel(&f->dev, A_CTRL, 0);
    g_assert_cmphex(qmmn_readl(&f->dev, A_STATUS) & 7, ==, 0);
    qmmn_writel(&f->dev, A_IRQ_ENABLE, 0);
    if (FIELD_EX32(qmmn_readl(&f->dev, A_CMDQ_ERR), CMDQ_ERR, VALID)) {
        qmmn_writel(&f->dev, A_CMDQ_ERR_ACK, 1);
    }
    g_assert_cmphex(qmmn_readl(&f->dev, A_CMDQ_ERR), ==, 0);
    qmmn_writel(&f->dev, A_CMDQ_BASE_LO, (uint32_t)k->cmdq | k->cmdq_log2);
    qmmn_writel(&f->dev, A_CMDQ_BASE_HI, k->cmdq >> 32);
    qmmn_writel(&f->dev, A_EVTQ_BASE_LO, (uint32_t)k->evtq | k->evtq_log2);
    qmmn_writel(&f->dev, A_EVTQ_BASE_HI, k->evtq >> 32);
    /* empty both rings: indexes are [LOG2SIZE:0] of the new size */
    k->cmdq_prod = qmmn_readl(&f->dev, A_CMDQ_CONS);
    g_assert_cmphex(k->cmdq_prod, <=, mk_qmask(k->cmdq_log2));
    qmmn_writel(&f->dev, A_CMDQ_PROD, k->cmdq_prod);
    g_assert_cmphex(qmmn_readl(&f->dev, A_CMDQ_PROD), ==, k->cmdq_prod);
    prod = qmmn_readl(&f->dev, A_EVTQ_PROD);
    g_assert_cmphex(prod, <=, mk_qmask(k->evtq_log2));
    k->evtq_cons = prod;
    qmmn_writel(&f->dev, A_EVTQ_CONS, prod);
    g_assert_cmphex(qmmn_readl(&f->dev, A_EVTQ_CONS), ==, prod);
    qmmn_writel(&f->dev, A_IRQ_STATUS, 0x1f);
    qmmn_writel(&f->dev, A_CTRL, R_CTRL_CMDQ_EN_MASK | R_CTRL_EVTQ_EN_MASK |
                R_CTRL_DMA_EN_MASK);
    g_assert_cmphex(qmmn_readl(&f->dev, A_STATUS) & 7, ==, 7);
    f->chaos = false;
    dma_force_end(f);
    for (unsigned i = 0; i < f->num_ctx; i++) {
        unbind_quiet(f, i);
    }
    g_assert_cmpuint(qmmn_readl(&f->dev, A_STATUS), ==, 7);
    g_array_set_size(f->open, 0);
    f->bound = 0;
    bind_fuzz_ctxs(f);
    f->reinits++;
}

/* A command and a DMA by the book still work. */
static void known_good(Fuzz *f)
{
    MmnKernel *k = f->k;
    uint64_t va = 0x2000000000ULL + 0x300000;
    uint64_t buf = mk_alloc(k, 3 * PAGE, PAGE);
    g_autofree uint8_t *got = g_malloc(2 * PAGE);
    g_autofree uint8_t *want = g_malloc(2 * PAGE);
    MmnCheckReport rep;
    MmnDmaDesc d, out;
    unsigned ctx = f->num_ctx - 1;
    MkMm *mm;
    uint32_t st;

    drain_events(f);
    mk_sync(k);
    unbind_quiet(f, ctx);
    mm = mk_mm_new(k, MK_LINUX_6_6, ctx, 39, 0);
    mk_mmap_populate(mm, va, 2 * PAGE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    d = mk_dma_desc(MMN_DMA_OP_READ, ctx, va + 0x10, 2 * PAGE - 0x20, buf,
                    0);
    st = mk_dma_submit(k, &d, &out);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(out.done, ==, d.len);
    qtest_memread(f->qts, buf, got, d.len);
    mk_cpu_read(mm, va + 0x10, want, d.len);
    g_assert_cmpmem(got, d.len, want, d.len);

    d = mk_dma_desc(MMN_DMA_OP_FILL, ctx, va + 4, 0x100, 0, 0x12345678);
    st = mk_dma_submit(k, &d, NULL);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    mk_cpu_read(mm, va + 4, got, 4);
    g_assert_cmphex(ldl_le_p(got), ==, 0x12345678);

    mk_check(k, ctx, &rep);
    g_assert_cmpuint(rep.stale, ==, 0);
    mk_mm_free(mm);
    g_assert_cmpuint(mk_evt_drain(k), ==, 0);
    f->known_good++;
}

/* ---------------------------------------------------------------- */
/* The tests                                                         */

static void fuzz_report(Fuzz *f)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "%s: %u steps; commands: %u ok", f->cfg->name,
                           f->steps, f->cmd_ok);
    for (unsigned i = 1; i < ARRAY_SIZE(reason_names); i++) {
        g_string_append_printf(s, ", %s %u", reason_names[i], f->cmd_err[i]);
    }
    g_test_message("%s", s->str);
    g_string_truncate(s, 0);
    g_string_append_printf(s, "%s: DMA:", f->cfg->name);
    for (unsigned i = 1; i < ARRAY_SIZE(f->dma_state); i++) {
        g_string_append_printf(s, " %s %u", mk_dma_state_name(i),
                               f->dma_state[i]);
    }
    g_string_append_printf(s, "; stalls %u, resumes %u, fixes %u, aborts "
                           "%u, unblocks %u, forced ends %u", f->dma_stalls,
                           f->dma_resumes, f->dma_fixes, f->dma_aborts,
                           f->dma_unblocks, f->dma_forced);
    g_test_message("%s", s->str);
    g_test_message("%s: events %u; MMIO writes: benign %u, chaos %u; "
                   "resets %u, re-inits %u, known-good checks %u; exactly "
                   "predicted outcomes %u", f->cfg->name, f->events,
                   f->mmio_benign, f->mmio_chaos, f->resets, f->reinits,
                   f->known_good, f->oracle_hits);
    g_string_free(s, true);
}

static void fuzz_run(gconstpointer data)
{
    const TestCfg *cfg = data;
    Fuzz *f = g_new0(Fuzz, 1);
    gint64 t0 = g_get_monotonic_time();
    unsigned since_round = 0, chaos_left = 0;

    fuzz_start(f, cfg, cfg->idx);
    sentinel_fill(f);
    arena_fill(f);
    mk_assert_reset_state(&f->dev);
    kernel_new(f);
    known_good(f);

    for (f->steps = 0; f->steps < fuzz_iters; f->steps++) {
        unsigned act = pick_weighted(f, cfg->weight, NR_ACTS);

        switch (act) {
        case ACT_CMD:
            rnd_cmd_send(f);
            break;
        case ACT_DMA:
            rnd_dma(f);
            break;
        case ACT_MMIO:
            if (f->chaos) {
                rnd_mmio_chaos(f);
            } else {
                rnd_mmio_benign(f);
            }
            break;
        case ACT_CHAOS:
            if (!f->chaos) {
                f->chaos = true;
                chaos_left = 1 + rnd(f, CHAOS_STEPS);
            }
            rnd_mmio_chaos(f);
            break;
        }
        if (f->steps % ID_EVERY == 0) {
            check_alive(f);
        }
        if ((f->chaos && !--chaos_left) ||
            (cfg->round && ++since_round >= cfg->round)) {
            /* back to a known state: by reset, or as a driver would */
            since_round = 0;
            check_alive(f);
            if (f->chaos || chance(f, 50)) {
                if (chance(f, 50)) {
                    reestablish_reset(f);
                } else {
                    reestablish_reinit(f);
                }
            }
            known_good(f);
        }
    }

    check_alive(f);
    reestablish_reinit(f);
    known_good(f);
    reestablish_reset(f);
    known_good(f);
    sentinel_check(f);
    check_running(f);
    fuzz_report(f);
    g_test_message("%s: %.1f s", cfg->name,
                   (g_get_monotonic_time() - t0) / 1e6);

    mk_free(f->k);
    qtest_quit(f->qts);
    alloc_destroy(&f->alloc);
    g_array_free(f->open, true);
    g_rand_free(f->rng);
    g_free(f);
}

static const TestCfg tests[] = {
    {
        .idx = 0, .name = "commands", .props = "",
        .weight = { [ACT_CMD] = 90, [ACT_MMIO] = 10 },
        .round = 400,
    }, {
        .idx = 1, .name = "dma",
        .props = ",livelock-threshold=4,iotlb-capacity=16",
        .weight = { [ACT_CMD] = 15, [ACT_DMA] = 80, [ACT_MMIO] = 5 },
        .round = 300,
    }, {
        .idx = 2, .name = "mmio", .props = ",num-ctx=4",
        .weight = { [ACT_CMD] = 30, [ACT_DMA] = 20, [ACT_MMIO] = 40,
                    [ACT_CHAOS] = 10 },
        .round = 100,
    }, {
        .idx = 3, .name = "mixed", .props = ",num-ctx=16,iotlb-capacity=64",
        .weight = { [ACT_CMD] = 50, [ACT_DMA] = 35, [ACT_MMIO] = 13,
                    [ACT_CHAOS] = 2 },
        .round = 150,
    },
};

int main(int argc, char **argv)
{
    const char *seed = g_getenv("MMN_FUZZ_SEED");
    const char *iters = g_getenv("MMN_FUZZ_ITERS");
    uint64_t v;

    g_test_init(&argc, &argv, NULL);
    fuzz_seed = DEFAULT_SEED;
    fuzz_iters = DEFAULT_ITERS;
    if (seed && *seed) {
        g_assert_cmpint(qemu_strtou64(seed, NULL, 0, &v), ==, 0);
        fuzz_seed = v;
    }
    if (iters && *iters) {
        g_assert_cmpint(qemu_strtou64(iters, NULL, 0, &v), ==, 0);
        g_assert_cmpuint(v, <=, UINT_MAX);
        fuzz_iters = v;
    }
    g_test_message("seed %" PRIu64 " (set MMN_FUZZ_SEED to change), %u "
                   "steps per test (MMN_FUZZ_ITERS)", fuzz_seed, fuzz_iters);
    for (size_t i = 0; i < ARRAY_SIZE(tests); i++) {
        g_autofree char *path = g_strdup_printf("/mmn-smmu/robustness/%s",
                                                tests[i].name);

        qtest_add_data_func(path, &tests[i], fuzz_run);
    }
    return g_test_run();
}
