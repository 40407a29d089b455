/* ttl-anomalies.c — reference for the saved query ttl-anomalies:
 *   inet group by src select distinct(ttl), min(ttl), max(ttl), count()
 *   having distinct(ttl) > 1
 * (having is user space) */
#include "common.h"

struct key {
	__u32 present;
	struct inet src;
};
struct dkey {
	struct key g;
	__u32 ttl;
};
struct val {
	__u64 updates, distinct;
	struct minmax min, max;
	__u64 count;
};
GROUP_MAP(groups, struct key, struct val);
SET_MAP(ttls, struct dkey);

SEC("xdp") int ref(struct xdp_md *ctx)
{
	struct pkt p;
	struct key k = {};
	struct dkey d = {};
	struct val *v;

	stat_inc(0);
	if (!parse(ctx, &p) || !has_inet(&p))
		return XDP_PASS;
	stat_inc(1);
	k.present = inet_addr(&p, &k.src, 0);
	v = GROUP_VALUE(groups, &k, struct val);
	if (!v)
		return XDP_PASS;
	v->updates++;
	d.g = k;
	d.ttl = p.ttl;
	v->distinct += set_add(&ttls, &d);
	min_upd(&v->min, p.ttl);
	max_upd(&v->max, p.ttl);
	v->count++;
	return XDP_PASS;
}
