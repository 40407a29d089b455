/* reader_stats.c — reads hq_stats (PERCPU_ARRAY of u64) and sums it. */
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "reader_stats.h"
#include "sys.h"

uint64_t stats_sum(struct hq_run *r, unsigned idx)
{
	uint64_t stack[64], *v = stack, sum = 0;
	if (r->ncpus > 64 && !(v = calloc(r->ncpus, sizeof(*v))))
		return 0;
	if (bpf_map_lookup_elem(r->ld->stats_fd, &idx, v) == 0) {
		sys_kernel_filled(v, (size_t)r->ncpus * sizeof(*v)); /* one u64 per CPU */
		for (int c = 0; c < r->ncpus; c++)
			sum += v[c];
	}
	if (v != stack)
		free(v);
	return sum;
}

uint64_t stats_query(struct hq_run *r, int q)
{
	return stats_sum(r, HQ_STAT_N + (unsigned)q);
}

void stats_loss(struct hq_run *r, struct hq_loss *l)
{
	memset(l, 0, sizeof(*l));
	l->packets = stats_sum(r, HQ_STAT_PACKETS);
	l->rb_drops = stats_sum(r, HQ_STAT_RB_DROPS);
	l->map_full = stats_sum(r, HQ_STAT_MAP_FULL);
	l->rate_drops = stats_sum(r, HQ_STAT_RATE_DROPS);
	l->truncated = stats_sum(r, HQ_STAT_TRUNCATED);
	l->skipped_frames = r->skipped_frames;
}

struct hq_loss stats_loss_delta(const struct hq_loss *a, const struct hq_loss *b)
{
	struct hq_loss d = {
	    .packets = a->packets - b->packets,
	    .rb_drops = a->rb_drops - b->rb_drops,
	    .map_full = a->map_full - b->map_full,
	    .rate_drops = a->rate_drops - b->rate_drops,
	    .truncated = a->truncated - b->truncated,
	    .skipped_frames = a->skipped_frames - b->skipped_frames,
	};
	return d;
}

uint64_t run_matched(struct hq_run *r)
{
	uint64_t n = r->log_matched;
	for (int q = 0; q < r->plan->n_qplans; q++)
		if (r->plan->qplans[q].q->action != HQ_ACT_LOG)
			n += stats_query(r, q);
	return n;
}
