// SPDX-License-Identifier: GPL-2.0
/*
 * The mmn-smmu guest scenario library: /dev/mmn-smmu ioctls, memory of
 * each kind, kernel controls, processes and result rows.  The API and the
 * contract with the host scripts are documented in mmn-scenario.h.
 */
#define MMN_SCENARIO_NO_HARNESS
#include "mmn-scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif

#define KPF_COMPOUND_HEAD	15
#define KPF_COMPOUND_TAIL	16
#define KPF_HUGE		17
#define KPF_KSM			21
#define KPF_THP			22

#define SHMEM_HUGE_MNT		"/tmp/mmn-shmem-huge"
#define SHMEM_SMALL_MNT		"/tmp/mmn-shmem-small"

static char na_reason[256];

int mmn_na(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(na_reason, sizeof(na_reason), fmt, ap);
	va_end(ap);
	return MMN_NA;
}

const char *mmn_na_reason(void)
{
	return na_reason[0] ? na_reason : "not applicable";
}

/* ------------------------------------------------------------ identity */

static void cpu_model(char *buf, size_t len)
{
	unsigned long midr = 0;
	unsigned int impl, part;
	FILE *f;

	f = fopen("/sys/devices/system/cpu/cpu0/regs/identification/midr_el1",
		  "r");
	if (!f || fscanf(f, "%lx", &midr) != 1) {
		snprintf(buf, len, "unknown");
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	impl = (midr >> 24) & 0xff;
	part = (midr >> 4) & 0xfff;
	if (impl == 0x41 && part == 0xd07)
		snprintf(buf, len, "cortex-a57");
	else if (impl == 0x41 && part == 0xd0c)
		snprintf(buf, len, "neoverse-n1");
	else if (impl == 0)
		snprintf(buf, len, "max");	/* QEMU's -cpu max */
	else
		snprintf(buf, len, "midr-%#lx", midr);
}

/* The kernel logs the ARM64_HW_DBM capability (arm64 cpufeature.c). */
static bool kernel_hw_dirty(void)
{
	int n = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	bool found = false;
	char *buf;

	if (n <= 0)
		return false;
	buf = malloc(n + 1);
	if (!buf)
		return false;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, n);
	if (n > 0) {
		buf[n] = 0;
		found = strstr(buf, "detected: Hardware dirty bit management");
	}
	free(buf);
	return found;
}

void mmn_init(struct mmn *m)
{
	struct utsname u;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (uname(&u) == 0)
		snprintf(m->kernel, sizeof(m->kernel), "%s", u.release);
	cpu_model(m->cpu, sizeof(m->cpu));
	m->hw_dirty = kernel_hw_dirty();
}

/* ------------------------------------------------------------- device */

