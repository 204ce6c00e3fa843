#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What the fast path must leave alone, and what it reports, in the
# emulated machine with kvm_fastpath loaded (after "module_test.sh load"):
# HLT with an interrupt pending (in-kernel APIC), a single-stepping
# guest, KVM selftests' ucall port 0x1000, ports where KVM has a device
# (in-kernel PIC and ELCR, an ioeventfd, a coalesced PIO zone), string
# and REP I/O, and the kvm_fastpath tracepoint.  Exact fast and stock counts throughout.
cd "$(dirname "$0")" || exit 1
. ./ktap.sh
. ./kfp_lib.sh
run=./kfp-run
[ -x "$run" ] || run=../tools/kfp-run/kfp-run
out=/tmp/kfp-passthrough.$$
trace=/tmp/kfp-trace.$$
plan=44

ktap_plan $plan
[ -w $D/rules ] || skip_all $plan "kvm_fastpath not loaded (no $D/rules)"

# guest ARGS...: reset the counters, run kfp-run.  Only a guest error
# (its status, an unexpected exit, a timeout) fails here: kfp-run's own
# exit check expects every exit in userspace, and fast exits are not;
# its exit code is left in $urc (0: userspace saw every exit).
guest() {
	echo reset >$D/exits
	"$run" --timeout 60 "$@" >$out 2>&1
	urc=$?
	if irq_status3_retry $out; then
		echo reset >$D/exits
		"$run" --timeout 60 "$@" >$out 2>&1
		urc=$?
	fi
	if grep -qE 'guest reported status|unexpected|cannot|error|timed out' $out; then
		ktap_diag "kfp-run $*:"
		sed 's/^/# /' $out
		return 1
	fi
	return 0
}

# in_userspace DESC: pass if the last guest() saw every exit in userspace.
in_userspace() {
	if [ "$urc" = 0 ]; then
		ktap_ok "$1"
	else
		ktap_fail "$1"
		sed 's/^/# /' $out
	fi
}

# guest_expect DESC REASON "FAST STOCK" ARGS...: guest(), then expect();
# a failed run fails the point.
guest_expect() {
	desc=$1 reason=$2 split=$3
	shift 3
	if guest "$@"; then
		expect "$desc" "$reason" "$split"
	else
		ktap_fail "$desc"
	fi
}

# debug_exits: the KVM_EXIT_DEBUG count userspace saw in the last guest().
debug_exits() {
	awk '$1 == "KVM_EXIT_DEBUG" { print $2; found = 1 }
	     END { if (!found) print 0 }' $out
}

# io_exits: the KVM_EXIT_IO count userspace saw in the last guest().
io_exits() {
	awk '$1 == "KVM_EXIT_IO" { print $2 }' $out
}

reset_all() {
	echo clear >$D/rules
	for h in io cpuid hlt ept; do echo "disable $h" >$D/handlers; done
}
reset_all

# --- HLT with an interrupt pending (in-kernel APIC, IF=1)
# KVM 6.12 and later complete every HLT in their own fast path, inside
# vcpu_run: the hook never dispatches those (nothing is done twice).  On
# SVM without NRIPS neither KVM's fast path nor the handlers get them.
n=50
if [ "$all_lengths" != 1 ]; then
	kvm_hlt_fast=1
	ktap_diag "no next RIP for HLT here ($no_lengths_why): KVM keeps every HLT"
elif grep -qw handle_fastpath_hlt /proc/kallsyms; then
	kvm_hlt_fast=1
	ktap_diag "this KVM completes HLT in its own fast path (handle_fastpath_hlt)"
else
	kvm_hlt_fast=0
fi
irq_ok() {	# the guest's interrupt count, and nothing in userspace but its report
	[ "$urc" = 0 ] && grep -Eq "^vCPU 0 irq vector 0x40 taken=$n( early=[0-9]+)?\$" $out &&
		irq_early_ok "$(sed -n 's/^vCPU 0 irq .* early=//p' $out)"
}
guest_expect "irq-hlt, hlt off: stock KVM takes every HLT" $R_HLT "0 $n" \
	--mode long --irqchip irq-hlt $n
irq_ok && ktap_ok "irq-hlt, hlt off: the guest takes its $n interrupts" ||
	ktap_fail "irq-hlt, hlt off: the guest takes its $n interrupts"
