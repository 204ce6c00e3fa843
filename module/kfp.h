/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm_fastpath internals shared by the hook, the vendor adapters and the
 * statistics.  Nothing here is ABI.
 */
#ifndef KFP_H
#define KFP_H

#include <linux/kvm_host.h>
#include <linux/percpu.h>

#include "kfp_compat.h"

/*
 * Exit table size.  Vendor exit codes are mapped below this by the
 * adapter; VMX basic exit reasons are all < 128 today.
 */
#define KFP_NR_EXITS	128

/* What differs between VMX and SVM.  One instance per vendor. */
struct kfp_vendor {
	const char *name;		/* "vmx" */
	const char *module;		/* the KVM vendor module, "kvm_intel" */
	const char *run_symbol;		/* its kvm_x86_ops.vcpu_run */
	/* Refuse configurations we cannot read exits from; 0 or -errno. */
	int (*check)(unsigned long (*lookup)(const char *name));
	/*
	 * Table index of the exit that vcpu_run just returned from, or
	 * KFP_NR_EXITS if none can be given.  Runs with IRQs off, on the
	 * CPU that ran the guest.
	 */
	u32 (*exit_index)(struct kvm_vcpu *vcpu);
	/* Name of table entry @idx, or NULL if the vendor has none. */
	const char *(*exit_name)(u32 idx);
};

extern const struct kfp_vendor kfp_vendor_vmx;

/* kfp_hook.c */
int kfp_hook_install(void);
void kfp_hook_remove(void);
const struct kfp_vendor *kfp_hook_vendor(void);

/* kfp_stats.c */
struct kfp_cpu_stats {
	u64 exits[KFP_NR_EXITS];	/* every exit, by table index */
	u64 l2_exits[KFP_NR_EXITS];	/* the subset taken while L2 ran */
	u64 unknown;			/* exits the adapter could not index */
};

extern struct kfp_cpu_stats __percpu *kfp_stats;

int kfp_stats_init(void);
void kfp_stats_exit(void);

/* Count one exit; called with IRQs off from the vcpu_run wrapper. */
static inline void kfp_count_exit(u32 idx, bool l2)
{
	if (unlikely(idx >= KFP_NR_EXITS)) {
		this_cpu_inc(kfp_stats->unknown);
		return;
	}
	this_cpu_inc(kfp_stats->exits[idx]);
	if (l2)
		this_cpu_inc(kfp_stats->l2_exits[idx]);
}

/* kfp_debugfs.c */
int kfp_debugfs_init(void);
void kfp_debugfs_exit(void);

#endif /* KFP_H */
