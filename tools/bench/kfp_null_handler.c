// SPDX-License-Identifier: GPL-2.0
/*
 * The bench's null fast-path handler: it completes VMCALL by skipping the
 * instruction and nothing else, so the guest's RAX comes back unchanged
 * (stock KVM answers an unknown hypercall with -KVM_ENOSYS).  Its cost per
 * exit is the floor of any fast path: VM exit, the hook, the table
 * lookup, the skip and the re-entry.
 *
 * The built-in handlers own the IO, CPUID, HLT and EPT-violation slots and
 * cannot be detached, so the null handler takes VMCALL, which no built-in
 * serves; its exit is decoded as KFP_EXIT_HYPERCALL, with no VMREAD of
 * the exit qualification.
 *
 * Test-only: it takes *every* VMCALL of every VM, KVM's own hypercalls
 * (PV spinlock kicks, Hyper-V and Xen hypercalls) included, which it
 * answers with nothing.  Load it only in the emulated bench machine; it
 * is never installed.
 *
 * With done=1 the verdict is KFP_DONE instead of KFP_REENTER: KVM then
 * leaves its inner run loop before the next entry, which measures what
 * the inner loop saves.
 *
 *   # insmod kfp_null_handler.ko [done=1]
 *   # rmmod kfp_null_handler
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <asm/cpufeature.h>

#include "kvm_fastpath.h"

static bool done;
module_param(done, bool, 0444);
MODULE_PARM_DESC(done, "return KFP_DONE (leave KVM's inner loop) instead of KFP_REENTER");

static enum kfp_verdict kfp_null_vmcall(struct kvm_vcpu *vcpu,
					const struct kfp_exit *exit)
{
	enum kfp_verdict v = kfp_skip_instruction(vcpu);

	return done ? KFP_DONE : v;
}

static struct kfp_handler kfp_null_handler = {
	.name	= "null_vmcall",
	.owner	= THIS_MODULE,
	.handle	= kfp_null_vmcall,
};

static int __init kfp_null_init(void)
{
	/* The bench measures VMX. */
	if (!boot_cpu_has(X86_FEATURE_VMX))
		return -ENODEV;
	return kfp_register_kind(KFP_EXIT_HYPERCALL, &kfp_null_handler);
}

static void __exit kfp_null_exit(void)
{
	kfp_unregister_kind(KFP_EXIT_HYPERCALL, &kfp_null_handler);
}

module_init(kfp_null_init);
module_exit(kfp_null_exit);

MODULE_DESCRIPTION("kvm_fastpath bench: a VMCALL handler that only skips the instruction");
MODULE_LICENSE("GPL");
