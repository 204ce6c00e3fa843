#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The debug kernel: Debian's linux-source-6.12 built with the config
# fragment tools/emu/debug.config (lockdep, PROVE_RCU, KASAN, UBSAN,
# DEBUG_ATOMIC_SLEEP, DEBUG_LIST over tinyconfig, KVM as modules).
#
#   tools/emu/debug-kernel.sh            build it unless cached; print its
#                                        release (e.g. 6.12.118-kfp-debug)
#   tools/emu/debug-kernel.sh --release  print the cached release, or fail
#
# The build is cached in $KFP_CACHE/debug/HASH, HASH naming the source
# package's version, the compiler and the fragment: change any of them
# and it is built again.  Its image and KVM modules are put where the
# stock kernels' are ($KFP_CACHE/kernels/RELEASE), so tools/emu/run.sh
# boots it and tools/build-module.sh builds against its object tree.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${KFP_CACHE:-$top/.cache}
frag=$here/debug.config

tarball=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n 1) ||
	true
[ -n "$tarball" ] || { echo "debug-kernel: no linux-source-6.12: run 'make deps'" >&2; exit 2; }
hash=$({ dpkg-query -W -f='${Version}\n' linux-source-6.12; gcc --version | head -n 1
	 cat "$frag"; } | sha256sum | cut -c1-16)
dbg=$cache/debug/$hash
obj=$dbg/obj

if [ "${1:-}" = --release ]; then
	[ -f "$dbg/.complete" ] || { echo "debug-kernel: not built: run 'make deps'" >&2; exit 1; }
	cat "$dbg/release"
	exit 0
fi

if [ ! -f "$dbg/.complete" ]; then
	start=$SECONDS
	echo "debug-kernel: building $hash from $(basename "$tarball") (about 7 minutes on 2 cores)" >&2
	rm -rf "$cache/debug"
	mkdir -p "$dbg"
	tar -xf "$tarball" -C "$dbg"
	src=$(echo "$dbg"/linux-source-6.12)
	make -s -C "$src" O="$obj" tinyconfig >/dev/null
	"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$frag" >/dev/null
	make -s -C "$src" O="$obj" olddefconfig >/dev/null
	# Every line of the fragment must have survived Kconfig's
	# dependencies, or the kernel is not the one it claims to be.
	bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF "$line" "$obj/.config" || { echo "debug-kernel: $line did not stick" >&2; bad=1; } ;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			! grep -q "^$opt=" "$obj/.config" || { echo "debug-kernel: $opt is set" >&2; bad=1; } ;;
		esac
	done <"$frag"
	[ $bad -eq 0 ] || exit 1
	# KASAN's larger stack frames make -Wframe-larger-than talk: the
	# compiler's output goes to a log, shown if the build fails.
	if ! make -s -C "$src" O="$obj" -j"$(nproc)" bzImage modules >"$dbg/build.log" 2>&1; then
		tail -n 40 "$dbg/build.log" >&2
		echo "debug-kernel: the build failed (log: $dbg/build.log)" >&2
		exit 1
	fi
	make -s -C "$src" O="$obj" kernelrelease >"$dbg/release"
	echo "$((SECONDS - start))" >"$dbg/build-seconds"
	touch "$dbg/.complete"
	echo "debug-kernel: built $(cat "$dbg/release") in $((SECONDS - start))s" >&2
fi

rel=$(cat "$dbg/release")
dst=$cache/kernels/$rel
stamp="debug $hash"
if [ "$(cat "$dst/.complete" 2>/dev/null)" != "$stamp" ]; then
	rm -rf "$dst"
	mkdir -p "$dst/modules"
	cp "$obj/arch/x86/boot/bzImage" "$dst/vmlinuz"
	cp "$obj/.config" "$dst/config"
	for m in virt/lib/irqbypass arch/x86/kvm/kvm arch/x86/kvm/kvm-intel \
		 arch/x86/kvm/kvm-amd; do
		xz -c "$obj/$m.ko" >"$dst/modules/$(basename "$m").ko.xz"
	done
	echo host >"$dst/userland"
	echo "$obj" >"$dst/build"
	echo "$rel" >"$dst/release"
	echo "$stamp" >"$dst/.complete"
fi
echo "$rel"
