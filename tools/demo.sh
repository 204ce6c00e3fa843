#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: boot the emulated VMX machine (newest 6.12 kernel), load KVM
# and kvm_fastpath, run kfp-run's workloads and print the module's
# per-exit-reason table.  About two minutes here.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
rel=${KFP_KERNEL:-$(tools/emu/kernels.sh | sed -n 1p)}
tools/build-module.sh "$rel" >/dev/null

script=$(mktemp)
trap 'rm -f "$script"' EXIT
cat >"$script" <<'GUEST'
exits=/sys/kernel/debug/kvm_fastpath/exits
insmod ./kvm_fastpath.ko || exit 1
cat /sys/kernel/debug/kvm_fastpath/info
echo reset >$exits
echo "== kfp-run --out 1000 --in 500 --cpuid 2000 --hlt 100 --mmio 200"
./kfp-run --out 1000 --in 500 --cpuid 2000 --hlt 100 --mmio 200
rc=$?
echo "== $exits (rows with exits)"
awk '/^#/ || $3 != 0' $exits
rmmod kvm_fastpath
exit $rc
GUEST
echo "demo: booting $rel in Bochs (VMX); this takes about two minutes"
tools/emu/run.sh --vendor vmx --kernel "$rel" "$script" \
	"build/$rel/kvm_fastpath.ko" tools/kfp-run/kfp-run |
	grep -v -e '^kfp-emu: ' -e '^\[ *[0-9.]*\] '
