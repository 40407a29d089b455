/* q01.c — reference for: tcp where flags.rst group by dst_port */
#include "common.h"

struct val {
	__u64 updates, count;
};
GROUP_MAP(groups, __u16, struct val);

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct tcphdr *t;
	struct val *v;
	__u16 k;

	stat_inc(0);
	if (!parse(ctx, &p) || !(t = tcp_of(&p)) || !t->rst)
		return XDP_PASS;
	stat_inc(1);
	k = bpf_ntohs(t->dest);
	v = GROUP_VALUE(groups, &k, struct val);
	if (v) {
		v->updates++;
		v->count++;
	}
	return XDP_PASS;
}
