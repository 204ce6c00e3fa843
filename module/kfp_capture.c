// SPDX-License-Identifier: GPL-2.0
/*
 * Capture buffers: OUT bytes the IO handler's "capture" rules take (a
 * guest debug console, say) are appended to a bounded buffer per VM,
 * read through debugfs "capture".  The buffers are allocated at load
 * time; a VM claims a free one on its first captured byte.  A VM is known
 * by its struct kvm address and its creator's pid, never dereferenced
 * after the claim.
 */
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>

#include "kfp.h"
#include "kfp_capture.h"

struct kfp_capture {
	raw_spinlock_t lock;	/* vCPUs (IRQs off): claim, append; readers */
	const struct kvm *kvm;	/* owner; NULL while free */
	pid_t pid;
	u32 len;
	u8 buf[KFP_CAPTURE_SIZE];
};

static struct kfp_capture *kfp_captures;

/*
 * The VM's buffer, claiming a free one if it has none yet.  What this
 * finds without the lock is only a candidate: kfp_capture_put() checks
 * it again under the buffer's lock, since a clear and another VM's claim
 * may come in between.  A buffer with the VM's address but another pid
 * is an earlier VM's that had the same address.
 */
static struct kfp_capture *kfp_capture_of(const struct kvm *kvm)
{
	unsigned int i;
	bool mine;

	for (i = 0; i < KFP_CAPTURE_VMS; i++) {
		struct kfp_capture *c = &kfp_captures[i];

		if (READ_ONCE(c->kvm) == kvm &&
		    READ_ONCE(c->pid) == kvm->userspace_pid)
			return c;
	}
	/* A free buffer is empty: kfp_capture_clear() left it so. */
	for (i = 0; i < KFP_CAPTURE_VMS; i++) {
		struct kfp_capture *c = &kfp_captures[i];

		if (READ_ONCE(c->kvm))
			continue;
		raw_spin_lock(&c->lock);
		if (!c->kvm) {
			WRITE_ONCE(c->kvm, kvm);
			WRITE_ONCE(c->pid, kvm->userspace_pid);
		}
		mine = c->kvm == kvm && c->pid == kvm->userspace_pid;
		raw_spin_unlock(&c->lock);
		if (mine)
			return c;
	}
	return NULL;
}

bool kfp_capture_put(const struct kvm *kvm, u32 val, u8 size)
{
	struct kfp_capture *c = kfp_capture_of(kvm);
	bool ok = false;

	if (!c)
		return false;
	raw_spin_lock(&c->lock);
	if (c->kvm == kvm && c->pid == kvm->userspace_pid &&
	    c->len + size <= KFP_CAPTURE_SIZE) {
		memcpy(&c->buf[c->len], &val, size);	/* x86: little endian */
		c->len += size;
		ok = true;
	}
	raw_spin_unlock(&c->lock);
	return ok;
}

void kfp_capture_show(struct seq_file *m)
{
	unsigned int i;
	u8 *copy;

	copy = kmalloc(KFP_CAPTURE_SIZE, GFP_KERNEL);
	if (!copy)
		return;
	for (i = 0; i < KFP_CAPTURE_VMS; i++) {
		struct kfp_capture *c = &kfp_captures[i];
		pid_t pid;
		u32 len;

		raw_spin_lock_irq(&c->lock);
		pid = c->pid;
		len = c->len;
		memcpy(copy, c->buf, len);
		if (!c->kvm)
			len = U32_MAX;
		raw_spin_unlock_irq(&c->lock);
		if (len == U32_MAX)
			continue;
		seq_printf(m, "# vm pid=%d bytes=%u\n", pid, len);
		seq_write(m, copy, len);
		seq_putc(m, '\n');
	}
	kfree(copy);
}

void kfp_capture_clear(void)
{
	unsigned int i;

	for (i = 0; i < KFP_CAPTURE_VMS; i++) {
		struct kfp_capture *c = &kfp_captures[i];

		raw_spin_lock_irq(&c->lock);
		c->len = 0;
		WRITE_ONCE(c->pid, 0);
		WRITE_ONCE(c->kvm, NULL);
		raw_spin_unlock_irq(&c->lock);
	}
}

int kfp_capture_init(void)
{
	unsigned int i;

	kfp_captures = vzalloc(array_size(KFP_CAPTURE_VMS, sizeof(*kfp_captures)));
	if (!kfp_captures)
		return -ENOMEM;
	for (i = 0; i < KFP_CAPTURE_VMS; i++)
		raw_spin_lock_init(&kfp_captures[i].lock);
	return 0;
}

void kfp_capture_exit(void)
{
	vfree(kfp_captures);
}
