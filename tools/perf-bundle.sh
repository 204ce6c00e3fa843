#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Pack this machine's perf (Debian's linux-perf, installed by make deps)
# with the shared libraries it loads into OUT, a .tar.gz the emulated
# machines can run it from: there, unpacked into DIR,
#
#   DIR/lib/ld-linux-x86-64.so.2 --library-path DIR/lib DIR/perf ...
#
# runs it with no other file of the host's.  selftests/timing_test.sh
# compares its "perf kvm stat" with the module's timing.
#
#   tools/perf-bundle.sh OUT
#
# Exit 0 and OUT written, or exit 1 with the reason on stderr (no perf,
# or not an ELF binary), and OUT removed.
set -euo pipefail

out=${1:?usage: perf-bundle.sh OUT}
rm -f "$out"
perf=$(command -v perf || true)
[ -n "$perf" ] || { echo "perf-bundle: no perf here (make deps installs linux-perf)" >&2; exit 1; }
perf=$(readlink -f "$perf")
[ "$(head -c 4 "$perf" | od -An -c | tr -d ' ')" = '177ELF' ] ||
	{ echo "perf-bundle: $perf is not an ELF binary" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lib"
cp "$perf" "$work/perf"
# ldd: "libX => /path (addr)" per library, and the loader by its own path.
ldd "$perf" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' |
while read -r lib; do
	cp -L "$lib" "$work/lib/"
done
[ -e "$work/lib/ld-linux-x86-64.so.2" ] ||
	{ echo "perf-bundle: $perf's loader is not ld-linux-x86-64.so.2" >&2; exit 1; }
tar -C "$work" -czf "$out" .
