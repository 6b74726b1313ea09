/*
 * mmn-smmu coherence qtests: what the scenario and the bad-input suites
 * share (the environment of one test, DMA and checker helpers, and the
 * registration of a Scenario as a qos test on the mmn-smmu node).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MMN_SMMU_COHERENCE_H
#define MMN_SMMU_COHERENCE_H

#include "qemu/bswap.h"
#include "libqtest.h"
#include "qemu/module.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "libqos/mmn-smmu.h"
#include "libqos/mmn-kernel.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"
#include "hw/pci/pci_regs.h"

#define RAM_BASE        0x40000000ULL
#define RAM_SIZE        (512ULL << 20)      /* -m 512M: see mmn_before */
#define RAM_END         (RAM_BASE + RAM_SIZE)

#define VA39            0x2000000000ULL     /* user VA below 2^39 */
#define VA48            0x7ffff7a00000ULL   /* user VA below 2^48 */
#define LIVELOCK_THRESHOLD 16               /* device default */
#define MAX_ITER        (4 * LIVELOCK_THRESHOLD)
#define EAGAIN_RES      (-11)

#define STALL           MMN_CTX_CFG_STALL

typedef struct Env {
    QMmnSmmu *s;
    MmnKernel *k;
    MkMm *mm;
    MkProfile p;
    uint64_t buf;           /* 64 KiB bounce buffer */
} Env;

typedef void (*ScenarioFn)(Env *e);

typedef struct Scenario {
    const char *name;
    ScenarioFn fn;
    MkProfile profile;      /* MK_NR_PROFILES: profile-independent */
    unsigned va_bits;
    uint64_t cfg;           /* CTX_BIND extras; 0 and no mm: bad inputs */
    bool no_mm;
    unsigned evtq_log2;     /* event queue size; 0: 8 */
} Scenario;

/* Profile-independent scenarios: registered once. */
#define ANY MK_NR_PROFILES

Env *coh_env_new(QMmnSmmu *s, QGuestAllocator *alloc, const Scenario *sc,
                 unsigned evtq_log2);
void coh_env_free(Env *e);
uint16_t coh_ctx_of(Env *e);
/* CHECK of the mm's context; asserts no stale entry; returns entries. */
unsigned coh_check_coherent(Env *e);
void coh_dev_dma(Env *e, uint8_t op, uint64_t va, uint32_t len,
                 uint32_t pattern, MkFaultLoop *r);
/* Device READ of [va, va + len) that must succeed without any fault. */
void coh_dev_read_ok(Env *e, uint64_t va, uint32_t len);
/* Words of guest memory at @addr equal @pat. */
void coh_assert_words(Env *e, uint64_t addr, uint32_t len, uint32_t pat);
/* The CPU (through the mm) sees @pat on [va, va + len). */
void coh_assert_cpu_sees(Env *e, uint64_t va, uint32_t len, uint32_t pat);
/* The bounce buffer's first @len bytes hold @pat. */
void coh_fill_buf(Env *e, uint32_t len, uint32_t pat);
/*
 * Device WRITE of a pattern to @va after the kernel made it
 * writable-in-principle: healed (the profile notifies the upgrade) or a
 * LIVELOCK on the stale read-only entry, which a TLBI then cures.
 */
void coh_expect_upgrade(Env *e, uint64_t va, uint32_t len, bool healed,
                        const char *what);

/* Register @sc as the qos test coherence/<prefix>/<sc->name>. */
void coh_register(const char *prefix, const Scenario *sc);

#endif
