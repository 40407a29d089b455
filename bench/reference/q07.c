/* q07.c — reference for: udp where dst_port == 53 log ip.src, dns.qname, dns.qtype
 * The first question's name is copied as dotted text (labels, at most 255
 * bytes, no compression pointers in a question), then its type. */
#include "common.h"

struct rec {
	struct rec_hdr h;
	__u64 present;
	__be32 src, pad;
	char qname[256];
	__u64 qtype;
};

struct qname {
	__u8 s[256];
};

/* Turn "\3www\7example\3com\0" into "www.example.com" in place; returns
 * how it ended << 16 (1: root label, 2: bad length, 0: no end in 255 bytes)
 * | the offset of the terminating byte. A global function: the verifier
 * checks it once, not once per parse path of the caller. */
__attribute__((noinline)) int dns_name(struct qname *q)
{
	__u32 pos = 0, l, i;
	int done = 0;

	if (!q)
		return 0;
	/* walk the labels: each length byte becomes a dot */
	for (l = 0; l < 128; l++) {
		__u32 at = pos;
		__u8 b;

		asm volatile("%0 &= 0xff" : "+r"(at)); /* keep the mask clang would drop */
		b = q->s[at];

		if (b == 0) {
			done = 1;
			break;
		}
		if (b > 63) {
			done = 2;
			break;
		}
		q->s[at] = '.';
		pos += b + 1;
		if (pos >= 255)
			break;
	}
	/* drop the leading dot; clear from the end on */
	for (i = 0; i < 255; i++)
		q->s[i] = i + 1 < pos ? q->s[(i + 1) & 0xff] : 0;
	q->s[255] = 0;
	return done << 16 | (pos & 0xffff);
}

/* Copy the first question's name from packet offset `off` and convert it;
 * store its type. Returns presence bits (2: qname, 4: qtype). Global, so
 * the verifier checks it once instead of once per parse path. */
__attribute__((noinline)) int dns_question(struct xdp_md *ctx, __u32 off, struct qname *q,
                                           __u64 *qtype)
{
	long avail;
	__u32 r, end;
	__u8 t[2];

	if (!q || !qtype)
		return 0;
	avail = (long)ctx->data_end - (long)ctx->data - (long)off;
	if (avail > 255)
		avail = 255;
	if (avail < 1 || bpf_xdp_load_bytes(ctx, off, q->s, avail) != 0)
		return 0;
	r = dns_name(q);
	end = r & 0xffff;
	if (r >> 16 != 1 || end == 0) {
		__builtin_memset(q->s, 0, sizeof(q->s));
		return 0;
	}
	if (bpf_xdp_load_bytes(ctx, off + end + 1, t, 2) != 0)
		return 2;
	*qtype = t[0] << 8 | t[1];
	return 6;
}

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct udphdr *u;
	struct rec *r;
	__u8 *q;

	stat_inc(0);
	if (!parse(ctx, &p) || !(u = udp_of(&p)) || u->dest != bpf_htons(53))
		return XDP_PASS;
	stat_inc(1);
	r = rec_begin(ctx, &p, sizeof(*r));
	if (!r)
		return XDP_PASS;
	r->present = 0;
	r->src = r->pad = 0;
	r->qtype = 0;
	__builtin_memset(r->qname, 0, sizeof(r->qname));
	if (p.ip) {
		r->present |= 1;
		r->src = p.ip->saddr;
	}
	q = (__u8 *)(u + 1) + 12;
	r->present |= dns_question(ctx, (void *)q - p.data, (struct qname *)r->qname, &r->qtype);
	bpf_ringbuf_submit(r, 0);
	return XDP_PASS;
}
