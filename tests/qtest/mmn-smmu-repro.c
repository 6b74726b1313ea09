/*
 * mmn-smmu reproduction report: the stale read-only PTE bug under three
 * kernel profiles (docs/devel/mmn-smmu-bug.rst): Linux 6.1, 6.1 with the
 * May 2023 patch "mmu_notifiers: Notify on pte permission upgrades"
 * (upgrade-notify), and Linux 6.6+.
 *
 * A qtest program, not a test suite: it starts one QEMU with -device
 * mmn-smmu, plays the guest kernel with libqos/mmn-kernel, runs every
 * upgrade scenario under every profile and prints one row per run.  It
 * exits 0 when every outcome is the expected one.
 *
 *   QTEST_QEMU_BINARY=qemu-system-aarch64 mmn-smmu-repro [--json]
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

#define RAM_BASE        0x40000000ULL
#define RAM_SIZE        (512ULL << 20)
#define VA39            0x2000000000ULL
#define THRESHOLD       16
#define MAX_ITER        (4 * THRESHOLD)
#define CTX             1

typedef enum Outcome {
    HEALED,         /* one fault, then the write completes */
    LIVELOCK,       /* repeated faults until the livelock detector */
    NOFAULT,        /* the write completes without any fault */
    OTHER,
} Outcome;

static const char *const outcome_names[] = {
    "healed", "livelock", "no-fault", "other"
};

/*
 * The class of a LIVELOCK (DMA status bit STALE, docs/specs/mmn-smmu.rst):
 * a stale IOTLB entry (a notification was missed) or an IOTLB that agrees
 * with page tables the fault handler did not fix.
 */
typedef enum LivelockClass {
    CLASS_NONE,     /* not a livelock */
    CLASS_STALE,
    CLASS_COHERENT,
} LivelockClass;

static const char *const class_names[] = { "-", "stale", "coherent" };

typedef struct Expect {
    Outcome outcome;
    LivelockClass cls;
} Expect;

#define E_HEALED        { HEALED, CLASS_NONE }
#define E_STALE         { LIVELOCK, CLASS_STALE }
#define E_NOFAULT       { NOFAULT, CLASS_NONE }

typedef struct Scenario {
    const char *name;
    const char *what;
    uint64_t va;            /* offset from VA39 of the mapping */
    uint64_t fault_off;     /* where the device writes, in the mapping */
    int map;                /* MK_MAP_HUGETLB, MK_MAP_THP or 0 (4 KiB) */
    bool shared;
    bool no_populate;       /* no MAP_POPULATE: the device's read faults */
    bool fork;              /* fork + child exit: write-protected, reused */
    bool read_first;        /* device reads first: read-only entry cached */
    bool cpu_hw_dirty;      /* the CPU dirties the PTE in hardware */
    bool smmu_hd;           /* the SMMU has HTTU (HA+HD) for the context */
    Expect expect[MK_NR_PROFILES];
} Scenario;

/*
 * Expected outcomes follow from which kernel notifies on which path
 * (docs/devel/mmn-smmu-bug.rst; libqos/mmn-kernel-profiles.c): the
 * upgrade-notify patch notifies from handle_pte_fault, insert_pfn,
 * __wp_page_copy_user and hugetlb_fault, not from do_wp_page's reuse
 * path nor from the THP paths (mm/huge_memory.c is not in the patch);
 * 6.6+ notifies from flush_tlb_page(), one 4 KiB page, which drops a
 * 2 MiB entry too because it overlaps.  A CPU hardware-dirty update
 * itself notifies nobody, but the device's fault then makes the kernel
 * set PTE_DIRTY (pte_mkdirty): the PTE changes, so 6.6 flushes and the
 * patch notifies.  Every livelock here is on a stale entry.
 */
