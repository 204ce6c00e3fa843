# SPDX-License-Identifier: GPL-2.0
#
# make bench: one kernel's timing files ("CONFIG LINE", LINE as in debugfs
# timing) in; per exit reason, the mean cycles from exit to next entry
# out, for tools/bench/timing.gp: KVM's (handlers off: "timed"), the fast
# path's and KVM's with the handlers on ("on-timed").  Reasons with fewer
# than 100 exits (timer ticks and the like) are left out.

$2 == "#" { next }
NF >= 10 {
	if (!($3 in seen)) {
		seen[$3] = 1
		order[++n] = $3
	}
	mean[$1, $3, $4] = $6 / $5
	count[$3] += $5
}

function val(cfg, r, side) {
	return ((cfg, r, side) in mean) ? sprintf("%.1f", mean[cfg, r, side]) : "?"
}

END {
	print "# reason stock(handlers-off) fast(handlers-on) stock(handlers-on)"
	for (i = 1; i <= n; i++) {
		r = order[i]
		if (count[r] < 100)
			continue
		printf "%s %s %s %s\n", r, val("timed", r, "stock"),
			val("on-timed", r, "fast"), val("on-timed", r, "stock")
	}
}
