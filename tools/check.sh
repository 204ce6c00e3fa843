#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every check the project has, on every supported kernel.
#
#   1. the module builds with W=1 and warnings as errors
#   2. sparse (C=2) has nothing to say
#   3. checkpatch.pl --strict is clean on our sources
#   4. userspace builds; host tests run against this machine's /dev/kvm
#   5. the selftests run inside the emulated machines: VMX (Bochs
#      haswell) and SVM (QEMU TCG) on every supported kernel, VMX with
#      IBT (Bochs tigerlake) on 6.12 and the newest line, SVM with NRIPS
#      (Bochs ryzen) on 6.12; any kernel report in any of them fails
#      (tools/emu/reports.awk)
#   6. the report detector fails a run with a WARNING and a Missing ENDBR
#   7. a make bench smoke run
#   8. the packages: make deb, lintian, apt install with DKMS for two
#      kernels in a trixie userland, purge; the DKMS-built module's
#      selftests, run directly and under kselftest's run_kselftest.sh
#
# Every KTAP test point counts; the last line is "N passed, N failed,
# N skipped" and the exit code is non-zero if anything failed.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
cache=${KFP_CACHE:-$top/.cache}
logs=$top/build/check
rm -rf "$logs"
mkdir -p "$logs"

pass=0
fail=0
skip=0

result() {	# result pass|fail|skip DESCRIPTION
	case "$1" in
	pass) pass=$((pass + 1)); echo "PASS: $2" ;;
	fail) fail=$((fail + 1)); echo "FAIL: $2" ;;
	skip) skip=$((skip + 1)); echo "SKIP: $2" ;;
	esac
}

# run_step DESCRIPTION LOG CMD...: one result from a command's exit code.
run_step() {
	local desc=$1 log=$2
	shift 2
	if "$@" >"$log" 2>&1; then
		result pass "$desc"
	else
		result fail "$desc (log: ${log#$top/})"
		tail -n 20 "$log" | sed 's/^/    /'
	fi
}

# ktap PREFIX LOG: count the test points of the KTAP documents in LOG.
# A document whose plan promises more points than it printed fails too.
ktap() {
	local prefix=$1 log=$2 planned=0 seen=0 line
	while IFS= read -r line; do
		line=${line%$'\r'}
		case "$line" in
		1..*)
			planned=$((planned + ${line#1..})) ;;
		"ok "*"# SKIP"*)
			seen=$((seen + 1)); result skip "$prefix ${line#ok }" ;;
		"ok "*)
			seen=$((seen + 1)); result pass "$prefix ${line#ok }" ;;
		"not ok "*)
			seen=$((seen + 1)); result fail "$prefix ${line#not ok }" ;;
		"# "*)
			echo "      $line" ;;
		esac
	done <"$log"
	if [ "$seen" -ne "$planned" ]; then
		result fail "$prefix $seen of $planned planned tests reported (log: ${log#$top/})"
	fi
}

mapfile -t rels < <(tools/emu/kernels.sh)
newest=$(printf "%s\n" "${rels[@]}" | sort -V | tail -n 1)
jobs_max=${KFP_JOBS:-$(nproc)}
# The debug kernel (tools/emu/debug-kernel.sh, built by make deps).
debug_rel=$(tools/emu/debug-kernel.sh --release 2>/dev/null) || debug_rel=

echo "== module build (W=1, -Werror) and sparse (C=2)"
for rel in "${rels[@]}"; do
	run_step "build $rel W=1 -Werror" "$logs/build-$rel.log" \
		tools/build-module.sh "$rel" W=1 KCFLAGS=-Werror -j"$jobs_max"
	log=$logs/sparse-$rel.log
	tools/build-module.sh "$rel" C=2 -j"$jobs_max" >"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && ! grep -qE '(warning|error):' "$log"; then
		result pass "sparse $rel"
	else
		result fail "sparse $rel (log: ${log#$top/})"
		grep -E '(warning|error):' "$log" | head -n 20 | sed 's/^/    /'
	fi
done

if [ -n "$debug_rel" ]; then
	run_step "build $debug_rel (the debug kernel)" "$logs/build-$debug_rel.log" \
		tools/build-module.sh "$debug_rel" -j"$jobs_max"
else
	result fail "the debug kernel is built (tools/emu/debug-kernel.sh: run 'make deps')"
fi

echo "== checkpatch --strict"
mapfile -t srcs < <(git ls-files -co --exclude-standard -- '*.c' '*.h' '*.S')
run_step "checkpatch --strict (${#srcs[@]} files)" "$logs/checkpatch.log" \
	perl "$cache/checkpatch/checkpatch.pl" --no-tree --strict --show-types \
	-q -f "${srcs[@]}"

