/* q12.c — reference for: ip where ip.mf or ip.frag_off != 0 group by ip.src */
#include "common.h"

struct val {
	__u64 updates, count;
};
GROUP_MAP(groups, __be32, struct val);

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct val *v;
	__be32 k;

	stat_inc(0);
	if (!parse(ctx, &p) || !p.ip || !(p.ip->frag_off & bpf_htons(0x3fff)))
		return XDP_PASS;
	stat_inc(1);
	k = p.ip->saddr;
	v = GROUP_VALUE(groups, &k, struct val);
	if (v) {
		v->updates++;
		v->count++;
	}
	return XDP_PASS;
}
