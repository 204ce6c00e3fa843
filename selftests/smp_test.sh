#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Two CPUs: vCPU threads on one CPU while the other switches handlers,
# changes rules, resets counters and unloads the module; capture from two
# vCPUs of one VM and from two VMs at once.  Every exit is accounted for:
# what the module says it completed plus what userspace saw equals what
# the guests made; every other load of those times exits (timing=1).
# Run with kvm_fastpath loaded (after fastpath_test);
# it is loaded, with no rules and no handler on, when this ends.
#
#   KFP_SMP_CYCLES=N   load/unload cycles under load (default 100)
#   KFP_SMP_STRESS=N   OUTs of the stress guest (default 200000)
#   KFP_SMP_OUTS=N     OUTs per vCPU of the other guests (default 20000;
#                      a quarter of it in the unload cycles' guests)
#   KFP_SMP_RULES=N    sink rules added and deleted under load (default
#                      100; each deletion waits for an RCU grace period)
#
# The emulated Bochs machines take minutes per 100000 OUTs that reach
# userspace: tools/check.sh makes these smaller there.
cd "$(dirname "$0")" || exit 1
. ./ktap.sh
. ./kfp_lib.sh
run=./kfp-run
[ -x "$run" ] || run=../tools/kfp-run/kfp-run
out=/tmp/kfp-smp.$$
cycles=${KFP_SMP_CYCLES:-100}
stress=${KFP_SMP_STRESS:-200000}
outs=${KFP_SMP_OUTS:-20000}
rules=${KFP_SMP_RULES:-100}
plan=12

ktap_plan $plan
[ -w $D/rules ] || skip_all $plan "kvm_fastpath not loaded (no $D/rules)"
[ "$(nproc)" -ge 2 ] || skip_all $plan "one CPU here; these tests need two (tools/emu/run.sh --cpus 2)"
[ -f $ko ] || skip_all $plan "no $ko to reload"

# This shell and what it runs directly stay on CPU 0; guests go to CPU 1
# (or anywhere, for two vCPUs or two VMs).
taskset -p -c 0 $$ >/dev/null

# took WHAT: how long the section since the last call took (guest time).
t0=$(date +%s)
took() {
	t1=$(date +%s)
	ktap_diag "$1 took $((t1 - t0)) s"
	t0=$t1
}

# json_out FILE: the OUTs to the work port userspace saw, in total.
json_out() {
	sed -n 's/^    "io": {"out": \([0-9]*\),.*/\1/p' "$1" | head -n 1
}

# guest_ok FILE: kfp-run's guest finished (its own exit check may fail
# where a handler took exits: that is the point here).
guest_ok() {
	grep -q '"version": 1' "$1" && ! grep -qE 'guest reported status|cannot|error' "$1"
}

quiet_state

# --- the stress of the issue that found the two-CPU SVM Oops: a long-mode
# guest making 200000 OUTs (KFP_SMP_STRESS) on CPU 1 while CPU 0
# switches a handler, and with it the dispatch static branch the guest's
# CPU runs, 300 times.
taskset -c 1 $run --mode long --json io-out $stress >$out.1 2>&1 &
g=$!
i=0
bad=0
while [ $i -lt 300 ]; do
	echo "enable cpuid" >$D/handlers || bad=1
	echo "disable cpuid" >$D/handlers || bad=1
	i=$((i + 1))
done
kill -0 $g 2>/dev/null && ktap_diag "the guest was still running after the 300 switches"
wait $g
rc=$?
ktap_diag "kfp-run rc=$rc, OUTs seen by userspace: $(json_out $out.1)"
if [ $rc -eq 0 ] && [ $bad -eq 0 ] && [ "$(json_out $out.1)" = "$stress" ]; then
	ktap_ok "$stress OUTs on CPU 1 while cpuid is switched 300 times on CPU 0: all reach userspace"
else
	sed 's/^/# /' $out.1 | tail -n 20
	ktap_fail "$stress OUTs on CPU 1 while cpuid is switched 300 times on CPU 0: all reach userspace"
fi
expect "and every one is counted, as stock" $R_IO "0 $((stress + 2))"
took "the stress"

