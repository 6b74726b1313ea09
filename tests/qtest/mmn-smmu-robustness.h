/*
 * mmn-smmu robustness qtest: what its parts share.  The random helpers,
 * address pools and QEMU set-up (mmn-smmu-robustness-env.c), the command
 * generator and oracle (mmn-smmu-robustness-oracle.c) and the page-table
 * builder (mmn-smmu-robustness-tables.c) serve the test body,
 * mmn-smmu-robustness-test.c, whose top comment describes the layout of
 * guest RAM used below.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MMN_SMMU_ROBUSTNESS_H
#define MMN_SMMU_ROBUSTNESS_H

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

/* MMN_FUZZ_SEED and MMN_FUZZ_ITERS, set by main(). */
extern uint64_t fuzz_seed;
extern unsigned fuzz_iters;

/* random helpers, address pools, QEMU (mmn-smmu-robustness-env.c) */
uint32_t rnd(Fuzz *f, uint32_t n);
bool chance(Fuzz *f, unsigned percent);
uint64_t rnd64(Fuzz *f);
unsigned pick_weighted(Fuzz *f, const unsigned *w, unsigned n);
bool ram_range(uint64_t addr, uint64_t len);
bool addr_ok(uint64_t addr, uint64_t len, uint64_t align);
uint64_t pool_addr(Fuzz *f, uint64_t len, uint64_t align);
uint64_t pool_oa(Fuzz *f);
uint64_t pool_oa_not_ram(Fuzz *f);
void fuzz_start(Fuzz *f, const TestCfg *cfg, unsigned idx);
bool is_dma_ctx(Fuzz *f, unsigned ctx);
unsigned fuzz_ctx(Fuzz *f);
void sentinel_fill(Fuzz *f);
void sentinel_check(Fuzz *f);
void arena_fill(Fuzz *f);
void check_alive(Fuzz *f);
void check_running(Fuzz *f);

/* commands and events (mmn-smmu-robustness-oracle.c) */
void open_ranges_drop_ctx(Fuzz *f, unsigned ctx);
uint32_t fz_cmd(Fuzz *f, const MmnCmd *c);
void cmd_must(Fuzz *f, const MmnCmd *c);
void rnd_cmd(Fuzz *f, MmnCmd *c);
void drain_events(Fuzz *f);

/* page tables (mmn-smmu-robustness-tables.c) */
uint64_t tbl_page(unsigned ctx, unsigned i);
bool build_walk(Fuzz *f, unsigned ctx, unsigned va_bits, uint64_t va,
                bool good);
uint64_t rnd_dma_va(Fuzz *f, unsigned va_bits, uint32_t len);
uint32_t rnd_len(Fuzz *f);

#endif
