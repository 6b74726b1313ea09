/*
 * qtests of mmn-smmuv3's bad-input behaviour on -M virt,iommu=mmn-smmuv3:
 * every error path Arm IHI 0070 (G.b) defines for the implemented subset
 * (stage 1, 2-level stream and CD tables, stalls, MSIs), each checked
 * against the section that defines it, and the mmn-sva-master's own bad
 * jobs (docs/specs/mmn-smmuv3.rst).  One QEMU per test.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/libqos-malloc.h"
#include "libqos/pci.h"
#include "libqos/generic-pcihost.h"
#include "libqos/mmn-smmu.h"
#include "libqos/mmn-smmuv3.h"
#include "libqos/mmn-smmuv3-env.h"
#include "hw/mmn-smmu/mmn-smmu-regs.h"

/* An L1STD rewritten as a driver does it: CFGI_STE, Leaf = 0 (4.3). */
static void l1std_set(V3Env *e, uint64_t at, uint64_t d)
{
    qtest_writeq(e->qts, at, d);
    v3_cmd(&e->v, CMD_CFGI_STE | (uint64_t)SID << 32, 0);
}

/* 5.1, 6.3.25, 7.3.3, 7.3.4: 2-level stream tables. */
static void test_stream_table_2level(void)
{
    V3Env e;
    uint64_t l1, l1b, l2 = 0;
    V3Ev ev;

    v3e_up(&e, NULL, false);
    l1 = v3_alloc(&e.v, 4096);              /* SPLIT 8: 512 L1STDs */
    v3e_strtab(&e, l1, CFG_2L(8, 17), 2);
    v3e_bad(&e, true, PASID, EVT_C_BAD_STREAMID);       /* Span 0 */
    l2 = v3e_l2_table(&e, 9, 0);
    l1std_set(&e, l1 + 256 * 8, l2 | 9);
    v3e_ok(&e, true, PASID);
    l1std_set(&e, l1 + 256 * 8, l2 | 1);            /* one STE: SID 0 */
    v3e_ok(&e, true, PASID);
    l1std_set(&e, l1 + 256 * 8, l2 | 10);           /* > SPLIT + 1 */
    v3e_bad(&e, true, PASID, EVT_C_BAD_STREAMID);
    l1std_set(&e, l1 + 256 * 8, l2 | 12);           /* reserved: as 0 */
    v3e_bad(&e, true, PASID, EVT_C_BAD_STREAMID);
    /* CR2.RECINVSID = 0: terminated, nothing recorded */
    v3e_strtab(&e, l1, CFG_2L(8, 17), 0);
    v3e_bad(&e, true, PASID, 0);
    /* the L2 STE, then the L1STD outside RAM: F_STE_FETCH, FetchAddr */
    qtest_writeq(e.qts, l1 + 256 * 8, NOWHERE | 9);
    v3e_strtab(&e, l1, CFG_2L(8, 17), 2);
    ev = v3e_bad(&e, true, PASID, EVT_F_STE_FETCH);
    g_assert_cmphex(ev.fetch, ==, NOWHERE);
    v3e_strtab(&e, NOWHERE, CFG_2L(8, 17), 2);
    ev = v3e_bad(&e, true, PASID, EVT_F_STE_FETCH);
    g_assert_cmphex(ev.fetch, ==, NOWHERE + 256 * 8);
    /* reserved SPLIT 7 behaves as 6: the L1STD of SID >> 6 is used */
    l1b = ROUND_UP(v3_alloc(&e.v, 32768), 16384);   /* 2048 L1STDs */
    qtest_writeq(e.qts, l1b + 1024 * 8, v3e_l2_table(&e, 7, 0) | 7);
    v3e_strtab(&e, l1b, CFG_2L(7, 17), 2);
    v3e_ok(&e, true, PASID);
    /* the base is aligned by the SMMU to the L1 table (6.3.24) */
    v3e_strtab(&e, l1b + 0x1240, CFG_2L(6, 17), 2);
    v3e_ok(&e, true, PASID);
    /* reserved FMT 0b10, 0b11 behave as linear */
    v3e_strtab(&e, e.v.strtab, (2u << 16) | 17, 2);
    v3e_ok(&e, true, PASID);
    v3e_strtab(&e, e.v.strtab, (3u << 16) | 17, 2);
    v3e_ok(&e, true, PASID);
    /* linear: StreamID >= 2^LOG2SIZE */
    v3e_strtab(&e, e.v.strtab, 16, 2);
    v3e_bad(&e, true, PASID, EVT_C_BAD_STREAMID);
    qtest_quit(e.qts);
}

/*
 * 5.1.1, 7.3.3: a StreamID beyond its L1STD's Span.  The master's SID
 * (0x10000) indexes STE 0 of its level-2 table, so a PCI function (RID =
 * SID 0x20) behind the SMMU makes the DMA: its descriptor fetch.
 */
static void test_sid_beyond_span(void)
{
    QGuestAllocator alloc;
    QGenericPCIBus bus;
    QMmnSmmu dev;
    QPCIAddress addr = { .devfn = QPCI_DEVFN(4, 0),
                         .vendor_id = MMN_SMMU_PCI_VENDOR_ID,
                         .device_id = MMN_SMMU_PCI_DEVICE_ID };
    const uint32_t rid = QPCI_DEVFN(4, 0);
    uint64_t l1, l2;
    unsigned span, n;
    V3Env e;
    V3Ev ev;

    e.qts = v3_start("-device mmn-smmu,addr=04.0");
    v3_init(&e.v, e.qts, 17, 8, 8);
    alloc_init(&alloc, 0, V3_RAM + 0x1f000000, V3_RAM + 0x1f800000, 4096);
    qpci_init_generic(&bus, e.qts, &alloc, false);
    qpci_device_init(&dev.dev, &bus.bus, &addr);
    dev.bar = qpci_iomap(&dev.dev, 0, NULL);
    qpci_device_enable(&dev.dev);
    qmmn_writel(&dev, A_CTRL, R_CTRL_DMA_EN_MASK);
    l1 = v3_alloc(&e.v, 4096);
    l2 = v3_alloc(&e.v, 4096);              /* 64 STEs: Span up to 7 */
    qtest_memwrite(e.qts, l2 + rid * 64, &(uint64_t[]){ 1 | (4 << 1) }, 8);
    for (span = 5; span <= 7; span++) {
        qtest_writeq(e.qts, l1, l2 | span);
        v3e_strtab(&e, l1, CFG_2L(6, 8), 2);    /* 4 L1STDs */
        qmmn_writel(&dev, A_DMA_DESC_LO, (uint32_t)DATA_PA);
        qmmn_writel(&dev, A_DMA_DESC_HI, DATA_PA >> 32);
        qmmn_writel(&dev, A_DMA_DOORBELL, 1);
        for (n = 0; v3e_next(&e.v, &ev); n++) {
            g_assert_cmphex(ev.id, ==, EVT_C_BAD_STREAMID);
            g_assert_cmphex(ev.sid, ==, rid);
        }
        /* RID 0x20 needs 33 STEs: Span 7 (64), not 5 (16) or 6 (32) */
        g_assert_cmpuint(n > 0, ==, span < 7);
    }
    qtest_quit(e.qts);
    alloc_destroy(&alloc);
}

