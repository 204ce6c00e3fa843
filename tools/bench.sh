#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the cost of each kind of VM exit with stock KVM, with
# kvm_fastpath loaded and its handlers off, with them on, and with a null
# handler, measured in one boot of the emulated VMX machine per kernel.
#
# Bochs' corei7_haswell_4770 model ticks the guest TSC once per emulated
# instruction, so the guest's RDTSC deltas are emulated instructions, the
# same on every run and every host, apart from the host timer interrupts
# that land inside a loop.  The bench checks that claim: stock KVM runs
# twice and the two runs must agree within 0.5%.  Every configuration is
# checked against the module's counters (tools/bench/guest.sh): a run that
# did not take the path it claims fails the bench.
#
#   tools/bench.sh [KERNEL...]     default: every supported kernel
#
# Environment: KFP_BENCH_EXITS (default 20000) exits per workload;
# KFP_BENCH_OUT (default build/bench) the results folder;
# KFP_BENCH_SVM=0 skips the SVM wall-clock run;
# KFP_BENCH_SMOKE=1 (make check) checks that the pipeline produces every
# result, and only warns when the two stock runs differ: a few hundred
# exits are too few for the 0.5% bound.
#
# Results: bench.md (the tables, also printed), bench.csv, bench.png,
# timing.png (exit cost per reason, fast and stock, from debugfs timing),
# and per kernel the emulated machine's log and timing files.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
n=${KFP_BENCH_EXITS:-20000}
# The long CPUID loops that show what timing costs while off: enough
# exits for a 0.5% bound in a smoke run too (about 0.5 s of guest time).
nt=20000
if [ $# -gt 0 ]; then
	rels=("$@")
else
	mapfile -t rels < <(tools/emu/kernels.sh)
fi
results=${KFP_BENCH_OUT:-$top/build/bench}
mkdir -p "$results"
results=$(cd "$results" && pwd)
csv=$results/bench.csv
md=$results/bench.md

die() {
	echo "bench: $*" >&2
	exit 1
}

make -s tools
# The BPF handlers' configuration (kernels that take them; make deps'
# BPF userland builds kfp-bpf).
make -s bpf >"$results/bpf-build.log" 2>&1 ||
	die "make bpf failed; see $results/bpf-build.log"
bpf_files="tools/kfp-bpf/kfp-bpf tools/bench/kfp_bench.bpf.o"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "vendor,kernel,config,exit,exits,ticks,per_exit" >"$csv"

# One boot of the emulated VMX machine: every configuration, one kernel.
# Its CSV rows go to vmx-REL.csv.  The boots run side by side (one per
# core): the guest's instruction clock does not see the host's load.
bench_vmx() {
	local rel=$1 log=$results/vmx-$1.log part=$results/vmx-$1.csv cfg

	printf 'N=%s\nNT=%s\n. ./guest-lib.sh\n. ./guest.sh\n' "$n" "$nt" >"$work/run-$rel.sh"
	echo "bench: $rel in Bochs (VMX), $n exits per workload"
	if ! tools/emu/run.sh --machine haswell --kernel "$rel" "$work/run-$rel.sh" \
		tools/guest-lib.sh tools/bench/guest.sh \
		"build/$rel/kvm_fastpath.ko" \
		"build/$rel/tools/bench/kfp_null_handler.ko" \
		"$work/$rel/kvm_fastpath-notiming.ko" \
		tools/kfp-run/kfp-run $bpf_files >"$log" 2>&1; then
		grep -A30 'BENCH-FAIL' "$log" >&2 || tail -n 30 "$log" >&2
		die "the emulated run for $rel failed; see $log"
	fi
	sed -i 's/\r$//' "$log"	# the serial console's line ends
	for cfg in stock stock-again stock-kdev untimed-long off off-long watched timed on \
		   on-timed on-vm null null-done $(grep -q '^BENCH-SKIP bpf' "$log" || echo bpf); do
		grep -q "^BENCH-OK $cfg\$" "$log" ||
			die "$rel: configuration $cfg was not verified; see $log"
	done
	# Every timed loop must have made exactly the exits asked for.
	awk -v n="$n" -v nt="$nt" -v rel="$rel" '
	$1 == "BENCH" {
		want = $2 ~ /-long$/ ? nt : n
		if ($4 != want) {
			printf "bench: %s %s %s: %d exits, not %d\n", rel, $2, $3, $4, want > "/dev/stderr"
			bad = 1
		}
		printf "vmx,%s,%s,%s,%d,%.0f,%.1f\n", rel, $2, $3, $4, $5, $5 / $4
	}
	END { exit bad }' "$log" >"$part" || die "$rel: wrong exit counts; see $log"
	# The timing file of each timed configuration, for the timing chart.
	sed -n 's/^BENCH-TIMING //p' "$log" >"$results/timing-$rel.txt"
}

# The SVM wall-clock run: QEMU TCG with nested SVM, one run of each
# configuration per kernel.  TCG's guest TSC follows the host's clock, so
# these are wall-clock ticks: noisy, compared only within one run.
svm_skip() {
	echo "bench: SVM wall-clock run skipped: $1"
	printf '### SVM (QEMU TCG, wall clock)\n\nNot run: %s.\n\n' "$1" >>"$results/svm.md"
}

bench_svm() {
	local rel=$1 log=$results/svm-$1.log

	printf 'N=%s\nVENDOR=svm\n. ./guest-lib.sh\n. ./guest.sh\n' "$n" >"$work/run.sh"
	echo "bench: $rel in QEMU (SVM, wall clock), $n exits per workload"
	if ! tools/emu/run.sh --machine svm --kernel "$rel" "$work/run.sh" \
		tools/guest-lib.sh tools/bench/guest.sh \
		"build/$rel/kvm_fastpath.ko" tools/kfp-run/kfp-run >"$log" 2>&1; then
		sed -i 's/\r$//' "$log"
		if grep -q '^BENCH-FAIL: insmod kvm_fastpath.ko' "$log"; then
			svm_skip "$rel: kvm_fastpath does not load on SVM (see ${log#"$top"/})"
			return
		fi
		grep -A30 'BENCH-FAIL' "$log" >&2 || tail -n 30 "$log" >&2
		die "the SVM run for $rel failed; see $log"
	fi
	sed -i 's/\r$//' "$log"
	for cfg in stock off on; do
		grep -q "^BENCH-OK $cfg\$" "$log" ||
			die "$rel (SVM): configuration $cfg was not verified; see $log"
	done
	awk -v rel="$rel" '$1 == "BENCH" {
		printf "svm,%s,%s,%s,%d,%.0f,%.1f\n", rel, $2, $3, $4, $5, $5 / $4
	}' "$log" >>"$csv"
	awk -v rel="$rel" -v n="$n" -f tools/bench/svm.awk "$log" >>"$results/svm.md"
}

