/*
 * The recording subscriber of the notifier layer's unit tests (see
 * mmn-notifier-rec.h).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mmn-notifier-rec.h"

GString *mlog;
unsigned nr_freed;
unsigned freed_seen_in_callback;

Rec *rec_of(MmnNotifier *mn)
{
    return container_of(mn, Rec, mn);
}

static void note(MmnNotifier *mn, const char *op)
{
    g_string_append_printf(mlog, "%s:%s ", rec_of(mn)->name, op);
}

void log_reset(void)
{
    g_string_truncate(mlog, 0);
}

static void rec_release(MmnNotifier *mn, MmnMm *mm)
{
    Rec *r = rec_of(mn);

    note(mn, "release");
    g_assert(mn->mm == mm);
    if (r->probe_reentry) {
        MmnNotifierRange range;

        mmn_notifier_range_init(&range, MMN_NOTIFY_UNMAP,
                                MMN_NOTIFIER_RANGE_BLOCKABLE, mm, 0, 4096);
        r->reentry_ret[0] = mmn_notifier_invalidate_range_start(&range);
        r->reentry_ret[1] = mmn_notifier_unregister(mn, mm);
        r->reentry_ret[2] = mmn_notifier_clear_young(mm, 0, 4096);
        r->reentry_ret[3] = mmn_notifier_register(mn, mm);
    }
    if (r->put_in_release) {
        g_assert_cmpint(mmn_notifier_put(mn), ==, 0);
        freed_seen_in_callback = nr_freed;
    }
}

static int rec_clear_flush_young(MmnNotifier *mn, MmnMm *mm,
                                 uint64_t start, uint64_t end)
{
    note(mn, "cfy");
    rec_of(mn)->a = start;
    rec_of(mn)->b = end;
    return rec_of(mn)->young;
}

static int rec_clear_young(MmnNotifier *mn, MmnMm *mm,
                           uint64_t start, uint64_t end)
{
    note(mn, "cy");
    rec_of(mn)->a = start;
    rec_of(mn)->b = end;
    return rec_of(mn)->young;
}

static int rec_test_young(MmnNotifier *mn, MmnMm *mm, uint64_t address)
{
    note(mn, "ty");
    rec_of(mn)->a = address;
    return rec_of(mn)->young;
}

static int rec_test_clear_young(MmnNotifier *mn, MmnMm *mm, uint64_t start,
                                uint64_t end, bool clear,
                                unsigned long *bitmap)
{
    Rec *r = rec_of(mn);

    note(mn, clear ? "tcy(clear)" : "tcy(test)");
    r->a = start;
    r->b = end;
    r->clear = clear;
    r->bitmap = bitmap;
    return r->young;
}

static void rec_change_pte(MmnNotifier *mn, MmnMm *mm, uint64_t address,
                           uint64_t pte)
{
    note(mn, "change_pte");
    rec_of(mn)->a = address;
    rec_of(mn)->b = pte;
}

static int rec_start(MmnNotifier *mn, const MmnNotifierRange *range)
{
    Rec *r = rec_of(mn);

    note(mn, r->start_ret ? "start-fail" : "start");
    r->range = *range;
    if (r->put_in_start) {
        g_assert_cmpint(mmn_notifier_put(mn), ==, 0);
        freed_seen_in_callback = nr_freed;
    }
    return r->start_ret;
}

static void rec_end(MmnNotifier *mn, const MmnNotifierRange *range)
{
    note(mn, "end");
    rec_of(mn)->range = *range;
}

static void rec_arch(MmnNotifier *mn, MmnMm *mm, uint64_t start,
                     uint64_t end)
{
    note(mn, "arch");
    rec_of(mn)->a = start;
    rec_of(mn)->b = end;
}

static MmnNotifier *rec_alloc(MmnMm *mm)
{
    Rec *r = g_new0(Rec, 1);

    r->name = "got";
    return &r->mn;
}

static MmnNotifier *rec_alloc_fail(MmnMm *mm)
{
    return NULL;
}

static void rec_free(MmnNotifier *mn)
{
    nr_freed++;
    g_string_append(mlog, "got:free ");
    g_free(rec_of(mn));
}

const MmnNotifierOps ops_start_end = {
    .release = rec_release,
    .clear_flush_young = rec_clear_flush_young,
    .clear_young = rec_clear_young,
    .test_young = rec_test_young,
    .change_pte = rec_change_pte,
    .invalidate_range_start = rec_start,
    .invalidate_range_end = rec_end,
};

const MmnNotifierOps ops_arch = {
    .release = rec_release,
    .clear_flush_young = rec_clear_flush_young,
    .clear_young = rec_clear_young,
    .test_young = rec_test_young,
    .change_pte = rec_change_pte,
    .arch_invalidate_secondary_tlbs = rec_arch,
};

const MmnNotifierOps ops_both = {
    .release = rec_release,
    .invalidate_range_start = rec_start,
    .invalidate_range_end = rec_end,
    .arch_invalidate_secondary_tlbs = rec_arch,
};

const MmnNotifierOps ops_start_only = {
    .release = rec_release,
    .invalidate_range_start = rec_start,
};

const MmnNotifierOps ops_end_only = {
    .release = rec_release,
    .invalidate_range_end = rec_end,
};

const MmnNotifierOps ops_tcy = {
    .release = rec_release,
    .test_clear_young = rec_test_clear_young,
};

const MmnNotifierOps ops_get = {
    .release = rec_release,
    .invalidate_range_start = rec_start,
    .invalidate_range_end = rec_end,
    .alloc_notifier = rec_alloc,
    .free_notifier = rec_free,
};

const MmnNotifierOps ops_get2 = {
    .alloc_notifier = rec_alloc,
    .free_notifier = rec_free,
};

const MmnNotifierOps ops_get_fail = {
    .alloc_notifier = rec_alloc_fail,
    .free_notifier = rec_free,
};

void rec_init(Rec *r, const char *name, const MmnNotifierOps *ops)
{
    memset(r, 0, sizeof(*r));
    r->name = name;
    r->mn.ops = ops;
}

MmnMm *setup(void)
{
    log_reset();
    nr_freed = 0;
    return mmn_mm_new();
}

void range_init(MmnNotifierRange *r, MmnMm *mm, MmnNotifyEvent ev,
                unsigned flags, uint64_t start, uint64_t end)
{
    mmn_notifier_range_init(r, ev, flags, mm, start, end);
}


void rec_test_init(int *argc, char ***argv)
{
    g_test_init(argc, argv, NULL);
    mlog = g_string_new("");
}
