/*
 * qtest coherence suite for mmn-smmu: the guest kernel (libqos/mmn-kernel)
 * changes page tables the way Linux does and forwards exactly the
 * mmu_notifier calls a given kernel generation sends; the device's DMA
 * results and its coherence checker tell whether its IOTLB kept up.
 *
 * Test names: coherence/<profile>/<scenario> for scenarios whose outcome
 * depends on the kernel, coherence/any/<scenario> and
 * coherence/bad-input/<case> for the others.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
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
} Scenario;

/* ---------------------------------------------------------------- */
/* helpers                                                           */

static Env *env_new(QMmnSmmu *s, QGuestAllocator *alloc, const Scenario *sc,
                    unsigned evtq_log2)
{
    Env *e = g_new0(Env, 1);

    /* Tests share one QEMU: everything must be back at reset values. */
    mk_assert_reset_state(s);
    e->s = s;
    e->p = sc->profile < MK_NR_PROFILES ? sc->profile : MK_LINUX_6_6;
    e->k = mk_new(s, alloc, 8, evtq_log2);
    e->buf = mk_alloc(e->k, 0x10000, 4096);
    if (!sc->no_mm) {
        e->mm = mk_mm_new(e->k, e->p, 1, sc->va_bits ? sc->va_bits : 39,
                          sc->cfg);
    }
    return e;
}

static void env_free(Env *e)
{
    if (e->mm) {
        mk_mm_free(e->mm);
    }
    mk_free(e->k);
    g_free(e);
}

static uint16_t ctx_of(Env *e)
{
    return mk_mm_ctx(e->mm);
}

/* CHECK of the mm's context; asserts no stale entry; returns entries. */
static unsigned check_coherent(Env *e)
{
    MmnCheckReport r;
    g_autofree char *str = NULL;

    mk_check(e->k, ctx_of(e), &r);
    str = mk_check_str(&r);
    if (r.stale) {
        g_test_message("%s: CHECK %s; notifications: %s",
                       mk_profile_name(e->p), str, mk_mm_log(e->mm));
    }
    g_assert_cmpuint(r.stale, ==, 0);
    return r.entries;
}

static void dev_dma(Env *e, uint8_t op, uint64_t va, uint32_t len,
                    uint32_t pattern, MkFaultLoop *r)
{
    MmnDmaDesc d = mk_dma_desc(op, ctx_of(e), va, len,
                               op == MMN_DMA_OP_FILL ? 0 : e->buf, pattern);

    mk_dma_fault_loop(e->mm, &d, MAX_ITER, r);
    if (r->state != MMN_DMA_ST_DONE) {
        g_test_message("%s: DMA op %u va 0x%" PRIx64 " -> %s status 0x%x, "
                       "%u faults, %u retries, notifications: %s",
                       mk_profile_name(e->p), op, va,
                       mk_dma_state_name(r->state), r->status, r->faults,
                       r->retries, mk_mm_log(e->mm));
    }
}