/* 5.2 Config, S1Fmt, S1CDMax, S1ContextPtr; 5.2.2 SteIllegal(). */
static void test_ste(void)
{
    V3Env e;
    unsigned c;
    V3Ev ev;

    v3e_up(&e, NULL, false);
    v3_ste_raw(&e.v, SID, 0, 0);                    /* V = 0 */
    v3e_bad(&e, true, PASID, EVT_C_BAD_STE);
    for (c = 0; c < 4; c++) {                       /* 0b0xx: abort */
        v3e_ste(&e, c, 0, e.cdtab, 4, 2, false);
        v3e_bad(&e, true, PASID, 0);
    }
    for (c = 6; c < 8; c++) {                       /* stage 2: no S2P */
        v3e_ste(&e, c, 0, e.cdtab, 4, 2, false);
        v3e_bad(&e, true, PASID, EVT_C_BAD_STE);
    }
    v3e_ste(&e, 5, 0, e.cdtab, 21, 2, false);           /* > SSIDSIZE */
    v3e_bad(&e, true, PASID, EVT_C_BAD_STE);
    v3e_ste(&e, 5, 0, 1ULL << 48, 4, 2, false);         /* beyond the OAS */
    v3e_bad(&e, true, PASID, EVT_C_BAD_STE);
    v3e_ste(&e, 5, 0, 1ULL << 52, 4, 2, false);
    v3e_bad(&e, true, PASID, EVT_C_BAD_STE);
    v3e_ste(&e, 5, 3, e.cdtab, 4, 2, false);            /* S1Fmt 0b11: linear */
    v3e_ok(&e, true, PASID);
    /* S1CDMax 0: S1Fmt and S1DSS IGNORED, one CD; no SubstreamID */
    v3e_ste(&e, 5, 1, e.cdtab + PASID * 64, 0, 0, false);
    v3e_ok(&e, false, 0);
    v3e_bad(&e, true, PASID, EVT_C_BAD_SUBSTREAMID);
    /* bypass: VA = PA; a SubstreamID without stage 1 */
    v3e_ste(&e, 4, 0, 0, 0, 0, false);
    qtest_writel(e.qts, DATA_PA + 0x100, 0);
    g_assert_cmphex(ST(v3e_job(&e, M_OP_FILL, DATA_PA + 0x100, 4, false, 0)),
                    ==, M_ST_DONE);
    g_assert_cmphex(qtest_readl(e.qts, DATA_PA + 0x100), ==, 0x11223344);
    ev = v3e_bad(&e, true, PASID, EVT_C_BAD_SUBSTREAMID);
    g_assert_cmphex(ev.ssid, ==, PASID);
    qtest_quit(e.qts);
}

/* 5.2 S1DSS, S1CDMax; 7.3.7 F_STREAM_DISABLED, 7.3.9 C_BAD_SUBSTREAMID. */
static void test_substreams(void)
{
    V3Env e;

    v3e_up(&e, NULL, false);
    v3e_ste(&e, 5, 0, e.cdtab, 4, 0, false);            /* Terminate */
    v3e_bad(&e, false, 0, EVT_F_STREAM_DISABLED);
    v3e_ok(&e, true, PASID);
    v3e_ste(&e, 5, 0, e.cdtab, 4, 3, false);        /* reserved: Terminate */
    v3e_bad(&e, false, 0, EVT_F_STREAM_DISABLED);
    v3e_ste(&e, 5, 0, e.cdtab, 4, 1, false);            /* Bypass */
    g_assert_cmphex(ST(v3e_job(&e, M_OP_FILL, DATA_PA + 0x200, 4, false, 0)),
                    ==, M_ST_DONE);
    g_assert_cmphex(qtest_readl(e.qts, DATA_PA + 0x200), ==, 0x11223344);
    v3e_ste(&e, 5, 0, e.cdtab, 4, 2, false);            /* SSID0 */
    v3e_ok(&e, false, 0);
    v3e_bad(&e, true, 0, EVT_F_STREAM_DISABLED);        /* CD 0 is reserved */
    v3e_bad(&e, true, 16, EVT_C_BAD_SUBSTREAMID);
    v3e_bad(&e, true, 0xfffff, EVT_C_BAD_SUBSTREAMID);
    qtest_quit(e.qts);

    /* IDR1.SSIDSIZE 0: S1CDMax and S1DSS IGNORED; no SubstreamIDs */
    v3e_up(&e, "-global mmn-smmuv3.ssid-bits=0", false);
    g_assert_cmphex((v3_rd(&e.v, V3_IDR1) >> 6) & 0x1f, ==, 0);
    v3e_ste(&e, 5, 1, e.cdtab, 31, 0, false);
    v3e_ok(&e, false, 0);
    v3e_bad(&e, true, 0, EVT_C_BAD_SUBSTREAMID);
    qtest_quit(e.qts);
}

