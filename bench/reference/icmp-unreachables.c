/* icmp-unreachables.c — reference for the saved query icmp-unreachables, two
 * queries in one program (match counters stats[1] and stats[2]):
 *   icmp where type == dest_unreach group by src, code     (type 3)
 *   icmp6 where type == dest_unreach group by src, code    (type 1) */
#define N_QUERIES 2
#include "common.h"

struct key {
	__u32 present;
	struct inet src;
	__u32 code;
};
GROUP_MAP(groups4, struct key, struct count_val);
GROUP_MAP(groups6, struct key, struct count_val);

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct icmphdr *ic;
	struct key k = {};
	int v6;

	stat_inc(0);
	if (!parse(ctx, &p) || !(ic = p.l4) || (void *)(ic + 1) > p.end)
		return XDP_PASS;
	if (p.ip && p.proto == IPPROTO_ICMP && ic->type == 3)
		v6 = 0;
	else if (p.ip6 && p.proto == IPPROTO_ICMPV6 && ic->type == 1)
		v6 = 1;
	else
		return XDP_PASS;
	stat_inc(1 + v6);
	k.present = inet_addr(&p, &k.src, 0) | 2;
	k.code = ic->code;
	if (v6)
		GROUP_COUNT(groups6, &k);
	else
		GROUP_COUNT(groups4, &k);
	return XDP_PASS;
}
