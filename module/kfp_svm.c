// SPDX-License-Identifier: GPL-2.0
/*
 * AMD SVM adapter: reads the exit that svm_vcpu_run() returned from out
 * of the vCPU's current VMCB.
 *
 * What differs from VMX:
 *  - the exit code and its details are in memory, in the VMCB;
 *  - the NPF group of exit codes (0x400 on) is mapped to table index 0xf0;
 *  - an instruction's length is only known from the next RIP the CPU
 *    reports: IOIO always gives it (EXITINFO2), other exits only on CPUs
 *    with NRIPS.  Exits whose next RIP is unknown stay KVM's, since its
 *    skip would have to decode the instruction, which may sleep.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <asm/svm.h>

#include "kfp.h"

/* Exit codes from SVM_EXIT_NPF on are mapped from this index up. */
#define KFP_SVM_HIGH	0xf0

/* u64: SVM_EXIT_ERR is -1ull from 7.2, with the VMCB's exit_code. */
static const struct {
	u64 code;
	const char *name;
} kfp_svm_names[] = { SVM_EXIT_REASONS };

/* The names as debugfs shows them: one word each ("DE excp" -> "DE_excp"). */
static char kfp_svm_name[KFP_NR_EXITS][32];

/*
 * struct vcpu_svm is private to kvm_amd.  From 5.13 to 6.12, and in 7.2
 * and 7.3 (checked in the 6.1, 6.12, 7.2 and 7.3 sources), it starts
 * with the vCPU and then a pointer to the current VMCB (vmcb01's, or
 * vmcb02's while L2 runs); that is all this adapter relies on.
 * kfp_svm_check() refuses other kernels (KFP_SVM_LAYOUT_KNOWN, from
 * Kbuild).
 */
struct kfp_vcpu_svm_head {
	struct kvm_vcpu vcpu;
	struct vmcb *vmcb;
};

static __always_inline struct vmcb *kfp_svm_vmcb(struct kvm_vcpu *vcpu)
{
	return container_of(vcpu, struct kfp_vcpu_svm_head, vcpu)->vmcb;
}

/* kvm_amd's "nrips": whether KVM's own skip uses the VMCB's next RIP. */
static bool kfp_svm_kvm_nrips;

/* The next RIP of the exit being dispatched on this CPU (IRQs are off). */
static DEFINE_PER_CPU(unsigned long, kfp_svm_next_rip);

static __always_inline u32 kfp_svm_index(u64 code)
{
	if (code < KFP_SVM_HIGH)
		return code;
	if (code - SVM_EXIT_NPF < KFP_NR_EXITS - KFP_SVM_HIGH)
		return KFP_SVM_HIGH + code - SVM_EXIT_NPF;
	return KFP_NR_EXITS;		/* SVM_EXIT_ERR among others */
}

static __always_inline u32 kfp_svm_exit_index(struct kvm_vcpu *vcpu)
{
	return kfp_svm_index(kfp_svm_vmcb(vcpu)->control.exit_code);
}

