# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# make bench, inside the emulated machine (sourced by the run script
# tools/bench.sh writes, after guest-lib.sh, with N and VENDOR set).
#
# Prints "BENCH CONFIG KIND EXITS TICKS" per timed loop of kfp-run's guest
# and "BENCH-OK CONFIG" once CONFIG has been shown to take the path it
# claims; anything else wrong ends the run with "BENCH-FAIL: why".

mixed="--mode long --cpuid $N --out $N --in $N --mmio $N --msr $N --vmcall $N"
# HLT rounds: self-IPI, STI; HLT with it pending, the interrupt, EOI.
irq="--mode long --irqchip irq-hlt $N"

fail() {
	echo "BENCH-FAIL: $*"
	exit 1
}

# bench CONFIG KFP-RUN-ARGS...: run kfp-run, print its guest view as
# BENCH lines; returns kfp-run's exit code, its output is in ./out.txt.
bench() {
	cfg=$1
	shift
	./kfp-run "$@" >out.txt 2>&1
	rc=$?
	bench_lines "$cfg"
	return $rc
}

# bench_lines CONFIG: the BENCH lines of kfp-run's output in ./out.txt.
bench_lines() {
	awk -v cfg="$1" '
	/^guest view/ { g = 1; next }
	g && NF == 4 && $2 ~ /^[0-9]+$/ { print "BENCH", cfg, $1, $2, $3; next }
	{ g = 0 }' out.txt
}

# bench_paused CONFIG SETUP KFP-RUN-ARGS...: as bench, with the VM
# created first and "SETUP PID-FD" run before it runs.
bench_paused() {
	cfg=$1
	setup=$2
	shift 2
	rm -f wfifo
	mkfifo wfifo || fail "mkfifo"
	./kfp-run --pause "$@" <wfifo >out.txt 2>err.txt &
	pid=$!
	exec 7>wfifo
	i=0
	while ! grep -q paused err.txt && [ $i -lt 600 ]; do
		sleep 1
		i=$((i + 1))
	done
	vm=$(sed -n 's/^kfp-run: vm //p' err.txt)
	$setup "$vm" || fail "$cfg: $setup $vm"
	echo >&7
	exec 7>&-
	wait $pid
	rc=$?
	cat err.txt >>out.txt
	bench_lines "$cfg"
	return $rc
}

watch_vm() {
	echo "watch vm=$1" >$D/exits
}

# bench_watched CONFIG KFP-RUN-ARGS...: as bench, with the VM watched
# ("watch vm=PID-FD"), so its exits are counted for it too.  Checks that
# its own counters saw the run, from the totals logged when it ended.
bench_watched() {
	cfg=$1
	shift
	bench_paused "$cfg" watch_vm "$@"
	rc=$?
	cat $D/rules >/dev/null		# reading it reaps the ended VM
	seen=$(dmesg | sed -n "s/.*exits: VM $vm ended: \([0-9]*\) exits.*/\1/p")
	[ "${seen:-0}" -ge $((6 * N)) ] ||
		{ cat out.txt; fail "$cfg: the VM's own counters saw ${seen:-no} exits"; }
	return $rc
}

# bench_timed CONFIG KFP-RUN-ARGS...: as bench, with timing on; the
# timing file follows as "BENCH-TIMING CONFIG LINE" lines.
bench_timed() {
	cfg=$1
	echo on >$D/timing && echo reset >$D/timing && echo reset >$D/exits ||
		fail "$cfg: switching timing on"
	bench "$@"
	rc=$?
	echo off >$D/timing
	sed "s/^/BENCH-TIMING $cfg /" $D/timing
	return $rc
}

# must CONFIG DESCRIPTION CONDITION...: fail unless the test holds.
must() {
	cfg=$1
	what=$2
	shift 2
	"$@" || { cat out.txt; fail "$cfg: $what"; }
}

# fast_is REASON N: the module completed exactly N exits of REASON.
fast_is() {
	# shellcheck disable=SC2046 # three numbers
	set -- "$1" "$2" $(kfp_exits "$1")
	[ "$4" -eq "$2" ] || { echo "$1: exits=$3 fast=$4 stock=$5, want fast=$2"; return 1; }
}

# stock_at_least REASON N: at least N exits of REASON went to stock KVM.
stock_at_least() {
	# shellcheck disable=SC2046 # three numbers
	set -- "$1" "$2" $(kfp_exits "$1")
	[ "$5" -ge "$2" ] || { echo "$1: exits=$3 fast=$4 stock=$5, want stock>=$2"; return 1; }
}

