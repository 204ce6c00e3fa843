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
 * Whether a memslot backs @gpa: then the violation is KVM's (dirty
 * logging, faults).  Dispatch holds kvm->srcu, which the memslots need.
 *
 * A rule of one VM keeps the answer "none", per CPU, with the generation
 * of the memslots it came from.  KVM gives every new set of memslots of
 * a VM a larger generation, and marks it while the update is under way
 * (KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS, kvm_swap_active_memslots() in
 * virt/kvm/kvm_main.c): an equal, settled generation is the same
 * memslots, so the same answer.  Only for that VM, which the rule holds,
 * so that its address names it alone; a rule for all VMs asks KVM every
 * time, since a later VM at the same address can reach the same
 * generation with other memslots.  The generation is read before the
 * lookup: if the memslots change in between, the answer is kept under
 * the older generation, which never comes back.
 */
static bool kfp_gpa_backed(struct kvm_vcpu *vcpu, const struct kfp_rule *r,
			   u64 gpa)
{
	struct kfp_db_cache *c;
	gfn_t gfn = gpa_to_gfn(gpa);
	u64 gen;

	if (!r->doorbell.cache)
		return static_call(kfp_kvm_gfn_to_memslot)(vcpu->kvm, gfn);
	gen = kvm_memslots(vcpu->kvm)->generation;
	c = this_cpu_ptr(r->doorbell.cache);	/* IRQs off: ours alone */
	if (c->valid && c->gen == gen && c->gfn == gfn)
		return false;
	if (static_call(kfp_kvm_gfn_to_memslot)(vcpu->kvm, gfn))
		return true;
	if (!(gen & KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS)) {
		c->gen = gen;
		c->gfn = gfn;
		c->valid = true;
	}
	return false;
}

static enum kfp_verdict kfp_handle_ept(struct kvm_vcpu *vcpu,
				       const struct kfp_exit *exit)
{
	const struct kfp_rule *r;

	if (!exit->npf.write || exit->npf.read || exit->npf.fetch ||
	    !exit->npf.final || !exit->npf.insn_len)
		return KFP_PASS;
	r = kfp_rule_find_doorbell(vcpu->kvm, exit->npf.gpa);
	if (!r || kfp_gpa_backed(vcpu, r, exit->npf.gpa) ||
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
