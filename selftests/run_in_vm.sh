#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The selftest run inside the emulated machine (tools/emu/run.sh runs it
# in /kfp, with KVM loaded).  Each test prints its own KTAP document.
# settings.sh, where the caller ships one, sets the tests' knobs (e.g.
# KFP_SMP_CYCLES) for this machine, and may name tests this machine
# cannot run (KFP_NOT_HERE, a list of test names) and why
# (KFP_NOT_HERE_WHY): each of those prints one skipped point with the
# reason instead of running.
#
# Where the caller ships kselftest.tar (selftests/Makefile's
# kselftest-install tree), kselftest's own run_kselftest.sh then runs the
# installed tests again, after the line "kfp: run_kselftest.sh", against
# the same module (./kvm_fastpath.ko).
[ ! -f ./settings.sh ] || . ./settings.sh

# run TEST: the test's exit code; 4 (skipped) if not here.
run() {
	case " ${KFP_NOT_HERE:-} " in
	*" $1 "*)
		printf 'TAP version 13\n1..1\nok 1 %s: %s # SKIP\n' "$1" \
			"${KFP_NOT_HERE_WHY:-not on this machine}"
		return 4 ;;
	esac
	"./$1"
}

# The tests, in kselftest's order (selftests/Makefile's TEST_PROGS, as
# kselftest-list.txt), each one's KTAP document after the other.  A test
# that exits 4 skipped as a whole: that fails nothing.
rc=0
for t in $(cat ./kselftest-list.txt); do
	run "${t#*:}"
	r=$?
	[ $r = 0 ] || [ $r = 4 ] || rc=1
done
if [ -f ./kselftest.tar ]; then
	echo "kfp: run_kselftest.sh"
	mkdir -p /tmp/kselftest && tar -xf ./kselftest.tar -C /tmp/kselftest || rc=1
	vko=kvm-intel
	grep -q '^kvm_amd ' /proc/modules && vko=kvm-amd
	KFP_MODULE=$PWD/kvm_fastpath.ko KFP_VENDOR_KO=$PWD/mod/$vko.ko \
		KFP_PERF_TGZ=$PWD/perf.tgz /tmp/kselftest/run_kselftest.sh || rc=1
fi
exit $rc
