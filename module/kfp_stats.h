/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KFP_STATS_H
#define KFP_STATS_H

struct kfp_cpu_stats;

void kfp_stats_read(struct kfp_cpu_stats *sum);
void kfp_stats_reset(void);
void kfp_stats_report(void);

#endif /* KFP_STATS_H */
