#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The fast-path handlers, in the emulated machine with kvm_fastpath loaded
# (after "module_test.sh load"): for each handler, exact fast and stock
# counts with it on, off and switched at runtime; what the guest sees;
# pass-through cases; invalid configuration; a registered handler.
cd "$(dirname "$0")" || exit 1
. ./ktap.sh
. ./kfp_lib.sh
run=./kfp-run
[ -x "$run" ] || run=../tools/kfp-run/kfp-run
out=/tmp/kfp-fastpath.$$

ktap_plan 46
[ -w $D/rules ] || skip_all 46 "kvm_fastpath not loaded (no $D/rules)"

# guest ARGS...: reset the counters, run kfp-run.  Its own exit check
# expects every exit in userspace, so only a guest error fails here.
guest() {
	echo reset >$D/exits
	"$run" "$@" >$out 2>&1
	if grep -qE 'guest reported status|unexpected|cannot|error' $out; then
		ktap_diag "kfp-run $*:"
		sed 's/^/# /' $out
		return 1
	fi
	return 0
}

# mmio_stock: MMIO accesses KVM handled (first EPT violation, then misconfigs).
mmio_stock() {
	if [ -n "$R_MISCONFIG" ]; then
		echo $(($(col $R_NPF stock) + $(col $R_MISCONFIG stock)))
	else
		col $R_NPF stock
	fi
}

# expect_mmio DESC N: KVM (so userspace) saw exactly N MMIO accesses,
# beyond the guest's first touch of its own pages ($touch, measured below).
expect_mmio() {
	got=$(($(mmio_stock) - touch))
	ktap_diag "MMIO exits handled by KVM: expected $2 got $got"
	if [ "$got" = "$2" ]; then ktap_ok "$1"; else ktap_fail "$1"; fi
}

echo clear >$D/rules
for h in io cpuid hlt ept; do echo "disable $h" >$D/handlers; done

# --- invalid configuration changes nothing
before=$(cat $D/rules)
bad=0
refused $D/rules "io ports=0x510 dir=out size=1" \
	"io ports=0x510 dir=in size=1 action=sink" \
	"io ports=0x0ff0-0x1010 dir=out size=1 action=sink" \
	"io ports=0x20-0x10 dir=out size=1 action=sink" \
	"io ports=0x510 dir=out size=3 action=sink" \
	"cpuid leaf=0x40000000" \
	"cpuid leaf=0x40000000 eax=1 ebx=2 ecx=3" \
	"doorbell gpa=0xfee00000 len=0x1000" \
	"doorbell gpa=0xd0000 len=0" \
	"del 999" "frobnicate" || bad=1
[ "$(cat $D/rules)" = "$before" ] || bad=1
if [ $bad -eq 0 ]; then ktap_ok "invalid rules are refused and change nothing"; else ktap_fail "invalid rules are refused and change nothing"; fi
if echo "enable nosuch" >$D/handlers 2>/dev/null || echo "detach io" >$D/handlers 2>/dev/null; then
	ktap_fail "invalid handler commands are refused"
else
	ktap_ok "invalid handler commands are refused"
fi
ktap_check "the ucall port refusal is logged" sh -c "dmesg | grep -q 'port 0x1000 is KVM selftests'"

# --- IO
sink=$(add io ports=0x510 dir=out size=1 action=sink)
guest --out 300 --in 20
expect "io off: OUT and IN go to stock" $R_IO "0 322"
echo "enable io" >$D/handlers
guest --out 300 --in 20
expect "io on: sink takes exactly the OUTs" $R_IO "300 22"
[ "$(hits "$sink")" = 300 ] && ktap_ok "sink rule counts its hits" || ktap_fail "sink rule counts its hits"
const=$(add io ports=0x510 dir=in size=1 action=const value=0xa5)
if guest --out 100 --in 50; then ktap_ok "const IN returns the configured value (guest checks 0xa5)"; else ktap_fail "const IN returns the configured value (guest checks 0xa5)"; fi
expect "io on: sink and const take OUT and IN" $R_IO "150 2"
echo "del $const" >$D/rules
add io ports=0x510 dir=in size=1 action=const value=0x5a >/dev/null
guest --in 5
if grep -q 'guest reported status' $out; then ktap_ok "a wrong const value reaches the guest"; else ktap_fail "a wrong const value reaches the guest"; fi
echo clear >$D/rules
echo clear >$D/capture
add io ports=0x510 dir=out size=1 action=capture >/dev/null
guest --out 100
expect "capture takes the OUTs" $R_IO "100 2"
ktap_check "the capture buffer holds exactly those bytes, its VM ended" grep -q '^# vm=[0-9-]* pid=[0-9]* bytes=100 ended$' $D/capture
# The buffer holds 4096 bytes per VM; what does not fit goes the stock way.
echo clear >$D/capture
guest --out 5000
expect "a full capture buffer passes the rest to stock" $R_IO "4096 906"
# More VMs one after another than there are buffers (16): the buffer of a
# VM that ended goes to the next VM that needs one, so every VM captures,
# and the last 16 VMs' bytes stay readable.
echo clear >$D/capture
n=0
i=0
while [ $i -lt 20 ]; do
	guest --out 3 && [ "$(col $R_IO fast)" = 3 ] && n=$((n + 1))
	i=$((i + 1))
