#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bpf: kfp-bpf and the BPF programs (tools/kfp-bpf/Makefile), built
# in the BPF userland 'make deps' makes (Debian trixie's libbpf and
# clang; bookworm's libbpf cannot find a struct_ops in a module), through
# tools/in-userland.sh as tools/build-module.sh builds for the 7.x headers.
#
#   tools/kfp-bpf/build.sh [make arguments...]
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
root=${KFP_CACHE:-$top/.cache}/userland/bpf
[ -f "$root/usr/include/bpf/libbpf.h" ] ||
	{ echo "kfp-bpf: no BPF userland in $root: run 'make deps'" >&2; exit 2; }
exec "$top/tools/in-userland.sh" "$root" make -C "$top/tools/kfp-bpf" "$@"
