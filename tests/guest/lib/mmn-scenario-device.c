// SPDX-License-Identifier: GPL-2.0
/*
 * The mmn-smmu guest scenario library, device: struct mmn (the kernel
 * release, CPU model and dirty-bit management it reports in rows) and
 * the /dev/mmn-smmu ioctls: bind, DMA, events, CHECK, counters.
 *
 * The API is documented in mmn-scenario.h.
 */
#define MMN_SCENARIO_NO_HARNESS
#include "mmn-scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/utsname.h>
#include <unistd.h>

static void cpu_model(char *buf, size_t len)
{
	unsigned long midr = 0;
	unsigned int impl, part;
	FILE *f;

	f = fopen("/sys/devices/system/cpu/cpu0/regs/identification/midr_el1",
		  "r");
	if (!f || fscanf(f, "%lx", &midr) != 1) {
		snprintf(buf, len, "unknown");
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	impl = (midr >> 24) & 0xff;
	part = (midr >> 4) & 0xfff;
	if (impl == 0x41 && part == 0xd07)
		snprintf(buf, len, "cortex-a57");
	else if (impl == 0x41 && part == 0xd0c)
		snprintf(buf, len, "neoverse-n1");
	else if (impl == 0)
		snprintf(buf, len, "max");	/* QEMU's -cpu max */
	else
		snprintf(buf, len, "midr-0x%lx", midr);
}

/* The kernel logs the ARM64_HW_DBM capability (arm64 cpufeature.c). */
static bool kernel_hw_dirty(void)
{
	int n = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	bool found = false;
	char *buf;

	if (n <= 0)
		return false;
	buf = malloc(n + 1);
	if (!buf)
		return false;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, n);
	if (n > 0) {
		buf[n] = 0;
		found = strstr(buf, "detected: Hardware dirty bit management");
	}
	free(buf);
	return found;
}

void mmn_init(struct mmn *m)
{
	struct utsname u;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (uname(&u) == 0)
		snprintf(m->kernel, sizeof(m->kernel), "%s", u.release);
	cpu_model(m->cpu, sizeof(m->cpu));
	m->hw_dirty = kernel_hw_dirty();
}

int mmn_open(struct mmn *m)
{
	if (m->kernel[0] == 0)
		mmn_init(m);
	m->fd = open("/dev/mmn-smmu", O_RDWR | O_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	if (ioctl(m->fd, MMN_IOC_BIND, &m->bind)) {
		int e = errno;

		close(m->fd);
		m->fd = -1;
		errno = e;
		return -e;
	}
	return 0;
}

int mmn_unbind(struct mmn *m)
{
	return ioctl(m->fd, MMN_IOC_UNBIND) ? -errno : 0;
}

void mmn_close(struct mmn *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

static int dma(struct mmn *m, uint32_t op, const void *va, void *buf,
	       size_t len, uint32_t pattern, uint32_t flags,
	       struct mmn_dma *out)
{
	memset(out, 0, sizeof(*out));
	out->op = op;
	out->len = len;
	out->va = (uintptr_t)va;
	out->buf = (uintptr_t)buf;
	out->pattern = pattern;
	out->flags = flags;
	return ioctl(m->fd, MMN_IOC_DMA, out) ? -errno : 0;
}

int mmn_dma_read(struct mmn *m, const void *va, void *buf, size_t len,
		 struct mmn_dma *out)
{
	return dma(m, MMN_OP_READ, va, buf, len, 0, 0, out);
}

int mmn_dma_write(struct mmn *m, void *va, const void *buf, size_t len,
		  struct mmn_dma *out)
{
	return dma(m, MMN_OP_WRITE, va, (void *)buf, len, 0, 0, out);
}

int mmn_dma_fill(struct mmn *m, void *va, uint32_t pattern, size_t len,
		 struct mmn_dma *out)
{
	return dma(m, MMN_OP_FILL, va, NULL, len, pattern, 0, out);
}

int mmn_dma_park(struct mmn *m, uint32_t op, void *va, void *buf,
		 size_t len, uint32_t pattern, struct mmn_dma *out)
{
	return dma(m, op, va, buf, len, pattern, MMN_DMA_F_PARK, out);
}

int mmn_dma_continue(struct mmn *m, struct mmn_dma *out)
{
	out->flags = MMN_DMA_F_CONTINUE;
	return ioctl(m->fd, MMN_IOC_DMA, out) ? -errno : 0;
}

int mmn_events(struct mmn *m, struct mmn_events *ev)
{
	memset(ev, 0, sizeof(*ev));
	return ioctl(m->fd, MMN_IOC_EVENTS, ev) ? -errno : 0;
}

int mmn_check(struct mmn *m, struct mmn_check_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	return ioctl(m->fd, MMN_IOC_CHECK, rep) ? -errno : 0;
}

int mmn_counters(struct mmn *m, struct mmn_counters *c)
{
	memset(c, 0, sizeof(*c));
	return ioctl(m->fd, MMN_IOC_COUNTERS, c) ? -errno : 0;
}

const char *mmn_state_name(uint32_t s)
{
	static const char *const names[] = {
		"IDLE", "DONE", "STALLED", "FAULT", "LIVELOCK", "ABORTED",
		"BAD_DESC", "RELEASED", "BLOCKED",
	};

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

const char *mmn_class(const struct mmn_dma *d)
{
	switch (d->state) {
	case MMN_ST_DONE:
		return d->faults ? "healed" : "clean";
	case MMN_ST_LIVELOCK:
		/*
		 * the device's verdict (docs/specs/mmn-smmu.rst, "Livelock
		 * detection": status bit 25 STALE)
		 */
		return d->status & MMN_STATUS_STALE ? "stale" : "coherent";
	case MMN_ST_FAULT:
	case MMN_ST_ABORTED:
		return "refused";
	case MMN_ST_RELEASED:
		return "released";
	default:
		return "other";
	}
}
