#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kselftest's last test: unload under a running vCPU, then a clean dmesg
# (module_test.sh unload).
cd "$(dirname "$0")" || exit 1
exec ./module_test.sh unload
