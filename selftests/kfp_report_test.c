// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module: makes the kernel report a problem on purpose, so that
 * the emulated machine's report detector (tools/emu/reports.awk) can be
 * seen to fail a run.  Never load it anywhere else.  Its init always
 * fails, so it never stays loaded.
 *
 *   insmod kfp_report_test.ko mode=warn	a WARNING with a trace
 *   insmod kfp_report_test.ko mode=ibt	the call kvm_fastpath made up to
 *					4408e02: kallsyms_lookup_name()
 *					through a pointer.  On a CPU that
 *					enforces IBT, where the kernel seals
 *					that function, it is "Missing ENDBR"
 *					and a kernel BUG; elsewhere it works.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/module.h>

/* Which report to cause; the load fails either way. */
static char *mode = "";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "warn: WARN(); ibt: an indirect call to a sealed function");

static int kfp_report_ibt(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long (*lookup)(const char *name);
	int ret;

	ret = register_kprobe(&kp);
	if (ret)
		return ret;
	lookup = (unsigned long (*)(const char *))kp.addr;
	unregister_kprobe(&kp);
	/* Keep the call indirect: the pointer is opaque to the compiler. */
	OPTIMIZER_HIDE_VAR(lookup);
	pr_info("indirect call to kallsyms_lookup_name: %s\n",
		lookup("kallsyms_lookup_name") ? "returned" : "returned 0");
	return -EAGAIN;
}

static int __init kfp_report_init(void)
{
	if (!strcmp(mode, "warn")) {
		WARN(1, "kfp_report_test: a deliberate warning\n");
		return -EAGAIN;
	}
	if (!strcmp(mode, "ibt"))
		return kfp_report_ibt();
	pr_err("mode= must be warn or ibt\n");
	return -EINVAL;
}

module_init(kfp_report_init);

MODULE_DESCRIPTION("kvm_fastpath selftests: kernel reports on purpose");
MODULE_LICENSE("GPL");
