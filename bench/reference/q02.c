/* q02.c — reference for: tcp where flags.syn and not flags.ack group by ip.dst every 1s */
#include "common.h"

struct key {
	__u32 present;
	__be32 dst;
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
	if (!parse(ctx, &p) || !(t = tcp_of(&p)) || !t->syn || t->ack)
		return XDP_PASS;
	stat_inc(1);
	if (p.ip) {
		k.present = 1;
		k.dst = p.ip->daddr;
	}
	v = GROUP_VALUE(groups, &k, struct val);
	if (v) {
		v->updates++;
		v->count++;
	}
	return XDP_PASS;
}
