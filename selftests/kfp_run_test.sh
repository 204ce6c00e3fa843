#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kfp-run on this host's /dev/kvm: its arguments and errors, every mode
# with every workload (exact exit counts, read from --json), several
# vCPUs, the in-kernel irqchip, user guests (--guest), what the guest's
# CPUID and hypercall return, and the messages for no permission, no
# /dev/kvm and a missing KVM capability.
#
# Finds kfp-run in ../tools/kfp-run (source tree) or next to this script
# (the emulated machine's flat /kfp).  --guest tests assemble small
# guests with $CC (default gcc) and objcopy, and are skipped without them.
cd "$(dirname "$0")" || exit 1
. ./ktap.sh
. ./kfp_lib.sh		# for irq_early_ok; expect() is redefined below
run=../tools/kfp-run/kfp-run
[ -x "$run" ] || run=./kfp-run
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out
n=50			# exits of each kind per run: small, the checks are exact
modes="real prot long"
workloads="io-out io-in cpuid hlt mmio msr mixed"

kvm_ok=0
[ -r /dev/kvm ] && [ -w /dev/kvm ] && kvm_ok=1
# irq-hlt, io-str, --single-step and l2-cpuid check what the vendor KVM modules do
# (APIC IPIs, string I/O, guest debug, nested VMX); another /dev/kvm provider, such as
# a CI machine's paravirtual one, is not what they are about.
vendor_kvm=0
[ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ] && vendor_kvm=1

# vendor_case DESC: true if such a case can run here; else DESC is a skip
# with the reason.
vendor_case() {
	if [ $kvm_ok -ne 1 ]; then
		ktap_skip "$1" "no usable /dev/kvm"
	elif [ $vendor_kvm -ne 1 ]; then
		ktap_skip "$1" "/dev/kvm is not kvm_intel's or kvm_amd's (checked in the emulated machines)"
	else
		return 0
	fi
	return 1
}

# verdict DESC ARGS FAILS: pass if FAILS is empty, else fail and show
# kfp-run's ARGS, FAILS and kfp-run's stderr.
verdict() {
	if [ -z "$3" ]; then
		ktap_ok "$1"
	else
		ktap_fail "$1"
		ktap_diag "kfp-run --json $2:$3"
		sed 's/^/# /' "$tmp/err" | head -n 5
	fi
}

# expect CODE PATTERN DESC ARGS...: exit code CODE, output matching PATTERN.
expect() {
	code=$1 pat=$2 desc=$3
	shift 3
	"$run" "$@" >"$out" 2>&1
	rc=$?
	if [ $rc -eq "$code" ] && grep -qE -e "$pat" "$out"; then
		ktap_ok "$desc"
	else
		ktap_fail "$desc"
		ktap_diag "kfp-run $*: exit $rc (want $code), output:"
		sed 's/^/# /' "$out" | head -n 40
	fi
}

# expect_kvm: expect, or a skip when this host has no usable /dev/kvm.
expect_kvm() {
	if [ $kvm_ok -eq 1 ]; then
		expect "$@"
	else
		ktap_skip "$3" "no usable /dev/kvm"
	fi
}

# jget FILE SECTION KEY FIELD: FIELD of object KEY in kfp-run's --json
# output; SECTION is "total" or "vcpuN".  kfp-run prints one object per
# line below "exits", and "io", "io_expected", "wakeups" on one line.
jget() {
	awk -v sec="$2" -v key="\"$3\": {" -v field="\"$4\": " '
	/^  "total": \{/ { cur = "total" }
	/^      "vcpu": [0-9]+,/ { v = $2; sub(",", "", v); cur = "vcpu" v }
	cur == sec && index($0, key) {
		s = substr($0, index($0, key))
		i = index(s, field)
		if (i) {
			s = substr(s, i + length(field))
			sub(/[,}].*/, "", s)
			print s
			exit
		}
	}' "$1"
}

