/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/mmn-smmu ioctls, shared by mmn_smmu_drv.ko and the guest programs.
 */
#ifndef MMN_SMMU_UAPI_H
#define MMN_SMMU_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* MMN_IOC_BIND: subscribe current->mm, bind device context 0 to it. */
struct mmn_bind {
	__u64 ttb;		/* out: physical address of mm->pgd */
	__u32 va_bits;		/* out: VA_BITS the context was bound with */
	__u32 reserved;
};

/* DMA ops, as the device's descriptor op field */
#define MMN_OP_READ	1	/* va -> buf */
#define MMN_OP_WRITE	2	/* buf -> va */
#define MMN_OP_FILL	3	/* pattern -> va */

/* MMN_IOC_DMA: run one descriptor, servicing its stalls */
struct mmn_dma {
	/* in */
	__u32 op;
	__u32 len;		/* 1..MMN_DMA_MAX */
	__u64 va;
	__u64 buf;		/* user buffer (READ, WRITE) */
	__u32 pattern;		/* FILL */
	__u32 flags;		/* MMN_DMA_F_* */
	/* out */
	__u32 state;		/* final descriptor state (MMN_ST_*) */
	__u32 status;		/* final descriptor status word */
	__u32 done;		/* bytes transferred */
	__u32 faults;		/* faults the device took (descriptor) */
	__u32 fault_events;	/* FAULT events read from the event queue */
	__u32 cached_faults;	/* ... of them served from a cached entry */
	__u32 retries;		/* DMA_RESUME commands sent */
	__u32 notifications;	/* MN_SECONDARY_TLBS forwarded meanwhile */
	__u32 fault_errors;	/* handle_mm_fault() failures */
	__u32 livelock_count;	/* count of the LIVELOCK event, 0 if none */
	__u32 cmd_errors;	/* command queue errors meanwhile */
	/* coherence check of context 0 after the descriptor completed */
	__u32 check_entries;
	__u32 check_stale;
	__u32 check_stale_readonly;
	__u32 check_stale_writable;
	__u64 last_start;	/* last notification forwarded: [start, end) */
	__u64 last_end;
	__u64 fault_va;		/* last fault VA (STALLED: where) */
};

/*
 * MMN_DMA_F_PARK: return at the first stalled fault with state STALLED and
 * the device left stalled (nothing handled yet).  MMN_DMA_F_CONTINUE:
 * start nothing; service the parked descriptor to completion (the in
 * fields are ignored, the out fields accumulate over both calls).
 */
#define MMN_DMA_F_PARK		(1u << 0)
#define MMN_DMA_F_CONTINUE	(1u << 1)

#define MMN_DMA_MAX	65536

#define MMN_ST_DONE	1
#define MMN_ST_STALLED	2
#define MMN_ST_FAULT	3
#define MMN_ST_LIVELOCK	4
#define MMN_ST_ABORTED	5
#define MMN_ST_BAD_DESC	6
#define MMN_ST_RELEASED	7
#define MMN_ST_BLOCKED	8

/* Event records (the device's event queue, docs/specs/mmn-smmu.rst) */
#define MMN_EVENT_FAULT		1
#define MMN_EVENT_LIVELOCK	2
#define MMN_EVENT_F_WRITE		(1u << 0)
#define MMN_EVENT_F_UNPRIV	(1u << 1)
#define MMN_EVENT_F_FROM_CACHE	(1u << 2)
#define MMN_EVENT_F_STALLED	(1u << 3)
#define MMN_EVENT_F_STALE	(1u << 4)	/* LIVELOCK: a stale entry */

/*
 * struct mmn_dma.status: bit 25 STALE (LIVELOCK only): the IOTLB entry
 * that kept faulting is stale; clear: a coherent livelock
 */
#define MMN_STATUS_STALE	(1u << 25)

struct mmn_event {
	__u8 type;		/* MMN_EVENT_* */
	__u8 kind;		/* fault kind: 1 TRANSLATION ... 6 EXTERNAL */
	__u8 level;
	__u8 flags;		/* MMN_EVENT_F_*, as the device wrote them */
	__u32 count;		/* consecutive faults from one cached entry */
	__u64 va;
	__u64 desc;		/* descriptor address where the walk stopped */
};

#define MMN_EVENTS_MAX	64

/* MMN_IOC_EVENTS: the events taken (by interrupt) since the last call */
struct mmn_events {
	__u32 nr;		/* out: records in ev[], oldest first */
	__u32 lost;		/* out: records the driver's log dropped */
	__u32 evtq_lost;	/* out: the device's EVTQ_LOST register */
	__u32 reserved;
	struct mmn_event ev[MMN_EVENTS_MAX];
};

/* MMN_IOC_CHECK: the device's coherence CHECK of the bound context */
struct mmn_check_sample {
	__u64 va;
	__u32 kind;		/* 1 readonly, 2 writable, 3 present, 4 oa */
	__u32 reserved;
};

struct mmn_check_report {
	__u32 entries;
	__u32 stale;
	__u32 stale_readonly;
	__u32 stale_writable;
	__u32 stale_present;
	__u32 stale_oa;
	__u32 nr_samples;
	__u32 reserved;
	struct mmn_check_sample sample[8];
};

/* MMN_IOC_COUNTERS: the driver's counters since the binding */
struct mmn_counters {
	__u64 notifications;	/* invalidate callback calls */
	__u64 inv_range;	/* ... sent as a ranged TLBI (TLBI_RANGE) */
	__u64 inv_ctx;		/* ... sent as a whole-context TLBI_CTX */
	__u64 releases;		/* ->release calls (exit_mmap) */
	__u64 faults_handled;	/* device faults given to handle_mm_fault */
	__u64 fault_errors;	/* ... that failed (access aborted) */
	__u64 events;		/* event records taken */
	__u64 irqs;		/* interrupts taken (MSI) */
	__u64 cmd_errors;	/* commands the device rejected */
	__u64 last_start;	/* last notification: [start, end) */
	__u64 last_end;
};

#define MMN_IOC_MAGIC	0xb5
#define MMN_IOC_BIND	_IOR(MMN_IOC_MAGIC, 1, struct mmn_bind)
#define MMN_IOC_UNBIND	_IO(MMN_IOC_MAGIC, 2)
#define MMN_IOC_DMA	_IOWR(MMN_IOC_MAGIC, 3, struct mmn_dma)
#define MMN_IOC_EVENTS	_IOR(MMN_IOC_MAGIC, 4, struct mmn_events)
#define MMN_IOC_CHECK	_IOR(MMN_IOC_MAGIC, 5, struct mmn_check_report)
#define MMN_IOC_COUNTERS _IOR(MMN_IOC_MAGIC, 6, struct mmn_counters)

#endif /* MMN_SMMU_UAPI_H */
