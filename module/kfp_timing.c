// SPDX-License-Identifier: GPL-2.0
/*
 * Exit cost per reason, while timing is on ("on" written to debugfs
 * timing, or the timing module parameter): TSC cycles from a VM exit to
 * the same vCPU's next VM entry, apart for the exits a handler completed
 * (fast) and those KVM handled (stock).  It is what perf kvm stat
 * measures, from kvm:kvm_exit to kvm:kvm_entry, taken at the wrapper: the
 * exit when the vendor's vcpu_run returns, the entry when KVM calls the
 * wrapper again for that vCPU.  So an exit KVM handles outside its inner
 * loop includes all KVM did before it re-entered: a halt's wait, a trip
 * to userspace.
 *
 * The vCPU may move to another CPU in between, so its exit is kept in a
 * table of slots hashed by vCPU, not per CPU.  Two vCPUs may share a slot.
 * An entry pairs with a slot only if the slot holds that vCPU's last
 * exit: KVM counts every exit once in vcpu->stat.exits before it enters
 * again (vcpu_enter_guest() in arch/x86/kvm/x86.c, in and after its inner
 * loop), so the slot's count is the vCPU's less one.  An entry that finds
 * no such exit is counted as unpaired: the first after timing is switched
 * on, after another vCPU took the slot, or after KVM's statistics were
 * cleared through its debugfs.
 *
 * The cost is accounted by the entering CPU in its own statistics, with
 * IRQs off.  Readers and resets reach each CPU by IPI, so they never see
 * an exit half-accounted: a reason's histogram always sums to its count.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/hash.h>
#include <linux/jump_label.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/smp.h>

#include "kfp.h"
#include "kfp_timing.h"

/*
 * Log2 histogram of cycles: bucket 0 is below 16, bucket b from 1 on is
 * [2^(b+3), 2^(b+4)), the last one open-ended (2^34 and more).
 */
#define KFP_TIME_BUCKETS	32

/* Cycles of a reason's exits. */
struct kfp_time_stat {
	u64 count, sum, min, max;
	u64 hist[KFP_TIME_BUCKETS];

	/* Their squares, for the spread of the mean (6.1 has no u128). */
	unsigned __int128 sumsq;
};

struct kfp_time_cpu {
	struct kfp_time_stat fast[KFP_NR_EXITS];
	struct kfp_time_stat stock[KFP_NR_EXITS];
	u64 unpaired;
};

#define KFP_TIME_SLOT_BITS	12
#define KFP_TIME_FAST		BIT_ULL(32)

/* A vCPU's last exit; @check is the others XORed, so a torn read fails. */
struct kfp_time_slot {
	unsigned long vcpu;
	u64 exits;		/* its vcpu->stat.exits then */
	u64 tsc;
	u64 info;		/* table index, KFP_TIME_FAST */
	u64 check;
};

DEFINE_STATIC_KEY_FALSE(kfp_timing_on);
static DEFINE_PER_CPU(struct kfp_time_cpu *, kfp_time_mine);
static struct kfp_time_slot *kfp_time_slots;
static DEFINE_MUTEX(kfp_timing_lock);
static bool kfp_timing_ready;	/* between init and unload */
static bool kfp_timing_param;	/* "timing=1" given at load */

static struct kfp_time_slot *kfp_time_slot(struct kvm_vcpu *vcpu)
{
	return &kfp_time_slots[hash_ptr(vcpu, KFP_TIME_SLOT_BITS)];
}

/* From the wrapper, IRQs off: @vcpu left the guest at @tsc. */
void kfp_time_exit(struct kvm_vcpu *vcpu, u64 tsc, u32 idx, bool fast)
{
	struct kfp_time_slot *s = kfp_time_slot(vcpu);
	u64 exits = vcpu->stat.exits;
	u64 info = idx | (fast ? KFP_TIME_FAST : 0);

	WRITE_ONCE(s->vcpu, (unsigned long)vcpu);
	WRITE_ONCE(s->exits, exits);
	WRITE_ONCE(s->tsc, tsc);
	WRITE_ONCE(s->info, info);
	WRITE_ONCE(s->check, (unsigned long)vcpu ^ exits ^ tsc ^ info);
}

static unsigned int kfp_time_bucket(u64 cycles)
{
	return min_t(unsigned int, fls64(cycles >> 4), KFP_TIME_BUCKETS - 1);
}

