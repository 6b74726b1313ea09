/*
 * qtest for mmn-smmu's livelock detector (docs/specs/mmn-smmu.rst,
 * "Livelock detection"): the two classes of LIVELOCK (a stale IOTLB entry,
 * and an IOTLB that agrees with page tables the fault handler never
 * fixes), a loop whose faulting walk is never cached, and a driver
 * without STALL that resubmits the descriptor after each fault.
 *
 * Test names: livelock/<case>.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qemu/module.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "libqos/mmn-smmu.h"
#include "libqos/mmn-kernel.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"

#define VA39            0x2000000000ULL
#define THRESHOLD       16                  /* device default */
/* the guest driver's own retry cap: well above the detector's */
#define DRIVER_CAP      (3 * THRESHOLD)
#define MAX_ITER        (4 * THRESHOLD)
#define CTX             1
#define FAULT_PERMISSION    4
#define FAULT_ACCESS_FLAG   3

typedef struct Env {
    MmnKernel *k;
    MkMm *mm;
    uint64_t buf;
} Env;

static Env *env_new(QMmnSmmu *s, QGuestAllocator *alloc, MkProfile p,
                    uint64_t cfg)
{
    Env *e = g_new0(Env, 1);

    mk_assert_reset_state(s);
    e->k = mk_new(s, alloc, 8, 8);
    e->buf = mk_alloc(e->k, 0x10000, 4096);
    e->mm = mk_mm_new(e->k, p, CTX, 39, cfg);
    return e;
}

static void env_free(Env *e)
{
    mk_mm_free(e->mm);
    mk_free(e->k);
    g_free(e);
}

static MmnDmaDesc desc(Env *e, uint8_t op, uint64_t va, uint32_t len)
{
    return mk_dma_desc(op, CTX, va, len, e->buf, 0);
}

static void read_ok(Env *e, uint64_t va)
{
    MmnDmaDesc d = desc(e, MMN_DMA_OP_READ, va, 64);
    MkFaultLoop r;

    mk_dma_fault_loop(e->mm, &d, MAX_ITER, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
}

/*
 * A fault handler with a bug: it returns "handled" without touching the
 * page tables, DRIVER_CAP times, then gives up (SIGSEGV: the driver
 * aborts, state ABORTED).
 */
static MkFaultRet handler_never_fixes(MkMm *mm, uint64_t va, bool write,
                                      void *opaque)
{
    unsigned *calls = opaque;

    return ++*calls > DRIVER_CAP ? MK_FAULT_SIGSEGV : MK_FAULT_OK;
}

/* The kernel's handler, but the driver gives up after DRIVER_CAP rounds. */
static MkFaultRet handler_capped(MkMm *mm, uint64_t va, bool write,
                                 void *opaque)
{
    unsigned *calls = opaque;

    if (++*calls > DRIVER_CAP) {
        return MK_FAULT_SIGSEGV;
    }
    return mk_handle_mm_fault(mm, va, write);
}

/* The detector ended the loop at exactly the threshold. */
static void assert_livelock(const MkFaultLoop *r, bool stale, bool cached,
                            uint8_t kind, uint64_t va)
{
    if (r->state != MMN_DMA_ST_LIVELOCK) {
        g_test_message("state %s after %u faults, %u retries, %u aborts",
                       mk_dma_state_name(r->state), r->faults, r->retries,
                       r->aborts);
    }
    g_assert_cmpuint(r->state, ==, MMN_DMA_ST_LIVELOCK);
    g_assert_cmpuint(r->livelock_events, ==, 1);
    g_assert_cmpuint(r->livelock.count, ==, THRESHOLD);
    g_assert_cmpuint(r->livelock.kind, ==, kind);
    g_assert_cmphex(r->livelock.va, ==, va);
    /* THRESHOLD - 1 FAULT records, the last one counting THRESHOLD - 1 */
    g_assert_cmpuint(r->faults, ==, THRESHOLD - 1);
    g_assert_cmpuint(r->last_fault.count, ==, THRESHOLD - 1);
    g_assert_cmpuint(r->retries, ==, THRESHOLD - 1);
    g_assert_cmpuint(r->aborts, ==, 0);
    /* the class, in the event record and in the DMA status word */
    g_assert_cmpint(!!(r->livelock.flags & MMN_EVT_F_STALE), ==, stale);
    g_assert_cmpint(!!(r->status & MMN_DMA_STATUS_STALE), ==, stale);
    g_assert_cmpint(r->stale, ==, stale);
    g_assert_cmpint(!!(r->livelock.flags & MMN_EVT_F_FROM_CACHE), ==,
                    cached);
    g_assert_cmpint(!!(r->status & MMN_DMA_STATUS_FROM_CACHE), ==, cached);
    g_assert_cmpuint(MMN_DMA_STATUS_KIND(r->status), ==, kind);
    g_assert_cmpuint(r->desc.done, ==, 0);
}

static MmnCheckReport check(Env *e)
{
    MmnCheckReport rep;

    mk_check(e->k, CTX, &rep);
    return rep;
}

/*
 * Linux 6.1, writable-clean shared page: the kernel dirties the PTE and
 * notifies nobody; the device's read-only entry is stale.
 */
static void test_stale(void *obj, void *data, QGuestAllocator *alloc)
{
    Env *e = env_new(obj, alloc, MK_LINUX_6_1, MMN_CTX_CFG_STALL);
    uint64_t va = VA39 + 0x400000;
    MmnDmaDesc d = desc(e, MMN_DMA_OP_WRITE, va, 64);
    MmnCheckReport rep;
    MkFaultLoop r;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_SHARED);
    read_ok(e, va);
    mk_dma_fault_loop(e->mm, &d, MAX_ITER, &r);
    assert_livelock(&r, true, true, FAULT_PERMISSION, va);
    rep = check(e);
    g_assert_cmpuint(rep.stale_readonly, ==, 1);
    env_free(e);
}

