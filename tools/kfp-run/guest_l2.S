/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The l2-cpuid guest (long mode only): an L1 hypervisor in a page.  It
 * enters VMX operation, builds one VMCS for an L2 guest that shares its
 * page tables, GDT and code (no EPT, no VPID), and runs it.  L2 makes
 * n_l2 CPUIDs of leaf 0, then a VMCALL; L1 takes each CPUID exit, counts
 * it in l2_seen and skips the instruction, and ends with the usual OUT
 * to KFP_PORT_DONE.  L1 itself makes no CPUID, so every CPUID exit the
 * host sees comes from L2.
 *
 * L2 inherits L1's general-purpose registers at VMLAUNCH: %r12 is its
 * loop count; %edi (the parameter block) is left alone by both.  A VMX
 * instruction that fails ends the run with KFP_STATUS_VMX_FAIL and the
 * VM-instruction error (or 0xffffffff for VMfailInvalid) in l2_error.
 */
#include "kfp_guest.h"
#include "guest_start.S"

/* VMCS field encodings (Intel SDM, appendix B). */
#define F_PIN_CTLS		0x4000
#define F_PROC_CTLS		0x4002
#define F_EXC_BITMAP		0x4004
#define F_CR3_TARGETS		0x400a
#define F_EXIT_CTLS		0x400c
#define F_ENTRY_CTLS		0x4012
#define F_LINK_PTR		0x2800
#define F_GUEST_DEBUGCTL	0x2802
#define F_INSN_ERROR		0x4400
#define F_EXIT_REASON		0x4402
#define F_EXIT_INSN_LEN		0x440c
#define F_GUEST_ES_SEL		0x0800	/* ES, CS, SS, DS, FS, GS, LDTR, TR */
#define F_GUEST_ES_LIMIT	0x4800	/* the same order, then GDTR, IDTR */
#define F_GUEST_ES_AR		0x4814
#define F_GUEST_ES_BASE		0x6806
#define F_GUEST_GDTR_LIMIT	0x4810
#define F_GUEST_IDTR_LIMIT	0x4812
#define F_GUEST_GDTR_BASE	0x6816
#define F_GUEST_IDTR_BASE	0x6818
#define F_GUEST_INTR_STATE	0x4824
#define F_GUEST_ACTIVITY	0x4826
#define F_GUEST_SYSENTER_CS	0x482a
#define F_GUEST_CR0		0x6800
#define F_GUEST_CR3		0x6802
#define F_GUEST_CR4		0x6804
#define F_GUEST_DR7		0x681a
#define F_GUEST_RSP		0x681c
#define F_GUEST_RIP		0x681e
#define F_GUEST_RFLAGS		0x6820
#define F_GUEST_PENDING_DBG	0x6822
#define F_GUEST_SYSENTER_ESP	0x6824
#define F_GUEST_SYSENTER_EIP	0x6826
#define F_HOST_ES_SEL		0x0c00	/* ES, CS, SS, DS, FS, GS, TR */
#define F_HOST_SYSENTER_CS	0x4c00
#define F_HOST_CR0		0x6c00
#define F_HOST_CR3		0x6c02
#define F_HOST_CR4		0x6c04
#define F_HOST_FS_BASE		0x6c06
#define F_HOST_GS_BASE		0x6c08
#define F_HOST_TR_BASE		0x6c0a
#define F_HOST_GDTR_BASE	0x6c0c
#define F_HOST_IDTR_BASE	0x6c0e
#define F_HOST_SYSENTER_ESP	0x6c10
#define F_HOST_SYSENTER_EIP	0x6c12
#define F_HOST_RSP		0x6c14
#define F_HOST_RIP		0x6c16

#define MSR_FEATURE_CONTROL	0x3a
#define MSR_VMX_BASIC		0x480
#define MSR_VMX_PINBASED	0x481
#define MSR_VMX_PROCBASED	0x482
#define MSR_VMX_EXIT		0x483
#define MSR_VMX_ENTRY		0x484

#define EXIT_REASON_CPUID	10
#define EXIT_REASON_VMCALL	18

#define CR4_VMXE		0x2000
#define EXIT_HOST_64		0x200	/* host address-space size */
#define ENTRY_GUEST_64		0x200	/* IA-32e mode guest */

/* Access rights: 64-bit code, flat data, busy 64-bit TSS, unusable. */
#define AR_CODE64		0xa09b
#define AR_DATA			0xc093
#define AR_TSS			0x008b
#define AR_UNUSABLE		0x10000
#define TR_LIMIT		(KFP_TSS_SIZE-1)

/* VMWRITE \value (an immediate or a register) to \field; fail on error. */
.macro VMW field, value
	movl	$\field, %edx
	movq	\value, %rax
	vmwrite	%rax, %rdx
	jbe	.Lvmfail
