/* empty.c — the floor: an XDP program that only returns XDP_PASS */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp") int ref(struct xdp_md *ctx)
{
	return XDP_PASS;
}
