#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The supported kernels: the newest Debian kernel of each supported line
# that has an unsigned image, KVM modules and headers in the archive.
#
#   tools/emu/kernels.sh              one release a line, 6.12 first
#   tools/emu/kernels.sh --suite REL  where REL's packages come from: "host"
#                                     (the host's bookworm sources) or the
#                                     Debian suite of tools/emu/apt.sh whose
#                                     userland builds for it (trixie, sid)
#
# Versions change with security updates and old ones vanish, so nothing
# here is hard-coded but the line patterns.  6.1 and 6.12 come from the
# host's sources; 7.x from the private ones (tools/emu/apt.sh), whose
# lists 'make deps' fetches.  From 7.2 the unsigned image is
# linux-binary-unsigned-REL, not linux-image-REL-unsigned.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

# newest CMD IMAGE-PREFIX IMAGE-SUFFIX REGEX: the newest release matching
# REGEX with both an image package and a headers package known to CMD.
newest() {
	local cmd=$1 pre=$2 suf=$3 re=$4
	comm -12 \
		<($cmd pkgnames "$pre" | sed -n "s/^$pre\($re\)$suf\$/\1/p" | sort) \
		<($cmd pkgnames linux-headers- | sed -n "s/^linux-headers-\($re\)\$/\1/p" | sort) |
		sort -V | tail -n 1
}

host_apt() { apt-cache "$@"; }
private_apt() { "$here/apt.sh" cache "$@"; }

# line NAME CMD IMAGE-PREFIX IMAGE-SUFFIX REGEX
line() {
	local rel
	rel=$(newest "$2" "$3" "$4" "$5")
	if [ -z "$rel" ]; then
		echo "kernels.sh: no $1 kernel with image and headers in the apt archive" >&2
		exit 1
	fi
	echo "$rel"
}

if [ "${1:-}" = --suite ]; then
	rel=${2:?usage: kernels.sh --suite REL}
	if apt-cache show "linux-headers-$rel" >/dev/null 2>&1; then
		echo host
		exit 0
	fi
	# "... | trixie-backports/main amd64 Packages" -> trixie
	private_apt madison "linux-headers-$rel" |
		sed -n 's|.* \([a-z]*\)\(-backports\)\{0,1\}/main .*|\1|p' | head -n 1 |
		grep . || { echo "kernels.sh: no suite has linux-headers-$rel" >&2; exit 1; }
	exit 0
fi

line 6.12 host_apt linux-image- -unsigned '6\.12\.[0-9]*+deb12-amd64'
line 6.1 host_apt linux-image- -unsigned '6\.1\.0-[0-9]*-amd64'
line 7.3 private_apt linux-binary-unsigned- '' '7\.3\.[0-9]*+deb[0-9]*-amd64'
line 7.2 private_apt linux-binary-unsigned- '' '7\.2\.[0-9]*+deb[0-9]*-amd64'
