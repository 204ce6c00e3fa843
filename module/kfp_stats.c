// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU exit counters.  The hot path only increments its own CPU's
 * copy; readers sum all CPUs.  A reset records the current sums as a
 * baseline instead of writing other CPUs' counters, so it never races
 * with an increment.
 *
 * A VM can be watched too ("watch vm=..." on debugfs exits): it gets
 * per-CPU counters of its own, from then on until it ends or is
 * unwatched, shown in debugfs vms/PID-FD.  The watched VMs are an
 * immutable array published under RCU, looked up with IRQs off by every
 * exit while any VM is watched (kfp_watch_on).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#include "kfp.h"
#include "kfp_stats.h"

struct kfp_cpu_stats __percpu *kfp_stats;

static struct kfp_cpu_stats *kfp_base;	/* sums at the last reset */
static DEFINE_MUTEX(kfp_base_lock);

static void kfp_stats_sum(struct kfp_cpu_stats *sum,
			  struct kfp_cpu_stats __percpu *stats)
{
	unsigned int cpu, i;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct kfp_cpu_stats *s = per_cpu_ptr(stats, cpu);

		for (i = 0; i < KFP_NR_EXITS; i++) {
			sum->fast[i] += READ_ONCE(s->fast[i]);
			sum->stock[i] += READ_ONCE(s->stock[i]);
			sum->l2_exits[i] += READ_ONCE(s->l2_exits[i]);
		}
		sum->unknown += READ_ONCE(s->unknown);
	}
}

/*
 * Counts since the last reset.  Summed under the lock a reset takes, so a
 * baseline never comes from after the sums it is subtracted from: every
 * counter only grows, so no difference is negative.
 */
void kfp_stats_read(struct kfp_cpu_stats *sum)
{
	unsigned int i;

	mutex_lock(&kfp_base_lock);
	kfp_stats_sum(sum, kfp_stats);
	for (i = 0; i < KFP_NR_EXITS; i++) {
		sum->fast[i] -= kfp_base->fast[i];
		sum->stock[i] -= kfp_base->stock[i];
		sum->l2_exits[i] -= kfp_base->l2_exits[i];
	}
	sum->unknown -= kfp_base->unknown;
	mutex_unlock(&kfp_base_lock);
}

void kfp_stats_reset(void)
{
	mutex_lock(&kfp_base_lock);
	kfp_stats_sum(kfp_base, kfp_stats);
	mutex_unlock(&kfp_base_lock);
}

/* @sum's exits completed by handlers and left to KVM (unindexed ones). */
static void kfp_stats_totals(const struct kfp_cpu_stats *sum, u64 *fast,
			     u64 *stock)
{
	unsigned int i;

	*fast = 0;
	*stock = sum->unknown;
	for (i = 0; i < KFP_NR_EXITS; i++) {
		*fast += sum->fast[i];
		*stock += sum->stock[i];
	}
}

/*
 * At unload, after the hook is gone: the totals since load, resets
 * ignored, so a log of load/unload cycles accounts for every exit the
 * module saw (selftests/smp_test.sh adds them up against the guests').
 */
void kfp_stats_report(void)
{
	u64 fast, stock;

	/* The baseline is not needed any more: sum into it. */
	kfp_stats_sum(kfp_base, kfp_stats);
	kfp_stats_totals(kfp_base, &fast, &stock);
	pr_info("%llu exits since load: %llu completed by handlers, %llu left to KVM\n",
		fast + stock, fast, stock);
}

/* --- watched VMs */

#define KFP_MAX_WATCH	8	/* every exit looks through them */

struct kfp_watch {
	struct kvm *kvm;		/* held (kfp_vm.c) */
	char name[KFP_VM_NAME_LEN];
	struct kfp_cpu_stats __percpu *stats;
	struct dentry *file;		/* vms/NAME */
};

struct kfp_watchset {
	unsigned int n;
	struct rcu_head rcu;
	struct kfp_watch *w[];
};

