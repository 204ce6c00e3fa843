// SPDX-License-Identifier: GPL-2.0
/*
 * Handlers written in BPF: the struct_ops "kfp_bpf_ops" (include/kfp_bpf.h).
 * Attaching one (a struct_ops link) installs a handler, "bpf:NAME", for
 * its kind of exit in the exit table, like a module's; the table's RCU,
 * kvm->srcu and per-VM scopes apply as to any handler.  A built-in handler
 * of that kind steps aside while it is disabled (module/kfp_table.c).
 *
 * What the program can do, and what it cannot:
 *   - it sees the exit (struct kfp_bpf_exit, read-only: the verifier
 *     refuses writes through btf_struct_access below), never the vCPU or
 *     the VM: they are after the exit in struct kfp_bpf_call (per CPU),
 *     where the verifier does not let it read;
 *   - it runs from the dispatcher with IRQs off, called directly, not
 *     through its struct_ops trampoline (kfp_bpf_handle());
 *   - it reads and sets the guest's GPRs through kfuncs, registered for
 *     this struct_ops only (kfp_bpf_filter()).  If it completes the exit,
 *     the instruction is skipped as KVM does (kfp_skip_instruction());
 *     if it passes, the registers it set are put back before KVM sees
 *     them;
 *   - helpers: maps, the time, random numbers; nothing that reads kernel
 *     memory (kfp_bpf_func_proto());
 *   - it may not sleep (kfp_bpf_check_member()); the verifier proves it
 *     ends.
 * The exits the kernel keeps whatever the program says are the built-in
 * handlers' (port 0x1000, string and REP IO, KVM's own devices, CPUID
 * faulting): the program is not called for them.
 *
 * A struct_ops map holds this module: it cannot unload while a program
 * is attached; "kfp-bpf unload NAME" (or closing the link) detaches it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bpf.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/ctype.h>
#include <linux/filter.h>
#include <linux/module.h>
#include <linux/seq_file.h>

#include "kfp.h"
#include "kfp_bpf.h"

/*
 * One call of a program: the exit it is shown, its argument, and what the
 * kfuncs need.  Per CPU, not on the stack, which a kernel built with
 * INIT_STACK_ALL_ZERO would clear on every exit: dispatch runs with IRQs
 * off and a program cannot cause an exit, so a CPU has one call at most.
 */
struct kfp_bpf_call {
	struct kfp_bpf_exit exit;	/* first: all the program may read */
	u64 arg;			/* the program's argument: &exit */
	struct kvm_vcpu *vcpu;
	u32 dirty;			/* bit per register set */
	/* Each set register's value before, put back if the program passes. */
	unsigned long saved[VCPU_REGS_R15 + 1];
};

static DEFINE_PER_CPU(struct kfp_bpf_call, kfp_bpf_calls);

/* The attached program of each kind; read by dispatch under RCU. */
static struct kfp_bpf_ops __rcu *kfp_bpf_attached[KFP_EXIT_KINDS];
static struct kfp_handler kfp_bpf_handlers[KFP_EXIT_KINDS];
static char kfp_bpf_names[KFP_EXIT_KINDS][KFP_BPF_NAME_LEN + 4];
static DEFINE_MUTEX(kfp_bpf_lock);
/* Our BTF, from kfp_bpf_init_btf(): the kfuncs are for its programs. */
static const struct btf *kfp_bpf_btf;

static bool kfp_bpf_kind_ok(u32 kind)
{
	return kind == KFP_BPF_IO || kind == KFP_BPF_CPUID ||
	       kind == KFP_BPF_HYPERCALL;
}

/* The exits no program is shown: those the built-in handlers pass too. */
static bool kfp_bpf_kept(struct kvm_vcpu *vcpu, const struct kfp_exit *exit)
{
	switch (exit->kind) {
	case KFP_EXIT_IO:
		return kfp_io_never_handled(exit) ||
		       kfp_kvm_has_device(vcpu, KVM_PIO_BUS, exit->io.port);
	case KFP_EXIT_CPUID:
		return kfp_cpuid_faulting(vcpu);
	default:
		return false;
	}
}

