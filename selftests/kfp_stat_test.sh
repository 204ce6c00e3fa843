#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kfp-stat, in two parts.
#
# On any host, against fake exits files (--dir): parsing by header name,
# the table, --all, --json, --watch deltas, --reset, and every error.
#
# With kvm_fastpath loaded (the emulated machine): after kfp-stat
# --reset, kfp-run makes known numbers of exits and kfp-stat --json must
# report exactly those.  Skipped, with the reason, elsewhere.
#
# Finds kfp-stat and kfp-run in ../tools/... (source tree) or next to this
# script (the emulated machine's flat /kfp).
cd "$(dirname "$0")" || exit 1
. ./ktap.sh
. ./kfp_lib.sh
stat=../tools/kfp-stat/kfp-stat
[ -x "$stat" ] || stat=./kfp-stat
run=../tools/kfp-run/kfp-run
[ -x "$run" ] || run=./kfp-run
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out
fake=$tmp/fake
mkdir -p "$fake"
dbg=/sys/kernel/debug/kvm_fastpath

# A file as the module writes it: header, rows, "# unindexed N" last.
write_fake() {
	cat >"$fake/exits" <<'EOF'
# index name exits fast stock l2
0 EXCEPTION_NMI 0 0 0 0
1 EXTERNAL_INTERRUPT 12 0 12 0
10 CPUID 2000 1500 500 0
12 HLT 100 0 100 7
30 IO_INSTRUCTION 1501 1 1500 0
31 MSR_READ 0 0 0 0
# unindexed 3
EOF
}

# expect CODE PATTERN DESC ARGS...: exit code CODE, output matching PATTERN.
expect() {
	code=$1 pat=$2 desc=$3
	shift 3
	"$stat" "$@" >"$out" 2>&1
	rc=$?
	if [ $rc -eq "$code" ] && grep -qE -e "$pat" "$out"; then
		ktap_ok "$desc"
	else
		ktap_fail "$desc"
		ktap_diag "kfp-stat $*: exit $rc (want $code), output:"
		sed 's/^/# /' "$out" | head -n 30
	fi
}

# check DESC CMD...: pass if CMD succeeds, else show $out.
check() {
	desc=$1
	shift
	if "$@"; then
		ktap_ok "$desc"
	else
		ktap_fail "$desc"
		sed 's/^/# /' "$out" | head -n 30
	fi
}

# jexits FILE NAME [FIELD]: FIELD (default exits) of reason NAME in
# kfp-stat --json output, one row per line; empty if absent.
jexits() {
	awk -v name="\"name\": \"$2\"" -v field="\"${3:-exits}\": " '
	index($0, name) && index($0, field) {
		s = substr($0, index($0, field) + length(field))
		sub(/[,}].*/, "", s)
		print s
		exit
	}' "$1"
}

# The table's rows, reason names only, in order.
table_names() {
	awk 'NR > 1 { print $1 }' "$out" | tr '\n' ' '
}

can_ns=0
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null &&
   unshare -m true 2>/dev/null; then
	can_ns=1
fi
# util-linux setpriv, to run as nobody (busybox's has no --reuid).
nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
can_nobody=0
if [ "$(id -u)" -eq 0 ] && $nobody true 2>/dev/null; then
	can_nobody=1
fi

ktap_plan 52

# --- host part: fake files ------------------------------------------
expect 0 '^usage: kfp-stat' "--help prints usage" --help

write_fake
"$stat" --dir "$fake" >"$out" 2>&1
check "table: non-zero reasons, busiest first, then unindexed and total" \
	[ "$(table_names)" = "CPUID IO_INSTRUCTION HLT EXTERNAL_INTERRUPT (unindexed) total " ]
check "table: exits, fast, stock, l2 and share of each row" \
	grep -qE '^CPUID +2000 +1500 +500 +0 +55\.31%$' "$out"
check "table: the total row sums every column, unindexed in exits" \
	grep -qE '^total +3616 +1501 +2112 +7 +100\.00%$' "$out"

"$stat" --dir "$fake" --all >"$out" 2>&1
check "--all: reasons with no exits too" \
	[ "$(table_names)" = "CPUID IO_INSTRUCTION HLT EXTERNAL_INTERRUPT EXCEPTION_NMI MSR_READ (unindexed) total " ]

"$stat" --dir "$fake" --json >"$out" 2>&1
check "--json: every column of every non-zero row, by header name" \
	[ "$(jexits "$out" HLT l2)/$(jexits "$out" IO_INSTRUCTION fast)/$(jexits "$out" CPUID index)/$(jexits "$out" MSR_READ)" = "7/1/10/" ]