# --- a sink rule with the io handler switched 300 times under two vCPUs:
# each OUT is either completed by the handler (counted fast) or seen by
# userspace, never lost or doubled.
quiet_state
add io ports=0x510 dir=out size=1 action=sink >/dev/null
n=$outs
$run --mode long --vcpus 2 --json io-out $n >$out.2 2>&1 &
g=$!
i=0
while [ $i -lt 300 ]; do
	echo "enable io" >$D/handlers
	echo "disable io" >$D/handlers
	i=$((i + 1))
done
wait $g
fast=$(col $R_IO fast)
seen=$(json_out $out.2)
ktap_diag "OUTs: $fast completed by the handler + ${seen:-?} seen by userspace, of $((2 * n))"
if guest_ok $out.2 && [ $((fast + ${seen:-0})) -eq $((2 * n)) ]; then
	ktap_ok "io switched 300 times under two vCPUs: every OUT accounted for"
else
	ktap_fail "io switched 300 times under two vCPUs: every OUT accounted for"
fi
took "switching io"

# --- the same with the rule added and deleted instead, handler on
quiet_state
echo "enable io" >$D/handlers
$run --mode long --vcpus 2 --json io-out $n >$out.3 2>&1 &
g=$!
i=0
while [ $i -lt "$rules" ]; do
	id=$(add io ports=0x510 dir=out size=1 action=sink)
	echo "del $id" >$D/rules
	i=$((i + 1))
done
wait $g
fast=$(col $R_IO fast)
seen=$(json_out $out.3)
ktap_diag "OUTs: $fast completed by the rule + ${seen:-?} seen by userspace, of $((2 * n))"
if guest_ok $out.3 && [ $((fast + ${seen:-0})) -eq $((2 * n)) ]; then
	ktap_ok "a sink rule added and deleted $rules times under two vCPUs: every OUT accounted for"
else
	ktap_fail "a sink rule added and deleted $rules times under two vCPUs: every OUT accounted for"
fi
took "adding and deleting rules"

# --- counter resets while exits run: every reading is consistent
# (exits = fast + stock) and never more than the guest could have made.
quiet_state
add io ports=0x510 dir=out size=1 action=sink >/dev/null
echo "enable io" >$D/handlers
$run --mode long --vcpus 2 --json io-out $n >$out.4 2>&1 &
g=$!
i=0
bad=
while [ $i -lt 100 ]; do
	echo reset >$D/exits
	set -- $(col $R_IO exits) $(col $R_IO fast) $(col $R_IO stock)
	# Three reads: the later ones may only have grown.
	if [ "$1" -gt $((2 * n + 4)) ] || [ "$2" -gt $((2 * n)) ] || [ "$3" -gt $((2 * n + 4)) ]; then
		bad="$bad [exits=$1 fast=$2 stock=$3]"
	fi
	i=$((i + 1))
done
wait $g
set -- $(awk -v r=$R_IO '$2 == r { print $3, $4, $5 }' $D/exits)
[ "$1" = $(($2 + $3)) ] || bad="$bad [one read: exits=$1 fast=$2 stock=$3]"
[ -z "$bad" ] || ktap_diag "readings out of range:$bad"
if [ -z "$bad" ] && guest_ok $out.4; then
	ktap_ok "100 counter resets under two vCPUs: every reading in range"
else
	ktap_fail "100 counter resets under two vCPUs: every reading in range"
fi
echo reset >$D/exits
$run --out 100 --json >$out.4 2>&1
expect "counts after the resets are exact again" $R_IO "100 2"
took "resets"

# --- capture from two vCPUs of one VM, then from two VMs at once
quiet_state
add io ports=0x510 dir=out size=1 action=capture >/dev/null
echo "enable io" >$D/handlers
$run --vcpus 2 --out 1000 --json >$out.5 2>&1
grep '^# vm=' $D/capture | sed 's/^/# /'
ktap_check "capture from two vCPUs of one VM: one buffer of 2000 bytes" \
	test "$(grep -c '^# vm=[0-9-]* pid=[0-9]* bytes=2000 ended$' $D/capture)/$(grep -c '^# vm=' $D/capture)" = 1/1
echo clear >$D/capture
taskset -c 0 $run --out 1000 --json >$out.6 2>&1 &
g0=$!
taskset -c 1 $run --out 1000 --json >$out.7 2>&1 &
g1=$!
wait $g0 $g1
grep '^# vm=' $D/capture | sed 's/^/# /'
ktap_check "capture from two VMs at once: a buffer of 1000 bytes for each pid" \
	test "$(grep -c "^# vm=[0-9-]* pid=\($g0\|$g1\) bytes=1000 ended$" $D/capture)/$(grep -c '^# vm=' $D/capture)" = 2/2
