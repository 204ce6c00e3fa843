// SPDX-License-Identifier: GPL-2.0
/*
 * kfp-run: run the real-mode test guest once and check that userspace saw
 * exactly the VM exits the guest was asked to cause.
 *
 * CPUID is handled by KVM in the kernel, so it never reaches userspace;
 * it is here to generate exits for the kvm_fastpath module to count.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>

#include "vm.h"

#define KFP_RUN_MAX_COUNT	10000000UL

static const char *prog = "kfp-run";
static int quiet;

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: %s [--out N] [--in N] [--cpuid N] [--hlt N] [--mmio N] [-q|--quiet] [-h|--help]\n"
		"Run a real-mode KVM guest doing N of each operation and check the exits\n"
		"userspace sees: IO = out + in + 2, HLT = hlt, MMIO = mmio, nothing else.\n"
		"Counts are 0 to %lu, default 0.\n",
		prog, KFP_RUN_MAX_COUNT);
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

static __u32 parse_count(const char *opt, const char *arg)
{
	unsigned long val;
	char *end;

	if (arg[0] < '0' || arg[0] > '9')
		usage_error("--%s: '%s' is not a non-negative number", opt, arg);
	errno = 0;
	val = strtoul(arg, &end, 10);
	if (*end)
		usage_error("--%s: '%s' is not a non-negative number", opt, arg);
	if (errno == ERANGE || val > KFP_RUN_MAX_COUNT)
		usage_error("--%s: %s is larger than %lu", opt, arg,
			    KFP_RUN_MAX_COUNT);
	return val;
}

static void parse_args(int argc, char **argv, struct kfp_guest_params *p)
{
	static const struct option opts[] = {
		{ "out",   required_argument, NULL, 'o' },
		{ "in",    required_argument, NULL, 'i' },
		{ "cpuid", required_argument, NULL, 'c' },
		{ "hlt",   required_argument, NULL, 't' },
		{ "mmio",  required_argument, NULL, 'm' },
		{ "quiet", no_argument,       NULL, 'q' },
		{ "help",  no_argument,       NULL, 'h' },
		{ NULL,    0,                 NULL, 0 },
	};
	int c, idx = 0;

	while ((c = getopt_long(argc, argv, "qh", opts, &idx)) != -1) {
		switch (c) {
		case 'o':
			p->n_out = parse_count("out", optarg);
			break;
		case 'i':
			p->n_in = parse_count("in", optarg);
			break;
		case 'c':
			p->n_cpuid = parse_count("cpuid", optarg);
			break;
		case 't':
			p->n_hlt = parse_count("hlt", optarg);
			break;
		case 'm':
			p->n_mmio = parse_count("mmio", optarg);
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			print_usage(stdout);
			exit(0);
		default:
			/* getopt_long() has printed the one-line reason. */
			exit(2);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

/* Print one row; returns 1 if seen != expected. */
static int row(const char *name, unsigned long seen, unsigned long expected)
{
	if (!quiet)
		printf("%-26s %10lu %10lu%s\n", name, seen, expected,
		       seen == expected ? "" : "  <-- mismatch");
	return seen != expected;
}

/* What the guest measured for one kind of exit. */
static void guest_row(const char *name, unsigned long n, unsigned long long ticks)
{
	if (!n)
		return;
	printf("  %-30s %8lu %10llu %9llu\n", name, n, ticks, ticks / n);
}

int main(int argc, char **argv)
{
	struct kfp_guest_params p = { .magic = KFP_PARAMS_MAGIC };
	struct kfp_vm vm;
	unsigned long expect_io;
	unsigned int i;
	int bad = 0;

	parse_args(argc, argv, &p);
	expect_io = (unsigned long)p.n_out + p.n_in + 2;

	if (kfp_vm_create(&vm, &p) || kfp_vm_run(&vm)) {
		fprintf(stderr, "%s: %s\n", prog, vm.err);
		kfp_vm_destroy(&vm);
		return 1;
	}
	kfp_vm_destroy(&vm);

	if (!quiet) {
		printf("guest: out=%u in=%u cpuid=%u hlt=%u mmio=%u\n",
		       p.n_out, p.n_in, p.n_cpuid, p.n_hlt, p.n_mmio);
		printf("%-26s %10s %10s\n", "exit seen by userspace",
		       "seen", "expected");
	}
	bad |= row(kfp_exit_name(KVM_EXIT_IO), vm.exits[KVM_EXIT_IO],
		   expect_io);
	bad |= row("  out to work port", vm.io.work_out, p.n_out);
	bad |= row("  in from work port", vm.io.work_in, p.n_in);
	bad |= row("  mark + done", vm.io.mark + vm.io.done, 2);
	bad |= row(kfp_exit_name(KVM_EXIT_HLT), vm.exits[KVM_EXIT_HLT],
		   p.n_hlt);
	bad |= row(kfp_exit_name(KVM_EXIT_MMIO), vm.exits[KVM_EXIT_MMIO],
		   p.n_mmio);
	for (i = 0; i < KFP_VM_NR_EXITS; i++) {
		if (i == KVM_EXIT_IO || i == KVM_EXIT_HLT ||
		    i == KVM_EXIT_MMIO || !vm.exits[i])
			continue;
		bad |= row(kfp_exit_name(i), vm.exits[i], 0);
	}

	if (!quiet) {
		printf("guest view (RDTSC in the guest)   exits      ticks  per exit\n");
		guest_row("out", p.n_out, vm.result.tsc_out);
		guest_row("in", p.n_in, vm.result.tsc_in);
		guest_row("cpuid", p.n_cpuid, vm.result.tsc_cpuid);
		guest_row("hlt", p.n_hlt, vm.result.tsc_hlt);
		guest_row("mmio", p.n_mmio, vm.result.tsc_mmio);
	}

	if (bad) {
		fprintf(stderr, "%s: FAIL: userspace exits differ from the guest's work\n",
			prog);
		return 1;
	}
	if (!quiet)
		printf("%s: ok (CPUID x%u handled in the kernel, not seen here)\n",
		       prog, p.n_cpuid);
	return 0;
}
