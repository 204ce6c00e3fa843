// SPDX-License-Identifier: GPL-2.0
/*
 * make bench's BPF handlers: the built-in rules of its "on" configuration
 * (tools/guest-lib.sh, kfp_workload_rules) as two programs, so the same
 * workload measures a BPF handler against the built-in one: byte OUTs to
 * 0x510 dropped, byte INs from it read 0xa5, CPUID leaf 0 answered with
 * the rule's four values.
 */
#include "kfp_bpf_prog.h"

SEC("struct_ops/handle")
int BPF_PROG(bench_io, struct kfp_bpf_exit *exit)
{
	if (exit->io_port != 0x510 || exit->io_size != 1)
		return KFP_BPF_PASS;
	if (exit->io_in)
		kfp_bpf_set_gpr(exit, KFP_RAX,
				(kfp_bpf_get_gpr(exit, KFP_RAX) & ~0xffULL) | 0xa5);
	return KFP_BPF_COMPLETE;
}

SEC("struct_ops/handle")
int BPF_PROG(bench_cpuid, struct kfp_bpf_exit *exit)
{
	if (exit->cpuid_leaf != 0)
		return KFP_BPF_PASS;
	kfp_bpf_cpuid_result(exit, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69);
	return KFP_BPF_COMPLETE;
}

SEC(".struct_ops.link")
struct kfp_bpf_ops bench_io_ops = {
	.handle	= (void *)bench_io,
	.kind	= KFP_BPF_IO,
	.name	= "bench_io",
};

SEC(".struct_ops.link")
struct kfp_bpf_ops bench_cpuid_ops = {
	.handle	= (void *)bench_cpuid,
	.kind	= KFP_BPF_CPUID,
	.name	= "bench_cpuid",
};

char LICENSE[] SEC("license") = "GPL";