/* Describe the exit for the table, from the VMCB; the slow side of the wrapper. */
static noinline fastpath_t kfp_svm_handle(struct kvm_vcpu *vcpu, u32 idx)
{
	struct vmcb *vmcb = kfp_svm_vmcb(vcpu);
	const struct vmcb_control_area *c = &vmcb->control;
	struct kfp_exit exit = { .reason = c->exit_code };
	unsigned long next = 0;

	/*
	 * SEV-ES state is encrypted; an exit during event delivery leaves an
	 * event for KVM to re-inject; a single-stepping guest must see its
	 * #DB or debug exit.  All KVM's.
	 */
	if (vcpu->arch.guest_state_protected ||
	    (c->exit_int_info & SVM_EXITINTINFO_VALID) ||
	    (vmcb->save.rflags & X86_EFLAGS_TF))
		return EXIT_FASTPATH_NONE;
	/* svm_vcpu_run() copies RIP out of the VMCB: a cheap layout check. */
	if (WARN_ON_ONCE(vmcb->save.rip != kfp_rip_read(vcpu)))
		return EXIT_FASTPATH_NONE;

	if (boot_cpu_has(X86_FEATURE_NRIPS))
		next = c->next_rip;

	switch (c->exit_code) {
	case SVM_EXIT_IOIO:
		exit.kind = KFP_EXIT_IO;
		exit.io.port = c->exit_info_1 >> 16;
		exit.io.size = (c->exit_info_1 & SVM_IOIO_SIZE_MASK) >>
			       SVM_IOIO_SIZE_SHIFT;
		exit.io.in = c->exit_info_1 & SVM_IOIO_TYPE_MASK;
		exit.io.string = c->exit_info_1 & SVM_IOIO_STR_MASK;
		exit.io.rep = c->exit_info_1 & SVM_IOIO_REP_MASK;
		next = c->exit_info_2;
		break;
	case SVM_EXIT_CPUID:
		exit.kind = KFP_EXIT_CPUID;
		exit.cpuid.leaf = kfp_reg_read(vcpu, VCPU_REGS_RAX);
		exit.cpuid.subleaf = kfp_reg_read(vcpu, VCPU_REGS_RCX);
		break;
	case SVM_EXIT_HLT:
		/* kvm_emulate_halt() skips with KVM's own skip, which needs nrips. */
		if (!kfp_svm_kvm_nrips)
			return EXIT_FASTPATH_NONE;
		exit.kind = KFP_EXIT_HLT;
		break;
	case SVM_EXIT_VMMCALL:
		exit.kind = KFP_EXIT_HYPERCALL;
		break;
	case SVM_EXIT_NPF:
		exit.kind = KFP_EXIT_NPF;
		exit.npf.gpa = c->exit_info_2;
		exit.npf.write = c->exit_info_1 & PFERR_WRITE_MASK;
		exit.npf.fetch = c->exit_info_1 & PFERR_FETCH_MASK;
		exit.npf.read = !exit.npf.write && !exit.npf.fetch;
		exit.npf.final = c->exit_info_1 & PFERR_GUEST_FINAL_MASK;
		/*
		 * The CPU reports no next RIP for a nested page fault (NRIPS
		 * covers instruction intercepts only), so the doorbell never
		 * completes one: every NPF is KVM's (handlers.rst).
		 */
		next = 0;
		break;
	}
	if (!next)
		return EXIT_FASTPATH_NONE;
	/* Without KVM's NRIPS skip, ours cannot count the retired instruction. */
	if (!kfp_svm_kvm_nrips && vcpu->kvm->arch.enable_pmu)
		return EXIT_FASTPATH_NONE;

	this_cpu_write(kfp_svm_next_rip, next);
	return kfp_table_dispatch(vcpu, idx, &exit);
}

/*
 * KVM's skip takes the next RIP from the VMCB when its nrips is on;
 * otherwise it would emulate the instruction, so do what its skip does
 * for a known next RIP here: move RIP, drop the interrupt shadow.  (The
 * PMU event is not needed: kfp_svm_handle() passes such exits of VMs
 * with a PMU to KVM.)
 */
static enum kfp_verdict kfp_svm_skip(struct kvm_vcpu *vcpu)
{
	struct vmcb *vmcb = kfp_svm_vmcb(vcpu);
	unsigned long next = this_cpu_read(kfp_svm_next_rip);

	if (kfp_svm_kvm_nrips) {
		vmcb->control.next_rip = next;
		return kfp_skip_by_kvm(vcpu);
	}
	/* svm_vcpu_run() loads the VMCB's RIP from KVM's cached RIP. */
	kfp_rip_write(vcpu, next);
	vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	return KFP_REENTER;
}

/* The wrapper while timing is on (kfp_timing.c); unused in KFP_NO_TIMING. */
static noinline notrace __maybe_unused fastpath_t
kfp_svm_vcpu_run_timed(struct kvm_vcpu *vcpu, kfp_run_arg_t arg)
{
	return kfp_vcpu_run(vcpu, arg, kfp_svm_exit_index, kfp_svm_handle, true);
}

