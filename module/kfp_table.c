// SPDX-License-Identifier: GPL-2.0
/*
 * The exit table: one slot per exit reason, holding the handler that
 * serves it.  Dispatch reads kfp_table[] under RCU with IRQs off; every
 * change is made under kfp_table_lock and published with
 * rcu_assign_pointer(), and a handler that is removed is waited out with
 * synchronize_rcu() before its module may go.
 *
 * A handler is enabled for every VM, or for the VMs of its scope (at most
 * KFP_SCOPE_VMS, each held through module/kfp_vm.c): kfp_scopes[] is read
 * by dispatch, under RCU like the table, and NULL means every VM.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "kfp.h"

#define CREATE_TRACE_POINTS
#include "kfp_trace.h"

#define KFP_SCOPE_VMS	8

/* The VMs a handler is enabled for; immutable once published. */
struct kfp_scope {
	unsigned int n;
	struct kvm *kvm[KFP_SCOPE_VMS];
	char name[KFP_SCOPE_VMS][KFP_VM_NAME_LEN];
};

struct kfp_slot {
	struct kfp_handler *handler;
	bool enabled;
	bool builtin;
	struct kfp_scope *scope;	/* NULL: every VM */
	/* A disabled built-in that stepped aside for @handler. */
	struct kfp_handler *aside;
};

/* What dispatch sees: the handler of each reason, if enabled. */
struct kfp_handler __rcu *kfp_table[KFP_NR_EXITS];
/* Off while no handler is enabled: then the wrapper skips dispatch. */
DEFINE_STATIC_KEY_FALSE(kfp_dispatch_on);

static struct kfp_scope __rcu *kfp_scopes[KFP_NR_EXITS];
static struct kfp_slot kfp_slots[KFP_NR_EXITS];
static DEFINE_MUTEX(kfp_table_lock);
static const struct kfp_vendor *kfp_vendor;

/* @kvm's place in scope @s, or -1 (also for no scope). */
static int kfp_scope_find(const struct kfp_scope *s, const struct kvm *kvm)
{
	unsigned int i;

	for (i = 0; s && i < s->n; i++)
		if (s->kvm[i] == kvm)
			return i;
	return -1;
}

/* Dispatch, IRQs off: whether @kvm is in @scope (NULL: every VM). */
static bool kfp_in_scope(const struct kfp_scope *scope, const struct kvm *kvm)
{
	return !scope || kfp_scope_find(scope, kvm) >= 0;
}

/*
 * A copy of @old without @drop, with @add (the caller's hold on it passes
 * to the copy) named @name.  A scope holds each of its VMs once.
 */
static struct kfp_scope *kfp_scope_copy(const struct kfp_scope *old,
					const struct kvm *drop,
					struct kvm *add, const char *name)
{
	struct kfp_scope *s = kzalloc(sizeof(*s), GFP_KERNEL);
	unsigned int i;

	if (!s)
		return NULL;
	for (i = 0; old && i < old->n; i++) {
		if (old->kvm[i] == drop)
			continue;
		kfp_vm_hold(old->kvm[i]);	/* held by @old: cannot fail */
		s->kvm[s->n] = old->kvm[i];
		strscpy(s->name[s->n++], old->name[i], KFP_VM_NAME_LEN);
	}
	if (add) {
		s->kvm[s->n] = add;
		strscpy(s->name[s->n++], name, KFP_VM_NAME_LEN);
	}
	return s;
}

/* A scope no CPU can see any more (after synchronize_rcu()). */
static void kfp_scope_free(struct kfp_scope *s)
{
	unsigned int i;

	for (i = 0; s && i < s->n; i++)
		kfp_vm_release(s->kvm[i]);
	kfree(s);
}

