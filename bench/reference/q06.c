/* q06.c — reference for: tcp where retransmit group by ip.dst, dst_port
 * retransmit: retransmit.h's tcp_retransmit (an LRU flow map, as hdrq's hq_flows). */
#include "common.h"
#include "retransmit.h"

struct key {
	__u32 present;
	__be32 dst;
	__u32 port;
};
GROUP_MAP(groups, struct key, struct count_val);

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct tcphdr *t;
	struct key k = {};

	stat_inc(0);
	if (!parse(ctx, &p) || !(t = tcp_of(&p)) || !tcp_retransmit(&p, t))
		return XDP_PASS;
	stat_inc(1);
	k.present = 2;
	if (p.ip) {
		k.present |= 1;
		k.dst = ip_dst(&p); /* as tshark shows it: a source route's last address */
	}
	k.port = bpf_ntohs(t->dest);
	GROUP_COUNT(groups, &k);
	return XDP_PASS;
}