static notrace fastpath_t kfp_svm_vcpu_run(struct kvm_vcpu *vcpu,
					   kfp_run_arg_t arg)
{
	if (kfp_timing_branch())
		return kfp_svm_vcpu_run_timed(vcpu, arg);
	return kfp_vcpu_run(vcpu, arg, kfp_svm_exit_index, kfp_svm_handle, false);
}

/*
 * The exits a handler may serve: instruction intercepts (kfp_vmx.c has
 * the why).  Not INTR, NMI, SMI, INIT, VINTR, exceptions, SHUTDOWN, AVIC.
 */
static const u8 kfp_svm_allowed[] = {
	SVM_EXIT_CPUID, SVM_EXIT_HLT, SVM_EXIT_INVD, SVM_EXIT_RDPMC,
	SVM_EXIT_RDTSC, SVM_EXIT_VMMCALL, SVM_EXIT_IOIO, SVM_EXIT_MSR,
	SVM_EXIT_MWAIT, SVM_EXIT_MONITOR, SVM_EXIT_PAUSE, SVM_EXIT_RDTSCP,
	SVM_EXIT_WBINVD, SVM_EXIT_XSETBV, KFP_SVM_HIGH,	/* SVM_EXIT_NPF */
};

static u32 kfp_svm_reason_index(u32 reason)
{
	return kfp_svm_index(reason);
}

static const char *kfp_svm_exit_name(u32 idx)
{
	return idx < KFP_NR_EXITS && kfp_svm_name[idx][0] ? kfp_svm_name[idx] : NULL;
}

static void kfp_svm_init_names(void)
{
	unsigned int i;
	u32 idx;

	for (i = 0; i < ARRAY_SIZE(kfp_svm_names); i++) {
		idx = kfp_svm_index(kfp_svm_names[i].code);
		if (idx >= KFP_NR_EXITS)
			continue;
		strscpy(kfp_svm_name[idx], kfp_svm_names[i].name,
			sizeof(kfp_svm_name[idx]));
		strreplace(kfp_svm_name[idx], ' ', '_');
	}
}

static void kfp_svm_info(struct seq_file *m)
{
	seq_printf(m, "instruction_length: %s\n",
		   boot_cpu_has(X86_FEATURE_NRIPS) ?
		   "all exits (NRIPS)" : "IO exits only (the CPU lacks NRIPS)");
	seq_printf(m, "kvm_nrips: %d\n", kfp_svm_kvm_nrips);
}

static int kfp_svm_check(void)
{
	const int *nrips = (const int *)kfp_lookup("kvm_amd:nrips");

	if (!KFP_SVM_LAYOUT_KNOWN) {
		pr_err("kvm_amd's vcpu_svm layout is not known for this kernel (5.13 to 6.12, 7.2 and 7.3 are)\n");
		return -EOPNOTSUPP;
	}
	/* Unknown: then our own skip, which is right either way. */
	kfp_svm_kvm_nrips = nrips && *nrips;
	kfp_svm_init_names();
	pr_info("svm: CPU %s NRIPS, kvm_amd nrips=%d\n",
		boot_cpu_has(X86_FEATURE_NRIPS) ? "has" : "lacks",
		kfp_svm_kvm_nrips);
	return 0;
}

const struct kfp_vendor kfp_vendor_svm = {
	.name		= "svm",
	.module		= "kvm_amd",
	.run_symbol	= "svm_vcpu_run",
	.check		= kfp_svm_check,
	.vcpu_run	= kfp_svm_vcpu_run,
	.skip		= kfp_svm_skip,
	.index		= {
		[KFP_EXIT_IO]		= SVM_EXIT_IOIO,
		[KFP_EXIT_CPUID]	= SVM_EXIT_CPUID,
		[KFP_EXIT_HLT]		= SVM_EXIT_HLT,
		[KFP_EXIT_NPF]		= KFP_SVM_HIGH,	/* SVM_EXIT_NPF */
		[KFP_EXIT_HYPERCALL]	= SVM_EXIT_VMMCALL,
	},
	.allowed	= kfp_svm_allowed,
	.nr_allowed	= ARRAY_SIZE(kfp_svm_allowed),
	.reason_index	= kfp_svm_reason_index,
	.exit_name	= kfp_svm_exit_name,
	.info		= kfp_svm_info,
};