no_fast() {
	awk '$1 !~ /^#/ && $4 != 0 { print; bad = 1 } END { exit bad }' "$D/exits"
}

# no_early: no interrupt of the irq-hlt run came inside its STI shadow.
no_early() {
	! grep -q ' early=' out.txt
}

# bench_irq CONFIG: the HLT rounds, which kfp-run checks in full.
bench_irq() {
	bench "$1" $irq || { cat out.txt; fail "$1: kfp-run irq-hlt failed"; }
	must "$1" "interrupts taken inside the STI shadow" no_early
}

stock_reasons() {
	stock_at_least IO_INSTRUCTION $((2 * N)) &&
	stock_at_least CPUID $N && stock_at_least MSR_WRITE $N &&
	stock_at_least VMCALL $N && stock_at_least EPT_MISCONFIG $((N - 1))
}

# SVM in QEMU (VENDOR=svm): wall clock, one run of each, no null
# handler.  Which kinds the module completes depends on the CPU (without
# NRIPS only IO): "BENCH-FAST REASON N" says, for the report.
if [ "${VENDOR:-vmx}" = svm ]; then
	kfp_loaded kvm_fastpath && fail "kvm_fastpath is loaded before the stock run"
	bench stock $mixed || { cat out.txt; fail "stock: kfp-run failed"; }
	echo "BENCH-OK stock"
	insmod ./kvm_fastpath.ko || fail "insmod kvm_fastpath.ko"
	echo reset >$D/exits
	bench off $mixed || { cat out.txt; fail "off: kfp-run failed"; }
	must off "exits went to a fast path" no_fast
	echo "BENCH-OK off"
	kfp_workload_rules || fail "adding rules"
	kfp_handlers enable io cpuid ept || fail "enabling handlers"
	echo reset >$D/exits
	bench on $mixed
	must on "OUT and IN not all fast" fast_is io $((2 * N))
	awk '$1 !~ /^#/ && $4 != 0 { print "BENCH-FAST", $2, $4 }' $D/exits
	echo "BENCH-OK on"
	rmmod kvm_fastpath || fail "rmmod kvm_fastpath"
	exit 0
fi

# 1. Stock KVM, twice, and its in-kernel PIC as an IO device.
kfp_loaded kvm_fastpath && fail "kvm_fastpath is loaded before the stock runs"
for cfg in stock stock-again; do
	bench $cfg $mixed || { cat out.txt; fail "$cfg: kfp-run failed"; }
	bench_irq $cfg
	echo "BENCH-OK $cfg"
done
# kfp-run checks that userspace saw none of these OUTs.
bench stock-kdev --mode long --irqchip --port 0x21 io-out $N ||
	{ cat out.txt; fail "stock-kdev: kfp-run failed"; }
echo "BENCH-OK stock-kdev"

# 1b. Timing off costs nothing measurable: a long CPUID loop ($NT exits,
# as many in a smoke run) with the module built without timing's static
# branch (KFP_NO_TIMING), then with the real one, handlers off both times.
insmod ./kvm_fastpath-notiming.ko || fail "insmod kvm_fastpath-notiming.ko"
bench untimed-long --mode long cpuid $NT || { cat out.txt; fail "untimed-long: kfp-run failed"; }
rmmod kvm_fastpath || fail "rmmod kvm_fastpath (no timing)"
echo "BENCH-OK untimed-long"

# 2. The module loaded, every handler off: the hook alone.
insmod ./kvm_fastpath.ko || fail "insmod kvm_fastpath.ko"
grep -q ' enabled ' $D/handlers && fail "a handler is enabled after a plain insmod"
echo reset >$D/exits
bench off $mixed || { cat out.txt; fail "off: kfp-run failed"; }
must off "exits missing from stock" stock_reasons
bench_irq off
must off "exits went to a fast path" no_fast
echo "BENCH-OK off"
bench off-long --mode long cpuid $NT || { cat out.txt; fail "off-long: kfp-run failed"; }
echo "BENCH-OK off-long"

# 2b. The same with the VM watched: per-VM counters on every exit.
bench_watched watched $mixed || { cat out.txt; fail "watched: kfp-run failed"; }
must watched "exits went to a fast path" no_fast
echo "BENCH-OK watched"

# 2c. The same with timing on (debugfs timing): what it costs each exit.
bench_timed timed $mixed || { cat out.txt; fail "timed: kfp-run failed"; }
must timed "exits went to a fast path" no_fast
echo "BENCH-OK timed"

