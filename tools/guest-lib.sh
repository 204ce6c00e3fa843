# SPDX-License-Identifier: GPL-2.0
#
# Shell functions for scripts that run inside the emulated machine
# (tools/emu/run.sh), shared by make demo and make bench.  Ship this file
# with the script and source it from /kfp: ". ./guest-lib.sh".

D=/sys/kernel/debug/kvm_fastpath

# kfp_workload_rules [VM]: the rules kfp-run's workloads meet: OUT sink
# and IN const on its work port 0x510, a doorbell on the page its mmio
# workload writes; for every VM, or for VM (PID-FD) only.
kfp_workload_rules() {
	vm=${1:-all}
	echo "io ports=0x510 dir=out size=1 action=sink vm=$vm" >$D/rules &&
	echo "io ports=0x510 dir=in size=1 action=const value=0xa5 vm=$vm" >$D/rules &&
	echo "cpuid leaf=0 eax=0xd ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69 vm=$vm" >$D/rules &&
	echo "doorbell gpa=0xd0000 len=0x1000 vm=$vm" >$D/rules
}

# kfp_handlers enable|disable|detach NAME...
kfp_handlers() {
	verb=$1
	shift
	for h in "$@"; do
		echo "$verb $h" >$D/handlers || return 1
	done
}

# kfp_exits REASON: "EXITS FAST STOCK" for one exit reason since the last
# reset, by the header's column names; "0 0 0" if it is not listed.
kfp_exits() {
	awk -v r="$1" '
	/^# index/ { for (i = 3; i <= NF; i++) col[$i] = i - 1 }
	$2 == r { e = $col["exits"]; f = $col["fast"]; s = $col["stock"] }
	END { print e + 0, f + 0, s + 0 }' $D/exits
}

kfp_loaded() {
	grep -q "^$1 " /proc/modules
}
