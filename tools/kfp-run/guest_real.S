/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real-mode test guest.  Assembled into the host binary as read-only data
 * between kfp_guest_real_start and kfp_guest_real_end; the host copies it
 * to KFP_GUEST_LOAD and starts it at CS:IP = 0000:KFP_GUEST_LOAD with
 * interrupts disabled.
 *
 * The guest first touches every page it uses (code, parameter block,
 * stack), so that none of its own memory causes an EPT violation later,
 * and tells the host with an OUT to KFP_PORT_MARK.  From then on it does
 * exactly the operations the parameter block asks for, one kind after the
 * other, and reports with an OUT of the status in AL to KFP_PORT_DONE.
 *
 * Loop counts live in %esi, which neither CPUID nor IN/OUT clobber.  All
 * jumps are relative, so the code does not depend on where it is loaded;
 * absolute references to guest code would have to be computed as
 * KFP_GUEST_LOAD + (label - kfp_guest_real_start).
 */
#include "kfp_guest.h"

#define PARAM(off)	(KFP_PARAMS_GPA + (off))

/* Time a loop with RDTSC; %edi:%ebp hold the start (CPUID spares them). */
.macro TIMED_BEGIN
	rdtsc
	movl	%eax, %edi
	movl	%edx, %ebp
.endm

.macro TIMED_END off
	rdtsc
	subl	%edi, %eax
	sbbl	%ebp, %edx
	movl	%eax, PARAM(\off)
	movl	%edx, PARAM(\off + 4)
.endm

	.section .rodata.kfp_guest, "a"
	.code16

	.globl	kfp_guest_real_start
kfp_guest_real_start:
	cli
	cld
	xorl	%eax, %eax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movl	$KFP_STACK_TOP, %esp

	/* Warm-up: read the parameter page, write the stack page. */
	movl	PARAM(KFP_PARAM_MAGIC), %eax
	pushl	%eax
	popl	%ebx
	movb	$KFP_STATUS_BAD_MAGIC, %al
	cmpl	$KFP_PARAMS_MAGIC, %ebx
	jne	.Ldone

	/* Real-mode segment whose base is the MMIO target. */
	movw	$(KFP_MMIO_GPA >> 4), %ax
	movw	%ax, %fs

	movw	$KFP_PORT_MARK, %dx
	outb	%al, %dx

	/* n_out byte OUTs to the work port. */
	TIMED_BEGIN
	movw	$KFP_PORT_WORK, %dx
	movl	PARAM(KFP_PARAM_N_OUT), %esi
	testl	%esi, %esi
	jz	.Lout_end
.Lout_loop:
	outb	%al, %dx
	decl	%esi
	jnz	.Lout_loop
.Lout_end:
	TIMED_END KFP_PARAM_TSC_OUT

	/* n_in byte INs from the work port; each must read KFP_IN_VALUE. */
	TIMED_BEGIN
	movw	$KFP_PORT_WORK, %dx
	movl	PARAM(KFP_PARAM_N_IN), %esi
	testl	%esi, %esi
	jz	.Lin_end
.Lin_loop:
	inb	%dx, %al
	cmpb	$KFP_IN_VALUE, %al
	jne	.Lbad_in
	decl	%esi
	jnz	.Lin_loop
.Lin_end:
	TIMED_END KFP_PARAM_TSC_IN

	/* n_cpuid CPUID leaf 0 (clobbers %eax-%edx). */
	TIMED_BEGIN
	movl	PARAM(KFP_PARAM_N_CPUID), %esi
	testl	%esi, %esi
	jz	.Lcpuid_end
.Lcpuid_loop:
	xorl	%eax, %eax
	xorl	%ecx, %ecx
	cpuid
	decl	%esi
	jnz	.Lcpuid_loop
.Lcpuid_end:
	TIMED_END KFP_PARAM_TSC_CPUID

	/* n_hlt HLT; IF is clear, the host resumes us after each one. */
	TIMED_BEGIN
	movl	PARAM(KFP_PARAM_N_HLT), %esi
	testl	%esi, %esi
	jz	.Lhlt_end
.Lhlt_loop:
	hlt
	decl	%esi
	jnz	.Lhlt_loop
.Lhlt_end:
	TIMED_END KFP_PARAM_TSC_HLT

	/* n_mmio byte writes to KFP_MMIO_GPA (%fs base). */
	TIMED_BEGIN
	movl	PARAM(KFP_PARAM_N_MMIO), %esi
	testl	%esi, %esi
	jz	.Lmmio_end
.Lmmio_loop:
	movb	$0x5a, %fs:0
	decl	%esi
	jnz	.Lmmio_loop
.Lmmio_end:
	TIMED_END KFP_PARAM_TSC_MMIO

	movb	$KFP_STATUS_OK, %al
.Ldone:
	movw	$KFP_PORT_DONE, %dx
	outb	%al, %dx
.Lhalt:
	hlt
	jmp	.Lhalt

.Lbad_in:
	movb	$KFP_STATUS_BAD_IN, %al
	jmp	.Ldone

	.globl	kfp_guest_real_end
kfp_guest_real_end:

	.code64
	.section .note.GNU-stack, "", @progbits
