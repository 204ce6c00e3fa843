// SPDX-License-Identifier: GPL-2.0
/*
 * HLT handler: a HLT that an interrupt would end at once is completed
 * here, without KVM's halt emulation and block/wake path.  A HLT that
 * would really wait goes to KVM, which blocks the vCPU.
 *
 * The verdict is KFP_DONE, not KFP_REENTER: the pending interrupt is
 * injected by KVM on the way back into the guest, outside its inner loop.
 * On 6.12, KVM completes most HLTs in its own fast path; those never get
 * here (the wrapper only dispatches exits KVM left for its slow path).
 */
#include "kfp.h"

static enum kfp_verdict kfp_handle_hlt(struct kvm_vcpu *vcpu,
				       const struct kfp_exit *exit)
{
	/* Without an in-kernel local APIC, userspace does HLT. */
	if (!vcpu->arch.apic)
		return KFP_PASS;
	if (!(static_call(kfp_kvm_get_rflags)(vcpu) & X86_EFLAGS_IF) ||
	    !static_call(kfp_kvm_cpu_has_interrupt)(vcpu))
		return KFP_PASS;

	kfp_skip_instruction(vcpu);
	return KFP_DONE;
}

struct kfp_handler kfp_hlt_handler = {
	.name	= "hlt",
	.owner	= THIS_MODULE,
	.handle	= kfp_handle_hlt,
};
