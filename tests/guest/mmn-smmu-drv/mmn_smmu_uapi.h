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
	__u32 reserved;
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
};

#define MMN_DMA_MAX	65536

#define MMN_ST_DONE	1
#define MMN_ST_STALLED	2
#define MMN_ST_FAULT	3
#define MMN_ST_LIVELOCK	4
#define MMN_ST_ABORTED	5
#define MMN_ST_BAD_DESC	6
#define MMN_ST_RELEASED	7
#define MMN_ST_BLOCKED	8

#define MMN_IOC_MAGIC	0xb5
#define MMN_IOC_BIND	_IOR(MMN_IOC_MAGIC, 1, struct mmn_bind)
#define MMN_IOC_UNBIND	_IO(MMN_IOC_MAGIC, 2)
#define MMN_IOC_DMA	_IOWR(MMN_IOC_MAGIC, 3, struct mmn_dma)

#endif /* MMN_SMMU_UAPI_H */
