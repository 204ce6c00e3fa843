#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: boot the emulated VMX machine (newest 6.12 kernel), load KVM
# and kvm_fastpath, run kfp-run's workloads with stock KVM and then with
# handlers on, and print kfp-stat's per-exit-reason tables.  About two
# and a half minutes here.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
rel=${KFP_KERNEL:-$(tools/emu/kernels.sh | sed -n 1p)}
tools/build-module.sh "$rel" >/dev/null

script=$(mktemp)
trap 'rm -f "$script"' EXIT
cat >"$script" <<'GUEST'
. ./guest-lib.sh
insmod ./kvm_fastpath.ko || exit 1
cat $D/info
./kfp-stat --reset
echo "== stock KVM: kfp-run --mode long mixed 500"
./kfp-run --mode long mixed 500 || exit 1
./kfp-stat
echo "== fast path on: OUT sink and IN const on port 0x510, doorbell at 0xd0000, CPUID"
kfp_workload_rules || exit 1
kfp_handlers enable io cpuid ept || exit 1
cat $D/handlers
./kfp-stat --reset
echo "== kfp-run --mode long mixed 500 (the guest's view; userspace no longer sees the handled exits)"
./kfp-run --mode long mixed 500 2>/dev/null | sed -n '/guest view/,/^$/p'
./kfp-stat
cat $D/rules
rmmod kvm_fastpath
GUEST
echo "demo: booting $rel in Bochs (VMX); this takes about two minutes"
tools/emu/run.sh --vendor vmx --kernel "$rel" "$script" tools/guest-lib.sh \
	"build/$rel/kvm_fastpath.ko" tools/kfp-run/kfp-run tools/kfp-stat/kfp-stat |
	grep -v -e '^kfp-emu: ' -e '^\[ *[0-9.]*\] '
