/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm_fastpath internals shared by the hook, the vendor adapters and the
 * statistics.  Nothing here is ABI.
 */
#ifndef KFP_H
#define KFP_H

#include <linux/kvm_host.h>
#include <linux/percpu.h>
#include <linux/static_call.h>
#include <asm/msr-index.h>
#include <asm/tsc.h>

#include "kvm_fastpath.h"
#include "kfp_compat.h"

/*
 * Exit table size.  The adapter maps its vendor's exit codes below this:
 * VMX basic exit reasons are all < 128; SVM's are < 0xf0, but for the
 * 0x400 group (nested page fault and after), which goes at 0xf0.
 */
#define KFP_NR_EXITS	256

typedef fastpath_t kfp_vcpu_run_t(struct kvm_vcpu *vcpu, kfp_run_arg_t arg);

/* What differs between VMX and SVM.  One instance per vendor. */
struct kfp_vendor {
	const char *name;		/* "vmx" */
	const char *module;		/* the KVM vendor module, "kvm_intel" */
	const char *run_symbol;		/* its kvm_x86_ops.vcpu_run */
	/* Refuse configurations we cannot read exits from; 0 or -errno. */
	int (*check)(void);
	/* The wrapper KVM calls instead of run_symbol: kfp_vcpu_run() inlined. */
	kfp_vcpu_run_t *vcpu_run;
	/* kfp_skip_instruction() for this vendor, called from handlers. */
	enum kfp_verdict (*skip)(struct kvm_vcpu *vcpu);
	/* Table index of each kind of exit (enum kfp_exit_kind). */
	u32 index[KFP_EXIT_KINDS];
	/* Table indexes a handler may serve: instruction exits only. */
	const u8 *allowed;
	unsigned int nr_allowed;
	/* Table index of exit code @reason; >= KFP_NR_EXITS if none. */
	u32 (*reason_index)(u32 reason);
	/* Name of table entry @idx (one word), or NULL if the vendor has none. */
	const char *(*exit_name)(u32 idx);
	/* Vendor lines for debugfs "info". */
	void (*info)(struct seq_file *m);
};

extern const struct kfp_vendor kfp_vendor_vmx;
extern const struct kfp_vendor kfp_vendor_svm;

/* kfp_sym.c: kallsyms and KVM's functions, through static calls */
DECLARE_STATIC_CALL(kfp_kvm_skip, kvm_skip_emulated_instruction);
DECLARE_STATIC_CALL(kfp_kvm_emulate_halt, kvm_emulate_halt);
DECLARE_STATIC_CALL(kfp_kvm_gfn_to_memslot, gfn_to_memslot);
DECLARE_STATIC_CALL(kfp_kvm_get, kvm_get_kvm);
DECLARE_STATIC_CALL(kfp_kvm_put, kvm_put_kvm);
DECLARE_STATIC_CALL(kfp_kvm_io_bus_get_dev, kvm_io_bus_get_dev);
DECLARE_STATIC_CALL(kfp_kvm_get_safe, kvm_get_kvm_safe);
extern struct mutex *kfp_kvm_lock;	/* KVM's kvm_lock */
extern struct list_head *kfp_vm_list;	/* KVM's vm_list, under it */
int kfp_sym_init(void);
int kfp_sym_import_kvm(void);
unsigned long kfp_lookup(const char *name);
unsigned long kfp_lookup_in(const char *mod, const char *sym);

/* kfp_hook.c */
DECLARE_STATIC_CALL(kfp_vendor_run, kfp_vcpu_run_t);
int kfp_hook_install(void);
void kfp_hook_remove(void);
const struct kfp_vendor *kfp_hook_vendor(void);

/* kfp_stats.c */
/*
 * Each exit is counted once, as fast or as stock, so that every counter
 * only grows and a reader's sums (exits = fast + stock) are consistent
 * whatever the increments it races with.
 */
struct kfp_cpu_stats {
	u64 fast[KFP_NR_EXITS];		/* completed by a handler, by table index */
	u64 stock[KFP_NR_EXITS];	/* left to KVM */
	u64 l2_exits[KFP_NR_EXITS];	/* of the stock ones, taken while L2 ran */
	u64 unknown;			/* exits the adapter could not index */
};

extern struct kfp_cpu_stats __percpu *kfp_stats;

/*
 * A watched VM ("watch vm=..." on debugfs exits) has counters of its own
 * too; none is, the static key is off and counting costs nothing more.
 */
