// SPDX-License-Identifier: GPL-2.0
/*
 * KVM lifecycle for the real-mode test guest; see vm.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm.h"

/*
 * Three pages outside guest memory for the real-mode TSS that VMX needs
 * without unrestricted guest (same address as QEMU); a no-op otherwise.
 */
#define KFP_TSS_ADDR		0xfffbd000UL

static const char * const kfp_exit_names[] = {
	[KVM_EXIT_UNKNOWN]		= "KVM_EXIT_UNKNOWN",
	[KVM_EXIT_EXCEPTION]		= "KVM_EXIT_EXCEPTION",
	[KVM_EXIT_IO]			= "KVM_EXIT_IO",
	[KVM_EXIT_HYPERCALL]		= "KVM_EXIT_HYPERCALL",
	[KVM_EXIT_DEBUG]		= "KVM_EXIT_DEBUG",
	[KVM_EXIT_HLT]			= "KVM_EXIT_HLT",
	[KVM_EXIT_MMIO]			= "KVM_EXIT_MMIO",
	[KVM_EXIT_IRQ_WINDOW_OPEN]	= "KVM_EXIT_IRQ_WINDOW_OPEN",
	[KVM_EXIT_SHUTDOWN]		= "KVM_EXIT_SHUTDOWN",
	[KVM_EXIT_FAIL_ENTRY]		= "KVM_EXIT_FAIL_ENTRY",
	[KVM_EXIT_INTR]			= "KVM_EXIT_INTR",
	[KVM_EXIT_SET_TPR]		= "KVM_EXIT_SET_TPR",
	[KVM_EXIT_TPR_ACCESS]		= "KVM_EXIT_TPR_ACCESS",
	[KVM_EXIT_S390_SIEIC]		= "KVM_EXIT_S390_SIEIC",
	[KVM_EXIT_S390_RESET]		= "KVM_EXIT_S390_RESET",
	[KVM_EXIT_DCR]			= "KVM_EXIT_DCR",
	[KVM_EXIT_NMI]			= "KVM_EXIT_NMI",
	[KVM_EXIT_INTERNAL_ERROR]	= "KVM_EXIT_INTERNAL_ERROR",
	[KVM_EXIT_OSI]			= "KVM_EXIT_OSI",
	[KVM_EXIT_PAPR_HCALL]		= "KVM_EXIT_PAPR_HCALL",
	[KVM_EXIT_S390_UCONTROL]	= "KVM_EXIT_S390_UCONTROL",
	[KVM_EXIT_WATCHDOG]		= "KVM_EXIT_WATCHDOG",
	[KVM_EXIT_S390_TSCH]		= "KVM_EXIT_S390_TSCH",
	[KVM_EXIT_EPR]			= "KVM_EXIT_EPR",
	[KVM_EXIT_SYSTEM_EVENT]		= "KVM_EXIT_SYSTEM_EVENT",
	[KVM_EXIT_S390_STSI]		= "KVM_EXIT_S390_STSI",
	[KVM_EXIT_IOAPIC_EOI]		= "KVM_EXIT_IOAPIC_EOI",
	[KVM_EXIT_HYPERV]		= "KVM_EXIT_HYPERV",
	[KVM_EXIT_ARM_NISV]		= "KVM_EXIT_ARM_NISV",
	[KVM_EXIT_X86_RDMSR]		= "KVM_EXIT_X86_RDMSR",
	[KVM_EXIT_X86_WRMSR]		= "KVM_EXIT_X86_WRMSR",
	[KVM_EXIT_DIRTY_RING_FULL]	= "KVM_EXIT_DIRTY_RING_FULL",
	[KVM_EXIT_AP_RESET_HOLD]	= "KVM_EXIT_AP_RESET_HOLD",
	[KVM_EXIT_X86_BUS_LOCK]		= "KVM_EXIT_X86_BUS_LOCK",
	[KVM_EXIT_XEN]			= "KVM_EXIT_XEN",
	[KVM_EXIT_RISCV_SBI]		= "KVM_EXIT_RISCV_SBI",
	[KVM_EXIT_RISCV_CSR]		= "KVM_EXIT_RISCV_CSR",
	[KVM_EXIT_NOTIFY]		= "KVM_EXIT_NOTIFY",
#ifdef KVM_EXIT_LOONGARCH_IOCSR
	[KVM_EXIT_LOONGARCH_IOCSR]	= "KVM_EXIT_LOONGARCH_IOCSR",
#endif
#ifdef KVM_EXIT_MEMORY_FAULT
	[KVM_EXIT_MEMORY_FAULT]		= "KVM_EXIT_MEMORY_FAULT",
#endif
};

const char *kfp_exit_name(unsigned int reason)
{
	if (reason < ARRAY_SIZE(kfp_exit_names) && kfp_exit_names[reason])
		return kfp_exit_names[reason];
	return "KVM_EXIT_?";
}

/* Append to vm->err, never past its end. */
[[gnu::format(printf, 2, 3)]]
static void kfp_vm_errf(struct kfp_vm *vm, const char *fmt, ...)
{
	size_t len = strlen(vm->err);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vm->err + len, sizeof(vm->err) - len, fmt, ap);
	va_end(ap);
}

