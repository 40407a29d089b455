/* reader_ring.c — consumes hq_events: validation of each record against
 * the plan, dispatch to the output and the pcap writer, limit and -c. */
#include <errno.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "pcapw.h"
#include "reader_ring.h"

static bool log_wanted(struct hq_run *r, const struct hq_qplan *qp)
{
	uint64_t limit = qp->q->limit;
	return qp->q->action == HQ_ACT_LOG && (!limit || r->q_logged[qp->id] < limit);
}

static int ring_record(void *ctx, void *data, size_t size)
{
	struct hq_run *r = ctx;
	const struct hq_rec_hdr *h = data;
	if (size < sizeof(*h) || h->query >= (uint32_t)r->plan->n_qplans) {
		r->bad_records++;
		return 0;
	}
	const struct hq_qplan *qp = &r->plan->qplans[h->query];
	if (size < (size_t)qp->rec_size + h->cap_len) {
		r->bad_records++;
		return 0;
	}
	r->frame_matched = true;
	if (r->stop)
		return 0;
	uint64_t ts = r->offline ? h->ts_ns : h->ts_ns + (uint64_t)r->wall_off;
	if (r->pw && !r->offline)
		pcapw_record(r->pw, h, (const uint8_t *)data + qp->rec_size, ts);
	if (qp->q->action != HQ_ACT_LOG)
		return 0;
	r->log_matched++;
	if (log_wanted(r, qp)) {
		r->out->ops->log_record(r->out, qp, h, data, ts);
		r->q_logged[qp->id]++;
	}
	if (r->opt->count && r->log_matched >= r->opt->count)
		r->stop = true;
	return 0;
}

int ring_open(struct hq_run *r)
{
	if (r->ld->events_fd < 0)
		return 0;
	r->rb = ring_buffer__new(r->ld->events_fd, ring_record, r, NULL);
	if (!r->rb)
		return diag_errorf(r->d, "cannot open the ring buffer hq_events: %s",
		                   strerror(errno));
	return 0;
}

int ring_poll(struct hq_run *r, int timeout_ms)
{
	int n = ring_buffer__poll(r->rb, timeout_ms);
	if (n < 0 && n != -EINTR)
		return diag_errorf(r->d, "reading the ring buffer failed: %s", strerror(-n));
	return 0;
}

int ring_drain(struct hq_run *r)
{
	if (!r->rb)
		return 0;
	int n = ring_buffer__consume(r->rb);
	if (n < 0 && n != -EINTR)
		return diag_errorf(r->d, "reading the ring buffer failed: %s", strerror(-n));
	return 0;
}

void ring_close(struct hq_run *r)
{
	ring_buffer__free(r->rb);
	r->rb = NULL;
}

bool ring_limits_reached(const struct hq_run *r)
{
	for (int q = 0; q < r->plan->n_qplans; q++) {
		const struct hq_query *qq = r->plan->qplans[q].q;
		if (qq->action != HQ_ACT_LOG || !qq->limit || r->q_logged[q] < qq->limit)
			return false;
	}
	return r->plan->n_qplans > 0;
}
