// SPDX-License-Identifier: GPL-2.0
/*
 * thp: anonymous transparent huge pages, mapped by one PMD block entry.
 * The device caches the 2 MiB block; the kernel's PMD fault paths
 * (do_huge_pmd_wp_page, __split_huge_pmd) decide whether it is told.
 * docs/devel/mmn-smmu-bug.rst explains each case.
 */
#include "mmn-scenario.h"

#define THP MMN_PMD_SIZE

MMN_FIXTURE(mmn);

/* A written, PMD-mapped anonymous THP at mem->p (or N/A). */
static int map_thp(struct mmn_mem *mem)
{
	struct mmn_backing b;
	int ret;

	ret = mmn_sysfs_set("/sys/kernel/mm/transparent_hugepage/enabled",
			    "madvise");
	if (ret)
		return ret;
	ret = mmn_mem_map(mem, MMN_MEM_ANON_THP, THP);
	if (ret)
		return ret;
	mmn_touch_write(mem->p, THP, 0x22);
	ret = mmn_backing(mem->p, &b);
	if (ret)
		return ret;
	if (!b.thp || !b.pmd_mapped || b.folio_size != THP)
		return -ENOMEM;	/* THP is on: not getting one is a failure */
	return 0;
}

/*
 * Written THP, fork, the child exits: the PMD stays write-protected, the
 * folio is exclusive again; the device's write fault reuses it
 * (do_huge_pmd_wp_page -> reuse: pmdp_set_access_flags).
 */
TEST_F(mmn, thp_wp_reuse)
{
	struct mmn_case c = MMN_CASE_INIT;
	struct mmn_mem mem;

	MMN_TRY(&self->m, map_thp(&mem));
	ASSERT_EQ(0, mmn_fork_exit());
	MMN_TRY(&self->m, mmn_case_read(&self->m, &c, mem.p, MMN_PAGE));
	MMN_TRY(&self->m, mmn_case_write(&self->m, &c, mem.p, MMN_PAGE));
	MMN_REPORT_CASE(&self->m, &c);
	mmn_mem_unmap(&mem);
}

static void child_nothing(void *arg)
{
	(void)arg;
}

/*
 * Written THP shared with a live child: the write fault cannot reuse it;
 * do_huge_pmd_wp_page falls back (__split_huge_pmd), then do_wp_page
 * copies the small page (wp_page_copy).
 */
TEST_F(mmn, thp_fork_cow)
{
	struct mmn_case c = MMN_CASE_INIT;
	struct mmn_child child;
	struct mmn_mem mem;

	MMN_TRY(&self->m, map_thp(&mem));
	ASSERT_EQ(0, mmn_child_start(&child, child_nothing, NULL));
	MMN_TRY(&self->m, mmn_case_read(&self->m, &c, mem.p, MMN_PAGE));
	MMN_TRY(&self->m, mmn_case_write(&self->m, &c, mem.p, MMN_PAGE));
	ASSERT_EQ(0, mmn_child_finish(&child));
	MMN_REPORT_CASE(&self->m, &c);
	mmn_mem_unmap(&mem);
}

TEST_HARNESS_MAIN
