/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences, in one place.  Kbuild probes the target's
 * headers and passes the KFP_HAVE_* flags; the rest of the module sees
 * only the types and helpers below.
 */
#ifndef KFP_COMPAT_H
#define KFP_COMPAT_H

#include <linux/bitmap.h>
#include <linux/kvm_host.h>

/*
 * kvm_x86_ops.vcpu_run's second argument: "u64 run_flags" in 6.1.y and
 * 6.12.y stable and upstream since 6.16, "bool force_immediate_exit" in
 * upstream 6.9 to 6.15.  The wrapper only forwards it, so the bool is
 * carried as the byte it is passed in.
 */
#if defined(KFP_HAVE_RUN_FLAGS)
typedef u64 kfp_run_arg_t;
#elif defined(KFP_HAVE_FORCE_IMMEDIATE_EXIT)
typedef u8 kfp_run_arg_t;
#else
#error "kvm_fastpath: this kernel's kvm_x86_ops.vcpu_run signature is not supported"
#endif

/* kfp_svm.c's view of struct vcpu_svm holds on this kernel (Kbuild knows). */
#ifdef KFP_HAVE_SVM_LAYOUT
#define KFP_SVM_LAYOUT_KNOWN	true
#else
#define KFP_SVM_LAYOUT_KNOWN	false
#endif

/*
 * KVM's cached guest RIP: regs[VCPU_REGS_RIP] with u32 masks of available
 * and dirty registers up to 7.1; arch.rip (VCPU_REG_RIP) with bitmaps
 * from 7.2.  Written as KVM's kvm_rip_write() does.
 */
#ifdef KFP_HAVE_ARCH_RIP
static inline unsigned long kfp_rip_read(struct kvm_vcpu *vcpu)
{
	return vcpu->arch.rip;
}

static inline void kfp_rip_write(struct kvm_vcpu *vcpu, unsigned long val)
{
	vcpu->arch.rip = val;
	__set_bit(VCPU_REG_RIP, vcpu->arch.regs_avail);
	__set_bit(VCPU_REG_RIP, vcpu->arch.regs_dirty);
}
#else
static inline unsigned long kfp_rip_read(struct kvm_vcpu *vcpu)
{
	return vcpu->arch.regs[VCPU_REGS_RIP];
}

static inline void kfp_rip_write(struct kvm_vcpu *vcpu, unsigned long val)
{
	vcpu->arch.regs[VCPU_REGS_RIP] = val;
	vcpu->arch.regs_avail |= BIT(VCPU_REGS_RIP);
	vcpu->arch.regs_dirty |= BIT(VCPU_REGS_RIP);
}
#endif

/*
 * The mediated PMU (7.x, kvm's enable_mediated_pmu, off by default) counts
 * guest instructions in hardware; an instruction skipped in the fast path
 * while a counter counts them would be lost.  Match KVM's own fast paths,
 * which first check kvm_pmu_is_fastpath_emulation_allowed()
 * (arch/x86/kvm/pmu.h): allowed unless the vCPU has a mediated PMU and
 * a globally enabled counter counts instructions.  Kernels without a
 * mediated PMU count emulated instructions in kvm_skip_emulated_instruction()
 * itself, from any context.
 */
extern bool kfp_mediated_pmu;	/* kvm's enable_mediated_pmu, read at load */

#ifdef KFP_HAVE_MEDIATED_PMU
#define KFP_MEDIATED_PMU_KNOWN	true

static inline bool kfp_pmu_fastpath_allowed(struct kvm_vcpu *vcpu)
{
	struct kvm_pmu *pmu = &vcpu->arch.pmu;

	return !kfp_mediated_pmu || !pmu->version ||
	       !bitmap_intersects(pmu->pmc_counting_instructions,
				  (unsigned long *)&pmu->global_ctrl,
				  X86_PMC_IDX_MAX);
}
#else
#define KFP_MEDIATED_PMU_KNOWN	false

static inline bool kfp_pmu_fastpath_allowed(struct kvm_vcpu *vcpu)
{
	return true;
}
#endif

/*
 * The workqueue for work that may run on any CPU (the reaper of ended
 * VMs, kfp_vm.c): system_dfl_wq where the kernel has it, as 7.x asks of
 * work that used to go to system_wq.
 */
#ifdef KFP_HAVE_SYSTEM_DFL_WQ
#define kfp_wq	system_dfl_wq
#else
#define kfp_wq	system_wq
#endif

/*
 * KVM functions the module calls (through static calls, kfp_sym.c).  From
 * 7.2 they are declared only in KVM's private headers; the prototypes below
 * are those of arch/x86/kvm/x86.h, identical from 6.1 to 7.3.  Where a
 * public header declares one too, the compiler checks the two agree.
 */
int kvm_skip_emulated_instruction(struct kvm_vcpu *vcpu);
int kvm_emulate_halt(struct kvm_vcpu *vcpu);

/*
 * A kfunc's pointer arguments must be trusted (module/kfp_bpf.c): a flag
 * up to 6.18, what every kfunc gets since (7.x has no such flag).
 */
#ifdef KFP_HAVE_KF_TRUSTED_ARGS
#define KFP_KF_TRUSTED	KF_TRUSTED_ARGS
#else
#define KFP_KF_TRUSTED	0
#endif

#endif /* KFP_COMPAT_H */
