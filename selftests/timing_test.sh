#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Exit cost per reason (debugfs timing), in the emulated machine with
# kvm_fastpath loaded: switching it (debugfs and module parameter), bad
# input, and on a known workload (two vCPUs; OUTs a rule completes in the
# fast path, CPUIDs KVM handles):
#  - every exit is timed but each vCPU's last, none unpaired;
#  - the fast/stock split is the exits file's;
#  - each reason's histogram sums to its count, min <= mean <= max;
#  - kfp-stat --time, --json and --hist show the same numbers;
#  - KVM's own kvm_exit/kvm_entry events agree: in tracefs, exits per
#    reason (a hist trigger) and exit-to-entry pairs per reason (a
#    synthetic event), exactly; with "perf kvm stat" where the machine
#    carries perf, its samples per reason, exactly; and where kvm_exit
#    is traced in the vendor's vcpu_run, their mean times are not below
#    the module's (their interval holds ours); both means are printed.
cd "$(dirname "$0")" || exit 1
. ./ktap.sh
. ./kfp_lib.sh
run=./kfp-run
[ -x "$run" ] || run=../tools/kfp-run/kfp-run
stat=./kfp-stat
[ -x "$stat" ] || stat=../tools/kfp-stat/kfp-stat
P=/sys/module/kvm_fastpath/parameters/timing
T=/sys/kernel/tracing
tmp=/tmp/kfp-timing.$$
mkdir -p $tmp

ktap_plan 16
[ -w $D/timing ] || skip_all 16 "kvm_fastpath not loaded (no $D/timing)"

# state: "on" or "off", as the file's header and the parameter say.
state() {
	echo "$(sed -n 's/^# timing //p' $D/timing) $(cat $P)"
}

# --- switching, and bad input changing nothing
echo off >$D/timing
check_state() {
	if [ "$(state)" = "$2" ]; then ktap_ok "$1"; else
		ktap_diag "state: $(state), expected $2"; ktap_fail "$1"; fi
}
check_state "timing is off" "off N"
if refused $D/timing "bogus" "on on" "onx" "" && refused $P "maybe" "2"; then
	check_state "bad writes are refused and change nothing" "off N"
else
	ktap_fail "bad writes are refused and change nothing"
fi
echo 1 >$P
check_state "the module parameter switches it on" "on Y"
echo off >$D/timing
check_state "debugfs switches it off" "off N"

# --- a known workload, with tracefs watching KVM's own events
quiet_state 2>/dev/null
echo "io ports=0x510 dir=out size=1 action=sink" >$D/rules
echo "enable io" >$D/handlers

# KVM's events: exits per reason, and exit-to-entry pairs per reason
# with their summed latency (ns), matched per vCPU.
tracing=""
[ -d $T/events ] || mount -t tracefs nodev $T 2>/dev/null
if [ -w $T/events/kvm/kvm_exit/trigger ] &&
   echo 'hist:keys=exit_reason:size=256' >$T/events/kvm/kvm_exit/trigger 2>/dev/null; then
	tracing=counts
	echo >$T/error_log 2>/dev/null || :
	if echo 'kfp_pair u64 lat; unsigned int reason' >>$T/synthetic_events 2>/dev/null &&
	   echo 'hist:keys=vcpu_id:ts0=common_timestamp:r=exit_reason' >>$T/events/kvm/kvm_exit/trigger &&
	   echo 'hist:keys=vcpu_id:lat=common_timestamp-$ts0:onmatch(kvm.kvm_exit).trace(kfp_pair,$lat,$r)' >>$T/events/kvm/kvm_entry/trigger &&
	   echo 'hist:keys=reason:vals=hitcount,lat:size=256' >>$T/events/synthetic/kfp_pair/trigger; then
		tracing="counts pairs"
	else
		why_no_pairs="the synthetic event was refused: $(tail -n 3 $T/error_log 2>/dev/null | tr '\n' ' ')"
	fi
else
	why_no_trace="no tracefs hist triggers here (CONFIG_HIST_TRIGGERS)"
fi

echo on >$D/timing
echo reset >$D/timing
# perf, where the machine carries it (tools/perf-bundle.sh's, in
# $KFP_PERF_TGZ or here: the QEMU machines) or has it installed, records
# the same run with "perf kvm stat record".
perf=""
bundle=${KFP_PERF_TGZ:-./perf.tgz}
if [ -s "$bundle" ] && mkdir -p $tmp/perf && tar -C $tmp/perf -xzf "$bundle"; then
	perf="$tmp/perf/lib/ld-linux-x86-64.so.2 --library-path $tmp/perf/lib $tmp/perf/perf"
	$perf --version >$tmp/perf.version 2>&1 || perf=""
	why_no_perf="perf did not start: $(head -n 1 $tmp/perf.version)"
