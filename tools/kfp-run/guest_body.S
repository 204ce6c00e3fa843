/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The built-in test guest, shared by every mode.  Not assembled on its
 * own: guest_real.S, guest_prot.S and guest_long.S define KFP_MODE (the
 * symbol infix), KFP_CODE (.code16/.code32/.code64) and KFP_BITS (16,
 * 32, 64), then include
 * this file.  The host copies the code between
 * kfp_guest_<mode>_start and kfp_guest_<mode>_end to KFP_GUEST_LOAD and
 * starts every vCPU at the beginning, in that mode, as
 * include/kfp_guest.h describes.
 *
 * The same instructions run in all three modes: everything is addressed
 * through 32-bit registers or absolute addresses below 64 KiB, which
 * real mode (segment bases 0), protected mode (flat) and long mode (an
 * identity map) all resolve to the same guest-physical address.  %edi
 * holds the parameter block throughout, %esi the loop count; neither
 * CPUID, RDTSC, WRMSR, IN/OUT nor KVM's hypercalls touch them.
 *
 * The guest first touches every page the measured part uses (code,
 * parameter block and stack), so that none of its own memory causes an
 * EPT violation later, and tells the host
 * with an OUT to KFP_PORT_MARK.  From then on it does exactly the
 * operations its parameter block asks for, one kind after the other,
 * each loop timed with RDTSC, and reports with an OUT of the status in
 * AL to KFP_PORT_DONE.  The irq and io-str loops touch pages of their
 * own (the IDT, the local APIC, the string buffer) in the measured part.
 * All jumps are relative: the code runs wherever it is loaded.
 */
#include "kfp_guest.h"
#include "guest_start.S"

#define KFP_PASTE3(a, b, c)	a ## b ## c
#define KFP_SYM3(a, b, c)	KFP_PASTE3(a, b, c)
#define KFP_SYM(what)		KFP_SYM3(kfp_guest_, KFP_MODE, what)

/* Start of a timed loop: the TSC goes to the scratch slot. */
.macro TIMED_BEGIN
	rdtsc
	movl	%eax, KFP_PARAM_TSC_START(%edi)
	movl	%edx, KFP_PARAM_TSC_START + 4(%edi)
.endm

/* End of a timed loop: ticks since TIMED_BEGIN go to the slot at \off. */
.macro TIMED_END off
	rdtsc
	subl	KFP_PARAM_TSC_START(%edi), %eax
	sbbl	KFP_PARAM_TSC_START + 4(%edi), %edx
	movl	%eax, \off(%edi)
	movl	%edx, \off + 4(%edi)
.endm

	.section .rodata.kfp_guest, "a"
	KFP_CODE

	.globl	KFP_SYM(_start)
KFP_SYM(_start):
	cld

	/* Warm-up: parameter block and stack (code: running it). */
	KFP_GUEST_WARMUP .Ldone

	/* n_out byte OUTs of KFP_OUT_VALUE to out_port. */
	TIMED_BEGIN
	movl	KFP_PARAM_OUT_PORT(%edi), %edx
	movb	$KFP_OUT_VALUE, %al
	movl	KFP_PARAM_N_OUT(%edi), %esi
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
	movl	KFP_PARAM_N_IN(%edi), %esi
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

	/*
	 * n_cpuid CPUID of leaf cpuid_leaf, subleaf cpuid_subleaf; what the
	 * last one returned goes to cpuid_eax..cpuid_edx.
	 */
	TIMED_BEGIN
	movl	KFP_PARAM_N_CPUID(%edi), %esi
	testl	%esi, %esi
	jz	.Lcpuid_end
.Lcpuid_loop:
	movl	KFP_PARAM_CPUID_LEAF(%edi), %eax
	movl	KFP_PARAM_CPUID_SUBLEAF(%edi), %ecx
	cpuid
	decl	%esi
	jnz	.Lcpuid_loop
	movl	%eax, KFP_PARAM_CPUID_EAX(%edi)
	movl	%ebx, KFP_PARAM_CPUID_EBX(%edi)
	movl	%ecx, KFP_PARAM_CPUID_ECX(%edi)
	movl	%edx, KFP_PARAM_CPUID_EDX(%edi)
.Lcpuid_end:
	TIMED_END KFP_PARAM_TSC_CPUID

	/*
	 * n_hlt HLT with interrupts off.  Without an in-kernel irqchip each
	 * one exits to the host, which resumes us.  With one, KVM completes
	 * it by putting the vCPU to sleep: the host watches hlt_armed and
	 * hlt_woken and wakes the vCPU while they differ.
	 */
	TIMED_BEGIN
	movl	KFP_PARAM_N_HLT(%edi), %esi
	testl	%esi, %esi
	jz	.Lhlt_end
.Lhlt_loop:
	incl	KFP_PARAM_HLT_ARMED(%edi)
	hlt
	movl	KFP_PARAM_HLT_ARMED(%edi), %eax
	movl	%eax, KFP_PARAM_HLT_WOKEN(%edi)
	decl	%esi
	jnz	.Lhlt_loop
