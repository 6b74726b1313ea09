/*
 * mmn-kernel-mm: the mm model.  A process address space (MkMm) with arm64
 * Linux page tables in guest memory, VMAs, and the mm operations that
 * change them (mmap, populate, munmap, mprotect, fork, aging, KSM, exit,
 * migration), each sending the notifications of its call site under the
 * mm's profile (mmn-kernel-profiles.c).  Fault handling is in
 * mmn-kernel-fault.c.  See mmn-kernel.h.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "../libqtest.h"
#include "mmn-kernel-int.h"

QTestState *mk_qts(MkMm *mm)
{
    return mm->k->qts;
}

MkMm *mk_mm_new(MmnKernel *k, MkProfile p, uint16_t ctx, unsigned va_bits,
                 uint64_t cfg_extra)
{
    return mk_mm_new_owner(k, p, ctx, va_bits, cfg_extra, 0);
}

MkMm *mk_mm_new_owner(MmnKernel *k, MkProfile p, uint16_t ctx,
                       unsigned va_bits, uint64_t cfg_extra, uint64_t owner)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_CTX_BIND, ctx);
    MkMm *mm = g_new0(MkMm, 1);
    uint64_t cfg;

    g_assert(va_bits == 39 || va_bits == 48);
    mm->k = k;
    mm->profile = p;
    mm->ctx = ctx;
    mm->va_bits = va_bits;
    mm->start_level = va_bits == 48 ? 0 : 1;
    mm->ttb = mk_alloc(k, 4096, 4096);
    mm->pages = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
                                      g_free);
    mm->child = g_array_new(false, false, sizeof(MkChildPage));
    mm->log = g_string_new("");
    cfg = MMN_CTX_CFG_VA_BITS(va_bits) | MMN_CTX_CFG_OA_BITS(48) |
          MMN_CTX_CFG_UNPRIV | cfg_extra;
    if (mk_profile_legacy_inv(p)) {
        cfg |= MMN_CTX_CFG_LEGACY_INV;
    }
    c.a0 = mm->ttb;
    c.a1 = cfg;
    c.a2 = owner;
    mk_cmd(k, &c);
    return mm;
}

void mk_mm_free(MkMm *mm)
{
    if (mm->k) {
        mk_unbind(mm->k, mm->ctx);
    }
    g_list_free_full(mm->vmas, g_free);
    g_hash_table_destroy(mm->pages);
    g_array_free(mm->child, true);
    g_string_free(mm->log, true);
    g_free(mm);
}

uint16_t mk_mm_ctx(MkMm *mm)
{
    return mm->ctx;
}

MkProfile mk_mm_profile(MkMm *mm)
{
    return mm->profile;
}

uint64_t mk_mm_ttb(MkMm *mm)
{
    return mm->ttb;
}

void mk_mm_set_cpu_hw_dbm(MkMm *mm, bool on)
{
    mm->cpu_hw_dbm = on;
}

void mk_mm_set_subscriber(MkMm *mm, MkSubscriber s)
{
    g_assert(s < MK_NR_SUBSCRIBERS);
    mm->subscriber = s;
}

MkSubscriber mk_mm_subscriber(MkMm *mm)
{
    return mm->subscriber;
}

void mk_mm_set_observer(MkMm *mm, MkNoteFn fn, void *opaque)
{
    mm->observer = fn;
    mm->observer_opaque = opaque;
}

const char *mk_mm_upgrade_path(MkMm *mm)
{
    return mm->upgrade_path;
}

unsigned mk_mm_notifications(MkMm *mm)
{
    return mm->notifications;
}

const char *mk_mm_log(MkMm *mm)
{
    return mm->log->str;
}

void mk_mm_log_clear(MkMm *mm)
{
    g_string_truncate(mm->log, 0);
    mm->upgrade_path = NULL;
}

/* ---- raw notifier calls ---- */

