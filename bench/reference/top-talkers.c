/* top-talkers.c — reference for the saved query top-talkers:
 *   inet group by src, dst select sum(pkt.len), count() top 10
 * (top is user space) */
#include "common.h"

struct key {
	__u32 present;
	struct inet src, dst;
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
	if (!parse(ctx, &p) || !has_inet(&p))
		return XDP_PASS;
	stat_inc(1);
	k.present = inet_addr(&p, &k.src, 0) | inet_addr(&p, &k.dst, 1) << 1;
	v = GROUP_VALUE(groups, &k, struct val);
	if (v) {
		v->updates++;
		v->sum += bpf_xdp_get_buff_len(ctx);
		v->count++;
	}
	return XDP_PASS;
}
