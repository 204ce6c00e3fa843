// SPDX-License-Identifier: GPL-2.0
/*
 * EPT violation handler: doorbells.  A guest write to a configured
 * guest-physical range that no memslot backs is counted on its rule and
 * the instruction skipped, without instruction emulation or a trip to
 * userspace; the written value is discarded.  Reads, fetches, writes
 * elsewhere, writes where KVM has a device of the VM (its IOAPIC, an
 * ioeventfd, a coalesced MMIO zone), and writes whose instruction length
 * the CPU did not report go to KVM.
 *
 * KVM turns the second access to an unbacked page into an EPT
 * misconfiguration once it has emulated the first; doorbell writes taken
 * here never reach KVM, so that only happens once the guest reads a
 * doorbell page, after which its writes are KVM's (MMIO) again.
 */
#include "kfp.h"
#include "kfp_rules.h"

/*
 * A memslot backs @gpa: then the violation is KVM's (dirty logging,
 * faults).  Dispatch holds kvm->srcu, which the memslots need.
 */
static bool kfp_gpa_backed(struct kvm_vcpu *vcpu, u64 gpa)
{
	return static_call(kfp_kvm_gfn_to_memslot)(vcpu->kvm, gpa_to_gfn(gpa));
}

static enum kfp_verdict kfp_handle_ept(struct kvm_vcpu *vcpu,
				       const struct kfp_exit *exit)
{
	const struct kfp_rule *r;

	if (!exit->npf.write || exit->npf.read || exit->npf.fetch ||
	    !exit->npf.final || !exit->npf.insn_len)
		return KFP_PASS;
	r = kfp_rule_find_doorbell(vcpu->kvm, exit->npf.gpa);
	if (!r || kfp_gpa_backed(vcpu, exit->npf.gpa) ||
	    kfp_kvm_has_device(vcpu, KVM_MMIO_BUS, exit->npf.gpa))
		return KFP_PASS;

	kfp_rule_hit(r);
	return kfp_skip_instruction(vcpu);
}

struct kfp_handler kfp_ept_handler = {
	.name	= "ept",
	.owner	= THIS_MODULE,
	.handle	= kfp_handle_ept,
};
