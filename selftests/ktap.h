/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tiny KTAP (TAP version 13) reporter for single-file selftests.
 *
 *	ktap_print_header();
 *	ktap_set_plan(2);
 *	ktap_test_pass("first");
 *	ktap_test_skip("no frobnicator", "second");
 *	return ktap_finished();
 *
 * ktap_finished() prints the kselftest-style totals line and returns the
 * exit code: KTAP_EXIT_FAIL if anything failed or the plan was not met,
 * KTAP_EXIT_SKIP if everything was skipped, else KTAP_EXIT_PASS.
 */
#ifndef KFP_KTAP_H
#define KFP_KTAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#define KTAP_EXIT_PASS	0
#define KTAP_EXIT_FAIL	1
#define KTAP_EXIT_SKIP	4

struct ktap_state {
	unsigned int plan;
	unsigned int next;	/* number of the next test point */
	unsigned int pass;
	unsigned int fail;
	unsigned int skip;
};

static struct ktap_state ktap = { .next = 1 };

static inline void ktap_print_header(void)
{
	printf("TAP version 13\n");
	fflush(stdout);
}

static inline void ktap_set_plan(unsigned int plan)
{
	ktap.plan = plan;
	printf("1..%u\n", plan);
	fflush(stdout);
}

/* A "# ..." diagnostic line. */
[[gnu::format(printf, 1, 2)]]
static inline void ktap_print_msg(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline void ktap_vresult(const char *result, const char *skip,
				const char *fmt, va_list ap)
{
	printf("%s %u ", result, ktap.next++);
	vprintf(fmt, ap);
	if (skip)
		printf(" # SKIP %s", skip);
	printf("\n");
	fflush(stdout);
}

[[gnu::format(printf, 1, 2)]]
static inline void ktap_test_pass(const char *fmt, ...)
{
	va_list ap;

	ktap.pass++;
	va_start(ap, fmt);
	ktap_vresult("ok", NULL, fmt, ap);
	va_end(ap);
}

[[gnu::format(printf, 1, 2)]]
static inline void ktap_test_fail(const char *fmt, ...)
{
	va_list ap;

	ktap.fail++;
	va_start(ap, fmt);
	ktap_vresult("not ok", NULL, fmt, ap);
	va_end(ap);
}

/* ok/not ok depending on @pass. */
[[gnu::format(printf, 2, 3)]]
static inline void ktap_test_result(bool pass, const char *fmt, ...)
{
	va_list ap;

	if (pass)
		ktap.pass++;
	else
		ktap.fail++;
	va_start(ap, fmt);
	ktap_vresult(pass ? "ok" : "not ok", NULL, fmt, ap);
	va_end(ap);
}

[[gnu::format(printf, 2, 3)]]
static inline void ktap_test_skip(const char *reason, const char *fmt, ...)
{
	va_list ap;

	ktap.skip++;
	va_start(ap, fmt);
	ktap_vresult("ok", reason, fmt, ap);
	va_end(ap);
}

static inline int ktap_finished(void)
{
	unsigned int run = ktap.next - 1;
	bool bad_plan = run != ktap.plan;

	if (bad_plan)
		ktap_print_msg("planned %u tests but ran %u", ktap.plan, run);
	printf("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:%u error:0\n",
	       ktap.pass, ktap.fail, ktap.skip);
	fflush(stdout);

	if (ktap.fail || bad_plan || !run)
		return KTAP_EXIT_FAIL;
	if (!ktap.pass)
		return KTAP_EXIT_SKIP;
	return KTAP_EXIT_PASS;
}

#endif /* KFP_KTAP_H */
