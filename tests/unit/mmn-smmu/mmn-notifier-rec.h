/*
 * A recording subscriber for the notifier layer's unit tests
 * (test-mmn-notifier*.c): every callback appends "name:op " to mlog, so
 * that a test can check which callbacks ran and in which order.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MMN_NOTIFIER_REC_H
#define MMN_NOTIFIER_REC_H

#include "hw/mmn-smmu/mmu-notifier.h"

#define BLK MMN_NOTIFIER_RANGE_BLOCKABLE

typedef struct Rec {
    MmnNotifier mn;
    const char *name;
    int start_ret;              /* what invalidate_range_start returns */
    int young;                  /* what the young ops return */
    MmnNotifierRange range;     /* last range seen by start or end */
    uint64_t a, b;              /* last (start, end) or (address, pte) */
    bool clear;
    unsigned long *bitmap;
    /* re-entry probes from release, see test_callback_reentry() */
    int reentry_ret[4];
    bool probe_reentry;
    /* mmn_notifier_put() from release / from invalidate_range_start */
    bool put_in_release;
    bool put_in_start;
} Rec;

extern GString *mlog;
/* free_notifier calls so far; their count seen by a put from a callback */
extern unsigned nr_freed;
extern unsigned freed_seen_in_callback;

/* A start/end subscriber (KVM-like, 6.6) */
extern const MmnNotifierOps ops_start_end;
/* A secondary-TLB subscriber (SMMU SVA-like, 6.6; the IOTLB's shape) */
extern const MmnNotifierOps ops_arch;
/* Both: refused in 6.6, allowed in 6.1 (KVM had invalidate_range) */
extern const MmnNotifierOps ops_both;
/* A non-blocking start that may fail, without an end (Linux's rule) */
extern const MmnNotifierOps ops_start_only;
/* An end without a start (6.1 and 6.12 call every end op on failure) */
extern const MmnNotifierOps ops_end_only;
/* The young-bitmap series only: test_clear_young, no clear/test_young */
extern const MmnNotifierOps ops_tcy;
/* get/put: alloc_notifier gives a Rec named "got", free_notifier frees */
extern const MmnNotifierOps ops_get;
extern const MmnNotifierOps ops_get2;
extern const MmnNotifierOps ops_get_fail;

Rec *rec_of(MmnNotifier *mn);
void rec_init(Rec *r, const char *name, const MmnNotifierOps *ops);
void log_reset(void);
/* A new mm, with the log and the free count reset. */
MmnMm *setup(void);
void range_init(MmnNotifierRange *r, MmnMm *mm, MmnNotifyEvent ev,
                unsigned flags, uint64_t start, uint64_t end);
/* g_test_init() and the log */
void rec_test_init(int *argc, char ***argv);

#endif /* MMN_NOTIFIER_REC_H */
