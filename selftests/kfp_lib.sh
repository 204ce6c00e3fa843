# SPDX-License-Identifier: GPL-2.0
# Shared by the shell selftests that read kvm_fastpath's debugfs files
# (and kfp_run_test.sh, for irq_early_ok): source it after ktap.sh.  It
# sets D, the vendor's names for the exits the built-in handlers serve
# (R_*), and the helpers below.
D=/sys/kernel/debug/kvm_fastpath
if grep -q '^vendor: svm$' $D/info 2>/dev/null; then
	R_IO=io R_CPUID=cpuid R_HLT=hlt R_NPF=npf R_MISCONFIG= R_HCALL=hypercall
	R_MSR_WRITE=msr
else
	R_IO=IO_INSTRUCTION R_CPUID=CPUID R_HLT=HLT R_NPF=EPT_VIOLATION
	R_MISCONFIG=EPT_MISCONFIG R_HCALL=VMCALL R_MSR_WRITE=MSR_WRITE
fi

# The module the tests load and unload: $KFP_MODULE, else kvm_fastpath.ko
# beside the tests, else the installed one (make install, DKMS).
ko=${KFP_MODULE:-./kvm_fastpath.ko}
[ -f "$ko" ] || ko=$(modinfo -n kvm_fastpath 2>/dev/null) || ko=./kvm_fastpath.ko

# On SVM, exits other than IO reach a handler only if the CPU reports the
# next RIP (NRIPS); QEMU's TCG does not.
if grep -q '^instruction_length: all' $D/info 2>/dev/null; then
	all_lengths=1
else
	all_lengths=0
	no_lengths_why=$(sed -n 's/^instruction_length: //p' $D/info 2>/dev/null)
fi

# fast_split N: "FAST STOCK" for N exits that an enabled handler takes
# when it is given them: all fast, or all stock where the vendor keeps
# them from the table.
fast_split() {
	if [ "$all_lengths" = 1 ]; then echo "$1 0"; else echo "0 $1"; fi
}

# doorbell_split N: "FAST STOCK" for N doorbell writes with the ept
# handler on.  SVM reports no next RIP for a nested page fault, NRIPS or
# not, so there every doorbell write is KVM's.
doorbell_split() {
	if grep -q '^vendor: svm$' $D/info 2>/dev/null; then echo "0 $1"; else fast_split "$1"; fi
}

# no_lengths DESC: on a vendor that keeps non-IO exits from the handlers
# (fast_split), print DESC as a skip and succeed.
no_lengths() {
	[ "$all_lengths" = 1 ] && return 1
	ktap_skip "$1" "handlers see no such exit here (instruction length: $no_lengths_why)"
}

# irq_early_ok N: whether N interrupts of kfp-run's irq-hlt taken inside
# their STI shadow, before the HLT (its "early"), are acceptable here.
# Only 0 is, but on the emulated SVM machine (kfp_emu=qemu-tcg): QEMU's
# TCG drops the shadow when it re-enters a guest after a host interrupt
# (Documentation/testing.rst).  N > 0 is reported either way.
irq_early_ok() {
	[ "${1:-0}" = 0 ] && return 0
	ktap_diag "$1 interrupt(s) taken inside the STI shadow, before their HLT"
	grep -qw kfp_emu=qemu-tcg /proc/cmdline 2>/dev/null || return 1
	ktap_diag "a known QEMU TCG defect, not counted as a failure here"
}

# irq_status3_retry FILE: whether an irq-hlt run whose output FILE says
# it ended in status 3 (the interrupts it took did not match its HLTs)
# may be run once more, the retry then checked exactly.  Only on the
# emulated SVM machine (kfp_emu=qemu-tcg): there stock KVM, with
# kvm_fastpath not loaded, ends about 3 runs of 100 so on 7.3 with two
# CPUs (Documentation/testing.rst).  The first run is reported either way.
irq_status3_retry() {
	grep -q 'guest reported status 3' "$1" 2>/dev/null || return 1
	ktap_diag "irq-hlt ended in status 3 (interrupts taken != HLTs)"
	grep -qw kfp_emu=qemu-tcg /proc/cmdline 2>/dev/null || return 1
	ktap_diag "a known QEMU TCG defect, seen without kvm_fastpath: running it once more"
}

# skip_all N REASON: N points skipped for REASON, and the document ends.
skip_all() {
	i=0
	while [ $i -lt "$1" ]; do
		ktap_skip "$(basename "$0" .sh)" "$2"
		i=$((i + 1))
	done
	ktap_finish
}

# col REASON COLUMN [FILE]: a counter from the exits file, or from FILE in
# its format (a watched VM's vms/PID-FD) (COLUMN: exits fast stock l2).
col() {
	awk -v r="$1" -v c="$2" '
		/^# index/ { for (i = 2; i <= NF; i++) idx[$i] = i - 1; next }
		$2 == r { print $idx[c]; found = 1 }
		END { if (!found) print "missing" }' "${3:-$D/exits}"
}

# refused FILE CMD...: write each CMD to FILE; succeed only if every write
# is refused (each one accepted is shown).
refused() {
	refused_file=$1
	refused_any=0
	shift
	for refused_cmd in "$@"; do
		if echo "$refused_cmd" >"$refused_file" 2>/dev/null; then
			ktap_diag "accepted: $refused_cmd"
			refused_any=1
		fi
	done
	return $refused_any
}

# quiet_state: no rules, no handler on, no capture, counters reset.
quiet_state() {
	echo clear >$D/rules
	for h in io cpuid hlt ept; do echo "disable $h" >$D/handlers; done
	echo clear >$D/capture
	echo reset >$D/exits
}

# hits ID: the hit count of rule ID.
hits() {
	awk -v id="$1" '$1 == id { for (i = 3; i <= NF; i++) if ($i ~ /^hits=/) print substr($i, 6) }' $D/rules
}

# add RULE: add a rule and print its id (the last line of the rules file).
add() {
	echo "$*" >$D/rules && tail -n 1 $D/rules | cut -d' ' -f1
}

# expect DESC REASON "FAST STOCK": check the reason's split since the last reset.
expect() {
	got="$(col "$2" fast) $(col "$2" stock)"
	ktap_diag "$2 fast/stock: expected $3 got $got"
	if [ "$got" = "$3" ]; then ktap_ok "$1"; else ktap_fail "$1"; fi
}
