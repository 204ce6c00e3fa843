/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences, in one place.  Kbuild probes the target's
 * headers and passes the KFP_HAVE_* flags; the rest of the module sees
 * only the types below.
 */
#ifndef KFP_COMPAT_H
#define KFP_COMPAT_H

#include <linux/types.h>

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
 * Exported by kvm.ko (GPL) but declared in its private arch/x86/kvm/cpuid.h;
 * the same in 6.1 and 6.12.
 */
struct kvm_vcpu;
bool kvm_cpuid(struct kvm_vcpu *vcpu, u32 *eax, u32 *ebx, u32 *ecx, u32 *edx,
	       bool exact_only);

#endif /* KFP_COMPAT_H */
