/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest of the BPF "ping" port (tools/kfp-bpf/examples/ping.bpf.c),
 * a flat binary for "kfp-run --guest" in real mode: 100 round trips, each
 * a 4-byte OUT of N to port 0x520 and a 4-byte IN that must read N + 1.
 * Ends with status 0 (KFP_STATUS_OK), or KFP_STATUS_BAD_IN at the first
 * wrong answer, on port 0x512.
 */
#include "kfp_guest.h"

#define PING_PORT	0x520
#define PING_TRIPS	100

	.code16
	.text
	.globl	_start
_start:
	movl	$PING_TRIPS, %ebx
	movw	$PING_PORT, %dx
1:	movl	%ebx, %eax
	outl	%eax, %dx
	inl	%dx, %eax
	decl	%eax
	cmpl	%ebx, %eax
	jne	2f
	decl	%ebx
	jnz	1b
	movb	$KFP_STATUS_OK, %al
	jmp	3f
2:	movb	$KFP_STATUS_BAD_IN, %al
3:	movw	$KFP_PORT_DONE, %dx
	outb	%al, %dx
	hlt
