#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kselftest's first test: load kvm_fastpath for the tests after it
# (module_test.sh load); kfp_lib.sh says which module file.
cd "$(dirname "$0")" || exit 1
. ./kfp_lib.sh
exec ./module_test.sh load "$ko"
