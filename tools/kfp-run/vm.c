// SPDX-License-Identifier: GPL-2.0
/*
 * KVM lifecycle for the test guests; see vm.h.
 *
 * Threads: kfp_vm_run() starts one thread per vCPU, each looping on
 * KVM_RUN, and waits for them.  While it waits it is also the waker for
 * irqchip mode (see kfp_vm_wake()) and the timer for --timeout.  Both
 * reach a vCPU thread with SIGUSR1, whose empty handler makes KVM_RUN
 * return EINTR.  A vCPU that fails stops the others: each gets
 * immediate_exit and the signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vm.h"

/*
 * Three pages outside guest memory for the real-mode TSS that VMX needs
 * without unrestricted guest (same address as QEMU); a no-op otherwise.
 */
#define KFP_TSS_ADDR		0xfffbd000UL

/* How often the waker looks at halted vCPUs. */
#define KFP_WAKE_POLL_NS	50000ULL

#define KFP_NSEC_PER_SEC	1000000000ULL

/* Set to a comma-separated list of KVM_CAP_* names to pretend they lack. */
#define KFP_HIDE_CAP_ENV	"KFP_RUN_HIDE_CAP"

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

/* @buf = the message; returns @err for tail calls. */
[[gnu::format(printf, 4, 5)]]
static int kfp_fail(char *buf, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return err;
}

/* Append to @buf, never past its end. */
[[gnu::format(printf, 3, 4)]]
static void kfp_append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used >= len - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

#define kfp_vm_fail(vm, ret, ...) \
	kfp_fail((vm)->err, sizeof((vm)->err), ret, __VA_ARGS__)
#define kfp_vcpu_fail(v, ret, ...) \
	kfp_fail((v)->err, sizeof((v)->err), ret, __VA_ARGS__)

static unsigned long long kfp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * KFP_NSEC_PER_SEC + ts.tv_nsec;
}

void kfp_vm_config_builtin(struct kfp_vm_config *cfg, enum kfp_mode mode,
			   const struct kfp_guest_params *params)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = mode;
	cfg->nr_vcpus = 1;
	kfp_guest_builtin(mode, &cfg->image);
	cfg->load = KFP_GUEST_LOAD;
	cfg->params = *params;
	cfg->params.magic = KFP_PARAMS_MAGIC;
	if (!cfg->params.out_port)
		cfg->params.out_port = KFP_PORT_WORK;
}

bool kfp_vm_port_in_kernel(unsigned int port, bool irqchip, bool pit,
			   bool ioeventfd)
{
	/* The i8259 pair and its ELCR registers. */
	static const unsigned int pic_ports[] = {
		0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1,
	};
	unsigned int i;

	if (ioeventfd)
		return true;
	/* The i8254's counters and control word, and the speaker port. */
	if (pit && ((port >= 0x40 && port <= 0x43) || port == 0x61))
		return true;
	for (i = 0; irqchip && i < ARRAY_SIZE(pic_ports); i++) {
		if (port == pic_ports[i])
			return true;
	}
	return false;
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

/* Is @name in the comma-separated @list? */
static bool kfp_list_has(const char *list, const char *name)
{
	size_t len = strlen(name);

	while (list && *list) {
		if (!strncmp(list, name, len) &&
		    (list[len] == ',' || list[len] == '\0'))
			return true;
		list = strchr(list, ',');
		if (list)
			list++;
	}
	return false;
}

/* KVM_CHECK_EXTENSION, or 0 for a capability the tests hide. */
static int kfp_vm_cap(struct kfp_vm *vm, long cap, const char *name)
{
	int ret;

	if (kfp_list_has(getenv(KFP_HIDE_CAP_ENV), name))
		return 0;
	ret = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, cap);
	return ret < 0 ? 0 : ret;
}

/* 0 if KVM has @cap, else -EOPNOTSUPP and a message naming it. */
static int kfp_vm_need(struct kfp_vm *vm, long cap, const char *name,
		       const char *why)
{
	if (kfp_vm_cap(vm, cap, name) > 0)
		return 0;
	return kfp_vm_fail(vm, -EOPNOTSUPP, "KVM lacks %s, needed for %s",
			   name, why);
}

#define kfp_vm_need_cap(vm, cap, why)	kfp_vm_need(vm, cap, #cap, why)

