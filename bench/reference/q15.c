/* q15.c — reference for:
 *   tcp where ip.src in 10.0.0.0/8 and dst_port in {80, 443, 8000..8100} log *
 * `log *` logs every field of every layer present, in hdrq's record: 130
 * slots in the order of `hdrq -l` (the pseudo layer inet aside), each 8-byte
 * aligned with a presence bit, 1,624 bytes. The filter implies IPv4 and
 * TCP, so the arp, ip6, udp, icmp, icmp6 and dns slots are never written
 * (as in hdrq: a slot is read only when its bit is set). Walkers: ip.dst
 * (common.h's ip_dst), the TCP options, tcp.retransmit, and
 * HTTP's method, path, version, Host header and status. hdrq runs them for
 * every TCP packet, before the filter; this program for the matches only,
 * with the same output: the filter depends on the flow key alone. */
#include "common.h"
#include "retransmit.h"

/* the slots' presence bits: a layer's first slot, then its order */
enum { B_pkt = 0, B_eth = 5, B_vlan = 10, B_ip = 26, B_tcp = 59, B_http = 125 };

struct http_out {
	char method[16], path[128], version[16], host[128];
	__u64 status;
};

struct rec {
	struct rec_hdr h;
	__u64 present[3];
	__u64 pkt[5];  /* num len ifindex dir ts */
	__u64 eth[5];  /* dst src type_len type len */
	__u64 vlan[7]; /* pcp dei id type inner_id inner_pcp inner_dei */
	__u64 arp[9];
	__u64 ip[20]; /* version ihl hdr_len tos dscp ecn len id flags rb df mf
	               * frag_off ttl proto csum src dst options options.len */
	__u8 ip6[120];
	__u64 tcp[30]; /* src_port dst_port seq ack off hdr_len flags flags.res
	                * .ae .cwr .ece .urg .ack .psh .rst .syn .fin window csum
	                * urg_ptr payload_len retransmit options options.len
	                * opt.mss .wscale .sack_perm .sack .ts_val .ts_ecr */
	__u64 udp[5], icmp[6], icmp6[6];
	__u8 dns[400];
	struct http_out http;
};
_Static_assert(sizeof(struct rec) == 1624, "hdrq's record for this query");

#define BIT(L, i) (bits[(B_##L + (i)) / 64] |= 1ULL << ((B_##L + (i)) % 64))
#define PUT(L, i, v)                                                                               \
	({                                                                                         \
		r->L[i] = (v);                                                                     \
		BIT(L, i);                                                                         \
	})

/* tcp.opt.*: the options inside the header and the IP payload (n bytes
 * after the fixed header), as hdrq's cg_tcp_step; into mss, wscale,
 * sack_perm, sack, ts_val, ts_ecr. Returns their presence bits. Global:
 * the verifier checks the walk once, over a copy of the options. */
struct tcp_optval {
	__u64 v[6];
};

__attribute__((noinline)) int tcp_opts(const struct optbuf *o, __u32 n, struct tcp_optval *out)
{
	__u32 off = 0, i, len, got = 0;

	if (!o || !out)
		return 0;
	for (i = 0; i < 20 && off < n; i++) {
		const __u8 *q = o->b + (off & 63);

		if (q[0] == 1) {
			off++;
			continue;
		}
		if (q[0] == 0 || off + 1 >= n)
			break;
		len = q[1];
		if (len < 2 || off + len > n)
			break;
		if (q[0] == 2 && len == 4) {
			out->v[0] = q[2] << 8 | q[3];
			got |= 1;
		} else if (q[0] == 3 && len == 3) {
			out->v[1] = q[2];
			got |= 2;
		} else if (q[0] == 4 && len == 2) {
			out->v[2] = 1;
			got |= 4;
		} else if (q[0] == 5) {
			out->v[3] = 1;
			got |= 8;
		} else if (q[0] == 8 && len == 10) {
			out->v[4] = (__u32)q[2] << 24 | q[3] << 16 | q[4] << 8 | q[5];
			out->v[5] = (__u32)q[6] << 24 | q[7] << 16 | q[8] << 8 | q[9];
			got |= 48;
		}
		off += len;
	}
	return got;
}

