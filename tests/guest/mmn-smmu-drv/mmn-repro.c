// SPDX-License-Identifier: GPL-2.0
/*
 * mmn-repro: the stale read-only PTE bug, from user space, through
 * /dev/mmn-smmu (mmn_smmu_drv.ko).  For each scenario: the CPU makes a
 * page's PTE read-only-but-upgradable, the device caches it (DMA READ),
 * then the device writes it (DMA WRITE); the kernel handles the write
 * fault with handle_mm_fault(), which upgrades the PTE and flushes the
 * CPU's TLB.  Linux 6.1 does not tell the secondary TLB: the device keeps
 * faulting on its cached read-only entry (LIVELOCK).  6.6+ does: DONE.
 *
 * Scenarios (default: all):
 *   writable-clean             MAP_SHARED anon (shmem) page, CPU read: the
 *                              PTE is writable-clean (PTE_WRITE|PTE_RDONLY)
 *   writable-clean-first-write same, without the device's READ (the
 *                              write's own walk caches the entry)
 *   wp-page-reuse              MAP_PRIVATE anon page written, fork, child
 *                              exits: write-protected but exclusive, the
 *                              write fault reuses it (wp_page_reuse)
 *
 * One line per scenario:
 *   MMN-GUEST-REPRO: kernel=... scenario=... state=LIVELOCK faults=16 ...
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmn_smmu_uapi.h"

#define PAGE 4096

static const char *state_name(unsigned int s)
{
	static const char *const names[] = {
		"IDLE", "DONE", "STALLED", "FAULT", "LIVELOCK", "ABORTED",
		"BAD_DESC", "RELEASED", "BLOCKED",
	};

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static int dma(int fd, unsigned int op, void *va, void *buf, struct mmn_dma *r)
{
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->len = PAGE;
	r->va = (unsigned long)va;
	r->buf = (unsigned long)buf;
	if (ioctl(fd, MMN_IOC_DMA, r)) {
		printf("mmn-guest: DMA ioctl: %s\n", strerror(errno));
		return -1;
	}
	printf("mmn-guest:   dma %s va %p: state %s done %u faults %u "
	       "(events %u, from cache %u) retries %u livelock_count %u "
	       "notifications %u check entries %u "
	       "stale %u (readonly %u writable %u) cmd_errors %u "
	       "last notification [0x%llx, 0x%llx)\n",
	       op == MMN_OP_READ ? "READ" : "WRITE", va, state_name(r->state),
	       r->done, r->faults, r->fault_events, r->cached_faults,
	       r->retries, r->livelock_count, r->notifications,
	       r->check_entries, r->check_stale,
	       r->check_stale_readonly, r->check_stale_writable,
	       r->cmd_errors, (unsigned long long)r->last_start,
	       (unsigned long long)r->last_end);
	return 0;
}

static int run(const char *scenario, const char *kernel, int last)
{
	int shared = strcmp(scenario, "wp-page-reuse") != 0;
	int dev_read = strcmp(scenario, "writable-clean-first-write") != 0;
	unsigned char in[PAGE], out[PAGE], before[PAGE];
	struct mmn_dma rd = {}, wr;
	struct mmn_bind b;
	volatile unsigned char *p;	/* the CPU accesses must happen */
	const char *data, *read = "n/a";
	int fd, i;

	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		 (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return -1;
	}
	madvise((void *)p, PAGE, MADV_NOHUGEPAGE);
	if (shared)
		(void)p[0];		/* read fault: writable-clean PTE */
	else
		memset((void *)p, 0x11, PAGE);	/* private, dirty, exclusive */

	fd = open("/dev/mmn-smmu", O_RDWR);
	if (fd < 0) {
		perror("open /dev/mmn-smmu");
		return -1;
	}
	if (ioctl(fd, MMN_IOC_BIND, &b)) {
		perror("MMN_IOC_BIND");
		return -1;
	}
	printf("mmn-guest: %s: page %p, bound ttb 0x%llx va_bits %u\n",
	       scenario, p, (unsigned long long)b.ttb, b.va_bits);

	if (!shared) {
		pid_t pid = fork();	/* write-protects the parent's PTE */

		if (pid == 0)
			_exit(0);	/* the page becomes exclusive again */
		if (pid < 0 || waitpid(pid, NULL, 0) != pid) {
			perror("fork");
			return -1;
		}
	}
	memcpy(before, (void *)p, PAGE);
	if (dev_read) {
		if (dma(fd, MMN_OP_READ, (void *)p, in, &rd))
			return -1;
		/* the driver poisons its bounce buffer: a real copy */
		read = rd.state != MMN_ST_DONE ? state_name(rd.state) :
		       memcmp(in, before, PAGE) ? "MISMATCH" : "ok";
	}
	for (i = 0; i < PAGE; i++)
		out[i] = (unsigned char)(i * 7 + 3);
	if (dma(fd, MMN_OP_WRITE, (void *)p, out, &wr))
		return -1;
	/* what the CPU sees: the device's data, or the page untouched */
	if (wr.state == MMN_ST_DONE)
		data = memcmp((void *)p, out, PAGE) ? "MISMATCH" : "ok";
	else
		data = memcmp((void *)p, before, PAGE) ? "CHANGED" :
		       "unchanged";

	printf("MMN-GUEST-REPRO: kernel=%s scenario=%s state=%s faults=%u "
	       "cached=%u retries=%u notifications=%u stale_readonly=%u "
	       "livelock_count=%u read=%s data=%s\n", kernel, scenario,
	       state_name(wr.state), wr.faults, wr.cached_faults, wr.retries,
	       wr.notifications, wr.check_stale_readonly, wr.livelock_count,
	       read, data);
	fflush(stdout);
	if (last)
		return 0;	/* exit: exit_mmap() releases, then close */
	close(fd);		/* unregister: MN_RELEASE, then CTX_UNBIND */
	munmap((void *)p, PAGE);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const all[] = {
		"writable-clean", "writable-clean-first-write", "wp-page-reuse",
	};
	struct utsname u;
	int i, n = argc > 1 ? argc - 1 : 3, rc = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	uname(&u);
	for (i = 0; i < n; i++)
		if (run(argc > 1 ? argv[i + 1] : all[i], u.release, i == n - 1))
			rc = 1;
	return rc;
}
