// SPDX-License-Identifier: GPL-2.0
/*
 * file: MAP_SHARED of a file on a real ext4 file system (the scenario
 * disk).  ext4 has ->page_mkwrite, so the VMA wants write notification
 * (vma_wants_writenotify): its PTEs are mapped read-only, without the DBM
 * bit, and the first write goes through do_wp_page -> wp_page_shared ->
 * ext4_page_mkwrite -> finish_mkwrite_fault -> wp_page_reuse.
 * docs/devel/mmn-smmu-bug.rst explains the case.
 */
#include "mmn-scenario.h"

MMN_FIXTURE(mmn);

TEST_F(mmn, file_shared_write_notify)
{
	struct mmn_case c = MMN_CASE_INIT;
	struct mmn_mem mem;

	MMN_TRY(&self->m, mmn_mem_map(&mem, MMN_MEM_FILE_SHARED, MMN_PAGE));
	mmn_touch_read(mem.p, MMN_PAGE);
	MMN_TRY(&self->m, mmn_case_read(&self->m, &c, mem.p, MMN_PAGE));
	MMN_TRY(&self->m, mmn_case_write(&self->m, &c, mem.p, MMN_PAGE));
	MMN_REPORT_CASE(&self->m, &c);
	/* the device's data reaches the file */
	if (c.wr.state == MMN_ST_DONE) {
		unsigned char got[MMN_PAGE], want[MMN_PAGE];

		ASSERT_EQ(0, msync(mem.p, MMN_PAGE, MS_SYNC));
		ASSERT_EQ((ssize_t)MMN_PAGE, pread(mem.fd, got, MMN_PAGE, 0));
		mmn_pattern(want, MMN_PAGE, 1);
		ASSERT_EQ(0, memcmp(got, want, MMN_PAGE));
	}
	mmn_mem_unmap(&mem);
}

TEST_HARNESS_MAIN
