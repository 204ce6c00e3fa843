#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Rules that name their VM (vm=PID or vm=PID-FD): with kvm_fastpath
# loaded (after fastpath_test), several VMs at once, two processes and
# one process with two VMs.  A rule for one VM leaves the others' exits
# to KVM and userspace, exactly; a VM that ends takes its rules with it,
# and a later VM gets none of them; bad selectors are refused and change
# nothing; unloading with a rule on a live VM leaves that VM to KVM.  It
# is loaded, with no rules and no handler on, when this ends.
cd "$(dirname "$0")" || exit 1
. ./ktap.sh
. ./kfp_lib.sh
run=./kfp-run
[ -x "$run" ] || run=../tools/kfp-run/kfp-run
stat=./kfp-stat
[ -x "$stat" ] || stat=../tools/kfp-stat/kfp-stat
tmp=/tmp/kfp-vm.$$
n=200		# OUTs per VM
plan=34

ktap_plan $plan
[ -w $D/rules ] || skip_all $plan "kvm_fastpath not loaded (no $D/rules)"
mkdir -p $tmp

# paused TAG ARGS...: kfp-run --pause ARGS in the background, its stdin
# the fifo $tmp/TAG.in held open here on fd 5 (TAG a) or 6 (TAG b); its
# output in $tmp/TAG.out and .err; waits until its VMs exist.  Sets
# TAG_pid and TAG_vms (their names, PID-FD).  The waits here poll every
# tenth of a second (busybox's sleep takes fractions): in the emulated
# machine kfp-run has its VMs in about that, and a whole second a poll
# was most of each wait.
paused() {
	tag=$1
	shift
	# The last run's output goes first: the loop below must not read
	# its "paused" before this run's kfp-run has opened (truncated) it.
	rm -f $tmp/$tag.out $tmp/$tag.err
	mkfifo $tmp/$tag.in
	# Not holding the other's fifo open: its end of input is its close.
	"$run" --pause "$@" <$tmp/$tag.in >$tmp/$tag.out 2>$tmp/$tag.err 5>&- 6>&- &
	eval "${tag}_pid=$!"
	if [ "$tag" = a ]; then exec 5>$tmp/$tag.in; else exec 6>$tmp/$tag.in; fi
	i=0
	while ! grep -q paused $tmp/$tag.err 2>/dev/null && [ $i -lt 3000 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	eval "${tag}_vms=\"$(sed -n 's/^kfp-run: vm //p' $tmp/$tag.err | tr '\n' ' ')\""
}

# ran TAG: let the paused kfp-run TAG run its guests, and wait until it
# did; its VMs stay until "go TAG".
ran() {
	if [ "$1" = a ]; then echo >&5; else echo >&6; fi
	i=0
	while ! grep -q 'kfp-run: ran' $tmp/$1.err 2>/dev/null && [ $i -lt 6000 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# go TAG: let the paused kfp-run TAG run (or close its VMs, after "ran
# TAG"); its exit status.
go() {
	if [ "$1" = a ]; then echo >&5; exec 5>&-; else echo >&6; exec 6>&-; fi
	eval "wait \$${1}_pid"
	st=$?
	rm -f $tmp/$1.in
	return $st
}

# show TAG: its output, as diagnostics.
show() {
	sed 's/^/# /' $tmp/$1.out $tmp/$1.err
}

quiet_state
echo "enable io" >$D/handlers

# --- bad selectors
paused a --out $n
vm=${a_vms% }
before=$(cat $D/rules)
bad=0
for sel in "" abc 12x 007 -1 "${a_pid}-" "-${a_pid}" "${a_pid}-x" "${a_pid}-1-2" \
	   0x10 99999999 1 $$ "${a_pid}-999" "${a_pid}-0${vm#*-}" "all vm=all"; do
	refused $D/rules "io ports=0x510 dir=out size=1 action=sink vm=$sel" || bad=1
done
refused $D/rules "cpuid leaf=0x40000100 eax=1 ebx=2 ecx=3 edx=4 vm=1" \
	"doorbell gpa=0xd0000 len=0x1000 vm=$$" || bad=1
[ "$(cat $D/rules)" = "$before" ] || bad=1
[ $bad -eq 0 ] && ktap_ok "bad VM selectors are refused and change nothing" ||
	ktap_fail "bad VM selectors are refused and change nothing"
ktap_check "a pid with no VM is refused as such" sh -c \
	"dmesg | grep -q 'vm=$$: no such VM (that process created none)'"
ktap_check "a malformed selector is refused as such" sh -c \
	"dmesg | grep -q 'vm=abc: want all, PID or PID-FD'"

# --- a rule with no selector applies to all VMs, and says so
r=$(add io ports=0x511 dir=out size=1 action=sink)
ktap_check "a rule with no vm= is shown as vm=all" sh -c "grep -q '^$r io .* vm=all hits=0$' $D/rules"
echo "del $r" >$D/rules

# --- two processes: a rule for one by its pid; the other is untouched
paused b --out $n
r=$(add io ports=0x510 dir=out size=1 action=sink vm=$a_pid)
ktap_diag "rules: $(grep "^$r " $D/rules)"
ktap_check "vm=PID names the process's VM by its PID-FD" sh -c \
	"grep -q '^$r io .* vm=$vm hits=0$' $D/rules"
echo reset >$D/exits
go a
go b && ok_b=1 || ok_b=0
show a
show b
expect "two processes: the rule takes exactly its VM's OUTs" $R_IO "$n $((n + 4))"
[ $ok_b = 1 ] && grep -q "^kfp-run: vm ${b_vms% }: ok$" $tmp/b.out &&
	ktap_ok "the other process's VM saw every exit in userspace" ||
	ktap_fail "the other process's VM saw every exit in userspace"
grep -q "^kfp-run: vm $vm: FAIL$" $tmp/a.err &&
	ktap_ok "the rule's VM saw none of its OUTs in userspace" ||
	ktap_fail "the rule's VM saw none of its OUTs in userspace"

# --- the VM ended: its rule went with it, and a later VM gets nothing
if grep -q "^$r " $D/rules; then
	ktap_fail "an ended VM's rule is gone"
else
	ktap_ok "an ended VM's rule is gone"
fi
ktap_check "its removal is logged, with the hits of its VM's OUTs only" sh -c \
	"dmesg | grep -q 'rule $r removed: its VM $vm ended (hits=$n)'"
echo reset >$D/exits
if "$run" --out $n >$tmp/c.out 2>&1; then
	ktap_ok "a later VM runs with every exit in userspace"
else
	sed 's/^/# /' $tmp/c.out
	ktap_fail "a later VM runs with every exit in userspace"
fi
expect "a later VM gets none of the ended VM's rules" $R_IO "0 $((n + 2))"

# --- one process, two VMs: a capture rule for the first by its PID-FD
paused a --out $n --vms 2
set -- $a_vms
vm1=$1 vm2=$2
if echo "io ports=0x510 dir=out size=1 action=capture vm=$a_pid" >$D/rules 2>/dev/null; then
	ktap_fail "vm=PID of a process with two VMs is refused"
else
	ktap_check "vm=PID of a process with two VMs is refused" sh -c \
		"dmesg | grep -q -e 'vm=$a_pid: process $a_pid has 2 VMs ($vm1 $vm2): name one as PID-FD' \
			-e 'vm=$a_pid: process $a_pid has 2 VMs ($vm2 $vm1): name one as PID-FD'"
fi
r=$(add io ports=0x510 dir=out size=1 action=capture vm=$vm1)
echo reset >$D/exits
go a
show a
expect "one process: the rule takes exactly its VM's OUTs" $R_IO "$n $((n + 4))"
grep -q "^kfp-run: vm $vm2: ok$" $tmp/a.out &&
	ktap_ok "the process's other VM saw every exit in userspace" ||
	ktap_fail "the process's other VM saw every exit in userspace"
grep '^# vm=' $D/capture | sed 's/^/# /'
ktap_check "only the named VM's bytes are captured, all of them" sh -c \
	"test \"\$(grep '^# vm=' $D/capture)\" = '# vm=$vm1 pid=$a_pid bytes=$n ended'"

# --- a watched VM's own counters: one of two VMs of a process
paused a --out $n --vms 2
set -- $a_vms
vm1=$1 vm2=$2
bad=0
refused $D/exits "watch vm=all" "watch vm=$$" "watch vm=$a_pid" "unwatch vm=$vm1" \
	"watch $vm1" "watch vm=$vm1 x" "frobnicate" || bad=1
[ -z "$(ls $D/vms)" ] || bad=1
[ $bad = 0 ] && ktap_ok "bad watch commands are refused and change nothing" ||
	ktap_fail "bad watch commands are refused and change nothing"
echo "watch vm=$vm2" >$D/exits && echo "unwatch vm=$vm2" >$D/exits &&
	[ ! -e $D/vms/$vm2 ] && dmesg | grep -q "exits: VM $vm2 unwatched: 0 exits" &&
	ktap_ok "unwatch removes the VM's counters, its totals logged" ||
	ktap_fail "unwatch removes the VM's counters, its totals logged"
echo "watch vm=$vm1" >$D/exits
if echo "watch vm=$vm1" >$D/exits 2>/dev/null; then
	ktap_fail "a VM is watched once"
else
	ktap_ok "a VM is watched once"
fi
r=$(add io ports=0x510 dir=out size=1 action=sink vm=$vm2)
echo reset >$D/exits
ran a
ktap_diag "vms/$vm1: io $(col $R_IO fast $D/vms/$vm1) fast, $(col $R_IO stock $D/vms/$vm1) stock"
[ "$(col $R_IO fast $D/vms/$vm1) $(col $R_IO stock $D/vms/$vm1)" = "0 $((n + 2))" ] &&
	expect "the watched VM counts its own exits; the totals have both VMs'" $R_IO "$n $((n + 4))" ||
	ktap_fail "the watched VM counts its own exits; the totals have both VMs'"
"$stat" --vm $a_pid --json >$tmp/stat.json 2>&1
grep -q "\"vm\": \"$vm1\"" $tmp/stat.json && grep -q "\"name\": \"$R_IO\", .*\"stock\": $((n + 2))" $tmp/stat.json &&
	ktap_ok "kfp-stat --vm PID shows the process's watched VM" ||
	{ sed 's/^/# /' $tmp/stat.json; ktap_fail "kfp-stat --vm PID shows the process's watched VM"; }
go a
cat $D/capture >/dev/null	# reading it reaps ended VMs first
[ ! -e $D/vms/$vm1 ] &&
	dmesg | grep -q "exits: VM $vm1 ended: [0-9]* exits, 0 completed by handlers" &&
	ktap_ok "an ended VM's counters go, their totals logged" ||
	ktap_fail "an ended VM's counters go, their totals logged"

# --- a handler enabled for one VM of two
quiet_state
paused a --out $n --vms 2
set -- $a_vms
vm1=$1 vm2=$2
r=$(add io ports=0x510 dir=out size=1 action=sink)
before=$(cat $D/handlers)
bad=0
refused $D/handlers "enable io vm=abc" "enable io vm=$$" "detach io vm=$vm1" "enable io x" \
	"disable io vm=$vm1" "enable nosuch vm=$vm1" || bad=1
[ "$(cat $D/handlers)" = "$before" ] || bad=1
[ $bad = 0 ] && ktap_ok "bad per-VM handler commands are refused and change nothing" ||
	ktap_fail "bad per-VM handler commands are refused and change nothing"
echo "enable io vm=$vm1" >$D/handlers
ktap_diag "handlers: $(grep ' io ' $D/handlers)"
ktap_check "a handler enabled for one VM names it" sh -c \
	"grep -q ' io enabled builtin $vm1\$' $D/handlers"
if echo "enable io vm=$vm1" >$D/handlers 2>/dev/null; then
	ktap_fail "a handler is enabled for a VM once"
else
	ktap_ok "a handler is enabled for a VM once"
fi
echo reset >$D/exits
ran a
show a
expect "the handler serves its VM only: one VM's OUTs fast, the other's stock" $R_IO "$n $((n + 4))"
grep -q "^kfp-run: vm $vm2: ok$" $tmp/a.out &&
	ktap_ok "the other VM saw every exit in userspace" ||
	ktap_fail "the other VM saw every exit in userspace"
go a
if grep -q ' io disabled builtin -$' $D/handlers && grep -q "^$r " $D/rules &&
   dmesg | grep -q "handlers: io: its VM $vm1 ended, no VM left: disabled"; then
	ktap_ok "its VM's end disables the handler, logged; the vm=all rule stays"
else
	grep ' io ' $D/handlers | sed 's/^/# /'
	ktap_fail "its VM's end disables the handler, logged; the vm=all rule stays"
fi
quiet_state
echo "enable io" >$D/handlers

# --- a doorbell rule for one VM of two: its memslot answer is kept per
# CPU (module/kfp_ept.c); the other VM's writes all reach userspace
paused a --mode long --mmio $n --vms 2
set -- $a_vms
vm1=$1 vm2=$2
r=$(add doorbell gpa=0xd0000 len=0x1000 vm=$vm1)
echo "enable ept" >$D/handlers
echo reset >$D/exits
go a
show a
want=$(doorbell_split $n | cut -d' ' -f1)
got=$(col $R_NPF fast)
ktap_diag "$R_NPF fast: expected $want got $got"
[ "$got" = "$want" ] && ktap_ok "a doorbell rule for one VM takes exactly its writes" ||
	ktap_fail "a doorbell rule for one VM takes exactly its writes"
grep -q "^kfp-run: vm $vm2: ok$" $tmp/a.out &&
	ktap_ok "the other VM's MMIO writes all reached userspace" ||
	ktap_fail "the other VM's MMIO writes all reached userspace"
cat $D/rules >/dev/null
ktap_check "the doorbell rule counted them, and went with its VM" sh -c \
	"dmesg | grep -q 'rule $r removed: its VM $vm1 ended (hits=$want)'"
quiet_state
echo "enable io" >$D/handlers

# --- unload with a rule holding a live VM; the VM then runs under KVM
if [ -f $ko ]; then
	paused a --out $n
	r=$(add io ports=0x510 dir=out size=1 action=sink vm=${a_vms% })
	if rmmod kvm_fastpath; then
		ktap_ok "unload with a rule on a live VM"
	else
		ktap_fail "unload with a rule on a live VM"
	fi
	if go a; then
		ktap_ok "that VM then sees every exit in userspace"
	else
		show a
		ktap_fail "that VM then sees every exit in userspace"
	fi
	if insmod $ko; then
		ktap_ok "the module loads again"
	else
		ktap_fail "the module loads again"
	fi
else
	ktap_skip "unload with a rule on a live VM" "no $ko to reload"
	ktap_skip "that VM then sees every exit in userspace" "no $ko to reload"
	ktap_skip "the module loads again" "no $ko to reload"
fi

quiet_state
rm -rf $tmp
ktap_finish
