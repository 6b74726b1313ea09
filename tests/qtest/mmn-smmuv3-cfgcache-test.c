/*
 * qtests of mmn-smmuv3's configuration cache (hw/mmn-smmu/smmuv3/
 * config-cache.c): an STE or CD changed without the CFGI_* command that
 * Arm IHI 0070 (G.b) 4.3 requires keeps its old configuration; CFGI_CD,
 * CFGI_STE, CFGI_STE_RANGE (and CFGI_ALL), CFGI_CD_ALL drop what they
 * cover, with Leaf = 0 on 2-level stream and CD tables too; SMMUEN 1 -> 0
 * drops everything; config-cache=off reads the tables every time; the
 * stale-configs counter; a flood of SubstreamIDs stays bounded.
 *
 * Every change goes with a TLBI_NH_ALL, so the old configuration shows
 * through a walk of its own tables, not through an IOTLB entry: the old
 * CD's tables map VA to DATA_PA, the new CD's (ASID 8) to DATA2_PA.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "libqos/mmn-smmuv3-env.h"

#define DATA2_PA        (V3_RAM + 0x08010000)
#define ASID2           8
#define CFGC_MAX        1024    /* MMN_SMMUV3_CFGC_MAX */

typedef struct T {
    V3Env e;
    uint64_t root2;             /* VA -> DATA2_PA */
    char *smmu;                 /* QOM path of the SMMU */
    uint32_t pattern;
} T;

static void t_up(T *t, const char *props)
{
    QDict *rsp;
    QListEntry *ent;

    memset(t, 0, sizeof(*t));
    v3e_up(&t->e, props, false);
    t->root2 = v3_pt_new(&t->e.v);
    v3_map(&t->e.v, t->root2, VA, DATA2_PA, USER_RW);
    /* the SMMU virt creates is a child of /machine/unattached */
    rsp = qtest_qmp(t->e.qts, "{ 'execute': 'qom-list', 'arguments': "
                    "{ 'path': '/machine/unattached' } }");
    QLIST_FOREACH_ENTRY(qdict_get_qlist(rsp, "return"), ent) {
        QDict *c = qobject_to(QDict, qlist_entry_obj(ent));

        if (!strcmp(qdict_get_str(c, "type"), "child<mmn-smmuv3>")) {
            t->smmu = g_strdup_printf("/machine/unattached/%s",
                                      qdict_get_str(c, "name"));
        }
    }
    qobject_unref(rsp);
    g_assert_nonnull(t->smmu);
}

static void t_down(T *t)
{
    qtest_quit(t->e.qts);
    g_free(t->smmu);
}

static uint64_t qom(T *t, const char *name)
{
    QDict *rsp = qtest_qmp(t->e.qts, "{ 'execute': 'qom-get', 'arguments': "
                           "{ 'path': %s, 'property': %s } }", t->smmu, name);
    uint64_t v;

    g_assert_true(qdict_haskey(rsp, "return"));
    v = qdict_get_int(rsp, "return");
    qobject_unref(rsp);
    return v;
}

static void cmd(T *t, uint64_t w0, uint64_t w1)
{
    v3_cmd(&t->e.v, w0, w1);
    g_assert_cmphex(v3_rd(&t->e.v, V3_CMDQ_CONS), ==, t->e.v.cmd_prod);
}

static void cfgi_ste(T *t, uint32_t sid, bool leaf)
{
    cmd(t, CMD_CFGI_STE | (uint64_t)sid << 32, leaf);
}

static void cfgi_range(T *t, uint32_t sid, unsigned range)
{
    cmd(t, CMD_CFGI_STE_RANGE | (uint64_t)sid << 32, range);
}

static void cfgi_cd(T *t, uint32_t sid, uint32_t ssid, bool leaf)
{
    cmd(t, CMD_CFGI_CD | (uint64_t)ssid << 12 | (uint64_t)sid << 32, leaf);
}

static void cfgi_cd_all(T *t, uint32_t sid)
{
    cmd(t, CMD_CFGI_CD_ALL | (uint64_t)sid << 32, 0);
}

/* Where a 4-byte FILL at VA lands: 1 DATA_PA, 2 DATA2_PA. */
static int where(T *t, bool ssv, uint32_t pasid)
{
    uint32_t p = 0x5a000000 | ++t->pattern;
    V3Job j;
    int r = 0;

    qtest_writel(t->e.qts, DATA_PA, 0);
    qtest_writel(t->e.qts, DATA2_PA, 0);
    v3_job(&t->e.v, M_OP_FILL, VA, 4, ssv, pasid, p, &j);
    g_assert_cmphex(ST(j.status), ==, M_ST_DONE);
    v3e_none(&t->e);
    if (qtest_readl(t->e.qts, DATA_PA) == p) {
        r |= 1;
    }
    if (qtest_readl(t->e.qts, DATA2_PA) == p) {
        r |= 2;
    }
    return r;
}

