// SPDX-License-Identifier: GPL-2.0
/*
 * hugetlb: 2 MiB hugetlbfs pages (vm.nr_hugepages), one PMD-level block
 * entry.  MAP_SHARED pages are mapped writable and dirty already on the
 * read fault (hugetlb_no_page -> make_huge_pte(writable)); a MAP_PRIVATE
 * page written, then write-protected by fork, is made writable again by
 * hugetlb_wp's reuse path (set_huge_ptep_writable).
 * docs/devel/mmn-smmu-bug.rst explains each case.
 */
#include "mmn-scenario.h"

#define HP MMN_PMD_SIZE

MMN_FIXTURE(mmn);

static void check_hugetlb(struct __test_metadata *_metadata, void *p)
{
	struct mmn_backing b;

	ASSERT_EQ(0, mmn_backing(p, &b));
	ASSERT_TRUE(b.hugetlb) TH_LOG("not a hugetlb page (kpf 0x%llx)",
				      (unsigned long long)b.kpf);
}

TEST_F(mmn, hugetlb_shared)
{
	struct mmn_case c = MMN_CASE_INIT;
	struct mmn_mem mem;

	MMN_TRY(&self->m, mmn_mem_map(&mem, MMN_MEM_HUGETLB_SHARED, HP));
	mmn_touch_read(mem.p, HP);
	check_hugetlb(_metadata, mem.p);
	MMN_TRY(&self->m, mmn_case_read(&self->m, &c, mem.p, MMN_PAGE));
	MMN_TRY(&self->m, mmn_case_write(&self->m, &c, mem.p, MMN_PAGE));
	MMN_REPORT_CASE(&self->m, &c);
	mmn_mem_unmap(&mem);
}

TEST_F(mmn, hugetlb_private_fork)
{
	struct mmn_case c = MMN_CASE_INIT;
	struct mmn_mem mem;

	MMN_TRY(&self->m, mmn_mem_map(&mem, MMN_MEM_HUGETLB_PRIVATE, HP));
	mmn_touch_write(mem.p, HP, 0x33);
	check_hugetlb(_metadata, mem.p);
	ASSERT_EQ(0, mmn_fork_exit());
	MMN_TRY(&self->m, mmn_case_read(&self->m, &c, mem.p, MMN_PAGE));
	MMN_TRY(&self->m, mmn_case_write(&self->m, &c, mem.p, MMN_PAGE));
	MMN_REPORT_CASE(&self->m, &c);
	mmn_mem_unmap(&mem);
}

TEST_HARNESS_MAIN