.Lhlt_end:
	TIMED_END KFP_PARAM_TSC_HLT

	/* n_mmio byte writes to KFP_MMIO_GPA (the base of %fs). */
	TIMED_BEGIN
	movl	KFP_PARAM_N_MMIO(%edi), %esi
	testl	%esi, %esi
	jz	.Lmmio_end
.Lmmio_loop:
	movb	$0x5a, %fs:0
	decl	%esi
	jnz	.Lmmio_loop
.Lmmio_end:
	TIMED_END KFP_PARAM_TSC_MMIO

	/* n_msr WRMSR of KFP_MSR_INDEX with the value it already has. */
	TIMED_BEGIN
	movl	KFP_PARAM_N_MSR(%edi), %esi
	testl	%esi, %esi
	jz	.Lmsr_end
	movl	$KFP_MSR_INDEX, %ecx
	movl	$KFP_MSR_VALUE_LO, %eax
	movl	$KFP_MSR_VALUE_HI, %edx
.Lmsr_loop:
	wrmsr
	decl	%esi
	jnz	.Lmsr_loop
.Lmsr_end:
	TIMED_END KFP_PARAM_TSC_MSR

	/*
	 * n_vmcall hypercalls with RAX = KFP_VMCALL_NR, by VMCALL or, if
	 * vmcall_insn says so, VMMCALL; RAX after the last one goes to
	 * vmcall_rax (only EAX is visible below 64 bits: the upper half is
	 * written as 0).
	 */
	TIMED_BEGIN
	movl	KFP_PARAM_N_VMCALL(%edi), %esi
	testl	%esi, %esi
	jz	.Lvmcall_end
	cmpl	$KFP_VMCALL_INSN_VMMCALL, KFP_PARAM_VMCALL_INSN(%edi)
	je	.Lvmmcall_loop
.Lvmcall_loop:
	movl	$KFP_VMCALL_NR, %eax
	vmcall
	decl	%esi
	jnz	.Lvmcall_loop
	jmp	.Lvmcall_store
.Lvmmcall_loop:
	movl	$KFP_VMCALL_NR, %eax
	vmmcall
	decl	%esi
	jnz	.Lvmmcall_loop
.Lvmcall_store:
	movl	%eax, KFP_PARAM_VMCALL_RAX(%edi)
#if KFP_BITS == 64
	shrq	$32, %rax
	movl	%eax, KFP_PARAM_VMCALL_RAX + 4(%edi)
#else
	movl	$0, KFP_PARAM_VMCALL_RAX + 4(%edi)
#endif
.Lvmcall_end:
	TIMED_END KFP_PARAM_TSC_VMCALL

	/*
	 * n_irq interrupts: each a fixed self-IPI of KFP_IRQ_VECTOR through
	 * the local APIC's ICR with interrupts off, then STI; HLT, so that
	 * the HLT exits with IF set and the interrupt pending (the STI
	 * shadow covers the HLT).  The handler counts in irq_taken and EOIs;
	 * each interrupt must have come right after its HLT.  Needs the
	 * in-kernel APIC; not in real mode.
	 *
	 * An interrupt taken at the HLT itself, inside the STI shadow, is a
	 * hypervisor (or emulator) bug that would leave the HLT waiting for
	 * good: the handler counts it in irq_early instead, sends the IPI
	 * again and returns to the STI with IF clear, so the loop goes on
	 * and userspace reports it.
	 */
	TIMED_BEGIN
	movl	KFP_PARAM_N_IRQ(%edi), %esi
	testl	%esi, %esi
	jz	.Lirq_end
#if KFP_BITS == 16
	jmp	.Lbad_irq
#else
	/* An interrupt gate for KFP_IRQ_VECTOR to .Lirq_handler. */
#if KFP_BITS == 64
	leaq	.Lirq_handler(%rip), %rax
#define KFP_GATE	(KFP_IDT_GPA + KFP_IRQ_VECTOR * 16)
#define KFP_GATE_SEL	KFP_SEL_CODE64
#else
	call	.Lirq_here
.Lirq_here:
	popl	%eax
	addl	$(.Lirq_handler - .Lirq_here), %eax
#define KFP_GATE	(KFP_IDT_GPA + KFP_IRQ_VECTOR * 8)
#define KFP_GATE_SEL	KFP_SEL_CODE32
#endif
	movl	%eax, %ebx
	andl	$0xffff, %ebx
	orl	$(KFP_GATE_SEL << 16), %ebx
	movl	%ebx, KFP_GATE
	andl	$0xffff0000, %eax
	orl	$0x8e00, %eax		/* present, DPL 0, interrupt gate */
	movl	%eax, KFP_GATE + 4
#if KFP_BITS == 64
	movl	$0, KFP_GATE + 8
	movl	$0, KFP_GATE + 12
#endif
	movl	$KFP_APIC_GPA, %ebx
	movl	$KFP_APIC_SVR_ENABLE, KFP_APIC_REG_SVR(%ebx)
.Lirq_loop:
	movl	$(KFP_APIC_ICR_SELF | KFP_IRQ_VECTOR), KFP_APIC_REG_ICR_LO(%ebx)