enum kfp_count { KFP_COUNT_FAST, KFP_COUNT_STOCK, KFP_COUNT_L2, KFP_COUNT_UNKNOWN };
DECLARE_STATIC_KEY_FALSE(kfp_watch_on);
void kfp_watch_count(struct kvm *kvm, u32 idx, enum kfp_count what);

static __always_inline void kfp_count_vm(struct kvm_vcpu *vcpu, u32 idx,
					 enum kfp_count what)
{
	if (static_branch_unlikely(&kfp_watch_on))
		kfp_watch_count(vcpu->kvm, idx, what);
}

int kfp_stats_init(void);
void kfp_stats_exit(void);

/* kfp_table.c: the exit table */
extern struct kfp_handler __rcu *kfp_table[KFP_NR_EXITS];
DECLARE_STATIC_KEY_FALSE(kfp_dispatch_on);

int kfp_table_init(const struct kfp_vendor *vendor, const char *enable);
void kfp_table_exit(void);
fastpath_t kfp_table_dispatch(struct kvm_vcpu *vcpu, u32 idx,
			      const struct kfp_exit *exit);
int kfp_table_control(char *cmd);
int kfp_table_register(enum kfp_exit_kind kind, struct kfp_handler *h,
		       bool enabled);
void kfp_table_vm_ended(struct kvm *kvm);
enum kfp_verdict kfp_skip_by_kvm(struct kvm_vcpu *vcpu);
int kfp_table_show(struct seq_file *m);

/* kfp_bpf.c or, where the kernel cannot take them, kfp_bpf_none.c */
int kfp_bpf_init(void);
/* "bpf: yes" or "bpf: no: WHY", for debugfs "info". */
void kfp_bpf_info(struct seq_file *m);
/* kfp_bpf.c's kfuncs: global for BTF, called by BPF programs only. */
struct kfp_bpf_exit;
u64 kfp_bpf_get_gpr(struct kfp_bpf_exit *exit, u32 reg);
int kfp_bpf_set_gpr(struct kfp_bpf_exit *exit, u32 reg, u64 val);
int kfp_bpf_cpuid_result(struct kfp_bpf_exit *exit, u32 eax, u32 ebx, u32 ecx,
			 u32 edx);

/* Built-in handlers */
extern struct kfp_handler kfp_io_handler;
extern struct kfp_handler kfp_cpuid_handler;
extern struct kfp_handler kfp_hlt_handler;
extern struct kfp_handler kfp_ept_handler;

/* KVM selftests' ucall port: never handled here. */
#define KFP_UCALL_PORT	0x1000

/*
 * IO exits no handler completes, whatever its rules or program: string
 * and REP IO, and KVM selftests' ucall port (kfp_io.c, kfp_bpf.c).
 */
static inline bool kfp_io_never_handled(const struct kfp_exit *exit)
{
	return exit->io.string || exit->io.rep || exit->io.port == KFP_UCALL_PORT;
}

/* With CPUID faulting on, CPUID at CPL > 0 must #GP: KVM's path does it. */
static inline bool kfp_cpuid_faulting(const struct kvm_vcpu *vcpu)
{
	return vcpu->arch.msr_misc_features_enables &
	       MSR_MISC_FEATURES_ENABLES_CPUID_FAULT;
}

/*
 * Whether KVM has a device of @vcpu's VM on @bus at @addr: the PIC, ELCR,
 * PIT or IOAPIC of an in-kernel irqchip, an ioeventfd or a coalesced
 * MMIO/PIO zone of the VMM.  An access there is theirs, whatever a rule
 * says: KVM's kernel_pio() and vcpu_mmio_write() would give it to that
 * device through kvm_io_bus_write() before userspace saw it.  Dispatch
 * holds kvm->srcu, which the bus is read under.  No bus (KVM dropped it
 * when it could not shrink it) means no device, as for kvm_io_bus_write().
 */
static inline bool kfp_kvm_has_device(struct kvm_vcpu *vcpu,
				      enum kvm_bus bus, gpa_t addr)
{
	const struct kvm_io_bus *b = kvm_get_bus(vcpu->kvm, bus);

	if (!b || !b->dev_count)
		return false;
	return static_call(kfp_kvm_io_bus_get_dev)(vcpu->kvm, bus, addr);
}