fastpath_t kfp_table_dispatch(struct kvm_vcpu *vcpu, u32 idx,
			      const struct kfp_exit *exit)
{
	struct kfp_handler *h;
	enum kfp_verdict v;

	/*
	 * SMM has its own address space and state: leave it to KVM.  So is
	 * an exit KVM's own fast paths would not take for the PMU's sake.
	 */
	if ((vcpu->arch.hflags & HF_SMM_MASK) || !kfp_pmu_fastpath_allowed(vcpu))
		return EXIT_FASTPATH_NONE;

	h = rcu_dereference_sched(kfp_table[idx]);
	if (!h || !kfp_in_scope(rcu_dereference_sched(kfp_scopes[idx]), vcpu->kvm))
		return EXIT_FASTPATH_NONE;
	/*
	 * vcpu_enter_guest() dropped kvm->srcu before its inner loop, and
	 * what handlers call needs it: the memslots (the doorbell), the PMU
	 * event filter that KVM's skip consults when it counts the retired
	 * instruction, Xen's shared pages behind the interrupt check.  Take
	 * it as KVM's own fast paths do (handle_fastpath_set_msr_irqoff(),
	 * handle_fastpath_hlt() in arch/x86/kvm/x86.c).
	 */
	kvm_vcpu_srcu_read_lock(vcpu);
	v = h->handle(vcpu, exit);
	kvm_vcpu_srcu_read_unlock(vcpu);
	if (v == KFP_PASS)
		return EXIT_FASTPATH_NONE;

	this_cpu_inc(kfp_stats->fast[idx]);
	kfp_count_vm(vcpu, idx, KFP_COUNT_FAST);
	trace_kvm_fastpath(vcpu->vcpu_id, exit->reason, v,
			   exit->kind == KFP_EXIT_IO ? exit->io.port :
			   exit->kind == KFP_EXIT_NPF ? exit->npf.gpa :
			   exit->kind == KFP_EXIT_CPUID ? exit->cpuid.leaf : 0);
	return v == KFP_REENTER ? EXIT_FASTPATH_REENTER_GUEST :
				  EXIT_FASTPATH_EXIT_HANDLED;
}

/* KVM's own skip, for vendors where it needs no instruction emulation. */
enum kfp_verdict kfp_skip_by_kvm(struct kvm_vcpu *vcpu)
{
	/*
	 * A single-stepping guest never reaches a handler, so KVM has no
	 * debug exit to report here; anything else it wants done before the
	 * next entry shows up as a request, which ends KVM's inner loop.
	 */
	if (WARN_ON_ONCE(!static_call(kfp_kvm_skip)(vcpu)))
		return KFP_DONE;
	return KFP_REENTER;
}

/* The vendor's skip, set by kfp_table_init(). */
DEFINE_STATIC_CALL(kfp_vendor_skip, kfp_skip_by_kvm);

enum kfp_verdict kfp_skip_instruction(struct kvm_vcpu *vcpu)
{
	return static_call(kfp_vendor_skip)(vcpu);
}
EXPORT_SYMBOL_GPL(kfp_skip_instruction);

const char *kfp_vendor_name(void)
{
	return kfp_vendor->name;
}
EXPORT_SYMBOL_GPL(kfp_vendor_name);

/* Make kfp_table[@idx] match its slot.  Called with kfp_table_lock held. */
static void kfp_publish(u32 idx)
{
	struct kfp_slot *slot = &kfp_slots[idx];
	struct kfp_handler *old, *new;

	old = rcu_dereference_protected(kfp_table[idx],
					lockdep_is_held(&kfp_table_lock));
	new = slot->enabled ? slot->handler : NULL;
	/*
	 * A handler never runs for a VM outside its scope: a new scope goes
	 * out before the handler, a handler going comes off before its scope.
	 */
	if (new)
		rcu_assign_pointer(kfp_scopes[idx], slot->scope);
	if (old != new)
		rcu_assign_pointer(kfp_table[idx], new);
	if (!new)
		rcu_assign_pointer(kfp_scopes[idx], slot->scope);
	if (old == new)
		return;
	if (!old)
		static_branch_inc(&kfp_dispatch_on);
	else if (!new)
		static_branch_dec(&kfp_dispatch_on);
}