echo "== userspace build and host tests"
run_step "build kfp-run and selftests" "$logs/userspace.log" \
	make -s tools selftests
run_step "build kfp-bpf and the BPF programs (make bpf)" "$logs/bpf.log" \
	make -s bpf
selftests/exit_dispatch_test >"$logs/host-exit_dispatch.log" 2>&1
ktap "host exit_dispatch_test:" "$logs/host-exit_dispatch.log"
selftests/kfp_run_test.sh >"$logs/host-kfp_run.log" 2>&1
ktap "host kfp_run_test:" "$logs/host-kfp_run.log"
selftests/kfp_stat_test.sh >"$logs/host-kfp_stat.log" 2>&1
ktap "host kfp_stat_test:" "$logs/host-kfp_stat.log"
selftests/reports_test.sh >"$logs/host-reports.log" 2>&1
ktap "host reports_test:" "$logs/host-reports.log"

# The files the selftests need inside the emulated machine: the module
# (build/REL/, or MODULE), the test handler, the tools, and the tests in
# kselftest's order (kselftest-list.txt, which run_in_vm.sh follows).
make -s -C selftests emit_tests COLLECTION=kvm_fastpath >build/kselftest-list.txt
vm_files() {	# vm_files REL [MODULE]
	echo "${2:-build/$1/kvm_fastpath.ko}" "build/$1/selftests/kfp_test_handler.ko" \
		tools/kfp-run/kfp-run tools/kfp-stat/kfp-stat \
		selftests/exit_dispatch_test selftests/l2_svm_guest.bin \
		selftests/ping_guest.bin tools/kfp-bpf/kfp-bpf \
		tools/kfp-bpf/examples/*.bpf.o selftests/bpf/*.bpf.o \
		selftests/bpf/kfp_bpf_race \
		selftests/*_test.sh selftests/ktap.sh selftests/kfp_lib.sh \
		build/kselftest-list.txt
}

# perf for the QEMU machines, where timing_test.sh compares "perf kvm
# stat" with the module's timing (it skips, saying why, without it).
tools/perf-bundle.sh build/perf.tgz || echo "   (no perf in the emulated machines)"

# The emulated machines run side by side, one per core: each is one
# single-threaded emulator.  A job's output goes to LOG, its exit code
# and time to LOG.rc; the results are read in order once all are done.
emu_jobs=()

# emu_job NAME CMD...: start CMD in the background as job NAME.
emu_job() {
	local name=$1 log=$logs/$1.log
	shift
	while [ "$(jobs -pr | wc -l)" -ge "$jobs_max" ]; do
		wait -n || true
	done
	emu_jobs+=("$name")
	(
		start=$SECONDS
		"$@" >"$log" 2>&1
		echo "$? $((SECONDS - start))" >"$log.rc"
	) &
}

# selftests NAME MACHINE REL CPUS [SETTING=VALUE...]: every selftest in
# one boot; the settings (smp_test's KFP_SMP_*) go to run_in_vm.sh.
selftests() {
	local name=$1 machine=$2 rel=$3 cpus=$4
	shift 4
	mkdir -p "$logs/$name.files"
	: >"$logs/$name.files/settings.sh"
	[ $# -eq 0 ] || printf 'export %s\n' "$@" >"$logs/$name.files/settings.sh"
	local perf=()
	[ "$machine" != svm ] || [ ! -s build/perf.tgz ] || perf=(build/perf.tgz)
	# shellcheck disable=SC2046
	emu_job "$name" tools/emu/run.sh --machine "$machine" --kernel "$rel" \
		--cpus "$cpus" --timeout 2400 --out "$logs/$name" \
		selftests/run_in_vm.sh $(vm_files "$rel") "${perf[@]}" \
		"$logs/$name.files/settings.sh"
}

# The machines and kernels: VMX (Bochs haswell) and SVM (QEMU TCG) on
# every supported kernel and on the debug kernel; VMX with IBT enforced
# (Bochs tigerlake) on 6.12 and the newest line; SVM with NRIPS (Bochs
# ryzen, where CPUID, HLT and hypercalls reach AMD's handlers) on 6.12.
# Every QEMU machine has two CPUs and runs smp_test in full (100 unload
# cycles under load).
# Bochs with two CPUs is about four times slower than with one, and the
# debug kernel slower again (Documentation/testing.rst): on 6.12 haswell,
# tigerlake (IBT) and ryzen (AMD) have two CPUs, with smp_test's userspace
# exits and RCU grace periods scaled down but its 300 handler switches
# and the exact 200000-OUT stress; the other Bochs machines, the debug
# kernel's included, have one CPU (smp_test skips).  The slowest jobs
# start first.
smp_scaled=(KFP_SMP_OUTS=2000 KFP_SMP_RULES=20 KFP_SMP_CYCLES=20
	    KFP_SMP_STRESS=200000 KFP_BPF_OUTS=2000 KFP_BPF_RACE_MAPS=50)
echo "== packages and kselftest"
# The packages (make deb, lintian), installed for real in a trixie
# userland with the headers of 6.12 and deb_rel, DKMS building the module
# for both (tools/deb-test.sh, as root: chroot and mounts).  A job beside
# the emulated machines; svm-dkms-REL waits for it.
deb_rel=$(for r in "${rels[@]}"; do
	[ "$(tools/emu/kernels.sh --suite "$r")" != trixie ] || echo "$r"; done | head -n 1)
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
# kselftest's install tree, for deb_rel (its test module included), as
# the runner gets it.
kselftest_tree() {
	rm -rf build/kselftest build/kselftest.tar &&
	make -C selftests kselftest-install INSTALL_PATH="$top/build/kselftest" \
		KFP_REL="$deb_rel" &&
	test -f build/kselftest/kvm_fastpath/test_modules/kfp_test_handler.ko &&
	tar -C build/kselftest -cf build/kselftest.tar .
}
run_step "kselftest install tree for $deb_rel (make -C selftests kselftest-install)" \
	"$logs/kselftest-install.log" kselftest_tree
emu_job deb bash -c 'make -s deb && $1 tools/deb-test.sh' sh "$sudo"

echo "== emulated machines (${jobs_max} at a time; logs in ${logs#$top/})"
[ -z "$debug_rel" ] || selftests "haswell-$debug_rel" haswell "$debug_rel" 1
selftests "tigerlake-${rels[0]}" tigerlake "${rels[0]}" 2 "${smp_scaled[@]}"
selftests "haswell-${rels[0]}" haswell "${rels[0]}" 2 "${smp_scaled[@]}"
# Bochs 2.7's SVM gets irq-hlt's interrupts wrong and resets the machine
# under single-step, with stock KVM and no kvm_fastpath loaded
# (Documentation/testing.rst): the tests that use those skip there.
selftests "ryzen-${rels[0]}" ryzen "${rels[0]}" 2 "${smp_scaled[@]}" \
	'KFP_NOT_HERE="passthrough_test.sh nested_test.sh kfp_run_test.sh"' \
	"KFP_NOT_HERE_WHY=\"Bochs 2.7's SVM breaks irq-hlt and single-step with stock KVM\""
# bpf_test runs in the svm machines, ryzen and tigerlake (VMX with IBT,
# 6.12 and the newest line); these one-CPU machines skip it, for time.
for rel in "${rels[@]:1}"; do
	selftests "haswell-$rel" haswell "$rel" 1 \
		'KFP_NOT_HERE="bpf_test.sh"' \
		'KFP_NOT_HERE_WHY="for time: BPF handlers are tested in the svm machines, ryzen and tigerlake"'
done
[ "$newest" = "${rels[0]}" ] || selftests "tigerlake-$newest" tigerlake "$newest" 1 KFP_BPF_OUTS=2000 \
	KFP_BPF_RACE_MAPS=50
[ -z "$debug_rel" ] || selftests "svm-$debug_rel" svm "$debug_rel" 2
for rel in "${rels[@]}"; do
	[ "$rel" = "$deb_rel" ] || selftests "svm-$rel" svm "$rel" 2
done
# deb_rel's svm machine runs the module DKMS built in the deb job, and
# then kselftest's runner over the installed tree (run_in_vm.sh).
mkdir -p "$logs/svm-dkms-$deb_rel"
# shellcheck disable=SC2046
emu_job "svm-dkms-$deb_rel" bash -c '
	until [ -f "$1" ]; do sleep 5; done
	read -r rc _ <"$1"
	[ "$rc" = 0 ] || { echo "emu: the deb job failed: no DKMS-built module"; exit 1; }
	shift
	exec "$@"' sh "$logs/deb.log.rc" \
	tools/emu/run.sh --machine svm --kernel "$deb_rel" --cpus 2 --timeout 2400 \
	--out "$logs/svm-dkms-$deb_rel" selftests/run_in_vm.sh \
	$(vm_files "$deb_rel" "build/deb/dkms/$deb_rel/kvm_fastpath.ko") \
	build/kselftest.tar $([ ! -s build/perf.tgz ] || echo build/perf.tgz)

# The report detector, end to end: a deliberate WARNING, then an
# indirect call to a function the IBT kernel sealed, must fail a run
# whose script itself succeeds (run.sh's exit 3), each report shown.
cat >"$logs/detector.sh" <<'SH'
insmod ./kfp_report_test.ko mode=warn
insmod ./kfp_report_test.ko mode=ibt
echo "detector script: done"
exit 0
SH
emu_job detector tools/emu/run.sh --machine tigerlake --kernel "${rels[0]}" \
	--timeout 600 --out "$logs/detector" "$logs/detector.sh" \
	"build/${rels[0]}/selftests/kfp_report_test.ko"

emu_job bench-smoke env KFP_BENCH_SMOKE=1 KFP_BENCH_EXITS=200 \
	KFP_BENCH_OUT="$logs/bench" tools/bench.sh "${rels[0]}"
wait

for name in "${emu_jobs[@]}"; do
	log=$logs/$name.log
	read -r rc secs <"$log.rc" || { rc=?; secs=?; }
	echo "   ($name: exit $rc after ${secs}s)"
	case "$name" in
	detector)
		if [ "$rc" = 3 ]; then
			result pass "detector: a run with kernel reports fails (exit 3)"
		else
			result fail "detector: a run with kernel reports fails (exit $rc, not 3; log: ${log#$top/})"
		fi
		if grep -q 'report [0-9]*: WARNING: .*kfp_report_init' "$log"; then
			result pass "detector: a WARNING is reported"
		else
			result fail "detector: a WARNING is reported (log: ${log#$top/})"
		fi
		if grep -q 'report [0-9]*: Missing ENDBR: kallsyms_lookup_name' "$log"; then
			result pass "detector: tigerlake enforces IBT: Missing ENDBR is reported"
		else
			result fail "detector: tigerlake enforces IBT: Missing ENDBR is reported (log: ${log#$top/})"
		fi
		;;
	deb)
		if [ "$rc" = 0 ]; then
			result pass "deb: make deb; apt install in trixie, DKMS builds for 6.12 and $deb_rel, tools and man pages; purge leaves nothing"
		else
			result fail "deb: packages built, installed and purged (log: ${log#$top/})"
			tail -n 20 "$log" | sed 's/^/    /'
		fi
		if [ -f build/deb/lintian.txt ] && [ ! -s build/deb/lintian.txt ]; then
			result pass "deb: lintian has no tags"
		else
			result fail "deb: lintian has no tags (build/deb/lintian.txt)"
			head -n 20 build/deb/lintian.txt 2>/dev/null | sed 's/^/    /'
		fi
		;;
	svm-dkms-*)
		ktap "$name:" "$log"
		[ "$rc" = 0 ] ||
			result fail "$name: emulated machine run exited $rc (log: ${log#$top/})"
		# Each test's totals, run directly and under run_kselftest.sh.
		direct=$(tr -d '\r' <"$log" | sed '/^kfp: run_kselftest.sh/,$d' | grep '^# Totals:')
		ksft=$(tr -d '\r' <"$log" | sed -n '/^kfp: run_kselftest.sh/,$p' |
			sed -n 's/^# \(# Totals:\)/\1/p')
		if [ -n "$direct" ] && [ "$direct" = "$ksft" ] &&
		   [ "$(echo "$ksft" | wc -l)" = "$(wc -l <build/kselftest-list.txt)" ]; then
			result pass "$name: run_kselftest.sh over the installed tree: every test's totals as run directly"
		else
			result fail "$name: run_kselftest.sh over the installed tree: every test's totals as run directly (log: ${log#$top/})"
			diff <(echo "$direct") <(echo "$ksft") | head -n 20 | sed 's/^/    /'
		fi
		;;
	bench-smoke)
		if [ "$rc" = 0 ]; then
			result pass "bench smoke run ${rels[0]}: complete table, CSV and chart"
		else
			result fail "bench smoke run ${rels[0]} (log: ${log#$top/})"
			tail -n 20 "$log" | sed 's/^/    /'
		fi
		;;
	*)
		ktap "$name:" "$log"
		if [ "$rc" != 0 ]; then
			result fail "$name: emulated machine run exited $rc (log: ${log#$top/})"
			grep '^emu: ' "$log" | head -n 40 | sed 's/^/    /'
		fi
		;;
	esac
done

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
