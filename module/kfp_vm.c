// SPDX-License-Identifier: GPL-2.0
/*
 * The VMs the module keeps state for (rules scoped to a VM, capture
 * buffers), how a person names one, and how we learn that one ended.
 *
 * A VM is named as on the host: "PID-FD", the directory KVM gives it
 * under /sys/kernel/debug/kvm (kvm_create_vm_debugfs()), or "PID", the
 * process that created it (kvm->userspace_pid, as KVM's uevents say),
 * when that process has exactly one VM.
 *
 * While any state names a VM, this file holds one reference on it
 * (kvm_get_kvm(), as KVM's own debugfs files do), and only one: so the
 * struct kvm cannot be freed and its address names that VM alone, and
 * the VM has ended exactly when ours is the last reference left
 * (users_count 1: the VM fd and every vCPU fd hold one,
 * kvm_vm_ioctl_create_vcpu()), after which no vCPU of it can run again.
 * KVM tells modules nothing when a VM goes, so a reaper looks every
 * second while any VM is held; it has the rules, the capture buffers, the
 * watched VMs' counters and the handlers' scopes drop what they hold for
 * an ended VM, then drops the reference
 * (kvm_put_kvm() may destroy the VM, so never with IRQs off).  A later VM
 * at the same address or from the same pid starts with nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dcache.h>
#include <linux/kernel.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "kfp.h"
#include "kfp_capture.h"
#include "kfp_rules.h"
#include "kfp_stats.h"

#define KFP_MAX_VMS	64	/* VMs with state at once */

struct kfp_vm_slot {
	struct kvm *kvm;	/* referenced once; NULL: free */
	unsigned int users;	/* rules and buffers naming it */
};

static struct kfp_vm_slot kfp_vms[KFP_MAX_VMS];
static DEFINE_RAW_SPINLOCK(kfp_vms_lock);	/* IRQs off: vCPUs hold too */
static bool kfp_vms_stopping;

static void kfp_vm_reap(struct work_struct *work);
static DECLARE_DELAYED_WORK(kfp_vm_reaper, kfp_vm_reap);

/* Only with our reference left can no fd of the VM, so no vCPU, remain. */
bool kfp_vm_ended(struct kvm *kvm)
{
	return refcount_read(&kvm->users_count) == 1;
}

static void kfp_vm_reap_soon(unsigned long delay)
{
	/* Both are safe from any context, IRQs off included. */
	if (READ_ONCE(kfp_vms_stopping))
		return;
	if (delay)
		queue_delayed_work(kfp_wq, &kfp_vm_reaper, delay);
	else
		mod_delayed_work(kfp_wq, &kfp_vm_reaper, 0);
}

/* kfp_vms_lock held. */
static struct kfp_vm_slot *kfp_vm_slot(struct kvm *kvm)
{
	unsigned int i;

	for (i = 0; i < KFP_MAX_VMS; i++)
		if (kfp_vms[i].kvm == kvm)
			return &kfp_vms[i];
	return NULL;
}

/*
 * Keep @kvm's struct, and so its address's meaning, for one more user.
 * Any context; the caller has @kvm alive (a running vCPU of it, or a
 * reference).  False if KFP_MAX_VMS VMs are held already.
 */
bool kfp_vm_hold(struct kvm *kvm)
{
	struct kfp_vm_slot *s;
	unsigned long flags;

	raw_spin_lock_irqsave(&kfp_vms_lock, flags);
	s = kfp_vm_slot(kvm);
	if (!s) {
		s = kfp_vm_slot(NULL);
		if (s) {
			static_call(kfp_kvm_get)(kvm);
			s->kvm = kvm;
		}
	}
	if (s)
		s->users++;
	raw_spin_unlock_irqrestore(&kfp_vms_lock, flags);
	if (s)
		kfp_vm_reap_soon(HZ);
	return s;
}

/* One user fewer; the reaper drops the reference.  Any context. */
void kfp_vm_release(struct kvm *kvm)
{
	struct kfp_vm_slot *s;
	unsigned long flags;
	bool last = false;

	raw_spin_lock_irqsave(&kfp_vms_lock, flags);
	s = kfp_vm_slot(kvm);
	if (!WARN_ON_ONCE(!s || !s->users))
		last = !--s->users;
	raw_spin_unlock_irqrestore(&kfp_vms_lock, flags);
	if (last)
		kfp_vm_reap_soon(0);
}

/*
 * Let go of ended VMs' state, then of the references nothing uses;
 * again in a second while any VM is held.
 */
static void kfp_vm_reap(struct work_struct *work)
{
	struct kvm *vms[KFP_MAX_VMS];
	unsigned int i, n = 0;
	bool held = false;

	raw_spin_lock_irq(&kfp_vms_lock);
	for (i = 0; i < KFP_MAX_VMS; i++)
		if (kfp_vms[i].kvm && kfp_vms[i].users &&
		    kfp_vm_ended(kfp_vms[i].kvm))
			vms[n++] = kfp_vms[i].kvm;
	raw_spin_unlock_irq(&kfp_vms_lock);

	/* Their users release them; the references stay until below. */
	while (n) {
		kfp_rules_vm_ended(vms[--n]);
		kfp_capture_vm_ended(vms[n]);
		kfp_stats_vm_ended(vms[n]);
		kfp_table_vm_ended(vms[n]);
	}

	raw_spin_lock_irq(&kfp_vms_lock);
	for (i = 0; i < KFP_MAX_VMS; i++) {
		if (!kfp_vms[i].kvm)
			continue;
		if (kfp_vms[i].users) {
			held = true;
			continue;
		}
		vms[n++] = kfp_vms[i].kvm;
		kfp_vms[i].kvm = NULL;
	}
	raw_spin_unlock_irq(&kfp_vms_lock);
	while (n)
		static_call(kfp_kvm_put)(vms[--n]);
	if (held)
		kfp_vm_reap_soon(HZ);
}