/* 5.3 L1CD, 5.2 S1Fmt, 3.4.3, 7.3.9, 7.3.10: 2-level CD tables. */
static void test_cd_2level(void)
{
    V3Env e;
    uint64_t l1, l2, l1b, l2b;
    V3Ev ev;

    v3e_up(&e, NULL, false);
    l1 = v3_alloc(&e.v, 4096);              /* 4 KiB leaves, 1024 CDs */
    l2 = v3_alloc(&e.v, 4096);
    v3_cd_raw(&e.v, l2, PASID, v3e_cd_w0(false, true), e.root);
    qtest_writeq(e.qts, l1, l2 | 1);
    v3e_ste(&e, 5, 1, l1, 10, 2, false);
    v3e_ok(&e, true, PASID);
    v3e_bad(&e, true, 0x45, EVT_C_BAD_SUBSTREAMID);     /* L1CD[1].V = 0 */
    qtest_writeq(e.qts, l1 + 8, NOWHERE | 1);
    ev = v3e_bad(&e, true, 0x45, EVT_F_CD_FETCH);       /* L2 not in RAM */
    g_assert_cmphex(ev.fetch, ==, NOWHERE + 5 * 64);
    qtest_writeq(e.qts, l1 + 8, (1ULL << 48) | 1);  /* L2Ptr beyond OAS */
    v3e_bad(&e, true, 0x45, EVT_C_BAD_SUBSTREAMID);
    v3e_ste(&e, 5, 1, l1 + 0x40, 10, 2, false);         /* RES0 bits: as 0 */
    v3e_ok(&e, true, PASID);
    v3e_ste(&e, 5, 1, NOWHERE, 10, 2, false);           /* L1 not in RAM */
    ev = v3e_bad(&e, true, 0x45, EVT_F_CD_FETCH);
    g_assert_cmphex(ev.fetch, ==, NOWHERE + 8);
    v3e_ste(&e, 5, 0, NOWHERE, 4, 2, false);            /* linear, not in RAM */
    ev = v3e_bad(&e, true, PASID, EVT_F_CD_FETCH);
    g_assert_cmphex(ev.fetch, ==, NOWHERE + PASID * 64);
    /* 64 KiB leaves, S1CDMax 20 (SSIDSIZE): SSID 0x12345 */
    l1b = ROUND_UP(v3_alloc(&e.v, 16384), 8192);
    l2b = ROUND_UP(v3_alloc(&e.v, 131072), 65536);
    v3_cd_raw(&e.v, l2b, 0x345, v3e_cd_w0(false, true), e.root);
    qtest_writeq(e.qts, l1b + 0x48 * 8, l2b | 1);
    v3e_ste(&e, 5, 2, l1b, 20, 2, false);
    v3e_ok(&e, true, 0x12345);
    v3e_bad(&e, true, 0x12346, EVT_C_BAD_CD);           /* CD.V = 0 */
    qtest_quit(e.qts);
}

typedef struct CdCase {
    const char *what;
    uint64_t clear, set, ttb_or;
    bool legal;
} CdCase;

/* 5.4, 5.4.2 CdIllegal(): each C_BAD_CD cause, and what is not one. */
static void test_cd_illegal(void)
{
    static const CdCase cases[] = {
        { "V = 0", CD_V }, { "AA64 = 0", CD_AA64 }, { "ENDI", 0, CD_ENDI },
        { "A = 0 (TERM_MODEL)", CD_A }, { "TG0 0b11", 0, CD_TG0(3) },
        { "T0SZ 15", CD_T0SZ(63), CD_T0SZ(15) },
        { "T0SZ 40", CD_T0SZ(63), CD_T0SZ(40) },
        { "HA, HTTU 0", 0, CD_HA }, { "HD, HTTU 0", 0, CD_HD },
        { "HA HD, HTTU 0", 0, CD_HA | CD_HD },
        { "HA with EPD0", 0, CD_HA | CD_EPD0 },
        { "ENDI, EPD0, EPD1 = 0", CD_EPD1, CD_ENDI | CD_EPD0 },
        { "TTB0 beyond IPS 32", CD_IPS(7), CD_IPS(0), 1ULL << 32 },
        { "TTB0 beyond the OAS", 0, 0, 1ULL << 48 },
        { "IPS 0b110", CD_IPS(7), CD_IPS(6), 0, true },
        { "IPS 0b111 (as 0b110)", CD_IPS(7), CD_IPS(7), 0, true },
        { "IPS 32 bits", CD_IPS(7), CD_IPS(0), 0, true },
        { "T0SZ 16", 0, 0, 0, true },
    };
    V3Env e;
    size_t i;

    v3e_up(&e, NULL, false);
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        const CdCase *c = &cases[i];

        g_test_message("CD: %s", c->what);
        v3e_cd_set(&e, (v3e_cd_w0(false, true) & ~c->clear) |
                   c->set, e.root | c->ttb_or);
        if (c->legal) {
            v3e_ok(&e, true, PASID);
        } else {
            v3e_bad(&e, true, PASID, EVT_C_BAD_CD);
        }
    }
    /* ENDI with EPD0 = EPD1 = 1 is IGNORED: a quiet CD (F_TRANSLATION) */
    v3e_cd_set(&e, v3e_cd_w0(false, true) | CD_ENDI | CD_EPD0,
               e.root);
    g_assert_cmphex(KIND(v3e_job(&e, M_OP_FILL, VA, 4, true, PASID)), ==,
                    K_XLATE);
    v3e_expect(&e, EVT_F_TRANSLATION);
    /* T0SZ 39 (25-bit VA) is legal: VA is out of its range */
    v3e_cd_set(&e, (v3e_cd_w0(false, true) & ~CD_T0SZ(63)) |
               CD_T0SZ(39), e.root);
    g_assert_cmphex(KIND(v3e_job(&e, M_OP_FILL, VA, 4, true, PASID)), ==,
                    K_XLATE);
    v3e_expect(&e, EVT_F_TRANSLATION);
    qtest_quit(e.qts);
}

/* 5.4 HA/HD against IDR0.HTTU (1 and 2), 3.13. */
static void test_cd_httu(void)
{
    V3Env e;
    uint64_t pte;

    v3e_up(&e, "-global mmn-smmuv3.httu=1", false);
    pte = v3_map(&e.v, e.root, VA + 0x1000, DATA_PA + 0x1000, PTE_USER);
    v3e_cd_set(&e, v3e_cd_w0(false, true) | CD_HD | CD_HA,
               e.root);
    v3e_bad(&e, true, PASID, EVT_C_BAD_CD);
    v3e_cd_set(&e, v3e_cd_w0(false, true) | CD_HA, e.root);
    g_assert_cmphex(ST(v3e_job(&e, M_OP_FILL, VA + 0x1000, 4, true, PASID)), ==,
                    M_ST_DONE);
    g_assert_cmphex(qtest_readq(e.qts, pte) & PTE_AF, !=, 0);
    qtest_quit(e.qts);

    /* {HD, HA} = 0b10 behaves as no HTTU: an access flag fault */
    v3e_up(&e, "-global mmn-smmuv3.httu=2", false);
    pte = v3_map(&e.v, e.root, VA + 0x1000, DATA_PA + 0x1000, PTE_USER);
    v3e_cd_set(&e, v3e_cd_w0(false, true) | CD_HD, e.root);
    g_assert_cmphex(KIND(v3e_job(&e, M_OP_FILL, VA + 0x1000, 4, true, PASID)),
                    ==, K_ACCESS);
    v3e_expect(&e, EVT_F_ACCESS);
    g_assert_cmphex(qtest_readq(e.qts, pte) & PTE_AF, ==, 0);
    qtest_quit(e.qts);
}