echo "enable hlt" >$D/handlers
# hlt_on MODE: irq-hlt with the handler on.  Its HLTs are the handler's,
# or KVM's where KVM keeps them (above); the guest must take each
# interrupt right after its HLT either way.
hlt_on() {
	if [ $kvm_hlt_fast -eq 1 ]; then
		guest_expect "irq-hlt in $1 mode, hlt on: KVM keeps every HLT" \
			$R_HLT "0 $n" --mode $1 --irqchip irq-hlt $n
	else
		guest_expect "irq-hlt in $1 mode, hlt on: the handler completes every HLT" \
			$R_HLT "$n 0" --mode $1 --irqchip irq-hlt $n
	fi
	irq_ok && ktap_ok "irq-hlt in $1 mode, hlt on: the guest takes each interrupt right after its HLT" ||
		ktap_fail "irq-hlt in $1 mode, hlt on: the guest takes each interrupt right after its HLT"
}
hlt_on long
hlt_on prot
# A HLT that would wait (IF=0, nothing pending): the handler runs KVM's
# own halt emulation, which halts the vCPU; kfp-run must wake it, as with
# stock KVM.
if [ $kvm_hlt_fast -eq 1 ]; then
	guest_expect "hlt on: a HLT that would wait (IF=0, nothing pending) is KVM's here" \
		$R_HLT "0 20" --irqchip hlt 20
else
	guest_expect "hlt on: a HLT that would wait halts the vCPU as KVM would, until woken" \
		$R_HLT "20 0" --irqchip hlt 20
fi
echo "disable hlt" >$D/handlers

# --- a single-stepping guest (KVM_GUESTDBG_SINGLESTEP): every exit is
# KVM's, and userspace gets a KVM_EXIT_DEBUG for every instruction.
n=20
add io ports=0x510 dir=out size=1 action=sink >/dev/null
add cpuid leaf=0 eax=0xd ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69 >/dev/null
guest --mode long --out $n --cpuid $n
expect "baseline, io off: OUTs are stock" $R_IO "0 $((n + 2))"
for h in io cpuid; do echo "enable $h" >$D/handlers; done
guest --mode long --out $n --cpuid $n
expect "control: without single-step the sink rule takes the OUTs" $R_IO "$n 2"
expect "control: without single-step the cpuid handler takes the CPUIDs ($(fast_split $n | cut -d' ' -f1))" $R_CPUID "$(fast_split $n)"
for h in io cpuid; do echo "disable $h" >$D/handlers; done
steps_off=0
guest --mode long --single-step --out $n --cpuid $n && steps_off=$(debug_exits)
for h in io cpuid; do echo "enable $h" >$D/handlers; done
steps_on=-1
guest --mode long --single-step --out $n --cpuid $n && steps_on=$(debug_exits)
ktap_diag "KVM_EXIT_DEBUG: stock $steps_off, io and cpuid on $steps_on"
if [ "$steps_off" -gt $((3 * 2 * n)) ] && [ "$steps_on" = "$steps_off" ]; then
	ktap_ok "single-step, io and cpuid on: a KVM_EXIT_DEBUG for every instruction, as stock"
else
	ktap_fail "single-step, io and cpuid on: a KVM_EXIT_DEBUG for every instruction, as stock"
fi
in_userspace "single-step, io on: userspace still gets all $n OUTs"
expect "single-step, io on: OUTs matching a sink rule are stock" \
	$R_IO "0 $((n + 2))"
expect "single-step, cpuid on: every CPUID is stock" $R_CPUID "0 $n"
reset_all

# --- KVM selftests' ucall port 0x1000
n=30
before=$(cat $D/rules)
bad=""
for r in "io ports=0x1000 dir=out size=1 action=sink" \
	 "io ports=0x0fff-0x1001 dir=out size=1 action=sink" \
	 "io ports=0x1000 dir=in size=1 action=const value=0"; do
	echo "$r" >$D/rules 2>/dev/null && bad="$bad [$r]"
done
if [ -z "$bad" ] && [ "$(cat $D/rules)" = "$before" ]; then
	ktap_ok "io rules covering port 0x1000 are refused"
else
	ktap_fail "io rules covering port 0x1000 are refused"
	ktap_diag "accepted:$bad"