# Exit reasons in SECTION with a non-zero count, other than IO/HLT/MMIO.
jothers() {
	awk -v sec="$2" '
	/^  "total": \{/ { cur = "total" }
	/^      "vcpu": [0-9]+,/ { v = $2; sub(",", "", v); cur = "vcpu" v }
	cur == sec && /"KVM_EXIT_/ && !/"KVM_EXIT_(IO|HLT|MMIO)"/ &&
	    !/"count": 0,/ { n++ }
	END { print n + 0 }' "$1"
}

fails=""
# want FILE SECTION KEY FIELD VALUE: collect a mismatch in $fails.
want() {
	got=$(jget "$1" "$2" "$3" "$4")
	[ "$got" = "$5" ] || fails="$fails $2.$3.$4=$got(want $5)"
}

# check_run DESC EXPECT_SPEC -- ARGS...: run kfp-run --json ARGS and check
# the exits of SECTION(s); EXPECT_SPEC is "vcpus io hlt mmio out in
# wakeups", per vCPU.
check_run() {
	desc=$1 spec=$2
	shift 3
	if [ $kvm_ok -ne 1 ]; then
		ktap_skip "$desc" "no usable /dev/kvm"
		return
	fi
	"$run" --json "$@" >"$out" 2>"$tmp/err"
	rc=$?
	set -- $spec
	vcpus=$1 io=$2 hlt=$3 mmio=$4 o=$5 i=$6 wk=$7
	fails=""
	[ $rc -eq 0 ] || fails=" exit=$rc"
	grep -q '^  "ok": true,' "$out" || fails="$fails ok=false"
	want "$out" total KVM_EXIT_IO count $((io * vcpus))
	want "$out" total KVM_EXIT_HLT count $((hlt * vcpus))
	want "$out" total KVM_EXIT_MMIO count $((mmio * vcpus))
	want "$out" total io out $((o * vcpus))
	want "$out" total io in $((i * vcpus))
	want "$out" total wakeups count $((wk * vcpus))
	[ "$(jothers "$out" total)" = 0 ] || fails="$fails other-exits"
	v=0
	while [ $v -lt "$vcpus" ]; do
		want "$out" vcpu$v KVM_EXIT_IO count "$io"
		want "$out" vcpu$v KVM_EXIT_HLT count "$hlt"
		want "$out" vcpu$v KVM_EXIT_MMIO count "$mmio"
		want "$out" "vcpu$v" io "done" 1
		v=$((v + 1))
	done
	if [ -z "$fails" ]; then
		ktap_ok "$desc"
	else
		ktap_fail "$desc"
		ktap_diag "kfp-run --json $*:$fails"
		sed 's/^/# /' "$tmp/err" | head -n 5
	fi
}

# The exits one vCPU of WORKLOAD N should show: "io hlt mmio out in".
spec_of() {
	case $1 in
	io-out) echo "$(($2 + 2)) 0 0 $2 0" ;;
	io-in)  echo "$(($2 + 2)) 0 0 0 $2" ;;
	hlt)    echo "2 $2 0 0 0" ;;
	mmio)   echo "2 0 $2 0 0" ;;
	mixed)  echo "$((2 * $2 + 2)) $2 $2 $2 $2" ;;
	*)      echo "2 0 0 0 0" ;;
	esac
}

# build NAME CODE: assemble a flat guest binary $tmp/NAME.bin.
build() {
	printf '%s\n' "$2" >"$tmp/$1.S" &&
	${CC:-gcc} -c -o "$tmp/$1.o" "$tmp/$1.S" 2>"$tmp/cc.err" &&
	objcopy -O binary -j .text "$tmp/$1.o" "$tmp/$1.bin" 2>>"$tmp/cc.err"
}

guests=0
if command -v "${CC:-gcc}" >/dev/null && command -v objcopy >/dev/null &&
   build hello '	.code16
	movw	$0xe9, %dx
	movb	$0x68, %al
	outb	%al, %dx
	movb	$0x69, %al
	outb	%al, %dx
	movb	$0x0a, %al
	outb	%al, %dx
	movw	$0x512, %dx
	movb	$0, %al
	outb	%al, %dx' &&
   build status3 '	.code32
	movw	$0x512, %dx
	movb	$3, %al
	outb	%al, %dx' &&
   build ud2 '	.code64
	ud2' &&
   build spin '	jmp	.' &&
   build halt '1:	hlt
	jmp	1b'; then
	guests=1
fi

# guest_test DESC CODE PATTERN ARGS...: a --guest run, or a skip.
guest_test() {
	if [ $guests -eq 0 ]; then
		ktap_skip "$3" "cannot assemble test guests (${CC:-gcc}, objcopy)"
		return
	fi
	expect_kvm "$@"
}

