#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a stock Debian kernel in an emulated PC with hardware
# virtualization, load KVM, run a script inside, power off.
#
#   tools/emu/run.sh [options] SCRIPT [FILE...]
#
#   --vendor vmx      Bochs with VMX+EPT (corei7_haswell_4770); the default
#   --vendor svm      QEMU TCG with nested SVM and NPT (-cpu EPYC,+svm,+npt)
#   --kernel REL      kernel release from $KFP_CACHE/kernels (default: newest 6.12)
#   --timeout SEC     give up after SEC seconds (default 1500)
#   --out DIR         keep the serial log and emulator files here
#   --ips N           Bochs instructions per second (default 50000000)
#
# SCRIPT runs as /kfp/run.sh with /kfp (holding FILE...) as its working
# directory and the KVM modules already loaded.  The exit code is the
# script's, or 124 on timeout, or 1 on a kernel crash or a boot failure.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${KFP_CACHE:-$top/.cache}
vendor=vmx
rel=
timeout_s=1500
out=
ips=50000000

die() { echo "emu: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--vendor)  vendor=${2:?}; shift 2 ;;
	--kernel)  rel=${2:?}; shift 2 ;;
	--timeout) timeout_s=${2:?}; shift 2 ;;
	--out)     out=${2:?}; shift 2 ;;
	--ips)     ips=${2:?}; shift 2 ;;
	-h|--help) sed -n '3,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	--*)       die "unknown option $1" ;;
	*)         break ;;
	esac
done
[ $# -ge 1 ] || die "usage: run.sh [options] SCRIPT [FILE...]"
script=$1
shift
[ -f "$script" ] || die "no script $script"
case "$vendor" in
vmx) kvm_vendor=kvm-intel ;;
svm) kvm_vendor="ccp kvm-amd" ;;
*)   die "vendor '$vendor' is not supported (vmx or svm)" ;;
esac
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
for f in "$@"; do
	cp "$f" "$root/kfp/"
done
echo "$kvm_vendor" >"$root/kfp/vendor-module"
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
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
# poweroff -f does not wait for the serial line: let it drain first.
drain() {
	last=
	now=$(grep '^0:' /proc/tty/driver/serial)
	while [ "$now" != "$last" ]; do
		last=$now
		sleep 0.2
		now=$(grep '^0:' /proc/tty/driver/serial)
	done
}
drain
echo "kfp-emu: exit $rc"
drain
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) >"$work/initrd.img"

cmdline="console=ttyS0,115200 rdinit=/init quiet panic=-1"
: >"$work/serial.log"

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
cpu: model=corei7_haswell_4770, count=1, ips=$ips, ignore_bad_msrs=1
clock: sync=none, time0=1
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path=$work/boot.iso, status=inserted
boot: cdrom
display_library: rfb, options="timeout=0"
com1: enabled=1, mode=file, dev=$work/serial.log
sound: driver=dummy
speaker: enabled=0
error: action=ignore
log: $work/bochs.log
RC
	printf 'c\nq\n' >"$work/debugger.rc"

	# One Bochs at a time: its rfb display listens on a fixed TCP port.
	exec 9>"${TMPDIR:-/tmp}/kfp-emu.lock"
	flock 9

	bochs-bin -q -f "$work/bochsrc" -rc "$work/debugger.rc" </dev/null \
		>"$work/emu.out" 2>&1 &
	emu=$!
}

# --- SVM: QEMU's TCG emulates nested SVM and NPT; it boots -kernel directly
start_qemu() {
	qemu-system-x86_64 -accel tcg -cpu EPYC,+svm,+npt -m 512 -smp 1 \
		-nodefaults -display none -no-reboot -monitor none \
		-serial "file:$work/serial.log" \
		-kernel "$kdir/vmlinuz" -initrd "$work/initrd.img" \
		-append "$cmdline kfp_emu=qemu-tcg" </dev/null >"$work/emu.out" 2>&1 &
	emu=$!
}

case "$vendor" in
vmx) start_bochs ;;
svm) start_qemu ;;
esac
trap 'kill $emu 2>/dev/null || true; wait $emu 2>/dev/null || true' INT TERM
tail -n +1 -f --pid=$emu "$work/serial.log" &
tailer=$!

# Watch the serial log for the end marker, a crash, or the deadline.
verdict() {
	if grep -q '^kfp-emu: exit [0-9]*' "$work/serial.log"; then
		echo done
	elif grep -qE '(^|\] )(Kernel panic|BUG: |general protection fault)' "$work/serial.log"; then
		echo crash
	fi
}
status=
deadline=$((SECONDS + timeout_s))
while [ -z "$status" ] && kill -0 $emu 2>/dev/null; do
	sleep 1
	status=$(verdict)
	if [ -z "$status" ] && [ $SECONDS -ge $deadline ]; then
		status=timeout
	fi
done
[ -n "$status" ] || status=$(verdict)
# Give poweroff a moment to end the emulator by itself, then end it.
for _ in 1 2 3 4 5; do
	kill -0 $emu 2>/dev/null || break
	sleep 1
done
kill $emu 2>/dev/null || true
wait $emu 2>/dev/null || true
kill $tailer 2>/dev/null || true
wait $tailer 2>/dev/null || true

case "$status" in
done)
	rc=$(sed -n 's/^kfp-emu: exit \([0-9]*\).*/\1/p' "$work/serial.log" | tail -n 1)
	exit "$rc" ;;
timeout)
	echo "emu: timed out after ${timeout_s}s" >&2
	exit 124 ;;
crash)
	sleep 2	# let the oops finish printing
	echo "emu: the emulated kernel crashed" >&2
	exit 1 ;;
*)
	echo "emu: the emulator ended before the script finished; see $work/emu.out" >&2
	tail -n 20 "$work/emu.out" >&2
	exit 1 ;;
esac
