/* hook.h — where programs attach: one small vtable per hook (XDP, TC) and
 * the plan of attachments for a run.
 *
 * Ingress defaults to XDP (native, falling back to generic); `--hook tc`
 * uses TC ingress; egress is always TC. TC prefers tcx links (kernel >=
 * 6.6), falling back to a clsact qdisc filter. XDP and tcx attachments are
 * BPF links, so a killed hdrq leaves nothing behind; a clsact filter
 * survives a SIGKILL (a clean exit removes it). What a live run attaches is
 * an entry program (entry.h), while its own are still being compiled.
 */
#ifndef HQ_HOOK_H
#define HQ_HOOK_H

#include <stdbool.h>
#include <stdint.h>

#include "../frontend/diag.h"
#include "loader.h"
#include "options.h"

struct hq_attachment;

struct hq_hook_ops {
	const char *name; /* "xdp", "tc" */
	int (*attach)(struct hq_attachment *a, int prog_fd, struct hq_diag *d);
	/* true if the detach itself waited until the program, on every CPU,
	 * had finished running (an RCU grace period) */
	bool (*detach)(struct hq_attachment *a);
};

extern const struct hq_hook_ops hook_xdp_ops;
extern const struct hq_hook_ops hook_tc_ops;

struct hq_attachment {
	const struct hq_hook_ops *ops;
	char ifname[32];
	int ifindex;
	enum hq_dir dir;
	bool attached;
	/* hook state */
	int link_fd;         /* XDP or tcx link, -1 if none */
	const char *mode;    /* "native", "generic", "tcx", "clsact" */
	bool created_clsact; /* we created the qdisc: remove it on detach */
	uint32_t tc_handle, tc_prio;
	bool xdp_busy; /* the XDP attach failed: the interface has one already */
};

struct hq_hooks {
	struct hq_attachment *v;
	int n;
	/* hook_attach_all failed because an XDP program appeared on an
	 * interface after hook_plan looked (another hdrq starting at the same
	 * time): planning again puts TC there */
	bool xdp_raced;
};

/* Decide the attachments (interfaces from -i and the queries' `on`, hooks
 * per direction). A query-less interface is not attached. Interfaces with
 * an XDP program already attached get TC ingress (a warning in d).
 * Returns 0 and the HQ_LOAD_* programs needed in *progs. */
int hook_plan(const struct hq_options *o, const struct hq_plan *plan, struct hq_hooks *h,
              unsigned *progs, struct hq_diag *d);

/* Attach every planned hook to its program: prog_fds in HQ_LOAD_* bit
 * order (XDP, TC ingress, TC egress). On error, detach what was attached.
 * Uses no diag but d: safe on a thread of its own. */
int hook_attach_all(struct hq_hooks *h, const int *prog_fds, struct hq_diag *d);
/* Detach every attached hook. Returns whether the programs detached have
 * also finished running, i.e. every detach waited (see hq_hook_ops). */
bool hook_detach_all(struct hq_hooks *h);
void hook_free(struct hq_hooks *h);

/* "eth0 (xdp native), eth0 egress (tc tcx)" for the start-up line. */
void hook_describe(const struct hq_hooks *h, char *buf, size_t len);

#endif