/*
 * A read-only mapping, correct tables, cached permission fault; the fault
 * handler returns without granting the write: the IOTLB agrees with the
 * tables.  A page-table bug, not a cache bug.
 */
static void test_coherent_cached(void *obj, void *data,
                                 QGuestAllocator *alloc)
{
    Env *e = env_new(obj, alloc, MK_LINUX_6_6, MMN_CTX_CFG_STALL);
    uint64_t va = VA39 + 0x480000;
    MmnDmaDesc d = desc(e, MMN_DMA_OP_WRITE, va + 0x100, 64);
    MmnCheckReport rep;
    unsigned calls = 0;
    MkFaultLoop r;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ, MK_MAP_SHARED);
    read_ok(e, va);
    mk_dma_fault_loop_with(e->mm, &d, MAX_ITER, handler_never_fixes, &calls,
                           &r);
    assert_livelock(&r, false, true, FAULT_PERMISSION, va + 0x100);
    g_assert_true(mk_pte_get(e->mm, va) & MK_PTE_RDONLY);
    rep = check(e);
    g_assert_cmpuint(rep.entries, ==, 1);
    g_assert_cmpuint(rep.stale, ==, 0);
    env_free(e);
}

/*
 * An access-flag fault walked afresh after every resume (faults that are
 * not permission faults are never cached), the descriptor unchanged: the
 * handler never sets AF.  Without the descriptor rule only the driver's
 * cap would end it (ABORTED).
 */
