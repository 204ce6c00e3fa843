// SPDX-License-Identifier: GPL-2.0
/*
 * kfp-stat: kvm_fastpath's exit counters as a table, like perf kvm stat.
 *
 * Reads /sys/kernel/debug/kvm_fastpath/exits (Documentation/debugfs.rst):
 * a header line "# index name exits fast stock l2", one line per exit
 * reason in that column order, "# unindexed N" last.  Columns are found by
 * their header name, so the module can add columns without breaking this
 * tool; numeric columns it does not know are summed and shown in JSON.
 * A watched VM's file, vms/PID-FD, has the same format (--vm).
 * Documentation/usage.rst describes the options and the output.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "kfp-stat.h"

#define KFP_STAT_DEBUGFS	"/sys/kernel/debug"
#define KFP_STAT_DIR		KFP_STAT_DEBUGFS "/kvm_fastpath"
#define KFP_STAT_DEBUGFS_MAGIC	0x64626720	/* DEBUGFS_MAGIC */
#define KFP_STAT_MAX_ROWS	256
#define KFP_STAT_MAX_COLS	32
#define KFP_STAT_MAX_INTERVAL	86400.0
#define KFP_STAT_NO_HEADER \
	"%s: line 1: no header naming the columns (\"# index name exits ...\")"

/* The columns the table shows, by header name. */
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

struct kfp_row {
	char *val[KFP_STAT_MAX_COLS];		/* as written */
	unsigned long long num[KFP_STAT_MAX_COLS];
	bool is_num[KFP_STAT_MAX_COLS];
};

/* One read of the exits file. */
struct kfp_table {
	unsigned int ncols;
	char *col[KFP_STAT_MAX_COLS];		/* header names */
	int pos[KFP_NR_COLS];			/* known columns, or -1 */
	unsigned int nrows;
	struct kfp_row row[KFP_STAT_MAX_ROWS];
	unsigned long long unindexed;
};

const char *prog = "kfp-stat";
static int kfp_interrupted;	/* __atomic: set by the signal handler */

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-a] [-j] [-r] [-w SECONDS [-c N]] [-d DIR] [--vm VM]\n"
		"       %s -t|--hist REASON [--cycles] [-j] [-r] [-w SECONDS [-c N]] [-d DIR]\n"
		"\n"
		"Show kvm_fastpath's VM-exit counters per exit reason, like perf kvm\n"
		"stat: exits, those completed in the fast path, those passed to stock\n"
		"KVM, those taken while a nested (L2) guest ran, and each reason's\n"
		"share of all exits, busiest first, with a total.  Below it, each\n"
		"handler rule (DIR/rules) with its hits since it was added; these\n"
		"are running totals, also with --watch.\n"
		"\n"
		"  -a, --all            also show exit reasons with no exits\n"
		"  -w, --watch SECONDS  every SECONDS (decimals allowed), print the\n"
		"                       exits of that interval, until interrupted\n"
		"  -c, --count N        with --watch: stop after N intervals\n"
		"  -j, --json           print JSON instead of a table (with --watch,\n"
		"                       one object per interval)\n"
		"  -r, --reset          zero the counters (write \"reset\"), then exit,\n"
		"                       or with --watch start watching\n"
		"  -d, --dir DIR        read DIR/exits and DIR/rules instead of the\n"
		"                       module's %s\n"
		"  --vm VM              one watched VM's exits (DIR/vms/PID-FD), since\n"
		"                       'watch vm=VM' was written to DIR/exits, and the\n"
		"                       rules for it (its own and vm=all); VM is PID-FD,\n"
		"                       as in /sys/kernel/debug/kvm, or the PID of a\n"
		"                       process with one watched VM\n"
		"  -t, --time           the cost of exits per reason instead (DIR/timing,\n"
		"                       while 'on' is written to it), like perf kvm stat\n"
		"                       report: samples, samples%%, time%%, min, max and\n"
		"                       mean +- %% (relative spread of the mean), for the\n"
		"                       exits handlers completed (fast) and KVM's (stock);\n"
		"                       time from each VM exit to the vCPU's next entry\n"
		"  --hist REASON        the histogram of REASON's times (log2 buckets)\n"
		"  --cycles             with --time or --hist: TSC cycles, not ns\n"
		"  -h, --help           this text\n"
		"\n"
		"Reading needs root (debugfs).  Exit status: 0 ok, 1 the counters\n"
		"cannot be read or reset (module not loaded, debugfs not mounted, no\n"
		"permission, a malformed file), 2 bad arguments.\n"
		"\n"
		"Example: --time --cycles in the emulated VMX machine (its TSC counts\n"
		"instructions), OUTs completed by a sink rule, CPUIDs left to KVM:\n"
		"\n"
		"  exit reason              side     samples samples%%    time%%         min         max        mean       +-\n"
		"  CPUID                    stock       2000   33.30%%   39.48%%         814       16239       848.8    1.32%%\n"
		"  IO_INSTRUCTION           fast        2000   33.30%%   23.07%%         496         496       496.0    0.00%%\n"
		"  MSR_WRITE                stock       2000   33.30%%   36.96%%         773        4092       794.5    0.70%%\n"
		"\n"
		"Documentation/usage.rst has the rest of that run, and the JSON.\n",
		prog, prog, KFP_STAT_DIR);
}