void mk_note(MkMm *mm, const char *fmt, ...)
{
    g_autofree char *note = NULL;
    va_list ap;

    g_assert_false(mm->released);
    mm->notifications++;
    va_start(ap, fmt);
    note = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_string_append(mm->log, note);
    g_string_append_c(mm->log, ' ');
    if (mm->observer) {
        mm->observer(mm, note, mm->observer_opaque);
    }
}

int32_t mk_mn_range_start(MkMm *mm, uint8_t event, bool blockable,
                          uint64_t start, uint64_t end, uint64_t owner)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_MN_RANGE_START, mm->ctx);
    int32_t res;

    c.arg = event | (blockable ? MMN_CMD_RANGE_BLOCKABLE : 0);
    c.a0 = start;
    c.a1 = end;
    c.a2 = owner;
    res = (int32_t)mk_cmd_res(mm->k, &c);
    mk_note(mm, "start(%u%s,%" PRIx64 "-%" PRIx64 ")=%d", event,
            blockable ? "" : ",nonblock", start, end, res);
    return res;
}

void mk_mn_range_end(MkMm *mm, uint8_t event, bool blockable,
                     bool only_end, uint64_t start, uint64_t end,
                     uint64_t owner)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_MN_RANGE_END, mm->ctx);

    c.arg = event | (blockable ? MMN_CMD_RANGE_BLOCKABLE : 0) |
            (only_end ? MMN_CMD_RANGE_ONLY_END : 0);
    c.a0 = start;
    c.a1 = end;
    c.a2 = owner;
    mk_cmd(mm->k, &c);
    mk_note(mm, "end%s(%u,%" PRIx64 "-%" PRIx64 ")",
            only_end ? "_only" : "", event, start, end);
}

void mk_mn_secondary_tlbs(MkMm *mm, uint64_t start, uint64_t end)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_MN_SECONDARY_TLBS, mm->ctx);

    c.a0 = start;
    c.a1 = end;
    mk_cmd(mm->k, &c);
    mk_note(mm, "tlbs(%" PRIx64 "-%" PRIx64 ")", start, end);
}

void mk_mn_change_pte(MkMm *mm, uint64_t va, uint64_t pte)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_MN_CHANGE_PTE, mm->ctx);

    c.a0 = va;
    c.a1 = pte;
    mk_cmd(mm->k, &c);
    mk_note(mm, "change_pte(%" PRIx64 ")", va);
}

/* ---- the profile engine: phases of a call site ---- */


static unsigned mk_idx(uint64_t va, unsigned level)
{
    return (va >> (39 - 9 * level)) & 511;
}

uint64_t mk_pte_slot(MkMm *mm, uint64_t va, unsigned level, bool alloc)
{
    uint64_t table = mm->ttb;

    for (unsigned l = mm->start_level; l < level; l++) {
        uint64_t slot = table + mk_idx(va, l) * 8;
        uint64_t d = qtest_readq(mk_qts(mm), slot);

        if (!(d & MK_PTE_VALID)) {
            if (!alloc) {
                return 0;
            }
            d = mk_alloc(mm->k, 4096, 4096) | MK_PTE_VALID | MK_PTE_TABLE |
                MK_PMD_TABLE_PXN;
            qtest_writeq(mk_qts(mm), slot, d);
        } else if (!(d & MK_PTE_TABLE)) {
            return 0;                       /* a block above @level */
        }
        table = d & MK_PTE_ADDR_MASK;
    }
    return table + mk_idx(va, level) * 8;
}

uint64_t mk_rd(MkMm *mm, uint64_t slot)
{
    return qtest_readq(mk_qts(mm), slot);
}

void mk_wr(MkMm *mm, uint64_t slot, uint64_t v)
{
    qtest_writeq(mk_qts(mm), slot, v);
}

MkVma *mk_find_vma(MkMm *mm, uint64_t va)
{
    for (GList *l = mm->vmas; l; l = l->next) {
        MkVma *v = l->data;

        if (va >= v->start && va < v->end) {
            return v;
        }
    }
    return NULL;
}