elif command -v perf >/dev/null 2>&1 && perf --version >/dev/null 2>&1; then
	perf=perf
else
	why_no_perf="no perf in this machine (make check carries tools/perf-bundle.sh's into the QEMU machines only)"
fi
if [ -n "$perf" ]; then
	$perf kvm stat record -a -o $tmp/perf.data -- \
		"$run" -n 2 --out 300 --cpuid 200 >$tmp/run 2>&1
else
	"$run" -n 2 --out 300 --cpuid 200 >$tmp/run 2>&1
fi
if grep -qE 'guest reported status|cannot|error' $tmp/run; then
	ktap_diag "kfp-run:"; sed 's/^/# /' $tmp/run
fi
echo off >$D/timing
cp $D/timing $tmp/timing
cp $D/exits $tmp/exits
if [ -n "$tracing" ]; then
	cat $T/events/kvm/kvm_exit/hist >$tmp/trace_exits
	[ "$tracing" = counts ] || cat $T/events/synthetic/kfp_pair/hist >$tmp/trace_pairs
	# Triggers go in reverse order of their dependencies.
	echo '!hist:keys=reason:vals=hitcount,lat:size=256' >>$T/events/synthetic/kfp_pair/trigger 2>/dev/null
	echo '!hist:keys=vcpu_id:lat=common_timestamp-$ts0:onmatch(kvm.kvm_exit).trace(kfp_pair,$lat,$r)' >>$T/events/kvm/kvm_entry/trigger 2>/dev/null
	echo '!hist:keys=vcpu_id:ts0=common_timestamp:r=exit_reason' >>$T/events/kvm/kvm_exit/trigger 2>/dev/null
	echo '!hist:keys=exit_reason:size=256' >>$T/events/kvm/kvm_exit/trigger 2>/dev/null
	echo '!kfp_pair u64 lat; unsigned int reason' >>$T/synthetic_events 2>/dev/null
fi
echo clear >$D/rules
echo "disable io" >$D/handlers

# timed REASON SIDE FIELD: from the timing file (0 if no row).
timed() {
	awk -v r="$1" -v s="$2" -v f="$3" '
		/^# index/ { for (i = 2; i <= NF; i++) idx[$i] = i - 1; next }
		/^#/ { next }
		$2 == r && $3 == s { v = $idx[f] }
		END { print v + 0 }' $tmp/timing
}
ktap_diag "timing file:"
cut -d' ' -f1-8 $tmp/timing | sed 's/^/#   /'

unpaired=$(sed -n 's/^# unpaired //p' $tmp/timing)
all_exits=$(awk '!/^#/ { s += $3 } END { print s }' $tmp/exits)
all_timed=$(awk '!/^#/ { s += $4 } END { print s }' $tmp/timing)
ktap_diag "exits $all_exits, timed $all_timed, unpaired $unpaired"
[ "$unpaired" = 0 ] && [ $((all_exits - all_timed)) = 2 ] &&
	ktap_ok "every exit is timed but each vCPU's last" ||
	ktap_fail "every exit is timed but each vCPU's last"

io_fast=$(col $R_IO fast $tmp/exits)
[ "$io_fast" = 600 ] && [ "$(timed $R_IO fast count)" = 600 ] &&
	ktap_ok "the rule's 600 OUTs are timed as fast" ||
	{ ktap_diag "$R_IO fast: exits $io_fast timed $(timed $R_IO fast count)"
	  ktap_fail "the rule's 600 OUTs are timed as fast"; }

cpuid_stock=$(col $R_CPUID stock $tmp/exits)
[ "$cpuid_stock" = 400 ] && [ "$(timed $R_CPUID stock count)" = 400 ] &&
	[ "$(timed $R_CPUID fast count)" = 0 ] &&
	ktap_ok "KVM's 400 CPUIDs are timed as stock" ||
	{ ktap_diag "$R_CPUID stock: exits $cpuid_stock timed $(timed $R_CPUID stock count)"
	  ktap_fail "KVM's 400 CPUIDs are timed as stock"; }

