// SPDX-License-Identifier: GPL-2.0
/*
 * kfp-bpf: load, list and unload kvm_fastpath's BPF handlers.
 *
 *   kfp-bpf load PROG.bpf.o [--vm VM]   verify, attach, pin each handler
 *   kfp-bpf list                        the attached handlers
 *   kfp-bpf unload NAME                 detach and unpin one
 *
 * A handler is a kfp_bpf_ops struct_ops map in PROG.bpf.o (see
 * include/kfp_bpf.h).  Its link is pinned at /sys/fs/bpf/kfp/NAME, so it
 * stays attached after this program exits; unload detaches it at once
 * (BPF_LINK_DETACH) before removing the pin.
 */
#include <errno.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "kfp_bpf.h"

#define BPFFS		"/sys/fs/bpf"
#define PIN_DIR		BPFFS "/kfp"

static const char *prog_name = "kfp-bpf";

static int usage(FILE *f, int rc)
{
	fprintf(f,
		"Usage: %s load PROG.bpf.o [--vm VM]\n"
		"       %s list\n"
		"       %s unload NAME\n"
		"\n"
		"Attach the kvm_fastpath handlers (kfp_bpf_ops struct_ops) in\n"
		"PROG.bpf.o, for every VM or for VM (PID or PID-FD, as in\n"
		"/sys/kernel/debug/kvm); list them; detach one.  Needs root,\n"
		"kvm_fastpath loaded on a kernel with BPF handlers (6.9 and later).\n"
		"\n"
		"Example:\n"
		"  %s load io_sink.bpf.o --vm 4242\n"
		"  kfp-bpf: io_sink: attached (handler bpf:io_sink, vm=4242)\n",
		prog_name, prog_name, prog_name, prog_name);
	return rc;
}

[[gnu::format(printf, 1, 2)]]
static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* bpffs on /sys/fs/bpf and our directory in it. */
static int pin_dir(void)
{
	struct statfs st;

	if (statfs(BPFFS, &st) || st.f_type != BPF_FS_MAGIC) {
		if (mount("bpf", BPFFS, "bpf", 0, NULL))
			return fail("cannot mount bpffs on %s: %s", BPFFS,
				    strerror(errno));
	}
	if (mkdir(PIN_DIR, 0700) && errno != EEXIST)
		return fail("mkdir %s: %s", PIN_DIR, strerror(errno));
	return 0;
}

static int load(const char *path, const char *vm)
{
	struct bpf_object *obj;
	struct bpf_map *map;
	int n = 0, rc = 0;

	if (vm && (!*vm || strlen(vm) >= KFP_BPF_VM_LEN))
		return fail("--vm: expected PID or PID-FD, got '%s'", vm);
	obj = bpf_object__open_file(path, NULL);
	if (!obj)
		return fail("%s: %s", path, strerror(errno));
	bpf_object__for_each_map(map, obj) {
		struct kfp_bpf_ops *ops;
		size_t size;

		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		ops = bpf_map__initial_value(map, &size);
		if (!ops || size < sizeof(*ops)) {
			rc = fail("%s: map %s is not a kfp_bpf_ops", path,
				  bpf_map__name(map));
			goto out;
		}
		if (vm)
			snprintf(ops->vm, sizeof(ops->vm), "%s", vm);
		n++;
	}
	if (!n) {
		rc = fail("%s: no kfp_bpf_ops struct_ops in it", path);
		goto out;
	}
	/* The verifier's refusal, if any, is printed by libbpf above. */
	if (bpf_object__load(obj)) {
		rc = fail("%s: refused by the kernel (%s)", path,
			  strerror(errno));
		goto out;
	}
	if (pin_dir()) {
		rc = 1;
		goto out;
	}
	bpf_object__for_each_map(map, obj) {
		const struct kfp_bpf_ops *ops;
		struct bpf_link *link;
		char pin[sizeof(PIN_DIR) + KFP_BPF_NAME_LEN + 1];
		size_t size;

		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		ops = bpf_map__initial_value(map, &size);
		link = bpf_map__attach_struct_ops(map);
		if (!link) {
			rc = fail("%s: cannot attach (%s): see dmesg", ops->name,
				  strerror(errno));
			goto out;
		}
		snprintf(pin, sizeof(pin), "%s/%s", PIN_DIR, ops->name);
		if (bpf_link__pin(link, pin)) {
			rc = fail("%s: cannot pin at %s (%s)", ops->name, pin,
				  strerror(errno));
			bpf_link__destroy(link);
			goto out;
		}
		printf("%s: %s: attached (handler bpf:%s, vm=%s)\n", prog_name,
		       ops->name, ops->name, ops->vm[0] ? ops->vm : "all");
		/* The pin holds it now. */
		bpf_link__disconnect(link);
		bpf_link__destroy(link);
	}
out:
	bpf_object__close(obj);
	return rc;
}

static int unload(const char *name)
{
	char pin[sizeof(PIN_DIR) + KFP_BPF_NAME_LEN + 1];
	int fd;

	if (!*name || strchr(name, '/') || strlen(name) >= KFP_BPF_NAME_LEN)
		return fail("bad handler name '%s'", name);
	snprintf(pin, sizeof(pin), "%s/%s", PIN_DIR, name);
	fd = bpf_obj_get(pin);
	if (fd < 0)
		return fail("%s: not attached (%s: %s)", name, pin,
			    strerror(errno));
	/* Detached when this returns, not when the last reference goes. */
	if (bpf_link_detach(fd)) {
		close(fd);
		return fail("%s: cannot detach: %s", name, strerror(errno));
	}
	close(fd);
	if (unlink(pin))
		return fail("unlink %s: %s", pin, strerror(errno));
	printf("%s: %s: detached\n", prog_name, name);
	return 0;
}

static int list(void)
{
	struct dirent *e;
	DIR *d = opendir(PIN_DIR);

	printf("# name link map\n");
	if (!d)
		return errno == ENOENT ? 0 : fail("%s: %s", PIN_DIR, strerror(errno));
	while ((e = readdir(d))) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);
		char pin[sizeof(PIN_DIR) + 256];
		int fd;

		if (e->d_name[0] == '.')
			continue;
		snprintf(pin, sizeof(pin), "%s/%s", PIN_DIR, e->d_name);
		fd = bpf_obj_get(pin);
		if (fd < 0 || bpf_link_get_info_by_fd(fd, &info, &len))
			printf("%s ? ?\n", e->d_name);
		else
			printf("%s %u %u\n", e->d_name, info.id,
			       info.struct_ops.map_id);
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr, 2);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return usage(stdout, 0);
	if (!strcmp(argv[1], "load") && argc == 3)
		return load(argv[2], NULL);
	if (!strcmp(argv[1], "load") && argc == 5 && !strcmp(argv[3], "--vm"))
		return load(argv[2], argv[4]);
	if (!strcmp(argv[1], "list") && argc == 2)
		return list();
	if (!strcmp(argv[1], "unload") && argc == 3)
		return unload(argv[2]);
	return usage(stderr, 2);
}
