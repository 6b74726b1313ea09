/*
 * libqos: the random input of mmn-smmuv3's robustness fuzzer
 * (tests/qtest/mmn-smmuv3-robustness-test.c): random numbers, data, and
 * the addresses it may give the SMMU and its master, chosen so that
 * nothing can reach the sentinel.
 *
 * Guest RAM (512 MiB at 1 GiB):
 *
 *   [RAM, +32M)        driver area: the known-good stream table, queues,
 *                      CDs, page tables and job target
 *   [+32M, +128M)      sentinel: filled with even bytes (invalid as any
 *                      structure), compared by the test after bursts
 *   [+128M, +192M)     table arena: random STEs, CDs, L1 descriptors and
 *                      page tables
 *   [+192M, +512M)     data arena: job targets, random queues, MSIs
 *
 * Why nothing the fuzzer asks for can write into the sentinel: every
 * address it gives the SMMU or the master (a pointer, an output address,
 * a queue and its whole extent, an MSI target) is outside it, also once
 * truncated to the OAS; the SMMU writes only queues, MSIs and access/dirty
 * bits of descriptors it walked.  A descriptor the walker reads is one the
 * fuzzer wrote (its bit 0 is clear or its bits [31:24] are not a sentinel
 * byte), or data (every byte even and outside 0x40..0x5f), or an event
 * (job SubstreamIDs are never in [SENT_BASE >> 12, SENT_END >> 12), job
 * VAs are even): none points into the sentinel, even when a job overwrote
 * some of its bytes.  Job VAs have
 * bits [29:27] = 0b011, so a block taken from a table descriptor read at
 * the wrong level (a loop) lands in the data arena.  Jobs that write the
 * DATA window to memory write a window the fuzzer filled.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef LIBQOS_MMN_SMMUV3_FUZZ_H
#define LIBQOS_MMN_SMMUV3_FUZZ_H

#include "mmn-smmuv3.h"

#define RAM_END         (V3_RAM + (512ULL << 20))
#define GOOD_BASE       (V3_RAM + (18ULL << 20))    /* driver area pages */
#define SENT_BASE       (V3_RAM + (32ULL << 20))
#define SENT_END        (V3_RAM + (128ULL << 20))
#define SENT_SIZE       (SENT_END - SENT_BASE)
#define TBL_BASE        SENT_END
#define TBL_PAGES       512
#define DATA_BASE       (V3_RAM + (192ULL << 20))
#define DATA_SIZE       (RAM_END - DATA_BASE)
#define PAGE            0x1000ULL

#define NOWHERE         0x0000700000000000ULL   /* below 2^48, nothing */
#define UART            0x09000000ULL
#define GIC             0x08000000ULL
#define ECAM            0x3f000000ULL
#define GOOD_VA         0x0000001358000000ULL   /* bits 29:27 0b011 */
#define GOOD_PASID      3

typedef struct V3Fuzz {
    GRand *rng;
    QTestState *qts;
    unsigned oas;                   /* IDR5.OAS in bits */
    uint64_t cdtab;                 /* the CD table the fuzzer edits */
    uint64_t roots[4];              /* page-table roots of its CDs */
    uint8_t *sent;                  /* the sentinel's expected bytes */
} V3Fuzz;

uint32_t v3f_rnd(V3Fuzz *f, uint32_t n);            /* [0, n) */
bool v3f_chance(V3Fuzz *f, unsigned percent);
uint64_t v3f_rnd64(V3Fuzz *f);
unsigned v3f_pick(V3Fuzz *f, const unsigned *w, unsigned n);   /* weights */

/* @len bytes at @a, as the SMMU may use them (truncated to the OAS). */
bool v3f_range_safe(V3Fuzz *f, uint64_t a, uint64_t len);
/* Guest RAM the fuzzer may write (never MMIO: no side effects). */
bool v3f_ram_ok(uint64_t a, uint64_t len);
/* A data byte (even, never 0x40..0x5f), four of them. */
uint8_t v3f_data_byte(uint8_t b);
uint32_t v3f_data32(V3Fuzz *f);
/* A word the fuzzer writes: if it looks valid, not into the sentinel. */
uint64_t v3f_guard(uint64_t w);
void v3f_wr64(V3Fuzz *f, uint64_t a, uint64_t w);

uint64_t v3f_tbl_page(V3Fuzz *f);                   /* a table arena page */
uint64_t v3f_ptr_addr(V3Fuzz *f, uint64_t align);   /* a structure pointer */
uint64_t v3f_out_addr(V3Fuzz *f);                   /* a leaf's output */
/* A queue of 2^log2 entries of @esize bytes, whole extent safe. */
uint64_t v3f_queue_addr(V3Fuzz *f, unsigned log2, unsigned esize);
/* An MSI target and its data: data bytes for RAM, anything for MMIO. */
void v3f_msi_pair(V3Fuzz *f, uint64_t *addr, uint32_t *data);
uint64_t v3f_job_va(V3Fuzz *f);
uint32_t v3f_job_pasid(V3Fuzz *f);

/* Fill the sentinel; compare it (a failure names the first change). */
void v3f_sentinel_fill(V3Fuzz *f);
void v3f_sentinel_check(V3Fuzz *f);

#endif /* LIBQOS_MMN_SMMUV3_FUZZ_H */
