/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm_fastpath's BPF handlers: the struct_ops a program fills in and the
 * exit it is shown.  Shared by the module (module/kfp_bpf.c, whose BTF
 * the verifier checks programs against) and the programs themselves
 * (tools/kfp-bpf/), so both see one layout.
 *
 *	SEC("struct_ops/handle")
 *	int BPF_PROG(sink, struct kfp_bpf_exit *exit)
 *	{
 *		return exit->io_port == 0x510 && !exit->io_in ?
 *		       KFP_BPF_COMPLETE : KFP_BPF_PASS;
 *	}
 *
 *	SEC(".struct_ops.link")
 *	struct kfp_bpf_ops io_sink = {
 *		.handle	= (void *)sink,
 *		.kind	= KFP_BPF_IO,
 *		.name	= "io_sink",
 *	};
 *
 * Documentation/bpf.rst has the whole story.
 */
#ifndef KFP_BPF_H
#define KFP_BPF_H

#include <linux/types.h>

/* The exits a program may serve: enum kfp_exit_kind's numbers. */
#define KFP_BPF_IO		1
#define KFP_BPF_CPUID		2
#define KFP_BPF_HYPERCALL	5

/*
 * What handle() returns.  COMPLETE: the instruction is done; the
 * registers the program set are written and the guest goes on after it.
 * PASS: KVM handles the exit as if there were no program, and the
 * registers the program set are dropped.
 */
#define KFP_BPF_PASS		0
#define KFP_BPF_COMPLETE	1

#define KFP_BPF_NAME_LEN	16
#define KFP_BPF_VM_LEN		24

/* The exit, read-only.  Fields of other kinds are 0. */
struct kfp_bpf_exit {
	__u32 kind;		/* KFP_BPF_IO, ... */
	__u32 reason;		/* the vendor's exit code */
	__u32 vcpu_id;
	__u32 io_port;
	__u32 io_size;		/* 1, 2 or 4 */
	__u32 io_in;		/* 1: IN, 0: OUT */
	__u32 cpuid_leaf;	/* EAX */
	__u32 cpuid_subleaf;	/* ECX */
};

/*
 * A handler: its program, the kind of exits it serves, its name (the
 * handler is "bpf:NAME" in debugfs), and the VM it serves (as
 * "vm=" in debugfs: PID or PID-FD; empty: every VM).
 */
struct kfp_bpf_ops {
	int (*handle)(struct kfp_bpf_exit *exit);
	__u32 kind;
	char name[KFP_BPF_NAME_LEN];
	char vm[KFP_BPF_VM_LEN];
#ifdef __KERNEL__
	/* handle's program, which dispatch runs (module/kfp_bpf.c). */
	const struct bpf_prog *prog;
	__u32 prog_fd;		/* the loader's fd for it, while updating */
#endif
};

#endif /* KFP_BPF_H */