fi
add io ports=0x0fff dir=out size=1 action=sink >/dev/null
add io ports=0x1001 dir=out size=1 action=sink >/dev/null
echo "enable io" >$D/handlers
guest_expect "control: OUTs to port 0x0fff, below 0x1000, are sunk" \
	$R_IO "$n 2" --mode long --port 0x0fff io-out $n
guest_expect "OUTs to port 0x1000 are stock, io on" \
	$R_IO "0 $((n + 2))" --mode long --port 0x1000 io-out $n
in_userspace "OUTs to port 0x1000 all reach userspace, io on"
guest_expect "control: OUTs to port 0x1001, above 0x1000, are sunk" \
	$R_IO "$n 2" --mode long --port 0x1001 io-out $n
reset_all

# --- KVM's devices win: a rule never takes an access that KVM gives to
# a device of the VM (kvm_io_bus_write(): the in-kernel PIC and ELCR of
# --irqchip, the PIT of --pit, an ioeventfd, a coalesced PIO zone), even
# with the handler on and the rule matching.
n=40
pic=$(add io ports=0x21 dir=out size=1 action=sink)
elcr=$(add io ports=0x4d0 dir=out size=1 action=sink)
pit=$(add io ports=0x61 dir=out size=1 action=sink)
work=$(add io ports=0x510 dir=out size=1 action=sink)
echo "enable io" >$D/handlers
guest_expect "OUTs to the in-kernel PIC (port 0x21, --irqchip) are KVM's, io on and a rule matching" \
	$R_IO "0 $((n + 2))" --mode long --irqchip --port 0x21 io-out $n
guest_expect "OUTs to the in-kernel ELCR (port 0x4d0, --irqchip) are KVM's, io on and a rule matching" \
	$R_IO "0 $((n + 2))" --mode prot --irqchip --port 0x4d0 io-out $n
guest_expect "OUTs to the in-kernel PIT (port 0x61, --irqchip --pit) are KVM's, io on and a rule matching" \
	$R_IO "0 $((n + 2))" --mode long --irqchip --pit --port 0x61 io-out $n
guest_expect "OUTs to a port with an ioeventfd are KVM's, io on and a rule matching" \
	$R_IO "0 $((n + 2))" --mode long --ioeventfd io-out $n
# kfp-run fails unless the eventfd counted every OUT, none in userspace.
ktap_diag "$(grep 'ioeventfd signals' $out)"
in_userspace "the ioeventfd is signalled once for every OUT"
if [ "$(hits "$pic") $(hits "$elcr") $(hits "$pit") $(hits "$work")" = "0 0 0 0" ]; then
	ktap_ok "the rules on device ports never hit"
else
	ktap_fail "the rules on device ports never hit"
	ktap_diag "hits: pic $(hits "$pic"), elcr $(hits "$elcr"), pit $(hits "$pit"), 0x510 $(hits "$work")"
fi
guest_expect "OUTs to a port in a coalesced PIO zone are KVM's, io on and a rule matching" \
	$R_IO "0 $((n + 2))" --mode long --coalesced io-out $n
ktap_diag "$(grep 'coalesced ring' $out)"
in_userspace "the coalesced ring holds every OUT"
guest_expect "control: the same port without the ioeventfd is sunk" \
	$R_IO "$n 2" --mode long io-out $n
reset_all
# The same for a doorbell on an MMIO address with an ioeventfd.  On SVM
# no doorbell write is ever fast (doorbell_split), so nothing to show.
bell=$(add doorbell gpa=0xd0000 len=0x1000)
echo "enable ept" >$D/handlers
if [ "$(doorbell_split 1)" = "0 1" ]; then
	ktap_skip "writes to a doorbell with an ioeventfd are KVM's" "every nested page fault is KVM's on SVM"
	ktap_skip "the ioeventfd is signalled once for every doorbell write" "every nested page fault is KVM's on SVM"
elif guest --mode long --ioeventfd mmio $n; then
	ktap_diag "$R_NPF fast $(col $R_NPF fast), doorbell hits $(hits "$bell"); $(grep 'ioeventfd signals' $out)"
	ktap_check "writes to a doorbell with an ioeventfd are KVM's, ept on and a rule matching" \
		test "$(col $R_NPF fast) $(hits "$bell")" = "0 0"
	in_userspace "the ioeventfd is signalled once for every doorbell write"
else
	ktap_fail "writes to a doorbell with an ioeventfd are KVM's, ept on and a rule matching"
	ktap_fail "the ioeventfd is signalled once for every doorbell write"