int mmn_open(struct mmn *m)
{
	if (m->kernel[0] == 0)
		mmn_init(m);
	m->fd = open("/dev/mmn-smmu", O_RDWR | O_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	if (ioctl(m->fd, MMN_IOC_BIND, &m->bind)) {
		int e = errno;

		close(m->fd);
		m->fd = -1;
		errno = e;
		return -e;
	}
	return 0;
}

int mmn_unbind(struct mmn *m)
{
	return ioctl(m->fd, MMN_IOC_UNBIND) ? -errno : 0;
}

void mmn_close(struct mmn *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

static int dma(struct mmn *m, uint32_t op, const void *va, void *buf,
	       size_t len, uint32_t pattern, uint32_t flags,
	       struct mmn_dma *out)
{
	memset(out, 0, sizeof(*out));
	out->op = op;
	out->len = len;
	out->va = (uintptr_t)va;
	out->buf = (uintptr_t)buf;
	out->pattern = pattern;
	out->flags = flags;
	return ioctl(m->fd, MMN_IOC_DMA, out) ? -errno : 0;
}

int mmn_dma_read(struct mmn *m, const void *va, void *buf, size_t len,
		 struct mmn_dma *out)
{
	return dma(m, MMN_OP_READ, va, buf, len, 0, 0, out);
}

int mmn_dma_write(struct mmn *m, void *va, const void *buf, size_t len,
		  struct mmn_dma *out)
{
	return dma(m, MMN_OP_WRITE, va, (void *)buf, len, 0, 0, out);
}

int mmn_dma_fill(struct mmn *m, void *va, uint32_t pattern, size_t len,
		 struct mmn_dma *out)
{
	return dma(m, MMN_OP_FILL, va, NULL, len, pattern, 0, out);
}

int mmn_dma_park(struct mmn *m, uint32_t op, void *va, void *buf,
		 size_t len, uint32_t pattern, struct mmn_dma *out)
{
	return dma(m, op, va, buf, len, pattern, MMN_DMA_F_PARK, out);
}

int mmn_dma_continue(struct mmn *m, struct mmn_dma *out)
{
	out->flags = MMN_DMA_F_CONTINUE;
	return ioctl(m->fd, MMN_IOC_DMA, out) ? -errno : 0;
}

int mmn_events(struct mmn *m, struct mmn_events *ev)
{
	memset(ev, 0, sizeof(*ev));
	return ioctl(m->fd, MMN_IOC_EVENTS, ev) ? -errno : 0;
}

int mmn_check(struct mmn *m, struct mmn_check_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	return ioctl(m->fd, MMN_IOC_CHECK, rep) ? -errno : 0;
}

int mmn_counters(struct mmn *m, struct mmn_counters *c)
{
	memset(c, 0, sizeof(*c));
	return ioctl(m->fd, MMN_IOC_COUNTERS, c) ? -errno : 0;
}

const char *mmn_state_name(uint32_t s)
{
	static const char *const names[] = {
		"IDLE", "DONE", "STALLED", "FAULT", "LIVELOCK", "ABORTED",
		"BAD_DESC", "RELEASED", "BLOCKED",
	};

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

const char *mmn_class(const struct mmn_dma *d)
{
	switch (d->state) {
	case MMN_ST_DONE:
		return d->faults ? "healed" : "clean";
	case MMN_ST_LIVELOCK:
		/* the device's verdict (docs/specs/mmn-smmu.rst, "Livelock
		 * detection": status bit 25 STALE) */
		return d->status & MMN_STATUS_STALE ? "stale" : "coherent";
	case MMN_ST_FAULT:
	case MMN_ST_ABORTED:
		return "refused";
	case MMN_ST_RELEASED:
		return "released";
	default:
		return "other";
	}
}

/* ------------------------------------------------------------- memory */

static int ensure_tmpfs_mount(const char *dir, const char *opts)
{
	char mark[160];
	struct stat st;

	snprintf(mark, sizeof(mark), "%s/.mmn", dir);
	if (stat(mark, &st) == 0)
		return 0;
	mkdir(dir, 0755);
	if (mount("tmpfs", dir, "tmpfs", 0, opts)) {
		if (errno == EINVAL)
			return mmn_na("tmpfs refuses %s", opts);
		return -errno;
	}
	close(open(mark, O_CREAT | O_WRONLY, 0644));
	return 0;
}

static int ensure_shmem_huge_mount(void)
{
	return ensure_tmpfs_mount(SHMEM_HUGE_MNT, "huge=always,size=64m");
}

static int map_file(struct mmn_mem *mem, const char *dir, size_t len,
		    size_t align)
{
	static unsigned int serial;
	void *p;
	int fd;

	snprintf(mem->path, sizeof(mem->path), "%s/mmn-%d-%u", dir, getpid(),
		 serial++);
	fd = open(mem->path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, len)) {
		int e = errno;

		close(fd);
		unlink(mem->path);
		return -e;
	}
	mem->fd = fd;
	mem->map_len = len + align;
	mem->map = mmap(NULL, mem->map_len, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem->map == MAP_FAILED)
		return -errno;
	p = (void *)(((uintptr_t)mem->map + align - 1) & ~(align - 1));
	/* Replace the aligned part of the reservation with the file. */
	if (mmap(p, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
		 0) == MAP_FAILED)
		return -errno;
	mem->p = p;
	return 0;
}

static bool fs_mounted_at(const char *dir)
{
	struct stat a, b;
	char parent[160];

	snprintf(parent, sizeof(parent), "%s/..", dir);
	return stat(dir, &a) == 0 && stat(parent, &b) == 0 &&
	       a.st_dev != b.st_dev;
}

int mmn_mem_map(struct mmn_mem *mem, enum mmn_mem_kind kind, size_t len)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	size_t align = MMN_PAGE;
	int ret;

	memset(mem, 0, sizeof(*mem));
	mem->fd = -1;
	mem->kind = kind;
	mem->len = len;
	switch (kind) {
	case MMN_MEM_ANON_PRIVATE:
		break;
	case MMN_MEM_ANON_SHARED:
		flags = MAP_SHARED | MAP_ANONYMOUS;
		break;
	case MMN_MEM_ANON_THP:
	case MMN_MEM_ANON_MTHP:
		align = MMN_PMD_SIZE;
		break;
	case MMN_MEM_SHMEM_THP:
		ret = ensure_shmem_huge_mount();
		if (ret)
			return ret;
		return map_file(mem, SHMEM_HUGE_MNT, len, MMN_PMD_SIZE);
	case MMN_MEM_HUGETLB_SHARED:
	case MMN_MEM_HUGETLB_PRIVATE:
		ret = mmn_hugetlb_reserve(len / MMN_PMD_SIZE + 1);
		if (ret)
			return ret;
		flags = (kind == MMN_MEM_HUGETLB_SHARED ? MAP_SHARED :
			 MAP_PRIVATE) | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB;
		mem->map = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
		if (mem->map == MAP_FAILED)
			return errno == ENOMEM ?
			       mmn_na("no free 2 MiB hugetlb pages") : -errno;
		mem->map_len = len;
		mem->p = mem->map;
		return 0;
	case MMN_MEM_TMPFS_SHARED:
		ret = ensure_tmpfs_mount(SHMEM_SMALL_MNT, "huge=never,size=64m");
		if (ret)
			return ret;
		return map_file(mem, SHMEM_SMALL_MNT, len, MMN_PAGE);
	case MMN_MEM_FILE_SHARED:
		if (!fs_mounted_at(MMN_EXT4_DIR))
			return mmn_na("no scenario disk: nothing mounted at "
				      MMN_EXT4_DIR);
		return map_file(mem, MMN_EXT4_DIR, len, MMN_PAGE);
	default:
		return -EINVAL;
	}
	mem->map_len = len + (align > MMN_PAGE ? align : 0);
	mem->map = mmap(NULL, mem->map_len, PROT_READ | PROT_WRITE, flags, -1,
			0);
	if (mem->map == MAP_FAILED)
		return -errno;
	mem->p = (void *)(((uintptr_t)mem->map + align - 1) & ~(align - 1));
	if (align > MMN_PAGE) {
		if (madvise(mem->p, len, MADV_HUGEPAGE))
			return errno == EINVAL ?
			       mmn_na("MADV_HUGEPAGE refused (no THP)") : -errno;
	} else {
		/* small-page kinds stay small even with THP "always" */
		madvise(mem->p, len, MADV_NOHUGEPAGE);
	}
	return 0;
}

void mmn_mem_unmap(struct mmn_mem *mem)
{
	if (mem->map && mem->map != MAP_FAILED)
		munmap(mem->map, mem->map_len);
	if (mem->fd >= 0) {
		close(mem->fd);
		unlink(mem->path);
	}
	mem->map = NULL;
	mem->fd = -1;
}

void mmn_touch_read(const void *p, size_t len)
{
	const volatile unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i += MMN_PAGE)
		(void)c[i];
}

