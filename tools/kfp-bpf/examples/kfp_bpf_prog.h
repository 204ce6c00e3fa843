/* SPDX-License-Identifier: GPL-2.0 */
/* What every kvm_fastpath BPF handler includes. */
#ifndef KFP_BPF_PROG_H
#define KFP_BPF_PROG_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "kfp_bpf.h"

/* VCPU_REGS_* numbers, for the GPR kfuncs. */
#define KFP_RAX	0
#define KFP_RCX	1
#define KFP_RDX	2
#define KFP_RBX	3

/* The module's kfuncs (module/kfp_bpf.c), resolved by libbpf at load. */
__u64 kfp_bpf_get_gpr(struct kfp_bpf_exit *exit, __u32 reg) __ksym;
int kfp_bpf_set_gpr(struct kfp_bpf_exit *exit, __u32 reg, __u64 val) __ksym;
int kfp_bpf_cpuid_result(struct kfp_bpf_exit *exit, __u32 eax, __u32 ebx,
			 __u32 ecx, __u32 edx) __ksym;

#endif /* KFP_BPF_PROG_H */
