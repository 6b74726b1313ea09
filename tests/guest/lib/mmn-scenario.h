/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmn-scenario.h: the scenario library of the mmn-smmu guest tests.
 *
 * A scenario is a small static aarch64 program, run as root inside a
 * Debian 6.1 or 6.12 guest that has QEMU's "-device mmn-smmu" and the
 * guest driver mmn_smmu_drv.ko loaded (/dev/mmn-smmu).  It maps memory of
 * some kind, puts its page-table entries into some state with ordinary
 * system calls (fork, madvise, mprotect, ...), lets the device read or
 * write it by DMA through the SMMU, and reports what happened.  The device
 * walks the process's own page tables and caches them; it is kept
 * coherent only by the mmu_notifier calls the kernel makes, which the
 * driver forwards exactly as that kernel's arm-smmu-v3 SVA driver does.
 * Scenarios are written with Linux's own selftest harness
 * (tools/testing/selftests/kselftest_harness.h: TEST(), FIXTURE(),
 * ASSERT_*), like tools/testing/selftests/mm/hmm-tests.c.
 *
 * CONTRACT (what the host scripts rely on)
 * ========================================
 *
 * Files:
 *   tests/guest/lib/mmn-scenario.h   this header (API + contract)
 *   tests/guest/lib/mmn-scenario-*.c the library, linked into every
 *                                    scenario, one file per part of the
 *                                    API below: -device.c, -memory.c,
 *                                    -kernel.c (controls), -process.c,
 *                                    -results.c
 *   tests/guest/scenarios/NAME.c     one program per file; built with
 *                                    mmn_scenarios_build (sourced from
 *                                    scripts/mmn-smmu/lib/scenarios.sh)
 *                                    into OUTDIR/NAME, packed as
 *                                    /scenarios/NAME in the initramfs
 *   tests/guest/scenarios/expected.tsv   expected outcome of every case
 *   tests/guest/scenario-init        the guest's /init: loads
 *                                    /mmn_smmu_drv.ko, runs every
 *                                    program in /scenarios, prints one
 *                                    MMN-GUEST-RESULT line, powers off
 *
 * Rows.  Each TEST() is one case and prints exactly one line on stdout:
 *
 *   MMN-GUEST-REPRO: kernel=REL cpu=MODEL dirty=sw|hw scenario=CASE
 *     class=CLASS state=STATE faults=N cached=N retries=N notifications=N
 *     stale_readonly=N livelock_count=N read=R data=D [reason=TEXT]
 *
 * (one line; fields separated by single spaces, values without spaces,
 * except reason, which is always last and runs to the end of the line).
 *   kernel          uname -r
 *   cpu             the CPU model from MIDR_EL1 (cortex-a57, neoverse-n1,
 *                   max, or midr-0xHEX)
 *   dirty           hw when the kernel uses hardware dirty-bit management
 *                   (ID_AA64MMFR1_EL1.HAFDBS = 2 and CONFIG_ARM64_HW_AFDBM:
 *                   the kernel logs "Hardware dirty bit management"),
 *                   else sw
 *   scenario        the TEST() name with '_' written as '-'
 *   class           what the outcome means:
 *                     clean     DONE without a fault
 *                     healed    DONE after one or more faults
 *                     stale     LIVELOCK and the entry that kept faulting
 *                               is stale (the device's DMA status bit 25
 *                               STALE): a notification was missed
 *                     coherent  LIVELOCK with a coherent IOTLB (STALE
 *                               clear): the kernel's fault handling
 *                               returned without the tables granting the
 *                               access
 *                     refused   FAULT or ABORTED: the kernel's fault
 *                               handler failed (the access is not allowed)
 *                     released  RELEASED: the mm went away (exit_mmap)
 *                     other     anything else (BAD_DESC, ...)
 *                     n/a       the kernel cannot run this case
 *   state           the device's final descriptor state: DONE, LIVELOCK,
 *                   FAULT, ABORTED, RELEASED, ..., or N/A
 *   faults          faults the device took for the access (descriptor)
 *   cached          ... of them served from a cached IOTLB entry
 *   retries         DMA_RESUME commands the driver sent
 *   notifications   invalidate calls (invalidate_range in 6.1,
 *                   arch_invalidate_secondary_tlbs in 6.6+) that reached
 *                   the driver while the access ran
 *   stale_readonly  entries the coherence CHECK found cached read-only
 *                   while the tables are writable, after the access
 *   livelock_count  the count of the LIVELOCK event, 0 if none
 *   read            ok / MISMATCH / STATE: an earlier device READ of the
 *                   page compared with what the CPU saw; n/a if none
 *   data            after the access: ok (the CPU sees the device's data),
 *                   MISMATCH, unchanged (access failed, page untouched),
 *                   CHANGED (failed, yet the page changed), n/a
 *   reason          only on N/A rows: why this kernel cannot run the case
 *
 * A case the kernel cannot run (no mTHP in 6.1, ...) prints class=n/a
 * state=N/A and a reason, and is a SKIP for the harness, never a pass.
 *
 * expected.tsv: tab-separated, '#' starts a comment line, columns
 *   scenario kernel dirty state class faults notifications stale_readonly
 *   data why
 * kernel is a kernel line (6.1, 6.12: the first two numbers of uname -r)
 * or '*'; dirty is sw, hw or '*'.  The first row whose scenario, kernel
 * and dirty match a guest row is its expectation.  faults,
 * notifications and stale_readonly are a number, ">=N" or '-' (not
 * checked); state, class and data are a value or '-'.  why names the
 * Linux function(s) responsible (docs/devel/mmn-smmu-bug.rst explains).
 *
 * Programs print the harness's TAP on stdout besides the rows, and exit
 * non-zero when a case failed (a failed ASSERT: the scenario could not
 * set up what it meant to test).  A case that failed prints no row.
 *
 * Guest environment (set up by scenario-init): /proc, /sys, /dev, root,
 * vm.nr_hugepages >= MMN_HUGETLB_PAGES_MIN 2 MiB pages, KSM and THP
 * controls in /sys, and, when the host attached the scenario disk (an ext4
 * image, virtio-blk), an ext4 file system mounted at MMN_EXT4_DIR.
 *
 * API
 * ===
 *
 * Every function returns 0 on success, a negative errno on failure, or
 * MMN_NA when this kernel cannot do what was asked (the reason is then in
 * mmn_na_reason()).  In a TEST(), wrap calls in MMN_TRY(): it turns MMN_NA
 * into an N/A row plus SKIP, and an error into a failed ASSERT.
 */
#ifndef MMN_SCENARIO_H
#define MMN_SCENARIO_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "mmn_smmu_uapi.h"

#define MMN_PAGE		4096UL
#define MMN_PMD_SIZE		(2UL << 20)	/* PMD, 2 MiB hugetlb (4K) */
#define MMN_NA			1	/* "not applicable on this kernel" */
#define MMN_EXT4_DIR		"/mnt/ext4"
#define MMN_HUGETLB_PAGES_MIN	8

/* ---------------------------------------------------------------- device */

/* One open /dev/mmn-smmu, bound to the calling process's mm. */
struct mmn {
	int fd;
	struct mmn_bind bind;		/* ttb, va_bits of the binding */
	char kernel[65];		/* uname -r */
	char cpu[32];			/* cortex-a57, neoverse-n1, max, ... */
	bool hw_dirty;			/* the kernel uses hardware DBM */
};

/*
 * mmn_open: open /dev/mmn-smmu and bind the calling process's mm (as
 * iommu_sva_bind_device() would).  Only this process's mm is bound: a
 * child of fork() is not.  mmn_close unbinds and closes; it is safe on a
 * struct that was never opened (fd < 0 after mmn_init) and on exit the
 * kernel does the same (exit_mmap releases the binding first).
 */
void mmn_init(struct mmn *m);
int mmn_open(struct mmn *m);
int mmn_unbind(struct mmn *m);
void mmn_close(struct mmn *m);

/*
 * DMA at a virtual address of the bound mm; the result is the uapi's
 * struct mmn_dma: state (MMN_ST_*), faults, cached_faults, retries,
 * notifications, livelock_count, check_* (a coherence CHECK made right
 * after the access), last_start/last_end (the last notification).
 * The driver services every stall like the kernel's I/O page fault
 * handler (handle_mm_fault, then DMA_RESUME) until the access completes.
 * len is 1..MMN_DMA_MAX.
 */
int mmn_dma_read(struct mmn *m, const void *va, void *buf, size_t len,
		 struct mmn_dma *out);
int mmn_dma_write(struct mmn *m, void *va, const void *buf, size_t len,
		  struct mmn_dma *out);
int mmn_dma_fill(struct mmn *m, void *va, uint32_t pattern, size_t len,
		 struct mmn_dma *out);
/*
 * mmn_dma_park: start an access and return at its first stalled fault,
 * leaving the device stalled (out->state == MMN_ST_STALLED, out->fault_va
 * the faulting address), or earlier if it completed without a stall.
 * mmn_dma_continue: service the parked access to completion (the fault
 * handler runs now); out accumulates over both calls.
 */
int mmn_dma_park(struct mmn *m, uint32_t op, void *va, void *buf,
		 size_t len, uint32_t pattern, struct mmn_dma *out);
int mmn_dma_continue(struct mmn *m, struct mmn_dma *out);

/* Fault and livelock events the device raised since the last call. */
int mmn_events(struct mmn *m, struct mmn_events *ev);
/* The device's coherence CHECK of the bound context, now. */
int mmn_check(struct mmn *m, struct mmn_check_report *rep);
/* The driver's counters since the binding (notifications by kind, ...). */
int mmn_counters(struct mmn *m, struct mmn_counters *c);

const char *mmn_state_name(uint32_t state);
/* Outcome class of an access, as the "class" field above. */
const char *mmn_class(const struct mmn_dma *d);

/* ---------------------------------------------------------------- memory */

enum mmn_mem_kind {
	MMN_MEM_ANON_PRIVATE,	/* MAP_PRIVATE|MAP_ANONYMOUS, small pages */
	MMN_MEM_ANON_SHARED,	/* MAP_SHARED|MAP_ANONYMOUS (shmem), small */
	/* private anonymous, PMD aligned, MADV_HUGEPAGE */
	MMN_MEM_ANON_THP,
	/* private anonymous, one mTHP size (mmn_mthp_enable), MADV_HUGEPAGE */
	MMN_MEM_ANON_MTHP,
	/* MAP_SHARED on a tmpfs mounted huge=always, PMD aligned */
	MMN_MEM_SHMEM_THP,
	MMN_MEM_HUGETLB_SHARED,	/* MAP_SHARED|MAP_HUGETLB, 2 MiB pages */
	MMN_MEM_HUGETLB_PRIVATE, /* MAP_PRIVATE|MAP_HUGETLB, 2 MiB pages */
	MMN_MEM_FILE_SHARED,	/* MAP_SHARED of a file in MMN_EXT4_DIR */
	/* MAP_SHARED of a file on a tmpfs mounted huge=never (shmem, small) */
	MMN_MEM_TMPFS_SHARED,
};

struct mmn_mem {
	void *p;		/* the usable, aligned range */
	size_t len;
	enum mmn_mem_kind kind;
	int fd;			/* file kinds: the open file, else -1 */
	char path[128];		/* file kinds: its path */
	void *map;		/* what mmap returned (p is aligned inside) */
	size_t map_len;
};

/*
 * mmn_mem_map: map len bytes of a kind (len a multiple of the kind's page
 * size), untouched (no page faulted in).  Huge kinds are aligned to
 * MMN_PMD_SIZE.  MMN_NA when the kernel or guest lacks the kind (no
 * hugetlb pages reserved, no ext4 mounted, ...).  mmn_mem_unmap unmaps
 * (and removes a file it created).
 */
int mmn_mem_map(struct mmn_mem *mem, enum mmn_mem_kind kind, size_t len);
void mmn_mem_unmap(struct mmn_mem *mem);

/* Touch every page: a CPU read (read fault) or a CPU write of byte v. */
void mmn_touch_read(const void *p, size_t len);
void mmn_touch_write(void *p, size_t len, unsigned char v);

/* madvise/mprotect that turn EINVAL (advice unknown here) into MMN_NA. */
int mmn_madvise(void *p, size_t len, int advice);
int mmn_mprotect(void *p, size_t len, int prot);

/*
 * What backs the page at p (from /proc/self/pagemap and /proc/kpageflags,
 * and the VMA's /proc/self/smaps entry).
 */
struct mmn_backing {
	bool present;		/* pagemap: page present */
	uint64_t pfn;
	uint64_t kpf;		/* /proc/kpageflags of the page (KPF_* bits) */
	size_t folio_size;	/* bytes of the folio holding the page */
	bool thp;		/* a transparent huge page of any size */
	bool hugetlb;
	bool ksm;
	/*
	 * the VMA has PMD-mapped THP (AnonHugePages, ShmemPmdMapped or
	 * FilePmdMapped > 0)
	 */
	bool pmd_mapped;
	bool exclusive;		/* pagemap bit 56: mapped exclusively */
};
int mmn_backing(const void *p, struct mmn_backing *b);
/* The pages [p, p + len) form one folio of exactly len bytes. */
bool mmn_one_folio(const void *p, size_t len);

/* ------------------------------------------------------- kernel controls */

/*
 * Write a /sys or /proc control and remember its old value; mmn_restore
 * puts every remembered value back (MMN_FIXTURE's teardown calls it; a
 * plain TEST() that changes a control must call it itself, since the
 * harness ends each test with _exit).  MMN_NA when the file does not
 * exist (the kernel lacks the feature).
 */
int mmn_sysfs_set(const char *path, const char *value);
void mmn_restore(void);
int mmn_sysfs_read(const char *path, char *buf, size_t len);
/*
 * Only mTHP size kb enabled (hugepages-<kb>kB/enabled=always, every other
 * size never).  MMN_NA before 6.8 (no per-size controls).
 */
int mmn_mthp_enable(unsigned int kb);
/* Make sure at least n 2 MiB hugetlb pages are free (vm.nr_hugepages). */
int mmn_hugetlb_reserve(unsigned int n);
/*
 * MADV_MERGEABLE on [p, p + len), whose pages hold the same data, and
 * wait (at most timeout_ms) until KSM merged them all into one KSM page
 * (every page KSM, one PFN).
 */
int mmn_ksm_merge(void *p, size_t len, unsigned int timeout_ms);

/* ------------------------------------------------------------- processes */

/*
 * mmn_child_start: fork; the child runs fn(arg) (may be NULL), then waits
 * until mmn_child_finish, so that it keeps its copy of the mm alive (the
 * pages stay shared for copy-on-write).  mmn_child_finish lets it exit and
 * waits; returns its exit status (0 when fn returned normally).
 * mmn_fork_exit: a child that exits at once (fork, then wait): its mm is
 * gone, the parent's pages are exclusive again but stay write-protected.
 */
struct mmn_child {
	pid_t pid;
	int go;			/* write end of the release pipe */
};
int mmn_child_start(struct mmn_child *c, void (*fn)(void *), void *arg);
int mmn_child_finish(struct mmn_child *c);
int mmn_fork_exit(void);

/* --------------------------------------------------------------- results */

/* Why the last MMN_NA was returned. */
const char *mmn_na_reason(void);
/* Set the reason and return MMN_NA (for scenario-made N/A checks). */
int mmn_na(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * "ok"/"MISMATCH" for an access that should have moved len bytes between
 * a and b, or "unchanged"/"CHANGED" when it failed (a is the page now, b
 * what it held before).  For the data and read fields.
 */
const char *mmn_data_verdict(const struct mmn_dma *d, const void *now,
			     const void *want, const void *before, size_t len);
/* read field of a device READ that was compared with the CPU's copy. */
const char *mmn_read_verdict(const struct mmn_dma *rd, const void *got,
			     const void *cpu, size_t len);

/* Print the row of a case (m for the kernel/cpu fields, may be NULL). */
void mmn_row(const struct mmn *m, const char *testname,
	     const struct mmn_dma *d, const char *read, const char *data);
void mmn_row_na(const struct mmn *m, const char *testname,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Fill a buffer with a pattern that depends on seed. */
void mmn_pattern(void *buf, size_t len, unsigned int seed);

/*
 * The usual case: the device READs the range (caching its entries; the
 * data is compared with what the CPU sees), the scenario changes the page
 * tables, the device WRITEs a pattern, the row reports the WRITE.
 *   struct mmn_case c = MMN_CASE_INIT;
 *   MMN_TRY(m, mmn_case_read(m, &c, p, len));    (optional)
 *   ... fork / madvise / mprotect / CPU access ...
 *   MMN_TRY(m, mmn_case_write(m, &c, p, len));
 *   MMN_REPORT_CASE(m, &c);
 * read is "n/a" without mmn_case_read; data compares what the CPU sees
 * after the WRITE with the pattern (DONE) or with the range's content
 * before it (otherwise: unchanged / CHANGED).  That content is the CPU's
 * copy taken by mmn_case_read (or by mmn_case_snapshot, after the scenario
 * changed the data); with neither, mmn_case_write reads the range with
 * the CPU first (a CPU read access: it may fault and change the PTE).
 * Neither mmn_case_read nor mmn_case_write write the range with the CPU.
 * len <= MMN_DMA_MAX.
 */
struct mmn_case {
	struct mmn_dma rd, wr;
	const char *read, *data;
	unsigned char *buf;	/* 3 * MMN_DMA_MAX scratch, allocated once */
	bool have_before;
};

#define MMN_CASE_INIT { .read = "n/a", .data = "n/a" }
int mmn_case_read(struct mmn *m, struct mmn_case *c, const void *p,
		  size_t len);
int mmn_case_write(struct mmn *m, struct mmn_case *c, void *p, size_t len);
int mmn_case_snapshot(struct mmn_case *c, const void *p, size_t len);

#ifndef MMN_SCENARIO_NO_HARNESS
#include "kselftest_harness.h"

/* In a TEST(): the case's row for access d, then the harness result. */
#define MMN_REPORT(m, d, read, data) \
	mmn_row((m), _metadata->name, (d), (read), (data))

/* In a TEST(): the row of a struct mmn_case. */
#define MMN_REPORT_CASE(m, c) MMN_REPORT((m), &(c)->wr, (c)->read, (c)->data)

/* In a TEST(): an N/A row, then SKIP (never a pass). */
#define MMN_NOT_APPLICABLE(m, fmt, ...) do { \
	mmn_row_na((m), _metadata->name, fmt, ##__VA_ARGS__); \
	SKIP(return, fmt, ##__VA_ARGS__); \
} while (0)

/*
 * In a TEST(): run expr (a library call); MMN_NA -> N/A row + SKIP,
 * error -> failed ASSERT naming expr and the errno.
 */
#define MMN_TRY(m, expr) do { \
	int __mmn_r = (expr); \
	if (__mmn_r == MMN_NA) \
		MMN_NOT_APPLICABLE((m), "%s", mmn_na_reason()); \
	ASSERT_EQ(0, __mmn_r) \
		TH_LOG("%s: %s", #expr, strerror(-__mmn_r)); \
} while (0)

/*
 * The usual fixture: self->m is open and bound to the test's own mm (each
 * TEST_F runs in its own forked process); teardown unbinds and puts back
 * the controls the case changed (mmn_restore).
 *   MMN_FIXTURE(mmn);
 *   TEST_F(mmn, my_case) { ... &self->m ... }
 *   TEST_HARNESS_MAIN
 * (the harness's main, once, at the end of the file).  A file of your own
 * runs with guest-repro.sh --scenario FILE.c [--expected FILE.tsv].
 */
#define MMN_FIXTURE(name) \
	FIXTURE(name) { struct mmn m; }; \
	FIXTURE_SETUP(name) \
	{ \
		mmn_init(&self->m); \
		ASSERT_EQ(0, mmn_open(&self->m)) \
			TH_LOG("open/bind /dev/mmn-smmu: %s", \
			       strerror(errno)); \
	} \
	FIXTURE_TEARDOWN(name) \
	{ \
		mmn_close(&self->m); \
		mmn_restore(); \
	}
#endif /* MMN_SCENARIO_NO_HARNESS */

#endif /* MMN_SCENARIO_H */
