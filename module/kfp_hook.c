// SPDX-License-Identifier: GPL-2.0
/*
 * The hook: retarget KVM's static call for kvm_x86_ops.vcpu_run to the
 * vendor adapter's wrapper (kfp_vcpu_run() in kfp.h), which calls the
 * vendor's vcpu_run directly and then looks at the exit with IRQs still
 * off, inside KVM's inner run loop.
 *
 * Why this hook (Documentation/design.rst has the long form):
 *  - it sees every exit, including those KVM completes in its own fast
 *    path, before KVM's exit handling;
 *  - returning EXIT_FASTPATH_REENTER_GUEST from here re-enters the guest
 *    without leaving vcpu_enter_guest(), which is what a fast path needs;
 *  - its cost is one extra direct call, unlike an ftrace or kprobe
 *    redirect, which save full pt_regs on every exit.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/smp.h>
#include <linux/static_call.h>

#include "kfp.h"

/* The vendor's vcpu_run, called directly from the wrappers. */
DEFINE_STATIC_CALL_NULL(kfp_vendor_run, kfp_vcpu_run_t);

static const struct kfp_vendor *kfp_vendor;
static struct module *kfp_vendor_mod;
static struct static_call_key *kfp_key;
static void *kfp_tramp;
static void *kfp_orig;

static int kfp_pin_vendor(void)
{
	struct module *mod;

	/* A vendor module still in its init (or going) has no settled ops. */
	mod = (struct module *)kfp_lookup_in(kfp_vendor->module, "__this_module");
	if (!mod || strcmp(mod->name, kfp_vendor->module) ||
	    READ_ONCE(mod->state) != MODULE_STATE_LIVE || !try_module_get(mod)) {
		pr_err("cannot take a reference on %s\n", kfp_vendor->module);
		return -ENODEV;
	}
	kfp_vendor_mod = mod;
	return 0;
}

const struct kfp_vendor *kfp_hook_vendor(void)
{
	return kfp_vendor;
}

int kfp_hook_install(void)
{
	static const struct kfp_vendor * const vendors[] = {
		&kfp_vendor_vmx, &kfp_vendor_svm,
	};
	unsigned long run = 0;
	unsigned int i;
	void *func;
	int ret;

	ret = kfp_sym_init();
	if (ret)
		return ret;

	for (i = 0; i < ARRAY_SIZE(vendors) && !run; i++) {
		kfp_vendor = vendors[i];
		run = kfp_lookup_in(kfp_vendor->module, kfp_vendor->run_symbol);
	}
	if (!run) {
		pr_err("no supported KVM vendor module is loaded (load kvm_intel or kvm_amd first)\n");
		return -ENODEV;
	}

	ret = kfp_sym_import_kvm();
	if (ret)
		return ret;

	kfp_key = (struct static_call_key *)kfp_lookup_in("kvm", "__SCK__kvm_x86_vcpu_run");
	kfp_tramp = (void *)kfp_lookup_in("kvm", "__SCT__kvm_x86_vcpu_run");
	if (!kfp_key || !kfp_tramp) {
		pr_err("kvm has no static call kvm_x86_vcpu_run; cannot hook this kernel\n");
		return -ENOENT;
	}
	func = READ_ONCE(kfp_key->func);
	/* CONFIG_KVM_INTEL_TDX: the call goes to vt_vcpu_run(), which also runs TDs. */
	if (func != (void *)run &&
	    func == (void *)kfp_lookup("kvm_intel:vt_vcpu_run")) {
		pr_err("kvm_intel is built with TDX support (vt_vcpu_run); not supported\n");
		return -EOPNOTSUPP;
	}
	if (func != (void *)run) {
		pr_err("kvm_x86_vcpu_run calls %ps, not %s; refusing to stack on another hook\n",
		       func, kfp_vendor->run_symbol);
		return -EBUSY;
	}

	ret = kfp_vendor->check();
	if (ret)
		return ret;
	ret = kfp_pin_vendor();
	if (ret)
		return ret;

	kfp_orig = (void *)run;
	static_call_update(kfp_vendor_run, (kfp_vcpu_run_t *)run);
	__static_call_update(kfp_key, kfp_tramp, kfp_vendor->vcpu_run);

	pr_info("hooked %s (%s) through static call kvm_x86_vcpu_run\n",
		kfp_vendor->run_symbol, kfp_vendor->module);
	return 0;
}

static void kfp_sync_cpu(void *unused)
{
}

void kfp_hook_remove(void)
{
	/* The vendor module is pinned, so nobody else rewrites the call. */
	WARN_ON_ONCE(READ_ONCE(kfp_key->func) != (void *)kfp_vendor->vcpu_run);
	__static_call_update(kfp_key, kfp_tramp, kfp_orig);

	/*
	 * No new call reaches the wrapper now, but a CPU may still be inside
	 * it, running the guest.  synchronize_rcu() would not wait for such a
	 * CPU: guest entry is an RCU quiescent state.  The wrapper runs with
	 * IRQs off from entry to return, guest included (a host interrupt
	 * makes the guest exit, and KVM handles it after the wrapper has
	 * returned), so once every CPU has taken an IPI, none is inside it.
	 */
	on_each_cpu(kfp_sync_cpu, NULL, 1);

	module_put(kfp_vendor_mod);
	pr_info("unhooked %s\n", kfp_vendor->run_symbol);
}
