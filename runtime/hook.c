/* hook.c — the attachment plan of a live run: which interfaces, which
 * direction on each, which hook for it; attaching and detaching them all. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "hook.h"
#include "sys.h"

struct iface_set {
	struct hq_iface *v;
	int n, cap;
};

static int iface_add(struct iface_set *s, const char *name, int ifindex)
{
	for (int i = 0; i < s->n; i++)
		if (s->v[i].ifindex == ifindex)
			return 0;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 8;
		struct hq_iface *nv = realloc(s->v, sizeof(*nv) * s->cap);
		if (!nv)
			return -1;
		s->v = nv;
	}
	snprintf(s->v[s->n].name, sizeof(s->v[s->n].name), "%s", name);
	s->v[s->n++].ifindex = ifindex;
	return 0;
}

/* One name from -i or `on`: `any` expands to every up interface but lo. */
static int iface_add_name(struct iface_set *s, const char *name, struct hq_diag *d)
{
	if (strcmp(name, "any")) {
		int idx = sys_ifindex(name, d);
		return idx < 0 ? -1 : iface_add(s, name, idx);
	}
	struct hq_iface *up;
	int n = sys_up_ifaces(&up, d);
	if (n < 0)
		return -1;
	int rc = 0;
	for (int i = 0; i < n && !rc; i++)
		rc = iface_add(s, up[i].name, up[i].ifindex);
	free(up);
	if (!n)
		return diag_errorf(d, "-i any: no interface other than lo is up");
	return rc;
}

static int collect_ifaces(const struct hq_options *o, const struct hq_plan *plan,
                          struct iface_set *s, struct hq_diag *d)
{
	for (int i = 0; i < o->n_ifaces; i++)
		if (iface_add_name(s, o->ifaces[i], d))
			return -1;
	for (int q = 0; q < plan->n_qplans; q++) {
		const struct hq_query *qq = plan->qplans[q].q;
		for (int i = 0; i < qq->n_ifaces; i++)
			if (iface_add_name(s, qq->ifaces[i], d))
				return -1;
	}
	if (!s->n)
		return diag_errorf(d, "no interface to watch: give -i IFACE (or -i any), or read "
		                      "a capture with -r FILE");
	return 0;
}

static bool query_applies(const struct hq_qplan *qp, int ifindex)
{
	if (!qp->n_ifindexes)
		return true;
	for (int i = 0; i < qp->n_ifindexes; i++)
		if (qp->ifindexes[i] == ifindex)
			return true;
	return false;
}

/* Which directions the queries want on one interface: bit 0 ingress,
 * bit 1 egress. A query without a direction watches ingress. */
static unsigned wanted_dirs(const struct hq_plan *plan, int ifindex)
{
	unsigned dirs = 0;
	for (int q = 0; q < plan->n_qplans; q++) {
		const struct hq_qplan *qp = &plan->qplans[q];
		if (!query_applies(qp, ifindex))
			continue;
		dirs |= qp->has_dir && qp->dir == HQ_DIR_EGRESS ? 2u : 1u;
	}
	return dirs;
}

/* An XDP program someone else attached: keep it, use TC ingress instead. */
static bool xdp_taken(const struct hq_iface *ifc, struct hq_diag *d)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, qo);
	if (bpf_xdp_query(ifc->ifindex, 0, &qo) || qo.attach_mode == XDP_ATTACHED_NONE)
		return false;
	diag_warning(d, NULL, (struct hq_span){0},
	             "%s already has an XDP program (id %u); leaving it in place and watching "
	             "ingress with TC instead",
	             ifc->name, qo.prog_id);
	return true;
}

static struct hq_attachment *att_push(struct hq_hooks *h, const struct hq_iface *ifc,
                                      enum hq_dir dir, const struct hq_hook_ops *ops)
{
	struct hq_attachment *nv = realloc(h->v, sizeof(*nv) * (h->n + 1));
	if (!nv)
		return NULL;
	h->v = nv;
	struct hq_attachment *a = &h->v[h->n++];
	memset(a, 0, sizeof(*a));
	a->ops = ops;
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifc->name);
	a->ifindex = ifc->ifindex;
	a->dir = dir;
	a->link_fd = -1;
	return a;
}

int hook_plan(const struct hq_options *o, const struct hq_plan *plan, struct hq_hooks *h,
              unsigned *progs, struct hq_diag *d)
{
	struct iface_set s = {0};
	memset(h, 0, sizeof(*h));
	*progs = 0;
	int rc = collect_ifaces(o, plan, &s, d);
	for (int i = 0; i < s.n && !rc; i++) {
		unsigned dirs = wanted_dirs(plan, s.v[i].ifindex);
		if (dirs & 1) {
			bool xdp = o->hook == HQ_HOOK_XDP && !xdp_taken(&s.v[i], d);
			if (!att_push(h, &s.v[i], HQ_DIR_INGRESS,
			              xdp ? &hook_xdp_ops : &hook_tc_ops))
				rc = diag_errorf(d, "out of memory");
			*progs |= xdp ? HQ_LOAD_XDP : HQ_LOAD_TC_IN;
		}
		if ((dirs & 2) && !rc) {
			if (!att_push(h, &s.v[i], HQ_DIR_EGRESS, &hook_tc_ops))
				rc = diag_errorf(d, "out of memory");
			*progs |= HQ_LOAD_TC_OUT;
		}
	}
	free(s.v);
	if (!rc && !h->n)
		rc = diag_errorf(d, "no query applies to the given interfaces");
	return rc;
}

/* prog_fds in HQ_LOAD_* bit order: XDP, TC ingress, TC egress */
static int prog_for(const struct hq_attachment *a, const int *prog_fds)
{
	if (a->ops == &hook_xdp_ops)
		return prog_fds[0];
	return prog_fds[a->dir == HQ_DIR_EGRESS ? 2 : 1];
}

int hook_attach_all(struct hq_hooks *h, const int *prog_fds, struct hq_diag *d)
{
	for (int i = 0; i < h->n; i++) {
		struct hq_attachment *a = &h->v[i];
		if (a->ops->attach(a, prog_for(a, prog_fds), d)) {
			h->xdp_raced = a->xdp_busy;
			hook_detach_all(h);
			return -1;
		}
		a->attached = true;
	}
	return 0;
}

bool hook_detach_all(struct hq_hooks *h)
{
	bool waited = true;
	for (int i = h->n - 1; i >= 0; i--) {
		if (!h->v[i].attached)
			continue;
		waited = h->v[i].ops->detach(&h->v[i]) && waited;
		h->v[i].attached = false;
	}
	return waited;
}

void hook_free(struct hq_hooks *h)
{
	hook_detach_all(h);
	free(h->v);
	memset(h, 0, sizeof(*h));
}

void hook_describe(const struct hq_hooks *h, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = 0;
	for (int i = 0; i < h->n && off < len; i++) {
		const struct hq_attachment *a = &h->v[i];
		int n = snprintf(buf + off, len - off, "%s%s %s (%s %s)", i ? ", " : "", a->ifname,
		                 a->dir == HQ_DIR_EGRESS ? "egress" : "ingress", a->ops->name,
		                 a->mode ? a->mode : "?");
		if (n < 0)
			break;
		off += (size_t)n;
	}
}