static const Scenario scenarios[] = {
    { "writable-clean", "shared page, device read then write",
      0x400000, 0x40, 0, true, false, false, true, false, false,
      { E_STALE, E_HEALED, E_HEALED } },
    { "writable-clean-first-write", "shared page, first access a write",
      0x480000, 0, 0, true, false, false, false, false, false,
      { E_STALE, E_HEALED, E_HEALED } },
    { "wp-page-reuse", "private page after fork, child exited",
      0x500000, 0, 0, false, false, true, true, false, false,
      { E_STALE, E_STALE, E_HEALED } },
    /*
     * hugetlb_no_page() maps a shared writable hugetlb page dirty and
     * writable, so a hugetlb upgrade starts from a write-protected
     * private page: read-faulted (make_huge_pte(writable=0)), or after
     * fork.  Both are reused by hugetlb_wp().
     */
    { "hugetlb-private-read-first", "2 MiB private hugetlb, read-faulted",
      0x40000000, 0x5000, MK_MAP_HUGETLB, false, true, false, true, false,
      false, { E_STALE, E_HEALED, E_HEALED } },
    { "hugetlb-wp-reuse", "2 MiB private hugetlb after fork",
      0x40400000, 0x1ff000, MK_MAP_HUGETLB, false, false, true, true, false,
      false, { E_STALE, E_HEALED, E_HEALED } },
    { "thp-anon-wp-reuse", "2 MiB anonymous THP after fork",
      0x40800000, 0x1ff000, MK_MAP_THP, false, false, true, true, false,
      false, { E_STALE, E_STALE, E_HEALED } },
    { "thp-shmem-writable-clean", "2 MiB shmem THP, read then write",
      0x40c00000, 0x5000, MK_MAP_THP, true, false, false, true, false,
      false, { E_STALE, E_STALE, E_HEALED } },
    { "cpu-hw-dirty", "CPU dirtied the PTE in hardware (DBM)",
      0x580000, 0, 0, true, false, false, true, true, false,
      { E_STALE, E_HEALED, E_HEALED } },
    /*
     * Control: an SMMU with hardware dirty-state management writes the
     * DBM entry dirty itself (re-walk + compare-and-swap): no fault, no
     * notification needed, in every profile.
     */
    { "writable-clean-smmu-httu", "as writable-clean, SMMU with HTTU HD",
      0x600000, 0x40, 0, true, false, false, true, false, true,
      { E_NOFAULT, E_NOFAULT, E_NOFAULT } },
};

typedef struct Row {
    const Scenario *sc;
    MkProfile profile;
    unsigned notifications;
    char *log;
    unsigned faults;
    uint64_t cached_faults;
    unsigned retries;
    Outcome outcome;
    LivelockClass cls;
    const char *path;       /* Linux path of the upgrade, NULL if none */
    uint32_t stale;
    uint32_t stale_readonly;
    double ms;
} Row;

static uint64_t qom_counter(QTestState *qts, const char *name)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'qom-get', 'arguments': "
                           "{ 'path': '/machine/peripheral/mmn', "
                           "'property': %s } }", name);
    uint64_t v;

    g_assert(qdict_haskey(rsp, "return"));
    v = qdict_get_int(rsp, "return");
    qobject_unref(rsp);
    return v;
}

static const char *const event_names[] = {
    "UNMAP", "CLEAR", "PROTECTION_VMA", "PROTECTION_PAGE", "SOFT_DIRTY",
    "RELEASE", "MIGRATE", "EXCLUSIVE", "PROTECTION_UPGRADE",
};

/*
 * One-line summary, by kind, of the notifier commands the kernel side sent
 * (libqos/mmn-kernel's log: "start(8,...)=0 end(8,...) tlbs(...)").
 */
