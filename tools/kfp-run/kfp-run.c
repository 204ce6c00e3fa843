// SPDX-License-Identifier: GPL-2.0
/*
 * kfp-run: run a test guest under KVM and report the VM exits it made.
 *
 * With a built-in workload, every vCPU runs the test guest in the chosen
 * mode, making an exact number of exits of each kind, and kfp-run checks
 * that userspace saw exactly the exits it should, vCPU by vCPU.  CPUID,
 * WRMSR and the unknown hypercall of the vmcall workload are completed
 * by KVM in the kernel, so they never reach userspace; they are there
 * for the kvm_fastpath module to count (the guest reports what CPUID
 * and the hypercall returned, and kfp-run prints it).  With
 * --guest, a user-supplied flat binary runs instead and kfp-run only
 * reports what it saw.  Documentation/usage.rst describes it all.
 */
#include <cpuid.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <unistd.h>

#include "vm.h"

#define KFP_RUN_MAX_COUNT	10000000UL
#define KFP_RUN_DEFAULT_COUNT	1000UL
#define KFP_RUN_MAX_TIMEOUT	86400UL
#define KFP_RUN_MAX_VMS		8

/* The kinds of exit a workload makes, in the guest's order. */
enum kfp_kind {
	KFP_OUT, KFP_IN, KFP_CPUID, KFP_HLT, KFP_MMIO, KFP_MSR, KFP_VMCALL,
	KFP_IRQ, KFP_STR, KFP_L2,
	KFP_NR_KINDS,
};

/* mixed is every kind but vmcall, irq, str and l2. */
#define KFP_IN_MIXED(kind)	((kind) < KFP_VMCALL)

/* A lower bound of the instructions per exit of any workload loop. */
#define KFP_INSNS_PER_LOOP	3

static const char * const kfp_vmcall_insns[] = {
	[KFP_VMCALL_INSN_VMCALL]  = "vmcall",
	[KFP_VMCALL_INSN_VMMCALL] = "vmmcall",
};

static const struct {
	const char *name;	/* --NAME N, and the guest view */
	const char *workload;	/* WORKLOAD */
	const char *what;
} kfp_kinds[KFP_NR_KINDS] = {
	[KFP_OUT]   = { "out",   "io-out", "OUT to the work port (or --port)" },
	[KFP_IN]    = { "in",    "io-in",  "IN from the work port" },
	[KFP_CPUID] = { "cpuid", "cpuid",  "CPUID of --cpuid-leaf (KVM completes it)" },
	[KFP_HLT]   = { "hlt",   "hlt",    "HLT with interrupts off" },
	[KFP_MMIO]  = { "mmio",  "mmio",   "byte write to GPA 0xd0000, no memslot" },
	[KFP_MSR]   = { "msr",   "msr",    "WRMSR IA32_PAT (KVM completes it)" },
	[KFP_VMCALL] = { "vmcall", "vmcall", "VMCALL/VMMCALL, RAX=0x7fffffff (KVM completes it)" },
	[KFP_IRQ]   = { "irq",   "irq-hlt",
			"self-IPI, then STI; HLT with it pending (--irqchip;\n"
			"           prot and long mode; KVM completes it)" },
	[KFP_STR]   = { "str",   "io-str",
			"port 0x513: COUNT OUTSB, one REP OUTSB of COUNT bytes,\n"
			"           the same with INSB (COUNT at most 4096)" },
	[KFP_L2]    = { "l2",    "l2-cpuid",
			"L1 enters VMX operation and runs an L2 making CPUIDs,\n"
			"           each an exit to L1 (long mode, nested VMX; alone)" },
};

struct kfp_opts {
	enum kfp_mode mode;
	unsigned long count[KFP_NR_KINDS];
	bool counts_given;		/* any --out/--in/... */
	const char *workload;
	unsigned int nr_vcpus;
	unsigned int nr_vms;
	bool pause;
	bool irqchip;
	bool pit;
	bool single_step;
	bool ioeventfd;
	bool coalesced;
	unsigned int port;
	bool port_given;
	unsigned int cpuid_leaf;
	unsigned int cpuid_subleaf;
	bool cpuid_given;		/* --cpuid-leaf or --cpuid-subleaf */
	unsigned int vmcall_insn;	/* KFP_VMCALL_INSN_* */
	bool vmcall_insn_given;
	const char *guest_file;
	unsigned long long load;
	bool load_given;
	unsigned int timeout_s;
	bool json;
	bool quiet;
};

/* What one vCPU, or all of them, should see and what they saw. */
struct kfp_tally {
	struct kfp_exit_stat exits[KFP_VM_NR_EXITS];
	unsigned long expected[KFP_VM_NR_EXITS];
	struct kfp_vm_io io;
	struct kfp_vm_io io_expected;
	unsigned long long ticks[KFP_NR_KINDS];
	unsigned long done_count[KFP_NR_KINDS];	/* exits the guest made */
	unsigned long wakes_sent;	/* signals to wake a HLT (irqchip) */
	unsigned long wakeups;		/* HLTs they ended */
	unsigned long wakeups_expected;
	bool ok;
};

static const char *prog = "kfp-run";

/*
 * The hypercall instruction native to this host's CPU: VMMCALL on AMD
 * and Hygon, VMCALL otherwise.  KVM gives the guest the host's vendor.
 */
