/*
 * libqos: the random input of mmn-smmuv3's robustness fuzzer
 * (tests/qtest/mmn-smmuv3-robustness-test.c) and the rules that keep it
 * away from the sentinel (see mmn-smmuv3-fuzz.h).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "../libqtest.h"
#include "mmn-smmuv3-fuzz.h"

uint32_t v3f_rnd(V3Fuzz *f, uint32_t n)
{
    return n ? g_rand_int_range(f->rng, 0, n) : 0;
}

bool v3f_chance(V3Fuzz *f, unsigned percent)
{
    return v3f_rnd(f, 100) < percent;
}

uint64_t v3f_rnd64(V3Fuzz *f)
{
    return (uint64_t)g_rand_int(f->rng) << 32 | g_rand_int(f->rng);
}

unsigned v3f_pick(V3Fuzz *f, const unsigned *w, unsigned n)
{
    unsigned total = 0, r, i;

    for (i = 0; i < n; i++) {
        total += w[i];
    }
    r = v3f_rnd(f, total);
    for (i = 0; i < n; i++) {
        if (r < w[i]) {
            return i;
        }
        r -= w[i];
    }
    g_assert_not_reached();
}

static bool in_sent(uint64_t a)
{
    return a >= SENT_BASE && a < SENT_END;
}

/* @len bytes at @a, as the SMMU may use them (truncated to the OAS). */
bool v3f_range_safe(V3Fuzz *f, uint64_t a, uint64_t len)
{
    uint64_t t = a & MAKE_64BIT_MASK(0, f->oas);

    return !(a < SENT_END && a + len > SENT_BASE) &&
           !(t < SENT_END && t + len > SENT_BASE) &&
           !in_sent(a & 0xffffffffULL);
}

/* A data byte: even, never 0x40..0x5f. */
uint8_t v3f_data_byte(uint8_t b)
{
    b &= 0xfe;
    return (b & 0xe0) == 0x40 ? b ^ 0x80 : b;
}

uint32_t v3f_data32(V3Fuzz *f)
{
    uint32_t v = g_rand_int(f->rng), r = 0;
    int i;

    for (i = 0; i < 4; i++) {
        r |= (uint32_t)v3f_data_byte(v >> (i * 8)) << (i * 8);
    }
    return r;
}

/* A word the fuzzer writes: if it looks valid, not into the sentinel. */
uint64_t v3f_guard(uint64_t w)
{
    uint8_t b3 = w >> 24;

    return (w & 1) && b3 >= (SENT_BASE >> 24) && b3 < (SENT_END >> 24) ?
           w & ~1ULL : w;
}

/* Guest RAM the fuzzer may write (never MMIO: no side effects). */
bool v3f_ram_ok(uint64_t a, uint64_t len)
{
    return a >= V3_RAM && a + len <= RAM_END && a + len > a &&
           !(a < SENT_END && a + len > SENT_BASE);
}

void v3f_wr64(V3Fuzz *f, uint64_t a, uint64_t w)
{
    if (v3f_ram_ok(a, 8)) {
        qtest_writeq(f->qts, a, v3f_guard(w));
    }
}

uint64_t v3f_tbl_page(V3Fuzz *f)
{
    return TBL_BASE + v3f_rnd(f, TBL_PAGES) * PAGE;
}

