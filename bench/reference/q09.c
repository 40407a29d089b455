/* q09.c — reference for: icmp group by icmp.type, icmp.code */
#include "common.h"

struct key {
	__u8 type, code;
};
struct val {
	__u64 updates, count;
};
GROUP_MAP(groups, struct key, struct val);

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct icmphdr *ic;
	struct key k;
	struct val *v;

	stat_inc(0);
	if (!parse(ctx, &p) || !p.ip || p.proto != IPPROTO_ICMP || !p.l4)
		return XDP_PASS;
	ic = p.l4;
	if ((void *)(ic + 1) > p.end)
		return XDP_PASS;
	stat_inc(1);
	k.type = ic->type;
	k.code = ic->code;
	v = GROUP_VALUE(groups, &k, struct val);
	if (v) {
		v->updates++;
		v->count++;
	}
	return XDP_PASS;
}
