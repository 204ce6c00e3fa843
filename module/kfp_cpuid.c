// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID handler: completes CPUID with the values KVM's own kvm_cpuid()
 * gives for this vCPU, then applies any override rule for the leaf.
 */
#include <asm/msr-index.h>

#include "kfp.h"
#include "kfp_rules.h"

static enum kfp_verdict kfp_handle_cpuid(struct kvm_vcpu *vcpu,
					 const struct kfp_exit *exit)
{
	const struct kfp_rule *r;
	u32 regs[4];
	unsigned int i;

	/* With CPUID faulting, CPUID at CPL > 0 must #GP: KVM's path does it. */
	if (vcpu->arch.msr_misc_features_enables &
	    MSR_MISC_FEATURES_ENABLES_CPUID_FAULT)
		return KFP_PASS;

	regs[0] = exit->cpuid.leaf;
	regs[2] = exit->cpuid.subleaf;
	static_call(kfp_kvm_cpuid)(vcpu, &regs[0], &regs[1], &regs[2], &regs[3],
				   false);

	r = kfp_rule_find_cpuid(exit->cpuid.leaf, exit->cpuid.subleaf);
	if (r) {
		for (i = 0; i < ARRAY_SIZE(regs); i++)
			if (r->cpuid.set & BIT(i))
				regs[i] = r->cpuid.regs[i];
		kfp_rule_hit(r);
	}

	/* 32-bit results: bits 63:32 of the registers are cleared. */
	kfp_reg_write(vcpu, VCPU_REGS_RAX, regs[0]);
	kfp_reg_write(vcpu, VCPU_REGS_RBX, regs[1]);
	kfp_reg_write(vcpu, VCPU_REGS_RCX, regs[2]);
	kfp_reg_write(vcpu, VCPU_REGS_RDX, regs[3]);
	return kfp_skip_instruction(vcpu);
}

struct kfp_handler kfp_cpuid_handler = {
	.name	= "cpuid",
	.owner	= THIS_MODULE,
	.handle	= kfp_handle_cpuid,
};
