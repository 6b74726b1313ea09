/*
 * mmn-smmuv3 differential qtest, comparison: two outcomes agree when
 * every probe had the same result and the same event records in the
 * fields Arm IHI 0070 (G.b) 7.3 defines for each event; show() prints
 * one outcome.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-smmuv3-diff.h"

static bool is_fault(uint8_t id)
{
    return id == EVT_F_WALK_EABT || (id >= 0x10 && id <= 0x13);
}

/*
 * The bits 7.3 defines for the event: word 0 (type, SSV, SubstreamID,
 * StreamID) always; for F_TRANSLATION, F_ADDR_SIZE, F_ACCESS,
 * F_PERMISSION, F_WALK_EABT STAG, Stall, PnU, InD, RnW, S2, CLASS and
 * InputAddr, and FetchAddr[55:3] of F_WALK_EABT; FetchAddr of F_STE_FETCH.
 */
static void defined_bits(const uint64_t *w, uint64_t *m)
{
    uint8_t id = w[0] & 0xff;

    m[0] = w[0] & ~0x700ULL;
    m[1] = m[2] = m[3] = 0;
    if (is_fault(id)) {
        m[1] = w[1] & (0xffffULL | 1ULL << 31 | 7ULL << 33 | 1ULL << 39 |
                       3ULL << 40);
        m[2] = w[2];
    }
    if (id == EVT_F_WALK_EABT || id == EVT_F_STE_FETCH) {
        m[3] = w[3] & 0x00fffffffffffff8ULL;
    }
}

void show(const char *who, const Out *o)
{
    unsigned i, j;

    for (i = 0; i < o->n; i++) {
        const Result *r = &o->r[i];

        g_printerr("  %s probe %u: reason %u landed %d events %u\n", who, i,
                   r->reason, r->landed, r->nev);
        for (j = 0; j < r->nev; j++) {
            g_printerr("    %016" PRIx64 " %016" PRIx64 " %016" PRIx64
                       " %016" PRIx64 "\n", r->ev[j][0], r->ev[j][1],
                       r->ev[j][2], r->ev[j][3]);
        }
    }
}

bool same(const Out *a, const Out *b)
{
    unsigned i, j, k;
    uint64_t ma[4], mb[4];

    if (a->n != b->n) {
        return false;
    }
    for (i = 0; i < a->n; i++) {
        const Result *x = &a->r[i], *y = &b->r[i];

        if (x->reason != y->reason || x->landed != y->landed ||
            x->nev != y->nev) {
            return false;
        }
        for (j = 0; j < x->nev; j++) {
            defined_bits(x->ev[j], ma);
            defined_bits(y->ev[j], mb);
            for (k = 0; k < 4; k++) {
                if (ma[k] != mb[k]) {
                    return false;
                }
            }
        }
    }
    return true;
}
