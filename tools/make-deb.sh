#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make deb: kvm-fastpath-dkms and kvm-fastpath-tools with Debian's own
# tools (dpkg-buildpackage, debhelper, dh-dkms), from a copy of the
# tracked files in build/deb/, where the .deb files land; then lintian
# on them, its output in build/deb/lintian.txt.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
ver=$(dpkg-parsechangelog -S Version)
out=$top/build/deb
src=$out/kvm-fastpath-$ver
# Only this script's outputs: tools/deb-test.sh keeps its userland here.
rm -rf "$src" "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo \
	"$out"/lintian.* "$out/build.log"
mkdir -p "$src"
# The tracked files as they are now, nothing built.
git ls-files -z | tar --null -T - -cf - | tar -C "$src" -xf -
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	echo "make-deb: dpkg-buildpackage failed; see ${out#"$top"/}/build.log" >&2
	exit 1
}
command -v lintian >/dev/null || { echo "make-deb: lintian is not installed (make deps)" >&2; exit 1; }
# Tags to lintian.txt; its own remarks (as root: "running with root
# privileges is not recommended!") to lintian.err.
lintian --pedantic --info --display-info "$out"/*.changes >"$out/lintian.txt" 2>"$out/lintian.err" || true
ls "$out"/*.deb
echo "make-deb: lintian says ($(grep -c . "$out/lintian.txt") lines, ${out#"$top"/}/lintian.txt):"
cat "$out/lintian.txt"
