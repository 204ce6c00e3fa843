// SPDX-License-Identifier: GPL-2.0
/* Must be refused: a loop the verifier cannot see the end of. */
#include "kfp_bpf_prog.h"

SEC("struct_ops/handle")
int BPF_PROG(loop, struct kfp_bpf_exit *exit)
{
	__u32 n = 0;

	while (bpf_get_prandom_u32() != exit->io_port)
		n++;
	return n ? KFP_BPF_PASS : KFP_BPF_PASS;
}

SEC(".struct_ops.link")
struct kfp_bpf_ops loop_ops = {
	.handle	= (void *)loop,
	.kind	= KFP_BPF_IO,
	.name	= "loop",
};

char LICENSE[] SEC("license") = "GPL";
