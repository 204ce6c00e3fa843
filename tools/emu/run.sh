#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a stock Debian kernel in an emulated PC with hardware
# virtualization, load KVM, run a script inside, power off.
#
#   tools/emu/run.sh [options] SCRIPT [FILE...]
#
#   --machine NAME    haswell:   Bochs, corei7_haswell_4770, VMX+EPT (default;
#                                its TSC counts instructions: make bench's)
#                     tigerlake: Bochs, tigerlake, VMX+EPT and CET: the guest
#                                kernel enforces IBT
#                     svm:       QEMU TCG, -cpu EPYC,+svm,+npt (no NRIPS)
#                     ryzen:     Bochs, ryzen, SVM+NPT with NRIPS
#   --vendor vmx|svm  the same as --machine haswell or svm
#   --kernel REL      kernel release from $KFP_CACHE/kernels (default: newest 6.12)
#   --timeout SEC     give up after SEC seconds (default 1500)
#   --out DIR         keep the serial logs and emulator files here
#   --ips N           Bochs instructions per second (default 50000000)
#   --cpus N          CPUs of the emulated machine (default 1)
#   --append ARGS     more kernel command-line arguments
#
# SCRIPT runs as /kfp/run.sh with /kfp (holding FILE...) as its working
# directory and the KVM modules already loaded.  Its output (and what this
# prints) is on the second serial line; the kernel's console, at full log
# level, is on the first.  The kernel command line names the machine
# (kfp_machine=NAME kfp_cpus=N kfp_kernel=stock|debug) so tests can check
# what it claims; /kfp/kernel.config is the kernel's config.
#
# Every kernel report on the console (tools/emu/reports.awk: BUG, WARNING,
# Oops, Missing ENDBR, lockdep, RCU stalls, lockups, hung tasks, KASAN,
# UBSAN, traces) fails the run, even if the script goes on and succeeds;
# only the emulators' own boot noise listed in tools/emu/boot-noise.txt is
# excused, and only before /init starts.
#
# Exit code: the script's; 3 if the kernel reported a problem; 124 on
# timeout; 1 on a boot failure or if the emulator died.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${KFP_CACHE:-$top/.cache}
machine=haswell
rel=
timeout_s=1500
out=
ips=50000000
cpus=1
append=

die() { echo "emu: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--machine) machine=${2:?}; shift 2 ;;
	--vendor)  case "${2:?}" in
		   vmx) machine=haswell ;;
		   svm) machine=svm ;;
		   *)   die "vendor '$2' is not supported (vmx or svm)" ;;
		   esac
		   shift 2 ;;
	--kernel)  rel=${2:?}; shift 2 ;;
	--timeout) timeout_s=${2:?}; shift 2 ;;
	--out)     out=${2:?}; shift 2 ;;
	--ips)     ips=${2:?}; shift 2 ;;
	--cpus)    cpus=${2:?}; shift 2 ;;
	--append)  append=${2:?}; shift 2 ;;
	-h|--help) sed -n '3,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	--*)       die "unknown option $1" ;;
	*)         break ;;
	esac
done
[ $# -ge 1 ] || die "usage: run.sh [options] SCRIPT [FILE...]"
script=$1
shift
[ -f "$script" ] || die "no script $script"
# Bochs' tigerlake reports a PKRU state of 0 bytes (CPUID 0xd.9), which
# 7.x cannot boot with (its XSAVE fallback dereferences NULL): no PKU.
# Bochs 2.7's MWAITX timer never fires (set_mwaitx_timer() arms timer 0,
# not its own), and Linux on AMD delays with MWAITX, IRQs off, from
# init_8259A() on: the ryzen model hangs at boot unless MWAIT is a NOP
# (Documentation/testing.rst).
extra=
cpu_extra=
case "$machine" in
haswell)   cpu_model=corei7_haswell_4770 kvm_vendor=kvm-intel ;;
tigerlake) cpu_model=tigerlake kvm_vendor=kvm-intel extra=clearcpuid=pku,xsaves,xsavec,sha_ni ;;
ryzen)     cpu_model=ryzen kvm_vendor="ccp kvm-amd" cpu_extra=", mwait_is_nop=1" extra=clearcpuid=xsaves,xsavec,sha_ni ;;
svm)       cpu_model= kvm_vendor="ccp kvm-amd" extra=kfp_emu=qemu-tcg ;;
*)         die "machine '$machine' is not known (haswell, tigerlake, ryzen, svm)" ;;
esac
# Bochs' TSC-deadline timer fires late on an idle CPU of a machine with
# more than one: an RCU grace period with both CPUs idle took 2.3 s of
# guest time (20 in 47 s), and 0.05 s with the LAPIC's own one-shot mode
# (Documentation/testing.rst).
if [ "$machine" != svm ] && [ "$cpus" -gt 1 ]; then
	extra="$extra lapic=notscdeadline"
