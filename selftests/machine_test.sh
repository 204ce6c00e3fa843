#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The emulated machine is what it claims to be (tools/emu/run.sh puts
# kfp_machine=NAME on the kernel command line): the CPU offers the
# virtualization it should and KVM's vendor module for it is loaded, and
# on the machine that claims IBT, the kernel enforces it.  A model change
# that silently drops VMX, SVM or IBT fails here, not in a bench figure.
cd "$(dirname "$0")" || exit 1
. ./ktap.sh

machine=$(sed -n 's/.*kfp_machine=\([a-z]*\).*/\1/p' /proc/cmdline)
flags=$(grep -m1 '^flags' /proc/cpuinfo)

has_flag() {
	case " ${flags#*:} " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

ktap_plan 3
case "$machine" in
haswell|tigerlake) want=vmx vmod=kvm_intel ;;
svm)               want=svm vmod=kvm_amd ;;
*)
	ktap_skip "machine_test" "not an emulated machine of tools/emu/run.sh"
	ktap_skip "machine_test" "not an emulated machine of tools/emu/run.sh"
	ktap_skip "machine_test" "not an emulated machine of tools/emu/run.sh"
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
else
	ktap_skip "$machine: the kernel enforces IBT" "this machine does not claim IBT"
fi
ktap_finish