# Per row: histogram total = count, min <= sum/count <= max, sumsq >= sum.
bad=$(awk '/^#/ { next }
	{ h = 0; for (i = 10; i <= NF; i++) h += $i
	  if (h != $4 || $6 > $5 / $4 + 1 || $7 < $5 / $4 - 1) print $2, $3 }' $tmp/timing)
[ -z "$bad" ] && [ "$all_timed" -gt 0 ] &&
	ktap_ok "each row's histogram sums to its count; min <= mean <= max" ||
	{ ktap_diag "bad rows: $bad"; ktap_fail "each row's histogram sums to its count; min <= mean <= max"; }

# --- kfp-stat shows those numbers
mkdir -p $tmp/dir
cp $tmp/timing $tmp/exits $tmp/dir/
"$stat" --dir $tmp/dir --time >$tmp/table 2>&1
awk -v r="$R_IO" '$1 == r && $2 == "fast" { print $3 }' $tmp/table | grep -qx 600 &&
	ktap_ok "kfp-stat --time: $R_IO fast 600" ||
	{ sed 's/^/# /' $tmp/table; ktap_fail "kfp-stat --time: $R_IO fast 600"; }
"$stat" --dir $tmp/dir --time --json >$tmp/json 2>&1
grep -q "\"name\": \"$R_CPUID\", \"side\": \"stock\", \"count\": 400," $tmp/json &&
	ktap_ok "kfp-stat --time --json: $R_CPUID stock count 400" ||
	{ sed 's/^/# /' $tmp/json | head -n 30; ktap_fail "kfp-stat --time --json: $R_CPUID stock count 400"; }
"$stat" --dir $tmp/dir --hist $R_IO >$tmp/hist 2>&1
hsum=$(awk -v h="$R_IO fast:" 'index($0, h) == 1 { on = 1; next } /:/ { on = 0 }
	on && $1 ~ /^[0-9]+$/ { s += $5 } END { print s + 0 }' $tmp/hist)
[ "$hsum" = 600 ] && ktap_ok "kfp-stat --hist $R_IO: buckets sum to 600" ||
	{ sed 's/^/# /' $tmp/hist; ktap_fail "kfp-stat --hist $R_IO: buckets sum to 600"; }

# --- tracefs and perf agree
# KVM traces kvm_exit in the vendor's vcpu_run, inner-loop exits
# included: vmx_vcpu_run() on every kernel here, svm_vcpu_run() on 6.12
# and later; kvm_entry is in the vendor's vcpu_run on all.  So tracefs
# and perf count exactly the exits, and pair exactly those timed here.
# 6.1's SVM traces kvm_exit in svm_handle_exit(): every stock exit, and
# of the fast ones those that left KVM's inner loop (an exit request
# after the re-entry, as a timer tick makes; KVM still calls handle_exit
# for them), which no counter here tells apart.  There the events' count
# lies between the stock exits and all of them, and the two intervals
# differ (kvm_exit comes later): means are not compared.
rel=$(uname -r)
major=${rel%%.*}; minor=${rel#*.}; minor=${minor%%.*}
if [ "$R_IO" != io ] || [ "$major" -gt 6 ] ||
   { [ "$major" = 6 ] && [ "$minor" -ge 12 ]; }; then
	exact=1 rule="equal kfp's" means=", means not below"
else
	exact=0 rule="lie between kfp's stock and all" means=" (SVM before 6.12: means not compared)"
fi
# trace_count FILE REASON [FIELD]: a hist trigger's FIELD (default
# hitcount) for the vendor exit code of REASON.  Table index = exit code,
# but SVM's 0x400 group sits at 0xf0 on.
code_of() {
	awk -v r="$1" -v svm="$([ "$R_IO" = io ] && echo 1)" '!/^#/ && $2 == r {
		i = $1; if (svm && i >= 240) i = i - 240 + 1024; print i }' $tmp/exits
}
trace_count() {
	awk -v c="$(code_of "$2")" -v f="${3:-hitcount}" '
		/^\{ *(exit_reason|reason):/ { gsub(/[{}:]/, " ")
			if ($2 != c) next
			for (i = 3; i < NF; i++) if ($i == f) v = $(i + 1)
			found = 1 }
		END { print found ? v : 0 }' "$1"
}
# span REASON exits|timed: "LO HI", the counts the events may show for
# REASON: of the exits (the exits file) or of the exits timed.
span() {
	if [ "$2" = exits ]; then
		hi=$(col "$1" exits $tmp/exits) lo=$(col "$1" stock $tmp/exits)
	else
		lo=$(timed "$1" stock count)
		hi=$((lo + $(timed "$1" fast count)))
	fi
	[ $exact = 0 ] || lo=$hi
	echo "$lo $hi"
}
# in_span "LO HI" GOT
in_span() {
	set -- $1 "${2:-0}"
	[ "$3" -ge "$1" ] && [ "$3" -le "$2" ]
}
khz=$(sed -n 's/^# tsc_khz //p' $tmp/timing)
# mean_ns REASON: the mean of its timed exits, both sides, in ns.
mean_ns() {
	awk -v s=$(($(timed "$1" fast sum) + $(timed "$1" stock sum))) \
	    -v n=$(($(timed "$1" fast count) + $(timed "$1" stock count))) \
	    -v k="$khz" 'BEGIN { printf "%.0f", n ? s / n / k * 1e6 : 0 }'
}
# contains KFP_NS OTHER_NS COUNT: where kvm_exit is in vcpu_run, the
# events' interval holds the module's (kvm_exit fires before the vendor's
# vcpu_run returns, kvm_entry after the wrapper calls it), so their mean
# is not below ours, but for the two clocks' rounding (2%); checked where
# 100 or more exits make a mean.
contains() {
	[ $exact = 0 ] || [ "$3" -lt 100 ] ||
		awk -v a="$1" -v b="$2" 'BEGIN { exit !(b >= 0.98 * a) }'
}
timed_reasons() {
	awk '!/^#/ && $4 > 0 { print $2 }' $tmp/timing | sort -u
}

case "$tracing" in
*counts*)
	bad=""
	for r in $(awk '!/^#/ && $3 > 0 { print $2 }' $tmp/exits); do
		want=$(span $r exits)
		got=$(trace_count $tmp/trace_exits $r)
		ktap_diag "$r: kfp stock..exits ${want% *}..${want#* }, tracefs kvm_exit $got"
		in_span "$want" "$got" || bad="$bad $r"
	done
	[ -z "$bad" ] || sed 's/^/# /' $tmp/trace_exits
	[ -z "$bad" ] && ktap_ok "tracefs kvm_exit counts $rule exits per reason" ||
		ktap_fail "tracefs kvm_exit counts $rule exits per reason (differ:$bad)" ;;
*)
	ktap_skip "tracefs kvm_exit counts equal kfp's per reason" "$why_no_trace" ;;
esac
case "$tracing" in
*pairs*)
	bad=""
	for r in $(timed_reasons); do
		want=$(span $r timed)
		got=$(trace_count $tmp/trace_pairs $r)
		a=$(mean_ns $r)
		b=$(awk -v s=$(trace_count $tmp/trace_pairs $r lat) -v n=$got 'BEGIN { printf "%.0f", n ? s / n : 0 }')
		ktap_diag "$r: exit-to-entry pairs kfp ${want% *}..${want#* } tracefs $got; mean ns kfp $a tracefs $b"
		in_span "$want" "$got" && contains $a $b "$got" || bad="$bad $r"
	done
	[ -z "$bad" ] && ktap_ok "tracefs exit-to-entry pairs $rule timed exits per reason$means" ||
		ktap_fail "tracefs exit-to-entry pairs $rule timed exits per reason$means (differ:$bad)" ;;
