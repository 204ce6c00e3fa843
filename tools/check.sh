#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every check the project has, on every supported kernel.
#
#   1. the module builds with W=1 and warnings as errors
#   2. sparse (C=2) has nothing to say
#   3. checkpatch.pl --strict is clean on our sources
#   4. userspace builds; host tests run against this machine's /dev/kvm
#   5. the selftests run inside the emulated VMX (Bochs) and SVM (QEMU)
#      machines
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

echo "== module build (W=1, -Werror) and sparse (C=2)"
for rel in "${rels[@]}"; do
	run_step "build $rel W=1 -Werror" "$logs/build-$rel.log" \
		tools/build-module.sh "$rel" W=1 KCFLAGS=-Werror
	log=$logs/sparse-$rel.log
	tools/build-module.sh "$rel" C=2 >"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && ! grep -qE '(warning|error):' "$log"; then
		result pass "sparse $rel"
	else
		result fail "sparse $rel (log: ${log#$top/})"
		grep -E '(warning|error):' "$log" | head -n 20 | sed 's/^/    /'
	fi
done

echo "== checkpatch --strict"
mapfile -t srcs < <(git ls-files -co --exclude-standard -- '*.c' '*.h' '*.S')
run_step "checkpatch --strict (${#srcs[@]} files)" "$logs/checkpatch.log" \
	perl "$cache/checkpatch/checkpatch.pl" --no-tree --strict --show-types \
	-q -f "${srcs[@]}"

echo "== userspace build and host tests"
run_step "build kfp-run and selftests" "$logs/userspace.log" \
	make -s tools selftests
selftests/exit_dispatch_test >"$logs/host-exit_dispatch.log" 2>&1
ktap "host exit_dispatch_test:" "$logs/host-exit_dispatch.log"
selftests/kfp_run_test.sh >"$logs/host-kfp_run.log" 2>&1
ktap "host kfp_run_test:" "$logs/host-kfp_run.log"
selftests/kfp_stat_test.sh >"$logs/host-kfp_stat.log" 2>&1
ktap "host kfp_stat_test:" "$logs/host-kfp_stat.log"

# The files the selftests need inside the emulated machine.
vm_files() {	# vm_files REL
	echo "build/$1/kvm_fastpath.ko" "build/$1/selftests/kfp_test_handler.ko" \
		tools/kfp-run/kfp-run tools/kfp-stat/kfp-stat \
		selftests/exit_dispatch_test selftests/fastpath_test.sh \
		selftests/passthrough_test.sh selftests/nested_test.sh \
		selftests/l2_svm_guest.bin \
		selftests/kfp_stat_test.sh selftests/kfp_run_test.sh \
		selftests/module_test.sh selftests/ktap.sh selftests/kfp_lib.sh
}

# vmx: Bochs with VMX+EPT; svm: QEMU TCG with nested SVM and NPT.
for vendor in vmx svm; do
	echo "== selftests in the emulated $vendor machine"
	for rel in "${rels[@]}"; do
		log=$logs/emu-$vendor-$rel.log
		start=$SECONDS
		# shellcheck disable=SC2046
		tools/emu/run.sh --vendor $vendor --kernel "$rel" --timeout 1500 \
			selftests/run_in_vm.sh $(vm_files "$rel") >"$log" 2>&1
		rc=$?
		echo "   ($vendor $rel: ${rc} after $((SECONDS - start))s)"
		ktap "$vendor $rel:" "$log"
		if [ $rc -ne 0 ]; then
			result fail "$vendor $rel: emulated machine run exited $rc (log: ${log#$top/})"
			tail -n 15 "$log" | sed 's/^/    /'
		fi
	done
done

echo "== make bench, smoke run (200 exits, ${rels[0]})"
run_step "bench smoke run ${rels[0]}: complete table, CSV and chart" \
	"$logs/bench-smoke.log" env KFP_BENCH_SMOKE=1 KFP_BENCH_EXITS=200 \
	KFP_BENCH_OUT="$logs/bench" tools/bench.sh "${rels[0]}"

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