.Lirq_sti:
	sti
.Lirq_hlt:
	hlt
	cli
	movl	KFP_PARAM_N_IRQ(%edi), %eax
	subl	%esi, %eax
	incl	%eax
	cmpl	%eax, KFP_PARAM_IRQ_TAKEN(%edi)
	jne	.Lbad_irq
	decl	%esi
	jnz	.Lirq_loop
#endif
.Lirq_end:
	TIMED_END KFP_PARAM_TSC_IRQ

	/*
	 * io-str, n_str: n_str single OUTSB to KFP_PORT_STR, one REP OUTSB
	 * of n_str bytes, n_str single INSB and one REP INSB of n_str bytes
	 * into the string buffer, which must then hold KFP_IN_VALUE
	 * throughout.  At most KFP_STR_BUF_SIZE.  %esi and %edi are the
	 * string registers here: the parameter block is on the stack.
	 */
	TIMED_BEGIN
	movl	KFP_PARAM_N_STR(%edi), %ebx
	testl	%ebx, %ebx
	jz	.Lstr_end
#if KFP_BITS == 64
	pushq	%rdi
#else
	pushl	%edi
#endif
	movl	$KFP_STR_BUF_GPA, %edi
	movl	%ebx, %ecx
	xorl	%eax, %eax
	rep stosb			/* a clean buffer (no exit) */
	movw	$KFP_PORT_STR, %dx
	movl	%ebx, %ecx
.Lstr_outs:
	movl	$KFP_STR_BUF_GPA, %esi
	outsb
	decl	%ecx
	jnz	.Lstr_outs
	movl	$KFP_STR_BUF_GPA, %esi
	movl	%ebx, %ecx
	rep outsb
	movl	%ebx, %ecx
.Lstr_ins:
	movl	$KFP_STR_BUF_GPA, %edi
	insb
	decl	%ecx
	jnz	.Lstr_ins
	movl	$KFP_STR_BUF_GPA, %edi
	movl	%ebx, %ecx
	rep insb
	movl	$KFP_STR_BUF_GPA, %esi
.Lstr_check:
	cmpb	$KFP_IN_VALUE, (%esi)
	jne	.Lbad_ins
	incl	%esi
	decl	%ebx
	jnz	.Lstr_check
#if KFP_BITS == 64
	popq	%rdi
#else
	popl	%edi
#endif
.Lstr_end:
	TIMED_END KFP_PARAM_TSC_STR

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

.Lbad_irq:
	movb	$KFP_STATUS_BAD_IRQ, %al
	jmp	.Ldone

.Lbad_ins:
	movb	$KFP_STATUS_BAD_INS, %al
	jmp	.Ldone

#if KFP_BITS != 16
/*
 * The irq workload's handler: count, EOI, return.  The frame holds the
 * interrupted RIP one word above the saved RAX and RFLAGS three.
 */
#if KFP_BITS == 64
#define KFP_FRAME_RIP	8(%rsp)
#define KFP_FRAME_FLAGS	24(%rsp)
#else
#define KFP_FRAME_RIP	4(%esp)
#define KFP_FRAME_FLAGS	12(%esp)
#endif
#define KFP_FLAGS_IF	0x200
.Lirq_handler:
#if KFP_BITS == 64
	pushq	%rax
	leaq	.Lirq_hlt(%rip), %rax
	cmpq	%rax, KFP_FRAME_RIP
#else
	pushl	%eax
	call	.Lirq_at
.Lirq_at:
	popl	%eax
	addl	$(.Lirq_hlt - .Lirq_at), %eax
	cmpl	%eax, KFP_FRAME_RIP
#endif
	je	.Lirq_early
	incl	KFP_PARAM_IRQ_TAKEN(%edi)
	movl	$(KFP_APIC_GPA + KFP_APIC_REG_EOI), %eax
	movl	$0, (%eax)
	jmp	.Lirq_return
.Lirq_early:
	/* Inside the STI shadow: not this HLT's interrupt; arm it again. */
	incl	KFP_PARAM_IRQ_EARLY(%edi)
	movl	$(KFP_APIC_GPA + KFP_APIC_REG_EOI), %eax
	movl	$0, (%eax)
	movl	$(KFP_APIC_GPA + KFP_APIC_REG_ICR_LO), %eax
	movl	$(KFP_APIC_ICR_SELF | KFP_IRQ_VECTOR), (%eax)
#if KFP_BITS == 64
	subq	$(.Lirq_hlt - .Lirq_sti), KFP_FRAME_RIP
#else
	subl	$(.Lirq_hlt - .Lirq_sti), KFP_FRAME_RIP
#endif
	andl	$~KFP_FLAGS_IF, KFP_FRAME_FLAGS
.Lirq_return:
#if KFP_BITS == 64
	popq	%rax
	iretq
#else
	popl	%eax
	iretl
#endif
#endif

	.globl	KFP_SYM(_end)
KFP_SYM(_end):

	.section .note.GNU-stack, "", @progbits
