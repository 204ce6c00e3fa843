// SPDX-License-Identifier: GPL-2.0
/*
 * The built-in IO sink, "io ports=0x510 dir=out size=1 action=sink", as a
 * BPF handler: byte OUTs to port 0x510 complete in the fast path, their
 * data dropped; every other IO exit goes to KVM.
 */
#include "kfp_bpf_prog.h"

SEC("struct_ops/handle")
int BPF_PROG(io_sink, struct kfp_bpf_exit *exit)
{
	if (exit->io_port == 0x510 && !exit->io_in && exit->io_size == 1)
		return KFP_BPF_COMPLETE;
	return KFP_BPF_PASS;
}

SEC(".struct_ops.link")
struct kfp_bpf_ops io_sink_ops = {
	.handle	= (void *)io_sink,
	.kind	= KFP_BPF_IO,
	.name	= "io_sink",
};

char LICENSE[] SEC("license") = "GPL";
