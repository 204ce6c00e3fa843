/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KTAP output for the C selftests.  kselftest's own kselftest.h when the
 * build has it (selftests/Makefile puts lib.mk's directory on the include
 * path); otherwise the few ksft_* calls the tests use, printing exactly
 * what kselftest.h prints for them, with the same exit codes.  As in
 * kselftest.h, every message carries its own "\n".
 */
#ifndef KFP_KSFT_H
#define KFP_KSFT_H

#if __has_include("kselftest.h")
#include "kselftest.h"
#else

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_SKIP	4

static struct {
	unsigned int plan, pass, fail, skip;
} ksft_cnt;

static inline unsigned int ksft_test_num(void)
{
	return ksft_cnt.pass + ksft_cnt.fail + ksft_cnt.skip;
}

static inline void ksft_print_header(void)
{
	/* Line-buffered, as kselftest.h makes it, so a crash loses nothing. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!getenv("KSFT_TAP_LEVEL"))
		printf("TAP version 13\n");
}

static inline void ksft_set_plan(unsigned int plan)
{
	ksft_cnt.plan = plan;
	printf("1..%u\n", plan);
}

static inline void ksft_vprint(unsigned int *cnt, const char *head,
			       const char *fmt, va_list ap)
{
	(*cnt)++;
	printf(head, ksft_test_num());
	vprintf(fmt, ap);
}

#define KFP_KSFT_PRINTF(name, cnt, head)				\
[[gnu::format(printf, 1, 2)]]						\
static inline void name(const char *fmt, ...)				\
{									\
	va_list ap;							\
									\
	va_start(ap, fmt);						\
	ksft_vprint(cnt, head, fmt, ap);				\
	va_end(ap);							\
}

KFP_KSFT_PRINTF(ksft_test_result_pass, &ksft_cnt.pass, "ok %u ")
KFP_KSFT_PRINTF(ksft_test_result_fail, &ksft_cnt.fail, "not ok %u ")
KFP_KSFT_PRINTF(ksft_test_result_skip, &ksft_cnt.skip, "ok %u # SKIP ")

[[gnu::format(printf, 1, 2)]]
static inline void ksft_print_msg(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

[[gnu::format(printf, 2, 3)]]
static inline void ksft_test_result(int ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (ok)
		ksft_vprint(&ksft_cnt.pass, "ok %u ", fmt, ap);
	else
		ksft_vprint(&ksft_cnt.fail, "not ok %u ", fmt, ap);
	va_end(ap);
}

[[gnu::noreturn]] static inline void ksft_exit(int pass)
{
	if (ksft_cnt.plan != ksft_test_num())
		printf("# Planned tests != run tests (%u != %u)\n",
		       ksft_cnt.plan, ksft_test_num());
	printf("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:%u error:0\n",
	       ksft_cnt.pass, ksft_cnt.fail, ksft_cnt.skip);
	exit(pass ? KSFT_PASS : KSFT_FAIL);
}

#define ksft_finished() \
	ksft_exit(ksft_cnt.plan == ksft_cnt.pass + ksft_cnt.skip)

#endif /* !__has_include("kselftest.h") */
#endif /* KFP_KSFT_H */