/* The slot whose handler is called @name, or -1.  kfp_table_lock held. */
static int kfp_find(const char *name)
{
	u32 i;

	for (i = 0; i < KFP_NR_EXITS; i++)
		if (kfp_slots[i].handler &&
		    !strcmp(kfp_slots[i].handler->name, name))
			return i;
	return -1;
}

/* Whether a handler may serve table index @idx: an instruction exit. */
static bool kfp_allowed(u32 idx)
{
	unsigned int i;

	for (i = 0; i < kfp_vendor->nr_allowed; i++)
		if (kfp_vendor->allowed[i] == idx)
			return true;
	return false;
}

/*
 * Install @h in slot @idx, enabled for every VM or disabled.  A disabled
 * built-in handler steps aside while @h is there; an enabled one keeps
 * its exit (-EBUSY), as does another registered handler.
 */
static int kfp_register(u32 idx, struct kfp_handler *h, bool enabled)
{
	struct kfp_slot *slot;
	const char *reason;
	int ret = 0;

	if (idx >= KFP_NR_EXITS || !h || !h->handle || !h->name)
		return -EINVAL;
	reason = kfp_vendor->exit_name(idx) ?: "UNNAMED";
	if (!kfp_allowed(idx)) {
		pr_warn("handler %s: exit %s (index %u) is not an instruction exit; KVM must handle it\n",
			h->name, reason, idx);
		return -EPERM;
	}

	mutex_lock(&kfp_table_lock);
	slot = &kfp_slots[idx];
	if (slot->handler && (!slot->builtin || slot->enabled)) {
		if (slot->builtin)
			pr_warn("handler %s: exit %s has the built-in %s enabled; disable it first\n",
				h->name, reason, slot->handler->name);
		ret = -EBUSY;
	} else if (kfp_find(h->name) >= 0) {
		ret = -EEXIST;
	} else {
		*slot = (struct kfp_slot){
			.handler = h,
			.enabled = enabled,
			.aside = slot->handler,	/* a disabled built-in, or NULL */
		};
		kfp_publish(idx);
		pr_info("handler %s (%s) installed for exit %s\n",
			h->name, module_name(h->owner), reason);
	}
	mutex_unlock(&kfp_table_lock);
	return ret;
}

/* The table index of the exits of @kind; KFP_NR_EXITS if none. */
static u32 kfp_kind_index(enum kfp_exit_kind kind)
{
	if (kind <= KFP_EXIT_OTHER || kind >= KFP_EXIT_KINDS)
		return KFP_NR_EXITS;
	return kfp_vendor->index[kind];
}

int kfp_register_kind(enum kfp_exit_kind kind, struct kfp_handler *h)
{
	return kfp_register(kfp_kind_index(kind), h, true);
}

/* For module/kfp_bpf.c: a handler that starts disabled. */
int kfp_table_register(enum kfp_exit_kind kind, struct kfp_handler *h,
		       bool enabled)
{
	return kfp_register(kfp_kind_index(kind), h, enabled);
}
EXPORT_SYMBOL_GPL(kfp_register_kind);

int kfp_register_handler(u32 reason, struct kfp_handler *h)
{
	return kfp_register(kfp_vendor->reason_index(reason), h, true);
}
EXPORT_SYMBOL_GPL(kfp_register_handler);

/* Remove the external handler in slot @idx.  kfp_table_lock held. */
static struct kfp_handler *kfp_remove(u32 idx)
{
	struct kfp_handler *h = kfp_slots[idx].handler;
	struct kfp_scope *scope = kfp_slots[idx].scope;
	struct kfp_handler *aside = kfp_slots[idx].aside;

	/* A built-in that stepped aside comes back, disabled. */
	kfp_slots[idx] = (struct kfp_slot){ .handler = aside, .builtin = !!aside };
	kfp_publish(idx);
	if (scope) {
		synchronize_rcu();
		kfp_scope_free(scope);
	}
	return h;
}

