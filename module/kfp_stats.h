/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KFP_STATS_H
#define KFP_STATS_H

#include <linux/seq_file.h>

struct kfp_cpu_stats;
struct kvm;

void kfp_stats_read(struct kfp_cpu_stats *sum);
void kfp_watch_read(const void *watch, struct kfp_cpu_stats *sum);
int kfp_watch_control(char *cmd);
void kfp_stats_vm_ended(struct kvm *kvm);
void kfp_watch_exit(void);
void kfp_stats_reset(void);
void kfp_stats_report(void);

#endif /* KFP_STATS_H */
