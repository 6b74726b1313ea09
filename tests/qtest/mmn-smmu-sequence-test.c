/*
 * mmn-smmu random mm sequences against a reference of the test's own.
 *
 * For each kernel profile, libqos/mmn-kernel plays the guest kernel
 * through a random sequence of mm operations (mmap/munmap, mprotect both
 * ways, fork and COW, write upgrades on every fault route the model has,
 * hugetlb and THP, aging, MIGRATE with and without the context's owner,
 * exit_mmap's release) interleaved with device DMA reads and writes and
 * CPU accesses.  The test keeps its own reference: for every 4 KiB page
 * of every mapping, the access the VMA grants and the 32-bit word the
 * page must hold now; and the pages that left the tables (munmap, COW,
 * migration) with the contents they must keep.  After every operation,
 * once its notifications are complete, it checks:
 *  - dangerous (none tolerated in any profile): a DMA that completed
 *    where the reference denies it, read data other than the reference,
 *    a write that did not land in the page the current tables map (or
 *    where they do not grant write), a write into a page that left the
 *    tables, and CHECK's stale_writable, stale_present and stale_oa;
 *  - stale read-only entries (CHECK stale_readonly, a write LIVELOCK on a
 *    stale entry): only after a permission upgrade on a route the profile
 *    does not notify, per the expectations of mmn-smmu-repro.c (table
 *    stale_ro_routes, mmn-smmu-sequence-reference.c), or a CPU hardware
 *    dirty update;
 *  - anything else unexpected (a permitted access aborted...).
 * Every outcome is counted and printed per profile with operations per
 * second.
 *
 * This file holds the run (epochs, one test per profile); the reference
 * and its checks are mmn-smmu-sequence-reference.c, the operations
 * mmn-smmu-sequence-ops.c.
 *
 * Environment: MMN_SEQ_SEED (default fixed), MMN_SEQ_OPS (operations
 * per profile).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-smmu-sequence.h"

static uint64_t seq_seed = DEFAULT_SEED;
static uint64_t seq_ops = DEFAULT_OPS;

static QPCIAddress mmn_addr = {
    .devfn = QPCI_DEVFN(4, 0),
    .vendor_id = MMN_SMMU_PCI_VENDOR_ID,
    .device_id = MMN_SMMU_PCI_DEVICE_ID,
};

/* ---- epochs: one mm bound to the device ---- */

static void epoch_start(Seq *s)
{
    uint64_t owner = chance(s, 50) ? OWN_COOKIE : 0;

    s->k = mk_new(&s->dev, &s->alloc, 8, 8);
    s->buf = mk_alloc(s->k, MK_PAGE_SIZE, MK_PAGE_SIZE);
    s->mm = mk_mm_new_owner(s->k, s->p, CTX, chance(s, 50) ? 39 : 48,
                            MMN_CTX_CFG_STALL, owner);
    mk_mm_set_subscriber(s->mm, chance(s, 50) ? MK_SUB_SVA : MK_SUB_MIRROR);
    mk_mm_set_cpu_hw_dbm(s->mm, chance(s, 50));
    memset(s->slot, 0, sizeof(s->slot));
    g_array_set_size(s->retired, 0);
    s->stale_ro_ok = false;
    s->epoch_ops = 0;
    s->counts[C_EPOCHS]++;
}

static void epoch_end(Seq *s)
{
    mk_mm_free(s->mm);
    s->mm = NULL;
    /* stop the queues before their memory goes back to the allocator */
    mk_writel(s->k, A_CTRL, 0);
    mk_free(s->k);
    s->k = NULL;
}

static void seq_run(const void *opaque)
{
    MkProfile p = GPOINTER_TO_INT(opaque);
    uint64_t seed = seq_seed * MK_NR_PROFILES + p;
    Seq *s = g_new0(Seq, 1);
    uint64_t bad = 0;
    int64_t t0;
    double secs;
    GString *out = g_string_new(NULL);

    s->p = p;
    s->rng = g_rand_new_with_seed_array((const guint32[]) {
                                            (guint32)seed,
                                            (guint32)(seed >> 32) }, 2);
    s->retired = g_array_new(false, false, sizeof(Retired));
    alloc_init(&s->alloc, 0, RAM_BASE, RAM_BASE + RAM_SIZE, 4096);
    s->qts = qtest_initf("-M virt -cpu max -m 1G -nic none "
                         "-device mmn-smmu,id=mmn,addr=04.0,"
                         "livelock-threshold=%d", THRESHOLD);
    qpci_init_generic(&s->bus, s->qts, &s->alloc, false);
    qpci_device_init(&s->dev.dev, &s->bus.bus, &mmn_addr);
    s->dev.bar = qpci_iomap(&s->dev.dev, 0, NULL);
    qpci_device_enable(&s->dev.dev);

    t0 = g_get_monotonic_time();
    epoch_start(s);
    for (s->op_index = 0; s->op_index < seq_ops;) {
        Op op = pick_op(s);

        if (!run_op(s, op)) {
            continue;
        }
        s->op_index++;
        if (op == OP_RELEASE || ++s->epoch_ops == EPOCH_OPS) {
            epoch_end(s);
            epoch_start(s);
        }
    }
    epoch_end(s);
    secs = (g_get_monotonic_time() - t0) / 1e6;

    g_string_append_printf(out, "%s: %" PRIu64 " operations in %.2f s, "
                           "%.0f/s (seed %" PRIu64 "):", mk_profile_name(p),
                           seq_ops, secs, seq_ops / MAX(secs, 0.000001),
                           seq_seed);
    for (int c = 0; c < NR_COUNTS; c++) {
        g_string_append_printf(out, " %s=%" PRIu64, count_names[c],
                               s->counts[c]);
        if (c >= FIRST_BAD) {
            bad += s->counts[c];
        }
    }
    for (size_t r = 0; r < NR_STALE_RO_ROUTES; r++) {
        g_string_append_printf(out, "%s route \"%s\"=%" PRIu64,
                               r ? "," : "; upgrades by",
                               stale_ro_routes[r].path, s->routes[r]);
    }
    g_test_message("%s", out->str);
    g_string_free(out, true);
    qtest_quit(s->qts);
    g_array_free(s->retired, true);
    g_rand_free(s->rng);
    g_free(s);
    g_assert_cmpuint(bad, ==, 0);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *v = g_getenv(name);
    uint64_t n;

    if (!v || !*v) {
        return def;
    }
    if (qemu_strtou64(v, NULL, 0, &n) < 0) {
        fprintf(stderr, "%s must be an unsigned integer, not '%s'\n",
                name, v);
        exit(2);
    }
    return n;
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    seq_seed = env_u64("MMN_SEQ_SEED", DEFAULT_SEED);
    seq_ops = env_u64("MMN_SEQ_OPS", DEFAULT_OPS);
    g_test_message("seed %" PRIu64 " (MMN_SEQ_SEED), %" PRIu64
                   " operations per profile (MMN_SEQ_OPS)", seq_seed,
                   seq_ops);
    for (int p = 0; p < MK_NR_PROFILES; p++) {
        g_autofree char *path = g_strdup_printf("/mmn-smmu/sequence/%s",
                                                mk_profile_name(p));

        qtest_add_data_func(path, GINT_TO_POINTER(p), seq_run);
    }
    return g_test_run();
}