/* 5.4 EPD0 (quiet CDs), TTB1 addresses, TBI0; 3.4.1. */
static void test_epd0_ttb1(void)
{
    V3Env e;
    V3Ev ev;

    v3e_up(&e, NULL, true);
    /* Linux 6.1 quiet_cd: EPD0 with S = R = 1; TTB0 fields IGNORED */
    v3e_cd_set(&e, (v3e_cd_w0(true, true) & ~CD_T0SZ(63)) |
               CD_EPD0 | CD_TG0(3), 1ULL << 51);
    g_assert_cmphex(ST(v3e_job(&e, M_OP_FILL, VA, 4, true, PASID)), ==,
                    M_ST_BUSY);
    ev = v3e_expect(&e, EVT_F_TRANSLATION);
    g_assert_true(ev.stall);
    v3_resume(&e.v, SID, ev.stag, 1);               /* Retry: again */
    ev = v3e_expect(&e, EVT_F_TRANSLATION);
    v3_resume(&e.v, SID, ev.stag, 2);               /* Abort */
    g_assert_cmphex(ST(qtest_readl(e.qts, V3_MASTER + M_STATUS)), ==,
                    M_ST_FAULT);
    /* Linux 6.12 release CD: EPD0, S = R = 0, T0SZ/TG0/TTB0 zero */
    v3e_cd_set(&e, CD_EPD0 | CD_EPD1 | CD_V | CD_AA64 |
               CD_A | ((uint64_t)ASID << 48), 0);
    g_assert_cmphex(KIND(v3e_job(&e, M_OP_FILL, VA, 4, true, PASID)), ==,
                    K_XLATE);
    v3e_none(&e);
    /* TTB1 addresses (EPD1 = 1): F_TRANSLATION with the whole address */
    v3e_cd_set(&e, v3e_cd_w0(false, true), e.root);
    g_assert_cmphex(KIND(v3e_job(&e, M_OP_FILL, 0xffff800000001000ULL, 4, true,
                             PASID)), ==, K_XLATE);
    g_assert_cmphex(v3e_expect(&e, EVT_F_TRANSLATION).addr, ==,
                    0xffff800000001000ULL);
    g_assert_cmphex(KIND(v3e_job(&e, M_OP_FILL, 0x0080000000001000ULL, 4, true,
                             PASID)), ==, K_XLATE);
    v3e_expect(&e, EVT_F_TRANSLATION);
    /* a tagged VA: a fault without TBI0, translated with it */
    g_assert_cmphex(KIND(v3e_job(&e, M_OP_FILL, VA | (0xabULL << 56), 4, true,
                             PASID)), ==, K_XLATE);
    g_assert_cmphex(v3e_expect(&e, EVT_F_TRANSLATION).addr, ==,
                    VA | (0xabULL << 56));
    v3e_cd_set(&e, v3e_cd_w0(false, true) | CD_TBI0, e.root);
    g_assert_cmphex(ST(v3e_job(&e, M_OP_FILL, VA | (0xabULL << 56), 4, true,
                           PASID)), ==, M_ST_DONE);
    qtest_quit(e.qts);
}

/* 5.2 S1STALLD, 5.5: stalls disabled by the STE. */
static void test_s1stalld(void)
{
    V3Env e;
    V3Ev ev;

    v3e_up(&e, NULL, false);
    v3e_ste(&e, 5, 0, e.cdtab, 4, 2, true);
    g_assert_cmphex(KIND(v3e_job(&e, M_OP_FILL, VA + 0x10000, 4, true, PASID)),
                    ==, K_XLATE);                   /* CD.S = 0: terminate */
    ev = v3e_expect(&e, EVT_F_TRANSLATION);
    g_assert_false(ev.stall);
    v3e_cd_set(&e, v3e_cd_w0(true, true), e.root);
    v3e_bad(&e, true, PASID, EVT_C_BAD_CD);             /* CD.S = 1: ILLEGAL */
    v3e_ste(&e, 5, 0, e.cdtab, 4, 2, false);
    g_assert_cmphex(ST(v3e_job(&e, M_OP_FILL, VA + 0x10000, 4, true, PASID)),
                    ==, M_ST_BUSY);
    g_assert_true(v3e_expect(&e, EVT_F_TRANSLATION).stall);
    qtest_quit(e.qts);
}

/*
 * Page tables and output addresses in MMIO.  A walk that cannot read a
 * descriptor is F_WALK_EABT (7.3.12), never stalled and recorded whatever
 * CD.R says (5.5); an output address that is a device's registers is the
 * master's access aborted downstream: no event, no access to the device.
 */
static void test_mmio(void)
{
    V3Env e;
    uint64_t mroot;
    V3Ev ev;

    v3e_up(&e, NULL, false);
    v3e_cd_set(&e, v3e_cd_w0(true, false), V3_MASTER);
    g_assert_cmphex(KIND(v3e_job(&e, M_OP_FILL, VA, 4, true, PASID)), ==,
                    K_ABORT);
    ev = v3e_expect(&e, EVT_F_WALK_EABT);
    g_assert_false(ev.stall);
    g_assert_cmphex(ev.fetch, ==, V3_MASTER + ((VA >> 39) & 0x1ff) * 8);
    g_assert_cmphex(qtest_readl(e.qts, V3_MASTER + M_PATTERN), ==,
                    0x11223344);
    /* a table descriptor pointing at the UART */
    mroot = v3_pt_new(&e.v);
    qtest_writeq(e.qts, mroot + ((VA >> 39) & 0x1ff) * 8, UART | 3);
    v3e_cd_set(&e, v3e_cd_w0(false, true), mroot);
    g_assert_cmphex(KIND(v3e_job(&e, M_OP_FILL, VA, 4, true, PASID)), ==,
                    K_ABORT);
    g_assert_cmphex(v3e_expect(&e, EVT_F_WALK_EABT).fetch, ==,
                    UART + ((VA >> 30) & 0x1ff) * 8);
    /* output: the master's own DATA window, then the SMMU's registers */
    v3e_cd_set(&e, v3e_cd_w0(false, true), e.root);
    v3_map(&e.v, e.root, VA + 0x1000, V3_MASTER + M_DATA, USER_RW);
    v3_map(&e.v, e.root, VA + 0x2000, V3_BASE, USER_RW);
    qtest_writel(e.qts, V3_MASTER + M_DATA, 0xcafef00d);
    g_assert_cmphex(v3e_job(&e, M_OP_FILL, VA + 0x1000, 4, true, PASID) & 0xfff,
                    ==, K_ABORT << 8 | M_ST_FAULT);
    g_assert_cmphex(qtest_readl(e.qts, V3_MASTER + M_DATA), ==, 0xcafef00d);
    g_assert_cmphex(qtest_readl(e.qts, V3_MASTER + M_DONE), ==, 0);
    g_assert_cmphex(KIND(v3e_job(&e, M_OP_READ, VA + 0x1000, 4, true, PASID)),
                    ==, K_ABORT);
    g_assert_cmphex(KIND(v3e_job(&e, M_OP_FILL, VA + 0x2020, 4, true, PASID)),
                    ==, K_ABORT);
    g_assert_cmphex(v3_rd(&e.v, V3_CR0), ==, 0xd);
    v3e_none(&e);
    /* an output address beyond the CD's IPS (40 bits): F_ADDR_SIZE */
    v3_map(&e.v, e.root, VA + 0x3000, 1ULL << 40, USER_RW);
    v3e_cd_set(&e, (v3e_cd_w0(false, true) & ~CD_IPS(7)) |
               CD_IPS(2), e.root);
    g_assert_cmphex(KIND(v3e_job(&e, M_OP_FILL, VA + 0x3000, 4, true, PASID)),
                    ==, K_SIZE);
    v3e_expect(&e, EVT_F_ADDR_SIZE);
    /* a table that points at itself: the walk ends, in RAM */
    qtest_writeq(e.qts, mroot + ((VA >> 39) & 0x1ff) * 8, mroot | 3);
    v3e_cd_set(&e, v3e_cd_w0(false, true), mroot);
    v3e_job(&e, M_OP_READ, VA, 8, true, PASID);
    g_assert_cmphex(v3_rd(&e.v, V3_CR0ACK), ==, 0xd);
    qtest_quit(e.qts);
}

