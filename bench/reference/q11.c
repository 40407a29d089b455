/* q11.c — reference for: ip where ip.dscp != 0 group by ip.dscp, ip.src */
#include "common.h"

struct key {
	__u32 dscp;
	__be32 src;
};
struct val {
	__u64 updates, count;
};
GROUP_MAP(groups, struct key, struct val);

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct key k;
	struct val *v;

	stat_inc(0);
	if (!parse(ctx, &p) || !p.ip || !(p.ip->tos >> 2))
		return XDP_PASS;
	stat_inc(1);
	k.dscp = p.ip->tos >> 2;
	k.src = p.ip->saddr;
	v = GROUP_VALUE(groups, &k, struct val);
	if (v) {
		v->updates++;
		v->count++;
	}
	return XDP_PASS;
}