static unsigned int kfp_host_vmcall_insn(void)
{
	unsigned int eax, regs[3];
	char vendor[13];

	if (!__get_cpuid(0, &eax, &regs[0], &regs[2], &regs[1]))
		return KFP_VMCALL_INSN_VMCALL;
	memcpy(vendor, regs, 12);
	vendor[12] = '\0';
	if (!strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine"))
		return KFP_VMCALL_INSN_VMMCALL;
	return KFP_VMCALL_INSN_VMCALL;
}

static void print_usage(FILE *f)
{
	unsigned int i;

	fprintf(f,
		"usage: %s [options] [WORKLOAD [COUNT]]\n"
		"       %s [options] --out N --in N --cpuid N --hlt N --mmio N --msr N\n"
		"                         --vmcall N --irq N --str N --l2 N\n"
		"       %s [options] --guest FILE [--load-addr ADDR]\n"
		"\n"
		"Run a KVM guest and report the VM exits userspace saw.  A built-in\n"
		"WORKLOAD makes exactly COUNT exits of one kind on every vCPU (default\n"
		"%lu, at most %lu), and kfp-run checks that userspace saw exactly the\n"
		"exits it should.  With no workload and no counts the guest only warms\n"
		"up and reports (2 KVM_EXIT_IO per vCPU).\n"
		"\n"
		"Workloads:\n",
		prog, prog, prog, KFP_RUN_DEFAULT_COUNT, KFP_RUN_MAX_COUNT);
	for (i = 0; i < KFP_NR_KINDS; i++)
		fprintf(f, "  %-8s %s\n", kfp_kinds[i].workload,
			kfp_kinds[i].what);
	fprintf(f,
		"  %-8s COUNT of each of out, in, cpuid, hlt, mmio and msr\n"
		"\n"
		"io-str bytes are checked exactly, not its KVM_EXIT_IO: KVM may pass\n"
		"a REP INSB to userspace in one exit.\n"
		"\n"
		"The guest reports what its last CPUID and hypercall returned: a line\n"
		"'vCPU N cpuid LEAF.SUBLEAF: eax=... ebx=... ecx=... edx=...' and\n"
		"'vCPU N vmcall rax=... insn=...' per vCPU; irq-hlt adds 'vCPU N irq\n"
		"vector 0x40 taken=N', the interrupts its handler took right after\n"
		"their HLT (' early=N' is added for any taken inside the STI shadow,\n"
		"before the HLT: a hypervisor bug, which the guest survives by\n"
		"arming them again), and l2-cpuid 'vCPU N l2 cpuid exits taken by\n"
		"L1=N'.  Stock KVM answers the unknown hypercall with -KVM_ENOSYS\n"
		"(-1000): 0xfffffffffffffc18 in long mode, 0xfffffc18 (EAX) in real\n"
		"and prot mode.\n"
		"\n"
		"Options:\n"
		"  -m, --mode MODE     real (default), prot (32-bit flat) or long (64-bit,\n"
		"                      identity-mapped); the launcher builds the GDT and\n"
		"                      page tables\n"
		"  --out N, --in N, --cpuid N, --hlt N, --mmio N, --msr N, --vmcall N,\n"
		"  --irq N, --str N, --l2 N\n"
		"                      exits of each kind per vCPU, instead of a WORKLOAD\n"
		"  --cpuid-leaf L, --cpuid-subleaf S\n"
		"                      the leaf (EAX) and subleaf (ECX) of every CPUID\n"
		"                      (default 0 and 0)\n"
		"  --vmcall-insn INSN  vmcall (Intel) or vmmcall (AMD): the hypercall\n"
		"                      instruction (default: this host's, now %s)\n"
		"  -n, --vcpus N       N vCPUs (1 to %d), one thread each, all running\n"
		"                      the workload; results per vCPU and in total\n"
		"  --vms N             N VMs (1 to %d), all created first, then run one\n"
		"                      after another; results and a line per VM\n"
		"  --pause             once the VMs exist, print a line per VM with its\n"
		"                      name as KVM's debugfs has it, 'kfp-run: vm\n"
		"                      PID-FD' (on stderr), and wait for a line on stdin\n"
		"                      before running them; once they ran, wait for\n"
		"                      another (or end of input) before closing them\n"
		"  --irqchip           create the in-kernel irqchip (KVM_CREATE_IRQCHIP):\n"
		"                      KVM then completes HLT in the kernel, putting the\n"
		"                      vCPU to sleep, and kfp-run wakes it with a signal\n"
		"  --single-step       KVM_SET_GUEST_DEBUG with KVM_GUESTDBG_SINGLESTEP on\n"
		"                      every vCPU: each instruction ends in a KVM_EXIT_DEBUG,\n"
		"                      counted and resumed; more than %u per workload exit\n"
		"  --pit               create the in-kernel PIT too (KVM_CREATE_PIT2, with\n"
		"                      its speaker port; with --irqchip); it starts no\n"
		"                      timer\n"
		"  --port PORT         I/O port for the io-out workload (default 0x%x);\n"
		"                      0x20, 0x21, 0xa0, 0xa1, 0x4d0 and 0x4d1 are the\n"
		"                      in-kernel PIC with --irqchip, 0x40-0x43 and 0x61\n"
		"                      the PIT with --pit\n"
		"  --ioeventfd         an ioeventfd (KVM_IOEVENTFD) on the io-out port and\n"
		"                      the mmio address: KVM signals it for each OUT or\n"
		"                      write there instead of exiting; its count must be\n"
		"                      the OUTs and writes the guests made\n"
		"  --coalesced         a coalesced PIO zone (KVM_REGISTER_COALESCED_MMIO) on\n"
		"                      the io-out port: KVM puts each OUT there in the\n"
		"                      VM's ring instead of exiting, but when it is full;\n"
		"                      the OUTs in the ring and those seen as exits must\n"
		"                      add up to the OUTs the guests made\n"
		"  --guest FILE        run the flat binary FILE instead, in the chosen\n"
		"                      mode; it ends with an OUT to port 0x%x (AL =\n"
		"                      status); exits are reported, not checked\n"
		"  --load-addr ADDR    where FILE is loaded and entered (default 0x%x)\n"
		"  --timeout SEC       give up after SEC seconds (default: never)\n"
		"  --json              print one JSON object instead of tables\n"
		"  -q, --quiet         print nothing unless something fails\n"
		"  -h, --help          this text\n"
		"\n"
		"Bytes the guest writes to port 0x%x go to stdout (stderr with --json).\n"
		"Exit status: 0 all exits as expected, 1 a failure (no usable KVM, an\n"
		"unexpected exit, a mismatch), 2 bad arguments.\n",
		"mixed", kfp_vmcall_insns[kfp_host_vmcall_insn()],
		KFP_MAX_VCPUS, KFP_RUN_MAX_VMS, KFP_INSNS_PER_LOOP, KFP_PORT_WORK, KFP_PORT_DONE,
		KFP_GUEST_LOAD, KFP_PORT_SERIAL);
}

/* Exit 2 with one line on stderr. */
[[gnu::format(printf, 1, 2)]]
static noreturn void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try --help)\n");
	exit(2);
}

/* A number 0..@max, decimal or 0x-prefixed hex. */
static unsigned long long parse_number(const char *opt, const char *arg,
				       unsigned long long max)
{
	unsigned long long val;
	char *end;

	if (arg[0] < '0' || arg[0] > '9')
		usage_error("%s: '%s' is not a non-negative number", opt, arg);
	errno = 0;
	val = strtoull(arg, &end, 0);
	if (*end)
		usage_error("%s: '%s' is not a non-negative number", opt, arg);
	if (errno == ERANGE || val > max)
		usage_error("%s: %s is larger than %llu", opt, arg, max);
	return val;
}

static void parse_count(struct kfp_opts *o, enum kfp_kind kind,
			const char *arg)
{
	char opt[16];

	snprintf(opt, sizeof(opt), "--%s", kfp_kinds[kind].name);
	o->count[kind] = parse_number(opt, arg, KFP_RUN_MAX_COUNT);
	o->counts_given = true;
}

