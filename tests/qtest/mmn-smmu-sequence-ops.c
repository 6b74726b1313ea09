/*
 * mmn-smmu random mm sequence qtest, the operations: each one drives the
 * kernel model (libqos/mmn-kernel) or the device and updates the
 * reference; run_op() applies one to the current state and CHECKs.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-smmu-sequence.h"

const char *const op_names[NR_OPS] = {
    "mmap", "munmap", "mprotect", "fork", "child-exit", "dma-read",
    "dma-write", "cpu-write", "cpu-read", "aging", "migrate", "release",
};

/* Relative frequencies of the operations. */
static const unsigned op_weights[NR_OPS] = {
    10, 5, 8, 4, 3, 22, 22, 6, 3, 6, 5, 1,
};

/* ---- operations ---- */

static int pick_slot(Seq *s, bool mapped)
{
    unsigned start = rnd(s, NR_SLOTS);

    for (unsigned n = 0; n < NR_SLOTS; n++) {
        unsigned i = (start + n) % NR_SLOTS;

        if (s->slot[i].mapped == mapped) {
            return i;
        }
    }
    return -1;
}

static const int prots[] = {
    MK_PROT_NONE, MK_PROT_READ, MK_PROT_READ | MK_PROT_WRITE,
};

static void op_mmap(Seq *s, unsigned i)
{
    Slot *sl = &s->slot[i];
    int flags, populate = rnd(s, 3);
    bool child = sl->child;

    /* a child of a fork of the previous mapping may still be alive */
    memset(sl, 0, sizeof(*sl));
    sl->child = child;
    sl->mapped = true;
    sl->kind = i < NR_SMALL ? K_SMALL : chance(s, 50) ? K_HUGETLB : K_THP;
    sl->shared = chance(s, 40);
    sl->prot = chance(s, 80) ? MK_PROT_READ | MK_PROT_WRITE :
               prots[rnd(s, 2)];
    sl->npages = sl->kind == K_SMALL ? SMALL_PAGES : 512;
    flags = (sl->shared ? MK_MAP_SHARED : MK_MAP_PRIVATE) |
            (sl->kind == K_HUGETLB ? MK_MAP_HUGETLB :
             sl->kind == K_THP ? MK_MAP_THP : 0);
    if (sl->prot == MK_PROT_NONE) {
        populate = 0;
    }
    if (populate == 2) {
        mk_mmap_populate(s->mm, slot_va(i), sl->npages * MK_PAGE_SIZE,
                         sl->prot, flags);
        for (unsigned pg = 0; pg < sl->npages; pg++) {
            sl->word[pg] = mk_fill_pattern(page_va(i, pg));
        }
    } else {
        mk_mmap(s->mm, slot_va(i), sl->npages * MK_PAGE_SIZE, sl->prot,
                flags);
        if (populate) {
            mk_populate(s->mm, slot_va(i), sl->npages * MK_PAGE_SIZE);
        }
    }
    learn_pa(s, i, sl->pa);
}

static void op_munmap(Seq *s, unsigned i)
{
    Slot *sl = &s->slot[i];
    uint64_t before[512];

    memcpy(before, sl->pa, sizeof(before));
    mk_munmap(s->mm, slot_va(i), sl->npages * MK_PAGE_SIZE);
    sl->mapped = false;
    retire_changed(s, i, before, false);
}

static void op_mprotect(Seq *s, unsigned i)
{
    Slot *sl = &s->slot[i];
    int prot;

    do {
        /* mostly back to read-write: most DMA should be permitted */
        prot = prots[MIN(rnd(s, 4), 2)];
    } while (prot == sl->prot);
    mk_mprotect(s->mm, slot_va(i), sl->npages * MK_PAGE_SIZE, prot);
    sl->prot = prot;
}

static void op_fork(Seq *s, unsigned i)
{
    Slot *sl = &s->slot[i];

    mk_fork(s->mm, slot_va(i), sl->npages * MK_PAGE_SIZE);
    if (sl->kind == K_SMALL && chance(s, 60)) {
        sl->child = true;   /* the parent's writes copy (wp_page_copy) */
    } else {
        /* a huge page shared with a live child would split: not modelled */
        mk_child_exit(s->mm, slot_va(i), sl->npages * MK_PAGE_SIZE);
    }
}

