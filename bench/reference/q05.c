/* q05.c — reference for: tcp where tcp.window == 0 log ip.src, ip.dst, src_port, dst_port
 * ip.dst as hdrq shows it: a valid source route's last address (common.h). */
#include "common.h"

struct rec {
	struct rec_hdr h;
	__u64 present;
	__be32 src, dst;
	__u64 sport, dport;
};

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct tcphdr *t;
	struct rec *r;

	stat_inc(0);
	if (!parse(ctx, &p) || !(t = tcp_of(&p)) || t->window != 0)
		return XDP_PASS;
	stat_inc(1);
	r = rec_begin(ctx, &p, sizeof(*r));
	if (!r)
		return XDP_PASS;
	r->present = 0xc;
	r->src = r->dst = 0;
	if (p.ip) {
		r->present |= 3;
		r->src = p.ip->saddr;
		r->dst = ip_dst(&p);
	}
	r->sport = bpf_ntohs(t->source);
	r->dport = bpf_ntohs(t->dest);
	bpf_ringbuf_submit(r, 0);
	return XDP_PASS;
}