void mmn_touch_write(void *p, size_t len, unsigned char v)
{
	memset(p, v, len);
}

int mmn_madvise(void *p, size_t len, int advice)
{
	if (madvise(p, len, advice) == 0)
		return 0;
	if (errno == EINVAL)
		return mmn_na("madvise advice %d not supported here", advice);
	return -errno;
}

int mmn_mprotect(void *p, size_t len, int prot)
{
	return mprotect(p, len, prot) ? -errno : 0;
}

static int read_u64_at(const char *path, off_t off, uint64_t *v)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, v, sizeof(*v), off);
	close(fd);
	if (n != sizeof(*v))
		return n < 0 ? -errno : -EIO;
	return 0;
}

static uint64_t kpageflags(uint64_t pfn)
{
	uint64_t f = 0;

	if (read_u64_at("/proc/kpageflags", pfn * 8, &f))
		return 0;
	return f;
}

/* AnonHugePages etc. of the VMA holding p, from /proc/self/smaps. */
static bool vma_pmd_mapped(const void *p)
{
	unsigned long lo, hi, a = (uintptr_t)p, kb;
	bool in = false, found = false;
	char line[256], key[64];
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = a >= lo && a < hi;
			continue;
		}
		if (!in || sscanf(line, "%63[^:]: %lu kB", key, &kb) != 2)
			continue;
		if ((!strcmp(key, "AnonHugePages") ||
		     !strcmp(key, "ShmemPmdMapped") ||
		     !strcmp(key, "FilePmdMapped")) && kb > 0)
			found = true;
	}
	fclose(f);
	return found;
}

