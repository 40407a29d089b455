/* http-methods.c — reference for the saved query http-methods:
 *   http where http.method != "" group by http.method, dst_port select count()
 * HTTP as hdrq's http layer (common.h's http_request): TCP with
 * either port one of 51-http.hdr's twelve, the frame holding the whole IP
 * payload, and a request line: one of the nine methods hdrq knows followed
 * by a space. */
#include "common.h"

struct key {
	__u32 present;
	char method[16];
	__u32 port;
};
GROUP_MAP(groups, struct key, struct count_val);

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct tcphdr *t;
	struct key k = {};
	__u8 *pl;
	__u64 w;
	__u32 n;

	stat_inc(0);
	if (!parse(ctx, &p) || !(t = tcp_of(&p)))
		return XDP_PASS;
	if (!(pl = http_request(&p, t, &n, &w)))
		return XDP_PASS;
	stat_inc(1);
	k.present = 3;
	__builtin_memcpy(k.method, &w, 8);
	k.port = bpf_ntohs(t->dest);
	GROUP_COUNT(groups, &k);
	return XDP_PASS;
}