modes_n=$(echo $modes | wc -w)
workloads_n=$(echo $workloads | wc -w)
# original, mode x workload, irqchip, ports, vCPUs, output, --guest,
# argument and capability errors, timeouts and closing lines, CPUID and
# hypercall results
ktap_plan $((9 + modes_n * workloads_n + modes_n + 2 + 3 + 4 + 4 + 14 + 4 + 7 + 20 + 6 + 3 + 2))

# --- the original points: help, arguments, a run, no permission, no KVM
expect 0 '^usage: kfp-run' "--help prints usage" --help
expect 2 'not a non-negative number' "negative count is rejected" --out -1
expect 2 'not a non-negative number' "non-numeric count is rejected" --cpuid abc
expect 2 'larger than' "too large a count is rejected" --hlt 10000001
expect 2 'kfp-run: ' "unknown option is rejected" --bogus
expect 2 'kfp-run: ' "stray argument is rejected" --out 1 extra
expect_kvm 0 'KVM_EXIT_IO' "a mixed run passes" \
	--out 30 --in 10 --cpuid 20 --hlt 5 --mmio 4

if [ "$(id -u)" -eq 0 ] &&
   setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null && [ -e /dev/kvm ]; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$run" --out 1 >"$out" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q 'permission denied on /dev/kvm' "$out"; then
		ktap_ok "no permission on /dev/kvm is reported"
	else
		ktap_fail "no permission on /dev/kvm is reported"
		sed 's/^/# /' "$out"
	fi
else
	ktap_skip "no permission on /dev/kvm is reported" "needs root, util-linux setpriv and /dev/kvm"
fi

if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null &&
   unshare -m true 2>/dev/null; then
	unshare -m sh -c "mount -t tmpfs none /dev && exec $run --out 1" >"$out" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q 'no /dev/kvm' "$out"; then
		ktap_ok "a missing /dev/kvm is reported"
	else
		ktap_fail "a missing /dev/kvm is reported"
		sed 's/^/# /' "$out"
	fi
else
	ktap_skip "a missing /dev/kvm is reported" "needs root and mount namespaces"
fi

# --- every mode with every workload: exact exits, from --json
for m in $modes; do
	for w in $workloads; do
		check_run "$m mode: $w $n gives exactly its exits" \
			"1 $(spec_of $w $n) 0" -- --mode $m $w $n
	done
done

# --- in-kernel irqchip: HLT completed in the kernel, woken by kfp-run
for m in $modes; do
	check_run "$m mode, --irqchip: hlt $n is handled in the kernel" \
		"1 2 0 0 0 0 $n" -- --mode $m --irqchip hlt $n
done
check_run "--irqchip --port 0x21: OUTs to the in-kernel PIC never reach userspace" \
	"1 2 0 0 0 0 0" -- --irqchip --port 0x21 io-out $n
check_run "--irqchip --pit --port 0x61: OUTs to the in-kernel PIT's speaker port never reach userspace" \
	"1 2 0 0 0 0 0" -- --irqchip --pit --port 0x61 io-out $n
check_run "--port 0x80 without an irqchip: every OUT reaches userspace" \
	"1 $((n + 2)) 0 0 $n 0 0" -- --port 0x80 io-out $n
# kfp-run fails unless the eventfd's count is exactly the OUTs made.
check_run "--ioeventfd: OUTs signal the eventfd, none reaches userspace" \
	"2 2 0 0 0 0 0" -- --vcpus 2 --ioeventfd io-out $n
check_run "--ioeventfd: MMIO writes signal the eventfd, none reaches userspace" \
	"1 2 0 0 0 0 0" -- --mode long --ioeventfd mmio $n
# kfp-run fails unless the ring's OUTs and the exits add up to those made.
check_run "--coalesced: OUTs go to the coalesced ring, none reaches userspace" \
	"1 2 0 0 0 0 0" -- --coalesced io-out $n
expect_kvm 0 'OUTs in the coalesced ring' \
	"--coalesced, 2 vCPUs, 1000 OUTs each: a full ring exits, nothing is lost" \
	--coalesced --vcpus 2 io-out 1000

# --- several vCPUs: exact counts on each
check_run "--vcpus 4, long mode, mixed: exact exits on every vCPU" \
	"4 $(spec_of mixed 20) 0" -- --vcpus 4 --mode long mixed 20
