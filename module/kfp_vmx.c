// SPDX-License-Identifier: GPL-2.0
/*
 * Intel VMX adapter: reads the exit that vmx_vcpu_run() returned from
 * straight out of the current VMCS.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/jump_label.h>
#include <linux/seq_file.h>
#include <asm/vmx.h>

#include "kfp.h"

static const struct {
	u32 reason;
	const char *name;
} kfp_vmx_names[] = { VMX_EXIT_REASONS };

/*
 * KVM keeps the VMCS of the vCPU it just ran loaded on this CPU until the
 * vCPU is put, and vcpu_run is called with IRQs and preemption off, so a
 * plain VMREAD sees the exit that just happened (vmcs02's when L2 ran).
 */
static __always_inline unsigned long kfp_vmread(unsigned long field)
{
	unsigned long val;

	asm volatile("vmread %[field], %[val]"
		     : [val] "=r" (val)
		     : [field] "r" (field)
		     : "cc");
	return val;
}

/*
 * The basic exit reason is bits 15:0.  Keeping bit 31 makes a failed VM
 * entry, which is not an exit of the basic reason it carries, fall out of
 * the table.
 */
static __always_inline u32 kfp_vmx_exit_index(struct kvm_vcpu *vcpu)
{
	return kfp_vmread(VM_EXIT_REASON) &
	       (VMX_EXIT_REASONS_FAILED_VMENTRY | 0xffff);
}

/* Describe the exit for the table, from the VMCS; the slow side of the wrapper. */
static noinline fastpath_t kfp_vmx_handle(struct kvm_vcpu *vcpu, u32 idx)
{
	struct kfp_exit exit = { .reason = idx };
	unsigned long qual;

	/*
	 * An exit during event delivery leaves an event for KVM to
	 * re-inject, and a single-stepping guest (TF, which KVM also sets
	 * for KVM_GUESTDBG_SINGLESTEP) must see its #DB or debug exit: both
	 * are KVM's.
	 */
	if ((kfp_vmread(IDT_VECTORING_INFO_FIELD) & VECTORING_INFO_VALID_MASK) ||
	    (kfp_vmread(GUEST_RFLAGS) & X86_EFLAGS_TF))
		return EXIT_FASTPATH_NONE;
	/*
	 * An exit from an SGX enclave: its instruction cannot be skipped
	 * from outside.  And a VMCS whose VMLAUNCH/VMRESUME failed (KVM sets
	 * vmx->fail, a KVM bug) still holds the previous exit, which must not
	 * be handled again: VM_INSTRUCTION_ERROR stays set from then on, and
	 * is 0 while every VMX instruction on this VMCS succeeded.
	 */
	if ((kfp_vmread(VM_EXIT_REASON) & VMX_EXIT_REASONS_SGX_ENCLAVE_MODE) ||
	    kfp_vmread(VM_INSTRUCTION_ERROR))
		return EXIT_FASTPATH_NONE;

	switch (idx) {
	case EXIT_REASON_IO_INSTRUCTION:
		qual = kfp_vmread(EXIT_QUALIFICATION);
		exit.kind = KFP_EXIT_IO;
		exit.io.size = (qual & 7) + 1;
		exit.io.in = qual & BIT(3);
		exit.io.string = qual & BIT(4);
		exit.io.rep = qual & BIT(5);
		exit.io.port = qual >> 16;
		break;
	case EXIT_REASON_CPUID:
		exit.kind = KFP_EXIT_CPUID;
		exit.cpuid.leaf = kfp_reg_read(vcpu, VCPU_REGS_RAX);
		exit.cpuid.subleaf = kfp_reg_read(vcpu, VCPU_REGS_RCX);
		break;
	case EXIT_REASON_HLT:
		exit.kind = KFP_EXIT_HLT;
		break;
	case EXIT_REASON_VMCALL:
		exit.kind = KFP_EXIT_HYPERCALL;
		break;
	case EXIT_REASON_EPT_VIOLATION:
		qual = kfp_vmread(EXIT_QUALIFICATION);
		/*
		 * The access was an IRET's that unblocked NMIs: KVM's
		 * handle_ept_violation() must block them again.
		 */
		if (qual & INTR_INFO_UNBLOCK_NMI)
			return EXIT_FASTPATH_NONE;
		exit.kind = KFP_EXIT_NPF;
		exit.npf.gpa = kfp_vmread(GUEST_PHYSICAL_ADDRESS);
		exit.npf.read = qual & EPT_VIOLATION_ACC_READ;
		exit.npf.write = qual & EPT_VIOLATION_ACC_WRITE;
		exit.npf.fetch = qual & EPT_VIOLATION_ACC_INSTR;
		/* A linear address that was not translated: a guest page walk. */
		exit.npf.final = !(qual & EPT_VIOLATION_GVA_IS_VALID) ||
				 (qual & EPT_VIOLATION_GVA_TRANSLATED);
		/*
		 * The SDM leaves it undefined for EPT violations; CPUs report
		 * it, and KVM's fast MMIO trusts it on bare metal only
		 * (handle_ept_misconfig()): the same here.
		 */
		if (!boot_cpu_has(X86_FEATURE_HYPERVISOR))
			exit.npf.insn_len = kfp_vmread(VM_EXIT_INSTRUCTION_LEN);
		if (exit.npf.insn_len > 15)
			exit.npf.insn_len = 0;
		break;
	}
	return kfp_table_dispatch(vcpu, idx, &exit);
}

