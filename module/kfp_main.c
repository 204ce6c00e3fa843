// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_fastpath: a runtime-configurable table of VM-exit handlers for
 * KVM's x86 vendor path, on stock kernels.
 *
 *   # modprobe kvm_intel
 *   # insmod kvm_fastpath.ko
 *   # cat /sys/kernel/debug/kvm_fastpath/exits
 *   # echo reset > /sys/kernel/debug/kvm_fastpath/exits
 *   # rmmod kvm_fastpath
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "kfp.h"

static int __init kfp_init(void)
{
	int ret;

	ret = kfp_stats_init();
	if (ret)
		return ret;
	/* Counters first: the hook counts from its first exit on. */
	ret = kfp_hook_install();
	if (ret)
		goto err_stats;
	ret = kfp_debugfs_init();
	if (ret)
		goto err_hook;
	return 0;

err_hook:
	kfp_hook_remove();
err_stats:
	kfp_stats_exit();
	return ret;
}

static void __exit kfp_exit(void)
{
	kfp_debugfs_exit();
	kfp_hook_remove();
	kfp_stats_exit();
}

module_init(kfp_init);
module_exit(kfp_exit);

MODULE_DESCRIPTION("Runtime-configurable fast-path table of KVM VM-exit handlers");
MODULE_AUTHOR("kvm-fastpath developers");
MODULE_LICENSE("GPL");