done
ktap_diag "VMs whose 3 OUTs were all captured: $n of 20"
ktap_check "20 VMs one after another, 16 buffers: every VM captures" test $n = 20
ktap_check "the last 16 ended VMs' bytes stay readable" \
	test "$(grep -c '^# vm=[0-9-]* pid=[0-9]* bytes=3 ended$' $D/capture)" = 16
echo clear >$D/capture
echo "disable io" >$D/handlers
guest --out 100 --in 10
expect "io switched off at runtime: back to stock" $R_IO "0 112"

# --- CPUID: only what a rule answers in full (KVM's CPUID model cannot
# be read with IRQs off); every other CPUID is KVM's.
guest --cpuid 200
expect "cpuid off: stock" $R_CPUID "0 200"
echo "enable cpuid" >$D/handlers
guest --cpuid 200
expect "cpuid on, no rule: every CPUID goes to KVM" $R_CPUID "0 200"
leaf0=$(add cpuid leaf=0 eax=0xd ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69)
guest --cpuid 200
expect "cpuid on, a rule for the leaf: in the fast path ($(fast_split 200 | cut -d" " -f1) of 200)" $R_CPUID "$(fast_split 200)"
echo "del $leaf0" >$D/rules
echo "disable cpuid" >$D/handlers

# cpuid_regs MODE LEAF SUBLEAF: the registers the guest read, one line.
cpuid_regs() {
	"$run" --mode "$1" --cpuid 3 --cpuid-leaf "$2" --cpuid-subleaf "$3" 2>&1 |
		sed -n 's/^vCPU 0 cpuid [^:]*: //p'
}

# Without rules, the guest reads the same registers with the handler off
# and on.
same=1
for mode in real long; do
	for leaf in "0 0" "1 0" "7 0" "0xd 1" "0x40000000 0" "0x80000001 0"; do
		set -- $leaf
		echo "disable cpuid" >$D/handlers
		off=$(cpuid_regs $mode "$1" "$2")
		echo "enable cpuid" >$D/handlers
		on=$(cpuid_regs $mode "$1" "$2")
		if [ -z "$off" ] || [ "$off" != "$on" ]; then
			ktap_diag "$mode leaf $1.$2: off '$off' on '$on'"
			same=0
		fi
	done
done
ktap_check "cpuid on, no rule: the guest reads exactly stock KVM's values (6 leaves, real and long mode)" test $same = 1

# A rule's four registers are what the guest reads, for its leaf only.
ovr=$(add cpuid leaf=0x40000000 eax=0x4000abcd ebx=0x4b504641 ecx=0x12345678 edx=0x9abcdef0)
got=$(cpuid_regs long 0x40000000 0)
other=$(cpuid_regs long 0x40000001 0)
echo "disable cpuid" >$D/handlers
other_stock=$(cpuid_regs long 0x40000001 0)
ktap_diag "leaf 0x40000000 with the rule: '$got'; leaf 0x40000001 '$other' (stock '$other_stock')"
if no_lengths "a cpuid rule answers its leaf, and no other"; then :
elif [ "$got" = "eax=0x4000abcd ebx=0x4b504641 ecx=0x12345678 edx=0x9abcdef0" ] &&
     [ -n "$other" ] && [ "$other" = "$other_stock" ]; then
	ktap_ok "a cpuid rule answers its leaf, and no other"
else
	ktap_fail "a cpuid rule answers its leaf, and no other"
