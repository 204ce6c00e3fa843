// SPDX-License-Identifier: GPL-2.0
/*
 * exit_dispatch_test: run the real-mode test guest and check the VM exits
 * it causes, both as seen by userspace (KVM_EXIT_*) and as counted by the
 * kvm_fastpath module per VMX basic exit reason in
 * /sys/kernel/debug/kvm_fastpath/exits.  That file's columns are found by
 * the names in its header line (Documentation/debugfs.rst), so columns
 * can be added without breaking this test.
 *
 * The module counters are system wide: nothing else may run VMs while
 * this test runs.
 *
 * Usage: exit_dispatch_test [-n SCALE]   (multiplies every count)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kfp_ksft.h"
#include "vm.h"

#ifndef KFP_EXITS_PATH		/* overridable to test the parser */
#define KFP_EXITS_PATH		"/sys/kernel/debug/kvm_fastpath/exits"
#define KFP_INFO_PATH		"/sys/kernel/debug/kvm_fastpath/info"
#endif
#define KFP_MMIO_CACHING_PATH	"/sys/module/kvm/parameters/mmio_caching"
#define KFP_NOT_LOADED \
	"kvm_fastpath not loaded (no " KFP_EXITS_PATH ")"

#define KFP_TEST_PLAN		9
#define KFP_MAX_ROWS		256	/* the module's table size */
#define KFP_MAX_COLS		32
#define KFP_MAX_SCALE		200000	/* keeps every count <= 10^7 */

/* The columns this test reads, by header name; the rest are skipped. */
enum kfp_col {
	KFP_COL_INDEX, KFP_COL_NAME, KFP_COL_EXITS, KFP_COL_FAST,
	KFP_COL_STOCK, KFP_COL_L2, KFP_NR_COLS,
};

static const char * const kfp_col_names[KFP_NR_COLS] = {
	[KFP_COL_INDEX] = "index",
	[KFP_COL_NAME]  = "name",
	[KFP_COL_EXITS] = "exits",
	[KFP_COL_FAST]  = "fast",
	[KFP_COL_STOCK] = "stock",
	[KFP_COL_L2]    = "l2",
};

/* One read of the module's exits file; absent columns read as 0. */
struct kfp_snapshot {
	unsigned int nr;
	struct {
		unsigned int index;
		char name[40];
		unsigned long long val[KFP_NR_COLS];	/* numeric columns */
	} row[KFP_MAX_ROWS];
	unsigned long long unindexed;
};

/*
 * The header line, "# index name exits ...": where each column we know
 * is (-1 if absent) and how many there are.  0 or -EINVAL.
 */
static int kfp_parse_header(char *line, int pos[KFP_NR_COLS],
			    unsigned int *ncols)
{
	char *tok, *save = NULL;
	unsigned int i, n = 0;

	for (i = 0; i < KFP_NR_COLS; i++)
		pos[i] = -1;
	if (line[0] != '#')
		return -EINVAL;
	for (tok = strtok_r(line + 1, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save), n++) {
		for (i = 0; i < KFP_NR_COLS; i++) {
			if (!strcmp(tok, kfp_col_names[i]))
				pos[i] = n;
		}
		/* The name before the fast path counts existed. */
		if (!strcmp(tok, "l2_exits"))
			pos[KFP_COL_L2] = n;
	}
	*ncols = n;
	return pos[KFP_COL_NAME] >= 0 && pos[KFP_COL_EXITS] >= 0 ? 0 : -EINVAL;
}

/* One data line into row @r of @s; 0 or -EINVAL. */
static int kfp_parse_row(char *line, const int pos[KFP_NR_COLS],
			 unsigned int ncols, struct kfp_snapshot *s,
			 unsigned int r)
{
	char *tok[KFP_MAX_COLS], *save = NULL, *end;
	unsigned int i, n = 0;

	tok[0] = strtok_r(line, " \t\n", &save);
	while (tok[n]) {
		if (++n == KFP_MAX_COLS)
			return -EINVAL;
		tok[n] = strtok_r(NULL, " \t\n", &save);
	}
	if (n != ncols)
		return -EINVAL;
	for (i = 0; i < KFP_NR_COLS; i++) {
		if (pos[i] < 0)
			continue;
		if (i == KFP_COL_NAME) {
			snprintf(s->row[r].name, sizeof(s->row[r].name), "%s",
				 tok[pos[i]]);
			continue;
		}
		errno = 0;
		s->row[r].val[i] = strtoull(tok[pos[i]], &end, 10);
		if (*end || errno || tok[pos[i]][0] == '-')
			return -EINVAL;
	}
	s->row[r].index = s->row[r].val[KFP_COL_INDEX];
	return 0;
}