uint64_t mk_vma_psize(const MkVma *v)
{
    return (v->flags & (MK_MAP_HUGETLB | MK_MAP_THP)) ? MK_HPAGE_SIZE
                                                     : MK_PAGE_SIZE;
}

unsigned mk_vma_level(const MkVma *v)
{
    return (v->flags & (MK_MAP_HUGETLB | MK_MAP_THP)) ? 2 : 3;
}

uint64_t mk_vma_slot(MkMm *mm, const MkVma *v, uint64_t va, bool alloc)
{
    return mk_pte_slot(mm, va, mk_vma_level(v), alloc);
}

uint64_t mk_pte_get(MkMm *mm, uint64_t va)
{
    for (unsigned l = mm->start_level; l <= 3; l++) {
        uint64_t slot = mk_pte_slot(mm, va, l, false);
        uint64_t d;

        if (!slot) {
            return 0;
        }
        d = mk_rd(mm, slot);
        if (!(d & MK_PTE_VALID)) {
            return 0;
        }
        if (l == 3 || !(d & MK_PTE_TABLE)) {
            return d;
        }
    }
    return 0;
}

uint64_t mk_va_to_pa(MkMm *mm, uint64_t va)
{
    MkVma *v = mk_find_vma(mm, va);
    uint64_t d = mk_pte_get(mm, va);

    if (!d || !v) {
        return 0;
    }
    return (d & MK_PTE_ADDR_MASK) + (va & (mk_vma_psize(v) - 1));
}

uint64_t mk_make_pte(const MkVma *v, uint64_t pa, bool write_fault)
{
    uint64_t pte = pa | MK_PTE_VALID | MK_PTE_AF | MK_PTE_SHARED |
                   MK_PTE_NG | MK_PTE_PXN | MK_PTE_UXN;

    if (!(v->flags & (MK_MAP_HUGETLB | MK_MAP_THP))) {
        pte |= MK_PTE_TABLE;                /* page, not block */
    }
    if (v->prot == MK_PROT_NONE) {
        /* PAGE_NONE: not valid for hardware (PTE_PROT_NONE) */
        return 0;
    }
    pte |= MK_PTE_USER | MK_PTE_RDONLY;     /* PAGE_READONLY */
    if (v->prot & MK_PROT_WRITE) {
        if (v->flags & MK_MAP_SHARED) {
            pte |= MK_PTE_WRITE;            /* PAGE_SHARED: DBM|RDONLY */
            if (write_fault) {
                pte = (pte & ~MK_PTE_RDONLY) | MK_PTE_DIRTY;
            }
        } else if (write_fault) {
            /* maybe_mkwrite(pte_mkdirty()): private, after a write fault */
            pte = (pte & ~MK_PTE_RDONLY) | MK_PTE_WRITE | MK_PTE_DIRTY;
        }
        /* private, read fault: PAGE_COPY (read-only, COW) */
    }
    return pte;
}

MkPage *mk_page(MkMm *mm, uint64_t pa)
{
    MkPage *pg = g_hash_table_lookup(mm->pages, &pa);

    if (!pg) {
        pg = g_new0(MkPage, 1);
        pg->pa = pa;
        g_hash_table_insert(mm->pages, &pg->pa, pg);
    }
    return pg;
}

uint32_t mk_fill_pattern(uint64_t va)
{
    return (uint32_t)(va >> 12) * 0x9e3779b1u ^ 0xc0ffee00u;
}

static void mk_fill(MkMm *mm, uint64_t pa, uint64_t size, uint32_t pat)
{
    uint32_t buf[1024];

    for (size_t i = 0; i < ARRAY_SIZE(buf); i++) {
        buf[i] = cpu_to_le32(pat);
    }
    for (uint64_t o = 0; o < size; o += sizeof(buf)) {
        qtest_memwrite(mk_qts(mm), pa + o, buf, sizeof(buf));
    }
}

