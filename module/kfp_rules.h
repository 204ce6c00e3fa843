/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rules configure the built-in handlers: which ports the IO handler
 * takes and what it does, CPUID overrides, EPT doorbell ranges.  Each
 * type's rules are an immutable array published under RCU; lookups run in
 * the fast path, changes come from debugfs.  A rule applies to one VM,
 * which it holds (module/kfp_vm.c) and goes with, or to all.
 */
#ifndef KFP_RULES_H
#define KFP_RULES_H

#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/types.h>

#include "kfp.h"

enum kfp_rule_type {
	KFP_RULE_IO,
	KFP_RULE_CPUID,
	KFP_RULE_DOORBELL,
	KFP_RULE_TYPES
};

enum kfp_io_action {
	KFP_IO_SINK,		/* OUT: absorbed */
	KFP_IO_CONST,		/* IN: returns .value */
	KFP_IO_CAPTURE,		/* OUT: bytes appended to the VM's buffer */
};

/*
 * A doorbell rule of one VM remembers, per CPU, the last page it found no
 * memslot for, with the generation of the memslots it looked in
 * (module/kfp_ept.c).
 */
struct kfp_db_cache {
	u64 gen;
	gfn_t gfn;
	bool valid;
};

#define KFP_IO_DIR_OUT	BIT(0)
#define KFP_IO_DIR_IN	BIT(1)

struct kfp_rule {
	u32 id;
	enum kfp_rule_type type;
	struct kvm *kvm;		/* the VM it applies to; NULL: all */
	char vm[KFP_VM_NAME_LEN];	/* its name, or "all" */
	union {
		struct {
			u16 first, last;	/* port range, inclusive */
			u8 dirs;		/* KFP_IO_DIR_* */
			u8 sizes;		/* bit n: an access of n bytes */
			enum kfp_io_action action;
			u32 value;
		} io;
		struct {
			u32 leaf, subleaf;
			bool any_subleaf;
			u8 set;			/* bit n: regs[n] overrides */
			u32 regs[4];		/* EAX, EBX, ECX, EDX */
		} cpuid;
		struct {
			u64 gpa, len;
			struct kfp_db_cache __percpu *cache;	/* vm= rules */
		} doorbell;
	};
	u64 __percpu *hits;
	struct rcu_head rcu;
};

/* Fast path, IRQs off: the first rule for @kvm that matches, or NULL. */
const struct kfp_rule *kfp_rule_find_io(struct kvm *kvm, u16 port, bool in,
					u8 size);
const struct kfp_rule *kfp_rule_find_cpuid(struct kvm *kvm, u32 leaf,
					   u32 subleaf);
const struct kfp_rule *kfp_rule_find_doorbell(struct kvm *kvm, u64 gpa);

static inline void kfp_rule_hit(const struct kfp_rule *r)
{
	this_cpu_inc(*r->hits);
}

/* debugfs "rules": one command per write; 0 or -errno, logged. */
int kfp_rules_control(char *cmd);
int kfp_rules_show(struct seq_file *m);
void kfp_rules_vm_ended(struct kvm *kvm);
void kfp_rules_exit(void);

#endif /* KFP_RULES_H */
