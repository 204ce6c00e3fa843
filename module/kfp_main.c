// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_fastpath: a runtime-configurable table of VM-exit handlers for
 * KVM's x86 vendor path, on stock kernels.
 *
 *   # modprobe kvm_intel
 *   # insmod kvm_fastpath.ko
 *   # cat /sys/kernel/debug/kvm_fastpath/exits
 *   # echo reset > /sys/kernel/debug/kvm_fastpath/exits
 *   # echo on > /sys/kernel/debug/kvm_fastpath/timing
 *   # rmmod kvm_fastpath
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "kfp.h"
#include "kfp_capture.h"
#include "kfp_rules.h"
#include "kfp_stats.h"

/*
 * Built-in handlers to enable at load, so a host can boot with the fast
 * path on; debugfs "handlers" switches them at runtime.  Unknown names
 * refuse the load.
 */
static char *enable = "";
module_param(enable, charp, 0444);
MODULE_PARM_DESC(enable, "Built-in handlers to enable at load, comma-separated: io,cpuid,hlt,ept");

static int __init kfp_init(void)
{
	int ret;

	ret = kfp_stats_init();
	if (ret)
		return ret;
	ret = kfp_capture_init();
	if (ret)
		goto err_stats;
	ret = kfp_timing_init();
	if (ret)
		goto err_capture;
	/* Counters first: the hook counts from its first exit on. */
	ret = kfp_hook_install();
	if (ret)
		goto err_timing;
	ret = kfp_table_init(kfp_hook_vendor(), enable);
	if (ret)
		goto err_table;
	ret = kfp_debugfs_init();
	if (ret)
		goto err_table;
	/* Last: a program may attach as soon as it is registered. */
	return kfp_bpf_init();

err_table:
	kfp_table_exit();
	kfp_hook_remove();
	kfp_vm_stop();
	kfp_rules_exit();
err_timing:
	kfp_timing_stop();
	kfp_timing_exit();
err_capture:
	kfp_vm_stop();
	kfp_capture_exit();
	kfp_vm_exit();
err_stats:
	kfp_stats_exit();
	return ret;
}

static void __exit kfp_exit(void)
{
	/* The reaper first: it removes watched VMs' debugfs files. */
	kfp_vm_stop();
	kfp_debugfs_exit();
	kfp_table_exit();
	kfp_timing_stop();
	/* After this, no CPU is in the wrapper: rules and buffers can go. */
	kfp_hook_remove();
	kfp_timing_exit();
	kfp_stats_report();
	/* They let go of their VMs; then the VMs' references go. */
	kfp_rules_exit();
	kfp_capture_exit();
	kfp_watch_exit();
	kfp_vm_exit();
	kfp_stats_exit();
}

module_init(kfp_init);
module_exit(kfp_exit);

MODULE_DESCRIPTION("Runtime-configurable fast-path table of KVM VM-exit handlers");
MODULE_AUTHOR("kvm-fastpath developers");
MODULE_LICENSE("GPL");
