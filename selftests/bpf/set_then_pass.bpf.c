// SPDX-License-Identifier: GPL-2.0
/*
 * Sets the guest's loop count (RSI) and parameter block (RDI) on every
 * OUT to 0x510, then passes: kvm_fastpath must put them back, or the
 * guest's OUT loop ends early (tools/kfp-run/guest_body.S).
 */
#include "kfp_bpf_prog.h"

#define KFP_RSI	6
#define KFP_RDI	7

SEC("struct_ops/handle")
int BPF_PROG(set_then_pass, struct kfp_bpf_exit *exit)
{
	if (exit->io_port == 0x510 && !exit->io_in) {
		kfp_bpf_set_gpr(exit, KFP_RSI, 1);
		kfp_bpf_set_gpr(exit, KFP_RDI, 0);
	}
	return KFP_BPF_PASS;
}

SEC(".struct_ops.link")
struct kfp_bpf_ops set_then_pass_ops = {
	.handle	= (void *)set_then_pass,
	.kind	= KFP_BPF_IO,
	.name	= "set_then_pass",
};

char LICENSE[] SEC("license") = "GPL";
