// SPDX-License-Identifier: GPL-2.0
/*
 * Guest images and the tables around them; see guest.h and the map in
 * include/kfp_guest.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"

#ifndef BIT_ULL
#define BIT_ULL(nr)		(1ULL << (nr))
#endif

#define KFP_CR0_PE		BIT_ULL(0)
#define KFP_CR0_ET		BIT_ULL(4)
#define KFP_CR0_NE		BIT_ULL(5)
#define KFP_CR0_PG		BIT_ULL(31)
#define KFP_CR4_PAE		BIT_ULL(5)
#define KFP_EFER_LME		BIT_ULL(8)
#define KFP_EFER_LMA		BIT_ULL(10)

#define KFP_PTE_P		BIT_ULL(0)
#define KFP_PTE_RW		BIT_ULL(1)
#define KFP_PTE_A		BIT_ULL(5)
#define KFP_PTE_D		BIT_ULL(6)
#define KFP_PTE_PS		BIT_ULL(7)
#define KFP_PTE_PWT		BIT_ULL(3)
#define KFP_PTE_PCD		BIT_ULL(4)
#define KFP_PAGE_2M		0x200000ULL

/* Segment types; "accessed" is preset so the CPU never writes the GDT. */
#define KFP_SEG_DATA_RWA	0x3
#define KFP_SEG_CODE_XRA	0xb
#define KFP_SEG_TSS_BUSY	0xb

static const struct {
	const char *name;
	const unsigned char *start, *end;
} kfp_modes[KFP_NR_MODES] = {
	[KFP_MODE_REAL] = { "real", kfp_guest_real_start, kfp_guest_real_end },
	[KFP_MODE_PROT] = { "prot", kfp_guest_prot_start, kfp_guest_prot_end },
	[KFP_MODE_LONG] = { "long", kfp_guest_long_start, kfp_guest_long_end },
};

const char *kfp_mode_name(enum kfp_mode mode)
{
	return mode < KFP_NR_MODES ? kfp_modes[mode].name : "?";
}

int kfp_mode_parse(const char *name, enum kfp_mode *mode)
{
	unsigned int i;

	for (i = 0; i < KFP_NR_MODES; i++) {
		if (!strcmp(name, kfp_modes[i].name)) {
			*mode = i;
			return 0;
		}
	}
	return -EINVAL;
}

void kfp_guest_builtin(enum kfp_mode mode, struct kfp_guest_image *img)
{
	img->code = kfp_modes[mode].start;
	img->size = kfp_modes[mode].end - kfp_modes[mode].start;
}

int kfp_guest_read_file(const char *path, struct kfp_guest_image *img,
			char *err, size_t errlen)
{
	size_t max = KFP_MEM_SIZE, got = 0;
	unsigned char *buf;
	struct stat st;
	ssize_t n;
	int fd, ret;

	memset(img, 0, sizeof(*img));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (st.st_size == 0 || (unsigned long long)st.st_size > max) {
		snprintf(err, errlen, "%s: %lld bytes; a guest is 1 to %zu bytes",
			 path, (long long)st.st_size, max);
		close(fd);
		return -EINVAL;
	}
	buf = malloc(st.st_size);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, st.st_size - got);
		if (n <= 0) {
			ret = n ? -errno : -EIO;
			snprintf(err, errlen, "%s: read: %s", path,
				 n ? strerror(errno) : "file shrank");
			free(buf);
			close(fd);
			return ret;
		}
		got += n;
	}
	close(fd);
	img->code = buf;
	img->size = got;
	return 0;
}

/* Does [a, a + alen) meet [b, b + blen)? */
static bool kfp_overlaps(unsigned long long a, unsigned long long alen,
			 unsigned long long b, unsigned long long blen)
{
	return a < b + blen && b < a + alen;
}