/* A pointer to a structure or a table. */
uint64_t v3f_ptr_addr(V3Fuzz *f, uint64_t align)
{
    static const unsigned w[] = { 60, 8, 6, 4, 4, 4, 4, 4, 3, 3 };
    static const uint64_t mmio[] = {
        V3_MASTER, V3_BASE, V3_BASE + 0x10000, UART, GIC, ECAM, 0,
    };
    static const uint64_t huge[] = {
        1ULL << 48, 1ULL << 52, (1ULL << 48) - PAGE, ~0ULL, 1ULL << 40,
        (1ULL << 32) + DATA_BASE,
    };
    uint64_t a;

    do {
        switch (v3f_pick(f, w, ARRAY_SIZE(w))) {
        case 0:
            a = v3f_tbl_page(f) + v3f_rnd(f, PAGE);
            break;
        case 1:
            a = GOOD_BASE + v3f_rnd(f, 64) * PAGE;  /* the driver's tables */
            break;
        case 2:
            a = mmio[v3f_rnd(f, ARRAY_SIZE(mmio))] + v3f_rnd(f, 64) * 8;
            break;
        case 3:
            a = NOWHERE + v3f_rnd(f, 1 << 20) * 64;
            break;
        case 4:
            a = RAM_END + v3f_rnd(f, 4096) * PAGE;
            break;
        case 5:
            a = huge[v3f_rnd(f, ARRAY_SIZE(huge))];
            break;
        case 6:
            a = v3f_rnd64(f);
            break;
        case 7:
            a = DATA_BASE + v3f_rnd(f, DATA_SIZE / PAGE) * PAGE;
            break;
        case 8:
            a = f->cdtab;
            break;
        default:
            a = f->roots[v3f_rnd(f, ARRAY_SIZE(f->roots))];
            break;
        }
        a &= ~(align - 1);
    } while (!v3f_range_safe(f, a, 8));
    return a;
}

/* An output address of a leaf. */
uint64_t v3f_out_addr(V3Fuzz *f)
{
    static const unsigned w[] = { 70, 10, 6, 4, 4, 3, 3 };
    static const uint64_t mmio[] = {
        V3_MASTER, V3_MASTER + 0x1000, V3_BASE, V3_BASE + 0x10000, UART, 0,
    };
    uint64_t a;

    do {
        switch (v3f_pick(f, w, ARRAY_SIZE(w))) {
        case 0:
            a = DATA_BASE + v3f_rnd(f, DATA_SIZE / PAGE) * PAGE;
            break;
        case 1:
            a = v3f_tbl_page(f);            /* tables pointing at tables */
            break;
        case 2:
            a = mmio[v3f_rnd(f, ARRAY_SIZE(mmio))];
            break;
        case 3:
            a = RAM_END + v3f_rnd(f, 16) * PAGE;
            break;
        case 4:
            a = (1ULL << (32 + v3f_rnd(f, 16))) + DATA_BASE;
            break;
        case 5:
            a = NOWHERE;
            break;
        default:
            a = v3f_rnd64(f) & 0x0000fffffffff000ULL;
            break;
        }
    } while (!v3f_range_safe(f, a, PAGE));
    return a & ~(PAGE - 1);
}

/* A queue of 2^log2 entries of @esize bytes, whole extent outside it. */
uint64_t v3f_queue_addr(V3Fuzz *f, unsigned log2, unsigned esize)
{
    uint64_t size = MAX(32, (uint64_t)esize << log2), a;

    do {
        switch (v3f_rnd(f, 6)) {
        case 0:
        case 1:
        case 2:
            a = DATA_BASE + (v3f_rnd64(f) % DATA_SIZE);
            break;
        case 3:
            a = NOWHERE + v3f_rnd(f, 1 << 16) * 32;
            break;
        case 4:
            a = v3f_chance(f, 50) ? V3_MASTER : RAM_END - size;
            break;
        default:
            a = v3f_rnd64(f) & 0x000fffffffffffe0ULL;
            break;
        }
        a &= ~(size - 1);
    } while (!v3f_range_safe(f, a, size));
    return a;
}

static uint64_t msi_addr(V3Fuzz *f)
{
    static const uint64_t mmio[] = {
        V3_MASTER + 0x44, V3_MASTER + 0x24, V3_MASTER + 0x1000,
        V3_BASE + 0x20, V3_BASE + 0x98, V3_BASE + 0x64, V3_BASE + 0x10000,
        UART, NOWHERE, 0,
    };
    uint64_t a;

    do {
        a = v3f_chance(f, 40) ? DATA_BASE + (v3f_rnd64(f) % DATA_SIZE) :
            v3f_chance(f, 80) ? mmio[v3f_rnd(f, ARRAY_SIZE(mmio))] :
            v3f_rnd64(f);
        a &= 0x00fffffffffffffcULL;
    } while (!v3f_range_safe(f, a, 4));
    return a;
}

