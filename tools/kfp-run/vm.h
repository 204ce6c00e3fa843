/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KVM lifecycle for the test guests: one VM, one memslot, optionally the
 * in-kernel irqchip, N vCPUs each run by a thread of its own, and a run
 * loop that accounts and times every exit to userspace.  Shared by
 * kfp-run and the selftests.
 */
#ifndef KFP_VM_H
#define KFP_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/kvm.h>

#include "guest.h"

/* exits[] slots; KVM_EXIT_* codes at or above this share the last one. */
#define KFP_VM_NR_EXITS		64

/*
 * A retry interval for HLT wake-ups (irqchip mode): a wake-up sent before
 * the guest reached its HLT finds the vCPU running, and the HLT then
 * needs another one.
 */
#define KFP_VM_WAKE_RETRY_NS	1000000ULL

struct kfp_vcpu;

/*
 * Called from the vCPU's thread when its guest writes KFP_PORT_MARK, i.e.
 * after the warm-up and before the measured work.  A negative return
 * stops the run with it (set vcpu->err to say why).
 */
typedef int (*kfp_vm_mark_fn)(struct kfp_vcpu *vcpu, void *arg);

/* What one vCPU's guest did through I/O ports, as userspace saw it. */
struct kfp_vm_io {
	unsigned long work_out;		/* OUT to the workload's out_port */
	unsigned long work_in;		/* IN from KFP_PORT_WORK */
	unsigned long mark;
	unsigned long done;
	unsigned long serial;		/* bytes to KFP_PORT_SERIAL */
	unsigned long str_out;		/* bytes OUT to KFP_PORT_STR */
	unsigned long str_in;		/* bytes IN from KFP_PORT_STR */
	unsigned long str_exits;	/* KVM_EXIT_IO that carried them */
	unsigned long other;		/* other ports (user guests only) */
};

/* Exits of one KVM_EXIT_* reason and the time KVM_RUN took for them. */
struct kfp_exit_stat {
	unsigned long count;
	unsigned long long min_ns;
	unsigned long long max_ns;
	unsigned long long sum_ns;
};

struct kfp_vm_config {
	enum kfp_mode mode;
	unsigned int nr_vcpus;		/* 1 .. KFP_MAX_VCPUS */
	bool irqchip;			/* KVM_CREATE_IRQCHIP */
	bool pit;			/* KVM_CREATE_PIT2 (with irqchip) */
	/*
	 * KVM_SET_GUEST_DEBUG with KVM_GUESTDBG_SINGLESTEP on every vCPU:
	 * each instruction ends in a KVM_EXIT_DEBUG, counted and resumed.
	 */
	bool single_step;
	bool need_vmx;			/* the guest uses VMX (l2-cpuid) */
	/*
	 * KVM_IOEVENTFD on the workload's OUT port and MMIO address: KVM
	 * signals an eventfd for each OUT or write there instead of exiting
	 * to userspace.
	 */
	bool ioeventfd;
	/*
	 * KVM_REGISTER_COALESCED_MMIO, a PIO zone (KVM_CAP_COALESCED_PIO), on
	 * the workload's OUT port: KVM appends
	 * each OUT there to the VM's coalesced ring instead of exiting, and
	 * exits as usual when the ring is full.  The ring is drained after
	 * every KVM_RUN.
	 */
	bool coalesced;
	struct kfp_guest_image image;
	unsigned long long load;	/* where the image goes and starts */
	/*
	 * Built-in guest: the per-vCPU parameter block (.vcpu is filled in)
	 * and the exits it may make.  A user guest (.user_guest) gets the
	 * magic and its vCPU number only, and may use any port and MMIO.
	 */
	struct kfp_guest_params params;
	bool user_guest;
	unsigned int timeout_s;		/* 0: none */
	FILE *serial;			/* KFP_PORT_SERIAL bytes; NULL: dropped */
	kfp_vm_mark_fn on_mark;		/* optional */
	void *on_mark_arg;
};

struct kfp_vm;

struct kfp_vcpu {
	struct kfp_vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;

	/* Exits seen by userspace, by KVM_EXIT_* code. */
	struct kfp_exit_stat exits[KFP_VM_NR_EXITS];
	struct kfp_vm_io io;
	int guest_status;		/* AL of the DONE write, or -1 */
	struct kfp_guest_params result;	/* the parameter block at DONE */

	/* HLT wake-ups (irqchip mode): sent by the main thread ... */
	__u32 wake_armed;
	unsigned long long wake_sent_ns;
	unsigned long wakes_sent;
	/* ... and those that found the vCPU asleep on a HLT. */
	unsigned long wakeups;

	int ret;
	char err[512];			/* one line describing the error */
};

struct kfp_vm {
	struct kfp_vm_config cfg;
	int kvm_fd;
	int vm_fd;
	void *mem;			/* KFP_MEM_SIZE bytes at KFP_MEM_GPA */
	size_t run_size;
	struct kfp_vcpu *vcpus;		/* cfg.nr_vcpus of them */
	unsigned int nr_created;
	bool wake_hlt;			/* wake vCPUs halted in KVM */
	int ioeventfd;			/* the eventfd of cfg.ioeventfd, or -1 */
	/* Its count once kfp_vm_run() returned: what KVM signalled. */
	unsigned long long ioeventfd_signals;
	/* cfg.coalesced: the ring, and the OUTs drained from it (vm->lock). */
	struct kvm_coalesced_mmio_ring *ring;
	unsigned int ring_max;
	unsigned long coalesced;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int running;		/* vCPU threads not finished */
	bool stopping;
	int first_failed;		/* vCPU whose error ends the run, or -1 */

	char err[600];			/* one line describing the error */
};

/*
 * Open /dev/kvm, check the capabilities the configuration needs, create
 * the VM, its memory and tables, the irqchip and the vCPUs, each at its
 * entry point.  Returns 0, or -errno with vm->err set: -ENOENT, -ENODEV
 * and -EACCES mean KVM is not usable here, -EOPNOTSUPP that it lacks a
 * capability.  kfp_vm_destroy() must be called either way.
 */
int kfp_vm_create(struct kfp_vm *vm, const struct kfp_vm_config *cfg);

/*
 * Run every vCPU on its own thread until each guest writes KFP_PORT_DONE.
 * Returns 0 if all got there with KFP_STATUS_OK; otherwise a negative
 * value with vm->err describing the first failure (an unexpected exit
 * with RIP and registers, a guest status, a timeout).  The other vCPUs are
 * stopped then.
 */
int kfp_vm_run(struct kfp_vm *vm);

/* Close and free everything, results included: read them first. */
void kfp_vm_destroy(struct kfp_vm *vm);

/* "KVM_EXIT_IO" for KVM_EXIT_IO, "KVM_EXIT_?" for codes it does not know. */
const char *kfp_exit_name(unsigned int reason);

/* A configuration for the built-in guest in @mode doing @params. */
void kfp_vm_config_builtin(struct kfp_vm_config *cfg, enum kfp_mode mode,
			   const struct kfp_guest_params *params);

/*
 * Does KVM complete the workload's OUTs to @port in the kernel, without
 * an exit to userspace?  For the in-kernel PIC's ports when there is an
 * irqchip, the PIT's with a PIT, and for a port with an ioeventfd.
 */
bool kfp_vm_port_in_kernel(unsigned int port, bool irqchip, bool pit,
			   bool ioeventfd);

#endif /* KFP_VM_H */
