/* reader_stats.h — the program's per-CPU counters (at the start of each
 * CPU's hq_scratch value, plan.h), summed over CPUs: per-query match
 * counts and what the kernel could not see. */
#ifndef HQ_READER_STATS_H
#define HQ_READER_STATS_H

#include "run.h"

/* Counter idx summed over CPUs (0 if it cannot be read). */
uint64_t stats_sum(struct hq_run *r, unsigned idx);
/* Matches of query q so far. */
uint64_t stats_query(struct hq_run *r, int q);
/* Totals since the start of the run. */
void stats_loss(struct hq_run *r, struct hq_loss *l);
/* a - b, field by field. */
struct hq_loss stats_loss_delta(const struct hq_loss *a, const struct hq_loss *b);

#endif
