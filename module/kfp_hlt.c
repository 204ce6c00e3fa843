// SPDX-License-Identifier: GPL-2.0
/*
 * HLT handler: KVM's own halt emulation, called from the fast path as
 * KVM 6.12's handle_fastpath_hlt() does.  kvm_emulate_halt() skips the
 * instruction, counts halt_exits, and either clears pv_unhalted (an event
 * is pending: the vCPU runs on) or marks the vCPU halted; dispatch holds
 * kvm->srcu around it, as KVM's fast paths do.  The verdict is always
 * KFP_DONE: KVM then injects the pending event, or blocks the halted vCPU,
 * outside its inner loop, exactly as after its own HLT exit handler.
 *
 * So a HLT goes the way it would with stock KVM whatever the guest's
 * interrupt state (IF, GIF, the interrupt shadow: KVM's has-events check
 * decides), only without the trip through the vendor's exit dispatch.
 * 6.12 and later complete HLT in their own fast path first; there this
 * handler sees only the HLTs that path leaves (7.x: a mediated PMU counting
 * instructions, which dispatch refuses as well).
 */
#include "kfp.h"

static enum kfp_verdict kfp_handle_hlt(struct kvm_vcpu *vcpu,
				       const struct kfp_exit *exit)
{
	/* Without an in-kernel local APIC, userspace does HLT. */
	if (!vcpu->arch.apic)
		return KFP_PASS;

	/*
	 * 0 means "exit to userspace": no in-kernel APIC (checked above) or a
	 * single-step debug exit (such guests never reach a handler).
	 */
	WARN_ON_ONCE(!static_call(kfp_kvm_emulate_halt)(vcpu));
	return KFP_DONE;
}

struct kfp_handler kfp_hlt_handler = {
	.name	= "hlt",
	.owner	= THIS_MODULE,
	.handle	= kfp_handle_hlt,
};