/* The CD with ASID 8 on the second tables. */
static uint64_t cd2_w0(void)
{
    return (v3e_cd_w0(false, true) & ~(0xffffULL << 48)) |
           (uint64_t)ASID2 << 48;
}

/* CD @ssid of @cdtab moved to the second tables, no CFGI (a TLBI only). */
static void cd_move(T *t, uint64_t cdtab, uint32_t ssid)
{
    v3_cd_raw(&t->e.v, cdtab, ssid, cd2_w0(), t->root2);
    cmd(t, CMD_TLBI_NH_ALL, 0);
}

/* A linear CD table of 16 CDs, CDs 0 and PASID on the second tables. */
static uint64_t cdtab2(T *t)
{
    uint64_t c = v3_alloc(&t->e.v, 4096);

    v3_cd_raw(&t->e.v, c, 0, cd2_w0(), t->root2);
    v3_cd_raw(&t->e.v, c, PASID, cd2_w0(), t->root2);
    return c;
}

/* The master's STE at @at: stage 1, @cdmax, S1DSS SSID0, CDs at @ctx. */
static void ste_at(T *t, uint64_t at, unsigned fmt, uint64_t ctx,
                   unsigned cdmax)
{
    qtest_memset(t->e.qts, at, 0, 64);
    qtest_writeq(t->e.qts, at + 8, 2 | (1ULL << 2) | (1ULL << 4) |
                 (3ULL << 6));
    qtest_writeq(t->e.qts, at, 1 | 5 << 1 | fmt << 4 | ctx |
                 (uint64_t)cdmax << 59);
    cmd(t, CMD_TLBI_NH_ALL, 0);
}

static uint64_t ste_linear(T *t)
{
    return t->e.v.strtab + (uint64_t)SID * 64;
}

/* CFGI_CD: only the CD it names; before it the old tables. */
static void test_cd(void)
{
    T t;

    t_up(&t, NULL);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    g_assert_cmpuint(qom(&t, "config-cache-hits"), ==, 0);
    g_assert_cmpuint(qom(&t, "config-cache-entries"), ==, 1);
    cd_move(&t, t.e.cdtab, PASID);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    g_assert_cmpuint(qom(&t, "config-cache-hits"), ==, 2);
    g_assert_cmpuint(qom(&t, "stale-configs"), ==, 2);
    /* another SubstreamID, another StreamID: not this entry */
    cfgi_cd(&t, SID, PASID + 1, true);
    cfgi_cd(&t, SID + 1, PASID, true);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    cfgi_cd(&t, SID, PASID, true);
    g_assert_cmpint(where(&t, true, PASID), ==, 2);
    g_assert_cmpint(where(&t, true, PASID), ==, 2);
    g_assert_cmpuint(qom(&t, "config-cache-hits"), ==, 4);
    g_assert_cmpuint(qom(&t, "stale-configs"), ==, 3);

    /* no substream: CD 0 (S1DSS SSID0), dropped by CFGI_CD SubstreamID 0 */
    g_assert_cmpint(where(&t, false, 0), ==, 1);
    cd_move(&t, t.e.cdtab, 0);
    g_assert_cmpint(where(&t, false, 0), ==, 1);
    cfgi_cd(&t, SID, 0, true);
    g_assert_cmpint(where(&t, false, 0), ==, 2);
    t_down(&t);
}

/* CFGI_STE drops the StreamID's entries, with and without a substream. */
static void test_ste(void)
{
    T t;

    t_up(&t, NULL);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    g_assert_cmpint(where(&t, false, 0), ==, 1);
    ste_at(&t, ste_linear(&t), 0, cdtab2(&t), 4);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    g_assert_cmpint(where(&t, false, 0), ==, 1);
    cfgi_ste(&t, SID + 1, true);
    cfgi_ste(&t, SID + 1, false);       /* linear table: no L1STD */
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    cfgi_ste(&t, SID, true);
    g_assert_cmpuint(qom(&t, "config-cache-entries"), ==, 0);
    g_assert_cmpint(where(&t, true, PASID), ==, 2);
    g_assert_cmpint(where(&t, false, 0), ==, 2);
    t_down(&t);
}

