#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: cost of an exit with and without kvm_fastpath, measured in
# one boot of the emulated VMX machine.
#
# Bochs' corei7_haswell_4770 model ticks the guest TSC once per emulated
# instruction, so the guest's RDTSC deltas are emulated instructions, the
# same on every run and every host, apart from the host timer interrupts
# that land inside a loop.  The bench checks that claim: stock KVM runs
# twice and the two runs must agree within 0.5%.
#
#   tools/bench.sh [KERNEL...]     default: every supported kernel
#
# Environment: KFP_BENCH_EXITS (default 20000) exits per workload.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
n=${KFP_BENCH_EXITS:-20000}
if [ $# -gt 0 ]; then
	rels=("$@")
else
	mapfile -t rels < <(tools/emu/kernels.sh)
fi
make -s tools
results=$top/build/bench
mkdir -p "$results"

script=$(mktemp)
trap 'rm -f "$script"' EXIT
cat >"$script" <<GUEST
# One line per workload: BENCH <config> <kind> <exits> <ticks>
bench() {
	./kfp-run --cpuid $n --out $n | awk -v cfg=\$1 '
		\$1 == "cpuid" || \$1 == "out" { print "BENCH", cfg, \$1, \$2, \$3 }'
}
bench stock
bench stock-repeat
insmod ./kvm_fastpath.ko || exit 1
bench hooked
rmmod kvm_fastpath
bench unhooked
GUEST

for rel in "${rels[@]}"; do
	tools/build-module.sh "$rel" >"$results/build-$rel.log" 2>&1 || {
		cat "$results/build-$rel.log" >&2
		exit 1
	}
	log=$results/vmx-$rel.log
	echo "bench: $rel in Bochs (VMX), $n exits per workload"
	tools/emu/run.sh --vendor vmx --kernel "$rel" "$script" \
		"build/$rel/kvm_fastpath.ko" tools/kfp-run/kfp-run >"$log" 2>&1 || {
		echo "bench: the emulated run failed; see $log" >&2
		exit 1
	}
	awk -v rel="$rel" '
	$1 == "BENCH" { per[$2, $3] = $5 / $4; seen[$3] = 1 }
	END {
		printf "\n%s, emulated instructions per exit (guest RDTSC, haswell model)\n\n", rel
		printf "| exit | stock KVM | stock again | repeat diff | kvm_fastpath hooked | hooked - stock | hooked / stock |\n"
		printf "|---|---|---|---|---|---|---|\n"
		for (k in seen) {
			s = per["stock", k]; r = per["stock-repeat", k]; h = per["hooked", k]
			d = (r - s) / s * 100
			printf "| %s | %.1f | %.1f | %+.2f%% | %.1f | %+.1f | %.4f |\n", k,
				s, r, d, h, h - s, h / s
			if (d > 0.5 || d < -0.5)
				bad = 1
		}
		if (bad) {
			print "\nbench: the two stock runs differ by more than 0.5%: the figures are not reliable"
			exit 1
		}
	}' "$log" | tee "$results/vmx-$rel.md"
done