/* Exit 2 with one line on stderr. */
noreturn void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try --help)\n");
	exit(2);
}

/* Exit 1 with one line on stderr. */
noreturn void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

/* PID or PID-FD, decimal, as KVM writes them. */
static bool vm_name_ok(const char *s)
{
	bool dash = false, digit = false;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			digit = true;
		} else if (*s == '-' && digit && !dash) {
			dash = true;
			digit = false;
		} else {
			return false;
		}
	}
	return digit;
}

static void parse_args(int argc, char **argv, struct kfp_opts *o)
{
	static const struct option opts[] = {
		{ "all",   no_argument,       NULL, 'a' },
		{ "watch", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "json",  no_argument,       NULL, 'j' },
		{ "reset", no_argument,       NULL, 'r' },
		{ "dir",   required_argument, NULL, 'd' },
		{ "vm",    required_argument, NULL, 'V' },
		{ "time",  no_argument,       NULL, 't' },
		{ "hist",  required_argument, NULL, 'H' },
		{ "cycles", no_argument,      NULL, 'C' },
		{ "help",  no_argument,       NULL, 'h' },
		{ NULL,    0,                 NULL, 0 },
	};
	bool count_given = false;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "aw:c:jrd:th", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			o->all = true;
			break;
		case 'w':
			errno = 0;
			o->interval = strtod(optarg, &end);
			if (*end || errno || end == optarg || !isfinite(o->interval) ||
			    o->interval <= 0 || o->interval > KFP_STAT_MAX_INTERVAL)
				usage_error("--watch: '%s' is not 0 < SECONDS <= %.0f",
					    optarg, KFP_STAT_MAX_INTERVAL);
			break;
		case 'c':
			errno = 0;
			o->count = strtoul(optarg, &end, 10);
			if (*end || errno || optarg[0] < '0' ||
			    optarg[0] > '9' || !o->count)
				usage_error("--count: '%s' is not a positive number",
					    optarg);
			count_given = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'r':
			o->reset = true;
			break;
		case 'd':
			o->dir = optarg;
			o->dir_given = true;
			break;
		case 'V':
			if (!vm_name_ok(optarg))
				usage_error("--vm: '%s' is not PID or PID-FD", optarg);
			o->vm = optarg;
			break;
		case 't':
			o->time = true;
			break;
		case 'H':
			o->hist = optarg;
			o->time = true;
			break;
		case 'C':
			o->cycles = true;
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
	if (count_given && !o->interval)
		usage_error("--count needs --watch");
	if (o->vm && o->reset)
		usage_error("--reset zeroes the totals; a VM counts from its watch");
	if (o->vm && o->time)
		usage_error("--time and --hist are for all VMs; --vm is for counts");
	if (o->cycles && !o->time)
		usage_error("--cycles needs --time or --hist");
	if (o->all && o->time)
		usage_error("--all is for counts; --time shows each timed reason");
}

/*
 * Why @path cannot be opened, in words: for the module's own directory,
 * whether debugfs is mounted and the module loaded.
 */
