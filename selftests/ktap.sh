# SPDX-License-Identifier: GPL-2.0
# Minimal KTAP producer for shell selftests.  Source it, call ktap_plan N,
# then ktap_ok/ktap_fail/ktap_skip per test, and ktap_finish last.
ktap_n=0
ktap_pass=0
ktap_failed=0
ktap_skipped=0

ktap_plan() {
	echo "TAP version 13"
	echo "1..$1"
}

ktap_ok() {
	ktap_n=$((ktap_n + 1)); ktap_pass=$((ktap_pass + 1))
	echo "ok $ktap_n $1"
}

ktap_fail() {
	ktap_n=$((ktap_n + 1)); ktap_failed=$((ktap_failed + 1))
	echo "not ok $ktap_n $1"
}

ktap_skip() {
	ktap_n=$((ktap_n + 1)); ktap_skipped=$((ktap_skipped + 1))
	echo "ok $ktap_n $1 # SKIP $2"
}

# ktap_check DESC CMD...: pass if CMD succeeds.
ktap_check() {
	local desc=$1
	shift
	if "$@"; then ktap_ok "$desc"; else ktap_fail "$desc"; fi
}

ktap_diag() {
	echo "# $*"
}

# Exit with kselftest's codes: 1 on any failure, 4 if all skipped.
ktap_finish() {
	echo "# Totals: pass:$ktap_pass fail:$ktap_failed xfail:0 xpass:0 skip:$ktap_skipped error:0"
	[ "$ktap_failed" -eq 0 ] || exit 1
	[ "$ktap_pass" -gt 0 ] || exit 4
	exit 0
}
