// SPDX-License-Identifier: GPL-2.0
/*
 * Rule storage, lookup and the "rules" command language:
 *
 *   io ports=FIRST[-LAST] dir=in|out|both size=1|2|4|any action=ACTION [value=V] [vm=VM]
 *       ACTION: sink (OUT only), const (IN only, needs value), capture (OUT only)
 *   cpuid leaf=L [subleaf=S] eax=V ebx=V ecx=V edx=V [vm=VM]
 *   doorbell gpa=G len=N [vm=VM]
 *   del ID
 *   clear
 *
 * VM: all (the default, shown as vm=all), PID or PID-FD (kfp_vm.c).
 * Numbers take C prefixes (0x...).  Documentation/debugfs.rst is the ABI.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "kfp.h"
#include "kfp_rules.h"

#define KFP_MAX_RULES	64	/* per type: lookups are linear */

struct kfp_ruleset {
	unsigned int n;
	struct rcu_head rcu;
	struct kfp_rule *rule[];
};

static struct kfp_ruleset __rcu *kfp_rules[KFP_RULE_TYPES];
static DEFINE_MUTEX(kfp_rules_lock);
static u32 kfp_next_id = 1;

static const char * const kfp_type_names[] = {
	[KFP_RULE_IO]		= "io",
	[KFP_RULE_CPUID]	= "cpuid",
	[KFP_RULE_DOORBELL]	= "doorbell",
};

static const char * const kfp_action_names[] = {
	[KFP_IO_SINK]		= "sink",
	[KFP_IO_CONST]		= "const",
	[KFP_IO_CAPTURE]	= "capture",
};

/* --- lookups, in the fast path: IRQs off is the RCU read side */

static const struct kfp_ruleset *kfp_rules_fast(enum kfp_rule_type type)
{
	return rcu_dereference_sched(kfp_rules[type]);
}

/* Whether @r applies to @kvm's exits. */
static __always_inline bool kfp_rule_for(const struct kfp_rule *r,
					 const struct kvm *kvm)
{
	return !r->kvm || r->kvm == kvm;
}

const struct kfp_rule *kfp_rule_find_io(struct kvm *kvm, u16 port, bool in,
					u8 size)
{
	const struct kfp_ruleset *rs = kfp_rules_fast(KFP_RULE_IO);
	u8 dir = in ? KFP_IO_DIR_IN : KFP_IO_DIR_OUT;
	unsigned int i;

	for (i = 0; rs && i < rs->n; i++) {
		const struct kfp_rule *r = rs->rule[i];

		if (port >= r->io.first && port <= r->io.last &&
		    (r->io.dirs & dir) && (r->io.sizes & BIT(size)) &&
		    kfp_rule_for(r, kvm))
			return r;
	}
	return NULL;
}

const struct kfp_rule *kfp_rule_find_cpuid(struct kvm *kvm, u32 leaf,
					   u32 subleaf)
{
	const struct kfp_ruleset *rs = kfp_rules_fast(KFP_RULE_CPUID);
	unsigned int i;

	for (i = 0; rs && i < rs->n; i++) {
		const struct kfp_rule *r = rs->rule[i];

		if (r->cpuid.leaf == leaf &&
		    (r->cpuid.any_subleaf || r->cpuid.subleaf == subleaf) &&
		    kfp_rule_for(r, kvm))
			return r;
	}
	return NULL;
}

const struct kfp_rule *kfp_rule_find_doorbell(struct kvm *kvm, u64 gpa)
{
	const struct kfp_ruleset *rs = kfp_rules_fast(KFP_RULE_DOORBELL);
	unsigned int i;

	for (i = 0; rs && i < rs->n; i++) {
		const struct kfp_rule *r = rs->rule[i];

		if (gpa >= r->doorbell.gpa &&
		    gpa - r->doorbell.gpa < r->doorbell.len &&
		    kfp_rule_for(r, kvm))
			return r;
	}
	return NULL;
}

/* --- changes, from debugfs */

static void kfp_rule_free(struct kfp_rule *r)
{
	if (r->type == KFP_RULE_DOORBELL)
		free_percpu(r->doorbell.cache);
	if (r->kvm)
		kfp_vm_release(r->kvm);
	free_percpu(r->hits);
	kfree(r);
}