static void op_child_exit(Seq *s, unsigned i)
{
    Slot *sl = &s->slot[i];

    mk_child_exit(s->mm, slot_va(i), sl->npages * MK_PAGE_SIZE);
    sl->child = false;
    /* pages only the child still mapped are freed (poisoned) now */
    for (guint n = 0; n < s->retired->len; n++) {
        Retired *r = &g_array_index(s->retired, Retired, n);

        if (r->va >= slot_va(i) && r->va < slot_va(i) + SLOT_SPAN) {
            r->word = qtest_readl(s->qts, r->pa);
        }
    }
}

static void op_aging(Seq *s, unsigned i)
{
    uint64_t va = page_va(i, rnd(s, MAX(s->slot[i].npages, 1)));
    uint64_t bm[1];

    switch (rnd(s, 4)) {
    case 0:
        mk_clear_flush_young(s->mm, va);
        break;
    case 1:
        mk_clear_young(s->mm, va);
        break;
    case 2:
        mk_test_young(s->mm, va);
        break;
    default:
        bm[0] = 0;
        mk_test_clear_young(s->mm, slot_va(i),
                            slot_va(i) + SMALL_PAGES * MK_PAGE_SIZE,
                            chance(s, 50), bm);
        break;
    }
}

static void op_migrate(Seq *s, unsigned i)
{
    static const uint64_t owners[] = { OWN_COOKIE, FOREIGN_COOKIE, 0 };
    Slot *sl = &s->slot[i];
    unsigned first = rnd(s, SMALL_PAGES), n = 1 + rnd(s, SMALL_PAGES - first);
    uint64_t before[512];

    memcpy(before, sl->pa, sizeof(before));
    mk_migrate(s->mm, page_va(i, first), n * MK_PAGE_SIZE,
               owners[rnd(s, ARRAY_SIZE(owners))], NULL, NULL);
    retire_changed(s, i, before, true);
}

/* The CPU writes a whole page (a CPU fault runs the same handler). */
static void op_cpu_write(Seq *s, unsigned i)
{
    Slot *sl = &s->slot[i];
    unsigned pg = rnd(s, sl->npages);
    uint64_t va = page_va(i, pg);
    uint64_t pte = mk_pte_get(s->mm, va);
    uint32_t w = g_rand_int(s->rng) | 1;
    g_autofree uint32_t *b = g_new(uint32_t, MK_PAGE_SIZE / 4);
    uint64_t before[512];

    memcpy(before, sl->pa, sizeof(before));
    for (unsigned n = 0; n < MK_PAGE_SIZE / 4; n++) {
        b[n] = cpu_to_le32(w);
    }
    mk_cpu_write(s->mm, va, b, MK_PAGE_SIZE);
    sl->word[pg] = w;
    if ((pte & MK_PTE_VALID) && (pte & MK_PTE_AF) && (pte & MK_PTE_WRITE) &&
        (pte & MK_PTE_RDONLY) && !mk_mm_upgrade_path(s->mm)) {
        /* FEAT_HAFDBS dirtied it: no kernel code runs, nobody is told */
        s->stale_ro_ok = true;
        s->counts[C_CPU_HW_DIRTY]++;
    }
    note_upgrade(s);
    retire_changed(s, i, before, true);
    s->counts[C_CPU_OK]++;
}

static void op_cpu_read(Seq *s, unsigned i)
{
    Slot *sl = &s->slot[i];
    unsigned pg = rnd(s, sl->npages);
    uint32_t w;

    mk_cpu_read(s->mm, page_va(i, pg) + 4 * rnd(s, MK_PAGE_SIZE / 4), &w, 4);
    learn_pa(s, i, sl->pa);
    if (le32_to_cpu(w) != sl->word[pg]) {
        count(s, C_BAD_READ_DATA, "CPU read 0x%08x, reference 0x%08x",
              le32_to_cpu(w), sl->word[pg]);
    } else {
        s->counts[C_CPU_OK]++;
    }
}

/*
 * One device DMA on a page of slot @i (@i < 0: a hole).  Reads cover a
 * random part of the page, writes all of it (FILL with a word, or WRITE
 * from a buffer of one repeated byte), so every page holds one word.
 */