/* HTTP, as hdrq's cg_walk_http, over a copy of the head of the TCP payload:
 * n bytes of the frame, msg bytes of message. The scans are global
 * functions: each is verified once, not once per state it is reached in. */
#define HBUF 512
struct hbuf {
	__u8 b[HBUF];
	__u32 n, msg; /* bytes in b from the frame, of the message */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hbuf);
} hbufs SEC(".maps");

/* a token's slot, seen as 128 bytes (version's 16 are followed by host's
 * 128 in the record, so the view stays inside it); size bytes are written */
struct tok {
	char s[128];
};

/* Copy the token at b[i..] into out (size bytes with its NUL) up to a stop
 * byte (stops: two of them), a line end, a NUL or the message's end; out of
 * frame bytes or of room: no value, nor when empty. Returns 1 with a value. */
__attribute__((noinline)) int http_token(const struct hbuf *b, __u32 i, struct tok *out, __u32 size,
                                         __u32 stops)
{
	__u32 o, n, msg;

	if (!b || !out || size > 128)
		return 0;
	n = b->n;
	msg = b->msg;
	for (o = 0; o < 128; o++, i++) {
		__u8 c;

		if (i >= msg)
			break;
		if (i >= n || o + 1 >= size)
			return 0;
		c = b->b[i & (HBUF - 1)];
		if (c == (stops & 0xff) || c == stops >> 8 || c == '\n' || !c)
			break;
		out->s[o] = c;
	}
	if (!o)
		return 0;
	out->s[o & 127] = 0;
	return 1;
}

/* Skip from b[i..] up to the next space (spaces = 0) or over the spaces
 * (1), at most max bytes: where the run ends, or -1 on a line end, a NUL or
 * the message's end. */
__attribute__((noinline)) int http_skip(const struct hbuf *b, __u32 i, __u32 spaces, __u32 max)
{
	__u32 k, n, msg;

	if (!b)
		return -1;
	n = b->n;
	msg = b->msg;
	for (k = 0; k < max && k < 127; k++, i++) {
		__u8 c;

		if (i >= n || i >= msg)
			return -1;
		c = b->b[i & (HBUF - 1)];
		if (c == '\r' || c == '\n' || !c)
			return -1;
		if ((c == ' ') != spaces)
			return i;
	}
	return -1;
}

/* "\nHost:" in any case, in the first 255 positions, before a blank line
 * and while 8 bytes remain: the offset past its colon, or -1. */
__attribute__((noinline)) int http_host(const struct hbuf *b)
{
	__u32 i, n;

	if (!b)
		return -1;
	n = b->n;
	for (i = 0; i < 255; i++) {
		const __u8 *q = b->b + (i & 255);

		if (i + 6 <= n && q[0] == '\n' && (q[1] | 0x20) == 'h' && (q[2] | 0x20) == 'o' &&
		    (q[3] | 0x20) == 's' && (q[4] | 0x20) == 't' && q[5] == ':')
			return i + 6;
		if (i + 8 > n || !__builtin_memcmp(q, "\r\n\r\n", 4))
			return -1;
	}
	return -1;
}

/* The request line's method, target and version and the Host header, or a
 * response's version and status: the presence bits of method, path,
 * version, host, status (bits 0-4); 0 when neither (no HTTP). */
static __always_inline int http_fields(struct xdp_md *ctx, __u32 off, __u32 msg, __u32 avail,
                                       struct http_out *h)
{
	__u32 zero = 0, n = avail < HBUF ? avail : HBUF, m, got;
	struct hbuf *b = bpf_map_lookup_elem(&hbufs, &zero);
	__u64 w;
	int i;

