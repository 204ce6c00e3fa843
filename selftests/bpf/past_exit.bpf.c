// SPDX-License-Identifier: GPL-2.0
/* Must be refused: a read past the exit, where the vCPU pointer is. */
#include "kfp_bpf_prog.h"

SEC("struct_ops/handle")
int BPF_PROG(past_exit, struct kfp_bpf_exit *exit)
{
	/* The value decides what it returns, so the read stays. */
	return *(__u64 *)((char *)exit + sizeof(*exit)) == 42;
}

SEC(".struct_ops.link")
struct kfp_bpf_ops past_exit_ops = {
	.handle	= (void *)past_exit,
	.kind	= KFP_BPF_IO,
	.name	= "past_exit",
};

char LICENSE[] SEC("license") = "GPL";
