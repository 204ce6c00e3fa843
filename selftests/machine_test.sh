#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The emulated machine is what it claims to be (tools/emu/run.sh puts
# kfp_machine=NAME on the kernel command line): the CPU offers the
# virtualization it should and KVM's vendor module for it is loaded, and
# on the machine that claims IBT, the kernel enforces it (on the one that
# claims NRIPS, kvm_amd uses it); it has the CPUs
# it claims (kfp_cpus=N); a debug kernel (kfp_kernel=debug) runs its
# checkers.  A model change that silently drops VMX, SVM, IBT or a CPU,
# or a debug kernel whose lockdep is off, fails here, not in a bench
# figure or a report that never comes.
cd "$(dirname "$0")" || exit 1
. ./ktap.sh

machine=$(sed -n 's/.*kfp_machine=\([a-z]*\).*/\1/p' /proc/cmdline)
cpus=$(sed -n 's/.*kfp_cpus=\([0-9]*\).*/\1/p' /proc/cmdline)
flags=$(grep -m1 '^flags' /proc/cpuinfo)

has_flag() {
	case " ${flags#*:} " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

ktap_plan 5
case "$machine" in
haswell|tigerlake) want=vmx vmod=kvm_intel ;;
svm|ryzen)         want=svm vmod=kvm_amd ;;
*)
	for i in 1 2 3 4 5; do
		ktap_skip "machine_test" "not an emulated machine of tools/emu/run.sh"
	done
	ktap_finish
	;;
esac
ktap_diag "machine $machine, kernel $(uname -r)"

ktap_check "$machine: the CPU offers $want" has_flag $want
ktap_check "$machine: $vmod is loaded" grep -q "^$vmod " /proc/modules

# The kernel says so at boot ("CET detected: Indirect Branch Tracking
# enabled"), and keeps the ibt flag only while it uses IBT.
if [ "$machine" = tigerlake ]; then
	ibt_on() {
		dmesg | grep -q 'CET detected: Indirect Branch Tracking enabled' &&
			has_flag ibt
	}
	ktap_check "tigerlake: the kernel enforces IBT" ibt_on
elif [ "$machine" = ryzen ]; then
	# SVM's next RIP for every instruction intercept, which the
	# handlers need for all but IO; kvm_amd clears nrips without it.
	nrips_on() {
		has_flag nrip_save &&
			[ "$(cat /sys/module/kvm_amd/parameters/nrips)" = 1 ]
	}
	ktap_check "ryzen: the CPU offers NRIPS and kvm_amd uses it" nrips_on
else
	ktap_skip "$machine: the kernel enforces IBT" "this machine claims neither IBT nor NRIPS"
fi

ktap_diag "CPUs online: $(nproc), claimed: ${cpus:-unknown}"
ktap_check "$machine: ${cpus:-unknown} CPUs online, as claimed" test "$(nproc)" = "${cpus:-unknown}"

# A debug kernel (tools/emu/debug-kernel.sh) proves its checkers are on:
# lockdep has not switched itself off (debug_locks stays 1 until its first
# report), RCU's lockdep checks and KASAN said so at boot, and the config
# it was built with (kernel.config, from tools/emu/run.sh) has the rest.
if grep -qw kfp_kernel=debug /proc/cmdline; then
	checkers_on() {
		ok=0
		grep -q '^ *debug_locks: *1$' /proc/lockdep_stats ||
			{ ktap_diag "lockdep is off"; ok=1; }
		dmesg | grep -q 'RCU lockdep checking is enabled' ||
			{ ktap_diag "no PROVE_RCU"; ok=1; }
		dmesg | grep -q 'KernelAddressSanitizer initialized' ||
			{ ktap_diag "no KASAN"; ok=1; }
		for c in UBSAN DEBUG_ATOMIC_SLEEP DEBUG_LIST; do
			grep -qx "CONFIG_$c=y" kernel.config ||
				{ ktap_diag "no CONFIG_$c"; ok=1; }
		done
		return $ok
	}
	ktap_check "debug kernel: lockdep, PROVE_RCU, KASAN, UBSAN, DEBUG_ATOMIC_SLEEP and DEBUG_LIST are on" checkers_on
else
	ktap_skip "debug kernel: the checkers are on" "a stock kernel, no checkers claimed"
fi
ktap_finish