/* Device READ of [va, va + len) that must succeed without any fault. */
static void dev_read_ok(Env *e, uint64_t va, uint32_t len)
{
    MkFaultLoop r;

    dev_dma(e, MMN_DMA_OP_READ, va, len, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(r.desc.done, ==, len);
    g_assert_cmpuint(r.faults, ==, 0);
}

/* Words of the bounce buffer at @off equal @pat. */
static void assert_words(Env *e, uint64_t addr, uint32_t len, uint32_t pat)
{
    g_autofree uint32_t *w = g_malloc(len);

    qtest_memread(e->k->qts, addr, w, len);
    for (uint32_t i = 0; i < len / 4; i++) {
        if (le32_to_cpu(w[i]) != pat) {
            g_test_message("word %u at 0x%" PRIx64 ": 0x%08x, expected 0x%08x",
                           i, addr + 4 * i, le32_to_cpu(w[i]), pat);
        }
        g_assert_cmphex(le32_to_cpu(w[i]), ==, pat);
    }
}

/* The CPU (through the mm) sees @pat on the whole page of @va. */
static void assert_cpu_sees(Env *e, uint64_t va, uint32_t len, uint32_t pat)
{
    g_autofree uint32_t *w = g_malloc(len);

    mk_cpu_read(e->mm, va, w, len);
    for (uint32_t i = 0; i < len / 4; i++) {
        g_assert_cmphex(le32_to_cpu(w[i]), ==, pat);
    }
}

static void fill_buf(Env *e, uint32_t len, uint32_t pat)
{
    g_autofree uint32_t *w = g_malloc(len);

    for (uint32_t i = 0; i < len / 4; i++) {
        w[i] = cpu_to_le32(pat);
    }
    qtest_memwrite(e->k->qts, e->buf, w, len);
}

/*
 * Device WRITE of @pat to one page after the kernel made it
 * writable-in-principle; the expected outcome depends on whether the
 * profile notifies the upgrade (healed) or not (stale read-only entry).
 */
static void expect_upgrade(Env *e, uint64_t va, uint32_t len, bool healed,
                           const char *what)
{
    MkFaultLoop r;
    MmnCheckReport rep;
    uint32_t pat = 0x600d0000 | (va >> 12 & 0xffff);

    fill_buf(e, len, pat);
    dev_dma(e, MMN_DMA_OP_WRITE, va, len, 0, &r);
    g_test_message("%s %s: %s after %u faults, %u notifications",
                   mk_profile_name(e->p), what, mk_dma_state_name(r.state),
                   r.faults, r.notifications);
    if (healed) {
        g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
        g_assert_cmpuint(r.faults, ==, 1);
        g_assert_cmpuint(r.desc.faults, ==, 1);
        g_assert_cmpuint(r.retries, ==, 1);
        g_assert_cmpuint(r.livelock_events, ==, 0);
        g_assert_cmpuint(r.notifications, >, 0);
        g_assert_cmpuint(r.desc.done, ==, len);
        assert_cpu_sees(e, va, len, pat);
        check_coherent(e);
    } else {
        /* faults served from the stale cached entry until the detector */
        g_assert_cmpuint(r.state, ==, MMN_DMA_ST_LIVELOCK);
        g_assert_cmpuint(r.livelock_events, ==, 1);
        /* the class: the entry that kept faulting is stale */
        g_assert_true(r.stale);
        g_assert_true(r.livelock.flags & MMN_EVT_F_STALE);
        g_assert_cmpuint(r.notifications, ==, 0);
        g_assert_cmpuint(r.faults, >=, LIVELOCK_THRESHOLD - 1);
        g_assert_cmpuint(r.faults, <=, LIVELOCK_THRESHOLD + 2);
        g_assert_true(r.last_fault.flags & MMN_EVT_F_FROM_CACHE);
        g_assert_cmpuint(r.last_fault.kind, ==, 4 /* PERMISSION */);
        g_assert_true(MMN_DMA_STATUS_FROM_CACHE & r.status);
        g_assert_cmpuint(r.desc.done, ==, 0);
        /* the kernel did make it writable: the IOTLB is what is stale */
        g_assert_false(mk_pte_get(e->mm, va) & MK_PTE_RDONLY);
        mk_check(e->k, ctx_of(e), &rep);
        g_assert_cmpuint(rep.stale_readonly, >=, 1);
        g_assert_cmpuint(rep.stale_writable + rep.stale_present +
                         rep.stale_oa, ==, 0);
        g_assert_cmpuint(rep.nr_samples, >=, 1);
        g_assert_cmpuint(rep.samples[0].kind, ==, MMN_CHECK_STALE_READONLY);
        g_assert_cmphex(rep.samples[0].va, ==,
                        va & ~(mk_pte_get(e->mm, va) & MK_PTE_TABLE ?
                               MK_PAGE_SIZE - 1 : MK_HPAGE_SIZE - 1));
        /* a TLBI (what a fixed kernel would have sent) heals it */
        mk_mn_secondary_tlbs(e->mm, va & ~(MK_PAGE_SIZE - 1),
                             (va & ~(MK_PAGE_SIZE - 1)) + MK_PAGE_SIZE);
        check_coherent(e);
        dev_dma(e, MMN_DMA_OP_WRITE, va, len, 0, &r);
        g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
        g_assert_cmpuint(r.faults, ==, 0);
        assert_cpu_sees(e, va, len, pat);
    }
}

/* ---------------------------------------------------------------- */
/* scenarios                                                         */

static void sc_read_write(Env *e)
{
    uint64_t va = VA39 + 0x10000;
    MkFaultLoop r;

    mk_mmap_populate(e->mm, va, 4 * MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    dev_read_ok(e, va, 4 * MK_PAGE_SIZE);
    for (int i = 0; i < 4; i++) {
        assert_words(e, e->buf + i * MK_PAGE_SIZE, MK_PAGE_SIZE,
                     mk_fill_pattern(va + i * MK_PAGE_SIZE));
    }
    g_assert_cmpuint(check_coherent(e), >=, 4);

    /* write across a page boundary, unaligned */
    fill_buf(e, 0x1800, 0xa5a5a5a5);
    dev_dma(e, MMN_DMA_OP_WRITE, va + 0x800, 0x1800, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(r.faults, ==, 0);
    assert_cpu_sees(e, va + 0x800, 0x1800, 0xa5a5a5a5);
    {
        uint32_t w;

        mk_cpu_read(e->mm, va + 0x7fc, &w, 4);
        g_assert_cmphex(le32_to_cpu(w), ==, mk_fill_pattern(va));
        mk_cpu_read(e->mm, va + 0x2000, &w, 4);
        g_assert_cmphex(le32_to_cpu(w), ==, mk_fill_pattern(va + 0x2000));
    }

    dev_dma(e, MMN_DMA_OP_FILL, va + 0x3000, 0x1000, 0x12345678, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    assert_cpu_sees(e, va + 0x3000, 0x1000, 0x12345678);

    /* CPU writes are seen by the device (same page, no remap) */
    {
        uint32_t w = cpu_to_le32(0xfeedface);

        mk_cpu_write(e->mm, va + 0x3010, &w, 4);
        dev_read_ok(e, va + 0x3010, 4);
        assert_words(e, e->buf, 4, 0xfeedface);
    }
    check_coherent(e);
}

static void sc_read_write_va48(Env *e)
{
    uint64_t va = VA48;

    mk_mmap_populate(e->mm, va, 2 * MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_SHARED);
    dev_read_ok(e, va, 2 * MK_PAGE_SIZE);
    assert_words(e, e->buf, MK_PAGE_SIZE, mk_fill_pattern(va));
    assert_words(e, e->buf + MK_PAGE_SIZE, MK_PAGE_SIZE,
                 mk_fill_pattern(va + MK_PAGE_SIZE));
    g_assert_cmpuint(check_coherent(e), >=, 2);
}

/* Non-present VA in a VMA: the fault handler populates, DMA resumes. */
static void sc_demand_fault(Env *e)
{
    uint64_t va = VA39 + 0x40000;
    MkFaultLoop r;

    mk_mmap(e->mm, va, 2 * MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
            MK_MAP_PRIVATE);
    fill_buf(e, 2 * MK_PAGE_SIZE, 0x0badcafe);
    dev_dma(e, MMN_DMA_OP_WRITE, va, 2 * MK_PAGE_SIZE, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(r.faults, ==, 2);
    g_assert_cmpuint(r.last_fault.kind, ==, 1 /* TRANSLATION */);
    g_assert_true(r.last_fault.flags & MMN_EVT_F_STALLED);
    g_assert_true(r.last_fault.flags & MMN_EVT_F_WRITE);
    g_assert_cmpuint(r.notifications, ==, 0);  /* none -> present */
    assert_cpu_sees(e, va, 2 * MK_PAGE_SIZE, 0x0badcafe);
    check_coherent(e);
}

static void sc_munmap(Env *e)
{
    uint64_t va = VA39 + 0x100000;
    uint64_t old_pa;
    MkFaultLoop r;

    mk_mmap_populate(e->mm, va, 2 * MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_SHARED);
    old_pa = mk_va_to_pa(e->mm, va + MK_PAGE_SIZE);
    dev_read_ok(e, va, 2 * MK_PAGE_SIZE);
    g_assert_cmpuint(check_coherent(e), >=, 2);

    mk_munmap(e->mm, va + MK_PAGE_SIZE, MK_PAGE_SIZE);
    check_coherent(e);
    /* the freed page was reused (poisoned): a stale read would show it */
    dev_dma(e, MMN_DMA_OP_READ, va + MK_PAGE_SIZE, 16, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_ABORTED);
    g_assert_cmpuint(r.faults, ==, 1);
    g_assert_cmpuint(r.aborts, ==, 1);
    g_assert_cmpuint(r.last_fault.kind, ==, 1 /* TRANSLATION */);
    g_assert_cmphex(r.last_fault.va, ==, va + MK_PAGE_SIZE);
    g_assert_cmphex(r.desc.fault_va, ==, va + MK_PAGE_SIZE);
    g_assert_cmpuint(r.desc.done, ==, 0);
    /* and a write must not land in the freed page */
    fill_buf(e, 16, 0x11111111);
    dev_dma(e, MMN_DMA_OP_WRITE, va + MK_PAGE_SIZE, 16, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_ABORTED);
    assert_words(e, old_pa, MK_PAGE_SIZE, 0xdeadf00d);
    /* the page still mapped still works */
    dev_read_ok(e, va, MK_PAGE_SIZE);
    assert_words(e, e->buf, MK_PAGE_SIZE, mk_fill_pattern(va));
    check_coherent(e);
}

static void sc_mprotect(Env *e)
{
    uint64_t va = VA39 + 0x200000;
    uint32_t pat = mk_fill_pattern(va);
    MkFaultLoop r;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    dev_read_ok(e, va, MK_PAGE_SIZE);

    /* down: the cached writable entry must go */
    mk_mprotect(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ);
    g_assert_true(mk_pte_get(e->mm, va) & MK_PTE_RDONLY);
    check_coherent(e);
    dev_read_ok(e, va, MK_PAGE_SIZE);           /* caches it read-only */
    fill_buf(e, MK_PAGE_SIZE, 0x77777777);
    dev_dma(e, MMN_DMA_OP_WRITE, va, MK_PAGE_SIZE, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_ABORTED);   /* SIGSEGV */
    g_assert_cmpuint(r.last_fault.kind, ==, 4 /* PERMISSION */);
    g_assert_cmpuint(r.desc.done, ==, 0);
    assert_cpu_sees(e, va, MK_PAGE_SIZE, pat);
    check_coherent(e);

    /* PROT_NONE: not even a read */
    mk_mprotect(e->mm, va, MK_PAGE_SIZE, MK_PROT_NONE);
    check_coherent(e);
    dev_dma(e, MMN_DMA_OP_READ, va, 8, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_ABORTED);

    /* up: mprotect always notifies, in every kernel */
    mk_mprotect(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE);
    g_assert_false(mk_pte_get(e->mm, va) & MK_PTE_RDONLY);
    check_coherent(e);
    dev_dma(e, MMN_DMA_OP_WRITE, va, MK_PAGE_SIZE, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(r.faults, ==, 0);
    assert_cpu_sees(e, va, MK_PAGE_SIZE, 0x77777777);
    check_coherent(e);
}

/* mprotect up of a read-only entry the device cached (shared mapping) */
static void sc_mprotect_up_cached(Env *e)
{
    uint64_t va = VA39 + 0x280000;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ, MK_MAP_SHARED);
    dev_read_ok(e, va, MK_PAGE_SIZE);
    mk_mprotect(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE);
    /* writable-clean now; the cached RO entry was dropped by mprotect */
    check_coherent(e);
    {
        MkFaultLoop r;

        fill_buf(e, 64, 0x31415926);
        dev_dma(e, MMN_DMA_OP_WRITE, va, 64, 0, &r);
        if (mk_mm_profile(e->mm) == MK_LINUX_6_1) {
            /* the dirtying is not notified: cached from the fault walk */
            g_assert_cmpuint(r.state, ==, MMN_DMA_ST_LIVELOCK);
        } else {
            /* one fault: writable-clean -> the handler dirties it */
            g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
            g_assert_cmpuint(r.faults, ==, 1);
            assert_cpu_sees(e, va, 64, 0x31415926);
            check_coherent(e);
        }
    }
}

static void sc_cow_copy(Env *e)
{
    uint64_t va = VA39 + 0x300000;
    uint32_t pat = mk_fill_pattern(va);
    uint64_t old_pa, new_pa;
    MkFaultLoop r;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    old_pa = mk_va_to_pa(e->mm, va);
    dev_read_ok(e, va, MK_PAGE_SIZE);
    mk_fork(e->mm, va, MK_PAGE_SIZE);
    check_coherent(e);
    dev_read_ok(e, va, MK_PAGE_SIZE);           /* cached read-only */

    fill_buf(e, 256, 0xc0c0c0c0);
    dev_dma(e, MMN_DMA_OP_WRITE, va + 0x100, 256, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(r.faults, ==, 1);
    g_assert_cmpuint(r.notifications, >=, 2);
    new_pa = mk_va_to_pa(e->mm, va);
    g_assert_cmphex(new_pa, !=, old_pa);
    /* the child's page is untouched, ours has the copy + the write */
    assert_words(e, old_pa, MK_PAGE_SIZE, pat);
    assert_words(e, new_pa, 0x100, pat);
    assert_words(e, new_pa + 0x100, 256, 0xc0c0c0c0);
    assert_words(e, new_pa + 0x200, MK_PAGE_SIZE - 0x200, pat);
    check_coherent(e);
    mk_child_exit(e->mm, va, MK_PAGE_SIZE);
}

/* read fault maps the zero page; the write replaces it (wp_page_copy) */
static void sc_cow_zero_page(Env *e)
{
    uint64_t va = VA39 + 0x380000;
    MkFaultLoop r;

    mk_mmap(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
            MK_MAP_PRIVATE);
    dev_dma(e, MMN_DMA_OP_READ, va, MK_PAGE_SIZE, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(r.faults, ==, 1);
    assert_words(e, e->buf, MK_PAGE_SIZE, 0);
    g_assert_cmphex(mk_va_to_pa(e->mm, va), ==, e->k->zero_page);

    fill_buf(e, 64, 0x2e2e2e2e);
    dev_dma(e, MMN_DMA_OP_WRITE, va, 64, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(r.faults, ==, 1);
    g_assert_cmphex(mk_va_to_pa(e->mm, va), !=, e->k->zero_page);
    assert_cpu_sees(e, va, 64, 0x2e2e2e2e);
    assert_words(e, e->k->zero_page, MK_PAGE_SIZE, 0);
    check_coherent(e);
}

static bool upgrade_healed(MkProfile p)
{
    return p != MK_LINUX_6_1;
}

/* shared writable mapping, PTE writable-clean (DBM|RDONLY) */
static void sc_upgrade_writable_clean(Env *e)
{
    uint64_t va = VA39 + 0x400000;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_SHARED);
    g_assert_cmphex(mk_pte_get(e->mm, va) & (MK_PTE_WRITE | MK_PTE_RDONLY),
                    ==, MK_PTE_WRITE | MK_PTE_RDONLY);
    dev_read_ok(e, va, MK_PAGE_SIZE);           /* cached read-only */
    check_coherent(e);
    expect_upgrade(e, va + 0x40, 64, upgrade_healed(e->p),
                   "writable-clean upgrade");
}

/* no device read first: the permission-faulting walk is cached too */
static void sc_upgrade_writable_clean_nofill(Env *e)
{
    uint64_t va = VA39 + 0x480000;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_SHARED);
    expect_upgrade(e, va, MK_PAGE_SIZE, upgrade_healed(e->p),
                   "writable-clean upgrade, first access a write");
}

/*
 * Exclusive write-protected anonymous page (after fork, the child
 * exited): do_wp_page -> wp_page_reuse.  The upgrade-notify patch
 * ("mmu_notifiers: Notify on pte permission upgrades", May 2023) does not
 * notify there (see mk_site_rules): only 6.6 heals it.
 */
static void sc_upgrade_wp_page_reuse(Env *e)
{
    uint64_t va = VA39 + 0x500000;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    mk_fork(e->mm, va, MK_PAGE_SIZE);
    mk_child_exit(e->mm, va, MK_PAGE_SIZE);
    g_assert_true(mk_pte_get(e->mm, va) & MK_PTE_RDONLY);
    dev_read_ok(e, va, MK_PAGE_SIZE);
    check_coherent(e);
    expect_upgrade(e, va, 128, e->p == MK_LINUX_6_6, "wp_page_reuse");
    /* reuse, not copy */
    g_assert_cmpuint(mk_mm_notifications(e->mm), >, 0);
}

/*
 * The CPU's own write dirties a writable-clean PTE in hardware (DBM,
 * -cpu max): no kernel code runs, nobody is notified, and the device's
 * cached read-only entry is stale.  Its fault handler then finds the PTE
 * writable but pte_mkdirty() still sets the software PTE_DIRTY bit, so
 * ptep_set_access_flags() sees a change (and flushes): healed exactly
 * where the writable-clean upgrade is.
 */
static void sc_upgrade_cpu_hw_dirty(Env *e)
{
    uint64_t va = VA39 + 0x580000;
    uint32_t w = cpu_to_le32(0x99999999);

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_SHARED);
    mk_mm_set_cpu_hw_dbm(e->mm, true);
    dev_read_ok(e, va, MK_PAGE_SIZE);
    mk_mm_log_clear(e->mm);
    mk_cpu_write(e->mm, va + 0x800, &w, 4);
    g_assert_cmpuint(strlen(mk_mm_log(e->mm)), ==, 0);
    g_assert_false(mk_pte_get(e->mm, va) & MK_PTE_RDONLY);
    g_assert_false(mk_pte_get(e->mm, va) & MK_PTE_DIRTY);
    expect_upgrade(e, va, 64, upgrade_healed(e->p),
                   "CPU hardware-dirtied page");
}

static bool have_blocks(Env *e)
{
    uint32_t f = mk_readl(e->k, A_FEATURES);

    g_assert_true(FIELD_EX32(f, FEATURES, BLOCKS));
    return true;
}

/*
 * 2 MiB private hugetlb block, first touched by a device read:
 * hugetlb_no_page() maps the new anonymous page write-protected
 * (make_huge_pte(writable=0)); the write reuses it in hugetlb_wp().
 */
static void sc_hugetlb_upgrade(Env *e)
{
    uint64_t va = VA39 + 0x40000000ULL;
    MkFaultLoop r;

    have_blocks(e);
    mk_mmap(e->mm, va, MK_HPAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
            MK_MAP_PRIVATE | MK_MAP_HUGETLB);
    dev_dma(e, MMN_DMA_OP_READ, va + 0x5000, 64, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_false(mk_pte_get(e->mm, va) & MK_PTE_TABLE);     /* a block */
    g_assert_true(mk_pte_get(e->mm, va) & MK_PTE_RDONLY);
    check_coherent(e);
    /* 6.6 invalidates [haddr, haddr + 4 KiB): the 2 MiB entry overlaps */
    expect_upgrade(e, va + 0x5000, 64, upgrade_healed(e->p),
                   "hugetlb private read-first upgrade");
}

/* private hugetlb after fork + child exit: hugetlb_wp() reuse */
static void sc_hugetlb_wp_reuse(Env *e)
{
    uint64_t va = VA39 + 0x40400000ULL;

    have_blocks(e);
    mk_mmap(e->mm, va, MK_HPAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
            MK_MAP_PRIVATE | MK_MAP_HUGETLB);
    mk_populate(e->mm, va, MK_HPAGE_SIZE);
    mk_fork(e->mm, va, MK_HPAGE_SIZE);
    mk_child_exit(e->mm, va, MK_HPAGE_SIZE);
    dev_read_ok(e, va + 0x1ff000, 64);
    check_coherent(e);
    expect_upgrade(e, va + 0x1ff000, 64, upgrade_healed(e->p),
                   "hugetlb_wp reuse");
}

static void sc_hugetlb_munmap(Env *e)
{
    uint64_t va = VA39 + 0x40800000ULL;
    uint64_t pa;
    MkFaultLoop r;

    have_blocks(e);
    mk_mmap(e->mm, va, MK_HPAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
            MK_MAP_PRIVATE | MK_MAP_HUGETLB);
    mk_populate(e->mm, va, MK_HPAGE_SIZE);
    pa = mk_va_to_pa(e->mm, va);
    fill_buf(e, MK_PAGE_SIZE, 0x4b4b4b4b);
    dev_dma(e, MMN_DMA_OP_WRITE, va + 0x100000, MK_PAGE_SIZE, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    assert_words(e, pa + 0x100000, MK_PAGE_SIZE, 0x4b4b4b4b);
    mk_munmap(e->mm, va, MK_HPAGE_SIZE);
    check_coherent(e);
    dev_dma(e, MMN_DMA_OP_WRITE, va + 0x100000, MK_PAGE_SIZE, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_ABORTED);
    assert_words(e, pa + 0x100000, MK_PAGE_SIZE, 0xdeadf00d);
}

/* a 1 MiB FILL (the maximum length) inside one block */
static void sc_hugetlb_fill_max(Env *e)
{
    uint64_t va = VA39 + 0x40c00000ULL;
    MkFaultLoop r;

    have_blocks(e);
    mk_mmap(e->mm, va, MK_HPAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
            MK_MAP_PRIVATE | MK_MAP_HUGETLB);
    mk_populate(e->mm, va, MK_HPAGE_SIZE);
    dev_dma(e, MMN_DMA_OP_FILL, va + 0x80000, MMN_DMA_MAX_LEN, 0x0f0f0f0f, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(r.desc.done, ==, MMN_DMA_MAX_LEN);
    assert_words(e, mk_va_to_pa(e->mm, va + 0x80000), MMN_DMA_MAX_LEN,
                 0x0f0f0f0f);
    assert_words(e, mk_va_to_pa(e->mm, va + 0x7f000), MK_PAGE_SIZE, 0);
    g_assert_cmpuint(check_coherent(e), >=, 1);
}

/* only the device touched page A: young comes from the device */
static void sc_aging(Env *e)
{
    uint64_t a = VA39 + 0x600000, b = a + MK_PAGE_SIZE;
    uint64_t bm;
    uint32_t res;
    MkFaultLoop r;

    g_assert_true(FIELD_EX32(mk_readl(e->k, A_FEATURES), FEATURES,
                             YOUNG_BITMAP));
    /* only a KVM/HMM-style subscriber registers the young ops */
    mk_mm_set_subscriber(e->mm, MK_SUB_MIRROR);
    mk_mmap_populate(e->mm, a, 2 * MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    dev_read_ok(e, a, 2 * MK_PAGE_SIZE);
    g_assert_true(mk_test_young(e->mm, a));
    g_assert_true(mk_test_young(e->mm, b));
    /* aging pass: clears the CPU AF and the device's young bits */
    g_assert_true(mk_clear_young(e->mm, a));
    g_assert_true(mk_clear_young(e->mm, b));
    g_assert_false(mk_pte_get(e->mm, a) & MK_PTE_AF);
    g_assert_false(mk_test_young(e->mm, a));
    g_assert_false(mk_test_young(e->mm, b));
    /* a second pass finds nothing: neither the CPU nor the device */
    g_assert_false(mk_clear_young(e->mm, a));

    /* the device reads A (through its cached entry): only it knows */
    dev_read_ok(e, a, 64);
    g_assert_false(mk_pte_get(e->mm, a) & MK_PTE_AF);
    g_assert_true(mk_test_young(e->mm, a));
    g_assert_false(mk_test_young(e->mm, b));

    /* young-bitmap series: bit for addr = (end - addr) / 4096 - 1 */
    bm = 0;
    res = mk_test_clear_young(e->mm, a, b + MK_PAGE_SIZE, false, &bm);
    g_assert_cmpuint(res, !=, 0);
    g_assert_cmphex(bm, ==, 1ULL << 1);         /* A only */
    g_assert_true(mk_test_young(e->mm, a));     /* test mode: not cleared */
    /* clear mode with B's bit only: A stays young */
    bm = 1ULL << 0;
    mk_test_clear_young(e->mm, a, b + MK_PAGE_SIZE, true, &bm);
    g_assert_true(mk_test_young(e->mm, a));
    bm = 1ULL << 1;
    mk_test_clear_young(e->mm, a, b + MK_PAGE_SIZE, true, &bm);
    g_assert_false(mk_test_young(e->mm, a));
    /* without a bitmap */
    res = mk_test_clear_young(e->mm, a, b + MK_PAGE_SIZE, false, NULL);
    g_assert_cmpuint(res, ==, 0);

    /* clear_flush_young reports the device's access and clears it */
    dev_read_ok(e, a, 64);
    g_assert_true(mk_clear_flush_young(e->mm, a));
    g_assert_false(mk_test_young(e->mm, a));
    g_assert_false(mk_clear_flush_young(e->mm, a));
    check_coherent(e);
    /* AF is clear in the CPU PTE now: the device faults it back in */
    dev_dma(e, MMN_DMA_OP_READ, a, 64, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    assert_words(e, e->buf, 64, mk_fill_pattern(a));
    check_coherent(e);
}

static void sc_release(Env *e)
{
    uint64_t va = VA39 + 0x700000;
    MmnCheckReport rep;
    MmnDmaDesc d;
    uint32_t st;
    MmnCmd c;

    mk_mmap_populate(e->mm, va, 2 * MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    dev_read_ok(e, va, 2 * MK_PAGE_SIZE);
    g_assert_cmpuint(check_coherent(e), >=, 2);
    mk_release(e->mm);
    mk_check(e->k, ctx_of(e), &rep);
    g_assert_cmpuint(rep.entries, ==, 0);
    g_assert_cmpuint(rep.stale, ==, 0);

    d = mk_dma_desc(MMN_DMA_OP_READ, ctx_of(e), va, 64, e->buf, 0);
    st = mk_dma_submit(e->k, &d, &d);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_RELEASED);
    g_assert_cmpuint(d.done, ==, 0);
    mk_check(e->k, ctx_of(e), &rep);
    g_assert_cmpuint(rep.entries, ==, 0);

    /* after release nothing else may come: MISUSE */
    c = mk_cmd_init(MMN_CMD_MN_SECONDARY_TLBS, ctx_of(e));
    c.a0 = va;
    c.a1 = va + MK_PAGE_SIZE;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_MISUSE);
    c = mk_cmd_init(MMN_CMD_MN_RELEASE, ctx_of(e));
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_MISUSE);

    /* unbind + bind again: a fresh address space works */
    mk_mm_free(e->mm);
    e->mm = mk_mm_new(e->k, e->p, 1, 39, STALL);
    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ, MK_MAP_PRIVATE);
    dev_read_ok(e, va, MK_PAGE_SIZE);
    assert_words(e, e->buf, MK_PAGE_SIZE, mk_fill_pattern(va));
    check_coherent(e);
}

/*
 * A non-blockable invalidation (oom reaper) while a DMA is in flight:
 * stalled on a fault after writing its first page.
 */
static void sc_nonblock_inflight(Env *e)
{
    uint64_t va = VA39 + 0x800000;
    MmnDmaDesc d;
    MmnEvt ev;
    int32_t res;
    uint32_t st;
    MmnCmd c;

    mk_mmap(e->mm, va, 2 * MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
            MK_MAP_PRIVATE);
    mk_populate(e->mm, va, MK_PAGE_SIZE);       /* page 1 not present */
    fill_buf(e, 2 * MK_PAGE_SIZE, 0x5a5a1234);
    d = mk_dma_desc(MMN_DMA_OP_WRITE, ctx_of(e), va, 2 * MK_PAGE_SIZE,
                    e->buf, 0);
    st = mk_dma_submit(e->k, &d, &d);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_STALLED);
    g_assert_true(mk_readl(e->k, A_STATUS) & R_STATUS_DMA_STALLED_MASK);
    g_assert_true(mk_evt_pop(e->k, &ev));
    g_assert_cmphex(ev.va, ==, va + MK_PAGE_SIZE);

    res = mk_mn_range_start(e->mm, MK_EV_UNMAP, false, va,
                            va + 2 * MK_PAGE_SIZE, 0);
    /*
     * The engine holds the faulting page (dmirror's mutex_trylock fails):
     * the non-blockable start fails, nothing stays open, no END is sent.
     */
    g_assert_cmpint(res, ==, EAGAIN_RES);
    check_coherent(e);
    g_assert_cmpint(mk_handle_mm_fault(e->mm, va + MK_PAGE_SIZE, true), ==,
                    MK_FAULT_OK);
    c = mk_cmd_init(MMN_CMD_DMA_RESUME, 0);
    mk_cmd(e->k, &c);
    st = mk_readl(e->k, A_DMA_STATUS);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    assert_cpu_sees(e, va, 2 * MK_PAGE_SIZE, 0x5a5a1234);
    check_coherent(e);
    /* the retry (OOM reaper style) succeeds once the DMA is done */
    res = mk_mn_range_start(e->mm, MK_EV_UNMAP, false, va,
                            va + 2 * MK_PAGE_SIZE, 0);
    g_assert_cmpint(res, ==, 0);
    mk_mn_range_end(e->mm, MK_EV_UNMAP, false, false, va,
                    va + 2 * MK_PAGE_SIZE, 0);
    check_coherent(e);
}

/*
 * An open (blockable) invalidation blocks the DMA at its page; a
 * non-blockable start on the page the DMA already did; the END of the
 * first resumes the DMA.
 */
static void sc_nonblock_blocked(Env *e)
{
    uint64_t va = VA39 + 0x900000;
    MmnDmaDesc d;
    int32_t res;
    uint32_t st;

    mk_mmap_populate(e->mm, va, 2 * MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    res = mk_mn_range_start(e->mm, MK_EV_CLEAR, true, va + MK_PAGE_SIZE,
                            va + 2 * MK_PAGE_SIZE, 0);
    g_assert_cmpint(res, ==, 0);
    fill_buf(e, 2 * MK_PAGE_SIZE, 0x6b6b0001);
    d = mk_dma_desc(MMN_DMA_OP_WRITE, ctx_of(e), va, 2 * MK_PAGE_SIZE,
                    e->buf, 0);
    st = mk_dma_submit(e->k, &d, &d);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BLOCKED);
    g_assert_true(mk_readl(e->k, A_STATUS) & R_STATUS_DMA_BUSY_MASK);
    g_assert_cmpuint(mk_evt_pending(e->k), ==, 0);   /* not a fault */

    res = mk_mn_range_start(e->mm, MK_EV_UNMAP, false, va, va + MK_PAGE_SIZE,
                            0);
    /* the engine holds page 1 only: a range over page 0 proceeds */
    g_assert_cmpint(res, ==, 0);
    mk_mn_range_end(e->mm, MK_EV_UNMAP, false, false, va, va + MK_PAGE_SIZE,
                    0);
    res = mk_mn_range_start(e->mm, MK_EV_UNMAP, false, va + MK_PAGE_SIZE,
                            va + 2 * MK_PAGE_SIZE, 0);
    g_assert_cmpint(res, ==, EAGAIN_RES);
    st = mk_readl(e->k, A_DMA_STATUS);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BLOCKED);

    mk_mn_range_end(e->mm, MK_EV_CLEAR, true, false, va + MK_PAGE_SIZE,
                    va + 2 * MK_PAGE_SIZE, 0);
    st = mk_readl(e->k, A_DMA_STATUS);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    g_assert_false(mk_readl(e->k, A_STATUS) & R_STATUS_DMA_BUSY_MASK);
    mk_dma_read_desc(e->k, &d);
    g_assert_cmpuint(d.done, ==, 2 * MK_PAGE_SIZE);
    assert_cpu_sees(e, va, 2 * MK_PAGE_SIZE, 0x6b6b0001);
    check_coherent(e);
}

typedef struct RaceCtx {
    Env *e;
    uint64_t va;
    uint32_t st;
} RaceCtx;

static void race_dma_during_start(MkMm *mm, void *opaque)
{
    RaceCtx *rc = opaque;
    MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, mk_mm_ctx(mm), rc->va,
                               3 * MK_PAGE_SIZE, rc->e->buf, 0);

    qtest_memset(rc->e->k->qts, rc->e->buf, 0, 3 * MK_PAGE_SIZE);
    rc->st = mk_dma_submit(rc->e->k, &d, NULL);
}

/*
 * A fill racing an invalidation: the DMA needs page 1 while its PTE is
 * being replaced (KSM); the fill must wait for the END and then see the
 * new page, never the old one (which is freed and poisoned).
 */
static void sc_fill_race(Env *e)
{
    uint64_t va = VA39 + 0xa00000;
    RaceCtx rc = { .e = e, .va = va };
    uint64_t old_pa;
    uint32_t st;

    mk_mmap_populate(e->mm, va, 3 * MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    dev_read_ok(e, va, 3 * MK_PAGE_SIZE);
    old_pa = mk_va_to_pa(e->mm, va + MK_PAGE_SIZE);
    mk_ksm_replace(e->mm, va + MK_PAGE_SIZE, race_dma_during_start, &rc);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(rc.st), ==, MMN_DMA_ST_BLOCKED);
    g_assert_cmphex(mk_va_to_pa(e->mm, va + MK_PAGE_SIZE), !=, old_pa);
    assert_words(e, old_pa, MK_PAGE_SIZE, 0xdeadf00d);
    st = mk_readl(e->k, A_DMA_STATUS);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_DONE);
    for (int i = 0; i < 3; i++) {
        assert_words(e, e->buf + i * MK_PAGE_SIZE, MK_PAGE_SIZE,
                     mk_fill_pattern(va + i * MK_PAGE_SIZE));
    }
    check_coherent(e);
}

/* KSM merge: change_pte inside start/end; the device follows */
static void sc_ksm_change_pte(Env *e)
{
    uint64_t va = VA39 + 0xb00000;
    uint64_t old_pa;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    dev_read_ok(e, va, MK_PAGE_SIZE);
    old_pa = mk_va_to_pa(e->mm, va);
    mk_ksm_replace(e->mm, va, NULL, NULL);
    g_assert_cmphex(mk_va_to_pa(e->mm, va), !=, old_pa);
    check_coherent(e);
    dev_read_ok(e, va, MK_PAGE_SIZE);
    assert_words(e, e->buf, MK_PAGE_SIZE, mk_fill_pattern(va));
    check_coherent(e);
}

#define OWN_COOKIE      0x6f776e6572ULL     /* "owner" */
#define FOREIGN_COOKIE  0x0f0e0d0cULL

typedef struct MigrateCase {
    Env *e;
    bool ignored;           /* expected: the IOTLB ignores the MIGRATE start */
} MigrateCase;

static void migrate_between(MkMm *mm, void *opaque)
{
    MigrateCase *mc = opaque;
    MmnCheckReport rep;

    /* right after MN_RANGE_START(MIGRATE, owner), before any PTE change */
    mk_check(mc->e->k, mk_mm_ctx(mm), &rep);
    g_assert_cmpuint(rep.entries, ==, (mc->ignored ? 1 : 0));
}

/*
 * Spec: a MIGRATE range whose owner equals the context's cookie (CTX_BIND
 * a2) is ignored by the IOTLB, as lib/test_hmm.c ignores its own
 * migrations; any other range invalidates.  Either way the migration's
 * TLB flush (6.6) or range_end's invalidate_range (6.1) drops the entry
 * before the new PTE is used.
 */
static void sc_migrate(Env *e, uint64_t cookie, uint64_t owner)
{
    uint64_t va = VA39 + 0xc00000;
    MigrateCase mc = { .e = e, .ignored = cookie && cookie == owner };
    uint64_t old_pa;

    mk_mm_free(e->mm);
    e->mm = mk_mm_new_owner(e->k, e->p, 1, 39, STALL, cookie);
    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    dev_read_ok(e, va, MK_PAGE_SIZE);
    g_assert_cmpuint(check_coherent(e), ==, 1);
    old_pa = mk_va_to_pa(e->mm, va);
    mk_migrate(e->mm, va, MK_PAGE_SIZE, owner, migrate_between, &mc);
    g_assert_cmphex(mk_va_to_pa(e->mm, va), !=, old_pa);
    check_coherent(e);
    dev_read_ok(e, va, MK_PAGE_SIZE);
    assert_words(e, e->buf, MK_PAGE_SIZE, mk_fill_pattern(va));
    assert_words(e, old_pa, MK_PAGE_SIZE, 0xdeadf00d);
}

static void sc_migrate_own_owner(Env *e)
{
    sc_migrate(e, OWN_COOKIE, OWN_COOKIE);
}

static void sc_migrate_foreign_owner(Env *e)
{
    sc_migrate(e, OWN_COOKIE, FOREIGN_COOKIE);
}

/*
 * No cookie (0) and a NULL owner: equal by the letter of the spec, but 0
 * means "no owner" (Linux's test_hmm owner is never NULL, and a NULL
 * owner identifies no driver): the device invalidates, and so we expect.
 * The spec should say "a non-zero cookie".
 */
static void sc_migrate_null_owner(Env *e)
{
    sc_migrate(e, 0, 0);
}

/* ---------------------------------------------------------------- */
/* bad inputs (no mm unless needed)                                   */

static void bi_unknown_opcode(Env *e)
{
    static const uint8_t ops[] = { 0x00, 0x04, 0x14, 0x29, 0x32, 0x41, 0xff };

    for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
        MmnCmd c = mk_cmd_init(ops[i], 0);

        mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_OPCODE);
    }
}

static void bi_reserved(Env *e)
{
    MmnCmd c;

    c = mk_cmd_init(MMN_CMD_SYNC, 0);
    c.reserved[2] = 1;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    c = mk_cmd_init(MMN_CMD_SYNC, 0);
    c.flags = 0x80;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    c = mk_cmd_init(MMN_CMD_TLBI_ALL, 0);
    c.a0 = 0x1000;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    c = mk_cmd_init(MMN_CMD_TLBI_ALL, 3);       /* ctx unused */
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    c = mk_cmd_init(MMN_CMD_CTX_BIND, 2);
    c.a0 = mk_alloc(e->k, 4096, 4096);
    c.a1 = MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48) | (1ULL << 25);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    c = mk_cmd_init(MMN_CMD_CTX_BIND, 2);
    c.a0 = mk_alloc(e->k, 4096, 4096);
    c.a1 = MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48);
    c.a3 = 1;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    /* a2 of CTX_BIND is the owner cookie: any value is accepted */
    c = mk_cmd_init(MMN_CMD_CTX_BIND, 2);
    c.a0 = mk_alloc(e->k, 4096, 4096);
    c.a1 = MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48);
    c.a2 = 0x1234;
    mk_cmd(e->k, &c);
    mk_unbind(e->k, 2);
    c = mk_cmd_init(MMN_CMD_DMA_RESUME, 0);
    c.arg = 1;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    /* nothing bound by the rejected commands */
    c = mk_cmd_init(MMN_CMD_CTX_UNBIND, 2);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_CTX);
}