/* Read and parse KFP_EXITS_PATH; 0 or -errno with a diagnostic printed. */
static int kfp_snapshot_read(struct kfp_snapshot *s)
{
	char line[512], copy[512];
	int pos[KFP_NR_COLS];
	unsigned int ncols = 0;
	bool header = false;
	FILE *f;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	f = fopen(KFP_EXITS_PATH, "r");
	if (!f) {
		ret = -errno;
		ksft_print_msg("open %s: %s\n", KFP_EXITS_PATH, strerror(errno));
		return ret;
	}
	while (fgets(line, sizeof(line), f)) {
		snprintf(copy, sizeof(copy), "%.*s", (int)strcspn(line, "\n"),
			 line);
		if (!header) {
			ret = kfp_parse_header(line, pos, &ncols);
			if (ret) {
				ksft_print_msg("%s: bad header '%s'\n",
					       KFP_EXITS_PATH, copy);
				break;
			}
			header = true;
			continue;
		}
		if (line[0] == '#') {
			unsigned long long n;

			if (sscanf(line, "# unindexed %llu", &n) == 1)
				s->unindexed = n;
			continue;
		}
		if (line[0] == '\n')
			continue;
		if (s->nr == KFP_MAX_ROWS) {
			ksft_print_msg("%s: more than %d rows\n", KFP_EXITS_PATH,
				       KFP_MAX_ROWS);
			ret = -E2BIG;
			break;
		}
		ret = kfp_parse_row(line, pos, ncols, s, s->nr);
		if (ret) {
			ksft_print_msg("%s: cannot parse '%s'\n", KFP_EXITS_PATH,
				       copy);
			break;
		}
		s->nr++;
	}
	if (!ret && !header) {
		ret = -EINVAL;
		ksft_print_msg("%s: empty\n", KFP_EXITS_PATH);
	}
	if (!ret && ferror(f)) {
		ret = -EIO;
		ksft_print_msg("read %s failed\n", KFP_EXITS_PATH);
	}
	fclose(f);
	return ret;
}

/* Exits counted for reason @name; false (and a diagnostic) if absent. */
static bool kfp_snapshot_get(const struct kfp_snapshot *s, const char *name,
			     unsigned long long *exits)
{
	unsigned int i;

	for (i = 0; i < s->nr; i++) {
		if (!strcmp(s->row[i].name, name)) {
			*exits = s->row[i].val[KFP_COL_EXITS];
			return true;
		}
	}
	ksft_print_msg("no %s line in %s\n", name, KFP_EXITS_PATH);
	return false;
}

static bool kfp_module_loaded(void)
{
	return access(KFP_EXITS_PATH, R_OK) == 0;
}

/* Write @str to the exits file; 0 or -errno. */
static int kfp_exits_write(const char *str)
{
	ssize_t len = strlen(str);
	int fd, ret = 0;

	fd = open(KFP_EXITS_PATH, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, str, len) != len)
		ret = errno ? -errno : -EIO;
	close(fd);
	return ret;
}

/* Is KVM's MMIO SPTE caching on?  Unknown counts as on, its default. */
static bool kfp_mmio_caching(void)
{
	char c = 'Y';
	FILE *f;

	f = fopen(KFP_MMIO_CACHING_PATH, "r");
	if (!f) {
		ksft_print_msg("cannot read %s, assuming Y\n", KFP_MMIO_CACHING_PATH);
		return true;
	}
	if (fscanf(f, " %c", &c) != 1)
		c = 'Y';
	fclose(f);
	return c == 'Y' || c == 'y' || c == '1';
}

/* KVM is missing or off limits, rather than broken. */
static bool kfp_kvm_unusable(int err)
{
	return err == -ENOENT || err == -ENODEV || err == -EACCES;
}

static bool kfp_check(const char *what, unsigned long long expected,
		      unsigned long long got)
{
	ksft_print_msg("%s: expected %llu got %llu\n", what, expected, got);
	return expected == got;
}

/* kfp_check() for whole tables: says something only when they differ. */
static bool kfp_same(const char *what, unsigned long long expected,
		     unsigned long long got)
{
	return expected == got || kfp_check(what, expected, got);
}

