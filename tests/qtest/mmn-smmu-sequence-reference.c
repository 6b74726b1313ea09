/*
 * mmn-smmu random mm sequence qtest, the reference: the outcome counters,
 * the upgrade routes each profile leaves unnotified, where the tables map
 * each page and which pages left them, and the checks after every
 * operation (retired pages, the device's coherence CHECK).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-smmu-sequence.h"

const char *const count_names[NR_COUNTS] = {
    "dma-read-ok", "dma-write-ok", "dma-denied", "dma-faults-handled",
    "dma-released", "cpu-access-ok", "checks", "check-entries",
    "livelock-stale-ro-expected", "check-stale-ro-expected",
    "unnotified-upgrades", "cpu-hw-dirty", "wp-page-copy", "retired-pages",
    "epochs",
    "DANGER-denied-dma-done", "DANGER-read-data", "DANGER-write-oa",
    "DANGER-write-perm", "DANGER-write-retired-page",
    "DANGER-stale-writable", "DANGER-stale-present", "DANGER-stale-oa",
    "DANGER-dma-after-release", "UNEXPECTED-stale-ro",
    "UNEXPECTED-livelock", "UNEXPECTED-abort", "UNEXPECTED-state",
};

/* The routes and the profiles that leave them silent (StaleRoute). */
const StaleRoute stale_ro_routes[] = {
    { "handle_pte_fault -> ptep_set_access_flags()",
      { [MK_LINUX_6_1] = true } },
    { "hugetlb_fault -> huge_ptep_set_access_flags()",
      { [MK_LINUX_6_1] = true } },
    { "hugetlb_fault -> hugetlb_wp() -> set_huge_ptep_writable()",
      { [MK_LINUX_6_1] = true } },
    { "do_wp_page -> wp_page_reuse()",
      { [MK_LINUX_6_1] = true, [MK_UPGRADE_NOTIFY] = true } },
    { "do_huge_pmd_wp_page() reuse -> pmdp_set_access_flags()",
      { [MK_LINUX_6_1] = true, [MK_UPGRADE_NOTIFY] = true } },
    { "huge_pmd_set_accessed() -> touch_pmd() -> pmdp_set_access_flags()",
      { [MK_LINUX_6_1] = true, [MK_UPGRADE_NOTIFY] = true } },
};
QEMU_BUILD_BUG_ON(ARRAY_SIZE(stale_ro_routes) != NR_STALE_RO_ROUTES);

/* Count @c; a dangerous or unexpected one is also reported. */
void count(Seq *s, Count c, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    s->counts[c]++;
    if (c < FIRST_BAD || !fmt || s->reports >= MAX_REPORTS) {
        return;
    }
    s->reports++;
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_test_message("%s: op %" PRIu64 " (%s): %s: %s; notifications: %s",
                   mk_profile_name(s->p), s->op_index, op_names[s->op],
                   count_names[c], msg, mk_mm_log(s->mm));
}

/* Is @path an upgrade route the profile does not notify?  Counts it. */
static bool stale_route_silent(Seq *s, const char *path)
{
    for (size_t i = 0; path && i < ARRAY_SIZE(stale_ro_routes); i++) {
        if (!strcmp(stale_ro_routes[i].path, path)) {
            s->routes[i]++;
            return stale_ro_routes[i].silent[s->p];
        }
    }
    return false;
}

/* Learn where the tables map the pages of slot @i. */
void learn_pa(Seq *s, unsigned i, uint64_t *out)
{
    Slot *sl = &s->slot[i];
    uint64_t huge = sl->kind != K_SMALL ? mk_va_to_pa(s->mm, slot_va(i)) : 0;

    if (sl->prot == MK_PROT_NONE) {
        return;     /* the pages stay where they are, not valid */
    }
    for (unsigned pg = 0; pg < sl->npages; pg++) {
        out[pg] = sl->kind == K_SMALL ? mk_va_to_pa(s->mm, page_va(i, pg)) :
                  huge ? huge + pg * MK_PAGE_SIZE : 0;
    }
}

/*
 * After an operation on slot @i: every page that left the tables since
 * @before (unmapped, copied, migrated) is retired with the contents it
 * has now, and the reference learns the new addresses.
 */
void retire_changed(Seq *s, unsigned i, const uint64_t *before,
                    bool still_mapped)
{
    Slot *sl = &s->slot[i];
    uint64_t now[512] = { 0 };
    unsigned step = sl->kind == K_SMALL ? 1 : sl->npages;

    if (still_mapped && sl->prot == MK_PROT_NONE) {
        return;
    }
    if (still_mapped) {
        learn_pa(s, i, now);
    }
    for (unsigned pg = 0; pg < sl->npages; pg += step) {
        Retired r;

        if (before[pg] && now[pg] && before[pg] != now[pg] &&
            (s->op == OP_DMA_WRITE || s->op == OP_CPU_WRITE)) {
            s->counts[C_COW]++;
        }
        if (!before[pg] || before[pg] == now[pg] ||
            before[pg] == s->k->zero_page) {
            continue;
        }
        r.va = page_va(i, pg);
        r.pa = before[pg];
        r.size = sl->kind == K_SMALL ? MK_PAGE_SIZE : MK_HPAGE_SIZE;
        r.word = qtest_readl(s->qts, r.pa);
        g_array_append_val(s->retired, r);
        s->counts[C_RETIRED_PAGES]++;
    }
    if (still_mapped) {
        memcpy(sl->pa, now, sizeof(now));
    }
}

/* No device write may have reached a retired page behind @va. */
void check_retired(Seq *s, uint64_t va)
{
    for (guint n = 0; n < s->retired->len; n++) {
        Retired *r = &g_array_index(s->retired, Retired, n);
        uint64_t pa = r->pa + (va - r->va);
        uint32_t got;

        /* huge pages hold one word per 4 KiB: checked when poisoned */
        if (va < r->va || va >= r->va + r->size ||
            (r->size == MK_HPAGE_SIZE && r->word != POISON)) {
            continue;
        }
        got = qtest_readl(s->qts, pa);
        if (got != r->word) {
            count(s, C_BAD_RETIRED_WRITE, "va 0x%" PRIx64 ": page 0x%"
                  PRIx64 " left the tables holding 0x%08x, now 0x%08x",
                  va, pa, r->word, got);
        }
    }
}

/* CHECK after the operation's notifications are complete. */
void check_device(Seq *s)
{
    MmnCheckReport rep;
    g_autofree char *str = NULL;

    mk_check(s->k, CTX, &rep);
    str = mk_check_str(&rep);
    s->counts[C_CHECKS]++;
    s->counts[C_CHECK_ENTRIES] += rep.entries;
    if (rep.stale_writable) {
        count(s, C_BAD_STALE_WRITABLE, "%s", str);
    }
    if (rep.stale_present) {
        count(s, C_BAD_STALE_PRESENT, "%s", str);
    }
    if (rep.stale_oa) {
        count(s, C_BAD_STALE_OA, "%s", str);
    }
    if (rep.stale_readonly && s->stale_ro_ok) {
        s->counts[C_CHECK_STALE_RO]++;
    } else if (rep.stale_readonly) {
        count(s, C_UNEXP_STALE_RO, "%s", str);
    } else {
        s->stale_ro_ok = false;
    }
}

/* The fault handler's upgrade route of this operation, if any. */
void note_upgrade(Seq *s)
{
    const char *path = mk_mm_upgrade_path(s->mm);

    if (stale_route_silent(s, path)) {
        s->stale_ro_ok = true;
        s->counts[C_UNNOTIFIED_UPGRADES]++;
    }
}
