// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle: the binding's edges.  munmap while the device is stalled on
 * the range, the mm's exit while bound (->release: the driver's quiet
 * context), and a PCI unbind of the driver while /dev/mmn-smmu is open.
 * docs/devel/mmn-smmu-bug.rst explains each case.
 */
#include "mmn-scenario.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>

MMN_FIXTURE(mmn);

/*
 * Page 0 present, page 1 never touched: a device WRITE of both stalls on
 * page 1 (translation fault).  While it is stalled the process unmaps
 * both pages; the fault handler then finds no VMA and the access is
 * aborted, and nothing of the range may stay cached.
 */
TEST_F(mmn, munmap_stalled)
{
	unsigned char out[2 * MMN_PAGE];
	struct mmn_mem mem;
	struct mmn_dma d;

	MMN_TRY(&self->m, mmn_mem_map(&mem, MMN_MEM_ANON_PRIVATE,
				      2 * MMN_PAGE));
	mmn_touch_write(mem.p, MMN_PAGE, 0x77);
	mmn_pattern(out, sizeof(out), 2);
	ASSERT_EQ(0, mmn_dma_park(&self->m, MMN_OP_WRITE, mem.p, out,
				  sizeof(out), 0, &d));
	ASSERT_EQ(MMN_ST_STALLED, d.state)
		TH_LOG("the write did not stall (state %s)",
		       mmn_state_name(d.state));
	ASSERT_EQ((uintptr_t)mem.p + MMN_PAGE, d.fault_va);
	ASSERT_EQ(0, munmap(mem.p, 2 * MMN_PAGE));
	ASSERT_EQ(0, mmn_dma_continue(&self->m, &d));
	ASSERT_EQ(0, d.check_stale) TH_LOG("stale entries after munmap");
	MMN_REPORT(&self->m, &d, "n/a", "n/a");
	mem.map = NULL;		/* already unmapped */
	mmn_mem_unmap(&mem);
}

/*
 * A child binds its own mm through the parent's file, lets the device
 * read, and exits without closing: exit_mmap calls ->release, which turns
 * translation off and drops the context's entries (arm_smmu_mm_release).
 * The parent then sees the release counted and nothing cached.
 */
TEST(exit_while_bound)
{
	struct mmn_check_report rep;
	struct mmn_counters cnt;
	struct mmn m;
	int pipefd[2], status;
	struct mmn_dma d;
	pid_t pid;

	mmn_init(&m);
	m.fd = open("/dev/mmn-smmu", O_RDWR);
	ASSERT_LE(0, m.fd);
	ASSERT_EQ(0, pipe(pipefd));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		unsigned char buf[MMN_PAGE];
		struct mmn_mem mem;

		if (ioctl(m.fd, MMN_IOC_BIND, &m.bind) ||
		    mmn_mem_map(&mem, MMN_MEM_ANON_PRIVATE, MMN_PAGE))
			_exit(2);
		mmn_touch_write(mem.p, MMN_PAGE, 0x12);
		if (mmn_dma_read(&m, mem.p, buf, MMN_PAGE, &d))
			_exit(3);
		if (write(pipefd[1], &d, sizeof(d)) != sizeof(d))
			_exit(4);
		_exit(0);	/* exit_mmap: ->release while bound */
	}
	close(pipefd[1]);
	ASSERT_EQ((ssize_t)sizeof(d), read(pipefd[0], &d, sizeof(d)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_EQ(0, mmn_counters(&m, &cnt));
	ASSERT_EQ(1, cnt.releases);
	ASSERT_EQ(0, mmn_check(&m, &rep));
	ASSERT_EQ(0, rep.entries) TH_LOG("entries cached after release");
	MMN_REPORT(&m, &d, "n/a", "n/a");
	mmn_close(&m);		/* unbind: no ->release, mmu_notifier_put */
}

#define PCI_DRV "/sys/bus/pci/drivers/mmn-smmu"

static int pci_addr(char *buf, size_t len)
{
	struct dirent *e;
	DIR *d = opendir(PCI_DRV);

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (strchr(e->d_name, ':')) {
			snprintf(buf, len, "%s", e->d_name);
			closedir(d);
			return 0;
		}
	}
	closedir(d);
	return -ENODEV;
}

static int sysfs_write(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, v, strlen(v)) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * Unbind the PCI driver while the file is open, bound, with a DMA stalled:
 * the driver unbinds the context (aborting the DMA) and the open file
 * answers -ENODEV; after binding the driver again a new file works.
 */
TEST_F(mmn, pci_unbind_while_open)
{
	struct mmn_case c = MMN_CASE_INIT;
	unsigned char out[2 * MMN_PAGE];
	struct mmn_counters cnt;
	struct mmn_mem mem;
	struct mmn_dma d;
	char addr[256];
	int i;

	ASSERT_EQ(0, pci_addr(addr, sizeof(addr)));
	MMN_TRY(&self->m, mmn_mem_map(&mem, MMN_MEM_ANON_PRIVATE,
				      2 * MMN_PAGE));
	mmn_touch_write(mem.p, MMN_PAGE, 0x13);
	mmn_pattern(out, sizeof(out), 3);
	ASSERT_EQ(0, mmn_dma_park(&self->m, MMN_OP_WRITE, mem.p, out,
				  sizeof(out), 0, &d));
	ASSERT_EQ(MMN_ST_STALLED, d.state);
	ASSERT_EQ(0, sysfs_write(PCI_DRV "/unbind", addr));
	ASSERT_EQ(-ENODEV, mmn_counters(&self->m, &cnt));
	ASSERT_EQ(-ENODEV, mmn_dma_continue(&self->m, &d));
	mmn_close(&self->m);
	ASSERT_EQ(0, sysfs_write(PCI_DRV "/bind", addr));
	for (i = 0; i < 50 && access("/dev/mmn-smmu", F_OK); i++)
		usleep(100000);
	ASSERT_EQ(0, mmn_open(&self->m));
	MMN_TRY(&self->m, mmn_case_read(&self->m, &c, mem.p, MMN_PAGE));
	MMN_TRY(&self->m, mmn_case_write(&self->m, &c, mem.p, MMN_PAGE));
	MMN_REPORT_CASE(&self->m, &c);
	mmn_mem_unmap(&mem);
}

TEST_HARNESS_MAIN