/* vm->err = the message; returns @err for tail calls. */
[[gnu::format(printf, 3, 4)]]
static int kfp_vm_fail(struct kfp_vm *vm, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vm->err, sizeof(vm->err), fmt, ap);
	va_end(ap);
	return err;
}

static int kfp_vm_open_kvm(struct kfp_vm *vm)
{
	int err;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd >= 0)
		return 0;

	err = errno;
	switch (err) {
	case ENOENT:
		return kfp_vm_fail(vm, -ENOENT,
				   "no /dev/kvm: KVM is not available");
	case EACCES:
	case EPERM:
		return kfp_vm_fail(vm, -EACCES,
				   "permission denied on /dev/kvm (are you in group kvm?)");
	case ENODEV:
	case ENXIO:
		return kfp_vm_fail(vm, -ENODEV,
				   "/dev/kvm: KVM is not available (%s)",
				   strerror(err));
	default:
		return kfp_vm_fail(vm, -err, "cannot open /dev/kvm: %s",
				   strerror(err));
	}
}

/* Real mode at 0000:KFP_GUEST_LOAD, every segment based at 0. */
static int kfp_vm_reset_vcpu(struct kfp_vm *vm)
{
	struct kvm_segment *segs[6];
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	unsigned int i;

	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return kfp_vm_fail(vm, -errno, "KVM_GET_SREGS: %s",
				   strerror(errno));
	segs[0] = &sregs.cs;
	segs[1] = &sregs.ds;
	segs[2] = &sregs.es;
	segs[3] = &sregs.fs;
	segs[4] = &sregs.gs;
	segs[5] = &sregs.ss;
	for (i = 0; i < 6; i++) {
		segs[i]->base = 0;
		segs[i]->selector = 0;
	}
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return kfp_vm_fail(vm, -errno, "KVM_SET_SREGS: %s",
				   strerror(errno));

	memset(&regs, 0, sizeof(regs));
	regs.rip = KFP_GUEST_LOAD;
	regs.rsp = KFP_STACK_TOP;
	regs.rflags = 0x2;		/* reserved bit 1; IF clear */
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return kfp_vm_fail(vm, -errno, "KVM_SET_REGS: %s",
				   strerror(errno));
	return 0;
}

int kfp_vm_create(struct kfp_vm *vm, const struct kfp_guest_params *params)
{
	size_t guest_size = kfp_guest_real_end - kfp_guest_real_start;
	struct kvm_userspace_memory_region region;
	unsigned char *mem;
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = -1;
	vm->vm_fd = -1;
	vm->vcpu_fd = -1;
	vm->guest_status = -1;

	if (guest_size > KFP_GUEST_MAX_SIZE)
		return kfp_vm_fail(vm, -E2BIG, "guest code is %zu bytes, max %d",
				   guest_size, KFP_GUEST_MAX_SIZE);

	ret = kfp_vm_open_kvm(vm);
	if (ret)
		return ret;

	ret = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION)
		return kfp_vm_fail(vm, -EINVAL, "KVM API version %d, expected %d",
				   ret, KVM_API_VERSION);

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return kfp_vm_fail(vm, -errno, "KVM_CREATE_VM: %s",
				   strerror(errno));

	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KFP_TSS_ADDR) < 0)
		return kfp_vm_fail(vm, -errno, "KVM_SET_TSS_ADDR: %s",
				   strerror(errno));

	mem = mmap(NULL, KFP_MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return kfp_vm_fail(vm, -errno, "mmap guest memory: %s",
				   strerror(errno));
	vm->mem = mem;
	memcpy(mem + KFP_PARAMS_GPA, params, sizeof(*params));
	memcpy(mem + KFP_GUEST_LOAD, kfp_guest_real_start, guest_size);

	memset(&region, 0, sizeof(region));
	region.slot = 0;
	region.guest_phys_addr = KFP_MEM_GPA;
	region.memory_size = KFP_MEM_SIZE;
	region.userspace_addr = (unsigned long)mem;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return kfp_vm_fail(vm, -errno, "KVM_SET_USER_MEMORY_REGION: %s",
				   strerror(errno));

	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0)
		return kfp_vm_fail(vm, -errno, "KVM_CREATE_VCPU: %s",
				   strerror(errno));

	ret = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret < (int)sizeof(struct kvm_run))
		return kfp_vm_fail(vm, ret < 0 ? -errno : -EINVAL,
				   "KVM_GET_VCPU_MMAP_SIZE: %d", ret);
	vm->run_size = ret;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED) {
		vm->run = NULL;
		return kfp_vm_fail(vm, -errno, "mmap kvm_run: %s",
				   strerror(errno));
	}

	return kfp_vm_reset_vcpu(vm);
}

/*
 * Describe the exit in vm->err, "unexpected exit <name> (<code>): <what>",
 * followed by RIP and the main registers.
 */
