// SPDX-License-Identifier: GPL-2.0
/*
 * example-cpu-write: the README's example scenario, written from the
 * documentation in tests/guest/lib/mmn-scenario.h alone.
 *
 * A shared anonymous page is read by the CPU (writable-clean PTE), the
 * device caches it read-only, then the CPU writes the page before the
 * device does.  Whether the CPU's own write fixes the device's view
 * depends on who dirties the PTE: a CPU without hardware dirty-bit
 * management takes a write fault whose ptep_set_access_flags flushes (and
 * on 6.6+ notifies) before the device writes; with hardware DBM the CPU
 * clears PTE_RDONLY itself, nothing is flushed, and the device's write
 * faults on its cached entry first.
 */
#include "mmn-scenario.h"

MMN_FIXTURE(mmn);

TEST_F(mmn, cpu_write_before_device_write)
{
	struct mmn_case c = MMN_CASE_INIT;
	struct mmn_mem mem;

	MMN_TRY(&self->m, mmn_mem_map(&mem, MMN_MEM_ANON_SHARED, MMN_PAGE));
	mmn_touch_read(mem.p, MMN_PAGE);
	MMN_TRY(&self->m, mmn_case_read(&self->m, &c, mem.p, MMN_PAGE));
	mmn_touch_write(mem.p, MMN_PAGE, 0x5a);
	MMN_TRY(&self->m, mmn_case_snapshot(&c, mem.p, MMN_PAGE));
	MMN_TRY(&self->m, mmn_case_write(&self->m, &c, mem.p, MMN_PAGE));
	MMN_REPORT_CASE(&self->m, &c);
	mmn_mem_unmap(&mem);
}

TEST_HARNESS_MAIN