*)
	ktap_skip "tracefs exit-to-entry pairs equal kfp's timed exits" "${why_no_trace:-$why_no_pairs}" ;;
esac

# perf kvm stat report's table: "REASON SAMPLES SAMPLES% TIME% MIN MAX
# AVGus ( +- N% )", times in us.
if [ -n "$perf" ]; then
	$perf kvm -i $tmp/perf.data stat report --event=vmexit >$tmp/perf.report 2>&1
	ktap_diag "$(head -n 1 $tmp/perf.version):"
	grep -E 'VM-EXIT|us \(' $tmp/perf.report | sed 's/^/#   /'
	bad=""
	for r in $(timed_reasons); do
		want=$(span $r timed)
		got=$(awk -v r=$r '$1 == r && $7 ~ /us$/ { print $2 }' $tmp/perf.report)
		a=$(mean_ns $r)
		b=$(awk -v r=$r '$1 == r && $7 ~ /us$/ { sub(/us$/, "", $7); printf "%.0f", $7 * 1000 }' $tmp/perf.report)
		ktap_diag "$r: samples kfp ${want% *}..${want#* } perf ${got:-none}; mean ns kfp $a perf ${b:-none}"
		in_span "$want" "$got" && contains $a "${b:-0}" "${got:-0}" || bad="$bad $r"
	done
	[ -z "$bad" ] && ktap_ok "perf kvm stat samples $rule timed exits per reason$means" ||
		ktap_fail "perf kvm stat samples $rule timed exits per reason$means (differ:$bad)"
else
	ktap_skip "perf kvm stat samples equal kfp's timed exits per reason" "$why_no_perf"
fi

# --- reset, and the cost of "off": nothing more is timed
echo reset >$D/timing
n=$(awk '!/^#/' $D/timing | wc -l)
[ "$n" = 0 ] && [ "$(sed -n 's/^# unpaired //p' $D/timing)" = 0 ] &&
	ktap_ok "reset empties the table" || ktap_fail "reset empties the table"
"$run" --out 10 >/dev/null 2>&1
n=$(awk '!/^#/' $D/timing | wc -l)
[ "$n" = 0 ] && ktap_ok "nothing is timed while off" || ktap_fail "nothing is timed while off"

echo reset >$D/timing
rm -rf $tmp
ktap_finish
