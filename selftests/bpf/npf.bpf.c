// SPDX-License-Identifier: GPL-2.0
/* Verifies, but must not attach: EPT violations are not for programs. */
#include "kfp_bpf_prog.h"

SEC("struct_ops/handle")
int BPF_PROG(npf, struct kfp_bpf_exit *exit)
{
	return KFP_BPF_PASS;
}

SEC(".struct_ops.link")
struct kfp_bpf_ops npf_ops = {
	.handle	= (void *)npf,
	.kind	= 4,
	.name	= "npf",
};

char LICENSE[] SEC("license") = "GPL";