static char *summarize_log(const char *log, unsigned *count)
{
    g_auto(GStrv) words = g_strsplit(log, " ", -1);
    g_autoptr(GHashTable) counts = g_hash_table_new_full(g_str_hash,
                                                         g_str_equal,
                                                         g_free, NULL);
    GString *out = g_string_new(NULL);
    GList *keys, *l;
    int i;

    for (i = 0; words[i]; i++) {
        char *w = words[i];
        char *p = strchr(w, '(');
        char *key;

        if (!*w) {
            continue;
        }
        (*count)++;
        if (!p) {
            p = w + strlen(w);
        }
        if (g_str_has_prefix(w, "start") || g_str_has_prefix(w, "end")) {
            const char *endp;
            unsigned long ev = ~0UL;

            qemu_strtoul(p + 1, &endp, 10, &ev);

            key = g_strdup_printf("%.*s[%s]", (int)(p - w), w,
                                  ev < ARRAY_SIZE(event_names) ?
                                  event_names[ev] : "?");
        } else {
            key = g_strndup(w, p - w);
        }
        g_hash_table_insert(counts, key,
            GUINT_TO_POINTER(GPOINTER_TO_UINT(
                g_hash_table_lookup(counts, key)) + 1));
    }
    keys = g_list_sort(g_hash_table_get_keys(counts),
                       (GCompareFunc)g_strcmp0);
    for (l = keys; l; l = l->next) {
        g_string_append_printf(out, "%s%s x%u", out->len ? ", " : "",
                               (char *)l->data,
                               GPOINTER_TO_UINT(
                                   g_hash_table_lookup(counts, l->data)));
    }
    g_list_free(keys);
    if (!out->len) {
        g_string_append(out, "none");
    }
    return g_string_free(out, false);
}

static void run_one(QTestState *qts, MmnKernel *k, const Scenario *sc,
                    MkProfile p, Row *row, uint64_t buf)
{
    MkMm *mm = mk_mm_new(k, p, CTX, 39, MMN_CTX_CFG_STALL |
                          (sc->smmu_hd ?
                           MMN_CTX_CFG_HTTU(MMN_CTX_HTTU_HAHD) : 0));
    uint64_t va = VA39 + sc->va;
    uint64_t len = sc->map ? MK_HPAGE_SIZE : MK_PAGE_SIZE;
    uint64_t at = va + sc->fault_off;
    uint64_t cached0, faults0;
    int64_t t0 = g_get_monotonic_time();
    MkFaultLoop r;
    MmnCheckReport rep;
    MmnDmaDesc d;

    mk_mmap(mm, va, len, MK_PROT_READ | MK_PROT_WRITE,
            (sc->shared ? MK_MAP_SHARED : MK_MAP_PRIVATE) | sc->map);
    if (!sc->no_populate) {
        mk_populate(mm, va, len);
    }
    if (sc->fork) {
        mk_fork(mm, va, len);
        mk_child_exit(mm, va, len);
    }
    if (sc->read_first) {
        d = mk_dma_desc(MMN_DMA_OP_READ, CTX, at, 64, buf, 0);
        mk_dma_fault_loop(mm, &d, MAX_ITER, &r);
        g_assert_cmpuint(r.state, ==, MMN_DMA_ST_DONE);
    }
    if (sc->cpu_hw_dirty) {
        uint32_t w = cpu_to_le32(0x99999999);

        mk_mm_set_cpu_hw_dbm(mm, true);
        mk_cpu_write(mm, at + 0x800, &w, sizeof(w));
    }
    mk_mm_log_clear(mm);
    cached0 = qom_counter(qts, "cached-faults");
    faults0 = qom_counter(qts, "dma-faults");

    d = mk_dma_desc(MMN_DMA_OP_WRITE, CTX, at, 64, buf, 0);
    mk_dma_fault_loop(mm, &d, MAX_ITER, &r);
    /* The kernel's notifications for the change are done: check. */
    mk_check(k, CTX, &rep);

    row->sc = sc;
    row->profile = p;
    row->log = summarize_log(mk_mm_log(mm), &row->notifications);
    row->faults = qom_counter(qts, "dma-faults") - faults0;
    row->cached_faults = qom_counter(qts, "cached-faults") - cached0;
    row->retries = r.retries;
    row->outcome = r.state == MMN_DMA_ST_DONE && row->faults == 0 ? NOFAULT :
                   r.state == MMN_DMA_ST_DONE ? HEALED :
                   r.state == MMN_DMA_ST_LIVELOCK ? LIVELOCK : OTHER;
    row->cls = r.state != MMN_DMA_ST_LIVELOCK ? CLASS_NONE :
               r.stale ? CLASS_STALE : CLASS_COHERENT;
    row->path = mk_mm_upgrade_path(mm);
    row->stale = rep.stale;
    row->stale_readonly = rep.stale_readonly;
    row->ms = (g_get_monotonic_time() - t0) / 1000.0;
    mk_mm_free(mm);
}