uint64_t mk_new_page(MkMm *mm, const MkVma *v)
{
    uint64_t size = mk_vma_psize(v);
    uint64_t pa = mk_alloc(mm->k, size, size);
    MkPage *pg = mk_page(mm, pa);

    pg->mapcount++;
    /* a new anonymous page is exclusive (folio_add_new_anon_rmap) */
    pg->anon_exclusive = !(v->flags & MK_MAP_SHARED);
    return pa;
}

/* A freed page is reused by someone else: make stale accesses visible. */
void mk_put_page(MkMm *mm, uint64_t pa, uint64_t size)
{
    MkPage *pg;

    if (pa == mm->k->zero_page) {
        return;
    }
    pg = mk_page(mm, pa);
    g_assert_cmpuint(pg->mapcount, >, 0);
    if (--pg->mapcount == 0) {
        pg->anon_exclusive = false;
        mk_fill(mm, pa, size, 0xdeadf00d);
    }
}

void mk_mmap(MkMm *mm, uint64_t va, uint64_t len, int prot, int flags)
{
    MkVma *v = g_new0(MkVma, 1);
    uint64_t align = (flags & MK_MAP_HUGETLB) ? MK_HPAGE_SIZE : MK_PAGE_SIZE;

    g_assert(!(va & (align - 1)) && len && !(len & (align - 1)));
    g_assert(va + len <= (1ULL << mm->va_bits));
    for (uint64_t a = va; a < va + len; a += MK_PAGE_SIZE) {
        g_assert(!mk_find_vma(mm, a));
    }
    v->start = va;
    v->end = va + len;
    v->prot = prot;
    v->flags = flags;
    mm->vmas = g_list_append(mm->vmas, v);
}

void mk_populate(MkMm *mm, uint64_t va, uint64_t len)
{
    for (uint64_t a = va; a < va + len;) {
        MkVma *v = mk_find_vma(mm, a);
        bool write;

        g_assert(v);
        write = (v->prot & MK_PROT_WRITE) && !(v->flags & MK_MAP_SHARED);
        g_assert_cmpint(mk_handle_mm_fault(mm, a, write), ==, MK_FAULT_OK);
        a += mk_vma_psize(v);
    }
}

void mk_mmap_populate(MkMm *mm, uint64_t va, uint64_t len, int prot,
                      int flags)
{
    mk_mmap(mm, va, len, prot, flags);
    mk_populate(mm, va, len);
    for (uint64_t a = va; a < va + len; a += MK_PAGE_SIZE) {
        uint64_t pa = mk_va_to_pa(mm, a);

        g_assert(pa && pa != mm->k->zero_page);
        mk_fill(mm, pa, MK_PAGE_SIZE, mk_fill_pattern(a));
    }
}

/* Remove [va, va + len) from the VMA list (splitting VMAs). */
static void mk_vma_remove(MkMm *mm, uint64_t va, uint64_t len)
{
    GList *l = mm->vmas;

    while (l) {
        GList *next = l->next;
        MkVma *v = l->data;
        uint64_t end = va + len;

        if (v->end <= va || v->start >= end) {
            l = next;
            continue;
        }
        if (v->start < va && v->end > end) {
            MkVma *tail = g_memdup2(v, sizeof(*v));

            tail->start = end;
            v->end = va;
            mm->vmas = g_list_insert_before(mm->vmas, next, tail);
        } else if (v->start < va) {
            v->end = va;
        } else if (v->end > end) {
            v->start = end;
        } else {
            g_free(v);
            mm->vmas = g_list_delete_link(mm->vmas, l);
        }
        l = next;
    }
}

