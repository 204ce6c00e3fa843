#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The packages of make deb, installed for real: in a Debian trixie
# userland made here (mmdebstrap, the project's apt view), with the
# headers of trixie's own 6.12 and of the 7.3 that make check boots,
#   apt-get install ./kvm-fastpath-dkms_*.deb ./kvm-fastpath-tools_*.deb
# must have DKMS build and install the module for both, dkms status say
# so, the tools and their manual pages work; then the module DKMS built
# for 7.3 is copied to build/deb/dkms/RELEASE/kvm_fastpath.ko (for the
# emulated machine), and apt-get purge must leave nothing behind.
#
#   tools/deb-test.sh        after make deb; output in build/deb/test.log
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$top/build/deb
root=$out/chroot
log=$out/test.log
die() { echo "deb-test: $*" >&2; exit 1; }

ls "$out"/kvm-fastpath-dkms_*_all.deb "$out"/kvm-fastpath-tools_*_amd64.deb \
	>/dev/null 2>&1 || die "no packages in ${out#"$top"/}: run make deb"
# The 7.x release make check boots from trixie(-backports).
rel73=$(for r in $(tools/emu/kernels.sh); do
	[ "$(tools/emu/kernels.sh --suite "$r")" != trixie ] || echo "$r"; done | head -n 1)
[ -n "$rel73" ] || die "no trixie kernel among make check's"

# The userland is kept (build/deb/chroot) for the next run while it has
# none of the packages installed and was made for the same headers.
inc="dkms,man-db,linux-headers-amd64,linux-headers-$rel73"
: >"$log"
if [ "$(cat "$root.stamp" 2>/dev/null)" != "$inc" ] ||
   chroot "$root" dpkg-query -W 'kvm-fastpath-*' >/dev/null 2>&1; then
	mapfile -t srcs < <(tools/emu/apt.sh sources | grep -E ' trixie(-backports)? ')
	rm -rf "$root" "$root.stamp"
	echo "deb-test: a trixie userland with dkms and the headers of 6.12 and $rel73"
	mmdebstrap --quiet --variant=apt --include="$inc" trixie "$root" "${srcs[@]}" \
		>"$log" 2>&1 || { tail "$log" >&2; die "mmdebstrap failed"; }
	echo "$inc" >"$root.stamp"
fi

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive "$@"; }
mapfile -t kvers < <(ls "$root/lib/modules")
echo "deb-test: headers for ${kvers[*]}"
[ "${#kvers[@]}" -ge 2 ] || die "expected headers of two kernels, got: ${kvers[*]}"

rm -rf "$root/tmp/debs"
mkdir -p "$root/tmp/debs"
cp "$out"/kvm-fastpath-dkms_*_all.deb "$out"/kvm-fastpath-tools_*_amd64.deb "$root/tmp/debs/"
debs=$(cd "$root" && ls tmp/debs/*.deb | sed 's|^|/|')
mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true' EXIT
start=$SECONDS
# shellcheck disable=SC2086
in_root apt-get install -y $debs >>"$log" 2>&1 ||
	{ tail -n 30 "$log" >&2; die "apt-get install failed"; }
echo "deb-test: installed, DKMS builds included, in $((SECONDS - start)) s"
in_root dkms status | tee -a "$log"
for k in "${kvers[@]}"; do
	in_root dkms status -k "$k" kvm-fastpath | grep -q ': installed' ||
		die "dkms status: kvm-fastpath is not installed for $k"
	[ -f "$root/lib/modules/$k/updates/dkms/kvm_fastpath.ko" ] ||
		[ -f "$root/lib/modules/$k/updates/dkms/kvm_fastpath.ko.xz" ] ||
		die "no kvm_fastpath.ko for $k under /lib/modules/$k/updates/dkms"
done
in_root kfp-stat --help >/dev/null || die "kfp-stat --help failed"
in_root kfp-run --help >/dev/null || die "kfp-run --help failed"
in_root man -w kfp-stat >/dev/null || die "no manual page for kfp-stat"
in_root man -w kfp-run >/dev/null || die "no manual page for kfp-run"
echo "deb-test: dkms status, the tools and their manual pages: ok"

mkdir -p "$out/dkms/$rel73"
ko=$root/lib/modules/$rel73/updates/dkms/kvm_fastpath.ko
if [ -f "$ko.xz" ]; then xz -dc "$ko.xz" >"$out/dkms/$rel73/kvm_fastpath.ko"; else cp "$ko" "$out/dkms/$rel73/"; fi
modinfo -F vermagic "$out/dkms/$rel73/kvm_fastpath.ko" | grep -q "^$rel73 " ||
	die "the DKMS-built module is not for $rel73"
echo "deb-test: the module DKMS built for $rel73 is in ${out#"$top"/}/dkms/$rel73/"

in_root apt-get purge -y kvm-fastpath-dkms kvm-fastpath-tools >>"$log" 2>&1 ||
	{ tail -n 30 "$log" >&2; die "apt-get purge failed"; }
left=$(cd "$root" && ls -d usr/src/kvm-fastpath-* var/lib/dkms/kvm-fastpath \
	lib/modules/*/updates/dkms/kvm_fastpath.ko* usr/bin/kfp-* \
	usr/share/man/man1/kfp-* usr/share/doc/kvm-fastpath-* 2>/dev/null || true)
[ -z "$left" ] || die "left behind after purge: $left"
echo "deb-test: purged, nothing left behind"
