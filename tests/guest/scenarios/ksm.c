// SPDX-License-Identifier: GPL-2.0
/*
 * ksm: two identical private pages merged by KSM after the device cached
 * one of them writable.  The merge must take that writable entry away
 * (write_protect_page and replace_page clear and flush the PTE inside an
 * mmu_notifier range); the device's write then faults and
 * do_wp_page copies the KSM page (wp_page_copy), leaving its twin alone.
 * docs/devel/mmn-smmu-bug.rst explains the case.
 */
#include "mmn-scenario.h"

MMN_FIXTURE(mmn);

TEST_F_TIMEOUT(mmn, ksm_merge_write, 60)
{
	unsigned char twin_before[MMN_PAGE];
	struct mmn_case c = MMN_CASE_INIT;
	struct mmn_backing ba, bb;
	struct mmn_mem mem;
	unsigned char *a, *b;

	MMN_TRY(&self->m, mmn_mem_map(&mem, MMN_MEM_ANON_PRIVATE,
				      2 * MMN_PAGE));
	a = mem.p;
	b = a + MMN_PAGE;
	mmn_pattern(a, MMN_PAGE, 7);
	mmn_pattern(b, MMN_PAGE, 7);
	memcpy(twin_before, b, MMN_PAGE);
	/* the device caches a's entry while a is writable and dirty */
	MMN_TRY(&self->m, mmn_case_read(&self->m, &c, a, MMN_PAGE));
	MMN_TRY(&self->m, mmn_ksm_merge(a, 2 * MMN_PAGE, 20000));
	ASSERT_EQ(0, mmn_backing(a, &ba));
	ASSERT_EQ(0, mmn_backing(b, &bb));
	ASSERT_TRUE(ba.ksm && bb.ksm && ba.pfn == bb.pfn)
		TH_LOG("not merged: pfn 0x%llx ksm %d / pfn 0x%llx ksm %d",
		       (unsigned long long)ba.pfn, ba.ksm,
		       (unsigned long long)bb.pfn, bb.ksm);
	MMN_TRY(&self->m, mmn_case_write(&self->m, &c, a, MMN_PAGE));
	MMN_REPORT_CASE(&self->m, &c);
	ASSERT_EQ(0, memcmp(b, twin_before, MMN_PAGE))
		TH_LOG("the device wrote the merged KSM page: twin changed");
	mmn_mem_unmap(&mem);
}

TEST_HARNESS_MAIN