static int kfp_vm_check_caps(struct kfp_vm *vm)
{
	const struct kfp_vm_config *cfg = &vm->cfg;
	int ret, max;

	ret = kfp_vm_need_cap(vm, KVM_CAP_USER_MEMORY, "guest memory") ?:
	      kfp_vm_need_cap(vm, KVM_CAP_SET_TSS_ADDR, "real mode") ?:
	      kfp_vm_need_cap(vm, KVM_CAP_EXT_CPUID, "the guest's CPUID") ?:
	      kfp_vm_need_cap(vm, KVM_CAP_IMMEDIATE_EXIT, "stopping vCPUs");
	if (ret)
		return ret;
	if (cfg->irqchip) {
		ret = kfp_vm_need_cap(vm, KVM_CAP_IRQCHIP, "--irqchip") ?:
		      kfp_vm_need_cap(vm, KVM_CAP_MP_STATE,
				      "--irqchip (vCPU wake-ups)");
		if (ret)
			return ret;
	}
	if (cfg->single_step) {
		ret = kfp_vm_need_cap(vm, KVM_CAP_SET_GUEST_DEBUG,
				      "--single-step");
		if (ret)
			return ret;
	}
	if (cfg->pit) {
		ret = kfp_vm_need_cap(vm, KVM_CAP_PIT2, "--pit");
		if (ret)
			return ret;
	}
	if (cfg->ioeventfd) {
		ret = kfp_vm_need_cap(vm, KVM_CAP_IOEVENTFD, "--ioeventfd");
		if (ret)
			return ret;
	}
	if (cfg->coalesced) {
		ret = kfp_vm_need_cap(vm, KVM_CAP_COALESCED_PIO, "--coalesced");
		if (ret)
			return ret;
	}

	/* KVM's API documentation: assume 4 if neither is there. */
	max = kfp_vm_cap(vm, KVM_CAP_MAX_VCPUS, "KVM_CAP_MAX_VCPUS");
	if (max <= 0)
		max = kfp_vm_cap(vm, KVM_CAP_NR_VCPUS, "KVM_CAP_NR_VCPUS");
	if (max <= 0)
		max = 4;
	if (cfg->nr_vcpus > (unsigned int)max)
		return kfp_vm_fail(vm, -EOPNOTSUPP,
				   "KVM allows %d vCPUs per VM (KVM_CAP_MAX_VCPUS), %u asked",
				   max, cfg->nr_vcpus);
	return 0;
}

/* KVM_GET_SUPPORTED_CPUID into a malloc()ed table; NULL on error. */
static struct kvm_cpuid2 *kfp_vm_supported_cpuid(struct kfp_vm *vm)
{
	struct kvm_cpuid2 *cpuid;
	unsigned int nent;

	for (nent = 64; nent <= 4096; nent *= 2) {
		cpuid = calloc(1, sizeof(*cpuid) +
			       nent * sizeof(struct kvm_cpuid_entry2));
		if (!cpuid) {
			kfp_vm_fail(vm, -ENOMEM, "out of memory");
			return NULL;
		}
		cpuid->nent = nent;
		if (!ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid))
			return cpuid;
		free(cpuid);
		if (errno != E2BIG)
			break;
	}
	kfp_vm_fail(vm, -errno, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	return NULL;
}

/* CPUID.1:ECX bit 5, VMX. */
static bool kfp_vm_cpuid_has_vmx(const struct kvm_cpuid2 *cpuid)
{
	unsigned int i;

	for (i = 0; i < cpuid->nent; i++) {
		if (cpuid->entries[i].function == 1)
			return cpuid->entries[i].ecx & (1U << 5);
	}
	return false;
}

/* The supported CPUID, with vCPU @id's APIC ID in it. */
static int kfp_vcpu_set_cpuid(struct kfp_vm *vm, struct kfp_vcpu *v,
			      const struct kvm_cpuid2 *supported)
{
	size_t size = sizeof(*supported) +
		      supported->nent * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *cpuid = malloc(size);
	unsigned int i;
	int ret = 0;

	if (!cpuid)
		return kfp_vm_fail(vm, -ENOMEM, "out of memory");
	memcpy(cpuid, supported, size);
	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffff) | v->id << 24;
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = v->id;
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, cpuid) < 0)
		ret = kfp_vm_fail(vm, -errno, "vCPU %u: KVM_SET_CPUID2: %s",
				  v->id, strerror(errno));
	free(cpuid);
	return ret;
}

