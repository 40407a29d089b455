/* retransmissions.c — reference for the saved query retransmissions:
 *   tcp where retransmit group by src, dst, dst_port
 *   select count(), sum(tcp.payload_len) top 20
 * (top is user space; retransmit: retransmit.h, as hdrq's hq_flows) */
#include "common.h"
#include "retransmit.h"

struct key {
	__u32 present;
	struct inet src, dst;
	__u32 port;
};
struct val {
	__u64 updates, count, sum;
};
GROUP_MAP(groups, struct key, struct val);

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct tcphdr *t;
	struct key k = {};
	struct val *v;
	long plen;

	stat_inc(0);
	if (!parse(ctx, &p) || !(t = tcp_of(&p)) || !tcp_retransmit(&p, t))
		return XDP_PASS;
	stat_inc(1);
	k.present = inet_addr(&p, &k.src, 0) | inet_addr(&p, &k.dst, 1) << 1 | 4;
	k.port = bpf_ntohs(t->dest);
	v = GROUP_VALUE(groups, &k, struct val);
	if (!v)
		return XDP_PASS;
	v->updates++;
	v->count++;
	plen = tcp_payload_len(&p, t);
	if (plen >= 0)
		v->sum += plen;
	return XDP_PASS;
}
