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
[ ! -f ./settings.sh ] || . ./settings.sh

# run TEST [ARGS...]: the test's exit code; 4 (skipped) if not here.
run() {
	case " ${KFP_NOT_HERE:-} " in
	*" $1 "*)
		printf 'TAP version 13\n1..1\nok 1 %s # SKIP %s\n' "$1" \
			"${KFP_NOT_HERE_WHY:-not on this machine}"
		return 4 ;;
	esac
	"./$@"
}

rc=0
run machine_test.sh || rc=1
run module_test.sh load ./kvm_fastpath.ko || rc=1
run exit_dispatch_test || rc=1
run fastpath_test.sh || rc=1
run passthrough_test.sh
[ $? -ne 1 ] || rc=1	# 4: all skipped, the module is not loaded
run nested_test.sh
[ $? -ne 1 ] || rc=1	# 4, all skipped: not an SVM host
run vm_scope_test.sh || rc=1
run kfp_stat_test.sh || rc=1
run timing_test.sh || rc=1
run kfp_run_test.sh
[ $? -ne 1 ] || rc=1	# 4: not run here
run smp_test.sh
[ $? -ne 1 ] || rc=1	# 4, all skipped: one CPU
run module_test.sh unload || rc=1
exit $rc