fi
if no_lengths "cpuid rule counts its hits"; then :
elif [ "$(hits "$ovr")" = 3 ]; then ktap_ok "cpuid rule counts its hits"; else ktap_fail "cpuid rule counts its hits"; fi
echo "del $ovr" >$D/rules

# --- EPT doorbell
# A new VM's first touch of each of its pages is an EPT violation too.
guest
touch=$(mmio_stock)
ktap_diag "EPT violations of an empty guest run: $touch"
door=$(add doorbell gpa=0xd0000 len=0x1000)
guest --mmio 40
expect_mmio "ept off: MMIO writes go to KVM and userspace" 40
echo "enable ept" >$D/handlers
guest --mmio 40
set -- $(doorbell_split 40)
expect "ept on: doorbell writes in the fast path ($1 of 40)" $R_NPF "$1 $(($2 + touch))"
[ "$(hits "$door")" = "$1" ] && ktap_ok "doorbell rule counts its hits ($1)" || ktap_fail "doorbell rule counts its hits ($1)"
expect_mmio "ept on: only writes the doorbell did not take reach KVM" "$2"
echo "del $door" >$D/rules
guest --mmio 10
expect_mmio "doorbell removed: MMIO goes to KVM again" 10
echo "disable ept" >$D/handlers

# --- HLT without an in-kernel APIC: userspace's
echo "enable hlt" >$D/handlers
guest --hlt 20
expect "hlt without in-kernel APIC: passes to stock" $R_HLT "0 20"
echo "disable hlt" >$D/handlers

# --- the same handlers under a 64-bit guest with paging
echo clear >$D/rules
add io ports=0x510 dir=out size=1 action=sink >/dev/null
add io ports=0x510 dir=in size=1 action=const value=0xa5 >/dev/null
for h in io cpuid; do echo "enable $h" >$D/handlers; done
if guest --mode long --out 200 --in 30; then
	expect "long mode: sink and const take OUT and IN (guest checks the value)" $R_IO "230 2"
else
	ktap_fail "long mode: sink and const take OUT and IN (guest checks the value)"
fi
add cpuid leaf=0 eax=0xd ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69 >/dev/null
guest --mode long --cpuid 150
expect "long mode: cpuid in the fast path ($(fast_split 150 | cut -d" " -f1) of 150)" $R_CPUID "$(fast_split 150)"
echo "disable cpuid" >$D/handlers
echo "disable io" >$D/handlers
guest --mode long
touch=$(mmio_stock)
add doorbell gpa=0xd0000 len=0x1000 >/dev/null
echo "enable ept" >$D/handlers
guest --mode long --mmio 60
set -- $(doorbell_split 60)
expect "long mode: doorbell writes in the fast path ($1 of 60)" $R_NPF "$1 $(($2 + touch))"
expect_mmio "long mode: only writes the doorbell did not take reach KVM" "$2"
echo "disable ept" >$D/handlers

# --- a handler registered by another module
# vmcall_rax MODE: RAX after the guest's VMCALLs (unknown hypercall nr).
vmcall_rax() {
	guest --mode "$1" --vmcall 10 && sed -n 's/^vCPU 0 vmcall rax=\(0x[0-9a-f]*\).*/\1/p' $out
}
got=$(vmcall_rax long)
ktap_diag "stock VMCALL: rax=$got (-KVM_ENOSYS is 0xfffffffffffffc18)"
[ "$got" = 0xfffffffffffffc18 ] && ktap_ok "stock KVM answers VMCALL with -KVM_ENOSYS" || ktap_fail "stock KVM answers VMCALL with -KVM_ENOSYS"
# The test handler module: beside this script (the emulated machine's
# flat directory) or in kselftest's test_modules/.
handler=./kfp_test_handler.ko
[ -f $handler ] || handler=./test_modules/kfp_test_handler.ko
[ -f $handler ] || ktap_diag "no kfp_test_handler.ko here or in test_modules/: build it for $(uname -r) (selftests/test_modules)"
listed() {
	grep -q 'test_vmcall enabled kfp_test_handler' $D/handlers
}
stock_vmcall() {
	[ "$(vmcall_rax long)" = 0xfffffffffffffc18 ]
}
if insmod $handler; then
	ktap_check "registered handler is listed" listed
	got=$(vmcall_rax long)
	ktap_diag "VMCALL with the test handler: rax=$got"
	if no_lengths "the registered handler answers VMCALL"; then :
	elif [ "$got" = 0x4b465054 ]; then ktap_ok "the registered handler answers VMCALL"; else ktap_fail "the registered handler answers VMCALL"; fi
	unheld=$(cat /sys/module/kfp_test_handler/parameters/srcu_unheld)
	if [ ! -e /proc/lockdep ]; then
		ktap_skip "the registered handler runs inside kvm->srcu" "no lockdep in this kernel: srcu_read_lock_held() cannot tell"
	elif no_lengths "the registered handler runs inside kvm->srcu"; then :
	else
		ktap_diag "calls without kvm->srcu held, by lockdep: $unheld"
		ktap_check "the registered handler runs inside kvm->srcu" test "$unheld" = 0
	fi
	expect "the registered handler takes every hypercall in the fast path ($(fast_split 10 | cut -d" " -f1) of 10)" $R_HCALL "$(fast_split 10)"
	# Its module_exit unregisters it: nothing pins the module.
	if rmmod kfp_test_handler && ! listed; then
		ktap_ok "its module unloads while installed, and its exit removes the handler"
	else
		ktap_fail "its module unloads while installed, and its exit removes the handler"
	fi
	ktap_check "after its module is gone, stock KVM answers VMCALL again" stock_vmcall
