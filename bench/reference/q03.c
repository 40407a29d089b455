/* q03.c — reference for: tcp where flags.syn and not flags.ack group by ip.src
 *   select distinct(dst_port) having distinct(dst_port) > 20
 * (having is applied in user space) */
#include "common.h"

struct key {
	__u32 present;
	__be32 src;
};
struct dkey {
	struct key g;
	__u32 port;
};
struct val {
	__u64 updates, distinct;
};
GROUP_MAP(groups, struct key, struct val);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct dkey);
	__type(value, __u8);
} seen SEC(".maps");

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct tcphdr *t;
	struct key k = {};
	struct dkey d = {};
	struct val *v;
	__u8 one = 1;

	stat_inc(0);
	if (!parse(ctx, &p) || !(t = tcp_of(&p)) || !t->syn || t->ack)
		return XDP_PASS;
	stat_inc(1);
	if (p.ip) {
		k.present = 1;
		k.src = p.ip->saddr;
	}
	v = GROUP_VALUE(groups, &k, struct val);
	if (!v)
		return XDP_PASS;
	v->updates++;
	d.g = k;
	d.port = bpf_ntohs(t->dest);
	if (!bpf_map_lookup_elem(&seen, &d) &&
	    bpf_map_update_elem(&seen, &d, &one, BPF_NOEXIST) == 0)
		v->distinct++;
	return XDP_PASS;
}