static void parse_workload(struct kfp_opts *o, const char *name,
			   const char *count_arg)
{
	unsigned long count = KFP_RUN_DEFAULT_COUNT;
	unsigned int i;

	if (count_arg)
		count = parse_number("COUNT", count_arg, KFP_RUN_MAX_COUNT);
	if (!strcmp(name, "mixed")) {
		for (i = 0; i < KFP_NR_KINDS; i++)
			o->count[i] = KFP_IN_MIXED(i) ? count : 0;
		return;
	}
	for (i = 0; i < KFP_NR_KINDS; i++) {
		if (!strcmp(name, kfp_kinds[i].workload)) {
			o->count[i] = count;
			return;
		}
	}
	usage_error("unknown workload '%s' (io-out, io-in, cpuid, hlt, mmio, msr, vmcall, %s)",
		    name, "irq-hlt, io-str, mixed");
}

static void parse_args(int argc, char **argv, struct kfp_opts *o)
{
	enum {
		OPT_IRQCHIP = 256, OPT_PORT, OPT_GUEST, OPT_LOAD, OPT_TIMEOUT,
		OPT_JSON, OPT_CPUID_LEAF, OPT_CPUID_SUBLEAF, OPT_VMCALL_INSN,
		OPT_SINGLE_STEP, OPT_IOEVENTFD, OPT_VMS, OPT_PAUSE, OPT_COALESCED,
		OPT_PIT,
		OPT_COUNT,	/* OPT_COUNT + kind */
	};
	static const struct option opts[] = {
		{ "mode",      required_argument, NULL, 'm' },
		{ "out",       required_argument, NULL, OPT_COUNT + KFP_OUT },
		{ "in",        required_argument, NULL, OPT_COUNT + KFP_IN },
		{ "cpuid",     required_argument, NULL, OPT_COUNT + KFP_CPUID },
		{ "hlt",       required_argument, NULL, OPT_COUNT + KFP_HLT },
		{ "mmio",      required_argument, NULL, OPT_COUNT + KFP_MMIO },
		{ "msr",       required_argument, NULL, OPT_COUNT + KFP_MSR },
		{ "vmcall",    required_argument, NULL, OPT_COUNT + KFP_VMCALL },
		{ "irq",       required_argument, NULL, OPT_COUNT + KFP_IRQ },
		{ "str",       required_argument, NULL, OPT_COUNT + KFP_STR },
		{ "l2",        required_argument, NULL, OPT_COUNT + KFP_L2 },
		{ "single-step", no_argument,     NULL, OPT_SINGLE_STEP },
		{ "cpuid-leaf", required_argument, NULL, OPT_CPUID_LEAF },
		{ "cpuid-subleaf", required_argument, NULL, OPT_CPUID_SUBLEAF },
		{ "vmcall-insn", required_argument, NULL, OPT_VMCALL_INSN },
		{ "vcpus",     required_argument, NULL, 'n' },
		{ "vms",       required_argument, NULL, OPT_VMS },
		{ "pause",     no_argument,       NULL, OPT_PAUSE },
		{ "irqchip",   no_argument,       NULL, OPT_IRQCHIP },
		{ "port",      required_argument, NULL, OPT_PORT },
		{ "ioeventfd", no_argument,       NULL, OPT_IOEVENTFD },
		{ "coalesced", no_argument,       NULL, OPT_COALESCED },
		{ "pit",       no_argument,       NULL, OPT_PIT },
		{ "guest",     required_argument, NULL, OPT_GUEST },
		{ "load-addr", required_argument, NULL, OPT_LOAD },
		{ "timeout",   required_argument, NULL, OPT_TIMEOUT },
		{ "json",      no_argument,       NULL, OPT_JSON },
		{ "quiet",     no_argument,       NULL, 'q' },
		{ "help",      no_argument,       NULL, 'h' },
		{ NULL,        0,                 NULL, 0 },
	};
	int c, idx = 0;
	unsigned int i;

	while ((c = getopt_long(argc, argv, "m:n:qh", opts, &idx)) != -1) {
		switch (c) {
		case 'm':
			if (kfp_mode_parse(optarg, &o->mode))
				usage_error("--mode: '%s' is not real, prot or long",
					    optarg);
			break;
		case 'n':
			o->nr_vcpus = parse_number("--vcpus", optarg,
						   KFP_MAX_VCPUS);
			if (!o->nr_vcpus)
				usage_error("--vcpus: at least 1");
			break;
		case OPT_VMS:
			o->nr_vms = parse_number("--vms", optarg,
						 KFP_RUN_MAX_VMS);
			if (!o->nr_vms)
				usage_error("--vms: at least 1");
			break;
		case OPT_PAUSE:
			o->pause = true;
			break;
		case OPT_IRQCHIP:
			o->irqchip = true;
			break;
		case OPT_SINGLE_STEP:
			o->single_step = true;
			break;
		case OPT_IOEVENTFD:
			o->ioeventfd = true;
			break;
		case OPT_COALESCED:
			o->coalesced = true;
			break;
		case OPT_PIT:
			o->pit = true;
			break;
		case OPT_PORT:
			o->port = parse_number("--port", optarg, 0xffff);
			o->port_given = true;
			break;
		case OPT_CPUID_LEAF:
			o->cpuid_leaf = parse_number("--cpuid-leaf", optarg,
						     0xffffffff);
			o->cpuid_given = true;
			break;
		case OPT_CPUID_SUBLEAF:
			o->cpuid_subleaf = parse_number("--cpuid-subleaf",
							optarg, 0xffffffff);
			o->cpuid_given = true;
			break;
		case OPT_VMCALL_INSN:
			if (!strcmp(optarg, "vmcall"))
				o->vmcall_insn = KFP_VMCALL_INSN_VMCALL;
			else if (!strcmp(optarg, "vmmcall"))
				o->vmcall_insn = KFP_VMCALL_INSN_VMMCALL;
			else
				usage_error("--vmcall-insn: '%s' is not vmcall or vmmcall",
					    optarg);
			o->vmcall_insn_given = true;
			break;
		case OPT_GUEST:
			o->guest_file = optarg;
			break;
		case OPT_LOAD:
			o->load = parse_number("--load-addr", optarg,
					       KFP_MEM_GPA + KFP_MEM_SIZE - 1);
			o->load_given = true;
			break;
		case OPT_TIMEOUT:
			o->timeout_s = parse_number("--timeout", optarg,
						    KFP_RUN_MAX_TIMEOUT);
			if (!o->timeout_s)
				usage_error("--timeout: at least 1");
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			print_usage(stdout);
			exit(0);
		default:
			if (c >= OPT_COUNT && c < OPT_COUNT + KFP_NR_KINDS) {
				parse_count(o, c - OPT_COUNT, optarg);
				break;
			}
			/* getopt_long() has printed the one-line reason. */
			exit(2);
		}
	}

	if (optind < argc) {
		if (argc - optind > 2)
			usage_error("unexpected argument '%s'", argv[optind + 2]);
		o->workload = argv[optind];
		parse_workload(o, argv[optind],
			       optind + 1 < argc ? argv[optind + 1] : NULL);
		if (o->counts_given)
			usage_error("give a WORKLOAD or --%s/--%s/... counts, not both",
				    kfp_kinds[0].name, kfp_kinds[1].name);
	}
	if (o->guest_file && (o->workload || o->counts_given))
		usage_error("--guest runs its own code: no WORKLOAD or counts");
	if (o->guest_file && o->port_given)
		usage_error("--port is for the io-out workload, not --guest");
	if (o->guest_file && o->cpuid_given)
		usage_error("--cpuid-leaf/-subleaf are for the cpuid workload, not --guest");
	if (o->guest_file && o->vmcall_insn_given)
		usage_error("--vmcall-insn is for the vmcall workload, not --guest");
	if (o->load_given && !o->guest_file)
		usage_error("--load-addr needs --guest");
	if (o->port_given && (o->port == KFP_PORT_MARK ||
			      o->port == KFP_PORT_DONE ||
			      o->port == KFP_PORT_STR ||
			      o->port == KFP_PORT_SERIAL))
		usage_error("--port: 0x%x is one of kfp-run's own ports (0x%x, 0x%x, 0x%x, 0x%x)",
			    o->port, KFP_PORT_MARK, KFP_PORT_DONE,
			    KFP_PORT_STR, KFP_PORT_SERIAL);
	if (o->pit && !o->irqchip)
		usage_error("--pit needs --irqchip (KVM's PIT delivers to its PIC)");
	if (o->coalesced && (!o->count[KFP_OUT] || o->ioeventfd))
		usage_error("--coalesced is for the io-out workload, without --ioeventfd");
	if (o->coalesced && kfp_vm_port_in_kernel(o->port, o->irqchip, o->pit, false))
		usage_error("--coalesced: port 0x%x is an in-kernel device's (--irqchip, --pit)",
			    o->port);
	if (o->ioeventfd && !o->count[KFP_OUT] && !o->count[KFP_MMIO])
		usage_error("--ioeventfd is for the io-out and mmio workloads");
	if (o->ioeventfd && kfp_vm_port_in_kernel(o->port, o->irqchip, o->pit, false))
		usage_error("--ioeventfd: port 0x%x is an in-kernel device's (--irqchip, --pit)",
			    o->port);
	if (o->count[KFP_IRQ] && !o->irqchip)
		usage_error("irq-hlt needs --irqchip (the in-kernel local APIC)");
	if (o->count[KFP_IRQ] && o->mode == KFP_MODE_REAL)
		usage_error("irq-hlt runs in prot or long mode, not real");
	if (o->count[KFP_L2] && o->mode != KFP_MODE_LONG)
		usage_error("l2-cpuid runs in long mode only");
	for (i = 0; o->count[KFP_L2] && i < KFP_NR_KINDS; i++) {
		if (i != KFP_L2 && o->count[i])
			usage_error("l2-cpuid is a guest of its own: no other workload with it");
	}
	if (o->count[KFP_L2] && o->single_step)
		usage_error("l2-cpuid and --single-step do not go together");
	if (o->count[KFP_STR] > KFP_STR_BUF_SIZE)
		usage_error("io-str: %lu is larger than %u", o->count[KFP_STR],
			    KFP_STR_BUF_SIZE);
}