static void bi_reserved_mn(Env *e)
{
    MmnCmd c;

    c = mk_cmd_init(MMN_CMD_MN_RANGE_START, ctx_of(e));
    c.arg = MK_EV_UNMAP | MMN_CMD_RANGE_BLOCKABLE | (1u << 12);
    c.a0 = VA39;
    c.a1 = VA39 + MK_PAGE_SIZE;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    c = mk_cmd_init(MMN_CMD_MN_TEST_CLEAR_YOUNG, ctx_of(e));
    c.arg = 2;
    c.a0 = VA39;
    c.a1 = VA39 + MK_PAGE_SIZE;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    c = mk_cmd_init(MMN_CMD_MN_SECONDARY_TLBS, ctx_of(e));
    c.a0 = VA39;
    c.a1 = VA39 + MK_PAGE_SIZE;
    c.a2 = 1;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_RESERVED);
    /* the rejected start opened nothing: an END is MISUSE */
    c = mk_cmd_init(MMN_CMD_MN_RANGE_END, ctx_of(e));
    c.arg = MK_EV_UNMAP | MMN_CMD_RANGE_BLOCKABLE;
    c.a0 = VA39;
    c.a1 = VA39 + MK_PAGE_SIZE;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_MISUSE);
}

static void bi_bad_ctx(Env *e)
{
    uint32_t n = mk_readl(e->k, A_NUM_CTX);
    uint64_t ttb = mk_alloc(e->k, 4096, 4096);
    MmnCmd c;

    c = mk_cmd_init(MMN_CMD_TLBI_CTX, n);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_CTX);
    c = mk_cmd_init(MMN_CMD_TLBI_CTX, 0xfffe);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_CTX);
    c = mk_cmd_init(MMN_CMD_TLBI_CTX, 3);       /* not bound */
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_CTX);
    c = mk_cmd_init(MMN_CMD_CTX_UNBIND, 3);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_CTX);
    c = mk_cmd_init(MMN_CMD_CTX_BIND, n);
    c.a0 = ttb;
    c.a1 = MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_CTX);
    c = mk_cmd_init(MMN_CMD_CHECK, n);
    c.a0 = e->k->report;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_CTX);
    mk_bind(e->k, 3, ttb, MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48));
    c = mk_cmd_init(MMN_CMD_CTX_BIND, 3);       /* already bound */
    c.a0 = ttb;
    c.a1 = MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_CTX);
    c = mk_cmd_init(MMN_CMD_TLBI_CTX, 3);
    mk_cmd(e->k, &c);
    mk_unbind(e->k, 3);
    /* DMA on an unbound context */
    {
        MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, 3, VA39, 64, e->buf, 0);
        uint32_t st = mk_dma_submit(e->k, &d, &d);

        g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BAD_DESC);
        g_assert_cmphex(d.status, ==, st);
    }
}

