/* syn-flood.c — reference for the saved query syn-flood:
 *   tcp where flags.syn and not flags.ack group by dst, dst_port
 *   select count(), distinct(src) every 1s top 20
 * (every and top are user space) */
#include "common.h"

struct key {
	__u32 present;
	struct inet dst;
	__u32 port;
};
struct dkey {
	struct key g;
	struct inet src;
};
struct val {
	__u64 updates, count, distinct;
};
GROUP_MAP(groups, struct key, struct val);
SET_MAP(srcs, struct dkey);

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct tcphdr *t;
	struct key k = {};
	struct dkey d = {};
	struct val *v;

	stat_inc(0);
	if (!parse(ctx, &p) || !(t = tcp_of(&p)) || !t->syn || t->ack)
		return XDP_PASS;
	stat_inc(1);
	k.present = inet_addr(&p, &k.dst, 1) | 2;
	k.port = bpf_ntohs(t->dest);
	v = GROUP_VALUE(groups, &k, struct val);
	if (!v)
		return XDP_PASS;
	v->updates++;
	v->count++;
	d.g = k;
	if (inet_addr(&p, &d.src, 0))
		v->distinct += set_add(&srcs, &d);
	return XDP_PASS;
}
