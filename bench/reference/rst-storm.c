/* rst-storm.c — reference for the saved query rst-storm:
 *   tcp where flags.rst group by src, dst select count() every 1s top 10
 * (every and top are user space) */
#include "common.h"

struct key {
	__u32 present;
	struct inet src, dst;
};
GROUP_MAP(groups, struct key, struct count_val);

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct tcphdr *t;
	struct key k = {};

	stat_inc(0);
	if (!parse(ctx, &p) || !(t = tcp_of(&p)) || !t->rst)
		return XDP_PASS;
	stat_inc(1);
	k.present = inet_addr(&p, &k.src, 0) | inet_addr(&p, &k.dst, 1) << 1;
	GROUP_COUNT(groups, &k);
	return XDP_PASS;
}
