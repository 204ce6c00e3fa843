#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# BPF handlers (kfp_bpf_ops, module/kfp_bpf.c), with kvm_fastpath loaded:
# the example programs give exactly the built-in handlers' results and
# counts; the ping port answers from its map; programs the verifier must
# refuse are refused with its message; an exit no program may take is
# refused at attach; a program for one VM leaves the others alone;
# detaching while two vCPUs make OUTs loses none; the module stays while
# a program is attached.  Skips where the kernel cannot take BPF
# handlers (before 6.9, or no module BTF) or kfp-bpf is not built.
cd "$(dirname "$0")" || exit 1
. ./ktap.sh
. ./kfp_lib.sh
run=./kfp-run
[ -x "$run" ] || run=../tools/kfp-run/kfp-run
bpf=./kfp-bpf
[ -x "$bpf" ] || bpf=../tools/kfp-bpf/kfp-bpf
# The programs: beside this script, or where tools/kfp-bpf builds them.
prog() {
	for p in ./$1.bpf.o ../tools/kfp-bpf/examples/$1.bpf.o ./bpf/$1.bpf.o; do
		[ -f "$p" ] && { echo "$p"; return; }
	done
	echo "./$1.bpf.o"
}
tmp=/tmp/kfp-bpf.$$
n=300
plan=19

ktap_plan $plan
[ -w $D/rules ] || skip_all $plan "kvm_fastpath not loaded (no $D/rules)"
if ! grep -q '^bpf: yes' $D/info; then
	why=$(sed -n 's/^bpf: no: //p' $D/info)
	skip_all $plan "no BPF handlers: ${why:-debugfs info does not say}"
fi
[ -x "$bpf" ] && [ -f "$(prog io_sink)" ] ||
	skip_all $plan "kfp-bpf and its programs are not built (make bpf)"
mkdir -p $tmp
quiet_state

# outs FILE: the OUTs userspace saw, from kfp-run --json.
outs() {
	sed -n 's/^    "io": {"out": \([0-9]*\),.*/\1/p' "$1" | head -n 1
}

# --- the IO sink: built in, then in BPF, the same guest each time
echo "io ports=0x510 dir=out size=1 action=sink" >$D/rules
echo "enable io" >$D/handlers
$run --out $n --json >$tmp/builtin 2>&1
builtin="$(col $R_IO fast) $(col $R_IO stock) $(outs $tmp/builtin)"
quiet_state
$bpf load "$(prog io_sink)" >$tmp/load 2>&1
rc=$?
sed 's/^/# /' $tmp/load
ktap_check "kfp-bpf loads the io_sink example" test $rc = 0
ktap_check "it is the io handler, bpf:io_sink, for every VM" sh -c \
	"grep -q ' bpf:io_sink enabled kvm_fastpath all$' $D/handlers"
$run --out $n --json >$tmp/bpf 2>&1
got="$(col $R_IO fast) $(col $R_IO stock) $(outs $tmp/bpf)"
ktap_diag "fast stock seen-by-userspace: built-in $builtin, BPF $got"
ktap_check "the BPF sink: the built-in sink's counts and userspace view" \
	test "$got" = "$builtin" -a "$got" = "$n 2 0"
echo reset >$D/exits
$run --port 0x530 --json io-out $n >$tmp/other 2>&1
ktap_diag "port 0x530: fast $(col $R_IO fast), seen by userspace $(outs $tmp/other)"
ktap_check "an OUT to another port goes to KVM and userspace" \
	test "$(col $R_IO fast) $(outs $tmp/other)" = "0 $n"

# --- the module stays while a program is attached
if rmmod kvm_fastpath 2>/dev/null; then
	ktap_fail "kvm_fastpath cannot unload while a program is attached"
	insmod "$ko"
else
	ktap_ok "kvm_fastpath cannot unload while a program is attached"
fi
$bpf unload io_sink >/dev/null
ktap_check "kfp-bpf unload detaches it: the built-in io is back, disabled" sh -c \
	"grep -q ' $R_IO io disabled builtin -$' $D/handlers && ! grep -q bpf: $D/handlers"

# A program that sets registers and passes: the guest as it was, so
# userspace sees every OUT and the guest's own checks hold.
$bpf load "$(prog set_then_pass)" >$tmp/load 2>&1 && loaded=0 || loaded=$?
sed 's/^/# /' $tmp/load
echo reset >$D/exits
$run --out $n --json >$tmp/stp 2>&1 && rc=0 || rc=$?
$bpf unload set_then_pass >/dev/null
ktap_check "a program that sets RSI and RDI and passes leaves them as they were" \
	test "$loaded $rc $(outs $tmp/stp) $(col $R_IO fast)" = "0 0 $n 0"

echo "enable io" >$D/handlers
$bpf load "$(prog io_sink)" >$tmp/busy 2>&1 && rc=0 || rc=$?
echo "disable io" >$D/handlers
ktap_check "with the built-in io enabled, attaching is refused, with the reason" sh -c \
	"[ $rc = 1 ] && grep -q 'Device or resource busy' $tmp/busy &&
	 dmesg | grep -q 'handler bpf:io_sink: exit $R_IO has the built-in io enabled; disable it first'"

