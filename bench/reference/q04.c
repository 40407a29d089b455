/* q04.c — reference for: inet group by ip.src, ip.dst select sum(ip.len), count() top 10 */
#include "common.h"

struct key {
	__u32 present;
	__be32 src, dst;
};
struct val {
	__u64 updates, sum, count;
};
GROUP_MAP(groups, struct key, struct val);

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct key k = {};
	struct val *v;

	stat_inc(0);
	if (!parse(ctx, &p) || (!p.ip && !p.ip6))
		return XDP_PASS;
	stat_inc(1);
	if (p.ip) {
		k.present = 3;
		k.src = p.ip->saddr;
		k.dst = p.ip->daddr;
	}
	v = GROUP_VALUE(groups, &k, struct val);
	if (v) {
		v->updates++;
		if (p.ip)
			v->sum += bpf_ntohs(p.ip->tot_len);
		v->count++;
	}
	return XDP_PASS;
}