static void test_walked_access_flag(void *obj, void *data,
                                    QGuestAllocator *alloc)
{
    Env *e = env_new(obj, alloc, MK_LINUX_6_6, MMN_CTX_CFG_STALL);
    uint64_t va = VA39 + 0x500000;
    MmnDmaDesc d = desc(e, MMN_DMA_OP_READ, va + 0x40, 64);
    MmnCheckReport rep;
    unsigned calls = 0;
    uint64_t slot;
    MkFaultLoop r;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    slot = mk_pte_slot(e->mm, va, 3, false);
    qtest_writeq(e->k->qts, slot, mk_pte_get(e->mm, va) & ~MK_PTE_AF);
    mk_dma_fault_loop_with(e->mm, &d, MAX_ITER, handler_never_fixes, &calls,
                           &r);
    assert_livelock(&r, false, false, FAULT_ACCESS_FLAG, va + 0x40);
    g_assert_cmpuint(r.livelock.level, ==, 3);
    g_assert_cmphex(r.livelock.desc, ==, slot);
    rep = check(e);
    g_assert_cmpuint(rep.entries, ==, 0);       /* nothing was cached */
    env_free(e);
}

/* A handler that sends the page's TLBI but never fixes the tables. */
static MkFaultRet handler_notifies_only(MkMm *mm, uint64_t va, bool write,
                                        void *opaque)
{
    unsigned *calls = opaque;
    uint64_t page = va & ~(MK_PAGE_SIZE - 1);

    if (++*calls > DRIVER_CAP) {
        return MK_FAULT_SIGSEGV;
    }
    mk_mn_secondary_tlbs(mm, page, page + MK_PAGE_SIZE);
    return MK_FAULT_OK;
}

/*
 * A kernel that notifies but never fixes: each retry walks afresh and
 * caches a new entry (a new serial), the descriptor unchanged: still one
 * loop.
 */
static void test_walked_permission(void *obj, void *data,
                                   QGuestAllocator *alloc)
{
    Env *e = env_new(obj, alloc, MK_LINUX_6_6, MMN_CTX_CFG_STALL);
    uint64_t va = VA39 + 0x580000;
    MmnDmaDesc d = desc(e, MMN_DMA_OP_WRITE, va, 64);
    unsigned calls = 0;
    MkFaultLoop r;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ, MK_MAP_SHARED);
    mk_dma_fault_loop_with(e->mm, &d, MAX_ITER, handler_notifies_only, &calls,
                           &r);
    assert_livelock(&r, false, false, FAULT_PERMISSION, va);
    g_assert_cmpuint(r.notifications, ==, THRESHOLD - 1);
    env_free(e);
}

/*
 * No STALL: each fault completes the descriptor (FAULT); the driver runs
 * the kernel's handler (6.1: it dirties the PTE, notifies nobody) and
 * resubmits the same descriptor.  The count follows the IOTLB entry
 * across descriptors.
 */
static void test_resubmit(void *obj, void *data, QGuestAllocator *alloc)
{
    Env *e = env_new(obj, alloc, MK_LINUX_6_1, 0);
    uint64_t va = VA39 + 0x600000;
    MmnDmaDesc d = desc(e, MMN_DMA_OP_WRITE, va, 2 * MK_PAGE_SIZE);
    MmnDmaDesc rd = desc(e, MMN_DMA_OP_READ, va + MK_PAGE_SIZE, 64);
    unsigned calls = 0;
    MkFaultLoop r;

    /* page 0 writable, page 1 writable-clean and cached read-only */
    mk_mmap_populate(e->mm, va, 2 * MK_PAGE_SIZE,
                     MK_PROT_READ | MK_PROT_WRITE, MK_MAP_SHARED);
    g_assert_cmpuint(mk_handle_mm_fault(e->mm, va, true), ==, MK_FAULT_OK);
    g_assert_cmphex(mk_dma_submit(e->k, &rd, NULL), ==, MMN_DMA_ST_DONE);
    /* each submission writes page 0, then faults on page 1 */
    mk_dma_resubmit_loop(e->mm, &d, MAX_ITER, handler_capped, &calls, &r);
    if (r.state != MMN_DMA_ST_LIVELOCK) {
        g_test_message("state %s after %u submissions",
                       mk_dma_state_name(r.state), r.retries + 1);
    }
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_LIVELOCK);
    g_assert_true(r.stale);
    g_assert_cmpuint(r.livelock.count, ==, THRESHOLD);
    g_assert_cmphex(r.livelock.va, ==, va + MK_PAGE_SIZE);
    g_assert_cmpuint(r.faults, ==, THRESHOLD - 1);
    g_assert_cmpuint(r.retries, ==, THRESHOLD - 1);
    /* progress on page 0 does not restart the count of page 1 */
    g_assert_cmpuint(r.desc.done, ==, MK_PAGE_SIZE);
    env_free(e);
}

