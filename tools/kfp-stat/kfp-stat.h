/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kfp-stat's parts: kfp-stat.c reads the exit counters (debugfs exits),
 * kfp-stat-time.c the exit cost per reason (debugfs timing).
 */
#ifndef KFP_STAT_H
#define KFP_STAT_H

#include <stdbool.h>
#include <stdnoreturn.h>

#define KFP_STAT_MAX_FILE	0x100000
#define KFP_NSEC_PER_SEC	1000000000LL

struct kfp_opts {
	const char *dir;
	bool dir_given;
	bool all;
	bool json;
	bool reset;
	bool time;			/* --time (or --hist) */
	bool cycles;			/* --cycles: no conversion to ns */
	const char *hist;		/* --hist REASON */
	const char *vm;			/* --vm as given */
	char vm_name[256];		/* the watched VM's file, PID-FD */
	double interval;		/* --watch; 0: once */
	unsigned long count;		/* --count; 0: until interrupted */
};

extern const char *prog;

[[gnu::format(printf, 1, 2)]]
noreturn void usage_error(const char *fmt, ...);
[[gnu::format(printf, 1, 2)]]
noreturn void die(const char *fmt, ...);
noreturn void die_open(const struct kfp_opts *o, const char *path, int err);
char *read_file(const struct kfp_opts *o, const char *path);
char *next_line(char **rest);
int split(char *line, char **word, int max);
bool parse_u64(const char *s, unsigned long long *val);
double percent(unsigned long long n, unsigned long long total);
void json_string(const char *s);
void reset_counters(const struct kfp_opts *o, const char *path);
long long now_ns(void);

typedef void watch_tick_t(const struct kfp_opts *o, unsigned long interval,
			  double elapsed, void *arg);
void watch_loop(const struct kfp_opts *o, watch_tick_t *tick, void *arg);

/* kfp-stat-time.c: --time and --hist, from DIR/timing. */
void kfp_time_main(const struct kfp_opts *o);

#endif /* KFP_STAT_H */