check "--json: unindexed and totals" \
	grep -q '"total": {"exits": 3616, "fast": 1501, "stock": 2112, "l2": 7' "$out"
if command -v python3 >/dev/null; then
	check "--json: one valid JSON object" \
		sh -c 'python3 -m json.tool "$1" >/dev/null' sh "$out"
else
	ktap_skip "--json: one valid JSON object" "needs python3"
fi

# Columns are found by name: another order and an extra column.
cat >"$fake/exits" <<'EOF'
# name stock exits index fast future l2
CPUID 5 40 10 35 xyz 1
HLT 9 9 12 0 77 0
# unindexed 0
EOF
"$stat" --dir "$fake" >"$out" 2>&1
check "columns are read by header name, in any order" \
	grep -qE '^CPUID +40 +35 +5 +1 +81\.63%$' "$out"
"$stat" --dir "$fake" --json >"$out" 2>&1
check "--json keeps columns it does not know" \
	[ "$(jexits "$out" CPUID future)/$(jexits "$out" HLT future)" = '"xyz"/77' ]
printf '# index name exits\n10 CPUID 7\n' >"$fake/exits"
expect 0 '^CPUID +7 +- +- +- +100\.00%$' \
	"a file without fast, stock and l2 shows them as -" --dir "$fake"

# --watch: the change between two readings, interval by interval.
write_fake
"$stat" --dir "$fake" --watch 0.5 --count 3 2>&1 | while read -r line; do
	echo "$line"
	case $line in
	"-- interval 1:"*)
		sed 's/^10 CPUID 2000 1500/10 CPUID 2600 2100/' "$fake/exits" \
			>"$fake/new" && mv "$fake/new" "$fake/exits" ;;
	esac
done >"$out"
check "--watch --count 3: three intervals, the change counted once" \
	[ "$(grep -c '^-- interval [0-9]: ' "$out")/$(awk '$1 == "CPUID" { s += $2 } END { print s + 0 }' "$out")" = "3/600" ]
write_fake
"$stat" --dir "$fake" --watch 0.2 --count 2 --json >"$out" 2>&1
check "--watch --json: one object per interval" \
	[ "$(grep -c '"interval": ' "$out")/$(grep -c '"rules": null' "$out")" = "2/2" ]

write_fake
"$stat" --dir "$fake" --reset >"$out" 2>&1
rc=$?
check "--reset writes \"reset\" to the exits file" \
	[ "$rc/$(cat "$fake/exits")" = "0/reset" ]

# Errors.
expect 1 "$tmp/none: no such directory" "a missing --dir is reported" \
	--dir "$tmp/none"
rm -f "$fake/exits"
mkdir "$fake/exits"
expect 1 "$fake/exits: Is a directory" "an unreadable exits file is reported" \
	--dir "$fake"
rmdir "$fake/exits"
printf '10 CPUID 2000 1500 500 0\n' >"$fake/exits"
expect 1 'line 1: no header' "a file without its header is refused" --dir "$fake"
printf '# index name exits fast stock l2\n10 CPUID 2000 1500\n' >"$fake/exits"
expect 1 'line 2: 4 columns, the header names 6' \
	"a row that does not match the header is refused" --dir "$fake"
if [ $can_nobody -eq 1 ]; then
	write_fake
	chmod 000 "$fake/exits"
	chmod 755 "$tmp" "$fake"
	$nobody "$stat" --dir "$fake" >"$out" 2>&1
	rc=$?
	check "no permission to read is reported" \
		[ "$rc/$(cat "$out")" = "1/kfp-stat: permission denied on $fake/exits (debugfs needs root)" ]
else
	ktap_skip "no permission to read is reported" "needs root and util-linux setpriv"
fi
expect 2 '--count needs --watch' "--count without --watch is rejected" --count 2
expect 2 "--watch: '0' is not" "--watch 0 is rejected" --watch 0
expect 2 'kfp-stat: ' "an unknown option is rejected" --bogus

# The real directory, in a mount namespace of our own.
if [ $can_ns -eq 1 ]; then
	unshare -m sh -c "mount -t tmpfs none /sys/kernel/debug && exec $stat" \
		>"$out" 2>&1
	rc=$?
	check "debugfs not mounted is reported" \
		[ "$rc/$(cat "$out")" = "1/kfp-stat: debugfs is not mounted on /sys/kernel/debug (mount -t debugfs none /sys/kernel/debug)" ]
