#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything kvm-fastpath needs on a fresh Debian 12 machine.
# Idempotent: packages already present are kept, cached kernels are reused.
#
# Host packages go through apt.  The kernels we boot in the emulated
# machine are *not* installed on the host: their image and KVM modules are
# unpacked into $KFP_CACHE/kernels/<release>/ (installing would run the
# initramfs hooks for nothing).  Their headers are installed, since the
# module builds against /usr/src/linux-headers-<release>.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${KFP_CACHE:-$top/.cache}
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive

pkgs=(build-essential bc kmod flex bison libelf-dev sparse xz-utils zstd
      busybox-static cpio bochs bochsbios vgabios isolinux syslinux-common
      xorriso qemu-system-x86 linux-source-6.12 gnuplot-nox python3)

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || echo "$p"
	done
}

$sudo apt-get update -qq
mapfile -t rels < <("$top/tools/emu/kernels.sh")
for rel in "${rels[@]}"; do
	pkgs+=("linux-headers-$rel")
done

mapfile -t need < <(missing "${pkgs[@]}")
if [ "${#need[@]}" -gt 0 ]; then
	echo "deps: installing ${need[*]}"
	$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Kernel images and the modules the emulated machine loads, per release.
# kvm-amd needs ccp (SEV).  The stamp names the list: a cache made with
# another list is fetched again.
kmods=(virt/lib/irqbypass arch/x86/kvm/kvm arch/x86/kvm/kvm-intel
       drivers/crypto/ccp/ccp arch/x86/kvm/kvm-amd)
stamp="modules: ${kmods[*]}"
for rel in "${rels[@]}"; do
	dst=$cache/kernels/$rel
	if [ "$(cat "$dst/.complete" 2>/dev/null)" = "$stamp" ]; then
		continue
	fi
	echo "deps: fetching kernel $rel into $dst"
	tmp=$(mktemp -d)
	chmod 755 "$tmp"	# apt downloads as _apt
	(cd "$tmp" && apt-get download -qq "linux-image-$rel-unsigned" 2>&1 |
		grep -v 'unsandboxed' >&2 || true)
	dpkg-deb -x "$tmp"/linux-image-*.deb "$tmp/root"
	rm -rf "$dst"
	mkdir -p "$dst/modules"
	cp "$tmp/root/boot/vmlinuz-$rel" "$dst/vmlinuz"
	cp "$tmp/root/boot/config-$rel" "$dst/config"
	# Kept compressed as shipped: kbuild's "clean" deletes every *.ko
	# below M=, and this cache lives there.
	for m in "${kmods[@]}"; do
		src=$(ls "$tmp/root/lib/modules/$rel/kernel/$m".ko*)
		case "$src" in
		*.ko) xz -c "$src" >"$dst/modules/$(basename "$src").xz" ;;
		*)    cp "$src" "$dst/modules/" ;;
		esac
	done
	rm -rf "$tmp"
	echo "$rel" >"$dst/release"
	echo "$stamp" >"$dst/.complete"
done

# checkpatch.pl and its data files, from Debian's linux-source package.
cp_dir=$cache/checkpatch
if [ ! -f "$cp_dir/checkpatch.pl" ]; then
	tarball=$(ls /usr/src/linux-source-6.12.tar.* | head -n 1)
	mkdir -p "$cp_dir"
	tar -xf "$tarball" -C "$cp_dir" --strip-components=2 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
fi
echo "deps: ok (kernels: ${rels[*]})"
