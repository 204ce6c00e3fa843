#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bpf: kfp-bpf and the BPF programs (tools/kfp-bpf/Makefile), built
# in the BPF userland 'make deps' makes (Debian trixie's libbpf and
# clang; bookworm's libbpf cannot find a struct_ops in a module).  The
# project tree is bound at the same path there, in a mount namespace of
# its own, as tools/build-module.sh does for the 7.x headers.
#
#   tools/kfp-bpf/build.sh [make arguments...]
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
root=${KFP_CACHE:-$top/.cache}/userland/bpf
[ -f "$root/usr/include/bpf/libbpf.h" ] ||
	{ echo "kfp-bpf: no BPF userland in $root: run 'make deps'" >&2; exit 2; }
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
# shellcheck disable=SC2016
exec $sudo unshare --mount --propagation private sh -euc '
	root=$1 top=$2
	shift 2
	mkdir -p "$root$top"
	mount --bind "$top" "$root$top"
	exec chroot "$root" "$@"' sh "$root" "$top" \
	make -C "$top/tools/kfp-bpf" "$@"