.endm

/* A control field: the bits \want, plus those the MSR says must be 1. */
.macro VMCTL field, msr, want
	movl	$\msr, %ecx
	rdmsr
	orl	$\want, %eax
	andl	%edx, %eax
	movl	$\field, %edx
	vmwrite	%rax, %rdx
	jbe	.Lvmfail
.endm

/* Guest segment \off (ES 0, CS 2, ... TR 14): access rights, limit, base. */
.macro GSEG off, ar, limit, base
	VMW	F_GUEST_ES_AR + \off, $\ar
	VMW	F_GUEST_ES_LIMIT + \off, $\limit
	VMW	F_GUEST_ES_BASE + \off, $\base
.endm

	.section .rodata.kfp_guest, "a"
	.code64

	.globl	kfp_guest_l2_start
kfp_guest_l2_start:
	cld
	KFP_GUEST_WARMUP .Ldone

	/* Allow VMXON: lock IA32_FEATURE_CONTROL with it enabled. */
	movl	$MSR_FEATURE_CONTROL, %ecx
	rdmsr
	testl	$1, %eax
	jnz	1f
	orl	$5, %eax
	wrmsr
1:
	movq	%cr4, %rax
	orq	$CR4_VMXE, %rax
	movq	%rax, %cr4

	/* VMXON and VMCS regions start with the VMCS revision. */
	movl	$MSR_VMX_BASIC, %ecx
	rdmsr
	andl	$0x7fffffff, %eax
	movl	%eax, KFP_L2_VMXON_GPA
	movl	%eax, KFP_L2_VMCS_GPA
	pushq	$KFP_L2_VMXON_GPA
	vmxon	(%rsp)
	jbe	.Lvmfail
	movq	$KFP_L2_VMCS_GPA, (%rsp)
	vmclear	(%rsp)
	jbe	.Lvmfail
	vmptrld	(%rsp)
	jbe	.Lvmfail
	popq	%rax

	VMCTL	F_PIN_CTLS, MSR_VMX_PINBASED, 0
	VMCTL	F_PROC_CTLS, MSR_VMX_PROCBASED, 0
	VMCTL	F_EXIT_CTLS, MSR_VMX_EXIT, EXIT_HOST_64
	VMCTL	F_ENTRY_CTLS, MSR_VMX_ENTRY, ENTRY_GUEST_64
	VMW	F_EXC_BITMAP, $0
	VMW	F_CR3_TARGETS, $0
	VMW	F_LINK_PTR, $-1

	/* Host: this code, as it runs now. */
	movq	%cr0, %rbx
	VMW	F_HOST_CR0, %rbx
	VMW	F_GUEST_CR0, %rbx
	movq	%cr3, %rbx
	VMW	F_HOST_CR3, %rbx
	VMW	F_GUEST_CR3, %rbx
	movq	%cr4, %rbx
	VMW	F_HOST_CR4, %rbx
	VMW	F_GUEST_CR4, %rbx
	VMW	F_HOST_ES_SEL, $KFP_SEL_DATA
	VMW	F_HOST_ES_SEL + 2, $KFP_SEL_CODE64
	VMW	F_HOST_ES_SEL + 4, $KFP_SEL_DATA
	VMW	F_HOST_ES_SEL + 6, $KFP_SEL_DATA
	VMW	F_HOST_ES_SEL + 8, $KFP_SEL_DATA
	VMW	F_HOST_ES_SEL + 10, $KFP_SEL_DATA
	VMW	F_HOST_ES_SEL + 12, $KFP_SEL_TSS
	VMW	F_HOST_FS_BASE, $0
	VMW	F_HOST_GS_BASE, $0
	VMW	F_HOST_TR_BASE, $KFP_TSS_GPA
	VMW	F_HOST_GDTR_BASE, $KFP_GDT_GPA
	VMW	F_HOST_IDTR_BASE, $KFP_IDT_GPA
	VMW	F_HOST_SYSENTER_CS, $0
	VMW	F_HOST_SYSENTER_ESP, $0
	VMW	F_HOST_SYSENTER_EIP, $0
	VMW	F_HOST_RSP, %rsp
	leaq	.Lexit(%rip), %rbx
	VMW	F_HOST_RIP, %rbx

	/* L2: flat 64-bit, the same tables, its own stack. */
	VMW	F_GUEST_ES_SEL, $KFP_SEL_DATA
	VMW	F_GUEST_ES_SEL + 2, $KFP_SEL_CODE64
	VMW	F_GUEST_ES_SEL + 4, $KFP_SEL_DATA
	VMW	F_GUEST_ES_SEL + 6, $KFP_SEL_DATA
	VMW	F_GUEST_ES_SEL + 8, $KFP_SEL_DATA
	VMW	F_GUEST_ES_SEL + 10, $KFP_SEL_DATA
	VMW	F_GUEST_ES_SEL + 12, $0
	VMW	F_GUEST_ES_SEL + 14, $KFP_SEL_TSS
	GSEG	0, AR_DATA, 0xffffffff, 0		/* ES */
	GSEG	2, AR_CODE64, 0xffffffff, 0		/* CS */
	GSEG	4, AR_DATA, 0xffffffff, 0		/* SS */
	GSEG	6, AR_DATA, 0xffffffff, 0		/* DS */
	GSEG	8, AR_DATA, 0xffffffff, 0		/* FS */
	GSEG	10, AR_DATA, 0xffffffff, 0		/* GS */
	GSEG	12, AR_UNUSABLE, 0, 0			/* LDTR */
	GSEG	14, AR_TSS, TR_LIMIT, KFP_TSS_GPA	/* TR */
	VMW	F_GUEST_GDTR_LIMIT, $(KFP_GDT_ENTRIES * 8 - 1)
	VMW	F_GUEST_GDTR_BASE, $KFP_GDT_GPA
	VMW	F_GUEST_IDTR_LIMIT, $(256 * 16 - 1)
	VMW	F_GUEST_IDTR_BASE, $KFP_IDT_GPA
	VMW	F_GUEST_DR7, $0x400
	VMW	F_GUEST_DEBUGCTL, $0
	VMW	F_GUEST_RFLAGS, $2
	VMW	F_GUEST_RSP, $KFP_L2_STACK_TOP
	leaq	.Ll2(%rip), %rbx
	VMW	F_GUEST_RIP, %rbx
	VMW	F_GUEST_INTR_STATE, $0
	VMW	F_GUEST_ACTIVITY, $0
	VMW	F_GUEST_PENDING_DBG, $0
	VMW	F_GUEST_SYSENTER_CS, $0
	VMW	F_GUEST_SYSENTER_ESP, $0
	VMW	F_GUEST_SYSENTER_EIP, $0

	movl	KFP_PARAM_N_L2(%edi), %r12d
	testl	%r12d, %r12d
	jz	.Lcheck
	vmlaunch
	jmp	.Lvmfail

	/* L2: n_l2 CPUIDs of leaf 0, then back to L1 for good. */