static int kfp_vcpu_create(struct kfp_vm *vm, struct kfp_vcpu *v,
			   const struct kvm_cpuid2 *cpuid)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int ret;

	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, v->id);
	if (v->fd < 0)
		return kfp_vm_fail(vm, -errno, "vCPU %u: KVM_CREATE_VCPU: %s",
				   v->id, strerror(errno));
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return kfp_vm_fail(vm, -errno, "vCPU %u: mmap kvm_run: %s",
				   v->id, strerror(errno));
	}
	ret = kfp_vcpu_set_cpuid(vm, v, cpuid);
	if (ret)
		return ret;

	/* With an in-kernel APIC, vCPUs other than 0 wait for INIT/SIPI. */
	if (vm->cfg.irqchip && v->id &&
	    ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0)
		return kfp_vm_fail(vm, -errno, "vCPU %u: KVM_SET_MP_STATE: %s",
				   v->id, strerror(errno));

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return kfp_vm_fail(vm, -errno, "vCPU %u: KVM_GET_SREGS: %s",
				   v->id, strerror(errno));
	kfp_guest_vcpu_state(vm->cfg.mode, v->id, vm->cfg.load, &sregs, &regs);
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return kfp_vm_fail(vm, -errno, "vCPU %u: KVM_SET_SREGS (%s mode): %s",
				   v->id, kfp_mode_name(vm->cfg.mode),
				   strerror(errno));
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return kfp_vm_fail(vm, -errno, "vCPU %u: KVM_SET_REGS: %s",
				   v->id, strerror(errno));
	if (vm->cfg.single_step) {
		struct kvm_guest_debug dbg = {
			.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP,
		};

		if (ioctl(v->fd, KVM_SET_GUEST_DEBUG, &dbg) < 0)
			return kfp_vm_fail(vm, -errno,
					   "vCPU %u: KVM_SET_GUEST_DEBUG: %s",
					   v->id, strerror(errno));
	}
	return 0;
}

/* Guest memory: the image, the tables and every vCPU's parameters. */
static int kfp_vm_create_memory(struct kfp_vm *vm)
{
	const struct kfp_vm_config *cfg = &vm->cfg;
	struct kvm_userspace_memory_region region;
	struct kfp_guest_params p;
	unsigned int i;
	char *mem;

	mem = mmap(NULL, KFP_MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return kfp_vm_fail(vm, -errno, "mmap guest memory: %s",
				   strerror(errno));
	vm->mem = mem;

	memcpy(mem + cfg->load - KFP_MEM_GPA, cfg->image.code, cfg->image.size);
	kfp_guest_build_tables(mem);
	for (i = 0; i < cfg->nr_vcpus; i++) {
		if (cfg->user_guest)
			memset(&p, 0, sizeof(p));
		else
			p = cfg->params;
		p.magic = KFP_PARAMS_MAGIC;
		p.vcpu = i;
		memcpy(mem + KFP_VCPU_PARAMS_GPA(i) - KFP_MEM_GPA, &p, sizeof(p));
	}

	memset(&region, 0, sizeof(region));
	region.slot = 0;
	region.guest_phys_addr = KFP_MEM_GPA;
	region.memory_size = KFP_MEM_SIZE;
	region.userspace_addr = (unsigned long)mem;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return kfp_vm_fail(vm, -errno, "KVM_SET_USER_MEMORY_REGION: %s",
				   strerror(errno));
	return 0;
}

/* One ioeventfd of @vm's eventfd at @addr, any access size (len 0). */
static int kfp_vm_add_ioeventfd(struct kfp_vm *vm, __u64 addr, __u32 flags)
{
	struct kvm_ioeventfd ioev = {
		.addr = addr,
		.fd = vm->ioeventfd,
		.flags = flags,
	};

	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &ioev) < 0)
		return kfp_vm_fail(vm, -errno, "KVM_IOEVENTFD on %s 0x%llx: %s",
				   flags & KVM_IOEVENTFD_FLAG_PIO ? "port" : "GPA",
				   (unsigned long long)addr, strerror(errno));
	return 0;
}

/*
 * One eventfd for the workload's OUT port and, with mmio, KFP_MMIO_GPA:
 * KVM then completes each such OUT or write by signalling it.
 */
static int kfp_vm_create_ioeventfd(struct kfp_vm *vm)
{
	const struct kfp_guest_params *p = &vm->cfg.params;
	int ret = 0;

	vm->ioeventfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vm->ioeventfd < 0)
		return kfp_vm_fail(vm, -errno, "eventfd: %s", strerror(errno));
	if (p->n_out)
		ret = kfp_vm_add_ioeventfd(vm, p->out_port,
					   KVM_IOEVENTFD_FLAG_PIO);
	if (!ret && p->n_mmio)
		ret = kfp_vm_add_ioeventfd(vm, KFP_MMIO_GPA, 0);
	return ret;
}

/*
 * A coalesced PIO zone of one port, the workload's OUT port; the ring is
 * the page at KVM_COALESCED_MMIO_PAGE_OFFSET of a vCPU's mapping, one for
 * the VM (Documentation/virt/kvm/api.rst, KVM_REGISTER_COALESCED_MMIO).
 */
