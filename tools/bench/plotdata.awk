# SPDX-License-Identifier: GPL-2.0
#
# make bench: bench.csv (awk -F,) in; per kernel, DIR/plot-N.dat with one
# row per exit and one column per configuration for tools/bench/plot.gp,
# and DIR/plot.titles with the kernels' names.

NR == 1 { next }
$1 == "vmx" {
	if (!($2 in idx)) {
		idx[$2] = ++nrel
		print $2 > (dir "/plot.titles")
	}
	per[$2, $3, $4] = $6 / $5
}

function val(rel, cfg, x) {
	return ((rel, cfg, x) in per) ? sprintf("%.1f", per[rel, cfg, x]) : "?"
}

END {
	nk = split("cpuid out in mmio msr vmcall irq", kind, " ")
	for (rel in idx) {
		f = dir "/plot-" idx[rel] ".dat"
		print "# exit stock off on null stock-kdev" > f
		for (k = 1; k <= nk; k++) {
			x = kind[k]
			printf "%s %s %s %s %s %s\n", x, val(rel, "stock", x),
				val(rel, "off", x), val(rel, "on", x),
				x == "vmcall" ? val(rel, "null", x) : "?",
				val(rel, "stock-kdev", x) > f
		}
		close(f)
	}
}