check_run "--vcpus 4, prot mode, --irqchip hlt: every vCPU woken" \
	"4 2 0 0 0 0 20" -- --vcpus 4 --mode prot --irqchip hlt 20
check_run "--vcpus 64, real mode, io-out" \
	"64 12 0 0 10 0 0" -- --vcpus 64 io-out 10

# --- output forms
if [ $kvm_ok -eq 1 ] && command -v python3 >/dev/null; then
	if "$run" --json --vcpus 2 mixed 5 >"$out" 2>&1 &&
	   python3 -m json.tool "$out" >/dev/null 2>&1; then
		ktap_ok "--json prints one valid JSON object"
	else
		ktap_fail "--json prints one valid JSON object"
		sed 's/^/# /' "$out" | head -n 20
	fi
else
	ktap_skip "--json prints one valid JSON object" "needs /dev/kvm and python3"
fi
if [ $kvm_ok -eq 1 ]; then
	"$run" --quiet --cpuid $n >"$out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$out" ]; then
		ktap_ok "--quiet prints nothing on success"
	else
		ktap_fail "--quiet prints nothing on success"
		sed 's/^/# /' "$out"
	fi
else
	ktap_skip "--quiet prints nothing on success" "no usable /dev/kvm"
fi
expect_kvm 0 '^  (out|cpuid|msr) +[0-9]+ +[0-9]+ +[0-9]+$' \
	"the guest view has a row per kind: name, exits, ticks, per exit" \
	--out $n --cpuid $n --msr $n
expect_kvm 0 'min ns +mean ns +max ns' \
	"the userspace table has host-clock min/mean/max per exit" io-in $n

# --- user guests
guest_test 0 '^hi$' "--guest: a real-mode binary's port 0xe9 bytes reach stdout" \
	--guest "$tmp/hello.bin"
guest_test 0 '"serial": 3' "--guest --json: serial bytes are counted" \
	--json --guest "$tmp/hello.bin" --load-addr 0x20000
guest_test 1 'guest reported status 3' "--guest: a non-zero status fails" \
	--mode prot --guest "$tmp/status3.bin"
guest_test 1 'unexpected exit KVM_EXIT_SHUTDOWN \(8\).*rip=0x10000 .*rsp=' \
	"an unexpected exit is reported with reason, RIP and registers" \
	--mode long --guest "$tmp/ud2.bin"

# --- errors: bad arguments (exit 2), KVM lacking a capability (exit 1)
expect 2 "--mode: 'pae' is not real, prot or long" "an unknown mode is rejected" \
	--mode pae
expect 2 'unknown workload' "an unknown workload is rejected" ioout
expect 2 'not both' "a workload and counts together are rejected" \
	--out 1 cpuid 5
expect 2 '--vcpus: at least 1' "--vcpus 0 is rejected" --vcpus 0
expect 2 '--vcpus: 65 is larger than 64' "--vcpus 65 is rejected" --vcpus 65
expect 2 "kfp-run's own ports" "--port on kfp-run's own port is rejected" \
	--port 0x512 io-out
expect 2 'larger than 65535' "--port above 0xffff is rejected" --port 0x10000
expect 2 "ioeventfd is for the io-out and mmio workloads" \
	"--ioeventfd without io-out is rejected" --ioeventfd cpuid 5
expect 2 "port 0x21 is an in-kernel device's" \
	"--ioeventfd on an in-kernel PIC port is rejected" \
	--ioeventfd --irqchip --port 0x21 io-out
expect 2 '--pit needs --irqchip' "--pit without --irqchip is rejected" --pit io-out 1
expect 2 "coalesced is for the io-out workload" \
	"--coalesced without io-out is rejected" --coalesced cpuid 5
expect 2 'needs --guest' "--load-addr without --guest is rejected" \
	--load-addr 0x20000
expect 2 'no WORKLOAD or counts' "--guest with a workload is rejected" \
	--guest /dev/null cpuid
expect 2 'No such file' "a missing --guest file is rejected" \
	--guest "$tmp/none.bin"
guest_test 2 'cover the GDT, IDT and page tables' \
	"--load-addr over the tables is rejected" \
	--guest "$tmp/hello.bin" --load-addr 0x2000
expect 2 '--timeout: at least 1' "--timeout 0 is rejected" --timeout 0
# kfp-run's test hook: capabilities named here read as missing.
export KFP_RUN_HIDE_CAP=KVM_CAP_IRQCHIP
expect_kvm 1 '^kfp-run: KVM lacks KVM_CAP_IRQCHIP, needed for --irqchip$' \
	"a KVM without KVM_CAP_IRQCHIP is reported" --irqchip hlt 1