else
	ktap_skip "debugfs not mounted is reported" "needs root and mount namespaces"
fi
if [ $can_ns -eq 1 ] && [ $can_nobody -eq 1 ] && [ ! -e $dbg ] &&
   unshare -m sh -c 'mount -t debugfs none /sys/kernel/debug' 2>/dev/null; then
	unshare -m sh -c "mount -t debugfs none /sys/kernel/debug && [ ! -e $dbg ] && exec $stat" \
		>"$out" 2>&1
	rc=$?
	check "kvm_fastpath not loaded is reported" \
		[ "$rc/$(cat "$out")" = "1/kfp-stat: kvm_fastpath is not loaded (no $dbg)" ]
	unshare -m sh -c "mount -t debugfs none /sys/kernel/debug && exec $nobody $stat" \
		>"$out" 2>&1
	rc=$?
	check "no permission on debugfs is reported" \
		[ "$rc/$(cat "$out")" = "1/kfp-stat: permission denied on $dbg/exits (debugfs needs root)" ]
else
	why="needs root, mount namespaces, debugfs, setpriv and the module not loaded"
	ktap_skip "kvm_fastpath not loaded is reported" "$why"
	ktap_skip "no permission on debugfs is reported" "$why"
fi

# Rules: a second table and a JSON array; null without a rules file.
write_fake
cat >"$fake/rules" <<'EOF'
# id type match... vm=VM hits=N
1 io ports=0x510-0x510 dir=out size=1 action=sink vm=all hits=1500
4 doorbell gpa=0xd0000 len=0x1000 vm=4242-11 hits=7
EOF
expect 0 '^4 +7  doorbell gpa=0xd0000 len=0x1000 vm=4242-11$' "rule hits are shown under the table" -d "$fake"
expect 0 '"id": 1, "rule": "io ports=0x510-0x510 dir=out size=1 action=sink vm=all", "hits": 1500' \
	"rule hits are in the JSON" -d "$fake" --json
rm -f "$fake/rules"

# A watched VM: DIR/vms/PID-FD, by its name or its process's pid.
mkdir -p "$fake/vms"
cp "$fake/exits" "$fake/vms/4242-11"
cat >"$fake/rules" <<'EOF'
# id type match... vm=VM hits=N
1 io ports=0x510-0x510 dir=out size=1 action=sink vm=all hits=1500
4 doorbell gpa=0xd0000 len=0x1000 vm=4242-11 hits=7
5 doorbell gpa=0xe0000 len=0x1000 vm=4242-12 hits=9
EOF
expect 0 '^VM 4242-11$' "--vm PID finds the process's one watched VM" -d "$fake" --vm 4242
check "--vm shows the rules for that VM only: its own and vm=all" \
	sh -c "grep -q '^4 .*vm=4242-11$' $out && grep -q '^1 .*vm=all$' $out && ! grep -q '4242-12' $out"
expect 0 '"vm": "4242-11"' "--vm names the VM in the JSON" -d "$fake" --vm 4242-11 --json
cp "$fake/exits" "$fake/vms/4242-12"
expect 1 'process 4242 has 2 watched VMs: name one as PID-FD' \
	"--vm PID with two watched VMs is refused" -d "$fake" --vm 4242
expect 1 "VM 4243 is not watched \(echo 'watch vm=4243'" "--vm of a VM not watched is refused" \
	-d "$fake" --vm 4243
bad=0
for v in 12a -1 1- 1-2-3 "" 0x10; do
	"$stat" -d "$fake" --vm "$v" >"$out" 2>&1
	[ $? -eq 2 ] && grep -q "is not PID or PID-FD" "$out" || bad=1
done
[ $bad = 0 ] && ktap_ok "a malformed --vm is a usage error" || ktap_fail "a malformed --vm is a usage error"
rm -rf "$fake/vms" "$fake/rules"
expect 0 '"rules": null' "no rules file: JSON rules is null" -d "$fake" --json

# --time and --hist: a timing file as the module writes it (two rows,
# the histograms summing to the counts; TSC 2 GHz, so ns = cycles / 2).
z8="0 0 0 0 0 0 0 0"
cat >"$fake/timing" <<TIMING
# timing on
# tsc_khz 2000000
# unpaired 3
# buckets 32: 0 below 16 cycles, b [2^(b+3), 2^(b+4)), 31 open
# index name side count sum min max sumsq hist...
30 IO_INSTRUCTION fast 600 240000 300 900 0x00000000000000000000000005f5e100 0 0 0 0 0 500 100 0 $z8 $z8 $z8
10 CPUID stock 400 2400000 4000 9000 0x00000000000000000000000366bf3b00 0 0 0 0 0 0 0 0 0 300 100 0 $z8 $z8 0 0 0 0
TIMING
expect 0 '^CPUID +stock +400 +40\.00% +90\.91% +2000 +4500 +3000\.0 ' \
	"--time: samples, shares, min, max and mean in ns" -d "$fake" --time
