#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything kvm-fastpath needs on a fresh Debian 12 machine.
# Idempotent: packages already present are kept, cached kernels and
# userlands are reused while they still match what is resolved.
#
# Host packages go through apt.  The kernels we boot in the emulated
# machine are *not* installed on the host: their image and KVM modules are
# unpacked into $KFP_CACHE/kernels/<release>/ (installing would run the
# initramfs hooks for nothing).  Headers of the host's own lines (6.1,
# 6.12) are installed on the host.  The 7.x headers need a newer
# compiler and C library than bookworm has: they go into a Debian
# userland of the suite that ships them (mmdebstrap, $KFP_CACHE/userland/
# SUITE), where tools/build-module.sh builds.  The 7.x packages come
# through the project's private apt view (tools/emu/apt.sh); the host's
# apt sources are never changed.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${KFP_CACHE:-$top/.cache}
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive

pkgs=(build-essential bc kmod flex bison libelf-dev sparse xz-utils zstd
      busybox-static cpio bochs bochsbios vgabios isolinux syslinux-common
      xorriso qemu-system-x86 linux-source-6.12 gnuplot-nox python3
      mmdebstrap debian-archive-keyring linux-perf rsync
      debhelper dh-dkms dkms lintian fakeroot help2man)

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || echo "$p"
	done
}

# apt prints this for downloads into root-owned folders; it is harmless.
quiet_apt() {
	grep -v -e 'unsandboxed' -e '^W: Download is performed' >&2 || true
}

$sudo apt-get update -qq
# mmdebstrap and the keyring first: the private view needs the keyring.
mapfile -t need < <(missing debian-archive-keyring)
[ "${#need[@]}" -eq 0 ] ||
	$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
"$top/tools/emu/apt.sh" update 2>&1 | quiet_apt

mapfile -t rels < <("$top/tools/emu/kernels.sh")
declare -A suite_of suite_pkgs
for rel in "${rels[@]}"; do
	suite=$("$top/tools/emu/kernels.sh" --suite "$rel")
	suite_of[$rel]=$suite
	if [ "$suite" = host ]; then
		pkgs+=("linux-headers-$rel")
	else
		suite_pkgs[$suite]+=" linux-headers-$rel"
	fi
done

mapfile -t need < <(missing "${pkgs[@]}")
if [ "${#need[@]}" -gt 0 ]; then
	echo "deps: installing ${need[*]}"
	$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# A userland per suite for the kernels the host cannot build for: the
# headers pull in the suite's compiler (gcc-14-for-host, gcc-16-for-host).
# The stamp names what was included; a userland made for another list is
# made again (about a minute).
for suite in "${!suite_pkgs[@]}"; do
	dst=$cache/userland/$suite
	inc="make sparse${suite_pkgs[$suite]}"
	if [ "$(cat "$dst.stamp" 2>/dev/null)" = "$inc" ]; then
		continue
	fi
	echo "deps: making a $suite userland with $inc (about a minute)"
	mapfile -t srcs < <("$top/tools/emu/apt.sh" sources |
		grep -E " $suite(-backports)? ")
	$sudo rm -rf "$dst" "$dst.stamp"
	mkdir -p "$cache/userland"
	$sudo mmdebstrap --quiet --variant=apt --include="${inc// /,}" \
		"$suite" "$dst" "${srcs[@]}"
	echo "$inc" >"$dst.stamp"
done

# The BPF userland (tools/kfp-bpf/build.sh): trixie's libbpf (1.5: it
# finds a struct_ops in a module's BTF, which bookworm's 1.1 cannot) and
# clang for the BPF programs; static libraries, for a kfp-bpf that runs
# in the emulated machines' initramfs.
dst=$cache/userland/bpf
inc="make gcc libc6-dev clang llvm libbpf-dev libelf-dev zlib1g-dev libzstd-dev"
if [ "$(cat "$dst.stamp" 2>/dev/null)" != "$inc" ]; then
	echo "deps: making the BPF userland (trixie) with $inc (about a minute)"
	mapfile -t srcs < <("$top/tools/emu/apt.sh" sources | grep -E ' trixie ')
	$sudo rm -rf "$dst" "$dst.stamp"
	mkdir -p "$cache/userland"
	$sudo mmdebstrap --quiet --variant=apt --include="${inc// /,}" \
		trixie "$dst" "${srcs[@]}"
	echo "$inc" >"$dst.stamp"
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
	if [ "${suite_of[$rel]}" = host ]; then
		(cd "$tmp" && apt-get download -qq "linux-image-$rel-unsigned" 2>&1 | quiet_apt)
	else
		(cd "$tmp" && "$top/tools/emu/apt.sh" get download -qq \
			"linux-binary-unsigned-$rel" "linux-modules-$rel" \
			"linux-base-$rel" 2>&1 | quiet_apt)
	fi
	for deb in "$tmp"/*.deb; do
		dpkg-deb -x "$deb" "$tmp/root"
	done
	rm -rf "$dst"
	mkdir -p "$dst/modules"
	if [ -f "$tmp/root/boot/vmlinuz-$rel" ]; then
		cp "$tmp/root/boot/vmlinuz-$rel" "$dst/vmlinuz"
		cp "$tmp/root/boot/config-$rel" "$dst/config"
		moddir=$tmp/root/lib/modules/$rel
	else
		moddir=$tmp/root/usr/lib/modules/$rel
		cp "$moddir/vmlinuz.unsigned" "$dst/vmlinuz"
		cp "$moddir/config" "$dst/config"
	fi
	# Kept compressed as shipped: kbuild's "clean" deletes every *.ko
	# below M=, and this cache lives there.
	for m in "${kmods[@]}"; do
		src=$(ls "$moddir/kernel/$m".ko*)
		case "$src" in
		*.ko) xz -c "$src" >"$dst/modules/$(basename "$src").xz" ;;
		*)    cp "$src" "$dst/modules/" ;;
		esac
	done
	rm -rf "$tmp"
	echo "$rel" >"$dst/release"
	echo "$stamp" >"$dst/.complete"
done

# Where each release builds: the host, or a userland made above.
for rel in "${rels[@]}"; do
	if [ "${suite_of[$rel]}" = host ]; then
		echo host
	else
		echo "$cache/userland/${suite_of[$rel]}"
	fi >"$cache/kernels/$rel/userland"
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
# kselftest's build rules, headers and runner (selftests/Makefile's
# KSFT_DIR), from the same package.
ks_dir=$cache/kselftest
if [ ! -f "$ks_dir/run_kselftest.sh" ]; then
	tarball=$(ls /usr/src/linux-source-6.12.tar.* | head -n 1)
	mkdir -p "$ks_dir"
	tar -xf "$tarball" -C "$ks_dir" --strip-components=4 --wildcards \
		'*/tools/testing/selftests/lib.mk' \
		'*/tools/testing/selftests/kselftest.h' \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest/*' \
		'*/tools/testing/selftests/run_kselftest.sh'
fi
# The debug kernel (about 7 minutes on 2 cores the first time, cached).
debug_rel=$("$top/tools/emu/debug-kernel.sh")
echo "deps: ok (kernels: ${rels[*]}; debug kernel: $debug_rel)"