void mk_munmap(MkMm *mm, uint64_t va, uint64_t len)
{
    uint64_t end = va + len;

    mk_site_start(mm, MK_SITE_UNMAP, va, end, 0);
    for (uint64_t a = va; a < end;) {
        MkVma *v = mk_find_vma(mm, a);
        uint64_t slot, pte;

        if (!v) {
            a += MK_PAGE_SIZE;
            continue;
        }
        slot = mk_vma_slot(mm, v, a, false);
        pte = slot ? mk_rd(mm, slot) : 0;
        /*
         * zap_pte_range() zaps every non-none PTE: a PROT_NONE one is
         * pte_present() in Linux (PTE_PROT_NONE) and maps its page too.
         */
        if (pte) {
            mk_wr(mm, slot, 0);
            mk_put_page(mm, pte & MK_PTE_ADDR_MASK, mk_vma_psize(v));
        }
        a += mk_vma_psize(v);
    }
    mk_site_end(mm, MK_SITE_UNMAP, va, end, 0);
    mk_site_flush(mm, MK_SITE_UNMAP, va, end);
    mk_vma_remove(mm, va, len);
}

/* The bits pte_modify() takes from the new protection. */
#define MK_PTE_PROT_MASK    (MK_PTE_USER | MK_PTE_PXN | MK_PTE_UXN | \
                             MK_PTE_RDONLY | MK_PTE_VALID | MK_PTE_WRITE)

/* pte_dirty(): software or hardware (DBM) dirty */
static bool mk_pte_dirty(uint64_t pte)
{
    return (pte & MK_PTE_DIRTY) ||
           ((pte & MK_PTE_WRITE) && !(pte & MK_PTE_RDONLY));
}

/* pte_mkdirty(): software dirty, and hardware dirty if writable */
static uint64_t mk_pte_mkdirty(uint64_t pte)
{
    pte |= MK_PTE_DIRTY;
    return (pte & MK_PTE_WRITE) ? pte & ~MK_PTE_RDONLY : pte;
}

/*
 * change_pte_range() (mm/mprotect.c) for one present PTE.
 *
 * pte_modify() (arch/arm64/include/asm/pgtable.h, 6.1.192 and 6.12):
 * hardware dirtiness moves to PTE_DIRTY, the protection bits come from the
 * new vm_page_prot, and a software-dirty PTE is made hardware-dirty again
 * (pte_mkdirty(): AP[2] cleared if PTE_WRITE).  So a dirty shared page
 * comes back writable and a clean one writable-clean (PAGE_SHARED).
 *
 * Then MM_CP_TRY_CHANGE_WRITABLE, set by mprotect_fixup() for private
 * writable VMAs only (a shmem VMA does not want writenotify;
 * hugetlb_change_protection() never tries): can_change_pte_writable()
 * allows pte_mkwrite() for a PageAnonExclusive page that is also dirty in
 * 6.1 ("!pte_dirty(pte) ... return false"), dirty or not in 6.12.
 * Returns 0 for PROT_NONE.
 */
static uint64_t mk_change_prot(MkMm *mm, const MkVma *v, uint64_t pte)
{
    uint64_t pa = pte & MK_PTE_ADDR_MASK;
    uint64_t prot = mk_make_pte(v, pa, false);

    if (!prot) {
        return 0;
    }
    if ((pte & MK_PTE_WRITE) && !(pte & MK_PTE_RDONLY)) {
        pte |= MK_PTE_DIRTY;
    }
    pte = (pte & ~MK_PTE_PROT_MASK) | (prot & MK_PTE_PROT_MASK);
    if (pte & MK_PTE_DIRTY) {
        pte = mk_pte_mkdirty(pte);
    }
    if (!(v->prot & MK_PROT_WRITE) || (pte & MK_PTE_WRITE) ||
        (v->flags & (MK_MAP_SHARED | MK_MAP_HUGETLB))) {
        return pte;
    }
    if (mm->profile != MK_LINUX_6_6 && !mk_pte_dirty(pte)) {
        return pte;
    }
    if (pa == mm->k->zero_page || !mk_page(mm, pa)->anon_exclusive) {
        return pte;
    }
    /* pte_mkwrite(): PTE_WRITE, and AP[2] cleared if software dirty */
    pte |= MK_PTE_WRITE;
    return (pte & MK_PTE_DIRTY) ? pte & ~MK_PTE_RDONLY : pte;
}

