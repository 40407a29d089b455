/* common.h — shared parsing for the hand-written reference XDP programs
 * (bench/reference/qNN.c), the baseline hdrq's generated code is measured
 * against. Written the way an experienced BPF programmer would: the header
 * cursor idiom, bounded unrolled walks over VLAN tags, IPv4 options and IPv6
 * extension headers, transport parsed only for unfragmented IP (as hdrq and
 * tshark without reassembly do), and the same per-CPU counters hdrq keeps
 * (packets seen, packets matched), so that both sides do the same work.
 */
#ifndef HQ_BENCH_COMMON_H
#define HQ_BENCH_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

char LICENSE[] SEC("license") = "GPL";

/* queries in the program (a script file's several queries share one) */
#ifndef N_QUERIES
#define N_QUERIES 1
#endif

/* [0] packets the program ran on, [1 + q] packets query q matched */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1 + N_QUERIES);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void stat_inc(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &i);

	if (v)
		*v += 1;
}

struct icmphdr {
	__u8 type, code;
	__be16 csum;
	__be16 id, seq;
};

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct pkt {
	struct xdp_md *ctx;
	void *data, *end;
	__u32 len;
	__u16 l3proto; /* EtherType after the VLAN tags */
	__u8 nvlan;
	__u16 vid, inner_vid;
	__u8 pcp, dei;
	struct iphdr *ip; /* set for IPv4 */
	struct ipv6hdr *ip6;
	__u8 ttl;   /* TTL or hop limit */
	__u8 proto; /* upper-layer protocol (after IPv6 extension headers) */
	void *l4;   /* transport header: unfragmented only, whole header in frame */
};

/* Ethernet, up to two VLAN tags, IPv4 (with options) or IPv6 (up to six
 * extension headers), and the transport header's start. Returns 0 when the
 * frame has no complete Ethernet header. */
static __always_inline int parse(struct xdp_md *ctx, struct pkt *p)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *cur;
	__u16 type;
	int i;

	__builtin_memset(p, 0, sizeof(*p));
	p->ctx = ctx;
	p->data = data;
	p->end = end;
	p->len = end - data;
	if ((void *)(eth + 1) > end)
		return 0;
	type = eth->h_proto;
	cur = eth + 1;
#pragma unroll
	for (i = 0; i < 2; i++) {
		struct vlan_hdr *v = cur;

		if (type != bpf_htons(ETH_P_8021Q) && type != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(v + 1) > end)
			return 1;
		if (i == 0) {
			__u16 tci = bpf_ntohs(v->tci);

			p->vid = tci & 0xfff;
			p->pcp = tci >> 13;
			p->dei = (tci >> 12) & 1;
		} else {
			p->inner_vid = bpf_ntohs(v->tci) & 0xfff;
		}
		p->nvlan++;
		type = v->proto;
		cur = v + 1;
	}
	p->l3proto = bpf_ntohs(type);
	if (type == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = cur;
		__u32 hl;

		if ((void *)(ip + 1) > end || ip->version != 4 || ip->ihl < 5)
			return 1;
		p->ip = ip;
		p->ttl = ip->ttl;
		p->proto = ip->protocol;
		hl = ip->ihl * 4;
		if (ip->frag_off & bpf_htons(0x3fff))
			return 1;
		if (cur + hl > end)
			return 1;
		p->l4 = cur + hl;
	} else if (type == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cur;
		__u8 nh;

		if ((void *)(ip6 + 1) > end || ip6->version != 6)
			return 1;
		p->ip6 = ip6;
		p->ttl = ip6->hop_limit;
		nh = ip6->nexthdr;
		cur = ip6 + 1;
#pragma unroll
		for (i = 0; i < 6; i++) {
			__u8 *h = cur;

			if (nh != 0 && nh != 43 && nh != 44 && nh != 60 && nh != 51)
				break;
			if ((void *)(h + 8) > end)
				return 1;
			if (nh == 44) {
				/* fragment: transport only in an atomic fragment */
				if ((h[2] << 8 | h[3]) & 0xfff9)
					return 1;
				cur = h + 8;
			} else if (nh == 51) {
				cur = h + (h[1] + 2) * 4;
			} else {
				cur = h + (h[1] + 1) * 8;
			}
			nh = h[0];
		}
		p->proto = nh;
		p->l4 = cur;
	}
	return 1;
}