static void bi_bad_config(Env *e)
{
    uint64_t ttb = mk_alloc(e->k, 4096, 4096);
    static const struct {
        uint64_t cfg;
        uint32_t reason;
    } cases[] = {
        { MMN_CTX_CFG_VA_BITS(24) | MMN_CTX_CFG_OA_BITS(48),
          MMN_CMDQ_ERR_BAD_CONFIG },
        { MMN_CTX_CFG_VA_BITS(49) | MMN_CTX_CFG_OA_BITS(48),
          MMN_CMDQ_ERR_BAD_CONFIG },
        { MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(31),
          MMN_CMDQ_ERR_BAD_CONFIG },
        { MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(52),
          MMN_CMDQ_ERR_BAD_CONFIG },
        { MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48) |
          MMN_CTX_CFG_HTTU(3), MMN_CMDQ_ERR_BAD_CONFIG },
    };
    MmnCmd c;

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        c = mk_cmd_init(MMN_CMD_CTX_BIND, 2);
        c.a0 = ttb;
        c.a1 = cases[i].cfg;
        mk_cmd_expect_err(e->k, &c, cases[i].reason);
    }
    c = mk_cmd_init(MMN_CMD_CTX_BIND, 2);
    c.a0 = ttb + 0x800;                         /* misaligned TTB */
    c.a1 = MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    /* none of them bound ctx 2 */
    mk_bind(e->k, 2, ttb, MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48));
    mk_unbind(e->k, 2);
}