static void tally_add_stat(struct kfp_exit_stat *sum,
			   const struct kfp_exit_stat *s)
{
	if (!s->count)
		return;
	if (!sum->count || s->min_ns < sum->min_ns)
		sum->min_ns = s->min_ns;
	if (s->max_ns > sum->max_ns)
		sum->max_ns = s->max_ns;
	sum->count += s->count;
	sum->sum_ns += s->sum_ns;
}

static void io_add(struct kfp_vm_io *sum, const struct kfp_vm_io *io)
{
	sum->work_out += io->work_out;
	sum->work_in += io->work_in;
	sum->mark += io->mark;
	sum->done += io->done;
	sum->serial += io->serial;
	sum->other += io->other;
	sum->str_out += io->str_out;
	sum->str_in += io->str_in;
	sum->str_exits += io->str_exits;
}

static bool io_equal(const struct kfp_vm_io *a, const struct kfp_vm_io *b)
{
	return a->work_out == b->work_out && a->work_in == b->work_in &&
	       a->mark == b->mark && a->done == b->done &&
	       a->serial == b->serial && a->other == b->other &&
	       a->str_out == b->str_out && a->str_in == b->str_in &&
	       a->str_exits == b->str_exits;
}

/* One vCPU's results and, for a built-in workload, what it should see. */
static void tally_vcpu(const struct kfp_opts *o, const struct kfp_vcpu *v,
		       struct kfp_tally *t)
{
	const struct kfp_guest_params *r = &v->result;
	const unsigned long long ticks[KFP_NR_KINDS] = {
		r->tsc_out, r->tsc_in, r->tsc_cpuid, r->tsc_hlt, r->tsc_mmio,
		r->tsc_msr, r->tsc_vmcall, r->tsc_irq, r->tsc_str,
	};
	bool out_in_kernel = kfp_vm_port_in_kernel(o->port, o->irqchip, o->pit,
						   o->ioeventfd);
	unsigned long min_debug = 0;
	unsigned int i;

	memset(t, 0, sizeof(*t));
	memcpy(t->exits, v->exits, sizeof(t->exits));
	t->io = v->io;
	t->wakes_sent = v->wakes_sent;
	t->wakeups = v->wakeups;
	t->ok = true;
	if (o->guest_file)
		return;

