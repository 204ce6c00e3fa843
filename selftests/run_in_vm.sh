#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The selftest run inside the emulated machine (tools/emu/run.sh runs it
# in /kfp, with KVM loaded).  Each test prints its own KTAP document.
# settings.sh, where the caller ships one, sets the tests' knobs (e.g.
# KFP_SMP_CYCLES) for this machine.
[ ! -f ./settings.sh ] || . ./settings.sh
rc=0
./machine_test.sh || rc=1
./module_test.sh load ./kvm_fastpath.ko || rc=1
./exit_dispatch_test || rc=1
./fastpath_test.sh || rc=1
./passthrough_test.sh
[ $? -ne 1 ] || rc=1	# 4: all skipped, the module is not loaded
./nested_test.sh
[ $? -ne 1 ] || rc=1	# 4, all skipped: not an SVM host
./kfp_stat_test.sh || rc=1
./kfp_run_test.sh || rc=1
./smp_test.sh
[ $? -ne 1 ] || rc=1	# 4, all skipped: one CPU
./module_test.sh unload || rc=1
exit $rc