static void bi_bad_range(Env *e)
{
    MmnCmd c;

    c = mk_cmd_init(MMN_CMD_TLBI_RANGE, ctx_of(e));
    c.a0 = VA39 + MK_PAGE_SIZE;
    c.a1 = VA39;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_RANGE);
    c.a1 = c.a0;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_RANGE);
    /* TLB invalidations take any alignment (spec): accepted */
    c.a0 = VA39 + 0x10;
    c.a1 = VA39 + MK_PAGE_SIZE;
    mk_cmd(e->k, &c);
    /* flush_tlb_mm()'s (0, -1UL), forwarded literally: accepted */
    c = mk_cmd_init(MMN_CMD_MN_SECONDARY_TLBS, ctx_of(e));
    c.a0 = 0;
    c.a1 = UINT64_MAX;
    mk_cmd(e->k, &c);
    c.a1 = 0;                                   /* end <= start */
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_RANGE);
    /* a bitmap of more than 65536 pages */
    c = mk_cmd_init(MMN_CMD_MN_TEST_CLEAR_YOUNG, ctx_of(e));
    c.a0 = VA39;
    c.a1 = VA39 + 65537 * MK_PAGE_SIZE;
    c.a2 = mk_alloc(e->k, 65537 / 8 + 8, 4096);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_RANGE);
    c.a1 = VA39 + 65536 * MK_PAGE_SIZE;         /* the maximum is fine */
    mk_cmd_res(e->k, &c);
    /* NOT_STALLED and MISUSE */
    c = mk_cmd_init(MMN_CMD_DMA_RESUME, 0);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_NOT_STALLED);
    c = mk_cmd_init(MMN_CMD_DMA_ABORT, 0);
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_NOT_STALLED);
    c = mk_cmd_init(MMN_CMD_MN_RANGE_END, ctx_of(e));
    c.arg = MK_EV_CLEAR | MMN_CMD_RANGE_BLOCKABLE;
    c.a0 = VA39;
    c.a1 = VA39 + MK_PAGE_SIZE;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_MISUSE);
}