/* Userspace's view of vCPU 0's run against the guest's parameters. */
static bool kfp_check_launcher(const struct kfp_guest_params *p,
			       const struct kfp_vcpu *v)
{
	bool ok = true;
	unsigned int i;

	ok &= kfp_check("KVM_EXIT_IO", (unsigned long long)p->n_out + p->n_in + 2,
			v->exits[KVM_EXIT_IO].count);
	ok &= kfp_check("KVM_EXIT_IO out to work port", p->n_out,
			v->io.work_out);
	ok &= kfp_check("KVM_EXIT_IO in from work port", p->n_in,
			v->io.work_in);
	ok &= kfp_check("KVM_EXIT_IO mark", 1, v->io.mark);
	ok &= kfp_check("KVM_EXIT_IO done", 1, v->io.done);
	ok &= kfp_check("KVM_EXIT_HLT", p->n_hlt, v->exits[KVM_EXIT_HLT].count);
	ok &= kfp_check("KVM_EXIT_MMIO", p->n_mmio,
			v->exits[KVM_EXIT_MMIO].count);
	for (i = 0; i < KFP_VM_NR_EXITS; i++) {
		if (i != KVM_EXIT_IO && i != KVM_EXIT_HLT &&
		    i != KVM_EXIT_MMIO)
			ok &= kfp_same(kfp_exit_name(i), 0, v->exits[i].count);
	}
	return ok;
}

static void test_launcher(const struct kfp_guest_params *p)
{
	const char *desc = "launcher: userspace sees exactly the expected exits";
	struct kfp_vm_config cfg;
	struct kfp_vm vm;
	bool ok;
	int ret;

	kfp_vm_config_builtin(&cfg, KFP_MODE_REAL, p);
	ret = kfp_vm_create(&vm, &cfg);
	if (!ret)
		ret = kfp_vm_run(&vm);
	if (kfp_kvm_unusable(ret)) {
		ksft_test_result_skip("%s: %s\n", desc, vm.err);
		kfp_vm_destroy(&vm);
		return;
	}
	if (ret) {
		ksft_print_msg("%s\n", vm.err);
		ksft_test_result_fail("%s\n", desc);
		kfp_vm_destroy(&vm);
		return;
	}
	ok = kfp_check_launcher(p, &vm.vcpus[0]);
	kfp_vm_destroy(&vm);
	ksft_test_result(ok, "%s\n", desc);
}

/* Module counters at KFP_PORT_MARK, taken from inside the run loop. */
static int kfp_on_mark(struct kfp_vcpu *vcpu, void *arg)
{
	if (!kfp_snapshot_read(arg))
		return 0;
	snprintf(vcpu->err, sizeof(vcpu->err),
		 "reading module counters at mark failed");
	return -EIO;	/* not -ENOENT: that would read as "no KVM" */
}

/* Module counter deltas between the mark and the end of the guest run. */
enum {
	KFP_DELTA_IO,
	KFP_DELTA_CPUID,
	KFP_DELTA_HLT,
	KFP_DELTA_EPT,
	KFP_DELTA_EPT_VIOLATION,
	KFP_DELTA_EPT_MISCONFIG,
	KFP_NR_DELTAS,
};

struct kfp_delta {
	const char *desc;
	const char *reasons[2];		/* summed; either may be NULL */
};

static const struct kfp_delta kfp_deltas_vmx[KFP_NR_DELTAS] = {
	[KFP_DELTA_IO] = {
		"module: IO_INSTRUCTION exits = out + in + 1",
		{ "IO_INSTRUCTION" } },
	[KFP_DELTA_CPUID] = {
		"module: CPUID exits = cpuid",
		{ "CPUID" } },
	[KFP_DELTA_HLT] = {
		"module: HLT exits = hlt",
		{ "HLT" } },
	[KFP_DELTA_EPT] = {
		"module: EPT_VIOLATION + EPT_MISCONFIG exits = mmio",
		{ "EPT_VIOLATION", "EPT_MISCONFIG" } },
	[KFP_DELTA_EPT_VIOLATION] = {
		"module: EPT_VIOLATION exits = 1 with mmio_caching, else mmio",
		{ "EPT_VIOLATION" } },
	[KFP_DELTA_EPT_MISCONFIG] = {
		"module: EPT_MISCONFIG exits = mmio - 1 with mmio_caching, else 0",
		{ "EPT_MISCONFIG" } },
};

