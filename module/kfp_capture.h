/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KFP_CAPTURE_H
#define KFP_CAPTURE_H

#include <linux/kvm_host.h>
#include <linux/seq_file.h>

#define KFP_CAPTURE_VMS		16	/* VMs that can capture at once */
#define KFP_CAPTURE_SIZE	4096	/* bytes per VM */

/*
 * Append the low @size bytes of @val to @kvm's buffer.  False if the VM
 * has no buffer and none is free, or its buffer is full: the caller then
 * leaves the exit to KVM, so no byte is lost.
 */
bool kfp_capture_put(struct kvm *kvm, u32 val, u8 size);
void kfp_capture_vm_ended(struct kvm *kvm);
int kfp_capture_show(struct seq_file *m);
void kfp_capture_clear(void);
int kfp_capture_init(void);
void kfp_capture_exit(void);

#endif /* KFP_CAPTURE_H */