static void bi_result_mmio(Env *e)
{
    uint64_t bar = mk_bar_addr(e->k);
    uint32_t ctrl = mk_readl(e->k, A_CTRL);
    MmnCmd c;

    /* a result word aimed at the device's own BAR (CTRL) */
    c = mk_cmd_init(MMN_CMD_MN_TEST_YOUNG, ctx_of(e));
    c.a0 = VA39;
    c.a3 = bar + A_CTRL;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    /* SYNC's store of 0 into CTRL would disable everything */
    c = mk_cmd_init(MMN_CMD_SYNC, 0);
    c.flags = MMN_CMD_SYNC_F_WRITE;
    c.arg = 0;
    c.a0 = bar + A_CTRL;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    c = mk_cmd_init(MMN_CMD_CHECK, ctx_of(e));
    c.a0 = bar;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    c = mk_cmd_init(MMN_CMD_MN_TEST_CLEAR_YOUNG, ctx_of(e));
    c.a0 = VA39;
    c.a1 = VA39 + MK_PAGE_SIZE;
    c.a2 = bar + A_CTRL;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    g_assert_cmphex(mk_readl(e->k, A_CTRL), ==, ctrl);
    g_assert_cmphex(mk_readl(e->k, A_STATUS) & 7, ==, ctrl);
    /* misaligned */
    c = mk_cmd_init(MMN_CMD_MN_TEST_YOUNG, ctx_of(e));
    c.a0 = VA39;
    c.a3 = e->k->res + 2;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    c = mk_cmd_init(MMN_CMD_CHECK, ctx_of(e));
    c.a0 = e->k->report + 4;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
}

static void bi_result_beyond_ram(Env *e)
{
    MmnCmd c;

    c = mk_cmd_init(MMN_CMD_MN_TEST_YOUNG, ctx_of(e));
    c.a0 = VA39;
    c.a3 = RAM_END;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    c.a3 = 0xfffffffffffffff0ULL;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    /* a report straddling the end of RAM */
    c = mk_cmd_init(MMN_CMD_CHECK, MMN_CMD_CTX_ALL);
    c.a0 = RAM_END - 128;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    c = mk_cmd_init(MMN_CMD_SYNC, 0);
    c.flags = MMN_CMD_SYNC_F_WRITE;
    c.arg = 1;
    c.a0 = RAM_END;
    mk_cmd_expect_err(e->k, &c, MMN_CMDQ_ERR_BAD_ADDR);
    /* the last word of RAM is fine */
    c.a0 = RAM_END - 4;
    mk_cmd(e->k, &c);
    g_assert_cmphex(qtest_readl(e->k->qts, RAM_END - 4), ==, 1);
}

static void bi_dma_mmio(Env *e)
{
    uint64_t bar = mk_bar_addr(e->k);
    uint64_t va = VA39 + 0x10000;
    uint32_t ctrl = mk_readl(e->k, A_CTRL);
    MmnDmaDesc d;
    uint32_t st;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    /* READ whose destination is the device's BAR */
    d = mk_dma_desc(MMN_DMA_OP_READ, ctx_of(e), va, 64, bar, 0);
    st = mk_dma_submit(e->k, &d, &d);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BAD_DESC);
    g_assert_cmpuint(d.done, ==, 0);
    g_assert_cmphex(mk_readl(e->k, A_CTRL), ==, ctrl);
    /* WRITE whose source is beyond RAM */
    d = mk_dma_desc(MMN_DMA_OP_WRITE, ctx_of(e), va, 64, RAM_END, 0);
    st = mk_dma_submit(e->k, &d, &d);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BAD_DESC);
    /* a buffer straddling the end of RAM */
    d = mk_dma_desc(MMN_DMA_OP_READ, ctx_of(e), va, 256, RAM_END - 128, 0);
    st = mk_dma_submit(e->k, &d, &d);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BAD_DESC);
    assert_cpu_sees(e, va, MK_PAGE_SIZE, mk_fill_pattern(va));
    /* the descriptor itself in MMIO */
    mk_writel(e->k, A_DMA_DESC_LO, (uint32_t)bar);
    mk_writel(e->k, A_DMA_DESC_HI, bar >> 32);
    mk_writel(e->k, A_DMA_DOORBELL, 1);
    st = mk_readl(e->k, A_DMA_STATUS);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BAD_DESC);
    g_assert_cmphex(mk_readl(e->k, A_CTRL), ==, ctrl);
    /* a bad op, a non-zero reserved field */
    d = mk_dma_desc(4, ctx_of(e), va, 64, e->buf, 0);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_dma_submit(e->k, &d, NULL)),
                     ==, MMN_DMA_ST_BAD_DESC);
    d = mk_dma_desc(0, ctx_of(e), va, 64, e->buf, 0);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_dma_submit(e->k, &d, NULL)),
                     ==, MMN_DMA_ST_BAD_DESC);
    /* still works */
    dev_read_ok(e, va, MK_PAGE_SIZE);
    assert_words(e, e->buf, MK_PAGE_SIZE, mk_fill_pattern(va));
}

static void bi_dma_len(Env *e)
{
    uint64_t va = VA39 + 0x20000;
    static const uint32_t lens[] = { 0, MMN_DMA_MAX_LEN + 1, 0x80000000u,
                                     0xffffffffu };
    MmnDmaDesc d;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
        uint32_t st;

        d = mk_dma_desc(MMN_DMA_OP_FILL, ctx_of(e), va, lens[i], 0, 0);
        st = mk_dma_submit(e->k, &d, &d);
        g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BAD_DESC);
        g_assert_cmpuint(d.done, ==, 0);
    }
    assert_cpu_sees(e, va, MK_PAGE_SIZE, mk_fill_pattern(va));
    /* a VA range that wraps around the top of the address space */
    d = mk_dma_desc(MMN_DMA_OP_READ, ctx_of(e), UINT64_MAX - 0xfff, 0x2000,
                    e->buf, 0);
    {
        MkFaultLoop r;

        mk_dma_fault_loop(e->mm, &d, MAX_ITER, &r);
        g_assert_cmpuint(r.state, !=, MMN_DMA_ST_DONE);
        g_assert_cmpuint(r.desc.done, ==, 0);
    }
    dev_read_ok(e, va, 64);
}

