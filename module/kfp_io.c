// SPDX-License-Identifier: GPL-2.0
/*
 * IO handler: port I/O that matches a rule is completed here, by port
 * range, direction and size.  String and REP I/O, port 0x1000 (KVM
 * selftests' ucall), and ports where KVM has a device of the VM (its
 * PIC, ELCR and PIT, an ioeventfd, a coalesced PIO zone) always go to KVM.
 */
#include "kfp.h"
#include "kfp_capture.h"
#include "kfp_rules.h"

/* IN writes the low @size bytes of RAX; a 4-byte IN clears bits 63:32. */
static void kfp_io_set_in(struct kvm_vcpu *vcpu, u8 size, u32 value)
{
	unsigned long rax = kfp_reg_read(vcpu, VCPU_REGS_RAX);

	switch (size) {
	case 1:
		rax = (rax & ~0xffUL) | (value & 0xff);
		break;
	case 2:
		rax = (rax & ~0xffffUL) | (value & 0xffff);
		break;
	default:
		rax = value;
		break;
	}
	kfp_reg_write(vcpu, VCPU_REGS_RAX, rax);
}

static enum kfp_verdict kfp_handle_io(struct kvm_vcpu *vcpu,
				      const struct kfp_exit *exit)
{
	const struct kfp_rule *r;

	if (kfp_io_never_handled(exit))
		return KFP_PASS;
	r = kfp_rule_find_io(vcpu->kvm, exit->io.port, exit->io.in,
			     exit->io.size);
	if (!r || kfp_kvm_has_device(vcpu, KVM_PIO_BUS, exit->io.port))
		return KFP_PASS;

	switch (r->io.action) {
	case KFP_IO_SINK:
		break;
	case KFP_IO_CONST:
		kfp_io_set_in(vcpu, exit->io.size, r->io.value);
		break;
	case KFP_IO_CAPTURE:
		if (!kfp_capture_put(vcpu->kvm,
				     kfp_reg_read(vcpu, VCPU_REGS_RAX),
				     exit->io.size))
			return KFP_PASS;
		break;
	}
	kfp_rule_hit(r);
	return kfp_skip_instruction(vcpu);
}

struct kfp_handler kfp_io_handler = {
	.name	= "io",
	.owner	= THIS_MODULE,
	.handle	= kfp_handle_io,
};
