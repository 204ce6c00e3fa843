// SPDX-License-Identifier: GPL-2.0
/*
 * kfp-stat --time and --hist: the cost of exits per reason, from
 * kvm_fastpath's debugfs timing file (Documentation/debugfs.rst):
 *
 *   # timing on|off
 *   # tsc_khz N
 *   # unpaired N
 *   # buckets 32: ...
 *   # index name side count sum min max sumsq hist...
 *   30 IO_INSTRUCTION fast 600 ... 0x...  0 0 12 ...
 *
 * Times are TSC cycles from a VM exit to the vCPU's next entry; sumsq,
 * the sum of their squares, is hexadecimal (128 bits).  Shown like perf
 * kvm stat report, in ns (the kernel's TSC rate) or, with --cycles, in
 * cycles.  "+-" is the relative spread of the mean, as perf prints it:
 * the standard deviation of the samples over the square root of their
 * number, over the mean.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kfp-stat.h"

#define KFP_TIME_MAX_ROWS	512
#define KFP_TIME_BUCKETS	32
#define KFP_TIME_COLS		(8 + KFP_TIME_BUCKETS)
#define KFP_TIME_HEADER		"index name side count sum min max sumsq hist..."

struct kfp_time_row {
	unsigned long long index;
	const char *name, *side;
	unsigned long long count, sum, min, max;
	unsigned long long hist[KFP_TIME_BUCKETS];

	long double sumsq;	/* the file's 128 bits */
};

struct kfp_timing {
	const char *state;		/* "on" or "off" */
	unsigned long long tsc_khz, unpaired;
	unsigned int nrows;
	struct kfp_time_row row[KFP_TIME_MAX_ROWS];
};

/* "0x" and up to 32 hex digits. */
static bool parse_hex128(const char *s, long double *val)
{
	unsigned int n = 0;

	if (strncmp(s, "0x", 2))
		return false;
	*val = 0;
	for (s += 2; *s; s++, n++) {
		const char *hex = "0123456789abcdef", *d = strchr(hex, *s);

		if (!d || n == 32)
			return false;
		*val = *val * 16 + (d - hex);
	}
	return n > 0;
}

/* Whether @n words are those of @want, a string of words. */
static bool same_words(char **word, int n, const char *want)
{
	size_t len;
	int i;

	for (i = 0; i < n; i++) {
		len = strlen(word[i]);
		if (strncmp(want, word[i], len) || (want[len] && want[len] != ' '))
			return false;
		want += len + !!want[len];
	}
	return !*want;
}

/* Parse the timing file in @buf (kept: rows point into it). */
static void parse_timing(struct kfp_timing *t, char *buf, const char *path)
{
	char *line, *next, *word[KFP_TIME_COLS];
	unsigned int lineno = 0, i;
	bool header = false;
	int n;

	memset(t, 0, sizeof(*t));
	next = buf;
	while ((line = next_line(&next))) {
		lineno++;
		if (line[0] == '#') {
			n = split(line + 1, word, KFP_TIME_COLS);
			if (n == 2 && !strcmp(word[0], "timing"))
				t->state = word[1];
			else if (n == 2 && !strcmp(word[0], "tsc_khz") &&
				 !parse_u64(word[1], &t->tsc_khz))
				die("%s: line %u: bad tsc_khz", path, lineno);
			else if (n == 2 && !strcmp(word[0], "unpaired") &&
				 !parse_u64(word[1], &t->unpaired))
				die("%s: line %u: bad unpaired count", path, lineno);
			else if (n > 0 && !strcmp(word[0], "index"))
				header = same_words(word, n, KFP_TIME_HEADER);
			continue;
		}
		if (!header || !t->state)
			die("%s: line %u: no \"# timing\" and \"# %s\" lines before it",
			    path, lineno, KFP_TIME_HEADER);
		n = split(line, word, KFP_TIME_COLS);
		if (n == 0)
			continue;
		if (n != KFP_TIME_COLS)
			die("%s: line %u: %d columns, not %d", path, lineno, n,
			    KFP_TIME_COLS);
		if (t->nrows == KFP_TIME_MAX_ROWS)
			die("%s: more than %d rows", path, KFP_TIME_MAX_ROWS);

		struct kfp_time_row *r = &t->row[t->nrows++];
		bool ok = parse_u64(word[0], &r->index) &&
			  parse_u64(word[3], &r->count) &&
			  parse_u64(word[4], &r->sum) &&
			  parse_u64(word[5], &r->min) &&
			  parse_u64(word[6], &r->max) &&
			  parse_hex128(word[7], &r->sumsq);

		for (i = 0; ok && i < KFP_TIME_BUCKETS; i++)
			ok = parse_u64(word[8 + i], &r->hist[i]);
		if (!ok || !r->count)
			die("%s: line %u: not a timing row", path, lineno);
		r->name = word[1];
		r->side = word[2];
	}
	if (!t->state || !t->tsc_khz)
		die("%s: no \"# timing\" or \"# tsc_khz\" line (is it kvm_fastpath's timing file?)",
		    path);
}

