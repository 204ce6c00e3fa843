// SPDX-License-Identifier: GPL-2.0
/*
 * The built-in CPUID override, "cpuid leaf=0x40000000 eax=0x4000abcd
 * ebx=0x4b504641 ecx=0x12345678 edx=0x9abcdef0", as a BPF handler: that
 * leaf answers these four values; every other leaf goes to KVM.
 */
#include "kfp_bpf_prog.h"

SEC("struct_ops/handle")
int BPF_PROG(cpuid, struct kfp_bpf_exit *exit)
{
	if (exit->cpuid_leaf != 0x40000000)
		return KFP_BPF_PASS;
	kfp_bpf_cpuid_result(exit, 0x4000abcd, 0x4b504641, 0x12345678,
			     0x9abcdef0);
	return KFP_BPF_COMPLETE;
}

SEC(".struct_ops.link")
struct kfp_bpf_ops cpuid_ops = {
	.handle	= (void *)cpuid,
	.kind	= KFP_BPF_CPUID,
	.name	= "cpuid",
};

char LICENSE[] SEC("license") = "GPL";
