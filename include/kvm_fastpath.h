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
 *	kfp_register_kind(KFP_EXIT_HYPERCALL, &my_handler);	// module_init
 *	kfp_unregister_kind(KFP_EXIT_HYPERCALL, &my_handler);	// module_exit
 *
 * Only instruction exits can take a handler: those a handler completes by
 * doing what the instruction does and skipping it (CPUID, HLT, IO, MSR
 * accesses, hypercalls, EPT violations, ...).  Exits KVM must finish
 * itself (external interrupts, NMIs and exceptions, interrupt windows,
 * PML, INIT/SIPI, triple faults, AVIC) are refused with -EPERM.
 *
 * The owner unregisters its handler from its module_exit, or a detach
 * (writing "detach NAME" to /sys/kernel/debug/kvm_fastpath/handlers)
 * removes it first, after which unregistering is a no-op.  A module that
 * goes without unregistering (its init failed after registering, say)
 * has its handler removed before its memory is freed, with a warning.
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
	KFP_EXIT_HYPERCALL,	/* VMCALL / VMMCALL */
	KFP_EXIT_KINDS
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
 * Install @h for exits of @kind on this host's vendor.  -EBUSY if the
 * exit has another registered handler, or its built-in handler (IO,
 * CPUID, HLT and NPF have one) is enabled; a disabled built-in steps
 * aside while @h is installed and comes back, disabled, when it goes.
 * -EEXIST if the name is taken, -EINVAL for a bad kind or handler.  The
 * handler starts enabled.
 */
int kfp_register_kind(enum kfp_exit_kind kind, struct kfp_handler *h);

/*
 * The same for exits of @reason, the vendor's exit code (VMX's basic exit
 * reason, or SVM's exit code), for exits that have no kind; -EPERM if
 * @reason is not an instruction exit (above).
 */
int kfp_register_handler(u32 reason, struct kfp_handler *h);

/*
 * Remove @h; on return no CPU runs it any more.  May sleep.  A no-op if
 * @h was detached already.
 */
void kfp_unregister_kind(enum kfp_exit_kind kind, struct kfp_handler *h);
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
 * saves them on every exit and loads them on every entry.  RSP (and RIP)
 * are cached differently on VMX and SVM; any other index is refused: a
 * build error for a constant, a read of 0 and a dropped write otherwise.
 */
static inline bool kfp_reg_valid(int reg)
{
	return reg >= VCPU_REGS_RAX && reg <= VCPU_REGS_R15 &&
	       reg != VCPU_REGS_RSP;
}

static __always_inline unsigned long kfp_reg_read(struct kvm_vcpu *vcpu,
						  int reg)
{
	BUILD_BUG_ON(__builtin_constant_p(reg) && !kfp_reg_valid(reg));
	return kfp_reg_valid(reg) ? vcpu->arch.regs[reg] : 0;
}

static __always_inline void kfp_reg_write(struct kvm_vcpu *vcpu, int reg,
					  unsigned long val)
{
	BUILD_BUG_ON(__builtin_constant_p(reg) && !kfp_reg_valid(reg));
	if (kfp_reg_valid(reg))
		vcpu->arch.regs[reg] = val;
}

#endif /* KVM_FASTPATH_H */