	for (i = 0; i < KFP_NR_KINDS; i++) {
		t->ticks[i] = ticks[i];
		t->done_count[i] = o->count[i];
	}
	t->io_expected.work_out = out_in_kernel ? 0 : o->count[KFP_OUT];
	/* Those of the coalesced ring are checked per VM (run_one()). */
	if (o->coalesced)
		t->io_expected.work_out = t->io.work_out;
	t->io_expected.work_in = o->count[KFP_IN];
	t->io_expected.mark = 1;
	t->io_expected.done = 1;
	/*
	 * io-str: the bytes are exact; how KVM splits a REP into exits is
	 * its own business (a REP INSB can be one exit), so those are taken
	 * as seen.
	 */
	t->io_expected.str_out = 2 * o->count[KFP_STR];
	t->io_expected.str_in = 2 * o->count[KFP_STR];
	t->io_expected.str_exits = t->io.str_exits;
	t->expected[KVM_EXIT_IO] = t->io_expected.work_out +
				   t->io_expected.work_in +
				   t->io_expected.str_exits + 2;
	t->expected[KVM_EXIT_HLT] = o->irqchip ? 0 : o->count[KFP_HLT];
	t->expected[KVM_EXIT_MMIO] = o->ioeventfd ? 0 : o->count[KFP_MMIO];
	/*
	 * CPUID, WRMSR and the unknown hypercall: KVM completes them all in
	 * the kernel, so none of them shows up here (a KVM_EXIT_HYPERCALL
	 * would be an unexpected exit).
	 */
	/*
	 * --single-step: one KVM_EXIT_DEBUG per instruction.  Their exact
	 * number is the guest code's; every workload loop has at least
	 * KFP_INSNS_PER_LOOP instructions per exit.
	 */
	if (o->single_step) {
		for (i = 0; i < KFP_NR_KINDS; i++)
			min_debug += KFP_INSNS_PER_LOOP * o->count[i];
		t->expected[KVM_EXIT_DEBUG] = t->exits[KVM_EXIT_DEBUG].count;
		if (t->expected[KVM_EXIT_DEBUG] <= min_debug)
			t->expected[KVM_EXIT_DEBUG] = min_debug + 1;
	}

	for (i = 0; i < KFP_VM_NR_EXITS; i++)
		t->ok &= t->exits[i].count == t->expected[i];
	t->ok &= io_equal(&t->io, &t->io_expected);
	/* With an irqchip, KVM put the vCPU to sleep on each HLT. */
	t->wakeups_expected = o->irqchip ? o->count[KFP_HLT] : 0;
	t->ok &= t->wakeups == t->wakeups_expected;
}

static void tally_add(struct kfp_tally *sum, const struct kfp_tally *t)
{
	unsigned int i;

	for (i = 0; i < KFP_VM_NR_EXITS; i++) {
		tally_add_stat(&sum->exits[i], &t->exits[i]);
		sum->expected[i] += t->expected[i];
	}
	io_add(&sum->io, &t->io);
	io_add(&sum->io_expected, &t->io_expected);
	for (i = 0; i < KFP_NR_KINDS; i++) {
		sum->ticks[i] += t->ticks[i];
		sum->done_count[i] += t->done_count[i];
	}
	sum->wakes_sent += t->wakes_sent;
	sum->wakeups += t->wakeups;
	sum->wakeups_expected += t->wakeups_expected;
	sum->ok &= t->ok;
}

/* --ioeventfd: one signal for each OUT and MMIO write of every vCPU. */
/* --coalesced: every OUT the guests made that userspace did not see. */
static unsigned long coalesced_expected(const struct kfp_opts *o,
					const struct kfp_tally *sum)
{
	unsigned long made = o->count[KFP_OUT] * o->nr_vcpus;

	return sum->io.work_out <= made ? made - sum->io.work_out : 0;
}

static unsigned long long ioeventfd_expected(const struct kfp_opts *o)
{
	return (unsigned long long)(o->count[KFP_OUT] + o->count[KFP_MMIO]) *
	       o->nr_vcpus;
}

/* Exit reasons worth a row: seen, expected, or always shown. */
static bool show_exit(const struct kfp_opts *o, const struct kfp_tally *t,
		      unsigned int i)
{
	if (t->exits[i].count || t->expected[i])
		return true;
	return !o->guest_file &&
	       (i == KVM_EXIT_IO || i == KVM_EXIT_HLT || i == KVM_EXIT_MMIO);
}

static unsigned long long mean_ns(const struct kfp_exit_stat *s)
{
	return s->count ? s->sum_ns / s->count : 0;
}

/* --- tables --------------------------------------------------------- */

static void print_mismatch(bool bad)
{
	printf("%s\n", bad ? "  <-- mismatch" : "");
}

static void print_exit_row(const struct kfp_opts *o, const struct kfp_tally *t,
			   unsigned int i)
{
	const struct kfp_exit_stat *s = &t->exits[i];
	char name[32];

	if (i == KFP_VM_NR_EXITS - 1)
		snprintf(name, sizeof(name), "KVM_EXIT_%u+", i);
	else
		snprintf(name, sizeof(name), "%s", kfp_exit_name(i));
	printf("%-26s %10lu", name, s->count);
	if (!o->guest_file)
		printf(" %10lu", t->expected[i]);
	if (s->count)
		printf(" %9llu %9llu %9llu", s->min_ns, mean_ns(s), s->max_ns);
	else
		printf(" %9s %9s %9s", "-", "-", "-");
	print_mismatch(!o->guest_file && s->count != t->expected[i]);
}

static void print_io_row(const char *name, unsigned long seen,
			 unsigned long expected, bool check)
{
	printf("  %-24s %10lu", name, seen);
	if (check) {
		printf(" %10lu", expected);
		print_mismatch(seen != expected);
	} else {
		printf("\n");
	}
}

static void print_userspace_table(const struct kfp_opts *o,
				  const struct kfp_tally *t)
{
	bool check = !o->guest_file;
	unsigned int i;
	char name[40];

	printf("%-26s %10s", "exit seen by userspace", "seen");
	if (check)
		printf(" %10s", "expected");
	printf(" %9s %9s %9s\n", "min ns", "mean ns", "max ns");
	for (i = 0; i < KFP_VM_NR_EXITS; i++) {
		if (!show_exit(o, t, i))
			continue;
		print_exit_row(o, t, i);
		if (i != KVM_EXIT_IO)
			continue;
		if (check) {
			snprintf(name, sizeof(name), "OUT to port 0x%x", o->port);
			print_io_row(name, t->io.work_out,
				     t->io_expected.work_out, true);
			snprintf(name, sizeof(name), "IN from port 0x%x",
				 KFP_PORT_WORK);
			print_io_row(name, t->io.work_in,
				     t->io_expected.work_in, true);
			if (o->count[KFP_STR]) {
				snprintf(name, sizeof(name),
					 "OUTS bytes, port 0x%x", KFP_PORT_STR);
				print_io_row(name, t->io.str_out,
					     t->io_expected.str_out, true);
				snprintf(name, sizeof(name),
					 "INS bytes, port 0x%x", KFP_PORT_STR);
				print_io_row(name, t->io.str_in,
					     t->io_expected.str_in, true);
				print_io_row("string exits (as seen)",
					     t->io.str_exits,
					     t->io_expected.str_exits, true);
			}
		} else {
			print_io_row("other ports", t->io.other, 0, false);
		}
		print_io_row("mark + done", t->io.mark + t->io.done,
			     t->io_expected.mark + t->io_expected.done, check);
		if (t->io.serial || !check)
			print_io_row("serial (port 0xe9)", t->io.serial, 0,
				     check);
	}
}