/*
 * As expected, and the device's class agrees with its coherence checker
 * (stale: a stale read-only entry; coherent: no stale entry).
 */
static bool row_ok(const Row *r)
{
    const Expect *x = &r->sc->expect[r->profile];

    if (r->outcome != x->outcome || r->cls != x->cls) {
        return false;
    }
    switch (r->outcome) {
    case HEALED:
        return r->faults == 1 && r->retries == 1 && r->stale == 0 && r->path;
    case NOFAULT:
        return r->stale == 0;
    case LIVELOCK:
        return r->cls == CLASS_STALE ? r->stale_readonly >= 1 && r->path :
                                       r->stale == 0;
    default:
        return false;
    }
}

/* "livelock/stale", "healed"... (g_free it) */
static char *expect_str(const Expect *x)
{
    if (x->cls == CLASS_NONE) {
        return g_strdup(outcome_names[x->outcome]);
    }
    return g_strdup_printf("%s/%s", outcome_names[x->outcome],
                           class_names[x->cls]);
}

static void print_table(Row *rows, int n)
{
    int i;

    printf("%-15s %-27s %5s %7s %7s %-9s %-9s %-17s %-8s %7s  %s\n",
           "profile", "scenario", "notif", "faults", "retries", "outcome",
           "class", "expected", "stale", "time", "linux path of the upgrade");
    for (i = 0; i < n; i++) {
        Row *r = &rows[i];
        g_autofree char *want = expect_str(&r->sc->expect[r->profile]);
        g_autofree char *faults = g_strdup_printf("%u/%" PRIu64 "c",
                                                  r->faults,
                                                  r->cached_faults);
        g_autofree char *stale = g_strdup_printf("%u(ro %u)", r->stale,
                                                 r->stale_readonly);

        printf("%-15s %-27s %5u %7s %7u %-9s %-9s %-17s %-8s %5.1fms  %s%s\n",
               mk_profile_name(r->profile), r->sc->name, r->notifications,
               faults, r->retries, outcome_names[r->outcome],
               class_names[r->cls], want,
               stale, r->ms, r->path ? r->path : "-",
               row_ok(r) ? "" : "   <-- UNEXPECTED");
        printf("%-15s %-27s notifications received: %s\n", "", "", r->log);
    }
}

static void print_json(Row *rows, int n, bool all_ok)
{
    int i;

    printf("{\n  \"ok\": %s,\n  \"livelock_threshold\": %d,\n"
           "  \"profiles\": [\n", all_ok ? "true" : "false", THRESHOLD);
    for (i = 0; i < MK_NR_PROFILES; i++) {
        g_autofree char *what = g_strescape(mk_profile_what(i), NULL);

        printf("    {\"profile\": \"%s\", \"kernel\": \"%s\", "
               "\"subscriber\": \"%s\", \"subscriber_ops\": \"%s\"}%s\n",
               mk_profile_name(i), what, mk_subscriber_name(MK_SUB_SVA),
               mk_subscriber_ops(i, MK_SUB_SVA),
               i + 1 < MK_NR_PROFILES ? "," : "");
    }
    printf("  ],\n  \"runs\": [\n");
    for (i = 0; i < n; i++) {
        Row *r = &rows[i];
        const Expect *x = &r->sc->expect[r->profile];

        printf("    {\"profile\": \"%s\", \"scenario\": \"%s\", "
               "\"description\": \"%s\", \"notifications\": %u, "
               "\"notification_kinds\": \"%s\", \"faults\": %u, "
               "\"cached_faults\": %" PRIu64 ", \"retries\": %u, "
               "\"outcome\": \"%s\", \"class\": \"%s\", "
               "\"expected\": \"%s\", \"expected_class\": \"%s\", "
               "\"linux_path\": %s%s%s, "
               "\"stale\": %u, \"stale_readonly\": %u, \"ms\": %.1f, "
               "\"as_expected\": %s}%s\n",
               mk_profile_name(r->profile), r->sc->name, r->sc->what,
               r->notifications, r->log, r->faults, r->cached_faults,
               r->retries, outcome_names[r->outcome], class_names[r->cls],
               outcome_names[x->outcome], class_names[x->cls],
               r->path ? "\"" : "", r->path ? r->path : "null",
               r->path ? "\"" : "", r->stale, r->stale_readonly, r->ms,
               row_ok(r) ? "true" : "false", i + 1 < n ? "," : "");
    }
    printf("  ]\n}\n");
}

