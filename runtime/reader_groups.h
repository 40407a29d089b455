/* reader_groups.h — reads a query's per-CPU group map and turns it into
 * the rows the formatters print: per-CPU values combined (plan.h layout),
 * `having` applied, sorted by the first aggregate (descending), cut to
 * `top N`. */
#ifndef HQ_READER_GROUPS_H
#define HQ_READER_GROUPS_H

#include <stddef.h>

#include "run.h"

/* Raw contents of a group map: n keys and, per key, ncpus values of
 * `stride` bytes (the value size rounded up to 8, as the kernel copies
 * per-CPU values). */
struct hq_group_dump {
	uint8_t *keys;
	uint8_t *vals;
	size_t n;
	size_t stride;
};

/* Combined rows of one dump; owns the memory behind rows. */
struct hq_group_table {
	struct hq_group_row *rows;
	int n;
	struct hq_agg_value *aggs; /* n * n_aggs */
	uint64_t *buckets;         /* hist/lhist storage */
};

/* Read every entry of a map (deleting it when `del`), batch ops first,
 * get_next_key + lookup otherwise. Returns 0 or -errno. */
int groups_dump(int fd, unsigned key_size, unsigned val_size, int ncpus, bool del,
                struct hq_group_dump *out);
void groups_dump_free(struct hq_group_dump *g);

/* Combine one key's per-CPU values into out[n_aggs] (buckets: storage for
 * the hist/lhist counts, sum of n_buckets over such aggregates). */
void groups_combine(const struct hq_qplan *qp, int ncpus, const uint8_t *vals, size_t stride,
                    struct hq_agg_value *out, uint64_t *buckets);

/* Combine, filter by `having`, sort, cut to `top`. */
int groups_table(const struct hq_qplan *qp, const struct hq_group_dump *g, int ncpus,
                 struct hq_group_table *t);
void groups_table_free(struct hq_group_table *t);

/* Read query q's groups (and reset them and its distinct sets when
 * `reset`), print them with interval_ts (nothing when there are no rows and
 * skip_empty). Returns the number of rows, or -1 with an error in r->d. */
int groups_report(struct hq_run *r, int q, bool reset, bool skip_empty, uint64_t interval_ts);

#endif