/* SVM's names; an MMIO access is a nested page fault, cached or not. */
static const struct kfp_delta kfp_deltas_svm[KFP_NR_DELTAS] = {
	[KFP_DELTA_IO] = { "module: io exits = out + in + 1", { "io" } },
	[KFP_DELTA_CPUID] = { "module: cpuid exits = cpuid", { "cpuid" } },
	[KFP_DELTA_HLT] = { "module: hlt exits = hlt", { "hlt" } },
	[KFP_DELTA_EPT] = { "module: npf exits = mmio", { "npf" } },
	[KFP_DELTA_EPT_VIOLATION] = {
		"module: EPT_VIOLATION exits = 1 with mmio_caching, else mmio" },
	[KFP_DELTA_EPT_MISCONFIG] = {
		"module: EPT_MISCONFIG exits = mmio - 1 with mmio_caching, else 0" },
};

/* True if the module's debugfs info says it hooked SVM. */
static bool kfp_vendor_svm(void)
{
	char line[128];
	bool svm = false;
	FILE *f;

	f = fopen(KFP_INFO_PATH, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strcmp(line, "vendor: svm\n"))
			svm = true;
	fclose(f);
	return svm;
}

/* Run the guest, snapshotting the module counters at mark and at done. */
static int kfp_run_measured(const struct kfp_guest_params *p,
			    struct kfp_snapshot *before,
			    struct kfp_snapshot *after, const char **skip)
{
	struct kfp_vm_config cfg;
	struct kfp_vm vm;
	int ret;

	kfp_vm_config_builtin(&cfg, KFP_MODE_REAL, p);
	cfg.on_mark = kfp_on_mark;
	cfg.on_mark_arg = before;
	ret = kfp_vm_create(&vm, &cfg);
	if (!ret)
		ret = kfp_vm_run(&vm);
	if (!ret && vm.vcpus[0].io.mark != 1) {
		snprintf(vm.err, sizeof(vm.err), "guest never reached the mark");
		ret = -EPROTO;
	}
	kfp_vm_destroy(&vm);

	if (kfp_kvm_unusable(ret)) {
		static char reason[sizeof(vm.err)];

		snprintf(reason, sizeof(reason), "%s", vm.err);
		*skip = reason;
		return ret;
	}
	if (ret) {
		ksft_print_msg("guest run failed: %s\n", vm.err);
		return ret;
	}
	return kfp_snapshot_read(after);
}

static void test_module_deltas(const struct kfp_guest_params *p)
{
	static struct kfp_snapshot before, after;
	unsigned long long expected[KFP_NR_DELTAS];
	const struct kfp_delta *deltas = kfp_deltas_vmx;
	const char *skip = NULL;
	bool caching = false;
	unsigned int i, j;
	int ret = 0;

	if (kfp_module_loaded()) {
		if (kfp_vendor_svm())
			deltas = kfp_deltas_svm;
		caching = kfp_mmio_caching();
		ksft_print_msg("mmio_caching=%c\n", caching ? 'Y' : 'N');
		ret = kfp_run_measured(p, &before, &after, &skip);
	} else {
		skip = KFP_NOT_LOADED;
	}

	expected[KFP_DELTA_IO] = (unsigned long long)p->n_out + p->n_in + 1;
	expected[KFP_DELTA_CPUID] = p->n_cpuid;
	expected[KFP_DELTA_HLT] = p->n_hlt;
	expected[KFP_DELTA_EPT] = p->n_mmio;
	if (caching && p->n_mmio) {
		expected[KFP_DELTA_EPT_VIOLATION] = 1;
		expected[KFP_DELTA_EPT_MISCONFIG] = p->n_mmio - 1;
	} else {
		expected[KFP_DELTA_EPT_VIOLATION] = p->n_mmio;
		expected[KFP_DELTA_EPT_MISCONFIG] = 0;
	}

	for (i = 0; i < KFP_NR_DELTAS; i++) {
		unsigned long long got = 0;
		bool ok = !ret;

		if (skip) {
			ksft_test_result_skip("%s: %s\n", deltas[i].desc, skip);
			continue;
		}
		if (!deltas[i].reasons[0]) {
			ksft_test_result_skip("%s: %s\n", deltas[i].desc,
					      "SVM has no EPT misconfiguration exit: MMIO is npf alone");
			continue;
		}
		for (j = 0; ok && j < 2 && deltas[i].reasons[j]; j++) {
			const char *reason = deltas[i].reasons[j];
			unsigned long long b = 0, a = 0;

			ok = kfp_snapshot_get(&before, reason, &b) &&
			     kfp_snapshot_get(&after, reason, &a);
			got += a - b;
		}
		if (ok)
			ok = kfp_check(deltas[i].reasons[1] ?
				       "EPT_VIOLATION + EPT_MISCONFIG" :
				       deltas[i].reasons[0],
				       expected[i], got);
		ksft_test_result(ok, "%s\n", deltas[i].desc);
	}
}

