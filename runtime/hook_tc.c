/* hook_tc.c — TC ingress/egress: a tcx link where the kernel has one (6.6+),
 * otherwise a cls_bpf filter on a clsact qdisc (created if absent).
 *
 * Caveat of the fallback: a clsact filter is not a link, so a SIGKILLed
 * hdrq leaves it attached (`tc filter show dev IFACE ingress` shows it;
 * `tc filter del dev IFACE ingress` removes it). A clean exit removes the
 * filter, and the qdisc too when hdrq created it. HDRQ_NO_TCX=1 in the
 * environment forces the clsact path (tests). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hook.h"

/* libbpf 1.1 / linux-libc-dev 6.1 predate tcx; the values are the kernel's
 * enum bpf_attach_type (BPF_LSM_CGROUP = 43, STRUCT_OPS, NETFILTER, then
 * these). */
#define HQ_BPF_TCX_INGRESS 46
#define HQ_BPF_TCX_EGRESS  47

static int tcx_attach(struct hq_attachment *a, int prog_fd)
{
	if (getenv("HDRQ_NO_TCX"))
		return -EOPNOTSUPP;
	int type = a->dir == HQ_DIR_EGRESS ? HQ_BPF_TCX_EGRESS : HQ_BPF_TCX_INGRESS;
	int fd = bpf_link_create(prog_fd, a->ifindex, (enum bpf_attach_type)type, NULL);
	if (fd < 0)
		return -errno;
	a->link_fd = fd;
	a->mode = "tcx";
	return 0;
}

static void clsact_hook(const struct hq_attachment *a, struct bpf_tc_hook *h, int point)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = a->ifindex;
	h->attach_point = point;
}

static int clsact_attach(struct hq_attachment *a, int prog_fd)
{
	struct bpf_tc_hook h;
	clsact_hook(a, &h, a->dir == HQ_DIR_EGRESS ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	int err = bpf_tc_hook_create(&h);
	if (err && err != -EEXIST)
		return err;
	a->created_clsact = !err;
	LIBBPF_OPTS(bpf_tc_opts, to, .prog_fd = prog_fd);
	err = bpf_tc_attach(&h, &to);
	if (err) {
		if (a->created_clsact) {
			h.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&h);
		}
		return err;
	}
	a->tc_handle = to.handle;
	a->tc_prio = to.priority;
	a->mode = "clsact";
	return 0;
}

static int tc_attach(struct hq_attachment *a, int prog_fd, struct hq_diag *d)
{
	int err = tcx_attach(a, prog_fd);
	/* EINVAL: a kernel without tcx does not know the attach type. */
	if (err == -EINVAL || err == -EOPNOTSUPP || err == -ENOTSUP)
		err = clsact_attach(a, prog_fd);
	if (err)
		return diag_errorf(d, "cannot attach TC %s program to %s: %s",
		                   a->dir == HQ_DIR_EGRESS ? "egress" : "ingress", a->ifname,
		                   strerror(-err));
	return 0;
}

/* Releasing a tcx link waits for an RCU grace period (the kernel's
 * tcx_entry_sync: no CPU still runs the old entry's programs); deleting a
 * clsact filter does not. */
static bool tc_detach(struct hq_attachment *a)
{
	if (a->link_fd >= 0) {
		close(a->link_fd);
		a->link_fd = -1;
		return true;
	}
	struct bpf_tc_hook h;
	clsact_hook(a, &h, a->dir == HQ_DIR_EGRESS ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, to, .handle = a->tc_handle, .priority = a->tc_prio);
	bpf_tc_detach(&h, &to);
	if (a->created_clsact) {
		h.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&h);
		a->created_clsact = false;
	}
	return false;
}

const struct hq_hook_ops hook_tc_ops = {
    .name = "tc",
    .attach = tc_attach,
    .detach = tc_detach,
};
