/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest memory layout and host/guest protocol shared by the test guests
 * (tools/kfp-run/guest_*.S), the launcher (kfp-run) and the selftests.
 * Includable from assembly: C-only parts are guarded by __ASSEMBLY__.
 *
 * Guest physical memory is one 512 KiB memslot at GPA 0:
 *
 *   0x00000  (free; the real-mode interrupt vector table, empty)
 *   0x01000  GDT (KFP_SEL_* below)
 *   0x01800  TSS (never used by the guest; VMX wants a valid TR)
 *   0x02000  IDT, all gates absent: an exception ends in a triple fault
 *   0x03000  long mode page tables: PML4, PDPT, PD; the PD maps the
 *   0x04000    first 1 GiB with 2 MiB pages, identity
 *   0x05000
 *   0x06000  per-vCPU areas, KFP_VCPU_AREA_SIZE each, up to
 *            KFP_MAX_VCPUS: parameter block at the start, stack
 *            growing down from the end
 *   0x0e000  long mode PD for 3 GiB to 4 GiB: maps the local APIC page
 *   0x0f000  buffer of the io-str workload (KFP_STR_BUF_SIZE bytes)
 *   0x10000  guest code (KFP_GUEST_LOAD), up to the end of the memslot
 *
 * All of it sits below 64 KiB except the code, so real-mode code reaches
 * it with segment base 0.  KFP_MMIO_GPA is outside every memslot (but
 * inside the identity map), so guest accesses to it exit to userspace as
 * KVM_EXIT_MMIO.  The guest talks to the host through the KFP_PORT_*
 * I/O ports; port 0x1000 is left alone (KVM selftests' ucall).
 *
 * Every vCPU starts at the same code with, whatever the mode:
 *   EDI  GPA of its parameter block (KFP_VCPU_PARAMS_GPA(id))
 *   ESI  its vCPU number
 *   ESP  top of its stack (KFP_VCPU_STACK_TOP(id))
 *   EFLAGS 0x2 (interrupts off), every other GPR 0
 *   FS   based at KFP_MMIO_GPA; CS, DS, ES, GS, SS flat (based at 0)
 * In real mode, CS:IP = (load >> 4):(load & 0xf).
 */
#ifndef KFP_GUEST_H
#define KFP_GUEST_H

/* gcc defines __ASSEMBLER__ for .S files; the kernel uses __ASSEMBLY__. */
#if defined(__ASSEMBLER__) && !defined(__ASSEMBLY__)
#define __ASSEMBLY__ 1
#endif

#define KFP_MEM_GPA		0x0
#define KFP_MEM_SIZE		0x80000
#define KFP_GDT_GPA		0x1000
#define KFP_TSS_GPA		0x1800
#define KFP_TSS_SIZE		0x68
#define KFP_IDT_GPA		0x2000
#define KFP_PML4_GPA		0x3000
#define KFP_PDPT_GPA		0x4000
#define KFP_PD_GPA		0x5000
#define KFP_SYS_END		0x6000	/* end of GDT, TSS, IDT and tables */
#define KFP_VCPU_AREA_GPA	0x6000
#define KFP_VCPU_AREA_SIZE	0x200
#define KFP_MAX_VCPUS		64
#define KFP_GUEST_LOAD		0x10000
#define KFP_GUEST_MAX_SIZE	0x1000	/* built-in guests: one code page */
#define KFP_MMIO_GPA		0xd0000
#define KFP_PD_HIGH_GPA		0xe000	/* long mode: 3 GiB to 4 GiB */
#define KFP_STR_BUF_GPA		0xf000
#define KFP_STR_BUF_SIZE	0x1000
#define KFP_APIC_GPA		0xfee00000	/* the local APIC (xAPIC mode) */
/* The l2-cpuid guest: its VMXON region, VMCS and L2's stack. */
#define KFP_L2_VMXON_GPA	0x20000
#define KFP_L2_VMCS_GPA		0x21000
#define KFP_L2_STACK_TOP	0x23000

#define KFP_VCPU_PARAMS_GPA(id)	(KFP_VCPU_AREA_GPA + (id) * KFP_VCPU_AREA_SIZE)
#define KFP_VCPU_STACK_TOP(id)	(KFP_VCPU_PARAMS_GPA(id) + KFP_VCPU_AREA_SIZE)

/* vCPU 0's parameter block and stack, for single-vCPU users. */
#define KFP_PARAMS_GPA		KFP_VCPU_PARAMS_GPA(0)
#define KFP_STACK_TOP		KFP_VCPU_STACK_TOP(0)

/* GDT selectors; the GDT the host builds has exactly these. */
#define KFP_SEL_CODE32		0x08	/* flat 32-bit code */
#define KFP_SEL_DATA		0x10	/* flat data, also the stack */
#define KFP_SEL_CODE64		0x18	/* 64-bit code */
#define KFP_SEL_MMIO		0x20	/* data based at KFP_MMIO_GPA, 64 KiB */
#define KFP_SEL_TSS		0x28	/* busy TSS at KFP_TSS_GPA (16 bytes) */
#define KFP_GDT_ENTRIES		7

/*
 * Long mode identity map: 512 PD entries of 2 MiB, and one more 2 MiB
 * page in the PD at KFP_PD_HIGH_GPA, the one that holds KFP_APIC_GPA.
 */
#define KFP_IDMAP_SIZE		0x40000000

/*
 * The irq workload: the guest points this IDT vector at its handler,
 * sends itself a fixed interrupt of it through the APIC's ICR (register
 * offsets below), and HLTs with it pending.  Prot and long mode only.
 */
#define KFP_IRQ_VECTOR		0x40
#define KFP_APIC_REG_EOI	0x0b0
#define KFP_APIC_REG_SVR	0x0f0
#define KFP_APIC_REG_ICR_LO	0x300
#define KFP_APIC_SVR_ENABLE	0x1ff	/* APIC on, spurious vector 0xff */
#define KFP_APIC_ICR_SELF	0x40000	/* destination shorthand: self */

/* Guest -> host I/O ports, all accessed a byte at a time. */
#define KFP_PORT_WORK		0x510	/* OUT/IN workload */
#define KFP_PORT_MARK		0x511	/* warm-up done, measurement starts */
#define KFP_PORT_DONE		0x512	/* finished; AL = KFP_STATUS_* */
#define KFP_PORT_SERIAL		0xe9	/* bytes written here go to stdout */
#define KFP_PORT_STR		0x513	/* OUTSB/INSB of the io-str workload */

/* The byte the host returns for every IN from KFP_PORT_WORK. */
#define KFP_IN_VALUE		0xa5
/* The byte the guest writes with every OUT of the io-out workload. */
#define KFP_OUT_VALUE		0xff

/*
 * The MSR the msr workload writes: IA32_PAT, with its reset value, so
 * the write changes nothing.  KVM intercepts it (it is not in VMX's
 * pass-through list) and completes it in the kernel.
 */
#define KFP_MSR_INDEX		0x277
#define KFP_MSR_VALUE_LO	0x00070406
#define KFP_MSR_VALUE_HI	0x00070406

/*
 * The hypercall number the vmcall workload puts in RAX: one KVM does not
 * know, so stock KVM completes it in the kernel with RAX = -KVM_ENOSYS
 * (-1000; in 16- and 32-bit code only EAX, 0xfffffc18, is visible).
 */
#define KFP_VMCALL_NR		0x7fffffff
#define KFP_VMCALL_ENOSYS	0xfffffc18	/* low 32 bits of -1000 */

/* Which instruction the vmcall workload executes (vmcall_insn). */
#define KFP_VMCALL_INSN_VMCALL	0	/* Intel VMX */
#define KFP_VMCALL_INSN_VMMCALL	1	/* AMD SVM */

/* Status the guest reports in AL with its OUT to KFP_PORT_DONE. */
#define KFP_STATUS_OK		0
#define KFP_STATUS_BAD_MAGIC	1	/* parameter block not set up */
#define KFP_STATUS_BAD_IN	2	/* IN returned something else */
#define KFP_STATUS_BAD_IRQ	3	/* interrupts taken != HLTs (irq) */
#define KFP_STATUS_BAD_INS	4	/* INSB stored something else */
#define KFP_STATUS_BAD_L2	5	/* l2-cpuid: an exit or a count wrong */
#define KFP_STATUS_VMX_FAIL	6	/* l2-cpuid: a VMX instruction failed */

/*
 * Parameter block, one per vCPU: magic, counts and workload settings
 * written by the host, then what the guest writes: its HLT progress (for
 * the host's wake-ups, see Documentation/usage.rst), the RDTSC ticks
 * spent in each loop, the registers its last CPUID returned and RAX
 * after its last VMCALL.
 */
#define KFP_PARAMS_MAGIC	0x3350464b	/* "KFP3" */
#define KFP_PARAM_MAGIC		0
#define KFP_PARAM_VCPU		4
#define KFP_PARAM_N_OUT		8
#define KFP_PARAM_N_IN		12
#define KFP_PARAM_N_CPUID	16
#define KFP_PARAM_N_HLT		20
#define KFP_PARAM_N_MMIO	24
#define KFP_PARAM_N_MSR		28
#define KFP_PARAM_OUT_PORT	32
#define KFP_PARAM_HLT_ARMED	36
#define KFP_PARAM_HLT_WOKEN	40
#define KFP_PARAM_N_VMCALL	44
#define KFP_PARAM_TSC_OUT	48
#define KFP_PARAM_TSC_IN	56
#define KFP_PARAM_TSC_CPUID	64
#define KFP_PARAM_TSC_HLT	72
#define KFP_PARAM_TSC_MMIO	80
#define KFP_PARAM_TSC_MSR	88
#define KFP_PARAM_TSC_START	96
#define KFP_PARAM_TSC_VMCALL	104
#define KFP_PARAM_CPUID_LEAF	112
#define KFP_PARAM_CPUID_SUBLEAF	116
#define KFP_PARAM_VMCALL_INSN	120
#define KFP_PARAM_N_IRQ		124
#define KFP_PARAM_CPUID_EAX	128
#define KFP_PARAM_CPUID_EBX	132
#define KFP_PARAM_CPUID_ECX	136
#define KFP_PARAM_CPUID_EDX	140
#define KFP_PARAM_VMCALL_RAX	144
#define KFP_PARAM_IRQ_TAKEN	152
#define KFP_PARAM_N_STR		156
#define KFP_PARAM_TSC_IRQ	160
#define KFP_PARAM_TSC_STR	168
#define KFP_PARAM_N_L2		176
#define KFP_PARAM_L2_SEEN	180
#define KFP_PARAM_L2_ERROR	184
#define KFP_PARAM_IRQ_EARLY	188
#define KFP_PARAMS_SIZE		192

#ifndef __ASSEMBLY__

#include <assert.h>
#include <stddef.h>
#include <linux/types.h>

struct kfp_guest_params {
	__u32 magic;		/* KFP_PARAMS_MAGIC */
	__u32 vcpu;		/* vCPU number */
	__u32 n_out;		/* OUT to out_port */
	__u32 n_in;		/* IN from KFP_PORT_WORK */
	__u32 n_cpuid;		/* CPUID of cpuid_leaf.cpuid_subleaf */
	__u32 n_hlt;		/* HLT with interrupts disabled */
	__u32 n_mmio;		/* byte writes to KFP_MMIO_GPA */
	__u32 n_msr;		/* WRMSR of KFP_MSR_INDEX */
	__u32 out_port;		/* KFP_PORT_WORK unless asked otherwise */
	/* Written by the guest. */
	__u32 hlt_armed;	/* HLTs started: set just before each HLT */
	__u32 hlt_woken;	/* HLTs finished: set just after each HLT */
	__u32 n_vmcall;		/* VMCALL/VMMCALL with RAX = KFP_VMCALL_NR */
	__u64 tsc_out;		/* TSC ticks for each loop */
	__u64 tsc_in;
	__u64 tsc_cpuid;
	__u64 tsc_hlt;
	__u64 tsc_mmio;
	__u64 tsc_msr;
	__u64 tsc_start;	/* scratch */
	__u64 tsc_vmcall;
	__u32 cpuid_leaf;	/* EAX and ECX for every CPUID */
	__u32 cpuid_subleaf;
	__u32 vmcall_insn;	/* KFP_VMCALL_INSN_* */
	__u32 n_irq;		/* self-IPI, STI, HLT (irq workload) */
	/* Written by the guest after its last CPUID and VMCALL, if any. */
	__u32 cpuid_eax;
	__u32 cpuid_ebx;
	__u32 cpuid_ecx;
	__u32 cpuid_edx;
	__u64 vmcall_rax;	/* 16/32-bit modes: EAX, zero-extended */
	__u32 irq_taken;	/* written by the guest's interrupt handler */
	__u32 n_str;		/* io-str: N OUTSB, REP OUTSB of N, same for INSB */
	__u64 tsc_irq;
	__u64 tsc_str;
	__u32 n_l2;		/* l2-cpuid: CPUIDs L2 makes */
	__u32 l2_seen;		/* written by L1: the CPUID exits it took */
	__u32 l2_error;		/* VM-instruction error, or L2's exit reason */
	__u32 irq_early;	/* interrupts taken inside the STI shadow, re-armed */
};

#define KFP_PARAM_CHECK(field, off) \
	static_assert(offsetof(struct kfp_guest_params, field) == (off), \
		      #field " offset")
KFP_PARAM_CHECK(magic, KFP_PARAM_MAGIC);
KFP_PARAM_CHECK(vcpu, KFP_PARAM_VCPU);
KFP_PARAM_CHECK(n_out, KFP_PARAM_N_OUT);
KFP_PARAM_CHECK(n_in, KFP_PARAM_N_IN);
KFP_PARAM_CHECK(n_cpuid, KFP_PARAM_N_CPUID);
KFP_PARAM_CHECK(n_hlt, KFP_PARAM_N_HLT);
KFP_PARAM_CHECK(n_mmio, KFP_PARAM_N_MMIO);
KFP_PARAM_CHECK(n_msr, KFP_PARAM_N_MSR);
KFP_PARAM_CHECK(out_port, KFP_PARAM_OUT_PORT);
KFP_PARAM_CHECK(hlt_armed, KFP_PARAM_HLT_ARMED);
KFP_PARAM_CHECK(hlt_woken, KFP_PARAM_HLT_WOKEN);
KFP_PARAM_CHECK(tsc_out, KFP_PARAM_TSC_OUT);
KFP_PARAM_CHECK(tsc_in, KFP_PARAM_TSC_IN);
KFP_PARAM_CHECK(tsc_cpuid, KFP_PARAM_TSC_CPUID);
KFP_PARAM_CHECK(tsc_hlt, KFP_PARAM_TSC_HLT);
KFP_PARAM_CHECK(tsc_mmio, KFP_PARAM_TSC_MMIO);
KFP_PARAM_CHECK(tsc_msr, KFP_PARAM_TSC_MSR);
KFP_PARAM_CHECK(tsc_start, KFP_PARAM_TSC_START);
KFP_PARAM_CHECK(n_vmcall, KFP_PARAM_N_VMCALL);
KFP_PARAM_CHECK(tsc_vmcall, KFP_PARAM_TSC_VMCALL);
KFP_PARAM_CHECK(cpuid_leaf, KFP_PARAM_CPUID_LEAF);
KFP_PARAM_CHECK(cpuid_subleaf, KFP_PARAM_CPUID_SUBLEAF);
KFP_PARAM_CHECK(vmcall_insn, KFP_PARAM_VMCALL_INSN);
KFP_PARAM_CHECK(cpuid_eax, KFP_PARAM_CPUID_EAX);
KFP_PARAM_CHECK(cpuid_ebx, KFP_PARAM_CPUID_EBX);
KFP_PARAM_CHECK(cpuid_ecx, KFP_PARAM_CPUID_ECX);
KFP_PARAM_CHECK(cpuid_edx, KFP_PARAM_CPUID_EDX);
KFP_PARAM_CHECK(vmcall_rax, KFP_PARAM_VMCALL_RAX);
KFP_PARAM_CHECK(n_irq, KFP_PARAM_N_IRQ);
KFP_PARAM_CHECK(irq_taken, KFP_PARAM_IRQ_TAKEN);
KFP_PARAM_CHECK(n_str, KFP_PARAM_N_STR);
KFP_PARAM_CHECK(tsc_irq, KFP_PARAM_TSC_IRQ);
KFP_PARAM_CHECK(tsc_str, KFP_PARAM_TSC_STR);
KFP_PARAM_CHECK(n_l2, KFP_PARAM_N_L2);
KFP_PARAM_CHECK(l2_seen, KFP_PARAM_L2_SEEN);
KFP_PARAM_CHECK(l2_error, KFP_PARAM_L2_ERROR);
KFP_PARAM_CHECK(irq_early, KFP_PARAM_IRQ_EARLY);
#undef KFP_PARAM_CHECK

static_assert(sizeof(struct kfp_guest_params) == KFP_PARAMS_SIZE,
	      "parameter block size");
static_assert(KFP_VCPU_AREA_SIZE - KFP_PARAMS_SIZE >= KFP_PARAMS_SIZE,
	      "parameter block leaves too little stack");
static_assert(KFP_TSS_GPA + KFP_TSS_SIZE <= KFP_IDT_GPA, "TSS overlaps IDT");
static_assert(KFP_GDT_GPA + KFP_GDT_ENTRIES * 8 <= KFP_TSS_GPA,
	      "GDT overlaps TSS");
static_assert(KFP_SEL_TSS / 8 + 2 == KFP_GDT_ENTRIES, "GDT size");
static_assert(KFP_SYS_END <= KFP_VCPU_AREA_GPA, "tables overlap vCPU areas");
static_assert(KFP_VCPU_STACK_TOP(KFP_MAX_VCPUS - 1) < 0x10000,
	      "vCPU areas out of real-mode reach");
static_assert(KFP_VCPU_STACK_TOP(KFP_MAX_VCPUS - 1) <= KFP_GUEST_LOAD,
	      "vCPU areas overlap guest code");
static_assert(KFP_GUEST_LOAD + KFP_GUEST_MAX_SIZE <= KFP_MEM_GPA + KFP_MEM_SIZE,
	      "guest code outside guest memory");
static_assert(KFP_MMIO_GPA - KFP_MEM_GPA >= KFP_MEM_SIZE,
	      "MMIO target inside guest memory");
static_assert(KFP_MMIO_GPA < KFP_IDMAP_SIZE, "MMIO target not mapped");
static_assert(KFP_VCPU_STACK_TOP(KFP_MAX_VCPUS - 1) <= KFP_PD_HIGH_GPA,
	      "vCPU areas overlap the high PD");
static_assert(KFP_STR_BUF_GPA + KFP_STR_BUF_SIZE <= KFP_GUEST_LOAD,
	      "string buffer overlaps guest code");
static_assert(KFP_GUEST_LOAD + KFP_GUEST_MAX_SIZE <= KFP_L2_VMXON_GPA,
	      "l2-cpuid pages overlap guest code");
static_assert(KFP_MEM_GPA + KFP_MEM_SIZE >= KFP_L2_STACK_TOP,
	      "l2-cpuid pages outside guest memory");

#endif /* __ASSEMBLY__ */

#endif /* KFP_GUEST_H */
