/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A long-mode guest for "kfp-run --mode long --guest" that is itself a
 * tiny SVM hypervisor: it makes L1_OUTS OUTs to the work port, then runs
 * an L2 guest that makes L2_OUTS OUTs to the same port, intercepted by
 * this L1 through its I/O permission map, and ends with VMMCALL.  It
 * reports with an OUT to the done port: AL = 0 when it saw exactly
 * L2_OUTS IO exits and then the VMMCALL, STATUS_NO_SVM when its CPU has
 * no SVM (nothing was run in L2), else another non-zero status.
 *
 * So KVM sees L1_OUTS + 1 IO exits from L1 and L2_OUTS from L2; a fast
 * path must leave the L2 ones to KVM, which reflects them to this L1.
 *
 * Memory (kfp-run's 512 KiB, identity-mapped): code at the load address,
 * the VMCB, host save area, IOPM (12 KiB) and MSRPM (8 KiB) from 0x20000,
 * L2's stack below 0x28000.  VMCB offsets and bits are AMD's (APM vol. 2,
 * appendix B; KVM's asm/svm.h).
 */
#include "kfp_guest.h"

#define L1_OUTS		20
#define L2_OUTS		50

#define STATUS_NO_SVM		0x20
#define STATUS_BAD_EXIT		0x21
#define STATUS_BAD_COUNT	0x22

#define VMCB		0x20000
#define HSAVE		0x21000
#define IOPM		0x22000
#define MSRPM		0x25000
#define L2_STACK	0x28000
#define AREA_END	0x27000

#define MSR_EFER	0xc0000080
#define EFER_SVME	0x1000
#define MSR_VM_HSAVE_PA	0xc0010117

/* VMCB control area */
#define C_INTERCEPT3	0x00c	/* bit 27: IOIO_PROT */
#define C_INTERCEPT4	0x010	/* bit 0: VMRUN, bit 1: VMMCALL */
#define C_IOPM		0x040
#define C_MSRPM		0x048
#define C_ASID		0x058
#define C_EXIT_CODE	0x070
#define C_EXIT_INFO2	0x080
/* VMCB state save area: segments are selector, attrib, limit, base */
#define S_ES		0x400
#define S_CS		0x410
#define S_SS		0x420
#define S_DS		0x430
#define S_GDTR		0x460
#define S_IDTR		0x480
#define S_TR		0x490
#define S_EFER		0x4d0
#define S_CR4		0x548
#define S_CR3		0x550
#define S_CR0		0x558
#define S_DR7		0x560
#define S_DR6		0x568
#define S_RFLAGS	0x570
#define S_RIP		0x578
#define S_RSP		0x5d8

#define SVM_EXIT_IOIO		0x7b
#define SVM_EXIT_VMMCALL	0x81

/* seg OFF SEL ATTRIB LIMIT BASE: one segment of the save area */
.macro seg off, sel, attrib, limit, base
	movw	$\sel, VMCB + \off
	movw	$\attrib, VMCB + \off + 2
	movl	$\limit, VMCB + \off + 4
	movq	$\base, VMCB + \off + 8
.endm

	.text
	.code64
	.globl	_start
_start:
	/* L1's own OUTs: these are L1 exits. */
	movl	$L1_OUTS, %ecx
	movw	$KFP_PORT_WORK, %dx
	movb	$KFP_OUT_VALUE, %al
1:	outb	%al, %dx
	loop	1b

	movl	$0x80000001, %eax
	cpuid
	movb	$STATUS_NO_SVM, %bl
	btl	$2, %ecx
	jnc	.Ldone

	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_SVME, %eax
	wrmsr
	movl	$MSR_VM_HSAVE_PA, %ecx
	movl	$HSAVE, %eax
	xorl	%edx, %edx
	wrmsr

	movl	$VMCB, %edi
	movl	$(AREA_END - VMCB) / 8, %ecx
	xorl	%eax, %eax
	rep stosq
	/* Intercept the work port only. */
	orb	$1 << (KFP_PORT_WORK % 8), IOPM + KFP_PORT_WORK / 8

	movl	$1 << 27, VMCB + C_INTERCEPT3
	movl	$3, VMCB + C_INTERCEPT4
	movq	$IOPM, VMCB + C_IOPM
	movq	$MSRPM, VMCB + C_MSRPM
	movl	$1, VMCB + C_ASID

	/* L2 runs in L1's flat long-mode world, on its own stack. */
	seg	S_CS, KFP_SEL_CODE64, 0x029b, 0xffffffff, 0
	seg	S_DS, KFP_SEL_DATA, 0x0c93, 0xffffffff, 0
	seg	S_ES, KFP_SEL_DATA, 0x0c93, 0xffffffff, 0
	seg	S_SS, KFP_SEL_DATA, 0x0c93, 0xffffffff, 0
	seg	S_TR, KFP_SEL_TSS, 0x008b, (KFP_TSS_SIZE-1), KFP_TSS_GPA
	sgdt	-16(%rsp)
	movzwl	-16(%rsp), %eax
	movl	%eax, VMCB + S_GDTR + 4
	movq	-14(%rsp), %rax
	movq	%rax, VMCB + S_GDTR + 8
	sidt	-16(%rsp)
	movzwl	-16(%rsp), %eax
	movl	%eax, VMCB + S_IDTR + 4
	movq	-14(%rsp), %rax
	movq	%rax, VMCB + S_IDTR + 8
	movl	$MSR_EFER, %ecx
	rdmsr
	movl	%eax, VMCB + S_EFER
	movl	%edx, VMCB + S_EFER + 4
	movq	%cr0, %rax
	movq	%rax, VMCB + S_CR0
	movq	%cr3, %rax
	movq	%rax, VMCB + S_CR3
	movq	%cr4, %rax
	movq	%rax, VMCB + S_CR4
	movq	$0x400, VMCB + S_DR7
	movl	$0xffff0ff0, VMCB + S_DR6	/* the high half is zero */
	movq	$2, VMCB + S_RFLAGS
	leaq	.Ll2(%rip), %rax
	movq	%rax, VMCB + S_RIP
	movq	$L2_STACK, VMCB + S_RSP

	xorl	%esi, %esi		/* IO exits seen */
.Lrun:
	movl	$VMCB, %eax
	vmrun
	movl	VMCB + C_EXIT_CODE, %eax
	cmpl	$SVM_EXIT_IOIO, %eax
	jne	1f
	incl	%esi
	movq	VMCB + C_EXIT_INFO2, %rax	/* the next RIP */
	movq	%rax, VMCB + S_RIP
	jmp	.Lrun
1:	movb	$STATUS_BAD_EXIT, %bl
	cmpl	$SVM_EXIT_VMMCALL, %eax
	jne	.Ldone
	movb	$STATUS_BAD_COUNT, %bl
	cmpl	$L2_OUTS, %esi
	jne	.Ldone
	xorl	%ebx, %ebx
.Ldone:
	movb	%bl, %al
	movw	$KFP_PORT_DONE, %dx
	outb	%al, %dx
	hlt

	/* L2 */
.Ll2:
	movl	$L2_OUTS, %ecx
	movw	$KFP_PORT_WORK, %dx
	movb	$0x5a, %al
2:	outb	%al, %dx
	loop	2b
	vmmcall
	ud2