/* @cur minus @prev row by row, for --watch (min and max stay whole-run). */
static void timing_delta(struct kfp_timing *cur, const struct kfp_timing *prev)
{
	unsigned int r, p, b;

	for (r = 0; r < cur->nrows; r++) {
		struct kfp_time_row *row = &cur->row[r];

		for (p = 0; p < prev->nrows; p++) {
			if (!strcmp(prev->row[p].name, row->name) &&
			    !strcmp(prev->row[p].side, row->side))
				break;
		}
		/* New, or a reset in between: all of it is new. */
		if (p == prev->nrows || row->count < prev->row[p].count)
			continue;
		row->count -= prev->row[p].count;
		row->sum -= prev->row[p].sum;
		row->sumsq -= prev->row[p].sumsq;
		for (b = 0; b < KFP_TIME_BUCKETS; b++)
			row->hist[b] -= prev->row[p].hist[b];
	}
	if (cur->unpaired >= prev->unpaired)
		cur->unpaired -= prev->unpaired;
}

static double ns_of(const struct kfp_timing *t, long double cycles)
{
	return cycles * 1e6L / t->tsc_khz;
}

/* Cycles in the unit shown: ns, or cycles with --cycles. */
static double unit(const struct kfp_opts *o, const struct kfp_timing *t,
		   long double cycles)
{
	return o->cycles ? (double)cycles : ns_of(t, cycles);
}

static double mean(const struct kfp_time_row *r)
{
	return r->count ? (double)r->sum / r->count : 0;
}

/* perf's "+-": the standard deviation of the mean, relative to it. */
static double spread(const struct kfp_time_row *r)
{
	long double m = mean(r), var;

	if (r->count < 2 || m == 0)
		return 0;
	var = (r->sumsq / r->count - m * m) * r->count / (r->count - 1);
	if (var < 0)
		var = 0;
	return 100.0 * sqrtl(var / r->count) / m;
}

/* All rows' exits and cycles. */
static void totals(const struct kfp_timing *t, unsigned long long *n,
		   unsigned long long *sum)
{
	unsigned int r;

	*n = 0;
	*sum = 0;
	for (r = 0; r < t->nrows; r++) {
		*n += t->row[r].count;
		*sum += t->row[r].sum;
	}
}

static bool row_wanted(const struct kfp_opts *o, const struct kfp_time_row *r)
{
	return r->count && (!o->hist || !strcmp(o->hist, r->name));
}

/* Most samples first, as perf kvm stat report sorts by default. */
static int cmp_samples(const void *a, const void *b)
{
	const struct kfp_time_row *ra = a, *rb = b;

	if (ra->count != rb->count)
		return ra->count < rb->count ? 1 : -1;
	return ra->index < rb->index ? -1 : ra->index > rb->index;
}

