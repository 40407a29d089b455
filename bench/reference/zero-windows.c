/* zero-windows.c — reference for the saved query zero-windows:
 *   tcp where tcp.window == 0 and not flags.rst group by src, dst, src_port
 *   select count() top 20
 * (top is user space) */
#include "common.h"

struct key {
	__u32 present;
	struct inet src, dst;
	__u32 sport;
};
GROUP_MAP(groups, struct key, struct count_val);

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct tcphdr *t;
	struct key k = {};

	stat_inc(0);
	if (!parse(ctx, &p) || !(t = tcp_of(&p)) || t->window != 0 || t->rst)
		return XDP_PASS;
	stat_inc(1);
	k.present = inet_addr(&p, &k.src, 0) | inet_addr(&p, &k.dst, 1) << 1 | 4;
	k.sport = bpf_ntohs(t->source);
	GROUP_COUNT(groups, &k);
	return XDP_PASS;
}