/* Push one command; it must stop the queue with CONS.ERR = @err (7.1). */
static void cerror(V3Env *e, uint64_t w0, uint64_t w1, unsigned err)
{
    uint32_t at = e->v.cmd_prod & ((1u << e->v.cmdq_log2) - 1);
    uint32_t cons;

    v3_cmd(&e->v, w0, w1);
    cons = v3_rd(&e->v, V3_CMDQ_CONS);
    g_assert_cmphex((cons >> 24) & 0x7f, ==, err);
    g_assert_cmphex(cons & ((1u << e->v.cmdq_log2) - 1), ==, at);
    g_assert_cmphex(v3e_gerr(&e->v) & 1, ==, 1);
    /* Linux's arm_smmu_cmdq_skip_err(): a CMD_SYNC in its place */
    qtest_writeq(e->qts, e->v.cmdq + at * 16, CMD_SYNC);
    qtest_writeq(e->qts, e->v.cmdq + at * 16 + 8, 0);
    v3e_ack(&e->v);
    g_assert_cmphex(v3_rd(&e->v, V3_CMDQ_CONS) & 0xfffff, ==,
                    e->v.cmd_prod);
    g_assert_cmphex(v3e_gerr(&e->v), ==, 0);
}

/* 4.1.3, 4.1.6, 4.7, 7.1, 6.3.26-28: command queue errors and wrapping. */
static void test_cmdq(void)
{
    static const uint64_t illegal[] = {
        CMD_SYNC | (3 << 12),                       /* CS reserved */
        0x03 | (1 << 10),                           /* CFGI_STE, SSec */
        0x01 | (1 << 10),                           /* PREFETCH_CONFIG */
        CMD_RESUME | (1 << 10) | (1 << 12),
        CMD_STALL_TERM | (1 << 10),
        0x07,                                       /* CFGI_VMS_PIDM */
        0x20, 0x28, 0x2a, 0x40, 0x41,               /* EL2, S2, ATS, PRI */
        0x00, 0x08, 0x47, 0x80, 0xff,               /* reserved, IMP DEF */
    };
    V3Env e;
    size_t i;
    uint64_t cmdq;
    uint32_t at;
    V3Ev ev;

    v3e_up(&e, NULL, true);
    for (i = 0; i < ARRAY_SIZE(illegal); i++) {
        cerror(&e, illegal[i], 0, 1);
    }
    /* RESUME with Action 1, Abort 1: a Retry (Abort is IGNORED, 4.7.1) */
    g_assert_cmphex(ST(v3e_job(&e, M_OP_FILL, VA + 0x10000, 4, true, PASID)),
                    ==, M_ST_BUSY);
    ev = v3e_expect(&e, EVT_F_TRANSLATION);
    v3_cmd(&e.v, CMD_RESUME | (3 << 12) | ((uint64_t)SID << 32), ev.stag);
    g_assert_cmpuint(qtest_readl(e.qts, V3_MASTER + M_RETRIES), ==, 1);
    ev = v3e_expect(&e, EVT_F_TRANSLATION);
    v3_resume(&e.v, SID, ev.stag, 0);               /* Terminate */
    g_assert_cmphex(ST(qtest_readl(e.qts, V3_MASTER + M_STATUS)), ==,
                    M_ST_FAULT);
    v3_cmd(&e.v, 0x04, 31);                         /* CMD_CFGI_ALL */
    g_assert_cmphex(v3e_gerr(&e.v), ==, 0);

    /* a queue base outside RAM: CERROR_ABT, RD stays at the command */
    v3_wr(&e.v, V3_CR0, 0x5);
    v3_wrq(&e.v, V3_CMDQ_BASE, NOWHERE | 8);
    v3_wr(&e.v, V3_CR0, 0xd);
    cmdq = e.v.cmdq;
    e.v.cmdq = NOWHERE;
    at = e.v.cmd_prod & 0xff;
    v3_cmd(&e.v, CMD_SYNC | (1 << 12) | (42ULL << 32), MSI_PA);
    g_assert_cmphex(v3_rd(&e.v, V3_CMDQ_CONS), ==, 2u << 24 | at);
    g_assert_cmphex(v3e_gerr(&e.v), ==, 1);
    /* the base fixed, the error acknowledged: consumption resumes at RD */
    v3_wr(&e.v, V3_CR0, 0x5);
    v3_wrq(&e.v, V3_CMDQ_BASE, cmdq | 8);
    v3_wr(&e.v, V3_CR0, 0xd);
    qtest_writeq(e.qts, cmdq + at * 16, CMD_SYNC | (1 << 12) | (42ULL << 32));
    qtest_writeq(e.qts, cmdq + at * 16 + 8, MSI_PA);
    v3e_ack(&e.v);
    g_assert_cmphex(qtest_readl(e.qts, MSI_PA), ==, 42);
    g_assert_cmphex(v3_rd(&e.v, V3_CMDQ_CONS) & 0xfffff, ==, e.v.cmd_prod);

    /* a 2-entry queue wrapped 50 times; PROD's RES0 bits do nothing */
    v3_wr(&e.v, V3_CR0, 0x5);
    e.v.cmdq = v3_alloc(&e.v, 4096);
    e.v.cmdq_log2 = 1;
    e.v.cmd_prod = 0;
    v3_wrq(&e.v, V3_CMDQ_BASE, e.v.cmdq | 1);
    v3_wr(&e.v, V3_CMDQ_PROD, 0);
    v3_wr(&e.v, V3_CMDQ_CONS, 0);
    v3_wr(&e.v, V3_CR0, 0xd);
    for (i = 0; i < 100; i++) {
        v3_cmd(&e.v, CMD_SYNC | (1 << 12) | (i << 32), MSI_PA);
        g_assert_cmphex(qtest_readl(e.qts, MSI_PA), ==, i);
        g_assert_cmphex(v3_rd(&e.v, V3_CMDQ_CONS), ==, (i + 1) & 3);
    }
    qtest_writeq(e.qts, e.v.cmdq, CMD_SYNC | (1 << 12) | (777ULL << 32));
    qtest_writeq(e.qts, e.v.cmdq + 8, MSI_PA);
    v3_wr(&e.v, V3_CMDQ_PROD, 1 | 0xffff0);
    g_assert_cmphex(qtest_readl(e.qts, MSI_PA), ==, 777);
    g_assert_cmphex(v3_rd(&e.v, V3_CMDQ_CONS), ==, 1);
    g_assert_cmphex(v3e_gerr(&e.v), ==, 0);
    qtest_quit(e.qts);
}

