// SPDX-License-Identifier: GPL-2.0
/* Must be refused: the exit is read-only. */
#include "kfp_bpf_prog.h"

SEC("struct_ops/handle")
int BPF_PROG(write_exit, struct kfp_bpf_exit *exit)
{
	exit->io_port = 0x510;
	return KFP_BPF_PASS;
}

SEC(".struct_ops.link")
struct kfp_bpf_ops write_exit_ops = {
	.handle	= (void *)write_exit,
	.kind	= KFP_BPF_IO,
	.name	= "write_exit",
};

char LICENSE[] SEC("license") = "GPL";
