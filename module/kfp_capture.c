// SPDX-License-Identifier: GPL-2.0
/*
 * Capture buffers: OUT bytes the IO handler's "capture" rules take (a
 * guest debug console, say) are appended to a bounded buffer per VM,
 * read through debugfs "capture".  The buffers are allocated at load
 * time; a VM claims one on its first captured byte.
 *
 * A buffer holds its VM (kfp_vm_hold(), module/kfp_vm.c), so that the
 * VM's address names it alone for as long as the buffer points to it.
 * When the VM ends, the buffer lets go of it (kfp_capture_vm_ended()):
 * the bytes stay readable, marked ended, until "clear", or until a new
 * VM needs the buffer.  An ended VM's buffer is never appended to again.
 */
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>

#include "kfp.h"
#include "kfp_capture.h"

struct kfp_capture {
	raw_spinlock_t lock;	/* vCPUs (IRQs off): claim, append; readers */
	struct kvm *kvm;	/* owner, held; NULL: free or ended */
	pid_t pid;		/* the owner's creator, for readers */
	char name[KFP_VM_NAME_LEN];	/* the owner's name, for readers */
	bool ended;		/* bytes of an ended VM, kept until needed */
	u32 len;
	u8 buf[KFP_CAPTURE_SIZE];
};

static struct kfp_capture *kfp_captures;
/* One claim at a time, so that a VM never gets two buffers. */
static DEFINE_RAW_SPINLOCK(kfp_capture_claim_lock);

/* The VM's buffer, if it has one.  Without locks: a candidate only. */
static struct kfp_capture *kfp_capture_find(struct kvm *kvm)
{
	unsigned int i;

	for (i = 0; i < KFP_CAPTURE_VMS; i++)
		if (READ_ONCE(kfp_captures[i].kvm) == kvm)
			return &kfp_captures[i];
	return NULL;
}

/*
 * Under c->lock: make @c @kvm's if it is free (@take_ended: or its VM
 * has ended); the ended owner is returned in @drop, to release.
 */
static bool kfp_capture_claim(struct kfp_capture *c, struct kvm *kvm,
			      bool take_ended, struct kvm **drop)
{
	if (c->kvm ? !take_ended || !kfp_vm_ended(c->kvm) :
		     c->ended && !take_ended)
		return false;
	*drop = c->kvm;
	c->kvm = kvm;
	c->pid = kvm->userspace_pid;
	kfp_vm_name(kvm, c->name, sizeof(c->name));
	c->ended = false;
	c->len = 0;
	return true;
}

/*
 * The VM's buffer, claiming one if it has none yet: a free one first,
 * else one whose VM has ended.  Called with IRQs off.
 */
static struct kfp_capture *kfp_capture_of(struct kvm *kvm)
{
	struct kfp_capture *c = kfp_capture_find(kvm);
	struct kvm *drop = NULL;
	unsigned int i, pass;
	bool mine = false;

	if (c)
		return c;
	if (!kfp_vm_hold(kvm))
		return NULL;
	raw_spin_lock(&kfp_capture_claim_lock);
	c = kfp_capture_find(kvm);	/* another vCPU of it claimed one */
	for (pass = 0; !c && pass < 2; pass++) {
		for (i = 0; !mine && i < KFP_CAPTURE_VMS; i++) {
			raw_spin_lock(&kfp_captures[i].lock);
			mine = kfp_capture_claim(&kfp_captures[i], kvm, pass, &drop);
			raw_spin_unlock(&kfp_captures[i].lock);
			if (mine)
				c = &kfp_captures[i];
		}
	}
	raw_spin_unlock(&kfp_capture_claim_lock);
	if (drop)
		kfp_vm_release(drop);
	if (!mine)
		kfp_vm_release(kvm);
	return c;
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

/* From the reaper: @kvm ended; its buffer keeps the bytes. */
void kfp_capture_vm_ended(struct kvm *kvm)
{
	unsigned int i;

	for (i = 0; i < KFP_CAPTURE_VMS; i++) {
		struct kfp_capture *c = &kfp_captures[i];
		bool mine;

		raw_spin_lock_irq(&c->lock);
		mine = c->kvm == kvm;
		if (mine) {
			c->kvm = NULL;
			c->ended = true;
		}
		raw_spin_unlock_irq(&c->lock);
		if (mine)
			kfp_vm_release(kvm);
	}
}

int kfp_capture_show(struct seq_file *m)
{
	unsigned int i;
	bool ended;
	u8 *copy;

	copy = kmalloc(KFP_CAPTURE_SIZE, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	kfp_vm_sync();
	for (i = 0; i < KFP_CAPTURE_VMS; i++) {
		struct kfp_capture *c = &kfp_captures[i];
		char name[KFP_VM_NAME_LEN];
		pid_t pid;
		u32 len;

		raw_spin_lock_irq(&c->lock);
		pid = c->pid;
		memcpy(name, c->name, sizeof(name));
		len = c->len;
		ended = c->ended;
		memcpy(copy, c->buf, len);
		if (!c->kvm && !ended)
			len = U32_MAX;
		raw_spin_unlock_irq(&c->lock);
		if (len == U32_MAX)
			continue;
		seq_printf(m, "# vm=%s pid=%d bytes=%u%s\n", name, pid, len,
			   ended ? " ended" : "");
		seq_write(m, copy, len);
		seq_putc(m, '\n');
	}
	kfree(copy);
	return 0;
}

/* Empty every buffer; those of ended VMs become free. */
void kfp_capture_clear(void)
{
	unsigned int i;

	kfp_vm_sync();
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

	if (!kfp_captures)
		return;
	for (i = 0; i < KFP_CAPTURE_VMS; i++)
		if (kfp_captures[i].kvm)
			kfp_vm_release(kfp_captures[i].kvm);
	vfree(kfp_captures);
}
