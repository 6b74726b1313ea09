// SPDX-License-Identifier: GPL-2.0
/*
 * The mmn-smmu guest scenario library, memory: mappings of each kind
 * (anonymous, shared, THP, mTHP, shmem, hugetlb, tmpfs, ext4 files),
 * CPU touches, madvise/mprotect, and what backs a page (pagemap,
 * kpageflags, smaps).
 *
 * The API is documented in mmn-scenario.h.
 */
#define MMN_SCENARIO_NO_HARNESS
#include "mmn-scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
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
		flags = kind == MMN_MEM_HUGETLB_SHARED ? MAP_SHARED :
			MAP_PRIVATE;
		flags |= MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB;
		mem->map = mmap(NULL, len, PROT_READ | PROT_WRITE, flags,
				-1, 0);
		if (mem->map == MAP_FAILED)
			return errno == ENOMEM ?
			       mmn_na("no free 2 MiB hugetlb pages") : -errno;
		mem->map_len = len;
		mem->p = mem->map;
		return 0;
	case MMN_MEM_TMPFS_SHARED:
		ret = ensure_tmpfs_mount(SHMEM_SMALL_MNT,
					 "huge=never,size=64m");
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
			       mmn_na("MADV_HUGEPAGE refused (no THP)") :
			       -errno;
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
	const volatile unsigned char *c = p;	/* the reads must happen */
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
		       !(kpageflags(pfn - before) &
			 (1ULL << KPF_COMPOUND_HEAD)))
			before++;
		while (after < 262144 &&
		       (kpageflags(pfn + after + 1) &
			(1ULL << KPF_COMPOUND_TAIL)))
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