/* What the guest measured for one kind of exit. */
static void print_guest_view(const struct kfp_tally *t)
{
	unsigned int i, n = 0;

	/* l2-cpuid's L1 keeps no clock. */
	for (i = 0; i < KFP_NR_KINDS; i++)
		n += t->done_count[i] && i != KFP_L2;
	if (!n)
		return;
	printf("guest view (RDTSC in the guest)   exits      ticks  per exit\n");
	for (i = 0; i < KFP_NR_KINDS; i++) {
		if (!t->done_count[i] || i == KFP_L2)
			continue;
		printf("  %-30s %8lu %10llu %9llu\n", kfp_kinds[i].name,
		       t->done_count[i], t->ticks[i],
		       t->ticks[i] / t->done_count[i]);
	}
}

/* What the last CPUID and hypercall of each vCPU returned. */
static void print_results(const struct kfp_opts *o, const struct kfp_vm *vm)
{
	unsigned int i;

	for (i = 0; i < o->nr_vcpus; i++) {
		const struct kfp_guest_params *r = &vm->vcpus[i].result;

		if (o->count[KFP_CPUID]) {
			printf("vCPU %u cpuid 0x%x.%u:", i, o->cpuid_leaf,
			       o->cpuid_subleaf);
			printf(" eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x\n",
			       r->cpuid_eax, r->cpuid_ebx, r->cpuid_ecx,
			       r->cpuid_edx);
		}
		if (o->count[KFP_VMCALL])
			printf("vCPU %u vmcall rax=0x%llx insn=%s\n", i,
			       (unsigned long long)r->vmcall_rax,
			       kfp_vmcall_insns[o->vmcall_insn]);
		if (o->count[KFP_IRQ]) {
			printf("vCPU %u irq vector 0x%x taken=%u", i,
			       KFP_IRQ_VECTOR, r->irq_taken);
			if (r->irq_early)
				printf(" early=%u", r->irq_early);
			putchar('\n');
		}
		if (o->count[KFP_L2])
			printf("vCPU %u l2 cpuid exits taken by L1=%u\n", i,
			       r->l2_seen);
	}
}

static void print_per_vcpu(const struct kfp_opts *o,
			   const struct kfp_tally *per)
{
	unsigned int i, j;

	printf("%-10s %14s %14s %14s %8s", "per vCPU", "KVM_EXIT_IO",
	       "KVM_EXIT_HLT", "KVM_EXIT_MMIO", "other");
	if (o->irqchip)
		printf(" %8s", "wakeups");
	printf("\n");
	for (i = 0; i < o->nr_vcpus; i++) {
		const struct kfp_tally *t = &per[i];
		unsigned long other = 0;

		for (j = 0; j < KFP_VM_NR_EXITS; j++) {
			if (j != KVM_EXIT_IO && j != KVM_EXIT_HLT &&
			    j != KVM_EXIT_MMIO)
				other += t->exits[j].count;
		}
		printf("  vCPU %-4u %14lu %14lu %14lu %8lu", i,
		       t->exits[KVM_EXIT_IO].count,
		       t->exits[KVM_EXIT_HLT].count,
		       t->exits[KVM_EXIT_MMIO].count, other);
		if (o->irqchip)
			printf(" %8lu", t->wakeups);
		print_mismatch(!t->ok);
	}
}

static void print_header(const struct kfp_opts *o, size_t image_size)
{
	unsigned int i;

	printf("%s: %s mode, %u vCPU%s, %s%s", prog, kfp_mode_name(o->mode),
	       o->nr_vcpus, o->nr_vcpus == 1 ? "" : "s",
	       o->irqchip ? o->pit ? "in-kernel irqchip and PIT" : "in-kernel irqchip" :
	       "no irqchip",
	       o->single_step ? ", single-step" : "");
	if (o->guest_file) {
		printf("; guest %s, %zu bytes at 0x%llx\n", o->guest_file,
		       image_size, o->load);
		return;
	}
	printf("; per vCPU:");
	for (i = 0; i < KFP_NR_KINDS; i++)
		printf(" %s=%lu", kfp_kinds[i].name, o->count[i]);
	if (o->count[KFP_CPUID])
		printf(", cpuid leaf 0x%x.%u", o->cpuid_leaf,
		       o->cpuid_subleaf);
	if (o->count[KFP_VMCALL])
		printf(", %s", kfp_vmcall_insns[o->vmcall_insn]);
	printf("\n");
}

static void print_tables(const struct kfp_opts *o, const struct kfp_tally *sum,
			 const struct kfp_tally *per, const struct kfp_vm *vm)
{
	size_t image_size = vm->cfg.image.size;

	print_header(o, image_size);
	print_userspace_table(o, sum);
	if (o->nr_vcpus > 1)
		print_per_vcpu(o, per);
	if (o->irqchip && (o->guest_file || o->count[KFP_HLT])) {
		printf("%-26s %10lu", "HLT wake-ups (irqchip)", sum->wakeups);
		if (!o->guest_file)
			printf(" %10lu", sum->wakeups_expected);
		printf("  (%lu signals sent)", sum->wakes_sent);
		print_mismatch(!o->guest_file &&
			       sum->wakeups != sum->wakeups_expected);
	}
	if (o->ioeventfd) {
		printf("%-26s %10llu %10llu", "ioeventfd signals",
		       vm->ioeventfd_signals, ioeventfd_expected(o));
		print_mismatch(vm->ioeventfd_signals != ioeventfd_expected(o));
	}
	if (o->coalesced) {
		printf("%-26s %10lu %10lu", "OUTs in the coalesced ring",
		       vm->coalesced, coalesced_expected(o, sum));
		print_mismatch(vm->coalesced != coalesced_expected(o, sum));
	}
	if (!o->guest_file) {
		print_guest_view(sum);
		print_results(o, vm);
	}
}

/* --- JSON ----------------------------------------------------------- */

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_io(const char *key, const struct kfp_vm_io *io,
		    const char *indent, const char *end)
{
	printf("%s\"%s\": {\"out\": %lu, \"in\": %lu, \"mark\": %lu, ",
	       indent, key, io->work_out, io->work_in, io->mark);
	printf("\"done\": %lu, \"serial\": %lu, \"other\": %lu, ",
	       io->done, io->serial, io->other);
	printf("\"str_out\": %lu, \"str_in\": %lu, \"str_exits\": %lu}%s\n",
	       io->str_out, io->str_in, io->str_exits, end);
}