int kfp_guest_check_placement(unsigned long long load, size_t size,
			      unsigned int nr_vcpus, char *err, size_t errlen)
{
	unsigned long long areas = (unsigned long long)nr_vcpus * KFP_VCPU_AREA_SIZE;

	/* Below KFP_MEM_GPA wraps around to a huge offset. */
	if (load - KFP_MEM_GPA > KFP_MEM_SIZE ||
	    size > KFP_MEM_SIZE - (load - KFP_MEM_GPA)) {
		snprintf(err, errlen,
			 "%zu bytes at 0x%llx do not fit in guest memory [0x%x, 0x%x)",
			 size, load, KFP_MEM_GPA, KFP_MEM_GPA + KFP_MEM_SIZE);
		return -EINVAL;
	}
	if (kfp_overlaps(load, size, KFP_GDT_GPA, KFP_SYS_END - KFP_GDT_GPA)) {
		snprintf(err, errlen,
			 "%zu bytes at 0x%llx cover the GDT, IDT and page tables at [0x%x, 0x%x)",
			 size, load, KFP_GDT_GPA, KFP_SYS_END);
		return -EINVAL;
	}
	if (kfp_overlaps(load, size, KFP_PD_HIGH_GPA, 0x1000)) {
		snprintf(err, errlen,
			 "%zu bytes at 0x%llx cover the page table at 0x%x",
			 size, load, KFP_PD_HIGH_GPA);
		return -EINVAL;
	}
	if (kfp_overlaps(load, size, KFP_VCPU_AREA_GPA, areas)) {
		snprintf(err, errlen,
			 "%zu bytes at 0x%llx cover the vCPU stacks and parameters at [0x%x, 0x%llx)",
			 size, load, KFP_VCPU_AREA_GPA, KFP_VCPU_AREA_GPA + areas);
		return -EINVAL;
	}
	return 0;
}

static void kfp_put64(void *mem, unsigned long long gpa, __u64 val)
{
	memcpy((char *)mem + gpa - KFP_MEM_GPA, &val, sizeof(val));
}

static struct kvm_segment kfp_segment(__u16 selector, __u64 base, __u32 limit,
				      __u8 type, bool system)
{
	struct kvm_segment s = {
		.base = base,
		.limit = limit,
		.selector = selector,
		.type = type,
		.present = 1,
		.s = !system,
	};

	/* Page-granular above 1 MiB, as a descriptor must be. */
	if (limit > 0xfffff)
		s.g = 1;
	return s;
}

static struct kvm_segment kfp_code32(void)
{
	struct kvm_segment s = kfp_segment(KFP_SEL_CODE32, 0, 0xffffffff,
					   KFP_SEG_CODE_XRA, false);

	s.db = 1;
	return s;
}

static struct kvm_segment kfp_code64(void)
{
	struct kvm_segment s = kfp_segment(KFP_SEL_CODE64, 0, 0xffffffff,
					   KFP_SEG_CODE_XRA, false);

	s.l = 1;
	return s;
}

static struct kvm_segment kfp_data(void)
{
	struct kvm_segment s = kfp_segment(KFP_SEL_DATA, 0, 0xffffffff,
					   KFP_SEG_DATA_RWA, false);

	s.db = 1;
	return s;
}

static struct kvm_segment kfp_mmio_data(void)
{
	struct kvm_segment s = kfp_segment(KFP_SEL_MMIO, KFP_MMIO_GPA, 0xffff,
					   KFP_SEG_DATA_RWA, false);

	s.db = 1;
	return s;
}

static struct kvm_segment kfp_tss(void)
{
	return kfp_segment(KFP_SEL_TSS, KFP_TSS_GPA, KFP_TSS_SIZE - 1,
			   KFP_SEG_TSS_BUSY, true);
}

/* The 8-byte descriptor for @s, the same segment the vCPU is given. */
static __u64 kfp_descriptor(const struct kvm_segment *s)
{
	__u32 limit = s->g ? s->limit >> 12 : s->limit;

	return (limit & 0xffffULL) |
	       (s->base & 0xffffffULL) << 16 |
	       (__u64)s->type << 40 |
	       (__u64)s->s << 44 |
	       (__u64)s->dpl << 45 |
	       (__u64)s->present << 47 |
	       (__u64)((limit >> 16) & 0xf) << 48 |
	       (__u64)s->avl << 52 |
	       (__u64)s->l << 53 |
	       (__u64)s->db << 54 |
	       (__u64)s->g << 55 |
	       ((s->base >> 24) & 0xffULL) << 56;
}

static void kfp_build_gdt(void *mem)
{
	const struct kvm_segment segs[] = {
		kfp_code32(), kfp_data(), kfp_code64(), kfp_mmio_data(),
		kfp_tss(),
	};
	unsigned int i;

	kfp_put64(mem, KFP_GDT_GPA, 0);
	for (i = 0; i < ARRAY_SIZE(segs); i++)
		kfp_put64(mem, KFP_GDT_GPA + segs[i].selector,
			  kfp_descriptor(&segs[i]));
	/* Upper half of the 16-byte long mode TSS descriptor. */
	kfp_put64(mem, KFP_GDT_GPA + KFP_SEL_TSS + 8,
		  (unsigned long long)KFP_TSS_GPA >> 32);
}

