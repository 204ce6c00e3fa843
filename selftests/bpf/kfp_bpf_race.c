// SPDX-License-Identifier: GPL-2.0
/*
 * kfp_bpf_race: a loader whose fd changes under the kernel.  It gives a
 * struct_ops map the fd of a program while another thread keeps putting
 * the other program of race.bpf.o behind that fd.  Whatever the race,
 * the program kvm_fastpath runs must be the one the map holds (the
 * module proves it by its id in init_member, or refuses the update): for
 * each map, attached, the id the map reports is compared with the one
 * debugfs info says the handler runs.
 *
 *   kfp_bpf_race RACE.bpf.o MAPS
 *
 * Prints the counts; exits 1 if any map's program is not the one run, 2
 * if it cannot run the test.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kfp_bpf.h"

#define INFO	"/sys/kernel/debug/kvm_fastpath/info"

static int fd_a, fd_b, fd_swapped;
static atomic_int stop;

/* Program a, then b, behind fd_swapped, until told to stop. */
static void *swapper([[maybe_unused]] void *arg)
{
	while (!atomic_load(&stop)) {
		dup2(fd_a, fd_swapped);
		dup2(fd_b, fd_swapped);
	}
	return NULL;
}

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_prog_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* The program id debugfs info says handler bpf:race runs; 0 if none. */
static unsigned int running_id(void)
{
	unsigned int id = 0;
	char line[256];
	FILE *f = fopen(INFO, "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "bpf: handler bpf:race runs program id %u",
			   &id) == 1)
			break;
	if (f)
		fclose(f);
	return id;
}

/* Where the kfp_bpf_ops sits in the map's value type (module BTF). */
static long data_offset(__u32 btf_id, __u32 value_type)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	struct btf *btf;
	const struct btf_type *t;
	const struct btf_member *m;
	long off = -1;
	int i;

	if (!vmlinux)
		return -1;
	btf = btf__load_from_kernel_by_id_split(btf_id, vmlinux);
	t = btf ? btf__type_by_id(btf, value_type) : NULL;
	for (i = 0, m = t ? btf_members(t) : NULL; t && i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), "data"))
			off = btf_member_bit_offset(t, i) / 8;
	btf__free(btf);
	btf__free(vmlinux);
	return off;
}

/* The value type and BTF of a map libbpf made, for ours; 0 if found. */
static int map_type(struct bpf_object *obj, struct bpf_map_info *info,
		    int *btf_fd, long *off)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "race_a_ops");
	__u32 len = sizeof(*info);

	if (!map || bpf_map_get_info_by_fd(bpf_map__fd(map), info, &len))
		return -1;
	*btf_fd = bpf_btf_get_fd_by_id(info->btf_vmlinux_id);
	*off = data_offset(info->btf_vmlinux_id,
			   info->btf_vmlinux_value_type_id);
	if (*btf_fd < 0 || *off < 0 ||
	    *off + sizeof(struct kfp_bpf_ops) > info->value_size)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	int maps, i, zero = 0, attached = 0, held_a = 0, held_b = 0;
	int refused = 0, wrong = 0, btf_fd;
	struct bpf_map_info info = {};
	struct bpf_object *obj;
	struct kfp_bpf_ops *ops;
	__u32 id_a, id_b;
	pthread_t thread;
	char *value;
	long off;

	maps = argc == 3 ? atoi(argv[2]) : 0;
	if (maps <= 0) {
		fprintf(stderr, "usage: kfp_bpf_race RACE.bpf.o MAPS\n");
		return 2;
	}
	libbpf_set_print(NULL);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "kfp_bpf_race: cannot load %s: %s\n", argv[1],
			strerror(errno));
		return 2;
	}
	fd_a = bpf_program__fd(bpf_object__find_program_by_name(obj, "race_a"));
	fd_b = bpf_program__fd(bpf_object__find_program_by_name(obj, "race_b"));
	id_a = prog_id(fd_a);
	id_b = prog_id(fd_b);
	if (!id_a || !id_b || map_type(obj, &info, &btf_fd, &off)) {
		fprintf(stderr, "kfp_bpf_race: no kfp_bpf_ops map type: %s\n",
			strerror(errno));
		return 2;
	}
	value = calloc(2, info.value_size);
	fd_swapped = dup(fd_a);
	if (!value || fd_swapped < 0 ||
	    pthread_create(&thread, NULL, swapper, NULL)) {
		fprintf(stderr, "kfp_bpf_race: %s\n", strerror(errno));
		return 2;
	}

	for (i = 0; i < maps; i++) {
		/* The kernel wants the object's BTF too, as libbpf gives it. */
		LIBBPF_OPTS(bpf_map_create_opts, o,
			    .btf_fd = bpf_object__btf_fd(obj),
			    .btf_vmlinux_value_type_id = info.btf_vmlinux_value_type_id,
			    .value_type_btf_obj_fd = btf_fd,
			    .map_flags = BPF_F_LINK | BPF_F_VTYPE_BTF_OBJ_FD);
		int map, link;
		__u32 held, run;

		map = bpf_map_create(BPF_MAP_TYPE_STRUCT_OPS, "kfp_race",
				     sizeof(zero), info.value_size, 1, &o);
		if (map < 0) {
			fprintf(stderr, "kfp_bpf_race: map: %s\n", strerror(errno));
			break;
		}
		memset(value, 0, info.value_size);
		ops = (struct kfp_bpf_ops *)(value + off);
		ops->handle = (void *)(long)fd_swapped;
		ops->kind = KFP_BPF_IO;
		snprintf(ops->name, sizeof(ops->name), "race");
		if (bpf_map_update_elem(map, &zero, value, 0)) {
			close(map);
			if (errno != EINVAL) {
				fprintf(stderr, "kfp_bpf_race: update: %s\n",
					strerror(errno));
				break;
			}
			refused++;	/* the module saw the fd change */
			continue;
		}
		link = bpf_link_create(map, 0, BPF_STRUCT_OPS, NULL);
		ops = (struct kfp_bpf_ops *)(value + info.value_size + off);
		if (link < 0 ||
		    bpf_map_lookup_elem(map, &zero, value + info.value_size)) {
			fprintf(stderr, "kfp_bpf_race: attach: %s\n", strerror(errno));
			close(map);
			break;
		}
		attached++;
		held = (__u32)(unsigned long)ops->handle;	/* its id, now */
		run = running_id();
		held_a += held == id_a;
		held_b += held == id_b;
		if (held != run && wrong++ < 5)
			printf("# map %d holds program %u, kvm_fastpath runs %u\n",
			       i, held, run);
		bpf_link_detach(link);
		close(link);
		close(map);
	}
	atomic_store(&stop, 1);
	pthread_join(thread, NULL);
	printf("# %d maps: %d attached (program a %d, b %d), %d refused,",
	       maps, attached, held_a, held_b, refused);
	printf(" %d with another program run\n", wrong);
	bpf_object__close(obj);
	return wrong || attached + refused != maps ? 1 : 0;
}