/*
 * After kfp_remove(): wait until no CPU runs @h.  Dispatch reads the table
 * with IRQs off after the guest has exited (an RCU read side: guest mode
 * itself is a quiescent state, but no handler runs there).
 */
static void kfp_release(struct kfp_handler *h)
{
	synchronize_rcu();
	pr_info("handler %s removed\n", h->name);
}

static void kfp_unregister(u32 idx, struct kfp_handler *h)
{
	int at;

	mutex_lock(&kfp_table_lock);
	if (idx < KFP_NR_EXITS && kfp_slots[idx].handler == h &&
	    !kfp_slots[idx].builtin) {
		kfp_remove(idx);
		mutex_unlock(&kfp_table_lock);
		kfp_release(h);
		return;
	}
	/* Detached already: nothing to do.  Installed elsewhere: a caller's bug. */
	at = h && h->name ? kfp_find(h->name) : -1;
	mutex_unlock(&kfp_table_lock);
	WARN(at >= 0 && kfp_slots[at].handler == h,
	     "kvm_fastpath: handler %s is installed for index %d, not %u\n",
	     h->name, at, idx);
}

void kfp_unregister_kind(enum kfp_exit_kind kind, struct kfp_handler *h)
{
	kfp_unregister(kfp_kind_index(kind), h);
}
EXPORT_SYMBOL_GPL(kfp_unregister_kind);

void kfp_unregister_handler(u32 reason, struct kfp_handler *h)
{
	kfp_unregister(kfp_vendor->reason_index(reason), h);
}
EXPORT_SYMBOL_GPL(kfp_unregister_handler);

/*
 * A module that goes with its handler still installed (its init failed
 * after registering, or its exit did not unregister): remove the handler
 * before the module's memory is freed.  The module loader calls this
 * after the module's exit, or after its failed init, and frees the module
 * only afterwards.
 */
static int kfp_module_going(struct notifier_block *nb, unsigned long state,
			    void *data)
{
	struct module *mod = data;
	bool removed = false;
	u32 i;

	if (state != MODULE_STATE_GOING)
		return NOTIFY_DONE;
	mutex_lock(&kfp_table_lock);
	for (i = 0; i < KFP_NR_EXITS; i++) {
		struct kfp_handler *h = kfp_slots[i].handler;

		if (!h || kfp_slots[i].builtin || h->owner != mod)
			continue;
		pr_warn("handler %s removed: its module %s is going without unregistering it\n",
			h->name, module_name(mod));
		kfp_remove(i);
		removed = true;
	}
	mutex_unlock(&kfp_table_lock);
	if (removed)
		synchronize_rcu();
	return NOTIFY_OK;
}

static struct notifier_block kfp_module_nb = {
	.notifier_call = kfp_module_going,
};

/*
 * "enable|disable NAME vm=VM" (kfp_table_lock held): the handler in slot
 * @idx for one more VM, or one fewer.  A handler enabled for every VM is
 * not narrowed: disable it first.  On success the slot has a new scope,
 * the old one is returned in @old to free after a grace period, and the
 * hold on @kvm is the new scope's (enable) or is to be released (disable).
 */
static int kfp_scope_change(u32 idx, bool enable, struct kvm *kvm,
			    const char *vm, struct kfp_scope **old)
{
	struct kfp_slot *slot = &kfp_slots[idx];
	const char *name = slot->handler->name;
	int at = kfp_scope_find(slot->scope, kvm);
	struct kfp_scope *new;

	if (slot->enabled && !slot->scope) {
		pr_warn("handlers: %s is enabled for every VM; \"disable %s\" first, then enable it per VM\n",
			name, name);
		return -EINVAL;
	}
	if (enable && at >= 0) {
		pr_warn("handlers: %s is enabled for VM %s already\n", name, vm);
		return -EEXIST;
	}
	if (!enable && at < 0) {
		pr_warn("handlers: %s is not enabled for VM %s\n", name, vm);
		return -ENOENT;
	}
	if (enable && slot->scope && slot->scope->n == KFP_SCOPE_VMS) {
		pr_warn("handlers: %s is enabled for %d VMs, the most\n", name,
			KFP_SCOPE_VMS);
		return -ENOSPC;
	}
	new = kfp_scope_copy(slot->scope, enable ? NULL : kvm,
			     enable ? kvm : NULL, vm);
	if (!new)
		return -ENOMEM;
	*old = slot->scope;
	slot->enabled = new->n;
	slot->scope = new->n ? new : NULL;
	kfp_publish(idx);
	if (!new->n)
		kfree(new);
	return 0;
}

