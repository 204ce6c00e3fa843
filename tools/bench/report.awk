# SPDX-License-Identifier: GPL-2.0
#
# make bench's report: bench.csv (awk -F,) in, Markdown out.  With
# -v check=1 it prints nothing and exits 1 if the two stock runs of any
# exit differ by more than 0.5%; with -v check=timing, if the long CPUID
# loop costs more than 0.5% more with the module as built than with it
# built without timing's static branch, on any kernel.

function ratio(a, b) {
	return (a == "" || b == "" || b == 0) ? "" : a / b
}

function fmt(x, f) {
	return x == "" ? "-" : sprintf(f, x)
}

function verdict(ok) {
	return ok ? "met" : "**missed**"
}

# The largest ratio of config cfg's figures to stock's, or to null if it
# is given, over the kinds (only those a handler serves, if
# handled_only); the kind it is for goes to wk.
function worst_ratio(rel, cfg, handled_only, null,    k, x, v, w) {
	w = 0
	for (k = 1; k <= nk; k++) {
		x = kind[k]
		if (handled_only && !handled[x])
			continue
		v = ratio(per[rel, cfg, x], null != "" ? null : per[rel, "stock", x])
		if (v > w) {
			w = v
			wk = x
		}
	}
	return w
}

NR == 1 { next }
$1 == "vmx" {
	if (!($2 in seen_rel)) {
		seen_rel[$2] = 1
		rels[++nrel] = $2
	}
	per[$2, $3, $4] = $6 / $5
	if ($3 ~ /-long$/)
		long_exits[$2] = $5
	else
		exits = $5
}

