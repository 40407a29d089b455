/* output.h — result formatters (text, json, csv) behind one vtable.
 *
 * The readers (ring buffer, group maps, counters) hand decoded results to
 * an hq_output; the formatter owns every byte printed on stdout. Values are
 * still in their plan.h slot encoding; the formatter renders them (value.c
 * has the shared renderers: addresses, MACs, TCP flags, strings).
 */
#ifndef HQ_OUTPUT_H
#define HQ_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../codegen/plan.h"

enum hq_format { HQ_FMT_TEXT, HQ_FMT_JSON, HQ_FMT_CSV };

/* One aggregate of a group, combined over CPUs. */
struct hq_agg_value {
	bool valid;        /* false: min/max/avg of a group no CPU updated */
	uint64_t u;        /* COUNT SUM MIN MAX DISTINCT */
	double avg;        /* AVG */
	uint64_t *buckets; /* HIST/LHIST: slot->n_buckets counts */
};

struct hq_group_row {
	const uint8_t *key;        /* qplan->key_size bytes: u64 presence + slots */
	struct hq_agg_value *aggs; /* qplan->n_aggs */
};

/* What the kernel reported it could not see (deltas for the interval, or
 * totals at exit). */
struct hq_loss {
	uint64_t packets; /* packets the program ran on */
	uint64_t rb_drops, map_full, rate_drops, truncated;
	uint64_t skipped_frames; /* offline: frames of another link type */
	bool total;              /* the totals of the run (at exit), not an interval's deltas */
};

struct hq_output;

struct hq_output_ops {
	/* A log record: hdr, then presence words and slots as in plan.h. rec is
	 * the record's first byte (hdr == rec): presence words start at
	 * rec + sizeof(struct hq_rec_hdr) and slot offsets count from rec, as
	 * plan.c lays them out. ts is wall-clock time in ns since the epoch
	 * (already converted). */
	void (*log_record)(struct hq_output *o, const struct hq_qplan *qp,
	                   const struct hq_rec_hdr *hdr, const uint8_t *rec, uint64_t ts);
	/* The groups of one query for one interval (or the whole run), already
	 * filtered by `having`, sorted by the first aggregate (descending) and cut
	 * to `top`. interval_ts: wall-clock ns of the interval's end. */
	void (*group_table)(struct hq_output *o, const struct hq_qplan *qp,
	                    const struct hq_group_row *rows, int n_rows, uint64_t interval_ts);
	/* A counting query's result. */
	void (*count)(struct hq_output *o, const struct hq_qplan *qp, uint64_t n,
	              uint64_t interval_ts);
	/* What was lost; printed at each interval and at exit (text: to stderr
	 * unless everything is zero). */
	void (*loss)(struct hq_output *o, const struct hq_loss *l, uint64_t interval_ts);
	void (*flush)(struct hq_output *o);
	void (*destroy)(struct hq_output *o);
};

struct hq_output {
	const struct hq_output_ops *ops;
	const struct hq_plan *plan;
	FILE *out; /* stdout */
	FILE *err; /* stderr */
};

struct hq_output *output_new(enum hq_format fmt, const struct hq_plan *plan, FILE *out, FILE *err);

/* value.c: render one slot value (type/size from the slot) into buf.
 * Returns the length written. `human` picks text-mode forms (TCP flags as
 * [S.], booleans as true/false) over raw JSON/CSV forms. */
int value_format(char *buf, size_t len, const struct hq_slot *slot, const uint8_t *bytes,
                 bool human);
bool value_present(const uint8_t *present_words, int bit);

#endif