export KFP_RUN_HIDE_CAP=KVM_CAP_IOEVENTFD
expect_kvm 1 '^kfp-run: KVM lacks KVM_CAP_IOEVENTFD, needed for --ioeventfd$' \
	"a KVM without KVM_CAP_IOEVENTFD is reported" --ioeventfd io-out 1
export KFP_RUN_HIDE_CAP=KVM_CAP_MAX_VCPUS,KVM_CAP_NR_VCPUS
expect_kvm 1 'KVM allows 4 vCPUs per VM' \
	"more vCPUs than KVM allows are reported" --vcpus 5
unset KFP_RUN_HIDE_CAP

# --- timeouts
guest_test 1 'timed out after 1 s; vCPU 0 at rip=' \
	"--timeout stops a guest that never finishes" \
	--timeout 1 --guest "$tmp/spin.bin"
guest_test 1 'timed out after 1 s' \
	"--timeout stops an irqchip guest halted for good" \
	--timeout 1 --irqchip --guest "$tmp/halt.bin"
expect_kvm 0 'hlt x5 per vCPU handled in the kernel' \
	"--irqchip --vcpus 2: the ok line names what KVM handled" \
	--irqchip --vcpus 2 hlt 5
expect_kvm 0 'out x5 handled in the kernel' \
	"--irqchip --port 0x21: the ok line counts the OUTs as in-kernel" \
	--irqchip --port 0x21 io-out 5
expect_kvm 0 'out x5 handled in the kernel' \
	"--ioeventfd: the ok line counts the OUTs as in-kernel" \
	--ioeventfd io-out 5

# --- what the guest's last CPUID and hypercall returned
# cpuid_regs FILE: "eax ebx ecx edx" of vCPU 0's cpuid_result.
cpuid_regs() {
	echo "$(jget "$1" vcpu0 cpuid_result eax) $(jget "$1" vcpu0 cpuid_result ebx)" \
	     "$(jget "$1" vcpu0 cpuid_result ecx) $(jget "$1" vcpu0 cpuid_result edx)"
}

desc="cpuid leaf 0: vendor registers non-zero and the same in every mode"
if [ $kvm_ok -eq 1 ]; then
	fails="" first=""
	for m in $modes; do
		"$run" --json --mode $m cpuid $n >"$out" 2>&1 || fails="$fails $m:exit=$?"
		set -- $(cpuid_regs "$out")
		regs="$*"
		{ [ "${2:-0}" != 0 ] && [ "${3:-0}" != 0 ] && [ "${4:-0}" != 0 ]; } ||
			fails="$fails $m:zero($regs)"
		[ -z "$first" ] && first=$regs
		[ "$regs" = "$first" ] || fails="$fails $m:($regs)!=($first)"
	done
	if [ -z "$fails" ]; then
		ktap_ok "$desc"
	else
		ktap_fail "$desc"
		ktap_diag "$fails"
	fi
else
	ktap_skip "$desc" "no usable /dev/kvm"
fi

desc="--cpuid-leaf 1: eax (family, model, stepping) non-zero"
if [ $kvm_ok -eq 1 ]; then
	"$run" --json --mode long --cpuid-leaf 1 cpuid $n >"$out" 2>&1
	rc=$?
	eax=$(jget "$out" vcpu0 cpuid_result eax)
	if [ $rc -eq 0 ] && [ -n "$eax" ] && [ "$eax" != 0 ]; then
		ktap_ok "$desc"
	else
		ktap_fail "$desc"
		ktap_diag "exit $rc, eax=$eax"
	fi
else
	ktap_skip "$desc" "no usable /dev/kvm"
fi

expect_kvm 0 '^vCPU 1 cpuid 0x40000000\.0: eax=0x[0-9a-f]{8} ebx=0x[0-9a-f]{8} ecx=0x[0-9a-f]{8} edx=0x[0-9a-f]{8}$' \
	"the cpuid result line: vCPU, leaf.subleaf, four registers" \
	--vcpus 2 --mode prot --cpuid-leaf 0x40000000 cpuid 5

