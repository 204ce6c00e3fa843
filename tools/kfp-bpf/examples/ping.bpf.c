// SPDX-License-Identifier: GPL-2.0
/*
 * Something no built-in does: a paravirtual "ping" port.  A 4-byte OUT to
 * port 0x520 stores its value in the map "ping" (one slot per vCPU, up to
 * 64); a 4-byte IN from 0x520 reads it back plus one, and counts the
 * round trip.  All in the fast path; userspace reads the map
 * (bpftool map dump name ping).
 */
#include "kfp_bpf_prog.h"

struct ping_slot {
	__u32 value;
	__u32 trips;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct ping_slot);
} ping SEC(".maps");

SEC("struct_ops/handle")
int BPF_PROG(ping_port, struct kfp_bpf_exit *exit)
{
	__u32 key = exit->vcpu_id;
	struct ping_slot *s;
	__u64 rax;

	if (exit->io_port != 0x520 || exit->io_size != 4)
		return KFP_BPF_PASS;
	s = bpf_map_lookup_elem(&ping, &key);
	if (!s)
		return KFP_BPF_PASS;
	if (!exit->io_in) {
		s->value = kfp_bpf_get_gpr(exit, KFP_RAX);
		return KFP_BPF_COMPLETE;
	}
	/* A 4-byte IN writes EAX and clears RAX's upper half. */
	rax = (__u32)(s->value + 1);
	kfp_bpf_set_gpr(exit, KFP_RAX, rax);
	s->trips++;
	return KFP_BPF_COMPLETE;
}

SEC(".struct_ops.link")
struct kfp_bpf_ops ping_ops = {
	.handle	= (void *)ping_port,
	.kind	= KFP_BPF_IO,
	.name	= "ping",
};

char LICENSE[] SEC("license") = "GPL";