took "capture"
quiet_state

# --- unload under load: two VMs of two vCPUs each make OUTs, a sink rule
# takes them while the module is loaded; the module is unloaded and loaded
# again $cycles times.  Each unload logs what the module completed since
# its load; with userspace's counts that must add up to every OUT made.
rmmod kvm_fastpath && insmod $ko &&
	echo "io ports=0x510 dir=out size=1 action=sink" >$D/rules &&
	echo "enable io" >$D/handlers
bad=$?
dmesg -c >/dev/null	# the counts of the tests above are logged no more
n=$((outs / 4))
made=0
seen=0
runs=0
start_vm() {	# start_vm SLOT
	$run --mode long --vcpus 2 --json io-out $n >$out.vm$1 2>&1 &
	eval "vm$1=$!"
}
end_vm() {	# end_vm SLOT: collect a finished VM's counts
	eval "wait \$vm$1"
	guest_ok $out.vm$1 || { bad=1; sed 's/^/# /' $out.vm$1 | tail -n 5; }
	made=$((made + 2 * n))
	v=$(json_out $out.vm$1)
	seen=$((seen + ${v:-0}))
	runs=$((runs + 1))
}
# keep_vms: a VM that has ended is counted and started again.
keep_vms() {
	for s in 0 1; do
		eval "kill -0 \$vm$s" 2>/dev/null || { end_vm $s; start_vm $s; }
	done
}
start_vm 0
start_vm 1
# Every other load times exits (timing=1): unloading with timing on, its
# IPI reads and resets under load.  Before each such unload, the timing
# table must hold the VMs' OUTs.
timed=0
timed_ok=0
c=0
while [ $c -lt "$cycles" ]; do
	if [ $((c % 2)) = 0 ] && [ $c -gt 0 ]; then
		# A VM may have just been restarted and made no OUT yet, or
		# both may have ended: give the guests up to 5 s to make one,
		# starting again any that ends meanwhile.
		timed=$((timed + 1))
		w=0
		until awk -v r=$R_IO '$2 == r && $4 > 0' $D/timing | grep -q . ||
			[ $w -ge 50 ]; do
			keep_vms
			sleep 0.1
			w=$((w + 1))
		done
		[ $w -lt 50 ] && echo reset >$D/timing && timed_ok=$((timed_ok + 1))
	fi
	rmmod kvm_fastpath || bad=1
	if [ $((c % 2)) = 1 ]; then
		insmod $ko timing=1 || bad=1
	else
		insmod $ko || bad=1
	fi
	echo "io ports=0x510 dir=out size=1 action=sink" >$D/rules || bad=1
	echo "enable io" >$D/handlers || bad=1
	keep_vms
	c=$((c + 1))
done
end_vm 0
end_vm 1
rmmod kvm_fastpath || bad=1
insmod $ko || bad=1
took "$cycles load/unload cycles"
fast=$(dmesg | sed -n 's/.*kvm_fastpath: [0-9]* exits since load: \([0-9]*\) completed by handlers.*/\1/p' |
	awk '{ s += $1 } END { print s + 0 }')
unloads=$(dmesg | grep -c 'kvm_fastpath: [0-9]* exits since load')
ktap_diag "$unloads unloads, $runs VMs: $fast OUTs completed by the module + $seen seen by userspace, of $made"
ktap_check "$cycles load/unload cycles under two VMs of two vCPUs: every unload clean" \
	test $bad = 0 -a "$unloads" = $((cycles + 1))
ktap_check "and every OUT accounted for (module + userspace = made)" \
	test $((fast + seen)) = $made
ktap_check "the handler took part (some OUTs completed by it, some by userspace)" \
	test "$fast" -gt 0 -a "$seen" -gt 0
ktap_diag "$timed_ok of the $timed loads with timing=1 had timed the OUTs when unloaded"
ktap_check "loads with timing=1 timed the VMs' OUTs and unloaded clean" \
	test "$timed" -gt 0 -a "$timed_ok" = "$timed"
rm -f $out.*
quiet_state
ktap_finish