/* kfp_vm.c: the VMs state is kept for, named as on the host */
#define KFP_VM_NAME_LEN	24	/* "PID-FD", or "all" */
bool kfp_vm_hold(struct kvm *kvm);
void kfp_vm_release(struct kvm *kvm);
bool kfp_vm_is_held(struct kvm *kvm);
bool kfp_vm_ended(struct kvm *kvm);
void kfp_vm_name(struct kvm *kvm, char *buf, size_t len);
int kfp_vm_select(const char *sel, struct kvm **out, char *name, size_t len);
void kfp_vm_sync(void);
void kfp_vm_stop(void);
void kfp_vm_exit(void);

/* kfp_debugfs.c */
struct dentry *kfp_debugfs_vm_file(const char *name, void *watch);
int kfp_debugfs_init(void);
void kfp_debugfs_exit(void);

/*
 * kfp_timing.c: exit cost per reason, while "timing on".  The vendors'
 * wrappers test kfp_timing_branch() once per exit, a static branch (a NOP
 * while timing is off), and call their timed twin when it is on.
 * make bench builds the module once with KFP_NO_TIMING too, without even
 * that branch, to show that timing off costs nothing measurable.
 */
DECLARE_STATIC_KEY_FALSE(kfp_timing_on);
#ifdef KFP_NO_TIMING
#define kfp_timing_branch()	false
#else
#define kfp_timing_branch()	static_branch_unlikely(&kfp_timing_on)
#endif
void kfp_time_entry(struct kvm_vcpu *vcpu);
void kfp_time_exit(struct kvm_vcpu *vcpu, u64 tsc, u32 idx, bool fast);
int kfp_timing_init(void);
void kfp_timing_stop(void);
void kfp_timing_exit(void);

/*
 * The body of every vendor's wrapper.  KVM calls it with IRQs off, in
 * place of the vendor's vcpu_run; it runs the guest through the real one
 * and then looks at the exit.  @exit_index gives the table index of the
 * exit that just happened (>= KFP_NR_EXITS if it has none) and must be
 * inlined: this runs on every exit, so the common cases (no handler
 * enabled, none for this exit) take as few instructions as possible.
 *
 * @timed, a constant, builds it with the timing of kfp_timing.c or
 * without: each vendor has both, the timed one out of line.
 *
 * IRQs stay off from entry to return, guest run included: unload relies
 * on that (kfp_hook_remove()).
 */
static __always_inline fastpath_t
kfp_vcpu_run(struct kvm_vcpu *vcpu, kfp_run_arg_t arg,
	     u32 (*exit_index)(struct kvm_vcpu *vcpu),
	     fastpath_t (*handle)(struct kvm_vcpu *vcpu, u32 idx),
	     const bool timed)
{
	bool fast = false;
	u64 exit_tsc = 0;
	fastpath_t ret;
	u32 idx;

	if (timed)
		kfp_time_entry(vcpu);
	ret = static_call(kfp_vendor_run)(vcpu, arg);
	if (timed)
		exit_tsc = rdtsc();

	idx = exit_index(vcpu);
	if (unlikely(idx >= KFP_NR_EXITS)) {
		this_cpu_inc(kfp_stats->unknown);
		kfp_count_vm(vcpu, 0, KFP_COUNT_UNKNOWN);
		goto out;
	}

	/* An L2 exit is L1's hypervisor's business: count it, never handle it. */
	if (unlikely(vcpu->arch.hflags & HF_GUEST_MASK)) {
		this_cpu_inc(kfp_stats->l2_exits[idx]);
		this_cpu_inc(kfp_stats->stock[idx]);
		kfp_count_vm(vcpu, idx, KFP_COUNT_L2);
		goto out;
	}

	/*
	 * What KVM's own fast path did must not be done twice.  A handled
	 * exit is counted as fast by kfp_table_dispatch().
	 */
	if (static_branch_unlikely(&kfp_dispatch_on) &&
	    rcu_access_pointer(kfp_table[idx]) && ret == EXIT_FASTPATH_NONE) {
		fastpath_t v = handle(vcpu, idx);

		if (v != EXIT_FASTPATH_NONE) {
			ret = v;
			fast = true;
			goto out;
		}
	}
	this_cpu_inc(kfp_stats->stock[idx]);
	kfp_count_vm(vcpu, idx, KFP_COUNT_STOCK);
out:
	if (timed)
		kfp_time_exit(vcpu, exit_tsc, idx, fast);
	return ret;
}

#endif /* KFP_H */
