/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal KVM lifecycle for the real-mode test guest: one VM, one memslot,
 * one vCPU, and a run loop that accounts every exit to userspace.
 * Shared by kfp-run and the selftests.
 */
#ifndef KFP_VM_H
#define KFP_VM_H

#include <stddef.h>
#include <linux/kvm.h>

#include "kfp_guest.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* exits[] slots; KVM_EXIT_* codes at or above this share the last one. */
#define KFP_VM_NR_EXITS		64

/* Guest image, from guest_real.S. */
extern const unsigned char kfp_guest_real_start[];
extern const unsigned char kfp_guest_real_end[];

struct kfp_vm;

/*
 * Called when the guest writes KFP_PORT_MARK, i.e. after its warm-up and
 * before the measured work.  A negative return stops the run with it.
 */
typedef int (*kfp_vm_mark_fn)(struct kfp_vm *vm, void *arg);

/* Port I/O the guest did, by port and direction. */
struct kfp_vm_io {
	unsigned long work_out;
	unsigned long work_in;
	unsigned long mark;
	unsigned long done;
};

struct kfp_vm {
	int kvm_fd;
	int vm_fd;
	int vcpu_fd;
	void *mem;			/* KFP_MEM_SIZE bytes at KFP_MEM_GPA */
	struct kvm_run *run;
	size_t run_size;

	kfp_vm_mark_fn on_mark;		/* optional */
	void *on_mark_arg;

	/* Exits seen by userspace, by KVM_EXIT_* code. */
	unsigned long exits[KFP_VM_NR_EXITS];
	struct kfp_vm_io io;
	int guest_status;		/* AL of the DONE write, or -1 */
	struct kfp_guest_params result;	/* the parameter block at DONE */

	char err[512];			/* one line describing the last error */
};

/*
 * Open /dev/kvm, create the VM and vCPU, load the guest and @params and
 * put the vCPU at its real-mode entry point.  Returns 0, or -errno with
 * vm->err set; -ENOENT, -ENODEV and -EACCES mean KVM is not usable here.
 * kfp_vm_destroy() must be called either way.
 */
int kfp_vm_create(struct kfp_vm *vm, const struct kfp_guest_params *params);

/*
 * Run the guest until it writes KFP_PORT_DONE.  Returns 0 if it got there
 * with KFP_STATUS_OK; otherwise a negative value with vm->err describing
 * the unexpected exit, including RIP and the main registers.
 */
int kfp_vm_run(struct kfp_vm *vm);

void kfp_vm_destroy(struct kfp_vm *vm);

/* "KVM_EXIT_IO" for KVM_EXIT_IO, "KVM_EXIT_?" for codes it does not know. */
const char *kfp_exit_name(unsigned int reason);

#endif /* KFP_VM_H */