void mk_mprotect(MkMm *mm, uint64_t va, uint64_t len, int prot)
{
    uint64_t end = va + len;

    mk_site_start(mm, MK_SITE_MPROTECT, va, end, 0);
    for (uint64_t a = va; a < end;) {
        MkVma *v = mk_find_vma(mm, a);
        uint64_t slot, pte;

        g_assert(v && v->start == va && v->end == end); /* whole VMAs */
        v->prot = prot;
        slot = mk_vma_slot(mm, v, a, false);
        pte = slot ? mk_rd(mm, slot) : 0;
        if (pte & MK_PTE_VALID) {
            uint64_t n = mk_change_prot(mm, v, pte);

            /* PROT_NONE keeps the page (PTE_PROT_NONE, not valid) */
            mk_wr(mm, slot, n ? n : (pte & ~MK_PTE_VALID));
        } else if (pte && prot != MK_PROT_NONE) {
            /* back from PROT_NONE */
            uint64_t n = mk_change_prot(mm, v, pte | MK_PTE_VALID);

            mk_wr(mm, slot, n);
        }
        a += mk_vma_psize(v);
    }
    mk_site_end(mm, MK_SITE_MPROTECT, va, end, 0);
    mk_site_flush(mm, MK_SITE_MPROTECT, va, end);
}

void mk_fork(MkMm *mm, uint64_t va, uint64_t len)
{
    uint64_t end = va + len;

    mk_site_start(mm, MK_SITE_FORK, va, end, 0);
    for (uint64_t a = va; a < end;) {
        MkVma *v = mk_find_vma(mm, a);
        uint64_t slot, pte;

        g_assert(v);
        slot = mk_vma_slot(mm, v, a, false);
        pte = slot ? mk_rd(mm, slot) : 0;
        if (pte & MK_PTE_VALID) {
            uint64_t pa = pte & MK_PTE_ADDR_MASK;

            if (!(v->flags & MK_MAP_SHARED)) {
                /* ptep_set_wrprotect(): keep dirtiness in PTE_DIRTY */
                bool dirty = !(pte & MK_PTE_RDONLY) && (pte & MK_PTE_WRITE);

                pte = (pte | MK_PTE_RDONLY | (dirty ? MK_PTE_DIRTY : 0)) &
                      ~MK_PTE_WRITE;
                mk_wr(mm, slot, pte);
            }
            if (pa != mm->k->zero_page) {
                MkPage *pg = mk_page(mm, pa);
                MkChildPage cp = { a, pa, mk_vma_psize(v) };

                g_array_append_val(mm->child, cp);
                pg->mapcount++;             /* the child's mapping */
                /* page_try_dup_anon_rmap(): no longer exclusive */
                pg->anon_exclusive = false;
            }
        }
        a += mk_vma_psize(v);
    }
    mk_site_end(mm, MK_SITE_FORK, va, end, 0);
    /* flush_tlb_mm(): (0, -1UL); the driver rounds the end down */
    mk_site_flush(mm, MK_SITE_FORK, 0, ~(MK_PAGE_SIZE - 1));
}

void mk_child_exit(MkMm *mm, uint64_t va, uint64_t len)
{
    /*
     * The child's zap touches the child's tables only: no notification.
     * It unmaps the pages it got at fork, whatever the parent did since
     * (a COW or a migration gave the parent other pages).
     */
    for (guint i = 0; i < mm->child->len;) {
        MkChildPage *cp = &g_array_index(mm->child, MkChildPage, i);

        if (cp->va >= va && cp->va < va + len) {
            mk_put_page(mm, cp->pa, cp->size);
            g_array_remove_index_fast(mm->child, i);
        } else {
            i++;
        }
    }
}

/* ---- page aging ---- */

static bool mk_cpu_test_and_clear_young(MkMm *mm, uint64_t va)
{
    MkVma *v = mk_find_vma(mm, va);
    uint64_t slot = v ? mk_vma_slot(mm, v, va, false) : 0;
    uint64_t pte = slot ? mk_rd(mm, slot) : 0;

    if (!(pte & MK_PTE_VALID) || !(pte & MK_PTE_AF)) {
        return false;
    }
    mk_wr(mm, slot, pte & ~MK_PTE_AF);
    return true;
}