	if (!b || n < 4 || bpf_xdp_load_bytes(ctx, off, b->b, n))
		return 0;
	b->n = n;
	b->msg = msg;
	if ((m = http_method(b->b, b->b + n, &w))) {
		__builtin_memcpy(h->method, &w, 8);
		__builtin_memset(h->method + 8, 0, 8);
		got = 1 | http_token(b, m + 1, (struct tok *)h->path, 128, ' ' | '\r' << 8) << 1;
		if ((i = http_skip(b, m + 1, 0, 127)) >= 0 && (i = http_skip(b, i, 1, 7)) >= 0)
			got |= http_token(b, i, (struct tok *)h->version, 16, '\r' | '\r' << 8)
			       << 2;
		if ((i = http_host(b)) >= 0 && (i = http_skip(b, i, 1, 7)) >= 0)
			got |= http_token(b, i, (struct tok *)h->host, 128, '\r' | '\n' << 8) << 3;
		return got;
	}
	if (n < 7 || __builtin_memcmp(b->b, "HTTP/1.", 7))
		return 0;
	got = http_token(b, 0, (struct tok *)h->version, 16, ' ' | ' ' << 8) << 2;
	if (n >= 12 && b->b[9] - '0' <= 9u && b->b[10] - '0' <= 9u && b->b[11] - '0' <= 9u) {
		h->status = (b->b[9] - '0') * 100 + (b->b[10] - '0') * 10 + (b->b[11] - '0');
		got |= 16;
	}
	return got;
}

/* pkt.num: every packet numbered, one counter shared by the CPUs (hdrq's
 * hq_meta.num) */
static __u64 pkt_num;

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct tcphdr *t;
	struct iphdr *ip;
	struct ethhdr *eth;
	struct vlan_hdr *vl;
	struct rec *r;
	__u64 bits[3] = {}, num;
	__u16 dport, flags, tl;
	__u32 hl, hb;
	long plen, n;
	void *ie, *lim;

	stat_inc(0);
	num = __sync_fetch_and_add(&pkt_num, 1) + 1;
	if (!parse(ctx, &p) || !(t = tcp_of(&p)) || !(ip = p.ip))
		return XDP_PASS;
	dport = bpf_ntohs(t->dest);
	if ((ip->saddr & bpf_htonl(0xff000000)) != bpf_htonl(0x0a000000) ||
	    !(dport == 80 || dport == 443 || (dport >= 8000 && dport <= 8100)))
		return XDP_PASS;
	stat_inc(1);
	r = rec_begin(ctx, &p, sizeof(*r));
	if (!r)
		return XDP_PASS;
	r->h.num = num;

	/* pkt */
	PUT(pkt, 0, num);
	PUT(pkt, 1, bpf_xdp_get_buff_len(ctx));
	PUT(pkt, 2, ctx->ingress_ifindex);
	PUT(pkt, 3, 0);
	PUT(pkt, 4, r->h.ts_ns);
	/* eth, vlan */
	eth = p.data;
	__builtin_memcpy(&r->eth[0], eth->h_dest, 6);
	__builtin_memcpy(&r->eth[1], eth->h_source, 6);
	BIT(eth, 0);
	BIT(eth, 1);
	tl = bpf_ntohs(eth->h_proto);
	PUT(eth, 2, tl);
	PUT(eth, 3, tl);
	vl = (struct vlan_hdr *)(eth + 1);
	if (p.nvlan) {
		PUT(vlan, 0, p.pcp);
		PUT(vlan, 1, p.dei);
		PUT(vlan, 2, p.vid);
		PUT(vlan, 3, p.l3proto);
	}
	if (p.nvlan == 2 && (void *)(vl + 2) <= p.end) {
		__u16 tci = bpf_ntohs(vl[1].tci);

		PUT(vlan, 4, tci & 0xfff);
		PUT(vlan, 5, tci >> 13);
		PUT(vlan, 6, tci >> 12 & 1);
	}
	/* ip */
	hl = ip->ihl * 4;
	PUT(ip, 0, 4);
	PUT(ip, 1, ip->ihl);
	PUT(ip, 2, hl);
	PUT(ip, 3, ip->tos);
	PUT(ip, 4, ip->tos >> 2);
	PUT(ip, 5, ip->tos & 3);
	PUT(ip, 6, bpf_ntohs(ip->tot_len));
	PUT(ip, 7, bpf_ntohs(ip->id));
	flags = bpf_ntohs(ip->frag_off);
	PUT(ip, 8, flags >> 13);
	PUT(ip, 9, flags >> 15);
	PUT(ip, 10, flags >> 14 & 1);
	PUT(ip, 11, flags >> 13 & 1);
	PUT(ip, 12, flags & 0x1fff);
	PUT(ip, 13, ip->ttl);
	PUT(ip, 14, ip->protocol);
	PUT(ip, 15, bpf_ntohs(ip->check));
	*(__be32 *)&r->ip[16] = ip->saddr;
	BIT(ip, 16);
	*(__be32 *)&r->ip[17] = ip_dst(&p);
	BIT(ip, 17);
	PUT(ip, 18, hl > 20);
	PUT(ip, 19, hl - 20);
	/* tcp */
	hb = t->doff * 4;
	flags = bpf_ntohs(*(__be16 *)((__u8 *)t + 12)) & 0xfff;
	PUT(tcp, 0, bpf_ntohs(t->source));
	PUT(tcp, 1, dport);
	PUT(tcp, 2, bpf_ntohl(t->seq));
	PUT(tcp, 3, bpf_ntohl(t->ack_seq));
	PUT(tcp, 4, t->doff);
	PUT(tcp, 5, hb);
	PUT(tcp, 6, flags);
	PUT(tcp, 7, (flags & 0xe00) != 0);
