/*
 * mmn-kernel-driver: the device-driver half of the qtest library that
 * plays the guest kernel for mmn-smmu: command queue, event queue, DMA
 * descriptors, CHECK reports (docs/specs/mmn-smmu.rst).  mmn-kernel.h adds
 * the mm model on top of it.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_LIBQOS_MMN_KERNEL_DRIVER_H
#define TESTS_LIBQOS_MMN_KERNEL_DRIVER_H

#include "libqos-malloc.h"
#include "mmn-smmu.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"

typedef struct MmnKernel {
    QMmnSmmu *dev;
    QTestState *qts;
    QGuestAllocator *alloc;
    uint64_t cmdq, evtq;            /* ring bases */
    unsigned cmdq_log2, evtq_log2;
    uint32_t cmdq_prod;             /* with wrap bit */
    uint32_t evtq_cons;
    uint64_t desc;                  /* 64-byte DMA descriptor slot */
    uint64_t res;                   /* result word of the last command */
    uint64_t report;                /* 256-byte CHECK report */
    uint64_t zero_page;             /* Linux's ZERO_PAGE, for the mm model */
    GSList *allocs;                 /* guest_alloc'ed blocks to free */
    uint64_t nr_cmds;               /* commands accepted */
} MmnKernel;

/* Every guest-visible state register (all read 0 after reset). */
typedef struct MkReg {
    uint32_t off;
    const char *name;
} MkReg;
#define MK_NR_STATE_REGS 19
extern const MkReg mk_state_regs[MK_NR_STATE_REGS];

/* Assert that every register has its reset value. */
void mk_assert_reset_state(QMmnSmmu *dev);

/*
 * Allocate both rings in guest RAM, program and enable CMDQ, EVTQ and the
 * DMA engine.  log2 sizes as in CMDQ_BASE_LO / EVTQ_BASE_LO.
 */
MmnKernel *mk_new(QMmnSmmu *dev, QGuestAllocator *alloc,
                  unsigned cmdq_log2, unsigned evtq_log2);
void mk_free(MmnKernel *k);
/*
 * Re-point @k at another view of the same device, @dev, typically the one
 * on the destination QEMU of a migration (its QTestState is the one of
 * @dev's bus).  Writes nothing: the rings, their indexes, the descriptor
 * slot and the guest allocations carry over with guest RAM and the device
 * state, and @k's allocator stays valid because guest-physical addresses
 * do.  Asserts that the device's queue registers agree with @k's view.
 * MkMm objects built on @k follow it.
 */
void mk_attach(MmnKernel *k, QMmnSmmu *dev);

/* Zeroed guest memory aligned to @align (a power of two). */
uint64_t mk_alloc(MmnKernel *k, uint64_t size, uint64_t align);

uint32_t mk_readl(MmnKernel *k, uint32_t off);
void mk_writel(MmnKernel *k, uint32_t off, uint32_t val);
/* Guest-physical address of the device's BAR0 (for "DMA at MMIO" tests). */
uint64_t mk_bar_addr(MmnKernel *k);

/* Commands */
MmnCmd mk_cmd_init(uint8_t opcode, uint16_t ctx);
/* The 64-byte little-endian encoding of @c (MMN_CMD_SIZE bytes at @b). */
void mk_cmd_encode(const MmnCmd *c, uint8_t *b);
/* Index mask of a ring of 2^log2 entries: index bits plus the wrap bit. */
uint32_t mk_qmask(unsigned log2);
/* Write @c at PROD and ring the doorbell; checks nothing. */
void mk_cmd_post(MmnKernel *k, const MmnCmd *c);
/*
 * Write @c at PROD and bump PROD.  Returns 0 when the device consumed it
 * (CONS == PROD, no CMDQ_ERR), else the CMDQ_ERR reason, with the error
 * left pending (see mk_cmdq_ack).
 */
uint32_t mk_cmd_try(MmnKernel *k, const MmnCmd *c);
/* mk_cmd_try that must succeed. */
void mk_cmd(MmnKernel *k, const MmnCmd *c);
/*
 * mk_cmd_try that must fail with @reason: checks CMDQ_ERR (index too),
 * STATUS.CMDQ_STOPPED and IRQ_STATUS.CMDQ_ERR, then acknowledges and
 * checks that the queue runs again (a SYNC goes through).
 */
void mk_cmd_expect_err(MmnKernel *k, const MmnCmd *c, uint32_t reason);
/*
 * Move CMDQ to @base (the device reads there; the driver writes commands
 * at @drv_base, e.g. the same, or scratch RAM when @base is not RAM) or
 * EVTQ to @base: disable, program, resynchronise PROD/CONS from the
 * registers, enable.
 */
void mk_cmdq_set_base(MmnKernel *k, uint64_t base, uint64_t drv_base);
void mk_evtq_set_base(MmnKernel *k, uint64_t base);
/* Acknowledge a pending error: CONS moves on, queue restarts. */
void mk_cmdq_ack(MmnKernel *k);
/* SYNC with WRITE of a fresh cookie; asserts the cookie landed. */
void mk_sync(MmnKernel *k);

void mk_bind(MmnKernel *k, uint16_t ctx, uint64_t ttb, uint64_t cfg);
void mk_unbind(MmnKernel *k, uint16_t ctx);
/* Sends a command with a result address (a3 = k->res); returns the word. */
uint32_t mk_cmd_res(MmnKernel *k, MmnCmd *c);

/* Events */
/* Pop one event record; false when EVTQ is empty. */
bool mk_evt_pop(MmnKernel *k, MmnEvt *e);
/* Number of records waiting. */
unsigned mk_evt_pending(MmnKernel *k);
/* Drop all pending records; returns how many. */
unsigned mk_evt_drain(MmnKernel *k);

/* DMA: write @d at k->desc, ring; returns DMA_STATUS; *out = descriptor. */
uint32_t mk_dma_submit(MmnKernel *k, const MmnDmaDesc *d, MmnDmaDesc *out);
/* Re-read the descriptor written back at k->desc. */
void mk_dma_read_desc(MmnKernel *k, MmnDmaDesc *out);
MmnDmaDesc mk_dma_desc(uint8_t op, uint16_t ctx, uint64_t va, uint32_t len,
                       uint64_t buf, uint32_t pattern);

/* CHECK for @ctx (or MMN_CMD_CTX_ALL) into *r. */
void mk_check(MmnKernel *k, uint16_t ctx, MmnCheckReport *r);
/* Human-readable one-liner of a report (g_free it). */
char *mk_check_str(const MmnCheckReport *r);
/* Name of an MMN_DMA_ST_* state ("LIVELOCK"...). */
const char *mk_dma_state_name(uint32_t state);

#endif