/* The table's handler for every kind with a program: IRQs off, RCU. */
static enum kfp_verdict kfp_bpf_handle(struct kvm_vcpu *vcpu,
				       const struct kfp_exit *exit)
{
	struct kfp_bpf_call *c;
	struct kfp_bpf_ops *ops;
	unsigned long dirty;
	int reg;

	ops = rcu_dereference_sched(kfp_bpf_attached[exit->kind]);
	if (!ops || kfp_bpf_kept(vcpu, exit))
		return KFP_PASS;

	/* Every field, those of other kinds 0: the program may read them. */
	c = this_cpu_ptr(&kfp_bpf_calls);
	c->exit = (struct kfp_bpf_exit){
		.kind = exit->kind,
		.reason = exit->reason,
		.vcpu_id = vcpu->vcpu_id,
	};
	if (exit->kind == KFP_EXIT_IO) {
		c->exit.io_port = exit->io.port;
		c->exit.io_size = exit->io.size;
		c->exit.io_in = exit->io.in;
	} else if (exit->kind == KFP_EXIT_CPUID) {
		c->exit.cpuid_leaf = exit->cpuid.leaf;
		c->exit.cpuid_subleaf = exit->cpuid.subleaf;
	}
	c->arg = (u64)(unsigned long)&c->exit;
	c->vcpu = vcpu;
	c->dirty = 0;

	/*
	 * The program itself, not through its struct_ops trampoline: the
	 * trampoline's entry and exit (RCU read lock, migration, recursion
	 * count, run context) were most of a BPF handler's cost.  With IRQs
	 * off none is needed: the program cannot migrate nor run again on
	 * this CPU, and an IRQs-off region is an RCU read side, which map
	 * helpers accept (bpf_rcu_lock_held() in include/linux/bpf.h, through
	 * rcu_read_lock_bh_held(), true with IRQs off).  The JIT's image
	 * starts with ENDBR: an indirect call IBT allows.
	 */
	lockdep_assert_irqs_disabled();
	if (bpf_prog_run(ops->prog, &c->arg) == KFP_BPF_COMPLETE)
		return kfp_skip_instruction(vcpu);
	/* Passed: the guest's registers as they were, for KVM. */
	dirty = c->dirty;
	for_each_set_bit(reg, &dirty, VCPU_REGS_R15 + 1)
		kfp_reg_write(vcpu, reg, c->saved[reg]);
	return KFP_PASS;
}

/* --- kfuncs: only for kfp_bpf_ops programs, only on their own exit */

static struct kfp_bpf_call *kfp_bpf_call_of(struct kfp_bpf_exit *exit)
{
	return container_of(exit, struct kfp_bpf_call, exit);
}

__bpf_kfunc_start_defs();

/* A GPR (VCPU_REGS_* index, not RSP) as the program last set it, or 0. */
__bpf_kfunc u64 kfp_bpf_get_gpr(struct kfp_bpf_exit *exit, u32 reg)
{
	return kfp_reg_read(kfp_bpf_call_of(exit)->vcpu, reg);
}

/*
 * Set a GPR (-EINVAL for RSP or none).  Written at once, the value before
 * kept: if the program then passes, dispatch puts it back.
 */
__bpf_kfunc int kfp_bpf_set_gpr(struct kfp_bpf_exit *exit, u32 reg, u64 val)
{
	struct kfp_bpf_call *c = kfp_bpf_call_of(exit);

	if (!kfp_reg_valid(reg))
		return -EINVAL;
	if (!(c->dirty & BIT(reg))) {
		c->saved[reg] = kfp_reg_read(c->vcpu, reg);
		c->dirty |= BIT(reg);
	}
	kfp_reg_write(c->vcpu, reg, val);
	return 0;
}

/*
 * A CPUID exit's four results at once (32-bit: bits 63:32 cleared, as the
 * instruction does); -EINVAL on another kind of exit.  Like four
 * kfp_bpf_set_gpr() calls, for a quarter of the calls.
 */
