# SPDX-License-Identifier: GPL-2.0
#
# KTAP for the shell selftests.  Source it, call ktap_plan N, then
# ktap_ok/ktap_fail DESC, ktap_skip DESC REASON or ktap_check DESC CMD...
# per test point, ktap_diag for "# " lines, and ktap_finish last.
#
# The points and totals are printed by kselftest's own ktap_helpers.sh:
# beside the installed collection (run_kselftest.sh's tree) or in
# $KSFT_DIR (selftests/Makefile's run_tests).  Where neither is there
# (the emulated machine's flat directory), the few functions used are
# defined below and print the same lines.
if [ -f ../kselftest/ktap_helpers.sh ]; then
	. ../kselftest/ktap_helpers.sh
elif [ -n "${KSFT_DIR:-}" ] && [ -f "$KSFT_DIR/kselftest/ktap_helpers.sh" ]; then
	. "$KSFT_DIR/kselftest/ktap_helpers.sh"
else
	KTAP_TESTNO=1
	KTAP_CNT_PASS=0
	KTAP_CNT_FAIL=0
	KTAP_CNT_SKIP=0
	ktap_print_header() {
		echo "TAP version 13"
	}
	ktap_set_plan() {
		echo "1..$1"
	}
	ktap_test_pass() {
		echo "ok $KTAP_TESTNO $1"
		KTAP_TESTNO=$((KTAP_TESTNO + 1))
		KTAP_CNT_PASS=$((KTAP_CNT_PASS + 1))
	}
	ktap_test_fail() {
		echo "not ok $KTAP_TESTNO $1"
		KTAP_TESTNO=$((KTAP_TESTNO + 1))
		KTAP_CNT_FAIL=$((KTAP_CNT_FAIL + 1))
	}
	ktap_test_skip() {
		echo "ok $KTAP_TESTNO $1 # SKIP"
		KTAP_TESTNO=$((KTAP_TESTNO + 1))
		KTAP_CNT_SKIP=$((KTAP_CNT_SKIP + 1))
	}
	ktap_print_totals() {
		echo "# Totals: pass:$KTAP_CNT_PASS fail:$KTAP_CNT_FAIL xfail:0 xpass:0 skip:$KTAP_CNT_SKIP error:0"
	}
fi

ktap_planned=0

ktap_plan() {
	ktap_planned=$1
	ktap_print_header
	ktap_set_plan "$1"
}

ktap_ok() {
	ktap_test_pass "$1"
}

ktap_fail() {
	ktap_test_fail "$1"
}

# kselftest's skip has no separate reason: it goes after the description.
ktap_skip() {
	ktap_test_skip "$1: $2"
}

# ktap_check DESC CMD...: pass if CMD succeeds.
ktap_check() {
	local desc=$1
	shift
	if "$@"; then ktap_ok "$desc"; else ktap_fail "$desc"; fi
}

# Ours, not ktap_print_msg: that one word-splits and globs its arguments
# ("claimed: ?" would list the files of one letter).
ktap_diag() {
	printf '# %s\n' "$*"
}

# Exit with kselftest's codes: 1 on a failure or a plan not met, 4
# (skip) if nothing passed, else 0.
ktap_finish() {
	ktap_print_totals
	[ "$KTAP_CNT_FAIL" -eq 0 ] &&
		[ $((KTAP_CNT_PASS + KTAP_CNT_SKIP)) -eq "$ktap_planned" ] || exit 1
	[ "$KTAP_CNT_PASS" -gt 0 ] || exit 4
	exit 0
}