static int kfp_vm_create_coalesced(struct kfp_vm *vm)
{
	struct kvm_coalesced_mmio_zone zone = {
		.addr = vm->cfg.params.out_port,
		.size = 1,
		.pio = 1,
	};
	long page = sysconf(_SC_PAGESIZE);

	if (vm->run_size < (size_t)(KVM_COALESCED_MMIO_PAGE_OFFSET + 1) * page)
		return kfp_vm_fail(vm, -EOPNOTSUPP,
				   "--coalesced: the vCPU mapping has no coalesced ring page");
	if (ioctl(vm->vm_fd, KVM_REGISTER_COALESCED_MMIO, &zone) < 0)
		return kfp_vm_fail(vm, -errno, "KVM_REGISTER_COALESCED_MMIO (pio) on port 0x%x: %s",
				   vm->cfg.params.out_port, strerror(errno));
	vm->ring = (void *)((char *)vm->vcpus[0].run +
			    KVM_COALESCED_MMIO_PAGE_OFFSET * page);
	vm->ring_max = (page - sizeof(*vm->ring)) / sizeof(vm->ring->coalesced_mmio[0]);
	return 0;
}

/*
 * Take the entries KVM put in the coalesced ring, as a VMM does before it
 * handles an exit: the workload's OUTs, counted; anything else fails.
 */
static int kfp_vcpu_drain_ring(struct kfp_vcpu *v)
{
	struct kfp_vm *vm = v->vm;
	struct kvm_coalesced_mmio_ring *ring = vm->ring;
	int ret = 0;
	__u32 first;

	pthread_mutex_lock(&vm->lock);
	first = ring->first;
	while (first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
		const struct kvm_coalesced_mmio *e = &ring->coalesced_mmio[first];

		if (e->pio && e->phys_addr == vm->cfg.params.out_port && e->len == 1)
			vm->coalesced++;
		else
			ret = -EIO;
		first = (first + 1) % vm->ring_max;
		__atomic_store_n(&ring->first, first, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vm->lock);
	if (ret)
		kfp_vcpu_fail(v, ret, "a coalesced ring entry not of the OUT port");
	return ret;
}

int kfp_vm_create(struct kfp_vm *vm, const struct kfp_vm_config *cfg)
{
	struct kvm_cpuid2 *cpuid;
	pthread_condattr_t attr;
	unsigned int i;
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = *cfg;
	vm->kvm_fd = -1;
	vm->vm_fd = -1;
	vm->ioeventfd = -1;
	vm->first_failed = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&vm->cond, &attr);
	pthread_condattr_destroy(&attr);

	if (!cfg->nr_vcpus || cfg->nr_vcpus > KFP_MAX_VCPUS)
		return kfp_vm_fail(vm, -EINVAL, "%u vCPUs: 1 to %d are possible",
				   cfg->nr_vcpus, KFP_MAX_VCPUS);
	ret = kfp_guest_check_placement(cfg->load, cfg->image.size,
					cfg->nr_vcpus, vm->err, sizeof(vm->err));
	if (ret)
		return ret;
	vm->vcpus = calloc(cfg->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return kfp_vm_fail(vm, -ENOMEM, "out of memory");
	for (i = 0; i < cfg->nr_vcpus; i++) {
		vm->vcpus[i].vm = vm;
		vm->vcpus[i].id = i;
		vm->vcpus[i].fd = -1;
		vm->vcpus[i].guest_status = -1;
	}
	vm->wake_hlt = cfg->irqchip && (cfg->user_guest || cfg->params.n_hlt);

	ret = kfp_vm_open_kvm(vm);
	if (ret)
		return ret;
	ret = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION)
		return kfp_vm_fail(vm, -EOPNOTSUPP,
				   "KVM API version %d, expected %d",
				   ret, KVM_API_VERSION);
	ret = kfp_vm_check_caps(vm);
	if (ret)
		return ret;

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return kfp_vm_fail(vm, -errno, "KVM_CREATE_VM: %s",
				   strerror(errno));
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KFP_TSS_ADDR) < 0)
		return kfp_vm_fail(vm, -errno, "KVM_SET_TSS_ADDR: %s",
				   strerror(errno));
	ret = kfp_vm_create_memory(vm);
	if (ret)
		return ret;
	if (cfg->irqchip && ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return kfp_vm_fail(vm, -errno, "KVM_CREATE_IRQCHIP: %s",
				   strerror(errno));
	/*
	 * After the irqchip, which the PIT needs; reset, it runs no timer.
	 * With the speaker port, as QEMU makes it (KVM_PIT_SPEAKER_DUMMY).
	 */
	if (cfg->pit) {
		struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

		if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
			return kfp_vm_fail(vm, -errno, "KVM_CREATE_PIT2: %s",
					   strerror(errno));
	}
	if (cfg->ioeventfd) {
		ret = kfp_vm_create_ioeventfd(vm);
		if (ret)
			return ret;
	}

	ret = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret < (int)sizeof(struct kvm_run))
		return kfp_vm_fail(vm, ret < 0 ? -errno : -EINVAL,
				   "KVM_GET_VCPU_MMAP_SIZE: %d", ret);
	vm->run_size = ret;

	cpuid = kfp_vm_supported_cpuid(vm);
	if (!cpuid)
		return -EIO;
	if (cfg->need_vmx && !kfp_vm_cpuid_has_vmx(cpuid)) {
		free(cpuid);
		return kfp_vm_fail(vm, -EOPNOTSUPP,
				   "KVM offers its guests no VMX (CPUID.1:ECX.VMX), needed for l2-cpuid");
	}
	ret = 0;
	for (i = 0; !ret && i < cfg->nr_vcpus; i++) {
		vm->nr_created++;
		ret = kfp_vcpu_create(vm, &vm->vcpus[i], cpuid);
	}
	free(cpuid);
	if (!ret && cfg->coalesced)
		ret = kfp_vm_create_coalesced(vm);
	return ret;
}

