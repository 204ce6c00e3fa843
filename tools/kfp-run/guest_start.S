/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How every built-in guest starts, with %edi at its parameter block:
 * check the magic (else status KFP_STATUS_BAD_MAGIC, to \done), touch the
 * stack, and OUT the mark: the warm-up is over.  Included by
 * guest_body.S and guest_l2.S, after kfp_guest.h.
 */
.macro KFP_GUEST_WARMUP done
	movl	KFP_PARAM_MAGIC(%edi), %ebx
	movl	%ebx, -4(%esp)
	movb	$KFP_STATUS_BAD_MAGIC, %al
	cmpl	$KFP_PARAMS_MAGIC, %ebx
	jne	\done
	movw	$KFP_PORT_MARK, %dx
	outb	%al, %dx
.endm
