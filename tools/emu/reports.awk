# SPDX-License-Identifier: GPL-2.0
#
# Find kernel reports in an emulated machine's console log.
#
#   awk -f reports.awk boot-noise.txt serial.log
#
# Prints each report (its first line and up to 24 lines of what follows,
# up to its "end trace") and exits 1 if there is any; prints nothing and
# exits 0 otherwise.  A report is any line below: a panic, BUG, WARNING
# (lockdep and RCU-lockdep reports start with one), Oops, IBT's Missing
# ENDBR, a fault, a stall, a lockup, a hung task, KASAN/KFENCE/UBSAN, or
# a stack trace without any of these.  boot-noise.txt lists (one ERE a
# line, # comments) the reports the emulated CPUs themselves cause at
# boot; one of those is excused, with the trace that follows it, only
# before the "kfp-emu: init started" line that /init writes.

function strip(s) {
	sub(/\r$/, "", s)
	while (s ~ /^\[[^]]*\] ?/)
		sub(/^\[[^]]*\] ?/, "", s)
	return s
}

function headline(s) {
	return s ~ /Kernel panic|kernel BUG at|BUG:|^WARNING:|Oops|general protection fault|Missing ENDBR|Unable to handle kernel|stack segment|double fault|hard LOCKUP|detected stalls? on CPU|self-detected stall|rcu_(sched|preempt|bh) detected stall|INFO: task .* blocked for more than|UBSAN:|KASAN:|KFENCE:|Uhhuh\. NMI/
}

function trace(s) {
	return s ~ /^RIP: |^Call Trace:|^ *<TASK>$/
}

FNR == NR {
	if ($0 !~ /^#/ && $0 !~ /^[ \t]*$/)
		noise[++nnoise] = $0
	next
}

{
	line = strip($0)
	if (line ~ /^kfp-emu: init started/) {
		booted = 1
		block = ended = 0
		next
	}
	# An Oops prints its registers once more after its "end trace".
	if (ended && trace(line))
		block = 1
	ended = 0
	if (block && !headline(line)) {
		# Inside a report: its lines belong to it.
		if (!excused && shown < 25)
			out = out "  " line "\n"
		shown++
		if (line ~ /---\[ end trace/ || shown >= 200) {
			block = 0
			ended = 1
		}
		next
	}
	block = 0
	if (headline(line) || trace(line)) {
		excused = 0
		if (!booted)
			for (i = 1; i <= nnoise; i++)
				if (line ~ noise[i])
					excused = 1
		block = 1
		shown = 1
		if (!excused) {
			n++
			out = out "report " n ": " line "\n"
		}
	}
}

END {
	printf "%s", out
	exit n > 0
}