/* From the wrapper, IRQs off: @vcpu is entering; account its last exit. */
void kfp_time_entry(struct kvm_vcpu *vcpu)
{
	u64 now = rdtsc(), exits = vcpu->stat.exits;
	struct kfp_time_cpu *t = this_cpu_read(kfp_time_mine);
	const struct kfp_time_slot *s = kfp_time_slot(vcpu);
	unsigned long who = READ_ONCE(s->vcpu);
	u64 then = READ_ONCE(s->exits), tsc = READ_ONCE(s->tsc);
	u64 info = READ_ONCE(s->info), check = READ_ONCE(s->check);
	struct kfp_time_stat *st;
	u32 idx = (u32)info;
	u64 d;

	if (!exits)		/* its first entry: no exit before it */
		return;
	if (who != (unsigned long)vcpu || then + 1 != exits ||
	    check != (who ^ then ^ tsc ^ info) || idx >= KFP_NR_EXITS) {
		t->unpaired++;
		return;
	}
	/* CPUs' TSCs may be a little apart when the vCPU moved. */
	d = now > tsc ? now - tsc : 0;
	st = info & KFP_TIME_FAST ? &t->fast[idx] : &t->stock[idx];
	if (!st->count || d < st->min)
		st->min = d;
	if (d > st->max)
		st->max = d;
	st->count++;
	st->sum += d;
	st->sumsq += (unsigned __int128)d * d;
	st->hist[kfp_time_bucket(d)]++;
}

static void kfp_time_merge(struct kfp_time_stat *to,
			   const struct kfp_time_stat *from)
{
	unsigned int b;

	if (!from->count)
		return;
	if (!to->count || from->min < to->min)
		to->min = from->min;
	to->max = max(to->max, from->max);
	to->count += from->count;
	to->sum += from->sum;
	to->sumsq += from->sumsq;
	for (b = 0; b < KFP_TIME_BUCKETS; b++)
		to->hist[b] += from->hist[b];
}

/* Add a CPU's statistics @t into @sum. */
static void kfp_time_add(struct kfp_time_cpu *t, void *sum)
{
	struct kfp_time_cpu *to = sum;
	unsigned int i;

	for (i = 0; i < KFP_NR_EXITS; i++) {
		kfp_time_merge(&to->fast[i], &t->fast[i]);
		kfp_time_merge(&to->stock[i], &t->stock[i]);
	}
	to->unpaired += t->unpaired;
}

static void kfp_time_zero(struct kfp_time_cpu *t, void *unused)
{
	memset(t, 0, sizeof(*t));
}

struct kfp_time_call {
	void (*fn)(struct kfp_time_cpu *t, void *arg);
	void *arg;
};

/* By IPI, so not between an entry's reads and its accounting. */
static void kfp_time_call_mine(void *call)
{
	const struct kfp_time_call *c = call;

	c->fn(this_cpu_read(kfp_time_mine), c->arg);
}

/*
 * @fn(stats, @arg) for every CPU's statistics: on that CPU, by IPI, if it
 * is online; here if not (nothing runs there).
 */
static void kfp_time_each_cpu(void (*fn)(struct kfp_time_cpu *t, void *arg),
			      void *arg)
{
	struct kfp_time_call call = { .fn = fn, .arg = arg };
	unsigned int cpu;

	cpus_read_lock();
	for_each_possible_cpu(cpu) {
		if (cpu_online(cpu))
			smp_call_function_single(cpu, kfp_time_call_mine, &call, 1);
		else
			fn(per_cpu(kfp_time_mine, cpu), arg);
	}
	cpus_read_unlock();
}

static void kfp_time_free(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		kvfree(per_cpu(kfp_time_mine, cpu));
		per_cpu(kfp_time_mine, cpu) = NULL;
	}
	kvfree(kfp_time_slots);
	kfp_time_slots = NULL;
}

/* The statistics, at the first "on"; kept until unload. */
static int kfp_time_alloc(void)
{
	unsigned int cpu;

	if (kfp_time_slots)
		return 0;
	for_each_possible_cpu(cpu) {
		per_cpu(kfp_time_mine, cpu) =
			kvzalloc_node(sizeof(struct kfp_time_cpu), GFP_KERNEL,
				      cpu_to_node(cpu));
		if (!per_cpu(kfp_time_mine, cpu))
			goto fail;
	}
	kfp_time_slots = kvcalloc(1 << KFP_TIME_SLOT_BITS,
				  sizeof(*kfp_time_slots), GFP_KERNEL);
	if (kfp_time_slots)
		return 0;
fail:
	kfp_time_free();
	pr_warn("timing: not enough memory for its statistics\n");
	return -ENOMEM;
}

/* Switch timing @on; kfp_timing_lock held. */
static int kfp_timing_switch(bool on)
{
	int ret;

	if (!on) {
		static_branch_disable(&kfp_timing_on);
		return 0;
	}
	ret = kfp_time_alloc();
	if (!ret)
		static_branch_enable(&kfp_timing_on);
	return ret;
}

