# SPDX-License-Identifier: GPL-2.0
#
# make bench's timing chart: gnuplot -e "dir='DIR'; rel='KERNEL'"
# tools/bench/timing.gp reads DIR/timing.dat (tools/bench/timingdata.awk)
# and writes DIR/timing.png.

set terminal pngcairo size 1000, 500 font "sans,10"
set output dir . "/timing.png"
set title "Exit cost per reason from kvm\\_fastpath's debugfs timing, " . rel . \
	  "\n(VMX in Bochs: TSC = emulated instructions, exit to the vCPU's next entry)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border -1
set boxwidth 0.9
set datafile missing "?"
set ylabel "mean cycles per exit (log scale)"
set logscale y
set yrange [100:*]
set grid ytics
set key outside bottom center horizontal
set xtics noenhanced
plot dir . "/timing.dat" using 2:xtic(1) title "stock KVM (handlers off)" lc rgb "#777777", \
	'' using 3 title "fast path (handlers on)" lc rgb "#2a7ab9", \
	'' using 4 title "stock KVM (handlers on, not handled)" lc rgb "#bbbbbb"
