// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID handler: completes the CPUIDs whose answer a rule gives in full.
 *
 * KVM has a rule that the guest's CPUID model is not looked up with IRQs
 * disabled (cpuid_entry2_find()'s lockdep_assert_irqs_enabled() in
 * arch/x86/kvm/cpuid.c, from 6.4), and handlers run with IRQs off.  So
 * the handler never calls kvm_cpuid(), a rule names all four registers
 * (kfp_rules.c refuses one that does not), and every CPUID without a
 * rule goes to KVM as it would without the module.
 */
#include "kfp.h"
#include "kfp_rules.h"

static enum kfp_verdict kfp_handle_cpuid(struct kvm_vcpu *vcpu,
					 const struct kfp_exit *exit)
{
	const struct kfp_rule *r;

	if (kfp_cpuid_faulting(vcpu))
		return KFP_PASS;

	r = kfp_rule_find_cpuid(vcpu->kvm, exit->cpuid.leaf, exit->cpuid.subleaf);
	if (!r)
		return KFP_PASS;
	kfp_rule_hit(r);

	/* 32-bit results: bits 63:32 of the registers are cleared. */
	kfp_reg_write(vcpu, VCPU_REGS_RAX, r->cpuid.regs[0]);
	kfp_reg_write(vcpu, VCPU_REGS_RBX, r->cpuid.regs[1]);
	kfp_reg_write(vcpu, VCPU_REGS_RCX, r->cpuid.regs[2]);
	kfp_reg_write(vcpu, VCPU_REGS_RDX, r->cpuid.regs[3]);
	return kfp_skip_instruction(vcpu);
}

struct kfp_handler kfp_cpuid_handler = {
	.name	= "cpuid",
	.owner	= THIS_MODULE,
	.handle	= kfp_handle_cpuid,
};