int mmn_backing(const void *p, struct mmn_backing *b)
{
	uint64_t ent, pfn, f;
	size_t before = 0, after = 0;
	int ret;

	memset(b, 0, sizeof(*b));
	ret = read_u64_at("/proc/self/pagemap", (uintptr_t)p / MMN_PAGE * 8,
			  &ent);
	if (ret)
		return ret;
	b->present = ent >> 63;
	b->exclusive = (ent >> 56) & 1;
	b->pmd_mapped = vma_pmd_mapped(p);
	if (!b->present)
		return 0;
	b->pfn = pfn = ent & ((1ULL << 55) - 1);
	if (!pfn)
		return 0;	/* no CAP_SYS_ADMIN: PFNs hidden */
	b->kpf = f = kpageflags(pfn);
	b->thp = f & (1ULL << KPF_THP);
	b->hugetlb = f & (1ULL << KPF_HUGE);
	b->ksm = f & (1ULL << KPF_KSM);
	if (f & ((1ULL << KPF_COMPOUND_HEAD) | (1ULL << KPF_COMPOUND_TAIL))) {
		/* walk to the head, then over the tails */
		while (before < pfn && before < 262144 &&
		       !(kpageflags(pfn - before) & (1ULL << KPF_COMPOUND_HEAD)))
			before++;
		while (after < 262144 &&
		       (kpageflags(pfn + after + 1) & (1ULL << KPF_COMPOUND_TAIL)))
			after++;
		b->folio_size = (before + after + 1) * MMN_PAGE;
	} else {
		b->folio_size = MMN_PAGE;
	}
	return 0;
}

bool mmn_one_folio(const void *p, size_t len)
{
	struct mmn_backing head, b;
	size_t off;

	if (mmn_backing(p, &head) || !head.present ||
	    head.folio_size != len ||
	    !(head.kpf & (1ULL << KPF_COMPOUND_HEAD)))
		return len == MMN_PAGE && head.present;
	for (off = MMN_PAGE; off < len; off += MMN_PAGE) {
		if (mmn_backing((const char *)p + off, &b) || !b.present ||
		    b.pfn != head.pfn + off / MMN_PAGE)
			return false;
	}
	return true;
}

/* ---------------------------------------------------- kernel controls */

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
		return errno == ENOENT ? mmn_na("%s: not on this kernel", path) :
		       -errno;
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
		snprintf(saved[nr_saved].path, sizeof(saved[0].path), "%s", path);
		snprintf(saved[nr_saved].value, sizeof(saved[0].value), "%s", old);
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
		return ret == MMN_NA ? mmn_na("no 2 MiB hugetlb pages here") : ret;
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
		return mmn_na("only %s free 2 MiB hugetlb pages, %u needed", buf, n);
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
		return errno == EINVAL ? mmn_na("MADV_MERGEABLE refused") : -errno;
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

/* ---------------------------------------------------------- processes */