__bpf_kfunc int kfp_bpf_cpuid_result(struct kfp_bpf_exit *exit, u32 eax,
				     u32 ebx, u32 ecx, u32 edx)
{
	struct kfp_bpf_call *c = kfp_bpf_call_of(exit);
	unsigned long *regs = c->vcpu->arch.regs;
	u32 dirty = c->dirty;

	if (exit->kind != KFP_EXIT_CPUID)
		return -EINVAL;
	/* Each register's value before, unless kept already. */
	if (!(dirty & BIT(VCPU_REGS_RAX)))
		c->saved[VCPU_REGS_RAX] = regs[VCPU_REGS_RAX];
	if (!(dirty & BIT(VCPU_REGS_RBX)))
		c->saved[VCPU_REGS_RBX] = regs[VCPU_REGS_RBX];
	if (!(dirty & BIT(VCPU_REGS_RCX)))
		c->saved[VCPU_REGS_RCX] = regs[VCPU_REGS_RCX];
	if (!(dirty & BIT(VCPU_REGS_RDX)))
		c->saved[VCPU_REGS_RDX] = regs[VCPU_REGS_RDX];
	c->dirty = dirty | BIT(VCPU_REGS_RAX) | BIT(VCPU_REGS_RBX) |
		   BIT(VCPU_REGS_RCX) | BIT(VCPU_REGS_RDX);
	regs[VCPU_REGS_RAX] = eax;
	regs[VCPU_REGS_RBX] = ebx;
	regs[VCPU_REGS_RCX] = ecx;
	regs[VCPU_REGS_RDX] = edx;
	return 0;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(kfp_bpf_kfunc_ids)
BTF_ID_FLAGS(func, kfp_bpf_get_gpr, KFP_KF_TRUSTED)
BTF_ID_FLAGS(func, kfp_bpf_set_gpr, KFP_KF_TRUSTED)
BTF_ID_FLAGS(func, kfp_bpf_cpuid_result, KFP_KF_TRUSTED)
BTF_KFUNCS_END(kfp_bpf_kfunc_ids)

/* The kfuncs are for kfp_bpf_ops programs only, not other struct_ops. */
static int kfp_bpf_filter(const struct bpf_prog *prog, u32 kfunc_id)
{
	if (!btf_id_set8_contains(&kfp_bpf_kfunc_ids, kfunc_id))
		return 0;
	return prog->aux->attach_btf == kfp_bpf_btf ? 0 : -EACCES;
}

static const struct btf_kfunc_id_set kfp_bpf_kfunc_set = {
	.owner	= THIS_MODULE,
	.set	= &kfp_bpf_kfunc_ids,
	.filter	= kfp_bpf_filter,
};

/* --- the verifier's view */

static const struct bpf_func_proto *
kfp_bpf_func_proto(enum bpf_func_id func_id, const struct bpf_prog *prog)
{
	switch (func_id) {
	case BPF_FUNC_map_lookup_elem:
	case BPF_FUNC_map_update_elem:
	case BPF_FUNC_map_delete_elem:
	case BPF_FUNC_ktime_get_ns:
	case BPF_FUNC_get_prandom_u32:
		return bpf_base_func_proto(func_id, prog);
	default:
		return NULL;
	}
}

static bool kfp_bpf_is_valid_access(int off, int size,
				    enum bpf_access_type type,
				    const struct bpf_prog *prog,
				    struct bpf_insn_access_aux *info)
{
	return type == BPF_READ && btf_ctx_access(off, size, type, prog, info);
}

/* The exit is read-only. */
static int kfp_bpf_struct_access(struct bpf_verifier_log *log,
				 const struct bpf_reg_state *reg, int off,
				 int size)
{
	bpf_log(log, "kvm_fastpath: the exit is read-only\n");
	return -EACCES;
}

static const struct bpf_verifier_ops kfp_bpf_verifier_ops = {
	.get_func_proto		= kfp_bpf_func_proto,
	.is_valid_access	= kfp_bpf_is_valid_access,
	.btf_struct_access	= kfp_bpf_struct_access,
};

/* --- the struct_ops */

static int kfp_bpf_init_btf(struct btf *btf)
{
	kfp_bpf_btf = btf;
	return 0;
}

static int kfp_bpf_check_member(const struct btf_type *t,
				const struct btf_member *member,
				const struct bpf_prog *prog)
{
	return prog->sleepable ? -EINVAL : 0;
}

/* The members that are data: copied from the loader's, checked in reg. */
static int kfp_bpf_init_member(const struct btf_type *t,
			       const struct btf_member *member,
			       void *kdata, const void *udata)
{
	const struct kfp_bpf_ops *u = udata;
	struct kfp_bpf_ops *k = kdata;
	struct bpf_prog *prog;
	int ret;

	BUILD_BUG_ON(offsetof(struct kfp_bpf_ops, prog) <
		     offsetof(struct kfp_bpf_ops, handle));
	switch (__btf_member_bit_offset(t, member) / 8) {
	case offsetof(struct kfp_bpf_ops, handle):
		/*
		 * The loader's value is the program's fd.  The core opens it
		 * after this returns 0, holds the program in the map, and
		 * writes its id over the fd; kept for the prog member below.
		 */
		k->prog_fd = (u32)*(const u64 *)&u->handle;
		return 0;	/* the trampoline as usual */
	case offsetof(struct kfp_bpf_ops, prog):
		/*
		 * Called after handle (BUILD_BUG_ON above).  The program for
		 * dispatch to run directly: the one the map holds, proven by
		 * its id, as the fd may name another one by now (another thread
		 * of the loader).  Two live programs never share an id, and the
		 * map keeps this one until it is freed, after unreg: the
		 * pointer alone is enough.
		 */
		if (!k->prog_fd)
			return 1;	/* none: reg refuses it */
		prog = bpf_prog_get_type_dev(k->prog_fd, BPF_PROG_TYPE_STRUCT_OPS,
					     false);
		if (IS_ERR(prog))
			return PTR_ERR(prog);
		ret = -EINVAL;
		if (prog->aux->id == *(const u64 *)&u->handle) {
			k->prog = prog;
			ret = 1;
		}
		bpf_prog_put(prog);
		return ret;
	case offsetof(struct kfp_bpf_ops, kind):
		k->kind = u->kind;
		return 1;
	case offsetof(struct kfp_bpf_ops, name):
		memcpy(k->name, u->name, sizeof(k->name));
		return 1;
	case offsetof(struct kfp_bpf_ops, vm):
		memcpy(k->vm, u->vm, sizeof(k->vm));
		return 1;
	}
	return 0;
}

static bool kfp_bpf_name_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && s[i]; i++)
		if (!isalnum(s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return i > 0 && i < len;
}

static int kfp_bpf_reg(void *kdata, struct bpf_link *link)
{
	struct kfp_bpf_ops *ops = kdata;
	struct kfp_handler *h;
	char cmd[64 + KFP_BPF_VM_LEN];
	int ret;

	if (!ops->prog) {
		pr_warn("bpf: %.*s: no handle program\n", KFP_BPF_NAME_LEN, ops->name);
		return -EINVAL;
	}
	if (!kfp_bpf_kind_ok(ops->kind)) {
		pr_warn("bpf: %.*s: kind %u cannot take a BPF handler (IO %d, CPUID %d, HYPERCALL %d)\n",
			KFP_BPF_NAME_LEN, ops->name, ops->kind, KFP_BPF_IO,
			KFP_BPF_CPUID, KFP_BPF_HYPERCALL);
		return -EPERM;
	}
	if (!kfp_bpf_name_ok(ops->name, sizeof(ops->name)) ||
	    (ops->vm[0] && !kfp_bpf_name_ok(ops->vm, sizeof(ops->vm)))) {
		pr_warn("bpf: a handler needs a name (and vm) of letters, digits, _ and -\n");
		return -EINVAL;
	}

	mutex_lock(&kfp_bpf_lock);
	if (rcu_access_pointer(kfp_bpf_attached[ops->kind])) {
		pr_warn("bpf: %s: a BPF handler for this kind is attached already\n",
			ops->name);
		ret = -EBUSY;
		goto out;
	}
	h = &kfp_bpf_handlers[ops->kind];
	snprintf(kfp_bpf_names[ops->kind], sizeof(kfp_bpf_names[0]), "bpf:%s",
		 ops->name);
	*h = (struct kfp_handler){
		.name	= kfp_bpf_names[ops->kind],
		.owner	= THIS_MODULE,
		.handle	= kfp_bpf_handle,
	};
	rcu_assign_pointer(kfp_bpf_attached[ops->kind], ops);
	/* For one VM: installed disabled, then enabled for it alone. */
	ret = kfp_table_register(ops->kind, h, !ops->vm[0]);
	if (!ret && ops->vm[0]) {
		snprintf(cmd, sizeof(cmd), "enable %s vm=%s", h->name, ops->vm);
		ret = kfp_table_control(cmd);
		if (ret)
			kfp_unregister_kind(ops->kind, h);
	}
	if (ret) {
		RCU_INIT_POINTER(kfp_bpf_attached[ops->kind], NULL);
		synchronize_rcu();
	}
out:
	mutex_unlock(&kfp_bpf_lock);
	return ret;
}

static void kfp_bpf_unreg(void *kdata, struct bpf_link *link)
{
	struct kfp_bpf_ops *ops = kdata;

	mutex_lock(&kfp_bpf_lock);
	if (rcu_access_pointer(kfp_bpf_attached[ops->kind]) == ops) {
		/* Returns when no CPU runs the handler (synchronize_rcu()). */
		kfp_unregister_kind(ops->kind, &kfp_bpf_handlers[ops->kind]);
		RCU_INIT_POINTER(kfp_bpf_attached[ops->kind], NULL);
	}
	mutex_unlock(&kfp_bpf_lock);
}

/* What kCFI checks the trampolines against: a stub of each operation. */
static int kfp_bpf_handle_stub(struct kfp_bpf_exit *exit)
{
	return KFP_BPF_PASS;
}

static struct kfp_bpf_ops kfp_bpf_stubs = {
	.handle	= kfp_bpf_handle_stub,
};

static struct bpf_struct_ops kfp_bpf_struct_ops = {
	.verifier_ops	= &kfp_bpf_verifier_ops,
	.init		= kfp_bpf_init_btf,
	.check_member	= kfp_bpf_check_member,
	.init_member	= kfp_bpf_init_member,
	.reg		= kfp_bpf_reg,
	.unreg		= kfp_bpf_unreg,
	.cfi_stubs	= &kfp_bpf_stubs,
	.owner		= THIS_MODULE,
	.name		= "kfp_bpf_ops",
};

static int kfp_bpf_error;

void kfp_bpf_info(struct seq_file *m)
{
	const struct kfp_bpf_ops *ops;
	int kind;

	if (kfp_bpf_error)
		seq_printf(m, "bpf: no: registering the kfp_bpf_ops struct_ops failed (%d)\n",
			   kfp_bpf_error);
	else
		seq_puts(m, "bpf: yes\n");
	/* The program each handler runs, by the id bpftool shows. */
	mutex_lock(&kfp_bpf_lock);
	for (kind = 0; kind < KFP_EXIT_KINDS; kind++) {
		ops = rcu_dereference_protected(kfp_bpf_attached[kind],
						lockdep_is_held(&kfp_bpf_lock));
		if (ops)
			seq_printf(m, "bpf: handler %s runs program id %u\n",
				   kfp_bpf_names[kind], ops->prog->aux->id);
	}
	mutex_unlock(&kfp_bpf_lock);
}

int kfp_bpf_init(void)
{
	int ret;

	ret = register_btf_kfunc_id_set(BPF_PROG_TYPE_STRUCT_OPS,
					&kfp_bpf_kfunc_set);
	if (!ret)
		ret = register_bpf_struct_ops(&kfp_bpf_struct_ops, kfp_bpf_ops);
	kfp_bpf_error = ret;
	if (ret)
		pr_warn("bpf: cannot register the kfp_bpf_ops struct_ops (%d): no BPF handlers\n",
			ret);
	else
		pr_info("bpf: BPF handlers available (struct_ops kfp_bpf_ops)\n");
	/* Everything else works without them. */
	return 0;
}
