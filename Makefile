# SPDX-License-Identifier: GPL-2.0
#
# kvm-fastpath top level.  The module itself is built by kbuild (Kbuild);
# this file wraps it and the userspace parts.
#
#   make              module for KDIR, kfp-run, kfp-stat, selftests
#   make KDIR=DIR     the same against any kernel headers tree
#   make deps         install everything needed (Debian packages)
#   make check        all checks: W=1, sparse, checkpatch, host tests,
#                     selftests in the emulated VMX machine (6.12 and 6.1)
#   make demo         boot the emulated machine and show the exit table
#   make bench        exit cost with and without the module (emulated)
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build

all: module tools selftests

module:
	@test -d $(KDIR) || { echo "No kernel headers at $(KDIR): install them or pass KDIR=..." >&2; exit 2; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tools:
	$(MAKE) -C tools/kfp-run
	$(MAKE) -C tools/kfp-stat

selftests: tools
	$(MAKE) -C selftests

deps:
	tools/deps.sh

check:
	tools/check.sh

bench: tools
	tools/bench.sh

demo: tools
	tools/demo.sh

clean:
	@test ! -d $(KDIR) || $(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C tools/kfp-run clean
	$(MAKE) -C tools/kfp-stat clean
	$(MAKE) -C selftests clean
	rm -rf build

.PHONY: all module tools selftests deps check bench demo clean
