#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build kvm_fastpath.ko (and the selftests' kfp_test_handler.ko) for one
# kernel release, out of the source tree:
#
#   tools/build-module.sh RELEASE [make arguments...]
#   tools/build-module.sh --have RELEASE    exit 0 if it can (headers there)
#
# kbuild writes objects next to the sources, so each release gets a
# shadow tree of symlinks in build/RELEASE/ (or in $KFP_BUILD_DIR, for a
# second build of one release, as make bench's without timing's branch);
# the module lands there.
#
# A release whose headers need a newer userland than the host's (7.x)
# builds inside the userland 'make deps' made for it: the project tree
# is bound at the same path there, so the symlinks resolve, and /proc is
# mounted (objtool reads it), in a mount namespace of its own.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${KFP_CACHE:-$top/.cache}
have=
[ "${1:-}" != --have ] || { have=1; shift; }
rel=${1:?usage: build-module.sh [--have] RELEASE [make arguments...]}
shift
root=$(cat "$cache/kernels/$rel/userland" 2>/dev/null || echo host)
[ "$root" != host ] || root=
# A kernel the project built itself (tools/emu/debug-kernel.sh) names its
# object tree; Debian's have their headers package.
kdir=$(cat "$cache/kernels/$rel/build" 2>/dev/null || echo "/usr/src/linux-headers-$rel")
if [ -n "$have" ]; then
	[ -d "$root$kdir" ]
	exit
fi
[ -d "$root$kdir" ] || { echo "build-module: no headers in $root$kdir: run 'make deps'" >&2; exit 2; }

out=${KFP_BUILD_DIR:-$top/build/$rel}
mkdir -p "$out/module" "$out/selftests" "$out/tools/bench"
find "$out" -xtype l -delete		# sources removed since the last build
ln -sfn "$top/Kbuild" "$out/Kbuild"
ln -sfn "$top/include" "$out/include"
for f in "$top"/module/*.[ch]; do
	ln -sfn "$f" "$out/module/"
done
ln -sfn "$top/selftests/kfp_test_handler.c" "$top/selftests/kfp_report_test.c" \
	"$out/selftests/"
ln -sfn "$top/tools/bench/kfp_null_handler.c" "$out/tools/bench/"
if [ -z "$root" ]; then
	exec make -C "$kdir" M="$out" "$@" modules
fi
exec "$top/tools/in-userland.sh" "$root" make -C "$kdir" M="$out" "$@" modules
