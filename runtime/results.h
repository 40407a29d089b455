/* results.h — what is printed when an `every` interval ends and when the
 * run ends: group tables, counts, and what the kernel could not see. */
#ifndef HQ_RESULTS_H
#define HQ_RESULTS_H

#include "run.h"

/* Start the interval clock at `now` (epoch ns: live, the run clock;
 * offline, the first frame's capture time). Allocates per-query state. */
int results_start(struct hq_run *r, uint64_t now);
/* Report every interval that has ended by `now`. Returns -1 on error. */
int results_tick(struct hq_run *r, uint64_t now);
/* Final results at the end of the run (groups, counts, loss totals). */
int results_final(struct hq_run *r, uint64_t now);
/* The earliest pending interval end, or UINT64_MAX. */
uint64_t results_next_deadline(const struct hq_run *r);
void results_free(struct hq_run *r);

#endif
