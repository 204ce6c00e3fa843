// SPDX-License-Identifier: GPL-2.0
/*
 * Intel VMX adapter: reads the exit that vmx_vcpu_run() returned from
 * straight out of the current VMCS.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/jump_label.h>
#include <asm/vmx.h>

#include "kfp.h"

static const struct {
	u32 reason;
	const char *name;
} kfp_vmx_names[] = { VMX_EXIT_REASONS };

/*
 * KVM keeps the VMCS of the vCPU it just ran loaded on this CPU until the
 * vCPU is put, and vcpu_run is called with IRQs and preemption off, so a
 * plain VMREAD sees the exit that just happened (vmcs02's when L2 ran).
 */
static __always_inline u32 kfp_vmx_read_exit_reason(void)
{
	unsigned long val;

	asm volatile("vmread %[field], %[val]"
		     : [val] "=r" (val)
		     : [field] "r" ((unsigned long)VM_EXIT_REASON)
		     : "cc");
	return val;
}

/*
 * The basic exit reason is bits 15:0.  Keeping bit 31 makes a failed VM
 * entry, which is not an exit of the basic reason it carries, fall out of
 * the table.
 */
static __always_inline u32 kfp_vmx_exit_index(struct kvm_vcpu *vcpu)
{
	return kfp_vmx_read_exit_reason() &
	       (VMX_EXIT_REASONS_FAILED_VMENTRY | 0xffff);
}

static notrace fastpath_t kfp_vmx_vcpu_run(struct kvm_vcpu *vcpu,
					   kfp_run_arg_t arg)
{
	return kfp_vcpu_run(vcpu, arg, kfp_vmx_exit_index);
}

static const char *kfp_vmx_exit_name(u32 idx)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kfp_vmx_names); i++)
		if (kfp_vmx_names[i].reason == idx)
			return kfp_vmx_names[i].name;
	return NULL;
}

/*
 * With Hyper-V's enlightened VMCS, KVM reads exit information from memory
 * and VMREAD would return stale data.  The static key that says so has
 * had two names; neither exists on kernels built without Hyper-V support.
 */
static int kfp_vmx_check(unsigned long (*lookup)(const char *name))
{
	static const char * const evmcs_keys[] = {
		"kvm_intel:__kvm_is_using_evmcs",	/* 6.6 and later */
		"kvm_intel:enable_evmcs",		/* 6.1 */
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(evmcs_keys); i++) {
		struct static_key *key = (void *)lookup(evmcs_keys[i]);

		if (key && static_key_count(key) > 0) {
			pr_err("kvm_intel uses Hyper-V's enlightened VMCS; not supported\n");
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

const struct kfp_vendor kfp_vendor_vmx = {
	.name		= "vmx",
	.module		= "kvm_intel",
	.run_symbol	= "vmx_vcpu_run",
	.check		= kfp_vmx_check,
	.vcpu_run	= kfp_vmx_vcpu_run,
	.exit_name	= kfp_vmx_exit_name,
};