/* Submit @d (no STALL): one FAULT record with count @count. */
static void fault_once(Env *e, const MmnDmaDesc *d, uint32_t count)
{
    MmnEvt ev;

    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_dma_submit(e->k, d, NULL)), ==,
                     MMN_DMA_ST_FAULT);
    g_assert_true(mk_evt_pop(e->k, &ev));
    g_assert_cmpuint(ev.type, ==, MMN_EVT_FAULT);
    g_assert_cmpuint(ev.count, ==, count);
    g_assert_false(mk_evt_pop(e->k, &ev));
}

/*
 * What clears the suspect: a read through the read-only entry does not
 * (the write it denies is still stuck), a successful write does.
 */
static void test_progress(void *obj, void *data, QGuestAllocator *alloc)
{
    Env *e = env_new(obj, alloc, MK_LINUX_6_1, 0);
    uint64_t va = VA39 + 0x680000;
    MmnDmaDesc wr = desc(e, MMN_DMA_OP_WRITE, va, 64);
    MmnDmaDesc rd = desc(e, MMN_DMA_OP_READ, va, 64);
    uint64_t slot, clean;
    unsigned i;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_SHARED);
    slot = mk_pte_slot(e->mm, va, 3, false);
    clean = mk_pte_get(e->mm, va);              /* writable-clean */
    read_ok(e, va);
    for (i = 1; i < THRESHOLD - 2; i++) {
        fault_once(e, &wr, i);
    }
    g_assert_cmphex(mk_dma_submit(e->k, &rd, NULL), ==, MMN_DMA_ST_DONE);
    fault_once(e, &wr, THRESHOLD - 2);
    fault_once(e, &wr, THRESHOLD - 1);
    g_assert_cmphex(MMN_DMA_STATUS_STATE(mk_dma_submit(e->k, &wr, NULL)),
                    ==, MMN_DMA_ST_LIVELOCK);
    mk_evt_drain(e->k);

    /* three faults, then the page is made writable and the write lands */
    fault_once(e, &wr, 1);
    fault_once(e, &wr, 2);
    fault_once(e, &wr, 3);
    qtest_writeq(e->k->qts, slot, (clean & ~MK_PTE_RDONLY) | MK_PTE_DIRTY);
    mk_mn_secondary_tlbs(e->mm, va, va + MK_PAGE_SIZE);
    g_assert_cmphex(mk_dma_submit(e->k, &wr, NULL), ==, MMN_DMA_ST_DONE);
    /* the same descriptor value as before: a walked fault counts from 1 */
    qtest_writeq(e->k->qts, slot, clean);
    mk_mn_secondary_tlbs(e->mm, va, va + MK_PAGE_SIZE);
    fault_once(e, &wr, 1);
    env_free(e);
}

static void *mmn_before(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -m 512M");
    return arg;
}

static void mmn_livelock_register_tests(void)
{
    QOSGraphTestOptions opts = { .before = mmn_before };

    qos_add_test("livelock/stale", "mmn-smmu", test_stale, &opts);
    qos_add_test("livelock/coherent-cached", "mmn-smmu",
                 test_coherent_cached, &opts);
    qos_add_test("livelock/walked-access-flag", "mmn-smmu",
                 test_walked_access_flag, &opts);
    qos_add_test("livelock/walked-permission", "mmn-smmu",
                 test_walked_permission, &opts);
    qos_add_test("livelock/resubmit-no-stall", "mmn-smmu", test_resubmit,
                 &opts);
    qos_add_test("livelock/progress", "mmn-smmu", test_progress, &opts);
}

libqos_init(mmn_livelock_register_tests);