/* The wrapper while timing is on (kfp_timing.c); unused in KFP_NO_TIMING. */
static noinline notrace __maybe_unused fastpath_t
kfp_vmx_vcpu_run_timed(struct kvm_vcpu *vcpu, kfp_run_arg_t arg)
{
	return kfp_vcpu_run(vcpu, arg, kfp_vmx_exit_index, kfp_vmx_handle, true);
}

static notrace fastpath_t kfp_vmx_vcpu_run(struct kvm_vcpu *vcpu,
					   kfp_run_arg_t arg)
{
	if (kfp_timing_branch())
		return kfp_vmx_vcpu_run_timed(vcpu, arg);
	return kfp_vcpu_run(vcpu, arg, kfp_vmx_exit_index, kfp_vmx_handle, false);
}

/*
 * The exits a handler may serve: instruction intercepts, which it can
 * complete by doing what the instruction does and skipping it.  Not the
 * exits KVM must finish after its inner loop (an external interrupt
 * already acked, NMIs and exceptions, interrupt and NMI windows, PML,
 * INIT/SIPI, triple faults, APIC accesses, preemption timer, ...).
 */
static const u8 kfp_vmx_allowed[] = {
	EXIT_REASON_CPUID, EXIT_REASON_HLT, EXIT_REASON_INVD,
	EXIT_REASON_RDPMC, EXIT_REASON_RDTSC, EXIT_REASON_VMCALL,
	EXIT_REASON_IO_INSTRUCTION, EXIT_REASON_MSR_READ,
	EXIT_REASON_MSR_WRITE, EXIT_REASON_MWAIT_INSTRUCTION,
	EXIT_REASON_MONITOR_INSTRUCTION, EXIT_REASON_PAUSE_INSTRUCTION,
	EXIT_REASON_EPT_VIOLATION, EXIT_REASON_EPT_MISCONFIG,
	EXIT_REASON_RDTSCP, EXIT_REASON_WBINVD, EXIT_REASON_XSETBV,
	EXIT_REASON_RDRAND, EXIT_REASON_RDSEED,
};

/* The table is indexed by basic exit reason. */
static u32 kfp_vmx_reason_index(u32 reason)
{
	return reason;
}

static const char *kfp_vmx_exit_name(u32 idx)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kfp_vmx_names); i++)
		if (kfp_vmx_names[i].reason == idx)
			return kfp_vmx_names[i].name;
	return NULL;
}

/*
 * With Hyper-V's enlightened VMCS, KVM reads exit information from memory
 * and VMREAD would return stale data.  The static key that says so has
 * had two names; neither exists on kernels built without Hyper-V support.
 * unrestricted_guest is a kvm_intel parameter (0444), fixed while it is
 * loaded.
 */
static int kfp_vmx_check(void)
{
	static const char * const evmcs_keys[] = {
		"kvm_intel:__kvm_is_using_evmcs",	/* 6.6 and later */
		"kvm_intel:enable_evmcs",		/* 6.1 */
	};
	const bool *ug = (const bool *)kfp_lookup("kvm_intel:enable_unrestricted_guest");
	unsigned int i;

	/*
	 * Without unrestricted guest, KVM emulates invalid guest state:
	 * vmx_vcpu_run() then returns without a VM entry, and the VMCS
	 * still holds the previous exit, which the wrapper cannot tell from a
	 * new one.
	 */
	if (!ug || !READ_ONCE(*ug)) {
		pr_err("kvm_intel runs without unrestricted_guest; not supported\n");
		return -EOPNOTSUPP;
	}

	for (i = 0; i < ARRAY_SIZE(evmcs_keys); i++) {
		struct static_key *key = (void *)kfp_lookup(evmcs_keys[i]);

		if (key && static_key_count(key) > 0) {
			pr_err("kvm_intel uses Hyper-V's enlightened VMCS; not supported\n");
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

static void kfp_vmx_info(struct seq_file *m)
{
	seq_puts(m, "instruction_length: all exits (VMCS)\n");
}

const struct kfp_vendor kfp_vendor_vmx = {
	.name		= "vmx",
	.module		= "kvm_intel",
	.run_symbol	= "vmx_vcpu_run",
	.check		= kfp_vmx_check,
	.vcpu_run	= kfp_vmx_vcpu_run,
	.skip		= kfp_skip_by_kvm,
	.index		= {
		[KFP_EXIT_IO]		= EXIT_REASON_IO_INSTRUCTION,
		[KFP_EXIT_CPUID]	= EXIT_REASON_CPUID,
		[KFP_EXIT_HLT]		= EXIT_REASON_HLT,
		[KFP_EXIT_NPF]		= EXIT_REASON_EPT_VIOLATION,
		[KFP_EXIT_HYPERCALL]	= EXIT_REASON_VMCALL,
	},
	.allowed	= kfp_vmx_allowed,
	.nr_allowed	= ARRAY_SIZE(kfp_vmx_allowed),
	.reason_index	= kfp_vmx_reason_index,
	.exit_name	= kfp_vmx_exit_name,
	.info		= kfp_vmx_info,
};