/*
 * Commands written to debugfs "handlers": "enable NAME [vm=VM]",
 * "disable NAME [vm=VM]", "detach NAME" (an external handler).  0 or
 * -errno, with the reason in the log; nothing changes on error.
 */
int kfp_table_control(char *cmd)
{
	char *verb = strsep(&cmd, " "), *name = strsep(&cmd, " ");
	struct kfp_handler *detached = NULL;
	char vm[KFP_VM_NAME_LEN] = "all";
	struct kfp_scope *old = NULL;
	struct kvm *kvm = NULL;
	int idx, ret = 0;
	bool on;

	if (!name || !*name || (cmd && strncmp(cmd, "vm=", 3))) {
		pr_warn("handlers: expected \"enable|disable NAME [vm=VM]\" or \"detach NAME\"\n");
		return -EINVAL;
	}
	on = !strcmp(verb, "enable");
	if (cmd && !on && strcmp(verb, "disable")) {
		pr_warn("handlers: only enable and disable take vm=\n");
		return -EINVAL;
	}
	if (cmd) {
		ret = kfp_vm_select(cmd + 3, &kvm, vm, sizeof(vm));
		if (ret)
			return ret;
	}

	mutex_lock(&kfp_table_lock);
	idx = kfp_find(name);
	if (idx < 0) {
		pr_warn("handlers: no handler named \"%s\"\n", name);
		ret = -EINVAL;
	} else if (kvm) {
		ret = kfp_scope_change(idx, on, kvm, vm, &old);
		if (!ret && on)
			kvm = NULL;	/* the scope's hold now */
	} else if (on || !strcmp(verb, "disable")) {
		old = kfp_slots[idx].scope;
		kfp_slots[idx].scope = NULL;
		kfp_slots[idx].enabled = on;
		kfp_publish(idx);
	} else if (!strcmp(verb, "detach")) {
		if (kfp_slots[idx].builtin) {
			pr_warn("handlers: %s is built in; disable it instead\n", name);
			ret = -EINVAL;
		} else {
			detached = kfp_remove(idx);
		}
	} else {
		pr_warn("handlers: unknown command \"%s\"\n", verb);
		ret = -EINVAL;
	}
	mutex_unlock(&kfp_table_lock);

	if (detached)
		kfp_release(detached);
	if (old) {
		synchronize_rcu();
		kfp_scope_free(old);
	}
	if (kvm)
		kfp_vm_release(kvm);
	return ret;
}

/* From the reaper: @kvm ended; no handler is enabled for it any more. */
void kfp_table_vm_ended(struct kvm *kvm)
{
	struct kfp_scope *old;
	u32 i;

	mutex_lock(&kfp_table_lock);
	for (i = 0; i < KFP_NR_EXITS; i++) {
		struct kfp_slot *slot = &kfp_slots[i];
		int at = kfp_scope_find(slot->scope, kvm);

		if (at < 0)
			continue;
		pr_info("handlers: %s: its VM %s ended%s\n", slot->handler->name,
			slot->scope->name[at],
			slot->scope->n == 1 ? ", no VM left: disabled" : "");
		old = NULL;
		if (kfp_scope_change(i, false, kvm, slot->scope->name[at], &old))
			continue;	/* -ENOMEM: the reaper tries again */
		synchronize_rcu();
		kfp_scope_free(old);
	}
	mutex_unlock(&kfp_table_lock);
}