#pragma unroll
	for (int b = 0; b < 9; b++) /* ae cwr ece urg ack psh rst syn fin */
		PUT(tcp, 8 + b, flags >> (8 - b) & 1);
	PUT(tcp, 17, bpf_ntohs(t->window));
	PUT(tcp, 18, bpf_ntohs(t->check));
	PUT(tcp, 19, bpf_ntohs(t->urg_ptr));
	plen = tcp_payload_len(&p, t);
	if (plen >= 0)
		PUT(tcp, 20, plen);
	PUT(tcp, 21, tcp_retransmit(&p, t));
	PUT(tcp, 22, hb > 20);
	PUT(tcp, 23, hb - 20);
	ie = ip_end(&p);
	lim = ie && ie < p.end ? ie : p.end;
	n = (lim - (void *)t < hb ? lim - (void *)t : hb) - 20;
	if (n > 0 && n <= 40) {
		struct optbuf ob;

		if (!bpf_xdp_load_bytes(ctx, (void *)t + 20 - p.data, ob.b, n))
			bits[(B_tcp + 24) / 64] |=
			    (__u64)tcp_opts(&ob, n, (struct tcp_optval *)&r->tcp[24])
			    << (B_tcp + 24) % 64;
	}
	/* http: a port of its, the whole IP payload in the frame */
	if ((http_port(bpf_ntohs(t->source)) || http_port(dport)) && ie && ie <= p.end &&
	    plen >= 0) {
		__u32 off = (void *)t + hb - p.data;
		int h = http_fields(ctx, off, plen, p.end - p.data - off, &r->http);

		bits[B_http / 64] |= (__u64)(h & 7) << (B_http % 64);
		bits[2] |= (__u64)(h >> 3 & 3);
	}
	__builtin_memcpy(r->present, bits, sizeof(bits));
	bpf_ringbuf_submit(r, 0);
	return XDP_PASS;
}
