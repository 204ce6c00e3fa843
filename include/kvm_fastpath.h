/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm_fastpath: the API for modules that add their own VM-exit handler.
 *
 * A handler runs inside KVM's inner run loop, right after the vendor's
 * vcpu_run returned, with IRQs off and preemption disabled: it must not
 * sleep, allocate or take contended locks.  It sees only exits of the
 * reason it registered for, from an L1 guest that is not single-stepping,
 * and only those KVM did not complete in its own fast path.
 *
 *	static enum kfp_verdict my_vmcall(struct kvm_vcpu *vcpu,
 *					  const struct kfp_exit *exit)
 *	{
 *		kfp_reg_write(vcpu, VCPU_REGS_RAX, 0x4b4650);
 *		return kfp_skip_instruction(vcpu);
 *	}
 *
 *	static struct kfp_handler my_handler = {
 *		.name	= "my_vmcall",
 *		.owner	= THIS_MODULE,
 *		.handle	= my_vmcall,
 *	};
 *
 *	kfp_register_handler(strcmp(kfp_vendor_name(), "svm") ?
 *			     EXIT_REASON_VMCALL : SVM_EXIT_VMMCALL, &my_handler);
 *
 * Registering takes a reference on .owner: the owner cannot be unloaded
 * while its handler is installed.  kfp_unregister_handler(), or writing
 * "detach NAME" to /sys/kernel/debug/kvm_fastpath/handlers, removes it.
 * Documentation/handlers.rst has the whole story.
 */
#ifndef KVM_FASTPATH_H
#define KVM_FASTPATH_H

#include <linux/kvm_host.h>

/* What a handler did with an exit; KVM's EXIT_FASTPATH_* meanings. */
enum kfp_verdict {
	KFP_PASS,	/* not mine: stock KVM handles the exit */
	KFP_REENTER,	/* completed: re-enter the guest at once */
	KFP_DONE,	/* completed: leave the inner loop, don't re-handle */
};

/* Vendor-neutral description of the exit, filled in for known kinds. */
enum kfp_exit_kind {
	KFP_EXIT_OTHER,
	KFP_EXIT_IO,
	KFP_EXIT_CPUID,
	KFP_EXIT_HLT,
	KFP_EXIT_NPF,	/* EPT violation / nested page fault */
};

struct kfp_exit {
	u32 reason;			/* the vendor's exit code */
	enum kfp_exit_kind kind;
	union {
		struct {
			u16 port;
			u8 size;	/* 1, 2 or 4 */
			bool in;
			bool string;	/* INS/OUTS */
			bool rep;
		} io;
		struct {
			u32 leaf;	/* EAX */
			u32 subleaf;	/* ECX */
		} cpuid;
		struct {
			u64 gpa;
			bool read;
			bool write;
			bool fetch;
			bool final;	/* the access itself, not a guest page walk */
			u8 insn_len;	/* 0 if the CPU did not say */
		} npf;
	};
};

struct kfp_handler {
	const char *name;		/* unique, for debugfs */
	struct module *owner;		/* THIS_MODULE */
	enum kfp_verdict (*handle)(struct kvm_vcpu *vcpu,
				   const struct kfp_exit *exit);
};

/* The vendor whose exits the table serves: "vmx" or "svm". */
const char *kfp_vendor_name(void);

/*
 * Install @h for exits of @reason (the vendor's exit code: VMX's basic
 * exit reason, or SVM's exit code).  -EBUSY if the
 * reason already has a handler, -EINVAL for a bad reason or handler,
 * -ENODEV if @h->owner is going away.  The handler starts enabled.
 */
int kfp_register_handler(u32 reason, struct kfp_handler *h);

/* Remove @h; on return no CPU runs it any more.  May sleep. */
void kfp_unregister_handler(u32 reason, struct kfp_handler *h);

/*
 * Skip the instruction that exited, as KVM does (interrupt shadow, PMU).
 * Returns the verdict to give: KFP_REENTER, or KFP_DONE if KVM has work to
 * do before the next entry.  On SVM a handler only sees exits whose next
 * RIP the CPU reported, so the skip never needs instruction emulation.
 */
enum kfp_verdict kfp_skip_instruction(struct kvm_vcpu *vcpu);

/*
 * General-purpose registers other than RSP, by VCPU_REGS_* index: KVM
 * saves them on every exit and loads them on every entry.
 */
static inline unsigned long kfp_reg_read(struct kvm_vcpu *vcpu, int reg)
{
	return vcpu->arch.regs[reg];
}

static inline void kfp_reg_write(struct kvm_vcpu *vcpu, int reg,
				 unsigned long val)
{
	vcpu->arch.regs[reg] = val;
}

#endif /* KVM_FASTPATH_H */
