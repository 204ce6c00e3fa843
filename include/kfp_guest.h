/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest memory layout and host/guest protocol shared by the real-mode
 * test guest (tools/kfp-run/guest_real.S), the launcher (kfp-run) and the
 * selftests.  Includable from assembly: C-only parts are guarded by
 * __ASSEMBLY__.
 *
 * Guest physical memory is one 64 KiB memslot at GPA 0:
 *
 *   0x0500  parameter block (struct kfp_guest_params)
 *   0x1000  guest code, entered in real mode at CS:IP = 0000:1000
 *   0x8000  top of the guest stack (grows down into page 0x7000)
 *
 * KFP_MMIO_GPA is outside every memslot, so guest accesses to it exit to
 * userspace as KVM_EXIT_MMIO.  The guest talks to the host through the
 * KFP_PORT_* I/O ports; port 0x1000 is left alone (KVM selftests' ucall).
 */
#ifndef KFP_GUEST_H
#define KFP_GUEST_H

/* gcc defines __ASSEMBLER__ for .S files; the kernel uses __ASSEMBLY__. */
#if defined(__ASSEMBLER__) && !defined(__ASSEMBLY__)
#define __ASSEMBLY__ 1
#endif

#define KFP_MEM_GPA		0x0
#define KFP_MEM_SIZE		0x10000
#define KFP_PARAMS_GPA		0x500
#define KFP_GUEST_LOAD		0x1000
#define KFP_GUEST_MAX_SIZE	0x1000	/* the only code page it warms up */
#define KFP_STACK_TOP		0x8000
#define KFP_MMIO_GPA		0xd0000

/* Guest -> host I/O ports, all accessed a byte at a time. */
#define KFP_PORT_WORK		0x510	/* OUT/IN workload */
#define KFP_PORT_MARK		0x511	/* warm-up done, measurement starts */
#define KFP_PORT_DONE		0x512	/* finished; AL = KFP_STATUS_* */

/* The byte the host returns for every IN from KFP_PORT_WORK. */
#define KFP_IN_VALUE		0xa5

/* Status the guest reports in AL with its OUT to KFP_PORT_DONE. */
#define KFP_STATUS_OK		0
#define KFP_STATUS_BAD_MAGIC	1	/* parameter block not set up */
#define KFP_STATUS_BAD_IN	2	/* IN returned something else */

/*
 * Parameter block: magic, the number of each guest operation, then what
 * the guest measured: RDTSC ticks spent in each operation's loop.
 */
#define KFP_PARAMS_MAGIC	0x3150464b	/* "KFP1" */
#define KFP_PARAM_MAGIC		0
#define KFP_PARAM_N_OUT		4
#define KFP_PARAM_N_IN		8
#define KFP_PARAM_N_CPUID	12
#define KFP_PARAM_N_HLT		16
#define KFP_PARAM_N_MMIO	20
#define KFP_PARAM_TSC_OUT	24
#define KFP_PARAM_TSC_IN	32
#define KFP_PARAM_TSC_CPUID	40
#define KFP_PARAM_TSC_HLT	48
#define KFP_PARAM_TSC_MMIO	56
#define KFP_PARAMS_SIZE		64

#ifndef __ASSEMBLY__

#include <assert.h>
#include <stddef.h>
#include <linux/types.h>

struct kfp_guest_params {
	__u32 magic;		/* KFP_PARAMS_MAGIC */
	__u32 n_out;		/* OUT to KFP_PORT_WORK */
	__u32 n_in;		/* IN from KFP_PORT_WORK */
	__u32 n_cpuid;		/* CPUID leaf 0 */
	__u32 n_hlt;		/* HLT with interrupts disabled */
	__u32 n_mmio;		/* byte writes to KFP_MMIO_GPA */
	/* Written by the guest: TSC ticks for each loop above. */
	__u64 tsc_out;
	__u64 tsc_in;
	__u64 tsc_cpuid;
	__u64 tsc_hlt;
	__u64 tsc_mmio;
};

static_assert(offsetof(struct kfp_guest_params, magic) == KFP_PARAM_MAGIC,
	      "magic offset");
static_assert(offsetof(struct kfp_guest_params, n_out) == KFP_PARAM_N_OUT,
	      "n_out offset");
static_assert(offsetof(struct kfp_guest_params, n_in) == KFP_PARAM_N_IN,
	      "n_in offset");
static_assert(offsetof(struct kfp_guest_params, n_cpuid) == KFP_PARAM_N_CPUID,
	      "n_cpuid offset");
static_assert(offsetof(struct kfp_guest_params, n_hlt) == KFP_PARAM_N_HLT,
	      "n_hlt offset");
static_assert(offsetof(struct kfp_guest_params, n_mmio) == KFP_PARAM_N_MMIO,
	      "n_mmio offset");
static_assert(offsetof(struct kfp_guest_params, tsc_out) == KFP_PARAM_TSC_OUT,
	      "tsc_out offset");
static_assert(offsetof(struct kfp_guest_params, tsc_mmio) == KFP_PARAM_TSC_MMIO,
	      "tsc_mmio offset");
static_assert(sizeof(struct kfp_guest_params) == KFP_PARAMS_SIZE,
	      "parameter block size");
static_assert(KFP_PARAMS_GPA + KFP_PARAMS_SIZE <= KFP_GUEST_LOAD,
	      "parameter block overlaps guest code");
static_assert(KFP_STACK_TOP - KFP_MEM_GPA <= KFP_MEM_SIZE,
	      "stack outside guest memory");
static_assert(KFP_MMIO_GPA - KFP_MEM_GPA >= KFP_MEM_SIZE,
	      "MMIO target inside guest memory");

#endif /* __ASSEMBLY__ */

#endif /* KFP_GUEST_H */
