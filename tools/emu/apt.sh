#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# apt-get or apt-cache with the project's own view of the Debian archive:
# the suites that carry kernels newer than the host's (trixie,
# trixie-backports, sid), read from the same mirror as the host's own
# sources, with lists and downloads in $KFP_CACHE/apt.  The host's apt
# configuration and package state are never touched.
#
#   tools/emu/apt.sh update
#   tools/emu/apt.sh get|cache ARGS...
#
# This mirror's sid Release file is past its Valid-Until date, hence
# check-valid-until=no there.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${KFP_CACHE:-$top/.cache}/apt
mirror=${KFP_MIRROR:-http://deb.debian.org/debian}
key=/usr/share/keyrings/debian-archive-keyring.gpg

# The private sources, one line each; also given to mmdebstrap (deps.sh).
sources() {
	echo "deb [signed-by=$key] $mirror trixie main"
	echo "deb [signed-by=$key] $mirror trixie-backports main"
	echo "deb [check-valid-until=no signed-by=$key] $mirror sid main"
}

opts=(-o "Dir::Etc::SourceList=$dir/sources.list"
      -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$dir/lists"
      -o "Dir::Cache=$dir/cache"
      -o "Dir::State::status=$dir/status")

case "${1:-}" in
update)
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	: >>"$dir/status"
	sources >"$dir/sources.list"
	apt-get "${opts[@]}" -qq update
	;;
sources)
	sources
	;;
get|cache)
	[ -f "$dir/sources.list" ] || { echo "apt.sh: no lists in $dir: run 'make deps'" >&2; exit 2; }
	tool=apt-$1
	shift
	exec "$tool" "${opts[@]}" "$@"
	;;
*)
	echo "usage: apt.sh update | sources | get ARGS... | cache ARGS..." >&2
	exit 2
	;;
esac
