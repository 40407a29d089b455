/* q08.c — reference for: http log ip.src, http.method, http.path
 * HTTP is a request line at the start of a TCP payload: an upper-case
 * method token, a space, the target up to the next space. */
#include "common.h"

struct rec {
	struct rec_hdr h;
	__u64 present;
	__be32 src, pad;
	char method[16];
	char path[128];
};

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct tcphdr *t;
	struct rec *r;
	__u8 *pl;
	__u8 buf[144];
	__u32 i, m = 0, n = 0, off;
	long avail;

	stat_inc(0);
	if (!parse(ctx, &p) || !(t = tcp_of(&p)))
		return XDP_PASS;
	/* the request line's first bytes, copied with one helper call and
	 * scanned on the stack */
	pl = (__u8 *)t + t->doff * 4;
	off = (void *)pl - p.data;
	avail = p.end - (void *)pl;
	if (avail > (long)sizeof(buf))
		avail = sizeof(buf);
	__builtin_memset(buf, 0, sizeof(buf));
	if (avail < 2 || bpf_xdp_load_bytes(ctx, off, buf, avail) != 0)
		return XDP_PASS;
#pragma clang loop unroll(disable)
	for (i = 0; i < 16; i++) {
		__u8 c = buf[i];

		if (c == ' ')
			break;
		if (c < 'A' || c > 'Z')
			return XDP_PASS;
	}
	if (i == 0 || i >= 16)
		return XDP_PASS;
	m = i;
	stat_inc(1);
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r)
		return XDP_PASS;
	rec_hdr_fill(&r->h, ctx, &p);
	r->present = 3;
	r->src = r->pad = 0;
	if (p.ip)
		r->src = p.ip->saddr;
	else
		r->present = 2;
	__builtin_memset(r->method, 0, sizeof(r->method) + sizeof(r->path));
#pragma clang loop unroll(disable)
	for (i = 0; i < 15; i++)
		r->method[i] = i < m ? buf[i] : 0;
#pragma clang loop unroll(disable)
	for (n = 0; n < 127; n++) {
		__u32 j = m + 1 + n;
		__u8 c = j < sizeof(buf) ? buf[j] : ' ';

		if (c == ' ' || c == '\r' || c == '\n')
			break;
		r->path[n] = c;
	}
	if (n)
		r->present |= 4;
	bpf_ringbuf_submit(r, 0);
	return XDP_PASS;
}
