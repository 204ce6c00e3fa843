// SPDX-License-Identifier: GPL-2.0
/*
 * Symbols the module needs but cannot link against: kallsyms, and KVM's
 * own functions.  Every call into them is a static call, pointed at the
 * resolved address at load.
 *
 * Why static calls: a static call is a direct CALL (or a direct JMP in its
 * trampoline), which IBT does not check.  An indirect call through a
 * pointer must land on an ENDBR64, and IBT kernels seal the functions
 * whose address the kernel never takes: apply_seal_endbr() overwrites
 * their ENDBR at boot.  kallsyms_lookup_name() is one of them (Debian
 * 6.12 and 7.x), so calling it through a pointer is a "Missing ENDBR"
 * BUG on every CPU with IBT.  Documentation/design.rst, "Calling into
 * the kernel and KVM", has the choices weighed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/static_call.h>

#include "kfp.h"

DEFINE_STATIC_CALL_NULL(kfp_kallsyms_lookup_name, kallsyms_lookup_name);

/* KVM's functions: the prototypes are the kernel headers' own (typeof). */
DEFINE_STATIC_CALL_NULL(kfp_kvm_skip, kvm_skip_emulated_instruction);
DEFINE_STATIC_CALL_NULL(kfp_kvm_emulate_halt, kvm_emulate_halt);
DEFINE_STATIC_CALL_NULL(kfp_kvm_gfn_to_memslot, gfn_to_memslot);
DEFINE_STATIC_CALL_NULL(kfp_kvm_get, kvm_get_kvm);
DEFINE_STATIC_CALL_NULL(kfp_kvm_put, kvm_put_kvm);
DEFINE_STATIC_CALL_NULL(kfp_kvm_io_bus_get_dev, kvm_io_bus_get_dev);
DEFINE_STATIC_CALL_NULL(kfp_kvm_get_safe, kvm_get_kvm_safe);

struct mutex *kfp_kvm_lock;		/* KVM's kvm_lock */
struct list_head *kfp_vm_list;		/* KVM's vm_list, under kvm_lock */

bool kfp_mediated_pmu;

static const struct kfp_import {
	const char *name;
	struct static_call_key *key;
	void *tramp;
} kfp_kvm_imports[] = {
	{ "kvm_skip_emulated_instruction",
	  &STATIC_CALL_KEY(kfp_kvm_skip), STATIC_CALL_TRAMP_ADDR(kfp_kvm_skip) },
	{ "kvm_emulate_halt",
	  &STATIC_CALL_KEY(kfp_kvm_emulate_halt),
	  STATIC_CALL_TRAMP_ADDR(kfp_kvm_emulate_halt) },
	{ "gfn_to_memslot",
	  &STATIC_CALL_KEY(kfp_kvm_gfn_to_memslot),
	  STATIC_CALL_TRAMP_ADDR(kfp_kvm_gfn_to_memslot) },
	{ "kvm_get_kvm",
	  &STATIC_CALL_KEY(kfp_kvm_get), STATIC_CALL_TRAMP_ADDR(kfp_kvm_get) },
	{ "kvm_put_kvm",
	  &STATIC_CALL_KEY(kfp_kvm_put), STATIC_CALL_TRAMP_ADDR(kfp_kvm_put) },
	{ "kvm_io_bus_get_dev",
	  &STATIC_CALL_KEY(kfp_kvm_io_bus_get_dev),
	  STATIC_CALL_TRAMP_ADDR(kfp_kvm_io_bus_get_dev) },
	{ "kvm_get_kvm_safe",
	  &STATIC_CALL_KEY(kfp_kvm_get_safe),
	  STATIC_CALL_TRAMP_ADDR(kfp_kvm_get_safe) },
};

/*
 * kallsyms_lookup_name() is not exported; a kprobe on it yields an
 * address in it.  That address is where the probe's INT3 would go: the
 * first instruction after the ENDBR64 (intact or sealed) on IBT kernels,
 * the function's first byte elsewhere.  Either way a direct call to it
 * runs the function.
 */
static int kfp_find_kallsyms(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	int ret;

	ret = register_kprobe(&kp);
	if (ret) {
		pr_err("cannot resolve kallsyms_lookup_name (register_kprobe: %d)\n",
		       ret);
		return ret;
	}
	static_call_update(kfp_kallsyms_lookup_name, (void *)kp.addr);
	unregister_kprobe(&kp);
	return 0;
}

/* @name may be "module:symbol" to search one module only. */
unsigned long kfp_lookup(const char *name)
{
	return static_call(kfp_kallsyms_lookup_name)(name);
}

unsigned long kfp_lookup_in(const char *mod, const char *sym)
{
	char name[MODULE_NAME_LEN + KSYM_NAME_LEN];

	snprintf(name, sizeof(name), "%s:%s", mod, sym);
	return kfp_lookup(name);
}

int kfp_sym_init(void)
{
	return kfp_find_kallsyms();
}

/*
 * Point the static calls at KVM's functions in kvm.ko.  Called once a
 * vendor module is found loaded: it depends on kvm, so kvm stays while
 * the vendor module is pinned.
 */
int kfp_sym_import_kvm(void)
{
	const bool *mediated;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kfp_kvm_imports); i++) {
		const struct kfp_import *imp = &kfp_kvm_imports[i];
		unsigned long addr = kfp_lookup_in("kvm", imp->name);

		if (!addr) {
			pr_err("kvm has no %s(); cannot run on this kernel\n",
			       imp->name);
			return -ENOENT;
		}
		__static_call_update(imp->key, imp->tramp, (void *)addr);
	}

	/* The VMs, to find one by name (kfp_vm.c); kvm_main.c's globals. */
	kfp_kvm_lock = (struct mutex *)kfp_lookup_in("kvm", "kvm_lock");
	kfp_vm_list = (struct list_head *)kfp_lookup_in("kvm", "vm_list");
	if (!kfp_kvm_lock || !kfp_vm_list) {
		pr_err("kvm has no kvm_lock or vm_list; cannot name VMs on this kernel\n");
		return -ENOENT;
	}

	/* A kvm parameter (0444) that kvm_x86_vendor_init() settled already. */
	if (KFP_MEDIATED_PMU_KNOWN) {
		mediated = (const bool *)kfp_lookup_in("kvm", "enable_mediated_pmu");
		if (!mediated) {
			pr_err("kvm has no enable_mediated_pmu; cannot keep guest PMU counts right\n");
			return -ENOENT;
		}
		kfp_mediated_pmu = READ_ONCE(*mediated);
	}
	return 0;
}