# 3. The built-in handlers on.  kfp-run fails, by design: userspace no
# longer sees the OUTs, INs and MMIO writes the module completed.
kfp_workload_rules || fail "adding rules"
kfp_handlers enable io cpuid ept || fail "enabling handlers"
echo reset >$D/exits
bench on $mixed
must on "OUT and IN not all fast" fast_is IO_INSTRUCTION $((2 * N))
must on "CPUID not all fast" fast_is CPUID $N
must on "doorbell writes not all fast" fast_is EPT_VIOLATION $N
must on "MSR writes taken by a handler" fast_is MSR_WRITE 0
must on "VMCALL taken by a handler" fast_is VMCALL 0
must on "MSR writes missing" stock_at_least MSR_WRITE $N
must on "VMCALLs missing" stock_at_least VMCALL $N
# 3a. The same with timing on: its cost on the fast path, and each
# reason's fast cost for the chart (stock's is the timed run's).
bench_timed on-timed $mixed
must on-timed "OUT and IN not all fast" fast_is IO_INSTRUCTION $((2 * N))
echo "BENCH-OK on-timed"
kfp_handlers disable io cpuid ept || fail "disabling handlers"
echo clear >$D/rules

# 3b. The same with the rules for this VM only: a doorbell rule of one VM
# keeps its memslot answer (module/kfp_ept.c).
vm_rules() {
	kfp_workload_rules "$1" && kfp_handlers enable io cpuid ept &&
	echo reset >$D/exits
}
bench_paused on-vm vm_rules $mixed
must on-vm "OUT and IN not all fast" fast_is IO_INSTRUCTION $((2 * N))
must on-vm "CPUID not all fast" fast_is CPUID $N
must on-vm "doorbell writes not all fast" fast_is EPT_VIOLATION $N
kfp_handlers disable io cpuid ept || fail "disabling handlers"
echo "BENCH-OK on-vm"
# The HLT rounds with the hlt handler alone (the ept handler would add
# its own cost on the APIC writes).  A KVM with its own HLT fast path
# (6.12) completes those HLTs before the handler is asked.
kfp_handlers enable hlt || fail "enabling hlt"
echo reset >$D/exits
bench_irq on
if grep -qw handle_fastpath_hlt /proc/kallsyms; then
	must on "HLT taken by the handler past KVM's fast path" fast_is HLT 0
else
	must on "HLT not all fast" fast_is HLT $N
fi
echo "BENCH-OK on"
kfp_handlers disable hlt || fail "disabling hlt"

# 3c. The same rules as BPF handlers (tools/bench/kfp_bench.bpf.c), where
# the kernel can take them: a BPF handler against the built-in one.
if grep -q '^bpf: yes' $D/info; then
	./kfp-bpf load ./kfp_bench.bpf.o >out.txt 2>&1 || { cat out.txt; fail "bpf: kfp-bpf load"; }
	echo reset >$D/exits
	bench bpf $mixed
	must bpf "OUT and IN not all fast" fast_is IO_INSTRUCTION $((2 * N))
	must bpf "CPUID not all fast" fast_is CPUID $N
	./kfp-bpf unload bench_io && ./kfp-bpf unload bench_cpuid || fail "bpf: kfp-bpf unload"
	echo "BENCH-OK bpf"
else
	echo "BENCH-SKIP bpf $(sed -n 's/^bpf: no: //p' $D/info)"
fi

# 4. The null handler on VMCALL: REENTER, then DONE.
for cfg in null null-done; do
	arg=
	[ $cfg = null-done ] && arg=done=1
	insmod ./kfp_null_handler.ko $arg || fail "insmod kfp_null_handler.ko $arg"
	echo reset >$D/exits
	bench $cfg --mode long vmcall $N || { cat out.txt; fail "$cfg: kfp-run failed"; }
	must $cfg "VMCALL not all fast" fast_is VMCALL $N
	# Stock KVM would have put -KVM_ENOSYS in RAX.
	must $cfg "RAX changed: not the null handler" grep -q 'vmcall rax=0x7fffffff ' out.txt
	kfp_handlers detach null_vmcall || fail "detaching null_vmcall"
	rmmod kfp_null_handler || fail "rmmod kfp_null_handler"
	echo "BENCH-OK $cfg"
done
rmmod kvm_fastpath || fail "rmmod kvm_fastpath"
