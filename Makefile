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
#   make install      the module (modules_install for KDIR), kfp-run,
#                     kfp-stat and their manual pages under PREFIX
#                     (default /usr/local); DESTDIR for staging
#   make uninstall    what make install put there
#   make deb          kvm-fastpath-dkms and kvm-fastpath-tools, in build/deb
#   make bpf          kfp-bpf and the BPF handlers (in make deps' BPF userland)
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MAN1DIR ?= $(PREFIX)/share/man/man1
# The version, from the Debian changelog (the one place it is kept).
VERSION := $(shell sed -n '1{s/^[^ ]* .//;s/. .*//;p}' debian/changelog 2>/dev/null)
TOOLS := tools/kfp-run/kfp-run tools/kfp-stat/kfp-stat

all: module tools selftests

module:
	@test -d $(KDIR) || { echo "No kernel headers at $(KDIR): install them or pass KDIR=..." >&2; exit 2; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tools:
	$(MAKE) -C tools/kfp-run
	$(MAKE) -C tools/kfp-stat

selftests: tools
	$(MAKE) -C selftests $(if $(KREL),KFP_REL=$(KREL))

# Manual pages from the tools' own --help.
%.1: %
	help2man --no-info --version-string="$(VERSION)" \
		--name="$$(sed -n 's/^$(notdir $<): //p' tools/man-names.txt)" \
		--output=$@ ./$<

man: tools $(TOOLS:=.1)

# The module is installed by kbuild (to /lib/modules/RELEASE/updates,
# depmod run), without the test-only modules.
install: module-only man
	$(MAKE) -C $(KDIR) M=$(CURDIR) KFP_NO_TEST_MODULES=1 \
		INSTALL_MOD_DIR=updates INSTALL_MOD_PATH=$(DESTDIR) modules_install
	$(MAKE) install-tools

install-tools: man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MAN1DIR)
	install -m 0755 $(TOOLS) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(TOOLS:=.1) $(DESTDIR)$(MAN1DIR)/

module-only:
	@test -d $(KDIR) || { echo "No kernel headers at $(KDIR): install them or pass KDIR=..." >&2; exit 2; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) KFP_NO_TEST_MODULES=1 modules

KREL = $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(KREL)/updates/kvm_fastpath.ko*
	$(if $(DESTDIR),,-depmod $(KREL))
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(TOOLS)))
	rm -f $(addprefix $(DESTDIR)$(MAN1DIR)/,$(notdir $(TOOLS:=.1)))

deb:
	tools/make-deb.sh

bpf:
	tools/kfp-bpf/build.sh

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
	rm -f $(TOOLS:=.1)
	rm -f tools/kfp-bpf/kfp-bpf tools/kfp-bpf/examples/*.bpf.o selftests/bpf/*.bpf.o
	rm -rf build

.PHONY: all module module-only tools selftests man install install-tools uninstall \
	deb bpf deps \
	check bench demo clean
