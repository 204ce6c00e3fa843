#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The emulated machine's kernel report detector (tools/emu/reports.awk),
# on console logs made up of lines the kernels really print: each kind of
# report is found, boot noise is excused only where boot-noise.txt lists
# it and only before /init starts.  Runs on the host; the detector's end
# to end test (a real WARNING and a real Missing ENDBR failing a run) is
# tools/check.sh's "report detector" boot.
cd "$(dirname "$0")" || exit 1
. ./ktap.sh

emu=../tools/emu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

boot='[    0.000000] Linux version 6.12.118+deb12-amd64
[    0.000000] WARNING: CPU: 0 PID: 0 at arch/x86/kernel/cpu/topology_common.c:57 parse_legacy+0x10e/0x130
[    0.000000] Modules linked in:
[    0.000000] RIP: 0010:parse_legacy+0x10e/0x130
[    0.000000] Call Trace:
[    0.000000]  <TASK>
[    0.000000]  </TASK>
[    0.000000] ---[ end trace 0000000000000000 ]---
[    0.000000] WARNING: arch/x86/kernel/cpu/topology_common.c:95 at parse_legacy+0x1a7/0x280, CPU#0: swapper/0
[    0.000000] ---[ end trace 0000000000000000 ]---
[    0.358724] Speculative Return Stack Overflow: WARNING: See https://kernel.org/doc/html/latest/admin-guide/hw-vuln/srso.html for mitigation options.
[    3.381664] kfp-emu: init started'

# count LOG...: the number of reports the detector finds in the lines.
count() {
	printf '%s\n' "$@" >"$tmp/log"
	awk -f $emu/reports.awk $emu/boot-noise.txt "$tmp/log" >"$tmp/out"
	rc=$?
	n=$(grep -c '^report ' "$tmp/out")
	# Its exit code must agree with what it printed.
	if [ "$n" -gt 0 ] && [ $rc -ne 1 ] || [ "$n" -eq 0 ] && [ $rc -ne 0 ]; then
		echo "exit $rc with $n reports"
		return
	fi
	echo "$n"
}

# expect DESC N LINE...: the lines, after a clean boot, hold N reports.
expect() {
	desc=$1 want=$2
	shift 2
	got=$(count "$boot" "$@")
	ktap_diag "$desc: expected $want got $got"
	if [ "$got" = "$want" ]; then ktap_ok "$desc"; else ktap_fail "$desc"; sed 's/^/# /' "$tmp/out"; fi
}

ktap_plan 22

expect "a clean boot, with the listed boot noise, has no report" 0
got=$(count "$(printf '%s\n' "$boot" | sed '/init started/d')")
ktap_check "boot noise is excused without the init marker too (a boot that never reached /init)" test "$got" = 0
expect "the listed noise after /init starts is a report" 1 \
	'[   12.000000] WARNING: CPU: 0 PID: 0 at arch/x86/kernel/cpu/topology_common.c:57 parse_legacy+0x10e/0x130'
got=$(count '[    0.000000] WARNING: CPU: 0 PID: 0 at arch/x86/kernel/fpu/xstate.c:605 fpu__init_system_xstate+0xc5e/0x10d0' \
	'[    3.0] kfp-emu: init started')
ktap_check "an unlisted WARNING during boot is a report" test "$got" = 1

expect "WARNING (6.12 format)" 1 \
	'[   20.1] ------------[ cut here ]------------' \
	'[   20.1] WARNING: CPU: 0 PID: 201 at module/kfp_table.c:70 kfp_skip_by_kvm+0x3b/0x50 [kvm_fastpath]' \
	'[   20.1] Modules linked in: kvm_fastpath(OE) kvm_intel kvm irqbypass' \
	'[   20.1] RIP: 0010:kfp_skip_by_kvm+0x3b/0x50 [kvm_fastpath]' \
	'[   20.1] Call Trace:' \
	'[   20.1]  <TASK>' \
	'[   20.1]  </TASK>' \
	'[   20.1] ---[ end trace 0000000000000000 ]---'
expect "WARNING (7.x format)" 1 \
	'[   20.1] WARNING: selftests/kfp_report_test.c:47 at kfp_report_init+0x21/0x60 [kfp_report_test], CPU#0: insmod/190'
expect "kernel BUG at" 1 '[   20.1] kernel BUG at arch/x86/kernel/cet.c:132!'
expect "Missing ENDBR (IBT), with its BUG and Oops: three reports" 3 \
	'[    3.816738] Missing ENDBR: kallsyms_lookup_name+0x4/0xd0' \
	'[    3.816855] kernel BUG at arch/x86/kernel/cet.c:132!' \
	'[    3.816900] Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI' \
	'[    3.816901] RIP: 0010:exc_control_protection+0x1fa/0x200' \
	'[    3.824312]  </TASK>' \
	'[    3.824506] ---[ end trace 0000000000000000 ]---' \
	'[    3.824603] RIP: 0010:exc_control_protection+0x1fa/0x200' \
	'[    3.824718] Code: ff 48 c7 c7 9d 17 0d ac'
expect "general protection fault" 1 \
	'[   20.1] Oops: general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI'
expect "NULL pointer dereference" 1 \
	'[   20.1] BUG: kernel NULL pointer dereference, address: 0000000000000010'
expect "soft lockup" 1 \
	'[   48.1] watchdog: BUG: soft lockup - CPU#1 stuck for 26s! [kfp-run:231]'
expect "hard lockup" 1 \
	'[   48.1] watchdog: Watchdog detected hard LOCKUP on cpu 1'
expect "RCU stall" 1 \
	'[   48.1] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:'
expect "RCU self-detected stall" 1 \
	'[   48.1] rcu: INFO: rcu_sched self-detected stall on CPU'
expect "hung task" 1 \
	'[  245.1] INFO: task rmmod:301 blocked for more than 120 seconds.'
expect "lockdep: circular dependency" 1 \
	'[   20.1] WARNING: possible circular locking dependency detected'
expect "lockdep: suspicious RCU usage" 1 \
	'[   20.1] WARNING: suspicious RCU usage'
expect "sleeping in atomic context" 1 \
	'[   20.1] BUG: sleeping function called from invalid context at kernel/locking/mutex.c:283'
expect "KASAN" 1 \
	'[   20.1] BUG: KASAN: slab-use-after-free in kfp_capture_put+0x3c/0x90 [kvm_fastpath]'
expect "UBSAN" 1 \
	'[   20.1] UBSAN: array-index-out-of-bounds in module/kfp_table.c:52:6'
expect "a bare stack trace (dump_stack)" 1 \
	'[   20.1] CPU: 0 UID: 0 PID: 190 Comm: insmod' \
	'[   20.1] Call Trace:' \
	'[   20.1]  <TASK>'
expect "a panic" 1 \
	'[   20.1] Kernel panic - not syncing: Attempted to kill the idle task!'
ktap_finish