[[gnu::format(printf, 2, 3)]]
static int kfp_vm_unexpected(struct kfp_vm *vm, const char *fmt, ...)
{
	unsigned int reason = vm->run->exit_reason;
	struct kvm_regs r;
	va_list ap;

	snprintf(vm->err, sizeof(vm->err), "unexpected exit %s (%u): ",
		 kfp_exit_name(reason), reason);
	va_start(ap, fmt);
	vsnprintf(vm->err + strlen(vm->err), sizeof(vm->err) - strlen(vm->err),
		  fmt, ap);
	va_end(ap);

	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &r) < 0) {
		kfp_vm_errf(vm, "; KVM_GET_REGS: %s", strerror(errno));
		return -EIO;
	}
	kfp_vm_errf(vm,
		    "; rip=0x%llx rflags=0x%llx rax=0x%llx rbx=0x%llx rcx=0x%llx rdx=0x%llx rsi=0x%llx rdi=0x%llx rsp=0x%llx rbp=0x%llx",
		    r.rip, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi,
		    r.rsp, r.rbp);
	return -EIO;
}

/* 0 to re-enter, 1 when the guest is done, negative on error. */
static int kfp_vm_handle_io(struct kfp_vm *vm)
{
	struct kvm_run *run = vm->run;
	unsigned char *data = (unsigned char *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	int ret;

	if (run->io.size != 1 || run->io.count != 1)
		goto bad;

	switch (run->io.port) {
	case KFP_PORT_WORK:
		if (out) {
			vm->io.work_out++;
		} else {
			*data = KFP_IN_VALUE;
			vm->io.work_in++;
		}
		return 0;
	case KFP_PORT_MARK:
		if (!out)
			break;
		vm->io.mark++;
		if (!vm->on_mark)
			return 0;
		ret = vm->on_mark(vm, vm->on_mark_arg);
		if (ret < 0 && !vm->err[0])
			kfp_vm_fail(vm, ret, "mark callback failed: %s",
				    strerror(-ret));
		return ret < 0 ? ret : 0;
	case KFP_PORT_DONE:
		if (!out)
			break;
		vm->io.done++;
		vm->guest_status = *data;
		memcpy(&vm->result, (char *)vm->mem + KFP_PARAMS_GPA,
		       sizeof(vm->result));
		return 1;
	}
bad:
	return kfp_vm_unexpected(vm, "%s port 0x%x size %u count %u",
				 out ? "out" : "in", run->io.port,
				 run->io.size, run->io.count);
}

static int kfp_vm_handle_mmio(struct kfp_vm *vm)
{
	struct kvm_run *run = vm->run;

	if (run->mmio.phys_addr == KFP_MMIO_GPA && run->mmio.len == 1 &&
	    run->mmio.is_write)
		return 0;
	return kfp_vm_unexpected(vm, "%s of %u bytes at 0x%llx",
				 run->mmio.is_write ? "write" : "read",
				 run->mmio.len, run->mmio.phys_addr);
}

static const char *kfp_status_name(int status)
{
	switch (status) {
	case KFP_STATUS_BAD_MAGIC:
		return "bad parameter block magic";
	case KFP_STATUS_BAD_IN:
		return "IN returned the wrong value";
	default:
		return "unknown status";
	}
}

int kfp_vm_run(struct kfp_vm *vm)
{
	struct kvm_run *run = vm->run;
	unsigned int reason;
	int ret;

	vm->err[0] = '\0';
	for (;;) {
		if (ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			return kfp_vm_fail(vm, -errno, "KVM_RUN: %s",
					   strerror(errno));
		}

		reason = run->exit_reason;
		vm->exits[reason < KFP_VM_NR_EXITS ?
			  reason : KFP_VM_NR_EXITS - 1]++;

		switch (reason) {
		case KVM_EXIT_IO:
			ret = kfp_vm_handle_io(vm);
			break;
		case KVM_EXIT_HLT:
			ret = 0;
			break;
		case KVM_EXIT_MMIO:
			ret = kfp_vm_handle_mmio(vm);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			ret = kfp_vm_unexpected(vm, "hardware entry failure reason 0x%llx",
						(unsigned long long)
						run->fail_entry.hardware_entry_failure_reason);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			ret = kfp_vm_unexpected(vm, "suberror %u",
						run->internal.suberror);
			break;
		default:
			ret = kfp_vm_unexpected(vm, "not part of the test");
			break;
		}
		if (ret < 0)
			return ret;
		if (ret > 0)
			break;
	}

	if (vm->guest_status != KFP_STATUS_OK)
		return kfp_vm_fail(vm, -EIO, "guest reported status %d (%s)",
				   vm->guest_status,
				   kfp_status_name(vm->guest_status));
	return 0;
}

void kfp_vm_destroy(struct kfp_vm *vm)
{
	if (vm->run)
		munmap(vm->run, vm->run_size);
	if (vm->mem)
		munmap(vm->mem, KFP_MEM_SIZE);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->run = NULL;
	vm->mem = NULL;
	vm->vcpu_fd = -1;
	vm->vm_fd = -1;
	vm->kvm_fd = -1;
}
