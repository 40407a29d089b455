/* dns-qtypes.c — reference for the saved query dns-qtypes:
 *   dns where not dns.qr group by dns.qtype select count(), distinct(dns.id)
 * DNS as hdrq's dns layer: UDP port 53 on either side unless the lower port
 * is one of the five tshark gives away first (50-dns.hdr's yield), the
 * frame holding the whole IP payload, udp.len leaving room for the 12-byte
 * header. qtype: the first question's type, after a walk over its name's
 * labels (a compression pointer or over 255 bytes: absent), when qdcount > 0
 * and the whole question lies inside the message. (hdrq at b6ce475 walks
 * the name only when dns.qname is used too: its dns.qtype is absent here,
 * one group, and its program does less work than this one.) */
#include "common.h"

struct dnshdr {
	__be16 id, flags, qdcount, ancount, nscount, arcount;
};
struct key {
	__u32 present;
	__u32 qtype;
};
struct dkey {
	struct key g;
	__u32 id;
};
struct val {
	__u64 updates, count, distinct;
};
GROUP_MAP(groups, struct key, struct val);
SET_MAP(ids, struct dkey);

/* the first question's type, or -1 (absent); msg: bytes of the message */
static __always_inline long dns_qtype(struct pkt *p, struct dnshdr *h, __u32 msg)
{
	__u8 *q = (__u8 *)(h + 1), *c;
	__u32 pos = 0, i;

	if (!h->qdcount)
		return -1;
	for (i = 0; i < 128; i++) {
		c = q + (pos & 0xff);
		if ((void *)(c + 1) > p->end || *c > 63)
			return -1;
		if (!*c)
			break;
		pos += *c + 1;
		if (pos > 255)
			return -1;
	}
	c = q + (pos & 0xff) + 1; /* past the root label */
	if (i == 128 || sizeof(*h) + pos + 1 + 4 > msg || (void *)(c + 4) > p->end)
		return -1;
	return c[0] << 8 | c[1];
}

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct udphdr *u;
	struct dnshdr *h;
	struct key k = {};
	struct dkey d = {};
	struct val *v;
	__u16 sp, dp, lo;
	__u32 msg;
	void *ie;
	long qt;

	stat_inc(0);
	if (!parse(ctx, &p) || !(u = udp_of(&p)))
		return XDP_PASS;
	sp = bpf_ntohs(u->source);
	dp = bpf_ntohs(u->dest);
	lo = sp < dp ? sp : dp;
	if ((sp != 53 && dp != 53) || lo == 7 || lo == 13 || lo == 19 || lo == 37 || lo == 49)
		return XDP_PASS;
	h = (struct dnshdr *)(u + 1);
	ie = ip_end(&p); /* the frame must hold the whole IP payload */
	if ((void *)(h + 1) > p.end || !ie || ie > p.end || bpf_ntohs(u->len) < 8 + sizeof(*h))
		return XDP_PASS;
	if (h->flags & bpf_htons(0x8000)) /* qr: a response */
		return XDP_PASS;
	stat_inc(1);
	/* the message: what udp.len declares, or less when the IP payload ends first */
	msg = ie - (void *)u;
	if (bpf_ntohs(u->len) < msg)
		msg = bpf_ntohs(u->len);
	qt = dns_qtype(&p, h, msg - 8);
	if (qt >= 0) {
		k.present = 1;
		k.qtype = qt;
	}
	v = GROUP_VALUE(groups, &k, struct val);
	if (!v)
		return XDP_PASS;
	v->updates++;
	v->count++;
	d.g = k;
	d.id = bpf_ntohs(h->id);
	v->distinct += set_add(&ids, &d);
	return XDP_PASS;
}