int main(int argc, char **argv)
{
    bool json = argc > 1 && !strcmp(argv[1], "--json");
    int n = ARRAY_SIZE(scenarios) * MK_NR_PROFILES;
    g_autofree Row *rows = g_new0(Row, n);
    QGuestAllocator alloc;
    QGenericPCIBus bus;
    QPCIAddress addr = {
        .devfn = QPCI_DEVFN(4, 0),
        .vendor_id = MMN_SMMU_PCI_VENDOR_ID,
        .device_id = MMN_SMMU_PCI_DEVICE_ID,
    };
    QMmnSmmu dev = { 0 };
    QTestState *qts;
    MmnKernel *k;
    uint64_t buf;
    bool all_ok = true;
    int i, p, row = 0;
    int saved_stdout, devnull;

    if (argc > 1 && !json) {
        fprintf(stderr, "usage: %s [--json]\n", argv[0]);
        return 2;
    }
    /* libqtest announces the QEMU command line on stdout: keep it clean. */
    fflush(stdout);
    saved_stdout = dup(STDOUT_FILENO);
    devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    qts = qtest_initf("-M virt -cpu max -m 512M -nic none "
                      "-device mmn-smmu,id=mmn,addr=04.0,"
                      "livelock-threshold=%d", THRESHOLD);
    fflush(stdout);
    dup2(saved_stdout, STDOUT_FILENO);
    close(saved_stdout);
    close(devnull);
    alloc_init(&alloc, 0, RAM_BASE, RAM_BASE + RAM_SIZE, 4096);
    qpci_init_generic(&bus, qts, &alloc, false);
    qpci_device_init(&dev.dev, &bus.bus, &addr);
    dev.bar = qpci_iomap(&dev.dev, 0, NULL);
    qpci_device_enable(&dev.dev);
    k = mk_new(&dev, &alloc, 8, 8);
    buf = mk_alloc(k, 0x10000, 4096);

    for (i = 0; i < ARRAY_SIZE(scenarios); i++) {
        for (p = 0; p < MK_NR_PROFILES; p++) {
            run_one(qts, k, &scenarios[i], p, &rows[row], buf);
            all_ok &= row_ok(&rows[row]);
            row++;
        }
    }

    if (json) {
        print_json(rows, n, all_ok);
    } else {
        printf("mmn-smmu: stale read-only PTE reproduction "
               "(faults: total/served from cache; livelock threshold %d)\n",
               THRESHOLD);
        for (p = 0; p < MK_NR_PROFILES; p++) {
            printf("  %-15s %s; the device plays the SMMU's SVA driver: "
                   "%s\n", mk_profile_name(p), mk_profile_what(p),
                   mk_subscriber_ops(p, MK_SUB_SVA));
        }
        printf("  class: stale = LIVELOCK on a stale IOTLB entry (a missed "
               "notification), coherent = the IOTLB agrees with tables the "
               "fault handler did not fix\n\n");
        print_table(rows, n);
        printf("\n%s\n", all_ok ?
               "All outcomes as expected: linux-6.1 livelocks on a stale "
               "read-only entry; the fixes heal after one fault where they "
               "notify." :
               "UNEXPECTED outcomes (marked above).");
    }
    for (i = 0; i < n; i++) {
        g_free(rows[i].log);
    }
    mk_free(k);
    qtest_quit(qts);
    return all_ok ? 0 : 1;
}