/* 7.5, 7.5.1, 6.3.21-23, 3.4.3: GERROR and its MSI, MSI aborts. */
static void test_gerror_msi(void)
{
    V3Env e;

    v3e_up(&e, NULL, false);
    v3_wr(&e.v, V3_IRQ_CTRL, 0);
    v3_wrq(&e.v, 0x68, MSI_PA | (1ULL << 48));      /* truncated: OAS 48 */
    v3_wr(&e.v, 0x70, 0xabcd);
    v3_wr(&e.v, V3_IRQ_CTRL, 0x5);
    g_assert_cmphex(v3_rd(&e.v, V3_IRQ_CTRLACK), ==, 0x5);
    v3_wrq(&e.v, 0x68, NOWHERE);                    /* Guarded: IGNORED */
    v3_wr(&e.v, 0x70, 0x1111);
    g_assert_cmphex(qtest_readq(e.qts, V3_BASE + 0x68), ==,
                    MSI_PA | (1ULL << 48));
    cerror(&e, 0xff, 0, 1);
    g_assert_cmphex(qtest_readl(e.qts, MSI_PA), ==, 0xabcd);
    /* GERROR's MSI aborts: MSI_GERROR_ABT_ERR, no further interrupt */
    v3_wr(&e.v, V3_IRQ_CTRL, 0);
    v3_wrq(&e.v, 0x68, NOWHERE);
    v3_wr(&e.v, V3_IRQ_CTRL, 0x5);
    v3_cmd(&e.v, 0xff, 0);
    g_assert_cmphex(v3e_gerr(&e.v), ==, 1 | GB_MSI_ABT);
    qtest_writeq(e.qts, e.v.cmdq + ((e.v.cmd_prod - 1) & 0xff) * 16,
                 CMD_SYNC);
    v3e_ack(&e.v);
    /* a CMD_SYNC MSI aborts: MSI_CMDQ_ABT_ERR (and GERROR's MSI again) */
    v3_cmd(&e.v, CMD_SYNC | (1 << 12), NOWHERE);
    g_assert_cmphex(v3e_gerr(&e.v), ==, (1u << 4) | GB_MSI_ABT);
    v3e_ack(&e.v);
    /* the event queue's MSI aborts: MSI_EVENTQ_ABT_ERR */
    v3_wr(&e.v, V3_IRQ_CTRL, 0);
    v3_wrq(&e.v, 0x68, MSI_PA);
    v3_wrq(&e.v, 0xb0, NOWHERE);
    v3_wr(&e.v, V3_IRQ_CTRL, 0x5);
    qtest_writel(e.qts, MSI_PA, 0);
    g_assert_cmphex(KIND(v3e_job(&e, M_OP_FILL, VA + 0x10000, 4, true, PASID)),
                    ==, K_XLATE);
    v3e_expect(&e, EVT_F_TRANSLATION);
    g_assert_cmphex(v3e_gerr(&e.v), ==, 1u << 5);
    g_assert_cmphex(qtest_readl(e.qts, MSI_PA), ==, 0xabcd);
    qtest_quit(e.qts);
}

/* 7.2.1, 7.2.2, 7.4, 6.3.29: event queue errors, EVENTQEN = 0. */
static void test_evtq(void)
{
    V3Env e;
    uint64_t evtq;

    v3e_up(&e, NULL, false);
    evtq = e.v.evtq;
    v3_wr(&e.v, V3_CR0, 0x9);
    v3_wrq(&e.v, V3_EVTQ_BASE, NOWHERE | 8);
    v3_wr(&e.v, V3_CR0, 0xd);
    v3_wrq(&e.v, V3_EVTQ_BASE, evtq | 8);           /* Guarded: IGNORED */
    g_assert_cmphex(qtest_readq(e.qts, V3_BASE + V3_EVTQ_BASE), ==,
                    NOWHERE | 8);
    g_assert_cmphex(KIND(v3e_job(&e, M_OP_FILL, VA + 0x10000, 4, true, PASID)),
                    ==, K_XLATE);
    g_assert_cmphex(v3e_gerr(&e.v), ==, 1u << 2);   /* EVENTQ_ABT_ERR */
    g_assert_cmphex(v3_rd(&e.v, V3_EVTQ_PROD), ==, 0);
    /* a good base, but the abort is active: not writable */
    v3_wr(&e.v, V3_CR0, 0x9);
    v3_wrq(&e.v, V3_EVTQ_BASE, evtq | 8);
    v3_wr(&e.v, V3_CR0, 0xd);
    v3e_job(&e, M_OP_FILL, VA + 0x10000, 4, true, PASID);
    g_assert_cmphex(v3_rd(&e.v, V3_EVTQ_PROD), ==, 0);
    v3e_ack(&e.v);
    v3e_job(&e, M_OP_FILL, VA + 0x10000, 4, true, PASID);
    v3e_expect(&e, EVT_F_TRANSLATION);
    /* EVENTQEN = 0: discarded, no overflow; a stall is terminated */
    v3_wr(&e.v, V3_CR0, 0x9);
    v3e_job(&e, M_OP_FILL, VA + 0x10000, 4, true, PASID);
    v3e_cd_set(&e, v3e_cd_w0(true, true), e.root);
    g_assert_cmphex(v3e_job(&e, M_OP_FILL, VA + 0x10000, 4, true, PASID) &
                    0xfff, ==, K_XLATE << 8 | M_ST_FAULT);
    g_assert_cmphex(v3_rd(&e.v, V3_EVTQ_PROD), ==, 1);
    v3_wr(&e.v, V3_EVTQ_PROD, 0x80000001);          /* allowed: disabled */
    v3_wr(&e.v, V3_EVTQ_PROD, 1);
    v3_wr(&e.v, V3_CR0, 0xd);
    v3_wr(&e.v, V3_EVTQ_PROD, 0x80000005);          /* Guarded: ignored */
    g_assert_cmphex(v3_rd(&e.v, V3_EVTQ_PROD), ==, 1);
    g_assert_cmphex(ST(v3e_job(&e, M_OP_FILL, VA + 0x10000, 4, true, PASID)),
                    ==, M_ST_BUSY);
    g_assert_true(v3e_expect(&e, EVT_F_TRANSLATION).stall);
    g_assert_cmphex(v3e_gerr(&e.v), ==, 0);
    qtest_quit(e.qts);
}

