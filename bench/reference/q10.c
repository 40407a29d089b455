/* q10.c — reference for: inet group by ttl select hist(ip.len) */
#include "common.h"

struct val {
	__u64 updates, b[65];
};
GROUP_MAP(groups, __u32, struct val);

static __always_inline __u32 log2_bucket(__u64 x)
{
	/* bucket 0 holds 0; bucket k+1 holds 2^k .. 2^(k+1)-1 */
	__u32 r = 0;

	if (!x)
		return 0;
	if (x >> 32) {
		x >>= 32;
		r += 32;
	}
	if (x >> 16) {
		x >>= 16;
		r += 16;
	}
	if (x >> 8) {
		x >>= 8;
		r += 8;
	}
	if (x >> 4) {
		x >>= 4;
		r += 4;
	}
	if (x >> 2) {
		x >>= 2;
		r += 2;
	}
	if (x >> 1) {
		r += 1;
	}
	return r + 1;
}

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct val *v;
	__u32 k, b;

	stat_inc(0);
	if (!parse(ctx, &p) || (!p.ip && !p.ip6))
		return XDP_PASS;
	stat_inc(1);
	k = p.ttl;
	v = GROUP_VALUE(groups, &k, struct val);
	if (!v)
		return XDP_PASS;
	v->updates++;
	if (p.ip) {
		b = log2_bucket(bpf_ntohs(p.ip->tot_len));
		if (b < 65)
			v->b[b]++;
	}
	return XDP_PASS;
}
