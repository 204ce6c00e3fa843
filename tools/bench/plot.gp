# SPDX-License-Identifier: GPL-2.0
#
# make bench's chart: gnuplot -e "dir='DIR'" tools/bench/plot.gp reads
# DIR/plot-N.dat and DIR/plot.titles (tools/bench/plotdata.awk) and
# writes DIR/bench.png.

titles = system("cat " . dir . "/plot.titles")
n = words(titles)
set terminal pngcairo size 1000, 420 * n font "sans,10"
set output dir . "/bench.png"
set multiplot layout n, 1
set bmargin 4
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border -1
set boxwidth 0.9
set datafile missing "?"
set ylabel "emulated instructions per exit"
set yrange [0:*]
set grid ytics
set key top left
set xtics ("CPUID" 0, "OUT\nsink" 1, "IN\nconst" 2, "MMIO\ndoorbell" 3, \
	   "WRMSR\n(no handler)" 4, "VMCALL\n(null handler)" 5, \
	   "HLT round\n(irq-hlt)" 6)
do for [i = 1:n] {
	set title "kvm-fastpath exit cost, " . word(titles, i) . \
		  " (VMX in Bochs: guest TSC = emulated instructions)"
	plot dir . "/plot-" . i . ".dat" \
		using 2 title "stock KVM" lc rgb "#777777", \
		'' using 3 title "module, handlers off" lc rgb "#bbbbbb", \
		'' using 4 title "handlers on" lc rgb "#2a7ab9", \
		'' using 5 title "null handler" lc rgb "#6bb36b", \
		'' using 6 title "stock in-kernel PIC" lc rgb "#d9a23a"
}
unset multiplot
