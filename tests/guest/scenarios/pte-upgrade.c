// SPDX-License-Identifier: GPL-2.0
/*
 * pte-upgrade: the stale read-only PTE bug on small pages.  The device
 * caches a page's entry while the PTE is read-only to it, then writes it;
 * the kernel's fault handler upgrades the PTE (ptep_set_access_flags with
 * dirty=1, then flush_tlb_page).  Linux 6.1 does not tell the secondary
 * TLB (flush_tlb_page has no notifier call; invalidate_range comes only
 * from ptep_clear_flush_notify and invalidate_range_end): the device
 * faults from its cached entry until it reports LIVELOCK.  6.6+ notifies
 * from __flush_tlb_page_nosync: one fault, then DONE.
 * docs/devel/mmn-smmu-bug.rst explains each case.
 */
#include "mmn-scenario.h"

#define LEN MMN_PAGE

MMN_FIXTURE(mmn);

/*
 * Read the page with the device (caching its entry), then write it with
 * the device; report the write.
 */
static void read_then_write(struct __test_metadata *_metadata, struct mmn *m,
			    void *p, bool dev_read)
{
	unsigned char in[LEN], out[LEN], before[LEN];
	struct mmn_dma rd = { .state = MMN_ST_DONE }, wr;
	const char *read = "n/a";

	memcpy(before, p, LEN);
	if (dev_read) {
		ASSERT_EQ(0, mmn_dma_read(m, p, in, LEN, &rd));
		read = mmn_read_verdict(&rd, in, before, LEN);
	}
	mmn_pattern(out, LEN, 1);
	ASSERT_EQ(0, mmn_dma_write(m, p, out, LEN, &wr));
	MMN_REPORT(m, &wr, read, mmn_data_verdict(&wr, p, out, before, LEN));
}

/*
 * MAP_SHARED anonymous (shmem) page, CPU read: writable-clean PTE
 * (PTE_WRITE|PTE_RDONLY, from _PAGE_SHARED), read-only to the device.
 */
TEST_F(mmn, writable_clean)
{
	struct mmn_mem mem;

	MMN_TRY(&self->m, mmn_mem_map(&mem, MMN_MEM_ANON_SHARED, LEN));
	mmn_touch_read(mem.p, LEN);
	read_then_write(_metadata, &self->m, mem.p, true);
	mmn_mem_unmap(&mem);
}

/*
 * The same without the device's READ: the write's own walk caches the
 * read-only entry and faults.
 */
TEST_F(mmn, writable_clean_first_write)
{
	struct mmn_mem mem;

	MMN_TRY(&self->m, mmn_mem_map(&mem, MMN_MEM_ANON_SHARED, LEN));
	mmn_touch_read(mem.p, LEN);
	read_then_write(_metadata, &self->m, mem.p, false);
	mmn_mem_unmap(&mem);
}

/*
 * MAP_PRIVATE anonymous page written, fork, the child exits: the PTE stays
 * write-protected but the page is exclusive again, so the device's write
 * fault reuses it (do_wp_page -> wp_page_reuse).
 */
TEST_F(mmn, wp_page_reuse)
{
	struct mmn_mem mem;

	MMN_TRY(&self->m, mmn_mem_map(&mem, MMN_MEM_ANON_PRIVATE, LEN));
	mmn_touch_write(mem.p, LEN, 0x11);
	ASSERT_EQ(0, mmn_fork_exit());
	read_then_write(_metadata, &self->m, mem.p, true);
	mmn_mem_unmap(&mem);
}

TEST_HARNESS_MAIN