/* The body of "total" and of each "per_vcpu" entry, at @indent. */
static void json_tally(const struct kfp_opts *o, const struct kfp_tally *t,
		       const char *in)
{
	unsigned int i, n = 0, shown = 0;

	printf("%s\"ok\": %s,\n", in, t->ok ? "true" : "false");
	printf("%s\"exits\": {\n", in);
	for (i = 0; i < KFP_VM_NR_EXITS; i++)
		shown += show_exit(o, t, i);
	for (i = 0; i < KFP_VM_NR_EXITS; i++) {
		const struct kfp_exit_stat *s = &t->exits[i];

		if (!show_exit(o, t, i))
			continue;
		printf("%s  \"%s\": {\"code\": %u, \"count\": %lu", in,
		       kfp_exit_name(i), i, s->count);
		if (!o->guest_file)
			printf(", \"expected\": %lu", t->expected[i]);
		printf(", \"min_ns\": %llu, \"mean_ns\": %llu, \"max_ns\": %llu}%s\n",
		       s->min_ns, mean_ns(s), s->max_ns,
		       ++n < shown ? "," : "");
	}
	printf("%s},\n", in);
	if (!o->guest_file) {
		json_io("io_expected", &t->io_expected, in, ",");
		printf("%s\"guest\": {\n", in);
		for (i = 0; i < KFP_NR_KINDS; i++) {
			printf("%s  \"%s\": {\"exits\": %lu, \"ticks\": %llu, ",
			       in, kfp_kinds[i].name, t->done_count[i],
			       t->ticks[i]);
			printf("\"ticks_per_exit\": %llu}%s\n",
			       t->done_count[i] ?
			       t->ticks[i] / t->done_count[i] : 0,
			       i + 1 < KFP_NR_KINDS ? "," : "");
		}
		printf("%s},\n", in);
	}
	printf("%s\"wakeups\": {\"count\": %lu", in, t->wakeups);
	if (!o->guest_file)
		printf(", \"expected\": %lu", t->wakeups_expected);
	printf(", \"signals\": %lu},\n", t->wakes_sent);
	json_io("io", &t->io, in, "");
}

/* A vCPU's last CPUID and hypercall results (0 for none), at @in. */
static void json_results(const struct kfp_guest_params *r, const char *in)
{
	printf("%s\"cpuid_result\": {\"eax\": %u, \"ebx\": %u, ", in,
	       r->cpuid_eax, r->cpuid_ebx);
	printf("\"ecx\": %u, \"edx\": %u},\n", r->cpuid_ecx, r->cpuid_edx);
	printf("%s\"vmcall_result\": {\"rax\": %llu},\n", in,
	       (unsigned long long)r->vmcall_rax);
	printf("%s\"irq_result\": {\"taken\": %u, \"early\": %u},\n", in,
	       r->irq_taken, r->irq_early);
	printf("%s\"l2_result\": {\"seen\": %u},\n", in, r->l2_seen);
}

static void print_json(const struct kfp_opts *o, const struct kfp_tally *sum,
		       const struct kfp_tally *per, const struct kfp_vm *vm,
		       const char *name)
{
	unsigned int i;

	printf("{\n");
	printf("  \"version\": 1,\n");
	printf("  \"vm\": \"%s\",\n", name);
	printf("  \"mode\": \"%s\",\n", kfp_mode_name(o->mode));
	printf("  \"vcpus\": %u,\n", o->nr_vcpus);
	printf("  \"irqchip\": %s,\n", o->irqchip ? "true" : "false");
	printf("  \"pit\": %s,\n", o->pit ? "true" : "false");
	printf("  \"single_step\": %s,\n", o->single_step ? "true" : "false");
	printf("  \"ioeventfd\": %s,\n", o->ioeventfd ? "true" : "false");
	printf("  \"coalesced\": %s,\n", o->coalesced ? "true" : "false");
	if (o->coalesced)
		printf("  \"coalesced_outs\": %lu,\n", vm->coalesced);
	if (o->ioeventfd)
		printf("  \"ioeventfd_signals\": %llu,\n", vm->ioeventfd_signals);
	if (o->guest_file) {
		printf("  \"guest\": \"file\",\n  \"file\": ");
		json_string(o->guest_file);
		printf(",\n  \"size\": %zu,\n", vm->cfg.image.size);
	} else {
		printf("  \"guest\": \"builtin\",\n");
		printf("  \"port\": %u,\n", o->port);
		printf("  \"requested\": {");
		for (i = 0; i < KFP_NR_KINDS; i++)
			printf("\"%s\": %lu%s", kfp_kinds[i].name, o->count[i],
			       i + 1 < KFP_NR_KINDS ? ", " : "},\n");
		printf("  \"cpuid_leaf\": %u,\n", o->cpuid_leaf);
		printf("  \"cpuid_subleaf\": %u,\n", o->cpuid_subleaf);
		printf("  \"vmcall_insn\": \"%s\",\n",
		       kfp_vmcall_insns[o->vmcall_insn]);
	}
	printf("  \"load_addr\": %llu,\n", o->load);
	printf("  \"ok\": %s,\n", sum->ok ? "true" : "false");
	printf("  \"total\": {\n");
	json_tally(o, sum, "    ");
	printf("  },\n");
	printf("  \"per_vcpu\": [\n");
	for (i = 0; i < o->nr_vcpus; i++) {
		printf("    {\n");
		printf("      \"vcpu\": %u,\n", i);
		printf("      \"status\": %d,\n", vm->vcpus[i].guest_status);
		if (!o->guest_file)
			json_results(&vm->vcpus[i].result, "      ");
		json_tally(o, &per[i], "      ");
		printf("    }%s\n", i + 1 < o->nr_vcpus ? "," : "");
	}
	printf("  ]\n");
	printf("}\n");
}

/* Kinds KVM completed in the kernel, for the closing line. */
static void print_ok_line(const struct kfp_opts *o)
{
	bool out_in_kernel = kfp_vm_port_in_kernel(o->port, o->irqchip, o->pit,
						   o->ioeventfd);
	const char *sep = " (";
	unsigned int i;

	printf("%s: ok", prog);
	for (i = 0; i < KFP_NR_KINDS; i++) {
		if (!o->count[i])
			continue;
		if (i == KFP_CPUID || i == KFP_MSR || i == KFP_VMCALL ||
		    i == KFP_IRQ || i == KFP_L2 ||
		    (i == KFP_HLT && o->irqchip) ||
		    (i == KFP_MMIO && o->ioeventfd) ||
		    (i == KFP_OUT && out_in_kernel)) {
			printf("%s%s x%lu", sep, kfp_kinds[i].name, o->count[i]);
			sep = ", ";
		}
	}
	if (sep[0] == ',')
		printf("%s handled in the kernel, not seen here)",
		       o->nr_vcpus > 1 ? " per vCPU" : "");
	printf("\n");
}