END {
	kinds = "cpuid out in mmio msr vmcall irq"
	nk = split(kinds, kind, " ")
	label["cpuid"] = "CPUID leaf 0"
	label["out"] = "OUT 0x510, sink rule"
	label["in"] = "IN 0x510, const rule"
	label["mmio"] = "MMIO write 0xd0000, doorbell rule"
	label["msr"] = "WRMSR PAT, no handler"
	label["vmcall"] = "VMCALL, no handler"
	label["irq"] = "HLT round (irq-hlt), hlt handler"
	handled["cpuid"] = handled["out"] = handled["in"] = handled["mmio"] = 1

	for (r = 1; r <= nrel; r++) {
		rel = rels[r]
		null = per[rel, "null", "vmcall"]
		for (k = 1; k <= nk; k++) {
			x = kind[k]
			s = per[rel, "stock", x]
			d = s ? (per[rel, "stock-again", x] - s) / s * 100 : 0
			if (d > 0.5 || d < -0.5)
				unstable = 1
		}
		v = ratio(per[rel, "off-long", "cpuid"], per[rel, "untimed-long", "cpuid"])
		if (v == "" || v > 1.005)
			timing_costs = 1
		if (check)
			continue

		printf "### %s\n\n", rel
		printf "Emulated instructions per exit (VMX in Bochs, long-mode guest, %d exits per figure).\n\n", exits
		printf "| exit | stock KVM | stock again | diff | module, handlers off | off / stock | off, VM watched | watched / stock | handlers on | on / stock | null handler | on / null | rules for the VM | that / null | stock in-kernel PIC | handlers off, timing on | that / off | handlers on, timing on | that / on |\n"
		printf "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n"
		for (k = 1; k <= nk; k++) {
			x = kind[k]
			s = per[rel, "stock", x]
			a = per[rel, "stock-again", x]
			off = per[rel, "off", x]
			w = per[rel, "watched", x]
			on = per[rel, "on", x]
			onvm = per[rel, "on-vm", x]
			kd = per[rel, "stock-kdev", x]
			t = per[rel, "timed", x]
			ton = per[rel, "on-timed", x]
			printf "| %s | %.1f | %.1f | %+.2f%% | %.1f | %.3f | %s | %s | %.1f | %.3f | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				label[x], s, a, (a - s) / s * 100, off, off / s,
				fmt(w, "%.1f"), fmt(ratio(w, s), "%.3f"),
				on, on / s,
				fmt(null, "%.1f"), handled[x] ? fmt(ratio(on, null), "%.3f") : "-",
				fmt(onvm, "%.1f"), handled[x] ? fmt(ratio(onvm, null), "%.3f") : "-",
				fmt(kd, "%.1f"), fmt(t, "%.1f"), fmt(ratio(t, off), "%.3f"),
				fmt(ton, "%.1f"), fmt(ratio(ton, on), "%.3f")
		}
		printf "\nNull handler (VMCALL, skip only): %.1f re-entering the guest at once, %.1f leaving KVM's inner loop first (KFP_DONE).\n",
			null, per[rel, "null-done", "vmcall"]
		printf "MSR and VMCALL under \"handlers on\": not handled, with dispatch on (IO, CPUID and EPT handlers enabled).\n"
		printf "HLT round: one loop of kfp-run's irq-hlt (--irqchip), four exits: the self-IPI's APIC write, the HLT with the interrupt pending, an interrupt window, the EOI's APIC write.  \"handlers on\" is the hlt handler alone; where KVM has a HLT fast path of its own (6.12), that completes these HLTs first.\n\n"

		printf "Targets (%s):\n\n", rel
		printf "| target | measured | |\n|---|---|---|\n"
		v = ratio(per[rel, "on", "cpuid"], per[rel, "stock", "cpuid"])
		printf "| CPUID fast path <= 0.5x stock | %.3fx | %s |\n", v, verdict(v <= 0.5)
		v = ratio(per[rel, "on", "out"], per[rel, "stock", "out"])
		printf "| OUT sink <= 0.2x stock (userspace round trip) | %.3fx | %s |\n", v, verdict(v <= 0.2)
		v = per[rel, "on", "out"]
		kd = per[rel, "stock-kdev", "out"]
		printf "| OUT sink below stock's in-kernel PIC port | %.1f vs %.1f (%.3fx) | %s |\n",
			v, kd, v / kd, verdict(v < kd)
		v = ratio(per[rel, "on", "mmio"], per[rel, "stock", "mmio"])
		printf "| EPT doorbell <= 0.2x stock MMIO exit | %.3fx | %s |\n", v, verdict(v <= 0.2)
		worst = 0
		for (k = 1; k <= nk; k++) {
			x = kind[k]
			v = ratio(per[rel, "off", x], per[rel, "stock", x])
			if (v > worst) {
				worst = v
				wk = x
			}
			if (handled[x] || x == "irq")
				continue
			v = ratio(per[rel, "on", x], per[rel, "stock", x])
			if (v > worst) {
				worst = v
				wk = x " (dispatch on)"
			}
		}
		printf "| exits not handled <= 1.02x stock (worst) | %.5fx, %s | %s |\n", worst, wk, verdict(worst <= 1.02)
		v = worst_ratio(rel, "watched", 0, "")
		printf "| exits not handled, VM watched (own counters) <= 1.02x stock (worst) | %.5fx, %s | %s |\n", v, wk, verdict(v <= 1.02)
		v = worst_ratio(rel, "on", 1, null)
		printf "| every handler <= 1.05x the null handler (worst), rules for all VMs | %.3fx, %s | %s |\n", v, wk, verdict(v <= 1.05)
		v = worst_ratio(rel, "on-vm", 1, null)
		printf "| every handler <= 1.05x the null handler (worst), rules for the VM | %.3fx, %s | %s |\n", v, wk, verdict(v <= 1.05)
		v = ratio(per[rel, "off-long", "cpuid"], per[rel, "untimed-long", "cpuid"])
		printf "| timing off costs nothing measurable: %d CPUIDs, module as built / built without timing's branch <= 1.005x | %.1f vs %.1f (%.4fx) | %s |\n",
			long_exits[rel], per[rel, "off-long", "cpuid"], per[rel, "untimed-long", "cpuid"], v, verdict(v <= 1.005)
		v = worst_ratio(rel, "timed", 0, "")
		printf "| timing on, exits not handled: cost shown, no target (worst vs stock) | %.3fx, %s | - |\n", v, wk
		v = worst_ratio(rel, "on-timed", 1, null)
		printf "| timing on, every handler vs the null handler: cost shown, no target (worst) | %.3fx, %s | - |\n", v, wk
		# The BPF handlers: the built-in rules of "on" as programs.
		if ((rel, "bpf", "out") in per) {
			worst = 0
			shown = ""
			for (k = 1; k <= 3; k++) {
				x = k == 1 ? "out" : k == 2 ? "in" : "cpuid"
				v = ratio(per[rel, "bpf", x], per[rel, "on", x])
				shown = shown sprintf("%s%s %.1f vs %.1f", k > 1 ? "; " : "",
						      x, per[rel, "bpf", x], per[rel, "on", x])
				if (v > worst) {
					worst = v
					wk = x
				}
			}
			printf "| a BPF handler <= 1.10x the built-in one (worst of OUT, IN, CPUID) | %.3fx, %s (%s) | %s |\n\n",
				worst, wk, shown, verdict(worst <= 1.10)
		} else {
			printf "| a BPF handler <= 1.10x the built-in one | no BPF handlers on this kernel | - |\n\n"
		}
	}
	if (check == "timing")
		exit timing_costs
	if (check)
		exit unstable
}
