// SPDX-License-Identifier: GPL-2.0
/*
 * The mmn-smmu guest scenario library, results: N/A reasons, verdicts,
 * the MMN-GUEST-REPRO rows and the usual read-then-write case
 * (struct mmn_case).
 *
 * The API is documented in mmn-scenario.h.
 */
#define MMN_SCENARIO_NO_HARNESS
#include "mmn-scenario.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static char na_reason[256];

int mmn_na(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(na_reason, sizeof(na_reason), fmt, ap);
	va_end(ap);
	return MMN_NA;
}

const char *mmn_na_reason(void)
{
	return na_reason[0] ? na_reason : "not applicable";
}

const char *mmn_data_verdict(const struct mmn_dma *d, const void *now,
			     const void *want, const void *before, size_t len)
{
	if (d->state == MMN_ST_DONE)
		return memcmp(now, want, len) ? "MISMATCH" : "ok";
	if (!before)
		return "n/a";
	return memcmp(now, before, len) ? "CHANGED" : "unchanged";
}

const char *mmn_read_verdict(const struct mmn_dma *rd, const void *got,
			     const void *cpu, size_t len)
{
	if (rd->state != MMN_ST_DONE)
		return mmn_state_name(rd->state);
	return memcmp(got, cpu, len) ? "MISMATCH" : "ok";
}

static void case_name(char *out, size_t len, const char *testname)
{
	size_t i;

	snprintf(out, len, "%s", testname);
	for (i = 0; out[i]; i++)
		if (out[i] == '_')
			out[i] = '-';
}

static void row_head(const struct mmn *m, const char *testname)
{
	struct mmn local;
	char name[96];

	if (!m || !m->kernel[0]) {
		mmn_init(&local);
		m = &local;
	}
	case_name(name, sizeof(name), testname);
	printf("MMN-GUEST-REPRO: kernel=%s cpu=%s dirty=%s scenario=%s ",
	       m->kernel, m->cpu, m->hw_dirty ? "hw" : "sw", name);
}

void mmn_row(const struct mmn *m, const char *testname,
	     const struct mmn_dma *d, const char *read, const char *data)
{
	fflush(stdout);
	row_head(m, testname);
	printf("class=%s state=%s faults=%u cached=%u retries=%u "
	       "notifications=%u stale_readonly=%u livelock_count=%u "
	       "read=%s data=%s\n", mmn_class(d), mmn_state_name(d->state),
	       d->faults, d->cached_faults, d->retries, d->notifications,
	       d->check_stale_readonly, d->livelock_count, read ? read : "n/a",
	       data ? data : "n/a");
	fflush(stdout);
}

void mmn_row_na(const struct mmn *m, const char *testname,
		const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fflush(stdout);
	row_head(m, testname);
	printf("class=n/a state=N/A faults=0 cached=0 retries=0 "
	       "notifications=0 stale_readonly=0 livelock_count=0 read=n/a "
	       "data=n/a reason=%s\n", why);
	fflush(stdout);
}

void mmn_pattern(void *buf, size_t len, unsigned int seed)
{
	unsigned char *c = buf;
	size_t i;

	for (i = 0; i < len; i++)
		c[i] = (unsigned char)(i * 7 + 3 + seed * 31);
}

static int case_buf(struct mmn_case *c, size_t len)
{
	if (len == 0 || len > MMN_DMA_MAX)
		return -EINVAL;
	if (!c->buf)
		c->buf = malloc(3 * MMN_DMA_MAX);
	return c->buf ? 0 : -ENOMEM;
}

int mmn_case_read(struct mmn *m, struct mmn_case *c, const void *p,
		  size_t len)
{
	unsigned char *in, *cpu;
	int ret = case_buf(c, len);

	if (ret)
		return ret;
	in = c->buf;
	cpu = c->buf + MMN_DMA_MAX;
	memcpy(cpu, p, len);
	c->have_before = true;
	ret = mmn_dma_read(m, p, in, len, &c->rd);
	if (ret)
		return ret;
	c->read = mmn_read_verdict(&c->rd, in, cpu, len);
	return 0;
}

int mmn_case_snapshot(struct mmn_case *c, const void *p, size_t len)
{
	int ret = case_buf(c, len);

	if (ret)
		return ret;
	memcpy(c->buf + MMN_DMA_MAX, p, len);
	c->have_before = true;
	return 0;
}

int mmn_case_write(struct mmn *m, struct mmn_case *c, void *p, size_t len)
{
	unsigned char *out, *before;
	int ret = case_buf(c, len);

	if (ret)
		return ret;
	out = c->buf + 2 * MMN_DMA_MAX;
	before = c->buf + MMN_DMA_MAX;
	if (!c->have_before)	/* a CPU read of the range */
		memcpy(before, p, len);
	mmn_pattern(out, len, 1);
	ret = mmn_dma_write(m, p, out, len, &c->wr);
	if (ret)
		return ret;
	c->data = mmn_data_verdict(&c->wr, p, out, before, len);
	return 0;
}