/*
 * Describe the exit in v->err, "unexpected exit <name> (<code>): <what>",
 * followed by RIP, the main registers and the mode.
 */
[[gnu::format(printf, 2, 3)]]
static int kfp_vcpu_unexpected(struct kfp_vcpu *v, const char *fmt, ...)
{
	unsigned int reason = v->run->exit_reason;
	struct kvm_sregs s;
	struct kvm_regs r;
	va_list ap;

	snprintf(v->err, sizeof(v->err), "unexpected exit %s (%u): ",
		 kfp_exit_name(reason), reason);
	va_start(ap, fmt);
	vsnprintf(v->err + strlen(v->err), sizeof(v->err) - strlen(v->err),
		  fmt, ap);
	va_end(ap);

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0) {
		kfp_append(v->err, sizeof(v->err), "; KVM_GET_REGS: %s",
			   strerror(errno));
		return -EIO;
	}
	kfp_append(v->err, sizeof(v->err),
		   "; rip=0x%llx rflags=0x%llx rax=0x%llx rbx=0x%llx rcx=0x%llx rdx=0x%llx rsi=0x%llx rdi=0x%llx rsp=0x%llx rbp=0x%llx",
		   r.rip, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi,
		   r.rsp, r.rbp);
	if (!ioctl(v->fd, KVM_GET_SREGS, &s))
		kfp_append(v->err, sizeof(v->err),
			   " cs=0x%x cs.base=0x%llx cr0=0x%llx cr3=0x%llx cr4=0x%llx efer=0x%llx",
			   s.cs.selector, s.cs.base, s.cr0, s.cr3, s.cr4,
			   s.efer);
	return -EIO;
}

/* 0 to re-enter, 1 when the guest is done, negative on error. */
static int kfp_vcpu_handle_io(struct kfp_vcpu *v)
{
	const struct kfp_vm_config *cfg = &v->vm->cfg;
	struct kvm_run *run = v->run;
	unsigned char *data = (unsigned char *)run + run->io.data_offset;
	size_t len = (size_t)run->io.size * run->io.count;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	bool byte = run->io.size == 1 && run->io.count == 1;
	unsigned int port = run->io.port;
	int ret;

	if (out && port == KFP_PORT_SERIAL) {
		v->io.serial += len;
		if (cfg->serial) {
			fwrite(data, 1, len, cfg->serial);
			fflush(cfg->serial);
		}
		return 0;
	}
	if (out && port == KFP_PORT_MARK && (byte || cfg->user_guest)) {
		v->io.mark++;
		if (!cfg->on_mark)
			return 0;
		ret = cfg->on_mark(v, cfg->on_mark_arg);
		if (ret < 0 && !v->err[0])
			kfp_vcpu_fail(v, ret, "mark callback failed: %s",
				      strerror(-ret));
		return ret < 0 ? ret : 0;
	}
	if (out && port == KFP_PORT_DONE && (byte || cfg->user_guest)) {
		v->io.done++;
		v->guest_status = *data;
		memcpy(&v->result,
		       (char *)v->vm->mem + KFP_VCPU_PARAMS_GPA(v->id) - KFP_MEM_GPA,
		       sizeof(v->result));
		return 1;
	}
	if (cfg->user_guest) {
		/* Nothing answers: reads float high, writes vanish. */
		if (!out)
			memset(data, 0xff, len);
		v->io.other++;
		return 0;
	}
	if (port == KFP_PORT_STR && run->io.size == 1) {
		/* io-str: REP may bring several bytes in one exit. */
		if (out) {
			v->io.str_out += run->io.count;
		} else {
			memset(data, KFP_IN_VALUE, run->io.count);
			v->io.str_in += run->io.count;
		}
		v->io.str_exits++;
		return 0;
	}
	if (byte && out && port == cfg->params.out_port) {
		v->io.work_out++;
		return 0;
	}
	if (byte && !out && port == KFP_PORT_WORK) {
		*data = KFP_IN_VALUE;
		v->io.work_in++;
		return 0;
	}
	return kfp_vcpu_unexpected(v, "%s port 0x%x size %u count %u",
				   out ? "out" : "in", port, run->io.size,
				   run->io.count);
}

