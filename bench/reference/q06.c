/* q06.c — reference for: tcp where retransmit group by ip.dst, dst_port
 * retransmit: retransmit.h's tcp_retransmit (an LRU flow map, as hdrq's hq_flows). */
#include "common.h"
#include "retransmit.h"

struct key {
	__u32 present;
	__be32 dst;
	__u32 port;
};
struct val {
	__u64 updates, count;
};
GROUP_MAP(groups, struct key, struct val);

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct tcphdr *t;
	struct key k = {};
	struct val *v;

	stat_inc(0);
	if (!parse(ctx, &p) || !(t = tcp_of(&p)) || !tcp_retransmit(&p, t))
		return XDP_PASS;
	stat_inc(1);
	k.present = 2;
	if (p.ip) {
		k.present |= 1;
		k.dst = p.ip->daddr;
	}
	k.port = bpf_ntohs(t->dest);
	v = GROUP_VALUE(groups, &k, struct val);
	if (v) {
		v->updates++;
		v->count++;
	}
	return XDP_PASS;
}
