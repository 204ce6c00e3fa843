#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Resolve the newest Debian kernel of each supported line that has both
# an unsigned image and headers in the archive.  Prints one release per
# line (e.g. "6.12.117+deb12-amd64").  Versions change with security
# updates and old ones vanish, so nothing here is hard-coded but the
# line patterns.
set -euo pipefail

newest() {
	# $1: regex for the release part of the package names
	comm -12 \
		<(apt-cache pkgnames linux-image- | sed -n "s/^linux-image-\($1\)-unsigned\$/\1/p" | sort) \
		<(apt-cache pkgnames linux-headers- | sed -n "s/^linux-headers-\($1\)\$/\1/p" | sort) |
		sort -V | tail -n 1
}

for line in '6\.12\.[0-9]*+deb12-amd64' '6\.1\.0-[0-9]*-amd64'; do
	rel=$(newest "$line")
	if [ -z "$rel" ]; then
		echo "kernels.sh: no kernel matching $line in the apt archive" >&2
		exit 1
	fi
	echo "$rel"
done