DEFINE_STATIC_KEY_FALSE(kfp_watch_on);
static struct kfp_watchset __rcu *kfp_watches;
static DEFINE_MUTEX(kfp_watch_lock);
static bool kfp_watch_files_gone;	/* unload removed debugfs already */

/* @kvm's watch in @ws, or NULL. */
static struct kfp_watch *kfp_watchset_find(const struct kfp_watchset *ws,
					   const struct kvm *kvm)
{
	unsigned int i;

	for (i = 0; ws && i < ws->n; i++)
		if (ws->w[i]->kvm == kvm)
			return ws->w[i];
	return NULL;
}

/* With IRQs off, from the wrapper: count the exit for a watched @kvm. */
void kfp_watch_count(struct kvm *kvm, u32 idx, enum kfp_count what)
{
	const struct kfp_watch *w =
		kfp_watchset_find(rcu_dereference_sched(kfp_watches), kvm);
	struct kfp_cpu_stats __percpu *s;

	if (!w)
		return;
	s = w->stats;
	switch (what) {
	case KFP_COUNT_FAST:
		this_cpu_inc(s->fast[idx]);
		break;
	case KFP_COUNT_L2:
		this_cpu_inc(s->l2_exits[idx]);
		fallthrough;
	case KFP_COUNT_STOCK:
		this_cpu_inc(s->stock[idx]);
		break;
	default:
		this_cpu_inc(s->unknown);
		break;
	}
}

/* Counts of @watch since it started; for its debugfs file. */
void kfp_watch_read(const void *watch, struct kfp_cpu_stats *sum)
{
	kfp_stats_sum(sum, ((const struct kfp_watch *)watch)->stats);
}

static struct kfp_watchset *kfp_watchset(void)
{
	return rcu_dereference_protected(kfp_watches,
					 lockdep_is_held(&kfp_watch_lock));
}

static void kfp_watchset_free_rcu(struct rcu_head *head)
{
	kfree(container_of(head, struct kfp_watchset, rcu));
}

