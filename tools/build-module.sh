#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build kvm_fastpath.ko (and the selftests' kfp_test_handler.ko) for one
# kernel release, out of the source tree:
#
#   tools/build-module.sh RELEASE [make arguments...]
#
# kbuild writes objects next to the sources, so each release gets a
# shadow tree of symlinks in build/RELEASE/; the module lands there.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
rel=${1:?usage: build-module.sh RELEASE [make arguments...]}
shift
kdir=/usr/src/linux-headers-$rel
[ -d "$kdir" ] || { echo "build-module: no headers in $kdir: run 'make deps'" >&2; exit 2; }

out=$top/build/$rel
mkdir -p "$out/module" "$out/selftests" "$out/tools/bench"
find "$out" -xtype l -delete		# sources removed since the last build
ln -sfn "$top/Kbuild" "$out/Kbuild"
ln -sfn "$top/include" "$out/include"
for f in "$top"/module/*.[ch]; do
	ln -sfn "$f" "$out/module/"
done
ln -sfn "$top/selftests/kfp_test_handler.c" "$out/selftests/"
ln -sfn "$top/tools/bench/kfp_null_handler.c" "$out/tools/bench/"
exec make -C "$kdir" M="$out" "$@" modules
