// SPDX-License-Identifier: GPL-2.0
/*
 * Capture buffers: OUT bytes the IO handler's "capture" rules take (a
 * guest debug console, say) are appended to a bounded buffer per VM,
 * read through debugfs "capture".  The buffers are allocated at load
 * time; a VM claims one on its first captured byte.
 *
 * A buffer holds a reference on its VM (kvm_get_kvm(), as KVM's own
 * debugfs files and device fds do), so that the VM's address names it
 * alone for as long as the buffer points to it.  KVM tells modules
 * nothing when a VM goes; but once every fd of the VM is closed ours is
 * the last reference (users_count is 1: each vCPU fd and the VM fd hold
 * one, kvm_vm_ioctl_create_vcpu()), and no vCPU can run again.  Such a
 * VM has ended: the reaper drops the reference (kvm_put_kvm() may
 * destroy the VM, so never with IRQs off) within a second, and the bytes
 * stay readable until "clear", or until a new VM needs the buffer.
 */
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "kfp.h"
#include "kfp_capture.h"

struct kfp_capture {
	raw_spinlock_t lock;	/* vCPUs (IRQs off): claim, append; readers */
	struct kvm *kvm;	/* owner, referenced; NULL: free or ended */
	struct kvm *stale;	/* an ended owner's reference, to drop */
	pid_t pid;		/* the owner's creator, for readers */
	bool ended;		/* bytes of an ended VM, kept until needed */
	u32 len;
	u8 buf[KFP_CAPTURE_SIZE];
};

static struct kfp_capture *kfp_captures;

static void kfp_capture_reap(struct work_struct *work);
static DECLARE_DELAYED_WORK(kfp_capture_reaper, kfp_capture_reap);

/* Only with our reference left can no fd of the VM, so no vCPU, remain. */
static bool kfp_vm_ended(struct kvm *kvm)
{
	return refcount_read(&kvm->users_count) == 1;
}

/* Under c->lock: make @c @kvm's, if it is free or its VM has ended. */
static bool kfp_capture_claim(struct kfp_capture *c, struct kvm *kvm)
{
	if (c->kvm) {
		if (c->stale || !kfp_vm_ended(c->kvm))
			return false;
		c->stale = c->kvm;	/* the reaper drops it */
	}
	static_call(kfp_kvm_get)(kvm);
	c->kvm = kvm;
	c->pid = kvm->userspace_pid;
	c->ended = false;
	c->len = 0;
	return true;
}

/*
 * The VM's buffer, claiming one if it has none yet: a free one first,
 * else any whose VM has ended.  What the first loop finds
 * without the lock is only a candidate: kfp_capture_put() checks it
 * again under the buffer's lock, since a clear may come in between.
 */
static struct kfp_capture *kfp_capture_of(struct kvm *kvm)
{
	unsigned int i, pass;
	struct kvm *drop;
	bool mine;

	for (i = 0; i < KFP_CAPTURE_VMS; i++) {
		if (READ_ONCE(kfp_captures[i].kvm) == kvm)
			return &kfp_captures[i];
	}
	/* Pass 0 takes free buffers only; pass 1 also ended VMs' bytes. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < KFP_CAPTURE_VMS; i++) {
			struct kfp_capture *c = &kfp_captures[i];

			if (!pass && (READ_ONCE(c->kvm) || READ_ONCE(c->ended)))
				continue;
			raw_spin_lock(&c->lock);
			mine = (pass || (!c->kvm && !c->ended)) &&
			       kfp_capture_claim(c, kvm);
			drop = c->stale;
			raw_spin_unlock(&c->lock);
			if (!mine)
				continue;
			/* Both are safe from any context, IRQs off included. */
			if (drop)
				mod_delayed_work(system_wq, &kfp_capture_reaper, 0);
			else
				queue_delayed_work(system_wq, &kfp_capture_reaper, HZ);
			return c;
		}
	}
	return NULL;
}

bool kfp_capture_put(struct kvm *kvm, u32 val, u8 size)
{
	struct kfp_capture *c = kfp_capture_of(kvm);
	bool ok = false;

	if (!c)
		return false;
	raw_spin_lock(&c->lock);
	if (c->kvm == kvm && c->len + size <= KFP_CAPTURE_SIZE) {
		memcpy(&c->buf[c->len], &val, size);	/* x86: little endian */
		c->len += size;
		ok = true;
	}
	raw_spin_unlock(&c->lock);
	return ok;
}

/*
 * Drop the references of ended VMs (process context); again in a second
 * while any buffer holds a live VM's.
 */
static void kfp_capture_reap_now(bool rearm)
{
	struct kvm *put[2 * KFP_CAPTURE_VMS];
	unsigned int i, n = 0;
	bool live = false;

	for (i = 0; i < KFP_CAPTURE_VMS; i++) {
		struct kfp_capture *c = &kfp_captures[i];

		raw_spin_lock_irq(&c->lock);
		if (c->stale) {
			put[n++] = c->stale;
			c->stale = NULL;
		}
		if (c->kvm && kfp_vm_ended(c->kvm)) {
			put[n++] = c->kvm;
			c->kvm = NULL;
			c->ended = true;
		}
		live |= !!c->kvm;
		raw_spin_unlock_irq(&c->lock);
	}
	while (n)
		static_call(kfp_kvm_put)(put[--n]);
	if (rearm && live)
		queue_delayed_work(system_wq, &kfp_capture_reaper, HZ);
}

static void kfp_capture_reap(struct work_struct *work)
{
	kfp_capture_reap_now(true);
}

void kfp_capture_show(struct seq_file *m)
{
	unsigned int i;
	bool ended;
	u8 *copy;

	copy = kmalloc(KFP_CAPTURE_SIZE, GFP_KERNEL);
	if (!copy)
		return;
	kfp_capture_reap_now(false);
	for (i = 0; i < KFP_CAPTURE_VMS; i++) {
		struct kfp_capture *c = &kfp_captures[i];
		pid_t pid;
		u32 len;

		raw_spin_lock_irq(&c->lock);
		pid = c->pid;
		len = c->len;
		ended = c->ended;
		memcpy(copy, c->buf, len);
		if (!c->kvm && !ended)
			len = U32_MAX;
		raw_spin_unlock_irq(&c->lock);
		if (len == U32_MAX)
			continue;
		seq_printf(m, "# vm pid=%d bytes=%u%s\n", pid, len,
			   ended ? " ended" : "");
		seq_write(m, copy, len);
		seq_putc(m, '\n');
	}
	kfree(copy);
}

/* Empty every buffer; those of ended VMs become free. */
void kfp_capture_clear(void)
{
	unsigned int i;

	kfp_capture_reap_now(false);
	for (i = 0; i < KFP_CAPTURE_VMS; i++) {
		struct kfp_capture *c = &kfp_captures[i];

		raw_spin_lock_irq(&c->lock);
		c->len = 0;
		if (!c->kvm) {
			c->pid = 0;
			c->ended = false;
		}
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

/* After kfp_hook_remove(): no vCPU claims or appends any more. */
void kfp_capture_exit(void)
{
	unsigned int i;

	cancel_delayed_work_sync(&kfp_capture_reaper);
	for (i = 0; i < KFP_CAPTURE_VMS; i++) {
		struct kfp_capture *c = &kfp_captures[i];

		if (c->stale)
			static_call(kfp_kvm_put)(c->stale);
		if (c->kvm)
			static_call(kfp_kvm_put)(c->kvm);
	}
	vfree(kfp_captures);
}
