/* dscp-audit.c — reference for the saved query dscp-audit, two queries in
 * one program (match counters stats[1] and stats[2]):
 *   ip where ip.dscp != 0 group by ip.dscp, ip.src select count(), sum(ip.len)
 *   ip6 where ip6.dscp != 0 group by ip6.dscp, ip6.src select count(), sum(ip6.plen) */
#define N_QUERIES 2
#include "common.h"

struct key4 {
	__u32 dscp;
	__be32 src;
};
struct key6 {
	__u32 dscp;
	struct in6_addr src;
};
struct val {
	__u64 updates, count, sum;
};
GROUP_MAP(groups4, struct key4, struct val);
GROUP_MAP(groups6, struct key6, struct val);

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct val *v;

	stat_inc(0);
	if (!parse(ctx, &p))
		return XDP_PASS;
	if (p.ip && p.ip->tos >> 2) {
		struct key4 k = {.dscp = p.ip->tos >> 2, .src = p.ip->saddr};

		stat_inc(1);
		v = GROUP_VALUE(groups4, &k, struct val);
		if (v) {
			v->updates++;
			v->count++;
			v->sum += bpf_ntohs(p.ip->tot_len);
		}
	} else if (p.ip6) {
		/* traffic class: priority, then the flow label's first 4 bits */
		__u32 dscp = (p.ip6->priority << 4 | p.ip6->flow_lbl[0] >> 4) >> 2;
		struct key6 k = {.dscp = dscp, .src = p.ip6->saddr};

		if (!dscp)
			return XDP_PASS;
		stat_inc(2);
		v = GROUP_VALUE(groups6, &k, struct val);
		if (v) {
			v->updates++;
			v->count++;
			v->sum += bpf_ntohs(p.ip6->payload_len);
		}
	}
	return XDP_PASS;
}
