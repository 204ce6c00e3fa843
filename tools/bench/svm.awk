# SPDX-License-Identifier: GPL-2.0
#
# make bench, SVM part: the emulated machine's log (BENCH and BENCH-FAST
# lines of tools/bench/guest.sh) in, a Markdown table out.
# awk -v rel=RELEASE -v n=EXITS -f svm.awk LOG

$1 == "BENCH" { per[$2, $3] = $5 / $4 }
$1 == "BENCH-FAST" { fast[$2] = $3 }

END {
	nk = split("cpuid out in mmio msr vmcall", kind, " ")
	reason["cpuid"] = "cpuid"
	reason["out"] = reason["in"] = "io"
	reason["mmio"] = "npf"
	reason["msr"] = "msr"
	reason["vmcall"] = "hypercall"
	printf "### %s, SVM (QEMU TCG, wall clock: one run, noisy)\n\n", rel
	printf "Guest TSC ticks per exit, %d exits per figure.  TCG's TSC follows the host clock: ", n
	printf "these ratios vary by tens of percent from run to run; only large differences mean anything.\n\n"
	printf "| exit | stock KVM | module, handlers off | off / stock | handlers on | on / stock | completed by the module |\n"
	printf "|---|--:|--:|--:|--:|--:|---|\n"
	for (k = 1; k <= nk; k++) {
		x = kind[k]
		s = per["stock", x]
		r = reason[x]
		done = (r in fast) ? (r == "io" ? "yes (OUT and IN: " fast[r] ")" : "yes (" fast[r] ")") : "no"
		printf "| %s | %.0f | %.0f | %.2f | %.0f | %.2f | %s |\n", x, s,
			per["off", x], per["off", x] / s, per["on", x],
			per["on", x] / s, done
	}
	printf "\n"
}
