// SPDX-License-Identifier: GPL-2.0
/*
 * protect: mprotect RO -> RW and fork copy-on-write.  The device caches a
 * read-only entry, the process changes the protection (change_protection)
 * or the device's write breaks COW (wp_page_copy).
 * docs/devel/mmn-smmu-bug.rst explains each case.
 */
#include "mmn-scenario.h"

MMN_FIXTURE(mmn);

/*
 * Shared anonymous page: after mprotect(RW) its PTE is writable-clean
 * again (shmem has no write notification): read-only to the device.
 */
TEST_F(mmn, mprotect_ro_rw_shared)
{
	struct mmn_case c = MMN_CASE_INIT;
	struct mmn_mem mem;

	MMN_TRY(&self->m, mmn_mem_map(&mem, MMN_MEM_ANON_SHARED, MMN_PAGE));
	mmn_touch_read(mem.p, MMN_PAGE);
	MMN_TRY(&self->m, mmn_mprotect(mem.p, MMN_PAGE, PROT_READ));
	MMN_TRY(&self->m, mmn_case_read(&self->m, &c, mem.p, MMN_PAGE));
	MMN_TRY(&self->m, mmn_mprotect(mem.p, MMN_PAGE,
				       PROT_READ | PROT_WRITE));
	MMN_TRY(&self->m, mmn_case_write(&self->m, &c, mem.p, MMN_PAGE));
	MMN_REPORT_CASE(&self->m, &c);
	mmn_mem_unmap(&mem);
}

/*
 * Private anonymous page written, mprotect(RO), the device caches it,
 * mprotect(RW): change_pte_range makes the exclusive page writable at
 * once (can_change_pte_writable).
 */
TEST_F(mmn, mprotect_ro_rw_private)
{
	struct mmn_case c = MMN_CASE_INIT;
	struct mmn_mem mem;

	MMN_TRY(&self->m, mmn_mem_map(&mem, MMN_MEM_ANON_PRIVATE, MMN_PAGE));
	mmn_touch_write(mem.p, MMN_PAGE, 0x55);
	MMN_TRY(&self->m, mmn_mprotect(mem.p, MMN_PAGE, PROT_READ));
	MMN_TRY(&self->m, mmn_case_read(&self->m, &c, mem.p, MMN_PAGE));
	MMN_TRY(&self->m, mmn_mprotect(mem.p, MMN_PAGE,
				       PROT_READ | PROT_WRITE));
	MMN_TRY(&self->m, mmn_case_write(&self->m, &c, mem.p, MMN_PAGE));
	MMN_REPORT_CASE(&self->m, &c);
	mmn_mem_unmap(&mem);
}

/*
 * Private page shared with a live child after fork: the device's write
 * copies it (do_wp_page -> wp_page_copy, ptep_clear_flush_notify).
 */
TEST_F(mmn, fork_cow)
{
	struct mmn_case c = MMN_CASE_INIT;
	struct mmn_child child;
	struct mmn_mem mem;

	MMN_TRY(&self->m, mmn_mem_map(&mem, MMN_MEM_ANON_PRIVATE, MMN_PAGE));
	mmn_touch_write(mem.p, MMN_PAGE, 0x66);
	ASSERT_EQ(0, mmn_child_start(&child, NULL, NULL));
	MMN_TRY(&self->m, mmn_case_read(&self->m, &c, mem.p, MMN_PAGE));
	MMN_TRY(&self->m, mmn_case_write(&self->m, &c, mem.p, MMN_PAGE));
	MMN_REPORT_CASE(&self->m, &c);
	ASSERT_EQ(0, mmn_child_finish(&child));
	mmn_mem_unmap(&mem);
}

TEST_HARNESS_MAIN