fi
[ -n "$rel" ] || rel=$("$top/tools/emu/kernels.sh" | sed -n 1p)
kdir=$cache/kernels/$rel
[ -f "$kdir/.complete" ] || die "kernel $rel not in $kdir: run 'make deps'"

if [ -n "$out" ]; then
	mkdir -p "$out"
	work=$(cd "$out" && pwd)
else
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
fi

# --- initramfs: busybox, KVM modules, our files, an /init that runs SCRIPT
root=$work/root
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,kfp/mod}
cp /bin/busybox "$root/bin/busybox"
for m in "$kdir/modules/"*.ko*; do
	b=$(basename "$m")
	case "$m" in
	*.xz)  xz -dc "$m" >"$root/kfp/mod/${b%.xz}" ;;
	*.zst) zstd -qdc "$m" >"$root/kfp/mod/${b%.zst}" ;;
	*)     cp "$m" "$root/kfp/mod/" ;;
	esac
done
cp "$script" "$root/kfp/run.sh"
cp "$kdir/config" "$root/kfp/kernel.config"
for f in "$@"; do
	cp "$f" "$root/kfp/"
done
# ccp is there for SEV, which a kernel built without it (the debug
# kernel) does not need.
[ -e "$root/kfp/mod/ccp.ko" ] || kvm_vendor=${kvm_vendor#ccp }
echo "$kvm_vendor" >"$root/kfp/vendor-module"
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
# The links udev makes (kselftest's runner writes to /dev/stdout).
for l in fd:fd stdin:fd/0 stdout:fd/1 stderr:fd/2; do
	[ -e /dev/${l%:*} ] || ln -s /proc/self/${l#*:} /dev/${l%:*}
done
# The script's output goes to the second serial line; the kernel's
# console keeps the first to itself.
stty -F /dev/ttyS1 115200 2>/dev/null
exec >/dev/ttyS1 2>&1 </dev/null
# Marks, in the kernel log, where the boot ends: reports.awk excuses
# known boot noise before it only.
echo "kfp-emu: init started" >/dev/kmsg
export PATH=/bin:/kfp
echo "kfp-emu: booted $(uname -r)"
rc=0
for m in irqbypass kvm $(cat /kfp/vendor-module); do
	insmod /kfp/mod/$m.ko || rc=1
done
if [ $rc -eq 0 ]; then
	echo "kfp-emu: kvm loaded"
	cd /kfp && sh ./run.sh
	rc=$?
fi
# poweroff -f does not wait for the serial lines: let them drain first
# (the driver's counters file is "serial" up to 6.12, "serial_8250" in 7.x).
drain() {
	last=
	now=$(cat /proc/tty/driver/serial* | grep -E '^[01]:')
	while [ "$now" != "$last" ]; do
		last=$now
		sleep 0.2
		now=$(cat /proc/tty/driver/serial* | grep -E '^[01]:')
	done
}
drain
echo "kfp-emu: script done" >/dev/kmsg
echo "kfp-emu: exit $rc"
drain
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) >"$work/initrd.img"

# No "quiet": every kernel message reaches the console, so the report
# detector sees WARNINGs and lockdep's reports (KERN_WARNING) too.  The
# command line says what the machine claims: the machine, its CPUs, a kernel the project
# built with its checkers (tools/emu/debug-kernel.sh).
kind=stock
[ ! -f "$kdir/build" ] || kind=debug
cmdline="console=ttyS0,115200 rdinit=/init panic=-1 kfp_machine=$machine kfp_cpus=$cpus kfp_kernel=$kind $extra $append"
klog=$work/serial.log		# ttyS0: the kernel's console
tlog=$work/tests.log		# ttyS1: the script's output
: >"$klog"
: >"$tlog"

# --- VMX: Bochs, booted from an ISO (Bochs has no -kernel)
start_bochs() {
	local iso=$work/iso

	rm -rf "$iso"
	mkdir -p "$iso/isolinux"
	cp /usr/lib/ISOLINUX/isolinux.bin \
		/usr/lib/syslinux/modules/bios/ldlinux.c32 "$iso/isolinux/"
	cp "$kdir/vmlinuz" "$iso/vmlinuz"
	mv "$work/initrd.img" "$iso/initrd.img"
	cat >"$iso/isolinux/isolinux.cfg" <<CFG
DEFAULT kfp
PROMPT 0
TIMEOUT 0
LABEL kfp
  KERNEL /vmlinuz
  APPEND initrd=/initrd.img $cmdline
CFG
	xorriso -as mkisofs -quiet -R -o "$work/boot.iso" \
		-b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot \
		-boot-load-size 4 -boot-info-table "$iso"

	cat >"$work/bochsrc" <<RC
megs: 512
cpu: model=$cpu_model, count=$cpus, ips=$ips, ignore_bad_msrs=1$cpu_extra
clock: sync=none, time0=1
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path=$work/boot.iso, status=inserted
boot: cdrom
display_library: rfb, options="timeout=0"
com1: enabled=1, mode=file, dev=$klog
com2: enabled=1, mode=file, dev=$tlog
sound: driver=dummy
speaker: enabled=0
error: action=ignore
log: $work/bochs.log
RC
	printf 'c\nq\n' >"$work/debugger.rc"

	bochs-bin -q -f "$work/bochsrc" -rc "$work/debugger.rc" </dev/null \
		>"$work/emu.out" 2>&1 &
	emu=$!
}

# --- SVM: QEMU's TCG emulates nested SVM and NPT; it boots -kernel directly.
# One host thread for all vCPUs: QEMU 7.2's multi-threaded TCG mishandles
# cross-modifying code (a static key toggled while another vCPU runs its
# site ends in "Oops: int3"; Documentation/testing.rst).
start_qemu() {
	qemu-system-x86_64 -accel tcg,thread=single -cpu EPYC,+svm,+npt -m 512 -smp "$cpus" \
		-nodefaults -display none -no-reboot -monitor none \
		-serial "file:$klog" -serial "file:$tlog" \
		-kernel "$kdir/vmlinuz" -initrd "$work/initrd.img" \
		-append "$cmdline" </dev/null >"$work/emu.out" 2>&1 &
	emu=$!
}

case "$machine" in
svm) start_qemu ;;
*)   start_bochs ;;
esac
trap 'kill $emu 2>/dev/null || true; wait $emu 2>/dev/null || true' INT TERM
tail -n +1 -f --pid=$emu "$tlog" &
tailer=$!

