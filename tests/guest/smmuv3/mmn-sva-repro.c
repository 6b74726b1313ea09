// SPDX-License-Identifier: GPL-2.0
/*
 * mmn-sva-repro: the stale read-only PTE bug with Linux's own arm-smmu-v3
 * SVA driver, from user space through /dev/mmn-sva (mmn_sva_master.ko).
 *
 * The process binds its mm to the mmn-sva-master device
 * (iommu_sva_bind_device), so that the SMMU (mmn-smmuv3) walks its page
 * tables.  For each scenario the CPU puts a page's PTE into a read-only
 * but upgradable state, the device writes the page, the write takes a
 * permission fault that stalls in the SMMU, and arm-smmu-v3's I/O page
 * fault path runs handle_mm_fault(), which makes the PTE writable and
 * calls flush_tlb_page().  6.12 forwards that flush to the SMMU
 * (arm_smmu_mm_arch_invalidate_secondary_tlbs -> CMD_TLBI_NH_VA); 6.1 does
 * not (arm_smmu_mm_invalidate_range is not called from flush_tlb_page), so
 * the retry hits the SMMU's cached read-only entry until the SMMU's
 * livelock detector ends the job, and the coherence CHECK finds the stale
 * entry.
 *
 * Scenarios (default: all three):
 *   writable-clean             MAP_SHARED anonymous (shmem) page read by the
 *                              CPU: writable-clean PTE (PTE_WRITE|PTE_RDONLY);
 *                              the device READs it (the SMMU caches it
 *                              read-only), then WRITEs it
 *   writable-clean-first-write the same without the device's READ
 *   wp-page-reuse              MAP_PRIVATE page written by the CPU, fork, the
 *                              child exits: write-protected but exclusive,
 *                              the device READs then WRITEs it
 *                              (do_wp_page -> wp_page_reuse)
 *   --no-sva                   only report what the driver found (INFO) and
 *                              that BIND fails; exit 0 when it fails
 *
 * One row per scenario, in the fields of tests/guest/lib/mmn-scenario.h
 * plus driver=arm-smmu-v3 (notifications = the device's TLBI_COUNT):
 *   MMN-GUEST-REPRO: kernel=... cpu=... dirty=sw driver=arm-smmu-v3
 *     scenario=writable-clean class=stale state=LIVELOCK faults=16 ...
 * Lines for people start with "mmn-guest: ".
 */
#define MMN_SCENARIO_NO_HARNESS
#include "mmn-scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mmn_sva_uapi.h"

#define DEV_PATH "/dev/mmn-sva"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *state_name(unsigned int s)
{
	static const char *const names[] = {
		"IDLE", "BUSY", "DONE", "FAULT", "LIVELOCK", "ABORTED",
	};

	return s < ARRAY_SIZE(names) ? names[s] : "?";
}

/* The library's view of an access (struct mmn_dma), for its verdicts. */
static void to_mmn_dma(const struct mmn_sva_job *j,
		       const struct mmn_sva_check *c, struct mmn_dma *d)
{
	static const unsigned int st[] = {
		[MMN_SVA_ST_IDLE] = 0,
		[MMN_SVA_ST_BUSY] = MMN_ST_STALLED,
		[MMN_SVA_ST_DONE] = MMN_ST_DONE,
		[MMN_SVA_ST_FAULT] = MMN_ST_FAULT,
		[MMN_SVA_ST_LIVELOCK] = MMN_ST_LIVELOCK,
		[MMN_SVA_ST_ABORTED] = MMN_ST_ABORTED,
	};

	memset(d, 0, sizeof(*d));
	d->state = j->state < ARRAY_SIZE(st) ? st[j->state] : MMN_ST_BAD_DESC;
	d->done = j->done;
	d->faults = j->faults;
	d->retries = j->retries;
	d->notifications = j->tlbi_count;
	d->livelock_count = j->livelock_count;
	d->fault_va = j->fault_va;
	if (c) {
		d->check_entries = c->entries;
		d->check_stale = c->stale;
		d->check_stale_readonly = c->stale_readonly;
		d->check_stale_writable = c->stale_writable;
	}
}

static int job(int fd, unsigned int op, void *va, void *data,
	       struct mmn_sva_job *j)
{
	memset(j, 0, sizeof(*j));
	j->op = op;
	j->len = MMN_PAGE;
	j->va = (uintptr_t)va;
	j->data = (uintptr_t)data;
	if (ioctl(fd, MMN_SVA_IOC_JOB, j)) {
		printf("mmn-guest: JOB ioctl: %s\n", strerror(errno));
		return -1;
	}
	printf("mmn-guest:   %s va %p: status 0x%x state %s kind %u "
	       "from_cache %u done %u faults %u retries %u tlbi %u "
	       "livelock_count %u fault_va 0x%llx timed_out %u %.3f ms\n",
	       op == MMN_SVA_OP_READ ? "READ" : "WRITE", va, j->status,
	       state_name(j->state), j->fault_kind, j->from_cache, j->done,
	       j->faults, j->retries, j->tlbi_count, j->livelock_count,
	       (unsigned long long)j->fault_va, j->timed_out,
	       j->elapsed_ns / 1e6);
	return 0;
}

static int info(int fd, struct mmn_sva_info *i)
{
	if (ioctl(fd, MMN_SVA_IOC_INFO, i)) {
		printf("mmn-guest: INFO ioctl: %s\n", strerror(errno));
		return -1;
	}
	printf("mmn-guest: device id 0x%x version 0x%x, IOPF %d, SVA %d\n",
	       i->id, i->version, i->iopf_err, i->sva_err);
	return 0;
}

