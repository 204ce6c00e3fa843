// SPDX-License-Identifier: GPL-2.0
/*
 * A handler module for the selftests: it answers VMCALL (Intel) or
 * VMMCALL (AMD), whichever this host's vendor has, with RAX =
 * KFP_TEST_VMCALL_REPLY, through kvm_fastpath's registration API.  Stock
 * KVM answers an unknown hypercall with -KVM_ENOSYS instead, so the guest
 * can tell who handled it.
 *
 *   # insmod kvm_fastpath.ko
 *   # insmod kfp_test_handler.ko
 *   # cat /sys/kernel/debug/kvm_fastpath/handlers
 *   # echo "detach test_vmcall" > /sys/kernel/debug/kvm_fastpath/handlers
 *   # rmmod kfp_test_handler
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/string.h>
#include <asm/svm.h>
#include <asm/vmx.h>

#include "kvm_fastpath.h"

#define KFP_TEST_VMCALL_REPLY	0x4b465054	/* "KFPT" */

static enum kfp_verdict kfp_test_vmcall(struct kvm_vcpu *vcpu,
					const struct kfp_exit *exit)
{
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
	u32 reason = strcmp(kfp_vendor_name(), "svm") ? EXIT_REASON_VMCALL :
							  SVM_EXIT_VMMCALL;

	return kfp_register_handler(reason, &kfp_test_handler);
}

/*
 * The registration holds a reference on this module, so it can only be
 * unloaded after "detach test_vmcall" has removed the handler.
 */
static void __exit kfp_test_exit(void)
{
}

module_init(kfp_test_init);
module_exit(kfp_test_exit);

MODULE_DESCRIPTION("kvm_fastpath selftest: a registered VMCALL handler");
MODULE_LICENSE("GPL");