static void print_time_table(const struct kfp_opts *o, struct kfp_timing *t)
{
	unsigned long long n, sum;
	const char *u = o->cycles ? "cycles" : "ns";
	unsigned int r;

	totals(t, &n, &sum);
	qsort(t->row, t->nrows, sizeof(t->row[0]), cmp_samples);
	printf("timing %s, TSC %llu kHz, times in %s from exit to the vCPU's next entry\n\n",
	       t->state, t->tsc_khz, u);
	printf("%-24s %-5s %10s %8s %8s %11s %11s %11s %8s\n", "exit reason",
	       "side", "samples", "samples%", "time%", "min", "max", "mean",
	       "+-");
	for (r = 0; r < t->nrows; r++) {
		const struct kfp_time_row *row = &t->row[r];

		printf("%-24s %-5s %10llu %7.2f%% %7.2f%% %11.0f %11.0f %11.1f %7.2f%%\n",
		       row->name, row->side, row->count, percent(row->count, n),
		       percent(row->sum, sum), unit(o, t, row->min),
		       unit(o, t, row->max), unit(o, t, mean(row)), spread(row));
	}
	printf("%-24s %-5s %10llu %7.2f%% %7.2f%% %11s %11s %11.1f\n", "total", "",
	       n, n ? 100.0 : 0.0, sum ? 100.0 : 0.0, "", "",
	       unit(o, t, n ? (long double)sum / n : 0));
	printf("\nunpaired entries (no exit of theirs recorded): %llu\n", t->unpaired);
}

/* Lower bound of bucket @b in cycles (the file's "# buckets" line). */
static unsigned long long bucket_low(unsigned int b)
{
	return b ? 1ULL << (b + 3) : 0;
}

static void print_hist(const struct kfp_opts *o, struct kfp_timing *t)
{
	unsigned int r, b, first, last, found = 0;

	for (r = 0; r < t->nrows; r++) {
		const struct kfp_time_row *row = &t->row[r];
		unsigned long long most = 0;

		if (!row_wanted(o, row))
			continue;
		for (first = 0; !row->hist[first]; first++)
			;
		for (last = KFP_TIME_BUCKETS - 1; !row->hist[last]; last--)
			;
		for (b = first; b <= last; b++)
			most = row->hist[b] > most ? row->hist[b] : most;
		printf("%s%s %s: %llu exits, mean %.1f %s\n", found++ ? "\n" : "",
		       row->name, row->side, row->count, unit(o, t, mean(row)),
		       o->cycles ? "cycles" : "ns");
		printf("%14s %14s %12s %12s %10s\n", "from_cycles", "to_cycles",
		       "from_ns", "to_ns", "count");
		for (b = first; b <= last; b++) {
			int bar = most ? (int)(40 * row->hist[b] / most) : 0;

			printf("%14llu ", bucket_low(b));
			if (b == KFP_TIME_BUCKETS - 1)
				printf("%14s %12.1f %12s", "inf",
				       ns_of(t, bucket_low(b)), "inf");
			else
				printf("%14llu %12.1f %12.1f", bucket_low(b + 1),
				       ns_of(t, bucket_low(b)),
				       ns_of(t, bucket_low(b + 1)));
			printf(" %10llu %.*s\n", row->hist[b], bar,
			       "########################################");
		}
	}
	if (!found && o->interval)
		printf("%s: no exits timed\n", o->hist);
	else if (!found)
		die("%s: no exits timed (is timing on? the reasons are named as in the exits file)",
		    o->hist);
}

