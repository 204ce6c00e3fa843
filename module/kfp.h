/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm_fastpath internals shared by the hook, the vendor adapters and the
 * statistics.  Nothing here is ABI.
 */
#ifndef KFP_H
#define KFP_H

#include <linux/kvm_host.h>
#include <linux/percpu.h>
#include <linux/static_call.h>

#include "kfp_compat.h"

/*
 * Exit table size.  Vendor exit codes are mapped below this by the
 * adapter; VMX basic exit reasons are all < 128 today.
 */
#define KFP_NR_EXITS	128

typedef fastpath_t kfp_vcpu_run_t(struct kvm_vcpu *vcpu, kfp_run_arg_t arg);

/* What differs between VMX and SVM.  One instance per vendor. */
struct kfp_vendor {
	const char *name;		/* "vmx" */
	const char *module;		/* the KVM vendor module, "kvm_intel" */
	const char *run_symbol;		/* its kvm_x86_ops.vcpu_run */
	/* Refuse configurations we cannot read exits from; 0 or -errno. */
	int (*check)(unsigned long (*lookup)(const char *name));
	/* The wrapper KVM calls instead of run_symbol: kfp_vcpu_run() inlined. */
	kfp_vcpu_run_t *vcpu_run;
	/* Name of table entry @idx, or NULL if the vendor has none. */
	const char *(*exit_name)(u32 idx);
};

extern const struct kfp_vendor kfp_vendor_vmx;

/* kfp_hook.c */
DECLARE_STATIC_CALL(kfp_vendor_run, kfp_vcpu_run_t);
int kfp_hook_install(void);
void kfp_hook_remove(void);
const struct kfp_vendor *kfp_hook_vendor(void);

/* kfp_stats.c */
struct kfp_cpu_stats {
	u64 exits[KFP_NR_EXITS];	/* every exit, by table index */
	u64 fast[KFP_NR_EXITS];		/* of those, completed by a handler */
	u64 l2_exits[KFP_NR_EXITS];	/* of those, taken while L2 ran */
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

/*
 * The body of every vendor's wrapper.  KVM calls it with IRQs off, in
 * place of the vendor's vcpu_run; it runs the guest through the real one
 * and then looks at the exit.  @exit_index gives the table index of the
 * exit that just happened (>= KFP_NR_EXITS if it has none) and must be
 * inlined: this runs on every exit.
 *
 * IRQs stay off from entry to return, guest run included: unload relies
 * on that (kfp_hook_remove()).
 */
static __always_inline fastpath_t
kfp_vcpu_run(struct kvm_vcpu *vcpu, kfp_run_arg_t arg,
	     u32 (*exit_index)(struct kvm_vcpu *vcpu))
{
	fastpath_t ret;

	ret = static_call(kfp_vendor_run)(vcpu, arg);
	kfp_count_exit(exit_index(vcpu), vcpu->arch.hflags & HF_GUEST_MASK);
	return ret;
}

#endif /* KFP_H */
