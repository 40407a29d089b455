/* retransmit.h — tcp.retransmit for the reference programs that use it (an
 * LRU flow map no other reference should create). Include after common.h. */
#ifndef HQ_BENCH_RETRANSMIT_H
#define HQ_BENCH_RETRANSMIT_H

/* tcp.retransmit, as hdrq's hq_flows: per flow direction and interface
 * (family, both addresses, both ports as on the wire, the interface index)
 * the highest sequence end seen, in serial arithmetic; a segment that
 * occupies sequence space (payload, SYN, FIN) and ends at or before it is
 * a retransmission. A subprogram: inlined,
 * clang keeps p->ip in registers across the caller's own `if (p.ip)` and the
 * verifier, which walks the impossible "packet pointer is NULL" branch too,
 * loses it. */
struct flow_key {
	__u32 family;
	__u8 src[16], dst[16];
	__u32 ports;
	__u32 ifindex, pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, __u64);
} flows SEC(".maps");

static __noinline int tcp_retransmit(struct pkt *p, struct tcphdr *t)
{
	struct flow_key k = {};
	struct inet a = {};
	long plen = tcp_payload_len(p, t);
	__u32 len = (plen < 0 ? 0 : plen) + t->syn + t->fin;
	__u32 end = bpf_ntohl(t->seq) + len;
	__u64 *seen, v;

	inet_addr(p, &a, 0);
	k.family = a.family;
	__builtin_memcpy(k.src, a.addr, 16);
	inet_addr(p, &a, 1);
	__builtin_memcpy(k.dst, a.addr, 16);
	k.ports = *(__u32 *)&t->source;
	k.ifindex = p->ctx->ingress_ifindex;
	seen = bpf_map_lookup_elem(&flows, &k);
	if (!seen) {
		v = end;
		bpf_map_update_elem(&flows, &k, &v, BPF_ANY);
		return 0;
	}
	if ((__s32)(end - (__u32)*seen) > 0) {
		*(__u32 *)seen = end;
		return 0;
	}
	return len != 0;
}

#endif
