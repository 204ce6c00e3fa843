// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs interface, under /sys/kernel/debug/kvm_fastpath/:
 *
 *   info   vendor and hook in use
 *   exits     per exit reason: index, name, exits, of those completed in
 *             the fast path, passed to stock KVM, taken while L2 ran.
 *             Write "reset" to start counting from zero, "watch vm=VM"
 *             to count one VM's exits too, "unwatch vm=VM" to stop.
 *   vms/NAME  a watched VM's exits, as in exits, since it was watched
 *   handlers  the exit table; write "enable|disable|detach NAME"
 *   rules     handler rules with hits; write a rule, "del ID" or "clear"
 *   capture   bytes captured per VM; write "clear"
 *   timing    exit cost per reason, fast and stock; write "on", "off"
 *             or "reset"
 *
 * Documentation/debugfs.rst is the ABI description.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <generated/utsrelease.h>

#include "kfp.h"
#include "kfp_capture.h"
#include "kfp_rules.h"
#include "kfp_stats.h"
#include "kfp_timing.h"

static struct dentry *kfp_dir, *kfp_vms_dir;

static int kfp_info_show(struct seq_file *m, void *unused)
{
	const struct kfp_vendor *v = kfp_hook_vendor();

	seq_printf(m, "vendor: %s\n", v->name);
	seq_printf(m, "vendor_module: %s\n", v->module);
	seq_printf(m, "hook: static_call kvm_x86_vcpu_run -> %s\n", v->run_symbol);
	seq_printf(m, "kernel: %s\n", UTS_RELEASE);
	v->info(m);
	kfp_bpf_info(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kfp_info);

/* The exits file's table, from @sum; also each watched VM's. */
static void kfp_exits_print(struct seq_file *m, const struct kfp_cpu_stats *sum)
{
	const struct kfp_vendor *v = kfp_hook_vendor();
	unsigned int i;

	seq_puts(m, "# index name exits fast stock l2\n");
	for (i = 0; i < KFP_NR_EXITS; i++) {
		const char *name = v->exit_name(i);
		u64 exits = sum->fast[i] + sum->stock[i];

		/* Unnamed reasons only show up once they happen. */
		if (!name && !exits)
			continue;
		seq_printf(m, "%u %s %llu %llu %llu %llu\n", i,
			   name ?: "UNNAMED", exits, sum->fast[i],
			   sum->stock[i], sum->l2_exits[i]);
	}
	seq_printf(m, "# unindexed %llu\n", sum->unknown);
}

static int kfp_exits_show(struct seq_file *m, void *unused)
{
	struct kfp_cpu_stats *sum;

	sum = kmalloc(sizeof(*sum), GFP_KERNEL);
	if (!sum)
		return -ENOMEM;
	kfp_stats_read(sum);
	kfp_exits_print(m, sum);
	kfree(sum);
	return 0;
}

static int kfp_vm_exits_show(struct seq_file *m, void *watch)
{
	struct kfp_cpu_stats *sum;

	sum = kmalloc(sizeof(*sum), GFP_KERNEL);
	if (!sum)
		return -ENOMEM;
	kfp_watch_read(m->private, sum);
	kfp_exits_print(m, sum);
	kfree(sum);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kfp_vm_exits);

/* vms/@name, for the watched VM @watch (kfp_stats.c removes it). */
struct dentry *kfp_debugfs_vm_file(const char *name, void *watch)
{
	return debugfs_create_file(name, 0444, kfp_vms_dir, watch,
				   &kfp_vm_exits_fops);
}

static int kfp_exits_open(struct inode *inode, struct file *file)
{
	return single_open(file, kfp_exits_show, inode->i_private);
}

/*
 * Copy one command from userspace, leading and trailing spaces dropped;
 * the caller kfree()s it.  Commands are short: longer writes are refused.
 */
static char *kfp_command(const char __user *ubuf, size_t len)
{
	char *buf;

	if (len > 256)
		return ERR_PTR(-EINVAL);
	buf = memdup_user_nul(ubuf, len);
	if (!IS_ERR(buf)) {
		char *cmd = strim(buf);	/* past leading spaces, trailing cut */

		memmove(buf, cmd, strlen(cmd) + 1);
	}
	return buf;
}

static ssize_t kfp_exits_write(struct file *file, const char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	char *cmd = kfp_command(ubuf, len);
	int ret = 0;

	if (IS_ERR(cmd))
		return PTR_ERR(cmd);
	if (strcmp(cmd, "reset"))
		ret = kfp_watch_control(cmd);
	else
		kfp_stats_reset();
	kfree(cmd);
	return ret ?: len;
}

static const struct file_operations kfp_exits_fops = {
	.owner		= THIS_MODULE,
	.open		= kfp_exits_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.write		= kfp_exits_write,
	.release	= single_release,
};

/* A file whose reads show @show and whose writes go to @control. */
#define KFP_CONTROL_FILE(name, show, control)				\
static int kfp_##name##_file_show(struct seq_file *m, void *unused)		\
{									\
	return show(m);							\
}									\
									\
static int kfp_##name##_file_open(struct inode *inode, struct file *file)	\
{									\
	return single_open(file, kfp_##name##_file_show, NULL);		\
}									\
									\
static ssize_t kfp_##name##_file_write(struct file *file,			\
				  const char __user *ubuf,		\
				  size_t len, loff_t *ppos)		\
{									\
	char *cmd = kfp_command(ubuf, len);				\
	int ret;							\
									\
	if (IS_ERR(cmd))						\
		return PTR_ERR(cmd);					\
	ret = control(cmd);						\
	kfree(cmd);							\
	return ret ?: len;						\
}									\
									\
static const struct file_operations kfp_##name##_file_fops = {		\
	.owner		= THIS_MODULE,					\
	.open		= kfp_##name##_file_open,				\
	.read		= seq_read,					\
	.llseek		= seq_lseek,					\
	.write		= kfp_##name##_file_write,				\
	.release	= single_release,				\
}

static int kfp_capture_control(char *cmd)
{
	if (strcmp(cmd, "clear")) {
		pr_warn_ratelimited("capture: only \"clear\" can be written\n");
		return -EINVAL;
	}
	kfp_capture_clear();
	return 0;
}

KFP_CONTROL_FILE(handlers, kfp_table_show, kfp_table_control);
KFP_CONTROL_FILE(rules, kfp_rules_show, kfp_rules_control);
KFP_CONTROL_FILE(capture, kfp_capture_show, kfp_capture_control);
KFP_CONTROL_FILE(timing, kfp_timing_show, kfp_timing_control);

int kfp_debugfs_init(void)
{
	kfp_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	if (IS_ERR(kfp_dir))
		return PTR_ERR(kfp_dir);
	debugfs_create_file("info", 0444, kfp_dir, NULL, &kfp_info_fops);
	debugfs_create_file("exits", 0644, kfp_dir, NULL, &kfp_exits_fops);
	debugfs_create_file("handlers", 0644, kfp_dir, NULL, &kfp_handlers_file_fops);
	debugfs_create_file("rules", 0644, kfp_dir, NULL, &kfp_rules_file_fops);
	debugfs_create_file("capture", 0644, kfp_dir, NULL, &kfp_capture_file_fops);
	debugfs_create_file("timing", 0644, kfp_dir, NULL, &kfp_timing_file_fops);
	kfp_vms_dir = debugfs_create_dir("vms", kfp_dir);
	return 0;
}

void kfp_debugfs_exit(void)
{
	debugfs_remove_recursive(kfp_dir);
}