/*
 * Run one VM and report what it saw: 0 if all was as expected, 1 if
 * userspace saw other exits, -1 if the run failed.  With several VMs or
 * --pause, a line per VM says which it was.
 */
static int run_one(const struct kfp_opts *o, struct kfp_vm *vm,
		   const char *name)
{
	bool named = o->nr_vms > 1 || o->pause;
	struct kfp_tally sum, *per;
	unsigned int i;

	if (named && !o->json && !o->quiet)
		printf("== vm %s\n", name);
	if (kfp_vm_run(vm)) {
		if (named)
			fprintf(stderr, "%s: vm %s: %s\n", prog, name, vm->err);
		else
			fprintf(stderr, "%s: %s\n", prog, vm->err);
		return -1;
	}
	per = calloc(o->nr_vcpus, sizeof(*per));
	if (!per) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	memset(&sum, 0, sizeof(sum));
	sum.ok = true;
	for (i = 0; i < o->nr_vcpus; i++) {
		tally_vcpu(o, &vm->vcpus[i], &per[i]);
		tally_add(&sum, &per[i]);
	}
	if (o->ioeventfd)
		sum.ok &= vm->ioeventfd_signals == ioeventfd_expected(o);
	if (o->coalesced)
		sum.ok &= vm->coalesced == coalesced_expected(o, &sum) &&
			  sum.io.work_out <= o->count[KFP_OUT] * o->nr_vcpus;
	if (o->json)
		print_json(o, &sum, per, vm, name);
	else if (!o->quiet)
		print_tables(o, &sum, per, vm);
	free(per);
	if (named && !sum.ok)
		fprintf(stderr, "%s: vm %s: FAIL\n", prog, name);
	else if (named && !o->json && !o->quiet)
		printf("%s: vm %s: ok\n", prog, name);
	return sum.ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct kfp_opts o = {
		.mode = KFP_MODE_REAL,
		.nr_vcpus = 1,
		.nr_vms = 1,
		.port = KFP_PORT_WORK,
		.load = KFP_GUEST_LOAD,
		.vmcall_insn = kfp_host_vmcall_insn(),
	};
	struct kfp_guest_params p = { .magic = KFP_PARAMS_MAGIC };
	char err[256], names[KFP_RUN_MAX_VMS][32];
	struct kfp_vm vms[KFP_RUN_MAX_VMS];
	unsigned int i, n, failed = 0, broken = 0;
	struct kfp_vm_config cfg;
	int c, ret = 1;

	parse_args(argc, argv, &o);

	p.n_out = o.count[KFP_OUT];
	p.n_in = o.count[KFP_IN];
	p.n_cpuid = o.count[KFP_CPUID];
	p.n_hlt = o.count[KFP_HLT];
	p.n_mmio = o.count[KFP_MMIO];
	p.n_msr = o.count[KFP_MSR];
	p.n_vmcall = o.count[KFP_VMCALL];
	p.n_irq = o.count[KFP_IRQ];
	p.n_str = o.count[KFP_STR];
	p.n_l2 = o.count[KFP_L2];
	p.cpuid_leaf = o.cpuid_leaf;
	p.cpuid_subleaf = o.cpuid_subleaf;
	p.vmcall_insn = o.vmcall_insn;
	p.out_port = o.port;
	kfp_vm_config_builtin(&cfg, o.mode, &p);
	cfg.nr_vcpus = o.nr_vcpus;
	cfg.irqchip = o.irqchip;
	cfg.pit = o.pit;
	cfg.single_step = o.single_step;
	cfg.ioeventfd = o.ioeventfd;
	cfg.coalesced = o.coalesced;
	if (o.count[KFP_L2]) {
		cfg.image.code = kfp_guest_l2_start;
		cfg.image.size = kfp_guest_l2_end - kfp_guest_l2_start;
		cfg.need_vmx = true;
	}
	cfg.timeout_s = o.timeout_s;
	cfg.serial = o.json ? stderr : stdout;
	if (o.guest_file) {
		ret = kfp_guest_read_file(o.guest_file, &cfg.image, err,
					  sizeof(err));
		if (ret) {
			fprintf(stderr, "%s: --guest: %s\n", prog, err);
			return 2;
		}
		ret = kfp_guest_check_placement(o.load, cfg.image.size,
						o.nr_vcpus, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "%s: --load-addr: %s\n", prog, err);
			return 2;
		}
		cfg.user_guest = true;
		cfg.load = o.load;
	}

	for (n = 0; n < o.nr_vms; n++) {
		if (kfp_vm_create(&vms[n], &cfg)) {
			fprintf(stderr, "%s: %s\n", prog, vms[n].err);
			n++;	/* destroyed too */
			goto out;
		}
		/* KVM's name for it: kvm_create_vm_debugfs()'s "PID-FD". */
		snprintf(names[n], sizeof(names[n]), "%d-%d", (int)getpid(),
			 vms[n].vm_fd);
	}
	if (o.pause) {
		for (i = 0; i < o.nr_vms; i++)
			fprintf(stderr, "%s: vm %s\n", prog, names[i]);
		fprintf(stderr, "%s: paused: a line on stdin runs the guests\n",
			prog);
		while ((c = getchar()) != EOF && c != '\n')
			;
	}
	if (o.json && o.nr_vms > 1)
		printf("[\n");
	for (i = 0; i < o.nr_vms; i++) {
		c = run_one(&o, &vms[i], names[i]);
		if (c < 0)
			broken++;
		else if (c)
			failed++;
		if (o.json && o.nr_vms > 1)
			printf("%s\n", i + 1 < o.nr_vms ? "," : "]");
	}
	if (o.pause) {
		fflush(stdout);
		fprintf(stderr, "%s: ran: a line on stdin closes the VMs\n", prog);
		while ((c = getchar()) != EOF && c != '\n')
			;
	}
	ret = broken ? 1 : 0;
out:
	while (n)
		kfp_vm_destroy(&vms[--n]);
	if (o.guest_file)
		free((void *)cfg.image.code);
	if (ret)
		return ret;
	if (failed) {
		fprintf(stderr, "%s: FAIL: userspace exits differ from the guest's work\n",
			prog);
		return 1;
	}
	if (!o.quiet && !o.json) {
		if (o.guest_file)
			printf("%s: guest done, status 0\n", prog);
		else
			print_ok_line(&o);
	}
	return 0;
}