noreturn void die_open(const struct kfp_opts *o, const char *path, int err)
{
	struct statfs sfs;
	struct stat st;

	if (err == EACCES || err == EPERM)
		die("permission denied on %s (debugfs needs root)", path);
	if (err != ENOENT)
		die("%s: %s", path, strerror(err));
	if (o->dir_given) {
		if (stat(o->dir, &st) || !S_ISDIR(st.st_mode))
			die("%s: no such directory", o->dir);
		die("%s: %s", path, strerror(err));
	}
	if (statfs(KFP_STAT_DEBUGFS, &sfs) ||
	    sfs.f_type != KFP_STAT_DEBUGFS_MAGIC)
		die("debugfs is not mounted on %s (mount -t debugfs none %s)",
		    KFP_STAT_DEBUGFS, KFP_STAT_DEBUGFS);
	if (stat(o->dir, &st))
		die("kvm_fastpath is not loaded (no %s)", o->dir);
	die("%s: %s", path, strerror(err));
}

/*
 * The watched VM --vm names: its file under DIR/vms, in o->vm_name.  A
 * PID must have exactly one.
 */
static void find_vm(struct kfp_opts *o)
{
	char dir[4096], *want = NULL;
	unsigned int n = 0;
	struct dirent *de;
	size_t len;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/vms", o->dir);
	d = opendir(dir);
	if (!d)
		die_open(o, dir, errno);
	len = strlen(o->vm);
	while ((de = readdir(d))) {
		if (strchr(o->vm, '-') ? strcmp(de->d_name, o->vm) :
		    strncmp(de->d_name, o->vm, len) || de->d_name[len] != '-')
			continue;
		if (n++)
			want = "";
		else
			snprintf(o->vm_name, sizeof(o->vm_name), "%s", de->d_name);
	}
	closedir(d);
	if (!n)
		die("VM %s is not watched (echo 'watch vm=%s' > %s/exits)", o->vm,
		    o->vm, o->dir);
	if (want)
		die("process %s has %u watched VMs: name one as PID-FD (%s)",
		    o->vm, n, dir);
}

