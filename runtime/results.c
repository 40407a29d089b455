/* results.c — interval and end-of-run reporting: reads groups and
 * counters, hands them to the output, reports losses (deltas per
 * interval, totals at exit). */
#include <stdlib.h>
#include <string.h>

#include "reader_groups.h"
#include "reader_stats.h"
#include "results.h"

int results_start(struct hq_run *r, uint64_t now)
{
	int n = r->plan->n_qplans ? r->plan->n_qplans : 1;
	r->q_next = calloc(n, sizeof(*r->q_next));
	r->q_count_prev = calloc(n, sizeof(*r->q_count_prev));
	if (!r->q_next || !r->q_count_prev)
		return diag_errorf(r->d, "out of memory");
	for (int q = 0; q < r->plan->n_qplans; q++) {
		uint64_t every = r->plan->qplans[q].q->every_ns;
		r->q_next[q] = every ? now + every : UINT64_MAX;
	}
	return 0;
}

/* One query's interval that ends at ts. */
static int report_interval(struct hq_run *r, int q, uint64_t ts, bool final)
{
	const struct hq_qplan *qp = &r->plan->qplans[q];
	if (qp->q->action == HQ_ACT_GROUP)
		return groups_report(r, q, true, final, ts) < 0 ? -1 : 0;
	if (qp->q->action == HQ_ACT_COUNT) {
		uint64_t n = stats_query(r, q), delta = n - r->q_count_prev[q];
		r->q_count_prev[q] = n;
		if (delta || !final)
			r->out->ops->count(r->out, qp, delta, ts);
	}
	return 0;
}

static void report_loss_delta(struct hq_run *r, uint64_t ts)
{
	struct hq_loss cur, delta;
	stats_loss(r, &cur);
	delta = stats_loss_delta(&cur, &r->loss_prev);
	r->loss_prev = cur;
	r->out->ops->loss(r->out, &delta, ts);
}

int results_tick(struct hq_run *r, uint64_t now)
{
	uint64_t ended = 0; /* the latest interval end reported */
	for (int q = 0; q < r->plan->n_qplans; q++) {
		uint64_t every = r->plan->qplans[q].q->every_ns;
		if (!every || now < r->q_next[q])
			continue;
		if (report_interval(r, q, r->q_next[q], false))
			return -1;
		if (r->q_next[q] > ended)
			ended = r->q_next[q];
		/* Intervals that ended since without a single packet seen by us
		 * (a long pause of the loop, a gap in a capture) are skipped. */
		r->q_next[q] += every;
		if (now >= r->q_next[q])
			r->q_next[q] += ((now - r->q_next[q]) / every + 1) * every;
	}
	if (ended) {
		report_loss_delta(r, ended);
		r->out->ops->flush(r->out);
	}
	return 0;
}

uint64_t results_next_deadline(const struct hq_run *r)
{
	uint64_t m = UINT64_MAX;
	for (int q = 0; q < r->plan->n_qplans; q++)
		if (r->q_next[q] < m)
			m = r->q_next[q];
	return m;
}

int results_final(struct hq_run *r, uint64_t now)
{
	int rc = 0;
	for (int q = 0; q < r->plan->n_qplans && !rc; q++) {
		const struct hq_qplan *qp = &r->plan->qplans[q];
		if (qp->q->every_ns) {
			/* the partial interval since the last one, ending now */
			rc = report_interval(r, q, now, true);
		} else if (qp->q->action == HQ_ACT_GROUP) {
			rc = groups_report(r, q, false, false, now) < 0 ? -1 : 0;
		} else if (qp->q->action == HQ_ACT_COUNT) {
			r->out->ops->count(r->out, qp, stats_query(r, q), now);
		}
	}
	struct hq_loss total;
	stats_loss(r, &total);
	total.total = true;
	r->out->ops->loss(r->out, &total, now);
	r->out->ops->flush(r->out);
	return rc;
}

void results_free(struct hq_run *r)
{
	free(r->q_next);
	free(r->q_count_prev);
	r->q_next = r->q_count_prev = NULL;
}
