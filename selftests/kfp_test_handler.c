// SPDX-License-Identifier: GPL-2.0
/*
 * A handler module for the selftests: it answers VMCALL (Intel) or
 * VMMCALL (AMD) with RAX = KFP_TEST_VMCALL_REPLY, through kvm_fastpath's
 * registration API.  Stock KVM answers an unknown hypercall with
 * -KVM_ENOSYS instead, so the guest can tell who handled it.
 *
 * Test-only: it takes *every* hypercall of every VM, KVM's own (PV
 * spinlock kicks, Hyper-V and Xen hypercalls) included.  Load it only in
 * the emulated test machine; it is never installed.
 *
 *   # insmod kvm_fastpath.ko
 *   # insmod kfp_test_handler.ko
 *   # cat /sys/kernel/debug/kvm_fastpath/handlers
 *   # rmmod kfp_test_handler		(its exit unregisters the handler)
 *
 * The selftests also use it to check what registration refuses and how
 * a module that goes without unregistering is dealt with:
 *
 *   # insmod kfp_test_handler.ko reason=1	a raw exit reason instead of
 *					the hypercall kind (-EPERM for
 *					VMX's EXTERNAL_INTERRUPT)
 *   # insmod kfp_test_handler.ko fail_init=1	register, then fail init
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "kvm_fastpath.h"

#define KFP_TEST_VMCALL_REPLY	0x4b465054	/* "KFPT" */

/* A raw vendor exit code to register for; -1: the hypercall kind. */
static int reason = -1;
module_param(reason, int, 0444);
MODULE_PARM_DESC(reason, "vendor exit code to register for (default: the hypercall kind)");

/* Fail init after registering, as a buggy module would. */
static bool fail_init;
module_param(fail_init, bool, 0444);
MODULE_PARM_DESC(fail_init, "return an error from init after registering");

/*
 * Handlers run inside kvm->srcu, which kvm_fastpath's dispatch takes:
 * count the calls lockdep says were made without it.  Without lockdep,
 * srcu_read_lock_held() cannot tell and always answers "held".
 */
static unsigned int srcu_unheld;
module_param(srcu_unheld, uint, 0444);
MODULE_PARM_DESC(srcu_unheld, "calls made without kvm->srcu held (lockdep kernels only)");

static enum kfp_verdict kfp_test_vmcall(struct kvm_vcpu *vcpu,
					const struct kfp_exit *exit)
{
	if (!srcu_read_lock_held(&vcpu->kvm->srcu))
		WRITE_ONCE(srcu_unheld, srcu_unheld + 1);
	kfp_reg_write(vcpu, VCPU_REGS_RAX, KFP_TEST_VMCALL_REPLY);
	return kfp_skip_instruction(vcpu);
}

static struct kfp_handler kfp_test_handler = {
	.name	= "test_vmcall",
	.owner	= THIS_MODULE,
	.handle	= kfp_test_vmcall,
};

static int __init kfp_test_init(void)
{
	int ret;

	if (reason >= 0)
		ret = kfp_register_handler(reason, &kfp_test_handler);
	else
		ret = kfp_register_kind(KFP_EXIT_HYPERCALL, &kfp_test_handler);
	if (ret)
		return ret;
	/* Deliberately without unregistering: kvm_fastpath must cope. */
	return fail_init ? -ENOTTY : 0;
}

/* A no-op if "detach test_vmcall" removed the handler first. */
static void __exit kfp_test_exit(void)
{
	if (reason >= 0)
		kfp_unregister_handler(reason, &kfp_test_handler);
	else
		kfp_unregister_kind(KFP_EXIT_HYPERCALL, &kfp_test_handler);
}

module_init(kfp_test_init);
module_exit(kfp_test_exit);

MODULE_DESCRIPTION("kvm_fastpath selftest: a registered VMCALL handler");
MODULE_LICENSE("GPL");