expect 0 '^IO_INSTRUCTION +fast +600 +60\.00% +9\.09% +300 +900 +400\.0 ' \
	"--time --cycles: cycles as the module counts them" -d "$fake" --time --cycles
expect 0 '^unpaired entries \(no exit of theirs recorded\): 3$' "--time: unpaired entries" -d "$fake" -t
"$stat" -d "$fake" --hist IO_INSTRUCTION >"$out" 2>&1
check "--hist: one reason's buckets, from its first to its last, summing to its count" \
	[ "$(awk '$1 ~ /^[0-9]+$/ { printf "%s:%s ", $1, $5 }' "$out")" = "256:500 512:100 " ]
"$stat" -d "$fake" --time --json >"$out" 2>&1
check "--time --json: every field of a row" \
	grep -q '"name": "CPUID", "side": "stock", "count": 400, "samples_percent": 40.00, "time_percent": 90.91, "sum_cycles": 2400000, "min_cycles": 4000, "max_cycles": 9000, "mean_cycles": 6000.0, "min_ns": 2000.0, "max_ns": 4500.0, "mean_ns": 3000.0' "$out"
if command -v python3 >/dev/null; then
	check "--time --json: one valid JSON object, histograms summing to counts" \
		python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert all(sum(r["hist"]) == r["count"] for r in d["exits"]) and len(d["exits"]) == 2' "$out"
else
	ktap_skip "--time --json: one valid JSON object" "needs python3"
fi
expect 1 'no exits timed' "--hist of a reason with no exits timed fails" -d "$fake" --hist HLT
expect 2 'are for all VMs' "--time with --vm is a usage error" -d "$fake" --time --vm 1
sed -i 's/^30 IO_INSTRUCTION fast 600 /30 IO_INSTRUCTION fast x600 /' "$fake/timing"
expect 1 'line 6: not a timing row' "--time: a malformed row is reported" -d "$fake" --time
rm -f "$fake/timing"

# --- module part: kvm_fastpath loaded --------------------------------
o=300 i=100 c=400 h=20 m=50
skip=""
[ -e $dbg/exits ] || skip="kvm_fastpath not loaded (no $dbg/exits)"
[ -n "$skip" ] || [ -r /dev/kvm ] || skip="no usable /dev/kvm"
for mode in real long; do
	if [ -z "$skip" ]; then
		"$stat" --reset >"$out" 2>&1 &&
		"$run" --quiet --mode $mode --out $o --in $i --cpuid $c \
			--hlt $h --msr $m >>"$out" 2>&1 &&
		"$stat" --json --all >"$out" 2>&1
		rc=$?
		[ $rc -eq 0 ] || ktap_diag "$mode mode: kfp-stat/kfp-run failed ($rc)"
	fi
	# The whole run counts: mark + done + out + in.
	for want in "$R_IO $((o + i + 2))" "$R_CPUID $c" "$R_HLT $h" \
		    "$R_MSR_WRITE $m"; do
		set -- $want
		desc="module, $mode mode: kfp-stat reports $1 = $2 after --reset"
		if [ -n "$skip" ]; then
			ktap_skip "$desc" "$skip"
			continue
		fi
		got=$(jexits "$out" "$1")
		if [ "$got" = "$2" ]; then
			ktap_ok "$desc"
		else
			ktap_fail "$desc"
			ktap_diag "$1: got '$got'"
		fi
	done
done

# A rule's hits as kfp-stat reports them, with the module's IO handler.
desc="module: kfp-stat reports a sink rule's hits"
if [ -n "$skip" ]; then
	ktap_skip "$desc" "$skip"
else
	echo clear >$dbg/rules
	echo "io ports=0x510 dir=out size=1 action=sink" >$dbg/rules
	echo "enable io" >$dbg/handlers
	"$run" --quiet --out 123 >/dev/null 2>&1
	"$stat" --json >"$out" 2>&1
	echo "disable io" >$dbg/handlers
	echo clear >$dbg/rules
	check "$desc" grep -q '"rule": "io ports=0x510-0x510 dir=out size=1 action=sink vm=all", "hits": 123}' "$out"
fi
ktap_finish