int kfp_table_show(struct seq_file *m)
{
	u32 i;

	seq_puts(m, "# index reason handler state owner vm\n");
	kfp_vm_sync();	/* an ended VM is out of the scopes before we show */
	mutex_lock(&kfp_table_lock);
	for (i = 0; i < KFP_NR_EXITS; i++) {
		const struct kfp_slot *slot = &kfp_slots[i];
		const char *reason = kfp_vendor->exit_name(i);
		unsigned int j;

		if (!slot->handler)
			continue;
		seq_printf(m, "%u %s %s %s %s ", i, reason ?: "UNNAMED",
			   slot->handler->name,
			   slot->enabled ? "enabled" : "disabled",
			   slot->builtin ? "builtin" : module_name(slot->handler->owner));
		if (!slot->enabled)
			seq_puts(m, "-");
		else if (!slot->scope)
			seq_puts(m, "all");
		for (j = 0; slot->scope && j < slot->scope->n; j++)
			seq_printf(m, "%s%s", j ? "," : "", slot->scope->name[j]);
		seq_putc(m, '\n');
	}
	mutex_unlock(&kfp_table_lock);
	return 0;
}

/* Install the built-in handlers; enable those named in @enable. */
int kfp_table_init(const struct kfp_vendor *vendor, const char *enable)
{
	static const struct {
		enum kfp_exit_kind kind;
		struct kfp_handler *handler;
	} builtins[] = {
		{ KFP_EXIT_IO,		&kfp_io_handler },
		{ KFP_EXIT_CPUID,	&kfp_cpuid_handler },
		{ KFP_EXIT_HLT,		&kfp_hlt_handler },
		{ KFP_EXIT_NPF,		&kfp_ept_handler },
	};
	char *list, *cur, *name;
	unsigned int i;
	int idx, ret = 0;

	kfp_vendor = vendor;
	static_call_update(kfp_vendor_skip, vendor->skip);
	for (i = 0; i < ARRAY_SIZE(builtins); i++) {
		idx = vendor->index[builtins[i].kind];
		kfp_slots[idx] = (struct kfp_slot){
			.handler = builtins[i].handler,
			.builtin = true,
		};
	}

	list = kstrdup(enable ?: "", GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	ret = register_module_notifier(&kfp_module_nb);
	if (ret) {
		kfree(list);
		return ret;
	}
	mutex_lock(&kfp_table_lock);
	for (cur = list; (name = strsep(&cur, ",")) != NULL;) {
		if (!*name)
			continue;
		idx = kfp_find(name);
		if (idx < 0) {
			pr_err("enable=: no built-in handler named \"%s\" (io, cpuid, hlt, ept)\n",
			       name);
			ret = -EINVAL;
			break;
		}
		kfp_slots[idx].enabled = true;
	}
	for (i = 0; !ret && i < KFP_NR_EXITS; i++)
		kfp_publish(i);
	mutex_unlock(&kfp_table_lock);
	kfree(list);
	return ret;
}

/*
 * Runs before the hook is removed.  Registered handlers' owners depend
 * on this module, so none is left by now.
 */
void kfp_table_exit(void)
{
	u32 i;

	unregister_module_notifier(&kfp_module_nb);
	mutex_lock(&kfp_table_lock);
	for (i = 0; i < KFP_NR_EXITS; i++) {
		kfp_slots[i].enabled = false;
		kfp_publish(i);
	}
	/* No handler is reachable now; their scopes let go of their VMs. */
	synchronize_rcu();
	for (i = 0; i < KFP_NR_EXITS; i++) {
		RCU_INIT_POINTER(kfp_scopes[i], NULL);
		kfp_scope_free(kfp_slots[i].scope);
		kfp_slots[i].scope = NULL;
	}
	mutex_unlock(&kfp_table_lock);
}
