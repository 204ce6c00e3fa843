# SPDX-License-Identifier: GPL-2.0
# The vendor's vocabulary for the shell selftests: source it after
# ktap.sh, with kvm_fastpath loaded.  It sets the names the exits file
# gives the exits the built-in handlers serve, and fast_split.
kfp_info=/sys/kernel/debug/kvm_fastpath/info
if grep -q '^vendor: svm$' $kfp_info 2>/dev/null; then
	R_IO=io R_CPUID=cpuid R_HLT=hlt R_NPF=npf R_MISCONFIG= R_HCALL=hypercall
	R_MSR_WRITE=msr
else
	R_IO=IO_INSTRUCTION R_CPUID=CPUID R_HLT=HLT R_NPF=EPT_VIOLATION
	R_MISCONFIG=EPT_MISCONFIG R_HCALL=VMCALL R_MSR_WRITE=MSR_WRITE
fi

# On SVM, exits other than IO reach a handler only if the CPU reports the
# next RIP (NRIPS); QEMU's TCG does not.
if grep -q '^instruction_length: all' $kfp_info 2>/dev/null; then
	all_lengths=1
else
	all_lengths=0
	no_lengths_why=$(sed -n 's/^instruction_length: //p' $kfp_info 2>/dev/null)
fi

# fast_split N: "FAST STOCK" for N exits that an enabled handler takes
# when it is given them: all fast, or all stock where the vendor keeps
# them from the table.
fast_split() {
	if [ "$all_lengths" = 1 ]; then echo "$1 0"; else echo "0 $1"; fi
}
