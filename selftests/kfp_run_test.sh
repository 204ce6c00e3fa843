#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kfp-run's command line: help, argument errors, a run on /dev/kvm, and
# the messages for no permission and no /dev/kvm.  Runs on any host.
cd "$(dirname "$0")" || exit 1
. ./ktap.sh
run=../tools/kfp-run/kfp-run
[ -x "$run" ] || run=./kfp-run
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# expect CODE PATTERN DESC ARGS...: exit code CODE, output matching PATTERN.
expect() {
	code=$1 pat=$2 desc=$3
	shift 3
	"$run" "$@" >"$out" 2>&1
	rc=$?
	if [ $rc -eq "$code" ] && grep -qE "$pat" "$out"; then
		ktap_ok "$desc"
	else
		ktap_fail "$desc"
		ktap_diag "kfp-run $*: exit $rc (want $code), output:"
		sed 's/^/# /' "$out"
	fi
}

ktap_plan 9
expect 0 '^usage: kfp-run' "--help prints usage" --help
expect 2 'not a non-negative number' "negative count is rejected" --out -1
expect 2 'not a non-negative number' "non-numeric count is rejected" --cpuid abc
expect 2 'larger than' "too large a count is rejected" --hlt 10000001
expect 2 'kfp-run: ' "unknown option is rejected" --bogus
expect 2 'kfp-run: ' "stray argument is rejected" --out 1 extra

if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	expect 0 'KVM_EXIT_IO' "a mixed run passes" \
		--out 30 --in 10 --cpuid 20 --hlt 5 --mmio 4
else
	ktap_skip "a mixed run passes" "no usable /dev/kvm"
fi

if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && [ -e /dev/kvm ]; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$run" --out 1 >"$out" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q 'permission denied on /dev/kvm' "$out"; then
		ktap_ok "no permission on /dev/kvm is reported"
	else
		ktap_fail "no permission on /dev/kvm is reported"
		sed 's/^/# /' "$out"
	fi
else
	ktap_skip "no permission on /dev/kvm is reported" "needs root, setpriv and /dev/kvm"
fi

if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null &&
   unshare -m true 2>/dev/null; then
	unshare -m sh -c "mount -t tmpfs none /dev && exec $run --out 1" >"$out" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q 'no /dev/kvm' "$out"; then
		ktap_ok "a missing /dev/kvm is reported"
	else
		ktap_fail "a missing /dev/kvm is reported"
		sed 's/^/# /' "$out"
	fi
else
	ktap_skip "a missing /dev/kvm is reported" "needs root and mount namespaces"
fi
ktap_finish
