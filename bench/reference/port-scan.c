/* port-scan.c — reference for the saved query port-scan:
 *   tcp where flags.syn and not flags.ack group by src
 *   select distinct(dst_port), distinct(dst), count() having distinct(dst_port) > 20
 * (having is user space) */
#include "common.h"

struct key {
	__u32 present;
	struct inet src;
};
struct pkey {
	struct key g;
	__u32 port;
};
struct dkey {
	struct key g;
	struct inet dst;
};
struct val {
	__u64 updates, ports, dsts, count;
};
GROUP_MAP(groups, struct key, struct val);
SET_MAP(ports, struct pkey);
SET_MAP(dsts, struct dkey);

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct tcphdr *t;
	struct key k = {};
	struct pkey pk = {};
	struct dkey d = {};
	struct val *v;

	stat_inc(0);
	if (!parse(ctx, &p) || !(t = tcp_of(&p)) || !t->syn || t->ack)
		return XDP_PASS;
	stat_inc(1);
	k.present = inet_addr(&p, &k.src, 0);
	v = GROUP_VALUE(groups, &k, struct val);
	if (!v)
		return XDP_PASS;
	v->updates++;
	pk.g = k;
	pk.port = bpf_ntohs(t->dest);
	v->ports += set_add(&ports, &pk);
	d.g = k;
	if (inet_addr(&p, &d.dst, 1))
		v->dsts += set_add(&dsts, &d);
	v->count++;
	return XDP_PASS;
}
