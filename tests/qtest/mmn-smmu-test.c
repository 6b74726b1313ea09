/*
 * qtest for mmn-smmu: identification, reset values, undefined registers
 * (and their guest-error log), QOM counters.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qemu/module.h"
#include "qobject/qdict.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "libqos/mmn-smmu.h"
#include "libqos/mmn-kernel.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"
#include "hw/pci/pci_regs.h"

static void test_pci_ids(void *obj, void *data, QGuestAllocator *alloc)
{
    QMmnSmmu *s = obj;

    g_assert_cmphex(qpci_config_readw(&s->dev, PCI_VENDOR_ID), ==,
                    MMN_SMMU_PCI_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(&s->dev, PCI_DEVICE_ID), ==,
                    MMN_SMMU_PCI_DEVICE_ID);
    g_assert_cmphex(qpci_config_readw(&s->dev, PCI_CLASS_DEVICE), ==,
                    MMN_SMMU_PCI_CLASS);
    g_assert_cmphex(qpci_config_readb(&s->dev, PCI_REVISION_ID), ==,
                    MMN_SMMU_PCI_REVISION);
}

static void test_ident_regs(void *obj, void *data, QGuestAllocator *alloc)
{
    QMmnSmmu *s = obj;
    uint32_t ver = qmmn_readl(s, A_ID + 4);
    uint32_t feat = qmmn_readl(s, A_FEATURES);

    g_assert_cmphex(qmmn_readl(s, A_ID), ==, MMN_SMMU_ID_VALUE);
    g_assert_cmpuint(FIELD_EX32(ver, VERSION, MAJOR), ==,
                     MMN_SMMU_VERSION_MAJOR);
    g_assert_cmpuint(FIELD_EX32(ver, VERSION, MINOR), ==,
                     MMN_SMMU_VERSION_MINOR);
    g_assert_true(FIELD_EX32(feat, FEATURES, VA39));
    g_assert_true(FIELD_EX32(feat, FEATURES, VA48));
    g_assert_false(FIELD_EX32(feat, FEATURES, BTM));
    g_assert_cmpuint(qmmn_readl(s, A_NUM_CTX), ==, 8);
    g_assert_cmpuint(qmmn_readl(s, A_IOTLB_CAP), ==, 4096);
}

static void test_read_only_regs(void *obj, void *data, QGuestAllocator *alloc)
{
    QMmnSmmu *s = obj;

    qmmn_writel(s, A_ID, 0xdeadbeef);
    g_assert_cmphex(qmmn_readl(s, A_ID), ==, MMN_SMMU_ID_VALUE);
}

/* Runs before test_undefined_regs: log guest errors to a fresh file. */
static void *before_guest_errors_log(GString *cmd_line, void *arg)
{
    char *path;
    int fd = g_file_open_tmp("mmn-smmu-log-XXXXXX", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    g_string_append_printf(cmd_line, " -d guest_errors -D %s", path);
    return path;
}

/* The lines of @path that come from the device. */
static GPtrArray *device_log_lines(const char *path)
{
    g_autofree char *log = NULL;
    g_auto(GStrv) lines = NULL;
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

    g_assert_true(g_file_get_contents(path, &log, NULL, NULL));
    lines = g_strsplit(log, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], "mmn-smmu: ")) {
            g_ptr_array_add(out, g_strdup(lines[i]));
        }
    }
    return out;
}

static void test_undefined_regs(void *obj, void *data, QGuestAllocator *alloc)
{
    QMmnSmmu *s = obj;
    g_autofree char *path = data;
    g_autoptr(GPtrArray) lines = NULL;
    static const char *const expected[] = {
        "mmn-smmu: write to undefined register 0xff0",
        "mmn-smmu: read of undefined register 0xff0",
        "mmn-smmu: read of undefined register 0xffc",
        "mmn-smmu: write to undefined register 0x98",
        "mmn-smmu: read of undefined register 0x98",
    };

    /* Reads of defined registers log nothing. */
    mk_assert_reset_state(s);

    /* Undefined offsets read as zero and ignore writes. */
    qmmn_writel(s, 0xff0, 0x12345678);
    g_assert_cmphex(qmmn_readl(s, 0xff0), ==, 0);
    g_assert_cmphex(qmmn_readl(s, 0xffc), ==, 0);
    /* the first offset after the register map */
    qmmn_writel(s, A_DMA_FAULT_VA_HI + 4, 0xffffffff);
    g_assert_cmphex(qmmn_readl(s, A_DMA_FAULT_VA_HI + 4), ==, 0);
    /* and the write changed no defined register */
    mk_assert_reset_state(s);

    /* Each access logged a guest error, in order, and nothing else did. */
    lines = device_log_lines(path);
    for (guint i = 0; i < lines->len; i++) {
        g_test_message("log: %s", (char *)lines->pdata[i]);
    }
    g_assert_cmpuint(lines->len, ==, ARRAY_SIZE(expected));
    for (guint i = 0; i < lines->len; i++) {
        g_assert_cmpstr(lines->pdata[i], ==, expected[i]);
    }
    unlink(path);
}