fi
f=$(doorbell_split $n | cut -d' ' -f1)
if guest --mode long mmio $n; then
	ktap_check "control: the same doorbell without the ioeventfd takes $f of $n writes" \
		test "$(col $R_NPF fast) $(hits "$bell")" = "$f $f"
else
	ktap_fail "control: the same doorbell without the ioeventfd takes $f of $n writes"
fi
reset_all

# --- string and REP I/O on a port with matching rules
n=20
add io ports=0x510 dir=out size=1 action=sink >/dev/null
so=$(add io ports=0x513 dir=out size=1 action=sink)
si=$(add io ports=0x513 dir=in size=1 action=const value=0x5a)
for mode in long real; do
	stock=missing
	guest --mode $mode --out $n --str $n && stock=$(col $R_IO stock)
	ktap_diag "$mode mode, io off: $stock IO exits, userspace saw $(io_exits)"
	echo "enable io" >$D/handlers
	if guest --mode $mode --out $n --str $n; then
		# kfp-run's rows: seen, expected; the guest checked the INS bytes.
		got=$(awk '/^  (OUTS|INS) bytes/ { printf "%s %s ", $(NF - 1), $NF }' $out)
		ktap_diag "OUTS and INS bytes, seen and expected: $got"
		if [ "$got" = "$((2 * n)) $((2 * n)) $((2 * n)) $((2 * n)) " ]; then
			ktap_ok "$mode mode, io on: every OUTSB, REP OUTSB, INSB and REP INSB byte reaches userspace"
		else
			ktap_fail "$mode mode, io on: every OUTSB, REP OUTSB, INSB and REP INSB byte reaches userspace"
		fi
		expect "$mode mode, io on: string I/O is stock, plain OUTs in the same run are sunk" \
			$R_IO "$n $((stock - n))"
	else
		ktap_fail "$mode mode, io on: every OUTSB, REP OUTSB, INSB and REP INSB byte reaches userspace"
		ktap_fail "$mode mode, io on: string I/O is stock, plain OUTs in the same run are sunk"
	fi
	echo "disable io" >$D/handlers
done
if [ "$(hits "$so") $(hits "$si")" = "0 0" ]; then
	ktap_ok "the rules on the string port never hit"
else
	ktap_fail "the rules on the string port never hit"
	ktap_diag "hits: out $(hits "$so"), in $(hits "$si")"
fi
reset_all

# --- nested VMX: an L2's exits are its L1's business, never fast
n=30
nested=$(cat /sys/module/kvm_intel/parameters/nested 2>/dev/null)
# l2_all skip REASON | fail: all three points at once.
l2_all() {
	for d in "l2-cpuid, cpuid on: L2's CPUID exits are all stock" \
		 "l2-cpuid: every one is counted in the l2 column" \
		 "l2-cpuid: L1 takes every CPUID exit of its L2"; do
		if [ "$1" = skip ]; then ktap_skip "$d" "$2"; else ktap_fail "$d"; fi
	done
}
if ! grep -q '^vendor: vmx$' $D/info; then
	l2_all skip "l2-cpuid's L1 is a VMX hypervisor (nested_test.sh covers SVM)"
elif [ "$nested" != Y ] && [ "$nested" != 1 ]; then
	l2_all skip "kvm_intel nested=${nested:-unknown}"
else
	# A rule for L2's leaf (0): only the L2 check keeps it from L2.
	l2rule=$(add cpuid leaf=0 eax=0xd ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69)
	echo "enable cpuid" >$D/handlers
	if guest --mode long l2-cpuid $n; then
		expect "l2-cpuid, cpuid on: L2's CPUID exits are all stock" $R_CPUID "0 $n"
		got=$(col $R_CPUID l2)
		ktap_diag "CPUID l2 column: expected $n got $got"
		[ "$got" = $n ] && ktap_ok "l2-cpuid: every one is counted in the l2 column" ||
			ktap_fail "l2-cpuid: every one is counted in the l2 column"
		[ "$urc" = 0 ] && grep -q "^vCPU 0 l2 cpuid exits taken by L1=$n\$" $out &&
			ktap_ok "l2-cpuid: L1 takes every CPUID exit of its L2" ||
			ktap_fail "l2-cpuid: L1 takes every CPUID exit of its L2"
	else
		l2_all fail
	fi
	echo "disable cpuid" >$D/handlers
	echo "del $l2rule" >$D/rules