reports() {
	awk -f "$here/reports.awk" "$here/boot-noise.txt" "$klog"
}

# Watch for the end marker, a panic, a report, or the deadline.  After a
# report the script gets two more minutes to finish and print its results:
# a kernel that reported a problem may hang.
status=
grace=
deadline=$((SECONDS + timeout_s))
while [ -z "$status" ] && kill -0 $emu 2>/dev/null; do
	sleep 1
	if grep -q '^kfp-emu: exit [0-9]*' "$tlog"; then
		status=done
	elif grep -q 'Kernel panic' "$klog"; then
		status=panic
	elif [ $SECONDS -ge $deadline ] ||
	     { [ -n "$grace" ] && [ $SECONDS -ge "$grace" ]; }; then
		status=timeout
	elif [ -z "$grace" ] && ! reports >/dev/null; then
		grace=$((SECONDS + 120))
	fi
done
[ -n "$status" ] || ! grep -q '^kfp-emu: exit [0-9]*' "$tlog" || status=done
# Give poweroff a moment to end the emulator by itself, then end it.
for _ in 1 2 3 4 5; do
	kill -0 $emu 2>/dev/null || break
	sleep 1
done
kill $emu 2>/dev/null || true
wait $emu 2>/dev/null || true
kill $tailer 2>/dev/null || true
wait $tailer 2>/dev/null || true

# What --out keeps: the logs, not the machine's disk and initramfs.
rm -rf "$root" "$work/iso" "$work/boot.iso" "$work/initrd.img"

rc=
case "$status" in
done)
	rc=$(sed -n 's/^kfp-emu: exit \([0-9]*\).*/\1/p' "$tlog" | tail -n 1) ;;
timeout)
	echo "emu: timed out after ${timeout_s}s (or 120s after a kernel report)" >&2
	rc=124 ;;
panic)
	echo "emu: the emulated kernel panicked" >&2
	rc=1 ;;
*)
	echo "emu: the emulator ended before the script finished; see $work/emu.out" >&2
	tail -n 20 "$work/emu.out" >&2
	rc=1 ;;
esac
if ! reports >"$work/reports.txt"; then
	echo "emu: the kernel reported a problem ($machine, $rel); each report:" >&2
	sed 's/^/emu: | /' "$work/reports.txt" >&2
	[ "$status" != done ] || rc=3
fi
if [ "$rc" != 0 ] && [ "$status" != done ]; then
	echo "emu: the kernel console's last lines:" >&2
	tail -n 30 "$klog" | sed 's/^/emu: > /' >&2
fi
exit "$rc"
