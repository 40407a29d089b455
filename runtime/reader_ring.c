/* reader_ring.c — consumes hq_events: validation of each record against
 * the plan, anonymisation of its address fields (--anonymize, on a copy:
 * the ring is read-only), dispatch to the output and the pcap writer, limit
 * and -c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "anon.h"
#include "pcapw.h"
#include "reader_ring.h"
#include "sys.h"

static bool log_wanted(struct hq_run *r, const struct hq_qplan *qp)
{
	uint64_t limit = qp->q->limit;
	return qp->q->action == HQ_ACT_LOG && (!limit || r->q_logged[qp->id] < limit);
}

/* libbpf keeps consuming while producers keep producing: under a flood a
 * poll would never return. Every RING_CHECK_EVERY records the callback
 * looks at the clock and, past the poll's deadline, ends the poll (the
 * record at hand is handled; the rest wait for the next poll). */
#define RING_CHECK_EVERY 256
#define RING_BUDGET_NS   50000000ull

static bool ring_budget_spent(struct hq_run *r)
{
	if (r->stop)
		return true;
	if (++r->rb_seen % RING_CHECK_EVERY)
		return false;
	return sys_mono_ns() > r->rb_deadline;
}

/* --anonymize: a writable copy of the record with its addresses rewritten
 * (the packet bytes are rewritten by the pcap writer). NULL: out of memory. */
static void *ring_anon(struct hq_run *r, const struct hq_qplan *qp, const void *data, size_t size)
{
	if (size > r->rec_buf_size) {
		uint8_t *n = realloc(r->rec_buf, size);
		if (!n)
			return NULL;
		r->rec_buf = n;
		r->rec_buf_size = size;
	}
	memcpy(r->rec_buf, data, size);
	const uint8_t *present = r->rec_buf + sizeof(struct hq_rec_hdr);
	for (int i = 0; i < qp->n_fields; i++)
		if (value_present(present, qp->fields[i].present_bit))
			anon_slot(r->anon, &qp->fields[i], r->rec_buf + qp->fields[i].off);
	return r->rec_buf;
}

static void ring_handle(struct hq_run *r, void *data, size_t size)
{
	const struct hq_rec_hdr *h = data;
	if (size < sizeof(*h) || h->query >= (uint32_t)r->plan->n_qplans) {
		r->bad_records++;
		return;
	}
	const struct hq_qplan *qp = &r->plan->qplans[h->query];
	if (size < (size_t)qp->rec_size + h->cap_len) {
		r->bad_records++;
		return;
	}
	r->frame_matched = true;
	if (r->stop)
		return;
	if (r->anon && !(data = ring_anon(r, qp, data, size))) {
		r->bad_records++;
		return;
	}
	h = data;
	uint64_t ts = r->offline ? h->ts_ns : h->ts_ns + (uint64_t)r->wall_off;
	if (r->pw && !r->offline)
		pcapw_record(r->pw, h, (const uint8_t *)data + qp->rec_size, ts);
	if (qp->q->action != HQ_ACT_LOG)
		return;
	r->log_matched++;
	if (log_wanted(r, qp)) {
		r->out->ops->log_record(r->out, qp, h, data, ts);
		r->q_logged[qp->id]++;
	}
	if (r->opt->count && r->log_matched >= r->opt->count)
		r->stop = true;
}

static int ring_record(void *ctx, void *data, size_t size)
{
	struct hq_run *r = ctx;
	ring_handle(r, data, size);
	return ring_budget_spent(r) ? -EAGAIN : 0;
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

static bool ring_err(int n)
{
	return n < 0 && n != -EINTR && n != -EAGAIN;
}

int ring_poll(struct hq_run *r, int timeout_ms)
{
	r->rb_deadline = sys_mono_ns() + (uint64_t)timeout_ms * 1000000u + RING_BUDGET_NS;
	int n = ring_buffer__poll(r->rb, timeout_ms);
	if (ring_err(n))
		return diag_errorf(r->d, "reading the ring buffer failed: %s", strerror(-n));
	return 0;
}

int ring_drain(struct hq_run *r)
{
	if (!r->rb)
		return 0;
	r->rb_deadline = UINT64_MAX;
	int n = ring_buffer__consume(r->rb);
	if (ring_err(n))
		return diag_errorf(r->d, "reading the ring buffer failed: %s", strerror(-n));
	return 0;
}

void ring_close(struct hq_run *r)
{
	ring_buffer__free(r->rb);
	r->rb = NULL;
	free(r->rec_buf);
	r->rec_buf = NULL;
	r->rec_buf_size = 0;
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
