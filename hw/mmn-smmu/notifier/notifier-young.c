/*
 * mmn-smmu notifier layer: the young family.  clear_flush_young,
 * clear_young and test_young of Linux 6.6+ mm/mmu_notifier.c, the
 * unmerged young-bitmap series' test_clear_young (its
 * include/linux/mmu_notifier.h), and the subscriber-side choice of path
 * of that series (mmn_test_clear_young_paths()).
 *
 * Concurrency: as mmu-notifier.c (BQL; a walk per call, see
 * mmn_walk_begin()).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmu-notifier-internal.h"
#include "trace.h"

/* __mmu_notifier_clear_flush_young(): OR of every subscriber */
int mmn_notifier_clear_flush_young(MmnMm *mm, uint64_t start, uint64_t end)
{
    const char *what = "clear_flush_young";
    MmnNotifier *sub;
    int young = 0, ret;

    ret = mmn_check_call(mm, what);
    if (!ret) {
        ret = mmn_check_range(mm, what, start, end);
    }
    if (ret) {
        return ret;
    }
    mmn_walk_begin(mm);
    QLIST_FOREACH(sub, &mm->list, hlist) {
        if (sub->state == MMN_SUB_LINKED && sub->ops->clear_flush_young) {
            young |= sub->ops->clear_flush_young(sub, mm, start, end);
        }
    }
    trace_mmn_notifier_young(mm, what, start, end, young);
    mmn_walk_end(mm);
    return young;
}

/*
 * __mmu_notifier_clear_young() (6.6): OR of every subscriber.  A
 * subscriber with only the young-bitmap series' test_clear_young gets
 * test_clear_young(start, end, true, NULL), as that series'
 * mmu_notifier_clear_young() does.
 */
int mmn_notifier_clear_young(MmnMm *mm, uint64_t start, uint64_t end)
{
    const char *what = "clear_young";
    MmnNotifier *sub;
    int young = 0, ret;

    ret = mmn_check_call(mm, what);
    if (!ret) {
        ret = mmn_check_range(mm, what, start, end);
    }
    if (ret) {
        return ret;
    }
    mmn_walk_begin(mm);
    QLIST_FOREACH(sub, &mm->list, hlist) {
        if (sub->state != MMN_SUB_LINKED) {
            continue;
        }
        if (sub->ops->clear_young) {
            young |= sub->ops->clear_young(sub, mm, start, end);
        } else if (sub->ops->test_clear_young) {
            young |= sub->ops->test_clear_young(sub, mm, start, end, true,
                                                NULL);
        }
    }
    trace_mmn_notifier_young(mm, what, start, end, young);
    mmn_walk_end(mm);
    return young;
}

/*
 * __mmu_notifier_test_young(): stops at the first young subscriber.  The
 * young-bitmap series routes it to test_clear_young(addr, addr + 1, false,
 * NULL).
 */
int mmn_notifier_test_young(MmnMm *mm, uint64_t address)
{
    uint64_t end = address + 1 ? address + 1 : UINT64_MAX;
    MmnNotifier *sub;
    int young = 0, ret;

    ret = mmn_check_call(mm, "test_young");
    if (ret) {
        return ret;
    }
    mmn_walk_begin(mm);
    QLIST_FOREACH(sub, &mm->list, hlist) {
        if (sub->state != MMN_SUB_LINKED) {
            continue;
        }
        if (sub->ops->test_young) {
            young = sub->ops->test_young(sub, mm, address);
        } else if (sub->ops->test_clear_young) {
            young = sub->ops->test_clear_young(sub, mm, address, end, false,
                                               NULL);
        } else {
            continue;
        }
        if (young) {
            break;
        }
    }
    trace_mmn_notifier_young(mm, "test_young", address, end, young);
    mmn_walk_end(mm);
    return young;
}

/*
 * The young-bitmap series' __mmu_notifier_test_clear_young(): OR of the
 * subscribers' results (MMN_NOTIFIER_RANGE_LOCKLESS / _YOUNG), stopping
 * at the first young one when only testing.
 */
int mmn_notifier_test_clear_young(MmnMm *mm, uint64_t start, uint64_t end,
                                  bool clear, unsigned long *bitmap)
{
    const char *what = "test_clear_young";
    MmnNotifier *sub;
    int young = 0, ret;

    ret = mmn_check_call(mm, what);
    if (!ret) {
        ret = mmn_check_range(mm, what, start, end);
    }
    if (ret) {
        return ret;
    }
    mmn_walk_begin(mm);
    QLIST_FOREACH(sub, &mm->list, hlist) {
        if (sub->state != MMN_SUB_LINKED || !sub->ops->test_clear_young) {
            continue;
        }
        young |= sub->ops->test_clear_young(sub, mm, start, end, clear,
                                            bitmap);
        if (young && !clear) {
            break;
        }
    }
    trace_mmn_notifier_young(mm, clear ? "test_clear_young(clear)" :
                             "test_clear_young(test)", start, end, young);
    mmn_walk_end(mm);
    return young;
}

/*
 * Which path answers, and with which flag.  What a path does with the
 * bitmap is the subscriber's (e.g. mmn_iotlb_ctx_test_clear_young()).
 */
int mmn_test_clear_young_paths(const MmnYoungPaths *paths, void *opaque,
                               uint64_t start, uint64_t end, bool clear,
                               unsigned long *bitmap)
{
    bool young = false;

    if (paths->fast &&
        paths->fast(opaque, start, end, clear, bitmap, &young)) {
        return young ? MMN_NOTIFIER_RANGE_LOCKLESS : 0;
    }
    /* "only the fast path supports it: ... otherwise, bails out" */
    if (bitmap || !paths->slow) {
        return 0;
    }
    return paths->slow(opaque, start, end, clear) ? MMN_NOTIFIER_RANGE_YOUNG
                                                  : 0;
}