static int run(const struct mmn *m, const char *scenario)
{
	bool shared = strcmp(scenario, "wp-page-reuse") != 0;
	bool dev_read = strcmp(scenario, "writable-clean-first-write") != 0;
	static unsigned char in[MMN_PAGE], out[MMN_PAGE], before[MMN_PAGE];
	struct mmn_sva_job rd = {}, wr;
	struct mmn_sva_check chk = {};
	struct mmn_sva_bind b;
	struct mmn_dma d_rd, d_wr;
	struct mmn_mem mem;
	const char *read = "n/a", *data;
	int fd, ret;

	ret = mmn_mem_map(&mem, shared ? MMN_MEM_ANON_SHARED :
			  MMN_MEM_ANON_PRIVATE, MMN_PAGE);
	if (ret) {
		printf("mmn-guest: %s: mapping: %s\n", scenario,
		       strerror(-ret));
		return -1;
	}
	if (shared)
		mmn_touch_read(mem.p, MMN_PAGE);	/* writable-clean PTE */
	else
		mmn_touch_write(mem.p, MMN_PAGE, 0x11);	/* dirty, exclusive */

	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("mmn-guest: open %s: %s\n", DEV_PATH, strerror(errno));
		return -1;
	}
	if (ioctl(fd, MMN_SVA_IOC_BIND, &b)) {
		printf("mmn-guest: %s: BIND: %s\n", scenario, strerror(errno));
		close(fd);
		return -1;
	}
	printf("mmn-guest: %s: page %p bound to PASID %u\n", scenario, mem.p,
	       b.pasid);

	if (!shared) {
		/*
		 * fork write-protects the PTE; the child's exit leaves the
		 * page exclusive (wp_page_reuse on the next write fault)
		 */
		ret = mmn_fork_exit();
		if (ret) {
			printf("mmn-guest: fork: %s\n", strerror(-ret));
			return -1;
		}
	}
	memcpy(before, mem.p, MMN_PAGE);
	if (dev_read) {
		if (job(fd, MMN_SVA_OP_READ, mem.p, in, &rd))
			return -1;
		to_mmn_dma(&rd, NULL, &d_rd);
		read = mmn_read_verdict(&d_rd, in, before, MMN_PAGE);
	}
	mmn_pattern(out, MMN_PAGE, 1);
	if (job(fd, MMN_SVA_OP_WRITE, mem.p, out, &wr))
		return -1;
	if (ioctl(fd, MMN_SVA_IOC_CHECK, &chk)) {
		printf("mmn-guest: CHECK ioctl: %s\n", strerror(errno));
		return -1;
	}
	printf("mmn-guest:   CHECK: entries %u stale %u (readonly %u "
	       "writable %u other %u)\n", chk.entries, chk.stale,
	       chk.stale_readonly, chk.stale_writable, chk.other);
	to_mmn_dma(&wr, &chk, &d_wr);
	data = mmn_data_verdict(&d_wr, mem.p, out, before, MMN_PAGE);

	printf("MMN-GUEST-REPRO: kernel=%s cpu=%s dirty=%s driver=arm-smmu-v3 "
	       "scenario=%s class=%s state=%s faults=%u retries=%u "
	       "notifications=%u stale_readonly=%u livelock_count=%u "
	       "read=%s data=%s last_fault_cached=%u timed_out=%u pasid=%u\n",
	       m->kernel, m->cpu, m->hw_dirty ? "hw" : "sw", scenario,
	       mmn_class(&d_wr), state_name(wr.state), wr.faults, wr.retries,
	       wr.tlbi_count, chk.stale_readonly, wr.livelock_count, read,
	       data, wr.from_cache, wr.timed_out, b.pasid);
	fflush(stdout);
	if (ioctl(fd, MMN_SVA_IOC_UNBIND))
		printf("mmn-guest: UNBIND: %s\n", strerror(errno));
	close(fd);
	mmn_mem_unmap(&mem);
	return 0;
}

/* --no-sva: the kernel cannot bind; show that it says so cleanly. */
static int no_sva(void)
{
	struct mmn_sva_info i;
	struct mmn_sva_bind b;
	int fd = open(DEV_PATH, O_RDWR | O_CLOEXEC), e;

	if (fd < 0) {
		printf("mmn-guest: open %s: %s\n", DEV_PATH, strerror(errno));
		return 1;
	}
	if (info(fd, &i))
		return 1;
	if (ioctl(fd, MMN_SVA_IOC_BIND, &b) == 0) {
		printf("MMN-GUEST-SVA: bind=ok pasid=%u\n", b.pasid);
		return 1;
	}
	e = errno;
	printf("MMN-GUEST-SVA: bind=%s errno=%d iopf_err=%d sva_err=%d\n",
	       strerror(e), e, i.iopf_err, i.sva_err);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const all[] = {
		"writable-clean", "writable-clean-first-write", "wp-page-reuse",
	};
	struct mmn m;
	int i, n, rc = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "--no-sva"))
		return no_sva();
	mmn_init(&m);
	n = argc > 1 ? argc - 1 : 3;
	for (i = 0; i < n; i++)
		if (run(&m, argc > 1 ? argv[i + 1] : all[i]))
			rc = 1;
	return rc;
}