static __always_inline struct tcphdr *tcp_of(struct pkt *p)
{
	struct tcphdr *t = p->l4;

	if (!t || p->proto != IPPROTO_TCP || (void *)(t + 1) > p->end || t->doff < 5)
		return NULL;
	return t;
}

static __always_inline struct udphdr *udp_of(struct pkt *p)
{
	struct udphdr *u = p->l4;

	if (!u || p->proto != IPPROTO_UDP || (void *)(u + 1) > p->end)
		return NULL;
	return u;
}

/* inet.src / inet.dst: either family, as hdrq's INET value (family 4 or 6,
 * then the address; an IPv4 address in the first 4 bytes) */
struct inet {
	__u32 family;
	__u8 addr[16];
};

/* ip.dst as tshark shows it (hdrq's cg_ip4_step): with a loose or strict
 * source route whose pointer is still valid, the route's last address,
 * else the header's. Over a copy of the option bytes, one option per
 * bpf_loop step (as a bounded loop the verifier followed every NOP chain).
 * For packets whose IPv4 header is whole in the frame (unfragmented). */
struct optbuf {
	__u8 b[64 + 16]; /* 40 used; indexed & 63, an option read up to 9 bytes on */
};
struct route_walk {
	struct optbuf o;
	__u32 n, off;
	int at; /* offset of the destination in o, -1: the header's */
};

static long route_step(__u32 i, void *arg)
{
	struct route_walk *w = arg;
	__u32 off = w->off;
	const __u8 *q = w->o.b + (off & 63);

	if (off >= w->n || q[0] == 0)
		return 1;
	if (q[0] == 1) {
		w->off = off + 1;
		return 0;
	}
	if (off + 1 >= w->n)
		return 1;
	if (q[0] == 131 || q[0] == 137) {
		if (q[1] >= 3 && off + q[1] <= w->n && q[2] >= 4 && q[2] <= q[1] && !(q[2] & 3))
			w->at = off + q[1] - 4;
		return 1;
	}
	if (q[1] < 2 || off + q[1] > w->n)
		return 1;
	w->off = off + q[1];
	return 0;
}

static __always_inline __be32 ip_dst(struct pkt *p)
{
	__u32 hl = p->ip->ihl * 4;
	struct route_walk w;
	__u8 *q;

	if (hl <= 20)
		return p->ip->daddr;
	w.n = hl - 20;
	w.off = 0;
	w.at = -1;
	if (bpf_xdp_load_bytes(p->ctx, (void *)p->ip + 20 - p->data, w.o.b, hl - 20) ||
	    bpf_loop(40, route_step, &w, 0) < 0 || w.at < 0)
		return p->ip->daddr;
	q = w.o.b + (w.at & 63); /* bytewise: a variable stack offset, unaligned */
	return q[0] | q[1] << 8 | q[2] << 16 | (__u32)q[3] << 24;
}

/* The `inet` layer: either IP version, fragments included. */
static __always_inline int has_inet(struct pkt *p)
{
	return p->ip || p->ip6;
}

/* Returns 1 when the packet has an IP header (the address is present). */
static __always_inline int inet_addr(struct pkt *p, struct inet *a, int dst)
{
	if (p->ip) {
		__be32 x = dst ? ip_dst(p) : p->ip->saddr;

		a->family = 4;
		__builtin_memcpy(a->addr, &x, 4);
		return 1;
	}
	if (p->ip6) {
		a->family = 6;
		__builtin_memcpy(a->addr, dst ? &p->ip6->daddr : &p->ip6->saddr, 16);
		return 1;
	}
	return 0;
}