# vmcall_test MODE RAX: the vmcall workload in MODE, no userspace exit
# but mark and done, and RAX (decimal) as stock KVM leaves it for an
# unknown hypercall: -KVM_ENOSYS, -1000.  Only VMX and SVM KVM (kvm_intel,
# kvm_amd) are held to it: other flavours (kvm_pvm) may not complete a
# guest's VMCALL at all, and are a skip, with what happened.
vmcall_test() {
	desc="$1 mode: vmcall $n leaves RAX = -KVM_ENOSYS, no userspace exit"
	if [ $kvm_ok -ne 1 ]; then
		ktap_skip "$desc" "no usable /dev/kvm"
		return
	fi
	"$run" --json --timeout 5 --mode "$1" vmcall $n >"$out" 2>"$tmp/err"
	rc=$?
	fails=""
	[ $rc -eq 0 ] || fails=" exit=$rc"
	grep -q '^  "ok": true,' "$out" || fails="$fails ok=false"
	want "$out" vcpu0 vmcall_result rax "$2"
	want "$out" vcpu0 KVM_EXIT_IO count 2
	[ "$(jothers "$out" total)" = 0 ] || fails="$fails other-exits"
	if [ -z "$fails" ]; then
		ktap_ok "$desc"
	elif [ ! -d /sys/module/kvm_intel ] && [ ! -d /sys/module/kvm_amd ]; then
		ktap_skip "$desc" "not VMX/SVM KVM ($(ls -d /sys/module/kvm_* 2>/dev/null |
			sed 's,.*/,,' | tr '\n' ' ' | sed 's/ $//')):$fails; $(head -c 160 "$tmp/err")"
	else
		ktap_fail "$desc"
		ktap_diag "kfp-run --json --mode $1 vmcall $n:$fails"
		sed 's/^/# /' "$tmp/err" | head -n 5
	fi
}
vmcall_test real 4294966296		# EAX: 0xfffffc18
vmcall_test long 18446744073709550616	# RAX: 0xfffffffffffffc18

expect 2 "--vmcall-insn: 'svm' is not vmcall or vmmcall" \
	"an unknown --vmcall-insn is rejected" --vmcall-insn svm vmcall 1
expect 2 'not --guest' "--cpuid-leaf with --guest is rejected" \
	--cpuid-leaf 1 --guest /dev/null

# --- irq-hlt, io-str and --single-step
expect 0 'irq-hlt.*' "--help names irq-hlt, io-str and --single-step" --help
if grep -q 'io-str' "$out" && grep -q -- '--single-step' "$out"; then
	ktap_ok "--help describes io-str and --single-step"
else
	ktap_fail "--help describes io-str and --single-step"
fi
expect 2 'irq-hlt needs --irqchip' "irq-hlt without --irqchip is rejected" \
	--mode long irq-hlt 5
expect 2 'irq-hlt runs in prot or long mode' "irq-hlt in real mode is rejected" \
	--irqchip irq-hlt 5
expect 2 'io-str: 4097 is larger than 4096' "io-str above 4096 is rejected" \
	io-str 4097
expect 2 "kfp-run's own ports" "--port on the io-str port is rejected" \
	--port 0x513 io-out
if [ $guests -eq 1 ]; then
	expect 2 'cover the page table at 0xe000' \
		"--load-addr over the high page table is rejected" \
		--guest "$tmp/hello.bin" --load-addr 0xe000
else
	ktap_skip "--load-addr over the high page table is rejected" \
		"cannot assemble test guests (${CC:-gcc}, objcopy)"
fi

# irq_run MODE: irq-hlt $n with the in-kernel APIC; only mark and done
# reach userspace, and the guest took every interrupt right after its HLT.
irq_run() {
	desc="$1 mode, --irqchip: irq-hlt $n takes every interrupt, no userspace exit"
	vendor_case "$desc" || return
	"$run" --json --timeout 20 --mode "$1" --irqchip irq-hlt $n >"$out" 2>"$tmp/err"
	rc=$?
	if irq_status3_retry "$tmp/err"; then
		"$run" --json --timeout 20 --mode "$1" --irqchip irq-hlt $n >"$out" 2>"$tmp/err"
		rc=$?
	fi
	fails=""
	[ $rc -eq 0 ] || fails=" exit=$rc"
	want "$out" vcpu0 irq_result taken $n
	early=$(jget "$out" vcpu0 irq_result early)
	irq_early_ok "$early" || fails="$fails early=$early"
	want "$out" total KVM_EXIT_IO count 2
	want "$out" total KVM_EXIT_HLT count 0
	[ "$(jothers "$out" total)" = 0 ] || fails="$fails other-exits"
	verdict "$desc" "--mode $1 --irqchip irq-hlt $n" "$fails"
}
irq_run prot
irq_run long

