#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Load and unload checks for kvm_fastpath.ko, as root on a host with
# kvm_intel or kvm_amd available as a module (the emulated machine):
#
#   module_test.sh load MODULE.ko     refusal without the vendor module,
#                                     load, pinning
#   module_test.sh unload             unload while a vCPU runs, clean dmesg
#
# Run "load" first, the other selftests, then "unload".
cd "$(dirname "$0")" || exit 1
. ./ktap.sh

dbg=/sys/kernel/debug/kvm_fastpath

# The KVM vendor module that is loaded, and what the hook says for it.
if grep -q '^kvm_amd ' /proc/modules 2>/dev/null; then
	vmod=kvm_amd vendor=svm
else
	vmod=kvm_intel vendor=vmx
fi
vendor_ko=${KFP_VENDOR_KO:-mod/$(echo $vmod | tr _ -).ko}

loaded() {
	grep -q "^$1 " /proc/modules
}

# dmesg_since MARK: kernel messages printed after the line holding MARK.
dmesg_since() {
	dmesg | sed -n "/$1/,\$p"
}

mark() {
	echo "kfp-selftest-mark-$1" >/dev/kmsg
}

# Run COUNT CPUID exits in the background; its pid is in $guest.
start_guest() {
	./kfp-run --quiet --cpuid "$1" &
	guest=$!
}

if [ "$(id -u)" -ne 0 ] || [ ! -r /proc/modules ]; then
	ktap_plan 1
	ktap_skip "module_test" "needs root and loadable modules"
	ktap_finish
fi

case "$1" in
load)
	ko=$2
	ktap_plan 6
	mark refuse
	rmmod $vmod 2>/dev/null
	if insmod "$ko" 2>/dev/null; then
		ktap_fail "refuses to load without $vmod"
		rmmod kvm_fastpath
	else
		ktap_check "refuses to load without $vmod" \
			sh -c "dmesg | sed -n '/kfp-selftest-mark-refuse/,\$p' | grep -q 'no supported KVM vendor module is loaded'"
	fi
	# Without unrestricted guest, KVM emulates invalid guest state and
	# vmx_vcpu_run() can return with no VM entry: refused.
	if [ $vendor = vmx ]; then
		insmod "$vendor_ko" unrestricted_guest=0 || ktap_diag "cannot load $vendor_ko unrestricted_guest=0"
		mark refuse-ug
		if insmod "$ko" 2>/dev/null; then
			ktap_fail "refuses kvm_intel unrestricted_guest=0"
			rmmod kvm_fastpath
		else
			ktap_check "refuses kvm_intel unrestricted_guest=0" \
				sh -c "dmesg | sed -n '/kfp-selftest-mark-refuse-ug/,\$p' | grep -q 'runs without unrestricted_guest'"
		fi
		rmmod $vmod
	else
		ktap_skip "refuses kvm_intel unrestricted_guest=0" "not a VMX host"
	fi
	insmod "$vendor_ko" || ktap_diag "cannot reload $vendor_ko"

	mark load
	if insmod "$ko"; then
		ktap_ok "insmod with $vmod loaded"
	else
		ktap_fail "insmod with $vmod loaded"
		dmesg_since kfp-selftest-mark-load | sed 's/^/# /'
	fi
	ktap_check "dmesg says it hooked ${vendor}_vcpu_run" \
		sh -c "dmesg | sed -n '/kfp-selftest-mark-load/,\$p' | grep -q 'hooked ${vendor}_vcpu_run'"
	ktap_check "debugfs info names the vendor" grep -q "^vendor: $vendor\$" $dbg/info
	if rmmod $vmod 2>/dev/null; then
		ktap_fail "$vmod is pinned while hooked"
		insmod "$vendor_ko"
	else
		ktap_ok "$vmod is pinned while hooked"
	fi
	ktap_finish
	;;
unload)
	ktap_plan 4
	mark unload
	# Unload under a running vCPU: the guest must finish its exits.
	start_guest 100000
	sleep 2
	if ! kill -0 $guest 2>/dev/null; then
		ktap_diag "guest ended before rmmod; the race was not exercised"
	fi
	ktap_check "rmmod while a vCPU runs" rmmod kvm_fastpath
	ktap_check "the guest finishes its exits across the unload" wait $guest
	ktap_check "$vmod unloads after us" rmmod $vmod
	insmod "$vendor_ko" || ktap_diag "cannot reload $vendor_ko"
	# Since "load" began: the emulated CPU draws warnings at boot.
	if dmesg_since kfp-selftest-mark-refuse | grep -qE 'WARNING:|BUG:|Oops|Call Trace'; then
		ktap_fail "no kernel warnings while testing"
		dmesg_since kfp-selftest-mark-refuse |
			grep -E -A5 'WARNING:|BUG:|Oops' | head -n 40 | sed 's/^/# /'
	else
		ktap_ok "no kernel warnings while testing"
	fi
	ktap_finish
	;;
*)
	echo "usage: module_test.sh load MODULE.ko | unload" >&2
	exit 2
	;;
esac
