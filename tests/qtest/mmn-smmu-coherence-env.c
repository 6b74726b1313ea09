/*
 * mmn-smmu coherence qtests: the shared environment (a kernel model on
 * the device, one mm), DMA and checker helpers, and the registration of
 * scenarios (mmn-smmu-coherence.h).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-smmu-coherence.h"

Env *coh_env_new(QMmnSmmu *s, QGuestAllocator *alloc, const Scenario *sc,
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

void coh_env_free(Env *e)
{
    if (e->mm) {
        mk_mm_free(e->mm);
    }
    mk_free(e->k);
    g_free(e);
}

uint16_t coh_ctx_of(Env *e)
{
    return mk_mm_ctx(e->mm);
}

/* CHECK of the mm's context; asserts no stale entry; returns entries. */
unsigned coh_check_coherent(Env *e)
{
    MmnCheckReport r;
    g_autofree char *str = NULL;

    mk_check(e->k, coh_ctx_of(e), &r);
    str = mk_check_str(&r);
    if (r.stale) {
        g_test_message("%s: CHECK %s; notifications: %s",
                       mk_profile_name(e->p), str, mk_mm_log(e->mm));
    }
    g_assert_cmpuint(r.stale, ==, 0);
    return r.entries;
}

void coh_dev_dma(Env *e, uint8_t op, uint64_t va, uint32_t len,
                 uint32_t pattern, MkFaultLoop *r)
{
    MmnDmaDesc d = mk_dma_desc(op, coh_ctx_of(e), va, len,
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
void coh_dev_read_ok(Env *e, uint64_t va, uint32_t len)
{
    MkFaultLoop r;

    coh_dev_dma(e, MMN_DMA_OP_READ, va, len, 0, &r);
    g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    g_assert_cmpuint(r.desc.done, ==, len);
    g_assert_cmpuint(r.faults, ==, 0);
}

/* Words of the bounce buffer at @off equal @pat. */
void coh_assert_words(Env *e, uint64_t addr, uint32_t len, uint32_t pat)
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
void coh_assert_cpu_sees(Env *e, uint64_t va, uint32_t len, uint32_t pat)
{
    g_autofree uint32_t *w = g_malloc(len);

    mk_cpu_read(e->mm, va, w, len);
    for (uint32_t i = 0; i < len / 4; i++) {
        g_assert_cmphex(le32_to_cpu(w[i]), ==, pat);
    }
}

void coh_fill_buf(Env *e, uint32_t len, uint32_t pat)
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
void coh_expect_upgrade(Env *e, uint64_t va, uint32_t len, bool healed,
                        const char *what)
{
    MkFaultLoop r;
    MmnCheckReport rep;
    uint32_t pat = 0x600d0000 | (va >> 12 & 0xffff);

    coh_fill_buf(e, len, pat);
    coh_dev_dma(e, MMN_DMA_OP_WRITE, va, len, 0, &r);
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
        coh_assert_cpu_sees(e, va, len, pat);
        coh_check_coherent(e);
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
        mk_check(e->k, coh_ctx_of(e), &rep);
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
        coh_check_coherent(e);
        coh_dev_dma(e, MMN_DMA_OP_WRITE, va, len, 0, &r);
        g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
        g_assert_cmpuint(r.faults, ==, 0);
        coh_assert_cpu_sees(e, va, len, pat);
    }
}


static void run_scenario(void *obj, void *data, QGuestAllocator *alloc)
{
    const Scenario *sc = data;
    Env *e = coh_env_new(obj, alloc, sc, sc->evtq_log2 ? sc->evtq_log2 : 8);
    uint32_t err;

    sc->fn(e);
    /* whatever happened, the device still works and nothing is pending */
    err = mk_readl(e->k, A_CMDQ_ERR);
    g_assert_false(FIELD_EX32(err, CMDQ_ERR, VALID));
    mk_sync(e->k);
    coh_env_free(e);
}

static void *mmn_before(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -m 512M");
    return arg;
}

void coh_register(const char *prefix, const Scenario *sc)
{
    QOSGraphTestOptions opts = {
        .before = mmn_before,
        .arg = (void *)sc,
    };
    g_autofree char *name = g_strdup_printf("coherence/%s/%s", prefix,
                                            sc->name);

    qos_add_test(name, "mmn-smmu", run_scenario, &opts);
}