static void op_dma(Seq *s, int i, bool write)
{
    Slot *sl = i >= 0 ? &s->slot[i] : NULL;
    unsigned pg = sl && sl->npages ? rnd(s, sl->npages) : 0;
    uint64_t va = sl ? page_va(i, pg) : VA_BASE + NR_SLOTS * SLOT_SPAN;
    bool allowed = sl && sl->mapped &&
                   (sl->prot & (write ? MK_PROT_WRITE : MK_PROT_READ));
    uint32_t off = 0, len = MK_PAGE_SIZE, w = 0;
    uint64_t before[512];
    MmnDmaDesc d;
    MkFaultLoop r;

    if (sl) {
        memcpy(before, sl->pa, sizeof(before));
    }
    if (write && chance(s, 50)) {
        uint8_t byte = 1 + rnd(s, 254);

        w = byte * 0x01010101u;
        qtest_memset(s->qts, s->buf, byte, MK_PAGE_SIZE);
        d = mk_dma_desc(MMN_DMA_OP_WRITE, CTX, va, len, s->buf, 0);
    } else if (write) {
        w = g_rand_int(s->rng) | 1;
        if (w == POISON) {
            w ^= 2;
        }
        d = mk_dma_desc(MMN_DMA_OP_FILL, CTX, va, len, 0, w);
    } else {
        off = 4 * rnd(s, MK_PAGE_SIZE / 4);
        len = MIN(4 * (1 + rnd(s, 64)), MK_PAGE_SIZE - off);
        qtest_memset(s->qts, s->buf, 0xa5, len);
        d = mk_dma_desc(MMN_DMA_OP_READ, CTX, va + off, len, s->buf, 0);
    }
    mk_dma_fault_loop_with(s->mm, &d, MAX_ITER, s->fault_fn, s->fault_opaque,
                           &r);
    s->counts[C_DMA_FAULTS] += r.faults;

    switch (r.state) {
    case MMN_DMA_ST_DONE:
        if (!allowed) {
            count(s, C_BAD_DENIED_DONE, "%s of va 0x%" PRIx64 " completed "
                  "(%s)", write ? "write" : "read", va,
                  !sl || !sl->mapped ? "no VMA" : "VMA forbids it");
            break;
        }
        learn_pa(s, i, sl->pa);
        if (write) {
            uint64_t pte = mk_pte_get(s->mm, va);
            uint64_t pa = mk_va_to_pa(s->mm, va);
            uint32_t first, last;

            note_upgrade(s);
            if (!(pte & MK_PTE_VALID) || (pte & MK_PTE_RDONLY)) {
                count(s, C_BAD_WRITE_PERM, "write of va 0x%" PRIx64
                      " completed, PTE 0x%" PRIx64 " does not grant it",
                      va, pte);
            }
            first = pa ? qtest_readl(s->qts, pa) : 0;
            last = pa ? qtest_readl(s->qts, pa + MK_PAGE_SIZE - 4) : 0;
            if (first != w || last != w) {
                count(s, C_BAD_WRITE_OA, "write of 0x%08x at va 0x%" PRIx64
                      " not in page 0x%" PRIx64 " (holds 0x%08x/0x%08x)",
                      w, va, pa, first, last);
            }
            sl->word[pg] = w;
            s->counts[C_DMA_WRITE_OK]++;
        } else {
            g_autofree uint32_t *b = g_malloc(len);
            unsigned bad = 0;

            qtest_memread(s->qts, s->buf, b, len);
            for (unsigned n = 0; n < len / 4; n++) {
                bad += le32_to_cpu(b[n]) != sl->word[pg];
            }
            if (bad || !(mk_pte_get(s->mm, va) & MK_PTE_VALID)) {
                count(s, C_BAD_READ_DATA, "read of va 0x%" PRIx64 " got "
                      "0x%08x (%u of %u words differ), reference 0x%08x",
                      va + off, le32_to_cpu(b[0]), bad, len / 4,
                      sl->word[pg]);
            } else {
                s->counts[C_DMA_READ_OK]++;
            }
        }
        break;
    case MMN_DMA_ST_ABORTED:
        if (allowed) {
            count(s, C_UNEXP_ABORT, "permitted %s of va 0x%" PRIx64
                  " aborted", write ? "write" : "read", va);
        } else {
            s->counts[C_DMA_DENIED]++;
        }
        break;
    case MMN_DMA_ST_LIVELOCK:
        note_upgrade(s);
        if (write && allowed && r.stale && s->stale_ro_ok) {
            s->counts[C_LIVELOCK_STALE_RO]++;
        } else {
            count(s, C_UNEXP_LIVELOCK, "%s of va 0x%" PRIx64 " (%s entry, "
                  "upgrade route %s)", write ? "write" : "read", va,
                  r.stale ? "stale" : "coherent",
                  mk_mm_upgrade_path(s->mm) ?: "none");
        }
        break;
    default:
        count(s, C_UNEXP_STATE, "DMA state %s at va 0x%" PRIx64,
              mk_dma_state_name(r.state), va);
        break;
    }
    if (sl && sl->mapped) {
        retire_changed(s, i, before, true);
        /* a write that did not complete left the page as it was */
        if (write && r.state != MMN_DMA_ST_DONE && sl->pa[pg] &&
            qtest_readl(s->qts, sl->pa[pg]) != sl->word[pg]) {
            count(s, C_BAD_WRITE_OA, "failed write changed va 0x%" PRIx64,
                  va);
        }
    }
    if (write) {
        check_retired(s, va);
    }
}