int mmn_child_start(struct mmn_child *c, void (*fn)(void *), void *arg)
{
	int fds[2];
	char x;

	if (pipe(fds))
		return -errno;
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (c->pid == 0) {
		close(fds[1]);
		if (fn)
			fn(arg);
		/* stay alive (and keep the mm) until released */
		while (read(fds[0], &x, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(fds[0]);
	c->go = fds[1];
	return 0;
}

int mmn_child_finish(struct mmn_child *c)
{
	int status;

	close(c->go);
	if (waitpid(c->pid, &status, 0) != c->pid)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int mmn_fork_exit(void)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(0);
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return 0;
}

/* ------------------------------------------------------------ results */

const char *mmn_data_verdict(const struct mmn_dma *d, const void *now,
			     const void *want, const void *before, size_t len)
{
	if (d->state == MMN_ST_DONE)
		return memcmp(now, want, len) ? "MISMATCH" : "ok";
	if (!before)
		return "n/a";
	return memcmp(now, before, len) ? "CHANGED" : "unchanged";
}

const char *mmn_read_verdict(const struct mmn_dma *rd, const void *got,
			     const void *cpu, size_t len)
{
	if (rd->state != MMN_ST_DONE)
		return mmn_state_name(rd->state);
	return memcmp(got, cpu, len) ? "MISMATCH" : "ok";
}

static void case_name(char *out, size_t len, const char *testname)
{
	size_t i;

	snprintf(out, len, "%s", testname);
	for (i = 0; out[i]; i++)
		if (out[i] == '_')
			out[i] = '-';
}

static void row_head(const struct mmn *m, const char *testname)
{
	struct mmn local;
	char name[96];

	if (!m || !m->kernel[0]) {
		mmn_init(&local);
		m = &local;
	}
	case_name(name, sizeof(name), testname);
	printf("MMN-GUEST-REPRO: kernel=%s cpu=%s dirty=%s scenario=%s ",
	       m->kernel, m->cpu, m->hw_dirty ? "hw" : "sw", name);
}

void mmn_row(const struct mmn *m, const char *testname,
	     const struct mmn_dma *d, const char *read, const char *data)
{
	fflush(stdout);
	row_head(m, testname);
	printf("class=%s state=%s faults=%u cached=%u retries=%u "
	       "notifications=%u stale_readonly=%u livelock_count=%u "
	       "read=%s data=%s\n", mmn_class(d), mmn_state_name(d->state),
	       d->faults, d->cached_faults, d->retries, d->notifications,
	       d->check_stale_readonly, d->livelock_count, read ? read : "n/a",
	       data ? data : "n/a");
	fflush(stdout);
}

void mmn_row_na(const struct mmn *m, const char *testname,
		const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fflush(stdout);
	row_head(m, testname);
	printf("class=n/a state=N/A faults=0 cached=0 retries=0 "
	       "notifications=0 stale_readonly=0 livelock_count=0 read=n/a "
	       "data=n/a reason=%s\n", why);
	fflush(stdout);
}

void mmn_pattern(void *buf, size_t len, unsigned int seed)
{
	unsigned char *c = buf;
	size_t i;

	for (i = 0; i < len; i++)
		c[i] = (unsigned char)(i * 7 + 3 + seed * 31);
}

static int case_buf(struct mmn_case *c, size_t len)
{
	if (len == 0 || len > MMN_DMA_MAX)
		return -EINVAL;
	if (!c->buf)
		c->buf = malloc(3 * MMN_DMA_MAX);
	return c->buf ? 0 : -ENOMEM;
}

int mmn_case_read(struct mmn *m, struct mmn_case *c, const void *p,
		  size_t len)
{
	unsigned char *in, *cpu;
	int ret = case_buf(c, len);

	if (ret)
		return ret;
	in = c->buf;
	cpu = c->buf + MMN_DMA_MAX;
	memcpy(cpu, p, len);
	c->have_before = true;
	ret = mmn_dma_read(m, p, in, len, &c->rd);
	if (ret)
		return ret;
	c->read = mmn_read_verdict(&c->rd, in, cpu, len);
	return 0;
}

int mmn_case_snapshot(struct mmn_case *c, const void *p, size_t len)
{
	int ret = case_buf(c, len);

	if (ret)
		return ret;
	memcpy(c->buf + MMN_DMA_MAX, p, len);
	c->have_before = true;
	return 0;
}

int mmn_case_write(struct mmn *m, struct mmn_case *c, void *p, size_t len)
{
	unsigned char *out, *before;
	int ret = case_buf(c, len);

	if (ret)
		return ret;
	out = c->buf + 2 * MMN_DMA_MAX;
	before = c->buf + MMN_DMA_MAX;
	if (!c->have_before)	/* a CPU read of the range */
		memcpy(before, p, len);
	mmn_pattern(out, len, 1);
	ret = mmn_dma_write(m, p, out, len, &c->wr);
	if (ret)
		return ret;
	c->data = mmn_data_verdict(&c->wr, p, out, before, len);
	return 0;
}