/* Publish the watched VMs with @add added, or @drop dropped. */
static int kfp_watchset_replace(struct kfp_watch *add,
				const struct kfp_watch *drop)
{
	struct kfp_watchset *old = kfp_watchset(), *new;
	unsigned int i, n = old ? old->n : 0;

	new = kzalloc(struct_size(new, w, n + 1), GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (old->w[i] != drop)
			new->w[new->n++] = old->w[i];
	if (add)
		new->w[new->n++] = add;
	rcu_assign_pointer(kfp_watches, new);
	if (old)
		call_rcu(&old->rcu, kfp_watchset_free_rcu);
	if (add)
		static_branch_inc(&kfp_watch_on);
	else
		static_branch_dec(&kfp_watch_on);
	return 0;
}

static void kfp_watch_free(struct kfp_watch *w)
{
	free_percpu(w->stats);
	kfp_vm_release(w->kvm);
	kfree(w);
}

/*
 * Stop watching @w (kfp_watch_lock held); @why for the log line with its
 * totals.  Its file goes first: debugfs_remove() waits for its readers.
 */
static int kfp_watch_drop(struct kfp_watch *w, const char *why)
{
	struct kfp_cpu_stats *sum;
	u64 fast, stock;
	int ret;

	sum = kmalloc(sizeof(*sum), GFP_KERNEL);
	if (!sum)
		return -ENOMEM;
	ret = kfp_watchset_replace(NULL, w);
	if (ret) {
		kfree(sum);
		return ret;
	}
	if (!kfp_watch_files_gone)
		debugfs_remove(w->file);
	synchronize_rcu();	/* no exit counts into w->stats any more */
	kfp_stats_sum(sum, w->stats);
	kfp_stats_totals(sum, &fast, &stock);
	pr_info("exits: VM %s %s: %llu exits, %llu completed by handlers, %llu left to KVM\n",
		w->name, why, fast + stock, fast, stock);
	kfree(sum);
	kfp_watch_free(w);
	return 0;
}

static struct kfp_watch *kfp_watch_find(struct kvm *kvm)
{
	return kfp_watchset_find(kfp_watchset(), kvm);
}

/* "watch vm=VM" or "unwatch vm=VM"; the VM is named as for rules. */
int kfp_watch_control(char *cmd)
{
	bool watch = !strncmp(cmd, "watch vm=", 9);
	struct kfp_watch *w, *old;
	struct kvm *kvm;
	int ret;

	if (!watch && strncmp(cmd, "unwatch vm=", 11)) {
		pr_warn_ratelimited("exits: write \"reset\", \"watch vm=VM\" or \"unwatch vm=VM\"\n");
		return -EINVAL;
	}
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	ret = kfp_vm_select(strchr(cmd, '=') + 1, &kvm, w->name, sizeof(w->name));
	if (!ret && !kvm) {
		pr_warn("exits: %s needs one VM, not all (their sums are the exits file)\n",
			watch ? "watch" : "unwatch");
		ret = -EINVAL;
	}
	if (ret) {
		kfree(w);
		return ret;
	}
	w->kvm = kvm;

	mutex_lock(&kfp_watch_lock);
	old = kfp_watch_find(kvm);
	if (!watch) {
		ret = old ? kfp_watch_drop(old, "unwatched") : -ENOENT;
		if (ret == -ENOENT)
			pr_warn("exits: VM %s is not watched\n", w->name);
		goto out_free;
	}
	if (old) {
		pr_warn("exits: VM %s is watched already\n", w->name);
		ret = -EEXIST;
		goto out_free;
	}
	if (kfp_watchset() && kfp_watchset()->n >= KFP_MAX_WATCH) {
		pr_warn("exits: at most %d VMs are watched at once\n", KFP_MAX_WATCH);
		ret = -ENOSPC;
		goto out_free;
	}
	ret = -ENOMEM;
	w->stats = alloc_percpu(struct kfp_cpu_stats);
	if (!w->stats)
		goto out_free;
	w->file = kfp_debugfs_vm_file(w->name, w);
	if (IS_ERR(w->file)) {
		ret = PTR_ERR(w->file);
		goto out_free;
	}
	ret = kfp_watchset_replace(w, NULL);
	if (ret) {
		debugfs_remove(w->file);
		goto out_free;
	}
	mutex_unlock(&kfp_watch_lock);
	return 0;

out_free:
	mutex_unlock(&kfp_watch_lock);
	kfp_watch_free(w);
	return ret;
}

/* From the reaper: @kvm ended, its counters go, their totals logged. */
void kfp_stats_vm_ended(struct kvm *kvm)
{
	struct kfp_watch *w;

	mutex_lock(&kfp_watch_lock);
	w = kfp_watch_find(kvm);
	if (w)
		kfp_watch_drop(w, "ended");	/* -ENOMEM: the reaper tries again */
	mutex_unlock(&kfp_watch_lock);
}

/* At unload, after debugfs and the hook are gone, the reaper stopped. */
void kfp_watch_exit(void)
{
	struct kfp_watchset *ws;

	mutex_lock(&kfp_watch_lock);
	kfp_watch_files_gone = true;
	while ((ws = kfp_watchset()) && ws->n)
		if (kfp_watch_drop(ws->w[0], "unwatched at unload"))
			break;
	mutex_unlock(&kfp_watch_lock);
	rcu_barrier();	/* the arrays freed by call_rcu() */
}

int kfp_stats_init(void)
{
	kfp_base = kzalloc(sizeof(*kfp_base), GFP_KERNEL);
	if (!kfp_base)
		return -ENOMEM;
	kfp_stats = alloc_percpu(struct kfp_cpu_stats);
	if (!kfp_stats) {
		kfree(kfp_base);
		return -ENOMEM;
	}
	return 0;
}

void kfp_stats_exit(void)
{
	free_percpu(kfp_stats);
	kfree(kfp_base);
}