# --- CPUID: the override rule, then the program; another leaf is KVM's
cpuid_regs() {	# cpuid_regs LEAF: the registers the guest read
	"$run" --mode long --cpuid 3 --cpuid-leaf "$1" 2>&1 |
		sed -n 's/^vCPU 0 cpuid [^:]*: //p'
}
stock_other=$(cpuid_regs 0x40000001)
echo "cpuid leaf=0x40000000 eax=0x4000abcd ebx=0x4b504641 ecx=0x12345678 edx=0x9abcdef0" >$D/rules
echo "enable cpuid" >$D/handlers
builtin=$(cpuid_regs 0x40000000)
quiet_state
$bpf load "$(prog cpuid)" >/dev/null 2>&1
got=$(cpuid_regs 0x40000000)
other=$(cpuid_regs 0x40000001)
$bpf unload cpuid >/dev/null
ktap_diag "leaf 0x40000000: built-in $builtin; BPF $got"
if no_lengths "the BPF cpuid: the built-in override's registers"; then :
else
	ktap_check "the BPF cpuid: the built-in override's registers" \
		test -n "$got" -a "$got" = "$builtin"
fi
ktap_check "the BPF cpuid leaves other leaves to KVM" test "$other" = "$stock_other"

# --- ping: an answer from a map, no built-in does that
$bpf load "$(prog ping)" >/dev/null 2>&1
echo reset >$D/exits
$run --guest ./ping_guest.bin >$tmp/ping 2>&1
rc=$?
$bpf unload ping >/dev/null
[ $rc = 0 ] || sed 's/^/# /' $tmp/ping
ktap_check "ping: 100 round trips answered from the map, in the fast path" \
	test $rc = 0 -a "$(col $R_IO fast)" = 200

# --- what the verifier and the module refuse
# refused_load NAME WHY PATTERN: kfp-bpf fails, the log says PATTERN.
refused_load() {
	$bpf load "$(prog "$1")" >$tmp/$1 2>&1 && rc=0 || rc=$?
	grep -E "$3" $tmp/$1 | head -n 2 | sed 's/^/# /'
	ktap_check "the verifier refuses $2" sh -c \
		"[ $rc = 1 ] && grep -Eq '$3' $tmp/$1 && ! grep -q bpf: $D/handlers"
}
refused_load loop "a loop it cannot see the end of" \
	"infinite loop|too large|too complex|back-edge"
refused_load write_exit "a write to the exit" "the exit is read-only"
refused_load past_exit "a read past the exit" "access beyond struct kfp_bpf_exit"
$bpf load "$(prog npf)" >$tmp/npf 2>&1 && rc=0 || rc=$?
ktap_check "a program for EPT violations is refused at attach, with the reason" sh -c \
	"[ $rc = 1 ] && dmesg | grep -q 'bpf: npf: kind 4 cannot take a BPF handler'"

# --- a loader whose fd names another program by the time the kernel
# looks again: the program run is the one the map holds, or the update
# is refused (module/kfp_bpf.c, init_member)
race=./kfp_bpf_race
[ -x $race ] || race=./bpf/kfp_bpf_race
$race "$(prog race)" "${KFP_BPF_RACE_MAPS:-300}" >$tmp/race 2>&1 && rc=0 || rc=$?
sed 's/^# //;s/^/# /' $tmp/race
ktap_check "a program swapped behind the loader's fd: the map's program is the one run" sh -c \
	"[ $rc = 0 ] && ! grep -q bpf: $D/handlers"

# --- one VM: the program takes its OUTs; the other VM's reach userspace
mkfifo $tmp/a.in
$run --pause --out $n --json <$tmp/a.in >$tmp/a.out 2>$tmp/a.err &
a=$!
exec 5>$tmp/a.in
i=0
while ! grep -q paused $tmp/a.err 2>/dev/null && [ $i -lt 3000 ]; do
	sleep 0.1
	i=$((i + 1))
done
$bpf load "$(prog io_sink)" --vm $a >$tmp/load 2>&1
sed 's/^/# /' $tmp/load
$run --out $n --json >$tmp/b.out 2>&1
echo >&5
exec 5>&-
wait $a
ktap_check "--vm PID: its VM's OUTs are taken, another VM's are not" \
	test "$(outs $tmp/a.out) $(outs $tmp/b.out)" = "0 $n"
$bpf unload io_sink >/dev/null

# --- detach and attach again while two vCPUs make OUTs: each OUT is
# completed by the program or seen by userspace, never both or neither
m=${KFP_BPF_OUTS:-20000}	# per vCPU; tools/check.sh makes it smaller in Bochs
echo reset >$D/exits
$run --vcpus 2 --out $m --json >$tmp/stress 2>&1 &
g=$!
cycles=0
while kill -0 $g 2>/dev/null && [ $cycles -lt 50 ]; do
	$bpf load "$(prog io_sink)" >/dev/null 2>&1
	$bpf unload io_sink >/dev/null 2>&1
	cycles=$((cycles + 1))
done
wait $g
fast=$(col $R_IO fast)
seen=$(outs $tmp/stress)
ktap_diag "$cycles attach/detach cycles: $fast OUTs completed by the program + ${seen:-?} seen by userspace, of $((2 * m))"
ktap_check "attach/detach under two vCPUs: every OUT accounted for" \
	test "$((fast + ${seen:-0}))" = $((2 * m))
ktap_check "and nothing is left attached" sh -c "! grep -q bpf: $D/handlers && [ -z \"\$($bpf list | grep -v '^#')\" ]"

rm -rf $tmp
quiet_state
ktap_finish
