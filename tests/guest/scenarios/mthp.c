// SPDX-License-Identifier: GPL-2.0
/*
 * mthp: multi-size THP (6.8+): 64 KiB anonymous folios, PTE-mapped (with
 * the contiguous bit on 6.12's CONFIG_ARM64_CONTPTE).  Linux 6.1 has no
 * per-size THP controls: every case is N/A there.
 * docs/devel/mmn-smmu-bug.rst explains each case.
 */
#include "mmn-scenario.h"

#define MTHP (64UL << 10)

MMN_FIXTURE(mmn);

/* A written 64 KiB mTHP folio at mem->p (or N/A). */
static int map_mthp(struct mmn_mem *mem)
{
	int ret = mmn_mthp_enable(64);

	if (ret)
		return ret;
	ret = mmn_mem_map(mem, MMN_MEM_ANON_MTHP, MTHP);
	if (ret)
		return ret;
	mmn_touch_write(mem->p, MTHP, 0x44);
	return mmn_one_folio(mem->p, MTHP) ? 0 : -ENOMEM;
}

/*
 * After fork (the child exits), the write fault finds a large folio:
 * wp_can_reuse_anon_folio refuses large folios, wp_page_copy copies.
 */
TEST_F(mmn, mthp_fork)
{
	struct mmn_case c = MMN_CASE_INIT;
	struct mmn_mem mem;

	MMN_TRY(&self->m, map_mthp(&mem));
	ASSERT_EQ(0, mmn_fork_exit());
	MMN_TRY(&self->m, mmn_case_read(&self->m, &c, mem.p, MMN_PAGE));
	MMN_TRY(&self->m, mmn_case_write(&self->m, &c, mem.p, MMN_PAGE));
	MMN_REPORT_CASE(&self->m, &c);
	mmn_mem_unmap(&mem);
}

/*
 * The device caches the folio's entries, then madvise(advice) on the
 * whole folio, then the device writes its first page.
 */
static void after_madvise(struct __test_metadata *_metadata, struct mmn *m,
			  int advice)
{
	struct mmn_case c = MMN_CASE_INIT;
	struct mmn_backing b;
	struct mmn_mem mem;

	MMN_TRY(m, map_mthp(&mem));
	MMN_TRY(m, mmn_case_read(m, &c, mem.p, MTHP));
	MMN_TRY(m, mmn_madvise(mem.p, MTHP, advice));
	ASSERT_EQ(0, mmn_backing(mem.p, &b));
	TH_LOG("after madvise %d: present %d, folio %zu bytes", advice,
	       b.present, b.folio_size);
	MMN_TRY(m, mmn_case_write(m, &c, mem.p, MMN_PAGE));
	MMN_REPORT_CASE(m, &c);
	mmn_mem_unmap(&mem);
}

TEST_F(mmn, mthp_madv_free)
{
	after_madvise(_metadata, &self->m, MADV_FREE);
}

TEST_F(mmn, mthp_madv_cold)
{
	after_madvise(_metadata, &self->m, MADV_COLD);
}

TEST_F(mmn, mthp_madv_pageout)
{
	after_madvise(_metadata, &self->m, MADV_PAGEOUT);
}

TEST_HARNESS_MAIN