/* CFGI_STE_RANGE: 2^(Range + 1) StreamIDs; Range 31 is CFGI_ALL. */
static void test_ste_range(void)
{
    T t;

    t_up(&t, NULL);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    ste_at(&t, ste_linear(&t), 0, cdtab2(&t), 4);
    cfgi_range(&t, SID + 2, 0);         /* SID + 2, SID + 3 */
    cfgi_range(&t, SID - 1, 0);         /* SID - 2, SID - 1 */
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    cfgi_range(&t, SID + 3, 1);         /* SID .. SID + 3 */
    g_assert_cmpint(where(&t, true, PASID), ==, 2);

    ste_at(&t, ste_linear(&t), 0, t.e.cdtab, 4);
    g_assert_cmpint(where(&t, true, PASID), ==, 2);
    cfgi_range(&t, 0, 31);              /* Linux's CMD_CFGI_ALL */
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    t_down(&t);
}

/* CFGI_CD_ALL drops every CD of the StreamID. */
static void test_cd_all(void)
{
    T t;

    t_up(&t, NULL);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    g_assert_cmpint(where(&t, false, 0), ==, 1);
    cd_move(&t, t.e.cdtab, PASID);
    cd_move(&t, t.e.cdtab, 0);
    cfgi_cd_all(&t, SID + 1);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    g_assert_cmpint(where(&t, false, 0), ==, 1);
    cfgi_cd_all(&t, SID);
    g_assert_cmpint(where(&t, true, PASID), ==, 2);
    g_assert_cmpint(where(&t, false, 0), ==, 2);
    t_down(&t);
}

/*
 * A 2-level stream table, SPLIT 8: CFGI_STE of another StreamID, with
 * Leaf = 1 or 0, behind the master's L1STD or another, keeps the master's
 * entry (an SMMU caches each STE; Leaf = 0 adds only the L1STD on that
 * StreamID's path, Arm IHI 0070 4.3.1); the master's own with Leaf = 0
 * drops it.
 */
static void test_ste_leaf_2level(void)
{
    T t;
    uint64_t l1, l2;

    t_up(&t, NULL);
    l1 = v3_alloc(&t.e.v, 4096);
    l2 = v3e_l2_table(&t.e, 9, SID & 0xff);
    qtest_writeq(t.e.qts, l1 + (SID >> 8) * 8, l2 | 9);
    v3e_strtab(&t.e, l1, CFG_2L(8, 17), 0x2);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    ste_at(&t, l2 + (SID & 0xff) * 64, 0, cdtab2(&t), 4);
    cfgi_ste(&t, SID + 1, true);
    cfgi_ste(&t, SID + 0x100, false);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    cfgi_ste(&t, SID + 0xff, false);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    cfgi_ste(&t, SID, false);
    g_assert_cmpint(where(&t, true, PASID), ==, 2);
    t_down(&t);
}

/*
 * A 2-level CD table (S1Fmt 4 KiB leaves: 64 CDs per L1CD), S1CDMax 8:
 * CFGI_CD of another SubstreamID behind the same L1CD, with Leaf = 1 or
 * 0, keeps the entry (4.3.3: Leaf = 0 adds only the L1CD on that
 * SubstreamID's path); its own, with Leaf = 0 or 1, drops only it.
 */
static void test_cd_leaf_2level(void)
{
    T t;
    uint64_t l1cd, l2a, l2b;

    t_up(&t, NULL);
    l1cd = v3_alloc(&t.e.v, 4096);
    l2a = v3_alloc(&t.e.v, 4096);
    l2b = v3_alloc(&t.e.v, 4096);
    qtest_writeq(t.e.qts, l1cd, l2a | 1);
    qtest_writeq(t.e.qts, l1cd + 8, l2b | 1);
    v3_cd_raw(&t.e.v, l2a, PASID, v3e_cd_w0(false, true), t.e.root);
    v3_cd_raw(&t.e.v, l2b, PASID, v3e_cd_w0(false, true), t.e.root);
    ste_at(&t, ste_linear(&t), 1, l1cd, 8);
    cfgi_ste(&t, SID, true);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    g_assert_cmpint(where(&t, true, 64 + PASID), ==, 1);
    cd_move(&t, l2a, PASID);
    cd_move(&t, l2b, PASID);
    cfgi_cd(&t, SID, PASID + 1, true);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    g_assert_cmpint(where(&t, true, 64 + PASID), ==, 1);
    cfgi_cd(&t, SID, PASID + 1, false);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    g_assert_cmpint(where(&t, true, 64 + PASID), ==, 1);
    cfgi_cd(&t, SID, PASID, false);
    g_assert_cmpint(where(&t, true, PASID), ==, 2);
    g_assert_cmpint(where(&t, true, 64 + PASID), ==, 1);
    cfgi_cd(&t, SID, 64 + PASID, true);
    g_assert_cmpint(where(&t, true, 64 + PASID), ==, 2);
    t_down(&t);
}