/* 6.2, 6.3: reserved bits, access sizes, undefined offsets, Guards. */
static void test_registers(void)
{
    static const uint32_t undefined[] = {
        0x30, 0x3c, 0x4c, 0x58, 0x78, 0x8c, 0xc0, 0xd8, 0xe0, 0x100, 0xe00,
        0xfcc, 0x1000, 0x10000, 0x100a0, 0x100b0, 0x100c8, 0x1fffc,
    };
    V3Env e;
    uint64_t base;
    size_t i;

    v3e_up(&e, NULL, false);
    base = e.v.strtab;
    for (i = 0; i < ARRAY_SIZE(undefined); i++) {
        v3_wr(&e.v, undefined[i], 0xffffffff);
        g_assert_cmphex(v3_rd(&e.v, undefined[i]), ==, 0);
    }
    v3_wr(&e.v, V3_IDR0, 0);                        /* RO */
    g_assert_cmphex(v3_rd(&e.v, V3_IDR0) & 0x2, ==, 0x2);
    g_assert_cmphex((v3_rd(&e.v, V3_IDR0) >> 26) & 1, ==, 1);   /* TERM */
    /* 64-bit accesses to 32-bit registers: RAZ/WI; others aborted */
    qtest_writeq(e.qts, V3_BASE + V3_CR0, 0);
    qtest_writeb(e.qts, V3_BASE + V3_CR0, 0);
    qtest_writew(e.qts, V3_BASE + V3_CR0, 0);
    qtest_writel(e.qts, V3_BASE + V3_CR0 + 2, 0);
    g_assert_cmphex(v3_rd(&e.v, V3_CR0), ==, 0xd);
    g_assert_cmphex(qtest_readq(e.qts, V3_BASE + V3_IDR0), ==, 0);
    g_assert_cmphex(qtest_readq(e.qts, V3_BASE + V3_CR0), ==, 0);
    /* 64-bit registers: whole or in halves */
    g_assert_cmphex(qtest_readq(e.qts, V3_BASE + V3_STRTAB_BASE), ==, base);
    g_assert_cmphex(v3_rd(&e.v, V3_STRTAB_BASE), ==, (uint32_t)base);
    /* Guarded by SMMUEN, CMDQEN (6.3.24-26): IGNORED while enabled */
    v3_wrq(&e.v, V3_STRTAB_BASE, NOWHERE);
    v3_wr(&e.v, V3_STRTAB_BASE_CFG, 3);
    v3_wrq(&e.v, V3_CMDQ_BASE, NOWHERE);
    v3_wr(&e.v, V3_CMDQ_CONS, 5);
    g_assert_cmphex(qtest_readq(e.qts, V3_BASE + V3_STRTAB_BASE), ==, base);
    g_assert_cmphex(v3_rd(&e.v, V3_STRTAB_BASE_CFG), ==, 17);
    g_assert_cmphex(qtest_readq(e.qts, V3_BASE + V3_CMDQ_BASE), ==,
                    e.v.cmdq | 8);
    /* CONS still counts the commands consumed (v3e_up's CFGI_STE) */
    g_assert_cmphex(v3_rd(&e.v, V3_CMDQ_CONS), ==, e.v.cmd_prod);
    v3e_ok(&e, true, PASID);
    /* reserved bits: CR0 (PRIQEN, ATSCHK without PRI, ATS), CR1, CR2 */
    v3_wr(&e.v, V3_CR0, 0xffffffff);
    g_assert_cmphex(v3_rd(&e.v, V3_CR0), ==, 0xd);
    g_assert_cmphex(v3_rd(&e.v, V3_CR0ACK), ==, 0xd);
    v3_wr(&e.v, V3_CR1, 0xffffffff);
    g_assert_cmphex(v3_rd(&e.v, V3_CR1), ==, 0xfff);
    v3_wr(&e.v, V3_IRQ_CTRL, 0xffffffff);
    g_assert_cmphex(v3_rd(&e.v, V3_IRQ_CTRLACK), ==, 0x5);
    v3_wr(&e.v, V3_CR0, 0);
    v3_wr(&e.v, V3_STRTAB_BASE_CFG, 0xffffffff);
    g_assert_cmphex(v3_rd(&e.v, V3_STRTAB_BASE_CFG), ==, 0x307ff);
    /* GBPA: a write without UPDATE does nothing (6.3.14) */
    v3_wr(&e.v, V3_GBPA, 1u << 20);
    g_assert_cmphex(v3_rd(&e.v, V3_GBPA), ==, 0x1000);
    g_assert_cmphex(ST(v3e_job(&e, M_OP_FILL, DATA_PA, 4, false, 0)), ==,
                    M_ST_DONE);                     /* bypass */
    qtest_quit(e.qts);
}

