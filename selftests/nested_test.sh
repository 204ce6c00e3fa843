#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Exits taken while a nested (L2) guest runs pass through untouched, in
# the emulated machine with kvm_fastpath loaded.  The guest,
# l2_svm_guest.bin, is an L1 hypervisor: it makes 20 OUTs to the work
# port itself, then runs an L2 guest making 50 OUTs to the same port,
# which L1 intercepts, and checks that it saw all 50 (kfp-run fails on a
# non-zero status).  With a sink rule on that port and the io handler on,
# L1's OUTs are fast and L2's are left to KVM, which reflects them to L1.
# The guest is an SVM hypervisor, so this runs on SVM hosts with nested
# SVM; elsewhere every point is a skip with the reason (passthrough_test.sh
# has the VMX counterpart, kfp-run's l2-cpuid).
cd "$(dirname "$0")" || exit 1
. ./ktap.sh
. ./kfp_lib.sh
run=./kfp-run
[ -x "$run" ] || run=../tools/kfp-run/kfp-run
bin=./l2_svm_guest.bin
out=/tmp/kfp-nested.$$
l1=20
l2=50
n=5

ktap_plan $n
skip=
if [ ! -w $D/rules ]; then
	skip="kvm_fastpath not loaded (no $D/rules)"
elif ! grep -q '^vendor: svm$' $D/info; then
	skip="the L2 guest is an SVM hypervisor; this host is $(sed -n 's/^vendor: //p' $D/info)"
elif [ "$(cat /sys/module/kvm_amd/parameters/nested 2>/dev/null)" != 1 ]; then
	skip="kvm_amd runs without nested=1"
elif [ ! -r "$bin" ]; then
	skip="no $bin (make selftests)"
fi
[ -z "$skip" ] || skip_all $n "$skip"

# nested DESC: run the L1 guest on fresh counters; pass if it saw every L2 exit.
nested() {
	echo reset >$D/exits
	if "$run" --mode long --guest "$bin" >$out 2>&1; then
		ktap_ok "$1"
	else
		ktap_fail "$1"
		sed 's/^/# /' $out
	fi
}

# split DESC "FAST STOCK L2": the IO row's split after nested().
split() {
	got="$(col $R_IO fast) $(col $R_IO stock) $(col $R_IO l2)"
	ktap_diag "$R_IO fast/stock/l2: expected $2 got $got"
	if [ "$got" = "$2" ]; then ktap_ok "$1"; else ktap_fail "$1"; fi
}

echo clear >$D/rules
echo "disable io" >$D/handlers
nested "io off: the L1 hypervisor sees each of its L2's $l2 OUTs"
split "io off: all stock, $l2 of them from L2" "0 $((l1 + l2 + 1)) $l2"

sink=$(add io ports=0x510 dir=out size=1 action=sink)
echo "enable io" >$D/handlers
nested "io on, sink on the port: L1 still sees each of its L2's $l2 OUTs"
split "io on: L1's $l1 OUTs are fast, L2's are stock and counted as L2" \
	"$l1 $((l2 + 1)) $l2"
[ "$(hits "$sink")" = $l1 ] && ktap_ok "the sink rule counts only L1's OUTs ($l1)" ||
	ktap_fail "the sink rule counts only L1's OUTs ($l1, got $(hits "$sink"))"

echo "disable io" >$D/handlers
echo clear >$D/rules
rm -f $out
ktap_finish