static void print_time_json(const struct kfp_opts *o, struct kfp_timing *t,
			    const char *path, unsigned long interval_no,
			    double elapsed)
{
	unsigned long long n, sum;
	unsigned int r, b, shown = 0, k = 0;

	totals(t, &n, &sum);
	printf("{\n  \"version\": 1,\n  \"source\": ");
	json_string(path);
	printf(",\n  \"timing\": ");
	json_string(t->state);
	printf(",\n  \"tsc_khz\": %llu,\n  \"unpaired\": %llu,\n", t->tsc_khz,
	       t->unpaired);
	if (o->interval)
		printf("  \"interval\": %lu,\n  \"interval_s\": %.3f,\n",
		       interval_no, elapsed);
	printf("  \"bucket_low_cycles\": [");
	for (b = 0; b < KFP_TIME_BUCKETS; b++)
		printf("%s%llu", b ? ", " : "", bucket_low(b));
	printf("],\n  \"exits\": [\n");
	for (r = 0; r < t->nrows; r++)
		shown += row_wanted(o, &t->row[r]);
	for (r = 0; r < t->nrows; r++) {
		const struct kfp_time_row *row = &t->row[r];

		if (!row_wanted(o, row))
			continue;
		printf("    {\"index\": %llu, \"name\": ", row->index);
		json_string(row->name);
		printf(", \"side\": ");
		json_string(row->side);
		printf(", \"count\": %llu, \"samples_percent\": %.2f",
		       row->count, percent(row->count, n));
		printf(", \"time_percent\": %.2f, \"sum_cycles\": %llu",
		       percent(row->sum, sum), row->sum);
		printf(", \"min_cycles\": %llu, \"max_cycles\": %llu",
		       row->min, row->max);
		printf(", \"mean_cycles\": %.1f, \"min_ns\": %.1f",
		       mean(row), ns_of(t, row->min));
		printf(", \"max_ns\": %.1f, \"mean_ns\": %.1f",
		       ns_of(t, row->max), ns_of(t, mean(row)));
		printf(", \"spread_percent\": %.2f, \"hist\": [", spread(row));
		for (b = 0; b < KFP_TIME_BUCKETS; b++)
			printf("%s%llu", b ? ", " : "", row->hist[b]);
		printf("]}%s\n", ++k < shown ? "," : "");
	}
	printf("  ],\n  \"total\": {\"count\": %llu, \"sum_cycles\": %llu}\n}\n",
	       n, sum);
}

static void print_timing(const struct kfp_opts *o, struct kfp_timing *t,
			 const char *path, unsigned long interval_no,
			 double elapsed)
{
	if (o->json)
		print_time_json(o, t, path, interval_no, elapsed);
	else if (o->hist)
		print_hist(o, t);
	else
		print_time_table(o, t);
}

struct kfp_time_watch {
	const char *path;
	struct kfp_timing *prev, *cur;
	char *prev_buf;
};

static void kfp_time_tick(const struct kfp_opts *o, unsigned long i,
			  double elapsed, void *arg)
{
	struct kfp_time_watch *w = arg;
	char *raw = read_file(o, w->path), *copy = strdup(raw);

	if (!copy)
		die("out of memory");
	parse_timing(w->cur, copy, w->path);
	timing_delta(w->cur, w->prev);
	if (!o->json)
		printf("%s-- interval %lu: %.2f s (min and max: since reset) --\n",
		       i > 1 ? "\n" : "", i, elapsed);
	print_timing(o, w->cur, w->path, i, elapsed);
	free(copy);
	free(w->prev_buf);
	w->prev_buf = raw;
	parse_timing(w->prev, raw, w->path);
}

void kfp_time_main(const struct kfp_opts *o)
{
	static struct kfp_timing tables[2];
	char path[4096], *buf;

	if (snprintf(path, sizeof(path), "%s/timing", o->dir) >= (int)sizeof(path))
		usage_error("--dir: path too long");
	if (o->reset) {
		reset_counters(o, path);
		if (!o->interval)
			return;
	}
	buf = read_file(o, path);
	parse_timing(&tables[0], buf, path);
	if (o->interval) {
		struct kfp_time_watch w = {
			.path = path, .prev = &tables[0], .cur = &tables[1],
			.prev_buf = buf,
		};

		watch_loop(o, kfp_time_tick, &w);
		free(w.prev_buf);
		return;
	}
	print_timing(o, &tables[0], path, 0, 0);
	free(buf);
}
