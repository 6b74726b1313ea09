// SPDX-License-Identifier: GPL-2.0
/*
 * shmem: MAP_SHARED tmpfs files read by the CPU first, so that the entry
 * is writable-clean (PTE_WRITE|PTE_RDONLY): read-only to the device.
 * At PTE size (tmpfs huge=never) the write fault is handle_pte_fault's
 * pte_mkdirty; at PMD size (tmpfs huge=always, a PMD-mapped folio) it is
 * huge_pmd_set_accessed.  docs/devel/mmn-smmu-bug.rst explains each case.
 */
#include "mmn-scenario.h"

MMN_FIXTURE(mmn);

TEST_F(mmn, shmem_writable_clean)
{
	struct mmn_case c = MMN_CASE_INIT;
	struct mmn_mem mem;

	MMN_TRY(&self->m, mmn_mem_map(&mem, MMN_MEM_TMPFS_SHARED, MMN_PAGE));
	mmn_touch_read(mem.p, MMN_PAGE);
	MMN_TRY(&self->m, mmn_case_read(&self->m, &c, mem.p, MMN_PAGE));
	MMN_TRY(&self->m, mmn_case_write(&self->m, &c, mem.p, MMN_PAGE));
	MMN_REPORT_CASE(&self->m, &c);
	mmn_mem_unmap(&mem);
}

TEST_F(mmn, shmem_pmd_writable_clean)
{
	struct mmn_case c = MMN_CASE_INIT;
	struct mmn_backing b;
	struct mmn_mem mem;

	MMN_TRY(&self->m, mmn_mem_map(&mem, MMN_MEM_SHMEM_THP, MMN_PMD_SIZE));
	mmn_touch_read(mem.p, MMN_PMD_SIZE);
	ASSERT_EQ(0, mmn_backing(mem.p, &b));
	ASSERT_TRUE(b.pmd_mapped && b.folio_size == MMN_PMD_SIZE)
		TH_LOG("tmpfs huge=always gave no PMD-mapped folio (folio %zu)",
		       b.folio_size);
	MMN_TRY(&self->m, mmn_case_read(&self->m, &c, mem.p, MMN_PAGE));
	MMN_TRY(&self->m, mmn_case_write(&self->m, &c, mem.p, MMN_PAGE));
	MMN_REPORT_CASE(&self->m, &c);
	mmn_mem_unmap(&mem);
}

TEST_HARNESS_MAIN