static void kfp_ruleset_free_rcu(struct rcu_head *head)
{
	kfree(container_of(head, struct kfp_ruleset, rcu));
}

static struct kfp_ruleset *kfp_ruleset(enum kfp_rule_type type)
{
	return rcu_dereference_protected(kfp_rules[type],
					 lockdep_is_held(&kfp_rules_lock));
}

/*
 * Publish a copy of @type's rules with @add appended and @drop left out
 * (either may be NULL).  The old array is freed after a grace period; a
 * dropped rule is the caller's to free, after synchronize_rcu().
 */
static int kfp_ruleset_replace(enum kfp_rule_type type, struct kfp_rule *add,
			       const struct kfp_rule *drop)
{
	struct kfp_ruleset *old = kfp_ruleset(type), *new;
	unsigned int i, n = old ? old->n : 0;

	if (add && n >= KFP_MAX_RULES) {
		pr_warn("rules: at most %d %s rules\n", KFP_MAX_RULES,
			kfp_type_names[type]);
		return -ENOSPC;
	}
	new = kzalloc(struct_size(new, rule, n + 1), GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (old->rule[i] != drop)
			new->rule[new->n++] = old->rule[i];
	if (add)
		new->rule[new->n++] = add;
	rcu_assign_pointer(kfp_rules[type], new);
	if (old)
		call_rcu(&old->rcu, kfp_ruleset_free_rcu);
	return 0;
}

/* "key=value" with a u64 value; -EINVAL if it is not one. */
static int kfp_kv(char *tok, char **key, u64 *val)
{
	char *eq = strchr(tok, '=');

	if (!eq)
		return -EINVAL;
	*eq = '\0';
	*key = tok;
	return kstrtou64(eq + 1, 0, val);
}

/* Split "key=word" in place; NULL value if there is no '='. */
static char *kfp_split(char *tok, char **val)
{
	char *eq = strchr(tok, '=');

	*val = NULL;
	if (eq) {
		*eq = '\0';
		*val = eq + 1;
	}
	return tok;
}

#define KFP_BAD(fmt, ...)						\
	({ pr_warn("rules: " fmt "\n", ##__VA_ARGS__); -EINVAL; })

static int kfp_parse_io_word(struct kfp_rule *r, const char *key, char *w)
{
	if (!strcmp(key, "ports")) {
		char *dash = strchr(w, '-');
		u16 first, last;

		if (dash)
			*dash++ = '\0';
		if (kstrtou16(w, 0, &first) || kstrtou16(dash ?: w, 0, &last) ||
		    last < first)
			return KFP_BAD("io: bad ports=, want FIRST[-LAST] within 0-0xffff");
		r->io.first = first;
		r->io.last = last;
	} else if (!strcmp(key, "dir")) {
		if (!strcmp(w, "out"))
			r->io.dirs = KFP_IO_DIR_OUT;
		else if (!strcmp(w, "in"))
			r->io.dirs = KFP_IO_DIR_IN;
		else if (!strcmp(w, "both"))
			r->io.dirs = KFP_IO_DIR_IN | KFP_IO_DIR_OUT;
		else
			return KFP_BAD("io: dir= must be in, out or both");
	} else if (!strcmp(key, "size")) {
		if (!strcmp(w, "any"))
			r->io.sizes = BIT(1) | BIT(2) | BIT(4);
		else if (!strcmp(w, "1") || !strcmp(w, "2") || !strcmp(w, "4"))
			r->io.sizes = BIT(w[0] - '0');
		else
			return KFP_BAD("io: size= must be 1, 2, 4 or any");
	} else if (!strcmp(key, "action")) {
		if (!strcmp(w, "sink"))
			r->io.action = KFP_IO_SINK;
		else if (!strcmp(w, "const"))
			r->io.action = KFP_IO_CONST;
		else if (!strcmp(w, "capture"))
			r->io.action = KFP_IO_CAPTURE;
		else
			return KFP_BAD("io: action= must be sink, const or capture");
	} else if (!strcmp(key, "value")) {
		if (kstrtou32(w, 0, &r->io.value))
			return KFP_BAD("io: bad value=, want a 32-bit number");
	} else {
		return KFP_BAD("io: unknown key \"%s\"", key);
	}
	return 0;
}

static int kfp_parse_io(char *args, struct kfp_rule *r)
{
	static const char * const keys[] = { "ports", "dir", "size", "action", "value" };
	unsigned int i, seen = 0;
	char *tok, *key, *w;
	int ret;

	while ((tok = strsep(&args, " ")) != NULL) {
		if (!*tok)
			continue;
		key = kfp_split(tok, &w);
		if (!w)
			return KFP_BAD("io: \"%s\" is not KEY=VALUE", tok);
		ret = kfp_parse_io_word(r, key, w);
		if (ret)
			return ret;
		for (i = 0; i < ARRAY_SIZE(keys); i++)
			if (!strcmp(key, keys[i]))
				seen |= BIT(i);
	}
	if ((seen & 0xf) != 0xf)
		return KFP_BAD("io: needs ports=, dir=, size= and action=");
	if (r->io.first <= KFP_UCALL_PORT && r->io.last >= KFP_UCALL_PORT)
		return KFP_BAD("io: port 0x%x is KVM selftests' ucall and always goes to KVM",
			       KFP_UCALL_PORT);
	if (r->io.action == KFP_IO_CONST) {
		if (r->io.dirs != KFP_IO_DIR_IN || !(seen & BIT(4)))
			return KFP_BAD("io: action=const needs dir=in and value=");
	} else if (r->io.dirs != KFP_IO_DIR_OUT || (seen & BIT(4))) {
		return KFP_BAD("io: action=%s needs dir=out and no value=",
			       kfp_action_names[r->io.action]);
	}
	return 0;
}

static int kfp_parse_cpuid(char *args, struct kfp_rule *r)
{
	static const char * const regs[] = { "eax", "ebx", "ecx", "edx" };
	bool leaf = false;
	char *tok, *key;
	unsigned int i;
	u64 val;

	r->cpuid.any_subleaf = true;
	while ((tok = strsep(&args, " ")) != NULL) {
		if (!*tok)
			continue;
		if (kfp_kv(tok, &key, &val) || val > U32_MAX)
			return KFP_BAD("cpuid: \"%s\" is not KEY=32-bit-number", tok);
		if (!strcmp(key, "leaf")) {
			r->cpuid.leaf = val;
			leaf = true;
			continue;
		}
		if (!strcmp(key, "subleaf")) {
			r->cpuid.subleaf = val;
			r->cpuid.any_subleaf = false;
			continue;
		}
		for (i = 0; i < ARRAY_SIZE(regs); i++)
			if (!strcmp(key, regs[i]))
				break;
		if (i == ARRAY_SIZE(regs))
			return KFP_BAD("cpuid: unknown key \"%s\"", key);
		r->cpuid.regs[i] = val;
		r->cpuid.set |= BIT(i);
	}
	/* The handler cannot ask KVM for the others (kfp_cpuid.c). */
	if (!leaf || r->cpuid.set != GENMASK(3, 0))
		return KFP_BAD("cpuid: needs leaf= and all of eax= ebx= ecx= edx=");
	return 0;
}

#define KFP_APIC_FIRST	0xfee00000ULL
#define KFP_APIC_LAST	0xfeefffffULL

static int kfp_parse_doorbell(char *args, struct kfp_rule *r)
{
	bool gpa = false, len = false;
	char *tok, *key;
	u64 val;

	while ((tok = strsep(&args, " ")) != NULL) {
		if (!*tok)
			continue;
		if (kfp_kv(tok, &key, &val))
			return KFP_BAD("doorbell: \"%s\" is not KEY=number", tok);
		if (!strcmp(key, "gpa")) {
			r->doorbell.gpa = val;
			gpa = true;
		} else if (!strcmp(key, "len")) {
			r->doorbell.len = val;
			len = true;
		} else {
			return KFP_BAD("doorbell: unknown key \"%s\"", key);
		}
	}
	if (!gpa || !len || !r->doorbell.len ||
	    r->doorbell.gpa + r->doorbell.len - 1 < r->doorbell.gpa)
		return KFP_BAD("doorbell: needs gpa= and a non-zero len= that does not wrap");
	if (r->doorbell.gpa <= KFP_APIC_LAST &&
	    r->doorbell.gpa + r->doorbell.len - 1 >= KFP_APIC_FIRST)
		return KFP_BAD("doorbell: overlaps the local APIC page range");
	return 0;
}

/*
 * Take "vm=SEL" out of @args (blanked in place) into @sel; "all" if there
 * is none.
 */
static int kfp_take_vm(char *args, char *sel, size_t len)
{
	bool found = false;
	char *p = args;
	size_t n;

	strscpy(sel, "all", len);
	while ((p = strstr(p, "vm="))) {
		n = strcspn(p, " ");
		if (p != args && p[-1] != ' ') {
			p += n;
			continue;
		}
		if (found)
			return KFP_BAD("vm= given twice");
		if (n - 3 >= len)
			return KFP_BAD("vm=: want all, PID or PID-FD");
		memcpy(sel, p + 3, n - 3);
		sel[n - 3] = '\0';
		memset(p, ' ', n);
		found = true;
		p += n;
	}
	return 0;
}

static int kfp_rule_add(enum kfp_rule_type type, char *args)
{
	char sel[KFP_VM_NAME_LEN];
	struct kfp_rule *r;
	int ret;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->type = type;
	ret = kfp_take_vm(args, sel, sizeof(sel));
	if (!ret && type == KFP_RULE_IO)
		ret = kfp_parse_io(args, r);
	else if (!ret && type == KFP_RULE_CPUID)
		ret = kfp_parse_cpuid(args, r);
	else if (!ret)
		ret = kfp_parse_doorbell(args, r);
	/* Last of the checks: a named VM is held from here on. */
	if (!ret)
		ret = kfp_vm_select(sel, &r->kvm, r->vm, sizeof(r->vm));
	if (!ret) {
		r->hits = alloc_percpu(u64);
		ret = r->hits ? 0 : -ENOMEM;
	}
	if (!ret && type == KFP_RULE_DOORBELL && r->kvm) {
		r->doorbell.cache = alloc_percpu(struct kfp_db_cache);
		ret = r->doorbell.cache ? 0 : -ENOMEM;
	}
	if (!ret) {
		r->id = kfp_next_id;
		ret = kfp_ruleset_replace(type, r, NULL);
	}
	if (ret) {
		kfp_rule_free(r);
		return ret;
	}
	kfp_next_id++;
	return 0;
}

static u64 kfp_rule_hits(const struct kfp_rule *r)
{
	unsigned int cpu;
	u64 sum = 0;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(*per_cpu_ptr(r->hits, cpu));
	return sum;
}

/* Whether kfp_rule_del(@id, @kvm) drops @r. */
static bool kfp_rule_gone(const struct kfp_rule *r, u32 id,
			  const struct kvm *kvm)
{
	return kvm ? r->kvm == kvm : !id || r->id == id;
}

/*
 * Drop the rule @id (0: all rules), or with @kvm, the rules of that VM.
 * kfp_rules_lock held.
 */
static int kfp_rule_del(u32 id, const struct kvm *kvm)
{
	struct kfp_rule **gone;
	unsigned int type, i, n = 0;
	int ret = 0;

	/* Too big for the stack (1.5 KiB); nothing is changed without it. */
	gone = kmalloc_array(KFP_MAX_RULES * KFP_RULE_TYPES, sizeof(*gone),
			     GFP_KERNEL);
	if (!gone)
		return -ENOMEM;
	for (type = 0; type < KFP_RULE_TYPES; type++) {
		struct kfp_ruleset *rs;

		/* Each replace drops one rule; re-read the set each time. */
		while ((rs = kfp_ruleset(type))) {
			for (i = 0; i < rs->n; i++)
				if (kfp_rule_gone(rs->rule[i], id, kvm))
					break;
			if (i == rs->n)
				break;
			/* rs may be freed once replaced: take the rule first. */
			gone[n] = rs->rule[i];
			ret = kfp_ruleset_replace(type, NULL, gone[n]);
			if (ret)
				goto out;
			if (kvm)
				pr_info("rules: rule %u removed: its VM %s ended (hits=%llu)\n",
					gone[n]->id, gone[n]->vm,
					kfp_rule_hits(gone[n]));
			n++;
		}
	}
	ret = id && !kvm && !n ? -ENOENT : 0;
	if (ret)
		pr_warn("rules: no rule %u\n", id);
out:
	if (n) {
		synchronize_rcu();
		for (i = 0; i < n; i++)
			kfp_rule_free(gone[i]);
	}
	kfree(gone);
	return ret;
}

int kfp_rules_control(char *cmd)
{
	char *verb = strsep(&cmd, " ");
	unsigned int type;
	int ret = -EINVAL;
	u32 id;

	mutex_lock(&kfp_rules_lock);
	for (type = 0; type < KFP_RULE_TYPES; type++)
		if (!strcmp(verb, kfp_type_names[type]))
			break;
	if (type < KFP_RULE_TYPES)
		ret = kfp_rule_add(type, cmd ?: "");
	else if (!strcmp(verb, "del") && cmd && !kstrtou32(cmd, 0, &id) && id)
		ret = kfp_rule_del(id, NULL);
	else if (!strcmp(verb, "clear") && !cmd)
		ret = kfp_rule_del(0, NULL);
	else
		pr_warn("rules: unknown command \"%s\" (io, cpuid, doorbell, del ID, clear)\n",
			verb);
	mutex_unlock(&kfp_rules_lock);
	return ret;
}

static void kfp_rule_show(struct seq_file *m, const struct kfp_rule *r)
{
	static const char * const regs[] = { "eax", "ebx", "ecx", "edx" };
	static const char * const dirs[] = { "", "out", "in", "both" };
	unsigned int i;

	seq_printf(m, "%u %s", r->id, kfp_type_names[r->type]);
	switch (r->type) {
	case KFP_RULE_IO:
		seq_printf(m, " ports=0x%x-0x%x dir=%s size=%s action=%s",
			   r->io.first, r->io.last, dirs[r->io.dirs],
			   hweight8(r->io.sizes) > 1 ? "any" :
			   r->io.sizes == BIT(1) ? "1" : r->io.sizes == BIT(2) ? "2" : "4",
			   kfp_action_names[r->io.action]);
		if (r->io.action == KFP_IO_CONST)
			seq_printf(m, " value=0x%x", r->io.value);
		break;
	case KFP_RULE_CPUID:
		seq_printf(m, " leaf=0x%x", r->cpuid.leaf);
		if (!r->cpuid.any_subleaf)
			seq_printf(m, " subleaf=0x%x", r->cpuid.subleaf);
		for (i = 0; i < ARRAY_SIZE(regs); i++)
			if (r->cpuid.set & BIT(i))
				seq_printf(m, " %s=0x%x", regs[i], r->cpuid.regs[i]);
		break;
	default:
		seq_printf(m, " gpa=0x%llx len=0x%llx", r->doorbell.gpa,
			   r->doorbell.len);
		break;
	}
	seq_printf(m, " vm=%s hits=%llu\n", r->vm, kfp_rule_hits(r));
}

int kfp_rules_show(struct seq_file *m)
{
	unsigned int type, i;

	seq_puts(m, "# id type match... vm=VM hits=N\n");
	kfp_vm_sync();	/* an ended VM's rules are gone before we show */
	mutex_lock(&kfp_rules_lock);
	for (type = 0; type < KFP_RULE_TYPES; type++) {
		struct kfp_ruleset *rs = kfp_ruleset(type);

		for (i = 0; rs && i < rs->n; i++)
			kfp_rule_show(m, rs->rule[i]);
	}
	mutex_unlock(&kfp_rules_lock);
	return 0;
}

/* From the reaper: @kvm ended, its rules go. */
void kfp_rules_vm_ended(struct kvm *kvm)
{
	mutex_lock(&kfp_rules_lock);
	kfp_rule_del(0, kvm);
	mutex_unlock(&kfp_rules_lock);
}

/* Runs after the hook is gone. */
void kfp_rules_exit(void)
{
	mutex_lock(&kfp_rules_lock);
	kfp_rule_del(0, NULL);
	mutex_unlock(&kfp_rules_lock);
	rcu_barrier();	/* the ruleset arrays freed by call_rcu() */
}