/* The qos node's device has id=mmn0 (libqos/mmn-smmu.c). */
static uint64_t qom_counter(QMmnSmmu *s, const char *name)
{
    QDict *rsp = qtest_qmp(s->dev.bus->qts,
                           "{ 'execute': 'qom-get', 'arguments': "
                           "{ 'path': '/machine/peripheral/mmn0', "
                           "'property': %s } }", name);
    uint64_t v;

    g_assert_true(qdict_haskey(rsp, "return"));
    v = qdict_get_int(rsp, "return");

    qobject_unref(rsp);
    return v;
}

typedef struct Counters {
    uint64_t commands, events, dma_faults, fills, hits, misses;
} Counters;

static void counters_read(QMmnSmmu *s, Counters *c)
{
    c->commands = qom_counter(s, "commands");
    c->events = qom_counter(s, "events");
    c->dma_faults = qom_counter(s, "dma-faults");
    c->fills = qom_counter(s, "iotlb-fills");
    c->hits = qom_counter(s, "iotlb-hits");
    c->misses = qom_counter(s, "iotlb-misses");
}

/* Asserts each counter moved by the given amount since *@c; updates *@c. */
static void counters_moved(QMmnSmmu *s, Counters *c, uint64_t commands,
                           uint64_t events, uint64_t dma_faults,
                           uint64_t fills, uint64_t hits, uint64_t misses)
{
    Counters n;

    counters_read(s, &n);
    g_assert_cmpuint(n.commands - c->commands, ==, commands);
    g_assert_cmpuint(n.events - c->events, ==, events);
    g_assert_cmpuint(n.dma_faults - c->dma_faults, ==, dma_faults);
    g_assert_cmpuint(n.fills - c->fills, ==, fills);
    g_assert_cmpuint(n.hits - c->hits, ==, hits);
    g_assert_cmpuint(n.misses - c->misses, ==, misses);
    *c = n;
}

static void test_qom_counters(void *obj, void *data, QGuestAllocator *alloc)
{
    QMmnSmmu *s = obj;
    const uint64_t va = 0x2000000000ULL;
    MmnKernel *k;
    MkMm *mm;
    MmnDmaDesc d;
    MmnEvt e;
    Counters c;
    uint64_t buf;

    mk_assert_reset_state(s);
    k = mk_new(s, alloc, 4, 4);
    buf = mk_alloc(k, 4096, 4096);
    mm = mk_mm_new(k, MK_LINUX_6_6, 1, 39, 0);
    mk_mmap_populate(mm, va, MK_PAGE_SIZE, MK_PROT_READ | MK_PROT_WRITE,
                     MK_MAP_PRIVATE);
    counters_read(s, &c);

    /* One command. */
    mk_sync(k);
    counters_moved(s, &c, 1, 0, 0, 0, 0, 0);

    /* One faulting DMA (no mapping, no STALL): one fault, one event. */
    d = mk_dma_desc(MMN_DMA_OP_READ, 1, va + 0x100000, 64, buf, 0);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_dma_submit(k, &d, NULL)), ==,
                     MMN_DMA_ST_FAULT);
    counters_moved(s, &c, 0, 1, 1, 0, 0, 1);
    g_assert_true(mk_evt_pop(k, &e));
    g_assert_cmpuint(e.type, ==, MMN_EVT_FAULT);

    /* A read DMA walks and fills; the same read again hits. */
    d = mk_dma_desc(MMN_DMA_OP_READ, 1, va, 64, buf, 0);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_dma_submit(k, &d, NULL)), ==,
                     MMN_DMA_ST_DONE);
    counters_moved(s, &c, 0, 0, 0, 1, 0, 1);
    g_assert_cmpuint(MMN_DMA_STATUS_STATE(mk_dma_submit(k, &d, NULL)), ==,
                     MMN_DMA_ST_DONE);
    counters_moved(s, &c, 0, 0, 0, 0, 1, 0);

    mk_mm_free(mm);
    mk_free(k);
}

static void mmn_smmu_register_tests(void)
{
    QOSGraphTestOptions log_opts = {
        .before = before_guest_errors_log,
    };

    qos_add_test("pci-ids", "mmn-smmu", test_pci_ids, NULL);
    qos_add_test("ident-regs", "mmn-smmu", test_ident_regs, NULL);
    qos_add_test("read-only-regs", "mmn-smmu", test_read_only_regs, NULL);
    qos_add_test("undefined-regs", "mmn-smmu", test_undefined_regs,
                 &log_opts);
    qos_add_test("qom-counters", "mmn-smmu", test_qom_counters, NULL);
}

libqos_init(mmn_smmu_register_tests);