static void bi_queue_outside_ram(Env *e)
{
    MmnKernel *k = e->k;
    uint32_t ctrl = mk_readl(k, A_CTRL);
    uint64_t good = k->cmdq;
    uint64_t scratch = mk_alloc(k, MMN_CMD_SIZE << k->cmdq_log2, 4096);
    MmnCmd c = mk_cmd_init(MMN_CMD_SYNC, 0);
    uint32_t lost;

    /* CMDQ beyond RAM: the command cannot be read */
    mk_cmdq_set_base(k, RAM_END, scratch);
    g_assert_cmpuint(mk_cmd_try(k, &c), ==, MMN_CMDQ_ERR_BAD_ADDR);
    g_assert_true(mk_readl(k, A_STATUS) & R_STATUS_CMDQ_STOPPED_MASK);
    mk_cmdq_ack(k);
    /* CMDQ at the device's own BAR */
    mk_cmdq_set_base(k, mk_bar_addr(k), scratch);
    g_assert_cmpuint(mk_cmd_try(k, &c), ==, MMN_CMDQ_ERR_BAD_ADDR);
    mk_cmdq_ack(k);
    g_assert_cmphex(mk_readl(k, A_CTRL), ==, ctrl);
    /* base registers are ignored while enabled */
    mk_writel(k, A_CMDQ_BASE_LO, (uint32_t)good | k->cmdq_log2);
    g_assert_cmphex(mk_readl(k, A_CMDQ_BASE_LO), ==,
                    (uint32_t)mk_bar_addr(k) | k->cmdq_log2);
    /* back to RAM */
    mk_cmdq_set_base(k, good, good);
    mk_sync(k);

    /* EVTQ beyond RAM: events are dropped and counted */
    lost = mk_readl(k, A_EVTQ_LOST);
    mk_evtq_set_base(k, RAM_END);
    {
        MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, ctx_of(e), VA39, 64,
                                   e->buf, 0);
        uint32_t st = mk_dma_submit(k, &d, NULL);

        g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_FAULT);
    }
    g_assert_cmpuint(mk_readl(k, A_EVTQ_LOST), ==, lost + 1);
    g_assert_true(mk_readl(k, A_IRQ_STATUS) &
                  R_IRQ_STATUS_EVTQ_OVERFLOW_MASK);
    /* the EVTQ at the BAR: same */
    mk_evtq_set_base(k, mk_bar_addr(k));
    {
        MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, ctx_of(e), VA39, 64,
                                   e->buf, 0);

        mk_dma_submit(k, &d, NULL);
    }
    g_assert_cmpuint(mk_readl(k, A_EVTQ_LOST), ==, lost + 2);
    g_assert_cmphex(mk_readl(k, A_CTRL), ==, ctrl);
    mk_sync(k);
}

static void bi_evtq_overflow(Env *e)
{
    MmnKernel *k = e->k;
    MmnEvt ev;
    unsigned n = 7;

    /* e->k was created with a 2-entry event queue (see the scenario) */
    for (unsigned i = 0; i < n; i++) {
        MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, ctx_of(e),
                                   VA39 + i * MK_PAGE_SIZE, 64, e->buf, 0);
        uint32_t st = mk_dma_submit(k, &d, NULL);

        g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_FAULT);
        g_assert_cmpuint(MMN_DMA_STATUS_KIND(st), ==, 1 /* TRANSLATION */);
    }
    g_assert_cmpuint(mk_evt_pending(k), ==, 2);
    g_assert_cmpuint(mk_readl(k, A_EVTQ_LOST), ==, n - 2);
    g_assert_true(mk_readl(k, A_IRQ_STATUS) &
                  R_IRQ_STATUS_EVTQ_OVERFLOW_MASK);
    g_assert_true(mk_evt_pop(k, &ev));
    g_assert_cmpuint(ev.type, ==, MMN_EVT_FAULT);
    g_assert_cmphex(ev.va, ==, VA39);
    /*
     * "desc: descriptor address involved": the device reports the
     * page-table descriptor at which the walk faulted (the walker's
     * desc_pa), not the DMA descriptor: the L1 entry here.
     */
    g_assert_cmpuint(ev.level, ==, 1);
    g_assert_cmphex(ev.desc, ==, mk_pte_slot(e->mm, VA39, 1, false));
    g_assert_true(mk_evt_pop(k, &ev));
    g_assert_cmphex(ev.va, ==, VA39 + MK_PAGE_SIZE);
    g_assert_false(mk_evt_pop(k, &ev));
    mk_writel(k, A_IRQ_STATUS, R_IRQ_STATUS_EVTQ_OVERFLOW_MASK |
              R_IRQ_STATUS_EVTQ_MASK);
    g_assert_false(mk_readl(k, A_IRQ_STATUS) &
                   R_IRQ_STATUS_EVTQ_OVERFLOW_MASK);
    /* room again: recorded, and the ring wraps correctly */
    for (unsigned i = 0; i < 5; i++) {
        MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, ctx_of(e),
                                   VA39 + 0x100000, 64, e->buf, 0);

        mk_dma_submit(k, &d, NULL);
        g_assert_true(mk_evt_pop(k, &ev));
        g_assert_cmphex(ev.va, ==, VA39 + 0x100000);
    }
    g_assert_cmpuint(mk_readl(k, A_EVTQ_LOST), ==, n - 2);
    mk_sync(k);
}

/* an L0/L1 entry pointing at its own table: bounded walk, defined fault */
static void bi_recursive_table(Env *e)
{
    uint64_t ttb = mk_mm_ttb(e->mm);
    unsigned self = 5;
    /* 39-bit: L1 index = self, L2 = self, L3 = self */
    uint64_t va = ((uint64_t)self << 30) | ((uint64_t)self << 21) |
                  ((uint64_t)self << 12);
    MmnDmaDesc d;
    uint32_t st;
    MmnEvt ev;

    qtest_writeq(e->k->qts, ttb + self * 8,
                 ttb | MK_PTE_VALID | MK_PTE_TABLE);
    d = mk_dma_desc(MMN_DMA_OP_WRITE, ctx_of(e), va, 64, e->buf, 0);
    fill_buf(e, 64, 0xbad0bad0);
    st = mk_dma_submit(e->k, &d, &d);
    g_test_message("recursive table: %s kind %u level %u",
                   mk_dma_state_name(MMN_DMA_STATUS_STATE(st)),
                   MMN_DMA_STATUS_KIND(st), MMN_DMA_STATUS_LEVEL(st));
    /*
     * The self entry read as an L3 page has AF == 0 and no AP[1]: an
     * access-flag (or permission) fault at level 3; the table page must
     * not be written.
     */
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_FAULT);
    g_assert_cmpuint(MMN_DMA_STATUS_LEVEL(st), <=, 3);
    g_assert_cmphex(qtest_readq(e->k->qts, ttb + self * 8), ==,
                    ttb | MK_PTE_VALID | MK_PTE_TABLE);
    g_assert_true(mk_evt_pop(e->k, &ev));
    g_assert_cmpuint(ev.type, ==, MMN_EVT_FAULT);
    qtest_writeq(e->k->qts, ttb + self * 8, 0);
    check_coherent(e);
    {
        uint64_t va2 = VA39 + 0x30000;

        mk_mmap_populate(e->mm, va2, MK_PAGE_SIZE, MK_PROT_READ,
                         MK_MAP_PRIVATE);
        dev_read_ok(e, va2, 64);
        assert_words(e, e->buf, 64, mk_fill_pattern(va2));
    }
}