/*
 * PML4[0] -> PDPT[0] -> PD: 512 x 2 MiB, identity; PDPT[3] -> the high PD,
 * whose one entry maps the 2 MiB around the local APIC, uncached.
 */
static void kfp_build_page_tables(void *mem)
{
	const __u64 table = KFP_PTE_P | KFP_PTE_RW | KFP_PTE_A;
	const __u64 high = 3ULL * KFP_IDMAP_SIZE;
	const __u64 apic = KFP_APIC_GPA & ~(KFP_PAGE_2M - 1);
	unsigned int i;

	kfp_put64(mem, KFP_PML4_GPA, KFP_PDPT_GPA | table);
	kfp_put64(mem, KFP_PDPT_GPA, KFP_PD_GPA | table);
	for (i = 0; i < KFP_IDMAP_SIZE / KFP_PAGE_2M; i++)
		kfp_put64(mem, KFP_PD_GPA + i * 8,
			  i * KFP_PAGE_2M | table | KFP_PTE_D | KFP_PTE_PS);
	kfp_put64(mem, KFP_PDPT_GPA + 3 * 8, KFP_PD_HIGH_GPA | table);
	kfp_put64(mem, KFP_PD_HIGH_GPA + (apic - high) / KFP_PAGE_2M * 8,
		  apic | table | KFP_PTE_D | KFP_PTE_PS | KFP_PTE_PCD |
		  KFP_PTE_PWT);
}

void kfp_guest_build_tables(void *mem)
{
	kfp_build_gdt(mem);
	memset((char *)mem + KFP_TSS_GPA, 0, KFP_TSS_SIZE);
	memset((char *)mem + KFP_IDT_GPA, 0, 256 * 16);
	memset((char *)mem + KFP_PD_HIGH_GPA, 0, 0x1000);
	kfp_build_page_tables(mem);
}

void kfp_guest_vcpu_state(enum kfp_mode mode, unsigned int id,
			  unsigned long long load, struct kvm_sregs *sregs,
			  struct kvm_regs *regs)
{
	struct kvm_segment *flat[] = {
		&sregs->ds, &sregs->es, &sregs->gs, &sregs->ss,
	};
	unsigned int i;

	memset(regs, 0, sizeof(*regs));
	regs->rip = load;
	regs->rsp = KFP_VCPU_STACK_TOP(id);
	regs->rdi = KFP_VCPU_PARAMS_GPA(id);
	regs->rsi = id;
	regs->rflags = 0x2;		/* reserved bit 1; IF clear */

	if (mode == KFP_MODE_REAL) {
		/* Keep KVM's real-mode segments; only bases and selectors. */
		sregs->cs.selector = load >> 4;
		sregs->cs.base = load & ~0xfULL;
		regs->rip = load & 0xf;
		for (i = 0; i < 4; i++) {
			flat[i]->selector = 0;
			flat[i]->base = 0;
		}
		sregs->fs.selector = KFP_MMIO_GPA >> 4;
		sregs->fs.base = KFP_MMIO_GPA;
		return;
	}

	sregs->gdt.base = KFP_GDT_GPA;
	sregs->gdt.limit = KFP_GDT_ENTRIES * 8 - 1;
	sregs->idt.base = KFP_IDT_GPA;
	sregs->idt.limit = 256 * (mode == KFP_MODE_LONG ? 16 : 8) - 1;
	sregs->cs = mode == KFP_MODE_LONG ? kfp_code64() : kfp_code32();
	for (i = 0; i < 4; i++)
		*flat[i] = kfp_data();
	sregs->fs = kfp_mmio_data();
	sregs->tr = kfp_tss();
	memset(&sregs->ldt, 0, sizeof(sregs->ldt));
	sregs->ldt.unusable = 1;
	sregs->cr0 = KFP_CR0_PE | KFP_CR0_ET | KFP_CR0_NE;
	sregs->cr4 = 0;
	sregs->efer = 0;
	if (mode == KFP_MODE_LONG) {
		sregs->cr0 |= KFP_CR0_PG;
		sregs->cr3 = KFP_PML4_GPA;
		sregs->cr4 = KFP_CR4_PAE;
		sregs->efer = KFP_EFER_LME | KFP_EFER_LMA;
	}
}