/* The whole file, NUL-terminated; dies on errors. */
char *read_file(const struct kfp_opts *o, const char *path)
{
	size_t len = 0, size = 4096;
	char *buf = malloc(size);
	ssize_t n;
	int fd;

	if (!buf)
		die("out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_open(o, path, errno);
	for (;;) {
		if (len + 1 >= size) {
			if (size >= KFP_STAT_MAX_FILE)
				die("%s: larger than %d bytes", path,
				    KFP_STAT_MAX_FILE);
			size *= 2;
			buf = realloc(buf, size);
			if (!buf)
				die("out of memory");
		}
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("%s: %s", path, strerror(errno));
		if (!n)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/*
 * The line at *@rest, NUL-terminated in place, *@rest moved past it; NULL
 * at the end of the text or at an empty line, which ends a file's table.
 */
char *next_line(char **rest)
{
	char *line = *rest, *end;

	if (!line || !*line)
		return NULL;
	end = strchr(line, '\n');
	if (end)
		*end++ = '\0';
	*rest = end;
	return line;
}

/*
 * The module's rules file, "ID TYPE KEY=VALUE... hits=N" per rule.  A
 * module without one (older) leaves .present false: "rules" is then null.
 */
#define KFP_STAT_MAX_RULES	256

struct kfp_rules {
	bool present;
	unsigned int n;
	struct {
		unsigned long id;
		const char *rule;	/* TYPE KEY=VALUE..., into buf */
		unsigned long long hits;
	} r[KFP_STAT_MAX_RULES];
	char *buf;
};

static struct kfp_rules kfp_rules;

/* With --vm, the rules that apply to that VM: its own and vm=all. */
static bool rule_for_vm(const char *rule, const char *vm)
{
	const char *at = strstr(rule, " vm=");

	return !at || !strcmp(at + 4, "all") || !strcmp(at + 4, vm);
}

static void read_rules(const struct kfp_opts *o)
{
	char path[4096], *line, *next, *hits;

	free(kfp_rules.buf);
	memset(&kfp_rules, 0, sizeof(kfp_rules));
	snprintf(path, sizeof(path), "%s/rules", o->dir);
	if (access(path, F_OK))
		return;
	kfp_rules.present = true;
	kfp_rules.buf = read_file(o, path);
	next = kfp_rules.buf;
	while ((line = next_line(&next))) {
		if (line[0] == '#' || !line[0])
			continue;
		hits = strstr(line, " hits=");
		if (!hits || kfp_rules.n == KFP_STAT_MAX_RULES)
			die("%s: malformed or too long", path);
		*hits = '\0';
		if (o->vm && !rule_for_vm(line, o->vm_name))
			continue;
		kfp_rules.r[kfp_rules.n].hits = strtoull(hits + 6, NULL, 10);
		kfp_rules.r[kfp_rules.n].id = strtoul(line, &line, 10);
		kfp_rules.r[kfp_rules.n].rule = line + strspn(line, " ");
		kfp_rules.n++;
	}
}

static void print_rules(void)
{
	unsigned int i;

	if (!kfp_rules.n)
		return;
	printf("\n%-6s %12s  %s\n", "rule", "hits", "match");
	for (i = 0; i < kfp_rules.n; i++)
		printf("%-6lu %12llu  %s\n", kfp_rules.r[i].id,
		       kfp_rules.r[i].hits, kfp_rules.r[i].rule);
}

static void print_rules_json(void)
{
	unsigned int i;

	if (!kfp_rules.present) {
		printf("  \"rules\": null\n}\n");
		return;
	}
	printf("  \"rules\": [");
	for (i = 0; i < kfp_rules.n; i++) {
		printf("%s\n    {\"id\": %lu, \"rule\": ", i ? "," : "",
		       kfp_rules.r[i].id);
		json_string(kfp_rules.r[i].rule);
		printf(", \"hits\": %llu}", kfp_rules.r[i].hits);
	}
	printf("%s]\n}\n", kfp_rules.n ? "\n  " : "");
}

/* Split @line at blanks into at most @max words; -1 if it has more. */
int split(char *line, char **word, int max)
{
	char *save = NULL, *w;
	int n = 0;

	for (w = strtok_r(line, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return -1;
		word[n++] = w;
	}
	return n;
}

bool parse_u64(const char *s, unsigned long long *val)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	*val = strtoull(s, &end, 10);
	return !*end && !errno;
}

static void parse_header(struct kfp_table *t, char *line, const char *path)
{
	unsigned int i, j;
	int n;

	n = split(line + 1, t->col, KFP_STAT_MAX_COLS);
	if (n < 0)
		die("%s: line 1: more than %d columns", path, KFP_STAT_MAX_COLS);
	t->ncols = n;
	for (i = 0; i < KFP_NR_COLS; i++) {
		t->pos[i] = -1;
		for (j = 0; j < t->ncols; j++) {
			if (!strcmp(t->col[j], kfp_col_names[i]))
				t->pos[i] = j;
		}
	}
	if (t->pos[KFP_COL_NAME] < 0 || t->pos[KFP_COL_EXITS] < 0)
		die(KFP_STAT_NO_HEADER, path);
}

/* Parse the exits file in @buf (kept: the table points into it). */
static void parse_table(struct kfp_table *t, char *buf, const char *path)
{
	char *line, *next, *word[KFP_STAT_MAX_COLS];
	unsigned int lineno = 0, i;
	int n;

	memset(t, 0, sizeof(*t));
	next = buf;
	while ((line = next_line(&next))) {
		lineno++;
		if (lineno == 1) {
			if (line[0] != '#')
				die(KFP_STAT_NO_HEADER, path);
			parse_header(t, line, path);
			continue;
		}
		if (line[0] == '#') {
			/* "# unindexed N"; other comments are skipped. */
			n = split(line + 1, word, KFP_STAT_MAX_COLS);
			if (n == 2 && !strcmp(word[0], "unindexed") &&
			    !parse_u64(word[1], &t->unindexed))
				die("%s: line %u: bad unindexed count", path,
				    lineno);
			continue;
		}
		n = split(line, word, KFP_STAT_MAX_COLS);
		if (n == 0)
			continue;
		if (n != (int)t->ncols)
			die("%s: line %u: %d columns, the header names %u",
			    path, lineno, n, t->ncols);
		if (t->nrows == KFP_STAT_MAX_ROWS)
			die("%s: more than %d rows", path, KFP_STAT_MAX_ROWS);
		for (i = 0; i < t->ncols; i++) {
			struct kfp_row *r = &t->row[t->nrows];

			r->val[i] = word[i];
			r->is_num[i] = parse_u64(word[i], &r->num[i]);
			if (!r->is_num[i] && (int)i == t->pos[KFP_COL_EXITS])
				die("%s: line %u: exits '%s' is not a number",
				    path, lineno, word[i]);
		}
		t->nrows++;
	}
	if (!lineno)
		die("%s: empty", path);
}

/* A counter column: numeric, not the index. */
static bool is_counter(const struct kfp_table *t, unsigned int col)
{
	return (int)col != t->pos[KFP_COL_INDEX] &&
	       (int)col != t->pos[KFP_COL_NAME];
}

static unsigned long long cell(const struct kfp_table *t, unsigned int r,
			       enum kfp_col c)
{
	return t->pos[c] < 0 ? 0 : t->row[r].num[t->pos[c]];
}

/* @cur minus @prev, row by row (matched by name), counters only. */
static void table_delta(struct kfp_table *cur, const struct kfp_table *prev)
{
	int name = cur->pos[KFP_COL_NAME];
	unsigned int r, p, c;

	for (r = 0; r < cur->nrows; r++) {
		struct kfp_row *row = &cur->row[r];

		for (p = 0; p < prev->nrows; p++) {
			if (prev->ncols == cur->ncols &&
			    !strcmp(prev->row[p].val[name], row->val[name]))
				break;
		}
		if (p == prev->nrows)
			continue;	/* new reason: all of it is new */
		for (c = 0; c < cur->ncols; c++) {
			/* A reset in between: count from zero. */
			if (is_counter(cur, c) && row->is_num[c] &&
			    prev->row[p].is_num[c] &&
			    row->num[c] >= prev->row[p].num[c])
				row->num[c] -= prev->row[p].num[c];
		}
	}
	if (cur->unindexed >= prev->unindexed)
		cur->unindexed -= prev->unindexed;
}

static unsigned long long total_exits(const struct kfp_table *t)
{
	unsigned long long sum = t->unindexed;
	unsigned int r;

	for (r = 0; r < t->nrows; r++)
		sum += cell(t, r, KFP_COL_EXITS);
	return sum;
}

static unsigned long long column_sum(const struct kfp_table *t, unsigned int c)
{
	unsigned long long sum = 0;
	unsigned int r;

	for (r = 0; r < t->nrows; r++)
		sum += t->row[r].is_num[c] ? t->row[r].num[c] : 0;
	return sum;
}

double percent(unsigned long long n, unsigned long long total)
{
	return total ? 100.0 * n / total : 0.0;
}

static bool row_shown(const struct kfp_opts *o, const struct kfp_table *t,
		      unsigned int r)
{
	return o->all || cell(t, r, KFP_COL_EXITS);
}

/* Busiest first; ties in file order. */
static const struct kfp_table *sort_table;

static int cmp_rows(const void *a, const void *b)
{
	unsigned int ra = *(const unsigned int *)a, rb = *(const unsigned int *)b;
	unsigned long long ea = cell(sort_table, ra, KFP_COL_EXITS);
	unsigned long long eb = cell(sort_table, rb, KFP_COL_EXITS);

	if (ea != eb)
		return ea < eb ? 1 : -1;
	return ra < rb ? -1 : ra > rb;
}

/* A column the module may not have yet: "-" when absent. */
static void print_cell(const struct kfp_table *t, unsigned int r,
		       enum kfp_col c)
{
	if (t->pos[c] < 0)
		printf(" %10s", "-");
	else
		printf(" %10llu", t->row[r].num[t->pos[c]]);
}

static void print_sum(const struct kfp_table *t, enum kfp_col c)
{
	if (t->pos[c] < 0)
		printf(" %10s", "-");
	else
		printf(" %10llu", column_sum(t, t->pos[c]));
}

static void print_table(const struct kfp_opts *o, const struct kfp_table *t)
{
	unsigned long long total = total_exits(t);
	unsigned int order[KFP_STAT_MAX_ROWS], n = 0, i;

	for (i = 0; i < t->nrows; i++)
		order[n++] = i;
	sort_table = t;
	qsort(order, n, sizeof(order[0]), cmp_rows);

	printf("%-26s %10s %10s %10s %10s %8s\n", "exit reason", "exits",
	       "fast", "stock", "l2", "%total");
	for (i = 0; i < n; i++) {
		unsigned int r = order[i];

		if (!row_shown(o, t, r))
			continue;
		printf("%-26s", t->row[r].val[t->pos[KFP_COL_NAME]]);
		print_cell(t, r, KFP_COL_EXITS);
		print_cell(t, r, KFP_COL_FAST);
		print_cell(t, r, KFP_COL_STOCK);
		print_cell(t, r, KFP_COL_L2);
		printf(" %7.2f%%\n", percent(cell(t, r, KFP_COL_EXITS), total));
	}
	if (t->unindexed || o->all)
		printf("%-26s %10llu %10s %10s %10s %7.2f%%\n", "(unindexed)",
		       t->unindexed, "-", "-", "-",
		       percent(t->unindexed, total));
	printf("%-26s %10llu", "total", total);
	print_sum(t, KFP_COL_FAST);
	print_sum(t, KFP_COL_STOCK);
	print_sum(t, KFP_COL_L2);
	printf(" %7.2f%%\n", total ? 100.0 : 0.0);
}

void json_string(const char *s)
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

static void print_json(const struct kfp_opts *o, const struct kfp_table *t,
		       const char *path, unsigned long interval_no,
		       double elapsed)
{
	unsigned long long total = total_exits(t);
	unsigned int r, c, shown = 0, n = 0;

	printf("{\n  \"version\": 1,\n  \"source\": ");
	json_string(path);
	printf(",\n");
	if (o->vm) {
		printf("  \"vm\": ");
		json_string(o->vm_name);
		printf(",\n");
	}
	if (o->interval)
		printf("  \"interval\": %lu,\n  \"interval_s\": %.3f,\n",
		       interval_no, elapsed);
	printf("  \"columns\": [");
	for (c = 0; c < t->ncols; c++) {
		printf("%s", c ? ", " : "");
		json_string(t->col[c]);
	}
	printf("],\n  \"exits\": [\n");
	for (r = 0; r < t->nrows; r++)
		shown += row_shown(o, t, r);
	for (r = 0; r < t->nrows; r++) {
		if (!row_shown(o, t, r))
			continue;
		printf("    {");
		for (c = 0; c < t->ncols; c++) {
			printf("%s", c ? ", " : "");
			json_string(t->col[c]);
			printf(": ");
			if (t->row[r].is_num[c])
				printf("%llu", t->row[r].num[c]);
			else
				json_string(t->row[r].val[c]);
		}
		printf(", \"percent\": %.2f}%s\n",
		       percent(cell(t, r, KFP_COL_EXITS), total),
		       ++n < shown ? "," : "");
	}
	printf("  ],\n  \"unindexed\": %llu,\n", t->unindexed);
	printf("  \"total\": {\"exits\": %llu", total);
	for (c = 0; c < t->ncols; c++) {
		if (!is_counter(t, c) || (int)c == t->pos[KFP_COL_EXITS])
			continue;
		printf(", ");
		json_string(t->col[c]);
		printf(": %llu", column_sum(t, c));
	}
	printf("},\n");
	print_rules_json();
}

/* Write "reset" to the exits file. */
void reset_counters(const struct kfp_opts *o, const char *path)
{
	static const char cmd[] = "reset";
	struct statfs sfs;
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die_open(o, path, errno);
	/*
	 * On debugfs the write is a command.  Anywhere else (a test's fake
	 * directory) the file becomes the command, so it reads back as it.
	 */
	if (!fstatfs(fd, &sfs) && sfs.f_type != KFP_STAT_DEBUGFS_MAGIC &&
	    ftruncate(fd, 0))
		die("%s: truncate: %s", path, strerror(errno));
	n = write(fd, cmd, strlen(cmd));
	if (n < 0 && errno == EINVAL)
		die("%s: the module refused \"%s\" (EINVAL)", path, cmd);
	if (n < 0)
		die("%s: write: %s", path, strerror(errno));
	if (n != (ssize_t)strlen(cmd))
		die("%s: short write", path);
	if (close(fd))
		die("%s: %s", path, strerror(errno));
}

long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * KFP_NSEC_PER_SEC + ts.tv_nsec;
}

static void on_interrupt(int sig)
{
	(void)sig;
	__atomic_store_n(&kfp_interrupted, 1, __ATOMIC_RELAXED);
}

/* One reading of the counters, printed. */
static void kfp_stat_once(const struct kfp_opts *o, const char *path)
{
	static struct kfp_table t;
	char *buf = read_file(o, path);

	parse_table(&t, buf, path);
	read_rules(o);
	if (o->json) {
		print_json(o, &t, path, 0, 0);
	} else {
		if (o->vm)
			printf("VM %s\n", o->vm_name);
		print_table(o, &t);
		print_rules();
	}
	free(buf);
}

/* Read and parse the file into @t; returns the buffer @t points into. */
static char *read_table(const struct kfp_opts *o, const char *path,
			struct kfp_table *t)
{
	char *buf = read_file(o, path);

	parse_table(t, buf, path);
	return buf;
}

/*
 * --watch: call @tick for each interval of o->interval seconds, with the
 * interval's number and its length, until interrupted or --count.
 */
void watch_loop(const struct kfp_opts *o, watch_tick_t *tick, void *arg)
{
	long long step = o->interval * KFP_NSEC_PER_SEC;
	struct sigaction sa = { .sa_handler = on_interrupt };
	long long start, next, then;
	struct timespec ts;
	unsigned long i;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	start = now_ns();
	then = start;
	for (i = 1; !o->count || i <= o->count; i++) {
		next = start + (long long)i * step;
		ts.tv_sec = next / KFP_NSEC_PER_SEC;
		ts.tv_nsec = next % KFP_NSEC_PER_SEC;
		while (!__atomic_load_n(&kfp_interrupted, __ATOMIC_RELAXED) &&
		       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
				       NULL) == EINTR)
			;
		if (__atomic_load_n(&kfp_interrupted, __ATOMIC_RELAXED))
			break;
		tick(o, i, (now_ns() - then) / 1e9, arg);
		fflush(stdout);
		then = now_ns();
	}
}

/* The exits file's readings for --watch: the last one, raw. */
struct kfp_watch_state {
	const char *path;
	struct kfp_table tables[2];
	struct kfp_table *prev, *delta;
	char *prev_buf;
};

static void kfp_stat_tick(const struct kfp_opts *o, unsigned long i,
			  double elapsed, void *arg)
{
	struct kfp_watch_state *w = arg;
	char *raw_buf, *delta_buf;

	/* One reading, parsed twice: kept raw, and as the delta. */
	raw_buf = read_file(o, w->path);
	delta_buf = strdup(raw_buf);
	if (!delta_buf)
		die("out of memory");
	parse_table(w->delta, delta_buf, w->path);
	table_delta(w->delta, w->prev);
	read_rules(o);
	if (o->json) {
		print_json(o, w->delta, w->path, i, elapsed);
	} else {
		printf("%s-- interval %lu: %.2f s --\n", i > 1 ? "\n" : "",
		       i, elapsed);
		print_table(o, w->delta);
		print_rules();
	}
	free(delta_buf);
	free(w->prev_buf);
	w->prev_buf = raw_buf;
	parse_table(w->prev, raw_buf, w->path);
}

/* --watch: the exits of each interval. */
static void kfp_stat_watch(const struct kfp_opts *o, const char *path)
{
	static struct kfp_watch_state w;

	w.path = path;
	w.prev = &w.tables[0];
	w.delta = &w.tables[1];
	w.prev_buf = read_table(o, path, w.prev);
	watch_loop(o, kfp_stat_tick, &w);
	free(w.prev_buf);
}

int main(int argc, char **argv)
{
	struct kfp_opts o = { .dir = KFP_STAT_DIR };
	char path[4096];

	parse_args(argc, argv, &o);
	if (o.time) {
		kfp_time_main(&o);
		return 0;
	}
	if (o.vm)
		find_vm(&o);
	if (snprintf(path, sizeof(path), o.vm ? "%s/vms/%s" : "%s/exits", o.dir,
		     o.vm_name) >= (int)sizeof(path))
		usage_error("--dir: path too long");

	if (o.reset) {
		reset_counters(&o, path);
		if (!o.interval)
			return 0;
	}
	if (o.interval)
		kfp_stat_watch(&o, path);
	else
		kfp_stat_once(&o, path);
	return 0;
}