static void bi_msi_not_configured(Env *e)
{
    MmnKernel *k = e->k;
    MmnCmd c;
    uint16_t msi_ctrl = 0;
    uint8_t cap;

    /* MSI stays disabled (if the capability exists at all) */
    cap = qpci_find_capability(&e->s->dev, PCI_CAP_ID_MSI, 0);
    if (cap) {
        msi_ctrl = qpci_config_readw(&e->s->dev, cap + PCI_MSI_FLAGS);
        g_assert_false(msi_ctrl & PCI_MSI_FLAGS_ENABLE);
    }
    mk_writel(k, A_IRQ_ENABLE, 0x1f);
    g_assert_cmphex(mk_readl(k, A_IRQ_ENABLE), ==, 0x1f);
    c = mk_cmd_init(MMN_CMD_SYNC, 0);
    c.flags = MMN_CMD_SYNC_F_IRQ;
    mk_cmd(k, &c);
    g_assert_true(mk_readl(k, A_IRQ_STATUS) & R_IRQ_STATUS_SYNC_MASK);
    mk_writel(k, A_IRQ_STATUS, R_IRQ_STATUS_SYNC_MASK);   /* RW1C */
    g_assert_false(mk_readl(k, A_IRQ_STATUS) & R_IRQ_STATUS_SYNC_MASK);
    mk_mmap_populate(e->mm, VA39, MK_PAGE_SIZE, MK_PROT_READ, MK_MAP_PRIVATE);
    dev_read_ok(e, VA39, 64);
    g_assert_true(mk_readl(k, A_IRQ_STATUS) & R_IRQ_STATUS_DMA_DONE_MASK);
    g_assert_false(mk_readl(k, A_IRQ_STATUS) & R_IRQ_STATUS_EVTQ_MASK);
    {
        MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, ctx_of(e),
                                   VA39 + MK_PAGE_SIZE, 64, e->buf, 0);

        g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_dma_submit(k, &d, NULL)),
                         ==, MMN_DMA_ST_FAULT);
    }
    g_assert_true(mk_readl(k, A_IRQ_STATUS) & R_IRQ_STATUS_EVTQ_MASK);
    g_assert_cmpuint(mk_evt_drain(k), ==, 1);
    mk_writel(k, A_IRQ_STATUS, 0x1f);
    g_assert_cmphex(mk_readl(k, A_IRQ_STATUS), ==, 0);
    mk_writel(k, A_IRQ_ENABLE, 0);
    mk_sync(k);
}

/* a doorbell while a descriptor is stalled is ignored */
/*
 * CTX_UNBIND of the context a DMA is blocked on (an invalidation is open
 * and will never end for it): the DMA completes ABORTED, the engine is
 * free again.  A second context shares the mm's tables.
 */
static void bi_unbind_while_blocked(Env *e)
{
    const uint16_t ctx2 = 3;
    uint64_t va = VA39 + 0xa00000;
    MmnDmaDesc d;
    uint32_t st;
    MmnCmd c;

    mk_mmap_populate(e->mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    mk_bind(e->k, ctx2, mk_mm_ttb(e->mm),
            MMN_CTX_CFG_VA_BITS(39) | MMN_CTX_CFG_OA_BITS(48) |
            MMN_CTX_CFG_UNPRIV | STALL);
    c = mk_cmd_init(MMN_CMD_MN_RANGE_START, ctx2);
    c.arg = MK_EV_CLEAR | MMN_CMD_RANGE_BLOCKABLE;
    c.a0 = va;
    c.a1 = va + MK_PAGE_SIZE;
    mk_cmd(e->k, &c);
    d = mk_dma_desc(MMN_DMA_OP_READ, ctx2, va, 64, e->buf, 0);
    st = mk_dma_submit(e->k, &d, NULL);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_BLOCKED);
    g_assert_true(mk_readl(e->k, A_STATUS) & R_STATUS_DMA_BUSY_MASK);

    mk_unbind(e->k, ctx2);
    st = mk_readl(e->k, A_DMA_STATUS);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_ABORTED);
    g_assert_false(mk_readl(e->k, A_STATUS) & R_STATUS_DMA_BUSY_MASK);
    mk_dma_read_desc(e->k, &d);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(d.status), ==, MMN_DMA_ST_ABORTED);
    /* the engine takes new work on the remaining context */
    dev_read_ok(e, va, 64);
}

static void bi_doorbell_while_stalled(Env *e)
{
    MmnDmaDesc d = mk_dma_desc(MMN_DMA_OP_READ, ctx_of(e), VA39, 64,
                               e->buf, 0);
    uint32_t st = mk_dma_submit(e->k, &d, NULL);
    MmnCmd c;

    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_STALLED);
    mk_writel(e->k, A_DMA_DOORBELL, 1);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_readl(e->k, A_DMA_STATUS)), ==,
                     MMN_DMA_ST_STALLED);
    c = mk_cmd_init(MMN_CMD_DMA_ABORT, 0);
    mk_cmd(e->k, &c);
    st = mk_readl(e->k, A_DMA_STATUS);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(st), ==, MMN_DMA_ST_ABORTED);
    g_assert_false(mk_readl(e->k, A_STATUS) & R_STATUS_DMA_STALLED_MASK);
    mk_evt_drain(e->k);
}

/* ---------------------------------------------------------------- */
/* registration                                                      */

#define ANY MK_NR_PROFILES

static const Scenario per_profile[] = {
    { "read-write", sc_read_write, 0, 39, STALL },
    { "read-write-va48", sc_read_write_va48, 0, 48, STALL },
    { "demand-fault", sc_demand_fault, 0, 39, STALL },
    { "munmap", sc_munmap, 0, 39, STALL },
    { "mprotect-down-up", sc_mprotect, 0, 48, STALL },
    { "mprotect-up-cached", sc_mprotect_up_cached, 0, 39, STALL },
    { "cow-copy", sc_cow_copy, 0, 39, STALL },
    { "cow-zero-page", sc_cow_zero_page, 0, 39, STALL },
    { "upgrade-writable-clean", sc_upgrade_writable_clean, 0, 39, STALL },
    { "upgrade-writable-clean-nofill", sc_upgrade_writable_clean_nofill, 0,
      48, STALL },
    { "upgrade-wp-page-reuse", sc_upgrade_wp_page_reuse, 0, 39, STALL },
    { "upgrade-cpu-hw-dirty", sc_upgrade_cpu_hw_dirty, 0, 39, STALL },
    { "hugetlb-upgrade", sc_hugetlb_upgrade, 0, 39, STALL },
    { "hugetlb-wp-reuse", sc_hugetlb_wp_reuse, 0, 48, STALL },
    { "hugetlb-munmap", sc_hugetlb_munmap, 0, 39, STALL },
    { "aging", sc_aging, 0, 39, STALL },
    { "release", sc_release, 0, 39, STALL },
    { "nonblock-inflight", sc_nonblock_inflight, 0, 39, STALL },
    { "nonblock-blocked", sc_nonblock_blocked, 0, 39, STALL },
    { "fill-race", sc_fill_race, 0, 39, STALL },
    { "ksm-change-pte", sc_ksm_change_pte, 0, 39, STALL },
    { "migrate-own-owner", sc_migrate_own_owner, 0, 39, STALL },
    { "migrate-foreign-owner", sc_migrate_foreign_owner, 0, 39, STALL },
    { "migrate-null-owner", sc_migrate_null_owner, 0, 39, STALL },
};

static const Scenario bad_inputs[] = {
    { "unknown-opcode", bi_unknown_opcode, ANY, 0, 0, true },
    { "reserved-bits", bi_reserved, ANY, 0, 0, true },
    { "reserved-bits-mn", bi_reserved_mn, ANY, 39, 0 },
    { "bad-ctx", bi_bad_ctx, ANY, 0, 0, true },
    { "bad-config", bi_bad_config, ANY, 0, 0, true },
    { "bad-range", bi_bad_range, ANY, 39, 0 },
    { "result-at-mmio", bi_result_mmio, ANY, 39, 0 },
    { "result-beyond-ram", bi_result_beyond_ram, ANY, 39, 0 },
    { "dma-buffer-at-mmio", bi_dma_mmio, ANY, 39, STALL },
    { "dma-length", bi_dma_len, ANY, 39, 0 },
    { "queue-outside-ram", bi_queue_outside_ram, ANY, 39, 0 },
    { "evtq-overflow", bi_evtq_overflow, ANY, 39, 0 },
    { "recursive-table", bi_recursive_table, ANY, 39, 0 },
    { "msi-not-configured", bi_msi_not_configured, ANY, 39, 0 },
    { "doorbell-while-stalled", bi_doorbell_while_stalled, ANY, 39, STALL },
    { "unbind-while-blocked", bi_unbind_while_blocked, ANY, 39, STALL },
    { "hugetlb-fill-max-len", sc_hugetlb_fill_max, ANY, 39, STALL },
};

static void run_scenario(void *obj, void *data, QGuestAllocator *alloc)
{
    const Scenario *sc = data;
    unsigned evtq_log2 = sc->fn == bi_evtq_overflow ? 1 : 8;
    Env *e = env_new(obj, alloc, sc, evtq_log2);
    uint32_t err;

    sc->fn(e);
    /* whatever happened, the device still works and nothing is pending */
    err = mk_readl(e->k, A_CMDQ_ERR);
    g_assert_false(FIELD_EX32(err, CMDQ_ERR, VALID));
    mk_sync(e->k);
    env_free(e);
}

static void *mmn_before(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -m 512M");
    return arg;
}

static void register_one(const char *prefix, const Scenario *sc)
{
    QOSGraphTestOptions opts = {
        .before = mmn_before,
        .arg = (void *)sc,
    };
    g_autofree char *name = g_strdup_printf("coherence/%s/%s", prefix,
                                            sc->name);

    qos_add_test(name, "mmn-smmu", run_scenario, &opts);
}

static void mmn_coherence_register_tests(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(per_profile); i++) {
        for (MkProfile p = 0; p < MK_NR_PROFILES; p++) {
            Scenario *sc = g_memdup2(&per_profile[i], sizeof(*sc));

            sc->profile = p;
            register_one(mk_profile_name(p), sc);
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(bad_inputs); i++) {
        register_one(bad_inputs[i].fn == sc_hugetlb_fill_max ? "any"
                                                           : "bad-input",
                     &bad_inputs[i]);
    }
}

libqos_init(mmn_coherence_register_tests);