static int kfp_vcpu_handle_mmio(struct kfp_vcpu *v)
{
	struct kvm_run *run = v->run;

	if (v->vm->cfg.user_guest) {
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
		return 0;
	}
	if (run->mmio.phys_addr == KFP_MMIO_GPA && run->mmio.len == 1 &&
	    run->mmio.is_write)
		return 0;
	return kfp_vcpu_unexpected(v, "%s of %u bytes at 0x%llx",
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
	case KFP_STATUS_BAD_IRQ:
		return "the interrupts taken do not match the HLTs";
	case KFP_STATUS_BAD_INS:
		return "INSB stored the wrong value";
	case KFP_STATUS_BAD_L2:
		return "L1 saw an exit it did not expect, or too few; reason";
	case KFP_STATUS_VMX_FAIL:
		return "a VMX instruction failed; VM-instruction error";
	default:
		return "unknown status";
	}
}

static void kfp_exit_stat_add(struct kfp_exit_stat *s, unsigned long long ns)
{
	if (!s->count || ns < s->min_ns)
		s->min_ns = ns;
	if (ns > s->max_ns)
		s->max_ns = ns;
	s->sum_ns += ns;
	s->count++;
}

static bool kfp_vm_stopping(struct kfp_vm *vm)
{
	return __atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE);
}

/*
 * KVM_RUN was interrupted by the waker's signal.  If KVM had the vCPU
 * asleep on a HLT, it still is (KVM_MP_STATE_HALTED): make it runnable,
 * and it resumes after the HLT.  Otherwise the signal came early, and the
 * waker will send another.
 */
static int kfp_vcpu_wake(struct kfp_vcpu *v)
{
	struct kvm_mp_state mp;

	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0)
		return kfp_vcpu_fail(v, -errno, "KVM_GET_MP_STATE: %s",
				     strerror(errno));
	if (mp.mp_state != KVM_MP_STATE_HALTED)
		return 0;
	mp.mp_state = KVM_MP_STATE_RUNNABLE;
	if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0)
		return kfp_vcpu_fail(v, -errno, "KVM_SET_MP_STATE: %s",
				     strerror(errno));
	v->wakeups++;
	return 0;
}

/* One vCPU's run loop: 0 when its guest is done with status OK. */
static int kfp_vcpu_loop(struct kfp_vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned long long t0, t1;
	unsigned int reason;
	int ret;

	for (;;) {
		t0 = kfp_now_ns();
		ret = ioctl(v->fd, KVM_RUN, 0);
		t1 = kfp_now_ns();
		if (v->vm->ring && kfp_vcpu_drain_ring(v))
			return -EIO;
		if (ret < 0) {
			if (errno != EINTR && errno != EAGAIN)
				return kfp_vcpu_fail(v, -errno, "KVM_RUN: %s",
						     strerror(errno));
			if (kfp_vm_stopping(v->vm))
				return kfp_vcpu_fail(v, -EINTR, "stopped");
			if (v->vm->wake_hlt) {
				ret = kfp_vcpu_wake(v);
				if (ret)
					return ret;
			}
			continue;
		}

		reason = run->exit_reason;
		kfp_exit_stat_add(&v->exits[reason < KFP_VM_NR_EXITS ?
					    reason : KFP_VM_NR_EXITS - 1],
				  t1 - t0);

		switch (reason) {
		case KVM_EXIT_IO:
			ret = kfp_vcpu_handle_io(v);
			break;
		case KVM_EXIT_HLT:
			ret = 0;
			break;
		case KVM_EXIT_MMIO:
			ret = kfp_vcpu_handle_mmio(v);
			break;
		case KVM_EXIT_DEBUG:
			ret = v->vm->cfg.single_step ? 0 :
			      kfp_vcpu_unexpected(v, "no --single-step");
			break;
		case KVM_EXIT_FAIL_ENTRY:
			ret = kfp_vcpu_unexpected(v, "hardware entry failure reason 0x%llx",
						  (unsigned long long)
						  run->fail_entry.hardware_entry_failure_reason);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			ret = kfp_vcpu_unexpected(v, "suberror %u",
						  run->internal.suberror);
			break;
		case KVM_EXIT_SHUTDOWN:
			ret = kfp_vcpu_unexpected(v, "triple fault");
			break;
		default:
			ret = kfp_vcpu_unexpected(v, "not part of the test");
			break;
		}
		if (ret < 0)
			return ret;
		if (ret > 0)
			break;
	}

	if (v->guest_status == KFP_STATUS_OK)
		return 0;
	if (!v->vm->cfg.user_guest && (v->guest_status == KFP_STATUS_BAD_L2 ||
				       v->guest_status == KFP_STATUS_VMX_FAIL))
		return kfp_vcpu_fail(v, -EIO, "guest reported status %d (%s: %u)",
				     v->guest_status,
				     kfp_status_name(v->guest_status),
				     v->result.l2_error);
	return kfp_vcpu_fail(v, -EIO, "guest reported status %d (%s)",
			     v->guest_status,
			     v->vm->cfg.user_guest ? "its own code" :
			     kfp_status_name(v->guest_status));
}