fi

# --- the kvm_fastpath tracepoint
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs nodev $T 2>/dev/null
[ -d $T/events ] || T=/sys/kernel/debug/tracing
E=$T/events/kvm_fastpath/kvm_fastpath
# events PATTERN: trace lines of the event that end in PATTERN.
events() {
	grep -c "kvm_fastpath: $1\$" $trace
}
# traced ARGS...: guest() with the event on; the trace goes to $trace.
traced() {
	: >$T/trace
	echo 1 >$E/enable
	guest "$@"
	rc=$?
	echo 0 >$E/enable
	cat $T/trace >$trace
	return $rc
}
if [ ! -d $T/events ]; then
	for d in "the kvm_fastpath event and its fields are in tracefs" \
		 "io and cpuid on, 2 vCPUs: one event per fast exit" \
		 "each event names its vCPU, reason, port or leaf, and verdict" \
		 "stock exits make no event" \
		 "a HLT the handler completes is traced with verdict done"; do
		ktap_skip "$d" "no tracefs in this kernel"
	done
else
	fields=0
	for f in "unsigned int vcpu_id" "u32 reason" "int verdict" "u64 info"; do
		grep -q "field:$f;" $E/format 2>/dev/null && fields=$((fields + 1))
	done
	[ $fields -eq 4 ] && ktap_ok "the kvm_fastpath event and its fields are in tracefs" ||
		ktap_fail "the kvm_fastpath event and its fields are in tracefs"

	io=$(awk '$3 == "io" { print $1 }' $D/handlers)
	cpuid=$(awk '$3 == "cpuid" { print $1 }' $D/handlers)
	hlt=$(awk '$3 == "hlt" { print $1 }' $D/handlers)
	n=40
	m=25
	add io ports=0x510 dir=out size=1 action=sink >/dev/null
	add cpuid leaf=7 eax=0 ebx=0 ecx=0 edx=0 >/dev/null
	for h in io cpuid; do echo "enable $h" >$D/handlers; done
	# CPUIDs the handler is given (fast_split): all, or none.
	mf=$(fast_split $m | cut -d' ' -f1)
	traced --mode long --vcpus 2 --out $n --cpuid $m --cpuid-leaf 7
	all=$(events '.*')
	fast=$(($(col $R_IO fast) + $(col $R_CPUID fast)))
	ktap_diag "events $all, fast exits $fast, expected $((2 * (n + mf)))"
	[ "$all" = $((2 * (n + mf))) ] && [ "$fast" = "$all" ] &&
		ktap_ok "io and cpuid on, 2 vCPUs: one event per fast exit" ||
		ktap_fail "io and cpuid on, 2 vCPUs: one event per fast exit"
	got=""
	for v in 0 1; do
		got="$got $(events "vcpu $v reason $io info 0x510 reenter")"
		got="$got $(events "vcpu $v reason $cpuid info 0x7 reenter")"
	done
	ktap_diag "per vCPU, OUT and CPUID events:$got"
	[ "$got" = " $n $mf $n $mf" ] &&
		ktap_ok "each event names its vCPU, reason, port or leaf, and verdict" ||
		ktap_fail "each event names its vCPU, reason, port or leaf, and verdict"
	for h in io cpuid; do echo "disable $h" >$D/handlers; done
	traced --mode long --vcpus 2 --out $n --cpuid $m --cpuid-leaf 7
	all=$(events '.*')
	[ "$all" = 0 ] && ktap_ok "stock exits make no event" ||
		{ ktap_fail "stock exits make no event"; ktap_diag "$all events"; }
	if [ $kvm_hlt_fast -eq 1 ]; then
		ktap_skip "a HLT the handler completes is traced with verdict done" \
			"the handler is given no HLT here (see the HLT points)"
	else
		echo "enable hlt" >$D/handlers
		traced --mode long --irqchip irq-hlt 10
		got=$(events "vcpu 0 reason $hlt info 0x0 done")
		all=$(events '.*')
		ktap_diag "HLT done events $got of $all"
		[ "$got" = 10 ] && [ "$all" = 10 ] &&
			ktap_ok "a HLT the handler completes is traced with verdict done" ||
			ktap_fail "a HLT the handler completes is traced with verdict done"
	fi
fi

reset_all
rm -f $out $trace
ktap_finish
