#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run a command in one of the userlands 'make deps' makes (a trixie or sid
# root for the 7.x headers, the BPF userland), with the project tree
# bound at the same path there, in a mount namespace of its own: the
# host's mounts and sources are never touched.
#
#   tools/in-userland.sh ROOT COMMAND [ARGUMENTS...]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
root=${1:?usage: in-userland.sh ROOT COMMAND [ARGUMENTS...]}
shift
[ -d "$root/usr" ] || { echo "in-userland: no userland in $root: run 'make deps'" >&2; exit 2; }
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
# shellcheck disable=SC2016
exec $sudo unshare --mount --propagation private sh -euc '
	root=$1 top=$2
	shift 2
	mkdir -p "$root$top"
	mount --bind "$top" "$root$top"
	mount -t proc proc "$root/proc"
	exec chroot "$root" "$@"' sh "$root" "$top" "$@"
