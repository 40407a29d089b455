/* http-methods.c — reference for the saved query http-methods:
 *   http where http.method != "" group by http.method, dst_port select count()
 * HTTP as hdrq's http layer: TCP with either port one of 51-http.hdr's
 * twelve, the frame holding the whole IP payload, and a request line: one
 * of the nine methods hdrq knows followed by a space. (hdrq also gives the
 * segment away when the lower port is one of 333 that tshark tries first, a
 * byte of a .rodata bitmap; left out here: no bench frame has such a port.) */
#include "common.h"

struct key {
	__u32 present;
	char method[16];
	__u32 port;
};
struct val {
	__u64 updates, count;
};
GROUP_MAP(groups, struct key, struct val);

static __always_inline int http_port(__u16 p)
{
	switch (p) {
	case 80: case 631: case 1900: case 2710: case 2869: case 3128:
	case 3132: case 3689: case 5985: case 8080: case 8088: case 11371:
		return 1;
	}
	return 0;
}

/* "GET " ... "TRACE ": the first (up to) 8 payload bytes, little-endian */
#define TOK(a, b, c, d, e, f, g, h)                                                                \
	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 | (__u64)(e) << 32 |  \
	 (__u64)(f) << 40 | (__u64)(g) << 48 | (__u64)(h) << 56)
static const struct {
	__u64 tok;
	__u32 len; /* the method's, without the space */
} methods[9] = {
	{TOK('G', 'E', 'T', ' ', 0, 0, 0, 0), 3},     {TOK('P', 'O', 'S', 'T', ' ', 0, 0, 0), 4},
	{TOK('P', 'U', 'T', ' ', 0, 0, 0, 0), 3},     {TOK('D', 'E', 'L', 'E', 'T', 'E', ' ', 0), 6},
	{TOK('H', 'E', 'A', 'D', ' ', 0, 0, 0), 4},   {TOK('O', 'P', 'T', 'I', 'O', 'N', 'S', ' '), 7},
	{TOK('P', 'A', 'T', 'C', 'H', ' ', 0, 0), 5}, {TOK('C', 'O', 'N', 'N', 'E', 'C', 'T', ' '), 7},
	{TOK('T', 'R', 'A', 'C', 'E', ' ', 0, 0), 5},
};

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct tcphdr *t;
	struct key k = {};
	struct val *v;
	__u8 *pl;
	__u64 w = 0, mask;
	__u32 i, n;
	void *ie;

	stat_inc(0);
	if (!parse(ctx, &p) || !(t = tcp_of(&p)))
		return XDP_PASS;
	if (!http_port(bpf_ntohs(t->source)) && !http_port(bpf_ntohs(t->dest)))
		return XDP_PASS;
	ie = ip_end(&p); /* the frame must hold the whole IP payload */
	if (!ie || ie > p.end)
		return XDP_PASS;
	pl = (__u8 *)t + t->doff * 4;
	for (n = 0; n < 8; n++) {
		if ((void *)(pl + n + 1) > p.end)
			break;
		w |= (__u64)pl[n] << (8 * n);
	}
	for (i = 0; i < 9; i++) {
		if (methods[i].len + 1 > n)
			continue;
		mask = ~0ULL >> (8 * (7 - methods[i].len));
		if ((w & mask) == methods[i].tok)
			break;
	}
	if (i == 9)
		return XDP_PASS;
	stat_inc(1);
	k.present = 3;
	/* the method's bytes, NUL-padded */
	w &= ~0ULL >> (8 * (8 - methods[i].len));
	__builtin_memcpy(k.method, &w, 8);
	k.port = bpf_ntohs(t->dest);
	v = GROUP_VALUE(groups, &k, struct val);
	if (v) {
		v->updates++;
		v->count++;
	}
	return XDP_PASS;
}