/* Have ended VMs' state gone now, for a reader about to show it. */
void kfp_vm_sync(void)
{
	if (!READ_ONCE(kfp_vms_stopping))
		flush_delayed_work(&kfp_vm_reaper);
}

/* "PID-FD" if KVM made its debugfs directory, else "PID". */
void kfp_vm_name(struct kvm *kvm, char *buf, size_t len)
{
	if (IS_ERR_OR_NULL(kvm->debugfs_dentry))
		snprintf(buf, len, "%d", kvm->userspace_pid);
	else
		snprintf(buf, len, "%pd", kvm->debugfs_dentry);
}

/* A decimal number as /proc writes it: no sign, no leading zero. */
static bool kfp_decimal(const char *s, size_t n, pid_t *val)
{
	char num[12];
	int v;

	if (!n || n >= sizeof(num) || (s[0] == '0' && n > 1))
		return false;
	memcpy(num, s, n);
	num[n] = '\0';
	if (num[0] < '0' || num[0] > '9' || kstrtoint(num, 10, &v) || v < 0)
		return false;
	*val = v;
	return true;
}

#define KFP_VM_BAD(err, fmt, ...)					\
	({ pr_warn("vm=%s: " fmt "\n", sel, ##__VA_ARGS__); err; })

/* How many VMs of one pid a selector looks at. */
#define KFP_VM_CANDIDATES	32

/*
 * The VM @sel names, held (kfp_vm_release() when done), its name in
 * @name; NULL for "all".  0, or -errno with one line logged: -EINVAL for
 * a malformed name or a pid with several VMs, -ESRCH for no such VM.
 */
int kfp_vm_select(const char *sel, struct kvm **out, char *name, size_t len)
{
	struct kvm *kvm, *found = NULL, *cand[KFP_VM_CANDIDATES];
	char vm_name[KFP_VM_NAME_LEN], seen[64] = "";
	const char *dash = strchr(sel, '-');
	unsigned int i, n = 0, matches = 0;
	pid_t pid, fd;
	int ret = 0;

	*out = NULL;
	if (!strcmp(sel, "all")) {
		strscpy(name, "all", len);
		return 0;
	}
	if (!kfp_decimal(sel, dash ? dash - sel : strlen(sel), &pid) ||
	    (dash && !kfp_decimal(dash + 1, strlen(dash + 1), &fd)))
		return KFP_VM_BAD(-EINVAL,
				  "want all, PID or PID-FD (a directory of /sys/kernel/debug/kvm)");

	/*
	 * A VM stays on vm_list until kvm_destroy_vm() takes it off under
	 * kvm_lock, so its pid can be read here; its debugfs name only with
	 * a reference, since destruction removes the directory first.  The
	 * references are dropped after kvm_lock: a last kvm_put_kvm() takes
	 * it.
	 */
	mutex_lock(kfp_kvm_lock);
	list_for_each_entry(kvm, kfp_vm_list, vm_list) {
		if (READ_ONCE(kvm->userspace_pid) == pid &&
		    n < KFP_VM_CANDIDATES && static_call(kfp_kvm_get_safe)(kvm))
			cand[n++] = kvm;
	}
	mutex_unlock(kfp_kvm_lock);

	for (i = 0; i < n; i++) {
		kvm = cand[i];
		kfp_vm_name(kvm, vm_name, sizeof(vm_name));
		/* Ours and the one just taken: it ended, only we keep it. */
		if (refcount_read(&kvm->users_count) == 2 && kfp_vm_is_held(kvm))
			continue;
		if (dash && strcmp(vm_name, sel))
			continue;
		matches++;
		if (strlen(seen) + strlen(vm_name) + 2 < sizeof(seen))
			snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen),
				 "%s%s", *seen ? " " : "", vm_name);
		if (!found)
			found = kvm;
	}

	if (!found)
		ret = KFP_VM_BAD(-ESRCH, "no such VM (%s)",
				 dash ? "no directory of that name in /sys/kernel/debug/kvm" :
					"that process created none");
	else if (matches > 1)
		ret = KFP_VM_BAD(-EINVAL, "process %d has %u VMs (%s): name one as PID-FD",
				 pid, matches, seen);
	else if (!kfp_vm_hold(found))
		ret = KFP_VM_BAD(-ENOSPC, "state is kept for at most %d VMs at once",
				 KFP_MAX_VMS);
	if (!ret) {
		kfp_vm_name(found, name, len);
		*out = found;
	}
	while (n)
		static_call(kfp_kvm_put)(cand[--n]);
	return ret;
}

/* Whether any user holds @kvm. */
bool kfp_vm_is_held(struct kvm *kvm)
{
	unsigned long flags;
	bool held;

	raw_spin_lock_irqsave(&kfp_vms_lock, flags);
	held = kfp_vm_slot(kvm);
	raw_spin_unlock_irqrestore(&kfp_vms_lock, flags);
	return held;
}

/* First of unload: no more reaping, so debugfs files can go safely. */
void kfp_vm_stop(void)
{
	WRITE_ONCE(kfp_vms_stopping, true);
	cancel_delayed_work_sync(&kfp_vm_reaper);
}

/* Last of unload, after the rules and buffers released theirs. */
void kfp_vm_exit(void)
{
	unsigned int i;

	for (i = 0; i < KFP_MAX_VMS; i++) {
		if (!kfp_vms[i].kvm)
			continue;
		WARN_ON_ONCE(kfp_vms[i].users);
		static_call(kfp_kvm_put)(kfp_vms[i].kvm);
		kfp_vms[i].kvm = NULL;
	}
}
