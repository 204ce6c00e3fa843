// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU exit counters.  The hot path only increments its own CPU's
 * copy; readers sum all CPUs.  A reset records the current sums as a
 * baseline instead of writing other CPUs' counters, so it never races
 * with an increment.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mutex.h>
#include <linux/slab.h>

#include "kfp.h"
#include "kfp_stats.h"

struct kfp_cpu_stats __percpu *kfp_stats;

static struct kfp_cpu_stats *kfp_base;	/* sums at the last reset */
static DEFINE_MUTEX(kfp_base_lock);

static void kfp_stats_sum(struct kfp_cpu_stats *sum)
{
	unsigned int cpu, i;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct kfp_cpu_stats *s = per_cpu_ptr(kfp_stats, cpu);

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
	kfp_stats_sum(sum);
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
	kfp_stats_sum(kfp_base);
	mutex_unlock(&kfp_base_lock);
}

/*
 * At unload, after the hook is gone: the totals since load, resets
 * ignored, so a log of load/unload cycles accounts for every exit the
 * module saw (selftests/smp_test.sh adds them up against the guests').
 */
void kfp_stats_report(void)
{
	struct kfp_cpu_stats *sum = kfp_base;
	u64 fast = 0, stock = 0;
	unsigned int i;

	/* The baseline is not needed any more: sum into it. */
	kfp_stats_sum(sum);
	for (i = 0; i < KFP_NR_EXITS; i++) {
		fast += sum->fast[i];
		stock += sum->stock[i];
	}
	pr_info("%llu exits since load: %llu completed by handlers, %llu left to KVM\n",
		fast + stock + sum->unknown, fast, stock + sum->unknown);
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
