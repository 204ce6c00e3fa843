/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest images and the memory layout around them: the built-in test
 * guest for each mode (guest_*.S), user-supplied flat binaries, and the
 * GDT, IDT and page tables the host builds for them (include/kfp_guest.h
 * has the map).
 */
#ifndef KFP_GUEST_IMAGE_H
#define KFP_GUEST_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/kvm.h>

#include "kfp_guest.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

enum kfp_mode {
	KFP_MODE_REAL,		/* 16-bit real mode */
	KFP_MODE_PROT,		/* 32-bit protected mode, flat, no paging */
	KFP_MODE_LONG,		/* 64-bit long mode, identity-mapped */
	KFP_NR_MODES,
};

/* The built-in guest's code for each mode, from guest_*.S. */
extern const unsigned char kfp_guest_real_start[], kfp_guest_real_end[];
extern const unsigned char kfp_guest_prot_start[], kfp_guest_prot_end[];
extern const unsigned char kfp_guest_long_start[], kfp_guest_long_end[];
/* The l2-cpuid guest (guest_l2.S): an L1 hypervisor running an L2, long mode. */
extern const unsigned char kfp_guest_l2_start[], kfp_guest_l2_end[];

/* A guest image: code to copy into guest memory. */
struct kfp_guest_image {
	const void *code;
	size_t size;
};

/* "real", "prot", "long". */
const char *kfp_mode_name(enum kfp_mode mode);

/* Parse a mode name; 0 or -EINVAL. */
int kfp_mode_parse(const char *name, enum kfp_mode *mode);

/* The built-in test guest for @mode. */
void kfp_guest_builtin(enum kfp_mode mode, struct kfp_guest_image *img);

/*
 * Read a flat binary into a malloc()ed buffer (img->code, to be freed by
 * the caller).  0, or -errno with a one-line reason in @err.
 */
int kfp_guest_read_file(const char *path, struct kfp_guest_image *img,
			char *err, size_t errlen);

/*
 * Check that @size bytes at @load fit in guest memory without covering
 * the tables or the areas of @nr_vcpus vCPUs.  0, or -EINVAL with a
 * one-line reason in @err.
 */
int kfp_guest_check_placement(unsigned long long load, size_t size,
			      unsigned int nr_vcpus, char *err, size_t errlen);

/*
 * Write the GDT, TSS, IDT (every gate absent) and page tables into guest
 * memory @mem.  The same tables serve every mode.
 */
void kfp_guest_build_tables(void *mem);

/*
 * Registers for vCPU @id to start in @mode at @load: @sregs must hold
 * KVM's reset state (KVM_GET_SREGS), which is changed as needed.
 */
void kfp_guest_vcpu_state(enum kfp_mode mode, unsigned int id,
			  unsigned long long load, struct kvm_sregs *sregs,
			  struct kvm_regs *regs);

#endif /* KFP_GUEST_IMAGE_H */
