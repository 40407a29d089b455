/* q14.c — reference for: vlan group by vlan.id select count(), sum(pkt.len) */
#include "common.h"

struct val {
	__u64 updates, count, sum;
};
GROUP_MAP(groups, __u32, struct val);

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct val *v;
	__u32 k;

	stat_inc(0);
	if (!parse(ctx, &p) || !p.nvlan)
		return XDP_PASS;
	stat_inc(1);
	k = p.vid;
	v = GROUP_VALUE(groups, &k, struct val);
	if (v) {
		v->updates++;
		v->count++;
		v->sum += bpf_xdp_get_buff_len(ctx);
	}
	return XDP_PASS;
}
