/* hook_xdp.c — XDP ingress through a BPF link: native (driver) mode first,
 * generic (skb) mode when the driver has no XDP support. HDRQ_XDP_GENERIC=1
 * in the environment skips native mode (tests, drivers with broken XDP). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "hook.h"

static int xdp_link(int prog_fd, int ifindex, unsigned flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = flags);
	int fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);
	return fd < 0 ? -errno : fd;
}

static int xdp_attach(struct hq_attachment *a, int prog_fd, struct hq_diag *d)
{
	int fd = -EOPNOTSUPP;
	if (!getenv("HDRQ_XDP_GENERIC"))
		fd = xdp_link(prog_fd, a->ifindex, XDP_FLAGS_DRV_MODE);
	a->mode = "native";
	if (fd == -EOPNOTSUPP || fd == -EINVAL || fd == -ENOTSUP) {
		fd = xdp_link(prog_fd, a->ifindex, XDP_FLAGS_SKB_MODE);
		a->mode = "generic";
	}
	if (fd < 0) {
		a->xdp_busy = fd == -EBUSY || fd == -EEXIST;
		if (a->xdp_busy)
			return diag_errorf(d,
			                   "cannot attach XDP program to %s: %s (another XDP "
			                   "program is attached; try --hook tc)",
			                   a->ifname, strerror(-fd));
		return diag_errorf(d, "cannot attach XDP program to %s: %s", a->ifname,
		                   strerror(-fd));
	}
	a->link_fd = fd;
	return 0;
}

/* Closing the link fd detaches: the link has no other holder. Nothing in
 * the XDP link's contract waits for programs still running, so the caller
 * does. */
static bool xdp_detach(struct hq_attachment *a)
{
	if (a->link_fd >= 0)
		close(a->link_fd);
	a->link_fd = -1;
	return false;
}

const struct hq_hook_ops hook_xdp_ops = {
    .name = "xdp",
    .attach = xdp_attach,
    .detach = xdp_detach,
};