/*
 * One young-family call; 0 ("not young") when the subscriber registered
 * no such op: mmu_notifier_clear_flush_young() and friends skip
 * subscriptions without it (mm/mmu_notifier.c), and the SMMU's SVA
 * driver has none.
 */
static uint32_t mk_young_cmd(MkMm *mm, uint8_t op, uint64_t a0,
                             uint64_t a1)
{
    MmnCmd c = mk_cmd_init(op, mm->ctx);
    uint32_t r;

    if (!mk_subscriber_has_young(mm)) {
        return 0;
    }

    c.a0 = a0;
    c.a1 = a1;
    r = mk_cmd_res(mm->k, &c);
    mk_note(mm, "young%02x(%" PRIx64 ")=%u", op, a0, r);
    return r;
}

bool mk_clear_flush_young(MkMm *mm, uint64_t va)
{
    uint64_t p = va & ~(MK_PAGE_SIZE - 1);
    bool young = mk_cpu_test_and_clear_young(mm, va);

    if (young) {
        mk_site_flush(mm, MK_SITE_CLEAR_FLUSH_YOUNG, p, p + MK_PAGE_SIZE);
    }
    return mk_young_cmd(mm, MMN_CMD_MN_CLEAR_FLUSH_YOUNG, p,
                        p + MK_PAGE_SIZE) || young;
}

bool mk_clear_young(MkMm *mm, uint64_t va)
{
    uint64_t p = va & ~(MK_PAGE_SIZE - 1);
    bool young = mk_cpu_test_and_clear_young(mm, va);

    return mk_young_cmd(mm, MMN_CMD_MN_CLEAR_YOUNG, p,
                        p + MK_PAGE_SIZE) || young;
}

bool mk_test_young(MkMm *mm, uint64_t va)
{
    /* mmu_notifier_test_young() alone: the CPU bit is read separately */
    return mk_young_cmd(mm, MMN_CMD_MN_TEST_YOUNG,
                        va & ~(MK_PAGE_SIZE - 1), 0) != 0;
}

uint32_t mk_test_clear_young(MkMm *mm, uint64_t start, uint64_t end,
                             bool clear, uint64_t *bitmap)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_MN_TEST_CLEAR_YOUNG, mm->ctx);
    unsigned words = DIV_ROUND_UP((end - start) / MK_PAGE_SIZE, 64);
    uint64_t bm = 0;
    uint32_t r;

    if (!mk_subscriber_has_young(mm)) {
        return 0;
    }

    c.arg = clear ? MMN_CMD_YOUNG_CLEAR : 0;
    c.a0 = start;
    c.a1 = end;
    if (bitmap) {
        bm = mm->k->desc + 0x400;
        g_assert_cmpuint(words * 8, <=, 0xc00);
        for (unsigned i = 0; i < words; i++) {
            qtest_writeq(mk_qts(mm), bm + 8 * i, bitmap[i]);
        }
    }
    c.a2 = bm;
    r = mk_cmd_res(mm->k, &c);
    if (bitmap) {
        for (unsigned i = 0; i < words; i++) {
            bitmap[i] = qtest_readq(mk_qts(mm), bm + 8 * i);
        }
    }
    mk_note(mm, "test_clear_young(%" PRIx64 "-%" PRIx64 ",%d)=%u", start,
            end, clear, r);
    return r;
}

/* ---- KSM, release, migration ---- */