# The builds first, one at a time: kbuild's own -j is faster than two
# makes.  Each release twice: as it ships, and without timing's static
# branch (KFP_NO_TIMING) for the "untimed-long" loop.
for rel in "${rels[@]}"; do
	{ tools/build-module.sh "$rel" -j"$(nproc)" &&
	  KFP_BUILD_DIR="$top/build/notiming/$rel" tools/build-module.sh "$rel" \
		KCFLAGS=-DKFP_NO_TIMING -j"$(nproc)"; } >"$results/build-$rel.log" 2>&1 || {
		cat "$results/build-$rel.log" >&2
		die "module build for $rel failed"
	}
	mkdir -p "$work/$rel"
	cp "build/notiming/$rel/kvm_fastpath.ko" "$work/$rel/kvm_fastpath-notiming.ko"
done
pids=()
for rel in "${rels[@]}"; do
	while [ "$(jobs -pr | wc -l)" -ge "$(nproc)" ]; do
		wait -n || true
	done
	bench_vmx "$rel" &
	pids+=($!)
done
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || die "the VMX run for ${rels[$i]} failed"
	cat "$results/vmx-${rels[$i]}.csv" >>"$csv"
done

awk -F, -f tools/bench/report.awk "$csv" >"$md"
: >"$results/svm.md"
if [ "${KFP_BENCH_SVM:-1}" = 0 ] || [ "${KFP_BENCH_SMOKE:-0}" = 1 ]; then
	svm_skip "not asked for (KFP_BENCH_SVM=0, or a smoke run)"
else
	for rel in "${rels[@]}"; do
		bench_svm "$rel"
	done
fi
cat "$results/svm.md" >>"$md"

# The chart: emulated instructions per exit, one panel per kernel.
if command -v gnuplot >/dev/null; then
	awk -F, -v dir="$results" -f tools/bench/plotdata.awk "$csv"
	gnuplot -e "dir='$results'" tools/bench/plot.gp ||
		die "gnuplot failed"
	# Exit cost per reason, fast and stock, from the first kernel's run.
	awk -f tools/bench/timingdata.awk "$results/timing-${rels[0]}.txt" \
		>"$results/timing.dat"
	gnuplot -e "dir='$results'; rel='${rels[0]}'" tools/bench/timing.gp ||
		die "gnuplot failed (timing chart)"
else
	echo "bench: no gnuplot (make deps installs gnuplot-nox): no chart" >&2
fi

# Complete results: every configuration's rows for every kernel (57:
# 7 kinds in 4 configurations, 6 in watched, timed, on-timed and on-vm,
# 1 in each null and long loop; 6 more in bpf where the kernel takes BPF
# handlers), a table per kernel, the charts.
want=0
for rel in "${rels[@]}"; do
	want=$((want + 57))
	grep -q "^BENCH-OK bpf" "$results/vmx-$rel.log" && want=$((want + 6))
done
rows=$(awk -F, '$1 == "vmx"' "$csv" | wc -l)
[ "$rows" -eq "$want" ] || die "bench.csv has $rows rows, not $want"
[ "$(grep -c '^| CPUID leaf 0 |' "$md")" -eq ${#rels[@]} ] ||
	die "bench.md lacks a table per kernel"
if command -v gnuplot >/dev/null; then
	[ -s "$results/bench.png" ] || die "no chart"
	[ -s "$results/timing.png" ] || die "no timing chart"
fi

cat "$md"
# Timing off must cost nothing measurable, in a smoke run too: the long
# CPUID loop with the module as built within 0.5% of it without timing's
# branch (each kernel's figures are in the report's targets).
awk -F, -f tools/bench/report.awk -v check=timing "$csv" ||
	die "timing off costs more than 0.5% per exit (off-long vs untimed-long in bench.md)"
if ! awk -F, -f tools/bench/report.awk -v check=1 "$csv"; then
	msg="the two stock runs differ by more than 0.5%: the figures are not reliable"
	[ "${KFP_BENCH_SMOKE:-0}" = 1 ] || die "$msg"
	echo "bench: $msg (smoke run: not an error)"
fi
echo
echo "bench: results in ${results#"$top"/}/ (bench.md, bench.csv, bench.png, timing.png)"