/* An MSI target and its data: data bytes for RAM, anything for MMIO. */
void v3f_msi_pair(V3Fuzz *f, uint64_t *addr, uint32_t *data)
{
    static const uint32_t useful[] = { 1, 0, 0xc, 0xd, 3, 0x100, 0xffffffff };

    *addr = msi_addr(f);
    if (*addr >= V3_RAM && *addr < RAM_END) {
        *data = v3f_data32(f);
    } else {
        *data = v3f_chance(f, 70) ? useful[v3f_rnd(f, ARRAY_SIZE(useful))] :
                g_rand_int(f->rng);
    }
}

/* A job VA: even, bits [29:27] = 0b011 (see the top comment). */
uint64_t v3f_job_va(V3Fuzz *f)
{
    static const uint64_t top[] = {
        0x0000001340000000ULL, 0x0000007f00000000ULL, 0xffff800000000000ULL,
        0x0080000040000000ULL, 0xab00001340000000ULL, 0xfffffffff0000000ULL,
        0x0000000040000000ULL,
    };
    uint64_t va = top[v3f_rnd(f, ARRAY_SIZE(top))] |
                  (v3f_rnd64(f) & 0x0000ffffffffffffULL);

    if (v3f_chance(f, 75)) {
        va = GOOD_VA | v3f_rnd(f, 64) << 12 | v3f_rnd(f, PAGE);   /* hot */
    }
    va = (va & ~0x38000000ULL) | 0x18000000ULL;
    return va & ~1ULL;
}

uint32_t v3f_job_pasid(V3Fuzz *f)
{
    static const uint32_t hot[] = { 1, GOOD_PASID, 5, 63, 1, 5, 0, 64 };
    uint32_t p;

    do {
        p = v3f_chance(f, 85) ? hot[v3f_rnd(f, ARRAY_SIZE(hot))] :
            v3f_rnd(f, 1 << 21);
    } while (p >= (SENT_BASE >> 12) && p < (SENT_END >> 12));
    return p;
}

static uint8_t sentinel_byte(uint64_t a)
{
    return (0xa6 ^ (uint8_t)((a - SENT_BASE) >> 20)) & 0xfe;
}

void v3f_sentinel_fill(V3Fuzz *f)
{
    uint64_t a;

    f->sent = g_malloc(SENT_SIZE);
    for (a = SENT_BASE; a < SENT_END; a += 1ULL << 20) {
        uint8_t b = MAX(sentinel_byte(a), 2);

        qtest_memset(f->qts, a, b, 1ULL << 20);
        memset(f->sent + (a - SENT_BASE), b, 1ULL << 20);
    }
}

void v3f_sentinel_check(V3Fuzz *f)
{
    g_autofree char *path = NULL;
    g_autofree uint8_t *mem = NULL;
    gsize len = 0, i, bad = 0, first = 0;
    int fd = g_file_open_tmp("mmn-smmuv3-sentinel-XXXXXX", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    qtest_qmp_assert_success(f->qts, "{ 'execute': 'pmemsave', 'arguments': "
                             "{ 'val': %" PRIu64 ", 'size': %" PRIu64 ", "
                             "'filename': %s } }", (uint64_t)SENT_BASE,
                             (uint64_t)SENT_SIZE, path);
    g_assert_true(g_file_get_contents(path, (char **)&mem, &len, NULL));
    unlink(path);
    g_assert_cmpuint(len, ==, SENT_SIZE);
    if (!memcmp(mem, f->sent, len)) {
        return;
    }
    for (i = 0; i < len; i++) {
        if (mem[i] != f->sent[i] && !bad++) {
            first = i;
        }
    }
    if (bad) {
        g_test_message("sentinel: %zu bytes changed, first at 0x%" PRIx64,
                       (size_t)bad, (uint64_t)(SENT_BASE + first));
    }
    g_assert_cmpuint(bad, ==, 0);
}