/* "on", "off" or "reset", written to debugfs timing. */
int kfp_timing_control(char *cmd)
{
	int ret = 0;

	mutex_lock(&kfp_timing_lock);
	if (!strcmp(cmd, "on") || !strcmp(cmd, "off")) {
		ret = kfp_timing_switch(!strcmp(cmd, "on"));
	} else if (!strcmp(cmd, "reset")) {
		if (kfp_time_slots)
			kfp_time_each_cpu(kfp_time_zero, NULL);
	} else {
		pr_warn_ratelimited("timing: write \"on\", \"off\" or \"reset\"\n");
		ret = -EINVAL;
	}
	mutex_unlock(&kfp_timing_lock);
	return ret;
}

static void kfp_time_show_stat(struct seq_file *m, u32 idx, const char *name,
			       const char *side, const struct kfp_time_stat *st)
{
	unsigned int b;

	if (!st->count)
		return;
	/* No u128 format: sumsq in hex. */
	seq_printf(m, "%u %s %s %llu %llu %llu %llu 0x%016llx%016llx", idx,
		   name, side, st->count, st->sum, st->min, st->max,
		   (u64)(st->sumsq >> 64), (u64)st->sumsq);
	for (b = 0; b < KFP_TIME_BUCKETS; b++)
		seq_printf(m, " %llu", st->hist[b]);
	seq_putc(m, '\n');
}

/*
 * The table: a line per reason and side with exits timed, cycles.  The
 * header says whether timing is on and the TSC rate, for nanoseconds.
 */
int kfp_timing_show(struct seq_file *m)
{
	const struct kfp_vendor *v = kfp_hook_vendor();
	struct kfp_time_cpu *sum = NULL;
	unsigned int i;

	mutex_lock(&kfp_timing_lock);
	if (kfp_time_slots) {
		sum = kvzalloc(sizeof(*sum), GFP_KERNEL);
		if (!sum) {
			mutex_unlock(&kfp_timing_lock);
			return -ENOMEM;
		}
		kfp_time_each_cpu(kfp_time_add, sum);
	}
	mutex_unlock(&kfp_timing_lock);

	seq_printf(m, "# timing %s\n",
		   static_key_enabled(&kfp_timing_on) ? "on" : "off");
	seq_printf(m, "# tsc_khz %u\n", tsc_khz);
	seq_printf(m, "# unpaired %llu\n", sum ? sum->unpaired : 0);
	seq_printf(m, "# buckets %u: 0 below 16 cycles, b [2^(b+3), 2^(b+4)), %u open\n",
		   KFP_TIME_BUCKETS, KFP_TIME_BUCKETS - 1);
	seq_puts(m, "# index name side count sum min max sumsq hist...\n");
	for (i = 0; sum && i < KFP_NR_EXITS; i++) {
		const char *name = v->exit_name(i) ?: "UNNAMED";

		kfp_time_show_stat(m, i, name, "fast", &sum->fast[i]);
		kfp_time_show_stat(m, i, name, "stock", &sum->stock[i]);
	}
	kvfree(sum);
	return 0;
}

/*
 * The timing module parameter: at load, timing starts with the hook;
 * later, writing it is the same as "on" or "off" on debugfs.
 */
static int kfp_timing_param_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret = kstrtobool(val, &on);

	if (ret)
		return ret;
	mutex_lock(&kfp_timing_lock);
	if (kfp_timing_ready)
		ret = kfp_timing_switch(on);
	else
		kfp_timing_param = on;
	mutex_unlock(&kfp_timing_lock);
	return ret;
}

static int kfp_timing_param_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%c\n",
			  static_key_enabled(&kfp_timing_on) ? 'Y' : 'N');
}

static const struct kernel_param_ops kfp_timing_ops = {
	.set	= kfp_timing_param_set,
	.get	= kfp_timing_param_get,
};
module_param_cb(timing, &kfp_timing_ops, NULL, 0644);
MODULE_PARM_DESC(timing, "Time exits per reason (debugfs timing): 0 or 1");

/* Before the hook: timing from its first exit on, if asked at load. */
int kfp_timing_init(void)
{
	int ret = 0;

	mutex_lock(&kfp_timing_lock);
	if (kfp_timing_param)
		ret = kfp_timing_switch(true);
	kfp_timing_ready = !ret;
	mutex_unlock(&kfp_timing_lock);
	return ret;
}

/* At unload, before the hook goes: no more switching. */
void kfp_timing_stop(void)
{
	mutex_lock(&kfp_timing_lock);
	kfp_timing_ready = false;
	kfp_timing_switch(false);
	mutex_unlock(&kfp_timing_lock);
}

/* After the hook is gone: no CPU is in the wrapper. */
void kfp_timing_exit(void)
{
	kfp_time_free();
}