else
	ktap_fail "registered handler is listed"
	ktap_fail "the registered handler answers VMCALL"
	ktap_fail "the registered handler runs inside kvm->srcu"
	ktap_fail "the registered handler takes every hypercall in the fast path"
	ktap_fail "its module unloads while installed, and its exit removes the handler"
	ktap_fail "after its module is gone, stock KVM answers VMCALL again"
fi

# A detach first: the module's exit then unregisters nothing, quietly
# (module_test.sh's last point fails on any WARNING).
detach_then_rmmod() {
	insmod $handler && echo "detach test_vmcall" >$D/handlers &&
		! listed && rmmod kfp_test_handler
}
ktap_check "detach, then rmmod: its exit's unregister is a no-op" detach_then_rmmod

# A module whose init fails after registering: the handler must go with
# it, before its memory does (a VMCALL would otherwise run freed code).
mark=kfp-selftest-failinit-$$
echo "$mark" >/dev/kmsg
if insmod $handler fail_init=1 2>/dev/null; then
	ktap_fail "a module whose init fails after registering does not load"
	rmmod kfp_test_handler
else
	ktap_ok "a module whose init fails after registering does not load"
fi
failinit_removed() {
	! listed && dmesg | sed -n "/$mark/,\$p" |
		grep -q 'handler test_vmcall removed: its module kfp_test_handler is going without unregistering it'
}
ktap_check "its handler is removed before its module is freed, with a warning" failinit_removed
ktap_check "and stock KVM answers VMCALL" stock_vmcall

# Only instruction exits take a handler: the exits KVM must finish
# itself are refused with -EPERM, with the reason in the log.
if grep -q '^vendor: svm$' $D/info; then
	# INTR, NMI, INIT, VINTR, #PF intercept, SHUTDOWN, AVIC's two
	forbidden="0x60 0x61 0x63 0x64 0x4e 0x7f 0x401 0x402" allowed=0x81
else
	# EXCEPTION_NMI, EXTERNAL_INTERRUPT, TRIPLE_FAULT, INIT, SIPI,
	# INTERRUPT_WINDOW, NMI_WINDOW, APIC_ACCESS, PML_FULL
	forbidden="0 1 2 3 4 7 8 44 62" allowed=18
fi
refused=0
for r in $forbidden; do
	if insmod $handler reason=$((r)) 2>/dev/null; then
		ktap_diag "exit $r accepted a handler"
		rmmod kfp_test_handler
		refused=1
	fi
done
ktap_check "exits KVM must handle itself are refused a handler ($forbidden)" test $refused = 0
ktap_check "the refusal is logged" sh -c "dmesg | grep -q 'is not an instruction exit; KVM must handle it'"
if insmod $handler reason=$((allowed)) && listed; then
	ktap_ok "a raw instruction exit code ($allowed) takes a handler"
else
	ktap_fail "a raw instruction exit code ($allowed) takes a handler"
fi
rmmod kfp_test_handler 2>/dev/null

# Commands are trimmed on both sides.
if echo "   enable io  " >$D/handlers && grep -q ' io enabled ' $D/handlers; then
	ktap_ok "a command with leading spaces is accepted"
else
	ktap_fail "a command with leading spaces is accepted"
fi
echo "disable io" >$D/handlers

echo clear >$D/rules
rm -f $out
ktap_finish