/* The end of the IP payload as the header declares it (IPv4 total length 0:
 * the rest of the frame, as under TSO); NULL without IP or when the length
 * is below the header's. May lie past the frame's end. */
static __always_inline void *ip_end(struct pkt *p)
{
	if (p->ip) {
		__u32 tot = bpf_ntohs(p->ip->tot_len);

		if (!tot)
			return p->end;
		if (tot < p->ip->ihl * 4u)
			return NULL;
		return (void *)p->ip + tot;
	}
	if (p->ip6)
		return (void *)(p->ip6 + 1) + bpf_ntohs(p->ip6->payload_len);
	return NULL;
}

/* tcp.payload_len: the IP payload, cut at the frame's end, minus the TCP
 * header; -1 (absent) when the header does not fit in it. */
static __always_inline long tcp_payload_len(struct pkt *p, struct tcphdr *t)
{
	void *end = ip_end(p), *pl = (void *)t + t->doff * 4;

	if (!end)
		return -1;
	if (end > p->end)
		end = p->end;
	if (pl > end)
		return -1;
	return end - pl;
}

/* distinct(e): a set of (group key, value) per aggregate; returns 1 when the
 * pair is new (hdrq's cg_agg_distinct: one set map and a counter). */
#define SET_MAP(name, K)                                                                           \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_HASH);                                                   \
		__uint(max_entries, 65536);                                                        \
		__type(key, K);                                                                    \
		__type(value, __u8);                                                               \
	} name SEC(".maps")

static __always_inline int set_add(void *set, void *key)
{
	__u8 one = 1;

	return !bpf_map_lookup_elem(set, key) &&
	       bpf_map_update_elem(set, key, &one, BPF_NOEXIST) == 0;
}

/* min(e) / max(e): the value and how many values it was taken over */
struct minmax {
	__u64 v, n;
};

static __always_inline void min_upd(struct minmax *m, __u64 x)
{
	if (!m->n++ || x < m->v)
		m->v = x;
}

static __always_inline void max_upd(struct minmax *m, __u64 x)
{
	if (!m->n++ || x > m->v)
		m->v = x;
}

/* HTTP as hdrq's http layer: TCP with either port one of 51-http.hdr's
 * twelve. (hdrq also gives the segment away when the lower port is one of
 * 333 that tshark tries first, a byte of a .rodata bitmap; left out here:
 * no bench frame has such a port.) */
static __always_inline int http_port(__u16 p)
{
	switch (p) {
	case 80:
	case 631:
	case 1900:
	case 2710:
	case 2869:
	case 3128:
	case 3132:
	case 3689:
	case 5985:
	case 8080:
	case 8088:
	case 11371:
		return 1;
	}
	return 0;
}

/* "GET " ... "TRACE ": the first (up to) 8 payload bytes, little-endian */
#define HTTP_TOK(a, b, c, d, e, f, g, h)                                                           \
	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 | (__u64)(e) << 32 |   \
	 (__u64)(f) << 40 | (__u64)(g) << 48 | (__u64)(h) << 56)
static const struct {
	__u64 tok;
	__u32 len; /* the method's, without the space */
} http_methods[9] = {
    {HTTP_TOK('G', 'E', 'T', ' ', 0, 0, 0, 0), 3},
    {HTTP_TOK('P', 'O', 'S', 'T', ' ', 0, 0, 0), 4},
    {HTTP_TOK('P', 'U', 'T', ' ', 0, 0, 0, 0), 3},
    {HTTP_TOK('D', 'E', 'L', 'E', 'T', 'E', ' ', 0), 6},
    {HTTP_TOK('H', 'E', 'A', 'D', ' ', 0, 0, 0), 4},
    {HTTP_TOK('O', 'P', 'T', 'I', 'O', 'N', 'S', ' '), 7},
    {HTTP_TOK('P', 'A', 'T', 'C', 'H', ' ', 0, 0), 5},
    {HTTP_TOK('C', 'O', 'N', 'N', 'E', 'C', 'T', ' '), 7},
    {HTTP_TOK('T', 'R', 'A', 'C', 'E', ' ', 0, 0), 5},
};