/* exit_mmap: afterwards the device translates nothing for the mm. */
static void op_release(Seq *s)
{
    unsigned i = rnd(s, NR_SLOTS);
    MmnDmaDesc d;
    MkFaultLoop r;

    mk_release(s->mm);
    qtest_memset(s->qts, s->buf, 0xa5, 64);
    d = mk_dma_desc(MMN_DMA_OP_READ, CTX, slot_va(i), 64, s->buf, 0);
    mk_dma_fault_loop(s->mm, &d, MAX_ITER, &r);
    if (r.state != MMN_DMA_ST_RELEASED || r.faults ||
        qtest_readl(s->qts, s->buf) != 0xa5a5a5a5) {
        count(s, C_BAD_RELEASED_DMA, "DMA after release: state %s, %u "
              "faults", mk_dma_state_name(r.state), r.faults);
    } else {
        s->counts[C_DMA_RELEASED]++;
    }
}

Op pick_op(Seq *s)
{
    unsigned total = 0, x;

    for (int o = 0; o < NR_OPS; o++) {
        total += op_weights[o];
    }
    x = rnd(s, total);
    for (int o = 0; o < NR_OPS; o++) {
        if (x < op_weights[o]) {
            return o;
        }
        x -= op_weights[o];
    }
    g_assert_not_reached();
}

/* Operations that need a mapped slot (m below). */
#define NEEDS_MAPPING   ((1u << OP_MUNMAP) | (1u << OP_MPROTECT) | \
                         (1u << OP_FORK) | (1u << OP_CPU_WRITE) | \
                         (1u << OP_CPU_READ) | (1u << OP_MIGRATE))

/* One operation; false if none applied to the state (pick another). */
bool run_op(Seq *s, Op op)
{
    int i, m = pick_slot(s, true);
    Slot *sl = m >= 0 ? &s->slot[m] : NULL;

    if (!sl && (NEEDS_MAPPING & (1u << op))) {
        return false;
    }
    s->op = op;
    mk_mm_log_clear(s->mm);
    switch (op) {
    case OP_MMAP:
        i = pick_slot(s, false);
        if (i < 0) {
            return false;
        }
        op_mmap(s, i);
        break;
    case OP_MUNMAP:
        op_munmap(s, m);
        break;
    case OP_MPROTECT:
        op_mprotect(s, m);
        break;
    case OP_FORK:
        if (sl->child) {
            return false;
        }
        op_fork(s, m);
        break;
    case OP_CHILD_EXIT:
        for (i = 0; i < NR_SLOTS && !s->slot[i].child; i++) {
            continue;
        }
        if (i == NR_SLOTS) {
            return false;
        }
        op_child_exit(s, i);
        break;
    case OP_DMA_READ:
    case OP_DMA_WRITE:
        /* mostly mapped pages; sometimes a hole or an unmapped slot */
        i = chance(s, 90) && sl ? m : chance(s, 50) ? -1 : rnd(s, NR_SLOTS);
        op_dma(s, i, op == OP_DMA_WRITE);
        break;
    case OP_CPU_WRITE:
        if (sl->prot != (MK_PROT_READ | MK_PROT_WRITE)) {
            return false;
        }
        op_cpu_write(s, m);
        break;
    case OP_CPU_READ:
        if (sl->prot == MK_PROT_NONE) {
            return false;
        }
        op_cpu_read(s, m);
        break;
    case OP_AGING:
        op_aging(s, sl ? m : rnd(s, NR_SLOTS));
        break;
    case OP_MIGRATE:
        if (sl->kind != K_SMALL) {
            return false;
        }
        op_migrate(s, m);
        break;
    case OP_RELEASE:
        op_release(s);
        return true;
    default:
        g_assert_not_reached();
    }
    check_device(s);
    return true;
}