.Ll2:
	xorl	%eax, %eax
	xorl	%ecx, %ecx
	cpuid
	decl	%r12d
	jnz	.Ll2
	vmcall
	ud2

	/* L1's exit handler: %rsp as at VMLAUNCH, L2's registers. */
.Lexit:
	movl	$F_EXIT_REASON, %edx
	vmread	%rdx, %rax
	movl	%eax, KFP_PARAM_L2_ERROR(%edi)
	cmpw	$EXIT_REASON_VMCALL, %ax
	je	.Lcheck
	cmpw	$EXIT_REASON_CPUID, %ax
	jne	.Lbad_exit
	incl	KFP_PARAM_L2_SEEN(%edi)
	movl	$F_GUEST_RIP, %edx
	vmread	%rdx, %rax
	movl	$F_EXIT_INSN_LEN, %edx
	vmread	%rdx, %rcx
	addq	%rcx, %rax
	movl	$F_GUEST_RIP, %edx
	vmwrite	%rax, %rdx
	jbe	.Lvmfail
	vmresume
	jmp	.Lvmfail

.Lcheck:
	movl	$0, KFP_PARAM_L2_ERROR(%edi)
	movl	KFP_PARAM_N_L2(%edi), %eax
	cmpl	%eax, KFP_PARAM_L2_SEEN(%edi)
	movb	$KFP_STATUS_BAD_L2, %al
	jne	.Ldone
	movb	$KFP_STATUS_OK, %al
.Ldone:
	movw	$KFP_PORT_DONE, %dx
	outb	%al, %dx
.Lhalt:
	hlt
	jmp	.Lhalt

	/* An exit L1 did not expect: its reason is in l2_error. */
.Lbad_exit:
	movb	$KFP_STATUS_BAD_L2, %al
	jmp	.Ldone

	/* VMfailValid: the VM-instruction error; VMfailInvalid: all ones. */
.Lvmfail:
	movl	$-1, %ecx
	jc	1f
	movl	$F_INSN_ERROR, %edx
	vmread	%rdx, %rcx
1:	movl	%ecx, KFP_PARAM_L2_ERROR(%edi)
	movb	$KFP_STATUS_VMX_FAIL, %al
	jmp	.Ldone

	.globl	kfp_guest_l2_end
kfp_guest_l2_end:

	.section .note.GNU-stack, "", @progbits