/* A request line's method (one of the nine hdrq knows, then a space) at pl:
 * its length, 0 if none; *m: the method's bytes, NUL-padded. */
static __always_inline __u32 http_method(__u8 *pl, void *end, __u64 *m)
{
	__u64 w = 0;
	__u32 i, n;

	for (n = 0; n < 8; n++) {
		if ((void *)(pl + n + 1) > end)
			break;
		w |= (__u64)pl[n] << (8 * n);
	}
	for (i = 0; i < 9; i++)
		if (http_methods[i].len < n &&
		    (w & ~0ULL >> (8 * (7 - http_methods[i].len))) == http_methods[i].tok) {
			*m = w & ~0ULL >> (8 * (8 - http_methods[i].len));
			return http_methods[i].len;
		}
	return 0;
}

/* The http layer as hdrq's, over a TCP segment t: either port one of the
 * twelve, the frame holding the whole IP payload, a request line. Returns
 * the TCP payload (the request line) or NULL; *m, *w as http_method's. */
static __always_inline __u8 *http_request(struct pkt *p, struct tcphdr *t, __u32 *m, __u64 *w)
{
	void *ie;
	__u8 *pl;

	if (!http_port(bpf_ntohs(t->source)) && !http_port(bpf_ntohs(t->dest)))
		return NULL;
	ie = ip_end(p);
	if (!ie || ie > p->end)
		return NULL;
	pl = (__u8 *)t + t->doff * 4;
	*m = http_method(pl, p->end, w);
	return *m ? pl : NULL;
}

/* Header of each ring-buffer record, as hdrq's (plan.h struct hq_rec_hdr). */
struct rec_hdr {
	__u32 query, cap_len;
	__u64 ts_ns, num;
	__u32 ifindex, wire_len, dir, pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* A ring-buffer record of size bytes (its struct begins with the header),
 * the header filled; NULL when the ring buffer is full. */
static __always_inline void *rec_begin(struct xdp_md *ctx, struct pkt *p, __u64 size)
{
	struct rec_hdr *h = bpf_ringbuf_reserve(&events, size, 0);

	if (!h)
		return NULL;
	h->query = 0;
	h->cap_len = 0;
	h->ts_ns = bpf_ktime_get_ns();
	h->num = 0;
	h->ifindex = ctx->ingress_ifindex;
	h->wire_len = p->len;
	h->dir = 0;
	h->pad = 0;
	return h;
}

#define GROUP_MAP(name, K, V)                                                                      \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_PERCPU_HASH);                                            \
		__uint(max_entries, 65536);                                                        \
		__type(key, K);                                                                    \
		__type(value, V);                                                                  \
	} name SEC(".maps")

/* Find the group's per-CPU value, creating it (zeroed) on first sight. */
#define GROUP_VALUE(map, keyp, V)                                                                  \
	({                                                                                         \
		V *_v = bpf_map_lookup_elem(&map, keyp);                                           \
		if (!_v) {                                                                         \
			static V _z; /* .bss: zeroed, off the 512-byte stack */                    \
			bpf_map_update_elem(&map, keyp, &_z, BPF_NOEXIST);                         \
			_v = bpf_map_lookup_elem(&map, keyp);                                      \
		}                                                                                  \
		_v;                                                                                \
	})

/* A group that selects count() alone: hdrq's update counter and the count. */
struct count_val {
	__u64 updates, count;
};

#define GROUP_COUNT(map, keyp)                                                                     \
	({                                                                                         \
		struct count_val *_c = GROUP_VALUE(map, keyp, struct count_val);                   \
		if (_c) {                                                                          \
			_c->updates++;                                                             \
			_c->count++;                                                               \
		}                                                                                  \
	})

#endif
