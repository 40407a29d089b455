/* reader_stats.c — reads the counters at the start of hq_scratch's per-CPU
 * values and sums them over CPUs. */
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "reader_stats.h"
#include "sys.h"

/* sums[i] = counter first + i over CPUs, i < n (zeroes if unreadable) */
static void stats_read(struct hq_run *r, unsigned first, unsigned n, uint64_t *sums)
{
	memset(sums, 0, n * sizeof(*sums));
	size_t stride = (r->ld->scratch_size + 7) / 8; /* u64 per CPU value */
	uint64_t *v = calloc((size_t)r->ncpus, stride * sizeof(*v));
	unsigned zero = 0;
	if (v && bpf_map_lookup_elem(r->ld->scratch_fd, &zero, v) == 0) {
		sys_kernel_filled(v, (size_t)r->ncpus * stride * sizeof(*v));
		for (int c = 0; c < r->ncpus; c++)
			for (unsigned i = 0; i < n; i++)
				sums[i] += v[c * stride + first + i];
	}
	free(v);
}

uint64_t stats_sum(struct hq_run *r, unsigned idx)
{
	uint64_t sum;
	stats_read(r, idx, 1, &sum);
	return sum;
}

uint64_t stats_query(struct hq_run *r, int q)
{
	return stats_sum(r, HQ_STAT_N + (unsigned)q);
}

void stats_loss(struct hq_run *r, struct hq_loss *l)
{
	uint64_t s[HQ_STAT_N];
	stats_read(r, 0, HQ_STAT_N, s); /* one read: the counters agree */
	memset(l, 0, sizeof(*l));
	l->packets = s[HQ_STAT_PACKETS];
	l->rb_drops = s[HQ_STAT_RB_DROPS];
	l->map_full = s[HQ_STAT_MAP_FULL];
	l->rate_drops = s[HQ_STAT_RATE_DROPS];
	l->truncated = s[HQ_STAT_TRUNCATED];
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

/* Called per frame offline with -c: one read of the counters for every
 * query, not one per query (each read copies every CPU's scratch value). */
uint64_t run_matched(struct hq_run *r)
{
	uint64_t n = r->log_matched, stack[16], *s = stack;
	unsigned nq = (unsigned)r->plan->n_qplans;
	if (nq > 16 && !(s = calloc(nq, sizeof(*s))))
		return n;
	stats_read(r, HQ_STAT_N, nq, s);
	for (unsigned q = 0; q < nq; q++)
		if (r->plan->qplans[q].q->action != HQ_ACT_LOG)
			n += s[q];
	if (s != stack)
		free(s);
	return n;
}