void mk_ksm_replace(MkMm *mm, uint64_t va,
                    void (*between)(MkMm *mm, void *opaque), void *opaque)
{
    MkVma *v = mk_find_vma(mm, va);
    uint64_t page = va & ~(MK_PAGE_SIZE - 1);
    uint64_t slot, old, new_pa, entry;
    uint8_t *buf = g_malloc(MK_PAGE_SIZE);

    g_assert(v && !(v->flags & MK_MAP_HUGETLB));
    slot = mk_vma_slot(mm, v, va, false);
    old = mk_rd(mm, slot);
    g_assert(old & MK_PTE_VALID);
    new_pa = mk_new_page(mm, v);
    qtest_memread(mk_qts(mm), old & MK_PTE_ADDR_MASK, buf, MK_PAGE_SIZE);
    qtest_memwrite(mk_qts(mm), new_pa, buf, MK_PAGE_SIZE);
    g_free(buf);
    /* the KSM page is mapped read-only (write-protected, not DBM) */
    entry = (old & ~(MK_PTE_ADDR_MASK | MK_PTE_WRITE | MK_PTE_DIRTY)) |
            new_pa | MK_PTE_RDONLY;
    mk_site_start(mm, MK_SITE_KSM_REPLACE, page, page + MK_PAGE_SIZE, 0);
    if (between) {
        between(mm, opaque);
    }
    mk_wr(mm, slot, 0);                     /* ptep_clear_flush() */
    mk_site_flush(mm, MK_SITE_KSM_REPLACE, page, page + MK_PAGE_SIZE);
    mk_site_set_pte_notify(mm, MK_SITE_KSM_REPLACE, slot, page, entry);
    mk_put_page(mm, old & MK_PTE_ADDR_MASK, MK_PAGE_SIZE);
    mk_site_end(mm, MK_SITE_KSM_REPLACE, page, page + MK_PAGE_SIZE, 0);
}

void mk_release(MkMm *mm)
{
    MmnCmd c = mk_cmd_init(MMN_CMD_MN_RELEASE, mm->ctx);

    mk_cmd(mm->k, &c);
    mk_note(mm, "release");
    mm->released = true;
}

void mk_migrate(MkMm *mm, uint64_t va, uint64_t len, uint64_t owner,
                void (*between)(MkMm *mm, void *opaque), void *opaque)
{
    uint64_t end = va + len;
    uint64_t *old = g_new0(uint64_t, len / MK_PAGE_SIZE);
    uint8_t *buf = g_malloc(MK_PAGE_SIZE);
    unsigned i = 0;

    mk_site_start(mm, MK_SITE_MIGRATE, va, end, owner);
    if (between) {
        between(mm, opaque);
    }
    /* migrate_vma_collect(): migration entries (not valid) */
    for (uint64_t a = va; a < end; a += MK_PAGE_SIZE, i++) {
        MkVma *v = mk_find_vma(mm, a);
        uint64_t slot;

        g_assert(v && !(v->flags & MK_MAP_HUGETLB));
        slot = mk_vma_slot(mm, v, a, false);
        old[i] = slot ? mk_rd(mm, slot) : 0;
        if (old[i] & MK_PTE_VALID) {
            mk_wr(mm, slot, 0);
        }
    }
    mk_site_flush(mm, MK_SITE_MIGRATE, va, end);
    mk_site_end(mm, MK_SITE_MIGRATE, va, end, owner);
    /* migrate_vma_pages() + finalize: copy, remove_migration_ptes() */
    i = 0;
    for (uint64_t a = va; a < end; a += MK_PAGE_SIZE, i++) {
        MkVma *v = mk_find_vma(mm, a);
        uint64_t new_pa;

        if (!(old[i] & MK_PTE_VALID)) {
            continue;
        }
        new_pa = mk_new_page(mm, v);
        qtest_memread(mk_qts(mm), old[i] & MK_PTE_ADDR_MASK, buf,
                      MK_PAGE_SIZE);
        qtest_memwrite(mk_qts(mm), new_pa, buf, MK_PAGE_SIZE);
        mk_wr(mm, mk_vma_slot(mm, v, a, false),
              (old[i] & ~MK_PTE_ADDR_MASK) | new_pa);
        mk_put_page(mm, old[i] & MK_PTE_ADDR_MASK, MK_PAGE_SIZE);
    }
    g_free(buf);
    g_free(old);
}