# str_run MODE: io-str $n; the bytes each way are exact (the guest checks
# what INSB stored), the exits are KVM's to split.
str_run() {
	desc="$1 mode: io-str $n moves exactly $((2 * n)) bytes each way"
	vendor_case "$desc" || return
	"$run" --json --timeout 20 --mode "$1" io-str $n >"$out" 2>"$tmp/err"
	rc=$?
	fails=""
	[ $rc -eq 0 ] || fails=" exit=$rc"
	grep -q '^  "ok": true,' "$out" || fails="$fails ok=false"
	want "$out" total io str_out $((2 * n))
	want "$out" total io str_in $((2 * n))
	want "$out" total io out 0
	[ "$(jothers "$out" total)" = 0 ] || fails="$fails other-exits"
	exits=$(jget "$out" total io str_exits)
	# At least one exit per single OUTSB and INSB and per REP.
	[ "${exits:-0}" -ge $((2 * n + 2)) ] 2>/dev/null || fails="$fails str_exits=$exits"
	verdict "$desc" "--mode $1 io-str $n" "$fails"
}
for m in $modes; do
	str_run $m
done

# step_run MODE: --single-step --out $n --cpuid $n; the IO exits stay
# exact, and a KVM_EXIT_DEBUG comes for each of more than 3 instructions
# per workload exit.
step_run() {
	desc="$1 mode, --single-step: a KVM_EXIT_DEBUG per instruction, IO exits exact"
	vendor_case "$desc" || return
	"$run" --json --timeout 60 --mode "$1" --single-step --out $n --cpuid $n \
		>"$out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 1 ] && grep -q 'lacks KVM_CAP_SET_GUEST_DEBUG' "$tmp/err"; then
		ktap_skip "$desc" "$(cat "$tmp/err")"
		return
	fi
	fails=""
	[ $rc -eq 0 ] || fails=" exit=$rc"
	grep -q '^  "ok": true,' "$out" || fails="$fails ok=false"
	want "$out" total KVM_EXIT_IO count $((n + 2))
	want "$out" total io out $n
	steps=$(jget "$out" total KVM_EXIT_DEBUG count)
	[ "${steps:-0}" -gt $((3 * 2 * n)) ] 2>/dev/null || fails="$fails debug=$steps"
	verdict "$desc" "--mode $1 --single-step --out $n --cpuid $n" "$fails"
}
for m in $modes; do
	step_run $m
done
# --- l2-cpuid: an L1 hypervisor with an L2 guest
expect 2 'l2-cpuid runs in long mode only' "l2-cpuid outside long mode is rejected" \
	--mode prot l2-cpuid 5
expect 2 'no other workload with it' "l2-cpuid with another workload is rejected" \
	--mode long --l2 5 --cpuid 5
expect 2 'do not go together' "l2-cpuid with --single-step is rejected" \
	--mode long --single-step l2-cpuid 5
desc="long mode: l2-cpuid $n, L1 takes every CPUID exit of its L2"
if vendor_case "$desc"; then
	"$run" --json --timeout 60 --mode long l2-cpuid $n >"$out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 1 ] && grep -q 'offers its guests no VMX' "$tmp/err"; then
		ktap_skip "$desc" "$(cat "$tmp/err")"
	else
		fails=""
		[ $rc -eq 0 ] || fails=" exit=$rc"
		want "$out" vcpu0 l2_result seen $n
		want "$out" total KVM_EXIT_IO count 2
		[ "$(jothers "$out" total)" = 0 ] || fails="$fails other-exits"
		verdict "$desc" "--mode long l2-cpuid $n" "$fails"
	fi
fi

export KFP_RUN_HIDE_CAP=KVM_CAP_SET_GUEST_DEBUG
expect_kvm 1 '^kfp-run: KVM lacks KVM_CAP_SET_GUEST_DEBUG, needed for --single-step$' \
	"a KVM without KVM_CAP_SET_GUEST_DEBUG is reported" --single-step --out 1
unset KFP_RUN_HIDE_CAP
ktap_finish