static bool kfp_snapshot_equal(const struct kfp_snapshot *a,
			       const struct kfp_snapshot *b)
{
	unsigned int i, j;
	bool ok = true;

	ok &= kfp_check("number of rows", a->nr, b->nr);
	ok &= kfp_check("unindexed", a->unindexed, b->unindexed);
	for (i = 0; ok && i < a->nr; i++) {
		for (j = KFP_COL_EXITS; j < KFP_NR_COLS; j++)
			ok &= kfp_same(a->row[i].name, a->row[i].val[j],
				       b->row[i].val[j]);
	}
	return ok;
}

static void test_write_bogus(void)
{
	const char *desc = "module: writing \"bogus\" fails with EINVAL, counters unchanged";
	static struct kfp_snapshot before, after;
	bool ok;
	int ret;

	if (!kfp_module_loaded()) {
		ksft_test_result_skip("%s: %s\n", desc, KFP_NOT_LOADED);
		return;
	}
	if (kfp_snapshot_read(&before)) {
		ksft_test_result_fail("%s\n", desc);
		return;
	}
	ret = kfp_exits_write("bogus");
	ok = ret == -EINVAL;
	if (!ok)
		ksft_print_msg("write \"bogus\": expected %s got %s\n",
			       strerror(EINVAL), ret ? strerror(-ret) : "success");
	if (kfp_snapshot_read(&after))
		ok = false;
	else
		ok &= kfp_snapshot_equal(&before, &after);
	ksft_test_result(ok, "%s\n", desc);
}

static void test_reset(void)
{
	const char *desc = "module: writing \"reset\" zeroes all counters";
	static struct kfp_snapshot s;
	unsigned int i, j;
	bool ok = true;
	int ret;

	if (!kfp_module_loaded()) {
		ksft_test_result_skip("%s: %s\n", desc, KFP_NOT_LOADED);
		return;
	}
	ret = kfp_exits_write("reset");
	if (ret) {
		ksft_print_msg("write \"reset\": %s\n", strerror(-ret));
		ksft_test_result_fail("%s\n", desc);
		return;
	}
	if (kfp_snapshot_read(&s)) {
		ksft_test_result_fail("%s\n", desc);
		return;
	}
	for (i = 0; i < s.nr; i++) {
		for (j = KFP_COL_EXITS; j < KFP_NR_COLS; j++)
			ok &= kfp_same(s.row[i].name, 0, s.row[i].val[j]);
	}
	ok &= kfp_check("unindexed", 0, s.unindexed);
	ksft_test_result(ok, "%s\n", desc);
}

static void print_usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-n SCALE]  (SCALE 1..%d multiplies every count)\n",
		prog, KFP_MAX_SCALE);
}

int main(int argc, char **argv)
{
	struct kfp_guest_params p = { .magic = KFP_PARAMS_MAGIC };
	unsigned long scale = 1;
	char *end;
	int c;

	while ((c = getopt(argc, argv, "n:h")) != -1) {
		switch (c) {
		case 'n':
			errno = 0;
			scale = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end ||
			    errno || !scale || scale > KFP_MAX_SCALE) {
				fprintf(stderr, "%s: -n: bad scale '%s'\n",
					argv[0], optarg);
				return KSFT_FAIL;
			}
			break;
		case 'h':
			print_usage(argv[0]);
			return KSFT_PASS;
		default:
			print_usage(argv[0]);
			return KSFT_FAIL;
		}
	}
	if (optind < argc) {
		print_usage(argv[0]);
		return KSFT_FAIL;
	}

	p.n_out = 50 * scale;
	p.n_in = 20 * scale;
	p.n_cpuid = 40 * scale;
	p.n_hlt = 10 * scale;
	p.n_mmio = 8 * scale;

	ksft_print_header();
	ksft_set_plan(KFP_TEST_PLAN);
	ksft_print_msg("guest: out=%u in=%u cpuid=%u hlt=%u mmio=%u\n",
		       p.n_out, p.n_in, p.n_cpuid, p.n_hlt, p.n_mmio);

	test_launcher(&p);
	test_module_deltas(&p);
	/* While the counters still hold the runs above. */
	test_write_bogus();
	/* Last: no VM is running now. */
	test_reset();

	ksft_finished();
}
