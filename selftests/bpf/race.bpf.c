// SPDX-License-Identifier: GPL-2.0
/*
 * Two programs for kfp_bpf_race.c, which swaps them behind the fd it
 * gives the kernel.  Each passes every exit; only their ids differ.
 */
#include "kfp_bpf_prog.h"

SEC("struct_ops/handle")
int BPF_PROG(race_a, struct kfp_bpf_exit *exit)
{
	return KFP_BPF_PASS;
}

SEC("struct_ops/handle")
int BPF_PROG(race_b, struct kfp_bpf_exit *exit)
{
	return KFP_BPF_PASS;
}

/* Never attached: they make libbpf load both programs. */
SEC(".struct_ops.link")
struct kfp_bpf_ops race_a_ops = {
	.handle	= (void *)race_a,
	.kind	= KFP_BPF_IO,
	.name	= "race_a",
};

SEC(".struct_ops.link")
struct kfp_bpf_ops race_b_ops = {
	.handle	= (void *)race_b,
	.kind	= KFP_BPF_IO,
	.name	= "race_b",
};

char LICENSE[] SEC("license") = "GPL";
