/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/mmn-sva ioctls, shared by mmn_sva_master.ko and its guest program.
 * The device behind it is QEMU's mmn-sva-master (a DMA master behind the
 * mmn-smmuv3 SMMU); Linux's own arm-smmu-v3 driver translates its DMA.
 */
#ifndef MMN_SVA_UAPI_H
#define MMN_SVA_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* MMN_SVA_IOC_BIND: iommu_sva_bind_device(dev, current->mm) */
struct mmn_sva_bind {
	__u32 pasid;		/* out: iommu_sva_get_pasid() */
	__u32 reserved;
};

/* Job ops, as the device's OP register */
#define MMN_SVA_OP_READ		1	/* memory at va -> data */
#define MMN_SVA_OP_WRITE	2	/* data -> memory at va */
#define MMN_SVA_OP_FILL		3	/* pattern -> memory at va */

#define MMN_SVA_DATA_MAX	4096	/* READ/WRITE: the data window */
#define MMN_SVA_LEN_MAX		65536	/* FILL */

/* Device states (STATUS[3:0]) */
#define MMN_SVA_ST_IDLE		0
#define MMN_SVA_ST_BUSY		1
#define MMN_SVA_ST_DONE		2
#define MMN_SVA_ST_FAULT	3
#define MMN_SVA_ST_LIVELOCK	4
#define MMN_SVA_ST_ABORTED	5

/* MMN_SVA_IOC_JOB: run one job on the bound PASID, wait for JOB_END */
struct mmn_sva_job {
	/* in */
	__u32 op;		/* MMN_SVA_OP_* */
	__u32 len;
	__u64 va;
	__u64 data;		/* user buffer, len bytes: READ out, WRITE in */
	__u32 pattern;		/* FILL */
	__u32 timeout_ms;	/* 0: 10000 */
	/* out */
	__u32 status;		/* STATUS register at the end */
	__u32 state;		/* STATUS[3:0], MMN_SVA_ST_* */
	__u32 fault_kind;	/* STATUS[11:8] */
	__u32 from_cache;	/* STATUS[12] */
	__u32 done;		/* DONE: bytes transferred */
	__u32 faults;		/* FAULTS */
	__u32 retries;		/* RETRIES */
	__u32 tlbi_count;	/* TLBI_COUNT */
	__u32 livelock_count;	/* LIVELOCK_COUNT */
	__u32 timed_out;	/* 1: no JOB_END in time, the job was ABORTed */
	__u64 fault_va;		/* FAULT_VA */
	__u64 elapsed_ns;	/* doorbell to JOB_END */
};

/* MMN_SVA_IOC_CHECK: the SMMU's coherence CHECK for (SID, PASID) */
struct mmn_sva_check {
	__u32 entries;
	__u32 stale;
	__u32 stale_readonly;
	__u32 stale_writable;
	__u32 other;
	__u32 reserved;
};

/* MMN_SVA_IOC_INFO: what the driver found at probe */
struct mmn_sva_info {
	__u32 id;		/* ID register */
	__u32 version;		/* VERSION register */
	__s32 iopf_err;		/* iommu_dev_enable_feature(IOPF) result */
	__s32 sva_err;		/* iommu_dev_enable_feature(SVA) result */
	__u32 bound;		/* 1 while a PASID is bound */
	__u32 pasid;
};

#define MMN_SVA_IOC_MAGIC	0xb6
#define MMN_SVA_IOC_BIND	_IOR(MMN_SVA_IOC_MAGIC, 1, struct mmn_sva_bind)
#define MMN_SVA_IOC_UNBIND	_IO(MMN_SVA_IOC_MAGIC, 2)
#define MMN_SVA_IOC_JOB		_IOWR(MMN_SVA_IOC_MAGIC, 3, struct mmn_sva_job)
#define MMN_SVA_IOC_CHECK	_IOR(MMN_SVA_IOC_MAGIC, 4, struct mmn_sva_check)
#define MMN_SVA_IOC_INFO	_IOR(MMN_SVA_IOC_MAGIC, 5, struct mmn_sva_info)

#endif /* MMN_SVA_UAPI_H */
