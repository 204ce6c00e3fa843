/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KFP_TIMING_H
#define KFP_TIMING_H

#include <linux/seq_file.h>

int kfp_timing_show(struct seq_file *m);
int kfp_timing_control(char *cmd);

#endif /* KFP_TIMING_H */