/* Make every started vCPU thread leave KVM_RUN.  Called with vm->lock. */
static void kfp_vm_stop_locked(struct kfp_vm *vm)
{
	unsigned int i;

	__atomic_store_n(&vm->stopping, true, __ATOMIC_RELEASE);
	for (i = 0; i < vm->nr_created; i++) {
		struct kfp_vcpu *v = &vm->vcpus[i];

		if (!v->started)
			continue;
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
		pthread_kill(v->thread, SIGUSR1);
	}
}

/* The first failure ends the run: record it and stop everyone. */
static void kfp_vm_failed_locked(struct kfp_vm *vm, int ret, const char *msg,
				 int vcpu)
{
	if (vm->first_failed >= 0 || kfp_vm_stopping(vm))
		return;
	vm->first_failed = vcpu;
	vm->vcpus[vcpu].ret = ret;
	if (vm->cfg.nr_vcpus > 1)
		snprintf(vm->err, sizeof(vm->err), "vCPU %d: %s", vcpu, msg);
	else
		snprintf(vm->err, sizeof(vm->err), "%s", msg);
	kfp_vm_stop_locked(vm);
}

static void *kfp_vcpu_thread(void *arg)
{
	struct kfp_vcpu *v = arg;
	struct kfp_vm *vm = v->vm;
	int ret;

	ret = kfp_vcpu_loop(v);
	pthread_mutex_lock(&vm->lock);
	v->ret = ret;
	if (ret)
		kfp_vm_failed_locked(vm, ret, v->err, v->id);
	vm->running--;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}

/*
 * irqchip mode: KVM completes HLT itself and keeps the vCPU asleep in
 * KVM_RUN until an event; with interrupts off there is none.  A vCPU
 * whose guest has armed a HLT (hlt_armed != hlt_woken) gets a signal,
 * which ends KVM_RUN (kfp_vcpu_wake() does the rest); if it has not moved
 * on after KFP_VM_WAKE_RETRY_NS (the signal came before the HLT),
 * another.  Each HLT is still exactly one HLT exit, handled in the
 * kernel; a signal that comes early costs one more KVM_RUN.
 */
static void kfp_vm_wake(struct kfp_vm *vm)
{
	unsigned long long now = kfp_now_ns();
	unsigned int i;

	for (i = 0; i < vm->nr_created; i++) {
		struct kfp_vcpu *v = &vm->vcpus[i];
		struct kfp_guest_params *p = (void *)((char *)vm->mem +
			KFP_VCPU_PARAMS_GPA(i) - KFP_MEM_GPA);
		__u32 armed, woken;

		if (!v->started)
			continue;
		armed = __atomic_load_n(&p->hlt_armed, __ATOMIC_ACQUIRE);
		woken = __atomic_load_n(&p->hlt_woken, __ATOMIC_ACQUIRE);
		if (armed == woken)
			continue;
		if (armed == v->wake_armed &&
		    now - v->wake_sent_ns < KFP_VM_WAKE_RETRY_NS)
			continue;
		v->wake_armed = armed;
		v->wake_sent_ns = now;
		v->wakes_sent++;
		pthread_kill(v->thread, SIGUSR1);
	}
}

static void kfp_vm_sigusr1(int sig)
{
	(void)sig;	/* only there to make KVM_RUN return EINTR */
}

static struct timespec kfp_timespec(unsigned long long ns)
{
	struct timespec ts = {
		.tv_sec = ns / KFP_NSEC_PER_SEC,
		.tv_nsec = ns % KFP_NSEC_PER_SEC,
	};