/* The master's bad jobs and misuse (docs/specs/mmn-smmuv3.rst). */
static void test_master_jobs(void)
{
    QTestState *q;
    V3Env e;
    V3Ev ev;
    int i;

    v3e_up(&e, NULL, true);
    q = e.qts;
    g_assert_cmphex(v3e_job(&e, M_OP_FILL, VA, 0, true, PASID) & 0xfff, ==,
                    K_CONFIG << 8 | M_ST_FAULT);
    g_assert_cmphex(KIND(v3e_job(&e, M_OP_READ, VA, 4097, true, PASID)), ==,
                    K_CONFIG);
    g_assert_cmphex(KIND(v3e_job(&e, M_OP_FILL, VA, 65537, true, PASID)), ==,
                    K_CONFIG);
    g_assert_cmphex(KIND(v3e_job(&e, 0, VA, 4, true, PASID)), ==, K_CONFIG);
    g_assert_cmphex(KIND(v3e_job(&e, 4, VA, 4, true, PASID)), ==, K_CONFIG);
    g_assert_cmphex(KIND(v3e_job(&e, M_OP_FILL, ~0ULL - 3, 8, true, PASID)), ==,
                    K_CONFIG);                      /* wraps */
    v3e_none(&e);
    /* the last 4 bytes of the address space do not wrap: a TTB1 fault */
    g_assert_cmphex(ST(v3e_job(&e, M_OP_FILL, ~0ULL - 3, 4, true, PASID)), ==,
                    M_ST_BUSY);
    g_assert_cmphex(v3e_expect(&e, EVT_F_TRANSLATION).addr, ==, ~0ULL - 3);
    qtest_writel(q, V3_MASTER + M_ABORT, 1);
    /* FILL of 64 KiB: the first page done, the second faults */
    g_assert_cmphex(ST(v3e_job(&e, M_OP_FILL, VA, 65536, true, PASID)), ==,
                    M_ST_BUSY);
    g_assert_cmpuint(qtest_readl(q, V3_MASTER + M_DONE), ==, 4096);
    ev = v3e_expect(&e, EVT_F_TRANSLATION);
    g_assert_cmphex(ev.addr, ==, VA + 0x1000);
    /* job registers written while BUSY are ignored, so is DOORBELL */
    for (i = M_CTRL; i <= M_PATTERN; i += 4) {
        uint32_t old = qtest_readl(q, V3_MASTER + i);

        qtest_writel(q, V3_MASTER + i, ~old);
        g_assert_cmphex(qtest_readl(q, V3_MASTER + i), ==, old);
    }
    qtest_writel(q, V3_MASTER + M_DOORBELL, 1);
    g_assert_cmpuint(qtest_readl(q, V3_MASTER + M_FAULTS), ==, 1);
    v3e_none(&e);
    /* ABORT of the stalled job, then a late RESUME: ignored */
    qtest_writel(q, V3_MASTER + M_ABORT, 1);
    g_assert_cmphex(ST(qtest_readl(q, V3_MASTER + M_STATUS)), ==,
                    M_ST_ABORTED);
    g_assert_cmphex(qtest_readl(q, V3_MASTER + M_IRQ_STATUS), ==, 1);
    qtest_writel(q, V3_MASTER + M_IRQ_STATUS, 1);   /* RW1C */
    g_assert_cmphex(qtest_readl(q, V3_MASTER + M_IRQ_STATUS), ==, 0);
    v3_map(&e.v, e.root, VA + 0x1000, DATA_PA + 0x1000, USER_RW);
    qtest_writel(q, DATA_PA + 0x1000, 0);
    v3_resume(&e.v, SID, ev.stag, 1);
    v3_cmd(&e.v, CMD_STALL_TERM | ((uint64_t)SID << 32), 0);
    g_assert_cmphex(ST(qtest_readl(q, V3_MASTER + M_STATUS)), ==,
                    M_ST_ABORTED);
    g_assert_cmpuint(qtest_readl(q, V3_MASTER + M_RETRIES), ==, 0);
    g_assert_cmphex(qtest_readl(q, DATA_PA + 0x1000), ==, 0);
    g_assert_cmphex(v3e_gerr(&e.v), ==, 0);
    /* the next job runs; a new stall has a new STAG */
    g_assert_cmphex(ST(v3e_job(&e, M_OP_FILL, VA + 0x5000, 4, true, PASID)), ==,
                    M_ST_BUSY);
    g_assert_cmphex(v3e_expect(&e, EVT_F_TRANSLATION).stag, !=, ev.stag);
    qtest_quit(q);
}

/*
 * MSIs aimed at registers: the SMMU's own, sent while a master's fault is
 * recorded, would change the SMMU under the transaction (a CR0 write with
 * SMMUEN = 0 left the stall it was recording alive, against 6.3.9.6); the
 * master's, sent while a resumed job runs, would re-enter the job.  Both
 * are aborted (MSI_EVENTQ_ABT_ERR), as an MSI to the master's registers
 * already is while DOORBELL runs the job (QEMU's re-entrancy guard).
 */
static void test_msi_reentry(void)
{
    V3Env e;
    V3Ev ev;

    v3e_up(&e, NULL, true);
    v3_wr(&e.v, V3_IRQ_CTRL, 0);
    v3_wrq(&e.v, 0xb0, V3_BASE + V3_CR0);
    v3_wr(&e.v, 0xb8, 0xc);                         /* SMMUEN = 0 */
    v3_wr(&e.v, V3_IRQ_CTRL, 0x5);
    g_assert_cmphex(ST(v3e_job(&e, M_OP_FILL, VA + 0x10000, 4, true,
                               PASID)), ==, M_ST_BUSY);
    g_assert_cmphex(v3_rd(&e.v, V3_CR0), ==, 0xd);
    g_assert_cmphex(v3e_gerr(&e.v), ==, 1u << 5);
    ev = v3e_expect(&e, EVT_F_TRANSLATION);
    v3e_ack(&e.v);
    v3_wr(&e.v, V3_IRQ_CTRL, 0);
    v3_wrq(&e.v, 0xb0, V3_MASTER + M_ABORT);
    v3_wr(&e.v, 0xb8, 1);
    v3_wr(&e.v, V3_IRQ_CTRL, 0x5);
    v3_resume(&e.v, SID, ev.stag, 1);               /* faults again */
    g_assert_cmphex(ST(qtest_readl(e.qts, V3_MASTER + M_STATUS)), ==,
                    M_ST_BUSY);
    g_assert_cmphex(v3e_gerr(&e.v), ==, 1u << 5);
    ev = v3e_expect(&e, EVT_F_TRANSLATION);
    v3_wr(&e.v, V3_CR0, 0xc);                       /* terminates it */
    g_assert_cmphex(ST(qtest_readl(e.qts, V3_MASTER + M_STATUS)), ==,
                    M_ST_FAULT);
    qtest_quit(e.qts);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/mmn-smmuv3/errors/stream-table-2level",
                   test_stream_table_2level);
    qtest_add_func("/mmn-smmuv3/errors/sid-beyond-span",
                   test_sid_beyond_span);
    qtest_add_func("/mmn-smmuv3/errors/ste", test_ste);
    qtest_add_func("/mmn-smmuv3/errors/substreams", test_substreams);
    qtest_add_func("/mmn-smmuv3/errors/cd-2level", test_cd_2level);
    qtest_add_func("/mmn-smmuv3/errors/cd-illegal", test_cd_illegal);
    qtest_add_func("/mmn-smmuv3/errors/cd-httu", test_cd_httu);
    qtest_add_func("/mmn-smmuv3/errors/epd0-ttb1", test_epd0_ttb1);
    qtest_add_func("/mmn-smmuv3/errors/s1stalld", test_s1stalld);
    qtest_add_func("/mmn-smmuv3/errors/mmio", test_mmio);
    qtest_add_func("/mmn-smmuv3/errors/cmdq", test_cmdq);
    qtest_add_func("/mmn-smmuv3/errors/gerror-msi", test_gerror_msi);
    qtest_add_func("/mmn-smmuv3/errors/evtq", test_evtq);
    qtest_add_func("/mmn-smmuv3/errors/registers", test_registers);
    qtest_add_func("/mmn-smmuv3/errors/master-jobs", test_master_jobs);
    qtest_add_func("/mmn-smmuv3/errors/msi-reentry", test_msi_reentry);
    return g_test_run();
}
