// SPDX-License-Identifier: GPL-2.0
/*
 * The mmn-smmu guest scenario library, kernel controls: /sys and /proc
 * settings written and put back at exit (mmn_restore), mTHP sizes,
 * hugetlb reservations and KSM merging.
 *
 * The API is documented in mmn-scenario.h.
 */
#define MMN_SCENARIO_NO_HARNESS
#include "mmn-scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct saved {
	char path[160];
	char value[160];
};

static struct saved saved[32];
static int nr_saved;
static pid_t saved_pid;

void mmn_restore(void)
{
	int i, fd;

	if (getpid() != saved_pid)
		return;		/* a forked child: the parent restores */
	for (i = nr_saved - 1; i >= 0; i--) {
		fd = open(saved[i].path, O_WRONLY);
		if (fd < 0)
			continue;
		if (write(fd, saved[i].value, strlen(saved[i].value)) < 0)
			fprintf(stderr, "mmn: restoring %s: %s\n",
				saved[i].path, strerror(errno));
		close(fd);
	}
	nr_saved = 0;
}

int mmn_sysfs_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT ?
		       mmn_na("%s: not on this kernel", path) : -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = 0;
	return 0;
}

/* "always [madvise] never" -> "madvise" */
static void selected(char *v)
{
	char *a = strchr(v, '['), *b = a ? strchr(a, ']') : NULL;

	if (a && b) {
		memmove(v, a + 1, b - a - 1);
		v[b - a - 1] = 0;
	}
}

int mmn_sysfs_set(const char *path, const char *value)
{
	char old[160];
	int fd, ret;

	ret = mmn_sysfs_read(path, old, sizeof(old));
	if (ret)
		return ret;
	selected(old);
	if (nr_saved < (int)(sizeof(saved) / sizeof(saved[0]))) {
		if (!nr_saved) {
			saved_pid = getpid();
			atexit(mmn_restore);
		}
		snprintf(saved[nr_saved].path, sizeof(saved[0].path), "%s",
			 path);
		snprintf(saved[nr_saved].value, sizeof(saved[0].value), "%s",
			 old);
		nr_saved++;
	}
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ret = write(fd, value, strlen(value)) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

#define THP_DIR "/sys/kernel/mm/transparent_hugepage"

int mmn_mthp_enable(unsigned int kb)
{
	static const unsigned int sizes[] = {
		16, 32, 64, 128, 256, 512, 1024, 2048,
	};
	char path[160];
	unsigned int i;
	int ret;

	snprintf(path, sizeof(path), THP_DIR "/hugepages-%ukB/enabled", kb);
	if (access(path, F_OK))
		return mmn_na("no %s: this kernel has no multi-size THP "
			      "(added in 6.8)", path);
	ret = mmn_sysfs_set(THP_DIR "/enabled", "madvise");
	if (ret)
		return ret;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(path, sizeof(path),
			 THP_DIR "/hugepages-%ukB/enabled", sizes[i]);
		if (access(path, F_OK))
			continue;
		ret = mmn_sysfs_set(path, sizes[i] == kb ? "always" : "never");
		if (ret)
			return ret;
	}
	return 0;
}

int mmn_hugetlb_reserve(unsigned int n)
{
	const char *free_path =
		"/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages";
	const char *nr_path =
		"/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";
	char buf[32];
	unsigned long have, nr;
	int ret;

	ret = mmn_sysfs_read(free_path, buf, sizeof(buf));
	if (ret)
		return ret == MMN_NA ?
		       mmn_na("no 2 MiB hugetlb pages here") : ret;
	have = strtoul(buf, NULL, 10);
	if (have >= n)
		return 0;
	ret = mmn_sysfs_read(nr_path, buf, sizeof(buf));
	if (ret)
		return ret;
	nr = strtoul(buf, NULL, 10) + n - have;
	snprintf(buf, sizeof(buf), "%lu", nr);
	ret = mmn_sysfs_set(nr_path, buf);
	if (ret)
		return ret;
	ret = mmn_sysfs_read(free_path, buf, sizeof(buf));
	if (ret)
		return ret;
	if (strtoul(buf, NULL, 10) < n)
		return mmn_na("only %s free 2 MiB hugetlb pages, %u needed",
			      buf, n);
	return 0;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

int mmn_ksm_merge(void *p, size_t len, unsigned int timeout_ms)
{
	struct mmn_backing b;
	unsigned int waited;
	int ret;

	if (access("/sys/kernel/mm/ksm/run", F_OK))
		return mmn_na("no /sys/kernel/mm/ksm (CONFIG_KSM)");
	ret = mmn_sysfs_set("/sys/kernel/mm/ksm/sleep_millisecs", "10");
	if (!ret)
		ret = mmn_sysfs_set("/sys/kernel/mm/ksm/pages_to_scan", "1000");
	if (!ret)
		ret = mmn_sysfs_set("/sys/kernel/mm/ksm/run", "1");
	if (ret)
		return ret;
	if (madvise(p, len, MADV_MERGEABLE))
		return errno == EINVAL ?
		       mmn_na("MADV_MERGEABLE refused") : -errno;
	for (waited = 0; waited < timeout_ms; waited += 20) {
		size_t off;
		uint64_t pfn = 0;
		bool merged = true;

		for (off = 0; off < len && merged; off += MMN_PAGE) {
			ret = mmn_backing((char *)p + off, &b);
			if (ret)
				return ret;
			if (!off)
				pfn = b.pfn;
			merged = b.ksm && b.pfn == pfn;
		}
		if (merged)
			return 0;
		sleep_ms(20);
	}
	return -ETIMEDOUT;
}
