/* q13.c — reference for: arp log arp.op, arp.sha, arp.spa, arp.tpa */
#include "common.h"

struct arp_eth {
	__be16 htype, ptype;
	__u8 hlen, plen;
	__be16 op;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
} __attribute__((packed));

struct rec {
	struct rec_hdr h;
	__u64 present;
	__u64 op;
	__u8 sha[8];
	__u8 spa[8];
	__u8 tpa[8];
};

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct arp_eth *a;
	struct rec *r;

	stat_inc(0);
	if (!parse(ctx, &p) || p.l3proto != ETH_P_ARP)
		return XDP_PASS;
	a = p.data + sizeof(struct ethhdr) + p.nvlan * 4;
	if ((void *)(a + 1) > p.end || a->htype != bpf_htons(1) || a->ptype != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	stat_inc(1);
	r = rec_begin(ctx, &p, sizeof(*r));
	if (!r)
		return XDP_PASS;
	r->present = 0xf;
	r->op = bpf_ntohs(a->op);
	__builtin_memset(r->sha, 0, 24);
	__builtin_memcpy(r->sha, a->sha, 6);
	__builtin_memcpy(r->spa, a->spa, 4);
	__builtin_memcpy(r->tpa, a->tpa, 4);
	bpf_ringbuf_submit(r, 0);
	return XDP_PASS;
}
