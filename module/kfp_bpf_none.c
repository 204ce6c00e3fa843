// SPDX-License-Identifier: GPL-2.0
/*
 * Kernels that cannot take BPF handlers: struct_ops from a module came in
 * 6.9, and the verifier needs the module's BTF (Kbuild's probe).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/seq_file.h>

#include "kfp.h"

#define KFP_BPF_WHY "this kernel cannot register a struct_ops from a module (6.9 and later, with module BTF)"

void kfp_bpf_info(struct seq_file *m)
{
	seq_puts(m, "bpf: no: " KFP_BPF_WHY "\n");
}

int kfp_bpf_init(void)
{
	pr_info("bpf: no BPF handlers: " KFP_BPF_WHY "\n");
	return 0;
}
