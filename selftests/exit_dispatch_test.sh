#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs exit_dispatch_test (C) in its place in the order: kselftest would
# run a C test before module_load_test.sh, and this one needs the module.
cd "$(dirname "$0")" || exit 1
exec ./exit_dispatch_test