	return ts;
}

/* Where vCPU 0 was when the run timed out. */
static void kfp_vm_timed_out(struct kfp_vm *vm)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	snprintf(vm->err, sizeof(vm->err), "timed out after %u s",
		 vm->cfg.timeout_s);
	if (vm->nr_created && !ioctl(vm->vcpus[0].fd, KVM_GET_REGS, &r) &&
	    !ioctl(vm->vcpus[0].fd, KVM_GET_SREGS, &s))
		kfp_append(vm->err, sizeof(vm->err),
			   "; vCPU 0 at rip=0x%llx (cs.base=0x%llx) rflags=0x%llx rax=0x%llx rsp=0x%llx",
			   r.rip, s.cs.base, r.rflags, r.rax, r.rsp);
}

int kfp_vm_run(struct kfp_vm *vm)
{
	struct sigaction sa = { .sa_handler = kfp_vm_sigusr1 }, old;
	unsigned long long deadline = 0, wait;
	bool timed_out = false;
	struct timespec ts;
	unsigned int i;
	int ret;

	vm->err[0] = '\0';
	/*
	 * SA_RESTART spares the vCPU threads' other system calls (output);
	 * KVM_RUN returns EINTR for a pending signal regardless.
	 */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, &old);
	if (vm->cfg.timeout_s)
		deadline = kfp_now_ns() + vm->cfg.timeout_s * KFP_NSEC_PER_SEC;

	pthread_mutex_lock(&vm->lock);
	for (i = 0; i < vm->nr_created && !kfp_vm_stopping(vm); i++) {
		struct kfp_vcpu *v = &vm->vcpus[i];

		ret = pthread_create(&v->thread, NULL, kfp_vcpu_thread, v);
		if (ret) {
			snprintf(v->err, sizeof(v->err), "pthread_create: %s",
				 strerror(ret));
			kfp_vm_failed_locked(vm, -ret, v->err, i);
			break;
		}
		v->started = true;
		vm->running++;
	}

	while (vm->running) {
		if (vm->wake_hlt && !kfp_vm_stopping(vm)) {
			pthread_mutex_unlock(&vm->lock);
			kfp_vm_wake(vm);
			pthread_mutex_lock(&vm->lock);
			if (!vm->running)
				break;
			wait = kfp_now_ns() + KFP_WAKE_POLL_NS;
		} else {
			wait = kfp_now_ns() + KFP_NSEC_PER_SEC;
		}
		if (deadline && wait > deadline)
			wait = deadline;
		ts = kfp_timespec(wait);
		pthread_cond_timedwait(&vm->cond, &vm->lock, &ts);
		if (deadline && !kfp_vm_stopping(vm) &&
		    kfp_now_ns() >= deadline) {
			timed_out = true;
			kfp_vm_stop_locked(vm);
		}
	}
	pthread_mutex_unlock(&vm->lock);

	for (i = 0; i < vm->nr_created; i++) {
		if (vm->vcpus[i].started)
			pthread_join(vm->vcpus[i].thread, NULL);
	}
	sigaction(SIGUSR1, &old, NULL);

	/* The count of an eventfd never signalled reads as EAGAIN: 0. */
	if (vm->ioeventfd >= 0 &&
	    read(vm->ioeventfd, &vm->ioeventfd_signals,
		 sizeof(vm->ioeventfd_signals)) != sizeof(vm->ioeventfd_signals))
		vm->ioeventfd_signals = 0;

	if (timed_out) {
		kfp_vm_timed_out(vm);
		return -ETIMEDOUT;
	}
	if (vm->first_failed >= 0)
		return vm->vcpus[vm->first_failed].ret ?: -EIO;
	return 0;
}

void kfp_vm_destroy(struct kfp_vm *vm)
{
	unsigned int i;

	for (i = 0; vm->vcpus && i < vm->cfg.nr_vcpus; i++) {
		struct kfp_vcpu *v = &vm->vcpus[i];

		if (v->run)
			munmap(v->run, vm->run_size);
		if (v->fd >= 0)
			close(v->fd);
		v->run = NULL;
		v->fd = -1;
	}
	if (vm->mem)
		munmap(vm->mem, KFP_MEM_SIZE);
	if (vm->ioeventfd >= 0)
		close(vm->ioeventfd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	free(vm->vcpus);
	pthread_cond_destroy(&vm->cond);
	pthread_mutex_destroy(&vm->lock);
	vm->vcpus = NULL;
	vm->mem = NULL;
	vm->vm_fd = -1;
	vm->ioeventfd = -1;
	vm->kvm_fd = -1;
}
