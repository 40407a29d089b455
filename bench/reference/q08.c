/* q08.c — reference for: http log ip.src, http.method, http.path
 * HTTP as hdrq's http layer (common.h's http_request): TCP with
 * either port one of 51-http.hdr's twelve, the frame holding the whole IP
 * payload, a request line of one of the nine methods, a space, and the
 * target up to the next space. */
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
	__u32 m, n = 0, off;
	long avail;
	__u64 w;

	stat_inc(0);
	if (!parse(ctx, &p) || !(t = tcp_of(&p)))
		return XDP_PASS;
	if (!(pl = http_request(&p, t, &m, &w)))
		return XDP_PASS;
	/* the request line's first bytes, copied with one helper call and
	 * scanned on the stack */
	off = (void *)pl - p.data;
	avail = p.end - (void *)pl;
	if (avail > (long)sizeof(buf))
		avail = sizeof(buf);
	__builtin_memset(buf, 0, sizeof(buf));
	if (avail < 2 || bpf_xdp_load_bytes(ctx, off, buf, avail) != 0)
		return XDP_PASS;
	stat_inc(1);
	r = rec_begin(ctx, &p, sizeof(*r));
	if (!r)
		return XDP_PASS;
	r->present = 3;
	r->src = r->pad = 0;
	if (p.ip)
		r->src = p.ip->saddr;
	else
		r->present = 2;
	__builtin_memset(r->method, 0, sizeof(r->method) + sizeof(r->path));
	__builtin_memcpy(r->method, &w, 8);
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