/* CR0.SMMUEN 1 -> 0 empties the cache. */
static void test_smmuen(void)
{
    T t;

    t_up(&t, NULL);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    cd_move(&t, t.e.cdtab, PASID);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    v3_wr(&t.e.v, V3_CR0, 0xc);
    g_assert_cmpuint(qom(&t, "config-cache-entries"), ==, 0);
    v3_wr(&t.e.v, V3_CR0, 0xd);
    g_assert_cmpint(where(&t, true, PASID), ==, 2);
    t_down(&t);
}

/* config-cache=off: every transaction reads the tables. */
static void test_off(void)
{
    T t;

    t_up(&t, "-global mmn-smmuv3.config-cache=off");
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    cd_move(&t, t.e.cdtab, PASID);
    g_assert_cmpint(where(&t, true, PASID), ==, 2);
    ste_at(&t, ste_linear(&t), 0, t.e.cdtab, 4);
    v3_cd_raw(&t.e.v, t.e.cdtab, PASID, v3e_cd_w0(false, true), t.e.root);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    g_assert_cmpuint(qom(&t, "config-cache-hits"), ==, 0);
    g_assert_cmpuint(qom(&t, "config-cache-entries"), ==, 0);
    g_assert_cmpuint(qom(&t, "stale-configs"), ==, 0);
    t_down(&t);
}

/*
 * A configuration that ends in an event is not cached: a bad CD made
 * good without a CFGI translates at once.
 */
static void test_errors_not_cached(void)
{
    T t;

    t_up(&t, NULL);
    v3_cd_raw(&t.e.v, t.e.cdtab, PASID, v3e_cd_w0(false, true) & ~CD_V,
              t.e.root);
    v3e_bad(&t.e, true, PASID, EVT_C_BAD_CD);
    g_assert_cmpuint(qom(&t, "config-cache-entries"), ==, 0);
    v3_cd_raw(&t.e.v, t.e.cdtab, PASID, v3e_cd_w0(false, true), t.e.root);
    g_assert_cmpint(where(&t, true, PASID), ==, 1);
    t_down(&t);
}

/* 2048 SubstreamIDs: the cache never holds more than CFGC_MAX entries. */
static void test_flood(void)
{
    T t;
    uint64_t cdtab;
    uint32_t ssid, n = 2048;
    uint64_t entries, max = 0;

    t_up(&t, NULL);
    /* a linear table of 2^11 CDs is aligned to its size (5.2 S1Fmt) */
    cdtab = ROUND_UP(v3_alloc(&t.e.v, 2 * 64 * n), 64 * n);
    for (ssid = 1; ssid < n; ssid++) {
        v3_cd_raw(&t.e.v, cdtab, ssid, v3e_cd_w0(false, true), t.e.root);
    }
    ste_at(&t, ste_linear(&t), 0, cdtab, 11);
    cfgi_ste(&t, SID, true);
    for (ssid = 1; ssid < n; ssid++) {
        V3Job j;

        v3_job(&t.e.v, M_OP_FILL, VA, 4, true, ssid, ssid, &j);
        g_assert_cmphex(ST(j.status), ==, M_ST_DONE);
        if (ssid % 128 == 0 || ssid == CFGC_MAX || ssid == CFGC_MAX + 1) {
            entries = qom(&t, "config-cache-entries");
            max = MAX(max, entries);
            g_assert_cmpuint(entries, <=, CFGC_MAX);
        }
    }
    v3e_none(&t.e);
    g_assert_cmpuint(max, ==, CFGC_MAX);
    g_assert_cmpuint(qom(&t, "config-cache-entries"), <, CFGC_MAX);
    g_assert_cmpuint(qom(&t, "config-cache-hits"), ==, 0);
    t_down(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/mmn-smmuv3/cfgcache/cd", test_cd);
    qtest_add_func("/mmn-smmuv3/cfgcache/ste", test_ste);
    qtest_add_func("/mmn-smmuv3/cfgcache/ste-range", test_ste_range);
    qtest_add_func("/mmn-smmuv3/cfgcache/cd-all", test_cd_all);
    qtest_add_func("/mmn-smmuv3/cfgcache/ste-leaf-2level",
                   test_ste_leaf_2level);
    qtest_add_func("/mmn-smmuv3/cfgcache/cd-leaf-2level", test_cd_leaf_2level);
    qtest_add_func("/mmn-smmuv3/cfgcache/smmuen", test_smmuen);
    qtest_add_func("/mmn-smmuv3/cfgcache/off", test_off);
    qtest_add_func("/mmn-smmuv3/cfgcache/errors-not-cached",
                   test_errors_not_cached);
    qtest_add_func("/mmn-smmuv3/cfgcache/flood", test_flood);
    return g_test_run();
}
